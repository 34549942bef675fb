/* SPDX-License-Identifier: BSD-3-Clause */
/* Heap allocations of libpmemblk, routed through the hooks of pmemblk_set_funcs(). */

#ifndef PMEMBLK_ALLOC_H
#define PMEMBLK_ALLOC_H

#include <stddef.h>

void *blk_malloc(size_t size);
void *blk_zalloc(size_t size);
void *blk_realloc(void *ptr, size_t size);
char *blk_strdup(const char *s);
void blk_free(void *ptr);

/* Zeroed memory starting on a cache line, so per-lane state never shares a line. */
void *blk_zalloc_aligned(size_t size);
void blk_free_aligned(void *ptr);

void blk_set_funcs(void *(*malloc_func)(size_t size), void (*free_func)(void *ptr),
		   void *(*realloc_func)(void *ptr, size_t size),
		   char *(*strdup_func)(const char *s));

#endif
