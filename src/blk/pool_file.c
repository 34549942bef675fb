/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/pool_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errmsg.h"

/* -1: libpmem2 decides; 0/1: PMEM_IS_PMEM_FORCE as libpmem honours it */
static int Forced_pmem = -1;

__attribute__((constructor)) static void pool_file_read_environment(void)
{
	const char *force = getenv("PMEM_IS_PMEM_FORCE");
	const char *pmem2_force = getenv("PMEM2_FORCE_GRANULARITY");
	/* libpmem2's own override wins; PMEM_IS_PMEM_FORCE is libpmem's equivalent */
	if (force == NULL || (pmem2_force != NULL && pmem2_force[0] != '\0'))
		return;
	if (strcmp(force, "1") == 0)
		Forced_pmem = 1;
	else if (strcmp(force, "0") == 0)
		Forced_pmem = 0;
}

int pool_file_lock(int fd, const char *path)
{
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		errmsg_set_errno(errno, "flock \"%s\"", path);
		return -1;
	}
	return 0;
}

static void set_pmem2_error(int ret, const char *what)
{
	/* libpmem2 returns -errno, or its own codes far below -4095 */
	int err = ret < 0 && ret > -4096 ? -ret : EINVAL;
	errmsg_set(err, "%s: %s", what, pmem2_errormsg());
}

/*
 * Maps by hand and describes the mapping to libpmem2 with the given granularity: for
 * PMEM_IS_PMEM_FORCE, and for private mappings, which must not reserve swap for the whole
 * pool (a 1 TiB sparse pool cannot be checked otherwise) and need no real persistence.
 */
static int map_by_hand(struct pool_file *pf, size_t len, bool is_private,
		       enum pmem2_granularity g)
{
	int flags = is_private ? MAP_PRIVATE | MAP_NORESERVE : MAP_SHARED;
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, pf->fd, 0);
	if (addr == MAP_FAILED) {
		errmsg_set_errno(errno, "mmap");
		return -1;
	}
	int ret = pmem2_map_from_existing(&pf->map, pf->src, addr, len, g);
	if (ret != 0) {
		set_pmem2_error(ret, "pmem2_map_from_existing");
		munmap(addr, len);
		return -1;
	}
	pf->own_mapping = addr;
	return 0;
}

static int map_pmem2(struct pool_file *pf, size_t len, bool is_private)
{
	struct pmem2_config *cfg;
	int ret = pmem2_config_new(&cfg);
	if (ret != 0) {
		set_pmem2_error(ret, "pmem2_config_new");
		return -1;
	}
	/* PAGE accepts every file; the granularity actually reached picks the flush method */
	ret = pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	if (ret == 0)
		ret = pmem2_config_set_length(cfg, len);
	if (ret == 0)
		ret = pmem2_config_set_sharing(cfg, is_private ? PMEM2_PRIVATE : PMEM2_SHARED);
	if (ret == 0) {
		ret = pmem2_map_new(&pf->map, cfg, pf->src);
		if (ret != 0)
			set_pmem2_error(ret, "pmem2_map_new");
	} else {
		set_pmem2_error(ret, "pmem2_config");
	}
	pmem2_config_delete(&cfg);
	return ret == 0 ? 0 : -1;
}

int pool_file_map(struct pool_file *pf, size_t len, bool is_private)
{
	int ret = pmem2_source_from_fd(&pf->src, pf->fd);
	if (ret != 0) {
		set_pmem2_error(ret, "pmem2_source_from_fd");
		return -1;
	}
	if (is_private)
		ret = map_by_hand(pf, len, true, PMEM2_GRANULARITY_CACHE_LINE);
	else if (Forced_pmem >= 0)
		ret = map_by_hand(pf, len, false,
				  Forced_pmem == 1 ? PMEM2_GRANULARITY_CACHE_LINE
						   : PMEM2_GRANULARITY_PAGE);
	else
		ret = map_pmem2(pf, len, false);
	if (ret != 0) {
		pmem2_source_delete(&pf->src);
		return -1;
	}
	pf->is_private = is_private;
	pf->size = len;
	pf->granularity = pmem2_map_get_store_granularity(pf->map);
	pmem_ops_init(&pf->ops, pf->map);
	pf->base = pf->ops.base;
	return 0;
}

void pool_file_close(struct pool_file *pf)
{
	if (pf->map != NULL)
		pmem2_map_delete(&pf->map);
	if (pf->own_mapping != NULL) {
		munmap(pf->own_mapping, pf->size);
		pf->own_mapping = NULL;
	}
	if (pf->src != NULL)
		pmem2_source_delete(&pf->src);
	if (pf->fd >= 0) {
		close(pf->fd);
		pf->fd = -1;
	}
	pf->base = NULL;
}

static void zero_persist(struct pool_file *pf, uint64_t off, uint64_t len)
{
	pf->ops.memset(pf->base + off, 0, len, 0);
}

int pool_file_zero_range(struct pool_file *pf, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	uint64_t pos = off;

	/*
	 * A private mapping may differ from the file, so the file's holes say nothing about
	 * it; the same if the file system cannot report holes.
	 */
	while (!pf->is_private && pos < end) {
		off_t data = lseek(pf->fd, (off_t)pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				return 0; /* nothing but holes up to the end of the file */
			break;
		}
		if ((uint64_t)data >= end)
			return 0;
		off_t hole = lseek(pf->fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		zero_persist(pf, (uint64_t)data, stop - (uint64_t)data);
		pos = stop;
	}
	if (pos < end)
		zero_persist(pf, pos, end - pos);
	return 0;
}

void pool_file_prefault(struct pool_file *pf)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	for (size_t off = 0; off < pf->size; off += (size_t)page)
		(void)*(volatile char *)(pf->base + off);
}
