/* SPDX-License-Identifier: BSD-3-Clause */
/* The pool handle (heap memory; nothing of it lives in the mapping). */

#ifndef PMEMBLK_BLK_H
#define PMEMBLK_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "blk/btt.h"
#include "blk/lanes.h"
#include "blk/pool_file.h"

struct vdm;

struct pmemblk {
	struct pool_file file;
	struct btt btt;
	struct lanes lanes;
	uint32_t bsize;	 /* as passed to create */
	bool rdonly;	 /* unknown ro_compat features: reads only */
	struct vdm *vdm; /* data mover of the asynchronous API, NULL: copy in the CPU */
};

/* pmemblk_create / pmemblk_xcreate */
struct pmemblk *blk_pool_create(const char *path, size_t bsize, size_t poolsize, mode_t mode);

/* pmemblk_open / pmemblk_xopen; for_check maps privately so nothing reaches the file */
struct pmemblk *blk_pool_open(const char *path, size_t bsize, bool for_check);

void blk_pool_close(struct pmemblk *pbp);

#endif
