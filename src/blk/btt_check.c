/* SPDX-License-Identifier: BSD-3-Clause */
/* Consistency check: every internal block is owned exactly once, by the map or a flog pair. */

#include <errno.h>

#include "blk/alloc.h"
#include "blk/btt.h"
#include "common/errmsg.h"

/* 1 if the block was not seen before */
static int claim(uint8_t *bitmap, uint32_t block)
{
	uint8_t bit = (uint8_t)(1U << (block % 8));
	if (bitmap[block / 8] & bit)
		return 0;
	bitmap[block / 8] |= bit;
	return 1;
}

static int check_arena(const struct btt_arena *a, unsigned index)
{
	size_t nbytes = ((size_t)a->internal_nlba + 7) / 8;
	uint8_t *bitmap = blk_zalloc(nbytes);
	if (bitmap == NULL) {
		errmsg_set(ENOMEM, "out of memory for the block bitmap of arena %u", index);
		return -1;
	}

	int consistent = 1;
	for (uint32_t i = 0; i < a->external_nlba; i++) {
		uint32_t entry = a->map[i];
		uint32_t block = map_entry_is_initial(entry) ? i : entry & BTT_MAP_ENTRY_LBA_MASK;
		if (block >= a->internal_nlba) {
			errmsg_set(EINVAL, "arena %u: map[%u] entry %u out of bounds (%u)", index,
				   i, block, a->internal_nlba);
			blk_free(bitmap);
			return -1;
		}
		if (!claim(bitmap, block)) {
			errmsg_set(errno, "arena %u: map[%u] refers to block %u already in use",
				   index, i, block);
			consistent = 0;
		}
	}

	for (uint32_t i = 0; i < a->nfree; i++) {
		uint32_t block = a->flogs[i].cur.old_map & BTT_MAP_ENTRY_LBA_MASK;
		if (block >= a->internal_nlba || !claim(bitmap, block)) {
			errmsg_set(errno,
				   "arena %u: flog[%u] free block %u out of bounds or in use",
				   index, i, block);
			consistent = 0;
		}
	}

	for (uint32_t block = 0; block < a->internal_nlba; block++) {
		if (!(bitmap[block / 8] & (1U << (block % 8)))) {
			errmsg_set(errno, "arena %u: block %u is unreferenced", index, block);
			consistent = 0;
			break;
		}
	}

	blk_free(bitmap);
	return consistent;
}

int btt_check(struct btt *b)
{
	if (!atomic_load_explicit(&b->laid_out, memory_order_acquire))
		return 1; /* nothing written yet: consistent by definition */

	int consistent = 1;
	for (unsigned i = 0; i < b->narena; i++) {
		int ret = check_arena(&b->arenas[i], i);
		if (ret < 0)
			return -1;
		if (ret == 0)
			consistent = 0;
	}
	return consistent;
}
