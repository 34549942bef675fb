/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The asynchronous API (pmemblk_async(3)): PMDK PR #5480's blk_future cases with the
 * synchronous and the thread-pool mover, plus torn-read detection, errors, pools without a
 * mover, and polls that never wait for a lane.
 */

#include <pthread.h>
#include <stdatomic.h>

#define PMEMBLK_USE_MINIASYNC 1
#include "blk_test.h"

#include <libminiasync.h>

#define BSIZE	 512
#define NTHREADS 16
#define ROUNDS	 64

static char Path[512];
static PMEMblkpool *Pool;
static struct runtime *Rt;

static int async_write(PMEMblkpool *pbp, void *buf, long long lba)
{
	struct pmemblk_write_async_future fut = pmemblk_write_async(pbp, buf, lba);
	FUTURE_BUSY_POLL(&fut);
	UT_ASSERTeq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	return FUTURE_OUTPUT(&fut)->return_value;
}

static int async_read(PMEMblkpool *pbp, void *buf, long long lba)
{
	struct pmemblk_read_async_future fut = pmemblk_read_async(pbp, buf, lba);
	FUTURE_BUSY_POLL(&fut);
	UT_ASSERTeq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	return FUTURE_OUTPUT(&fut)->return_value;
}

static PMEMblkpool *new_pool(struct vdm *vdm)
{
	/* as the PR: an existing sparse file of 16 MiB + 64 KiB, poolsize 0 */
	bt_sparse_file(Path, 16 * MiB + 64 * KiB);
	PMEMblkpool *pbp = pmemblk_xcreate(Path, BSIZE, 0, 0600, vdm);
	if (pbp == NULL)
		UT_FATAL("xcreate: %s", pmemblk_errormsg());
	return pbp;
}

static void finish(PMEMblkpool *pbp)
{
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, BSIZE), 1);
	UT_ASSERTne(bt_pmempool_check(Path), 0);
	unlink(Path);
}

static void write_basic(struct vdm *vdm)
{
	PMEMblkpool *pbp = new_pool(vdm);
	unsigned char buf[BSIZE];
	memset(buf, 9, sizeof(buf));
	UT_ASSERTeq(async_write(pbp, buf, 0), 0);
	UT_ASSERTeq(bt_read_value(pbp, 0), 9);
	finish(pbp);
}

/* 32 futures on one block, driven together by the runtime: more futures than lanes */
static void write_multiple(struct vdm *vdm)
{
	PMEMblkpool *pbp = new_pool(vdm);
	enum { N = 32 };
	static unsigned char bufs[N][BSIZE];
	struct pmemblk_write_async_future futs[N];
	struct future *runnable[N];
	for (int i = 0; i < N; i++) {
		memset(bufs[i], 9, BSIZE);
		futs[i] = pmemblk_write_async(pbp, bufs[i], 0);
		runnable[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	runtime_wait_multiple(Rt, runnable, N);
	for (int i = 0; i < N; i++) {
		UT_ASSERTeq(FUTURE_STATE(&futs[i]), FUTURE_STATE_COMPLETE);
		UT_ASSERTeq(FUTURE_OUTPUT(&futs[i])->return_value, 0);
	}
	UT_ASSERTeq(bt_read_value(pbp, 0), 9);

	/* different values on different blocks, all in flight together */
	for (int i = 0; i < N; i++) {
		memset(bufs[i], i + 1, BSIZE);
		futs[i] = pmemblk_write_async(pbp, bufs[i], i % 8);
		runnable[i] = FUTURE_AS_RUNNABLE(&futs[i]);
	}
	runtime_wait_multiple(Rt, runnable, N);
	for (int i = 0; i < N; i++)
		UT_ASSERTeq(FUTURE_OUTPUT(&futs[i])->return_value, 0);
	for (int lba = 0; lba < 8; lba++) {
		/* one of the values written to the block, never a mix */
		int v = bt_read_value(pbp, lba);
		UT_ASSERT(v >= 1 && v <= N && (v - 1) % 8 == lba);
	}
	finish(pbp);
}

static void read_basic(struct vdm *vdm)
{
	PMEMblkpool *pbp = new_pool(vdm);
	unsigned char buf[BSIZE];
	/* not laid out yet: zeros */
	memset(buf, 0xFF, sizeof(buf));
	UT_ASSERTeq(async_read(pbp, buf, 0), 0);
	UT_ASSERTeq(bt_uniform(buf, BSIZE), 0);

	bt_write_value(pbp, 0, 9);
	memset(buf, 0, sizeof(buf));
	UT_ASSERTeq(async_read(pbp, buf, 0), 0);
	UT_ASSERTeq(bt_uniform(buf, BSIZE), 9);

	/* zero and error states */
	UT_ASSERTeq(pmemblk_set_zero(pbp, 0), 0);
	memset(buf, 0xFF, sizeof(buf));
	UT_ASSERTeq(async_read(pbp, buf, 0), 0);
	UT_ASSERTeq(bt_uniform(buf, BSIZE), 0);
	UT_ASSERTeq(pmemblk_set_error(pbp, 1), 0);
	errno = 0;
	UT_ASSERTeq(async_read(pbp, buf, 1), -1);
	UT_ASSERTeq(errno, EIO);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "EIO due to map entry error flag") == 0);
	/* a write clears the error state */
	memset(buf, 3, sizeof(buf));
	UT_ASSERTeq(async_write(pbp, buf, 1), 0);
	memset(buf, 0, sizeof(buf));
	UT_ASSERTeq(async_read(pbp, buf, 1), 0);
	UT_ASSERTeq(bt_uniform(buf, BSIZE), 3);
	finish(pbp);
}

static void errors(struct vdm *vdm)
{
	PMEMblkpool *pbp = new_pool(vdm);
	unsigned char buf[BSIZE] = {0};
	long long nblock = (long long)pmemblk_nblock(pbp);

	/* creating a future does nothing, not even error checks */
	struct pmemblk_write_async_future idle = pmemblk_write_async(pbp, buf, -1);
	UT_ASSERTeq(FUTURE_STATE(&idle), FUTURE_STATE_IDLE);
	UT_ASSERTeq(FUTURE_OUTPUT(&idle)->return_value, -1);

	errno = 0;
	UT_ASSERTeq(async_write(pbp, buf, -1), -1);
	UT_ASSERTeq(errno, EINVAL);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "negative block number") == 0);
	errno = 0;
	UT_ASSERTeq(async_read(pbp, buf, -1), -1);
	UT_ASSERTeq(errno, EINVAL);
	errno = 0;
	UT_ASSERTeq(async_write(pbp, buf, nblock), -1);
	UT_ASSERTeq(errno, EINVAL);
	errno = 0;
	UT_ASSERTeq(async_read(pbp, buf, nblock), -1);
	UT_ASSERTeq(errno, EINVAL);
	/* the failures released their lanes: everything still works */
	for (int i = 0; i < 600; i++)
		UT_ASSERTeq(async_write(pbp, buf, i % 3), 0);
	pmemblk_close(pbp);

	/* read-only pool (unknown ro_compat feature) */
	bt_write_u32(Path, 0x14, 0x100);
	bt_fix_header_checksum(Path);
	pbp = pmemblk_xopen(Path, BSIZE, vdm);
	UT_ASSERT(pbp != NULL);
	errno = 0;
	UT_ASSERTeq(async_write(pbp, buf, 0), -1);
	UT_ASSERTeq(errno, EROFS);
	UT_ASSERTeq(async_read(pbp, buf, 0), 0);
	pmemblk_close(pbp);
	unlink(Path);

	/* the same errors as the synchronous calls from xcreate/xopen */
	UT_ASSERT_ERR(pmemblk_xcreate(Path, 0, 20 * MiB, 0600, vdm), NULL, EINVAL);
	UT_ASSERT_ERR(pmemblk_xopen(Path, 0, vdm), NULL, ENOENT);
}

/* Pools opened without a mover (plain create/open, or a NULL vdm) copy in the CPU. */
static void no_mover(void)
{
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, BSIZE, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	unsigned char buf[BSIZE];
	memset(buf, 0x5A, sizeof(buf));
	UT_ASSERTeq(async_write(pbp, buf, 4), 0);
	memset(buf, 0, sizeof(buf));
	UT_ASSERTeq(async_read(pbp, buf, 4), 0);
	UT_ASSERTeq(bt_uniform(buf, BSIZE), 0x5A);
	UT_ASSERTeq(async_read(pbp, buf, 5), 0);
	UT_ASSERTeq(bt_uniform(buf, BSIZE), 0);
	pmemblk_close(pbp);

	pbp = pmemblk_xopen(Path, BSIZE, NULL);
	UT_ASSERT(pbp != NULL);
	memset(buf, 0x6B, sizeof(buf));
	UT_ASSERTeq(async_write(pbp, buf, 4), 0);
	UT_ASSERTeq(bt_read_value(pbp, 4), 0x6B);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, BSIZE), 1);
	unlink(Path);
}

/* --- from many threads ----------------------------------------------------------------- */

static pthread_barrier_t Barrier;

static void *own_block_worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	unsigned char buf[BSIZE];
	for (int round = 0; round < ROUNDS; round++) {
		memset(buf, i + 1, sizeof(buf));
		UT_ASSERTeq(async_write(Pool, buf, i), 0);
		pthread_barrier_wait(&Barrier);
		/* one thread verifies everything and clears the blocks */
		if (i == 0) {
			for (int j = 0; j < NTHREADS; j++) {
				UT_ASSERTeq(bt_read_value(Pool, j), j + 1);
				UT_ASSERTeq(pmemblk_set_zero(Pool, j), 0);
			}
		}
		pthread_barrier_wait(&Barrier);
	}
	return NULL;
}

static void *same_block_writer(void *arg)
{
	int i = (int)(intptr_t)arg;
	unsigned char buf[BSIZE];
	for (int round = 0; round < ROUNDS; round++) {
		memset(buf, i + 1, sizeof(buf));
		UT_ASSERTeq(async_write(Pool, buf, 9), 0);
	}
	return NULL;
}

static void *mixed_worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	unsigned char buf[BSIZE];
	for (int round = 0; round < ROUNDS; round++) {
		if (i % 2 == 0) {
			memset(buf, i + 1, sizeof(buf));
			UT_ASSERTeq(async_write(Pool, buf, 9), 0);
		} else {
			UT_ASSERTeq(async_read(Pool, buf, 9), 0);
			int v = bt_uniform(buf, BSIZE);
			if (v < 0)
				UT_FATAL("torn block read by an async read");
			UT_ASSERT(v == 0 || v % 2 == 1); /* written by an even thread: i + 1 */
		}
	}
	return NULL;
}

static void run_threads(void *(*fn)(void *))
{
	pthread_t th[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		UT_ASSERTeq(pthread_create(&th[i], NULL, fn, (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
}

static void threads(struct vdm *vdm)
{
	Pool = new_pool(vdm);
	pthread_barrier_init(&Barrier, NULL, NTHREADS);
	run_threads(own_block_worker);
	pthread_barrier_destroy(&Barrier);
	run_threads(same_block_writer);
	int v = bt_read_value(Pool, 9);
	UT_ASSERT(v >= 1 && v <= NTHREADS);
	UT_ASSERTeq(pmemblk_set_zero(Pool, 9), 0);
	run_threads(mixed_worker);
	finish(Pool);
}

/* --- a poll never waits for a lane -------------------------------------------------------- */

static atomic_int Gate;
static atomic_int Copies_started;

static void *gated_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	atomic_fetch_add(&Copies_started, 1);
	while (!atomic_load(&Gate))
		sched_yield();
	return memcpy(dst, src, n);
}

static void lane_never_waited_for(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(2, 1024, FUTURE_NOTIFIER_NONE);
	UT_ASSERT(dmt != NULL);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	PMEMblkpool *pbp = new_pool(data_mover_threads_get_vdm(dmt));
	bt_write_value(pbp, 1, 1); /* lays out the pool */

	/* more read futures than any pool has lanes; each first poll takes a lane if one is free */
	enum { N = 300 };
	static unsigned char bufs[N][BSIZE];
	static struct pmemblk_read_async_future reads[N];
	atomic_store(&Gate, 0);
	atomic_store(&Copies_started, 0);
	for (int i = 0; i < N; i++) {
		reads[i] = pmemblk_read_async(pbp, bufs[i], 1);
		future_poll(FUTURE_AS_RUNNABLE(&reads[i]), NULL);
	}
	int holding = 0;
	for (int i = 0; i < N; i++) {
		UT_ASSERTeq(FUTURE_STATE(&reads[i]), FUTURE_STATE_RUNNING);
		if (FUTURE_DATA(&reads[i])->stage != PMEMBLK_READ_WAITING_FOR_LANE)
			holding++;
	}
	UT_ASSERT(holding >= 1 && holding < N); /* all lanes taken, the rest waits */

	/* a write cannot get a lane now: its polls return at once */
	unsigned char wbuf[BSIZE];
	memset(wbuf, 2, sizeof(wbuf));
	struct pmemblk_write_async_future w = pmemblk_write_async(pbp, wbuf, 1);
	for (int i = 0; i < 1000; i++)
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&w), NULL), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(FUTURE_DATA(&w)->stage, PMEMBLK_WRITE_WAITING_FOR_LANE);

	atomic_store(&Gate, 1);
	struct future *runnable[N + 1];
	for (int i = 0; i < N; i++)
		runnable[i] = FUTURE_AS_RUNNABLE(&reads[i]);
	runnable[N] = FUTURE_AS_RUNNABLE(&w);
	runtime_wait_multiple(Rt, runnable, N + 1);
	UT_ASSERTeq(FUTURE_OUTPUT(&w)->return_value, 0);
	for (int i = 0; i < N; i++) {
		UT_ASSERTeq(FUTURE_OUTPUT(&reads[i])->return_value, 0);
		int v = bt_uniform(bufs[i], BSIZE);
		UT_ASSERT(v == 1 || v == 2);
	}
	UT_ASSERTeq(bt_read_value(pbp, 1), 2);
	finish(pbp);
	data_mover_threads_delete(dmt);
}

/* A write waits (without blocking) while a read copies the block it would reuse. */
static void write_waits_for_reader(void)
{
	struct data_mover_threads *dmt = data_mover_threads_new(1, 64, FUTURE_NOTIFIER_NONE);
	UT_ASSERT(dmt != NULL);
	data_mover_threads_set_memcpy_fn(dmt, gated_memcpy);
	PMEMblkpool *pbp = new_pool(data_mover_threads_get_vdm(dmt));

	/* lay out and write block 0 synchronously: the CPU copies, no gate */
	bt_write_value(pbp, 0, 1);
	atomic_store(&Gate, 0);
	atomic_store(&Copies_started, 0);

	/* a reader copies block 0's current data block, held up at the gate */
	unsigned char rbuf[BSIZE];
	struct pmemblk_read_async_future r = pmemblk_read_async(pbp, rbuf, 0);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&r), NULL), FUTURE_STATE_RUNNING);
	/* the same thread's sync write frees that block into its lane... */
	bt_write_value(pbp, 0, 2);
	/* ...so its next write on the lane must not overwrite it before the read is done */
	unsigned char wbuf[BSIZE];
	memset(wbuf, 3, sizeof(wbuf));
	struct pmemblk_write_async_future w = pmemblk_write_async(pbp, wbuf, 0);
	int waited = 0;
	for (int i = 0; i < 100; i++) {
		future_poll(FUTURE_AS_RUNNABLE(&w), NULL);
		if (FUTURE_DATA(&w)->stage == PMEMBLK_WRITE_IN_PROGRESS &&
		    FUTURE_DATA(&w)->internal.btt_write_fut.data.stage ==
			    BTT_WRITE_WAITING_FOR_READS)
			waited = 1;
	}
	atomic_store(&Gate, 1);
	FUTURE_BUSY_POLL(&r);
	UT_ASSERTeq(FUTURE_OUTPUT(&r)->return_value, 0);
	UT_ASSERTeq(bt_uniform(rbuf, BSIZE), 1);
	FUTURE_BUSY_POLL(&w);
	UT_ASSERTeq(FUTURE_OUTPUT(&w)->return_value, 0);
	UT_ASSERTeq(bt_read_value(pbp, 0), 3);
	/* the write took the lane holding the block under the read, and waited for it */
	UT_ASSERT(waited);
	finish(pbp);
	data_mover_threads_delete(dmt);
}

int main(void)
{
	bt_path(Path, sizeof(Path), "async");
	bt_no_fallocate();
	Rt = runtime_new();
	UT_ASSERT(Rt != NULL);

	struct data_mover_sync *dms = data_mover_sync_new();
	UT_ASSERT(dms != NULL);
	struct data_mover_threads *dmt = data_mover_threads_new(4, 1024, FUTURE_NOTIFIER_WAKER);
	UT_ASSERT(dmt != NULL);
	struct vdm *movers[] = {data_mover_sync_get_vdm(dms), data_mover_threads_get_vdm(dmt)};

	for (int m = 0; m < 2; m++) {
		write_basic(movers[m]);
		write_multiple(movers[m]);
		read_basic(movers[m]);
		errors(movers[m]);
		threads(movers[m]);
	}
	no_mover();
	lane_never_waited_for();
	write_waits_for_reader();

	data_mover_threads_delete(dmt);
	data_mover_sync_delete(dms);
	runtime_delete(Rt);
	return 0;
}
