/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 01_basic_iterate: the smallest complete libpmemstream program.
 *
 *	example_stream_basic [--new] FILE
 *
 * Each run opens the stream kept in FILE (creating it the first time, or always with --new),
 * prints every region and every entry, appends "last value + 1" to each region, then
 * allocates one more region and appends the value 1 to it. So after n runs the file holds n
 * regions whose entries count 1, 2, 3, ... and the program checks exactly that on every run:
 * data written by an earlier run must come back unchanged after reopening.
 *
 * Entries are 8-byte counters here; an entry may be any byte string up to the region size.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "example_map.h"

#define NEW_REGION_SIZE ((size_t)4096)

static int failed;

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			fprintf(stderr, "CHECK FAILED: "); \
			fprintf(stderr, __VA_ARGS__);      \
			fprintf(stderr, "\n");             \
			failed = 1;                        \
		}                                          \
	} while (0)

/*
 * Prints the entries of one region and checks that they count 1, 2, 3, ...
 * Returns the last value (0 for an empty region).
 */
static uint64_t print_region(struct pmemstream *stream, struct pmemstream_region region)
{
	printf("region at offset %" PRIu64 " (size %zu)\n", region.offset,
	       pmemstream_region_size(stream, region));

	struct pmemstream_entry_iterator *it;
	if (pmemstream_entry_iterator_new(&it, stream, region) != 0) {
		fprintf(stderr, "entry iterator: %s\n", pmemstream_errormsg());
		failed = 1;
		return 0;
	}

	uint64_t last_value = 0;
	uint64_t last_timestamp = 0;
	/* is_valid() returns 0 while the iterator stands on a readable entry */
	for (pmemstream_entry_iterator_seek_first(it); pmemstream_entry_iterator_is_valid(it) == 0;
	     pmemstream_entry_iterator_next(it)) {
		struct pmemstream_entry entry = pmemstream_entry_iterator_get(it);
		const uint64_t *value = pmemstream_entry_data(stream, entry);
		size_t length = pmemstream_entry_length(stream, entry);
		uint64_t timestamp = pmemstream_entry_timestamp(stream, entry);

		CHECK(value != NULL && length == sizeof(*value), "entry %" PRIu64 ": length %zu",
		      entry.offset, length);
		if (value == NULL || length != sizeof(*value))
			break;
		printf("  entry at offset %" PRIu64 ", timestamp %" PRIu64 ": %" PRIu64 "\n",
		       entry.offset, timestamp, *value);

		CHECK(*value == last_value + 1, "expected %" PRIu64 ", read %" PRIu64,
		      last_value + 1, *value);
		/* within one region, later entries always carry larger timestamps */
		CHECK(timestamp > last_timestamp, "timestamp %" PRIu64 " after %" PRIu64, timestamp,
		      last_timestamp);
		last_value = *value;
		last_timestamp = timestamp;
	}
	pmemstream_entry_iterator_delete(&it);
	return last_value;
}

/* Appends one counter value and checks what the stream reports about it. */
static void append_value(struct pmemstream *stream, struct pmemstream_region region, uint64_t value)
{
	/*
	 * The region runtime caches per-region state (where the next append goes). Passing
	 * NULL to append works too; the library then looks it up by itself.
	 */
	struct pmemstream_region_runtime *runtime;
	if (pmemstream_region_runtime_initialize(stream, region, &runtime) != 0) {
		fprintf(stderr, "runtime_initialize: %s\n", pmemstream_errormsg());
		failed = 1;
		return;
	}

	uint64_t persisted_before = pmemstream_persisted_timestamp(stream);
	struct pmemstream_entry entry;
	if (pmemstream_append(stream, region, runtime, &value, sizeof(value), &entry) != 0) {
		/* a full region is not an error of the program: report and go on */
		fprintf(stderr, "append to region %" PRIu64 ": %s\n", region.offset,
			pmemstream_errormsg());
		return;
	}

	/*
	 * A synchronous append returns once the entry is durable. With a single appender the
	 * timestamps are gap-free, so this entry got exactly the next one.
	 */
	uint64_t timestamp = pmemstream_entry_timestamp(stream, entry);
	CHECK(timestamp == persisted_before + 1, "timestamp %" PRIu64 ", expected %" PRIu64,
	      timestamp, persisted_before + 1);
	CHECK(pmemstream_persisted_timestamp(stream) == timestamp, "persisted %" PRIu64,
	      pmemstream_persisted_timestamp(stream));
	CHECK(pmemstream_committed_timestamp(stream) == timestamp, "committed %" PRIu64,
	      pmemstream_committed_timestamp(stream));

	const uint64_t *stored = pmemstream_entry_data(stream, entry);
	CHECK(stored != NULL && *stored == value, "read back a different value");
	printf("appended %" PRIu64 " to region %" PRIu64 " (timestamp %" PRIu64 ")\n", value,
	       region.offset, timestamp);
}

int main(int argc, char *argv[])
{
	int fresh = argc == 3 && strcmp(argv[1], "--new") == 0;
	if (argc != 2 && !fresh) {
		fprintf(stderr, "usage: %s [--new] FILE\n", argv[0]);
		return 2;
	}
	const char *path = argv[argc - 1];

	struct example_file file;
	if (example_file_open(&file, path, fresh ? EXAMPLE_CREATE_NEW : EXAMPLE_OPEN_OR_CREATE))
		return 1;

	/* Creates a stream in a file without one, or opens (and recovers) the existing one. */
	struct pmemstream *stream;
	if (pmemstream_from_map(&stream, EXAMPLE_BLOCK_SIZE, file.map) != 0) {
		fprintf(stderr, "pmemstream_from_map: %s\n", pmemstream_errormsg());
		example_file_close(&file);
		return 1;
	}
	printf("stream opened: committed timestamp %" PRIu64 ", persisted timestamp %" PRIu64 "\n",
	       pmemstream_committed_timestamp(stream), pmemstream_persisted_timestamp(stream));

	/* Regions come back in allocation order. */
	struct pmemstream_region_iterator *regions;
	if (pmemstream_region_iterator_new(&regions, stream) != 0) {
		fprintf(stderr, "region iterator: %s\n", pmemstream_errormsg());
		failed = 1;
		goto out;
	}
	size_t region_count = 0;
	for (pmemstream_region_iterator_seek_first(regions);
	     pmemstream_region_iterator_is_valid(regions) == 0;
	     pmemstream_region_iterator_next(regions)) {
		struct pmemstream_region region = pmemstream_region_iterator_get(regions);
		uint64_t last = print_region(stream, region);
		append_value(stream, region, last + 1);
		region_count++;
	}
	pmemstream_region_iterator_delete(&regions);
	printf("%zu region(s) found\n", region_count);

	/*
	 * The requested size is what the region can hold; the library adds a 64-byte header
	 * and rounds to the block size, and region_size() reports the real capacity (8128
	 * bytes for 4096 requested with 4 KiB blocks). Once the stream is full, allocation
	 * fails with -1 and errno ENOSPC: this example just stops growing then.
	 */
	struct pmemstream_region region;
	if (pmemstream_region_allocate(stream, NEW_REGION_SIZE, &region) != 0) {
		if (errno == ENOSPC) {
			printf("stream full, no new region this time\n");
		} else {
			fprintf(stderr, "region_allocate: %s\n", pmemstream_errormsg());
			failed = 1;
		}
		goto out;
	}
	size_t region_size = pmemstream_region_size(stream, region);
	CHECK(region_size >= NEW_REGION_SIZE, "region size %zu", region_size);
	printf("allocated region at offset %" PRIu64 " (size %zu)\n", region.offset, region_size);
	append_value(stream, region, 1);

out:
	pmemstream_delete(&stream);
	example_file_close(&file);
	if (failed) {
		fprintf(stderr, "%s: FAILED\n", argv[0]);
		return 1;
	}
	return 0;
}
