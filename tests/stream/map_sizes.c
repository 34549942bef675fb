/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The map size rules of pmemstream_from_map (spec 4.2): the smallest maps that hold a
 * stream for a given block size, and the (size, block) pairs programs expect to fail.
 * Sizes below a page come from pmem2_map_from_existing over a larger file mapping.
 */

#include <sys/mman.h>

#include "stream_test.h"

/* A libpmem2 map of any length over a page-aligned file mapping. */
static struct pmem2_map *small_map(int fd, void *addr, size_t len)
{
	struct pmem2_source *src;
	struct pmem2_map *map;
	UT_ASSERTeq(pmem2_source_from_fd(&src, fd), 0);
	if (pmem2_map_from_existing(&map, src, addr, len, PMEM2_GRANULARITY_CACHE_LINE))
		UT_FATAL("pmem2_map_from_existing: %s", pmem2_errormsg());
	pmem2_source_delete(&src);
	return map;
}

static int open_size(int fd, void *addr, size_t len, size_t block)
{
	memset(addr, 0, 16384);
	struct pmem2_map *map = small_map(fd, addr, len);
	struct pmemstream *s = NULL;
	int ret = pmemstream_from_map(&s, block, map);
	if (ret == 0) {
		struct pmemstream_region r;
		/* the smallest stream still holds a region */
		UT_ASSERTeq(pmemstream_region_allocate(s, 1, &r), 0);
		UT_ASSERTeq(pmemstream_append(s, r, NULL, "x", 1, NULL), 0);
		pmemstream_delete(&s);
	} else {
		UT_ASSERTeq(ret, -1);
		UT_ASSERTeq(errno, EINVAL);
		UT_ASSERT(s == NULL);
	}
	pmem2_map_delete(&map);
	return ret;
}

static void test_map_sizes(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/pmemstream-pins-sizes-%d", ut_test_dir(), (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	UT_ASSERT(fd >= 0);
	UT_ASSERTeq(ftruncate(fd, 8 * MiB), 0);
	void *addr = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	UT_ASSERT(addr != MAP_FAILED);

	UT_ASSERTeq(open_size(fd, addr, 255, 64), -1);
	UT_ASSERTeq(open_size(fd, addr, 256, 64), -1);
	UT_ASSERTeq(open_size(fd, addr, 319, 64), -1);
	UT_ASSERTeq(open_size(fd, addr, 320, 64), 0);
	UT_ASSERTeq(open_size(fd, addr, 10240, 64), 0);
	UT_ASSERTeq(open_size(fd, addr, 1024, 8), -1);
	UT_ASSERTeq(open_size(fd, addr, 10240, 0), -1);
	UT_ASSERTeq(open_size(fd, addr, 10240, 10240), -1);
	UT_ASSERTeq(open_size(fd, addr, 1, 4096), -1);
	UT_ASSERTeq(open_size(fd, addr, 8191, 4096), -1);
	UT_ASSERTeq(open_size(fd, addr, 8192, 4096), 0);
	UT_ASSERTeq(open_size(fd, addr, 4 * MiB, 4096), 0);
	UT_ASSERTeq(open_size(fd, addr, 383, 128), -1);
	UT_ASSERTeq(open_size(fd, addr, 384, 128), 0);

	munmap(addr, 8 * MiB);
	close(fd);
	unlink(path);
}

int main(void)
{
	test_map_sizes();
	return 0;
}
