/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpmemblk under the crash-state explorer, complementing tests/blk/blk_crash.c (owned by
 * the library's author): block sizes 4096 and 520, a close and reopen inside the workload
 * (recovery explored too), many writes cycling the flog sequence numbers, several lanes.
 * Every image is checked for:
 *  - pmemblk_check returns 1 (once create returned);
 *  - every block reads the result of its last completed operation, or of the one in flight
 *    on it (never a mix, never another block's data: the pattern seed includes the block);
 *    blocks never touched read zeros;
 *  - after recovery every touched block can be written and read back, pmemblk_check still
 *    returns 1, and a second open reads the same.
 *
 * Marks: B|E create, B|E reopen, B|E w <block> <seed>, B|E z <block> 0, B|E e <block> 0.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemblk.h>

#include "crashx.h"

#define MAX_BSIZE 4096

struct wctx {
	const char *path;
	size_t bsize;
	PMEMblkpool *pbp;
};

static void fatal(const char *what)
{
	fprintf(stderr, "workload: %s failed: %s\n", what, pmemblk_errormsg());
	abort();
}

static unsigned long long seed_of(long long block, int n)
{
	return (unsigned long long)block * 1000003ULL + (unsigned long long)n + 1;
}

static void w_write(struct wctx *c, long long block, int n)
{
	unsigned char buf[MAX_BSIZE];
	unsigned long long seed = seed_of(block, n);
	crashx_pattern(buf, c->bsize, seed);
	crashx_mark("B w %lld %llu", block, seed);
	if (pmemblk_write(c->pbp, buf, block) != 0)
		fatal("write");
	crashx_mark("E w %lld %llu", block, seed);
}

static void w_flag(struct wctx *c, long long block, char kind)
{
	crashx_mark("B %c %lld 0", kind, block);
	if ((kind == 'z' ? pmemblk_set_zero(c->pbp, block) : pmemblk_set_error(c->pbp, block)) != 0)
		fatal("set_zero/set_error");
	crashx_mark("E %c %lld 0", kind, block);
}

static void w_create(struct wctx *c)
{
	crashx_mark("B create");
	c->pbp = pmemblk_create(c->path, c->bsize, PMEMBLK_MIN_POOL, 0600);
	if (c->pbp == NULL)
		fatal("create");
	crashx_mark("E create");
}

static void w_reopen(struct wctx *c)
{
	crashx_mark("B reopen");
	pmemblk_close(c->pbp);
	c->pbp = pmemblk_open(c->path, c->bsize);
	if (c->pbp == NULL)
		fatal("reopen");
	crashx_mark("E reopen");
}

/* Two threads taking turns (two lanes), writes and flags, a reopen in the middle. */
static struct wctx Tc;
static atomic_int Turn;
#define TURNS 12
static const long long Blocks[] = {0, 17, 300, 1001, 2047, 3000};

static void *turn_worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (int t = me; t < TURNS; t += 2) {
		while (atomic_load(&Turn) != t)
			sched_yield();
		long long b = Blocks[(t * 5 + me) % 6];
		if (t == 7)
			w_flag(&Tc, b, 'z');
		else if (t == 9)
			w_flag(&Tc, b, 'e');
		else
			w_write(&Tc, b, 100 + t);
		atomic_store(&Turn, t + 1);
	}
	return NULL;
}

static void two_lanes(void)
{
	atomic_store(&Turn, 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, turn_worker, (void *)(intptr_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
}

static int run_b4096(const char *path)
{
	Tc = (struct wctx){.path = path, .bsize = 4096};
	w_create(&Tc);
	w_write(&Tc, 17, 1);
	two_lanes();
	w_reopen(&Tc);
	w_write(&Tc, 300, 2);
	w_write(&Tc, 3000, 3);
	two_lanes();
	pmemblk_close(Tc.pbp);
	return 0;
}

static int run_b520(const char *path)
{
	struct wctx c = {.path = path, .bsize = 520};
	w_create(&c);
	w_write(&c, 5, 1);
	w_write(&c, 6, 2);
	w_flag(&c, 5, 'e');
	w_reopen(&c);
	w_write(&c, 5, 3);
	w_flag(&c, 6, 'z');
	w_write(&c, 6, 4);
	pmemblk_close(c.pbp);
	return 0;
}

/* one lane writing few blocks many times: flog sequence numbers wrap 1->2->3->1 */
static int run_cycle(const char *path)
{
	struct wctx c = {.path = path, .bsize = 512};
	w_create(&c);
	for (int i = 0; i < 16; i++)
		w_write(&c, i % 3 * 40, i);
	w_reopen(&c);
	for (int i = 16; i < 22; i++)
		w_write(&c, i % 3 * 40, i);
	pmemblk_close(c.pbp);
	return 0;
}

/* --- checker ------------------------------------------------------------------------------ */

#define MAX_OPS 128

struct op {
	char kind;
	long long block;
	unsigned long long seed;
	int ended;
};

struct result {
	int ret, err;
	unsigned char buf[MAX_BSIZE];
};

static int op_allows(const struct op *o, size_t bsize, const struct result *r)
{
	static const unsigned char zero[MAX_BSIZE];
	switch (o->kind) {
	case 'w':
		return r->ret == 0 && crashx_pattern_ok(r->buf, bsize, o->seed);
	case 'z':
		return r->ret == 0 && memcmp(r->buf, zero, bsize) == 0;
	case 'e':
		return r->ret == -1 && r->err == EIO;
	case '0':
		return r->ret == 0 && memcmp(r->buf, zero, bsize) == 0;
	}
	return 0;
}

/*
 * Operations on one block never overlap (the workloads take turns), so the block must show
 * the last completed one, or the one after it if that is in flight.
 */
static int block_ok(const struct op *ops, size_t nops, long long block, size_t bsize,
		    const struct result *r)
{
	struct op initial = {'0', block, 0, 1};
	const struct op *done = &initial, *flight = NULL;
	for (size_t i = 0; i < nops; i++) {
		if (ops[i].block != block)
			continue;
		if (ops[i].ended)
			done = &ops[i];
		else
			flight = &ops[i];
	}
	return op_allows(done, bsize, r) || (flight && op_allows(flight, bsize, r));
}

static int check_pool(const char *image, size_t bsize, const struct op *ops, size_t nops,
		      const char *when)
{
	int c = pmemblk_check(image, bsize);
	if (c != 1) {
		fprintf(stderr, "%s: pmemblk_check returned %d (%s)\n", when, c,
			pmemblk_errormsg());
		return 1;
	}
	PMEMblkpool *pbp = pmemblk_open(image, bsize);
	if (pbp == NULL) {
		fprintf(stderr, "%s: open failed: %s\n", when, pmemblk_errormsg());
		return 1;
	}
	int bad = 0;
	size_t nblock = pmemblk_nblock(pbp);
	static struct result r;
	for (size_t b = 0; b < nblock; b++) {
		errno = 0;
		r.ret = pmemblk_read(pbp, r.buf, (long long)b);
		r.err = errno;
		if (!block_ok(ops, nops, (long long)b, bsize, &r)) {
			fprintf(stderr,
				"%s: block %zu reads a state no operation allows (ret %d)\n", when,
				b, r.ret);
			if (++bad > 5)
				break;
		}
	}
	pmemblk_close(pbp);
	return bad;
}

static int check_with(const char *image, const struct crashx_log *log, size_t bsize)
{
	static struct op ops[MAX_OPS];
	size_t nops = 0;
	int created = 0;
	for (size_t i = 0; i < log->n; i++) {
		char be, kind;
		long long block;
		unsigned long long seed;
		if (strcmp(log->lines[i], "E create") == 0) {
			created = 1;
		} else if (sscanf(log->lines[i], "%c %c %lld %llu", &be, &kind, &block, &seed) ==
			   4) {
			if (be == 'B') {
				if (nops == MAX_OPS)
					return 1;
				ops[nops++] = (struct op){kind, block, seed, 0};
			} else {
				for (size_t j = 0; j < nops; j++)
					if (ops[j].block == block && ops[j].kind == kind &&
					    ops[j].seed == seed)
						ops[j].ended = 1;
			}
		}
	}
	if (!created) {
		/* a half-made pool may be refused; if it opens it must be consistent */
		PMEMblkpool *pbp = pmemblk_open(image, bsize);
		if (pbp == NULL)
			return 0;
		pmemblk_close(pbp);
		return check_pool(image, bsize, ops, 0, "half-created pool");
	}
	if (check_pool(image, bsize, ops, nops, "after crash"))
		return 1;

	/* writes after recovery, to every block the workload touched */
	PMEMblkpool *pbp = pmemblk_open(image, bsize);
	if (pbp == NULL)
		return 1;
	size_t nafter = nops;
	unsigned char buf[MAX_BSIZE];
	for (size_t i = 0; i < nops && nafter < MAX_OPS; i++) {
		int seen = 0;
		for (size_t j = nops; j < nafter; j++)
			seen |= ops[j].block == ops[i].block;
		if (seen)
			continue;
		unsigned long long seed = seed_of(ops[i].block, 999);
		crashx_pattern(buf, bsize, seed);
		if (pmemblk_write(pbp, buf, ops[i].block) != 0) {
			fprintf(stderr, "write after recovery failed: %s\n", pmemblk_errormsg());
			pmemblk_close(pbp);
			return 1;
		}
		ops[nafter++] = (struct op){'w', ops[i].block, seed, 1};
	}
	pmemblk_close(pbp);
	return check_pool(image, bsize, ops, nafter, "after writes following recovery") != 0;
}

static int check4096(const char *image, const struct crashx_log *log)
{
	return check_with(image, log, 4096);
}

static int check520(const char *image, const struct crashx_log *log)
{
	return check_with(image, log, 520);
}

static int check512(const char *image, const struct crashx_log *log)
{
	return check_with(image, log, 512);
}

/* Recovery: an open (flog recovery, info block repair) and a close. */
static int recover(const char *image)
{
	PMEMblkpool *pbp = pmemblk_open(image, 0);
	if (pbp != NULL)
		pmemblk_close(pbp);
	return 0; /* a pool whose create had not returned may be refused */
}

static const struct crashx_workload workloads[] = {
	{"b4096-lanes", run_b4096, check4096, 0, recover},
	{"b520", run_b520, check520, 0, recover},
	{"b512-cycle", run_cycle, check512, 0, recover},
};

int main(int argc, char *argv[])
{
	return crashx_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}
