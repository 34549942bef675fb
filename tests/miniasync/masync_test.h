/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the miniasync tests: a watchdog that turns a hang into a failure, byte
 * patterns that make misplaced copies visible, and a gate that holds a worker inside a hook
 * so that "still running" states can be observed deterministically.
 */

#ifndef MASYNC_TEST_H
#define MASYNC_TEST_H

/* rand_r, usleep */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ut.h"
#include <libminiasync.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define MASYNC_UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef MASYNC_UNDER_VALGRIND
#define MASYNC_UNDER_VALGRIND() 0
#endif

/*
 * A blocked runtime or worker would otherwise stall CI until the ctest timeout; SIGALRM's
 * default action kills the process, which ctest reports as a failure. Valgrind tools
 * (helgrind in particular) run the threaded tests tens of times slower.
 */
static inline void masync_watchdog(unsigned seconds)
{
	if (MASYNC_UNDER_VALGRIND())
		seconds *= 8;
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

/* A byte that depends on the position and a seed, so shifted or partial copies differ. */
static inline uint8_t masync_pattern_byte(size_t i, unsigned seed)
{
	uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ULL + seed * 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17));
}

static inline void masync_fill(void *buf, size_t n, unsigned seed)
{
	uint8_t *b = (uint8_t *)buf;
	for (size_t i = 0; i < n; i++)
		b[i] = masync_pattern_byte(i, seed);
}

/* Returns the first index that does not match the pattern, or n. */
static inline size_t masync_check(const void *buf, size_t n, unsigned seed)
{
	const uint8_t *b = (const uint8_t *)buf;
	for (size_t i = 0; i < n; i++)
		if (b[i] != masync_pattern_byte(i, seed))
			return i;
	return n;
}

static inline size_t masync_check_byte(const void *buf, size_t n, uint8_t value)
{
	const uint8_t *b = (const uint8_t *)buf;
	for (size_t i = 0; i < n; i++)
		if (b[i] != value)
			return i;
	return n;
}

static inline void *masync_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	UT_ASSERTne(p, NULL);
	return p;
}

/*
 * A gate that a hook waits on: tests close it, let a worker enter the hook (entered counts),
 * inspect state, then open it.
 */
struct masync_gate {
	atomic_int open;
	atomic_int entered;
};

static inline void masync_gate_init(struct masync_gate *g, int open)
{
	atomic_store(&g->open, open);
	atomic_store(&g->entered, 0);
}

static inline void masync_gate_pass(struct masync_gate *g)
{
	atomic_fetch_add(&g->entered, 1);
	while (!atomic_load(&g->open))
		sched_yield();
}

static inline void masync_gate_wait_entered(struct masync_gate *g, int n)
{
	while (atomic_load(&g->entered) < n)
		sched_yield();
}

#endif
