/* SPDX-License-Identifier: BSD-3-Clause */

#include "op_table.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common/errmsg.h"
#include "common/util.h"

static struct op_segment **dir_entry(struct op_table *t, uint64_t ts)
{
	return &t->dir[(ts / OP_SEGMENT_SLOTS) % OP_DIRECTORY];
}

static struct op_segment *install_segment(struct op_segment **entry)
{
	struct op_segment *seg = calloc(1, sizeof(*seg));
	if (seg == NULL)
		return NULL;
	struct op_segment *expected = NULL;
	if (!__atomic_compare_exchange_n(entry, &expected, seg, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(seg);
		return expected;
	}
	return seg;
}

int op_table_prepare(struct op_table *t, uint64_t next_timestamp)
{
	for (uint64_t ts = next_timestamp; ts <= next_timestamp + OP_SEGMENT_SLOTS;
	     ts += OP_SEGMENT_SLOTS) {
		struct op_segment **entry = dir_entry(t, ts);
		if (likely(__atomic_load_n(entry, __ATOMIC_ACQUIRE) != NULL))
			continue;
		if (install_segment(entry) == NULL) {
			errmsg_set(ENOMEM, "cannot allocate the operation table");
			return -1;
		}
	}
	return 0;
}

struct op_slot *op_table_find(struct op_table *t, uint64_t ts)
{
	struct op_segment *seg = __atomic_load_n(dir_entry(t, ts), __ATOMIC_ACQUIRE);
	if (seg == NULL)
		return NULL;
	return &seg->slots[ts % OP_SEGMENT_SLOTS];
}

struct op_slot *op_table_slot(struct op_table *t, uint64_t ts)
{
	struct op_segment **entry = dir_entry(t, ts);
	struct op_segment *seg = __atomic_load_n(entry, __ATOMIC_ACQUIRE);

	/*
	 * Only reached by a reservation that raced far past op_table_prepare. The timestamp is
	 * already taken, so failing would leave a hole in the commit sequence: wait for memory.
	 */
	while (unlikely(seg == NULL)) {
		seg = install_segment(entry);
		if (seg == NULL) {
			struct timespec pause = {0, 1000000};
			nanosleep(&pause, NULL);
		}
	}
	return &seg->slots[ts % OP_SEGMENT_SLOTS];
}

void op_table_release(struct op_table *t)
{
	for (uint64_t i = 0; i < OP_DIRECTORY; i++) {
		free(t->dir[i]);
		t->dir[i] = NULL;
	}
}
