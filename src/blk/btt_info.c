/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/btt_info.h"

#include <string.h>

#include "blk/pool_hdr.h"

bool btt_info_valid(const struct btt_info *info, const uint8_t parent_uuid[BTTINFO_UUID_LEN])
{
	if (memcmp(info->sig, BTTINFO_SIG, BTTINFO_SIG_LEN) != 0)
		return false;
	if (memcmp(info->parent_uuid, parent_uuid, BTTINFO_UUID_LEN) != 0)
		return false;
	if (blk_checksum(info, sizeof(*info), offsetof(struct btt_info, checksum), 0) !=
	    info->checksum)
		return false;
	return info->major != 0;
}

void btt_info_set_checksum(struct btt_info *info)
{
	info->checksum = blk_checksum(info, sizeof(*info), offsetof(struct btt_info, checksum), 0);
}

void btt_info_store(struct btt *b, void *dst, const struct btt_info *info)
{
	b->file->ops.memcpy(dst, info, sizeof(*info), 0);
}

void btt_arena_set_error(struct btt *b, struct btt_arena *a)
{
	atomic_fetch_or(&a->flags, BTTINFO_FLAG_ERROR);
	if (b->rdonly)
		return;

	pthread_mutex_lock(&a->info_lock);
	struct btt_info info;
	memcpy(&info, a->base, sizeof(info));
	info.flags |= BTTINFO_FLAG_ERROR;
	btt_info_set_checksum(&info);
	btt_info_store(b, a->base, &info);
	btt_info_store(b, a->base + a->infooff, &info);
	pthread_mutex_unlock(&a->info_lock);
}
