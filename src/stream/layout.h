/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The on-media format of pmemstream 0.2.1: stream header, allocator lists, region and entry
 * spans. Every offset stored on media or passed through the API is relative to the data base
 * (map address + H). Files must stay readable by the reference, so nothing here may change.
 */

#ifndef PMEMSTREAM_LAYOUT_H
#define PMEMSTREAM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define STREAM_SIGNATURE      "PMEMSTREAM"
#define STREAM_SIGNATURE_SIZE 64
#define STREAM_HEADER_SIZE    144
#define REGION_HEADER_SIZE    64
#define ENTRY_HEADER_SIZE     16
#define SPAN_ALIGNMENT	      8

#define INVALID_OFFSET	  UINT64_MAX
#define INVALID_TIMESTAMP 0ULL

/* Bits 63-62 of a span's first word hold its type, bits 61-0 the payload size. */
#define SPAN_TYPE_MASK (3ULL << 62)
#define SPAN_SIZE_MASK (~SPAN_TYPE_MASK)
#define SPAN_EMPTY     (0ULL << 62)
#define SPAN_UNKNOWN   (1ULL << 62)
#define SPAN_ENTRY     (2ULL << 62)
#define SPAN_REGION    (3ULL << 62)
#define SPAN_MAX_SIZE  SPAN_SIZE_MASK

struct slist {
	uint64_t head;
	uint64_t tail;
};

struct allocator_header {
	struct slist free_list;
	struct slist allocated_list;
	uint64_t free_offset;
	uint64_t size;
	uint64_t recovery_free_offset;
};

struct stream_header {
	char signature[STREAM_SIGNATURE_SIZE];
	uint64_t stream_size;
	uint64_t block_size;
	uint64_t persisted_timestamp;
	struct allocator_header allocator;
};

struct region_header {
	uint64_t size_and_type;
	uint64_t next_allocated;
	uint64_t next_free;
	uint64_t max_valid_timestamp;
	uint64_t reserved[4];
};

struct entry_header {
	uint64_t size_and_type;
	uint64_t timestamp;
};

_Static_assert(offsetof(struct stream_header, stream_size) == 64, "format");
_Static_assert(offsetof(struct stream_header, persisted_timestamp) == 80, "format");
_Static_assert(offsetof(struct stream_header, allocator.free_list.head) == 88, "format");
_Static_assert(offsetof(struct stream_header, allocator.allocated_list.head) == 104, "format");
_Static_assert(offsetof(struct stream_header, allocator.free_offset) == 120, "format");
_Static_assert(offsetof(struct stream_header, allocator.recovery_free_offset) == 136, "format");
_Static_assert(sizeof(struct stream_header) == STREAM_HEADER_SIZE, "format");
_Static_assert(offsetof(struct region_header, max_valid_timestamp) == 24, "format");
_Static_assert(sizeof(struct region_header) == REGION_HEADER_SIZE, "format");
_Static_assert(sizeof(struct entry_header) == ENTRY_HEADER_SIZE, "format");

static inline uint64_t span_type(uint64_t size_and_type)
{
	return size_and_type & SPAN_TYPE_MASK;
}

static inline uint64_t span_size(uint64_t size_and_type)
{
	return size_and_type & SPAN_SIZE_MASK;
}

/* H: bytes taken by the stream header at the start of the map. */
static inline uint64_t stream_metadata_size(uint64_t block_size)
{
	return ALIGN_UP((uint64_t)STREAM_HEADER_SIZE, block_size);
}

/* E(len); the caller has checked len against the space left, so this cannot overflow. */
static inline uint64_t entry_total_size(uint64_t len)
{
	return ALIGN_UP(ENTRY_HEADER_SIZE + len, (uint64_t)SPAN_ALIGNMENT);
}

/*
 * Aligned 8-byte words on the mapping are read and written atomically: concurrent readers
 * (iterators) look at words that writers are filling in.
 */
static inline uint64_t pm_load(const uint64_t *word)
{
	return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

static inline uint64_t pm_load_relaxed(const uint64_t *word)
{
	return __atomic_load_n(word, __ATOMIC_RELAXED);
}

static inline void pm_store(uint64_t *word, uint64_t value)
{
	__atomic_store_n(word, value, __ATOMIC_RELEASE);
}

static inline void pm_store_relaxed(uint64_t *word, uint64_t value)
{
	__atomic_store_n(word, value, __ATOMIC_RELAXED);
}

#endif
