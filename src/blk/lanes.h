/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lanes: the right to use flog pair L and read-tracking slot L of every arena. A lane is
 * an atomic flag, not a mutex, so an asynchronous future may take it in one thread and
 * release it in another. Read-only lanes follow the lanes: slot L only, no flog pair.
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
	unsigned count;	    /* lanes 0 .. count - 1 */
	unsigned read_only; /* read-only lanes count .. count + read_only - 1 */
	struct lane_slot *slots;
};

int lanes_init(struct lanes *l, unsigned count, unsigned read_only);
void lanes_fini(struct lanes *l);

/*
 * One pass over all lanes, starting with the one this thread used last, so that each
 * thread keeps finding its own free lane without touching the others' cache lines.
 */
bool lane_try_acquire(struct lanes *l, unsigned *lane);

/* The lane this thread got last time (UINT_MAX before its first); see lanes.c. */
extern _Thread_local unsigned Lane_hint __attribute__((tls_model("initial-exec")));

/* lane_acquire when the hinted lane is busy */
unsigned lane_acquire_scan(struct lanes *l);

/*
 * The thread's hinted lane if it is free. Inline, and the slot taken with nothing before
 * it: on the read path a call here measured 20% of the throughput.
 */
static inline bool lane_take_hinted(struct lanes *l, unsigned *lane)
{
	unsigned hint = Lane_hint;
	if (likely(hint < l->count) &&
	    !atomic_exchange_explicit(&l->slots[hint].busy, true, memory_order_acquire)) {
		*lane = hint;
		return true;
	}
	return false;
}

/* Tries the lanes in turn until one is free (never waits on one particular lane). */
static inline unsigned lane_acquire(struct lanes *l)
{
	unsigned lane;
	return lane_take_hinted(l, &lane) ? lane : lane_acquire_scan(l);
}

/*
 * For a write whose lane's free block stays in use: another lane if one is free (the held
 * one is given back), else the held one.
 */
unsigned lane_trade(struct lanes *l, unsigned held);

/* lane_acquire_read when the hinted lane is busy */
unsigned lane_acquire_read_scan(struct lanes *l);

/*
 * A lane or, when every lane stays taken, a read-only lane: enough for a read. The lanes
 * may all be held by pending futures of the calling thread, which only its own polls
 * release; read-only lanes are held only by synchronous reads, which never wait while
 * they hold one, so waiting for those ends.
 */
static inline unsigned lane_acquire_read(struct lanes *l)
{
	unsigned lane;
	return lane_take_hinted(l, &lane) ? lane : lane_acquire_read_scan(l);
}

static inline void lane_release(struct lanes *l, unsigned lane)
{
	atomic_store_explicit(&l->slots[lane].busy, false, memory_order_release);
}

#endif
