/* SPDX-License-Identifier: BSD-3-Clause */
/* BTT info blocks: validation, checksums and durable updates of both copies. */

#ifndef PMEMBLK_BTT_INFO_H
#define PMEMBLK_BTT_INFO_H

#include <stdbool.h>

#include "blk/btt.h"

/* signature, parent UUID, checksum and major version, as PMDK decides validity */
bool btt_info_valid(const struct btt_info *info, const uint8_t parent_uuid[BTTINFO_UUID_LEN]);

void btt_info_set_checksum(struct btt_info *info);

/* Copies info to dst in the mapping and persists it. */
void btt_info_store(struct btt *b, void *dst, const struct btt_info *info);

/* Sets the arena's error flag in memory and, unless read-only, in both info blocks. */
void btt_arena_set_error(struct btt *b, struct btt_arena *a);

#endif
