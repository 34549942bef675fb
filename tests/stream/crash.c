/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash consistency of libpmemstream under the crash-state explorer (tests/crash): at every
 * persistence action of a workload, images of what may be durable at that moment (only
 * flushed-and-drained lines, plus random subsets of the other changed words) are opened by a
 * fresh process, which checks:
 * - the stream opens once its creation returned (before that it may be absent);
 * - every visible entry is intact and is one whose append began, with timestamps increasing
 *   along each region and covered by the persisted timestamp;
 * - every append that returned (for async: whose wait returned) is visible, and each
 *   writer's visible entries form a gap-free prefix;
 * - allocated regions are there and freed ones are gone (either way while in progress);
 * - after recovery every region accepts an append, and a second open sees the same entries.
 *
 * Writers ("lanes") are bound to one region each; marks: "B a <lane> <seq> <len> <region>",
 * "E a <lane> <seq>", "B alloc", "E alloc <offset>", "B free <offset>", "E free <offset>".
 */

#include <pthread.h>

#include "crashx.h"
#include "payload.h"
#include "stream_test.h"

#define BLK	   4096
#define MAP_SIZE   (16 * BLK)
#define LANES	   8
#define MAXSEQ	   128
#define CHECK_LANE 7 /* entries the checker itself appends */

static struct pmemstream *open_stream(struct pmem2_map *map)
{
	struct pmemstream *s = NULL;
	if (pmemstream_from_map(&s, BLK, map) != 0)
		return NULL;
	return s;
}

/* ---- workloads -------------------------------------------------------------------------- */

static struct pmemstream *create(const char *path, struct pmem2_map **map)
{
	*map = crashx_map_file(path, MAP_SIZE);
	UT_ASSERT(*map != NULL);
	crashx_mark("B create");
	struct pmemstream *s = open_stream(*map);
	UT_ASSERT(s != NULL);
	crashx_mark("E create");
	return s;
}

static struct pmemstream_region do_alloc(struct pmemstream *s, size_t size)
{
	crashx_mark("B alloc");
	struct pmemstream_region r = alloc_region(s, size);
	crashx_mark("E alloc %" PRIu64, r.offset);
	return r;
}

static void do_free(struct pmemstream *s, struct pmemstream_region r)
{
	crashx_mark("B free %" PRIu64, r.offset);
	UT_ASSERTeq(pmemstream_region_free(s, r), 0);
	crashx_mark("E free %" PRIu64, r.offset);
}

static void do_append(struct pmemstream *s, struct pmemstream_region r, int lane, uint64_t seq,
		      size_t len)
{
	unsigned char buf[BLK];
	payload_make_len(buf, (uint32_t)lane, seq, len);
	crashx_mark("B a %d %" PRIu64 " %zu %" PRIu64, lane, seq, len, r.offset);
	UT_ASSERTeq(pmemstream_append(s, r, NULL, buf, len, NULL), 0);
	crashx_mark("E a %d %" PRIu64, lane, seq);
}

static void do_reserve_publish(struct pmemstream *s, struct pmemstream_region r, int lane,
			       uint64_t seq, size_t reserve, size_t len, int async)
{
	struct pmemstream_entry e;
	void *data;
	UT_ASSERTeq(pmemstream_reserve(s, r, NULL, reserve, &e, &data), 0);
	payload_make_len(data, (uint32_t)lane, seq, len);
	crashx_mark("B a %d %" PRIu64 " %zu %" PRIu64, lane, seq, len, r.offset);
	if (async) {
		UT_ASSERTeq(pmemstream_async_publish(s, r, NULL, e, len), 0);
		struct pmemstream_async_wait_fut f =
			pmemstream_async_wait_persisted(s, pmemstream_entry_timestamp(s, e));
		FUTURE_BUSY_POLL(&f);
	} else {
		UT_ASSERTeq(pmemstream_publish(s, r, NULL, e, len), 0);
	}
	crashx_mark("E a %d %" PRIu64, lane, seq);
}

/* sync appends of varied sizes, reserve/publish with other sizes, exact fill, free, reuse */
static int run_append(const char *path)
{
	struct pmem2_map *map;
	struct pmemstream *s = create(path, &map);
	struct pmemstream_region r0 = do_alloc(s, BLK - 64);
	struct pmemstream_region r1 = do_alloc(s, 2 * BLK - 64);

	uint64_t seq0 = 0;
	static const size_t lens[] = {24, 40, 57, 100, 33, 200, 64, 31};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		do_append(s, r0, 0, ++seq0, lens[i]);
	do_reserve_publish(s, r1, 1, 1, 100, 40, 0);
	do_reserve_publish(s, r1, 1, 2, 24, 80, 1);
	do_append(s, r1, 1, 3, 1000);
	/* streamed entries behind one of the same thread: written as whole lines */
	do_append(s, r1, 1, 4, 300);
	do_append(s, r1, 1, 5, 777);
	/* fill r0 exactly: nothing may be written past its end (r1's header is there) */
	size_t left = pmemstream_region_usable_size(s, r0);
	do_append(s, r0, 0, ++seq0, left - 16 - 200);
	left = pmemstream_region_usable_size(s, r0);
	do_append(s, r0, 0, ++seq0, left - 16);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r0), 0);
	do_append(s, r1, 1, 6, 50);

	/* free and reallocate (LIFO: same offset), a new writer there */
	do_free(s, r0);
	struct pmemstream_region r2 = do_alloc(s, BLK - 64);
	UT_ASSERTeq(r2.offset, r0.offset);
	for (uint64_t q = 1; q <= 4; q++)
		do_append(s, r2, 2, q, 24 + q * 13);
	struct pmemstream_region r3 = do_alloc(s, 1);
	do_append(s, r3, 3, 1, 30);
	do_free(s, r1);
	do_append(s, r3, 3, 2, 30);
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	return 0;
}

/* async appends in batches through the sync mover, one wait per batch */
static int run_async(const char *path)
{
	struct pmem2_map *map;
	struct pmemstream *s = create(path, &map);
	struct data_mover_sync *dms = data_mover_sync_new();
	struct vdm *vdm = data_mover_sync_get_vdm(dms);
	struct pmemstream_region r[2] = {do_alloc(s, BLK - 64), do_alloc(s, BLK - 64)};
	static unsigned char bufs[8][PAYLOAD_MAX];
	uint64_t seq[2] = {0, 0};

	for (int batch = 0; batch < 4; batch++) {
		struct pmemstream_entry e;
		uint64_t first[2] = {seq[0] + 1, seq[1] + 1};
		for (int i = 0; i < 6; i++) {
			int lane = i % 2;
			uint64_t q = ++seq[lane];
			size_t len = payload_make(bufs[i], (uint32_t)lane, q, 90);
			crashx_mark("B a %d %" PRIu64 " %zu %" PRIu64, lane, q, len,
				    r[lane].offset);
			UT_ASSERTeq(
				pmemstream_async_append(s, vdm, r[lane], NULL, bufs[i], len, &e),
				0);
		}
		struct pmemstream_async_wait_fut f =
			pmemstream_async_wait_persisted(s, pmemstream_entry_timestamp(s, e));
		FUTURE_BUSY_POLL(&f);
		for (int lane = 0; lane < 2; lane++)
			for (uint64_t q = first[lane]; q <= seq[lane]; q++)
				crashx_mark("E a %d %" PRIu64, lane, q);
	}
	data_mover_sync_delete(dms);
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	return 0;
}

/* two threads appending to one region, a third to its own */
static struct pmemstream *shared_stream;
static struct pmemstream_region shared_regions[2];

static void *appender(void *arg)
{
	int lane = (int)(intptr_t)arg;
	struct pmemstream_region r = shared_regions[lane == 2];
	for (uint64_t q = 1; q <= 8; q++)
		do_append(shared_stream, r, lane, q, payload_len((uint32_t)lane, q, 120));
	return NULL;
}

static int run_threads(const char *path)
{
	struct pmem2_map *map;
	shared_stream = create(path, &map);
	shared_regions[0] = do_alloc(shared_stream, 2 * BLK - 64);
	shared_regions[1] = do_alloc(shared_stream, BLK - 64);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, appender, (void *)(intptr_t)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	pmemstream_delete(&shared_stream);
	crashx_unmap_file(map);
	return 0;
}

/* appends, close, reopen (recovery and write-open are explored too), more appends */
static int run_reopen(const char *path)
{
	struct pmem2_map *map;
	struct pmemstream *s = create(path, &map);
	struct pmemstream_region r0 = do_alloc(s, BLK - 64);
	struct pmemstream_region r1 = do_alloc(s, BLK - 64);
	for (uint64_t q = 1; q <= 3; q++) {
		do_append(s, r0, 0, q, 40);
		do_append(s, r1, 1, q, 70);
	}
	pmemstream_delete(&s);
	crashx_unmap_file(map);

	map = crashx_map_file(path, 0);
	UT_ASSERT(map != NULL);
	s = open_stream(map);
	UT_ASSERT(s != NULL);
	for (uint64_t q = 4; q <= 6; q++)
		do_append(s, r1, 1, q, 48);
	do_append(s, r0, 0, 4, 40);
	do_free(s, r0);
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	return 0;
}

/* ---- the checker ------------------------------------------------------------------------ */

enum { R_UNKNOWN, R_ALLOCATED, R_TRANSITION, R_FREED };

struct expect {
	int created;
	int alloc_pending;
	size_t began_len[LANES][MAXSEQ + 1]; /* 0: never began */
	int done[LANES][MAXSEQ + 1];
	uint64_t lane_region[LANES];
	int lane_dead[LANES]; /* its region was (being) freed */
	uint64_t region_off[32];
	int region_state[32];
	int nregions;
};

static int *region_state(struct expect *x, uint64_t off)
{
	for (int i = 0; i < x->nregions; i++)
		if (x->region_off[i] == off)
			return &x->region_state[i];
	UT_ASSERT(x->nregions < 32);
	x->region_off[x->nregions] = off;
	x->region_state[x->nregions] = R_UNKNOWN;
	return &x->region_state[x->nregions++];
}

static void parse(const struct crashx_log *log, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < log->n; i++) {
		const char *l = log->lines[i];
		int lane;
		uint64_t seq, off;
		size_t len;
		if (strcmp(l, "E create") == 0) {
			x->created = 1;
		} else if (strcmp(l, "B alloc") == 0) {
			x->alloc_pending = 1;
		} else if (sscanf(l, "E alloc %" SCNu64, &off) == 1) {
			x->alloc_pending = 0;
			*region_state(x, off) = R_ALLOCATED;
		} else if (sscanf(l, "B free %" SCNu64, &off) == 1) {
			*region_state(x, off) = R_TRANSITION;
			for (int k = 0; k < LANES; k++)
				if (x->lane_region[k] == off && x->began_len[k][1])
					x->lane_dead[k] = 1;
		} else if (sscanf(l, "E free %" SCNu64, &off) == 1) {
			*region_state(x, off) = R_FREED;
		} else if (sscanf(l, "B a %d %" SCNu64 " %zu %" SCNu64, &lane, &seq, &len, &off) ==
			   4) {
			UT_ASSERT(lane < LANES && seq <= MAXSEQ);
			x->began_len[lane][seq] = len;
			x->lane_region[lane] = off;
		} else if (sscanf(l, "E a %d %" SCNu64, &lane, &seq) == 2) {
			x->done[lane][seq] = 1;
		}
	}
}

struct seen {
	int visible[LANES][MAXSEQ + 1];
	uint64_t regions[32];
	size_t counts[32];
	int nregions;
};

#define FAIL(...)                             \
	do {                                  \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n");        \
		return 1;                     \
	} while (0)

/* Walks the stream; 0 if everything visible is allowed. */
static int scan(struct pmemstream *s, struct expect *x, struct seen *v)
{
	memset(v, 0, sizeof(*v));
	uint64_t w = pmemstream_persisted_timestamp(s);
	if (pmemstream_committed_timestamp(s) != w)
		FAIL("committed %" PRIu64 " != persisted %" PRIu64 " after open",
		     pmemstream_committed_timestamp(s), w);

	struct pmemstream_region_iterator *rit;
	UT_ASSERTeq(pmemstream_region_iterator_new(&rit, s), 0);
	for (pmemstream_region_iterator_seek_first(rit);
	     pmemstream_region_iterator_is_valid(rit) == 0; pmemstream_region_iterator_next(rit)) {
		struct pmemstream_region r = pmemstream_region_iterator_get(rit);
		int st = *region_state(x, r.offset);
		if ((st == R_UNKNOWN || st == R_FREED) && !x->alloc_pending)
			FAIL("region %#" PRIx64 " is visible but was never allocated or was freed",
			     r.offset);
		UT_ASSERT(v->nregions < 32);
		int ri = v->nregions++;
		v->regions[ri] = r.offset;

		struct pmemstream_entry_iterator *it;
		UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r), 0);
		uint64_t last_ts = 0;
		for (pmemstream_entry_iterator_seek_first(it);
		     pmemstream_entry_iterator_is_valid(it) == 0;
		     pmemstream_entry_iterator_next(it)) {
			struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
			uint64_t ts = pmemstream_entry_timestamp(s, e);
			size_t len = pmemstream_entry_size(s, e);
			uint32_t lane;
			uint64_t seq;
			if (ts <= last_ts || ts > w)
				FAIL("region %#" PRIx64 ": timestamp %" PRIu64 " after %" PRIu64
				     " (persisted %" PRIu64 ")",
				     r.offset, ts, last_ts, w);
			last_ts = ts;
			if (!payload_check(pmemstream_entry_data(s, e), len, &lane, &seq))
				FAIL("region %#" PRIx64 ": torn entry at %#" PRIx64
				     " (len %zu, ts %" PRIu64 ")",
				     r.offset, e.offset, len, ts);
			v->counts[ri]++;
			if (lane == CHECK_LANE)
				continue;
			if (lane >= LANES || seq > MAXSEQ || x->began_len[lane][seq] != len)
				FAIL("entry lane %u seq %" PRIu64 " len %zu was never appended",
				     lane, seq, len);
			if (x->lane_region[lane] != r.offset)
				FAIL("entry lane %u seq %" PRIu64 " in the wrong region", lane,
				     seq);
			if (x->lane_dead[lane] && st != R_TRANSITION)
				FAIL("entry lane %u seq %" PRIu64 " of a freed region is visible",
				     lane, seq);
			if (v->visible[lane][seq])
				FAIL("entry lane %u seq %" PRIu64 " twice", lane, seq);
			v->visible[lane][seq] = 1;
		}
		pmemstream_entry_iterator_delete(&it);
	}
	pmemstream_region_iterator_delete(&rit);

	for (int i = 0; i < x->nregions; i++) {
		if (x->region_state[i] != R_ALLOCATED)
			continue;
		int found = 0;
		for (int j = 0; j < v->nregions; j++)
			found |= v->regions[j] == x->region_off[i];
		if (!found)
			FAIL("allocated region %#" PRIx64 " is missing", x->region_off[i]);
	}
	for (int lane = 0; lane < LANES; lane++) {
		if (lane == CHECK_LANE)
			continue;
		int st = x->lane_region[lane] == 0 && !x->began_len[lane][1]
				 ? R_UNKNOWN
				 : *region_state(x, x->lane_region[lane]);
		int gap = 0;
		for (uint64_t q = 1; q <= MAXSEQ; q++) {
			if (!v->visible[lane][q]) {
				gap = 1;
				if (x->done[lane][q] && st == R_ALLOCATED && !x->lane_dead[lane])
					FAIL("lane %d seq %" PRIu64 " returned but is lost", lane,
					     q);
			} else if (gap) {
				FAIL("lane %d seq %" PRIu64 " visible after a gap", lane, q);
			}
		}
	}
	return 0;
}

static int check(const char *image, const struct crashx_log *log)
{
	static struct expect x;
	static struct seen first, second;
	parse(log, &x);

	struct pmem2_map *map = crashx_map_file(image, 0);
	UT_ASSERT(map != NULL);
	struct pmemstream *s = open_stream(map);
	if (s == NULL) {
		if (x.created)
			FAIL("open failed: %s", pmemstream_errormsg());
		crashx_unmap_file(map);
		return 0;
	}
	if (scan(s, &x, &first))
		return 1;
	/* every region takes an append after recovery */
	unsigned char buf[64];
	for (int i = 0; i < first.nregions; i++) {
		struct pmemstream_region r = {first.regions[i]};
		size_t len = payload_make_len(buf, CHECK_LANE, (uint64_t)i + 1, 24);
		if (pmemstream_region_usable_size(s, r) >= entry_total(len) &&
		    pmemstream_append(s, r, NULL, buf, len, NULL) != 0)
			FAIL("append to %#" PRIx64 " after recovery: %s", r.offset,
			     pmemstream_errormsg());
	}
	pmemstream_delete(&s);
	crashx_unmap_file(map);

	map = crashx_map_file(image, 0);
	s = open_stream(map);
	if (s == NULL)
		FAIL("second open failed: %s", pmemstream_errormsg());
	if (scan(s, &x, &second))
		return 1;
	if (memcmp(first.visible, second.visible, sizeof(first.visible)) != 0)
		FAIL("a second open sees other entries");
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	return 0;
}

static const struct crashx_workload workloads[] = {
	{"append", run_append, check, 0},
	{"async", run_async, check, 0},
	{"threads", run_threads, check, 0},
	{"reopen", run_reopen, check, 0},
};

int main(int argc, char *argv[])
{
	return crashx_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}
