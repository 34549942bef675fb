/* SPDX-License-Identifier: BSD-3-Clause */

#include "common/pmem_ops.h"

void pmem_ops_init(struct pmem_ops *ops, struct pmem2_map *map)
{
	ops->base = pmem2_map_get_address(map);
	ops->size = pmem2_map_get_size(map);
	ops->persist = pmem2_get_persist_fn(map);
	ops->flush = pmem2_get_flush_fn(map);
	ops->drain = pmem2_get_drain_fn(map);
	ops->memcpy = pmem2_get_memcpy_fn(map);
	ops->memmove = pmem2_get_memmove_fn(map);
	ops->memset = pmem2_get_memset_fn(map);
}
