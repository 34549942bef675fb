/* SPDX-License-Identifier: BSD-3-Clause */
/* The synchronous mover: the first poll carries the operation out, so it completes at once. */

#include "libminiasync/data_mover_sync.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "miniasync/mover_pool.h"
#include "miniasync/op_pool.h"
#include "miniasync/operation.h"

struct data_mover_sync {
	struct vdm base; /* first, so that the vdm and the mover share an address */
	struct op_pool *pool;
};

struct sync_record {
	atomic_int done;
};

static void *sync_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	(void)type;
	struct data_mover_sync *dms = (struct data_mover_sync *)vdm;
	return op_pool_get(dms->pool);
}

static int sync_op_start(void *data, const struct vdm_operation *operation,
			 struct future_notifier *n)
{
	struct sync_record *record = data;

	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	operation_perform(operation, &operation_default_hooks);
	atomic_store_explicit(&record->done, 1, memory_order_release);
	return 0;
}

static enum future_state sync_op_check(void *data, const struct vdm_operation *operation)
{
	(void)operation;
	struct sync_record *record = data;
	return atomic_load_explicit(&record->done, memory_order_acquire) ? FUTURE_STATE_COMPLETE
									 : FUTURE_STATE_IDLE;
}

static void sync_op_delete(void *data, const struct vdm_operation *operation,
			   struct vdm_operation_output *output)
{
	operation_fill_output(operation, output);
	op_pool_put(data);
}

static int sync_has_property(void *future, enum future_property property)
{
	(void)future;
	(void)property;
	return 0;
}

struct data_mover_sync *data_mover_sync_new(void)
{
	struct data_mover_sync *dms = calloc(1, sizeof(*dms));
	if (dms == NULL)
		return NULL;

	dms->pool = op_pool_new(sizeof(struct sync_record), MOVER_POOL_CAPACITY);
	if (dms->pool == NULL) {
		free(dms);
		return NULL;
	}
	dms->base.op_new = sync_op_new;
	dms->base.op_delete = sync_op_delete;
	dms->base.op_start = sync_op_start;
	dms->base.op_check = sync_op_check;
	dms->base.capabilities = 0;
	dms->base.has_property = sync_has_property;
	return dms;
}

struct vdm *data_mover_sync_get_vdm(struct data_mover_sync *dms)
{
	return &dms->base;
}

void data_mover_sync_delete(struct data_mover_sync *dms)
{
	if (dms == NULL)
		return;
	op_pool_delete(dms->pool);
	free(dms);
}
