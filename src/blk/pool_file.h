/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pool file: its descriptor (kept open, and flock()ed, for the life of the handle), its
 * mapping through libpmem2 and the persistence primitives that come with it.
 */

#ifndef PMEMBLK_POOL_FILE_H
#define PMEMBLK_POOL_FILE_H

#include <libpmem2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pmem_ops.h"

struct pool_file {
	int fd;
	struct pmem2_source *src;
	struct pmem2_map *map;
	void *own_mapping; /* set when the library mmap()ed the file itself */
	size_t size;	   /* mapped bytes: the file size rounded down to 4 KiB */
	char *base;
	struct pmem_ops ops;
	enum pmem2_granularity granularity;
	bool is_private; /* copy-on-write mapping: nothing reaches the file */
};

/* flock(LOCK_EX | LOCK_NB); -1 with errno EWOULDBLOCK if another handle holds it */
int pool_file_lock(int fd, const char *path);

/* Maps the first len bytes of pf->fd (shared or private). */
int pool_file_map(struct pool_file *pf, size_t len, bool is_private);

/* Unmaps and closes the descriptor, which releases the lock. */
void pool_file_close(struct pool_file *pf);

/*
 * Makes [off, off + len) of the mapping read as zeros, durably. Holes of the file are
 * already zero and stay unallocated, so a huge sparse pool costs nothing to format.
 */
int pool_file_zero_range(struct pool_file *pf, uint64_t off, uint64_t len);

/* Whether [off, off + len) of the mapping reads as zeros; only the file's data is read. */
bool pool_file_range_is_zero(struct pool_file *pf, uint64_t off, uint64_t len);

/* Touches every page so later accesses do not fault. */
void pool_file_prefault(struct pool_file *pf);

#endif
