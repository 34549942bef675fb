/* SPDX-License-Identifier: BSD-3-Clause */
/* Writes a range back from the CPU caches to memory (the movers' VDM_OPERATION_FLUSH). */

#ifndef MINIASYNC_FLUSH_H
#define MINIASYNC_FLUSH_H

#include <stddef.h>

void flush_range(const void *addr, size_t len);

#endif
