/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Published-but-uncommitted operations, indexed by timestamp; the committer walks it in
 * timestamp order. Timestamps map to segments of OP_SEGMENT_SLOTS slots through a ring
 * directory. A segment is installed when its first timestamps are about to be handed out
 * and retired by the committer once it walked past its last one; retired segments are kept
 * for reuse (and never freed before the table), so memory follows the number of operations
 * actually in flight and stays warm, and late readers never touch freed memory. Up to
 * OP_TABLE_CAPACITY operations (about a million) may be in flight; beyond that publishers
 * help committing before they take a timestamp.
 */

#ifndef PMEMSTREAM_OP_TABLE_H
#define PMEMSTREAM_OP_TABLE_H

#include <pthread.h>
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
	uint32_t copy_wakes; /* the mover will call the stream's waker when the copy completes */
	char *flush_addr;
	uint64_t flush_len;
	struct vdm_operation_future copy;
};

struct op_segment {
	uint64_t block; /* timestamps [block * SLOTS, (block + 1) * SLOTS) */
	struct op_segment *next_spare;
	struct op_slot slots[OP_SEGMENT_SLOTS];
};

struct op_table {
	struct op_segment *dir[OP_DIRECTORY];
	pthread_mutex_t spare_lock;
	struct op_segment *spare;     /* retired segments, ready for reuse */
	struct op_segment **all_list; /* every segment ever allocated */
	size_t nall, capall;
};

int op_table_init(struct op_table *t);
/*
 * Installs the segments of the next few timestamps; -1 (ENOMEM) if memory is short.
 * committed: the stream's committed timestamp (blocks below it are never left installed).
 */
int op_table_prepare(struct op_table *t, uint64_t next_timestamp, const uint64_t *committed);
/* The slot of timestamp ts if its segment is installed, else NULL. */
struct op_slot *op_table_find(struct op_table *t, uint64_t ts);
/*
 * The slot of an assigned timestamp, installing its segment if needed; NULL only while the
 * directory entry still holds an older segment (the caller helps committing and retries) or
 * memory is short (the caller retries).
 */
struct op_slot *op_table_claim(struct op_table *t, uint64_t ts, const uint64_t *committed);
/* Called by the committer (under the commit lock) once it walked past the end of a block. */
void op_table_retire(struct op_table *t, uint64_t block);
void op_table_release(struct op_table *t);

#endif
