/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nblock for many pool and block sizes: the golden values of PMDK's test suite and the
 * specification's formula, on sparse files created with poolsize 0.
 */

#include "blk_test.h"

static char Path[512];

/* the specification's formula (§2.12), written independently of the library */
static long long formula(unsigned long long file_size, unsigned long long bsize)
{
	unsigned long long raw = file_size / 4096 * 4096 - 8192;
	unsigned long long ilbs = bsize < 512 ? 512 : bsize;
	ilbs = (ilbs + 255) / 256 * 256;
	if (ilbs > 0xFFFFFFFFULL || raw < 16 * MiB)
		return -1;
	long long total = 0;
	while (raw >= 16 * MiB) {
		unsigned long long a = raw < (1ULL << 39) ? raw : (1ULL << 39);
		raw -= a;
		unsigned long long inlba = (a - 28672) / (ilbs + 4);
		if (inlba < 512)
			return -1;
		total += (long long)inlba - 256;
	}
	return total;
}

/* expected < 0: create fails with EINVAL */
static void one(unsigned long long size, size_t bsize, long long expected)
{
	bt_sparse_file(Path, size);
	UT_ASSERTeq(formula(size, bsize), expected);
	if (expected < 0) {
		UT_ASSERT_ERR(pmemblk_create(Path, bsize, 0, 0600), NULL, EINVAL);
		unlink(Path);
		return;
	}
	PMEMblkpool *pbp = pmemblk_create(Path, bsize, 0, 0600);
	if (pbp == NULL)
		UT_FATAL("create %llu/%zu: %s", size, bsize, pmemblk_errormsg());
	UT_ASSERTeq(pmemblk_nblock(pbp), expected);
	UT_ASSERTeq(pmemblk_bsize(pbp), bsize);
	pmemblk_close(pbp);

	if (pmemblk_check(Path, bsize) != 1)
		UT_FATAL("check %llu/%zu: %s", size, bsize, pmemblk_errormsg());
	UT_ASSERT_ERR(pmemblk_check(Path, bsize + 1), -1, EINVAL);
	UT_ASSERTeq(pmemblk_check(Path, 0), 1);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_bsize(pbp), bsize);
	UT_ASSERTeq(pmemblk_nblock(pbp), expected);
	pmemblk_close(pbp);
	UT_ASSERT_ERR(pmemblk_create(Path, bsize, 0, 0600), NULL, EEXIST);
	unlink(Path);
}

int main(void)
{
	bt_path(Path, sizeof(Path), "nblock");
	bt_no_fallocate();

	static const struct {
		unsigned long long size;
		size_t bsize;
		long long nblock;
	} golden[] = {
		{2 * GiB, 512, 4161462},
		{2 * GiB, 520, 2781410},
		{2 * GiB, 528, 2781410},
		{2 * GiB, 4096, 523511},
		{2 * GiB, 4160, 492729},
		{2 * GiB, 4224, 492729},
		{2 * GiB, 1, 4161462},
		{2 * GiB, 17, 4161462},
		{2 * GiB, 511, 4161462},
		{2 * GiB, 1 * MiB, 1791},
		{2 * GiB, 2 * MiB, 767},
		{2 * GiB, 4 * MiB, -1},
		{2 * GiB, 2 * GiB, -1},
		{2 * GiB, 0, -1},
		{2 * GiB, (size_t)-1, -1},
		{512 * GiB, 512, 1065417916},
		{512 * GiB, 520, 712118626},
		{512 * GiB, 528, 712118626},
		{512 * GiB, 4096, 134086518},
		{512 * GiB, 4160, 126206304},
		{512 * GiB, 4224, 126206304},
		{512 * GiB + 8 * KiB, 512, 1065417932},
		{512 * GiB + 8 * KiB, 520, 712118636},
		{512 * GiB + 8 * KiB, 4096, 134086520},
		{512 * GiB + 8 * KiB, 4224, 126206306},
		{513 * GiB, 512, 1067498499},
		{513 * GiB, 528, 713509189},
		{513 * GiB, 4096, 134348143},
		{513 * GiB, 4160, 126452538},
		{514 * GiB, 512, 1069579394},
		{514 * GiB, 520, 714900046},
		{514 * GiB, 4096, 134610031},
		{514 * GiB, 4224, 126699035},
		{1026 * GiB, 512, 2134997326},
		{1026 * GiB, 4096, 268696551},
		{1 * GiB, 512, 2080567},
		{1 * GiB, 2096896, 256},
		{1 * GiB, 2096897, -1},
		{PMEMBLK_MIN_POOL, 512, 32202},
		{PMEMBLK_MIN_POOL, 520, 21439},
		{PMEMBLK_MIN_POOL, 528, 21439},
		{PMEMBLK_MIN_POOL, 4096, 3829},
		{PMEMBLK_MIN_POOL, 4160, 3588},
		{PMEMBLK_MIN_POOL, 4224, 3588},
		{16 * MiB + 64 * KiB, 512, 32313},
		{17 * MiB, 512, 34218},
		{17 * MiB, 4096, 4082},
		{20 * MiB, 4096, 4850},
		{20 * MiB, 10, 40315},
		{40 * MiB, 4096, 9965},
		{128 * MiB, 512, 259784},
		{64 * MiB, 512, 129728},
		{64 * MiB, 4096, 16103},
	};
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		if (golden[i].size > 64 * GiB && !bt_huge_pools_possible())
			continue;
		if (golden[i].bsize == 0 || golden[i].bsize > 0xFFFFFFFFULL) {
			/* refused before the geometry is even looked at */
			bt_sparse_file(Path, golden[i].size);
			UT_ASSERT_ERR(pmemblk_create(Path, golden[i].bsize, 0, 0600), NULL, EINVAL);
			unlink(Path);
			continue;
		}
		one(golden[i].size, golden[i].bsize, golden[i].nblock);
	}

	/* too small for a pool: 2 MiB whatever the block size */
	bt_sparse_file(Path, 2 * MiB);
	UT_ASSERT_ERR(pmemblk_create(Path, 512, 0, 0600), NULL, EINVAL);
	unlink(Path);

	/* the formula on pseudo-random sizes (odd sizes, around the arena boundary) */
	unsigned long long seed = 0x9E3779B97F4A7C15ULL;
	for (int i = 0; i < 40; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned long long size = PMEMBLK_MIN_POOL + (seed >> 20) % (4 * GiB);
		if (i % 4 == 0 && bt_huge_pools_possible())
			size = 512 * GiB + (seed >> 33) % (64 * MiB);
		static const size_t bsizes[] = {1, 100, 512, 520, 1000, 4096, 4224, 65536};
		size_t bsize = bsizes[(seed >> 8) % 8];
		one(size, bsize, formula(size, bsize));
	}
	return 0;
}
