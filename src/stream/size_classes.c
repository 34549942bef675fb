/* SPDX-License-Identifier: BSD-3-Clause */

#include "size_classes.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errmsg.h"
#include "layout.h"

static struct size_class *find(struct size_classes *sc, uint64_t total_size)
{
	for (size_t i = 0; i < sc->count; i++)
		if (sc->classes[i].total_size == total_size)
			return &sc->classes[i];
	return NULL;
}

static int grow(void **array, size_t *capacity, size_t needed, size_t element)
{
	if (needed <= *capacity)
		return 0;
	size_t cap = *capacity ? *capacity * 2 : 8;
	while (cap < needed)
		cap *= 2;
	void *p = realloc(*array, cap * element);
	if (p == NULL) {
		errmsg_set(ENOMEM, "cannot grow the free-region index");
		return -1;
	}
	*array = p;
	*capacity = cap;
	return 0;
}

int size_classes_reserve(struct size_classes *sc, uint64_t total_size)
{
	struct size_class *c = find(sc, total_size);
	if (c == NULL) {
		if (grow((void **)&sc->classes, &sc->capacity, sc->count + 1, sizeof(*c)))
			return -1;
		c = &sc->classes[sc->count++];
		*c = (struct size_class){.total_size = total_size};
	}
	return grow((void **)&c->offsets, &c->capacity, c->count + 1, sizeof(uint64_t));
}

void size_classes_push(struct size_classes *sc, uint64_t total_size, uint64_t offset)
{
	struct size_class *c = find(sc, total_size);
	c->offsets[c->count++] = offset;
}

uint64_t size_classes_peek_exact(struct size_classes *sc, uint64_t total_size)
{
	struct size_class *c = find(sc, total_size);
	if (c == NULL || c->count == 0)
		return INVALID_OFFSET;
	return c->offsets[c->count - 1];
}

uint64_t size_classes_peek_larger(struct size_classes *sc, uint64_t total_size,
				  uint64_t *found_size)
{
	struct size_class *best = NULL;
	for (size_t i = 0; i < sc->count; i++) {
		struct size_class *c = &sc->classes[i];
		if (c->count > 0 && c->total_size > total_size &&
		    (best == NULL || c->total_size < best->total_size))
			best = c;
	}
	if (best == NULL)
		return INVALID_OFFSET;
	*found_size = best->total_size;
	return best->offsets[best->count - 1];
}

void size_classes_pop(struct size_classes *sc, uint64_t total_size)
{
	find(sc, total_size)->count--;
}

void size_classes_release(struct size_classes *sc)
{
	for (size_t i = 0; i < sc->count; i++)
		free(sc->classes[i].offsets);
	free(sc->classes);
	*sc = (struct size_classes){0};
}
