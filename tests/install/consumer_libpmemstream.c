/* SPDX-License-Identifier: BSD-3-Clause */
/* Builds against the installed libpmemstream and appends one entry to a new stream. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <libpmemstream.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_SIZE (1024 * 1024)

int main(void)
{
	char path[] = "/tmp/pmemkit-consumer-stream-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, FILE_SIZE) != 0)
		return 1;
	unlink(path);

	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, fd) ||
	    pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) ||
	    pmem2_map_new(&map, cfg, src))
		return 1;

	struct pmemstream *stream;
	struct pmemstream_region region;
	struct pmemstream_entry entry;
	const char text[] = "installed";
	int failed = pmemstream_from_map(&stream, 4096, map) ||
		     pmemstream_region_allocate(stream, 4096, &region) ||
		     pmemstream_append(stream, region, NULL, text, sizeof(text), &entry) ||
		     memcmp(pmemstream_entry_data(stream, entry), text, sizeof(text)) != 0;
	pmemstream_delete(&stream);
	pmem2_map_delete(&map);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	close(fd);
	return failed;
}
