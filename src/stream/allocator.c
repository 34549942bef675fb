/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The region allocator: two persistent singly linked lists of regions (free and allocated)
 * plus a bump pointer, kept in the 0.2.1 format and changed in the crash-safe orders of spec
 * 3.3 and 3.5; recovery (spec 3.2 steps 3-5) repairs any state an interrupted operation can
 * leave. In DRAM: the runtime of every region, predecessors in both lists (so that removing
 * any element is O(1)) and per-size LIFO stacks of free regions. All under alloc_lock.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node_list.h"
#include "spinlock.h"
#include "stream.h"

enum list_kind { LIST_ALLOCATED, LIST_FREE };

static struct slist *list_of(struct pmemstream *s, enum list_kind k)
{
	return k == LIST_FREE ? &s->header->allocator.free_list
			      : &s->header->allocator.allocated_list;
}

static uint64_t *link_of(struct pmemstream *s, uint64_t node, enum list_kind k)
{
	struct region_header *h = region_hdr(s, node);
	return k == LIST_FREE ? &h->next_free : &h->next_allocated;
}

static void store_flush(struct pmemstream *s, uint64_t *word, uint64_t value)
{
	/* the line with W is rewritten whole from its image: keep the image current */
	if (header_line_holds(s, word)) {
		header_line_store_persist(s, word, value);
		return;
	}
	pm_store(word, value);
	s->ops.flush(word, sizeof(*word));
}

static void store_persist(struct pmemstream *s, uint64_t *word, uint64_t value)
{
	store_flush(s, word, value);
	s->ops.drain();
}

/* Persistent list primitives in the orders that the fix-ups of recovery rely on. */

static void list_reset(struct pmemstream *s, struct slist *l)
{
	store_flush(s, &l->tail, INVALID_OFFSET);
	store_flush(s, &l->head, INVALID_OFFSET);
	s->ops.drain();
}

static void list_insert_head(struct pmemstream *s, enum list_kind k, uint64_t node)
{
	struct slist *l = list_of(s, k);
	if (l->head == INVALID_OFFSET)
		store_flush(s, &l->tail, node);
	store_persist(s, link_of(s, node, k), l->head);
	store_persist(s, &l->head, node);
}

static void list_insert_tail(struct pmemstream *s, enum list_kind k, uint64_t node)
{
	struct slist *l = list_of(s, k);
	if (l->head == INVALID_OFFSET) {
		list_insert_head(s, k, node);
		return;
	}
	store_persist(s, link_of(s, node, k), INVALID_OFFSET);
	store_persist(s, link_of(s, l->tail, k), node);
	store_persist(s, &l->tail, node);
}

/* prev: the node's predecessor, INVALID_OFFSET when it is the head. */
static void list_remove(struct pmemstream *s, enum list_kind k, uint64_t node, uint64_t prev)
{
	struct slist *l = list_of(s, k);
	if (prev == INVALID_OFFSET) {
		if (l->tail == node)
			list_reset(s, l);
		else
			store_persist(s, &l->head, *link_of(s, node, k));
		return;
	}
	if (l->tail == node)
		store_persist(s, &l->tail, prev);
	store_persist(s, link_of(s, prev, k), *link_of(s, node, k));
}

/* Runtime-side wrappers keeping the DRAM predecessors in step. */

static uint64_t *prev_of(struct pmemstream_region_runtime *rt, enum list_kind k)
{
	return k == LIST_FREE ? &rt->free_prev : &rt->alloc_prev;
}

static void set_prev(struct pmemstream *s, uint64_t node, enum list_kind k, uint64_t prev)
{
	if (node != INVALID_OFFSET)
		*prev_of(region_index_exact(&s->index, node), k) = prev;
}

static void rt_insert_head(struct pmemstream *s, enum list_kind k,
			   struct pmemstream_region_runtime *rt)
{
	uint64_t old_head = list_of(s, k)->head;
	list_insert_head(s, k, rt->offset);
	set_prev(s, old_head, k, rt->offset);
	*prev_of(rt, k) = INVALID_OFFSET;
}

static void rt_insert_tail(struct pmemstream *s, enum list_kind k,
			   struct pmemstream_region_runtime *rt)
{
	uint64_t old_tail = list_of(s, k)->tail;
	if (list_of(s, k)->head == INVALID_OFFSET)
		old_tail = INVALID_OFFSET;
	list_insert_tail(s, k, rt->offset);
	*prev_of(rt, k) = old_tail;
}

static void rt_remove(struct pmemstream *s, enum list_kind k, struct pmemstream_region_runtime *rt)
{
	uint64_t next =
		list_of(s, k)->tail == rt->offset ? INVALID_OFFSET : *link_of(s, rt->offset, k);
	list_remove(s, k, rt->offset, *prev_of(rt, k));
	set_prev(s, next, k, *prev_of(rt, k));
}

static struct pmemstream_region_runtime *rt_new(struct pmemstream *s, uint64_t offset,
						uint64_t total_size)
{
	struct pmemstream_region_runtime *rt = aligned_alloc(CACHELINE_SIZE, sizeof(*rt));
	if (rt == NULL) {
		errmsg_set(ENOMEM, "cannot allocate a region runtime");
		return NULL;
	}
	memset(rt, 0, sizeof(*rt));
	rt->stream = s;
	rt->offset = offset;
	rt->end = offset + total_size;
	rt->free_prev = INVALID_OFFSET;
	rt->alloc_prev = INVALID_OFFSET;
	rt->reservation_offset = INVALID_OFFSET;
	rt->generation = region_new_generation();
	region_forget_tail(rt);
	return rt;
}

/* ---- allocation and free ---- */

/* Carves a new region at the bump pointer and leaves it at the head of the free list. */
static struct pmemstream_region_runtime *carve(struct pmemstream *s, uint64_t total_size)
{
	struct allocator_header *a = &s->header->allocator;
	uint64_t offset = a->free_offset;

	if (region_index_reserve(&s->index, offset))
		return NULL;
	struct pmemstream_region_runtime *rt = rt_new(s, offset, total_size);
	if (rt == NULL)
		return NULL;

	struct region_header *h = region_hdr(s, offset);
	h->size_and_type = (total_size - REGION_HEADER_SIZE) | SPAN_REGION;
	h->next_allocated = INVALID_OFFSET;
	h->next_free = INVALID_OFFSET;
	h->max_valid_timestamp = 0;
	memset(h->reserved, 0, sizeof(h->reserved));
	s->ops.persist(h, sizeof(*h));

	region_index_append(&s->index, rt);
	rt_insert_head(s, LIST_FREE, rt);
	store_persist(s, &a->free_offset, offset + total_size);
	return rt;
}

/* Moves a free region to the allocated list (spec 3.3 steps 2-4). */
static void take(struct pmemstream *s, struct pmemstream_region_runtime *rt)
{
	struct region_header *h = region_hdr(s, rt->offset);
	store_persist(s, &h->max_valid_timestamp, UINT64_MAX);

	/* the first slot becomes EMPTY; a previous owner's entries stay unreachable behind it */
	uint64_t first = rt->offset + REGION_HEADER_SIZE;
	region_write_terminator(s, first, rt->end);
	s->ops.persist(stream_ptr(s, first), ENTRY_HEADER_SIZE);

	rt_insert_tail(s, LIST_ALLOCATED, rt);
	rt_remove(s, LIST_FREE, rt);

	spin_lock(&rt->lock);
	rt->append_offset = first;
	rt->zeroed_until = first;
	rt->last_timestamp = 0;
	rt->reservation_offset = INVALID_OFFSET;
	region_forget_tail(rt);
	rt->closing = 0;
	__atomic_store_n(&rt->writable, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&rt->allocated, 1, __ATOMIC_RELEASE);
	spin_unlock(&rt->lock);
}

int pmemstream_region_allocate(struct pmemstream *stream, size_t size,
			       struct pmemstream_region *region)
{
	struct pmemstream *s = stream;
	if (s == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return -1;
	}
	if (size == 0) {
		errmsg_set(EINVAL, "region size is 0");
		return -1;
	}
	if (size > s->usable_size - REGION_HEADER_SIZE) {
		errmsg_set(ENOSPC, "region size %zu exceeds the stream", size);
		return -1;
	}
	uint64_t total = ALIGN_UP((uint64_t)size + REGION_HEADER_SIZE, s->block_size);
	if (total > s->usable_size) {
		errmsg_set(ENOSPC, "region size %zu exceeds the stream", size);
		return -1;
	}

	int ret = -1;
	pthread_mutex_lock(&s->alloc_lock);
	struct allocator_header *a = &s->header->allocator;
	struct pmemstream_region_runtime *rt = NULL;
	uint64_t class_size = total;
	uint64_t offset = size_classes_peek_exact(&s->free_classes, total);

	if (offset == INVALID_OFFSET && a->free_offset + total <= s->usable_size) {
		rt = carve(s, total);
		if (rt == NULL)
			goto out;
	} else {
		if (offset == INVALID_OFFSET)
			offset = size_classes_peek_larger(&s->free_classes, total, &class_size);
		if (offset == INVALID_OFFSET) {
			errmsg_set(ENOSPC, "no space left in the stream for %zu bytes", size);
			goto out;
		}
		size_classes_pop(&s->free_classes, class_size);
		rt = region_index_exact(&s->index, offset);
	}
	take(s, rt);
	if (region != NULL)
		region->offset = rt->offset;
	ret = 0;
out:
	pthread_mutex_unlock(&s->alloc_lock);
	return ret;
}

int pmemstream_region_free(struct pmemstream *stream, struct pmemstream_region region)
{
	struct pmemstream *s = stream;
	if (s == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return -1;
	}

	int ret = -1;
	pthread_mutex_lock(&s->alloc_lock);
	struct pmemstream_region_runtime *rt = region_lookup(s, region.offset);
	if (rt == NULL) {
		errmsg_set(EINVAL, "%#" PRIx64 " is not an allocated region", region.offset);
		goto out;
	}
	if (size_classes_reserve(&s->free_classes, rt->end - rt->offset))
		goto out;

	spin_lock(&rt->lock);
	if (rt->reservation_offset != INVALID_OFFSET) {
		spin_unlock(&rt->lock);
		errmsg_set(EBUSY, "region %#" PRIx64 " has an outstanding reservation",
			   region.offset);
		goto out;
	}
	rt->closing = 1; /* no new operation can start on the region from now on */
	uint64_t last = rt->last_timestamp;
	spin_unlock(&rt->lock);

	/* a late copy must not land in the region after someone else reallocated it */
	commit_until(s, last);

	struct allocator_header *a = &s->header->allocator;
	store_persist(s, &a->recovery_free_offset, rt->offset);
	rt_insert_head(s, LIST_FREE, rt);
	rt_remove(s, LIST_ALLOCATED, rt);
	store_persist(s, &a->recovery_free_offset, INVALID_OFFSET);
	size_classes_push(&s->free_classes, rt->end - rt->offset, rt->offset);

	spin_lock(&rt->lock);
	__atomic_store_n(&rt->allocated, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rt->writable, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&rt->generation, region_new_generation(), __ATOMIC_SEQ_CST);
	rt->closing = 0;
	spin_unlock(&rt->lock);
	/*
	 * Iterators that found the region alive finish their reads before the space can be
	 * allocated again (allocation waits for alloc_lock); later ones see it freed.
	 */
	unsigned spins = 0;
	while (__atomic_load_n(&rt->readers, __ATOMIC_SEQ_CST) != 0)
		backoff(&spins);
	ret = 0;
out:
	pthread_mutex_unlock(&s->alloc_lock);
	return ret;
}

/* ---- recovery ---- */

static int corrupted(const char *what, uint64_t value)
{
	errmsg_set(EUCLEAN, "corrupted stream metadata: %s (%#" PRIx64 ")", what, value);
	return -1;
}

static int offset_ok(struct pmemstream *s, uint64_t offset)
{
	return offset % s->block_size == 0 && offset < s->usable_size;
}

static int region_ok(struct pmemstream *s, uint64_t node)
{
	if (!offset_ok(s, node))
		return 0;
	uint64_t size_and_type = pm_load_relaxed(&region_hdr(s, node)->size_and_type);
	if (span_type(size_and_type) != SPAN_REGION)
		return 0;
	uint64_t size = span_size(size_and_type);
	return size <= s->usable_size && (size + REGION_HEADER_SIZE) % s->block_size == 0 &&
	       size + REGION_HEADER_SIZE <= s->usable_size - node;
}

/* Spec 3.2 step 3. */
static int fix_list(struct pmemstream *s, enum list_kind k)
{
	struct slist *l = list_of(s, k);
	if ((l->head != INVALID_OFFSET && !offset_ok(s, l->head)) ||
	    (l->tail != INVALID_OFFSET && !offset_ok(s, l->tail)))
		return corrupted("list head or tail", l->head);
	if ((l->head == INVALID_OFFSET) != (l->tail == INVALID_OFFSET)) {
		list_reset(s, l);
		return 0;
	}
	if (l->tail == INVALID_OFFSET)
		return 0;
	uint64_t next = *link_of(s, l->tail, k);
	if (next != INVALID_OFFSET) {
		if (!region_ok(s, next))
			return corrupted("list tail link", next);
		store_persist(s, &l->tail, next);
	}
	return 0;
}

static int walk(struct pmemstream *s, enum list_kind k, struct node_list *out)
{
	size_t limit = s->usable_size / s->block_size + 1;
	struct slist *l = list_of(s, k);

	out->count = 0;
	for (uint64_t node = l->head; node != INVALID_OFFSET; node = *link_of(s, node, k)) {
		if (!region_ok(s, node))
			return corrupted("region in a list", node);
		if (out->count == limit)
			return corrupted("cyclic region list", node);
		if (node_list_push(out, node))
			return -1;
	}
	if (out->count > 0 && out->nodes[out->count - 1] != l->tail)
		return corrupted("list tail", l->tail);
	return 0;
}

static ssize_t find(const struct node_list *l, uint64_t node)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->nodes[i] == node)
			return (ssize_t)i;
	return -1;
}

static uint64_t prev_in(const struct node_list *l, size_t i)
{
	return i == 0 ? INVALID_OFFSET : l->nodes[i - 1];
}

/* Spec 3.2 step 4: complete or roll back interrupted allocations and frees. */
static int redo(struct pmemstream *s, struct node_list *alloc, struct node_list *freel)
{
	struct allocator_header *a = &s->header->allocator;
	uint64_t rfo = a->recovery_free_offset;

	if (walk(s, LIST_ALLOCATED, alloc) || walk(s, LIST_FREE, freel))
		return -1;

	/* a: the bump pointer must cover every listed region (the reference tests ">") */
	uint64_t free_offset = a->free_offset;
	for (size_t i = 0; i < alloc->count + freel->count; i++) {
		uint64_t node = i < alloc->count ? alloc->nodes[i] : freel->nodes[i - alloc->count];
		uint64_t end = node + region_total_size(s, node);
		if (end > free_offset)
			free_offset = end;
	}
	if (free_offset != a->free_offset)
		store_persist(s, &a->free_offset, free_offset);

	/* b: in both lists and not being freed: an interrupted allocation */
	for (size_t i = 0; i < freel->count;) {
		uint64_t node = freel->nodes[i];
		if (node != rfo && find(alloc, node) >= 0) {
			list_remove(s, LIST_FREE, node, prev_in(freel, i));
			if (walk(s, LIST_FREE, freel))
				return -1;
			i = 0;
		} else {
			i++;
		}
	}

	/* c: an interrupted free is redone */
	if (rfo != INVALID_OFFSET) {
		if (!region_ok(s, rfo))
			return corrupted("recovery_free_offset", rfo);
		if (a->free_list.head != rfo) {
			ssize_t i = find(freel, rfo);
			if (i >= 0)
				list_remove(s, LIST_FREE, rfo, prev_in(freel, (size_t)i));
			list_insert_head(s, LIST_FREE, rfo);
		}
		ssize_t i = find(alloc, rfo);
		if (i >= 0)
			list_remove(s, LIST_ALLOCATED, rfo, prev_in(alloc, (size_t)i));
		store_persist(s, &a->recovery_free_offset, INVALID_OFFSET);
		if (walk(s, LIST_ALLOCATED, alloc) || walk(s, LIST_FREE, freel))
			return -1;
	}
	return 0;
}

/* No region on both lists, none overlapping another, all below the bump pointer. */
static int check_disjoint(struct pmemstream *s, struct node_list *alloc, struct node_list *freel,
			  uint64_t **sortedp)
{
	size_t n = alloc->count + freel->count;
	uint64_t *sorted = malloc((n + 1) * sizeof(uint64_t));
	if (sorted == NULL) {
		errmsg_set(ENOMEM, "cannot allocate recovery state");
		return -1;
	}
	*sortedp = sorted;
	if (alloc->count > 0)
		memcpy(sorted, alloc->nodes, alloc->count * sizeof(uint64_t));
	if (freel->count > 0)
		memcpy(sorted + alloc->count, freel->nodes, freel->count * sizeof(uint64_t));
	qsort(sorted, n, sizeof(uint64_t), node_cmp);
	for (size_t i = 0; i < n; i++) {
		uint64_t end = sorted[i] + region_total_size(s, sorted[i]);
		if (i + 1 < n && end > sorted[i + 1])
			return corrupted("overlapping regions", sorted[i]);
		if (end > s->header->allocator.free_offset)
			return corrupted("region beyond free_offset", sorted[i]);
	}
	return 0;
}

static int build_runtime(struct pmemstream *s, struct node_list *alloc, struct node_list *freel,
			 const uint64_t *sorted)
{
	size_t n = alloc->count + freel->count;
	for (size_t i = 0; i < n; i++) {
		struct pmemstream_region_runtime *rt =
			rt_new(s, sorted[i], region_total_size(s, sorted[i]));
		if (rt == NULL || region_index_reserve(&s->index, sorted[i])) {
			free(rt);
			return -1;
		}
		region_index_append(&s->index, rt);
	}
	for (size_t i = 0; i < alloc->count; i++) {
		struct pmemstream_region_runtime *rt =
			region_index_exact(&s->index, alloc->nodes[i]);
		rt->alloc_prev = prev_in(alloc, i);
		rt->allocated = 1;
	}
	/* pushed from the tail so that the most recently freed region ends on top */
	for (size_t i = freel->count; i-- > 0;) {
		struct pmemstream_region_runtime *rt =
			region_index_exact(&s->index, freel->nodes[i]);
		rt->free_prev = prev_in(freel, i);
		uint64_t total = rt->end - rt->offset;
		if (size_classes_reserve(&s->free_classes, total))
			return -1;
		size_classes_push(&s->free_classes, total, rt->offset);
	}
	return 0;
}

/* Spec 3.2 step 5. */
static void mark_for_recovery(struct pmemstream *s, struct node_list *alloc)
{
	uint64_t w = s->header->persisted_timestamp;
	int flushed = 0;

	for (size_t i = 0; i < alloc->count; i++) {
		struct region_header *h = region_hdr(s, alloc->nodes[i]);
		if (h->max_valid_timestamp == UINT64_MAX) {
			store_flush(s, &h->max_valid_timestamp, w);
			flushed = 1;
		}
	}
	if (flushed)
		s->ops.drain();
}

int allocator_recover(struct pmemstream *s)
{
	struct allocator_header *a = &s->header->allocator;

	if (a->size != s->usable_size)
		return corrupted("allocator size", a->size);
	if (a->free_offset > s->usable_size || a->free_offset % s->block_size != 0)
		return corrupted("free_offset", a->free_offset);
	if (region_headers_repair(s))
		return -1;
	if (fix_list(s, LIST_ALLOCATED) || fix_list(s, LIST_FREE))
		return -1;

	struct node_list alloc = {0}, freel = {0};
	uint64_t *sorted = NULL;
	int ret = -1;

	if (redo(s, &alloc, &freel) || check_disjoint(s, &alloc, &freel, &sorted))
		goto out;
	if (build_runtime(s, &alloc, &freel, sorted))
		goto out;
	mark_for_recovery(s, &alloc);
	ret = 0;
out:
	free(alloc.nodes);
	free(freel.nodes);
	free(sorted);
	return ret;
}

void allocator_release(struct pmemstream *s)
{
	region_index_release(&s->index);
	size_classes_release(&s->free_classes);
}
