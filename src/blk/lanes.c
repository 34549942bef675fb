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

int lanes_init(struct lanes *l, unsigned count)
{
	l->slots = blk_zalloc_aligned(count * sizeof(*l->slots));
	if (l->slots == NULL) {
		errmsg_set(ENOMEM, "out of memory for %u lanes", count);
		return -1;
	}
	for (unsigned i = 0; i < count; i++)
		atomic_init(&l->slots[i].busy, false);
	l->count = count;
	return 0;
}

void lanes_fini(struct lanes *l)
{
	blk_free_aligned(l->slots);
	l->slots = NULL;
	l->count = 0;
}

bool lane_try_acquire(struct lanes *l, unsigned *lane)
{
	if (unlikely(Lane_hint == UINT_MAX))
		Lane_hint = atomic_fetch_add_explicit(&Next_hint, 1, memory_order_relaxed);

	unsigned start = Lane_hint % l->count;
	unsigned i = start;
	do {
		atomic_bool *busy = &l->slots[i].busy;
		if (!atomic_load_explicit(busy, memory_order_relaxed) &&
		    !atomic_exchange_explicit(busy, true, memory_order_acquire)) {
			Lane_hint = i;
			*lane = i;
			return true;
		}
		i = i + 1 == l->count ? 0 : i + 1;
	} while (i != start);
	return false;
}

unsigned lane_acquire_scan(struct lanes *l)
{
	unsigned lane;
	for (unsigned round = 0; !lane_try_acquire(l, &lane); round++) {
		if (round < 64)
			cpu_relax();
		else
			sched_yield();
	}
	return lane;
}
