/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Published-but-uncommitted operations, indexed by timestamp. The committer walks it in
 * timestamp order. Segments are allocated on demand and reused round-robin, so the capacity
 * (about a million operations in flight) costs memory only when it is actually used.
 */

#ifndef PMEMSTREAM_OP_TABLE_H
#define PMEMSTREAM_OP_TABLE_H

#include <stdint.h>

#include "libminiasync.h"

#define OP_SEGMENT_SLOTS 256ULL
#define OP_DIRECTORY	 4096ULL
/* Two segments of slack cover reservations racing past the room check. */
#define OP_TABLE_CAPACITY (OP_SEGMENT_SLOTS * (OP_DIRECTORY - 2))

enum op_kind {
	OP_DURABLE, /* the publisher made the entry durable itself */
	OP_FLUSH,   /* the committer flushes it (data written by the user or already copied) */
	OP_COPY,    /* the committer completes the copy future, then flushes */
};

struct op_slot {
	uint64_t timestamp; /* equals the slot's timestamp once published (release) */
	uint32_t kind;
	uint32_t padding;
	char *flush_addr;
	uint64_t flush_len;
	struct vdm_operation_future copy;
};

struct op_segment {
	struct op_slot slots[OP_SEGMENT_SLOTS];
};

struct op_table {
	struct op_segment *dir[OP_DIRECTORY];
};

/* Makes sure the slots of the next few timestamps exist; -1 (ENOMEM) otherwise. */
int op_table_prepare(struct op_table *t, uint64_t next_timestamp);
/* The slot of timestamp ts, or NULL if its segment was never allocated. */
struct op_slot *op_table_find(struct op_table *t, uint64_t ts);
/* The slot of an assigned timestamp: cannot fail (retries allocation). */
struct op_slot *op_table_slot(struct op_table *t, uint64_t ts);
void op_table_release(struct op_table *t);

#endif
