/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void *(*Malloc)(size_t size) = malloc;
static void (*Free)(void *ptr) = free;
static void *(*Realloc)(void *ptr, size_t size) = realloc;
static char *(*Strdup)(const char *s) = strdup;

void blk_set_funcs(void *(*malloc_func)(size_t size), void (*free_func)(void *ptr),
		   void *(*realloc_func)(void *ptr, size_t size),
		   char *(*strdup_func)(const char *s))
{
	Malloc = malloc_func != NULL ? malloc_func : malloc;
	Free = free_func != NULL ? free_func : free;
	Realloc = realloc_func != NULL ? realloc_func : realloc;
	Strdup = strdup_func != NULL ? strdup_func : strdup;
}

void *blk_malloc(size_t size)
{
	return Malloc(size);
}

void *blk_zalloc(size_t size)
{
	void *p = Malloc(size);
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void *blk_realloc(void *ptr, size_t size)
{
	return Realloc(ptr, size);
}

char *blk_strdup(const char *s)
{
	return Strdup(s);
}

void blk_free(void *ptr)
{
	if (ptr != NULL)
		Free(ptr);
}

/* The hooks offer no aligned allocation: over-allocate and keep the raw pointer in front. */
void *blk_zalloc_aligned(size_t size)
{
	size_t total = size + CACHELINE_SIZE + sizeof(void *);
	if (total < size)
		return NULL;
	char *raw = Malloc(total);
	if (raw == NULL)
		return NULL;
	uintptr_t start = ALIGN_UP((uintptr_t)raw + sizeof(void *), (uintptr_t)CACHELINE_SIZE);
	char *aligned = (char *)start;
	memcpy(aligned - sizeof(void *), &raw, sizeof(raw));
	memset(aligned, 0, size);
	return aligned;
}

void blk_free_aligned(void *ptr)
{
	if (ptr == NULL)
		return;
	void *raw;
	memcpy(&raw, (char *)ptr - sizeof(void *), sizeof(raw));
	Free(raw);
}
