/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/lanes.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>

#include "blk/alloc.h"
#include "common/errmsg.h"

/*
 * The lane this thread got last time; spread over the lanes on first use. initial-exec:
 * a fixed offset from the thread pointer instead of a __tls_get_addr call per operation.
 */
_Thread_local unsigned Lane_hint __attribute__((tls_model("initial-exec"))) = UINT_MAX;
static atomic_uint Next_hint;

/* rounds of waiting for a lane before a read settles for a read-only lane */
#define READ_LANE_ROUNDS 64

int lanes_init(struct lanes *l, unsigned count, unsigned read_only)
{
	l->slots = blk_zalloc_aligned((count + read_only) * sizeof(*l->slots));
	if (l->slots == NULL) {
		errmsg_set(ENOMEM, "out of memory for %u lanes", count);
		return -1;
	}
	for (unsigned i = 0; i < count + read_only; i++)
		atomic_init(&l->slots[i].busy, false);
	l->count = count;
	l->read_only = read_only;
	return 0;
}

void lanes_fini(struct lanes *l)
{
	blk_free_aligned(l->slots);
	l->slots = NULL;
	l->count = 0;
	l->read_only = 0;
}

static bool slot_try_take(struct lanes *l, unsigned i)
{
	atomic_bool *busy = &l->slots[i].busy;
	return !atomic_load_explicit(busy, memory_order_relaxed) &&
	       !atomic_exchange_explicit(busy, true, memory_order_acquire);
}

bool lane_try_acquire(struct lanes *l, unsigned *lane)
{
	if (unlikely(Lane_hint == UINT_MAX))
		Lane_hint = atomic_fetch_add_explicit(&Next_hint, 1, memory_order_relaxed);

	unsigned start = Lane_hint % l->count;
	unsigned i = start;
	do {
		if (slot_try_take(l, i)) {
			Lane_hint = i;
			*lane = i;
			return true;
		}
		i = i + 1 == l->count ? 0 : i + 1;
	} while (i != start);
	return false;
}

/* rounds of waiting for a lane before yielding */
#define LANE_PAUSES 64

unsigned lane_acquire_scan(struct lanes *l)
{
	unsigned lane;
	for (unsigned round = 0; !lane_try_acquire(l, &lane); round++)
		pause_or_yield(round, LANE_PAUSES);
	return lane;
}

unsigned lane_trade(struct lanes *l, unsigned held)
{
	unsigned other;
	/* held is busy, so the scan cannot return it */
	if (!lane_try_acquire(l, &other))
		return held;
	lane_release(l, held);
	return other;
}

static bool read_only_try_acquire(struct lanes *l, unsigned *lane)
{
	for (unsigned i = l->count; i < l->count + l->read_only; i++) {
		if (slot_try_take(l, i)) {
			*lane = i;
			return true;
		}
	}
	return false;
}

unsigned lane_acquire_read_scan(struct lanes *l)
{
	unsigned lane;
	for (unsigned round = 0;; round++) {
		if (lane_try_acquire(l, &lane))
			return lane;
		if (round >= READ_LANE_ROUNDS && read_only_try_acquire(l, &lane))
			return lane;
		pause_or_yield(round, LANE_PAUSES);
	}
}
