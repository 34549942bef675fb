// SPDX-License-Identifier: BSD-3-Clause
/*
 * The thread-pool mover (spec 5.3): creation arguments, enqueue on first poll, a full ring
 * sending futures back to IDLE, the three notifier kinds and the waker guarantees, hooks,
 * futures crossing threads (issue #107), many concurrent operations and deletion.
 */

#include "masync_test.h"

#include <sys/wait.h>

static void no_wake(void *data)
{
	(void)data;
}

static void test_creation_arguments(void)
{
	/* the ring size counts entries and must be a power of two that fits 32 bits */
	UT_ASSERTeq(data_mover_threads_new(1, 0, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, 3, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, 100, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, 1000, FUTURE_NOTIFIER_NONE), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, UINT32_MAX, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, (size_t)1 << 32, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, (size_t)1 << 33, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, ((size_t)1 << 32) + 2, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, SIZE_MAX, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(0, 8, FUTURE_NOTIFIER_WAKER), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, 8, (enum future_notifier_type)3), NULL);
	UT_ASSERTeq(data_mover_threads_new(1, 8, (enum future_notifier_type) - 1), NULL);

	/* the smallest ring, every notifier kind, and the defaults */
	const enum future_notifier_type kinds[] = {FUTURE_NOTIFIER_NONE, FUTURE_NOTIFIER_WAKER,
						   FUTURE_NOTIFIER_POLLER};
	for (int k = 0; k < 3; k++) {
		struct data_mover_threads *dmt = data_mover_threads_new(1, 1, kinds[k]);
		UT_ASSERTne(dmt, NULL);
		struct vdm *vdm = data_mover_threads_get_vdm(dmt);
		UT_ASSERTne(vdm, NULL);
		char src[32] = "one entry ring", dst[32] = "";
		for (int i = 0; i < 10; i++) {
			dst[0] = 0;
			struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, sizeof(src), 0);
			FUTURE_BUSY_POLL(&f);
			UT_ASSERTeq(f.output.result, VDM_SUCCESS);
			UT_ASSERTeq(strcmp(dst, src), 0);
		}
		data_mover_threads_delete(dmt);
	}

	struct data_mover_threads *dmt = data_mover_threads_default();
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	UT_ASSERTeq(vdm->capabilities, 0);
	char buf[16];
	struct vdm_operation_future f = vdm_memset(vdm, buf, 'q', sizeof(buf), 0);
	struct future_notifier n;
	memset(&n, 0, sizeof(n));
	n.waker.wake = no_wake;
	/* the default notifier is WAKER */
	while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) != FUTURE_STATE_COMPLETE) {
		UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
		__FUTURE_WAIT();
	}
	UT_ASSERTeq(masync_check_byte(buf, sizeof(buf), 'q'), sizeof(buf));
	data_mover_threads_delete(dmt);

	data_mover_threads_delete(NULL);
	data_mover_sync_delete(NULL);
}

/* Hooks see every operation; they hold the worker at a gate when one is armed. */
static struct masync_gate gate;
static atomic_int gate_armed;
static atomic_int hook_calls;

static void *gated_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	atomic_fetch_add(&hook_calls, 1);
	if (atomic_load(&gate_armed))
		masync_gate_pass(&gate);
	return memcpy(dst, src, n);
}

static void arm_gate(void)
{
	masync_gate_init(&gate, 0);
	atomic_store(&gate_armed, 1);
	atomic_store(&hook_calls, 0);
}

static void open_gate(void)
{
	atomic_store(&gate.open, 1);
}

/* Nothing is handed to a worker at creation: the single FIFO worker would run it first. */
static void test_enqueue_on_first_poll(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 16, FUTURE_NOTIFIER_NONE);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	atomic_store(&gate_armed, 0);
	atomic_store(&hook_calls, 0);

	char src[8] = "abcdefg", never[8] = "", later[8] = "";
	struct vdm_operation_future unpolled = vdm_memcpy(vdm, never, src, 8, 0);
	struct vdm_operation_future polled = vdm_memcpy(vdm, later, src, 8, 0);
	FUTURE_BUSY_POLL(&polled);
	UT_ASSERTeq(atomic_load(&hook_calls), 1);
	UT_ASSERTeq(never[0], 0);
	UT_ASSERTeq(strcmp(later, src), 0);

	/* still IDLE: the first poll starts it */
	UT_ASSERTeq(FUTURE_STATE(&unpolled), FUTURE_STATE_IDLE);
	FUTURE_BUSY_POLL(&unpolled);
	UT_ASSERTeq(strcmp(never, src), 0);
	UT_ASSERTeq(atomic_load(&hook_calls), 2);
	data_mover_threads_delete(dmt);
}

/*
 * A ring of ring_size, one worker held inside the first copy: further first polls find the
 * ring full (or nearly) and report IDLE; an IDLE future is re-read at its next start. A
 * ring of 1 must hold one operation, not let a second overwrite it.
 */
static void test_full_ring(size_t ring_size)
{
	enum { N = 8, SIZE = 4096 };
	struct data_mover_threads *dmt = data_mover_threads_new(1, ring_size, FUTURE_NOTIFIER_NONE);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	arm_gate();

	uint8_t *src = masync_malloc(SIZE * N), *dst = masync_malloc(SIZE * N);
	uint8_t *redirected = masync_malloc(SIZE);
	masync_fill(src, SIZE * N, 17);
	memset(dst, 0, SIZE * N);
	memset(redirected, 0, SIZE);

	struct vdm_operation_future f[N];
	for (int i = 0; i < N; i++)
		f[i] = vdm_memcpy(vdm, dst + i * SIZE, src + i * SIZE, SIZE, 0);

	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f[0]), NULL), FUTURE_STATE_RUNNING);
	masync_gate_wait_entered(&gate, 1);

	int running = 0, idle = 0, first_idle = -1;
	for (int i = 1; i < N; i++) {
		enum future_state s = future_poll(FUTURE_AS_RUNNABLE(&f[i]), NULL);
		UT_ASSERTne(s, FUTURE_STATE_COMPLETE);
		if (s == FUTURE_STATE_RUNNING) {
			running++;
		} else {
			idle++;
			if (first_idle < 0)
				first_idle = i;
		}
	}
	printf("ring of %zu, worker busy: %d RUNNING, %d IDLE\n", ring_size, running, idle);
	UT_ASSERT(running >= 1 && (size_t)running <= ring_size);
	UT_ASSERTeq(running + idle, N - 1);

	/* the operation is read again when the IDLE future is next started */
	f[first_idle].data.operation.data.memcpy.dest = redirected;

	open_gate();
	struct runtime *rt = runtime_new();
	struct future *futs[N];
	for (int i = 0; i < N; i++)
		futs[i] = FUTURE_AS_RUNNABLE(&f[i]);
	runtime_wait_multiple(rt, futs, N);
	runtime_delete(rt);

	for (int i = 0; i < N; i++) {
		UT_ASSERTeq(FUTURE_STATE(&f[i]), FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(f[i].output.result, VDM_SUCCESS);
		uint8_t *expected_dst = i == first_idle ? redirected : dst + i * SIZE;
		UT_ASSERTeq(f[i].output.output.memcpy.dest, expected_dst);
		UT_ASSERTeq(memcmp(expected_dst, src + i * SIZE, SIZE), 0);
	}
	UT_ASSERTeq(masync_check_byte(dst + first_idle * SIZE, SIZE, 0), SIZE);
	UT_ASSERTeq(atomic_load(&hook_calls), N);
	atomic_store(&gate_armed, 0);
	data_mover_threads_delete(dmt);
	free(src);
	free(dst);
	free(redirected);
}

static void test_poller(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 16, FUTURE_NOTIFIER_POLLER);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	arm_gate();

	char src[64] = "polled through a monitored word", dst[64] = "";
	struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, sizeof(src), 0);
	struct future_notifier n;
	memset(&n, 0, sizeof(n));
	n.notifier_used = FUTURE_NOTIFIER_NONE;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_POLLER);
	uint64_t *word = n.poller.ptr_to_monitor;
	UT_ASSERTne(word, NULL);
	masync_gate_wait_entered(&gate, 1);
	UT_ASSERTeq(__atomic_load_n(word, __ATOMIC_ACQUIRE), 0);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_RUNNING);

	open_gate();
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
		__FUTURE_WAIT();
	/* the copy is done once the word says so */
	UT_ASSERTeq(strcmp(dst, src), 0);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(f.output.output.memcpy.dest, dst);

	/* a NULL notifier works on a POLLER mover too */
	atomic_store(&gate_armed, 0);
	memset(dst, 0, sizeof(dst));
	f = vdm_memcpy(vdm, dst, src, sizeof(src), 0);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(strcmp(dst, src), 0);
	data_mover_threads_delete(dmt);
}

/*
 * WAKER: the completion is visible before the wake starts, and no wake is still running
 * once a poll returned COMPLETE (spec 5.3.3). The wake lingers to widen both windows.
 */
struct wake_probe {
	atomic_int started;
	atomic_int finished;
	atomic_int inside;
};

static void lingering_wake(void *data)
{
	struct wake_probe *p = data;
	atomic_fetch_add(&p->started, 1);
	atomic_store(&p->inside, 1);
	usleep(10000);
	atomic_store(&p->inside, 0);
	atomic_fetch_add(&p->finished, 1);
}

static void test_waker(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 16, FUTURE_NOTIFIER_WAKER);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);

	for (int round = 0; round < 10; round++) {
		arm_gate();
		struct wake_probe probe = {0, 0, 0};
		char src[16] = "wake me", dst[16] = "";
		struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, sizeof(src), 0);
		struct future_notifier n;
		memset(&n, 0, sizeof(n));
		n.waker.data = &probe;
		n.waker.wake = lingering_wake;
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_RUNNING);
		UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
		/* the mover keeps its own copy of the waker */
		memset(&n, 0, sizeof(n));

		open_gate();
		if (round % 2 == 0) {
			while (atomic_load(&probe.started) == 0)
				__FUTURE_WAIT();
			/* published before the wake began */
			UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), NULL),
				    FUTURE_STATE_COMPLETE);
		} else {
			FUTURE_BUSY_POLL(&f);
		}
		UT_ASSERTeq(atomic_load(&probe.inside), 0);
		UT_ASSERTeq(atomic_load(&probe.finished), 1);
		UT_ASSERTeq(strcmp(dst, src), 0);
	}
	atomic_store(&gate_armed, 0);
	data_mover_threads_delete(dmt);

	/* NONE: the future says so and nobody is woken */
	dmt = data_mover_threads_new(1, 16, FUTURE_NOTIFIER_NONE);
	UT_ASSERTne(dmt, NULL);
	vdm = data_mover_threads_get_vdm(dmt);
	struct wake_probe probe = {0, 0, 0};
	char src[16] = "no wake", dst[16] = "";
	struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, sizeof(src), 0);
	struct future_notifier n;
	memset(&n, 0, sizeof(n));
	n.notifier_used = FUTURE_NOTIFIER_POLLER;
	n.waker.data = &probe;
	n.waker.wake = lingering_wake;
	/* only the starting poll reports the notifier kind */
	enum future_state s = future_poll(FUTURE_AS_RUNNABLE(&f), &n);
	UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_NONE);
	while (s != FUTURE_STATE_COMPLETE)
		s = future_poll(FUTURE_AS_RUNNABLE(&f), &n);
	UT_ASSERTeq(atomic_load(&probe.started), 0);
	UT_ASSERTeq(strcmp(dst, src), 0);
	data_mover_threads_delete(dmt);
}

/* Hooks get the operation's arguments and its flags truncated to unsigned. */
static struct {
	void *dst;
	const void *src;
	size_t n;
	int c;
	unsigned flags;
	int calls;
} seen;

static void *recording_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	seen.dst = dst;
	seen.src = src;
	seen.n = n;
	seen.flags = flags;
	seen.calls++;
	return NULL; /* ignored */
}

static void *recording_memmove(void *dst, const void *src, size_t n, unsigned flags)
{
	recording_memcpy(dst, src, n, flags);
	return (void *)(uintptr_t)1;
}

static void *recording_memset(void *str, int c, size_t n, unsigned flags)
{
	seen.c = c;
	return recording_memcpy(str, NULL, n, flags);
}

static void test_hooks(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 8, FUTURE_NOTIFIER_NONE);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char src[8] = "source", dst[8] = "dest";

	data_mover_threads_set_memcpy_fn(dmt, recording_memcpy);
	data_mover_threads_set_memmove_fn(dmt, recording_memmove);
	data_mover_threads_set_memset_fn(dmt, recording_memset);

	memset(&seen, 0, sizeof(seen));
	struct vdm_operation_future f =
		vdm_memcpy(vdm, dst, src, 7, ((uint64_t)1 << 40) | VDM_F_MEM_DURABLE | 0x100);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(seen.calls, 1);
	UT_ASSERTeq(seen.dst, dst);
	UT_ASSERTeq(seen.src, src);
	UT_ASSERTeq(seen.n, 7);
	UT_ASSERTeq(seen.flags, 0x101);
	/* the hook replaced libc: nothing was copied, yet the operation succeeded */
	UT_ASSERTeq(strcmp(dst, "dest"), 0);
	UT_ASSERTeq(f.output.result, VDM_SUCCESS);
	UT_ASSERTeq(f.output.output.memcpy.dest, dst);

	memset(&seen, 0, sizeof(seen));
	f = vdm_memmove(vdm, dst, src, 5, 0xFFFFFFFF00000000ULL | VDM_F_NO_CACHE_HINT);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(seen.calls, 1);
	UT_ASSERTeq(seen.dst, dst);
	UT_ASSERTeq(seen.src, src);
	UT_ASSERTeq(seen.n, 5);
	UT_ASSERTeq(seen.flags, VDM_F_NO_CACHE_HINT);
	UT_ASSERTeq(strcmp(dst, "dest"), 0);
	UT_ASSERTeq(f.output.output.memmove.dest, dst);

	memset(&seen, 0, sizeof(seen));
	f = vdm_memset(vdm, dst, -3, 4, 0xABCDEF12345ULL);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(seen.calls, 1);
	UT_ASSERTeq(seen.dst, dst);
	UT_ASSERTeq(seen.c, -3);
	UT_ASSERTeq(seen.n, 4);
	UT_ASSERTeq(seen.flags, (unsigned)0xABCDEF12345ULL);
	UT_ASSERTeq(strcmp(dst, "dest"), 0);
	UT_ASSERTeq(f.output.output.memset.str, dst);

	/* NULL restores libc */
	data_mover_threads_set_memcpy_fn(dmt, NULL);
	data_mover_threads_set_memmove_fn(dmt, NULL);
	data_mover_threads_set_memset_fn(dmt, NULL);
	memset(&seen, 0, sizeof(seen));
	f = vdm_memcpy(vdm, dst, src, 7, VDM_F_MEM_DURABLE);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(strcmp(dst, "source"), 0);
	f = vdm_memmove(vdm, dst + 1, dst, 6, 0);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(memcmp(dst, "ssource", 7), 0);
	f = vdm_memset(vdm, dst, 'z', 3, 0);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(memcmp(dst, "zzzurce", 7), 0);
	UT_ASSERTeq(seen.calls, 0);
	data_mover_threads_delete(dmt);
}

/* Futures created in a thread that has exited, then polled elsewhere (issue #107). */
enum { BATCH = 64, CHUNK = 2048 };

struct batch {
	struct vdm *vdm;
	uint8_t *src, *dst;
	unsigned seed;
	struct vdm_operation_future f[BATCH];
};

static void *create_batch(void *arg)
{
	struct batch *b = arg;
	for (int i = 0; i < BATCH; i++)
		b->f[i] = vdm_memcpy(b->vdm, b->dst + i * CHUNK, b->src + i * CHUNK, CHUNK, 0);
	return NULL;
}

static void *churn(void *arg)
{
	struct vdm *vdm = arg;
	char a[64] = "churn", b[64];
	for (int i = 0; i < 2000; i++) {
		struct vdm_operation_future f = vdm_memcpy(vdm, b, a, sizeof(a), 0);
		FUTURE_BUSY_POLL(&f);
	}
	return NULL;
}

static void *wait_batch(void *arg)
{
	struct batch *b = arg;
	struct runtime *rt = runtime_new();
	UT_ASSERTne(rt, NULL);
	struct future *futs[BATCH];
	for (int i = 0; i < BATCH; i++)
		futs[i] = FUTURE_AS_RUNNABLE(&b->f[i]);
	runtime_wait_multiple(rt, futs, BATCH);
	runtime_delete(rt);
	return NULL;
}

static void batch_init(struct batch *b, struct vdm *vdm, unsigned seed)
{
	b->vdm = vdm;
	b->seed = seed;
	b->src = masync_malloc(BATCH * CHUNK);
	b->dst = masync_malloc(BATCH * CHUNK);
	masync_fill(b->src, BATCH * CHUNK, seed);
	memset(b->dst, 0, BATCH * CHUNK);
}

static void batch_check_and_free(struct batch *b)
{
	for (int i = 0; i < BATCH; i++) {
		UT_ASSERTeq(FUTURE_STATE(&b->f[i]), FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(b->f[i].output.result, VDM_SUCCESS);
	}
	UT_ASSERTeq(masync_check(b->dst, BATCH * CHUNK, b->seed), BATCH * CHUNK);
	free(b->src);
	free(b->dst);
}

static void test_exited_creator(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 32, FUTURE_NOTIFIER_WAKER);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct batch *b1 = masync_malloc(sizeof(*b1)), *b2 = masync_malloc(sizeof(*b2));
	batch_init(b1, vdm, 31);
	batch_init(b2, vdm, 32);

	pthread_t t;
	UT_ASSERTeq(pthread_create(&t, NULL, create_batch, b1), 0);
	UT_ASSERTeq(pthread_join(t, NULL), 0);
	UT_ASSERTeq(pthread_create(&t, NULL, create_batch, b2), 0);
	UT_ASSERTeq(pthread_join(t, NULL), 0);

	/* other threads come and go, allocating and releasing records meanwhile */
	for (int i = 0; i < 3; i++) {
		UT_ASSERTeq(pthread_create(&t, NULL, churn, vdm), 0);
		UT_ASSERTeq(pthread_join(t, NULL), 0);
	}

	/* one batch finished in this thread, the other in a third thread */
	wait_batch(b1);
	UT_ASSERTeq(pthread_create(&t, NULL, wait_batch, b2), 0);
	UT_ASSERTeq(pthread_join(t, NULL), 0);
	batch_check_and_free(b1);
	batch_check_and_free(b2);
	free(b1);
	free(b2);
	data_mover_threads_delete(dmt);
}

/* Hundreds of operations of all kinds, created and polled by several threads at once. */
enum { WORKERS = 4, PER_THREAD = 200, MAX_OP = 48 * 1024 };

struct client {
	struct vdm *vdm;
	struct runtime *shared_rt;
	unsigned seed;
	int use_shared;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	unsigned r = c->seed;
	uint8_t **src = masync_malloc(PER_THREAD * sizeof(*src));
	uint8_t **dst = masync_malloc(PER_THREAD * sizeof(*dst));
	size_t *len = masync_malloc(PER_THREAD * sizeof(*len));
	int *kind = masync_malloc(PER_THREAD * sizeof(*kind));
	struct vdm_operation_future *f = masync_malloc(PER_THREAD * sizeof(*f));
	struct future **futs = masync_malloc(PER_THREAD * sizeof(*futs));
	struct runtime *rt = c->use_shared ? c->shared_rt : runtime_new();
	UT_ASSERTne(rt, NULL);

	for (int i = 0; i < PER_THREAD; i++) {
		len[i] = (size_t)rand_r(&r) % MAX_OP;
		kind[i] = rand_r(&r) % 3;
		src[i] = masync_malloc(len[i] + 1);
		dst[i] = masync_malloc(len[i] + 1);
		masync_fill(src[i], len[i] + 1, c->seed + (unsigned)i);
		memset(dst[i], 0, len[i] + 1);
		switch (kind[i]) {
		case 0:
			f[i] = vdm_memcpy(c->vdm, dst[i], src[i], len[i], 0);
			break;
		case 1: /* overlapping move inside src, by one byte upwards */
			f[i] = vdm_memmove(c->vdm, src[i] + 1, src[i], len[i], 0);
			break;
		default:
			f[i] = vdm_memset(c->vdm, dst[i], (int)(i & 0xFF), len[i], 0);
			break;
		}
		futs[i] = FUTURE_AS_RUNNABLE(&f[i]);
	}

	/* waited in uneven groups, the last ones one by one by busy polling */
	int done = 0;
	while (done < PER_THREAD - 10) {
		int group = 1 + rand_r(&r) % 60;
		if (group > PER_THREAD - 10 - done)
			group = PER_THREAD - 10 - done;
		runtime_wait_multiple(rt, futs + done, (size_t)group);
		done += group;
	}
	for (; done < PER_THREAD; done++)
		FUTURE_BUSY_POLL(&f[done]);

	for (int i = 0; i < PER_THREAD; i++) {
		UT_ASSERTeq(FUTURE_STATE(&f[i]), FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(f[i].output.result, VDM_SUCCESS);
		unsigned seed = c->seed + (unsigned)i;
		switch (kind[i]) {
		case 0:
			UT_ASSERTeq(masync_check(dst[i], len[i], seed), len[i]);
			UT_ASSERTeq(dst[i][len[i]], 0);
			break;
		case 1:
			UT_ASSERTeq(src[i][0], masync_pattern_byte(0, seed));
			UT_ASSERTeq(masync_check(src[i] + 1, len[i], seed), len[i]);
			break;
		default:
			UT_ASSERTeq(masync_check_byte(dst[i], len[i], (uint8_t)i), len[i]);
			UT_ASSERTeq(dst[i][len[i]], 0);
			break;
		}
		free(src[i]);
		free(dst[i]);
	}
	if (!c->use_shared)
		runtime_delete(rt);
	free(src);
	free(dst);
	free(len);
	free(kind);
	free(f);
	free(futs);
	return NULL;
}

static void test_concurrency(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(3, 64, FUTURE_NOTIFIER_WAKER);
	UT_ASSERTne(dmt, NULL);
	struct runtime *shared = runtime_new();
	UT_ASSERTne(shared, NULL);
	struct client c[WORKERS];
	pthread_t t[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		c[i].vdm = data_mover_threads_get_vdm(dmt);
		c[i].shared_rt = shared;
		c[i].seed = 1000u * (unsigned)(i + 1);
		c[i].use_shared = i % 2;
		UT_ASSERTeq(pthread_create(&t[i], NULL, client_main, &c[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		UT_ASSERTeq(pthread_join(t[i], NULL), 0);
	runtime_delete(shared);
	data_mover_threads_delete(dmt);
}

/* Deletion finishes what was enqueued and releases what was abandoned. */
static void *delete_mover(void *arg)
{
	data_mover_threads_delete(arg);
	return NULL;
}

static void test_delete(void)
{
	enum { QUEUED = 100, SIZE = 64 * 1024 };
	struct data_mover_threads *dmt = data_mover_threads_new(2, 128, FUTURE_NOTIFIER_WAKER);
	UT_ASSERTne(dmt, NULL);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	arm_gate();
	uint8_t *src = masync_malloc(SIZE), *dst = masync_malloc((size_t)QUEUED * SIZE);
	masync_fill(src, SIZE, 77);
	memset(dst, 0, (size_t)QUEUED * SIZE);

	/* both workers wait at the gate; everything else stays in the queue */
	struct vdm_operation_future *f = masync_malloc(QUEUED * sizeof(*f));
	for (int i = 0; i < QUEUED; i++) {
		f[i] = vdm_memcpy(vdm, dst + (size_t)i * SIZE, src, SIZE, 0);
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f[i]), NULL), FUTURE_STATE_RUNNING);
	}
	masync_gate_wait_entered(&gate, 2);
	/* and some that never start */
	for (int i = 0; i < 1000; i++) {
		struct vdm_operation_future never = vdm_memset(vdm, dst, 0xFF, SIZE, 0);
		(void)never;
	}

	/*
	 * Delete while the queue is full. The pause only gives the deleting thread time to
	 * begin stopping the workers (a shorter one just tests less); then the gate opens.
	 */
	pthread_t deleter;
	UT_ASSERTeq(pthread_create(&deleter, NULL, delete_mover, dmt), 0);
	usleep(30000);
	open_gate();
	UT_ASSERTeq(pthread_join(deleter, NULL), 0);

	UT_ASSERTeq(atomic_load(&hook_calls), QUEUED);
	for (int i = 0; i < QUEUED; i++)
		UT_ASSERTeq(masync_check(dst + (size_t)i * SIZE, SIZE, 77), SIZE);
	atomic_store(&gate_armed, 0);
	free(f);
	free(src);
	free(dst);
}

/*
 * A process may exit with a live mover and queued work (the reference hashmap example does):
 * the workers must not hold exit up. Run in a child so that a hang shows as a timeout.
 */
static struct data_mover_threads *leaked_on_purpose;

static void test_exit_without_delete(void)
{
	pid_t pid = fork();
	UT_ASSERT(pid >= 0);
	if (pid == 0) {
		masync_watchdog(20);
		leaked_on_purpose = data_mover_threads_new(2, 16, FUTURE_NOTIFIER_WAKER);
		UT_ASSERTne(leaked_on_purpose, NULL);
		struct vdm *vdm = data_mover_threads_get_vdm(leaked_on_purpose);
		static char src[1 << 20], dst[8][1 << 20];
		for (int i = 0; i < 8; i++) {
			struct vdm_operation_future f =
				vdm_memcpy(vdm, dst[i], src, sizeof(src), 0);
			future_poll(FUTURE_AS_RUNNABLE(&f), NULL);
		}
		exit(0);
	}
	int status;
	UT_ASSERTeq(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		UT_FATAL("child with a live mover did not exit cleanly (status 0x%x)", status);
}

int main(void)
{
	masync_watchdog(100);
	test_creation_arguments();
	test_enqueue_on_first_poll();
	test_full_ring(2);
	test_full_ring(1);
	test_poller();
	test_waker();
	test_hooks();
	test_exited_creator();
	test_concurrency();
	test_delete();
	test_exit_without_delete();
	return 0;
}
