/* SPDX-License-Identifier: BSD-3-Clause */
/* What every mover does with an operation: carry it out and report its output. */

#ifndef MINIASYNC_OPERATION_H
#define MINIASYNC_OPERATION_H

#include "libminiasync/data_mover_threads.h"
#include "libminiasync/vdm.h"

struct operation_hooks {
	memcpy_fn memcpy;
	memmove_fn memmove;
	memset_fn memset;
};

/* The libc functions, flags ignored. */
extern const struct operation_hooks operation_default_hooks;

void operation_perform(const struct vdm_operation *operation, const struct operation_hooks *hooks);

void operation_fill_output(const struct vdm_operation *operation,
			   struct vdm_operation_output *output);

#endif
