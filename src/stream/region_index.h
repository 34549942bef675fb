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

struct pmemstream_region_runtime;

struct region_index {
	struct pmemstream_region_runtime ***chunks;
	size_t nchunks;
	size_t count; /* published with release */
};

int region_index_init(struct region_index *idx, uint64_t max_regions);
/* Makes room for one more element, so that the following append cannot fail. */
int region_index_reserve(struct region_index *idx);
/* The caller keeps offsets increasing and has called region_index_reserve. */
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
