/* SPDX-License-Identifier: BSD-3-Clause */
/* File helpers for drivers and checkers. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpmem2.h>

#include "crashx_int.h"

#define CX_MAX_FILE_MAPS 16
static struct {
	struct pmem2_map *map;
	int fd;
} file_maps[CX_MAX_FILE_MAPS];

struct pmem2_map *crashx_map_file(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | (size ? O_CREAT : 0), 0600);
	if (fd < 0) {
		perror(path);
		return NULL;
	}
	struct stat st;
	if (size && fstat(fd, &st) == 0 && st.st_size == 0 && ftruncate(fd, (off_t)size) != 0) {
		perror("ftruncate");
		close(fd);
		return NULL;
	}
	struct pmem2_source *src = NULL;
	struct pmem2_config *cfg = NULL;
	struct pmem2_map *map = NULL;
	if (pmem2_source_from_fd(&src, fd) != 0 || pmem2_config_new(&cfg) != 0 ||
	    pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) != 0 ||
	    pmem2_map_new(&map, cfg, src) != 0) {
		pmem2_perror("crashx: mapping %s", path);
		map = NULL;
	}
	if (cfg)
		pmem2_config_delete(&cfg);
	if (src)
		pmem2_source_delete(&src);
	if (map == NULL) {
		close(fd);
		return NULL;
	}
	pthread_mutex_lock(&cx_lock);
	for (int i = 0; i < CX_MAX_FILE_MAPS; i++) {
		if (file_maps[i].map == NULL) {
			file_maps[i].map = map;
			file_maps[i].fd = fd;
			fd = -1;
			break;
		}
	}
	pthread_mutex_unlock(&cx_lock);
	if (fd >= 0) {
		fprintf(stderr, "crashx: too many mapped files\n");
		abort();
	}
	return map;
}

void crashx_unmap_file(struct pmem2_map *map)
{
	int fd = -1;
	pthread_mutex_lock(&cx_lock);
	for (int i = 0; i < CX_MAX_FILE_MAPS; i++) {
		if (file_maps[i].map == map) {
			file_maps[i].map = NULL;
			fd = file_maps[i].fd;
			break;
		}
	}
	pthread_mutex_unlock(&cx_lock);
	pmem2_map_delete(&map);
	if (fd >= 0)
		close(fd);
}

void *crashx_read_file(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) != NULL &&
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	if (buf != NULL)
		*size = (size_t)st.st_size;
	return buf;
}
