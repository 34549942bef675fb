/* SPDX-License-Identifier: BSD-3-Clause */

#include "region_index.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errmsg.h"
#include "stream.h"

int region_index_init(struct region_index *idx, uint64_t usable_size, uint64_t block_size)
{
	uint64_t max_regions = usable_size / block_size;
	*idx = (struct region_index){0};
	while ((1ULL << idx->block_shift) < block_size)
		idx->block_shift++;
	idx->nchunks = (size_t)(max_regions / REGION_INDEX_CHUNK + 1);
	idx->nstarts = (size_t)(max_regions / REGION_STARTS_CHUNK + 1);
	/* calloc leaves the untouched part of a large directory unbacked */
	idx->chunks = calloc(idx->nchunks, sizeof(*idx->chunks));
	idx->starts = calloc(idx->nstarts, sizeof(*idx->starts));
	if (idx->chunks == NULL || idx->starts == NULL) {
		free(idx->chunks);
		free(idx->starts);
		idx->chunks = NULL;
		errmsg_set(ENOMEM, "cannot allocate the region index");
		return -1;
	}
	return 0;
}

/* A chunk of len runtime pointers in *slot, if there is none yet; -1 when memory is short. */
static int ensure_chunk(struct pmemstream_region_runtime ***slot, size_t len)
{
	if (*slot != NULL)
		return 0;
	struct pmemstream_region_runtime **chunk = calloc(len, sizeof(*chunk));
	if (chunk == NULL) {
		errmsg_set(ENOMEM, "cannot grow the region index");
		return -1;
	}
	/* readers look it up without a lock */
	__atomic_store_n(slot, chunk, __ATOMIC_RELEASE);
	return 0;
}

int region_index_reserve(struct region_index *idx, uint64_t offset)
{
	size_t chunk = idx->count / REGION_INDEX_CHUNK;
	uint64_t block = offset >> idx->block_shift;

	if (chunk >= idx->nchunks || block / REGION_STARTS_CHUNK >= idx->nstarts) {
		errmsg_set(ENOSPC, "too many regions");
		return -1;
	}
	if (ensure_chunk(&idx->chunks[chunk], REGION_INDEX_CHUNK))
		return -1;
	return ensure_chunk(&idx->starts[block / REGION_STARTS_CHUNK], REGION_STARTS_CHUNK);
}

void region_index_append(struct region_index *idx, struct pmemstream_region_runtime *rt)
{
	size_t n = idx->count;
	uint64_t block = rt->offset >> idx->block_shift;
	idx->chunks[n / REGION_INDEX_CHUNK][n % REGION_INDEX_CHUNK] = rt;
	__atomic_store_n(&idx->starts[block / REGION_STARTS_CHUNK][block % REGION_STARTS_CHUNK], rt,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&idx->count, n + 1, __ATOMIC_RELEASE);
}

size_t region_index_count(const struct region_index *idx)
{
	return __atomic_load_n(&idx->count, __ATOMIC_ACQUIRE);
}

struct pmemstream_region_runtime *region_index_at(const struct region_index *idx, size_t i)
{
	return idx->chunks[i / REGION_INDEX_CHUNK][i % REGION_INDEX_CHUNK];
}

/* The last element whose offset is <= offset, or NULL. */
static struct pmemstream_region_runtime *floor_element(const struct region_index *idx,
						       uint64_t offset)
{
	size_t lo = 0, hi = region_index_count(idx);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (region_index_at(idx, mid)->offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : region_index_at(idx, lo - 1);
}

struct pmemstream_region_runtime *region_index_exact(const struct region_index *idx,
						     uint64_t offset)
{
	uint64_t block = offset >> idx->block_shift;
	if ((block << idx->block_shift) != offset || block / REGION_STARTS_CHUNK >= idx->nstarts)
		return NULL;
	struct pmemstream_region_runtime **chunk =
		__atomic_load_n(&idx->starts[block / REGION_STARTS_CHUNK], __ATOMIC_ACQUIRE);
	if (chunk == NULL)
		return NULL;
	return __atomic_load_n(&chunk[block % REGION_STARTS_CHUNK], __ATOMIC_ACQUIRE);
}

struct pmemstream_region_runtime *region_index_containing(const struct region_index *idx,
							  uint64_t offset)
{
	struct pmemstream_region_runtime *rt = floor_element(idx, offset);
	return (rt != NULL && offset < rt->end) ? rt : NULL;
}

void region_index_release(struct region_index *idx)
{
	if (idx->chunks == NULL)
		return;
	size_t n = idx->count;
	for (size_t i = 0; i < n; i++)
		free(region_index_at(idx, i));
	for (size_t c = 0; c < idx->nchunks; c++)
		free(idx->chunks[c]);
	free(idx->chunks);
	idx->chunks = NULL;
	for (size_t c = 0; c < idx->nstarts; c++)
		free(idx->starts[c]);
	free(idx->starts);
	idx->starts = NULL;
	idx->count = 0;
}
