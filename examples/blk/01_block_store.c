/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 01_block_store: a small persistent record store on an array of atomic blocks.
 *
 *	example_blk_store [--new | --existing] FILE
 *
 * Every pmemblk_write() replaces one block atomically: after a crash the block holds either
 * the old or the new contents, never a mix. The store builds on that: records live in blocks
 * 1..NRECORDS, and block 0 holds a header naming the generation the records belong to. A run
 * writes the next generation of all records first and the header last, so the header is the
 * commit point: whatever happens, the header's generation is complete on media.
 *
 * Each run verifies what the previous run left (or starts afresh with --new or a missing
 * file; --existing insists on a previous run), shows set_zero (a block that reads as zeros without
 *copying any data) and set_error (a block that fails with EIO until it is rewritten), and finally
 *asks pmemblk_check() whether the pool is consistent. It exits non-zero if anything is not as
 *expected.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpmemblk.h>

#define BLOCK_SIZE ((size_t)512)
#define POOL_SIZE  ((size_t)32 << 20)
#define NRECORDS   8
#define HEADER_BLK 0
#define ZERO_BLK   (NRECORDS + 1)
#define ERROR_BLK  (NRECORDS + 2)

#define STORE_MAGIC "blk-store-v1"

struct header {
	char magic[16];
	unsigned long long generation;
};

static int failed;

#define EXPECT(cond, ...)                                            \
	do {                                                         \
		if (!(cond)) {                                       \
			fprintf(stderr, "unexpected: " __VA_ARGS__); \
			fprintf(stderr, "\n");                       \
			failed = 1;                                  \
		}                                                    \
	} while (0)

static void format_record(char *block, unsigned long long generation, int index)
{
	memset(block, 0, BLOCK_SIZE);
	snprintf(block, BLOCK_SIZE, "record %d of generation %llu", index, generation);
}

static int is_zero(const char *block)
{
	for (size_t i = 0; i < BLOCK_SIZE; i++)
		if (block[i] != 0)
			return 0;
	return 1;
}

static PMEMblkpool *open_store(const char *path, int fresh, int existing)
{
	if (fresh)
		unlink(path);
	else {
		/* bsize given: an existing pool with another block size is refused (EINVAL) */
		PMEMblkpool *pbp = pmemblk_open(path, BLOCK_SIZE);
		if (pbp != NULL || errno != ENOENT || existing)
			return pbp;
	}
	printf("creating %s: %zu MiB, %zu-byte blocks\n", path, POOL_SIZE >> 20, BLOCK_SIZE);
	return pmemblk_create(path, BLOCK_SIZE, POOL_SIZE, 0600);
}

/* Returns the committed generation, 0 for a new store. */
static unsigned long long load_store(PMEMblkpool *pbp)
{
	char block[BLOCK_SIZE], expected[BLOCK_SIZE];
	struct header hdr;

	if (pmemblk_read(pbp, block, HEADER_BLK) != 0) {
		perror("pmemblk_read(header)");
		exit(1);
	}
	if (is_zero(block)) {
		printf("empty store (never-written blocks read as zeros)\n");
		return 0;
	}
	memcpy(&hdr, block, sizeof(hdr));
	if (memcmp(hdr.magic, STORE_MAGIC, sizeof(STORE_MAGIC)) != 0) {
		fprintf(stderr, "block 0 does not hold a store header\n");
		exit(1);
	}
	printf("found generation %llu\n", hdr.generation);
	for (int i = 1; i <= NRECORDS; i++) {
		format_record(expected, hdr.generation, i);
		EXPECT(pmemblk_read(pbp, block, i) == 0, "read of record %d failed", i);
		EXPECT(memcmp(block, expected, BLOCK_SIZE) == 0,
		       "record %d is not of generation %llu", i, hdr.generation);
	}
	return hdr.generation;
}

static void store_generation(PMEMblkpool *pbp, unsigned long long generation)
{
	char block[BLOCK_SIZE];
	for (int i = 1; i <= NRECORDS; i++) {
		format_record(block, generation, i);
		if (pmemblk_write(pbp, block, i) != 0) {
			fprintf(stderr, "pmemblk_write(%d): %s\n", i, pmemblk_errormsg());
			exit(1);
		}
	}
	/* the commit point: one atomic block write */
	struct header hdr = {.generation = generation};
	memcpy(hdr.magic, STORE_MAGIC, sizeof(STORE_MAGIC));
	memset(block, 0, BLOCK_SIZE);
	memcpy(block, &hdr, sizeof(hdr));
	if (pmemblk_write(pbp, block, HEADER_BLK) != 0) {
		fprintf(stderr, "pmemblk_write(header): %s\n", pmemblk_errormsg());
		exit(1);
	}
	printf("committed generation %llu (%d records + header)\n", generation, NRECORDS);
}

static void show_zero_and_error(PMEMblkpool *pbp)
{
	char block[BLOCK_SIZE];

	memset(block, 'z', BLOCK_SIZE);
	EXPECT(pmemblk_write(pbp, block, ZERO_BLK) == 0, "write of block %d", ZERO_BLK);
	EXPECT(pmemblk_set_zero(pbp, ZERO_BLK) == 0, "set_zero");
	EXPECT(pmemblk_read(pbp, block, ZERO_BLK) == 0 && is_zero(block),
	       "a zeroed block must read as zeros");
	printf("set_zero(%d): reads as zeros\n", ZERO_BLK);

	EXPECT(pmemblk_set_error(pbp, ERROR_BLK) == 0, "set_error");
	errno = 0;
	EXPECT(pmemblk_read(pbp, block, ERROR_BLK) == -1 && errno == EIO,
	       "a block in error state must fail with EIO");
	printf("set_error(%d): read fails with EIO (\"%s\")\n", ERROR_BLK, pmemblk_errormsg());
	memset(block, 'e', BLOCK_SIZE);
	EXPECT(pmemblk_write(pbp, block, ERROR_BLK) == 0, "write clears the error state");
	memset(block, 0, BLOCK_SIZE);
	EXPECT(pmemblk_read(pbp, block, ERROR_BLK) == 0 && block[0] == 'e',
	       "rewritten block must read back");
	printf("write(%d): clears the error state\n", ERROR_BLK);

	long long past_end = (long long)pmemblk_nblock(pbp);
	errno = 0;
	EXPECT(pmemblk_read(pbp, block, past_end) == -1 && errno == EINVAL,
	       "block nblock is out of range");
}

int main(int argc, char *argv[])
{
	int fresh = argc > 1 && strcmp(argv[1], "--new") == 0;
	int existing = argc > 1 && strcmp(argv[1], "--existing") == 0;
	if (argc != 2 + fresh + existing) {
		fprintf(stderr, "usage: %s [--new | --existing] FILE\n", argv[0]);
		return 2;
	}
	const char *path = argv[1 + fresh + existing];

	PMEMblkpool *pbp = open_store(path, fresh, existing);
	if (pbp == NULL) {
		fprintf(stderr, "%s: %s\n", path, pmemblk_errormsg());
		return 1;
	}
	printf("%zu blocks of %zu bytes\n", pmemblk_nblock(pbp), pmemblk_bsize(pbp));

	unsigned long long generation = load_store(pbp);
	EXPECT(!existing || generation > 0, "--existing: no committed generation found");
	store_generation(pbp, generation + 1);
	show_zero_and_error(pbp);
	pmemblk_close(pbp);

	int consistent = pmemblk_check(path, BLOCK_SIZE);
	printf("pmemblk_check: %s\n", consistent == 1 ? "consistent" : "NOT consistent");
	EXPECT(consistent == 1, "pmemblk_check returned %d", consistent);

	/* reopen: the committed generation survives the close */
	pbp = pmemblk_open(path, 0);
	EXPECT(pbp != NULL, "reopen: %s", pmemblk_errormsg());
	if (pbp != NULL) {
		EXPECT(load_store(pbp) == generation + 1, "reopened store lost the commit");
		pmemblk_close(pbp);
	}
	return failed;
}
