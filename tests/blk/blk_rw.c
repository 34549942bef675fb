/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block operations: PMDK's blk_rw scripts, zero/error state transitions, pools above
 * 512 GiB (several arenas, sparse files), map zeroing per arena, info-block repair.
 */

#include "blk_test.h"

static char Path[512];

/*
 * A tiny script language as in PMDK's blk_rw test: "w<lba>" writes the next value of a
 * per-run counter (1, 2, ...), "r<lba>=<v>" expects a uniform block of byte v,
 * "r<lba>=EIO"/"=EINVAL" expects that error, "z<lba>"/"e<lba>" set zero/error.
 */
static void run_script(PMEMblkpool *pbp, const char *script)
{
	char *copy = strdup(script);
	UT_ASSERT(copy != NULL);
	size_t bsize = pmemblk_bsize(pbp);
	unsigned char *buf = malloc(bsize);
	UT_ASSERT(buf != NULL);
	int counter = 0;
	char *save = NULL;
	for (char *op = strtok_r(copy, " ", &save); op != NULL; op = strtok_r(NULL, " ", &save)) {
		long long lba = strtoll(op + 1, NULL, 10);
		char *eq = strchr(op, '=');
		switch (op[0]) {
		case 'w':
			counter++;
			bt_write_value(pbp, lba, counter);
			break;
		case 'z':
			UT_ASSERTeq(pmemblk_set_zero(pbp, lba), 0);
			break;
		case 'e':
			UT_ASSERTeq(pmemblk_set_error(pbp, lba), 0);
			break;
		case 'r':
			UT_ASSERT(eq != NULL);
			if (strcmp(eq + 1, "EIO") == 0) {
				UT_ASSERT_ERR(pmemblk_read(pbp, buf, lba), -1, EIO);
			} else if (strcmp(eq + 1, "EINVAL") == 0) {
				UT_ASSERT_ERR(pmemblk_read(pbp, buf, lba), -1, EINVAL);
			} else {
				int want = atoi(eq + 1);
				int got = bt_read_value(pbp, lba);
				if (got != want)
					UT_FATAL("%s: read %d in script \"%s\"", op, got, script);
			}
			break;
		default:
			UT_FATAL("bad op %s", op);
		}
	}
	free(buf);
	free(copy);
}

static PMEMblkpool *sparse_pool(unsigned long long size, size_t bsize)
{
	bt_sparse_file(Path, size);
	PMEMblkpool *pbp = pmemblk_create(Path, bsize, 0, 0600);
	if (pbp == NULL)
		UT_FATAL("create: %s", pmemblk_errormsg());
	return pbp;
}

static void finish(PMEMblkpool *pbp, size_t bsize)
{
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, bsize), 1);
	UT_ASSERTne(bt_pmempool_check(Path), 0);
	unlink(Path);
}

static void pmdk_scripts(void)
{
	PMEMblkpool *pbp = sparse_pool(16 * MiB + 64 * KiB, 512);
	UT_ASSERTeq(pmemblk_nblock(pbp), 32313);
	run_script(pbp, "r0=0 r1=0 r32201=0 r32312=0 r32313=EINVAL z0 z1 r0=0");
	finish(pbp, 512);

	pbp = sparse_pool(1 * GiB, 512);
	UT_ASSERTeq(pmemblk_nblock(pbp), 2080567);
	run_script(pbp, "w0 r1=0 r0=1 w1 r0=1 r1=2 r2=0");
	finish(pbp, 512);

	/* two runs over the same pool */
	pbp = sparse_pool(1 * GiB, 512);
	run_script(pbp, "w0 w1 w2 w3 w4 r0=1 r4=5");
	pmemblk_close(pbp);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	run_script(pbp, "w0 r4=5 r3=4 r2=3 r1=2 r0=1 w0 r0=2");
	finish(pbp, 512);

	pbp = sparse_pool(1 * GiB, 512);
	run_script(pbp, "w100 w200 w300 w400 r100=1 r200=2 r300=3 r400=4 "
			"w100 z200 w300 z400 r100=5 r200=0 r300=6 r400=0 "
			"e100 w200 e300 w400 r100=EIO r200=7 r300=EIO r400=8");
	finish(pbp, 512);

	/* zero/error transitions (also on 128 MiB) */
	const char *transitions = "e1 r1=EIO e2 w2 r2=1 z3 e3 r3=EIO e4 z4 r4=0 "
				  "w5 e5 z5 r5=0 w6 z6 e6 r6=EIO";
	pbp = sparse_pool(1 * GiB, 512);
	run_script(pbp, transitions);
	finish(pbp, 512);
	pbp = sparse_pool(128 * MiB, 512);
	UT_ASSERTeq(pmemblk_nblock(pbp), 259784);
	run_script(pbp, transitions);
	finish(pbp, 512);

	/* odd block sizes: exactly bsize bytes move */
	static const size_t odd[] = {1, 17, 520, 4224, 5000};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		pbp = sparse_pool(64 * MiB, odd[i]);
		unsigned char *buf = malloc(odd[i] + 64);
		UT_ASSERT(buf != NULL);
		memset(buf, 0xEE, odd[i] + 64);
		run_script(pbp, "w3 w4 r3=1 r4=2 z3 r3=0");
		UT_ASSERTeq(pmemblk_read(pbp, buf, 4), 0);
		for (size_t j = 0; j < odd[i]; j++)
			UT_ASSERTeq(buf[j], 2);
		for (size_t j = odd[i]; j < odd[i] + 64; j++)
			UT_ASSERTeq(buf[j], 0xEE); /* nothing beyond bsize is written */
		free(buf);
		finish(pbp, odd[i]);
	}
}

/* A 1026 GiB pool is usable without ever being laid out (PMDK's blk_rw TEST3/4). */
static void huge_unformatted(void)
{
	static const struct {
		size_t bsize;
		long long nblock, mid;
	} cases[] = {{512, 2134997326, 4161480}, {4096, 268696551, 4161480}};
	for (size_t i = 0; i < 2; i++) {
		PMEMblkpool *pbp = sparse_pool(1026 * GiB, cases[i].bsize);
		long long n = cases[i].nblock;
		UT_ASSERTeq(pmemblk_nblock(pbp), n);
		char script[256];
		snprintf(script, sizeof(script), "r0=0 r1=0 r%lld=0 r%lld=0 r%lld=EINVAL z0 z%lld",
			 cases[i].mid, n - 1, n, cases[i].mid);
		run_script(pbp, script);
		pmemblk_close(pbp);
		UT_ASSERTeq(pmemblk_check(Path, cases[i].bsize), 1);
		unlink(Path);
	}
}

/*
 * 513 GiB, bsize 4096: two arenas. The map of a pre-existing file is cleared for each
 * arena at the arena's own offset, the backup info of each arena sits at its end, and
 * blocks of both arenas work.
 */
static void multi_arena(void)
{
	const unsigned long long size = 513 * GiB;
	const unsigned long long arena1 = 0x2000 + (1ULL << 39);
	/* geometry of both arenas as the specification computes it */
	const uint32_t nlba0 = 134086520, nlba1 = 134348143 - 134086520;
	const unsigned long long a1_size = 0x3FFFE000ULL;
	const unsigned long long a1_flogoff = a1_size - 4096 - 16384;
	const unsigned long long a1_mapoff =
		a1_flogoff - (((unsigned long long)nlba1 * 4 + 4095) / 4096 * 4096);
	const unsigned long long a0_flogoff = (1ULL << 39) - 4096 - 16384;
	const unsigned long long a0_mapoff =
		a0_flogoff - (((unsigned long long)nlba0 * 4 + 4095) / 4096 * 4096);

	bt_sparse_file(Path, size);
	/* stale map pages in both arenas, as a reused file might have */
	unsigned char junk[8192];
	memset(junk, 0xC1, sizeof(junk));
	bt_pwrite(Path, junk, sizeof(junk), 0x2000 + a0_mapoff);
	bt_pwrite(Path, junk, sizeof(junk), arena1 + a1_mapoff);
	bt_pwrite(Path, junk, sizeof(junk), arena1 + a1_mapoff + 64 * 4096);

	PMEMblkpool *pbp = pmemblk_create(Path, 4096, 0, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 134348143);
	long long first1 = nlba0;
	bt_write_value(pbp, first1 + 5, 0x15); /* lays out both arenas */
	bt_write_value(pbp, 7, 0x07);
	bt_write_value(pbp, nlba0 - 1, 0x0F);
	bt_write_value(pbp, 134348142, 0x1F);
	UT_ASSERTeq(bt_read_value(pbp, first1 + 5), 0x15);
	UT_ASSERTeq(bt_read_value(pbp, 7), 0x07);
	UT_ASSERTeq(bt_read_value(pbp, nlba0 - 1), 0x0F);
	UT_ASSERTeq(bt_read_value(pbp, 134348142), 0x1F);
	/* blocks whose map entries were garbage read as zeros */
	UT_ASSERTeq(bt_read_value(pbp, 0), 0);
	UT_ASSERTeq(bt_read_value(pbp, 2047), 0);
	UT_ASSERTeq(bt_read_value(pbp, first1), 0);
	UT_ASSERTeq(bt_read_value(pbp, first1 + 2047), 0);
	UT_ASSERTeq(bt_read_value(pbp, first1 + 64 * 1024), 0);
	UT_ASSERTeq(pmemblk_set_error(pbp, first1 + 9), 0);
	pmemblk_close(pbp);

	struct bt_arena a0, a1;
	bt_arena_at(Path, 0x2000, &a0);
	bt_arena_at(Path, arena1, &a1);
	UT_ASSERTeq(a0.external_nlba, nlba0);
	UT_ASSERTeq(a1.external_nlba, nlba1);
	UT_ASSERTeq(a0.map, 0x2000 + a0_mapoff);
	UT_ASSERTeq(a1.map, arena1 + a1_mapoff);
	UT_ASSERTeq(a0.backup, arena1 - 4096);
	UT_ASSERTeq(a1.backup, size - 4096);
	UT_ASSERTeq(bt_read_u32(Path, a1.map + 4 * 9), 0x40000009);
	uint64_t nextoff;
	bt_pread(Path, &nextoff, 8, a0.info + 0x50);
	UT_ASSERTeq(nextoff, 1ULL << 39);
	bt_pread(Path, &nextoff, 8, a1.info + 0x50);
	UT_ASSERTeq(nextoff, 0);
	/* the layout did not allocate the huge map */
	struct stat st;
	UT_ASSERTeq(stat(Path, &st), 0);
	UT_ASSERT((unsigned long long)st.st_blocks * 512 < 256 * MiB);

	pbp = pmemblk_open(Path, 4096);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 134348143);
	UT_ASSERTeq(bt_read_value(pbp, first1 + 5), 0x15);
	UT_ASSERTeq(bt_read_value(pbp, 134348142), 0x1F);
	unsigned char buf[4096];
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, first1 + 9), -1, EIO);
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, 134348143), -1, EINVAL);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 4096), 1);
	unlink(Path);
}

/* A damaged primary info block is rebuilt from the backup (PMDK would re-format). */
static void info_repair(void)
{
	bt_path(Path, sizeof(Path), "repair");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, 64 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 11, 0x11);
	bt_write_value(pbp, 12, 0x12);
	pmemblk_close(pbp);
	struct bt_arena a;
	bt_arena0(Path, &a);
	unsigned char good[4096], page[4096];
	bt_pread(Path, good, sizeof(good), a.info);

	/* torn primary */
	bt_write_u32(Path, a.info + 0x40, 0xDEAD);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 11), 0x11);
	pmemblk_close(pbp);
	bt_pread(Path, page, sizeof(page), a.info);
	UT_ASSERT(memcmp(page, good, sizeof(page)) == 0);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);

	/* zeroed primary: check sees the repaired layout without writing anything */
	memset(page, 0, sizeof(page));
	bt_pwrite(Path, page, sizeof(page), a.info);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);
	bt_pread(Path, page, sizeof(page), a.info);
	for (size_t i = 0; i < sizeof(page); i++)
		UT_ASSERTeq(page[i], 0);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 12), 0x12);
	bt_write_value(pbp, 13, 0x13);
	pmemblk_close(pbp);
	bt_pread(Path, page, sizeof(page), a.info);
	UT_ASSERT(memcmp(page, good, sizeof(page)) == 0);

	/* damaged backup: rewritten from the primary, pmempool agrees */
	bt_write_u32(Path, a.backup + 0x100, 1);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	bt_pread(Path, page, sizeof(page), a.backup);
	UT_ASSERT(memcmp(page, good, sizeof(page)) == 0);
	UT_ASSERTne(bt_pmempool_check(Path), 0);

	/* both damaged: not laid out; the next write lays out anew and clears the stale map */
	bt_write_u32(Path, a.info + 0x100, 0xBAD);
	bt_write_u32(Path, a.backup + 0x100, 0xBAD);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 12), 0);
	bt_write_value(pbp, 14, 0x14);
	UT_ASSERTeq(bt_read_value(pbp, 12), 0);
	UT_ASSERTeq(bt_read_value(pbp, 13), 0);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);
	bt_arena0(Path, &a);

	/* both gone: treated as not laid out, reads give zeros */
	memset(page, 0, sizeof(page));
	bt_pwrite(Path, page, sizeof(page), a.info);
	bt_pwrite(Path, page, sizeof(page), a.backup);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 11), 0);
	pmemblk_close(pbp);
	unlink(Path);

	/* an info block of another pool (wrong parent uuid) is not used */
	pbp = pmemblk_create(Path, 512, 64 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 1, 1);
	pmemblk_close(pbp);
	bt_arena0(Path, &a);
	bt_write_u32(Path, a.info + 0x20, 0x1234);
	bt_fix_info_checksum(Path, a.info);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 1), 1); /* the backup still matches */
	pmemblk_close(pbp);
	unlink(Path);
}

/* Pair 'pair' of the flog: both halves (still in their initial state) name 'entry' as free. */
static void set_flog_free_block(const struct bt_arena *a, unsigned pair, uint32_t entry)
{
	bt_write_u32(Path, a->flog + pair * 64 + 4, entry);
	bt_write_u32(Path, a->flog + pair * 64 + 8, entry);
}

/*
 * The pool at Path opens, refuses writes to its arena with EIO, keeps block 2 readable, and
 * pmemblk_check calls it inconsistent.
 */
static void expect_writes_refused(void)
{
	unsigned char buf[512] = {0};
	PMEMblkpool *pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, 2), -1, EIO);
	UT_ASSERTeq(bt_read_value(pbp, 2), 2);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 0);
}

/* Info blocks whose fields are inconsistent with the pool are refused with EINVAL. */
static void info_sanity(void)
{
	bt_path(Path, sizeof(Path), "sanity");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, 64 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 1, 1);
	pmemblk_close(pbp);
	struct bt_arena a;
	bt_arena0(Path, &a);
	unsigned char good[4096];
	bt_pread(Path, good, sizeof(good), a.info);

	static const struct {
		unsigned off;
		uint32_t value;
	} bad[] = {
		{0x38, 1024},	    /* external_lbasize differs from the descriptor */
		{0x48, 0},	    /* nfree */
		{0x3C, 0},	    /* external_nlba */
		{0x50, 4096},	    /* nextoff neither 0 nor 512 GiB */
		{0x60, 0x7FFFF000}, /* mapoff beyond the arena */
		{0x60, 0x2000},	    /* map inside the data blocks */
		{0x58, 0},	    /* data blocks over the primary info block */
		{0x70, 0x3000},	    /* backup info inside the data blocks */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bt_write_u32(Path, a.info + bad[i].off, bad[i].value);
		bt_fix_info_checksum(Path, a.info);
		bt_write_u32(Path, a.backup + bad[i].off, bad[i].value);
		bt_fix_info_checksum(Path, a.backup);
		UT_ASSERT_ERR(pmemblk_open(Path, 512), NULL, EINVAL);
		bt_pwrite(Path, good, sizeof(good), a.info);
		bt_pwrite(Path, good, sizeof(good), a.backup);
	}

	/* a map entry naming a block beyond the arena: EIO, never an access outside it */
	bt_write_u32(Path, a.map + 4 * 7, 0xC0000000 | (a.internal_nlba + 5));
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	unsigned char buf[512];
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, 7), -1, EIO);
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, 7), -1, EIO);
	UT_ASSERTeq(bt_read_value(pbp, 1), 1);
	bt_write_value(pbp, 2, 2); /* other blocks still work */
	pmemblk_close(pbp);
	UT_ASSERT_ERR(pmemblk_check(Path, 512), -1, EINVAL);
	bt_write_u32(Path, a.map + 4 * 7, 0);

	/* a free block beyond the arena in the flog: the arena refuses writes */
	set_flog_free_block(&a, 200, 0x80000000 | (a.internal_nlba + 1));
	expect_writes_refused();

	/* two flog pairs holding one free block: the arena refuses writes */
	set_flog_free_block(&a, 201, 0x80000000 | (a.internal_nlba - 56));
	set_flog_free_block(&a, 200, 0x80000000 | (a.internal_nlba - 56));
	expect_writes_refused();

	/* a flog lba out of range */
	bt_write_u32(Path, a.flog + 200 * 64, 0x7FFFFFFF); /* pair 200: still initial, current */
	UT_ASSERT_ERR(pmemblk_open(Path, 512), NULL, EINVAL);
	unlink(Path);
}

/*
 * Both info blocks lost (zeroed) after writes, in a pool created on a zeroed file: the map
 * still holds the old entries, which a new layout must not trust, or two blocks share storage.
 */
static void lost_layout_stale_map(void)
{
	bt_path(Path, sizeof(Path), "lost-layout");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, 64 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	for (int lba = 0; lba < 8; lba++)
		bt_write_value(pbp, lba, 0x10 + lba);
	pmemblk_close(pbp);
	struct bt_arena a;
	bt_arena0(Path, &a);
	unsigned char zero[4096] = {0};
	bt_pwrite(Path, zero, sizeof(zero), a.info);
	bt_pwrite(Path, zero, sizeof(zero), a.backup);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);

	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	for (int lba = 100; lba < 108; lba++)
		bt_write_value(pbp, lba, 0x60 + lba % 8);
	for (int lba = 100; lba < 108; lba++)
		UT_ASSERTeq(bt_read_value(pbp, lba), 0x60 + lba % 8);
	for (int lba = 0; lba < 8; lba++) {
		int v = bt_read_value(pbp, lba);
		UT_ASSERT(v < 0x60); /* never the storage of a block written since */
	}
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);
	unlink(Path);
}

int main(void)
{
	bt_path(Path, sizeof(Path), "rw");
	bt_no_fallocate();
	pmdk_scripts();
	if (bt_huge_pools_possible()) {
		huge_unformatted();
		multi_arena();
	}
	info_repair();
	info_sanity();
	lost_layout_stale_map();
	return 0;
}
