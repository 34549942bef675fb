/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Region runtimes: validation of region handles, the entry validity rule (spec 2.6) and the
 * lazy write-open of a region (spec 3.4).
 */

#include <errno.h>

#include "spinlock.h"
#include "stream.h"

struct pmemstream_region_runtime *region_lookup(struct pmemstream *s, uint64_t offset)
{
	if (offset >= s->usable_size)
		return NULL;
	struct pmemstream_region_runtime *rt = region_index_exact(&s->index, offset);
	if (rt == NULL || !__atomic_load_n(&rt->allocated, __ATOMIC_ACQUIRE))
		return NULL;
	return rt;
}

/*
 * Generations are drawn from one counter for the whole process, so no two regions, of this
 * stream or another, ever share one, and a region never gets one back. 0 is never drawn.
 */
static uint64_t Last_generation;

uint64_t region_new_generation(void)
{
	return __atomic_add_fetch(&Last_generation, 1, __ATOMIC_RELAXED);
}

/*
 * The handle users get encodes the region's generation, not the runtime's address: the
 * runtime object is reused when a freed region is allocated again, and a handle must then be
 * recognised as stale however often that happened (a tag in the address's spare low bits
 * wrapped after 64 reallocations). The encoding is a bijection, so handles of different
 * generations always differ; it scrambles the bits so that small integers passed by mistake
 * do not match. Users never dereference the handle.
 */
static struct pmemstream_region_runtime *handle_of(uint64_t generation)
{
	uint64_t x = generation;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (struct pmemstream_region_runtime *)(uintptr_t)(x ^ (x >> 31));
}

struct pmemstream_region_runtime *region_get_at(struct pmemstream *s, struct pmemstream_region r,
						struct pmemstream_region_runtime *given,
						uint64_t *generation)
{
	struct pmemstream_region_runtime *rt = region_lookup(s, r.offset);
	if (rt == NULL) {
		errmsg_set(EINVAL, "%#" PRIx64 " is not an allocated region", r.offset);
		return NULL;
	}
	uint64_t gen = __atomic_load_n(&rt->generation, __ATOMIC_ACQUIRE);
	if (given != NULL && given != handle_of(gen)) {
		errmsg_set(EINVAL,
			   "region runtime is not that of region %#" PRIx64
			   " as allocated now (stale, or another region's)",
			   r.offset);
		return NULL;
	}
	if (generation != NULL)
		*generation = gen;
	return rt;
}

struct pmemstream_region_runtime *region_get(struct pmemstream *s, struct pmemstream_region r,
					     struct pmemstream_region_runtime *given)
{
	return region_get_at(s, r, given, NULL);
}

int entry_is_valid(struct pmemstream *s, struct pmemstream_region_runtime *rt, uint64_t offset,
		   uint64_t committed, uint64_t max_valid, uint64_t prev_ts, uint64_t *total,
		   uint64_t *ts_out)
{
	if (offset > rt->end || rt->end - offset < ENTRY_HEADER_SIZE)
		return 0;
	struct entry_header *e = entry_hdr(s, offset);
	uint64_t size_and_type = pm_load(&e->size_and_type);
	if (span_type(size_and_type) != SPAN_ENTRY)
		return 0;
	uint64_t ts = pm_load_relaxed(&e->timestamp);
	/*
	 * Within a region timestamps increase with position; one that does not (only a damaged
	 * file has it) ends the valid data, so no timestamp is ever shown twice.
	 */
	if (ts == INVALID_TIMESTAMP || ts > committed || ts > max_valid || ts <= prev_ts)
		return 0;
	uint64_t len = span_size(size_and_type);
	/* the reference only asserts this; a corrupted size ends the valid data instead */
	if (len > rt->end - offset - ENTRY_HEADER_SIZE)
		return 0;
	*total = entry_total_size(len);
	*ts_out = ts;
	return 1;
}

uint64_t region_valid_end(struct pmemstream *s, struct pmemstream_region_runtime *rt, uint64_t from)
{
	uint64_t committed = load_committed(s);
	uint64_t max_valid = pm_load(&region_hdr(s, rt->offset)->max_valid_timestamp);
	uint64_t total, ts = 0;

	while (entry_is_valid(s, rt, from, committed, max_valid, ts, &total, &ts))
		from += total;
	return from;
}

/*
 * EMPTY ends the chain; the zero timestamp after it makes sure that a header written there
 * later can never be paired, after a crash, with a stale timestamp left by an earlier owner
 * when the header straddles two cache lines (the line holding the timestamp is made durable
 * together with the entry before it). Nothing is written at or past the region end.
 */
void region_write_terminator(struct pmemstream *s, uint64_t offset, uint64_t end)
{
	struct entry_header *e = entry_hdr(s, offset);
	if (end - offset >= sizeof(uint64_t))
		pm_store_relaxed(&e->size_and_type, SPAN_EMPTY);
	if (end - offset >= ENTRY_HEADER_SIZE)
		pm_store_relaxed(&e->timestamp, INVALID_TIMESTAMP);
}

/* Bytes zeroed ahead of the append offset at a time, for small entries. */
#define ZERO_WINDOW 4096

/*
 * Under rt->lock, for a new entry [entry, entry + total): makes what follows it read as the
 * end of the region's entries, and returns how much from entry on must be flushed with it.
 * Nothing needs writing inside the zeroed window. extend_window (small entries): the window
 * is extended and persisted, once for many entries, so their appenders write nothing but the
 * entry (as whole lines where they can, append.c). Otherwise a terminator
 * is written before the next reservation can place its header there, flushed with the entry.
 */
uint64_t region_end_after(struct pmemstream *s, struct pmemstream_region_runtime *rt,
			  uint64_t entry, uint64_t total, int extend_window)
{
	uint64_t next = entry + total;
	uint64_t need = terminator_end(rt, next);
	if (need <= rt->zeroed_until)
		return total;
	if (extend_window) {
		uint64_t from = rt->zeroed_until > entry ? rt->zeroed_until : entry;
		uint64_t to = ALIGN_UP(from + ZERO_WINDOW, (uint64_t)CACHELINE_SIZE);
		if (to < need)
			to = need;
		if (to > rt->end)
			to = rt->end;
		s->ops.memset(stream_ptr(s, from), 0, to - from, 0);
		rt->zeroed_until = to;
		return total;
	}
	region_write_terminator(s, next, rt->end);
	return need - entry;
}

int region_open_for_write(struct pmemstream_region_runtime *rt)
{
	if (likely(__atomic_load_n(&rt->writable, __ATOMIC_ACQUIRE)))
		return 0;

	struct pmemstream *s = rt->stream;
	int ret = 0;

	spin_lock(&rt->lock);
	if (!rt->allocated || rt->closing) {
		errmsg_set(EINVAL, "region %#" PRIx64 " is not allocated", rt->offset);
		ret = -1;
	} else if (!rt->writable) {
		uint64_t tail = region_valid_end(s, rt, rt->offset + REGION_HEADER_SIZE);
		if (tail < rt->end) {
			region_write_terminator(s, tail, rt->end);
			uint64_t n = rt->end - tail;
			s->ops.persist(stream_ptr(s, tail),
				       n < ENTRY_HEADER_SIZE ? n : ENTRY_HEADER_SIZE);
		}
		/* only now may timestamps above the recovery bound become valid here */
		struct region_header *h = region_hdr(s, rt->offset);
		pm_store(&h->max_valid_timestamp, UINT64_MAX);
		s->ops.persist(&h->max_valid_timestamp, sizeof(uint64_t));
		__atomic_store_n(&rt->append_offset, tail, __ATOMIC_RELAXED);
		rt->zeroed_until = tail;
		region_forget_tail(rt);
		__atomic_store_n(&rt->writable, 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&rt->lock);
	return ret;
}

size_t pmemstream_region_size(struct pmemstream *stream, struct pmemstream_region region)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return 0;
	}
	struct pmemstream_region_runtime *rt = region_get(stream, region, NULL);
	if (rt == NULL)
		return 0;
	return rt->end - rt->offset - REGION_HEADER_SIZE;
}

size_t pmemstream_region_usable_size(struct pmemstream *stream, struct pmemstream_region region)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return 0;
	}
	struct pmemstream_region_runtime *rt = region_get(stream, region, NULL);
	if (rt == NULL || region_open_for_write(rt) != 0)
		return 0;
	return rt->end - __atomic_load_n(&rt->append_offset, __ATOMIC_RELAXED);
}

int pmemstream_region_runtime_initialize(struct pmemstream *stream, struct pmemstream_region region,
					 struct pmemstream_region_runtime **runtime)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return -1;
	}
	if (runtime == NULL) {
		errmsg_set(EINVAL, "runtime output pointer is NULL");
		return -1;
	}
	uint64_t gen;
	struct pmemstream_region_runtime *rt = region_get_at(stream, region, NULL, &gen);
	if (rt == NULL || region_open_for_write(rt) != 0)
		return -1;
	*runtime = handle_of(gen);
	return 0;
}
