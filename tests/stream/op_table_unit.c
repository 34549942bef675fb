/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the operation table (src/stream/op_table.c, compiled in): a thread that looked
 * at the table before the committer walked past a block must not leave that block installed,
 * or 4096 blocks later every timestamp mapping to the same directory entry could never get a
 * slot (the hang found by bench/stream).
 */

#include "stream/op_table.h"
#include "ut.h"

#define SLOTS OP_SEGMENT_SLOTS

int main(void)
{
	struct op_table *t = calloc(1, sizeof(*t));
	UT_ASSERTeq(op_table_init(t), 0);
	uint64_t committed = 0;

	UT_ASSERTeq(op_table_prepare(t, 1, &committed), 0);
	UT_ASSERT(op_table_find(t, 1) != NULL);
	UT_ASSERT(op_table_find(t, SLOTS) != NULL);

	/* the committer walks past blocks 0..2, retiring what it finds */
	committed = 3 * SLOTS - 1;
	for (uint64_t b = 0; b < 3; b++)
		op_table_retire(t, b);
	UT_ASSERT(op_table_find(t, 1) == NULL);

	/* a publisher that read next_timestamp long ago prepares blocks 0 and 1 now */
	UT_ASSERTeq(op_table_prepare(t, 1, &committed), 0);
	UT_ASSERT(op_table_find(t, 1) == NULL);
	UT_ASSERT(op_table_find(t, SLOTS) == NULL);
	UT_ASSERT(op_table_claim(t, 2, &committed) == NULL || committed >= 2);

	/* one directory round later the same entries serve new blocks */
	committed = OP_DIRECTORY * SLOTS - 1;
	struct op_slot *slot = op_table_claim(t, OP_DIRECTORY * SLOTS, &committed);
	UT_ASSERT(slot != NULL);
	UT_ASSERT(op_table_claim(t, (OP_DIRECTORY + 1) * SLOTS + 5, &committed) != NULL);

	/* a segment of an older block still in use is not taken away */
	committed = OP_DIRECTORY * SLOTS;
	UT_ASSERT(op_table_claim(t, 2 * OP_DIRECTORY * SLOTS, &committed) == NULL);

	op_table_release(t);
	free(t);
	return 0;
}
