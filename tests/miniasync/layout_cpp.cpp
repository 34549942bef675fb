// SPDX-License-Identifier: BSD-3-Clause
/*
 * The headers as a C++ translation unit (spec 6): same layouts as C, and every public macro,
 * including the chain-entry init macros that do not compile as C++ in the reference, used
 * under -Wall -Wextra -Werror. The chain built here also runs, so the macros must mean the
 * same in C++ as in C.
 */

#include <csignal>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "layout_checks.h"

namespace
{

struct counter_data {
	int count;
	int target;
};

struct counter_output {
	int done;
};

FUTURE(counter_fut, counter_data, counter_output);

enum future_state counter_task(struct future_context *ctx, struct future_notifier *n)
{
	if (n != nullptr)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	counter_data *d = static_cast<counter_data *>(future_context_get_data(ctx));
	if (++d->count < d->target)
		return FUTURE_STATE_RUNNING;
	static_cast<counter_output *>(future_context_get_output(ctx))->done = 1;
	return FUTURE_STATE_COMPLETE;
}

int async_property(void *fut, enum future_property p)
{
	(void)fut;
	return p == FUTURE_PROPERTY_ASYNC ? 1 : 0;
}

counter_fut make_counter(int target, bool async)
{
	counter_fut f = {};
	f.data.count = 0;
	f.data.target = target;
	f.output.done = 0;
	if (async)
		FUTURE_INIT_EXT(&f, counter_task, async_property);
	else
		FUTURE_INIT(&f, counter_task);
	return f;
}

struct chain_data {
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, copy);
	FUTURE_CHAIN_ENTRY(counter_fut, count);
	FUTURE_CHAIN_ENTRY_LAST(counter_fut, lazy);
	int lazy_target;
};

struct chain_output {
	void *copied_to;
	int lazy_done;
};

FUTURE(chain_fut, chain_data, chain_output);

void copy_to_count(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	auto *out = static_cast<vdm_operation_output *>(future_context_get_output(lhs));
	auto *count = static_cast<counter_data *>(future_context_get_data(rhs));
	UT_ASSERTeq(out->result, VDM_SUCCESS);
	UT_ASSERTeq(arg, reinterpret_cast<void *>(0xc0ffee));
	count->target = 3;
}

void lazy_to_output(struct future_context *lhs, struct future_context *rhs, void *arg)
{
	(void)arg;
	auto *lazy = static_cast<counter_output *>(future_context_get_output(lhs));
	auto *out = static_cast<chain_output *>(future_context_get_output(rhs));
	out->lazy_done = lazy->done;
}

void lazy_init(void *future, struct future_context *chain_ctx, void *arg)
{
	(void)arg;
	auto *d = static_cast<chain_data *>(future_context_get_data(chain_ctx));
	counter_fut f = make_counter(d->lazy_target, false);
	std::memcpy(future, &f, sizeof(f));
}

chain_fut make_chain(struct vdm *vdm, void *dst, void *src, size_t n)
{
	chain_fut c = {};
	c.data.lazy_target = 2;
	FUTURE_CHAIN_ENTRY_INIT(&c.data.copy, vdm_memcpy(vdm, dst, src, n, 0), copy_to_count,
				reinterpret_cast<void *>(0xc0ffee));
	FUTURE_CHAIN_ENTRY_INIT(&c.data.count, make_counter(1000, true), nullptr, nullptr);
	FUTURE_CHAIN_ENTRY_LAZY_INIT(&c.data.lazy, lazy_init, nullptr, lazy_to_output, nullptr);
	FUTURE_CHAIN_INIT(&c);
	return c;
}

int wakes;

void count_wake(void *data)
{
	*static_cast<int *>(data) += 1;
}

void test_macros()
{
	counter_fut f = make_counter(3, false);
	UT_ASSERTeq(FUTURE_STATE(&f), FUTURE_STATE_IDLE);
	UT_ASSERTeq(FUTURE_DATA(&f)->target, 3);
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 0);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(FUTURE_OUTPUT(&f)->done, 1);
	UT_ASSERTeq(FUTURE_DATA(&f)->count, 3);
	FUTURE_STATE(&f) = FUTURE_STATE_RUNNING;
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_RUNNING);
	__FUTURE_WAIT();

	counter_fut done;
	FUTURE_INIT_COMPLETE(&done);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&done), nullptr), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&done), FUTURE_PROPERTY_ASYNC), 0);

	struct future_waker w = {&wakes, count_wake};
	FUTURE_WAKER_WAKE(&w);
	UT_ASSERTeq(wakes, 1);

	std::unique_ptr<data_mover_sync, decltype(&data_mover_sync_delete)> dms(
		data_mover_sync_new(), &data_mover_sync_delete);
	UT_ASSERTne(dms.get(), nullptr);
	struct vdm *vdm = data_mover_sync_get_vdm(dms.get());
	UT_ASSERTeq(vdm_is_supported(vdm, VDM_F_MEM_DURABLE), 0);
	UT_ASSERTeq(vdm_is_supported(vdm, VDM_F_NO_CACHE_HINT), 0);
	UT_ASSERTeq(vdm_is_supported(vdm, VDM_F_VALID_FLAGS), 0);

	char src[VDM_OPERATION_DATA_MAX_SIZE] = "c++ translation unit";
	char dst[VDM_OPERATION_DATA_MAX_SIZE] = {};
	chain_fut c = make_chain(vdm, dst, src, sizeof(src));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&c.data.copy));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&c.data.lazy));
	UT_ASSERTeq(reinterpret_cast<uintptr_t>(c.data.copy.flags), 0);
	UT_ASSERTeq(reinterpret_cast<uintptr_t>(c.data.lazy.flags), FUTURE_CHAIN_FLAG_ENTRY_LAST);

	auto *last = reinterpret_cast<struct future_chain_entry *>(&c.data.lazy);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_LAST(last));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_IS_PROCESSED(last));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_HAS_FLAG(last, FUTURE_CHAIN_FLAG_ENTRY_LAST));
	UT_ASSERT(!FUTURE_CHAIN_ENTRY_HAS_FLAG(last, FUTURE_CHAIN_VALID_FLAGS));

	std::unique_ptr<runtime, decltype(&runtime_delete)> rt(runtime_new(), &runtime_delete);
	UT_ASSERTne(rt.get(), nullptr);
	runtime_wait(rt.get(), FUTURE_AS_RUNNABLE(&c));
	UT_ASSERTeq(FUTURE_STATE(&c), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(std::memcmp(dst, src, sizeof(src)), 0);
	UT_ASSERTeq(FUTURE_OUTPUT(&c)->lazy_done, 1);
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_INITIALIZED(&c.data.lazy));
	UT_ASSERT(FUTURE_CHAIN_ENTRY_IS_PROCESSED(last));
	UT_ASSERTeq(c.data.count.fut.data.count, 3);
	UT_ASSERTeq(c.data.lazy.fut.data.count, 2);

	struct vdm_operation_future ops[4] = {
		vdm_memcpy(vdm, dst, src, 4, 0),
		vdm_memmove(vdm, dst + 1, dst, 4, 0),
		vdm_memset(vdm, dst, 'x', 2, 0),
		vdm_flush(vdm, dst, sizeof(dst), 0),
	};
	for (auto &op : ops) {
		FUTURE_BUSY_POLL(&op);
		UT_ASSERTeq(op.output.result, VDM_SUCCESS);
	}
	UT_ASSERTeq(std::memcmp(dst, "xx++", 4), 0);

	std::unique_ptr<data_mover_threads, decltype(&data_mover_threads_delete)> dmt(
		data_mover_threads_new(1, 4, FUTURE_NOTIFIER_WAKER), &data_mover_threads_delete);
	UT_ASSERTne(dmt.get(), nullptr);
	struct vdm_operation_future tf =
		vdm_memset(data_mover_threads_get_vdm(dmt.get()), dst, 'y', 3, 0);
	runtime_wait(rt.get(), FUTURE_AS_RUNNABLE(&tf));
	UT_ASSERTeq(std::memcmp(dst, "yyy+", 4), 0);
}

} // namespace

int main()
{
	/* a hang (e.g. a mover that never completes) fails instead of stalling CI */
	std::signal(SIGALRM, SIG_DFL);
	alarm(60);
	check_all_layout();
	test_macros();
	return 0;
}
