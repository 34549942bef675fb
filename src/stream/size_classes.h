/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Free regions grouped by total size, each group a LIFO stack (most recently freed on top),
 * so that a request is served by the last freed region of exactly its size in O(1)
 * (spec 4.6, 6.2). Rebuilt from the persistent free list at open; under the allocator lock.
 */

#ifndef PMEMSTREAM_SIZE_CLASSES_H
#define PMEMSTREAM_SIZE_CLASSES_H

#include <stddef.h>
#include <stdint.h>

struct size_class {
	uint64_t total_size;
	uint64_t *offsets;
	size_t count;
	size_t capacity;
};

struct size_classes {
	struct size_class *classes;
	size_t count;
	size_t capacity;
};

/* Makes sure a push of total_size cannot fail; -1 (ENOMEM) otherwise. */
int size_classes_reserve(struct size_classes *sc, uint64_t total_size);
void size_classes_push(struct size_classes *sc, uint64_t total_size, uint64_t offset);
/* Top of the stack of exactly total_size, or INVALID_OFFSET; not removed. */
uint64_t size_classes_peek_exact(struct size_classes *sc, uint64_t total_size);
/* Top of the smallest non-empty class larger than total_size, or INVALID_OFFSET. */
uint64_t size_classes_peek_larger(struct size_classes *sc, uint64_t total_size,
				  uint64_t *found_size);
void size_classes_pop(struct size_classes *sc, uint64_t total_size);
void size_classes_release(struct size_classes *sc);

#endif
