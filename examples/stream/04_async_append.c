/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 04_async_append: append without waiting for each entry to become durable.
 *
 *	example_stream_async_append FILE
 *
 * A synchronous append pays a full persist (flush + fence) and the update of the stream's
 * persisted timestamp for every entry. pmemstream_async_append() instead starts the copy
 * through a miniasync data mover and returns at once with the entry's timestamp assigned.
 * The program then waits for one timestamp: "persisted >= T" covers every entry with a
 * timestamp up to T, in every region, so one wait makes a whole batch durable at the cost of
 * roughly one persist.
 *
 * The copies run on miniasync's thread-pool mover and the wait runs in a miniasync runtime,
 * which sleeps until the stream or the mover wakes it.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "example_map.h"

#define NREGIONS	   3
#define REGION_SIZE	   ((size_t)10240)
#define ENTRIES_PER_REGION 8
#define PAYLOAD_SIZE	   32

/*
 * The mover reads the source buffer after async_append has returned, so the buffers must
 * stay untouched until the copy is known to be complete (here: until the wait returns).
 */
static char payloads[NREGIONS][ENTRIES_PER_REGION][PAYLOAD_SIZE];
static struct pmemstream_entry entries[NREGIONS][ENTRIES_PER_REGION];

/* Reuses the first regions that still have room, so that the file can be run on again. */
static int pick_regions(struct pmemstream *stream, struct pmemstream_region regions[NREGIONS])
{
	const size_t needed = ENTRIES_PER_REGION * (16 + PAYLOAD_SIZE) + (16 + PAYLOAD_SIZE);
	int found = 0;

	struct pmemstream_region_iterator *it;
	if (pmemstream_region_iterator_new(&it, stream) != 0)
		return -1;
	for (pmemstream_region_iterator_seek_first(it);
	     found < NREGIONS && pmemstream_region_iterator_is_valid(it) == 0;
	     pmemstream_region_iterator_next(it)) {
		struct pmemstream_region region = pmemstream_region_iterator_get(it);
		if (pmemstream_region_usable_size(stream, region) >= needed)
			regions[found++] = region;
	}
	pmemstream_region_iterator_delete(&it);

	while (found < NREGIONS) {
		if (pmemstream_region_allocate(stream, REGION_SIZE, &regions[found]) != 0)
			return -1;
		found++;
	}
	return 0;
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
	struct data_mover_threads *mover = NULL;
	struct runtime *runtime = NULL;
	struct pmemstream_region regions[NREGIONS];
	if (pick_regions(stream, regions) != 0) {
		fprintf(stderr, "regions: %s\n", pmemstream_errormsg());
		failed = 1;
		goto out;
	}

	/* A synchronous append first: durable on return. */
	const char sync_payload[PAYLOAD_SIZE] = "synchronous entry";
	struct pmemstream_entry sync_entry;
	if (pmemstream_append(stream, regions[0], NULL, sync_payload, sizeof(sync_payload),
			      &sync_entry) != 0) {
		fprintf(stderr, "append: %s\n", pmemstream_errormsg());
		failed = 1;
		goto out;
	}
	printf("sync append: timestamp %" PRIu64 ", committed %" PRIu64 ", persisted %" PRIu64 "\n",
	       pmemstream_entry_timestamp(stream, sync_entry),
	       pmemstream_committed_timestamp(stream), pmemstream_persisted_timestamp(stream));

	/*
	 * The default thread-pool mover wakes a waiting runtime when a copy finishes (WAKER
	 * notifier), so nobody has to spin.
	 */
	mover = data_mover_threads_default();
	runtime = runtime_new();
	if (mover == NULL || runtime == NULL) {
		fprintf(stderr, "cannot create the data mover or the runtime\n");
		failed = 1;
		goto out;
	}
	struct vdm *vdm = data_mover_threads_get_vdm(mover);

	uint64_t last_timestamp = 0;
	for (int e = 0; e < ENTRIES_PER_REGION; e++) {
		for (int r = 0; r < NREGIONS; r++) {
			snprintf(payloads[r][e], PAYLOAD_SIZE, "async region %d entry %d", r, e);
			if (pmemstream_async_append(stream, vdm, regions[r], NULL, payloads[r][e],
						    PAYLOAD_SIZE, &entries[r][e]) != 0) {
				fprintf(stderr, "async_append: %s\n", pmemstream_errormsg());
				failed = 1;
				goto out;
			}
			/* the timestamp is known at once, long before the entry is durable */
			uint64_t timestamp = pmemstream_entry_timestamp(stream, entries[r][e]);
			if (timestamp <= last_timestamp) {
				fprintf(stderr, "timestamps must grow with each append\n");
				failed = 1;
			}
			last_timestamp = timestamp;
		}
	}
	printf("%d async appends issued, last timestamp %" PRIu64 "; committed %" PRIu64
	       ", persisted %" PRIu64 "\n",
	       NREGIONS * ENTRIES_PER_REGION, last_timestamp,
	       pmemstream_committed_timestamp(stream), pmemstream_persisted_timestamp(stream));

	/*
	 * Wait for the last timestamp only: it covers all the others. The future could also be
	 * polled by hand: while (future_poll(FUTURE_AS_RUNNABLE(&fut), NULL) !=
	 * FUTURE_STATE_COMPLETE) { do other work }. Polling is what drives the commit.
	 */
	struct pmemstream_async_wait_fut fut =
		pmemstream_async_wait_persisted(stream, last_timestamp);
	runtime_wait(runtime, FUTURE_AS_RUNNABLE(&fut));
	if (fut.output.error_code != 0) {
		fprintf(stderr, "waiting for timestamp %" PRIu64 " failed\n", last_timestamp);
		failed = 1;
		goto out;
	}
	uint64_t committed = pmemstream_committed_timestamp(stream);
	uint64_t persisted = pmemstream_persisted_timestamp(stream);
	printf("after the wait: committed %" PRIu64 ", persisted %" PRIu64 "\n", committed,
	       persisted);
	if (committed < last_timestamp || persisted < last_timestamp) {
		fprintf(stderr, "the wait returned before timestamp %" PRIu64 " was persisted\n",
			last_timestamp);
		failed = 1;
	}

	/* Every entry, not just the last one, is now complete. */
	for (int r = 0; r < NREGIONS; r++) {
		for (int e = 0; e < ENTRIES_PER_REGION; e++) {
			const char *data = pmemstream_entry_data(stream, entries[r][e]);
			if (data == NULL ||
			    pmemstream_entry_length(stream, entries[r][e]) != PAYLOAD_SIZE ||
			    memcmp(data, payloads[r][e], PAYLOAD_SIZE) != 0) {
				fprintf(stderr, "region %d entry %d does not read back\n", r, e);
				failed = 1;
			}
		}
	}
	if (!failed)
		printf("all %d entries read back\n", NREGIONS * ENTRIES_PER_REGION);

out:
	/* The stream first: deleting it finishes any copy still using the mover. */
	pmemstream_delete(&stream);
	runtime_delete(runtime);
	data_mover_threads_delete(mover);
	example_file_close(&file);
	if (failed)
		fprintf(stderr, "%s: FAILED\n", argv[0]);
	return failed;
}
