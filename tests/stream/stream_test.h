/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the libpmemstream tests: a file in the test directory mapped with libpmem2
 * (required granularity PAGE, so it works on any filesystem; PMEM2_FORCE_GRANULARITY picks
 * what the library actually sees), and small stream utilities.
 */

#ifndef PMEMSTREAM_TEST_H
#define PMEMSTREAM_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpmemstream.h>

#include "ut.h"

#define KiB (1024ULL)
#define MiB (1024ULL * 1024ULL)

struct test_map {
	char path[512];
	int fd;
	struct pmem2_map *map;
};

static inline void tm_map(struct test_map *tm)
{
	struct pmem2_source *src;
	struct pmem2_config *cfg;

	tm->fd = open(tm->path, O_RDWR);
	if (tm->fd < 0)
		UT_FATAL("open %s: %s", tm->path, strerror(errno));
	if (pmem2_source_from_fd(&src, tm->fd))
		UT_FATAL("pmem2_source_from_fd: %s", pmem2_errormsg());
	if (pmem2_config_new(&cfg))
		UT_FATAL("pmem2_config_new: %s", pmem2_errormsg());
	if (pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE))
		UT_FATAL("set granularity: %s", pmem2_errormsg());
	if (pmem2_map_new(&tm->map, cfg, src))
		UT_FATAL("pmem2_map_new: %s", pmem2_errormsg());
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
}

static inline void tm_unmap(struct test_map *tm)
{
	if (tm->map != NULL)
		pmem2_map_delete(&tm->map);
	if (tm->fd >= 0)
		close(tm->fd);
	tm->map = NULL;
	tm->fd = -1;
}

/* A fresh zero-filled file of the given size, mapped. */
static inline void tm_create(struct test_map *tm, const char *tag, size_t size)
{
	snprintf(tm->path, sizeof(tm->path), "%s/pmemstream-%s-%d", ut_test_dir(), tag,
		 (int)getpid());
	int fd = open(tm->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		UT_FATAL("create %s: %s", tm->path, strerror(errno));
	close(fd);
	tm->map = NULL;
	tm->fd = -1;
	tm_map(tm);
}

static inline void tm_reopen(struct test_map *tm)
{
	tm_unmap(tm);
	tm_map(tm);
}

static inline void tm_resize(struct test_map *tm, size_t size)
{
	tm_unmap(tm);
	if (truncate(tm->path, (off_t)size) != 0)
		UT_FATAL("truncate %s: %s", tm->path, strerror(errno));
	tm_map(tm);
}

static inline void tm_destroy(struct test_map *tm)
{
	tm_unmap(tm);
	unlink(tm->path);
}

static inline char *tm_base(struct test_map *tm)
{
	return (char *)pmem2_map_get_address(tm->map);
}

static inline struct pmemstream *tm_stream(struct test_map *tm, size_t block_size)
{
	struct pmemstream *s = NULL;
	if (pmemstream_from_map(&s, block_size, tm->map) != 0)
		UT_FATAL("pmemstream_from_map: %s", pmemstream_errormsg());
	UT_ASSERT(s != NULL);
	return s;
}

static inline struct pmemstream_region alloc_region(struct pmemstream *s, size_t size)
{
	struct pmemstream_region r = {UINT64_MAX};
	if (pmemstream_region_allocate(s, size, &r) != 0)
		UT_FATAL("pmemstream_region_allocate(%zu): %s", size, pmemstream_errormsg());
	return r;
}

static inline struct pmemstream_entry append_u64(struct pmemstream *s, struct pmemstream_region r,
						 uint64_t value)
{
	struct pmemstream_entry e = {UINT64_MAX};
	if (pmemstream_append(s, r, NULL, &value, sizeof(value), &e) != 0)
		UT_FATAL("pmemstream_append: %s", pmemstream_errormsg());
	return e;
}

/* Number of valid entries of a region, checking that timestamps increase along the way. */
static inline size_t count_entries(struct pmemstream *s, struct pmemstream_region r)
{
	struct pmemstream_entry_iterator *it;
	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r), 0);
	size_t n = 0;
	uint64_t last_ts = 0;
	for (pmemstream_entry_iterator_seek_first(it); pmemstream_entry_iterator_is_valid(it) == 0;
	     pmemstream_entry_iterator_next(it)) {
		uint64_t ts = pmemstream_entry_timestamp(s, pmemstream_entry_iterator_get(it));
		UT_ASSERT(ts > last_ts);
		last_ts = ts;
		n++;
	}
	pmemstream_entry_iterator_delete(&it);
	return n;
}

static inline uint64_t entry_total(size_t len)
{
	return (16 + len + 7) & ~7ULL;
}

#endif
