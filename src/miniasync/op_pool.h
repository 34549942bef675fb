/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bounded, per-mover pool of fixed-size operation records.
 *
 * vdm futures are born with a record taken here and give it back on the poll that completes
 * them; when the pool is exhausted creation fails (out of memory) instead of growing without
 * bound. Records can be taken and returned from any thread, lock-free; the pool grows lazily
 * in chunks up to its capacity.
 */

#ifndef MINIASYNC_OP_POOL_H
#define MINIASYNC_OP_POOL_H

#include <stddef.h>

struct op_pool;

/* capacity is rounded up to a whole number of chunks */
struct op_pool *op_pool_new(size_t record_size, size_t capacity);
void op_pool_delete(struct op_pool *pool);

/* Returns a zeroed record, or NULL when every record is in use. */
void *op_pool_get(struct op_pool *pool);
void op_pool_put(void *record);

#endif
