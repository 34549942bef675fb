/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Entry accessors and entry iterators. Readers run alongside writers and see only entries
 * whose timestamp is committed (spec 2.6, 4.4); an iterator left at the tail of its region
 * reports the next entry as soon as it is committed.
 */

#include <errno.h>
#include <stdlib.h>

#include "stream.h"

struct pmemstream_entry_iterator {
	struct pmemstream *stream;
	struct pmemstream_region_runtime *rt;
	uint64_t generation;
	uint64_t offset;  /* INVALID_OFFSET when not positioned */
	uint64_t prev_ts; /* timestamp of the entry before offset (0 at the first one) */
};

/* The header of an entry span inside an allocated region, or NULL. */
static struct entry_header *checked_entry(struct pmemstream *s, struct pmemstream_entry entry,
					  uint64_t *len)
{
	uint64_t off = entry.offset;
	if (off % SPAN_ALIGNMENT != 0 || off > s->usable_size ||
	    s->usable_size - off < ENTRY_HEADER_SIZE)
		goto bad;
	struct pmemstream_region_runtime *rt = region_index_containing(&s->index, off);
	if (rt == NULL || !__atomic_load_n(&rt->allocated, __ATOMIC_ACQUIRE) ||
	    off < rt->offset + REGION_HEADER_SIZE || rt->end - off < ENTRY_HEADER_SIZE)
		goto bad;
	struct entry_header *e = entry_hdr(s, off);
	uint64_t size_and_type = pm_load(&e->size_and_type);
	if (span_type(size_and_type) != SPAN_ENTRY ||
	    span_size(size_and_type) > rt->end - off - ENTRY_HEADER_SIZE)
		goto bad;
	*len = span_size(size_and_type);
	return e;
bad:
	errmsg_set(EINVAL, "%#" PRIx64 " is not an entry", off);
	return NULL;
}

const void *pmemstream_entry_data(struct pmemstream *stream, struct pmemstream_entry entry)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return NULL;
	}
	uint64_t len;
	struct entry_header *e = checked_entry(stream, entry, &len);
	return e == NULL ? NULL : (const char *)e + ENTRY_HEADER_SIZE;
}

size_t pmemstream_entry_size(struct pmemstream *stream, struct pmemstream_entry entry)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return 0;
	}
	uint64_t len;
	return checked_entry(stream, entry, &len) == NULL ? 0 : len;
}

size_t pmemstream_entry_length(struct pmemstream *stream, struct pmemstream_entry entry)
{
	return pmemstream_entry_size(stream, entry);
}

uint64_t pmemstream_entry_timestamp(struct pmemstream *stream, struct pmemstream_entry entry)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return INVALID_TIMESTAMP;
	}
	uint64_t len;
	struct entry_header *e = checked_entry(stream, entry, &len);
	return e == NULL ? INVALID_TIMESTAMP : pm_load_relaxed(&e->timestamp);
}

int pmemstream_entry_iterator_new(struct pmemstream_entry_iterator **iterator,
				  struct pmemstream *stream, struct pmemstream_region region)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return -1;
	}
	if (iterator == NULL) {
		errmsg_set(EINVAL, "iterator output pointer is NULL");
		return -1;
	}
	struct pmemstream_region_runtime *rt = region_get(stream, region, NULL);
	if (rt == NULL)
		return -1;
	struct pmemstream_entry_iterator *it = malloc(sizeof(*it));
	if (it == NULL) {
		errmsg_set(ENOMEM, "cannot allocate an entry iterator");
		return -1;
	}
	it->stream = stream;
	it->rt = rt;
	it->generation = __atomic_load_n(&rt->generation, __ATOMIC_ACQUIRE);
	it->offset = INVALID_OFFSET;
	it->prev_ts = 0;
	*iterator = it;
	return 0;
}

/*
 * Sequentially consistent, after the reader announced itself: either region_free sees the
 * reader and waits for it, or the reader sees the region freed (Dekker).
 */
static int region_alive(struct pmemstream_entry_iterator *it)
{
	return __atomic_load_n(&it->rt->allocated, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&it->rt->generation, __ATOMIC_SEQ_CST) == it->generation;
}

/* Whether an entry follows it->prev_ts at offset; its total size and timestamp if so. */
static int valid_at(struct pmemstream_entry_iterator *it, uint64_t offset, uint64_t *total,
		    uint64_t *ts)
{
	struct pmemstream *s = it->stream;
	struct pmemstream_region_runtime *rt = it->rt;
	if (offset == INVALID_OFFSET)
		return 0;
	__atomic_add_fetch(&rt->readers, 1, __ATOMIC_SEQ_CST);
	int valid = 0;
	if (region_alive(it)) {
		uint64_t committed = load_committed(s);
		uint64_t max_valid = pm_load(&region_hdr(s, rt->offset)->max_valid_timestamp);
		valid = entry_is_valid(s, rt, offset, committed, max_valid, it->prev_ts, total, ts);
	}
	__atomic_sub_fetch(&rt->readers, 1, __ATOMIC_RELEASE);
	return valid;
}

int pmemstream_entry_iterator_is_valid(struct pmemstream_entry_iterator *iterator)
{
	uint64_t total, ts;
	if (iterator == NULL || !valid_at(iterator, iterator->offset, &total, &ts))
		return -1;
	return 0;
}

void pmemstream_entry_iterator_next(struct pmemstream_entry_iterator *iterator)
{
	uint64_t total, ts;
	/* at the tail (nothing valid yet) the iterator stays put, to report what comes next */
	if (iterator != NULL && valid_at(iterator, iterator->offset, &total, &ts)) {
		iterator->offset += total;
		iterator->prev_ts = ts;
	}
}

void pmemstream_entry_iterator_seek_first(struct pmemstream_entry_iterator *iterator)
{
	if (iterator == NULL)
		return;
	uint64_t first = iterator->rt->offset + REGION_HEADER_SIZE;
	uint64_t total, ts;
	iterator->prev_ts = 0;
	iterator->offset = valid_at(iterator, first, &total, &ts) ? first : INVALID_OFFSET;
}

struct pmemstream_entry pmemstream_entry_iterator_get(struct pmemstream_entry_iterator *iterator)
{
	struct pmemstream_entry entry = {INVALID_OFFSET};
	uint64_t total, ts;
	if (iterator != NULL && valid_at(iterator, iterator->offset, &total, &ts))
		entry.offset = iterator->offset;
	return entry;
}

void pmemstream_entry_iterator_delete(struct pmemstream_entry_iterator **iterator)
{
	if (iterator == NULL)
		return;
	free(*iterator);
	*iterator = NULL;
}
