/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 03_reserve_publish: build entries in place instead of copying them in.
 *
 *	example_stream_reserve_publish FILE
 *
 * pmemstream_append() copies a finished buffer into the stream. When the entry is built
 * piece by piece anyway, pmemstream_reserve() hands out the entry's space in persistent
 * memory directly; the program writes the entry there and pmemstream_publish() makes it
 * durable and visible, giving it its timestamp. Until publish nothing is visible: a crash
 * in between loses the reservation and nothing else.
 *
 * Here every entry is a variable-length record. The program reserves room for the longest
 * possible record and publishes only the bytes it used; the rest of the reservation goes
 * back to the region. (Changing the size at publish works for the newest reservation of a
 * region, which is the usual single-writer pattern.)
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "example_map.h"

#define REGION_SIZE ((size_t)10240)
#define MAX_KEY	    64

/* One record as stored in an entry. */
struct kv_record {
	uint64_t value;
	uint32_t key_length;
	char key[]; /* key_length bytes, not NUL-terminated */
};

static const char *const keys[] = {"apple", "banana", "cherry", "a much longer key than the rest",
				   ""};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Entries take a 16-byte header and are padded to 8 bytes. */
static size_t entry_footprint(size_t length)
{
	return (16 + length + 7) & ~(size_t)7;
}

int main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}

	struct example_file file;
	if (example_file_open(&file, argv[1], EXAMPLE_OPEN_OR_CREATE) != 0)
		return 1;
	struct pmemstream *stream;
	if (pmemstream_from_map(&stream, EXAMPLE_BLOCK_SIZE, file.map) != 0) {
		fprintf(stderr, "pmemstream_from_map: %s\n", pmemstream_errormsg());
		example_file_close(&file);
		return 1;
	}

	int failed = 0;
	struct pmemstream_region region;
	struct pmemstream_region_runtime *runtime;
	if (pmemstream_region_allocate(stream, REGION_SIZE, &region) != 0 ||
	    pmemstream_region_runtime_initialize(stream, region, &runtime) != 0) {
		fprintf(stderr, "region setup: %s\n", pmemstream_errormsg());
		pmemstream_delete(&stream);
		example_file_close(&file);
		return 1;
	}
	size_t usable = pmemstream_region_usable_size(stream, region);
	printf("region at offset %" PRIu64 ": %zu bytes usable\n", region.offset, usable);

	for (size_t i = 0; i < NKEYS; i++) {
		/* 1. Reserve the worst case. Nothing is written to the stream yet. */
		struct pmemstream_entry entry;
		void *space;
		size_t reserved = sizeof(struct kv_record) + MAX_KEY;
		if (pmemstream_reserve(stream, region, runtime, reserved, &entry, &space) != 0) {
			fprintf(stderr, "reserve: %s\n", pmemstream_errormsg());
			failed = 1;
			break;
		}

		/* 2. Build the record right where it will live (8-byte aligned memory). */
		struct kv_record *record = space;
		record->value = 100 + i;
		record->key_length = (uint32_t)strlen(keys[i]);
		memcpy(record->key, keys[i], record->key_length);
		size_t used = offsetof(struct kv_record, key) + record->key_length;

		/* 3. Publish the bytes actually used: they become durable, then visible. */
		if (pmemstream_publish(stream, region, runtime, entry, used) != 0) {
			fprintf(stderr, "publish: %s\n", pmemstream_errormsg());
			failed = 1;
			break;
		}
		uint64_t timestamp = pmemstream_entry_timestamp(stream, entry);
		printf("published \"%s\" = %" PRIu64
		       " (%zu of %zu reserved bytes, timestamp %" PRIu64 ")\n",
		       keys[i], record->value, used, reserved, timestamp);

		/* publish returns once the entry is durable */
		if (pmemstream_persisted_timestamp(stream) < timestamp ||
		    pmemstream_entry_data(stream, entry) != space ||
		    pmemstream_entry_length(stream, entry) != used) {
			fprintf(stderr, "published entry does not match\n");
			failed = 1;
		}
		/* only what was published takes room in the region */
		size_t now_usable = pmemstream_region_usable_size(stream, region);
		if (now_usable != usable - entry_footprint(used)) {
			fprintf(stderr, "usable size %zu, expected %zu\n", now_usable,
				usable - entry_footprint(used));
			failed = 1;
		}
		usable = now_usable;
	}

	/* Read everything back the way any reader would. */
	struct pmemstream_entry_iterator *it;
	if (pmemstream_entry_iterator_new(&it, stream, region) != 0) {
		fprintf(stderr, "entry iterator: %s\n", pmemstream_errormsg());
		failed = 1;
	} else {
		size_t n = 0;
		for (pmemstream_entry_iterator_seek_first(it);
		     pmemstream_entry_iterator_is_valid(it) == 0;
		     pmemstream_entry_iterator_next(it), n++) {
			struct pmemstream_entry entry = pmemstream_entry_iterator_get(it);
			const struct kv_record *record = pmemstream_entry_data(stream, entry);
			size_t length = pmemstream_entry_length(stream, entry);
			if (n >= NKEYS || record == NULL ||
			    length != offsetof(struct kv_record, key) + strlen(keys[n]) ||
			    record->value != 100 + n || record->key_length != strlen(keys[n]) ||
			    memcmp(record->key, keys[n], record->key_length) != 0) {
				fprintf(stderr, "entry %zu does not read back\n", n);
				failed = 1;
				break;
			}
			printf("read \"%.*s\" = %" PRIu64 "\n", (int)record->key_length,
			       record->key, record->value);
		}
		if (!failed && n != NKEYS) {
			fprintf(stderr, "read %zu entries, expected %zu\n", n, NKEYS);
			failed = 1;
		}
		pmemstream_entry_iterator_delete(&it);
	}

	/* The region is scratch space here: give it back so that the file does not grow. */
	if (pmemstream_region_free(stream, region) != 0) {
		fprintf(stderr, "region_free: %s\n", pmemstream_errormsg());
		failed = 1;
	}

	pmemstream_delete(&stream);
	example_file_close(&file);
	if (failed)
		fprintf(stderr, "%s: FAILED\n", argv[0]);
	return failed;
}
