/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: arbitrary bytes opened as a stream file. Opening must fail cleanly or
 * give a consistent view: every region and entry is iterated and read, entries lie inside
 * the map, timestamps increase within a region; then a region is written to (recovery and
 * append on damaged data) and another one allocated and freed.
 *
 * With FUZZ_MAKE_SEEDS=<dir> in the environment the program writes a seed corpus of valid
 * stream files made by the library and exits.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libpmemstream.h>

#define MAX_FILE (256 * 1024)
#define PAGE	 4096

static int memfd = -1;

/* A consistency failure the sanitizers cannot see: report it as a crash. */
#define FUZZ_CHECK(cond)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__);                                                  \
			abort();                                                            \
		}                                                                           \
	} while (0)

static struct pmem2_map *map_bytes(const uint8_t *data, size_t size, size_t file_size)
{
	if (ftruncate(memfd, 0) != 0 || ftruncate(memfd, (off_t)file_size) != 0)
		abort();
	if (size && pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	struct pmem2_source *src;
	struct pmem2_config *cfg;
	struct pmem2_map *map = NULL;
	if (pmem2_source_from_fd(&src, memfd) != 0)
		abort();
	if (pmem2_config_new(&cfg) != 0)
		abort();
	pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	if (pmem2_map_new(&map, cfg, src) != 0)
		map = NULL;
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
	return map;
}

static size_t block_size_of(const uint8_t *data, size_t size)
{
	uint64_t bs = 0;
	if (size >= 80)
		memcpy(&bs, data + 72, 8);
	if (bs >= 64 && bs <= 65536 && (bs & (bs - 1)) == 0)
		return bs;
	return 64;
}

static volatile uint8_t sink;

static void read_all(struct pmemstream *s, const char *base, size_t map_size)
{
	struct pmemstream_region_iterator *rit;
	if (pmemstream_region_iterator_new(&rit, s) != 0)
		return;
	for (pmemstream_region_iterator_seek_first(rit);
	     pmemstream_region_iterator_is_valid(rit) == 0; pmemstream_region_iterator_next(rit)) {
		struct pmemstream_region r = pmemstream_region_iterator_get(rit);
		size_t rsize = pmemstream_region_size(s, r);
		FUZZ_CHECK(rsize < map_size);
		struct pmemstream_entry_iterator *eit;
		if (pmemstream_entry_iterator_new(&eit, s, r) != 0)
			continue;
		uint64_t last_ts = 0, last_off = 0;
		for (pmemstream_entry_iterator_seek_first(eit);
		     pmemstream_entry_iterator_is_valid(eit) == 0;
		     pmemstream_entry_iterator_next(eit)) {
			struct pmemstream_entry e = pmemstream_entry_iterator_get(eit);
			const char *p = pmemstream_entry_data(s, e);
			size_t len = pmemstream_entry_size(s, e);
			uint64_t ts = pmemstream_entry_timestamp(s, e);
			FUZZ_CHECK(p != NULL);
			FUZZ_CHECK(p >= base && p + len <= base + map_size);
#ifndef FUZZ_NO_ORDER_CHECK /* to look for other findings while this one is open */
			FUZZ_CHECK(ts > last_ts);
#endif
			FUZZ_CHECK(last_ts == 0 || e.offset > last_off);
			FUZZ_CHECK(ts <= pmemstream_committed_timestamp(s));
			uint8_t x = 0;
			for (size_t i = 0; i < len; i++)
				x ^= (uint8_t)p[i];
			sink = x;
			last_ts = ts;
			last_off = e.offset;
		}
		pmemstream_entry_iterator_delete(&eit);
	}
	pmemstream_region_iterator_delete(&rit);
}

static void write_some(struct pmemstream *s)
{
	struct pmemstream_region_iterator *rit;
	if (pmemstream_region_iterator_new(&rit, s) != 0)
		return;
	pmemstream_region_iterator_seek_first(rit);
	if (pmemstream_region_iterator_is_valid(rit) == 0) {
		struct pmemstream_region r = pmemstream_region_iterator_get(rit);
		static const char payload[24] = "fuzz append payload....";
		struct pmemstream_entry e;
		(void)pmemstream_region_usable_size(s, r);
		if (pmemstream_append(s, r, NULL, payload, sizeof(payload), &e) == 0) {
			FUZZ_CHECK(pmemstream_entry_size(s, e) == sizeof(payload));
			FUZZ_CHECK(memcmp(pmemstream_entry_data(s, e), payload, sizeof(payload)) ==
				   0);
			FUZZ_CHECK(pmemstream_persisted_timestamp(s) >=
				   pmemstream_entry_timestamp(s, e));
		}
	}
	pmemstream_region_iterator_delete(&rit);
	struct pmemstream_region nr;
	if (pmemstream_region_allocate(s, 100, &nr) == 0)
		FUZZ_CHECK(pmemstream_region_free(s, nr) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_FILE)
		return 0;
	size_t file_size = (size + PAGE - 1) / PAGE * PAGE;
	if (file_size == 0)
		file_size = PAGE;
	struct pmem2_map *map = map_bytes(data, size, file_size);
	if (map == NULL)
		return 0;
	struct pmemstream *s;
	if (pmemstream_from_map(&s, block_size_of(data, size), map) == 0) {
		read_all(s, pmem2_map_get_address(map), pmem2_map_get_size(map));
		write_some(s);
		read_all(s, pmem2_map_get_address(map), pmem2_map_get_size(map));
		pmemstream_delete(&s);
	}
	pmem2_map_delete(&map);
	return 0;
}

/* --- seed corpus ------------------------------------------------------------------------ */

static void save(const char *dir, int n, struct pmem2_map *map)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	FILE *out = fopen(path, "wb");
	if (out == NULL || fwrite(pmem2_map_get_address(map), 1, pmem2_map_get_size(map), out) !=
				   pmem2_map_get_size(map))
		abort();
	fclose(out);
}

static void make_seed(const char *dir, int n, size_t bs, size_t file_size, int nregions,
		      int nentries, int free_one, int reserve_one)
{
	struct pmem2_map *map = map_bytes(NULL, 0, file_size);
	struct pmemstream *s;
	if (map == NULL || pmemstream_from_map(&s, bs, map) != 0) {
		fprintf(stderr, "seed %d: cannot create a stream\n", n);
		abort();
	}
	static char payload[2048];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (char)(i * 7 + n);
	static const size_t sizes[] = {0, 1, 7, 8, 9, 16, 63, 64, 100, 500, 1000, 2000};
	struct pmemstream_region regions[16];
	int got = 0;
	for (int r = 0; r < nregions && r < 16; r++) {
		size_t req = (size_t)(r % 3 + 1) * (bs > 1024 ? bs : 1024) - 64;
		if (pmemstream_region_allocate(s, req, &regions[got]) == 0)
			got++;
	}
	for (int i = 0; i < nentries && got > 0; i++) {
		size_t len = sizes[(size_t)i % (sizeof(sizes) / sizeof(sizes[0]))];
		(void)pmemstream_append(s, regions[i % got], NULL, payload, len, NULL);
	}
	if (reserve_one && got > 0) {
		struct pmemstream_entry e;
		void *d;
		if (pmemstream_reserve(s, regions[0], NULL, 40, &e, &d) == 0)
			memset(d, 0xab, 40);
	}
	if (free_one && got > 1)
		(void)pmemstream_region_free(s, regions[1]);
	save(dir, n, map);
	pmemstream_delete(&s);
	pmem2_map_delete(&map);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 0);
	memfd = memfd_create("fuzz_stream", 0);
	if (memfd < 0)
		abort();
	const char *dir = getenv("FUZZ_MAKE_SEEDS");
	if (dir == NULL)
		return 0;
	int n = 0;
	make_seed(dir, n++, 64, 8192, 0, 0, 0, 0);
	make_seed(dir, n++, 64, 8192, 1, 3, 0, 0);
	make_seed(dir, n++, 64, 16384, 3, 12, 1, 0);
	make_seed(dir, n++, 64, 16384, 4, 30, 0, 1);
	make_seed(dir, n++, 128, 16384, 2, 8, 1, 1);
	make_seed(dir, n++, 4096, 32768, 3, 10, 1, 0);
	make_seed(dir, n++, 4096, 65536, 6, 40, 1, 1);
	exit(0);
}
