/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A wait future that reports FUTURE_NOTIFIER_WAKER is woken once progress is possible (spec
 * 6.5), also when, at its poll, the commit lock was held by work that moves neither the
 * committed nor the persisted timestamp: the allocator's stores into the stream header's
 * watermark line. This program holds the allocator inside such a store, by interposing
 * libpmem2's persist function, until the future has been polled.
 */

#include <dlfcn.h>
#include <pthread.h>

#include "stream_test.h"

#define SH_PERSISTED 80 /* W; its line also holds the allocator's list heads */
#define LINE	     64

static struct test_map tm;

/* The gate: the first persist of the watermark line after arming waits until opened. */
static pmem2_persist_fn real_persist;
static const char *w_line;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_changed = PTHREAD_COND_INITIALIZER;
static int gate_armed, gate_holding, gate_open;

static void gated_persist(const void *addr, size_t len)
{
	const char *p = addr;
	pthread_mutex_lock(&gate_lock);
	if (gate_armed && w_line != NULL && p >= w_line && p < w_line + LINE) {
		gate_armed = 0;
		gate_holding = 1;
		pthread_cond_broadcast(&gate_changed);
		while (!gate_open)
			pthread_cond_wait(&gate_changed, &gate_lock);
	}
	pthread_mutex_unlock(&gate_lock);
	real_persist(addr, len);
}

pmem2_persist_fn pmem2_get_persist_fn(struct pmem2_map *map)
{
	pmem2_persist_fn (*real)(struct pmem2_map *);
	*(void **)&real = dlsym(RTLD_NEXT, "pmem2_get_persist_fn");
	UT_ASSERT(real != NULL);
	real_persist = real(map);
	return gated_persist;
}

static void gate_set(int *flag)
{
	pthread_mutex_lock(&gate_lock);
	*flag = 1;
	pthread_cond_broadcast(&gate_changed);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_wait_holding(void)
{
	pthread_mutex_lock(&gate_lock);
	while (!gate_holding)
		pthread_cond_wait(&gate_changed, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void *allocate_region(void *arg)
{
	struct pmemstream *s = arg;
	struct pmemstream_region r;
	UT_ASSERTeq(pmemstream_region_allocate(s, 4096, &r), 0);
	return NULL;
}

static void count_wake(void *data)
{
	__atomic_add_fetch((int *)data, 1, __ATOMIC_SEQ_CST);
}

/*
 * The entry's publish wakes the waiters before the future registers; the future then finds
 * the lock taken by the allocator, whose release must wake it.
 */
static void test_woken_after_allocator_store(int kind_persisted)
{
	struct pmemstream *s = tm_stream(&tm, 4096);
	w_line = tm_base(&tm) + SH_PERSISTED / LINE * LINE;
	struct pmemstream_region r = alloc_region(s, 4096);
	struct pmemstream_entry e;
	void *data;
	UT_ASSERTeq(pmemstream_reserve(s, r, NULL, 8, &e, &data), 0);
	memset(data, 0x5a, 8);
	UT_ASSERTeq(pmemstream_async_publish(s, r, NULL, e, 8), 0);
	uint64_t ts = pmemstream_entry_timestamp(s, e);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts - 1);

	gate_holding = gate_open = 0;
	gate_set(&gate_armed);
	pthread_t allocator;
	UT_ASSERTeq(pthread_create(&allocator, NULL, allocate_region, s), 0);
	gate_wait_holding();

	struct pmemstream_async_wait_fut fut = kind_persisted
						       ? pmemstream_async_wait_persisted(s, ts)
						       : pmemstream_async_wait_committed(s, ts);
	int woken = 0;
	struct future_notifier n;
	memset(&n, 0, sizeof(n));
	n.waker = (struct future_waker){.data = &woken, .wake = count_wake};
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&fut), &n), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_WAKER);
	UT_ASSERTeq(__atomic_load_n(&woken, __ATOMIC_SEQ_CST), 0);

	gate_set(&gate_open);
	UT_ASSERTeq(pthread_join(allocator, NULL), 0);
	/* the allocator released the lock before it returned: the wake has happened */
	UT_ASSERTeq(__atomic_load_n(&woken, __ATOMIC_SEQ_CST), 1);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&fut), &n), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(fut.output.error_code, 0);
	UT_ASSERT(pmemstream_committed_timestamp(s) >= ts);
	if (kind_persisted)
		UT_ASSERT(pmemstream_persisted_timestamp(s) >= ts);
	pmemstream_delete(&s);
}

int main(void)
{
	tm_create(&tm, "wake", 1 * MiB);
	test_woken_after_allocator_store(0);
	test_woken_after_allocator_store(1);
	tm_destroy(&tm);
	return 0;
}
