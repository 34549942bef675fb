/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floor of the block benchmark: the libpmemblk calls bench_blk.c makes, done as bare
 * libpmem2 copies of one block to or from a mapped file of the pool's size, with nothing
 * else (no atomicity, no lanes). A read looks up the block's 4-byte map entry first, in a
 * table after the blocks, because every read of a BTT pool must: the copy's address depends
 * on that load, so its cache and TLB misses come before the copy's. Then a memcpy from the
 * mapping. A write is pmem2's memcpy, which persists (non-temporal stores for whole blocks,
 * one fence). What a real block pool costs on top of this is what its ratio to this shows.
 */

#include <errno.h>
#include <fcntl.h>
#include <libpmem2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpmemblk.h>

struct raw_pool {
	int fd;
	struct pmem2_map *map;
	char *base;
	size_t bsize;
	size_t nblock;
	uint32_t *btt_map; /* block number -> where the block is; the identity here */
	pmem2_memcpy_fn memcpy_persist;
};

const char *pmemblk_errormsg(void)
{
	return pmem2_errormsg();
}

PMEMblkpool *pmemblk_create(const char *path, size_t bsize, size_t poolsize, mode_t mode)
{
	struct raw_pool *p = calloc(1, sizeof(*p));
	struct pmem2_config *cfg = NULL;
	struct pmem2_source *src = NULL;
	/* map entries are 32 bits wide, as in a BTT */
	if (p == NULL || bsize == 0 || poolsize / (bsize + sizeof(uint32_t)) > UINT32_MAX)
		goto fail;
	p->fd = open(path, O_RDWR | O_CREAT | O_EXCL, mode);
	if (p->fd < 0 || ftruncate(p->fd, (off_t)poolsize) != 0)
		goto fail;
	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, p->fd) ||
	    pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) ||
	    pmem2_map_new(&p->map, cfg, src))
		goto fail;
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
	p->base = pmem2_map_get_address(p->map);
	p->memcpy_persist = pmem2_get_memcpy_fn(p->map);
	p->bsize = bsize;
	p->nblock = poolsize / (bsize + sizeof(*p->btt_map));
	p->btt_map = (uint32_t *)(void *)(p->base + p->nblock * bsize);
	for (size_t i = 0; i < p->nblock; i++)
		p->btt_map[i] = (uint32_t)i;
	return (PMEMblkpool *)p;
fail:
	if (cfg != NULL)
		pmem2_config_delete(&cfg);
	if (src != NULL)
		pmem2_source_delete(&src);
	if (p != NULL && p->fd >= 0)
		close(p->fd);
	free(p);
	if (errno == 0)
		errno = EINVAL;
	return NULL;
}

void pmemblk_close(PMEMblkpool *pbp)
{
	struct raw_pool *p = (struct raw_pool *)pbp;
	pmem2_map_delete(&p->map);
	close(p->fd);
	free(p);
}

size_t pmemblk_bsize(PMEMblkpool *pbp)
{
	return ((struct raw_pool *)pbp)->bsize;
}

size_t pmemblk_nblock(PMEMblkpool *pbp)
{
	return ((struct raw_pool *)pbp)->nblock;
}

int pmemblk_read(PMEMblkpool *pbp, void *buf, long long blockno)
{
	struct raw_pool *p = (struct raw_pool *)pbp;
	uint32_t at = __atomic_load_n(&p->btt_map[blockno], __ATOMIC_ACQUIRE);
	memcpy(buf, p->base + (size_t)at * p->bsize, p->bsize);
	return 0;
}

int pmemblk_write(PMEMblkpool *pbp, const void *buf, long long blockno)
{
	struct raw_pool *p = (struct raw_pool *)pbp;
	p->memcpy_persist(p->base + (size_t)blockno * p->bsize, buf, p->bsize, 0);
	return 0;
}
