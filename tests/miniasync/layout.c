// SPDX-License-Identifier: BSD-3-Clause
/*
 * Struct layouts, enum values and flag macros (spec 2.1-2.3, 3.1-3.2), plus the effect of every
 * initialisation macro on the fields it must (and must not) touch (spec 2.5).
 */

#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "layout_checks.h"

int umbrella_header_smoke(void);

struct small_data {
	uint64_t a;
	uint64_t b;
};
struct small_output {
	uint64_t r;
};
FUTURE(small_fut, struct small_data, struct small_output);

static int small_task_calls;

static enum future_state small_task(struct future_context *ctx, struct future_notifier *n)
{
	(void)ctx;
	(void)n;
	small_task_calls++;
	return FUTURE_STATE_COMPLETE;
}

static int always_async(void *fut, enum future_property p)
{
	(void)fut;
	return p == FUTURE_PROPERTY_ASYNC;
}

static void poison(void *p, size_t n)
{
	memset(p, 0xA5, n);
}

static bool is_poisoned(const void *p, size_t n)
{
	const uint8_t *b = (const uint8_t *)p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0xA5)
			return false;
	return true;
}

static void test_future_init_macros(void)
{
	struct small_fut f;

	poison(&f, sizeof(f));
	FUTURE_INIT_EXT(&f, small_task, always_async);
	UT_ASSERTeq(f.base.task, small_task);
	UT_ASSERTeq(f.base.has_property, always_async);
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_IDLE);
	UT_ASSERTeq(f.base.context.data_size, sizeof(struct small_data));
	UT_ASSERTeq(f.base.context.output_size, sizeof(struct small_output));
	UT_ASSERTeq(f.base.context.padding, 0);
	UT_ASSERT(is_poisoned(&f.data, sizeof(f.data)));
	UT_ASSERT(is_poisoned(&f.output, sizeof(f.output)));
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 1);

	poison(&f, sizeof(f));
	FUTURE_INIT(&f, small_task);
	UT_ASSERTeq(f.base.task, small_task);
	UT_ASSERTeq(f.base.has_property, future_has_property_default);
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_IDLE);
	UT_ASSERTeq(f.base.context.data_size, 16);
	UT_ASSERTeq(f.base.context.output_size, 8);
	UT_ASSERTeq(f.base.context.padding, 0);
	UT_ASSERT(is_poisoned(&f.data, sizeof(f.data)));
	UT_ASSERT(is_poisoned(&f.output, sizeof(f.output)));
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 0);
	UT_ASSERTeq(future_has_property_default(&f, FUTURE_PROPERTY_ASYNC), 0);

	poison(&f, sizeof(f));
	FUTURE_INIT_COMPLETE(&f);
	UT_ASSERTeq(f.base.task, NULL);
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(f.base.context.data_size, 16);
	UT_ASSERTeq(f.base.context.output_size, 8);
	UT_ASSERTeq(f.base.context.padding, 0);
	UT_ASSERT(is_poisoned(&f.data, sizeof(f.data)));
	UT_ASSERT(is_poisoned(&f.output, sizeof(f.output)));
	/* NULL (reference) or the default (recommended); either way it must not crash */
	UT_ASSERT(f.base.has_property == NULL ||
		  f.base.has_property == future_has_property_default);
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 0);

	/* a COMPLETE future is never passed to its (NULL) task */
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), NULL), FUTURE_STATE_COMPLETE);
	FUTURE_BUSY_POLL(&f);

	f.base.has_property = NULL;
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 0);

	/* accessors */
	UT_ASSERTeq(FUTURE_AS_RUNNABLE(&f), &f.base);
	UT_ASSERTeq(FUTURE_DATA(&f), &f.data);
	UT_ASSERTeq(FUTURE_OUTPUT(&f), &f.output);
	FUTURE_STATE(&f) = FUTURE_STATE_RUNNING;
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_RUNNING);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_RUNNING);

	/* future_poll stores the task's result */
	FUTURE_INIT(&f, small_task);
	small_task_calls = 0;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), NULL), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(small_task_calls, 1);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), NULL), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(small_task_calls, 1);

	/* spec: FUTURE_BUSY_POLL is a complete loop statement, not needing a trailing ';' */
	FUTURE_INIT(&f, small_task);
	FUTURE_BUSY_POLL(&f)
	UT_ASSERTeq(small_task_calls, 2);
	__FUTURE_WAIT();
}

static void *woken_with;

static void record_wake(void *data)
{
	woken_with = data;
}

static void test_waker_macro(void)
{
	int token;
	struct future_waker w = {&token, record_wake};
	FUTURE_WAKER_WAKE(&w);
	UT_ASSERTeq(woken_with, &token);
}

static void dummy_map(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)lhs;
	(void)rhs;
	(void)arg;
}

static void dummy_init(void *future, struct future_context *chain, void *arg)
{
	(void)future;
	(void)chain;
	(void)arg;
}

struct two_entry_data {
	FUTURE_CHAIN_ENTRY(struct small_fut, first);
	FUTURE_CHAIN_ENTRY_LAST(struct small_fut, last);
	uint64_t extra;
};
FUTURE(two_entry_fut, struct two_entry_data, struct small_output);

static void test_chain_macros(void)
{
	struct two_entry_fut c;
	struct small_fut src;
	FUTURE_INIT(&src, small_task);
	src.data.a = 11;
	src.data.b = 22;
	src.output.r = 33;

	poison(&c, sizeof(c));
	FUTURE_CHAIN_ENTRY_INIT(&c.data.first, src, dummy_map, (void *)0x1234);
	UT_ASSERTeq(memcmp(&c.data.first.fut, &src, sizeof(src)), 0);
	UT_ASSERTeq(c.data.first.map, dummy_map);
	UT_ASSERTeq(c.data.first.map_arg, (void *)0x1234);
	UT_ASSERTeq(c.data.first.init, NULL);
	UT_ASSERTeq(c.data.first.init_arg, NULL);
	UT_ASSERTeq((uintptr_t)c.data.first.flags, 0);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&c.data.first));

	FUTURE_CHAIN_ENTRY_INIT(&c.data.last, src, NULL, NULL);
	UT_ASSERTeq((uintptr_t)c.data.last.flags, FUTURE_CHAIN_FLAG_ENTRY_LAST);
	UT_ASSERTeq(c.data.last.map, NULL);
	UT_ASSERTeq(c.data.last.map_arg, NULL);
	UT_ASSERT(is_poisoned(&c.data.extra, sizeof(c.data.extra)));

	poison(&c, sizeof(c));
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&c.data.first, dummy_init, (void *)0x77, dummy_map,
				     (void *)0x88);
	UT_ASSERTeq(c.data.first.init, dummy_init);
	UT_ASSERTeq(c.data.first.init_arg, (void *)0x77);
	UT_ASSERTeq(c.data.first.map, dummy_map);
	UT_ASSERTeq(c.data.first.map_arg, (void *)0x88);
	UT_ASSERTeq((uintptr_t)c.data.first.flags, 0);
	UT_ASSERT(is_poisoned(&c.data.first.fut, sizeof(c.data.first.fut)));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&c.data.first));

	FUTURE_CHAIN_ENTRY_LAZY_INIT(&c.data.last, dummy_init, NULL, NULL, NULL);
	UT_ASSERTeq((uintptr_t)c.data.last.flags, FUTURE_CHAIN_FLAG_ENTRY_LAST);
	UT_ASSERT(is_poisoned(&c.data.last.fut, sizeof(c.data.last.fut)));

	poison(&c.output, sizeof(c.output));
	FUTURE_CHAIN_INIT(&c);
	UT_ASSERTeq(c.base.task, async_chain_impl);
	UT_ASSERTeq(c.base.has_property, future_chain_has_property);
	UT_ASSERTeq(c.base.context.state, FUTURE_STATE_IDLE);
	UT_ASSERTeq(c.base.context.data_size, sizeof(struct two_entry_data));
	UT_ASSERTeq(c.base.context.output_size, sizeof(struct small_output));
	UT_ASSERT(is_poisoned(&c.output, sizeof(c.output)));

	/* the generic view reads the same words */
	struct future_chain_entry *e = (struct future_chain_entry *)&c.data.last;
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_LAST(e));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(e));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(e));
	e->flags |= FUTURE_CHAIN_FLAG_ENTRY_PROCESSED;
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_PROCESSED(e));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_HAS_FLAG(e, FUTURE_CHAIN_VALID_FLAGS));
	uint64_t word;
	memcpy(&word, (char *)&c.data.last + 32, sizeof(word));
	UT_ASSERTeq(word, FUTURE_CHAIN_VALID_FLAGS);
	e->flags &= ~FUTURE_CHAIN_FLAG_ENTRY_LAST;
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_LAST(e));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_HAS_FLAG(e, FUTURE_CHAIN_VALID_FLAGS));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_HAS_FLAG(e, FUTURE_CHAIN_FLAG_ENTRY_PROCESSED));
}

int main(void)
{
	signal(SIGALRM, SIG_DFL);
	alarm(60);
	check_all_layout();
	test_future_init_macros();
	test_waker_macro();
	test_chain_macros();
	UT_ASSERTeq(umbrella_header_smoke(), 0);
	return 0;
}
