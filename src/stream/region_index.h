/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every region the stream has ever had, sorted by offset, readable without a lock.
 *
 * Regions are never split or merged and new ones are only carved at the bump pointer, above
 * all existing ones, so the set only grows at its end: one writer (under the allocator lock)
 * appends, readers binary-search the prefix published by the element count.
 */

#ifndef PMEMSTREAM_REGION_INDEX_H
#define PMEMSTREAM_REGION_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define REGION_INDEX_CHUNK 1024
/* Block numbers per chunk of the table by start block. */
#define REGION_STARTS_CHUNK 4096

struct pmemstream_region_runtime;

struct region_index {
	struct pmemstream_region_runtime ***chunks;
	size_t nchunks;
	size_t count; /* published with release */
	/*
	 * The same runtimes by the number of the block they start at, so that the region at
	 * an offset is found in two loads (handles, append); chunks are allocated as regions
	 * are carved in their range.
	 */
	struct pmemstream_region_runtime ***starts;
	size_t nstarts;
	unsigned block_shift;
};

int region_index_init(struct region_index *idx, uint64_t usable_size, uint64_t block_size);
/* Makes room for a region at offset, so that the following append cannot fail. */
int region_index_reserve(struct region_index *idx, uint64_t offset);
/* The caller keeps offsets increasing and has called region_index_reserve for the offset. */
void region_index_append(struct region_index *idx, struct pmemstream_region_runtime *rt);
size_t region_index_count(const struct region_index *idx);
struct pmemstream_region_runtime *region_index_at(const struct region_index *idx, size_t i);
/* The region starting exactly at offset, or NULL. */
struct pmemstream_region_runtime *region_index_exact(const struct region_index *idx,
						     uint64_t offset);
/* The region whose span contains offset, or NULL. */
struct pmemstream_region_runtime *region_index_containing(const struct region_index *idx,
							  uint64_t offset);
/* Frees the runtimes too. */
void region_index_release(struct region_index *idx);

#endif
