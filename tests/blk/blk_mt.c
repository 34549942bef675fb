/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrency: readers never see a torn block or a block reused under them, writes to
 * one block are linearizable (a reader never goes back to an older value), more threads
 * than lanes work, and the pool is consistent afterwards.
 */

#include <pthread.h>
#include <stdatomic.h>

#include "blk_test.h"

static char Path[512];
static PMEMblkpool *Pool;

/* PMDK's blk_rw_mt: random LBAs 0..99, half reads (uniform), half writes */
struct random_args {
	unsigned seed;
	int ops;
	int id;
};

static void *random_worker(void *arg)
{
	struct random_args *a = arg;
	size_t bsize = pmemblk_bsize(Pool);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	unsigned seed = a->seed;
	unsigned char value = (unsigned char)(a->id * 37 + 1);
	for (int i = 0; i < a->ops; i++) {
		long long lba = rand_r(&seed) % 100;
		if (rand_r(&seed) % 2) {
			UT_ASSERTeq(pmemblk_read(Pool, buf, lba), 0);
			if (bt_uniform(buf, bsize) < 0)
				UT_FATAL("torn block %lld", lba);
		} else {
			value = (unsigned char)(value + 1);
			memset(buf, value, bsize);
			UT_ASSERTeq(pmemblk_write(Pool, buf, lba), 0);
		}
	}
	free(buf);
	return NULL;
}

static void random_mix(int nthreads, int ops, unsigned seed)
{
	bt_sparse_file(Path, 1 * GiB);
	Pool = pmemblk_create(Path, 4096, 0, 0600);
	UT_ASSERT(Pool != NULL);
	pthread_t th[16];
	struct random_args args[16];
	for (int i = 0; i < nthreads; i++) {
		args[i] = (struct random_args){seed + (unsigned)i, ops, i};
		UT_ASSERTeq(pthread_create(&th[i], NULL, random_worker, &args[i]), 0);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	pmemblk_close(Pool);
	UT_ASSERTeq(pmemblk_check(Path, 4096), 1);
	UT_ASSERTne(bt_pmempool_check(Path), 0);
	unlink(Path);
}

/*
 * Owners write increasing values (1..MAX_VALUE) to their own blocks; readers check that
 * each block only moves forward and is never torn. A reader seeing a block reused under
 * it would see another block's bytes (torn or from the wrong owner).
 */
#define NBLOCKS	  6
#define MAX_VALUE 250

static atomic_int Owners_done;

struct owner_args {
	int first; /* owns blocks first, first + 2, ... */
	int step;
};

static void *owner(void *arg)
{
	struct owner_args *a = arg;
	size_t bsize = pmemblk_bsize(Pool);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	for (int v = 1; v <= MAX_VALUE; v++) {
		for (int lba = a->first; lba < NBLOCKS; lba += a->step) {
			memset(buf, v, bsize);
			UT_ASSERTeq(pmemblk_write(Pool, buf, lba), 0);
		}
	}
	free(buf);
	atomic_fetch_add(&Owners_done, 1);
	return NULL;
}

static void *observer(void *arg)
{
	int nowners = *(int *)arg;
	size_t bsize = pmemblk_bsize(Pool);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	int last[NBLOCKS] = {0};
	unsigned seed = (unsigned)(uintptr_t)&last;
	while (atomic_load(&Owners_done) < nowners) {
		int lba = rand_r(&seed) % NBLOCKS;
		UT_ASSERTeq(pmemblk_read(Pool, buf, lba), 0);
		int v = bt_uniform(buf, bsize);
		if (v < 0)
			UT_FATAL("torn block %d", lba);
		if (v < last[lba])
			UT_FATAL("block %d went back from %d to %d", lba, last[lba], v);
		last[lba] = v;
	}
	free(buf);
	return NULL;
}

static void linearizable(size_t bsize, int nowners, int nobservers)
{
	unlink(Path);
	Pool = pmemblk_create(Path, bsize, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(Pool != NULL);
	atomic_store(&Owners_done, 0);
	pthread_t th[32];
	struct owner_args oargs[16];
	int n = 0;
	for (int i = 0; i < nobservers; i++)
		UT_ASSERTeq(pthread_create(&th[n++], NULL, observer, &nowners), 0);
	for (int i = 0; i < nowners; i++) {
		oargs[i] = (struct owner_args){i, nowners};
		UT_ASSERTeq(pthread_create(&th[n++], NULL, owner, &oargs[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (int lba = 0; lba < NBLOCKS; lba++)
		UT_ASSERTeq(bt_read_value(Pool, lba), MAX_VALUE);
	pmemblk_close(Pool);
	UT_ASSERTeq(pmemblk_check(Path, bsize), 1);

	Pool = pmemblk_open(Path, bsize);
	UT_ASSERT(Pool != NULL);
	for (int lba = 0; lba < NBLOCKS; lba++)
		UT_ASSERTeq(bt_read_value(Pool, lba), MAX_VALUE);
	pmemblk_close(Pool);
	unlink(Path);
}

/*
 * All threads hammer one block: writers reuse freed blocks as fast as possible. With 1 MiB
 * blocks a read copies long enough that, without read tracking, a writer would overwrite
 * the block under it.
 */
static atomic_int Hammer_stop;

static void *hammer_writer(void *arg)
{
	int id = *(int *)arg;
	size_t bsize = pmemblk_bsize(Pool);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	int writes = bsize > 64 * KiB ? 300 : 3000;
	for (int i = 0; i < writes; i++) {
		memset(buf, (id * 64 + i % 64) & 0xFF, bsize);
		UT_ASSERTeq(pmemblk_write(Pool, buf, 0), 0);
	}
	free(buf);
	atomic_fetch_add(&Hammer_stop, 1);
	return NULL;
}

static void *hammer_reader(void *arg)
{
	int nwriters = *(int *)arg;
	size_t bsize = pmemblk_bsize(Pool);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	long reads = 0;
	while (atomic_load(&Hammer_stop) < nwriters || reads == 0) {
		UT_ASSERTeq(pmemblk_read(Pool, buf, 0), 0);
		if (bt_uniform(buf, bsize) < 0)
			UT_FATAL("torn block 0 after %ld reads", reads);
		reads++;
	}
	free(buf);
	return NULL;
}

static void hammer_one_block(size_t bsize, int nwriters, int nreaders)
{
	bt_sparse_file(Path, 1 * GiB);
	Pool = pmemblk_create(Path, bsize, 0, 0600);
	UT_ASSERT(Pool != NULL);
	atomic_store(&Hammer_stop, 0);
	pthread_t th[32];
	int ids[16];
	int n = 0;
	for (int i = 0; i < nreaders; i++)
		UT_ASSERTeq(pthread_create(&th[n++], NULL, hammer_reader, &nwriters), 0);
	for (int i = 0; i < nwriters; i++) {
		ids[i] = i;
		UT_ASSERTeq(pthread_create(&th[n++], NULL, hammer_writer, &ids[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pmemblk_close(Pool);
	UT_ASSERTeq(pmemblk_check(Path, bsize), 1);
	unlink(Path);
}

int main(void)
{
	bt_path(Path, sizeof(Path), "mt");
	bt_no_fallocate();
	random_mix(5, 80, 123);
	random_mix(8, 1500, 456);
	linearizable(512, 2, 2);
	linearizable(4096, 3, 3);
	linearizable(520, 6, 6); /* more threads than lanes */
	hammer_one_block(512, 2, 2);
	hammer_one_block(512, 4, 6);
	hammer_one_block(1 * MiB, 1, 1);
	hammer_one_block(1 * MiB, 2, 3);
	return 0;
}
