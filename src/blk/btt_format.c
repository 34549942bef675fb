/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing the initial BTT layout, lazily, at the first write or set_error. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "blk/alloc.h"
#include "blk/btt.h"
#include "blk/btt_info.h"
#include "blk/pool_hdr.h"
#include "common/errmsg.h"

/* Every pair: entry 0 holds free block external_nlba + i in the form pmempool accepts. */
static void write_initial_flog(struct btt *b, char *flog, const struct btt_geometry *g,
			       struct btt_flog *scratch)
{
	size_t pair_entries = BTT_FLOG_PAIR_ALIGN / sizeof(struct btt_flog);
	uint64_t size = btt_flog_size(g->nfree);

	memset(scratch, 0, size);
	for (uint32_t i = 0; i < g->nfree; i++) {
		struct btt_flog *entry = &scratch[i * pair_entries];
		entry->lba = i;
		entry->old_map = (g->external_nlba + i) | BTT_MAP_ENTRY_ZERO;
		entry->new_map = entry->old_map;
		entry->seq = 1;
	}
	b->file->ops.memcpy(flog, scratch, size, 0);
}

int btt_format(struct btt *b)
{
	uint8_t uuid[BTTINFO_UUID_LEN];
	if (blk_uuid_generate(uuid) != 0)
		return -1;

	struct btt_info *infos = blk_zalloc(b->narena * sizeof(*infos));
	struct btt_flog *scratch = blk_malloc(btt_flog_size(BTT_DEFAULT_NFREE));
	if (infos == NULL || scratch == NULL) {
		blk_free(infos);
		blk_free(scratch);
		errmsg_set(ENOMEM, "out of memory for the BTT layout");
		return -1;
	}

	uint64_t left = b->rawsize;
	uint64_t off = 0;
	unsigned count = 0;
	int ret = 0;
	while (left >= BTT_MIN_SIZE && count < b->narena) {
		uint64_t arena_size = left < BTT_MAX_ARENA ? left : BTT_MAX_ARENA;
		left -= arena_size;
		struct btt_geometry g;
		if (btt_geometry_arena(arena_size, left, b->bsize, &g) != 0) {
			ret = -1;
			break;
		}
		char *base = b->ns + off;

		/*
		 * Each region is durable before the next; the info blocks come last, so an
		 * interrupted layout is simply written again. The map of a file that was not
		 * known to be zero is cleared at this arena's own offset (PMDK clears
		 * arena 0's range for every arena). is_zeroed only tells the file was zero
		 * when created: a layout lost to damage leaves live-looking entries behind,
		 * which would make blocks share storage, so the map is read once to be sure.
		 */
		char *map = base + g.mapoff;
		uint64_t map_size = btt_map_size(g.external_nlba);
		uint64_t map_off = (uint64_t)(map - b->file->base);
		if (!b->is_zeroed || !pool_file_range_is_zero(b->file, map_off, map_size))
			pool_file_zero_range(b->file, map_off, map_size);
		write_initial_flog(b, base + g.flogoff, &g, scratch);

		struct btt_info *info = &infos[count];
		memcpy(info->sig, BTTINFO_SIG, BTTINFO_SIG_LEN);
		memcpy(info->uuid, uuid, BTTINFO_UUID_LEN);
		memcpy(info->parent_uuid, b->parent_uuid, BTTINFO_UUID_LEN);
		info->flags = 0;
		info->major = BTTINFO_MAJOR_VERSION;
		info->minor = BTTINFO_MINOR_VERSION;
		info->external_lbasize = b->bsize;
		info->external_nlba = g.external_nlba;
		info->internal_lbasize = g.internal_lbasize;
		info->internal_nlba = g.internal_nlba;
		info->nfree = g.nfree;
		info->infosize = sizeof(struct btt_info);
		info->nextoff = g.nextoff;
		info->dataoff = g.dataoff;
		info->mapoff = g.mapoff;
		info->flogoff = g.flogoff;
		info->infooff = g.infooff;
		btt_info_set_checksum(info);
		btt_info_store(b, base, info);
		btt_info_store(b, base + g.infooff, info);

		count++;
		off += arena_size;
	}
	blk_free(scratch);

	if (ret == 0)
		ret = btt_load_arenas(b, infos, count);
	blk_free(infos);
	return ret;
}

int btt_ensure_layout(struct btt *b)
{
	if (likely(atomic_load_explicit(&b->laid_out, memory_order_acquire)))
		return 0;

	int ret = 0;
	pthread_mutex_lock(&b->layout_lock);
	if (!atomic_load_explicit(&b->laid_out, memory_order_relaxed))
		ret = btt_format(b);
	pthread_mutex_unlock(&b->layout_lock);
	return ret;
}
