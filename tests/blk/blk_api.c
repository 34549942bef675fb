/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The libpmemblk API: create/open matrix, errno of every failure, header bytes, version,
 * error messages, CTL, allocator hooks, locking, read-only pools, arena error flag.
 */

#include <limits.h>
#include <pthread.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include "blk_test.h"

static char Path[512];
static char Path2[512];

static int file_mode(const char *path)
{
	struct stat st;
	UT_ASSERTeq(stat(path, &st), 0);
	return (int)(st.st_mode & 0777);
}

static void create_matrix(void)
{
	bt_path(Path, sizeof(Path), "matrix");
	unlink(Path);

	/* new file: size, nblock, mode */
	PMEMblkpool *pbp = pmemblk_create(Path, 4096, 20 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 4850);
	UT_ASSERTeq(pmemblk_bsize(pbp), 4096);
	pmemblk_close(pbp);
	UT_ASSERTeq(bt_file_size(Path), 20971520);
	UT_ASSERTeq(file_mode(Path), 0600);
	UT_ASSERTeq(bt_read_u32(Path, 0x1004), 1); /* is_zeroed: the library made the file */
	UT_ASSERTeq(pmemblk_check(Path, 4096), 1);
	UT_ASSERT_ERR(pmemblk_check(Path, 8192), -1, EINVAL);

	/* existing file: EEXIST whatever its permissions */
	UT_ASSERT_ERR(pmemblk_create(Path, 4096, 20 * MiB, 0600), NULL, EEXIST);
	UT_ASSERTeq(strcmp(pmemblk_errormsg(), "") != 0, 1);
	chmod(Path, 0);
	UT_ASSERT_ERR(pmemblk_create(Path, 4096, 20 * MiB, 0600), NULL, EEXIST);
	unlink(Path);

	/* mode is applied at the end */
	pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0640);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(file_mode(Path), 0640);
	pmemblk_close(pbp);
	unlink(Path);

	/* an existing sparse file with poolsize 0 */
	bt_sparse_file(Path, 40 * MiB);
	pbp = pmemblk_create(Path, 4096, 0, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 9965);
	pmemblk_close(pbp);
	UT_ASSERTeq(bt_read_u32(Path, 0x1004), 0); /* is_zeroed: pre-existing file */
	UT_ASSERT_ERR(pmemblk_create(Path, 4096, 0, 0600), NULL, EEXIST);
	unlink(Path);

	/* small block sizes are padded; bsize() reports what was asked for */
	pbp = pmemblk_create(Path, 10, 20 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 40315);
	UT_ASSERTeq(pmemblk_bsize(pbp), 10);
	pmemblk_close(pbp);
	unlink(Path);

	/* failures that must not leave a file behind */
	UT_ASSERT_ERR(pmemblk_create(Path, 512, 0, 0600), NULL, ENOENT);
	UT_ASSERT(!bt_exists(Path));
	UT_ASSERT_ERR(pmemblk_create(Path, 512, 1 * MiB, 0600), NULL, EINVAL);
	UT_ASSERT(!bt_exists(Path));
	UT_ASSERT_ERR(pmemblk_create(Path, 512, PMEMBLK_MIN_POOL - 4096, 0600), NULL, EINVAL);
	UT_ASSERT(!bt_exists(Path));
	UT_ASSERT_ERR(pmemblk_create(Path, 64 * KiB, 20 * MiB, 0600), NULL, EINVAL);
	UT_ASSERT(!bt_exists(Path));
	UT_ASSERT_ERR(pmemblk_create(Path, 0, 20 * MiB, 0600), NULL, EINVAL);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "Invalid block size 0") == 0);
	UT_ASSERT(!bt_exists(Path));
	UT_ASSERT_ERR(pmemblk_create(Path, (size_t)UINT32_MAX + 1, 20 * MiB, 0600), NULL, EINVAL);
	UT_ASSERT_ERR(pmemblk_create(Path, (size_t)-1, 20 * MiB, 0600), NULL, EINVAL);
	UT_ASSERT(!bt_exists(Path));
	snprintf(Path2, sizeof(Path2), "%s/blk_no_such_dir_%d/pool", ut_test_dir(), (int)getpid());
	UT_ASSERT_ERR(pmemblk_create(Path2, 512, 20 * MiB, 0600), NULL, ENOENT);

	/* poolsize rounded down to 4 KiB */
	pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL + 4095, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 32202);
	pmemblk_close(pbp);
	unlink(Path);

	/* poolsize 0 on an empty file and with bsize 0 */
	bt_sparse_file(Path, 0);
	UT_ASSERT_ERR(pmemblk_create(Path, 512, 0, 0600), NULL, EINVAL);
	bt_sparse_file(Path, 20 * MiB);
	UT_ASSERT_ERR(pmemblk_create(Path, 0, 0, 0600), NULL, EINVAL);
	unlink(Path);
}

/* Whether the inotify instance has an IN_CLOSE_WRITE event queued; takes all events. */
static bool closed_after_write(int in)
{
	bool seen = false;
	char buf[4096];
	ssize_t len;
	while ((len = read(in, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			struct inotify_event ev;
			memcpy(&ev, p, sizeof(ev));
			seen = seen || (ev.mask & IN_CLOSE_WRITE) != 0;
			p += sizeof(ev) + ev.len;
		}
	}
	UT_ASSERT(len < 0 && errno == EAGAIN);
	return seen;
}

/* exit codes of create_as_reader's child besides an errno */
enum { READER_CREATED = 254, READER_NO_SETUID = 255 };

/* pmemblk_create(poolsize 0) by a user that may read path but not write it: its errno */
static int create_as_reader(const char *path)
{
	pid_t pid = fork();
	UT_ASSERT(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(READER_NO_SETUID);
		errno = 0;
		_exit(pmemblk_create(path, 512, 0, 0600) == NULL ? errno : READER_CREATED);
	}
	int status;
	UT_ASSERTeq(waitpid(pid, &status, 0), pid);
	UT_ASSERT(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * poolsize 0: the file's size is checked before it is opened for writing (spec 1.4 step 3,
 * as PMDK), so a file too small for a pool gives EINVAL even if it cannot be opened
 * O_RDWR (e.g. mode 0444): checked as user nobody when the test runs as root. Root
 * itself can open such a file, so the order is also observed directly: a close of a
 * descriptor opened for writing queues IN_CLOSE_WRITE before close() returns; and no one
 * can open a directory for writing.
 */
static void create_size_before_open(void)
{
	bt_path(Path, sizeof(Path), "small");
	bt_sparse_file(Path, 1 * MiB);
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	UT_ASSERT(in >= 0);
	UT_ASSERT(inotify_add_watch(in, Path, IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) >= 0);
	/* the watch sees a write-open */
	int fd = open(Path, O_RDWR);
	UT_ASSERT(fd >= 0);
	close(fd);
	UT_ASSERT(closed_after_write(in));

	UT_ASSERTeq(chmod(Path, 0444), 0);
	int reader_errno = create_as_reader(Path);
	if (reader_errno == READER_NO_SETUID)
		printf("create_size_before_open: cannot drop root, no check as another user\n");
	else
		UT_ASSERTeq(reader_errno, EINVAL);
	UT_ASSERT_ERR(pmemblk_create(Path, 512, 0, 0600), NULL, EINVAL);
	if (closed_after_write(in))
		UT_FATAL("create opened the too small file for writing");
	close(in);
	UT_ASSERTeq(file_mode(Path), 0444);
	unlink(Path);

	bt_path(Path2, sizeof(Path2), "dir");
	UT_ASSERTeq(mkdir(Path2, 0700), 0);
	UT_ASSERT_ERR(pmemblk_create(Path2, 512, 0, 0600), NULL, EINVAL);
	UT_ASSERTeq(rmdir(Path2), 0);
}

static void create_non_zero(void)
{
	bt_path(Path, sizeof(Path), "nonzero");
	size_t size = 17 * MiB;
	unsigned char *junk = malloc(size);
	UT_ASSERT(junk != NULL);
	memset(junk, 0xAB, size);

	bt_sparse_file(Path, size);
	bt_pwrite(Path, junk, size, 0);
	UT_ASSERT_ERR(pmemblk_create(Path, 4096, 0, 0600), NULL, EEXIST);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "Non-empty file detected") == 0);

	/* only the first 4 KiB must be zero; the descriptor page is overwritten */
	memset(junk, 0, 8 * KiB);
	bt_pwrite(Path, junk, size, 0);
	PMEMblkpool *pbp = pmemblk_create(Path, 4096, 0, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 4082);
	pmemblk_close(pbp);
	UT_ASSERTeq(bt_read_u32(Path, 0x1004), 0);

	/* bsize 512 over garbage: the map is cleared when the layout is written */
	unlink(Path);
	memset(junk, 0xAB, size);
	memset(junk, 0, 8 * KiB);
	bt_sparse_file(Path, size);
	bt_pwrite(Path, junk, size, 0);
	pbp = pmemblk_create(Path, 512, 0, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 34218);
	UT_ASSERTeq(bt_read_value(pbp, 0), 0);
	UT_ASSERTeq(bt_read_value(pbp, 1), 0);
	UT_ASSERTeq(bt_read_value(pbp, 34217), 0);
	UT_ASSERT_ERR(pmemblk_read(pbp, junk, 34218), -1, EINVAL);
	UT_ASSERTeq(pmemblk_set_zero(pbp, 0), 0);
	UT_ASSERTeq(pmemblk_set_zero(pbp, 1), 0);
	UT_ASSERTeq(pmemblk_set_error(pbp, 3), 0); /* writes the layout */
	UT_ASSERTeq(bt_read_value(pbp, 4), 0);
	UT_ASSERTeq(bt_read_value(pbp, 34217), 0);
	UT_ASSERT_ERR(pmemblk_read(pbp, junk, 3), -1, EIO);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);
	UT_ASSERTne(bt_pmempool_check(Path), 0);
	unlink(Path);
	free(junk);
}

static void header_bytes(void)
{
	bt_path(Path, sizeof(Path), "hdr");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 520, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);

	unsigned char hdr[8192];
	bt_pread(Path, hdr, sizeof(hdr), 0);
	UT_ASSERT(memcmp(hdr, "PMEMBLK\0", 8) == 0);
	uint32_t u32;
	uint64_t u64;
	memcpy(&u32, hdr + 0x08, 4);
	UT_ASSERTeq(u32, 1);
	memcpy(&u32, hdr + 0x0C, 4);
	UT_ASSERTeq(u32, 1); /* compat: CHECK_BAD_BLOCKS, as Debian's PMDK */
	memcpy(&u32, hdr + 0x10, 4);
	UT_ASSERTeq(u32, 6); /* incompat: CKSUM_2K | SDS */
	memcpy(&u32, hdr + 0x14, 4);
	UT_ASSERTeq(u32, 0);
	UT_ASSERT(memcmp(hdr + 0x18, hdr + 0x28, 16) != 0);
	for (int link = 0; link < 4; link++)
		UT_ASSERT(memcmp(hdr + 0x28, hdr + 0x38 + 16 * link, 16) == 0);
	UT_ASSERTeq(hdr + 0x28 + 6 != NULL, 1);
	UT_ASSERTeq(hdr[0x28 + 7] >> 4, 4); /* version 4 UUID in PMDK's byte order */
#if defined(__x86_64__)
	memcpy(&u64, hdr + 0x80, 8);
	UT_ASSERTeq(u64, 0x000007F737777310ULL);
	UT_ASSERTeq(hdr[0x88], 2);
	UT_ASSERTeq(hdr[0x89], 1);
	uint16_t machine;
	memcpy(&machine, hdr + 0x8E, 2);
	UT_ASSERTeq(machine, 62);
#endif
	for (size_t i = 0xFB8; i < 0xFF8; i++)
		UT_ASSERTeq(hdr[i], 0); /* shutdown state: clean */
	memcpy(&u64, hdr + 0xFF8, 8);
	UT_ASSERTeq(u64, bt_checksum(hdr, 4096, 0xFF8, 0x800));
	memcpy(&u32, hdr + 0x1000, 4);
	UT_ASSERTeq(u32, 520);
	memcpy(&u64, hdr + 0x1058, 8);
	UT_ASSERTeq(u64, 0); /* PMDK dereferences this one */

	/* nothing of the BTT is written before the first write */
	unsigned char page[4096];
	bt_pread(Path, page, sizeof(page), 0x2000);
	for (size_t i = 0; i < sizeof(page); i++)
		UT_ASSERTeq(page[i], 0);

	/* checksum test vectors of the specification */
	memset(page, 0, sizeof(page));
	UT_ASSERTeq(bt_checksum(page, 4096, 0xFF8, 0), 0);
	page[0] = 1;
	UT_ASSERTeq(bt_checksum(page, 4096, 0xFF8, 0x800), 0x0000040000000001ULL);
	page[0] = 0;
	page[0x800] = 5;
	UT_ASSERTeq(bt_checksum(page, 4096, 0xFF8, 0x800), 0);
	UT_ASSERTeq(bt_checksum(page, 4096, 0xFF8, 0), 0x00000A0000000005ULL);

	/* sds.at_create = 0: CKSUM_2K only */
	unlink(Path);
	int off = 0, on = 1, val = -1;
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "sds.at_create", &off), 0);
	UT_ASSERTeq(pmemblk_ctl_get(NULL, "sds.at_create", &val), 0);
	UT_ASSERTeq(val, 0);
	pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	UT_ASSERTeq(bt_read_u32(Path, 0x10), 2);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "sds.at_create", &on), 0);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	unlink(Path);
}

static void open_matrix(void)
{
	bt_path(Path, sizeof(Path), "open");
	unlink(Path);
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, ENOENT);

	bt_sparse_file(Path, 1 * MiB);
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EINVAL);
	bt_sparse_file(Path, 20 * MiB);
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EINVAL); /* all-zero header */
	unlink(Path);

	PMEMblkpool *pbp = pmemblk_create(Path, 300, 20 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 7, 0x77);
	pmemblk_close(pbp);

	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_bsize(pbp), 300);
	UT_ASSERTeq(bt_read_value(pbp, 7), 0x77);
	pmemblk_close(pbp);
	pbp = pmemblk_open(Path, 300);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	UT_ASSERT_ERR(pmemblk_open(Path, 512), NULL, EINVAL);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "wrong bsize (512), pool created with bsize 300") ==
		  0);

	if (geteuid() != 0) {
		chmod(Path, 0400);
		UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EACCES);
		chmod(Path, 0200);
		UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EACCES);
		chmod(Path, 0600);
	}

	/* a truncated pool */
	UT_ASSERTeq(truncate(Path, 1 * MiB), 0);
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EINVAL);
	UT_ASSERT_ERR(pmemblk_check(Path, 0), -1, EINVAL);
	unlink(Path);

	/* pool sets are not supported: said clearly */
	FILE *f = fopen(Path, "w");
	UT_ASSERT(f != NULL);
	fprintf(f, "PMEMPOOLSET\n20M %s.part0\n", Path);
	fclose(f);
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, ENOTSUP);
	UT_ASSERT_ERR(pmemblk_create(Path, 512, 0, 0600), NULL, ENOTSUP);
	unlink(Path);
}

/* Header variants: what PMDK accepts must be accepted, the rest refused with EINVAL. */
static void header_validation(void)
{
	bt_path(Path, sizeof(Path), "hdrval");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 3, 0x33);
	pmemblk_close(pbp);
	unsigned char orig[4096];
	bt_pread(Path, orig, sizeof(orig), 0);

	/* compat 0 and incompat 0x2 without SDS: accepted */
	bt_write_u32(Path, 0x0C, 0);
	bt_write_u32(Path, 0x10, 2);
	bt_fix_header_checksum(Path);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);

	/* no CKSUM_2K: the checksum covers all 4 KiB */
	bt_write_u32(Path, 0x10, 0);
	bt_fix_header_checksum(Path);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	bt_write_u32(Path, 0x900, 1); /* now inside the checksum */
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EINVAL);
	bt_pwrite(Path, orig, sizeof(orig), 0);

	/* with CKSUM_2K the second half is not covered */
	bt_write_u32(Path, 0x900, 1);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	bt_pwrite(Path, orig, sizeof(orig), 0);

	/* unknown compat bits are ignored */
	bt_write_u32(Path, 0x0C, 0x80000001);
	bt_fix_header_checksum(Path);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	bt_pwrite(Path, orig, sizeof(orig), 0);

	/* refused: unknown incompat, SINGLEHDR, wrong signature, major, arch, links, checksum */
	struct {
		unsigned off;
		uint32_t value;
	} bad[] = {{0x10, 0x0E},   {0x10, 0x07}, {0x00, 0x4D454D51}, {0x08, 2},
		   {0x88, 0x0101}, {0x8A, 1},	 {0x38, 0x12345678}, {0x68, 0x1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bt_write_u32(Path, bad[i].off, bad[i].value);
		bt_fix_header_checksum(Path);
		UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EINVAL);
		UT_ASSERT_ERR(pmemblk_check(Path, 0), -1, EINVAL);
		bt_pwrite(Path, orig, sizeof(orig), 0);
	}
	bt_write_u32(Path, 0x100, 1); /* covered, checksum not updated */
	UT_ASSERT_ERR(pmemblk_open(Path, 0), NULL, EINVAL);
	bt_pwrite(Path, orig, sizeof(orig), 0);

	/* stale PMDK run-time fields in the descriptor page are not interpreted */
	unsigned char junk[0x60];
	memset(junk, 0x5A, sizeof(junk));
	bt_pwrite(Path, junk, sizeof(junk), 0x1008);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 3), 0x33);
	pmemblk_close(pbp);

	/* unknown ro_compat: read-only handle, file untouched */
	bt_pwrite(Path, orig, sizeof(orig), 0);
	bt_write_u32(Path, 0x14, 0x10);
	bt_fix_header_checksum(Path);
	pbp = pmemblk_open(Path, 0);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 3), 0x33);
	unsigned char buf[512] = {0};
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, 3), -1, EROFS);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "EROFS (pool is read-only)") == 0);
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, -1), -1, EROFS); /* read-only is checked first */
	UT_ASSERT_ERR(pmemblk_set_zero(pbp, 3), -1, EROFS);
	UT_ASSERT_ERR(pmemblk_set_error(pbp, 3), -1, EROFS);
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, -1), -1, EINVAL);
	pmemblk_close(pbp);
	unlink(Path);
}

static void errno_table(void)
{
	bt_path(Path, sizeof(Path), "errno");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	long long nblock = (long long)pmemblk_nblock(pbp);
	UT_ASSERTeq(nblock, 32202);
	unsigned char buf[512];
	char expect[64];
	snprintf(expect, sizeof(expect), "lba out of range (nlba %lld)", nblock);

	/* before and after the layout exists */
	for (int laid_out = 0; laid_out < 2; laid_out++) {
		UT_ASSERT_ERR(pmemblk_read(pbp, buf, -1), -1, EINVAL);
		UT_ASSERT(strcmp(pmemblk_errormsg(), "negative block number") == 0);
		UT_ASSERT_ERR(pmemblk_write(pbp, buf, -1), -1, EINVAL);
		UT_ASSERT_ERR(pmemblk_set_zero(pbp, -1), -1, EINVAL);
		UT_ASSERT_ERR(pmemblk_set_error(pbp, -1), -1, EINVAL);
		UT_ASSERT_ERR(pmemblk_read(pbp, buf, nblock), -1, EINVAL);
		UT_ASSERT(strcmp(pmemblk_errormsg(), expect) == 0);
		UT_ASSERT_ERR(pmemblk_write(pbp, buf, nblock), -1, EINVAL);
		UT_ASSERT_ERR(pmemblk_set_zero(pbp, nblock), -1, EINVAL);
		UT_ASSERT_ERR(pmemblk_set_error(pbp, nblock + 1), -1, EINVAL);
		UT_ASSERT(strcmp(pmemblk_errormsg(), expect) == 0);
		UT_ASSERT_ERR(pmemblk_read(pbp, buf, LLONG_MAX), -1, EINVAL);
		/* set_zero before the layout succeeds without writing anything */
		UT_ASSERTeq(pmemblk_set_zero(pbp, nblock - 1), 0);
		UT_ASSERTeq(bt_read_value(pbp, nblock - 1), 0);
		bt_write_value(pbp, nblock - 1, 0x42);
		UT_ASSERTeq(bt_read_value(pbp, nblock - 1), 0x42);
	}

	/* error state: EIO until the next write */
	UT_ASSERTeq(pmemblk_set_error(pbp, 5), 0);
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, 5), -1, EIO);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "EIO due to map entry error flag") == 0);
	UT_ASSERTeq(pmemblk_set_error(pbp, 5), 0);
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, 5), -1, EIO);
	bt_write_value(pbp, 5, 0x55);
	UT_ASSERTeq(bt_read_value(pbp, 5), 0x55);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);
	unlink(Path);
}

/* The map entry values of the specification's examples (64 MiB, bsize 512). */
static void map_values(void)
{
	bt_path(Path, sizeof(Path), "mapvalues");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, 64 * MiB, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 129728);
	UT_ASSERTeq(pmemblk_set_error(pbp, 9), 0);
	UT_ASSERTeq(pmemblk_set_zero(pbp, 7), 0);
	pmemblk_close(pbp);

	struct bt_arena a;
	bt_arena0(Path, &a);
	UT_ASSERTeq(a.map, 0x3F7C000);
	UT_ASSERTeq(a.flog, 0x3FFB000);
	UT_ASSERTeq(a.backup, 0x3FFF000);
	UT_ASSERTeq(a.internal_nlba, 129984);
	UT_ASSERTeq(bt_read_u32(Path, a.map + 4 * 9), 0x40000009);
	UT_ASSERTeq(bt_read_u32(Path, a.map + 4 * 7), 0x80000007);
	/* initial flog pair 0 and 255 */
	uint32_t pair[16];
	bt_pread(Path, pair, sizeof(pair), a.flog);
	UT_ASSERTeq(pair[0], 0);
	UT_ASSERTeq(pair[1], 0x8001FAC0);
	UT_ASSERTeq(pair[2], 0x8001FAC0);
	UT_ASSERTeq(pair[3], 1);
	for (int i = 4; i < 16; i++)
		UT_ASSERTeq(pair[i], 0);
	bt_pread(Path, pair, sizeof(pair), a.flog + 255 * 64);
	UT_ASSERTeq(pair[0], 255);
	UT_ASSERTeq(pair[1], 0x8001FBBF);
	/* both info blocks identical */
	unsigned char info[4096], backup[4096];
	bt_pread(Path, info, sizeof(info), a.info);
	bt_pread(Path, backup, sizeof(backup), a.backup);
	UT_ASSERT(memcmp(info, backup, sizeof(info)) == 0);
	UT_ASSERT(memcmp(info + 0x20, (unsigned char[16]){0}, 16) != 0);
	unsigned char hdr[4096];
	bt_pread(Path, hdr, sizeof(hdr), 0);
	UT_ASSERT(memcmp(info + 0x20, hdr + 0x18, 16) == 0); /* parent = poolset uuid */
	unlink(Path);
}

static void version_and_messages(void)
{
	UT_ASSERT(pmemblk_check_version(PMEMBLK_MAJOR_VERSION, PMEMBLK_MINOR_VERSION) == NULL);
	UT_ASSERT(pmemblk_check_version(1, 0) == NULL);
	const char *msg = pmemblk_check_version(1, 2);
	UT_ASSERT(msg != NULL);
	UT_ASSERT(strcmp(msg, "libpmemblk minor version mismatch (need 2, found 1)") == 0);
	msg = pmemblk_check_version(10003, 0);
	UT_ASSERT(strcmp(msg, "libpmemblk major version mismatch (need 10003, found 1)") == 0);
	UT_ASSERT(strcmp(pmemblk_errormsg(), msg) == 0);
	msg = pmemblk_check_version(0, 0);
	UT_ASSERT(msg != NULL);
}

static void *fresh_thread_message(void *arg)
{
	(void)arg;
	/* a new thread starts with an empty message, then gets its own */
	if (strcmp(pmemblk_errormsg(), "") != 0)
		return (void *)1;
	pmemblk_check_version(7, 0);
	if (strcmp(pmemblk_errormsg(), "libpmemblk major version mismatch (need 7, found 1)") != 0)
		return (void *)2;
	return NULL;
}

static void per_thread_messages(void)
{
	pmemblk_check_version(10003, 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		UT_ASSERTeq(pthread_create(&th[i], NULL, fresh_thread_message, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		UT_ASSERT(ret == NULL);
	}
	UT_ASSERT(strcmp(pmemblk_errormsg(),
			 "libpmemblk major version mismatch (need 10003, found 1)") == 0);
}

static void ctl(void)
{
	int val = -1, one = 1, zero = 0;
	const char *names[] = {"fallocate.at_create", "copy_on_write.at_open", "sds.at_create",
			       "prefault.at_create", "prefault.at_open"};
	const int defaults[] = {1, 0, 1, 0, 0};
	for (size_t i = 0; i < 5; i++) {
		UT_ASSERTeq(pmemblk_ctl_get(NULL, names[i], &val), 0);
		UT_ASSERTeq(val, defaults[i]);
	}
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "prefault.at_open", &one), 0);
	UT_ASSERTeq(pmemblk_ctl_get(NULL, "prefault.at_open", &val), 0);
	UT_ASSERTeq(val, 1);
	UT_ASSERT_ERR(pmemblk_ctl_get(NULL, "no.such.node", &val), -1, EINVAL);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "invalid query entry point no.such.node") == 0);
	UT_ASSERT_ERR(pmemblk_ctl_set(NULL, "no.such.node", &val), -1, EINVAL);
	UT_ASSERT_ERR(pmemblk_ctl_get(NULL, NULL, &val), -1, EINVAL);
	UT_ASSERT_ERR(pmemblk_ctl_get(NULL, "prefault.at_open", NULL), -1, EINVAL);
	UT_ASSERT_ERR(pmemblk_ctl_set(NULL, "prefault.at_open", NULL), -1, EINVAL);
	UT_ASSERT_ERR(pmemblk_ctl_exec(NULL, "prefault.at_open", &val), -1, EINVAL);
	UT_ASSERT_ERR(pmemblk_ctl_exec(NULL, "no.such.node", NULL), -1, EINVAL);

	/* prefault paths run; the pool works the same */
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "prefault.at_create", &one), 0);
	bt_path(Path, sizeof(Path), "ctl");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	/* a handle works as well as NULL: the nodes are global */
	UT_ASSERTeq(pmemblk_ctl_get(pbp, "prefault.at_create", &val), 0);
	UT_ASSERTeq(val, 1);
	pmemblk_close(pbp);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "prefault.at_create", &zero), 0);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "prefault.at_open", &zero), 0);

	/* fallocate.at_create = 0: a sparse file stays sparse */
	unlink(Path);
	bt_sparse_file(Path, 2 * GiB);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "fallocate.at_create", &zero), 0);
	pbp = pmemblk_create(Path, 512, 0, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(pmemblk_nblock(pbp), 4161462);
	bt_write_value(pbp, 4161461, 9);
	pmemblk_close(pbp);
	struct stat st;
	UT_ASSERTeq(stat(Path, &st), 0);
	UT_ASSERT((unsigned long long)st.st_blocks * 512 < 64 * MiB);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "fallocate.at_create", &one), 0);
	unlink(Path);

	/* copy_on_write.at_open: nothing reaches the file */
	pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 1, 1);
	pmemblk_close(pbp);
	size_t size = (size_t)bt_file_size(Path);
	unsigned char *before = malloc(size), *after = malloc(size);
	UT_ASSERT(before != NULL && after != NULL);
	bt_pread(Path, before, size, 0);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "copy_on_write.at_open", &one), 0);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 1, 2);
	bt_write_value(pbp, 2, 2);
	UT_ASSERTeq(pmemblk_set_zero(pbp, 3), 0);
	UT_ASSERTeq(pmemblk_set_error(pbp, 4), 0);
	UT_ASSERTeq(bt_read_value(pbp, 1), 2);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_ctl_set(NULL, "copy_on_write.at_open", &zero), 0);
	bt_pread(Path, after, size, 0);
	UT_ASSERT(memcmp(before, after, size) == 0);
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERTeq(bt_read_value(pbp, 1), 1);
	pmemblk_close(pbp);
	free(before);
	free(after);
	unlink(Path);
}

static long Mallocs, Frees, Reallocs;
static void *hook_malloc(size_t size)
{
	__atomic_add_fetch(&Mallocs, 1, __ATOMIC_RELAXED);
	return malloc(size);
}
static void hook_free(void *ptr)
{
	if (ptr != NULL)
		__atomic_add_fetch(&Frees, 1, __ATOMIC_RELAXED);
	free(ptr);
}
static void *hook_realloc(void *ptr, size_t size)
{
	__atomic_add_fetch(&Reallocs, 1, __ATOMIC_RELAXED);
	if (ptr == NULL)
		__atomic_add_fetch(&Mallocs, 1, __ATOMIC_RELAXED);
	return realloc(ptr, size);
}
static char *hook_strdup(const char *s)
{
	__atomic_add_fetch(&Mallocs, 1, __ATOMIC_RELAXED);
	return strdup(s);
}

static void set_funcs(void)
{
	pmemblk_set_funcs(hook_malloc, hook_free, hook_realloc, hook_strdup);
	bt_path(Path, sizeof(Path), "funcs");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 0, 1);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);
	UT_ASSERT(Mallocs > 0);
	UT_ASSERT(Frees > 0);
	UT_ASSERTeq(Mallocs, Frees); /* everything taken through the hooks went back */
	pmemblk_set_funcs(NULL, NULL, NULL, NULL);
	long before = Mallocs;
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	UT_ASSERTeq(Mallocs, before);
	unlink(Path);
}

static void locking(void)
{
	bt_path(Path, sizeof(Path), "lock");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 4096, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	UT_ASSERT_ERR(pmemblk_open(Path, 4096), NULL, EWOULDBLOCK);
	char expect[600];
	snprintf(expect, sizeof(expect), "flock \"%s\": Resource temporarily unavailable", Path);
	UT_ASSERT(strcmp(pmemblk_errormsg(), expect) == 0);
	UT_ASSERT_ERR(pmemblk_check(Path, 4096), -1, EWOULDBLOCK);

	/* another process cannot open it either */
	pid_t pid = fork();
	UT_ASSERT(pid >= 0);
	if (pid == 0) {
		errno = 0;
		PMEMblkpool *child = pmemblk_open(Path, 4096);
		int ok = child == NULL && errno == EWOULDBLOCK;
		/* the lock belongs to the parent's open file: closing the inherited copy keeps it
		 */
		pmemblk_close(pbp);
		_exit(ok ? 0 : 1);
	}
	int status;
	UT_ASSERTeq(waitpid(pid, &status, 0), pid);
	UT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pmemblk_close(pbp);
	pbp = pmemblk_open(Path, 4096);
	UT_ASSERT(pbp != NULL);
	pmemblk_close(pbp);
	unlink(Path);
}

/* The arena error flag in the info blocks: writes refused with EIO, reads still work. */
static void arena_error_flag(void)
{
	bt_path(Path, sizeof(Path), "arenaerr");
	unlink(Path);
	PMEMblkpool *pbp = pmemblk_create(Path, 512, PMEMBLK_MIN_POOL, 0600);
	UT_ASSERT(pbp != NULL);
	bt_write_value(pbp, 2, 0x22);
	pmemblk_close(pbp);

	struct bt_arena a;
	bt_arena0(Path, &a);
	bt_write_u32(Path, a.info + 0x30, 1);
	bt_fix_info_checksum(Path, a.info);
	bt_write_u32(Path, a.backup + 0x30, 1);
	bt_fix_info_checksum(Path, a.backup);

	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	unsigned char buf[512] = {0};
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, 2), -1, EIO);
	UT_ASSERT(strcmp(pmemblk_errormsg(), "EIO due to btt_info error flags 0x1") == 0);
	UT_ASSERT_ERR(pmemblk_set_zero(pbp, 2), -1, EIO);
	UT_ASSERT_ERR(pmemblk_set_error(pbp, 2), -1, EIO);
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, -1), -1, EINVAL); /* negative is checked first */
	UT_ASSERTeq(bt_read_value(pbp, 2), 0x22);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(Path, 512), 1);

	/* a flog pair with equal sequence numbers puts the arena in error (memory only) */
	bt_write_u32(Path, a.info + 0x30, 0);
	bt_fix_info_checksum(Path, a.info);
	bt_write_u32(Path, a.backup + 0x30, 0);
	bt_fix_info_checksum(Path, a.backup);
	bt_write_u32(Path, a.flog + 5 * 64 + 16 + 12, 1); /* pair 5: seq 1 and 1 */
	pbp = pmemblk_open(Path, 512);
	UT_ASSERT(pbp != NULL);
	UT_ASSERT_ERR(pmemblk_write(pbp, buf, 2), -1, EIO);
	UT_ASSERTeq(bt_read_value(pbp, 2), 0x22);
	pmemblk_close(pbp);
	UT_ASSERTeq(bt_read_u32(Path, a.info + 0x30), 0);
	unlink(Path);
}

int main(void)
{
	create_matrix();
	create_size_before_open();
	create_non_zero();
	header_bytes();
	open_matrix();
	header_validation();
	errno_table();
	map_values();
	version_and_messages();
	per_thread_messages();
	ctl();
	set_funcs();
	locking();
	arena_error_flag();
	return 0;
}
