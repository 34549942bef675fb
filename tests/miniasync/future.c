// SPDX-License-Identifier: BSD-3-Clause
/*
 * User-defined futures and chains driven by hand (spec 2.4-2.6, 7.1 test_future): polling
 * protocol, notifier pass-through, maps, lazy inits, LAST entries with extra fields, skipping
 * by state, re-running by clearing PROCESSED, and the chain property walk.
 */

#include "masync_test.h"

#define COUNT	       10
#define BOGUS_NOTIFIER ((struct future_notifier *)(uintptr_t)0xDEADBEEF)
#define MAP_ARG	       ((void *)(uintptr_t)0xFEEDCAFE)

/* macro-declared entries are edited through the generic view, as users do (spec 2.6) */
static struct future_chain_entry *as_entry(void *entry)
{
	return entry;
}

static struct future_notifier *expected_notifier = BOGUS_NOTIFIER;
static int task_calls;

/* count-up: RUNNING until the counter reaches max, then adds 1 to its output */
struct up_data {
	int counter;
	int max;
};
struct up_output {
	int result;
};
FUTURE(up_fut, struct up_data, struct up_output);

static enum future_state up_task(struct future_context *ctx, struct future_notifier *n)
{
	UT_ASSERTeq(n, expected_notifier);
	task_calls++;
	struct up_data *d = future_context_get_data(ctx);
	if (++d->counter < d->max)
		return FUTURE_STATE_RUNNING;
	struct up_output *o = future_context_get_output(ctx);
	o->result += 1;
	return FUTURE_STATE_COMPLETE;
}

static int async_prop(void *fut, enum future_property p)
{
	(void)fut;
	return p == FUTURE_PROPERTY_ASYNC;
}

static struct up_fut up(int max)
{
	struct up_fut f;
	FUTURE_INIT(&f, up_task);
	f.data.counter = 0;
	f.data.max = max;
	f.output.result = 0;
	return f;
}

static struct up_fut up_async(int max)
{
	struct up_fut f = up(max);
	f.base.has_property = async_prop;
	return f;
}

/* count-down: RUNNING until the counter reaches 0 */
struct down_data {
	int counter;
};
struct down_output {
	int result;
};
FUTURE(down_fut, struct down_data, struct down_output);

static enum future_state down_task(struct future_context *ctx, struct future_notifier *n)
{
	UT_ASSERTeq(n, expected_notifier);
	task_calls++;
	struct down_data *d = future_context_get_data(ctx);
	if (--d->counter > 0)
		return FUTURE_STATE_RUNNING;
	struct down_output *o = future_context_get_output(ctx);
	o->result += 1;
	return FUTURE_STATE_COMPLETE;
}

static struct down_fut down(int counter)
{
	struct down_fut f;
	FUTURE_INIT(&f, down_task);
	f.data.counter = counter;
	f.output.result = 0;
	return f;
}

static void test_single_future(void)
{
	struct up_fut f = up(COUNT);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_IDLE);
	task_calls = 0;
	for (int i = 1; i <= COUNT; i++) {
		enum future_state s = future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER);
		UT_ASSERTeq(task_calls, i);
		UT_ASSERTeq(FUTURE_DATA(&f)->counter, i);
		if (i < COUNT) {
			UT_ASSERTeq(s, FUTURE_STATE_RUNNING);
			UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_RUNNING);
			UT_ASSERTeq(FUTURE_OUTPUT(&f)->result, 0);
		} else {
			UT_ASSERTeq(s, FUTURE_STATE_COMPLETE);
		}
	}
	/* output written through the context arithmetic is the member */
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->result, 1);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(task_calls, COUNT);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->result, 1);

	/* futures are values: a copy continues where the original stopped */
	struct up_fut a = up(3);
	future_poll(FUTURE_AS_RUNNABLE(&a), BOGUS_NOTIFIER);
	struct up_fut b = a;
	memset(&a, 0, sizeof(a));
	future_poll(FUTURE_AS_RUNNABLE(&b), BOGUS_NOTIFIER);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&b), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(b.output.result, 1);
}

/* Two-entry chain: up(COUNT) -> down(set by the map) -> chain output. */
struct up_down_data {
	FUTURE_CHAIN_ENTRY(struct up_fut, up);
	FUTURE_CHAIN_ENTRY(struct down_fut, down);
};
struct up_down_output {
	int sum;
};
FUTURE(up_down_fut, struct up_down_data, struct up_down_output);

static int up_to_down_calls, down_to_out_calls;
static struct future_context *expected_rhs;

static void up_to_down(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	UT_ASSERTeq(arg, MAP_ARG);
	up_to_down_calls++;
	struct up_data *ud = future_context_get_data(lhs);
	struct up_output *uo = future_context_get_output(lhs);
	struct down_data *dd = future_context_get_data(rhs);
	struct down_output *dout = future_context_get_output(rhs);
	UT_ASSERTeq(lhs->state, FUTURE_STATE_COMPLETE);
	/* the next entry has not been polled yet */
	UT_ASSERTeq(rhs->state, FUTURE_STATE_IDLE);
	dd->counter = ud->counter;
	dout->result += uo->result;
}

static void down_to_out(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	UT_ASSERTeq(arg, (void *)(uintptr_t)0xABC);
	if (expected_rhs != NULL)
		UT_ASSERTeq(rhs, expected_rhs);
	down_to_out_calls++;
	struct down_data *dd = future_context_get_data(lhs);
	UT_ASSERTeq(dd->counter, 0);
	struct down_output *dout = future_context_get_output(lhs);
	struct up_down_output *out = future_context_get_output(rhs);
	out->sum = dout->result;
}

static struct up_down_fut up_down(int count)
{
	struct up_down_fut f;
	f.output.sum = 0;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.up, up(count), up_to_down, MAP_ARG);
	/* the down counter is a placeholder the map replaces */
	FUTURE_CHAIN_ENTRY_INIT(&f.data.down, down(1000), down_to_out, (void *)(uintptr_t)0xABC);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

static void test_chain(void)
{
	struct up_down_fut f = up_down(COUNT);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_IDLE);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.up));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.down));
	up_to_down_calls = down_to_out_calls = 0;
	expected_rhs = &f.base.context;

	/*
	 * poll COUNT completes up, its map runs, and down is polled in that same poll; down
	 * then needs COUNT - 1 more polls: 2 * COUNT - 1 in total.
	 */
	for (int i = 1; i < 2 * COUNT - 1; i++) {
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER),
			    FUTURE_STATE_RUNNING);
		UT_ASSERTeq(up_to_down_calls, i >= COUNT);
		if (i == COUNT) {
			struct future_chain_entry *e = as_entry(&f.data.up);
			UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_PROCESSED(e));
			UT_ASSERTeq(f.data.down.fut.data.counter, COUNT - 1);
		}
	}
	UT_ASSERTeq(down_to_out_calls, 0);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(down_to_out_calls, 1);
	/* up contributes 1 through the map, down 1 itself */
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->sum, 2);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_PROCESSED(as_entry(&f.data.down)));

	/* a completed chain is not run again */
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(down_to_out_calls, 1);
	UT_ASSERTeq(up_to_down_calls, 1);
	expected_rhs = NULL;
}

/* The chain iterator by hand: entry addresses and byte counts (spec 2.6). */
static void test_iterator(void)
{
	struct up_down_fut f = up_down(2);
	struct future_context *ctx = &f.base.context;
	uint8_t *data = future_context_get_data(ctx);
	size_t used = 0;

	struct future_chain_entry *first = (struct future_chain_entry *)data;
	UT_ASSERTeq(first, as_entry(&f.data.up));
	struct future_chain_entry *next = get_next_future_chain_entry(ctx, first, data, &used);
	UT_ASSERTeq(next, as_entry(&f.data.down));
	/* 80 + 8 + 4, rounded up to a multiple of 8 */
	UT_ASSERTeq(used, 96);
	next = get_next_future_chain_entry(ctx, next, data, &used);
	UT_ASSERTeq(next, NULL);
	UT_ASSERTeq(used, sizeof(struct up_down_data));
}

/* A chain of futures that complete at once completes in a single poll. */
struct instant_data {
	int value;
	int pad;
};
struct instant_output {
	int value;
	int pad;
};
FUTURE(instant_fut, struct instant_data, struct instant_output);

static int instant_calls;

static enum future_state instant_task(struct future_context *ctx, struct future_notifier *n)
{
	UT_ASSERTeq(n, expected_notifier);
	instant_calls++;
	struct instant_data *d = future_context_get_data(ctx);
	struct instant_output *o = future_context_get_output(ctx);
	o->value = d->value * 2;
	return FUTURE_STATE_COMPLETE;
}

static struct instant_fut instant(int v)
{
	struct instant_fut f;
	FUTURE_INIT(&f, instant_task);
	f.data.value = v;
	f.output.value = 0;
	return f;
}

static void double_into_next(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	struct instant_output *o = future_context_get_output(lhs);
	struct instant_data *d = future_context_get_data(rhs);
	d->value = o->value;
}

static void double_into_chain_output(struct future_context *lhs, struct future_context *rhs,
				     void *arg)
{
	(void)arg;
	struct instant_output *o = future_context_get_output(lhs);
	struct instant_output *chain_out = future_context_get_output(rhs);
	chain_out->value = o->value;
}

struct triple_data {
	FUTURE_CHAIN_ENTRY(struct instant_fut, a);
	FUTURE_CHAIN_ENTRY(struct instant_fut, b);
	FUTURE_CHAIN_ENTRY(struct instant_fut, c);
};
FUTURE(triple_fut, struct triple_data, struct instant_output);

static struct triple_fut triple(int v)
{
	struct triple_fut f;
	f.output.value = 0;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.a, instant(v), double_into_next, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.b, instant(-1), double_into_next, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.c, instant(-1), double_into_chain_output, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

static void test_synchronous_chain_one_poll(void)
{
	struct triple_fut f = triple(3);
	instant_calls = 0;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(instant_calls, 3);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 24);
	UT_ASSERTeq(future_chain_has_property(&f, FUTURE_PROPERTY_ASYNC), -1);

	/* a chain never reports IDLE, even when its first entry did not move */
	struct up_down_fut g = up_down(3);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&g), BOGUS_NOTIFIER), FUTURE_STATE_RUNNING);
}

/* An entry that is IDLE (not started, like a vdm future facing a full queue) until allowed. */
struct idle_data {
	int allowed;
	int polls;
};
FUTURE(idle_fut, struct idle_data, struct instant_output);

static enum future_state idle_task(struct future_context *ctx, struct future_notifier *n)
{
	UT_ASSERTeq(n, expected_notifier);
	struct idle_data *d = future_context_get_data(ctx);
	d->polls++;
	return d->allowed ? FUTURE_STATE_COMPLETE : FUTURE_STATE_IDLE;
}

struct idle_chain_data {
	FUTURE_CHAIN_ENTRY(struct idle_fut, wait);
	FUTURE_CHAIN_ENTRY(struct instant_fut, then);
};
FUTURE(idle_chain_fut, struct idle_chain_data, struct instant_output);

static void test_chain_never_idle(void)
{
	struct idle_chain_fut f;
	struct idle_fut w;
	FUTURE_INIT(&w, idle_task);
	w.data.allowed = 0;
	w.data.polls = 0;
	w.output.value = 0;
	f.output.value = 0;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.wait, w, NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.then, instant(4), double_into_chain_output, NULL);
	FUTURE_CHAIN_INIT(&f);

	for (int i = 1; i <= 3; i++) {
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER),
			    FUTURE_STATE_RUNNING);
		UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_RUNNING);
		UT_ASSERTeq(f.data.wait.fut.base.context.state, FUTURE_STATE_IDLE);
		UT_ASSERTeq(f.data.wait.fut.data.polls, i);
	}
	f.data.wait.fut.data.allowed = 1;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 8);
}

/* Clearing PROCESSED (and making the entry RUNNING) re-runs it on the next chain poll. */
static void test_rerun_entry(void)
{
	struct triple_fut f = triple(1);
	instant_calls = 0;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 8);
	UT_ASSERTeq(instant_calls, 3);

	/* run b again with a new input: b's map feeds c, which is still PROCESSED */
	struct future_chain_entry *b = as_entry(&f.data.b);
	b->flags &= ~FUTURE_CHAIN_FLAG_ENTRY_PROCESSED;
	b->future.context.state = FUTURE_STATE_RUNNING;
	f.data.b.fut.data.value = 50;
	FUTURE_STATE(&f) = FUTURE_STATE_RUNNING;

	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(instant_calls, 4);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_PROCESSED(b));
	UT_ASSERTeq(f.data.b.fut.output.value, 100);
	/* b's map ran again and wrote c's input; c was skipped (PROCESSED) */
	UT_ASSERTeq(f.data.c.fut.data.value, 100);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 8);

	/* now also c */
	struct future_chain_entry *c = as_entry(&f.data.c);
	c->flags &= ~FUTURE_CHAIN_FLAG_ENTRY_PROCESSED;
	c->future.context.state = FUTURE_STATE_RUNNING;
	FUTURE_STATE(&f) = FUTURE_STATE_RUNNING;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(instant_calls, 5);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 200);
}

/* A map may skip the next future by marking it COMPLETE; that entry's own map still runs. */
static int skipped_map_calls;

static void skip_next(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)lhs;
	(void)arg;
	rhs->state = FUTURE_STATE_COMPLETE;
}

static void skipped_map(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	skipped_map_calls++;
	struct instant_output *o = future_context_get_output(lhs);
	struct instant_data *d = future_context_get_data(rhs);
	d->value = o->value + 1000;
}

static void test_skip_by_state(void)
{
	struct triple_fut f;
	f.output.value = 0;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.a, instant(1), skip_next, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.b, instant(5), skipped_map, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.c, instant(-1), double_into_chain_output, NULL);
	FUTURE_CHAIN_INIT(&f);
	instant_calls = skipped_map_calls = 0;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	/* b's task never ran, its output is still 0 and its map saw it */
	UT_ASSERTeq(instant_calls, 2);
	UT_ASSERTeq(skipped_map_calls, 1);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 2000);
}

/* Lazy entries: a LAST entry followed by extra fields, nested chain built by an init. */
struct mul_data {
	int a;
	int b;
};
struct mul_output {
	int result;
};
FUTURE(mul_fut, struct mul_data, struct mul_output);

static struct mul_fut mul_complete(int a, int b)
{
	struct mul_fut f;
	FUTURE_INIT_COMPLETE(&f);
	f.data.a = a;
	f.data.b = b;
	f.output.result = a * b;
	return f;
}

struct mul_up_down_data {
	FUTURE_CHAIN_ENTRY(struct mul_fut, mul);
	FUTURE_CHAIN_ENTRY_LAST(struct up_down_fut, up_down);
	int num;
	int count;
};
struct mul_up_down_output {
	int sum;
};
FUTURE(mul_up_down_fut, struct mul_up_down_data, struct mul_up_down_output);

static struct mul_up_down_fut *lazy_under_test;
static int mul_inits, up_down_inits;

static void mul_init(void *future, struct future_context *chain, void *arg)
{
	UT_ASSERTeq(arg, (void *)(uintptr_t)0x51);
	UT_ASSERTeq(chain, &lazy_under_test->base.context);
	UT_ASSERTeq(future, &lazy_under_test->data.mul.fut);
	mul_inits++;
	struct mul_up_down_data *d = future_context_get_data(chain);
	struct mul_fut f = mul_complete(d->count, d->num);
	memcpy(future, &f, sizeof(f));
}

static void up_down_init(void *future, struct future_context *chain, void *arg)
{
	UT_ASSERTeq(arg, NULL);
	UT_ASSERTeq(chain, &lazy_under_test->base.context);
	UT_ASSERTeq(future, &lazy_under_test->data.up_down.fut);
	up_down_inits++;
	struct mul_up_down_data *d = future_context_get_data(chain);
	/* the previous entry already completed: its output is final */
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&d->mul));
	struct up_down_fut f = up_down(d->mul.fut.output.result);
	memcpy(future, &f, sizeof(f));
}

static void up_down_to_out(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	UT_ASSERTeq(rhs, &lazy_under_test->base.context);
	struct up_down_output *o = future_context_get_output(lhs);
	struct mul_up_down_output *out = future_context_get_output(rhs);
	out->sum = o->sum;
}

static struct mul_up_down_fut mul_up_down(int count, int num)
{
	struct mul_up_down_fut f;
	f.output.sum = 0;
	f.data.count = count;
	f.data.num = num;
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.mul, mul_init, (void *)(uintptr_t)0x51, NULL, NULL);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.up_down, up_down_init, NULL, up_down_to_out, NULL);
	FUTURE_CHAIN_INIT(&f);
	return f;
}

static void test_lazy_init(void)
{
	struct mul_up_down_fut f = mul_up_down(5, 5);
	lazy_under_test = &f;
	mul_inits = up_down_inits = 0;
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.mul));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.up_down));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_LAST(as_entry(&f.data.up_down)));

	int polls = 0;
	while (future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER) != FUTURE_STATE_COMPLETE) {
		UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.mul));
		UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.up_down));
		UT_ASSERT(++polls < 1000);
	}
	UT_ASSERTeq(mul_inits, 1);
	UT_ASSERTeq(up_down_inits, 1);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.mul));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&f.data.up_down));
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->sum, 2);
	UT_ASSERTeq(f.data.up_down.fut.data.up.fut.data.counter, 25);
	/* the extra fields after the LAST entry are not part of the walk */
	UT_ASSERTeq(f.data.count, 5);
	UT_ASSERTeq(f.data.num, 5);
	/* 25 up polls, the 25th also starts down (24 more) */
	UT_ASSERTeq(polls + 1, 49);
	lazy_under_test = NULL;
}

/* A map runs the next entry's pending lazy init before it is called. */
struct lazy_target_data {
	FUTURE_CHAIN_ENTRY(struct instant_fut, first);
	FUTURE_CHAIN_ENTRY_LAST(struct instant_fut, second);
	int second_built;
};
FUTURE(lazy_target_fut, struct lazy_target_data, struct instant_output);

static void build_second(void *future, struct future_context *chain, void *arg)
{
	(void)arg;
	struct lazy_target_data *d = future_context_get_data(chain);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_PROCESSED(as_entry(&d->first)) == 0);
	d->second_built = 1;
	struct instant_fut f = instant(0);
	memcpy(future, &f, sizeof(f));
}

static void first_to_second(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	struct lazy_target_fut *chain = arg;
	/* rhs is initialised by now, so the map can write its input */
	UT_ASSERTeq(chain->data.second_built, 1);
	UT_ASSERTeq(rhs->data_size, sizeof(struct instant_data));
	UT_ASSERTeq(rhs->state, FUTURE_STATE_IDLE);
	double_into_next(lhs, rhs, NULL);
}

static void test_map_sees_initialised_next(void)
{
	struct lazy_target_fut f;
	f.output.value = 0;
	f.data.second_built = 0;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.first, instant(7), first_to_second, &f);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&f.data.second, build_second, NULL, double_into_chain_output,
				     NULL);
	FUTURE_CHAIN_INIT(&f);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->value, 28);
}

/* Completed futures: COMPLETE at once, no task called by BUSY_POLL. */
static void test_completed_future(void)
{
	struct mul_fut f = mul_complete(2, 3);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_COMPLETE);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->result, 6);
}

/* future_chain_has_property: 1/0 for the current entry, -1 once all are processed. */
struct prop_chain_data {
	FUTURE_CHAIN_ENTRY(struct up_fut, a);
	FUTURE_CHAIN_ENTRY(struct up_fut, b);
	FUTURE_CHAIN_ENTRY(struct up_fut, c);
};
FUTURE(prop_chain_fut, struct prop_chain_data, struct up_output);

static void test_chain_property(void)
{
	struct prop_chain_fut f;
	f.output.result = 0;
	FUTURE_CHAIN_ENTRY_INIT(&f.data.a, up_async(2), NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.b, up(2), NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&f.data.c, up(2), NULL, NULL);
	f.data.c.fut.base.has_property = NULL; /* as reference-built futures may have */
	FUTURE_CHAIN_INIT(&f);

	struct future *fut = FUTURE_AS_RUNNABLE(&f);
	UT_ASSERTeq(future_has_property(fut, FUTURE_PROPERTY_ASYNC), 1);
	UT_ASSERTeq(future_chain_has_property(fut, FUTURE_PROPERTY_ASYNC), 1);
	future_poll(fut, BOGUS_NOTIFIER);
	UT_ASSERTeq(future_chain_has_property(fut, FUTURE_PROPERTY_ASYNC), 1);
	future_poll(fut, BOGUS_NOTIFIER); /* a completes, b polled once */
	UT_ASSERTeq(future_chain_has_property(fut, FUTURE_PROPERTY_ASYNC), 0);
	future_poll(fut, BOGUS_NOTIFIER); /* b completes, c polled once */
	UT_ASSERTeq(future_chain_has_property(fut, FUTURE_PROPERTY_ASYNC), 0);
	UT_ASSERTeq(future_poll(fut, BOGUS_NOTIFIER), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(future_chain_has_property(fut, FUTURE_PROPERTY_ASYNC), -1);
	UT_ASSERTeq(future_has_property(fut, FUTURE_PROPERTY_ASYNC), -1);

	/* the walk performs the lazy init of the entry it reaches, and only of that one */
	struct mul_up_down_fut g = mul_up_down(1, 1);
	lazy_under_test = &g;
	mul_inits = up_down_inits = 0;
	UT_ASSERTeq(future_chain_has_property(&g, FUTURE_PROPERTY_ASYNC), 0);
	UT_ASSERTeq(mul_inits, 1);
	UT_ASSERTeq(up_down_inits, 0);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&g.data.mul));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&g.data.up_down));
	/* polling does not run the first init twice */
	while (future_poll(FUTURE_AS_RUNNABLE(&g), BOGUS_NOTIFIER) != FUTURE_STATE_COMPLETE)
		;
	UT_ASSERTeq(mul_inits, 1);
	UT_ASSERTeq(up_down_inits, 1);
	lazy_under_test = NULL;
}

/* NULL notifier accepted and passed through a chain. */
static void test_null_notifier(void)
{
	expected_notifier = NULL;
	struct up_down_fut f = up_down(4);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->sum, 2);

	/* a real notifier reaches every entry unchanged as well */
	struct future_notifier n;
	memset(&n, 0, sizeof(n));
	expected_notifier = &n;
	f = up_down(4);
	while (future_poll(FUTURE_AS_RUNNABLE(&f), &n) != FUTURE_STATE_COMPLETE)
		;
	expected_notifier = BOGUS_NOTIFIER;
}

int main(void)
{
	masync_watchdog(60);
	test_single_future();
	test_chain();
	test_iterator();
	test_synchronous_chain_one_poll();
	test_chain_never_idle();
	test_rerun_entry();
	test_skip_by_state();
	test_lazy_init();
	test_map_sees_initialised_next();
	test_completed_future();
	test_chain_property();
	test_null_notifier();
	return 0;
}
