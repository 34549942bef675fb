/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How the examples get a struct pmem2_map for libpmemstream.
 *
 * libpmemstream never opens files itself: the application maps a file (or a device DAX) with
 * libpmem2 and hands the mapping to pmemstream_from_map(). The whole mapping becomes the
 * stream, so the file size fixes the stream size for good: reopening after a resize fails.
 *
 * The examples ask for PMEM2_GRANULARITY_PAGE, the weakest guarantee, which every filesystem
 * offers (tmpfs, ext4 without DAX, ...). On real persistent memory libpmem2 picks the
 * cheapest flush that works there; libpmemstream only uses the map's own persist functions.
 */

#ifndef EXAMPLE_MAP_H
#define EXAMPLE_MAP_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpmem2.h>

/* The sizes the reference examples use: a 10 MiB file cut into 4 KiB blocks. */
#define EXAMPLE_STREAM_SIZE ((size_t)10 << 20)
#define EXAMPLE_BLOCK_SIZE  ((size_t)4096)

enum example_open_mode {
	EXAMPLE_OPEN_EXISTING,	/* the file must exist; its size is kept */
	EXAMPLE_OPEN_OR_CREATE, /* an empty or missing file becomes EXAMPLE_STREAM_SIZE bytes */
	EXAMPLE_CREATE_NEW,	/* start from scratch: an old file is removed first */
};

/* Everything that must stay alive while the stream uses the mapping. */
struct example_file {
	int fd;
	struct pmem2_source *source;
	struct pmem2_config *config;
	struct pmem2_map *map;
};

static inline void example_file_close(struct example_file *file)
{
	/* the stream must already be deleted: it points into the mapping */
	if (file->map != NULL)
		pmem2_map_delete(&file->map);
	if (file->config != NULL)
		pmem2_config_delete(&file->config);
	if (file->source != NULL)
		pmem2_source_delete(&file->source);
	if (file->fd >= 0)
		close(file->fd);
	file->fd = -1;
}

/* Returns 0 with file->map ready for pmemstream_from_map(), or -1 after printing why. */
static inline int example_file_open(struct example_file *file, const char *path,
				    enum example_open_mode mode)
{
	memset(file, 0, sizeof(*file));
	file->fd = -1;

	if (mode == EXAMPLE_CREATE_NEW && unlink(path) != 0 && errno != ENOENT) {
		fprintf(stderr, "%s: cannot remove: %s\n", path, strerror(errno));
		return -1;
	}
	int flags = mode == EXAMPLE_OPEN_EXISTING ? O_RDWR : O_RDWR | O_CREAT;
	file->fd = open(path, flags, 0644);
	if (file->fd < 0) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}

	struct stat st;
	if (fstat(file->fd, &st) != 0) {
		fprintf(stderr, "%s: cannot stat: %s\n", path, strerror(errno));
		goto fail;
	}
	if (st.st_size == 0) {
		if (mode == EXAMPLE_OPEN_EXISTING) {
			fprintf(stderr, "%s: empty file, nothing to open\n", path);
			goto fail;
		}
		/* a sparse file is fine: pages are allocated when the stream touches them */
		if (ftruncate(file->fd, (off_t)EXAMPLE_STREAM_SIZE) != 0) {
			fprintf(stderr, "%s: cannot resize: %s\n", path, strerror(errno));
			goto fail;
		}
	}

	if (pmem2_source_from_fd(&file->source, file->fd) != 0 ||
	    pmem2_config_new(&file->config) != 0 ||
	    pmem2_config_set_required_store_granularity(file->config, PMEM2_GRANULARITY_PAGE) !=
		    0 ||
	    pmem2_map_new(&file->map, file->config, file->source) != 0) {
		fprintf(stderr, "%s: cannot map: %s\n", path, pmem2_errormsg());
		goto fail;
	}
	return 0;

fail:
	example_file_close(file);
	return -1;
}

#endif /* EXAMPLE_MAP_H */
