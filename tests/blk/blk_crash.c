/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash consistency of libpmemblk under the crash-state explorer (tests/crash): at every
 * persistence action of a workload, images of what may be durable are checked in a fresh
 * process. An image must open (once create returned), pass pmemblk_check, and every block
 * must hold the content of exactly one write (never torn), which is the last completed
 * write or one still in flight; a completed write is never lost. Recovery must be durable
 * and idempotent (a second open sees the same blocks).
 *
 * The workloads cover the write protocol of btt_io.c: data and the first flog half share a
 * drain, the map store is flushed only before the lane's next commit or by the next writer
 * of the same block, so images hold committed flog entries whose map update is missing.
 */

#include <pthread.h>
#include <stdatomic.h>

#define PMEMBLK_USE_MINIASYNC 1
#include "blk_test.h"
#include "crashx.h"

#include <libminiasync.h>

#define BSIZE 512
#define NLBA  6
/*
 * Block i of the workloads: one per map cache line (16 entries), so that flushing one
 * block's map entry never makes another's durable by accident.
 */
#define LBA(i) ((i)*16)

static unsigned long long seed_of(int lba, int n)
{
	return (unsigned long long)lba * 100000 + (unsigned long long)n + 1;
}

static void do_write(PMEMblkpool *pbp, int lba, int n)
{
	unsigned char buf[BSIZE];
	unsigned long long seed = seed_of(lba, n);
	crashx_pattern(buf, sizeof(buf), seed);
	crashx_mark("B w %d %llu", lba, seed);
	UT_ASSERTeq(pmemblk_write(pbp, buf, LBA(lba)), 0);
	crashx_mark("E w %d %llu", lba, seed);
}

static void do_flag(PMEMblkpool *pbp, int lba, char op)
{
	crashx_mark("B %c %d 0", op, lba);
	if (op == 'z')
		UT_ASSERTeq(pmemblk_set_zero(pbp, LBA(lba)), 0);
	else
		UT_ASSERTeq(pmemblk_set_error(pbp, LBA(lba)), 0);
	crashx_mark("E %c %d 0", op, lba);
}

static PMEMblkpool *do_create(const char *path)
{
	crashx_mark("B create");
	PMEMblkpool *pbp = pmemblk_create(path, BSIZE, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	crashx_mark("E create");
	return pbp;
}

/*
 * Closing flushes the map entries still unflushed. (A reopen in the same process is not
 * possible here: the explorer keeps a dup of the pool's descriptor, and with it the flock.)
 */
static void do_close(PMEMblkpool *pbp)
{
	crashx_mark("B close");
	pmemblk_close(pbp);
	crashx_mark("E close");
}

/* one thread: writes, rewrites, zero and error states, close */
static int run_seq(const char *path)
{
	PMEMblkpool *pbp = do_create(path);
	int n = 0;
	static const int lbas[] = {3, 4, 3, 5, 3, 4};
	for (size_t i = 0; i < sizeof(lbas) / sizeof(lbas[0]); i++)
		do_write(pbp, lbas[i], n++);
	do_flag(pbp, 4, 'z');
	do_flag(pbp, 5, 'e');
	do_write(pbp, 5, n++);
	do_flag(pbp, 3, 'e');
	do_flag(pbp, 3, 'z');
	do_write(pbp, 3, n++);
	do_write(pbp, 1, n++);
	do_write(pbp, 3, n++);
	do_close(pbp);
	return 0;
}

/*
 * Two threads take turns, so they use two lanes (the first writer gets the lower one), on
 * blocks chosen so that the higher lane writes a block right before the lower lane does:
 * recovery visits pairs in lane order, so it would apply the two entries in the wrong
 * order if the second writer did not make the first one's map entry durable before its
 * own commit.
 */
static atomic_int Turn;
static PMEMblkpool *Shared;

#define TURNS 10

static void *turn_worker(void *arg)
{
	int me = *(int *)arg;
	for (int t = me; t < TURNS; t += 2) {
		while (atomic_load(&Turn) != t)
			sched_yield();
		do_write(Shared, ((t + 1) / 2) % 2, 1000 + t);
		atomic_store(&Turn, t + 1);
	}
	return NULL;
}

static int run_lanes(const char *path)
{
	Shared = do_create(path);
	do_write(Shared, 0, 900);
	atomic_store(&Turn, 0);
	pthread_t th[2];
	int ids[2] = {0, 1};
	for (int i = 0; i < 2; i++)
		UT_ASSERTeq(pthread_create(&th[i], NULL, turn_worker, &ids[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	do_write(Shared, 1, 901);
	do_close(Shared);
	return 0;
}

/*
 * Write futures in flight together in one thread. With the thread-pool mover every future
 * keeps its lane while its copy runs, so the commits of several lanes interleave, on the
 * same and on different blocks; with the synchronous mover they run one after the other.
 */
static int run_async(const char *path, struct vdm *vdm)
{
	crashx_mark("B create");
	PMEMblkpool *pbp = pmemblk_xcreate(path, BSIZE, PMEMBLK_MIN_POOL, 0600, vdm);
	UT_ASSERT(pbp != NULL);
	crashx_mark("E create");

	enum { NFUT = 4 };
	static const int lbas[3][NFUT] = {{2, 2, 3, 2}, {3, 2, 3, 4}, {4, 3, 2, 2}};
	unsigned char bufs[NFUT][BSIZE];
	for (int round = 0; round < 3; round++) {
		struct pmemblk_write_async_future futs[NFUT];
		unsigned long long seeds[NFUT];
		for (int i = 0; i < NFUT; i++) {
			seeds[i] = seed_of(lbas[round][i], 500 + round * NFUT + i);
			crashx_pattern(bufs[i], BSIZE, seeds[i]);
			futs[i] = pmemblk_write_async(pbp, bufs[i], LBA(lbas[round][i]));
			crashx_mark("B w %d %llu", lbas[round][i], seeds[i]);
		}
		int left = NFUT;
		while (left > 0) {
			/* backwards in odd rounds: later futures get their lanes first */
			for (int k = 0; k < NFUT; k++) {
				int i = round % 2 ? NFUT - 1 - k : k;
				if (FUTURE_STATE(&futs[i]) == FUTURE_STATE_COMPLETE)
					continue;
				if (future_poll(FUTURE_AS_RUNNABLE(&futs[i]), NULL) ==
				    FUTURE_STATE_COMPLETE) {
					UT_ASSERTeq(FUTURE_OUTPUT(&futs[i])->return_value, 0);
					crashx_mark("E w %d %llu", lbas[round][i], seeds[i]);
					left--;
				}
			}
		}
	}
	do_close(pbp);
	return 0;
}

static int run_async_sync(const char *path)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	UT_ASSERT(dms != NULL);
	int ret = run_async(path, data_mover_sync_get_vdm(dms));
	data_mover_sync_delete(dms);
	return ret;
}

static int run_async_threads(const char *path)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 64, FUTURE_NOTIFIER_NONE);
	UT_ASSERT(dmt != NULL);
	int ret = run_async(path, data_mover_threads_get_vdm(dmt));
	data_mover_threads_delete(dmt);
	return ret;
}

/* --- the checker ------------------------------------------------------------------------ */

struct op {
	char kind; /* 'w', 'z', 'e' */
	int lba;
	unsigned long long seed;
	size_t begin, end; /* log positions; end == SIZE_MAX while in flight */
};

#define MAX_OPS 64

/* Possible states of a block: ops not superseded by an op that began after they ended. */
static int state_allowed(const struct op *ops, size_t nops, int lba, const unsigned char *buf,
			 int read_ret, int read_errno)
{
	int any_ended = 0;
	for (size_t i = 0; i < nops; i++)
		if (ops[i].lba == lba && ops[i].end != SIZE_MAX)
			any_ended = 1;

	static const unsigned char zero[BSIZE];
	int is_zero = read_ret == 0 && memcmp(buf, zero, BSIZE) == 0;
	if (!any_ended && is_zero)
		return 1; /* never written (or the first change not through yet) */

	for (size_t i = 0; i < nops; i++) {
		const struct op *o = &ops[i];
		if (o->lba != lba)
			continue;
		int superseded = 0;
		for (size_t j = 0; j < nops; j++)
			if (ops[j].lba == lba && ops[j].end != SIZE_MAX && o->end != SIZE_MAX &&
			    ops[j].begin > o->end)
				superseded = 1;
		if (superseded)
			continue;
		switch (o->kind) {
		case 'w':
			if (read_ret == 0 && crashx_pattern_ok(buf, BSIZE, o->seed))
				return 1;
			break;
		case 'z':
			if (is_zero)
				return 1;
			break;
		case 'e':
			if (read_ret == -1 && read_errno == EIO)
				return 1;
			break;
		}
	}
	return 0;
}

struct block_state {
	unsigned char buf[BSIZE];
	int ret, err;
};

static int check_blocks(const char *image, const struct op *ops, size_t nops, const char *when,
			struct block_state *states)
{
	PMEMblkpool *pbp = pmemblk_open(image, BSIZE);
	if (pbp == NULL) {
		fprintf(stderr, "%s: open failed: %s\n", when, pmemblk_errormsg());
		return 1;
	}
	int bad = 0;
	for (int lba = 0; lba < NLBA; lba++) {
		struct block_state *s = &states[lba];
		errno = 0;
		s->ret = pmemblk_read(pbp, s->buf, LBA(lba));
		s->err = errno;
		if (!state_allowed(ops, nops, lba, s->buf, s->ret, s->err)) {
			fprintf(stderr,
				"%s: block %d holds a state no write allows (ret %d errno %d)\n",
				when, lba, s->ret, s->err);
			bad = 1;
		}
	}
	pmemblk_close(pbp);
	return bad;
}

static int check(const char *image, const struct crashx_log *log)
{
	struct op ops[MAX_OPS];
	size_t nops = 0;
	int created = 0;
	for (size_t i = 0; i < log->n; i++) {
		const char *line = log->lines[i];
		char be, kind;
		int lba;
		unsigned long long seed;
		if (strcmp(line, "E create") == 0) {
			created = 1;
		} else if (sscanf(line, "%c %c %d %llu", &be, &kind, &lba, &seed) == 4 &&
			   (kind == 'w' || kind == 'z' || kind == 'e')) {
			if (be == 'B') {
				UT_ASSERT(nops < MAX_OPS);
				ops[nops++] = (struct op){kind, lba, seed, i, SIZE_MAX};
			} else {
				for (size_t j = 0; j < nops; j++)
					if (ops[j].kind == kind && ops[j].lba == lba &&
					    ops[j].seed == seed && ops[j].end == SIZE_MAX)
						ops[j].end = i;
			}
		}
	}

	if (!created) {
		/* a half-made pool may be refused; if it opens it must be sane */
		PMEMblkpool *pbp = pmemblk_open(image, BSIZE);
		if (pbp == NULL)
			return 0;
		pmemblk_close(pbp);
		return pmemblk_check(image, BSIZE) == 1 ? 0 : 1;
	}

	/* check first: it must not change the file, and see the recovered state */
	int ret = pmemblk_check(image, BSIZE);
	if (ret != 1) {
		fprintf(stderr, "pmemblk_check returned %d: %s\n", ret, pmemblk_errormsg());
		return 1;
	}
	struct block_state first[NLBA], second[NLBA];
	if (check_blocks(image, ops, nops, "after recovery", first))
		return 1;
	/* recovery is durable and idempotent: a second open sees the very same blocks */
	if (check_blocks(image, ops, nops, "second open", second))
		return 1;
	for (int lba = 0; lba < NLBA; lba++) {
		if (first[lba].ret != second[lba].ret ||
		    (first[lba].ret == 0 && memcmp(first[lba].buf, second[lba].buf, BSIZE) != 0)) {
			fprintf(stderr, "block %d changed between two opens\n", lba);
			return 1;
		}
	}
	ret = pmemblk_check(image, BSIZE);
	if (ret != 1) {
		fprintf(stderr, "pmemblk_check after recovery returned %d\n", ret);
		return 1;
	}
	return 0;
}

static const struct crashx_workload workloads[] = {
	{"seq", run_seq, check, 0},
	{"lanes", run_lanes, check, 0},
	{"async-sync", run_async_sync, check, 0},
	{"async-threads", run_async_threads, check, 0},
};

int main(int argc, char *argv[])
{
	return crashx_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}
