/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 02_async_io: block writes and reads as miniasync futures, copied by a thread pool.
 *
 *	example_blk_async FILE
 *
 * pmemblk_xcreate() binds a virtual data mover (vdm) to the pool; here miniasync's thread
 * pool mover, so block copies run on its worker threads while the calling thread keeps
 * polling other futures. pmemblk_write_async() and pmemblk_read_async() only describe the
 * operation; nothing happens until the future is polled, here by runtime_wait_multiple(),
 * which drives a whole batch at once. A write future that completes with return_value 0
 * gives the same guarantee as pmemblk_write(): the block is durable and was replaced
 * atomically. Errors come back as return_value -1 with errno set, as in the synchronous API.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libminiasync.h>
#define PMEMBLK_USE_MINIASYNC 1
#include <libpmemblk.h>

#define BLOCK_SIZE ((size_t)4096)
#define POOL_SIZE  ((size_t)32 << 20)
#define BATCH	   32
#define STRIDE	   7 /* spread the blocks over the pool */

/* The mover reads and writes these after the calls return: they must outlive the futures. */
static unsigned char out[BATCH][BLOCK_SIZE];
static unsigned char in[BATCH][BLOCK_SIZE];
static struct pmemblk_write_async_future writes[BATCH];
static struct pmemblk_read_async_future reads[BATCH];

int main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	int failed = 0;

	struct data_mover_threads *dmt = data_mover_threads_new(2, 128, FUTURE_NOTIFIER_NONE);
	struct runtime *rt = runtime_new();
	if (dmt == NULL || rt == NULL) {
		fprintf(stderr, "cannot set up miniasync\n");
		return 1;
	}
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	unlink(path);
	PMEMblkpool *pbp = pmemblk_xcreate(path, BLOCK_SIZE, POOL_SIZE, 0600, vdm);
	if (pbp == NULL) {
		fprintf(stderr, "pmemblk_xcreate(%s): %s\n", path, pmemblk_errormsg());
		return 1;
	}
	printf("%s: %zu blocks of %zu bytes, copies on a 2-thread data mover\n", path,
	       pmemblk_nblock(pbp), pmemblk_bsize(pbp));

	struct future *batch[BATCH];
	for (int i = 0; i < BATCH; i++) {
		memset(out[i], 'A' + i % 26, BLOCK_SIZE);
		snprintf((char *)out[i], BLOCK_SIZE, "block %d", i * STRIDE);
		writes[i] = pmemblk_write_async(pbp, out[i], (long long)i * STRIDE);
		batch[i] = FUTURE_AS_RUNNABLE(&writes[i]);
	}
	runtime_wait_multiple(rt, batch, BATCH);
	for (int i = 0; i < BATCH; i++) {
		if (FUTURE_OUTPUT(&writes[i])->return_value != 0) {
			fprintf(stderr, "write future %d failed\n", i);
			failed = 1;
		}
	}
	printf("%d write futures completed: blocks durable\n", BATCH);

	for (int i = 0; i < BATCH; i++) {
		reads[i] = pmemblk_read_async(pbp, in[i], (long long)i * STRIDE);
		batch[i] = FUTURE_AS_RUNNABLE(&reads[i]);
	}
	runtime_wait_multiple(rt, batch, BATCH);
	int matching = 0;
	for (int i = 0; i < BATCH; i++) {
		if (FUTURE_OUTPUT(&reads[i])->return_value == 0 &&
		    memcmp(in[i], out[i], BLOCK_SIZE) == 0)
			matching++;
	}
	printf("%d of %d read futures returned the written blocks\n", matching, BATCH);
	if (matching != BATCH)
		failed = 1;

	/* errors surface in the output, with errno set by the poll that completed the future */
	struct pmemblk_read_async_future bad =
		pmemblk_read_async(pbp, in[0], (long long)pmemblk_nblock(pbp));
	errno = 0;
	runtime_wait(rt, FUTURE_AS_RUNNABLE(&bad));
	printf("read future past the end: return_value %d, errno %s\n",
	       FUTURE_OUTPUT(&bad)->return_value, errno == EINVAL ? "EINVAL" : strerror(errno));
	if (FUTURE_OUTPUT(&bad)->return_value != -1 || errno != EINVAL)
		failed = 1;

	/* the synchronous API sees the same blocks */
	unsigned char check[BLOCK_SIZE];
	if (pmemblk_read(pbp, check, 3 * STRIDE) != 0 || memcmp(check, out[3], BLOCK_SIZE) != 0) {
		fprintf(stderr, "pmemblk_read disagrees with the async write\n");
		failed = 1;
	}

	pmemblk_close(pbp);
	int consistent = pmemblk_check(path, BLOCK_SIZE);
	printf("pmemblk_check: %s\n", consistent == 1 ? "consistent" : "NOT consistent");
	if (consistent != 1)
		failed = 1;

	runtime_delete(rt);
	data_mover_threads_delete(dmt);
	unlink(path);
	return failed;
}
