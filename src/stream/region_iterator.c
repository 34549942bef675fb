/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Region iterators follow the allocated list (allocation order). Each step is taken under
 * the allocator lock, so iteration is safe alongside allocate and free; an iterator whose
 * region was freed becomes invalid.
 */

#include <errno.h>
#include <stdlib.h>

#include "stream.h"

struct pmemstream_region_iterator {
	struct pmemstream *stream;
	uint64_t offset; /* INVALID_OFFSET when not positioned or at the end */
	uint64_t generation;
};

int pmemstream_region_iterator_new(struct pmemstream_region_iterator **iterator,
				   struct pmemstream *stream)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return -1;
	}
	if (iterator == NULL) {
		errmsg_set(EINVAL, "iterator output pointer is NULL");
		return -1;
	}
	struct pmemstream_region_iterator *it = malloc(sizeof(*it));
	if (it == NULL) {
		errmsg_set(ENOMEM, "cannot allocate a region iterator");
		return -1;
	}
	it->stream = stream;
	it->offset = INVALID_OFFSET;
	it->generation = 0;
	*iterator = it;
	return 0;
}

/* Under alloc_lock. */
static void move_to(struct pmemstream_region_iterator *it, uint64_t offset)
{
	it->offset = offset;
	if (offset != INVALID_OFFSET)
		it->generation = region_index_exact(&it->stream->index, offset)->generation;
}

static struct pmemstream_region_runtime *current(struct pmemstream_region_iterator *it)
{
	if (it->offset == INVALID_OFFSET)
		return NULL;
	struct pmemstream_region_runtime *rt = region_index_exact(&it->stream->index, it->offset);
	if (rt == NULL || !__atomic_load_n(&rt->allocated, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&rt->generation, __ATOMIC_ACQUIRE) != it->generation)
		return NULL;
	return rt;
}

int pmemstream_region_iterator_is_valid(struct pmemstream_region_iterator *iterator)
{
	return (iterator != NULL && current(iterator) != NULL) ? 0 : -1;
}

void pmemstream_region_iterator_seek_first(struct pmemstream_region_iterator *iterator)
{
	if (iterator == NULL)
		return;
	struct pmemstream *s = iterator->stream;
	pthread_mutex_lock(&s->alloc_lock);
	move_to(iterator, s->header->allocator.allocated_list.head);
	pthread_mutex_unlock(&s->alloc_lock);
}

void pmemstream_region_iterator_next(struct pmemstream_region_iterator *iterator)
{
	if (iterator == NULL || iterator->offset == INVALID_OFFSET)
		return;
	struct pmemstream *s = iterator->stream;
	pthread_mutex_lock(&s->alloc_lock);
	struct pmemstream_region_runtime *rt = current(iterator);
	move_to(iterator, rt == NULL ? INVALID_OFFSET : region_hdr(s, rt->offset)->next_allocated);
	pthread_mutex_unlock(&s->alloc_lock);
}

struct pmemstream_region pmemstream_region_iterator_get(struct pmemstream_region_iterator *iterator)
{
	struct pmemstream_region region = {INVALID_OFFSET};
	if (iterator != NULL && current(iterator) != NULL)
		region.offset = iterator->offset;
	return region;
}

void pmemstream_region_iterator_delete(struct pmemstream_region_iterator **iterator)
{
	if (iterator == NULL)
		return;
	free(*iterator);
	*iterator = NULL;
}
