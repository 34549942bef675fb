/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash consistency of libpmemstream under the crash-state explorer: at every persistence
 * action of a workload, images of what may be durable are opened by the library in a fresh
 * process and checked against the operations the workload logged:
 *  - opening succeeds;
 *  - region iteration has no duplicates; every region whose allocate returned (and whose free
 *    did not begin) is there, in allocation order; no region whose free returned is there; at
 *    most one unknown region (an allocate in flight), and it is empty;
 *  - every visible entry is the exact content of one append/publish begun on that region
 *    (offset and timestamp as returned, when it returned); timestamps are unique and
 *    increase along each region; nothing is visible above the persisted timestamp;
 *  - every append/publish that returned is visible, and so is every async append covered
 *    by a returned wait or by the image's persisted timestamp;
 *  - after recovery, an append to every region works and is visible, a region can be
 *    allocated and freed, and a second open sees the same entries (recovery is durable).
 *
 * Log marks (one operation per B/E pair):
 *   B create | E create                     B reopen | E reopen
 *   B alloc <req> | E alloc <req> <off>     B free <off> | E free <off>
 *   B app <reg> <len> <seed> | E app <reg> <len> <seed> <entry> <ts>   (append, publish)
 *   B async <reg> <len> <seed> | E async <reg> <len> <seed> <entry> <ts>
 *   B wait <ts> | E wait <ts>               (persisted timestamp reached <ts>)
 */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "crashx.h"

#define INVALID UINT64_MAX

/* --- workload side ---------------------------------------------------------------------- */

struct ctx {
	const char *path;
	size_t file_size;
	size_t bs;
	struct pmem2_map *map;
	struct pmemstream *s;
	atomic_ullong next_seed;
};

static void fatal(const char *what)
{
	fprintf(stderr, "workload: %s failed: %s\n", what, pmemstream_errormsg());
	abort();
}

static void w_open(struct ctx *c, int create)
{
	c->map = crashx_map_file(c->path, create ? c->file_size : 0);
	if (c->map == NULL)
		fatal("map");
	crashx_mark(create ? "B create" : "B reopen");
	if (pmemstream_from_map(&c->s, c->bs, c->map) != 0)
		fatal("from_map");
	crashx_mark(create ? "E create" : "E reopen");
}

static void w_close(struct ctx *c)
{
	pmemstream_delete(&c->s);
	crashx_unmap_file(c->map);
}

static void w_reopen(struct ctx *c)
{
	w_close(c);
	w_open(c, 0);
}

static uint64_t w_alloc(struct ctx *c, size_t req)
{
	struct pmemstream_region r;
	crashx_mark("B alloc %zu", req);
	if (pmemstream_region_allocate(c->s, req, &r) != 0)
		fatal("region_allocate");
	crashx_mark("E alloc %zu %llu", req, (unsigned long long)r.offset);
	return r.offset;
}

static void w_free(struct ctx *c, uint64_t off)
{
	crashx_mark("B free %llu", (unsigned long long)off);
	if (pmemstream_region_free(c->s, (struct pmemstream_region){off}) != 0)
		fatal("region_free");
	crashx_mark("E free %llu", (unsigned long long)off);
}

static unsigned long long new_seed(struct ctx *c)
{
	return atomic_fetch_add(&c->next_seed, 1) + 1;
}

static uint64_t w_append(struct ctx *c, uint64_t reg, size_t len)
{
	unsigned long long seed = new_seed(c);
	char *buf = malloc(len + 1);
	crashx_pattern(buf, len, seed);
	struct pmemstream_entry e;
	crashx_mark("B app %llu %zu %llu", (unsigned long long)reg, len, seed);
	if (pmemstream_append(c->s, (struct pmemstream_region){reg}, NULL, buf, len, &e) != 0)
		fatal("append");
	crashx_mark("E app %llu %zu %llu %llu %llu", (unsigned long long)reg, len, seed,
		    (unsigned long long)e.offset,
		    (unsigned long long)pmemstream_entry_timestamp(c->s, e));
	free(buf);
	return e.offset;
}

/* reserve 'reserved' bytes, write 'len' bytes of payload in place, publish 'len' */
static void w_publish(struct ctx *c, uint64_t reg, size_t reserved, size_t len)
{
	unsigned long long seed = new_seed(c);
	struct pmemstream_region r = {reg};
	struct pmemstream_region_runtime *rt;
	if (pmemstream_region_runtime_initialize(c->s, r, &rt) != 0)
		fatal("runtime_initialize");
	struct pmemstream_entry e;
	void *d;
	if (pmemstream_reserve(c->s, r, rt, reserved, &e, &d) != 0)
		fatal("reserve");
	crashx_pattern(d, len, seed);
	crashx_mark("B app %llu %zu %llu", (unsigned long long)reg, len, seed);
	if (pmemstream_publish(c->s, r, rt, e, len) != 0)
		fatal("publish");
	crashx_mark("E app %llu %zu %llu %llu %llu", (unsigned long long)reg, len, seed,
		    (unsigned long long)e.offset,
		    (unsigned long long)pmemstream_entry_timestamp(c->s, e));
}

static uint64_t w_async(struct ctx *c, struct vdm *vdm, uint64_t reg, size_t len, void *buf)
{
	unsigned long long seed = new_seed(c);
	crashx_pattern(buf, len, seed);
	struct pmemstream_entry e;
	crashx_mark("B async %llu %zu %llu", (unsigned long long)reg, len, seed);
	if (pmemstream_async_append(c->s, vdm, (struct pmemstream_region){reg}, NULL, buf, len,
				    &e) != 0)
		fatal("async_append");
	uint64_t ts = pmemstream_entry_timestamp(c->s, e);
	crashx_mark("E async %llu %zu %llu %llu %llu", (unsigned long long)reg, len, seed,
		    (unsigned long long)e.offset, (unsigned long long)ts);
	return ts;
}

static void w_wait(struct ctx *c, uint64_t ts)
{
	crashx_mark("B wait %llu", (unsigned long long)ts);
	struct pmemstream_async_wait_fut f = pmemstream_async_wait_persisted(c->s, ts);
	while (future_poll(FUTURE_AS_RUNNABLE(&f), NULL) != FUTURE_STATE_COMPLETE)
		sched_yield();
	if (f.output.error_code != 0)
		fatal("wait_persisted");
	crashx_mark("E wait %llu", (unsigned long long)ts);
}

/* allocate/free of mixed sizes, LIFO reuse, entries in reused regions, a reopen */
static int run_regions(const char *path)
{
	struct ctx c = {.path = path, .file_size = 64 * 1024, .bs = 64};
	w_open(&c, 1);
	uint64_t a = w_alloc(&c, 1000);
	uint64_t b = w_alloc(&c, 3000);
	uint64_t d = w_alloc(&c, 1000);
	w_append(&c, a, 10);
	w_append(&c, b, 200);
	w_free(&c, a);
	w_append(&c, d, 33);
	uint64_t e = w_alloc(&c, 1000); /* reuses a's place */
	w_append(&c, e, 5);
	w_free(&c, b);
	w_free(&c, d);
	uint64_t f = w_alloc(&c, 2000); /* does not fit in d's place; b's or new */
	w_append(&c, f, 1500);
	w_reopen(&c);
	uint64_t g = w_alloc(&c, 1000);
	w_append(&c, g, 0);
	w_free(&c, e);
	w_append(&c, f, 40);
	w_close(&c);
	return 0;
}

/* appends of 0 B .. 8 KiB, reserve/publish (also with another size), exact fill, reopen */
static int run_appends(const char *path)
{
	struct ctx c = {.path = path, .file_size = 96 * 1024, .bs = 64};
	w_open(&c, 1);
	uint64_t big = w_alloc(&c, 24 * 1024);
	static const size_t sizes[] = {0, 1, 7, 8, 9, 63, 64, 65, 500, 4096, 8192};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		w_append(&c, big, sizes[i]);
	w_publish(&c, big, 100, 100);
	w_publish(&c, big, 0, 8);
	w_publish(&c, big, 300, 120);
	/* a region filled exactly: 256 - 64 header = 192 data bytes = two entries of 96 */
	uint64_t small = w_alloc(&c, 192);
	uint64_t next = w_alloc(&c, 192);
	w_append(&c, next, 16);
	w_append(&c, small, 80);
	w_append(&c, small, 80);
	w_reopen(&c);
	w_append(&c, big, 1000);
	w_append(&c, next, 16);
	w_close(&c);
	return 0;
}

/* a stream with 4 KiB blocks (header and regions block-aligned) */
static int run_blocks(const char *path)
{
	struct ctx c = {.path = path, .file_size = 64 * 1024, .bs = 4096};
	w_open(&c, 1);
	uint64_t a = w_alloc(&c, 100);
	uint64_t b = w_alloc(&c, 5000);
	w_append(&c, a, 100);
	w_append(&c, b, 4500);
	w_publish(&c, a, 64, 64);
	w_free(&c, a);
	uint64_t a2 = w_alloc(&c, 100);
	w_append(&c, a2, 8);
	w_close(&c);
	return 0;
}

static int run_async_with(const char *path, struct vdm *vdm)
{
	struct ctx c = {.path = path, .file_size = 64 * 1024, .bs = 64};
	w_open(&c, 1);
	uint64_t a = w_alloc(&c, 4000);
	uint64_t b = w_alloc(&c, 4000);
	static const size_t sizes[] = {24, 0, 300, 8, 1000, 64, 17, 200};
	char bufs[8][1024];
	uint64_t last = 0;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 8; i++)
			last = w_async(&c, vdm, i % 3 ? a : b, sizes[i], bufs[i]);
		/* a synchronous append among them commits everything before it */
		w_append(&c, b, 40);
		w_wait(&c, last);
	}
	for (int i = 0; i < 4; i++)
		last = w_async(&c, vdm, a, sizes[i] + 1, bufs[i]);
	w_wait(&c, last);
	w_close(&c);
	return 0;
}

static int run_async_sync(const char *path)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	int ret = run_async_with(path, data_mover_sync_get_vdm(dms));
	data_mover_sync_delete(dms);
	return ret;
}

static int run_async_threads(const char *path)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 64, FUTURE_NOTIFIER_NONE);
	int ret = run_async_with(path, data_mover_threads_get_vdm(dmt));
	data_mover_threads_delete(dmt);
	return ret;
}

/* Several threads taking turns (deterministic), on a shared region and on their own. */
#define NTHREADS 3
#define TURNS	 12
static struct ctx Tc;
static atomic_int Turn;
static uint64_t Shared, Own[NTHREADS];

static void *turn_worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (int t = me; t < TURNS; t += NTHREADS) {
		while (atomic_load(&Turn) != t)
			sched_yield();
		w_append(&Tc, t % 2 ? Own[me] : Shared, (size_t)(8 * t + me));
		atomic_store(&Turn, t + 1);
	}
	return NULL;
}

static int run_threads(const char *path)
{
	Tc = (struct ctx){.path = path, .file_size = 64 * 1024, .bs = 64};
	w_open(&Tc, 1);
	Shared = w_alloc(&Tc, 2000);
	for (int i = 0; i < NTHREADS; i++)
		Own[i] = w_alloc(&Tc, 1000);
	pthread_t th[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, turn_worker, (void *)(intptr_t)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	w_close(&Tc);
	return 0;
}

/*
 * Truly concurrent appends to one region (group commit): the order is not known in advance,
 * the checker identifies entries by their content.
 */
static void *free_worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (int i = 0; i < 6; i++)
		w_append(&Tc, Shared, (size_t)(16 * i + 8 * me));
	return NULL;
}

static int run_concurrent(const char *path)
{
	Tc = (struct ctx){.path = path, .file_size = 64 * 1024, .bs = 64};
	w_open(&Tc, 1);
	Shared = w_alloc(&Tc, 4000);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, free_worker, (void *)(intptr_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	w_close(&Tc);
	return 0;
}

/* --- checker side ------------------------------------------------------------------------ */

#define MAX_OPS	    256
#define MAX_REGIONS 64

struct op {
	int async;
	uint64_t reg;
	size_t len;
	unsigned long long seed;
	int ended;
	uint64_t off, ts;
	int durable;
	int gen; /* allocation generation of the region when the op began */
	int matched;
	int gone; /* not there after the crash: its position and timestamp may be reused */
};

struct region {
	uint64_t off;
	int gen;      /* bumped by every allocate that returned it */
	int state;    /* 0 absent, 1 allocated, 2 free in flight */
	size_t order; /* log position of the allocate that returned it */
};

struct model {
	int created;
	struct op ops[MAX_OPS];
	size_t nops;
	struct region regs[MAX_REGIONS];
	size_t nregs;
	int alloc_in_flight;
};

static struct region *find_region(struct model *m, uint64_t off, int add)
{
	for (size_t i = 0; i < m->nregs; i++)
		if (m->regs[i].off == off)
			return &m->regs[i];
	if (!add || m->nregs == MAX_REGIONS)
		return NULL;
	m->regs[m->nregs] = (struct region){off, 0, 0, 0};
	return &m->regs[m->nregs++];
}

static struct op *find_op(struct model *m, int async, uint64_t reg, size_t len,
			  unsigned long long seed)
{
	for (size_t i = 0; i < m->nops; i++) {
		struct op *o = &m->ops[i];
		if (o->async == async && o->reg == reg && o->len == len && o->seed == seed)
			return o;
	}
	return NULL;
}

static int parse_log(const struct crashx_log *log, struct model *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < log->n; i++) {
		const char *l = log->lines[i];
		unsigned long long a1, a3, a4, a5;
		size_t len;
		char kind[16], be;
		if (strcmp(l, "E create") == 0) {
			m->created = 1;
		} else if (sscanf(l, "B alloc %zu", &len) == 1) {
			m->alloc_in_flight = 1;
		} else if (sscanf(l, "E alloc %zu %llu", &len, &a1) == 2) {
			struct region *r = find_region(m, a1, 1);
			r->gen++;
			r->state = 1;
			r->order = i;
			m->alloc_in_flight = 0;
		} else if (sscanf(l, "B free %llu", &a1) == 1) {
			find_region(m, a1, 1)->state = 2;
		} else if (sscanf(l, "E free %llu", &a1) == 1) {
			find_region(m, a1, 1)->state = 0;
		} else if (sscanf(l, "%c %15s %llu %zu %llu %llu %llu", &be, kind, &a1, &len, &a3,
				  &a4, &a5) >= 5 &&
			   (strcmp(kind, "app") == 0 || strcmp(kind, "async") == 0)) {
			int async = kind[0] == 'a' && kind[1] == 's';
			if (be == 'B') {
				if (m->nops == MAX_OPS)
					return -1;
				struct region *r = find_region(m, a1, 1);
				m->ops[m->nops++] = (struct op){.async = async,
								.reg = a1,
								.len = len,
								.seed = a3,
								.off = INVALID,
								.ts = INVALID,
								.gen = r->gen};
			} else {
				struct op *o = find_op(m, async, a1, len, a3);
				if (o == NULL)
					return -1;
				o->ended = 1;
				o->off = a4;
				o->ts = a5;
				if (!async)
					o->durable = 1;
			}
		} else if (sscanf(l, "E wait %llu", &a1) == 1) {
			for (size_t j = 0; j < m->nops; j++)
				if (m->ops[j].ended && m->ops[j].ts <= a1)
					m->ops[j].durable = 1;
		}
	}
	return 0;
}

struct seen_entry {
	uint64_t reg, off, ts;
};

/* Checks one open stream against the model; returns the number of problems. */
static int check_stream(struct pmemstream *s, struct model *m, const char *when)
{
	int bad = 0;
#define BAD(...)                               \
	do {                                   \
		fprintf(stderr, "%s: ", when); \
		fprintf(stderr, __VA_ARGS__);  \
		fprintf(stderr, "\n");         \
		bad++;                         \
	} while (0)
	uint64_t W = pmemstream_persisted_timestamp(s);
	for (size_t i = 0; i < m->nops; i++)
		m->ops[i].matched = 0;

	static struct seen_entry seen[4096];
	size_t nseen = 0;
	uint64_t listed[MAX_REGIONS + 8];
	size_t nlisted = 0, unknown = 0;
	size_t last_order = 0;

	struct pmemstream_region_iterator *rit;
	if (pmemstream_region_iterator_new(&rit, s) != 0) {
		BAD("region_iterator_new failed");
		return bad;
	}
	for (pmemstream_region_iterator_seek_first(rit);
	     pmemstream_region_iterator_is_valid(rit) == 0; pmemstream_region_iterator_next(rit)) {
		struct pmemstream_region r = pmemstream_region_iterator_get(rit);
		for (size_t i = 0; i < nlisted; i++)
			if (listed[i] == r.offset)
				BAD("region %llu listed twice", (unsigned long long)r.offset);
		if (nlisted == MAX_REGIONS + 8) {
			BAD("too many regions");
			break;
		}
		listed[nlisted++] = r.offset;
		struct region *mr = find_region(m, r.offset, 0);
		int is_unknown = mr == NULL || mr->state == 0;
		if (is_unknown) {
			if (!m->alloc_in_flight || ++unknown > 1)
				BAD("region %llu is listed but was never allocated or was freed",
				    (unsigned long long)r.offset);
		} else if (mr->state == 1) {
			if (mr->order < last_order)
				BAD("region %llu out of allocation order",
				    (unsigned long long)r.offset);
			last_order = mr->order;
		}

		struct pmemstream_entry_iterator *eit;
		if (pmemstream_entry_iterator_new(&eit, s, r) != 0) {
			BAD("entry_iterator_new failed on region %llu",
			    (unsigned long long)r.offset);
			continue;
		}
		uint64_t prev_ts = 0;
		for (pmemstream_entry_iterator_seek_first(eit);
		     pmemstream_entry_iterator_is_valid(eit) == 0;
		     pmemstream_entry_iterator_next(eit)) {
			struct pmemstream_entry e = pmemstream_entry_iterator_get(eit);
			uint64_t ts = pmemstream_entry_timestamp(s, e);
			size_t len = pmemstream_entry_size(s, e);
			const void *data = pmemstream_entry_data(s, e);
			if (is_unknown) {
				BAD("region %llu of an allocation in flight has an entry",
				    (unsigned long long)r.offset);
				continue;
			}
			if (ts <= prev_ts)
				BAD("timestamps do not increase in region %llu (%llu after %llu)",
				    (unsigned long long)r.offset, (unsigned long long)ts,
				    (unsigned long long)prev_ts);
			prev_ts = ts;
			if (ts > W)
				BAD("entry ts %llu visible above the persisted timestamp %llu",
				    (unsigned long long)ts, (unsigned long long)W);
			if (nseen < sizeof(seen) / sizeof(seen[0]))
				seen[nseen++] = (struct seen_entry){r.offset, e.offset, ts};
			/* which operation wrote it: by offset if known, else by content */
			/* the latest one: positions of entries lost in a crash are reused */
			struct op *match = NULL;
			for (size_t i = m->nops; i-- > 0 && !match;) {
				struct op *o = &m->ops[i];
				if (o->reg == r.offset && o->gen == mr->gen && o->ended &&
				    !o->gone && o->off == e.offset)
					match = o;
			}
			for (size_t i = 0; i < m->nops && !match; i++) {
				struct op *o = &m->ops[i];
				if (o->reg == r.offset && o->gen == mr->gen && !o->ended &&
				    !o->matched && o->len == len &&
				    crashx_pattern_ok(data, len, o->seed))
					match = o;
			}
			if (match == NULL) {
				BAD("region %llu entry %llu (len %zu ts %llu) is no append begun "
				    "on it "
				    "(torn or stale)",
				    (unsigned long long)r.offset, (unsigned long long)e.offset, len,
				    (unsigned long long)ts);
				continue;
			}
			if (match->matched)
				BAD("entry of op seed %llu seen twice", match->seed);
			match->matched = 1;
			if (match->len != len)
				BAD("entry %llu in region %llu: length %zu, appended %zu",
				    (unsigned long long)e.offset, (unsigned long long)r.offset, len,
				    match->len);
			else if (!crashx_pattern_ok(data, len, match->seed))
				BAD("entry %llu in region %llu: torn content",
				    (unsigned long long)e.offset, (unsigned long long)r.offset);
			if (match->ended && match->ts != ts)
				BAD("entry %llu: timestamp %llu, the append returned %llu",
				    (unsigned long long)e.offset, (unsigned long long)ts,
				    (unsigned long long)match->ts);
		}
		pmemstream_entry_iterator_delete(&eit);
	}
	pmemstream_region_iterator_delete(&rit);

	for (size_t i = 0; i < m->nregs; i++) {
		struct region *mr = &m->regs[i];
		int present = 0;
		for (size_t j = 0; j < nlisted; j++)
			present |= listed[j] == mr->off;
		if (mr->state == 1 && !present)
			BAD("allocated region %llu lost", (unsigned long long)mr->off);
		if (!present || mr->state == 0)
			continue;
		for (size_t j = 0; j < m->nops; j++) {
			struct op *o = &m->ops[j];
			if (o->reg != mr->off || o->gen != mr->gen || o->matched || o->gone)
				continue;
			if (o->durable || (o->ended && o->ts <= W))
				BAD("entry of %s seed %llu (region %llu, offset %llu, ts %llu) "
				    "lost "
				    "(persisted timestamp %llu)",
				    o->async ? "async append" : "append", o->seed,
				    (unsigned long long)o->reg, (unsigned long long)o->off,
				    (unsigned long long)o->ts, (unsigned long long)W);
		}
	}
	for (size_t i = 0; i < nseen; i++)
		for (size_t j = i + 1; j < nseen; j++)
			if (seen[i].ts == seen[j].ts)
				BAD("timestamp %llu visible twice", (unsigned long long)seen[i].ts);
	return bad;
#undef BAD
}

static int open_image(const char *image, size_t bs, struct pmem2_map **map, struct pmemstream **s)
{
	*map = crashx_map_file(image, 0);
	if (*map == NULL)
		return -1;
	if (pmemstream_from_map(s, bs, *map) != 0) {
		fprintf(stderr, "pmemstream_from_map failed: %s\n", pmemstream_errormsg());
		crashx_unmap_file(*map);
		return -1;
	}
	return 0;
}

static int check_with(const char *image, const struct crashx_log *log, size_t bs)
{
	static struct model m;
	if (parse_log(log, &m) != 0) {
		fprintf(stderr, "cannot parse the log\n");
		return 1;
	}
	struct pmem2_map *map;
	struct pmemstream *s;
	if (open_image(image, bs, &map, &s) != 0)
		return 1; /* opening must always succeed: an unsigned file is re-created */
	if (!m.created) {
		pmemstream_delete(&s);
		crashx_unmap_file(map);
		return 0;
	}
	int bad = check_stream(s, &m, "after recovery");
	for (size_t i = 0; i < m.nops; i++)
		m.ops[i].gone = !m.ops[i].matched;

	/* writes after recovery: one entry per listed region, and a region allocate/free */
	unsigned long long seed = 1ULL << 40;
	for (size_t i = 0; i < m.nregs && !bad; i++) {
		struct region *mr = &m.regs[i];
		if (mr->state != 1)
			continue;
		char buf[24];
		crashx_pattern(buf, sizeof(buf), seed);
		struct pmemstream_entry e;
		struct pmemstream_region r = {mr->off};
		if (pmemstream_region_usable_size(s, r) < 64)
			continue;
		if (pmemstream_append(s, r, NULL, buf, sizeof(buf), &e) != 0) {
			fprintf(stderr, "append after recovery failed: %s\n",
				pmemstream_errormsg());
			bad++;
			continue;
		}
		if (m.nops < MAX_OPS)
			m.ops[m.nops++] = (struct op){.reg = mr->off,
						      .len = sizeof(buf),
						      .seed = seed,
						      .ended = 1,
						      .off = e.offset,
						      .ts = pmemstream_entry_timestamp(s, e),
						      .durable = 1,
						      .gen = mr->gen};
		seed++;
	}
	if (!bad) {
		struct pmemstream_region nr;
		if (pmemstream_region_allocate(s, 100, &nr) == 0 &&
		    pmemstream_region_free(s, nr) != 0) {
			fprintf(stderr, "free of a fresh region failed: %s\n",
				pmemstream_errormsg());
			bad++;
		}
	}
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	if (bad)
		return 1;

	/* recovery and the appends after it are durable: a second open sees all of it */
	if (open_image(image, bs, &map, &s) != 0)
		return 1;
	bad = check_stream(s, &m, "second open");
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	return bad != 0;
}

static int check64(const char *image, const struct crashx_log *log)
{
	return check_with(image, log, 64);
}

static int check4096(const char *image, const struct crashx_log *log)
{
	return check_with(image, log, 4096);
}

/* Recovery as a user's first steps run it: open, write-open every region, close. */
static int recover_with(const char *image, size_t bs)
{
	struct pmem2_map *map;
	struct pmemstream *s;
	if (open_image(image, bs, &map, &s) != 0)
		return -1;
	struct pmemstream_region_iterator *rit;
	if (pmemstream_region_iterator_new(&rit, s) == 0) {
		for (pmemstream_region_iterator_seek_first(rit);
		     pmemstream_region_iterator_is_valid(rit) == 0;
		     pmemstream_region_iterator_next(rit))
			(void)pmemstream_region_usable_size(s, pmemstream_region_iterator_get(rit));
		pmemstream_region_iterator_delete(&rit);
	}
	pmemstream_delete(&s);
	crashx_unmap_file(map);
	return 0;
}

static int recover64(const char *image)
{
	return recover_with(image, 64);
}

static int recover4096(const char *image)
{
	return recover_with(image, 4096);
}

static const struct crashx_workload workloads[] = {
	{"regions", run_regions, check64, 0, recover64},
	{"appends", run_appends, check64, 0, recover64},
	{"blocks", run_blocks, check4096, 0, recover4096},
	{"async-sync", run_async_sync, check64, 0, recover64},
	{"async-threads", run_async_threads, check64, 0, recover64},
	{"threads", run_threads, check64, 0, recover64},
	{"concurrent", run_concurrent, check64, 0, recover64},
};

int main(int argc, char *argv[])
{
	return crashx_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}
