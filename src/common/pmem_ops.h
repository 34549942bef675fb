/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The persistence primitives of one libpmem2 mapping, fetched once so that hot paths make
 * a single indirect call instead of a lookup per operation.
 */

#ifndef PMEMKIT_COMMON_PMEM_OPS_H
#define PMEMKIT_COMMON_PMEM_OPS_H

#include <libpmem2.h>
#include <stddef.h>

struct pmem_ops {
	char *base;
	size_t size;
	pmem2_persist_fn persist;
	pmem2_flush_fn flush;
	pmem2_drain_fn drain;
	pmem2_memcpy_fn memcpy;
	pmem2_memmove_fn memmove;
	pmem2_memset_fn memset;
};

void pmem_ops_init(struct pmem_ops *ops, struct pmem2_map *map);

#endif
