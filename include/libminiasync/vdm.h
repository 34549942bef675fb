/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtual data movers: one future interface for memory operations, whatever engine
 * (the calling thread, a thread pool, hardware) carries them out.
 *
 * struct vdm is public so that third parties can implement movers; its field order and
 * the per-poll protocol of vdm_operation_impl() are ABI.
 */

#ifndef VDM_H
#define VDM_H 1

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vdm_operation_type {
	VDM_OPERATION_MEMCPY,
	VDM_OPERATION_MEMMOVE,
	VDM_OPERATION_MEMSET,
	VDM_OPERATION_FLUSH,
};

enum vdm_operation_result {
	VDM_SUCCESS,
	VDM_ERROR_OUT_OF_MEMORY,
	VDM_ERROR_JOB_CORRUPTED,
};

#define VDM_F_MEM_DURABLE	    (1U << 0)
#define VDM_F_NO_CACHE_HINT	    (1U << 1)
#define VDM_F_VALID_FLAGS	    (VDM_F_MEM_DURABLE | VDM_F_NO_CACHE_HINT)
#define VDM_OPERATION_DATA_MAX_SIZE (40)

struct vdm_operation_data_memcpy {
	void *dest;
	void *src;
	size_t n;
	uint64_t flags;
};

struct vdm_operation_data_memmove {
	void *dest;
	void *src;
	size_t n;
	uint64_t flags;
};

struct vdm_operation_data_memset {
	void *str;
	int c;
	size_t n;
	uint64_t flags;
};

struct vdm_operation_data_flush {
	void *dest;
	size_t n;
	uint64_t flags;
};

struct vdm_operation {
	union {
		struct vdm_operation_data_memcpy memcpy;
		struct vdm_operation_data_memmove memmove;
		struct vdm_operation_data_memset memset;
		struct vdm_operation_data_flush flush;
		uint8_t data[VDM_OPERATION_DATA_MAX_SIZE];
	} data;
	enum vdm_operation_type type;
	uint32_t padding;
};

struct vdm;

struct vdm_operation_data {
	void *data; /* the mover's per-operation record */
	struct vdm *vdm;
	struct vdm_operation operation;
};

struct vdm_operation_output_memcpy {
	void *dest;
};

struct vdm_operation_output_memmove {
	void *dest;
};

struct vdm_operation_output_memset {
	void *str;
};

struct vdm_operation_output_flush {
	uint64_t unused;
};

struct vdm_operation_output {
	enum vdm_operation_type type;
	enum vdm_operation_result result;
	union {
		struct vdm_operation_output_memcpy memcpy;
		struct vdm_operation_output_memmove memmove;
		struct vdm_operation_output_memset memset;
		struct vdm_operation_output_flush flush;
	} output;
};

FUTURE(vdm_operation_future, struct vdm_operation_data, struct vdm_operation_output);

typedef void *(*vdm_operation_new)(struct vdm *vdm, const enum vdm_operation_type type);
typedef int (*vdm_operation_start)(void *data, const struct vdm_operation *operation,
				   struct future_notifier *n);
typedef enum future_state (*vdm_operation_check)(void *data, const struct vdm_operation *operation);
typedef void (*vdm_operation_delete)(void *data, const struct vdm_operation *operation,
				     struct vdm_operation_output *output);

struct vdm {
	vdm_operation_new op_new;
	vdm_operation_delete op_delete;
	vdm_operation_start op_start;
	vdm_operation_check op_check;
	unsigned capabilities;
	future_has_property_fn has_property;
};

/* Declared by the reference but never defined there either; kept for source compatibility. */
struct vdm *vdm_synchronous_new(void);
void vdm_synchronous_delete(struct vdm *vdm);

/*
 * The operation is handed to the mover at the first poll, not at creation, so that a
 * chain's map can still rewrite it in between.
 */
static inline enum future_state vdm_operation_impl(struct future_context *context,
						   struct future_notifier *n)
{
	struct vdm_operation_data *data =
		(struct vdm_operation_data *)future_context_get_data(context);
	struct vdm_operation_output *output =
		(struct vdm_operation_output *)future_context_get_output(context);
	struct vdm *vdm = data->vdm;

	if (context->state == FUTURE_STATE_IDLE) {
		if (vdm->op_start(data->data, &data->operation, n) != 0)
			return FUTURE_STATE_IDLE;
	}

	enum future_state state = vdm->op_check(data->data, &data->operation);
	if (state == FUTURE_STATE_COMPLETE)
		vdm->op_delete(data->data, &data->operation, output);

	return state;
}

static inline int vdm_is_supported(struct vdm *vdm, unsigned capability)
{
	return (vdm->capabilities & capability) == capability;
}

static inline void vdm_set_has_property_fn(struct vdm_operation_future *future,
					   future_has_property_fn has_property)
{
	if (has_property != NULL)
		future->base.has_property = has_property;
}

static inline void vdm_generic_operation(struct vdm *vdm, struct vdm_operation_future *future)
{
	future->data.vdm = vdm;
	future->data.data = vdm->op_new(vdm, future->data.operation.type);
	if (future->data.data == NULL) {
		future->output.result = VDM_ERROR_OUT_OF_MEMORY;
		FUTURE_INIT_COMPLETE(future);
	} else {
		FUTURE_INIT(future, vdm_operation_impl);
	}
	vdm_set_has_property_fn(future, vdm->has_property);
}

static inline struct vdm_operation_future vdm_memcpy(struct vdm *vdm, void *dest, void *src,
						     size_t n, uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_MEMCPY;
	future.data.operation.padding = 0;
	future.data.operation.data.memcpy.dest = dest;
	future.data.operation.data.memcpy.src = src;
	future.data.operation.data.memcpy.n = n;
	future.data.operation.data.memcpy.flags = flags;
	future.output.type = VDM_OPERATION_MEMCPY;
	future.output.result = VDM_SUCCESS;
	future.output.output.memcpy.dest = NULL;
	vdm_generic_operation(vdm, &future);

	return future;
}

static inline struct vdm_operation_future vdm_memmove(struct vdm *vdm, void *dest, void *src,
						      size_t n, uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_MEMMOVE;
	future.data.operation.padding = 0;
	future.data.operation.data.memmove.dest = dest;
	future.data.operation.data.memmove.src = src;
	future.data.operation.data.memmove.n = n;
	future.data.operation.data.memmove.flags = flags;
	future.output.type = VDM_OPERATION_MEMMOVE;
	future.output.result = VDM_SUCCESS;
	future.output.output.memmove.dest = NULL;
	vdm_generic_operation(vdm, &future);

	return future;
}

static inline struct vdm_operation_future vdm_memset(struct vdm *vdm, void *str, int c, size_t n,
						     uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_MEMSET;
	future.data.operation.padding = 0;
	future.data.operation.data.memset.str = str;
	future.data.operation.data.memset.c = c;
	future.data.operation.data.memset.n = n;
	future.data.operation.data.memset.flags = flags;
	future.output.type = VDM_OPERATION_MEMSET;
	future.output.result = VDM_SUCCESS;
	future.output.output.memset.str = NULL;
	vdm_generic_operation(vdm, &future);

	return future;
}

static inline struct vdm_operation_future vdm_flush(struct vdm *vdm, void *dest, size_t n,
						    uint64_t flags)
{
	struct vdm_operation_future future;

	future.data.operation.type = VDM_OPERATION_FLUSH;
	future.data.operation.padding = 0;
	future.data.operation.data.flush.dest = dest;
	future.data.operation.data.flush.n = n;
	future.data.operation.data.flush.flags = flags;
	future.output.type = VDM_OPERATION_FLUSH;
	future.output.result = VDM_SUCCESS;
	future.output.output.flush.unused = 0;
	vdm_generic_operation(vdm, &future);

	return future;
}

#ifdef __cplusplus
}
#endif

#endif /* VDM_H */
