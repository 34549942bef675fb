/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asynchronous appends and wait futures: many operations queued before anything is polled
 * (beyond the movers' operation pools, so the CPU-copy fallback runs too), waker
 * notification, abandoned futures, a full mover ring, and delete with work outstanding.
 */

#include <pthread.h>

#include "payload.h"
#include "stream_test.h"

static struct test_map tm;

static void check_region(struct pmemstream *s, struct pmemstream_region r, uint64_t n)
{
	struct pmemstream_entry_iterator *it;
	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r), 0);
	uint64_t expect = 1, last_ts = 0;
	for (pmemstream_entry_iterator_seek_first(it); pmemstream_entry_iterator_is_valid(it) == 0;
	     pmemstream_entry_iterator_next(it), expect++) {
		struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
		uint32_t lane;
		uint64_t seq, ts = pmemstream_entry_timestamp(s, e);
		UT_ASSERT(ts > last_ts);
		last_ts = ts;
		UT_ASSERT(payload_check(pmemstream_entry_data(s, e), pmemstream_entry_size(s, e),
					&lane, &seq));
		UT_ASSERTeq(seq, expect);
	}
	UT_ASSERTeq(expect - 1, n);
	pmemstream_entry_iterator_delete(&it);
}

/* n appends started before a single poll, then one wait for the last. */
static void test_many_in_flight(struct vdm *vdm, uint64_t n, int use_runtime)
{
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, n * 64 + 4096);
	unsigned char(*bufs)[48] = malloc(n * 48);
	uint64_t base = pmemstream_committed_timestamp(s);
	struct pmemstream_entry e;
	for (uint64_t i = 0; i < n; i++) {
		size_t len = payload_make(bufs[i], 0, i + 1, 48);
		UT_ASSERTeq(pmemstream_async_append(s, vdm, r, NULL, bufs[i], len, &e), 0);
		UT_ASSERTeq(pmemstream_entry_timestamp(s, e), base + i + 1);
	}
	UT_ASSERT(pmemstream_committed_timestamp(s) < base + n);
	struct pmemstream_async_wait_fut f = pmemstream_async_wait_persisted(s, base + n);
	if (use_runtime) {
		struct runtime *rt = runtime_new();
		runtime_wait(rt, FUTURE_AS_RUNNABLE(&f));
		runtime_delete(rt);
	} else {
		FUTURE_BUSY_POLL(&f);
	}
	UT_ASSERTeq(f.output.error_code, 0);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), base + n);
	UT_ASSERTeq(pmemstream_persisted_timestamp(s), base + n);
	check_region(s, r, n);
	UT_ASSERTeq(pmemstream_region_free(s, r), 0);
	pmemstream_delete(&s);
	free(bufs);
}

struct wake_probe {
	int woken;
};

static void probe_wake(void *data)
{
	struct wake_probe *p = data;
	__atomic_add_fetch(&p->woken, 1, __ATOMIC_SEQ_CST);
}

static void test_waker(void)
{
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, 4096);
	uint64_t next = pmemstream_committed_timestamp(s) + 1;

	struct wake_probe probe = {0};
	struct future_notifier n;
	memset(&n, 0, sizeof(n));
	n.waker.data = &probe;
	n.waker.wake = probe_wake;
	n.notifier_used = (enum future_notifier_type)77; /* runtimes pass garbage */

	struct pmemstream_async_wait_fut committed = pmemstream_async_wait_committed(s, next);
	struct pmemstream_async_wait_fut persisted = pmemstream_async_wait_persisted(s, next);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&committed), &n), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
	n.notifier_used = (enum future_notifier_type)77;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&persisted), &n), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
	/* futures are values: a moved copy keeps its registration */
	struct pmemstream_async_wait_fut moved = persisted;
	memset(&persisted, 0, sizeof(persisted));
	UT_ASSERTeq(probe.woken, 0);

	append_u64(s, r, 1);
	UT_ASSERTeq(__atomic_load_n(&probe.woken, __ATOMIC_SEQ_CST), 2);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&committed), &n), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&moved), &n), FUTURE_STATE_COMPLETE);
	/* once complete, never woken again */
	append_u64(s, r, 2);
	UT_ASSERTeq(__atomic_load_n(&probe.woken, __ATOMIC_SEQ_CST), 2);

	/* a publish that fills the hole the waiter waits behind wakes it as well */
	struct pmemstream_entry e;
	void *data;
	UT_ASSERTeq(pmemstream_reserve(s, r, NULL, 8, &e, &data), 0);
	next = pmemstream_committed_timestamp(s) + 1;
	struct pmemstream_async_wait_fut f = pmemstream_async_wait_committed(s, next);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_RUNNING);
	memset(data, 0, 8);
	UT_ASSERTeq(pmemstream_async_publish(s, r, NULL, e, 8), 0);
	UT_ASSERTeq(__atomic_load_n(&probe.woken, __ATOMIC_SEQ_CST), 3);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_COMPLETE);

	/* an abandoned future (polled once, then dropped) stalls nobody */
	append_u64(s, r, 3);
	next = pmemstream_committed_timestamp(s) + 1;
	struct pmemstream_async_wait_fut abandoned = pmemstream_async_wait_persisted(s, next);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&abandoned), &n), FUTURE_STATE_RUNNING);
	struct data_mover_sync *dms = data_mover_sync_new();
	UT_ASSERTeq(pmemstream_async_append(s, data_mover_sync_get_vdm(dms), r, NULL, &next, 8, &e),
		    0);
	f = pmemstream_async_wait_persisted(s, next);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(pmemstream_persisted_timestamp(s), next);
	data_mover_sync_delete(dms);
	pmemstream_delete(&s);
}

/* A threads mover woken runtime: the waiting thread sleeps instead of spinning. */
static void test_runtime_with_threads_mover(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 2, FUTURE_NOTIFIER_WAKER);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, 1 * MiB);
	struct runtime *rt = runtime_new();
	static unsigned char bufs[64][PAYLOAD_MAX];
	uint64_t seq = 0;
	for (int round = 0; round < 50; round++) {
		struct pmemstream_entry e;
		/* more than the ring holds: some copies start only when the committer retries */
		for (int i = 0; i < 64; i++) {
			seq++;
			size_t len = payload_make(bufs[i], 0, seq, PAYLOAD_MAX);
			UT_ASSERTeq(pmemstream_async_append(s, vdm, r, NULL, bufs[i], len, &e), 0);
		}
		struct pmemstream_async_wait_fut f[2] = {
			pmemstream_async_wait_committed(s, pmemstream_entry_timestamp(s, e)),
			pmemstream_async_wait_persisted(s, pmemstream_entry_timestamp(s, e))};
		struct future *futs[2] = {FUTURE_AS_RUNNABLE(&f[0]), FUTURE_AS_RUNNABLE(&f[1])};
		runtime_wait_multiple(rt, futs, 2);
		UT_ASSERTeq(f[0].output.error_code, 0);
		UT_ASSERTeq(f[1].output.error_code, 0);
	}
	check_region(s, r, seq);
	runtime_delete(rt);
	pmemstream_delete(&s);
	data_mover_threads_delete(dmt);
}

/* delete drives outstanding work to durability; reopen finds everything */
static void test_delete_with_work_outstanding(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 1024, FUTURE_NOTIFIER_NONE);
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, 1 * MiB);
	static unsigned char bufs[1000][100];
	for (uint64_t i = 0; i < 1000; i++) {
		size_t len = payload_make(bufs[i], 0, i + 1, 100);
		UT_ASSERTeq(pmemstream_async_append(s, vdm, r, NULL, bufs[i], len, NULL), 0);
	}
	uint64_t last = pmemstream_committed_timestamp(s);
	(void)last;
	pmemstream_delete(&s);
	tm_reopen(&tm);
	s = tm_stream(&tm, 4096);
	check_region(s, r, 1000);
	/* and a region with async work pending can be freed (the free waits for it) */
	for (uint64_t i = 0; i < 100; i++) {
		size_t len = payload_make(bufs[i], 0, 1001 + i, 100);
		UT_ASSERTeq(pmemstream_async_append(s, vdm, r, NULL, bufs[i], len, NULL), 0);
	}
	UT_ASSERTeq(pmemstream_region_free(s, r), 0);
	pmemstream_delete(&s);
	data_mover_threads_delete(dmt);
}

/* Waiting from another thread than the appender, with sync appends racing. */
struct racer {
	struct pmemstream *s;
	struct pmemstream_region r;
	uint64_t n;
};

static void *sync_appender(void *arg)
{
	struct racer *rc = arg;
	for (uint64_t i = 0; i < rc->n; i++)
		append_u64(rc->s, rc->r, i);
	return NULL;
}

static void test_waiters_across_threads(void)
{
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct racer rc = {s, alloc_region(s, 1 * MiB), 3000};
	uint64_t base = pmemstream_committed_timestamp(s);
	pthread_t t;
	pthread_create(&t, NULL, sync_appender, &rc);
	struct runtime *rt = runtime_new();
	for (uint64_t target = base + 1; target <= base + rc.n; target += 97) {
		struct pmemstream_async_wait_fut f = pmemstream_async_wait_committed(s, target);
		runtime_wait(rt, FUTURE_AS_RUNNABLE(&f));
		UT_ASSERT(pmemstream_committed_timestamp(s) >= target);
	}
	runtime_delete(rt);
	pthread_join(t, NULL);
	pmemstream_delete(&s);
}

int main(int argc, char *argv[])
{
	uint64_t many = argc > 1 ? strtoull(argv[1], NULL, 10) : 70000;
	tm_create(&tm, "async", 64 * MiB);

	struct data_mover_sync *dms = data_mover_sync_new();
	test_many_in_flight(data_mover_sync_get_vdm(dms), many, 0);
	data_mover_sync_delete(dms);
	struct data_mover_threads *dmt = data_mover_threads_new(2, 1024, FUTURE_NOTIFIER_WAKER);
	test_many_in_flight(data_mover_threads_get_vdm(dmt), many, 1);
	test_many_in_flight(data_mover_threads_get_vdm(dmt), 3000, 0);
	data_mover_threads_delete(dmt);

	test_waker();
	test_runtime_with_threads_mover();
	test_delete_with_work_outstanding();
	test_waiters_across_threads();
	tm_destroy(&tm);
	return 0;
}
