/* SPDX-License-Identifier: BSD-3-Clause */
/* The synchronous public API. */

#include <errno.h>

#include "blk/alloc.h"
#include "blk/blk.h"
#include "blk/ctl.h"
#include "common/errmsg.h"
#include "libpmemblk.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT const char *pmemblk_check_version(unsigned major_required, unsigned minor_required)
{
	int saved = errno;
	if (major_required != PMEMBLK_MAJOR_VERSION) {
		errmsg_set(saved, "libpmemblk major version mismatch (need %u, found %u)",
			   major_required, PMEMBLK_MAJOR_VERSION);
		return errmsg_get();
	}
	if (minor_required > PMEMBLK_MINOR_VERSION) {
		errmsg_set(saved, "libpmemblk minor version mismatch (need %u, found %u)",
			   minor_required, PMEMBLK_MINOR_VERSION);
		return errmsg_get();
	}
	return NULL;
}

EXPORT PMEMblkpool *pmemblk_create(const char *path, size_t bsize, size_t poolsize, mode_t mode)
{
	return blk_pool_create(path, bsize, poolsize, mode);
}

EXPORT PMEMblkpool *pmemblk_open(const char *path, size_t bsize)
{
	return blk_pool_open(path, bsize, false);
}

EXPORT void pmemblk_close(PMEMblkpool *pbp)
{
	if (pbp != NULL)
		blk_pool_close(pbp);
}

EXPORT size_t pmemblk_bsize(PMEMblkpool *pbp)
{
	return pbp->bsize;
}

EXPORT size_t pmemblk_nblock(PMEMblkpool *pbp)
{
	return (size_t)pbp->btt.nlba;
}

static int check_blockno(long long blockno)
{
	if (blockno < 0) {
		errmsg_set(EINVAL, "negative block number");
		return -1;
	}
	return 0;
}

static int check_writable(PMEMblkpool *pbp)
{
	if (pbp->rdonly) {
		errmsg_set(EROFS, "EROFS (pool is read-only)");
		return -1;
	}
	return 0;
}

EXPORT int pmemblk_read(PMEMblkpool *pbp, void *buf, long long blockno)
{
	if (check_blockno(blockno) != 0)
		return -1;
	unsigned lane = lane_acquire_read(&pbp->lanes);
	int ret = btt_read(&pbp->btt, lane, (uint64_t)blockno, buf);
	lane_release(&pbp->lanes, lane);
	return ret;
}

EXPORT int pmemblk_write(PMEMblkpool *pbp, const void *buf, long long blockno)
{
	if (check_writable(pbp) != 0 || check_blockno(blockno) != 0)
		return -1;
	unsigned lane = lane_acquire(&pbp->lanes);
	int ret;
	while ((ret = btt_write(&pbp->btt, lane, (uint64_t)blockno, buf)) == BTT_FREE_BLOCK_BUSY)
		lane = lane_trade(&pbp->lanes, lane);
	lane_release(&pbp->lanes, lane);
	return ret;
}

EXPORT int pmemblk_set_zero(PMEMblkpool *pbp, long long blockno)
{
	if (check_writable(pbp) != 0 || check_blockno(blockno) != 0)
		return -1;
	/* map-only change: no flog pair or read-tracking slot, hence no lane */
	return btt_set_zero(&pbp->btt, 0, (uint64_t)blockno);
}

EXPORT int pmemblk_set_error(PMEMblkpool *pbp, long long blockno)
{
	if (check_writable(pbp) != 0 || check_blockno(blockno) != 0)
		return -1;
	return btt_set_error(&pbp->btt, 0, (uint64_t)blockno);
}

EXPORT int pmemblk_check(const char *path, size_t bsize)
{
	PMEMblkpool *pbp = blk_pool_open(path, bsize, true);
	if (pbp == NULL)
		return -1;
	int ret = btt_check(&pbp->btt);
	int err = errno;
	blk_pool_close(pbp);
	errno = err;
	return ret;
}

EXPORT void pmemblk_set_funcs(void *(*malloc_func)(size_t size), void (*free_func)(void *ptr),
			      void *(*realloc_func)(void *ptr, size_t size),
			      char *(*strdup_func)(const char *s))
{
	blk_set_funcs(malloc_func, free_func, realloc_func, strdup_func);
}

EXPORT const char *pmemblk_errormsg(void)
{
	return errmsg_get();
}

EXPORT int pmemblk_ctl_get(PMEMblkpool *pbp, const char *name, void *arg)
{
	(void)pbp; /* every node is global */
	return ctl_query(CTL_QUERY_GET, name, arg);
}

EXPORT int pmemblk_ctl_set(PMEMblkpool *pbp, const char *name, void *arg)
{
	(void)pbp;
	return ctl_query(CTL_QUERY_SET, name, arg);
}

EXPORT int pmemblk_ctl_exec(PMEMblkpool *pbp, const char *name, void *arg)
{
	(void)pbp;
	return ctl_query(CTL_QUERY_EXEC, name, arg);
}
