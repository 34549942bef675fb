/* SPDX-License-Identifier: BSD-3-Clause */
/* Creating, opening and closing pool files. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk/alloc.h"
#include "blk/blk.h"
#include "blk/ctl.h"
#include "blk/pool_hdr.h"
#include "common/errmsg.h"
#include "libpmemblk.h"

#define POOL_ALIGN	4096ULL
#define POOLSET_SIG	"PMEMPOOLSET"
#define POOLSET_SIG_LEN 11

static unsigned max_lanes(void)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1)
		ncpus = 1;
	return (unsigned)ncpus * 2;
}

/* Pool-set files (text starting with PMEMPOOLSET) are not supported: say so clearly. */
static int reject_poolset(int fd, const char *path)
{
	char sig[POOLSET_SIG_LEN];
	ssize_t n = pread(fd, sig, sizeof(sig), 0);
	if (n == (ssize_t)sizeof(sig) && memcmp(sig, POOLSET_SIG, POOLSET_SIG_LEN) == 0) {
		errmsg_set(ENOTSUP, "%s: pool sets are not supported", path);
		return -1;
	}
	return 0;
}

static int read_exact(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errmsg_set_errno(errno, "pread");
			return -1;
		}
		if (n == 0) {
			errmsg_set(EINVAL, "unexpected end of file");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Validates bsize against the geometry before anything is written. */
static int check_geometry(size_t usable, size_t bsize)
{
	unsigned narena;
	uint64_t nlba;
	if (btt_geometry_namespace(usable - BLK_NS_OFF, (uint32_t)bsize, &narena, &nlba) != 0) {
		errmsg_set(EINVAL, "pool initialization failed: block size %zu does not fit",
			   bsize);
		return -1;
	}
	return 0;
}

static int start_runtime(struct pmemblk *pbp, const struct pool_hdr *hdr, int is_zeroed)
{
	if (btt_init(&pbp->btt, &pbp->file, BLK_NS_OFF, pbp->bsize, hdr->poolset_uuid,
		     is_zeroed != 0, false, max_lanes()) != 0)
		return -1;
	if (lanes_init(&pbp->lanes, pbp->btt.nlane, BTT_READ_ONLY_LANES) != 0) {
		btt_fini(&pbp->btt);
		return -1;
	}
	return 0;
}

static struct pmemblk *handle_new(void)
{
	struct pmemblk *pbp = blk_zalloc(sizeof(*pbp));
	if (pbp == NULL) {
		errmsg_set(ENOMEM, "out of memory for the pool handle");
		return NULL;
	}
	pbp->file.fd = -1;
	return pbp;
}

/*
 * poolsize 0: what needs only read access comes first (spec 1.4 step 3, as PMDK), so that
 * a file too small for a pool gives EINVAL even where it cannot be opened for writing.
 */
static int check_existing_file(const char *path, struct stat *st)
{
	if (stat(path, st) != 0) {
		errmsg_set_errno(errno, "stat \"%s\"", path);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errmsg_set_errno(errno, "open \"%s\"", path);
		return -1;
	}
	int ret = reject_poolset(fd, path);
	close(fd);
	if (ret != 0)
		return -1;
	if (ALIGN_DOWN((size_t)st->st_size, (size_t)POOL_ALIGN) < PMEMBLK_MIN_POOL) {
		errmsg_set(EINVAL, "size of file %s (%zu) smaller than %zu", path,
			   (size_t)st->st_size, PMEMBLK_MIN_POOL);
		return -1;
	}
	return 0;
}

/* Opens (poolsize 0) or creates the file; fills *size, *created and the locked fd. */
static int create_file(struct pmemblk *pbp, const char *path, size_t bsize, size_t poolsize,
		       size_t *size, bool *created)
{
	struct stat st;
	*created = false;

	if (poolsize > 0) {
		if (stat(path, &st) == 0) {
			errmsg_set(EEXIST, "file %s already exists", path);
			return -1;
		}
		size_t usable = ALIGN_DOWN(poolsize, (size_t)POOL_ALIGN);
		if (usable < PMEMBLK_MIN_POOL) {
			errmsg_set(EINVAL, "reservation pool size %zu smaller than %zu", usable,
				   PMEMBLK_MIN_POOL);
			return -1;
		}
		if (poolsize > (size_t)INT64_MAX) {
			errmsg_set(EFBIG, "pool size %zu too big", poolsize);
			return -1;
		}
		if (check_geometry(usable, bsize) != 0)
			return -1;

		/* mode 0 until the pool is complete: nobody else can open it half-made */
		pbp->file.fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (pbp->file.fd < 0) {
			errmsg_set_errno(errno, "open \"%s\"", path);
			return -1;
		}
		*created = true;
		if (pool_file_lock(pbp->file.fd, path) != 0)
			return -1;
		int ret = posix_fallocate(pbp->file.fd, 0, (off_t)poolsize);
		if (ret != 0) {
			errmsg_set_errno(ret, "posix_fallocate \"%s\" %zu bytes", path, poolsize);
			return -1;
		}
		*size = usable;
		return 0;
	}

	if (check_existing_file(path, &st) != 0)
		return -1;
	size_t usable = ALIGN_DOWN((size_t)st.st_size, (size_t)POOL_ALIGN);
	pbp->file.fd = open(path, O_RDWR | O_CLOEXEC);
	if (pbp->file.fd < 0) {
		errmsg_set_errno(errno, "open \"%s\"", path);
		return -1;
	}
	if (pool_file_lock(pbp->file.fd, path) != 0)
		return -1;
	if (check_geometry(usable, bsize) != 0)
		return -1;
	if (ctl_fallocate_at_create()) {
		int ret = posix_fallocate(pbp->file.fd, 0, st.st_size);
		if (ret != 0) {
			errmsg_set_errno(ret, "posix_fallocate \"%s\"", path);
			return -1;
		}
	}
	uint8_t first_page[POOL_HDR_SIZE];
	if (read_exact(pbp->file.fd, first_page, sizeof(first_page), 0) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(first_page); i++) {
		if (first_page[i] != 0) {
			errmsg_set(EEXIST, "Non-empty file detected");
			return -1;
		}
	}
	*size = usable;
	return 0;
}

struct pmemblk *blk_pool_create(const char *path, size_t bsize, size_t poolsize, mode_t mode)
{
	if (bsize == 0 || bsize > UINT32_MAX) {
		errmsg_set(EINVAL, "Invalid block size %zu", bsize);
		return NULL;
	}
	struct pmemblk *pbp = handle_new();
	if (pbp == NULL)
		return NULL;

	size_t size = 0;
	bool created = false;
	if (create_file(pbp, path, bsize, poolsize, &size, &created) != 0)
		goto err;

	struct stat st;
	if (fstat(pbp->file.fd, &st) != 0) {
		errmsg_set_errno(errno, "fstat \"%s\"", path);
		goto err;
	}
	if (pool_file_map(&pbp->file, size, false) != 0)
		goto err;

	/* descriptor first, checksummed header last: no valid header without a block size */
	char *desc_page = pbp->file.base + BLK_DESC_OFF;
	memset(desc_page, 0, BLK_DESC_SIZE);
	struct blk_desc *desc = (struct blk_desc *)desc_page;
	desc->bsize = (uint32_t)bsize;
	desc->is_zeroed = created ? 1 : 0;
	/*
	 * pmempool info finds the BTT at PMDK's run-time fields data - addr; giving them
	 * these constant values (never read by any library) keeps that tool working.
	 */
	desc->rt_addr = 0;
	desc->rt_data = BLK_NS_OFF;
	pbp->file.ops.persist(desc_page, BLK_DESC_SIZE);

	struct pool_hdr hdr;
	if (pool_hdr_init(&hdr, ctl_sds_at_create(), (uint64_t)st.st_ctime) != 0)
		goto err;
	pbp->file.ops.memcpy(pbp->file.base, &hdr, sizeof(hdr), 0);

	pbp->bsize = (uint32_t)bsize;
	if (start_runtime(pbp, &hdr, desc->is_zeroed) != 0)
		goto err;

	if (created && fchmod(pbp->file.fd, mode) != 0) {
		int err = errno;
		lanes_fini(&pbp->lanes);
		btt_fini(&pbp->btt);
		errmsg_set_errno(err, "chmod \"%s\"", path);
		goto err;
	}
	if (ctl_prefault_at_create())
		pool_file_prefault(&pbp->file);
	return pbp;

err : {
	int err = errno;
	pool_file_close(&pbp->file);
	if (created)
		unlink(path);
	blk_free(pbp);
	errno = err;
	return NULL;
}
}

struct pmemblk *blk_pool_open(const char *path, size_t bsize, bool for_check)
{
	struct pmemblk *pbp = handle_new();
	if (pbp == NULL)
		return NULL;

	pbp->file.fd = open(path, O_RDWR | O_CLOEXEC);
	if (pbp->file.fd < 0) {
		errmsg_set_errno(errno, "open \"%s\"", path);
		goto err;
	}
	if (pool_file_lock(pbp->file.fd, path) != 0)
		goto err;
	if (reject_poolset(pbp->file.fd, path) != 0)
		goto err;

	struct stat st;
	if (fstat(pbp->file.fd, &st) != 0) {
		errmsg_set_errno(errno, "fstat \"%s\"", path);
		goto err;
	}
	if ((size_t)st.st_size < PMEMBLK_MIN_PART) {
		errmsg_set(EINVAL, "size of file %s (%zu) smaller than %zu", path,
			   (size_t)st.st_size, PMEMBLK_MIN_PART);
		goto err;
	}

	struct pool_hdr hdr;
	struct blk_desc desc;
	if (read_exact(pbp->file.fd, &hdr, sizeof(hdr), 0) != 0)
		goto err;
	bool rdonly;
	if (pool_hdr_check(&hdr, &rdonly) != 0)
		goto err;
	if (read_exact(pbp->file.fd, &desc, sizeof(desc), BLK_DESC_OFF) != 0)
		goto err;
	if (desc.bsize == 0) {
		errmsg_set(EINVAL, "invalid block size 0 in the pool descriptor");
		goto err;
	}
	if (bsize != 0 && bsize != desc.bsize) {
		errmsg_set(EINVAL, "wrong bsize (%zu), pool created with bsize %zu", bsize,
			   (size_t)desc.bsize);
		goto err;
	}
	size_t size = ALIGN_DOWN((size_t)st.st_size, (size_t)POOL_ALIGN);
	if (size - BLK_NS_OFF < BTT_MIN_SIZE) {
		errmsg_set(EINVAL, "pool size %zu too small for a BTT namespace", size);
		goto err;
	}

	/* A private mapping keeps recovery and repairs out of the file (check, read-only). */
	bool is_private = for_check || rdonly || ctl_cow_at_open();
	if (pool_file_map(&pbp->file, size, is_private) != 0)
		goto err;

	pbp->bsize = desc.bsize;
	pbp->rdonly = rdonly;
	if (start_runtime(pbp, &hdr, desc.is_zeroed) != 0)
		goto err;
	if (ctl_prefault_at_open())
		pool_file_prefault(&pbp->file);
	return pbp;

err : {
	int err = errno;
	pool_file_close(&pbp->file);
	blk_free(pbp);
	errno = err;
	return NULL;
}
}

void blk_pool_close(struct pmemblk *pbp)
{
	lanes_fini(&pbp->lanes);
	btt_fini(&pbp->btt);
	pool_file_close(&pbp->file);
	blk_free(pbp);
}
