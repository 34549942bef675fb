/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening a stream on a libpmem2 mapping (creating it when the signature is absent, spec
 * 3.1, recovering it otherwise, spec 3.2) and closing it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

const char *pmemstream_errormsg(void)
{
	return errmsg_get();
}

#define MAX_PERSISTED_TIMESTAMP (UINT64_C(1) << 63)

static int signature_present(const struct stream_header *h)
{
	return memcmp(h->signature, STREAM_SIGNATURE, sizeof(STREAM_SIGNATURE)) == 0;
}

static void create(struct pmemstream *s, uint64_t map_size)
{
	struct stream_header *h = s->header;
	struct allocator_header *a = &h->allocator;

	memset(h->signature, 0, STREAM_SIGNATURE_SIZE);
	s->ops.flush(h->signature, STREAM_SIGNATURE_SIZE);

	a->free_offset = 0;
	a->size = s->usable_size;
	a->recovery_free_offset = INVALID_OFFSET;
	s->ops.flush(&a->free_offset, 3 * sizeof(uint64_t));
	s->ops.drain();
	a->free_list.tail = INVALID_OFFSET;
	a->free_list.head = INVALID_OFFSET;
	a->allocated_list.tail = INVALID_OFFSET;
	a->allocated_list.head = INVALID_OFFSET;
	s->ops.flush(&a->free_list, 2 * sizeof(struct slist));
	s->ops.drain();

	h->stream_size = map_size;
	h->block_size = s->block_size;
	h->persisted_timestamp = 0;
	s->ops.persist(h, sizeof(*h));

	/* last: a crash before this leaves an unsigned header that the next open re-creates */
	memcpy(h->signature, STREAM_SIGNATURE, sizeof(STREAM_SIGNATURE));
	s->ops.persist(h->signature, STREAM_SIGNATURE_SIZE);
}

static int check_existing(struct pmemstream *s, uint64_t map_size)
{
	const struct stream_header *h = s->header;

	if (h->block_size != s->block_size) {
		errmsg_set(EINVAL, "stream was created with block size %" PRIu64 ", not %" PRIu64,
			   h->block_size, s->block_size);
		return -1;
	}
	if (h->stream_size != map_size) {
		errmsg_set(EINVAL, "stream was created on a map of %" PRIu64 " bytes, not %" PRIu64,
			   h->stream_size, map_size);
		return -1;
	}
	return 0;
}

static int check_arguments(size_t block_size, struct pmem2_map *map, uint64_t *usable)
{
	if (block_size == 0 || block_size % CACHELINE_SIZE != 0 || !IS_POW2(block_size)) {
		errmsg_set(EINVAL, "block size %zu is not a power-of-two multiple of 64",
			   block_size);
		return -1;
	}
	if (map == NULL) {
		errmsg_set(EINVAL, "map is NULL");
		return -1;
	}
	size_t map_size = pmem2_map_get_size(map);
	if (map_size > PTRDIFF_MAX) {
		errmsg_set(EINVAL, "map of %zu bytes is too large", map_size);
		return -1;
	}
	uint64_t metadata = stream_metadata_size(block_size);
	if (map_size <= metadata) {
		errmsg_set(EINVAL, "map of %zu bytes is too small for block size %zu", map_size,
			   block_size);
		return -1;
	}
	uint64_t u = ALIGN_DOWN(map_size - metadata, (uint64_t)block_size);
	if (u < block_size || u <= REGION_HEADER_SIZE) {
		errmsg_set(EINVAL, "map of %zu bytes is too small for block size %zu", map_size,
			   block_size);
		return -1;
	}
	*usable = u;
	return 0;
}

static void release(struct pmemstream *s, int mutex_ready, int waiters_ready)
{
	allocator_release(s);
	if (waiters_ready)
		op_table_release(&s->ops_table);
	if (waiters_ready)
		waiters_release(&s->waiters);
	if (mutex_ready)
		pthread_mutex_destroy(&s->alloc_lock);
	free(s);
}

/*
 * Synchronous appends write whole lines where they can (append.c), unless
 * PMEMSTREAM_WHOLE_LINES=0 (both ways are crash-safe; the tests run both).
 */
static int whole_lines_enabled(void)
{
	const char *choice = getenv("PMEMSTREAM_WHOLE_LINES");
	return choice == NULL || strcmp(choice, "0") != 0;
}

int pmemstream_from_map(struct pmemstream **stream, size_t block_size, struct pmem2_map *map)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream output pointer is NULL");
		return -1;
	}
	uint64_t usable;
	if (check_arguments(block_size, map, &usable))
		return -1;

	struct pmemstream *s = aligned_alloc(CACHELINE_SIZE, sizeof(*s));
	if (s == NULL) {
		errmsg_set(ENOMEM, "cannot allocate the stream");
		return -1;
	}
	memset(s, 0, sizeof(*s));
	pmem_ops_init(&s->ops, map);
	s->header = (struct stream_header *)s->ops.base;
	s->data = s->ops.base + stream_metadata_size(block_size);
	s->usable_size = usable;
	s->block_size = block_size;
	s->whole_lines = whole_lines_enabled();

	int ret = pthread_mutex_init(&s->alloc_lock, NULL);
	if (ret != 0) {
		errmsg_set(ret, "cannot initialise the allocator lock");
		release(s, 0, 0);
		return -1;
	}
	if (op_table_init(&s->ops_table)) {
		release(s, 1, 0);
		return -1;
	}
	if (waiters_init(&s->waiters)) {
		errmsg_set(errno, "cannot initialise the waiter list");
		op_table_release(&s->ops_table);
		release(s, 1, 0);
		return -1;
	}
	if (region_index_init(&s->index, usable, block_size))
		goto fail;

	if (!signature_present(s->header))
		create(s, s->ops.size);
	else if (check_existing(s, s->ops.size))
		goto fail;

	/*
	 * One timestamp per entry never gets near 2^63 (centuries at a billion appends a
	 * second); a larger watermark is damage, and would make the next timestamps wrap.
	 */
	if (s->header->persisted_timestamp >= MAX_PERSISTED_TIMESTAMP) {
		errmsg_set(EUCLEAN, "corrupted stream metadata: persisted timestamp %#" PRIx64,
			   s->header->persisted_timestamp);
		goto fail;
	}
	header_line_load(s);
	if (allocator_recover(s))
		goto fail;

	uint64_t w = s->header->persisted_timestamp;
	s->committed = w;
	s->persisted = w;
	s->w_stored = w;
	s->next_timestamp = w + 1;
	copy_notifier_init(s);

	*stream = s;
	return 0;
fail:
	release(s, 1, 1);
	return -1;
}

void pmemstream_delete(struct pmemstream **stream)
{
	if (stream == NULL || *stream == NULL)
		return;
	struct pmemstream *s = *stream;

	/* every published operation commits (and its copy finishes) before state goes away */
	uint64_t last = __atomic_load_n(&s->next_timestamp, __ATOMIC_ACQUIRE) - 1;
	commit_until(s, last);
	persisted_until(s, last);

	release(s, 1, 1);
	*stream = NULL;
}
