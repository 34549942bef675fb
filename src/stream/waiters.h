/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wakers of wait futures that returned RUNNING (spec 6.5). A registration is one-shot and
 * identified by an id kept in the future's private data, never by the future's address
 * (futures move between polls). Wakers run under the list lock, so once a future removed
 * its registration no wake of it can still be running.
 */

#ifndef PMEMSTREAM_WAITERS_H
#define PMEMSTREAM_WAITERS_H

#include <pthread.h>
#include <stdint.h>

#include "libminiasync.h"

struct waiter {
	uint64_t id;
	uint64_t timestamp;
	struct future_waker waker;
};

struct waiters {
	pthread_mutex_t lock;
	struct waiter *list;
	size_t count;
	size_t capacity;
	size_t registered; /* count, readable without the lock */
	uint64_t next_id;
};

int waiters_init(struct waiters *w);
void waiters_release(struct waiters *w);
/*
 * Registers the waker for *id (allocating an id when *id is 0) or refreshes an existing
 * registration; -1 when memory is short (the caller then falls back to plain polling).
 * Followed by a full fence, so a caller re-checking its condition afterwards cannot miss a
 * concurrent waiters_wake.
 */
int waiters_register(struct waiters *w, uint64_t *id, uint64_t timestamp,
		     struct future_waker waker);
void waiters_unregister(struct waiters *w, uint64_t id);
/*
 * Wakes and removes every registration waiting for a timestamp <= reached. The caller has
 * made its progress visible before calling (this starts with a full fence).
 */
void waiters_wake(struct waiters *w, uint64_t reached);
/* The same, for a caller whose progress was published by a sequentially consistent store. */
void waiters_wake_fenced(struct waiters *w, uint64_t reached);

#endif
