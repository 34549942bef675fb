/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LP64 layout of every public struct (spec 2.3 and 3.2), enum values and flag macros.
 * Included by a C and a C++ translation unit: both languages must see the same ABI.
 * Checked at run time so that a mismatch is reported field by field instead of
 * breaking the build.
 */

#ifndef MASYNC_LAYOUT_CHECKS_H
#define MASYNC_LAYOUT_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "ut.h"
#include <libminiasync.h>

#define CHECK_SIZE(type, size) UT_ASSERTeq(sizeof(type), size)
#define CHECK_FIELD(type, field, offset, size)                 \
	do {                                                   \
		UT_ASSERTeq(offsetof(type, field), offset);    \
		UT_ASSERTeq(sizeof(((type *)0)->field), size); \
	} while (0)

static void check_future_h_layout(void)
{
	CHECK_SIZE(enum future_state, 4);
	CHECK_SIZE(enum future_notifier_type, 4);
	CHECK_SIZE(enum future_property, 4);
	CHECK_SIZE(enum future_chain_entry_type, 4);

	CHECK_SIZE(struct future_context, 24);
	CHECK_FIELD(struct future_context, data_size, 0, 8);
	CHECK_FIELD(struct future_context, output_size, 8, 8);
	CHECK_FIELD(struct future_context, state, 16, 4);
	CHECK_FIELD(struct future_context, padding, 20, 4);

	CHECK_SIZE(struct future_waker, 16);
	CHECK_FIELD(struct future_waker, data, 0, 8);
	CHECK_FIELD(struct future_waker, wake, 8, 8);

	CHECK_SIZE(struct future_poller, 8);
	CHECK_FIELD(struct future_poller, ptr_to_monitor, 0, 8);

	CHECK_SIZE(struct future_notifier, 32);
	CHECK_FIELD(struct future_notifier, waker, 0, 16);
	CHECK_FIELD(struct future_notifier, poller, 16, 8);
	CHECK_FIELD(struct future_notifier, notifier_used, 24, 4);
	CHECK_FIELD(struct future_notifier, padding, 28, 4);

	CHECK_SIZE(struct future, 40);
	CHECK_FIELD(struct future, task, 0, 8);
	CHECK_FIELD(struct future, has_property, 8, 8);
	CHECK_FIELD(struct future, context, 16, 24);

	CHECK_SIZE(struct future_chain_entry, 80);
	CHECK_FIELD(struct future_chain_entry, map, 0, 8);
	CHECK_FIELD(struct future_chain_entry, map_arg, 8, 8);
	CHECK_FIELD(struct future_chain_entry, init, 16, 8);
	CHECK_FIELD(struct future_chain_entry, init_arg, 24, 8);
	CHECK_FIELD(struct future_chain_entry, flags, 32, 8);
	CHECK_FIELD(struct future_chain_entry, future, 40, 40);

	CHECK_SIZE(_future_entry_type_regular, 1);
	CHECK_SIZE(_future_entry_type_last, 2);
}

static void check_future_h_values(void)
{
	UT_ASSERTeq(FUTURE_STATE_IDLE, 0);
	UT_ASSERTeq(FUTURE_STATE_COMPLETE, 1);
	UT_ASSERTeq(FUTURE_STATE_RUNNING, 2);
	UT_ASSERTeq(FUTURE_NOTIFIER_NONE, 0);
	UT_ASSERTeq(FUTURE_NOTIFIER_WAKER, 1);
	UT_ASSERTeq(FUTURE_NOTIFIER_POLLER, 2);
	UT_ASSERTeq(FUTURE_PROPERTY_ASYNC, 0);
	UT_ASSERTeq(FUTURE_CHAIN_ENTRY_REGULAR, 1);
	/* the bare name is the enumerator; only "FUTURE_CHAIN_ENTRY_LAST(" is the macro */
	enum future_chain_entry_type last = FUTURE_CHAIN_ENTRY_LAST;
	UT_ASSERTeq(last, 2);
	UT_ASSERTeq(FUTURE_CHAIN_FLAG_ENTRY_LAST, 1);
	UT_ASSERTeq(FUTURE_CHAIN_FLAG_ENTRY_PROCESSED, 2);
	UT_ASSERTeq(FUTURE_CHAIN_VALID_FLAGS, 3);
	UT_ASSERTeq(sizeof(FUTURE_CHAIN_FLAG_ENTRY_LAST), 8);
	UT_ASSERTeq(sizeof(FUTURE_CHAIN_FLAG_ENTRY_PROCESSED), 8);
}

static void check_vdm_h_layout(void)
{
	CHECK_SIZE(enum vdm_operation_type, 4);
	CHECK_SIZE(enum vdm_operation_result, 4);

	CHECK_SIZE(struct vdm_operation_data_memcpy, 32);
	CHECK_FIELD(struct vdm_operation_data_memcpy, dest, 0, 8);
	CHECK_FIELD(struct vdm_operation_data_memcpy, src, 8, 8);
	CHECK_FIELD(struct vdm_operation_data_memcpy, n, 16, 8);
	CHECK_FIELD(struct vdm_operation_data_memcpy, flags, 24, 8);

	CHECK_SIZE(struct vdm_operation_data_memmove, 32);
	CHECK_FIELD(struct vdm_operation_data_memmove, dest, 0, 8);
	CHECK_FIELD(struct vdm_operation_data_memmove, src, 8, 8);
	CHECK_FIELD(struct vdm_operation_data_memmove, n, 16, 8);
	CHECK_FIELD(struct vdm_operation_data_memmove, flags, 24, 8);

	CHECK_SIZE(struct vdm_operation_data_memset, 32);
	CHECK_FIELD(struct vdm_operation_data_memset, str, 0, 8);
	CHECK_FIELD(struct vdm_operation_data_memset, c, 8, 4);
	CHECK_FIELD(struct vdm_operation_data_memset, n, 16, 8);
	CHECK_FIELD(struct vdm_operation_data_memset, flags, 24, 8);

	CHECK_SIZE(struct vdm_operation_data_flush, 24);
	CHECK_FIELD(struct vdm_operation_data_flush, dest, 0, 8);
	CHECK_FIELD(struct vdm_operation_data_flush, n, 8, 8);
	CHECK_FIELD(struct vdm_operation_data_flush, flags, 16, 8);

	CHECK_SIZE(struct vdm_operation, 48);
	CHECK_FIELD(struct vdm_operation, data, 0, 40);
	CHECK_FIELD(struct vdm_operation, data.memcpy, 0, 32);
	CHECK_FIELD(struct vdm_operation, data.memmove, 0, 32);
	CHECK_FIELD(struct vdm_operation, data.memset, 0, 32);
	CHECK_FIELD(struct vdm_operation, data.flush, 0, 24);
	CHECK_FIELD(struct vdm_operation, data.data, 0, VDM_OPERATION_DATA_MAX_SIZE);
	CHECK_FIELD(struct vdm_operation, type, 40, 4);
	CHECK_FIELD(struct vdm_operation, padding, 44, 4);

	CHECK_SIZE(struct vdm_operation_data, 64);
	CHECK_FIELD(struct vdm_operation_data, data, 0, 8);
	CHECK_FIELD(struct vdm_operation_data, vdm, 8, 8);
	CHECK_FIELD(struct vdm_operation_data, operation, 16, 48);

	CHECK_SIZE(struct vdm_operation_output_memcpy, 8);
	CHECK_FIELD(struct vdm_operation_output_memcpy, dest, 0, 8);
	CHECK_SIZE(struct vdm_operation_output_memmove, 8);
	CHECK_FIELD(struct vdm_operation_output_memmove, dest, 0, 8);
	CHECK_SIZE(struct vdm_operation_output_memset, 8);
	CHECK_FIELD(struct vdm_operation_output_memset, str, 0, 8);
	CHECK_SIZE(struct vdm_operation_output_flush, 8);
	CHECK_FIELD(struct vdm_operation_output_flush, unused, 0, 8);

	CHECK_SIZE(struct vdm_operation_output, 16);
	CHECK_FIELD(struct vdm_operation_output, type, 0, 4);
	CHECK_FIELD(struct vdm_operation_output, result, 4, 4);
	CHECK_FIELD(struct vdm_operation_output, output, 8, 8);
	CHECK_FIELD(struct vdm_operation_output, output.memcpy, 8, 8);
	CHECK_FIELD(struct vdm_operation_output, output.memmove, 8, 8);
	CHECK_FIELD(struct vdm_operation_output, output.memset, 8, 8);
	CHECK_FIELD(struct vdm_operation_output, output.flush, 8, 8);

	CHECK_SIZE(struct vdm_operation_future, 120);
	CHECK_FIELD(struct vdm_operation_future, base, 0, 40);
	CHECK_FIELD(struct vdm_operation_future, data, 40, 64);
	CHECK_FIELD(struct vdm_operation_future, output, 104, 16);

	CHECK_SIZE(struct vdm, 48);
	CHECK_FIELD(struct vdm, op_new, 0, 8);
	CHECK_FIELD(struct vdm, op_delete, 8, 8);
	CHECK_FIELD(struct vdm, op_start, 16, 8);
	CHECK_FIELD(struct vdm, op_check, 24, 8);
	CHECK_FIELD(struct vdm, capabilities, 32, 4);
	CHECK_FIELD(struct vdm, has_property, 40, 8);
}

static void check_vdm_h_values(void)
{
	UT_ASSERTeq(VDM_OPERATION_MEMCPY, 0);
	UT_ASSERTeq(VDM_OPERATION_MEMMOVE, 1);
	UT_ASSERTeq(VDM_OPERATION_MEMSET, 2);
	UT_ASSERTeq(VDM_OPERATION_FLUSH, 3);
	UT_ASSERTeq(VDM_SUCCESS, 0);
	UT_ASSERTeq(VDM_ERROR_OUT_OF_MEMORY, 1);
	UT_ASSERTeq(VDM_ERROR_JOB_CORRUPTED, 2);
	UT_ASSERTeq(VDM_F_MEM_DURABLE, 1);
	UT_ASSERTeq(VDM_F_NO_CACHE_HINT, 2);
	UT_ASSERTeq(VDM_F_VALID_FLAGS, 3);
	UT_ASSERTeq(VDM_OPERATION_DATA_MAX_SIZE, 40);
	/* the flags are unsigned ints, as in the reference (1U << n) */
	UT_ASSERTeq(sizeof(VDM_F_MEM_DURABLE), sizeof(unsigned));
	UT_ASSERTeq(sizeof(VDM_F_NO_CACHE_HINT), sizeof(unsigned));
}

/* A macro-declared entry must look exactly like struct future_chain_entry + rest of future. */
struct layout_small_data {
	uint64_t x;
};
struct layout_small_output {
	uint64_t y;
};
FUTURE(layout_small_fut, struct layout_small_data, struct layout_small_output);

struct layout_chain_data {
	FUTURE_CHAIN_ENTRY(struct layout_small_fut, first);
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, second);
	FUTURE_CHAIN_ENTRY_LAST(struct layout_small_fut, third);
	int extra[3];
};
struct layout_chain_output {
	uint64_t z;
};
FUTURE(layout_chain_fut, struct layout_chain_data, struct layout_chain_output);

static void check_chain_entry_layout(void)
{
	struct layout_chain_fut c;
	CHECK_FIELD(struct layout_small_fut, base, 0, 40);
	CHECK_FIELD(struct layout_small_fut, data, 40, 8);
	CHECK_FIELD(struct layout_small_fut, output, 48, 8);

	UT_ASSERTeq(sizeof(c.data.first), 80 + 16);
	UT_ASSERTeq(offsetof(struct layout_chain_data, first), 0);
	UT_ASSERTeq((char *)&c.data.first.map - (char *)&c.data.first, 0);
	UT_ASSERTeq((char *)&c.data.first.map_arg - (char *)&c.data.first, 8);
	UT_ASSERTeq((char *)&c.data.first.init - (char *)&c.data.first, 16);
	UT_ASSERTeq((char *)&c.data.first.init_arg - (char *)&c.data.first, 24);
	UT_ASSERTeq((char *)&c.data.first.flags - (char *)&c.data.first, 32);
	UT_ASSERTeq((char *)&c.data.first.fut - (char *)&c.data.first, 40);
	UT_ASSERTeq(sizeof(c.data.first.flags), 8);

	/* pointee size is how the init macros recognise a LAST entry */
	UT_ASSERTeq(sizeof(*c.data.first.flags), 1);
	UT_ASSERTeq(sizeof(*c.data.second.flags), 1);
	UT_ASSERTeq(sizeof(*c.data.third.flags), 2);

	UT_ASSERTeq(sizeof(c.data.second), 80 + 64 + 16);
	UT_ASSERTeq(offsetof(struct layout_chain_data, second), 96);
	UT_ASSERTeq(offsetof(struct layout_chain_data, third), 96 + 160);
	UT_ASSERTeq(offsetof(struct layout_chain_data, extra), 96 + 160 + 96);
	UT_ASSERTeq(offsetof(struct layout_chain_fut, data), 40);
}

/* Spec 2.7: data right after the context, output right after data, no alignment fix-up. */
struct layout_char_data {
	char c;
};
struct layout_double_output {
	double d;
};
FUTURE(layout_odd_fut, struct layout_char_data, struct layout_double_output);

static void check_data_output_location(void)
{
	struct layout_odd_fut f;
	FUTURE_INIT_COMPLETE(&f);
	struct future_context *ctx = &FUTURE_AS_RUNNABLE(&f)->context;
	UT_ASSERTeq((char *)future_context_get_data(ctx), (char *)ctx + 24);
	UT_ASSERTeq((char *)future_context_get_data(ctx), (char *)&f + 40);
	UT_ASSERTeq((char *)future_context_get_data(ctx), (char *)FUTURE_DATA(&f));
	UT_ASSERTeq(f.base.context.data_size, 1);
	UT_ASSERTeq(f.base.context.output_size, 8);
	/* the arithmetic deliberately disagrees with the compiler's padded member here */
	UT_ASSERTeq((char *)future_context_get_output(ctx), (char *)&f + 41);
	UT_ASSERTeq((char *)FUTURE_OUTPUT(&f), (char *)&f + 48);
	UT_ASSERTeq(future_context_get_size(ctx), 9);

	struct vdm_operation_future v;
	FUTURE_INIT_COMPLETE(&v);
	ctx = &v.base.context;
	UT_ASSERTeq((char *)future_context_get_output(ctx), (char *)&v.output);
	UT_ASSERTeq((char *)future_context_get_data(ctx), (char *)&v.data);
	UT_ASSERTeq(future_context_get_size(ctx), 80);
}

static inline void check_all_layout(void)
{
	check_future_h_layout();
	check_future_h_values();
	check_vdm_h_layout();
	check_vdm_h_values();
	check_chain_entry_layout();
	check_data_output_location();
}

#endif
