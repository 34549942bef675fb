/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Repair of region headers that pmemstream 0.2.1 zeroed (spec 5, reference defect 1): when
 * an entry filled its region exactly, the reference wrote the EMPTY terminator over the
 * size_and_type of the region behind it. Nothing else of such a file is damaged, and the
 * lost size follows from where the next region starts: regions are carved back to back at
 * the bump pointer, and every carved region is on one of the two lists, whose links (the
 * header's next words) the terminator left alone.
 */

#include <stdlib.h>

#include "node_list.h"
#include "stream.h"

/*
 * Appends the regions of the list starting at head. Stops quietly at anything that is not
 * a region offset or at a cycle: the recovery after this reports such damage.
 */
static int collect(struct pmemstream *s, uint64_t head, int free_list, struct node_list *out)
{
	size_t limit = (size_t)(s->usable_size / s->block_size) + 1;
	uint64_t node = head;
	for (size_t n = 0; n < limit && node < s->usable_size && node % s->block_size == 0; n++) {
		if (node_list_push(out, node))
			return -1;
		const struct region_header *h = region_hdr(s, node);
		node = free_list ? h->next_free : h->next_allocated;
	}
	return 0;
}

/*
 * The header at sorted[i] is restored if it reads EMPTY, the region before it ends exactly
 * there (the one whose entry filled it), and the space up to the next region (or the bump
 * pointer) makes a region.
 */
static void repair_at(struct pmemstream *s, const uint64_t *sorted, size_t n, size_t i)
{
	struct region_header *h = region_hdr(s, sorted[i]);
	if (h->size_and_type != SPAN_EMPTY || i == 0)
		return;
	const struct region_header *before = region_hdr(s, sorted[i - 1]);
	if (span_type(before->size_and_type) != SPAN_REGION ||
	    sorted[i - 1] + region_total_size(s, sorted[i - 1]) != sorted[i])
		return;
	uint64_t end = i + 1 < n ? sorted[i + 1] : s->header->allocator.free_offset;
	if (end <= sorted[i] + REGION_HEADER_SIZE || end > s->usable_size)
		return;
	pm_store(&h->size_and_type, (end - sorted[i] - REGION_HEADER_SIZE) | SPAN_REGION);
	s->ops.persist(&h->size_and_type, sizeof(h->size_and_type));
}

int region_headers_repair(struct pmemstream *s)
{
	const struct allocator_header *a = &s->header->allocator;
	struct node_list listed = {0};
	if (collect(s, a->allocated_list.head, 0, &listed) ||
	    collect(s, a->free_list.head, 1, &listed)) {
		free(listed.nodes);
		return -1;
	}
	if (listed.count == 0)
		return 0;
	qsort(listed.nodes, listed.count, sizeof(*listed.nodes), node_cmp);
	size_t n = 0; /* a region on both lists (an interrupted allocation) counts once */
	for (size_t i = 0; i < listed.count; i++)
		if (n == 0 || listed.nodes[n - 1] != listed.nodes[i])
			listed.nodes[n++] = listed.nodes[i];
	/* in address order, so a repaired header serves the check of the region behind it */
	for (size_t i = 0; i < n; i++)
		repair_at(s, listed.nodes, n, i);
	free(listed.nodes);
	return 0;
}
