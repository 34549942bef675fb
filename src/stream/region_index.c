/* SPDX-License-Identifier: BSD-3-Clause */

#include "region_index.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errmsg.h"
#include "stream.h"

int region_index_init(struct region_index *idx, uint64_t max_regions)
{
	idx->count = 0;
	idx->nchunks = (size_t)(max_regions / REGION_INDEX_CHUNK + 1);
	/* calloc leaves the untouched part of a large directory unbacked */
	idx->chunks = calloc(idx->nchunks, sizeof(*idx->chunks));
	if (idx->chunks == NULL) {
		errmsg_set(ENOMEM, "cannot allocate the region index");
		return -1;
	}
	return 0;
}

int region_index_reserve(struct region_index *idx)
{
	size_t n = idx->count;
	size_t chunk = n / REGION_INDEX_CHUNK;

	if (chunk >= idx->nchunks) {
		errmsg_set(ENOSPC, "too many regions");
		return -1;
	}
	if (idx->chunks[chunk] != NULL)
		return 0;
	idx->chunks[chunk] = calloc(REGION_INDEX_CHUNK, sizeof(**idx->chunks));
	if (idx->chunks[chunk] == NULL) {
		errmsg_set(ENOMEM, "cannot grow the region index");
		return -1;
	}
	return 0;
}

void region_index_append(struct region_index *idx, struct pmemstream_region_runtime *rt)
{
	size_t n = idx->count;
	idx->chunks[n / REGION_INDEX_CHUNK][n % REGION_INDEX_CHUNK] = rt;
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
	struct pmemstream_region_runtime *rt = floor_element(idx, offset);
	return (rt != NULL && rt->offset == offset) ? rt : NULL;
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
	idx->count = 0;
}
