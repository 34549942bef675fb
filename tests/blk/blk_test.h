/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the libpmemblk tests: test files, raw file access, block patterns. */

#ifndef PMEMBLK_TEST_H
#define PMEMBLK_TEST_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpmemblk.h>

#include "ut.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define BT_UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define BT_UNDER_VALGRIND() 0
#endif

/* Pools of hundreds of GiB need more address space than valgrind can give. */
static inline bool bt_huge_pools_possible(void)
{
	return !BT_UNDER_VALGRIND();
}

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/* A unique path in the test directory: <dir>/blk_<pid>_<name>. */
static inline const char *bt_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/blk_%d_%s", ut_test_dir(), (int)getpid(), name);
	return buf;
}

/* A sparse file of the given size (any previous content removed). */
static inline void bt_sparse_file(const char *path, unsigned long long size)
{
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		UT_FATAL("open %s: %s", path, strerror(errno));
	if (ftruncate(fd, (off_t)size) != 0)
		UT_FATAL("ftruncate %s: %s", path, strerror(errno));
	close(fd);
}

static inline void bt_pwrite(const char *path, const void *buf, size_t len, unsigned long long off)
{
	int fd = open(path, O_RDWR);
	if (fd < 0)
		UT_FATAL("open %s: %s", path, strerror(errno));
	if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
		UT_FATAL("pwrite %s: %s", path, strerror(errno));
	close(fd);
}

static inline void bt_pread(const char *path, void *buf, size_t len, unsigned long long off)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		UT_FATAL("open %s: %s", path, strerror(errno));
	if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
		UT_FATAL("pread %s: %s", path, strerror(errno));
	close(fd);
}

static inline uint32_t bt_read_u32(const char *path, unsigned long long off)
{
	uint32_t v;
	bt_pread(path, &v, sizeof(v), off);
	return v;
}

static inline void bt_write_u32(const char *path, unsigned long long off, uint32_t v)
{
	bt_pwrite(path, &v, sizeof(v), off);
}

static inline unsigned long long bt_file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		UT_FATAL("stat %s: %s", path, strerror(errno));
	return (unsigned long long)st.st_size;
}

static inline bool bt_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Creating with poolsize 0 on huge sparse files must not allocate them. */
static inline void bt_no_fallocate(void)
{
	int off = 0;
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "fallocate.at_create", &off), 0);
}

/* block content: every byte equal to value */
static inline void bt_fill(void *buf, size_t bsize, int value)
{
	memset(buf, value, bsize);
}

/* -1 if the block is not uniform (torn), else its byte value */
static inline int bt_uniform(const void *buf, size_t bsize)
{
	const unsigned char *b = buf;
	for (size_t i = 1; i < bsize; i++)
		if (b[i] != b[0])
			return -1;
	return b[0];
}

/* Reads block lba and returns its uniform value (aborts on a torn block or a failure). */
static inline int bt_read_value(PMEMblkpool *pbp, long long lba)
{
	size_t bsize = pmemblk_bsize(pbp);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	if (pmemblk_read(pbp, buf, lba) != 0)
		UT_FATAL("read %lld: %s", lba, pmemblk_errormsg());
	int v = bt_uniform(buf, bsize);
	if (v < 0)
		UT_FATAL("block %lld is torn", lba);
	free(buf);
	return v;
}

static inline void bt_write_value(PMEMblkpool *pbp, long long lba, int value)
{
	size_t bsize = pmemblk_bsize(pbp);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	bt_fill(buf, bsize, value);
	if (pmemblk_write(pbp, buf, lba) != 0)
		UT_FATAL("write %lld: %s", lba, pmemblk_errormsg());
	free(buf);
}

/* Runs pmempool check on the file when the tool is installed; -1 if it is not. */
static inline int bt_pmempool_check(const char *path)
{
	if (system("command -v pmempool >/dev/null 2>&1") != 0)
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "pmempool check '%s' >/dev/null 2>&1", path);
	int ret = system(cmd);
	return ret == 0 ? 1 : 0;
}

/* PMDK's Fletcher64 variant (words at csum_off and from skip_off on count as zero) */
static inline uint64_t bt_checksum(const void *buf, size_t len, size_t csum_off, size_t skip_off)
{
	const unsigned char *p = buf;
	uint32_t lo = 0, hi = 0;
	for (size_t pos = 0; pos < len; pos += 4) {
		uint32_t w = 0;
		if (!(pos >= csum_off && pos < csum_off + 8) && !(skip_off && pos >= skip_off))
			memcpy(&w, p + pos, 4);
		lo += w;
		hi += lo;
	}
	return (uint64_t)hi << 32 | lo;
}

/* Rewrites the pool header checksum of a file (CKSUM_2K decided by the header itself). */
static inline void bt_fix_header_checksum(const char *path)
{
	unsigned char hdr[4096];
	bt_pread(path, hdr, sizeof(hdr), 0);
	uint32_t incompat;
	memcpy(&incompat, hdr + 0x10, 4);
	uint64_t csum = bt_checksum(hdr, sizeof(hdr), 0xFF8, (incompat & 2) ? 0x800 : 0);
	bt_pwrite(path, &csum, sizeof(csum), 0xFF8);
}

/* Rewrites the checksum of the BTT info block at file offset off. */
static inline void bt_fix_info_checksum(const char *path, unsigned long long off)
{
	unsigned char info[4096];
	bt_pread(path, info, sizeof(info), off);
	uint64_t csum = bt_checksum(info, sizeof(info), 0xFF8, 0);
	bt_pwrite(path, &csum, sizeof(csum), off + 0xFF8);
}

/* file offsets of the single arena of a pool below 512 GiB (from its info block) */
struct bt_arena {
	unsigned long long info, data, map, flog, backup;
	uint32_t external_nlba, internal_nlba, internal_lbasize;
};

static inline void bt_arena_at(const char *path, unsigned long long arena_off, struct bt_arena *a)
{
	unsigned char info[4096];
	bt_pread(path, info, sizeof(info), arena_off);
	UT_ASSERT(memcmp(info, "BTT_ARENA_INFO", 14) == 0);
	uint64_t v;
	a->info = arena_off;
	memcpy(&a->external_nlba, info + 0x3C, 4);
	memcpy(&a->internal_lbasize, info + 0x40, 4);
	memcpy(&a->internal_nlba, info + 0x44, 4);
	memcpy(&v, info + 0x58, 8);
	a->data = arena_off + v;
	memcpy(&v, info + 0x60, 8);
	a->map = arena_off + v;
	memcpy(&v, info + 0x68, 8);
	a->flog = arena_off + v;
	memcpy(&v, info + 0x70, 8);
	a->backup = arena_off + v;
}

static inline void bt_arena0(const char *path, struct bt_arena *a)
{
	bt_arena_at(path, 0x2000, a);
}

#endif
