/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lanes: the right to use flog pair L and read-tracking slot L of every arena. A lane is
 * an atomic flag, not a mutex, so an asynchronous future may take it in one thread and
 * release it in another.
 */

#ifndef PMEMBLK_LANES_H
#define PMEMBLK_LANES_H

#include <stdatomic.h>
#include <stdbool.h>

#include "common/util.h"

struct lane_slot {
	atomic_bool busy;
} __attribute__((aligned(CACHELINE_SIZE)));

struct lanes {
	unsigned count;
	struct lane_slot *slots;
};

int lanes_init(struct lanes *l, unsigned count);
void lanes_fini(struct lanes *l);

/*
 * One pass over all lanes, starting with the one this thread used last, so that each
 * thread keeps finding its own free lane without touching the others' cache lines.
 */
bool lane_try_acquire(struct lanes *l, unsigned *lane);

/* Tries the lanes in turn until one is free (never waits on one particular lane). */
unsigned lane_acquire(struct lanes *l);

static inline void lane_release(struct lanes *l, unsigned lane)
{
	atomic_store_explicit(&l->slots[lane].busy, false, memory_order_release);
}

#endif
