/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/btt_layout.h"

#include <errno.h>

#include "common/errmsg.h"
#include "common/util.h"

uint64_t btt_flog_size(uint32_t nfree)
{
	uint64_t pairs = (uint64_t)nfree *
			 ALIGN_UP(2 * sizeof(struct btt_flog), (uint64_t)BTT_FLOG_PAIR_ALIGN);
	return ALIGN_UP(pairs, BTT_ALIGNMENT);
}

uint64_t btt_map_size(uint32_t external_nlba)
{
	return ALIGN_UP((uint64_t)external_nlba * BTT_MAP_ENTRY_SIZE, BTT_ALIGNMENT);
}

uint32_t btt_internal_lbasize(uint32_t bsize)
{
	uint64_t size = bsize < BTT_MIN_LBA_SIZE ? BTT_MIN_LBA_SIZE : bsize;
	size = ALIGN_UP(size, (uint64_t)BTT_INTERNAL_LBA_ALIGNMENT);
	if (size > UINT32_MAX) {
		errmsg_set(EINVAL, "Invalid lba size after alignment: %llu",
			   (unsigned long long)size);
		return 0;
	}
	return (uint32_t)size;
}

int btt_geometry_arena(uint64_t arena_size, uint64_t space_left, uint32_t bsize,
		       struct btt_geometry *g)
{
	g->arena_size = arena_size;
	g->nfree = BTT_DEFAULT_NFREE;
	g->internal_lbasize = btt_internal_lbasize(bsize);
	if (g->internal_lbasize == 0)
		return -1;

	/* both info blocks, the flog, and one page of slack for the map alignment */
	uint64_t data_and_map = arena_size - 2 * sizeof(struct btt_info) - btt_flog_size(g->nfree);
	uint64_t internal_nlba = (data_and_map - BTT_ALIGNMENT) /
				 ((uint64_t)g->internal_lbasize + BTT_MAP_ENTRY_SIZE);
	if (internal_nlba < 2ULL * g->nfree) {
		errmsg_set(EINVAL, "number of internal blocks: %llu expected at least %u",
			   (unsigned long long)internal_nlba, 2 * g->nfree);
		return -1;
	}
	g->internal_nlba = (uint32_t)internal_nlba;
	g->external_nlba = g->internal_nlba - g->nfree;

	g->dataoff = sizeof(struct btt_info);
	g->nextoff = space_left >= BTT_MIN_SIZE ? arena_size : 0;
	g->infooff = arena_size - sizeof(struct btt_info);
	g->flogoff = g->infooff - btt_flog_size(g->nfree);
	g->mapoff = g->flogoff - btt_map_size(g->external_nlba);
	return 0;
}

int btt_geometry_namespace(uint64_t rawsize, uint32_t bsize, unsigned *narena, uint64_t *nlba)
{
	unsigned count = 0;
	uint64_t total = 0;

	if (rawsize < BTT_MIN_SIZE) {
		errmsg_set(EINVAL, "rawsize smaller than BTT_MIN_SIZE %llu",
			   (unsigned long long)BTT_MIN_SIZE);
		return -1;
	}
	while (rawsize >= BTT_MIN_SIZE) {
		uint64_t arena_size = rawsize < BTT_MAX_ARENA ? rawsize : BTT_MAX_ARENA;
		rawsize -= arena_size;
		struct btt_geometry g;
		if (btt_geometry_arena(arena_size, rawsize, bsize, &g) != 0)
			return -1;
		total += g.external_nlba;
		count++;
	}
	*narena = count;
	*nlba = total;
	return 0;
}
