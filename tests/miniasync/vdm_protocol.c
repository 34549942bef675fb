// SPDX-License-Identifier: BSD-3-Clause
/*
 * The inline vdm protocol against a scripted third-party mover (spec 3.3, 3.4): what the
 * future constructors fill in, when each callback runs and with what, out-of-memory futures,
 * has_property installation and vdm_is_supported's bitwise test.
 */

#include "masync_test.h"

#define RECORD ((void *)(uintptr_t)0x5EC0D)

/* The script: what the next op_start and op_check return, and what was called. */
static struct {
	int new_calls, start_calls, check_calls, delete_calls;
	enum vdm_operation_type new_type;
	struct vdm *new_vdm;
	int start_ret;
	enum future_state check_ret;
	struct vdm_operation started;
	struct future_notifier *start_notifier;
	struct vdm_operation_output *delete_output;
	void *fail_new;
} m;

static void *fake_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	m.new_calls++;
	m.new_vdm = vdm;
	m.new_type = type;
	return m.fail_new ? NULL : RECORD;
}

static int fake_start(void *data, const struct vdm_operation *op, struct future_notifier *n)
{
	UT_ASSERTeq(data, RECORD);
	m.start_calls++;
	m.started = *op;
	m.start_notifier = n;
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	return m.start_ret;
}

static enum future_state fake_check(void *data, const struct vdm_operation *op)
{
	(void)op;
	UT_ASSERTeq(data, RECORD);
	m.check_calls++;
	return m.check_ret;
}

static void fake_delete(void *data, const struct vdm_operation *op,
			struct vdm_operation_output *output)
{
	UT_ASSERTeq(data, RECORD);
	m.delete_calls++;
	m.delete_output = output;
	output->type = op->type;
	output->result = VDM_SUCCESS;
	output->output.memcpy.dest = (void *)(uintptr_t)0xD0E;
}

static int fake_async(void *fut, enum future_property p)
{
	(void)fut;
	return p == FUTURE_PROPERTY_ASYNC ? 7 : 0;
}

/* positional initialiser, as third parties write it: delete comes before start */
static struct vdm fake = {fake_new, fake_delete, fake_start, fake_check, 0, NULL};

static void reset(void)
{
	memset(&m, 0, sizeof(m));
}

static void test_constructors(void)
{
	char a[4], b[4];
	reset();
	struct vdm_operation_future f = vdm_memcpy(&fake, a, b, 3, 0xF00000001ULL);
	UT_ASSERTeq(m.new_calls, 1);
	UT_ASSERTeq(m.new_vdm, &fake);
	UT_ASSERTeq(m.new_type, VDM_OPERATION_MEMCPY);
	UT_ASSERTeq(m.start_calls, 0); /* nothing starts at creation */
	UT_ASSERTeq(f.base.task, vdm_operation_impl);
	UT_ASSERTeq(f.base.has_property, future_has_property_default);
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_IDLE);
	UT_ASSERTeq(f.base.context.data_size, 64);
	UT_ASSERTeq(f.base.context.output_size, 16);
	UT_ASSERTeq(f.data.data, RECORD);
	UT_ASSERTeq(f.data.vdm, &fake);
	UT_ASSERTeq(f.data.operation.type, VDM_OPERATION_MEMCPY);
	UT_ASSERTeq(f.data.operation.padding, 0);
	UT_ASSERTeq(f.data.operation.data.memcpy.dest, a);
	UT_ASSERTeq(f.data.operation.data.memcpy.src, b);
	UT_ASSERTeq(f.data.operation.data.memcpy.n, 3);
	/* unknown flag bits reach the mover */
	UT_ASSERTeq(f.data.operation.data.memcpy.flags, 0xF00000001ULL);
	UT_ASSERTeq(f.output.type, VDM_OPERATION_MEMCPY);
	UT_ASSERTeq(f.output.result, VDM_SUCCESS);
	UT_ASSERTeq(f.output.output.memcpy.dest, NULL);

	reset();
	f = vdm_memmove(&fake, a, b, 2, VDM_F_NO_CACHE_HINT);
	UT_ASSERTeq(m.new_type, VDM_OPERATION_MEMMOVE);
	UT_ASSERTeq(f.data.operation.type, VDM_OPERATION_MEMMOVE);
	UT_ASSERTeq(f.data.operation.data.memmove.dest, a);
	UT_ASSERTeq(f.data.operation.data.memmove.src, b);
	UT_ASSERTeq(f.data.operation.data.memmove.n, 2);
	UT_ASSERTeq(f.data.operation.data.memmove.flags, VDM_F_NO_CACHE_HINT);
	UT_ASSERTeq(f.output.type, VDM_OPERATION_MEMMOVE);
	UT_ASSERTeq(f.output.output.memmove.dest, NULL);

	reset();
	f = vdm_memset(&fake, a, -91, 1, VDM_F_MEM_DURABLE);
	UT_ASSERTeq(m.new_type, VDM_OPERATION_MEMSET);
	UT_ASSERTeq(f.data.operation.type, VDM_OPERATION_MEMSET);
	UT_ASSERTeq(f.data.operation.data.memset.str, a);
	UT_ASSERTeq(f.data.operation.data.memset.c, -91);
	UT_ASSERTeq(f.data.operation.data.memset.n, 1);
	UT_ASSERTeq(f.data.operation.data.memset.flags, VDM_F_MEM_DURABLE);
	UT_ASSERTeq(f.output.type, VDM_OPERATION_MEMSET);
	UT_ASSERTeq(f.output.output.memset.str, NULL);

	reset();
	f.output.output.flush.unused = 0x1234;
	f = vdm_flush(&fake, a, 4, 0);
	UT_ASSERTeq(m.new_type, VDM_OPERATION_FLUSH);
	UT_ASSERTeq(f.data.operation.type, VDM_OPERATION_FLUSH);
	UT_ASSERTeq(f.data.operation.data.flush.dest, a);
	UT_ASSERTeq(f.data.operation.data.flush.n, 4);
	UT_ASSERTeq(f.data.operation.data.flush.flags, 0);
	UT_ASSERTeq(f.output.type, VDM_OPERATION_FLUSH);
	UT_ASSERTeq(f.output.result, VDM_SUCCESS);
	UT_ASSERTeq(f.output.output.flush.unused, 0);
}

static void test_poll_protocol(void)
{
	char a[4], b[4], c[4];
	struct future_notifier n;
	reset();
	struct vdm_operation_future f = vdm_memcpy(&fake, a, b, 4, 0);

	/* op_start refuses: IDLE, op_check not consulted */
	m.start_ret = 1;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_IDLE);
	UT_ASSERTeq(m.start_calls, 1);
	UT_ASSERTeq(m.check_calls, 0);
	UT_ASSERTeq(m.start_notifier, &n);

	/* the operation is read at each start: edits in between are seen */
	f.data.operation.data.memcpy.dest = c;
	m.start_ret = 0;
	m.check_ret = FUTURE_STATE_RUNNING;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), NULL), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(m.start_calls, 2);
	UT_ASSERTeq(m.check_calls, 1);
	UT_ASSERTeq(m.start_notifier, NULL);
	UT_ASSERTeq(m.started.data.memcpy.dest, c);
	UT_ASSERTeq(m.started.data.memcpy.src, b);

	/* RUNNING: no second start */
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&f), &n), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(m.start_calls, 2);
	UT_ASSERTeq(m.check_calls, 2);
	UT_ASSERTeq(m.delete_calls, 0);

	/* a future may move between polls */
	struct vdm_operation_future moved = f;
	memset(&f, 0, sizeof(f));

	/* op_check may send it back to IDLE: the next poll starts again */
	m.check_ret = FUTURE_STATE_IDLE;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&moved), &n), FUTURE_STATE_IDLE);
	UT_ASSERTeq(m.start_calls, 2);
	m.check_ret = FUTURE_STATE_COMPLETE;
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&moved), &n), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(m.start_calls, 3);
	UT_ASSERTeq(m.check_calls, 4);
	UT_ASSERTeq(m.delete_calls, 1);
	UT_ASSERTeq(m.delete_output, &moved.output);
	UT_ASSERTeq(moved.output.output.memcpy.dest, (void *)(uintptr_t)0xD0E);

	/* never again */
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&moved), &n), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(m.start_calls + m.check_calls + m.delete_calls, 8);
}

static void test_out_of_memory(void)
{
	char a[4];
	reset();
	m.fail_new = RECORD;
	struct vdm_operation_future f = vdm_memset(&fake, a, 1, 4, 0);
	UT_ASSERTeq(m.new_calls, 1);
	UT_ASSERTeq(f.base.context.state, FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(f.base.task, NULL);
	UT_ASSERTeq(f.output.result, VDM_ERROR_OUT_OF_MEMORY);
	UT_ASSERTeq(f.output.type, VDM_OPERATION_MEMSET);
	UT_ASSERTeq(f.output.output.memset.str, NULL);
	UT_ASSERTeq(f.data.data, NULL);
	UT_ASSERTeq(f.base.context.data_size, 64);
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 0);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(m.start_calls + m.check_calls + m.delete_calls, 0);

	/* the mover's property function replaces the default, also on failed futures */
	fake.has_property = fake_async;
	f = vdm_memset(&fake, a, 1, 4, 0);
	UT_ASSERTeq(f.base.has_property, fake_async);
	UT_ASSERTeq(future_has_property(FUTURE_AS_RUNNABLE(&f), FUTURE_PROPERTY_ASYNC), 7);
	m.fail_new = NULL;
	f = vdm_memset(&fake, a, 1, 4, 0);
	UT_ASSERTeq(f.base.has_property, fake_async);

	/* setting NULL keeps what is there */
	vdm_set_has_property_fn(&f, NULL);
	UT_ASSERTeq(f.base.has_property, fake_async);
	fake.has_property = NULL;
}

static void test_is_supported(void)
{
	struct vdm v = fake;
	v.capabilities = 0;
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_MEM_DURABLE), 0);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_NO_CACHE_HINT), 0);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_VALID_FLAGS), 0);

	/* the reference's logical AND would answer 1 for bit 0 and 0 for bit 1 here */
	v.capabilities = VDM_F_NO_CACHE_HINT;
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_MEM_DURABLE), 0);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_NO_CACHE_HINT), 1);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_VALID_FLAGS), 0);

	v.capabilities = VDM_F_MEM_DURABLE;
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_MEM_DURABLE), 1);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_NO_CACHE_HINT), 0);

	v.capabilities = VDM_F_VALID_FLAGS;
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_MEM_DURABLE), 1);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_NO_CACHE_HINT), 1);
	UT_ASSERTeq(vdm_is_supported(&v, VDM_F_VALID_FLAGS), 1);
}

int main(void)
{
	masync_watchdog(60);
	test_constructors();
	test_poll_protocol();
	test_out_of_memory();
	test_is_supported();
	return 0;
}
