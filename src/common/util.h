/* SPDX-License-Identifier: BSD-3-Clause */
/* Small helpers used by every library. */

#ifndef PMEMKIT_COMMON_UTIL_H
#define PMEMKIT_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* a must be a power of two */
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_POW2(x)	 ((x) != 0 && (((x) & ((x)-1)) == 0))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define CACHELINE_SIZE 64

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include <sched.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

/*
 * Valgrind runs one thread at a time: a spinning thread would hold the CPU until its time
 * slice ends instead of letting the thread it waits for run.
 */
static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	if (!RUNNING_ON_VALGRIND) {
		_mm_pause();
		return;
	}
#endif
	sched_yield();
}

/*
 * One round of waiting for another thread: a pause for the first "pauses" rounds, then the
 * CPU handed over, since the thread waited for may be preempted and need it.
 */
static inline void pause_or_yield(unsigned round, unsigned pauses)
{
	if (round < pauses)
		cpu_relax();
	else
		sched_yield();
}

#endif
