// SPDX-License-Identifier: BSD-3-Clause
/*
 * kvstore.c -- a tiny key-value store whose operations are chained futures.
 *
 * put and get are four-step chains: take the store's lock, find (or claim) a slot, copy the
 * value with a data mover, release the lock. The copy cannot be created up front because
 * the slot is unknown, so it is a lazily initialised entry; when there is no slot its init
 * produces an already-complete future instead. move(from, to) nests a get and a put chain
 * and a remove future; its maps skip the rest of the work as soon as a step fails.
 *
 * All operations are polled by one runtime, several at a time; the copies run on the
 * thread-pool mover meanwhile.
 */

#undef NDEBUG /* the asserts are this example's checks */
#include <assert.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libminiasync.h>

#define KV_SLOTS      8 /* a power of two */
#define KV_VALUE_SIZE 32

struct kv_slot {
	uint64_t key; /* 0: free */
	char value[KV_VALUE_SIZE];
};

struct kvstore {
	struct kv_slot slots[KV_SLOTS];
	size_t length;
	atomic_int locked;
};

static size_t kv_home(uint64_t key)
{
	/* splitmix64 finaliser */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & (KV_SLOTS - 1);
}

static int kv_find(struct kvstore *kv, uint64_t key)
{
	if (key == 0)
		return -1;
	for (size_t i = 0, s = kv_home(key); i < KV_SLOTS; i++, s = (s + 1) & (KV_SLOTS - 1)) {
		if (kv->slots[s].key == key)
			return (int)s;
	}
	return -1;
}

/* Reserves a slot for a new key; -1 when the key is invalid, present, or there is no room. */
static int kv_claim(struct kvstore *kv, uint64_t key)
{
	if (key == 0 || kv->length == KV_SLOTS || kv_find(kv, key) >= 0)
		return -1;
	size_t s = kv_home(key);
	while (kv->slots[s].key != 0)
		s = (s + 1) & (KV_SLOTS - 1);
	kv->slots[s].key = key;
	kv->length++;
	return (int)s;
}

static bool kv_try_lock(struct kvstore *kv)
{
	int expected = 0;
	return atomic_compare_exchange_strong(&kv->locked, &expected, 1);
}

static void kv_unlock(struct kvstore *kv)
{
	int expected = 1;
	bool was_locked = atomic_compare_exchange_strong(&kv->locked, &expected, 0);
	assert(was_locked);
	(void)was_locked;
}

/* lock: RUNNING until the lock is ours */
struct lock_data {
	struct kvstore *kv;
};
struct lock_output {
	uint64_t acquired;
};
FUTURE(lock_fut, struct lock_data, struct lock_output);

static enum future_state lock_task(struct future_context *ctx, struct future_notifier *n)
{
	/* nobody will tell us when the lock is free: the runtime has to poll again */
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	struct lock_data *d = future_context_get_data(ctx);
	if (!kv_try_lock(d->kv))
		return FUTURE_STATE_RUNNING;
	((struct lock_output *)future_context_get_output(ctx))->acquired = 1;
	return FUTURE_STATE_COMPLETE;
}

static struct lock_fut lock_acquire(struct kvstore *kv)
{
	struct lock_fut f;
	f.data.kv = kv;
	f.output.acquired = 0;
	FUTURE_INIT(&f, lock_task);
	return f;
}

/* unlock: completes at once */
FUTURE(unlock_fut, struct lock_data, struct lock_output);

static enum future_state unlock_task(struct future_context *ctx, struct future_notifier *n)
{
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	kv_unlock(((struct lock_data *)future_context_get_data(ctx))->kv);
	return FUTURE_STATE_COMPLETE;
}

static struct unlock_fut lock_release(struct kvstore *kv)
{
	struct unlock_fut f;
	f.data.kv = kv;
	f.output.acquired = 0;
	FUTURE_INIT(&f, unlock_task);
	return f;
}

/* slot: looks a key up, or claims a slot for it; the caller holds the lock */
struct slot_data {
	struct kvstore *kv;
	uint64_t key;
	uint64_t claim;
};
struct slot_output {
	int64_t index; /* -1: none */
};
FUTURE(slot_fut, struct slot_data, struct slot_output);

static enum future_state slot_task(struct future_context *ctx, struct future_notifier *n)
{
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	struct slot_data *d = future_context_get_data(ctx);
	struct slot_output *o = future_context_get_output(ctx);
	o->index = d->claim ? kv_claim(d->kv, d->key) : kv_find(d->kv, d->key);
	return FUTURE_STATE_COMPLETE;
}

static struct slot_fut slot_lookup(struct kvstore *kv, uint64_t key, bool claim)
{
	struct slot_fut f;
	f.data.kv = kv;
	f.data.key = key;
	f.data.claim = claim;
	f.output.index = -1;
	FUTURE_INIT(&f, slot_task);
	return f;
}

/*
 * put / get: lock -> slot -> copy (lazy) -> unlock (LAST), followed by the fields the lazy
 * copy needs.
 */
struct kv_access_data {
	FUTURE_CHAIN_ENTRY(struct lock_fut, lock);
	FUTURE_CHAIN_ENTRY(struct slot_fut, slot);
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, copy);
	FUTURE_CHAIN_ENTRY_LAST(struct unlock_fut, unlock);
	struct vdm *vdm;
	char *buffer; /* put: the value to store; get: where to copy the value */
};
struct kv_access_output {
	char *result; /* put: the stored value; get: buffer; NULL on failure */
};
FUTURE(kv_access_fut, struct kv_access_data, struct kv_access_output);

/* Builds the copy once the slot is known, or a completed no-op when there is none. */
static void access_copy_init(void *future, struct future_context *chain_ctx, void *arg)
{
	(void)arg;
	struct kv_access_data *d = future_context_get_data(chain_ctx);
	struct kvstore *kv = d->lock.fut.data.kv;
	int64_t index = d->slot.fut.output.index;
	struct vdm_operation_future copy;

	if (index < 0) {
		memset(&copy, 0, sizeof(copy));
		FUTURE_INIT_COMPLETE(&copy);
		copy.output.type = VDM_OPERATION_MEMCPY;
		copy.output.result = VDM_SUCCESS;
		copy.output.output.memcpy.dest = NULL;
	} else if (d->slot.fut.data.claim) {
		copy = vdm_memcpy(d->vdm, kv->slots[index].value, d->buffer, KV_VALUE_SIZE, 0);
	} else {
		copy = vdm_memcpy(d->vdm, d->buffer, kv->slots[index].value, KV_VALUE_SIZE, 0);
	}
	memcpy(future, &copy, sizeof(copy));
}

static void access_unlock_to_output(struct future_context *unlock_ctx,
				    struct future_context *chain_ctx, void *arg)
{
	(void)unlock_ctx;
	(void)arg;
	struct kv_access_data *d = future_context_get_data(chain_ctx);
	struct kv_access_output *out = future_context_get_output(chain_ctx);
	assert(d->copy.fut.output.result == VDM_SUCCESS);
	out->result = d->copy.fut.output.output.memcpy.dest;
}

static struct kv_access_fut kv_access(struct vdm *vdm, struct kvstore *kv, uint64_t key,
				      char *buffer, bool put)
{
	struct kv_access_fut f;
	f.data.vdm = vdm;
	f.data.buffer = buffer;
	f.output.result = NULL;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.lock, lock_acquire(kv), NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.slot, slot_lookup(kv, key, put), NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.copy, access_copy_init, NULL, NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.unlock, lock_release(kv), access_unlock_to_output, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

static struct kv_access_fut kv_put(struct vdm *vdm, struct kvstore *kv, uint64_t key,
				   const char *value)
{
	return kv_access(vdm, kv, key, (char *)value, true);
}

static struct kv_access_fut kv_get(struct vdm *vdm, struct kvstore *kv, uint64_t key, char *out)
{
	return kv_access(vdm, kv, key, out, false);
}

/* remove: one future that takes the lock itself */
struct remove_data {
	struct kvstore *kv;
	uint64_t key;
};
struct remove_output {
	uint64_t removed; /* the key, or 0 */
};
FUTURE(kv_remove_fut, struct remove_data, struct remove_output);

static enum future_state remove_task(struct future_context *ctx, struct future_notifier *n)
{
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	struct remove_data *d = future_context_get_data(ctx);
	if (!kv_try_lock(d->kv))
		return FUTURE_STATE_RUNNING;
	int index = kv_find(d->kv, d->key);
	if (index >= 0) {
		d->kv->slots[index].key = 0;
		d->kv->length--;
	}
	kv_unlock(d->kv);
	((struct remove_output *)future_context_get_output(ctx))->removed = index >= 0 ? d->key : 0;
	return FUTURE_STATE_COMPLETE;
}

static struct kv_remove_fut kv_remove(struct kvstore *kv, uint64_t key)
{
	struct kv_remove_fut f;
	f.data.kv = kv;
	f.data.key = key;
	f.output.removed = 0;
	FUTURE_INIT(&f, remove_task);
	return f;
}

/*
 * move: get(from) -> put(to) -> remove(from), the chains built when reached. A LAST entry
 * followed by the parameters, keys[] among them.
 */
struct kv_move_data {
	FUTURE_CHAIN_ENTRY(struct kv_access_fut, get);
	FUTURE_CHAIN_ENTRY(struct kv_access_fut, put);
	FUTURE_CHAIN_ENTRY_LAST(struct kv_remove_fut, remove);
	struct vdm *vdm;
	struct kvstore *kv;
	char *scratch;	  /* KV_VALUE_SIZE bytes, owned by the caller */
	uint64_t keys[2]; /* from, to */
};
struct kv_move_output {
	uint64_t moved_to; /* 0: nothing moved */
};
FUTURE(kv_move_fut, struct kv_move_data, struct kv_move_output);

static void move_get_init(void *future, struct future_context *chain_ctx, void *arg)
{
	(void)arg;
	struct kv_move_data *d = future_context_get_data(chain_ctx);
	struct kv_access_fut get = kv_get(d->vdm, d->kv, d->keys[0], d->scratch);
	memcpy(future, &get, sizeof(get));
}

static void move_put_init(void *future, struct future_context *chain_ctx, void *arg)
{
	(void)arg;
	struct kv_move_data *d = future_context_get_data(chain_ctx);
	struct kv_access_fut put = kv_put(d->vdm, d->kv, d->keys[1], d->scratch);
	memcpy(future, &put, sizeof(put));
}

/* Nothing to store when the source key is missing: mark the put done without running it. */
static void move_get_to_put(struct future_context *get_ctx, struct future_context *put_ctx,
			    void *arg)
{
	(void)arg;
	struct kv_access_output *got = future_context_get_output(get_ctx);
	if (got->result == NULL)
		put_ctx->state = FUTURE_STATE_COMPLETE;
}

/* Keep the source when the destination could not be written. */
static void move_put_to_remove(struct future_context *put_ctx, struct future_context *remove_ctx,
			       void *arg)
{
	(void)arg;
	struct kv_access_output *put = future_context_get_output(put_ctx);
	if (put->result == NULL)
		remove_ctx->state = FUTURE_STATE_COMPLETE;
}

static void move_remove_to_output(struct future_context *remove_ctx,
				  struct future_context *chain_ctx, void *arg)
{
	(void)arg;
	struct remove_output *removed = future_context_get_output(remove_ctx);
	struct kv_move_data *d = future_context_get_data(chain_ctx);
	struct kv_move_output *out = future_context_get_output(chain_ctx);
	out->moved_to = removed->removed != 0 ? d->keys[1] : 0;
}

static struct kv_move_fut kv_move(struct vdm *vdm, struct kvstore *kv, uint64_t from, uint64_t to,
				  char *scratch)
{
	struct kv_move_fut f;
	f.data.vdm = vdm;
	f.data.kv = kv;
	f.data.scratch = scratch;
	f.data.keys[0] = from;
	f.data.keys[1] = to;
	f.output.moved_to = 0;
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.get, move_get_init, NULL, move_get_to_put, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.put, move_put_init, NULL, move_put_to_remove, NULL);
	/* the remove needs no input from earlier steps, so it is built right away */
	FUTURE_CHAIN_ENTRY_INIT(&f.data.remove, kv_remove(kv, from), move_remove_to_output, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

/* Whether a step of a chain ran: the generic entry view exposes the chain's bookkeeping. */
static bool step_ran(void *entry)
{
	struct future_chain_entry *e = entry;
	return FUTURE_CHAIN_ENTRY_IS_PROCESSED(e) && FUTURE_CHAIN_ENTRY_IS_INITIALIZED(e);
}

#define WAIT_MAX 4
#define WAIT_ALL(rt, futs, n)                                            \
	do {                                                             \
		struct future *runnable_[WAIT_MAX];                      \
		assert((n) <= WAIT_MAX);                                 \
		for (size_t i_ = 0; i_ < (size_t)(n); i_++)              \
			runnable_[i_] = FUTURE_AS_RUNNABLE(&(futs)[i_]); \
		runtime_wait_multiple((rt), runnable_, (n));             \
	} while (0)

static void print_store(struct kvstore *kv)
{
	for (size_t i = 0; i < KV_SLOTS; i++) {
		if (kv->slots[i].key != 0)
			printf("  slot %zu: %" PRIu64 " = \"%s\"\n", i, kv->slots[i].key,
			       kv->slots[i].value);
	}
}

int main(void)
{
	static const char *names[] = {"Foo", "Bar", "Fizz", "Buzz", "Coffee", "Tea", "Milk", "Ink"};
	char values[8][KV_VALUE_SIZE];
	memset(values, 0, sizeof(values));
	for (int i = 0; i < 8; i++)
		strcpy(values[i], names[i]);

	struct kvstore *kv = calloc(1, sizeof(*kv));
	struct runtime *rt = runtime_new();
	struct data_mover_threads *dmt = data_mover_threads_default();
	assert(kv != NULL && rt != NULL && dmt != NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	/* four puts at once: they take turns on the lock while their copies run */
	struct kv_access_fut puts[WAIT_MAX];
	for (int i = 0; i < 4; i++)
		puts[i] = kv_put(vdm, kv, (uint64_t)i + 1, values[i]);
	WAIT_ALL(rt, puts, 4);
	for (int i = 0; i < 4; i++)
		assert(puts[i].output.result != NULL &&
		       strcmp(puts[i].output.result, names[i]) == 0);
	assert(kv->length == 4);

	/* and four gets */
	char got[WAIT_MAX][KV_VALUE_SIZE];
	struct kv_access_fut gets[WAIT_MAX];
	for (int i = 0; i < 4; i++)
		gets[i] = kv_get(vdm, kv, (uint64_t)i + 1, got[i]);
	WAIT_ALL(rt, gets, 4);
	for (int i = 0; i < 4; i++)
		assert(gets[i].output.result == got[i] && strcmp(got[i], names[i]) == 0);

	/* a duplicate key, an invalid key, a missing key: no copy is ever created */
	puts[0] = kv_put(vdm, kv, 2, values[5]);
	puts[1] = kv_put(vdm, kv, 0, values[5]);
	gets[0] = kv_get(vdm, kv, 77, got[0]);
	struct future *mixed[] = {FUTURE_AS_RUNNABLE(&puts[0]), FUTURE_AS_RUNNABLE(&puts[1]),
				  FUTURE_AS_RUNNABLE(&gets[0])};
	runtime_wait_multiple(rt, mixed, 3);
	assert(puts[0].output.result == NULL && puts[1].output.result == NULL);
	assert(gets[0].output.result == NULL);
	assert(puts[0].data.copy.fut.base.task == NULL); /* the completed no-op */
	assert(kv->length == 4);

	/* fill the store, then one more does not fit */
	for (int i = 0; i < 4; i++)
		puts[i] = kv_put(vdm, kv, (uint64_t)i + 5, values[i + 4]);
	WAIT_ALL(rt, puts, 4);
	assert(kv->length == KV_SLOTS);
	puts[0] = kv_put(vdm, kv, 9, values[0]);
	WAIT_ALL(rt, puts, 1);
	assert(puts[0].output.result == NULL);

	/* make room */
	struct kv_remove_fut removes[3] = {kv_remove(kv, 6), kv_remove(kv, 7), kv_remove(kv, 8)};
	WAIT_ALL(rt, removes, 3);
	for (int i = 0; i < 3; i++)
		assert(removes[i].output.removed == (uint64_t)i + 6);
	assert(kv->length == 5);

	/* moves: one that works, one from a missing key, one onto an existing key */
	char scratch[3][KV_VALUE_SIZE];
	struct kv_move_fut moves[3] = {
		kv_move(vdm, kv, 1, 100, scratch[0]),
		kv_move(vdm, kv, 42, 101, scratch[1]),
		kv_move(vdm, kv, 2, 3, scratch[2]),
	};
	WAIT_ALL(rt, moves, 3);
	assert(moves[0].output.moved_to == 100);
	assert(moves[1].output.moved_to == 0);
	assert(moves[2].output.moved_to == 0);
	/* the failed moves stopped early: the skipped steps never ran */
	assert(step_ran(&moves[1].data.get));
	assert(!step_ran(&moves[1].data.put.fut.data.lock));
	assert(moves[1].data.remove.fut.output.removed == 0);
	assert(step_ran(&moves[2].data.put.fut.data.slot));
	assert(moves[2].data.remove.fut.output.removed == 0);
	assert(kv->length == 5);

	gets[0] = kv_get(vdm, kv, 100, got[0]);
	gets[1] = kv_get(vdm, kv, 1, got[1]);
	gets[2] = kv_get(vdm, kv, 2, got[2]);
	gets[3] = kv_get(vdm, kv, 3, got[3]);
	WAIT_ALL(rt, gets, 4);
	assert(gets[0].output.result != NULL && strcmp(got[0], "Foo") == 0);
	assert(gets[1].output.result == NULL);
	assert(strcmp(got[2], "Bar") == 0 && strcmp(got[3], "Fizz") == 0);

	printf("store after puts, removes and moves:\n");
	print_store(kv);

	runtime_delete(rt);
	data_mover_threads_delete(dmt);
	free(kv);
	return 0;
}
