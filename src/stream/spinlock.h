/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A test-and-test-and-set lock for critical sections of a few dozen instructions (the
 * reservation of space and a timestamp). It yields after a while because the machines it
 * runs on are often oversubscribed and a preempted holder must get the CPU back.
 */

#ifndef PMEMSTREAM_SPINLOCK_H
#define PMEMSTREAM_SPINLOCK_H

#include <sched.h>

#include "common/util.h"

#define SPIN_BEFORE_YIELD 128

static inline void backoff(unsigned *spins)
{
	if (++*spins < SPIN_BEFORE_YIELD) {
		cpu_relax();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static inline int spin_trylock(int *lock)
{
	return __atomic_load_n(lock, __ATOMIC_RELAXED) == 0 &&
	       __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(int *lock)
{
	unsigned spins = 0;

	while (!spin_trylock(lock))
		backoff(&spins);
}

static inline void spin_unlock(int *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

#endif
