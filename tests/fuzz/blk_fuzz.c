/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: arbitrary bytes opened as a libpmemblk pool. The smallest pool is 16 MiB,
 * so an input describes only the parts of the file that hold metadata: its first 12 KiB (pool
 * header, pmemblk descriptor, primary BTT info) go to the start of a PMEMBLK_MIN_POOL file,
 * the rest is placed at the end of the file (map, flog, backup info). Everything between
 * (block data) is zero. Inputs of even length get their pool-header and info-block checksums
 * recomputed first, so that the fuzzer also gets past checksum validation.
 *
 * Per input: pmemblk_check, open, read every block, write/zero/error some blocks and read
 * them back, close, open again. No crash or sanitizer report on any input; on a pool that
 * pmemblk_check calls consistent, the writes must read back (the damage of a pool it calls
 * inconsistent has been reported: only memory safety is asked for there).
 *
 * With FUZZ_MAKE_SEEDS=<dir> in the environment the program writes a seed corpus made from
 * pools created by the library and exits.
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpmemblk.h>

#define HEAD	   12288
#define POOL_SIZE  PMEMBLK_MIN_POOL
#define ARENA_OFF  0x2000
#define ARENA_SIZE (POOL_SIZE - ARENA_OFF)

/*
 * The pool lives in a memfd, opened by the library through its /proc/self/fd name (a new
 * open file description, so the library's flock works): nothing is left behind on a crash.
 */
static int pool_fd = -1;
static char path[256];

#define FUZZ_CHECK(cond)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__);                                                  \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* The Fletcher64 variant of PMDK (spec pmemblk.md 2.3). */
static uint64_t fletcher64(const unsigned char *buf, size_t len, size_t csum_off, size_t skip_off)
{
	uint32_t lo = 0, hi = 0;
	for (size_t pos = 0; pos + 4 <= len; pos += 4) {
		uint32_t w = 0;
		if (!(pos >= csum_off && pos < csum_off + 8) && !(skip_off != 0 && pos >= skip_off))
			memcpy(&w, buf + pos, 4);
		lo += w;
		hi += lo;
	}
	return (uint64_t)hi << 32 | lo;
}

static void fix_checksums(unsigned char *head, size_t head_len, unsigned char *tail,
			  size_t tail_len)
{
	if (head_len >= 4096) {
		uint32_t incompat;
		memcpy(&incompat, head + 0x10, 4);
		uint64_t c = fletcher64(head, 4096, 0xFF8, (incompat & 0x2) ? 0x800 : 0);
		memcpy(head + 0xFF8, &c, 8);
	}
	if (head_len >= ARENA_OFF + 4096) {
		uint64_t c = fletcher64(head + ARENA_OFF, 4096, 0xFF8, 0);
		memcpy(head + ARENA_OFF + 0xFF8, &c, 8);
	}
	/* the backup info block is the last 4 KiB of the (only) arena = of the file */
	if (tail_len >= 4096) {
		unsigned char *b = tail + tail_len - 4096;
		uint64_t c = fletcher64(b, 4096, 0xFF8, 0);
		memcpy(b + 0xFF8, &c, 8);
	}
}

static int write_pool(const uint8_t *data, size_t size)
{
	size_t head_len = size < HEAD ? size : HEAD;
	size_t tail_len = size - head_len;
	if (tail_len > POOL_SIZE - HEAD)
		return -1;
	unsigned char *copy = malloc(size + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, data, size);
	if (size % 2 == 0)
		fix_checksums(copy, head_len, copy + head_len, tail_len);
	int ret = -1;
	if (ftruncate(pool_fd, 0) == 0 && ftruncate(pool_fd, POOL_SIZE) == 0 &&
	    pwrite(pool_fd, copy, head_len, 0) == (ssize_t)head_len &&
	    pwrite(pool_fd, copy + head_len, tail_len, (off_t)(POOL_SIZE - tail_len)) ==
		    (ssize_t)tail_len)
		ret = 0;
	free(copy);
	return ret;
}

static volatile unsigned char sink;

/*
 * 'consistent': pmemblk_check called the pool consistent. A pool it calls inconsistent has
 * had its damage reported, so only memory safety is required of the library on it; on a
 * pool it accepts, writes must not interfere with each other.
 */
static void exercise(PMEMblkpool *pbp, int consistent)
{
	size_t bsize = pmemblk_bsize(pbp);
	size_t nblock = pmemblk_nblock(pbp);
	FUZZ_CHECK(bsize > 0 && bsize <= UINT32_MAX);
	FUZZ_CHECK(nblock * (bsize < 512 ? 512 : bsize) <= POOL_SIZE);
	unsigned char *buf = malloc(bsize), *pat = malloc(bsize);
	FUZZ_CHECK(buf != NULL && pat != NULL);
	for (size_t b = 0; b < nblock; b++) {
		errno = 0;
		int r = pmemblk_read(pbp, buf, (long long)b);
		FUZZ_CHECK(r == 0 || (r == -1 && errno != 0));
		if (r == 0)
			sink ^= buf[0] ^ buf[bsize - 1];
	}
	if (nblock >= 3) {
		/* three different blocks written in turn (different lanes): each must read back
		 * its own content, a damaged flog must not make two of them share storage */
		long long picks[3] = {0, (long long)nblock / 2, (long long)nblock - 1};
		int ok[3];
		for (int i = 0; i < 3; i++) {
			memset(pat, 0x40 + i, bsize);
			ok[i] = pmemblk_write(pbp, pat, picks[i]) == 0;
		}
		for (int i = 0; i < 3 && consistent; i++) {
			if (!ok[i])
				continue;
			memset(pat, 0x40 + i, bsize);
			FUZZ_CHECK(pmemblk_read(pbp, buf, picks[i]) == 0);
			FUZZ_CHECK(memcmp(buf, pat, bsize) == 0);
		}
		if (pmemblk_set_zero(pbp, picks[1]) == 0 && pmemblk_read(pbp, buf, picks[1]) == 0)
			FUZZ_CHECK(buf[0] == 0 && buf[bsize - 1] == 0);
		if (pmemblk_set_error(pbp, picks[2]) == 0) {
			errno = 0;
			FUZZ_CHECK(pmemblk_read(pbp, buf, picks[2]) == -1 && errno == EIO);
		}
	}
	free(buf);
	free(pat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (write_pool(data, size) != 0)
		return 0;
	int c = pmemblk_check(path, 0);
	FUZZ_CHECK(c == 1 || c == 0 || c == -1);
	PMEMblkpool *pbp = pmemblk_open(path, 0);
	if (pbp != NULL) {
		exercise(pbp, c == 1);
		pmemblk_close(pbp);
		/* whatever the library repaired or wrote must leave a pool it opens again */
		pbp = pmemblk_open(path, 0);
		if (pbp != NULL)
			pmemblk_close(pbp);
	}
	return 0;
}

/* --- seed corpus ------------------------------------------------------------------------ */

/* replaces every copy of the 16 bytes at 'at' in the pool with a value fixed by 'tag' */
static void replace_uuid(unsigned char *file, size_t at, unsigned tag)
{
	unsigned char old[16], fixed[16];
	memcpy(old, file + at, 16);
	for (int i = 0; i < 16; i++)
		fixed[i] = (unsigned char)(tag * 16 + (unsigned)i);
	for (size_t off = 0; off + 16 <= POOL_SIZE; off += 8)
		if (memcmp(file + off, old, 16) == 0)
			memcpy(file + off, fixed, 16);
}

/*
 * The same seed files on every run (UUIDs and creation time are otherwise random), so that
 * a run with a fixed -seed and -runs tries the same inputs every time.
 */
static void make_reproducible(unsigned char *file, int n)
{
	replace_uuid(file, 0x18, (unsigned)n * 3 + 1); /* poolset uuid, also the BTT parent */
	replace_uuid(file, 0x28, (unsigned)n * 3 + 2); /* pool uuid and its part/replica links */
	replace_uuid(file, ARENA_OFF + 0x10, (unsigned)n * 3 + 3); /* BTT arena uuid */
	uint64_t crtime = 1700000000;
	memcpy(file + 0x78, &crtime, sizeof(crtime));
	fix_checksums(file, HEAD, file + POOL_SIZE - 4096, 4096);
}

static void make_seed(const char *dir, int n, size_t bsize, int nwrites, int flags)
{
	char pool[300], seed[4096];
	const char *tmp = getenv("PMEMKIT_TEST_DIR");
	snprintf(pool, sizeof(pool), "%s/fuzz-blk-seed.%d", tmp && tmp[0] ? tmp : "/dev/shm",
		 (int)getpid());
	unlink(pool);
	PMEMblkpool *pbp = pmemblk_create(pool, bsize, POOL_SIZE, 0600);
	if (pbp == NULL) {
		fprintf(stderr, "seed %d: %s\n", n, pmemblk_errormsg());
		abort();
	}
	unsigned char *buf = malloc(bsize);
	size_t nblock = pmemblk_nblock(pbp);
	for (int i = 0; i < nwrites; i++) {
		memset(buf, 'a' + i % 26, bsize);
		pmemblk_write(pbp, buf, (long long)((size_t)i * 7919 % nblock));
	}
	if (flags) {
		pmemblk_set_zero(pbp, 3);
		pmemblk_set_error(pbp, 5);
	}
	pmemblk_close(pbp);
	free(buf);

	int fd = open(pool, O_RDONLY);
	unsigned char *file = malloc(POOL_SIZE);
	if (fd < 0 || file == NULL || pread(fd, file, POOL_SIZE, 0) != POOL_SIZE)
		abort();
	close(fd);
	unlink(pool);
	make_reproducible(file, n);
	/* the tail: from the map (its offset is in the primary info block) to the end */
	uint64_t mapoff = 0;
	memcpy(&mapoff, file + ARENA_OFF + 0x60, 8);
	size_t tail = mapoff != 0 && mapoff < ARENA_SIZE ? ARENA_SIZE - mapoff : 36864;
	snprintf(seed, sizeof(seed), "%s/seed-%02d", dir, n);
	FILE *out = fopen(seed, "wb");
	/* an even total length: checksums are recomputed, and are right already */
	size_t len = HEAD + tail;
	if (out == NULL || fwrite(file, 1, HEAD, out) != HEAD ||
	    fwrite(file + POOL_SIZE - tail, 1, tail, out) != tail)
		abort();
	if (len % 2)
		fputc(0, out);
	fclose(out);
	free(file);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pool_fd = memfd_create("fuzz_blk", 0);
	if (pool_fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pool_fd);
	const char *seeds = getenv("FUZZ_MAKE_SEEDS");
	if (seeds == NULL)
		return 0;
	int n = 0;
	make_seed(seeds, n++, 512, 0, 0);
	make_seed(seeds, n++, 4096, 0, 0);
	make_seed(seeds, n++, 512, 5, 1);
	make_seed(seeds, n++, 4096, 8, 1);
	make_seed(seeds, n++, 520, 3, 0);
	make_seed(seeds, n++, 4096, 300, 1);
	exit(0);
}
