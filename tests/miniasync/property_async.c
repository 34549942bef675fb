// SPDX-License-Identifier: BSD-3-Clause
/*
 * Poll order of runtime_wait_multiple (spec 4, 7.1 future_property_async): every round the
 * futures are reordered stably by descending FUTURE_PROPERTY_ASYNC, re-evaluated each round,
 * so the exact completion order of equally long futures is pinned.
 */

#include "masync_test.h"

#define STEPS 20

#define MAX_FUTURES 80

static int completed[MAX_FUTURES];
static int ncompleted;

struct step_data {
	int counter;
	int id;
};
struct step_output {
	int done;
};
FUTURE(step_fut, struct step_data, struct step_output);

static enum future_state step_task(struct future_context *ctx, struct future_notifier *n)
{
	UT_ASSERTne(n, NULL);
	struct step_data *d = future_context_get_data(ctx);
	if (++d->counter < STEPS)
		return FUTURE_STATE_RUNNING;
	UT_ASSERT(ncompleted < MAX_FUTURES);
	completed[ncompleted++] = d->id;
	((struct step_output *)future_context_get_output(ctx))->done = 1;
	return FUTURE_STATE_COMPLETE;
}

static int async_prop(void *fut, enum future_property p)
{
	(void)fut;
	return p == FUTURE_PROPERTY_ASYNC;
}

static struct step_fut plain(int id)
{
	struct step_fut f;
	FUTURE_INIT(&f, step_task);
	f.data.counter = 0;
	f.data.id = id;
	f.output.done = 0;
	return f;
}

static struct step_fut async(int id)
{
	struct step_fut f = plain(id);
	f.base.has_property = async_prop;
	return f;
}

static void expect_order(const int *ids, int n)
{
	UT_ASSERTeq(ncompleted, n);
	for (int i = 0; i < n; i++) {
		if (completed[i] != ids[i])
			UT_FATAL("completion #%d: future %d, expected %d", i, completed[i], ids[i]);
	}
	ncompleted = 0;
}

static void test_plain_and_async(struct runtime *rt)
{
	struct step_fut p1 = plain(1), a = async(2), p2 = plain(3);
	struct future *futs[] = {FUTURE_AS_RUNNABLE(&p1), FUTURE_AS_RUNNABLE(&a),
				 FUTURE_AS_RUNNABLE(&p2)};
	runtime_wait_multiple(rt, futs, 3);
	static const int order[] = {2, 1, 3};
	expect_order(order, 3);
	UT_ASSERT(p1.output.done && a.output.done && p2.output.done);
}

struct two_step_data {
	FUTURE_CHAIN_ENTRY(struct step_fut, first);
	FUTURE_CHAIN_ENTRY(struct step_fut, second);
};
struct two_step_output {
	int done;
};
FUTURE(two_step_fut, struct two_step_data, struct two_step_output);

static void second_to_output(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	struct step_output *o = future_context_get_output(lhs);
	((struct two_step_output *)future_context_get_output(rhs))->done = o->done;
}

static struct two_step_fut two_step(struct step_fut first, struct step_fut second)
{
	struct two_step_fut c;
	c.output.done = 0;
	FUTURE_CHAIN_ENTRY_INIT(&c.data.first, first, NULL, NULL);
	FUTURE_CHAIN_ENTRY_INIT(&c.data.second, second, second_to_output, NULL);
	FUTURE_CHAIN_INIT(&c);
	return c;
}

static void test_chains(struct runtime *rt)
{
	/*
	 * Round 1 order: c2 (async first entry), c1, c3. After 20 rounds the first entries
	 * have completed (5, 3, 7) and the keys flip: c1 and c3 now run async entries, so
	 * the order becomes c1, c3, c2 and the second entries complete as 4, 8, 6.
	 */
	struct two_step_fut c1 = two_step(plain(3), async(4));
	struct two_step_fut c2 = two_step(async(5), plain(6));
	struct two_step_fut c3 = two_step(plain(7), async(8));
	struct future *futs[] = {FUTURE_AS_RUNNABLE(&c1), FUTURE_AS_RUNNABLE(&c2),
				 FUTURE_AS_RUNNABLE(&c3)};
	runtime_wait_multiple(rt, futs, 3);
	static const int order[] = {5, 3, 7, 4, 8, 6};
	expect_order(order, 6);
	UT_ASSERT(c1.output.done && c2.output.done && c3.output.done);
}

struct one_step_data {
	FUTURE_CHAIN_ENTRY(struct step_fut, only);
};
FUTURE(one_step_fut, struct one_step_data, struct two_step_output);

static void test_processed_chain(struct runtime *rt)
{
	struct one_step_fut c;
	c.output.done = 0;
	FUTURE_CHAIN_ENTRY_INIT(&c.data.only, plain(9), second_to_output, NULL);
	FUTURE_CHAIN_INIT(&c);
	struct step_fut a = async(10), p = plain(11);
	struct future *futs[] = {FUTURE_AS_RUNNABLE(&c), FUTURE_AS_RUNNABLE(&a),
				 FUTURE_AS_RUNNABLE(&p)};
	runtime_wait_multiple(rt, futs, 3);
	static const int order[] = {10, 9, 11};
	expect_order(order, 3);
	/* -1 of a finished chain */
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&c), FUTURE_PROPERTY_ASYNC), -1);
}

/* Ties keep their order across many futures (a stable sort, not glibc's qsort luck). */
static void test_stability(struct runtime *rt)
{
	struct step_fut f[12];
	struct future *futs[12];
	for (int i = 0; i < 12; i++) {
		f[i] = (i % 3 == 1) ? async(i) : plain(i);
		futs[i] = FUTURE_AS_RUNNABLE(&f[i]);
	}
	runtime_wait_multiple(rt, futs, 12);
	static const int order[] = {1, 4, 7, 10, 0, 2, 3, 5, 6, 8, 9, 11};
	expect_order(order, 12);
}

/* The same for many futures (the runtime once needed memory for more than 64 of them). */
static void test_many(struct runtime *rt)
{
	enum { N = 70 };
	struct step_fut f[N];
	struct future *futs[N];
	int order[N];
	int nasync = 0;
	for (int i = 0; i < N; i++) {
		f[i] = (i % 10 == 9) ? async(i) : plain(i);
		futs[i] = FUTURE_AS_RUNNABLE(&f[i]);
		if (i % 10 == 9)
			order[nasync++] = i;
	}
	for (int i = 0, k = nasync; i < N; i++)
		if (i % 10 != 9)
			order[k++] = i;
	runtime_wait_multiple(rt, futs, N);
	expect_order(order, N);
}

int main(void)
{
	masync_watchdog(60);
	struct runtime *rt = runtime_new();
	UT_ASSERTne(rt, NULL);
	test_plain_and_async(rt);
	test_chains(rt);
	test_processed_chain(rt);
	test_stability(rt);
	test_many(rt);
	runtime_delete(rt);
	return 0;
}
