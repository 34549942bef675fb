/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commit (spec 3.6 steps 4-5, 7.3): published operations become durable and visible strictly
 * in timestamp order, and the watermark W follows them.
 *
 * Work is done in rounds by whoever holds the commit lock (taken with a try-lock by anybody
 * who needs progress; nothing is owned between calls, so an abandoned future stalls nobody).
 * A round walks the operation table from C + 1, flushes the newly published entries, raises
 * the header's W as far as entries are durable already (made so by their synchronous
 * appenders, or by an earlier round's fence), drains once, then publishes the new C and W.
 * So one fence raises W for every synchronous append published by then (group commit), and
 * serves a batch of asynchronous entries together with the watermark of the batch before.
 */

#include <string.h>

#include "spinlock.h"
#include "stream.h"

/*
 * The commit lock. A wait future that found it taken asks its holder to wake the waiters
 * when it lets go (COMMIT_LOCK_WAKE_ON_RELEASE): the holder may be doing something that
 * moves neither C nor W (the allocator's header stores, a round that found nothing new),
 * and the future's operation may have been published, with its wake-up, before the future
 * registered; without this nobody would ever wake it.
 */
#define COMMIT_LOCK_FREE	    0
#define COMMIT_LOCK_HELD	    1
#define COMMIT_LOCK_WAKE_ON_RELEASE 2

static int commit_lock_try(struct pmemstream *s)
{
	int expected = COMMIT_LOCK_FREE;
	return __atomic_load_n(&s->commit_lock, __ATOMIC_RELAXED) == COMMIT_LOCK_FREE &&
	       __atomic_compare_exchange_n(&s->commit_lock, &expected, COMMIT_LOCK_HELD, 0,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void commit_lock_release(struct pmemstream *s)
{
	/* acquire: the registration of whoever asked for the wake-up is seen below */
	if (__atomic_exchange_n(&s->commit_lock, COMMIT_LOCK_FREE, __ATOMIC_ACQ_REL) ==
	    COMMIT_LOCK_WAKE_ON_RELEASE)
		waiters_wake_fenced(&s->waiters, UINT64_MAX);
}

int commit_lock_wake_on_release(struct pmemstream *s)
{
	int seen = __atomic_load_n(&s->commit_lock, __ATOMIC_RELAXED);
	for (;;) {
		if (seen == COMMIT_LOCK_FREE)
			return 0;
		if (seen == COMMIT_LOCK_WAKE_ON_RELEASE)
			return 1;
		/* release: the caller's registration goes with the request */
		if (__atomic_compare_exchange_n(&s->commit_lock, &seen, COMMIT_LOCK_WAKE_ON_RELEASE,
						0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return 1;
	}
}

static void copy_done(void *arg)
{
	struct pmemstream *s = arg;
	waiters_wake(&s->waiters, UINT64_MAX);
}

void copy_notifier_init(struct pmemstream *s)
{
	s->copy_notifier = (struct future_notifier){
		.waker = {.data = s, .wake = copy_done},
		.notifier_used = FUTURE_NOTIFIER_NONE,
	};
}

/* Polls a copy; remembers whether its mover promised a wake-up on completion. */
int commit_poll_copy(struct pmemstream *s, struct op_slot *slot)
{
	struct future_notifier notifier = s->copy_notifier;
	enum future_state state = future_poll(FUTURE_AS_RUNNABLE(&slot->copy), &notifier);
	if (state == FUTURE_STATE_COMPLETE) {
		if (slot->copy.output.result != VDM_SUCCESS) {
			/* the timestamp is taken, so the entry must commit: copy it here */
			struct vdm_operation_data_memcpy *op =
				&slot->copy.data.operation.data.memcpy;
			memcpy(op->dest, op->src, op->n);
		}
		return 1;
	}
	if (state == FUTURE_STATE_IDLE)
		slot->copy_wakes = 0; /* not started (the mover was full): nobody will wake us */
	else if (notifier.notifier_used == FUTURE_NOTIFIER_WAKER)
		slot->copy_wakes = 1;
	return 0;
}

/* 1 when the operation's data is in place (its copy completed), 0 if its copy is not. */
static int slot_ready(struct pmemstream *s, struct op_slot *slot)
{
	if (slot->kind != OP_COPY)
		return 1;
	if (!commit_poll_copy(s, slot)) {
		__atomic_store_n(&s->commit_waits_silently, !slot->copy_wakes, __ATOMIC_RELAXED);
		return 0;
	}
	slot->kind = OP_FLUSH;
	return 1;
}

static int slot_published(struct pmemstream *s, uint64_t ts, struct op_slot **slotp)
{
	struct op_slot *slot = op_table_find(&s->ops_table, ts);
	if (slot == NULL || __atomic_load_n(&slot->timestamp, __ATOMIC_ACQUIRE) != ts)
		return 0;
	*slotp = slot;
	return 1;
}

/* Called for each timestamp a commit passes: the segment ending with ts is needed no more. */
static void retire_passed(struct pmemstream *s, uint64_t ts)
{
	if ((ts + 1) % OP_SEGMENT_SLOTS == 0)
		op_table_retire(&s->ops_table, ts / OP_SEGMENT_SLOTS);
}

/* The header line holding W, and W's place in it. */
static char *header_line_of(struct pmemstream *s)
{
	return (char *)s->header +
	       ALIGN_DOWN(offsetof(struct stream_header, persisted_timestamp), CACHELINE_SIZE);
}

#define W_IN_LINE (offsetof(struct stream_header, persisted_timestamp) % CACHELINE_SIZE)

void header_line_load(struct pmemstream *s)
{
	memcpy(s->header_line, header_line_of(s), CACHELINE_SIZE);
}

int header_line_holds(struct pmemstream *s, const uint64_t *word)
{
	const char *line = header_line_of(s);
	return (const char *)word >= line && (const char *)word < line + CACHELINE_SIZE;
}

void header_line_store_persist(struct pmemstream *s, uint64_t *word, uint64_t value)
{
	unsigned spins = 0;
	while (!commit_lock_try(s))
		backoff(&spins);
	memcpy(s->header_line + ((char *)word - header_line_of(s)), &value, sizeof(value));
	pm_store(word, value);
	s->ops.persist(word, sizeof(*word));
	commit_lock_release(s);
}

/*
 * Raises the header's W and its shadow w_stored, under the commit lock: the whole line is
 * written from its image with non-temporal stores (no drain: the caller drains before it
 * releases the lock). Measured about 110 ns for the stores and the fence against 170 for a
 * store, a flush and a fence. The fence must come before the lock is released:
 * non-temporal stores of two threads to one line reach memory in no defined order, so an
 * older W could otherwise land after a newer one.
 */
static void store_watermark(struct pmemstream *s, uint64_t w)
{
	memcpy(s->header_line + W_IN_LINE, &w, sizeof(w));
	s->ops.memcpy(header_line_of(s), s->header_line, CACHELINE_SIZE,
		      PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN);
	__atomic_store_n(&s->w_stored, w, __ATOMIC_RELAXED);
}

/*
 * The same through the cache, for a caller that flushes and drains after releasing the
 * lock (a store through the cache is ordered with any other thread's later stores to the
 * line); returns the field to flush.
 */
static uint64_t *store_watermark_cached(struct pmemstream *s, uint64_t w)
{
	uint64_t *field = &s->header->persisted_timestamp;
	memcpy(s->header_line + W_IN_LINE, &w, sizeof(w));
	pm_store(field, w);
	__atomic_store_n(&s->w_stored, w, __ATOMIC_RELAXED);
	return field;
}

/* W as last stored; only under the commit lock */
static uint64_t stored_watermark(struct pmemstream *s)
{
	uint64_t w;
	memcpy(&w, s->header_line + W_IN_LINE, sizeof(w));
	return w;
}

/* persisted only grows, also when watermark fences finish out of order (see below) */
static void raise_persisted(struct pmemstream *s, uint64_t w)
{
	uint64_t seen = __atomic_load_n(&s->persisted, __ATOMIC_RELAXED);
	while (seen < w && !__atomic_compare_exchange_n(&s->persisted, &seen, w, 1,
							__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* One round under the commit lock; 1 if C or W moved. */
static int commit_round(struct pmemstream *s)
{
	uint64_t start = __atomic_load_n(&s->committed, __ATOMIC_RELAXED);
	uint64_t c = start;
	int flushed = 0;
	struct op_slot *slot;

	/*
	 * Completing a copy releases its operation with a locked instruction, which on some
	 * CPUs waits for outstanding flushes like a fence: so every copy of the round is
	 * completed before the first flush, or each entry would pay a fence of its own.
	 */
	__atomic_store_n(&s->commit_waits_silently, 0, __ATOMIC_RELAXED);
	while (slot_published(s, c + 1, &slot) && slot_ready(s, slot))
		c++;

	/* durable: everything up to here was made durable by an earlier fence */
	uint64_t durable = start;
	for (uint64_t ts = start + 1; ts <= c; ts++) {
		slot = op_table_find(&s->ops_table, ts);
		if (slot->kind == OP_DURABLE) {
			if (durable == ts - 1)
				durable = ts;
		} else {
			s->ops.flush(slot->flush_addr, slot->flush_len);
			flushed = 1;
		}
		retire_passed(s, ts);
	}

	/* only what an earlier fence made durable may be covered by this one */
	int raise_w = durable > stored_watermark(s);
	if (raise_w)
		store_watermark(s, durable);
	if (flushed || raise_w)
		s->ops.drain();

	/* C first: the persisted timestamp never exceeds the committed one */
	if (c != start)
		__atomic_store_n(&s->committed, c, __ATOMIC_SEQ_CST);
	if (raise_w)
		raise_persisted(s, durable);
	/*
	 * Waiters of both kinds up to C may now complete or do the next round themselves. An
	 * operation published after the walk passed it is not lost: a synchronous publisher
	 * commits it itself, an asynchronous one wakes the waiters.
	 */
	if (c != start)
		waiters_wake_fenced(&s->waiters, c); /* the seq_cst store above was the fence */
	else if (raise_w)
		waiters_wake(&s->waiters, c);
	return c != start || raise_w;
}

/* Rounds until persisted >= target or no progress; 0 if the lock was busy. */
int commit_rounds(struct pmemstream *s, uint64_t persisted_target)
{
	if (!commit_lock_try(s))
		return 0;
	while (commit_round(s) && load_persisted(s) < persisted_target)
		;
	commit_lock_release(s);
	return 1;
}

int commit_try(struct pmemstream *s)
{
	return commit_rounds(s, 0);
}

void commit_until(struct pmemstream *s, uint64_t target)
{
	unsigned spins = 0;

	while (load_committed(s) < target) {
		if (!commit_try(s) || load_committed(s) < target)
			backoff(&spins);
	}
}

/* Its address tells the threads that raise W apart. */
static _Thread_local char Raiser_id;

/*
 * The watermark over entries that their synchronous appenders made durable (OP_DURABLE).
 * Everything up to C is durable (rounds drain before they move C), so W may follow C at
 * once. 0 if the lock was busy or the next slot needs a full round.
 */
static int raise_watermark_over_durable(struct pmemstream *s)
{
	if (!commit_lock_try(s))
		return 0;
	uint64_t start = __atomic_load_n(&s->committed, __ATOMIC_RELAXED);
	uint64_t c = start;
	struct op_slot *slot;
	while (slot_published(s, c + 1, &slot) && slot->kind == OP_DURABLE)
		retire_passed(s, ++c);
	if (c == start) {
		commit_lock_release(s);
		return 0;
	}
	/*
	 * W never exceeded C, so this raises it. A thread that raised W last time too appends
	 * alone: the faster non-temporal store, fenced under the lock. Otherwise the fence runs
	 * after the lock is released, so that threads wait for their fences at the same time.
	 */
	int alone = s->last_w_raiser == &Raiser_id;
	s->last_w_raiser = &Raiser_id;
	if (alone) {
		store_watermark(s, c);
		s->ops.drain();
		__atomic_store_n(&s->committed, c, __ATOMIC_SEQ_CST);
		commit_lock_release(s);
	} else {
		uint64_t *w = store_watermark_cached(s, c);
		__atomic_store_n(&s->committed, c, __ATOMIC_SEQ_CST);
		commit_lock_release(s);
		/* a later raise may already be in the line: then this persists that one too */
		s->ops.flush(w, sizeof(*w));
		s->ops.drain();
	}
	raise_persisted(s, c);
	waiters_wake(&s->waiters, c);
	return 1;
}

void persisted_until(struct pmemstream *s, uint64_t target)
{
	unsigned spins = 0;

	while (load_persisted(s) < target) {
		/*
		 * A watermark covering target is on its way to the media, and whoever stored it
		 * raises persisted after its fence: wait for that instead of contending for the
		 * commit lock with threads that have work to do.
		 */
		if (__atomic_load_n(&s->w_stored, __ATOMIC_RELAXED) >= target) {
			backoff(&spins);
			continue;
		}
		if (raise_watermark_over_durable(s))
			continue;
		if (!commit_rounds(s, target) || load_persisted(s) < target)
			backoff(&spins);
	}
}

struct op_slot *commit_slot(struct pmemstream *s, uint64_t ts)
{
	unsigned spins = 0;
	struct op_slot *slot;

	while ((slot = op_table_claim(&s->ops_table, ts, &s->committed)) == NULL) {
		commit_try(s);
		backoff(&spins);
	}
	return slot;
}

void commit_make_room(struct pmemstream *s)
{
	unsigned spins = 0;

	for (;;) {
		uint64_t next = __atomic_load_n(&s->next_timestamp, __ATOMIC_RELAXED);
		if (next - load_committed(s) < OP_TABLE_CAPACITY)
			return;
		commit_try(s);
		backoff(&spins);
	}
}
