/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime polls futures in the calling thread. Between polling rounds it spins briefly,
 * then sleeps on a wake channel that WAKER futures signal; the sleep is bounded because
 * NONE and POLLER futures, and third-party ones, never signal it.
 */

#include "libminiasync/runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/util.h"

#define SPIN_ROUNDS	   128
#define SLEEP_TIMEOUT_NSEC 1000000L /* 1 ms */

struct runtime {
	pthread_mutex_t lock;
	pthread_cond_t wakeup;
	/* bumped by every wake: a waiter sleeps only if nothing was woken since its round began */
	_Atomic uint64_t wake_seq;
	/* wakers take the mutex only when someone sleeps (workers call them on every completion) */
	atomic_uint sleepers;
};

struct runtime *runtime_new(void)
{
	struct runtime *rt = calloc(1, sizeof(*rt));
	if (rt == NULL)
		return NULL;

	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0)
		goto err_free;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int ret = pthread_cond_init(&rt->wakeup, &attr);
	pthread_condattr_destroy(&attr);
	if (ret != 0)
		goto err_free;
	if (pthread_mutex_init(&rt->lock, NULL) != 0)
		goto err_cond;
	return rt;

err_cond:
	pthread_cond_destroy(&rt->wakeup);
err_free:
	free(rt);
	return NULL;
}

void runtime_delete(struct runtime *rt)
{
	if (rt == NULL)
		return;
	pthread_mutex_destroy(&rt->lock);
	pthread_cond_destroy(&rt->wakeup);
	free(rt);
}

static void runtime_wake(void *data)
{
	struct runtime *rt = data;

	atomic_fetch_add_explicit(&rt->wake_seq, 1, memory_order_relaxed);
	/* pairs with the fence in runtime_sleep: the sleeper sees the new sequence or we see it */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&rt->sleepers, memory_order_relaxed) == 0)
		return;
	pthread_mutex_lock(&rt->lock);
	pthread_cond_broadcast(&rt->wakeup);
	pthread_mutex_unlock(&rt->lock);
}

static void runtime_sleep(struct runtime *rt, uint64_t seen_seq)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += SLEEP_TIMEOUT_NSEC;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&rt->lock);
	atomic_fetch_add_explicit(&rt->sleepers, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&rt->wake_seq, memory_order_relaxed) == seen_seq)
		pthread_cond_timedwait(&rt->wakeup, &rt->lock, &deadline);
	atomic_fetch_sub_explicit(&rt->sleepers, 1, memory_order_relaxed);
	pthread_mutex_unlock(&rt->lock);
}

/*
 * Async futures first, so that their work starts before the synchronous ones are run.
 * The order must be stable (ties keep the previous round's order); insertion sort is, and
 * costs one more property look-up per future when the order is already right, which is
 * the common case. The look-ups are not kept in an array: one that needs memory could
 * fail, and the order is required anyway.
 */
static void order_async_first(struct future *futs[], size_t nfuts)
{
	for (size_t i = 1; i < nfuts; i++) {
		struct future *fut = futs[i];
		int key = future_has_property(fut, FUTURE_PROPERTY_ASYNC);
		size_t j = i;
		for (; j > 0 && future_has_property(futs[j - 1], FUTURE_PROPERTY_ASYNC) < key; j--)
			futs[j] = futs[j - 1];
		futs[j] = fut;
	}
}

/* One round: polls every unfinished future once; returns how many are still unfinished. */
static size_t poll_round(struct future *futs[], size_t nfuts, struct future_notifier *notifier)
{
	size_t pending = 0;

	for (size_t i = 0; i < nfuts; i++) {
		if (futs[i]->context.state == FUTURE_STATE_COMPLETE)
			continue;
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;
		if (future_poll(futs[i], notifier) != FUTURE_STATE_COMPLETE)
			pending++;
	}
	return pending;
}

void runtime_wait_multiple(struct runtime *rt, struct future *futs[], size_t nfuts)
{
	if (nfuts == 0)
		return;

	struct future_notifier notifier = {
		.waker = {.data = rt, .wake = runtime_wake},
		.poller = {.ptr_to_monitor = NULL},
		.notifier_used = FUTURE_NOTIFIER_NONE,
		.padding = 0,
	};

	for (unsigned round = 1;; round++) {
		uint64_t seen_seq = atomic_load_explicit(&rt->wake_seq, memory_order_relaxed);
		order_async_first(futs, nfuts);
		if (poll_round(futs, nfuts, &notifier) == 0)
			break;
		if (round % SPIN_ROUNDS == 0)
			runtime_sleep(rt, seen_seq);
		else
			cpu_relax();
	}
}

void runtime_wait(struct runtime *rt, struct future *fut)
{
	runtime_wait_multiple(rt, &fut, 1);
}
