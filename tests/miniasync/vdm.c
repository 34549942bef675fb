// SPDX-License-Identifier: BSD-3-Clause
/*
 * The two library movers through the vdm API (spec 3, 5.1-5.3, 7.1 test_vdm, memmove_sync,
 * memset_sync): chains that rewrite an operation before it starts, lazily created vdm
 * entries, memcpy/memmove/memset of 0 B .. 16 MiB with outputs, flush, capabilities and
 * properties. Every case runs on the sync mover and on the threads mover.
 */

#include <sys/mman.h>
#include <unistd.h>

#include "masync_test.h"

#define MiB (1024 * 1024)

enum mover_kind { SYNC, THREADS };

struct mover {
	enum mover_kind kind;
	const char *name;
	struct data_mover_sync *dms;
	struct data_mover_threads *dmt;
	struct vdm *vdm;
	struct runtime *rt;
};

static void mover_open(struct mover *m, enum mover_kind kind)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	if (kind == SYNC) {
		m->name = "sync";
		m->dms = data_mover_sync_new();
		UT_ASSERTne(m->dms, NULL);
		m->vdm = data_mover_sync_get_vdm(m->dms);
	} else {
		m->name = "threads";
		m->dmt = data_mover_threads_new(2, 64, FUTURE_NOTIFIER_WAKER);
		UT_ASSERTne(m->dmt, NULL);
		m->vdm = data_mover_threads_get_vdm(m->dmt);
	}
	UT_ASSERTne(m->vdm, NULL);
	m->rt = runtime_new();
	UT_ASSERTne(m->rt, NULL);
}

static void mover_close(struct mover *m)
{
	runtime_delete(m->rt);
	if (m->kind == SYNC)
		data_mover_sync_delete(m->dms);
	else
		data_mover_threads_delete(m->dmt);
}

/*
 * Drives a vdm future to completion: the sync mover must finish in the very first poll
 * (spec 5.2); threads futures alternate between the runtime and busy polling.
 */
static void complete(struct mover *m, struct vdm_operation_future *f, int use_runtime)
{
	UT_ASSERTeq(FUTURE_STATE(f), FUTURE_STATE_IDLE);
	if (m->kind == SYNC) {
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(f), NULL), FUTURE_STATE_COMPLETE);
	} else if (use_runtime) {
		runtime_wait(m->rt, FUTURE_AS_RUNNABLE(f));
	} else {
		FUTURE_BUSY_POLL(f);
	}
	UT_ASSERTeq(FUTURE_STATE(f), FUTURE_STATE_COMPLETE);
}

/* Output fields are poisoned before the completing poll: op_delete must write all of them. */
static void poison_output(struct vdm_operation_future *f)
{
	f->output.type = (enum vdm_operation_type)77;
	f->output.result = VDM_ERROR_JOB_CORRUPTED;
	f->output.output.flush.unused = 0xBADBADBADULL;
}

static void check_output(struct vdm_operation_future *f, enum vdm_operation_type type, void *dest)
{
	UT_ASSERTeq(f->output.result, VDM_SUCCESS);
	UT_ASSERTeq(f->output.type, type);
	switch (type) {
	case VDM_OPERATION_MEMCPY:
		UT_ASSERTeq(f->output.output.memcpy.dest, dest);
		break;
	case VDM_OPERATION_MEMMOVE:
		UT_ASSERTeq(f->output.output.memmove.dest, dest);
		break;
	case VDM_OPERATION_MEMSET:
		UT_ASSERTeq(f->output.output.memset.str, dest);
		break;
	case VDM_OPERATION_FLUSH:
		UT_ASSERTeq(f->output.output.flush.unused, 0);
		break;
	}
}

static const size_t sizes[] = {0,    1,	   7,	 8,	     63,      64,	   65,
			       4095, 4096, 4097, 65536 + 13, MiB + 3, 4 * MiB + 1, 16 * MiB};

/* Guard bytes around every destination catch writes beyond n. */
#define GUARD 64

static void test_memcpy(struct mover *m)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *src = masync_malloc(n);
		uint8_t *buf = masync_malloc(n + 2 * GUARD);
		uint8_t *dst = buf + GUARD;
		masync_fill(src, n, (unsigned)i + 1);
		memset(buf, 0xEE, n + 2 * GUARD);

		struct vdm_operation_future f = vdm_memcpy(m->vdm, dst, src, n, 0);
		poison_output(&f);
		complete(m, &f, i % 2);
		check_output(&f, VDM_OPERATION_MEMCPY, dst);
		if (masync_check(dst, n, (unsigned)i + 1) != n)
			UT_FATAL("%s memcpy of %zu bytes differs at %zu", m->name, n,
				 masync_check(dst, n, (unsigned)i + 1));
		UT_ASSERTeq(masync_check_byte(buf, GUARD, 0xEE), GUARD);
		UT_ASSERTeq(masync_check_byte(dst + n, GUARD, 0xEE), GUARD);
		/* the source is untouched */
		UT_ASSERTeq(masync_check(src, n, (unsigned)i + 1), n);
		free(src);
		free(buf);
	}
}

/*
 * Overlapping moves in both directions, by a quarter of the length (the memmove_sync
 * case) and by a single byte, plus a disjoint move.
 */
static void test_memmove(struct mover *m)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		size_t shifts[] = {n / 4 ? n / 4 : 1, 1};
		for (int s = 0; s < 2; s++) {
			size_t shift = shifts[s];
			for (int forward = 0; forward < 2; forward++) {
				size_t total = n + shift;
				uint8_t *buf = masync_malloc(total + 2 * GUARD);
				uint8_t *area = buf + GUARD;
				memset(buf, 0xEE, total + 2 * GUARD);
				uint8_t *src = forward ? area : area + shift;
				uint8_t *dst = forward ? area + shift : area;
				masync_fill(src, n, 100 + (unsigned)i);

				struct vdm_operation_future f = vdm_memmove(m->vdm, dst, src, n, 0);
				poison_output(&f);
				complete(m, &f, (i + (size_t)forward) % 2);
				check_output(&f, VDM_OPERATION_MEMMOVE, dst);
				size_t bad = masync_check(dst, n, 100 + (unsigned)i);
				if (bad != n)
					UT_FATAL("%s memmove %s of %zu bytes by %zu differs at %zu",
						 m->name, forward ? "up" : "down", n, shift, bad);
				UT_ASSERTeq(masync_check_byte(buf, GUARD, 0xEE), GUARD);
				UT_ASSERTeq(masync_check_byte(area + total, GUARD, 0xEE), GUARD);
				free(buf);
			}
		}
	}

	/* two distinct strings */
	char a[] = "first string", b[] = "other string";
	struct vdm_operation_future f = vdm_memmove(m->vdm, a, b, 5, 0);
	complete(m, &f, 1);
	UT_ASSERTeq(strcmp(a, "other string"), 0);
	UT_ASSERTeq(strcmp(b, "other string"), 0);
}

static void test_memset(struct mover *m)
{
	/* c is converted to unsigned char: negative ints, and bits above the low 8, are fine */
	static const int values[] = {'!', 'a', 'X', (char)0xA5, 0x5A, 0x1234, -1, 0};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		int c = values[i % (sizeof(values) / sizeof(values[0]))];
		uint8_t *buf = masync_malloc(n + 2 * GUARD);
		uint8_t *dst = buf + GUARD;
		memset(buf, 0xEE, n + 2 * GUARD);
		if ((uint8_t)c == 0xEE)
			c = 0x11;

		struct vdm_operation_future f = vdm_memset(m->vdm, dst, c, n, 0);
		poison_output(&f);
		complete(m, &f, i % 2);
		check_output(&f, VDM_OPERATION_MEMSET, dst);
		if (masync_check_byte(dst, n, (uint8_t)c) != n)
			UT_FATAL("%s memset of %zu bytes with %d differs at %zu", m->name, n, c,
				 masync_check_byte(dst, n, (uint8_t)c));
		UT_ASSERTeq(masync_check_byte(buf, GUARD, 0xEE), GUARD);
		UT_ASSERTeq(masync_check_byte(dst + n, GUARD, 0xEE), GUARD);
		free(buf);
	}

	/* memset_sync: the first half of a 10-byte string, the terminator stays */
	char s[11] = "0123456789";
	struct vdm_operation_future f = vdm_memset(m->vdm, s, (char)0xA5, 5, 0);
	complete(m, &f, 0);
	UT_ASSERTeq(memcmp(s,
			   "\xA5\xA5\xA5\xA5\xA5"
			   "56789",
			   11),
		    0);
}

/* Flush completes with VDM_SUCCESS on both movers; the reference exits the process. */
static void test_flush(struct mover *m)
{
	size_t n = 3 * 4096 + 17;
	uint8_t *buf = masync_malloc(n);
	masync_fill(buf, n, 9);
	struct vdm_operation_future f = vdm_flush(m->vdm, buf + 3, n - 3, 0);
	poison_output(&f);
	complete(m, &f, 1);
	check_output(&f, VDM_OPERATION_FLUSH, NULL);
	f = vdm_flush(m->vdm, buf, 0, VDM_F_MEM_DURABLE);
	poison_output(&f);
	complete(m, &f, 0);
	check_output(&f, VDM_OPERATION_FLUSH, NULL);
	/* flushing does not change the data */
	UT_ASSERTeq(masync_check(buf, n, 9), n);
	free(buf);

	/* 0 bytes touch nothing, not even the line of an address that is not mapped */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	UT_ASSERT(none != MAP_FAILED);
	f = vdm_flush(m->vdm, none + 100, 0, 0);
	poison_output(&f);
	complete(m, &f, 0);
	check_output(&f, VDM_OPERATION_FLUSH, NULL);
	UT_ASSERTeq(munmap(none, page), 0);
}

static void test_capabilities_and_property(struct mover *m)
{
	UT_ASSERTeq(m->vdm->capabilities, 0);
	UT_ASSERTeq(vdm_is_supported(m->vdm, VDM_F_MEM_DURABLE), 0);
	UT_ASSERTeq(vdm_is_supported(m->vdm, VDM_F_NO_CACHE_HINT), 0);
	UT_ASSERTeq(vdm_is_supported(m->vdm, VDM_F_VALID_FLAGS), 0);

	char a[8] = "abcdefg", b[8];
	struct vdm_operation_future f = vdm_memcpy(m->vdm, b, a, 8, 0);
	UT_ASSERTne(f.base.has_property, NULL);
	int expected = m->kind == THREADS ? 1 : 0;
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), expected);
	complete(m, &f, 1);
	UT_ASSERTeq(memcmp(a, b, 8), 0);
}

/* strdup chain: an allocation, then a LAST vdm copy whose destination the first map sets. */
struct alloc_data {
	size_t n;
};
struct alloc_output {
	void *ptr;
};
FUTURE(alloc_fut, struct alloc_data, struct alloc_output);

static enum future_state alloc_task(struct future_context *ctx, struct future_notifier *n)
{
	(void)n;
	struct alloc_data *d = future_context_get_data(ctx);
	struct alloc_output *o = future_context_get_output(ctx);
	o->ptr = masync_malloc(d->n);
	return FUTURE_STATE_COMPLETE;
}

static struct alloc_fut async_alloc(size_t n)
{
	struct alloc_fut f;
	FUTURE_INIT(&f, alloc_task);
	f.data.n = n;
	f.output.ptr = NULL;
	return f;
}

struct strdup_data {
	FUTURE_CHAIN_ENTRY(struct alloc_fut, alloc);
	FUTURE_CHAIN_ENTRY_LAST(struct vdm_operation_future, copy);
	const char *source;
	size_t length;
	struct vdm *vdm;
};
struct strdup_output {
	char *copy;
	size_t length;
};
FUTURE(strdup_fut, struct strdup_data, struct strdup_output);

static void alloc_to_copy(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	UT_ASSERTeq(arg, (void *)(uintptr_t)0xA1);
	struct alloc_output *a = future_context_get_output(lhs);
	struct vdm_operation_data *copy = future_context_get_data(rhs);
	UT_ASSERTeq(copy->operation.type, VDM_OPERATION_MEMCPY);
	UT_ASSERTeq(copy->operation.data.memcpy.dest, NULL);
	copy->operation.data.memcpy.dest = a->ptr;
}

static void copy_to_output(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	struct vdm_operation_data *copy = future_context_get_data(lhs);
	struct vdm_operation_output *out = future_context_get_output(lhs);
	struct strdup_output *s = future_context_get_output(rhs);
	UT_ASSERTeq(out->result, VDM_SUCCESS);
	UT_ASSERTeq(out->type, VDM_OPERATION_MEMCPY);
	UT_ASSERTeq(out->output.memcpy.dest, copy->operation.data.memcpy.dest);
	s->copy = copy->operation.data.memcpy.dest;
	s->length = copy->operation.data.memcpy.n;
}

static struct strdup_fut async_strdup(struct vdm *vdm, const char *str)
{
	struct strdup_fut f;
	size_t len = strlen(str) + 1;
	f.output.copy = NULL;
	f.output.length = 0;
	f.data.source = str;
	f.data.length = len;
	f.data.vdm = vdm;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.alloc, async_alloc(len), alloc_to_copy,
				(void *)(uintptr_t)0xA1);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.copy, vdm_memcpy(vdm, NULL, (void *)str, len, 0),
				copy_to_output, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

/* The vdm entry built on demand: a whole 120-byte future copied into the entry. */
static void copy_init(void *future, struct future_context *chain, void *arg)
{
	(void)arg;
	struct strdup_data *d = future_context_get_data(chain);
	struct vdm_operation_future copy =
		vdm_memcpy(d->vdm, d->alloc.fut.output.ptr, (void *)d->source, d->length, 0);
	memcpy(future, &copy, sizeof(copy));
}

static struct strdup_fut async_strdup_lazy(struct vdm *vdm, const char *str)
{
	struct strdup_fut f;
	size_t len = strlen(str) + 1;
	f.output.copy = NULL;
	f.output.length = 0;
	f.data.source = str;
	f.data.length = len;
	f.data.vdm = vdm;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.alloc, async_alloc(len), NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.copy, copy_init, NULL, copy_to_output, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

static void test_strdup(struct mover *m)
{
	static const char hello[] = "Hello World! A string long enough to span cache lines, "
				    "copied by a chain whose map chose the destination.";
	for (int lazy = 0; lazy < 2; lazy++) {
		for (int rt = 0; rt < 2; rt++) {
			struct strdup_fut f = lazy ? async_strdup_lazy(m->vdm, hello)
						   : async_strdup(m->vdm, hello);
			if (lazy)
				UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.copy));
			if (rt)
				runtime_wait(m->rt, FUTURE_AS_RUNNABLE(&f));
			else
				FUTURE_BUSY_POLL(&f);
			UT_ASSERTne(FUTURE_OUTPUT(&f)->copy, NULL);
			UT_ASSERTne(FUTURE_OUTPUT(&f)->copy, hello);
			UT_ASSERTeq(strcmp(FUTURE_OUTPUT(&f)->copy, hello), 0);
			UT_ASSERTeq(FUTURE_OUTPUT(&f)->length, sizeof(hello));
			UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.copy));
			free(FUTURE_OUTPUT(&f)->copy);
		}
	}

	/* on the sync mover the whole chain completes in one poll */
	if (m->kind == SYNC) {
		struct strdup_fut f = async_strdup(m->vdm, hello);
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), NULL), FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(strcmp(FUTURE_OUTPUT(&f)->copy, hello), 0);
		free(FUTURE_OUTPUT(&f)->copy);
	}
}

static void ignore_wake(void *data)
{
	(void)data;
}

/* A vdm future moved in memory between polls, and polled with a notifier. */
static void test_relocation(struct mover *m)
{
	size_t n = 256 * 1024;
	uint8_t *src = masync_malloc(n), *dst = masync_malloc(n);
	masync_fill(src, n, 55);
	memset(dst, 0, n);
	struct vdm_operation_future *a = masync_malloc(sizeof(*a));
	*a = vdm_memcpy(m->vdm, dst, src, n, 0);
	/* the waker must stay callable; only the field the mover writes is poisoned */
	struct future_notifier notifier;
	memset(&notifier, 0, sizeof(notifier));
	notifier.waker.wake = ignore_wake;
	notifier.notifier_used = (enum future_notifier_type)0x55;
	enum future_state s = future_poll(FUTURE_AS_RUNNABLE(a), &notifier);
	if (m->kind == SYNC) {
		UT_ASSERTeq(s, FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(notifier.notifier_used, FUTURE_NOTIFIER_NONE);
	} else {
		UT_ASSERT(s == FUTURE_STATE_RUNNING || s == FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(notifier.notifier_used, FUTURE_NOTIFIER_WAKER);
	}
	struct vdm_operation_future b = *a;
	memset(a, 0xCD, sizeof(*a));
	free(a);
	while (future_poll(FUTURE_AS_RUNNABLE(&b), NULL) != FUTURE_STATE_COMPLETE)
		__FUTURE_WAIT();
	check_output(&b, VDM_OPERATION_MEMCPY, dst);
	UT_ASSERTeq(masync_check(dst, n, 55), n);
	free(src);
	free(dst);
}

int main(void)
{
	masync_watchdog(100);
	for (int kind = SYNC; kind <= THREADS; kind++) {
		struct mover m;
		mover_open(&m, (enum mover_kind)kind);
		test_capabilities_and_property(&m);
		test_memcpy(&m);
		test_memmove(&m);
		test_memset(&m);
		test_flush(&m);
		test_strdup(&m);
		test_relocation(&m);
		mover_close(&m);
	}
	return 0;
}
