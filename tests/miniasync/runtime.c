// SPDX-License-Identifier: BSD-3-Clause
/*
 * runtime_wait / runtime_wait_multiple (spec 4): already-complete futures, NULL has_property,
 * mixes of plain, sync and threads futures, wakers, futures that never wake anyone, the
 * notifier the runtime hands out, and deleting the runtime right after a wait. A watchdog
 * turns any hang into a failure.
 */

#include "masync_test.h"

struct empty_data {
	uint64_t unused;
};
FUTURE(done_fut, struct empty_data, struct empty_data);

static void test_already_complete(struct runtime *rt, struct vdm *sync_vdm, struct vdm *thr_vdm)
{
	struct done_fut d;
	FUTURE_INIT_COMPLETE(&d);
	runtime_wait(rt, FUTURE_AS_RUNNABLE(&d));

	/* as reference-built futures carry it */
	d.base.has_property = NULL;
	runtime_wait(rt, FUTURE_AS_RUNNABLE(&d));

	char src[32] = "busy polled first", dst[32];
	struct vdm_operation_future s = vdm_memcpy(sync_vdm, dst, src, sizeof(src), 0);
	FUTURE_BUSY_POLL(&s);
	runtime_wait(rt, FUTURE_AS_RUNNABLE(&s));

	struct vdm_operation_future t = vdm_memcpy(thr_vdm, dst, src, sizeof(src), 0);
	FUTURE_BUSY_POLL(&t);
	runtime_wait(rt, FUTURE_AS_RUNNABLE(&t));
	UT_ASSERTeq(strcmp(dst, src), 0);

	struct future *all[] = {FUTURE_AS_RUNNABLE(&d), FUTURE_AS_RUNNABLE(&s),
				FUTURE_AS_RUNNABLE(&t)};
	runtime_wait_multiple(rt, all, 3);

	runtime_wait_multiple(rt, all, 0);
	runtime_wait_multiple(rt, NULL, 0);
}

/*
 * A future that checks the notifier the runtime hands to every poll (spec 4.1): a waker
 * owned by the runtime, no poller, notifier_used reset to NONE before each poll.
 */
struct strict_data {
	int polls;
	int target;
	int claim_waker;
	int poller_untouched; /* nothing else in the wait writes ptr_to_monitor */
};
struct strict_output {
	int done;
};
FUTURE(strict_fut, struct strict_data, struct strict_output);

static enum future_state strict_task(struct future_context *ctx, struct future_notifier *n)
{
	struct strict_data *d = future_context_get_data(ctx);
	UT_ASSERTne(n, NULL);
	UT_ASSERTeq(n->notifier_used, FUTURE_NOTIFIER_NONE);
	if (d->poller_untouched)
		UT_ASSERTeq(n->poller.ptr_to_monitor, NULL);
	UT_ASSERTne(n->waker.wake, NULL);
	if (d->claim_waker) {
		/* claims a waker but never wakes: the runtime must still come back */
		n->notifier_used = FUTURE_NOTIFIER_WAKER;
	} else {
		/* claims a poller without giving a word to monitor */
		n->notifier_used = FUTURE_NOTIFIER_POLLER;
	}
	if (++d->polls < d->target)
		return FUTURE_STATE_RUNNING;
	((struct strict_output *)future_context_get_output(ctx))->done = 1;
	return FUTURE_STATE_COMPLETE;
}

static struct strict_fut strict(int target, int claim_waker)
{
	struct strict_fut f;
	FUTURE_INIT(&f, strict_task);
	f.data.polls = 0;
	f.data.target = target;
	f.data.claim_waker = claim_waker;
	f.data.poller_untouched = 0;
	f.output.done = 0;
	return f;
}

/* Completes once another thread sets the flag; wakes through the saved waker if asked to. */
struct event {
	atomic_int ready;
	atomic_int registered;
	struct future_waker waker;
	int use_waker;
	pthread_mutex_t lock;
};

struct event_data {
	struct event *ev;
};
FUTURE(event_fut, struct event_data, struct strict_output);

static enum future_state event_task(struct future_context *ctx, struct future_notifier *n)
{
	struct event *ev = ((struct event_data *)future_context_get_data(ctx))->ev;
	if (atomic_load(&ev->ready)) {
		((struct strict_output *)future_context_get_output(ctx))->done = 1;
		return FUTURE_STATE_COMPLETE;
	}
	if (n != NULL) {
		if (ev->use_waker) {
			pthread_mutex_lock(&ev->lock);
			ev->waker = n->waker;
			pthread_mutex_unlock(&ev->lock);
			n->notifier_used = FUTURE_NOTIFIER_WAKER;
		} else {
			n->notifier_used = FUTURE_NOTIFIER_NONE;
		}
	}
	atomic_store(&ev->registered, 1);
	return FUTURE_STATE_RUNNING;
}

static void *fire_event(void *arg)
{
	struct event *ev = arg;
	while (!atomic_load(&ev->registered))
		sched_yield();
	/* let the runtime run out of spinning and sleep before the event arrives */
	usleep(20000);
	atomic_store(&ev->ready, 1);
	if (ev->use_waker) {
		pthread_mutex_lock(&ev->lock);
		struct future_waker w = ev->waker;
		pthread_mutex_unlock(&ev->lock);
		FUTURE_WAKER_WAKE(&w);
	}
	return NULL;
}

static void test_external_events(struct runtime *rt)
{
	for (int use_waker = 0; use_waker < 2; use_waker++) {
		struct event ev;
		atomic_init(&ev.ready, 0);
		atomic_init(&ev.registered, 0);
		ev.use_waker = use_waker;
		memset(&ev.waker, 0, sizeof(ev.waker));
		pthread_mutex_init(&ev.lock, NULL);
		struct event_fut f;
		FUTURE_INIT(&f, event_task);
		f.data.ev = &ev;
		f.output.done = 0;
		pthread_t t;
		UT_ASSERTeq(pthread_create(&t, NULL, fire_event, &ev), 0);
		runtime_wait(rt, FUTURE_AS_RUNNABLE(&f));
		UT_ASSERTeq(f.output.done, 1);
		UT_ASSERTeq(pthread_join(t, NULL), 0);
		pthread_mutex_destroy(&ev.lock);
	}
}

static void test_notifier_contract(struct runtime *rt)
{
	struct strict_fut a = strict(50, 1), b = strict(3000, 0), c = strict(1, 1);
	a.data.poller_untouched = b.data.poller_untouched = c.data.poller_untouched = 1;
	struct future *futs[] = {FUTURE_AS_RUNNABLE(&a), FUTURE_AS_RUNNABLE(&b),
				 FUTURE_AS_RUNNABLE(&c)};
	runtime_wait_multiple(rt, futs, 3);
	UT_ASSERT(a.output.done && b.output.done && c.output.done);
	UT_ASSERTeq(a.data.polls, 50);
	UT_ASSERTeq(b.data.polls, 3000);
	UT_ASSERTeq(c.data.polls, 1);
}

/* A chain: sync copy, then a threads copy of the result, then the chain output. */
struct relay_data {
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, first);
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, second);
};
struct relay_output {
	void *final_dest;
};
FUTURE(relay_fut, struct relay_data, struct relay_output);

static void relay_map(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	struct vdm_operation_output *o = future_context_get_output(lhs);
	struct vdm_operation_data *next = future_context_get_data(rhs);
	UT_ASSERTeq(o->result, VDM_SUCCESS);
	next->operation.data.memcpy.src = o->output.memcpy.dest;
}

static void relay_out(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	struct vdm_operation_output *o = future_context_get_output(lhs);
	((struct relay_output *)future_context_get_output(rhs))->final_dest = o->output.memcpy.dest;
}

static struct relay_fut relay(struct vdm *a, struct vdm *b, void *dst1, void *dst2, void *src,
			      size_t n)
{
	struct relay_fut f;
	f.output.final_dest = NULL;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.first, vdm_memcpy(a, dst1, src, n, 0), relay_map, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.second, vdm_memcpy(b, dst2, NULL, n, 0), relay_out, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

static void test_mixed(struct runtime *rt, struct vdm *sync_vdm, struct vdm *waker_vdm,
		       struct vdm *poller_vdm)
{
	enum { N = 64 * 1024 };
	uint8_t *src = masync_malloc(N), *d[6];
	for (int i = 0; i < 6; i++) {
		d[i] = masync_malloc(N);
		memset(d[i], 0, N);
	}
	masync_fill(src, N, 5);

	for (int round = 0; round < 20; round++) {
		struct done_fut complete_null;
		FUTURE_INIT_COMPLETE(&complete_null);
		complete_null.base.has_property = NULL;

		struct strict_fut plain_null = strict(7, 0);
		plain_null.base.has_property = NULL;

		struct vdm_operation_future sync_op = vdm_memcpy(sync_vdm, d[0], src, N, 0);
		struct vdm_operation_future waker_op = vdm_memcpy(waker_vdm, d[1], src, N, 0);
		struct vdm_operation_future poller_op = vdm_memset(poller_vdm, d[2], round, N, 0);
		struct vdm_operation_future done_op = vdm_memcpy(waker_vdm, d[3], src, N, 0);
		FUTURE_BUSY_POLL(&done_op);
		struct relay_fut chain = relay(sync_vdm, waker_vdm, d[4], d[5], src, N);

		struct future *futs[] = {
			FUTURE_AS_RUNNABLE(&complete_null), FUTURE_AS_RUNNABLE(&sync_op),
			FUTURE_AS_RUNNABLE(&plain_null),    FUTURE_AS_RUNNABLE(&waker_op),
			FUTURE_AS_RUNNABLE(&poller_op),	    FUTURE_AS_RUNNABLE(&done_op),
			FUTURE_AS_RUNNABLE(&chain),
		};
		size_t nfuts = sizeof(futs) / sizeof(futs[0]);
		/* rotate the starting order so that every kind sits first sometimes */
		struct future *rotated[sizeof(futs) / sizeof(futs[0])];
		for (size_t i = 0; i < nfuts; i++)
			rotated[i] = futs[(i + (size_t)round) % nfuts];
		runtime_wait_multiple(rt, rotated, nfuts);

		for (size_t i = 0; i < nfuts; i++)
			UT_ASSERTeq(futs[i]->context.state, FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(plain_null.output.done, 1);
		UT_ASSERTeq(sync_op.output.result, VDM_SUCCESS);
		UT_ASSERTeq(waker_op.output.result, VDM_SUCCESS);
		UT_ASSERTeq(poller_op.output.result, VDM_SUCCESS);
		UT_ASSERTeq(chain.output.final_dest, d[5]);
		for (int i = 0; i < 6; i++) {
			if (i == 2)
				UT_ASSERTeq(masync_check_byte(d[i], N, (uint8_t)round), N);
			else
				UT_ASSERTeq(masync_check(d[i], N, 5), N);
			memset(d[i], 0, N);
		}
	}
	for (int i = 0; i < 6; i++)
		free(d[i]);
	free(src);
}

/*
 * The runtime's wake channel must not be touched once runtime_wait returned: delete it at
 * once, many times, while workers may still be finishing (spec 5.3.3).
 */
static void test_delete_right_after_wait(struct vdm *waker_vdm)
{
	enum { N = 256 * 1024 };
	uint8_t *buf = masync_malloc(N + 4096);
	masync_fill(buf, N, 3);
	for (int i = 0; i < 200; i++) {
		struct runtime *rt = runtime_new();
		UT_ASSERTne(rt, NULL);
		struct vdm_operation_future f = vdm_memmove(waker_vdm, buf + 4096, buf, N, 0);
		runtime_wait(rt, FUTURE_AS_RUNNABLE(&f));
		runtime_delete(rt);
		UT_ASSERTeq(f.output.result, VDM_SUCCESS);
		memmove(buf, buf + 4096, N);
	}
	UT_ASSERTeq(masync_check(buf, N, 3), N);
	free(buf);
}

/* Two threads waiting on one runtime at the same time. */
struct shared_waiter {
	struct runtime *rt;
	struct vdm *vdm;
	unsigned seed;
};

static void *shared_wait(void *arg)
{
	struct shared_waiter *w = arg;
	enum { N = 32 * 1024, K = 16 };
	uint8_t *src = masync_malloc(N), *dst = masync_malloc((size_t)N * K);
	masync_fill(src, N, w->seed);
	for (int round = 0; round < 20; round++) {
		struct vdm_operation_future f[K];
		struct future *futs[K];
		memset(dst, 0, (size_t)N * K);
		for (int i = 0; i < K; i++) {
			f[i] = vdm_memcpy(w->vdm, dst + (size_t)i * N, src, N, 0);
			futs[i] = FUTURE_AS_RUNNABLE(&f[i]);
		}
		runtime_wait_multiple(w->rt, futs, K);
		for (int i = 0; i < K; i++)
			UT_ASSERTeq(masync_check(dst + (size_t)i * N, N, w->seed), N);
	}
	free(src);
	free(dst);
	return NULL;
}

static void test_shared_runtime(struct runtime *rt, struct vdm *vdm)
{
	struct shared_waiter w[2] = {{rt, vdm, 1}, {rt, vdm, 2}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		UT_ASSERTeq(pthread_create(&t[i], NULL, shared_wait, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		UT_ASSERTeq(pthread_join(t[i], NULL), 0);
}

int main(void)
{
	masync_watchdog(60);
	runtime_delete(NULL);

	struct runtime *rt = runtime_new();
	UT_ASSERTne(rt, NULL);
	struct data_mover_sync *dms = data_mover_sync_new();
	struct data_mover_threads *waker = data_mover_threads_new(2, 32, FUTURE_NOTIFIER_WAKER);
	struct data_mover_threads *poller = data_mover_threads_new(1, 8, FUTURE_NOTIFIER_POLLER);
	UT_ASSERTne(dms, NULL);
	UT_ASSERTne(waker, NULL);
	UT_ASSERTne(poller, NULL);
	struct vdm *sync_vdm = data_mover_sync_get_vdm(dms);
	struct vdm *waker_vdm = data_mover_threads_get_vdm(waker);
	struct vdm *poller_vdm = data_mover_threads_get_vdm(poller);

	test_already_complete(rt, sync_vdm, waker_vdm);
	test_notifier_contract(rt);
	test_external_events(rt);
	test_mixed(rt, sync_vdm, waker_vdm, poller_vdm);
	test_delete_right_after_wait(waker_vdm);
	test_shared_runtime(rt, waker_vdm);

	runtime_delete(rt);
	data_mover_threads_delete(poller);
	data_mover_threads_delete(waker);
	data_mover_sync_delete(dms);
	return 0;
}
