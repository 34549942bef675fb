/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 02_dump: print the regions and entries of a stream another program wrote.
 *
 *	example_stream_dump [--text] [--block-size N] [--expect-regions N] [--expect-entries N] FILE
 *
 * Payloads are printed as hex bytes, or as text with --text. Besides printing, the dump
 * checks what every reader of a stream may rely on: timestamps grow within each region, no
 * two entries share one, none is above the committed timestamp, and (with the --expect-*
 * options, used by the example test) the numbers of regions and entries.
 *
 * Reading a stream still needs a writable mapping, because opening runs recovery.
 */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "example_map.h"

#define MAX_PRINTED_BYTES 32

static void print_payload(const unsigned char *data, size_t length, int as_text)
{
	size_t shown = length < MAX_PRINTED_BYTES ? length : MAX_PRINTED_BYTES;
	if (as_text)
		putchar('"');
	for (size_t i = 0; i < shown; i++) {
		if (as_text)
			putchar(isprint(data[i]) ? data[i] : '.');
		else
			printf("%s%02x", i == 0 ? "" : " ", data[i]);
	}
	if (as_text)
		putchar('"');
	printf("%s\n", shown < length ? " ..." : "");
}

/*
 * pmemstream_from_map() turns any file without a stream signature into a new, empty stream.
 * A tool that only wants to look must therefore make sure a stream is there before mapping.
 */
static int looks_like_stream(const char *path)
{
	static const char signature[] = "PMEMSTREAM";
	char buf[sizeof(signature)] = {0};
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return 0;
	}
	size_t got = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return got == sizeof(buf) && memcmp(buf, signature, sizeof(signature)) == 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Growable list of every timestamp seen, to find duplicates at the end. */
struct timestamps {
	uint64_t *values;
	size_t count, capacity;
};

static int timestamps_add(struct timestamps *ts, uint64_t value)
{
	if (ts->count == ts->capacity) {
		size_t capacity = ts->capacity ? 2 * ts->capacity : 1024;
		uint64_t *values = realloc(ts->values, capacity * sizeof(*values));
		if (values == NULL)
			return -1;
		ts->values = values;
		ts->capacity = capacity;
	}
	ts->values[ts->count++] = value;
	return 0;
}

int main(int argc, char *argv[])
{
	int as_text = 0;
	size_t block_size = EXAMPLE_BLOCK_SIZE;
	long expect_regions = -1, expect_entries = -1;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--text") == 0)
			as_text = 1;
		else if (strcmp(argv[i], "--block-size") == 0 && i + 1 < argc)
			block_size = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--expect-regions") == 0 && i + 1 < argc)
			expect_regions = strtol(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--expect-entries") == 0 && i + 1 < argc)
			expect_entries = strtol(argv[++i], NULL, 0);
		else if (path == NULL && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc; /* unknown option: print usage */
	}
	if (path == NULL) {
		fprintf(stderr,
			"usage: %s [--text] [--block-size N] [--expect-regions N] "
			"[--expect-entries N] FILE\n",
			argv[0]);
		return 2;
	}
	if (!looks_like_stream(path)) {
		fprintf(stderr, "%s: not a pmemstream file\n", path);
		return 1;
	}

	/* EXAMPLE_OPEN_EXISTING keeps the file size: a stream refuses a resized map. */
	struct example_file file;
	if (example_file_open(&file, path, EXAMPLE_OPEN_EXISTING) != 0)
		return 1;

	/* The block size must be the one the stream was created with; -1/EINVAL otherwise. */
	struct pmemstream *stream;
	if (pmemstream_from_map(&stream, block_size, file.map) != 0) {
		fprintf(stderr, "pmemstream_from_map: %s\n", pmemstream_errormsg());
		example_file_close(&file);
		return 1;
	}

	int failed = 0;
	struct timestamps seen = {0};
	long regions_found = 0;
	uint64_t committed = pmemstream_committed_timestamp(stream);
	printf("%s: %zu bytes, committed timestamp %" PRIu64 ", persisted timestamp %" PRIu64 "\n",
	       path, pmem2_map_get_size(file.map), committed,
	       pmemstream_persisted_timestamp(stream));

	struct pmemstream_region_iterator *regions;
	if (pmemstream_region_iterator_new(&regions, stream) != 0) {
		fprintf(stderr, "region iterator: %s\n", pmemstream_errormsg());
		failed = 1;
		goto out;
	}
	for (pmemstream_region_iterator_seek_first(regions);
	     pmemstream_region_iterator_is_valid(regions) == 0;
	     pmemstream_region_iterator_next(regions)) {
		struct pmemstream_region region = pmemstream_region_iterator_get(regions);
		regions_found++;
		/*
		 * region_usable_size() is not called on purpose: it prepares the region for
		 * appending, which writes to it. Everything used here only reads.
		 */
		printf("region %ld: offset %" PRIu64 ", size %zu\n", regions_found, region.offset,
		       pmemstream_region_size(stream, region));

		struct pmemstream_entry_iterator *entries;
		if (pmemstream_entry_iterator_new(&entries, stream, region) != 0) {
			fprintf(stderr, "entry iterator: %s\n", pmemstream_errormsg());
			failed = 1;
			break;
		}
		uint64_t previous = 0;
		for (pmemstream_entry_iterator_seek_first(entries);
		     pmemstream_entry_iterator_is_valid(entries) == 0;
		     pmemstream_entry_iterator_next(entries)) {
			struct pmemstream_entry entry = pmemstream_entry_iterator_get(entries);
			uint64_t timestamp = pmemstream_entry_timestamp(stream, entry);
			size_t length = pmemstream_entry_length(stream, entry);
			const unsigned char *data = pmemstream_entry_data(stream, entry);

			printf("  entry: offset %" PRIu64 ", timestamp %" PRIu64 ", %zu bytes: ",
			       entry.offset, timestamp, length);
			print_payload(data, data != NULL ? length : 0, as_text);

			if (data == NULL || timestamp == 0 || timestamp <= previous ||
			    timestamp > committed) {
				fprintf(stderr,
					"bad entry at %" PRIu64 " (timestamp %" PRIu64
					", previous %" PRIu64 ")\n",
					entry.offset, timestamp, previous);
				failed = 1;
			}
			previous = timestamp;
			if (timestamps_add(&seen, timestamp) != 0) {
				fprintf(stderr, "out of memory\n");
				failed = 1;
				break;
			}
		}
		pmemstream_entry_iterator_delete(&entries);
	}
	pmemstream_region_iterator_delete(&regions);

	/* Timestamps are global to the stream: no two entries may carry the same one. */
	qsort(seen.values, seen.count, sizeof(*seen.values), compare_u64);
	for (size_t i = 1; i < seen.count; i++) {
		if (seen.values[i] == seen.values[i - 1]) {
			fprintf(stderr, "timestamp %" PRIu64 " used twice\n", seen.values[i]);
			failed = 1;
		}
	}
	printf("%ld region(s), %zu entr%s\n", regions_found, seen.count,
	       seen.count == 1 ? "y" : "ies");

	if (expect_regions >= 0 && regions_found != expect_regions) {
		fprintf(stderr, "expected %ld regions\n", expect_regions);
		failed = 1;
	}
	if (expect_entries >= 0 && (long)seen.count != expect_entries) {
		fprintf(stderr, "expected %ld entries\n", expect_entries);
		failed = 1;
	}

out:
	free(seen.values);
	pmemstream_delete(&stream);
	example_file_close(&file);
	if (failed)
		fprintf(stderr, "%s: FAILED\n", argv[0]);
	return failed;
}
