/* SPDX-License-Identifier: BSD-3-Clause */

#include "op_table.h"

#include <errno.h>
#include <stdlib.h>

#include "common/errmsg.h"
#include "common/util.h"

static struct op_segment **dir_entry(struct op_table *t, uint64_t block)
{
	return &t->dir[block % OP_DIRECTORY];
}

int op_table_init(struct op_table *t)
{
	int ret = pthread_mutex_init(&t->spare_lock, NULL);
	if (ret != 0) {
		errmsg_set(ret, "cannot initialise the operation table");
		return -1;
	}
	return 0;
}

static struct op_segment *get_segment(struct op_table *t)
{
	struct op_segment *seg = NULL;

	pthread_mutex_lock(&t->spare_lock);
	if (t->spare != NULL) {
		seg = t->spare;
		t->spare = seg->next_spare;
		goto out;
	}
	if (t->nall == t->capall) {
		size_t cap = t->capall ? 2 * t->capall : 16;
		struct op_segment **list = realloc(t->all_list, cap * sizeof(*list));
		if (list == NULL)
			goto out;
		t->all_list = list;
		t->capall = cap;
	}
	seg = calloc(1, sizeof(*seg));
	if (seg != NULL)
		t->all_list[t->nall++] = seg;
out:
	pthread_mutex_unlock(&t->spare_lock);
	return seg;
}

static void put_segment(struct op_table *t, struct op_segment *seg)
{
	pthread_mutex_lock(&t->spare_lock);
	seg->next_spare = t->spare;
	t->spare = seg;
	pthread_mutex_unlock(&t->spare_lock);
}

/* Last timestamp of a block. */
static uint64_t block_end(uint64_t block)
{
	return (block + 1) * OP_SEGMENT_SLOTS - 1;
}

/* Detaches seg from its directory entry if it is still there; the winner recycles it. */
static void detach(struct op_table *t, struct op_segment **entry, struct op_segment *seg)
{
	struct op_segment *expected = seg;
	if (__atomic_compare_exchange_n(entry, &expected, NULL, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED))
		put_segment(t, seg);
}

/*
 * 1: installed (by us or another thread); 0: a segment still in use for an older block is in
 * place; -1: ENOMEM. A segment whose block the committer has walked past is stale (it was
 * installed by a thread that looked at the table before the committer passed): it is detached
 * here, and a segment installed for such a block is detached again at once, so no entry of
 * the directory stays occupied by a block nobody will retire.
 */
static int install(struct op_table *t, uint64_t block, const uint64_t *committed)
{
	struct op_segment **entry = dir_entry(t, block);

	for (;;) {
		struct op_segment *cur = __atomic_load_n(entry, __ATOMIC_ACQUIRE);
		if (cur != NULL) {
			uint64_t cur_block = __atomic_load_n(&cur->block, __ATOMIC_RELAXED);
			if (cur_block == block)
				return 1;
			if (block_end(cur_block) > __atomic_load_n(committed, __ATOMIC_ACQUIRE))
				return 0;
			detach(t, entry, cur);
			continue;
		}

		struct op_segment *seg = get_segment(t);
		if (seg == NULL)
			return -1;
		/* stale slot tags belong to older blocks: they never match a timestamp of this one
		 */
		__atomic_store_n(&seg->block, block, __ATOMIC_RELAXED);
		if (!__atomic_compare_exchange_n(entry, &cur, seg, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			put_segment(t, seg);
			continue;
		}
		if (block_end(block) <= __atomic_load_n(committed, __ATOMIC_ACQUIRE)) {
			/* the committer passed this block before we installed it */
			detach(t, entry, seg);
		}
		return 1;
	}
}

int op_table_prepare(struct op_table *t, uint64_t next_timestamp, const uint64_t *committed)
{
	uint64_t block = next_timestamp / OP_SEGMENT_SLOTS;
	for (uint64_t b = block; b <= block + 1; b++) {
		struct op_segment *cur = __atomic_load_n(dir_entry(t, b), __ATOMIC_ACQUIRE);
		if (likely(cur != NULL) && __atomic_load_n(&cur->block, __ATOMIC_RELAXED) == b)
			continue;
		if (install(t, b, committed) < 0) {
			errmsg_set(ENOMEM, "cannot allocate the operation table");
			return -1;
		}
	}
	return 0;
}

struct op_slot *op_table_find(struct op_table *t, uint64_t ts)
{
	uint64_t block = ts / OP_SEGMENT_SLOTS;
	struct op_segment *seg = __atomic_load_n(dir_entry(t, block), __ATOMIC_ACQUIRE);
	if (seg == NULL || __atomic_load_n(&seg->block, __ATOMIC_RELAXED) != block)
		return NULL;
	return &seg->slots[ts % OP_SEGMENT_SLOTS];
}

struct op_slot *op_table_claim(struct op_table *t, uint64_t ts, const uint64_t *committed)
{
	struct op_slot *slot = op_table_find(t, ts);
	if (likely(slot != NULL))
		return slot;
	if (install(t, ts / OP_SEGMENT_SLOTS, committed) <= 0)
		return NULL;
	return op_table_find(t, ts);
}

void op_table_retire(struct op_table *t, uint64_t block)
{
	struct op_segment **entry = dir_entry(t, block);
	struct op_segment *seg = __atomic_load_n(entry, __ATOMIC_ACQUIRE);
	if (seg != NULL && __atomic_load_n(&seg->block, __ATOMIC_RELAXED) == block)
		detach(t, entry, seg);
}

void op_table_release(struct op_table *t)
{
	for (size_t i = 0; i < t->nall; i++)
		free(t->all_list[i]);
	free(t->all_list);
	t->all_list = NULL;
	t->nall = t->capall = 0;
	t->spare = NULL;
	for (uint64_t i = 0; i < OP_DIRECTORY; i++)
		t->dir[i] = NULL;
	pthread_mutex_destroy(&t->spare_lock);
}
