/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpmemstream: a log ("stream") of atomically appended entries kept in a persistent-memory
 * mapping obtained from libpmem2, divided into regions. API of pmemstream 0.2.x, on-media
 * format of pmemstream 0.2.1. See libpmemstream(7) and libpmemstream(3).
 */

#ifndef LIBPMEMSTREAM_H
#define LIBPMEMSTREAM_H 1

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libminiasync.h>
#include <libpmem2.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Spelled exactly like the definitions programs written for the reference carry themselves. */
#define PMEMSTREAM_INVALID_TIMESTAMP (0ULL)
#define PMEMSTREAM_FIRST_TIMESTAMP   (PMEMSTREAM_INVALID_TIMESTAMP + 1ULL)
#define PMEMSTREAM_INVALID_OFFSET    UINT64_MAX

struct pmemstream;
struct pmemstream_entry_iterator;
struct pmemstream_region_iterator;
struct pmemstream_region_runtime;

struct pmemstream_region {
	uint64_t offset;
};

struct pmemstream_entry {
	uint64_t offset;
};

/* Complete because the wait future embeds it by value; the last three fields are private. */
struct pmemstream_async_wait_data {
	struct pmemstream *stream;
	uint64_t timestamp;
	uint64_t first_timestamp;
	uint64_t processing_timestamp;
	uint64_t last_timestamp;
};

struct pmemstream_async_wait_output {
	int error_code;
};

FUTURE(pmemstream_async_wait_fut, struct pmemstream_async_wait_data,
       struct pmemstream_async_wait_output);

int pmemstream_from_map(struct pmemstream **stream, size_t block_size, struct pmem2_map *map);
void pmemstream_delete(struct pmemstream **stream);

int pmemstream_region_allocate(struct pmemstream *stream, size_t size,
			       struct pmemstream_region *region);
int pmemstream_region_free(struct pmemstream *stream, struct pmemstream_region region);

size_t pmemstream_region_size(struct pmemstream *stream, struct pmemstream_region region);
size_t pmemstream_region_usable_size(struct pmemstream *stream, struct pmemstream_region region);

int pmemstream_region_runtime_initialize(struct pmemstream *stream, struct pmemstream_region region,
					 struct pmemstream_region_runtime **runtime);

int pmemstream_reserve(struct pmemstream *stream, struct pmemstream_region region,
		       struct pmemstream_region_runtime *region_runtime, size_t size,
		       struct pmemstream_entry *reserved_entry, void **data);
int pmemstream_publish(struct pmemstream *stream, struct pmemstream_region region,
		       struct pmemstream_region_runtime *region_runtime,
		       struct pmemstream_entry entry, size_t size);
int pmemstream_append(struct pmemstream *stream, struct pmemstream_region region,
		      struct pmemstream_region_runtime *region_runtime, const void *data,
		      size_t size, struct pmemstream_entry *new_entry);

int pmemstream_async_publish(struct pmemstream *stream, struct pmemstream_region region,
			     struct pmemstream_region_runtime *region_runtime,
			     struct pmemstream_entry entry, size_t size);
int pmemstream_async_append(struct pmemstream *stream, struct vdm *vdm,
			    struct pmemstream_region region,
			    struct pmemstream_region_runtime *region_runtime, const void *data,
			    size_t size, struct pmemstream_entry *new_entry);

uint64_t pmemstream_committed_timestamp(struct pmemstream *stream);
uint64_t pmemstream_persisted_timestamp(struct pmemstream *stream);

struct pmemstream_async_wait_fut pmemstream_async_wait_committed(struct pmemstream *stream,
								 uint64_t timestamp);
struct pmemstream_async_wait_fut pmemstream_async_wait_persisted(struct pmemstream *stream,
								 uint64_t timestamp);

const void *pmemstream_entry_data(struct pmemstream *stream, struct pmemstream_entry entry);
size_t pmemstream_entry_size(struct pmemstream *stream, struct pmemstream_entry entry);
/* The pre-0.2.0 name of pmemstream_entry_size. */
size_t pmemstream_entry_length(struct pmemstream *stream, struct pmemstream_entry entry);
uint64_t pmemstream_entry_timestamp(struct pmemstream *stream, struct pmemstream_entry entry);

int pmemstream_entry_iterator_new(struct pmemstream_entry_iterator **iterator,
				  struct pmemstream *stream, struct pmemstream_region region);
int pmemstream_entry_iterator_is_valid(struct pmemstream_entry_iterator *iterator);
void pmemstream_entry_iterator_next(struct pmemstream_entry_iterator *iterator);
void pmemstream_entry_iterator_seek_first(struct pmemstream_entry_iterator *iterator);
struct pmemstream_entry pmemstream_entry_iterator_get(struct pmemstream_entry_iterator *iterator);
void pmemstream_entry_iterator_delete(struct pmemstream_entry_iterator **iterator);

int pmemstream_region_iterator_new(struct pmemstream_region_iterator **iterator,
				   struct pmemstream *stream);
int pmemstream_region_iterator_is_valid(struct pmemstream_region_iterator *iterator);
void pmemstream_region_iterator_seek_first(struct pmemstream_region_iterator *iterator);
void pmemstream_region_iterator_next(struct pmemstream_region_iterator *iterator);
struct pmemstream_region
pmemstream_region_iterator_get(struct pmemstream_region_iterator *iterator);
void pmemstream_region_iterator_delete(struct pmemstream_region_iterator **iterator);

/* The message of the last failure on the calling thread; never NULL. */
const char *pmemstream_errormsg(void);

#ifdef __cplusplus
}
#endif

#endif /* LIBPMEMSTREAM_H */
