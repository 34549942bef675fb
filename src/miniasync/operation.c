/* SPDX-License-Identifier: BSD-3-Clause */

#include "miniasync/operation.h"

#include <string.h>

#include "miniasync/flush.h"

static void *libc_memcpy(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	/* n == 0 may come with NULL pointers, which libc's functions must not see */
	return n == 0 ? dst : memcpy(dst, src, n);
}

static void *libc_memmove(void *dst, const void *src, size_t n, unsigned flags)
{
	(void)flags;
	return n == 0 ? dst : memmove(dst, src, n);
}

static void *libc_memset(void *str, int c, size_t n, unsigned flags)
{
	(void)flags;
	return n == 0 ? str : memset(str, c, n);
}

const struct operation_hooks operation_default_hooks = {
	.memcpy = libc_memcpy,
	.memmove = libc_memmove,
	.memset = libc_memset,
};

/* Hooks take the flags as unsigned, as in the reference; the upper bits are dropped. */
void operation_perform(const struct vdm_operation *operation, const struct operation_hooks *hooks)
{
	const struct vdm_operation_data_memcpy *cpy = &operation->data.memcpy;
	const struct vdm_operation_data_memmove *move = &operation->data.memmove;
	const struct vdm_operation_data_memset *set = &operation->data.memset;
	const struct vdm_operation_data_flush *flush = &operation->data.flush;

	switch (operation->type) {
	case VDM_OPERATION_MEMCPY:
		hooks->memcpy(cpy->dest, cpy->src, cpy->n, (unsigned)cpy->flags);
		break;
	case VDM_OPERATION_MEMMOVE:
		hooks->memmove(move->dest, move->src, move->n, (unsigned)move->flags);
		break;
	case VDM_OPERATION_MEMSET:
		hooks->memset(set->str, set->c, set->n, (unsigned)set->flags);
		break;
	case VDM_OPERATION_FLUSH:
		flush_range(flush->dest, flush->n);
		break;
	default: /* reported by operation_fill_output */
		break;
	}
}

void operation_fill_output(const struct vdm_operation *operation,
			   struct vdm_operation_output *output)
{
	output->type = operation->type;
	output->result = VDM_SUCCESS;
	switch (operation->type) {
	case VDM_OPERATION_MEMCPY:
		output->output.memcpy.dest = operation->data.memcpy.dest;
		break;
	case VDM_OPERATION_MEMMOVE:
		output->output.memmove.dest = operation->data.memmove.dest;
		break;
	case VDM_OPERATION_MEMSET:
		output->output.memset.str = operation->data.memset.str;
		break;
	case VDM_OPERATION_FLUSH:
		output->output.flush.unused = 0;
		break;
	default:
		output->result = VDM_ERROR_JOB_CORRUPTED;
		break;
	}
}
