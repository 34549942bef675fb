/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrent writers (sync append, async append on the sync and threads movers, reserve and
 * publish) on one shared region and on one region each, with tailing readers, region
 * iteration and allocate/free churn running alongside. Afterwards, and after a reopen: every
 * entry present once and intact, timestamps gap-free from 1, position order = timestamp order.
 */

#include <pthread.h>
#include <sched.h>

#include "payload.h"
#include "stream_test.h"

enum mode { MODE_SYNC, MODE_ASYNC_SYNC_MOVER, MODE_ASYNC_THREADS_MOVER, MODE_RESERVE, MODE_MIXED };
static const char *mode_names[] = {"sync", "async/sync-mover", "async/threads-mover",
				   "reserve+publish", "mixed"};

#define NTHREADS    4
#define MAX_PAYLOAD 120
#define ASYNC_BATCH 16

struct scenario {
	enum mode mode;
	int shared_region;
	uint64_t per_thread;
};

static struct pmemstream *stream;
static struct pmemstream_region regions[NTHREADS];
static struct vdm *threads_vdm;
static struct scenario sc;
static int stop_churn;

static struct pmemstream_region region_of(int thread)
{
	return regions[sc.shared_region ? 0 : thread];
}

static int retry_busy(int ret)
{
	if (ret == -1 && errno == EBUSY) {
		sched_yield();
		return 1;
	}
	if (ret != 0)
		UT_FATAL("operation failed: %s", pmemstream_errormsg());
	return 0;
}

static void do_sync(int t, uint64_t seq, struct pmemstream_region_runtime *rt)
{
	unsigned char buf[MAX_PAYLOAD];
	size_t len = payload_make(buf, (uint32_t)t, seq, MAX_PAYLOAD);
	struct pmemstream_entry e;
	while (retry_busy(pmemstream_append(stream, region_of(t), rt, buf, len, &e)))
		;
	/* durable and visible on return */
	uint64_t ts = pmemstream_entry_timestamp(stream, e);
	UT_ASSERT(pmemstream_persisted_timestamp(stream) >= ts);
	UT_ASSERT(pmemstream_committed_timestamp(stream) >= ts);
}

static void do_reserve(int t, uint64_t seq, struct pmemstream_region_runtime *rt)
{
	unsigned char buf[MAX_PAYLOAD];
	size_t len = payload_make(buf, (uint32_t)t, seq, MAX_PAYLOAD);
	struct pmemstream_entry e;
	void *data;
	/* reserve more than needed, publish the real size */
	while (retry_busy(pmemstream_reserve(stream, region_of(t), rt, MAX_PAYLOAD, &e, &data)))
		;
	memcpy(data, buf, len);
	if (seq % 2) {
		UT_ASSERTeq(pmemstream_publish(stream, region_of(t), rt, e, len), 0);
	} else {
		UT_ASSERTeq(pmemstream_async_publish(stream, region_of(t), rt, e, len), 0);
		struct pmemstream_async_wait_fut f = pmemstream_async_wait_persisted(
			stream, pmemstream_entry_timestamp(stream, e));
		FUTURE_BUSY_POLL(&f);
	}
}

static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg;
	struct pmemstream_region_runtime *rt = NULL;
	if (t % 2 == 0)
		UT_ASSERTeq(pmemstream_region_runtime_initialize(stream, region_of(t), &rt), 0);

	enum mode mode = sc.mode;
	if (mode == MODE_MIXED)
		mode = (enum mode)(t % 4);

	if (mode == MODE_SYNC || mode == MODE_RESERVE) {
		for (uint64_t seq = 1; seq <= sc.per_thread; seq++) {
			if (mode == MODE_SYNC)
				do_sync(t, seq, rt);
			else
				do_reserve(t, seq, rt);
		}
		return NULL;
	}

	struct data_mover_sync *dms = NULL;
	struct vdm *vdm = threads_vdm;
	if (mode == MODE_ASYNC_SYNC_MOVER) {
		dms = data_mover_sync_new();
		vdm = data_mover_sync_get_vdm(dms);
	}
	struct runtime *r = runtime_new();
	static _Thread_local unsigned char bufs[ASYNC_BATCH][MAX_PAYLOAD];
	for (uint64_t seq = 1; seq <= sc.per_thread;) {
		struct pmemstream_entry e;
		int n = 0;
		for (; n < ASYNC_BATCH && seq <= sc.per_thread; n++, seq++) {
			size_t len = payload_make(bufs[n], (uint32_t)t, seq, MAX_PAYLOAD);
			while (retry_busy(pmemstream_async_append(stream, vdm, region_of(t), rt,
								  bufs[n], len, &e)))
				;
		}
		/* waiting for the last covers the whole batch */
		uint64_t ts = pmemstream_entry_timestamp(stream, e);
		struct pmemstream_async_wait_fut f = pmemstream_async_wait_persisted(stream, ts);
		runtime_wait(r, FUTURE_AS_RUNNABLE(&f));
		UT_ASSERTeq(f.output.error_code, 0);
		UT_ASSERT(pmemstream_persisted_timestamp(stream) >= ts);
	}
	runtime_delete(r);
	if (dms)
		data_mover_sync_delete(dms);
	return NULL;
}

/* Tails one region until it has seen `expected` entries, checking each as it appears. */
struct reader_arg {
	struct pmemstream_region region;
	uint64_t expected;
};

static void *reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct pmemstream_entry_iterator *it;
	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, stream, ra->region), 0);
	while (pmemstream_entry_iterator_is_valid(it) != 0) {
		pmemstream_entry_iterator_seek_first(it);
		sched_yield();
	}
	uint64_t seen = 0, last_ts = 0, last_seq[NTHREADS] = {0};
	while (seen < ra->expected) {
		/* read in this order, persisted can never be ahead of committed */
		uint64_t p = pmemstream_persisted_timestamp(stream);
		UT_ASSERT(p <= pmemstream_committed_timestamp(stream));
		if (pmemstream_entry_iterator_is_valid(it) != 0) {
			sched_yield();
			continue;
		}
		struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
		uint64_t ts = pmemstream_entry_timestamp(stream, e);
		UT_ASSERT(ts > last_ts);
		UT_ASSERT(ts <= pmemstream_committed_timestamp(stream));
		last_ts = ts;
		uint32_t lane;
		uint64_t seq;
		UT_ASSERT(payload_check(pmemstream_entry_data(stream, e),
					pmemstream_entry_size(stream, e), &lane, &seq));
		UT_ASSERT(lane < NTHREADS);
		UT_ASSERTeq(seq, last_seq[lane] + 1);
		last_seq[lane] = seq;
		seen++;
		pmemstream_entry_iterator_next(it);
	}
	pmemstream_entry_iterator_delete(&it);
	return NULL;
}

static void *churn(void *arg)
{
	(void)arg;
	struct pmemstream_region_iterator *rit;
	UT_ASSERTeq(pmemstream_region_iterator_new(&rit, stream), 0);
	uint64_t rounds = 0;
	while (!__atomic_load_n(&stop_churn, __ATOMIC_ACQUIRE)) {
		struct pmemstream_region r[3];
		for (int i = 0; i < 3; i++) {
			UT_ASSERTeq(
				pmemstream_region_allocate(stream, 100 + (size_t)i * 5000, &r[i]),
				0);
			append_u64(stream, r[i], rounds);
		}
		size_t n = 0;
		for (pmemstream_region_iterator_seek_first(rit);
		     pmemstream_region_iterator_is_valid(rit) == 0;
		     pmemstream_region_iterator_next(rit))
			n++;
		UT_ASSERT(n >= (sc.shared_region ? 1 : NTHREADS));
		for (int i = 0; i < 3; i++)
			UT_ASSERTeq(pmemstream_region_free(stream, r[(i + rounds) % 3]), 0);
		rounds++;
	}
	pmemstream_region_iterator_delete(&rit);
	return NULL;
}

static void verify(uint64_t total)
{
	uint64_t *seen = calloc(total + 1, sizeof(uint64_t));
	uint64_t count[NTHREADS] = {0};
	int nregions = sc.shared_region ? 1 : NTHREADS;
	for (int r = 0; r < nregions; r++) {
		struct pmemstream_entry_iterator *it;
		UT_ASSERTeq(pmemstream_entry_iterator_new(&it, stream, regions[r]), 0);
		uint64_t last_ts = 0, last_seq[NTHREADS] = {0};
		for (pmemstream_entry_iterator_seek_first(it);
		     pmemstream_entry_iterator_is_valid(it) == 0;
		     pmemstream_entry_iterator_next(it)) {
			struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
			uint64_t ts = pmemstream_entry_timestamp(stream, e);
			UT_ASSERT(ts > last_ts && ts <= total);
			last_ts = ts;
			UT_ASSERTeq(seen[ts], 0);
			seen[ts] = 1;
			uint32_t lane;
			uint64_t seq;
			UT_ASSERT(payload_check(pmemstream_entry_data(stream, e),
						pmemstream_entry_size(stream, e), &lane, &seq));
			UT_ASSERT(sc.shared_region || lane == (uint32_t)r);
			UT_ASSERTeq(seq, last_seq[lane] + 1);
			last_seq[lane] = seq;
			count[lane]++;
		}
		pmemstream_entry_iterator_delete(&it);
	}
	for (int t = 0; t < NTHREADS; t++)
		UT_ASSERTeq(count[t], sc.per_thread);
	free(seen);
}

static void run(struct scenario s_, int with_churn)
{
	sc = s_;
	struct test_map tm;
	tm_create(&tm, "concurrency", 32 * MiB);
	stream = tm_stream(&tm, 4096);
	size_t region_size = (sc.shared_region ? NTHREADS : 1) * sc.per_thread * (MAX_PAYLOAD + 24);
	for (int i = 0; i < (sc.shared_region ? 1 : NTHREADS); i++)
		regions[i] = alloc_region(stream, region_size);

	pthread_t w[NTHREADS], rd[NTHREADS], ch;
	struct reader_arg ra[NTHREADS];
	int nreaders = sc.shared_region ? 1 : NTHREADS;
	for (int i = 0; i < nreaders; i++) {
		ra[i].region = regions[i];
		ra[i].expected = sc.shared_region ? NTHREADS * sc.per_thread : sc.per_thread;
		pthread_create(&rd[i], NULL, reader, &ra[i]);
	}
	stop_churn = 0;
	if (with_churn)
		pthread_create(&ch, NULL, churn, NULL);
	for (int t = 0; t < NTHREADS; t++)
		pthread_create(&w[t], NULL, writer, (void *)(intptr_t)t);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(w[t], NULL);
	for (int i = 0; i < nreaders; i++)
		pthread_join(rd[i], NULL);
	__atomic_store_n(&stop_churn, 1, __ATOMIC_RELEASE);
	if (with_churn)
		pthread_join(ch, NULL);

	uint64_t total = pmemstream_committed_timestamp(stream);
	UT_ASSERTeq(pmemstream_persisted_timestamp(stream), total);
	if (!with_churn)
		UT_ASSERTeq(total, NTHREADS * sc.per_thread);
	sc.per_thread = sc.per_thread; /* churn entries live in freed regions */
	verify(total);
	pmemstream_delete(&stream);

	tm_reopen(&tm);
	stream = tm_stream(&tm, 4096);
	UT_ASSERTeq(pmemstream_committed_timestamp(stream), total);
	verify(total);
	pmemstream_delete(&stream);
	tm_destroy(&tm);
	printf("%-22s %-8s churn=%d: %" PRIu64 " entries ok\n", mode_names[sc.mode],
	       sc.shared_region ? "shared" : "own", with_churn, total);
}

int main(int argc, char *argv[])
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (int shared = 1; shared >= 0; shared--) {
		for (int m = MODE_SYNC; m <= MODE_MIXED; m++) {
			/* worker threads only where they are used (they spin while idle) */
			struct data_mover_threads *dmt = NULL;
			if (m == MODE_ASYNC_THREADS_MOVER || m == MODE_MIXED) {
				dmt = data_mover_threads_new(2, 256, FUTURE_NOTIFIER_WAKER);
				UT_ASSERT(dmt != NULL);
				threads_vdm = data_mover_threads_get_vdm(dmt);
			}
			struct scenario s = {(enum mode)m, shared, n};
			run(s, m == MODE_MIXED);
			if (dmt != NULL)
				data_mover_threads_delete(dmt);
		}
	}
	return 0;
}
