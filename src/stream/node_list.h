/* SPDX-License-Identifier: BSD-3-Clause */
/* A growing array of region offsets, for the walks of recovery. */

#ifndef PMEMSTREAM_NODE_LIST_H
#define PMEMSTREAM_NODE_LIST_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/errmsg.h"

struct node_list {
	uint64_t *nodes;
	size_t count;
	size_t capacity;
};

/* 0, or -1 (ENOMEM) with the list unchanged */
static inline int node_list_push(struct node_list *l, uint64_t node)
{
	if (l->count == l->capacity) {
		size_t cap = l->capacity ? l->capacity * 2 : 64;
		uint64_t *nodes = realloc(l->nodes, cap * sizeof(*nodes));
		if (nodes == NULL) {
			errmsg_set(ENOMEM, "cannot allocate recovery state");
			return -1;
		}
		l->nodes = nodes;
		l->capacity = cap;
	}
	l->nodes[l->count++] = node;
	return 0;
}

/* qsort order of offsets */
static inline int node_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#endif
