// SPDX-License-Identifier: BSD-3-Clause
/*
 * Only the umbrella header is included here: it alone must provide <stdio.h>, <stdint.h> and
 * <stddef.h> (spec 1.1; the reference basic-async example relies on it), and the guard
 * names of every sub-header.
 */

#include <libminiasync.h>
#include "libminiasync/vdm.h"

#if !defined(LIBMINIASYNC_H) || !defined(FUTURE_H) || !defined(VDM_H) || !defined(RUNTIME_H) || \
	!defined(DATA_MOVER_SYNC_H) || !defined(DATA_MOVER_THREADS_H)
#error "include guard names of miniasync 0.2.1 are expected"
#endif

int umbrella_header_smoke(void);

/* Returns 0 when the types and stdio functions the umbrella must provide work. */
int umbrella_header_smoke(void)
{
	uint64_t u = UINT64_C(1);
	size_t off = offsetof(struct future, context);
	int printed = fprintf(stdout, "umbrella header: %zu %llu\n", off, (unsigned long long)u);
	return printed > 0 && off == 16 ? 0 : -1;
}
