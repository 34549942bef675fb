/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 05_timestamp_order: several writers, one region each, read back in global order.
 *
 *	example_stream_timestamp_order FILE
 *
 * Every published entry gets a timestamp that is unique in the whole stream, and within a
 * region entries are stored in timestamp order. So a reader can reconstruct the global
 * order of appends made concurrently to different regions by merging the per-region entry
 * iterators on pmemstream_entry_timestamp() -- the usual way to give each thread its own
 * region (no contention) while keeping one history.
 */

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "example_map.h"

#define NTHREADS	   4
#define ENTRIES_PER_THREAD 10
#define REGION_SIZE	   ((size_t)4096)

struct payload {
	uint64_t thread;
	uint64_t index;
};

struct writer {
	pthread_t thread;
	struct pmemstream *stream;
	struct pmemstream_region region;
	pthread_barrier_t *start;
	uint64_t id;
	int failed;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	/* the runtime is prepared before the start so that all writers really overlap */
	struct pmemstream_region_runtime *runtime;
	if (pmemstream_region_runtime_initialize(w->stream, w->region, &runtime) != 0)
		w->failed = 1;
	pthread_barrier_wait(w->start);

	for (uint64_t i = 0; i < ENTRIES_PER_THREAD && !w->failed; i++) {
		struct payload p = {.thread = w->id, .index = i};
		if (pmemstream_append(w->stream, w->region, runtime, &p, sizeof(p), NULL) != 0) {
			fprintf(stderr, "writer %" PRIu64 ": append: %s\n", w->id,
				pmemstream_errormsg());
			w->failed = 1;
		}
		/* only so that the short demo shows the writers interleaving */
		sched_yield();
	}
	return NULL;
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
	int allocated = 0;
	struct writer writers[NTHREADS];
	struct pmemstream_entry_iterator *iterators[NTHREADS] = {NULL};
	uint64_t first_timestamp = pmemstream_persisted_timestamp(stream) + 1;

	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (; allocated < NTHREADS; allocated++) {
		struct writer *w = &writers[allocated];
		*w = (struct writer){.stream = stream, .start = &start, .id = (uint64_t)allocated};
		if (pmemstream_region_allocate(stream, REGION_SIZE, &w->region) != 0) {
			fprintf(stderr, "region_allocate: %s\n", pmemstream_errormsg());
			failed = 1;
			goto out;
		}
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_create(&writers[t].thread, NULL, writer_main, &writers[t]);
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(writers[t].thread, NULL);
		failed |= writers[t].failed;
	}
	if (failed)
		goto out;

	/* One iterator per region, each standing on that region's oldest entry. */
	for (int t = 0; t < NTHREADS; t++) {
		if (pmemstream_entry_iterator_new(&iterators[t], stream, writers[t].region) != 0) {
			fprintf(stderr, "entry iterator: %s\n", pmemstream_errormsg());
			failed = 1;
			goto out;
		}
		pmemstream_entry_iterator_seek_first(iterators[t]);
	}

	/*
	 * Merge: repeatedly take the entry with the smallest timestamp among the iterator
	 * heads. With this few regions a linear scan is enough; use a heap for many.
	 */
	uint64_t expected_timestamp = first_timestamp;
	uint64_t next_index[NTHREADS] = {0};
	size_t merged = 0;
	for (;;) {
		int best = -1;
		uint64_t best_timestamp = UINT64_MAX;
		for (int t = 0; t < NTHREADS; t++) {
			if (pmemstream_entry_iterator_is_valid(iterators[t]) != 0)
				continue;
			struct pmemstream_entry e = pmemstream_entry_iterator_get(iterators[t]);
			uint64_t ts = pmemstream_entry_timestamp(stream, e);
			if (ts < best_timestamp) {
				best_timestamp = ts;
				best = t;
			}
		}
		if (best < 0)
			break;

		struct pmemstream_entry e = pmemstream_entry_iterator_get(iterators[best]);
		const struct payload *p = pmemstream_entry_data(stream, e);
		if (p == NULL || pmemstream_entry_length(stream, e) != sizeof(*p)) {
			fprintf(stderr, "entry at %" PRIu64 " unreadable\n", e.offset);
			failed = 1;
			break;
		}
		printf("timestamp %3" PRIu64 ": thread %" PRIu64 ", entry %" PRIu64 "\n",
		       best_timestamp, p->thread, p->index);

		/*
		 * Only these appends ran, all synchronous, so the merged timestamps must be
		 * exactly consecutive, and each thread's entries must appear in its own order.
		 */
		if (best_timestamp != expected_timestamp || p->thread != (uint64_t)best ||
		    p->index != next_index[best]) {
			fprintf(stderr,
				"out of order: expected timestamp %" PRIu64 " and entry %" PRIu64
				" of thread %d\n",
				expected_timestamp, next_index[best], best);
			failed = 1;
		}
		expected_timestamp++;
		next_index[best]++;
		merged++;
		pmemstream_entry_iterator_next(iterators[best]);
	}
	if (merged != NTHREADS * ENTRIES_PER_THREAD) {
		fprintf(stderr, "merged %zu entries, expected %d\n", merged,
			NTHREADS * ENTRIES_PER_THREAD);
		failed = 1;
	}

out:
	for (int t = 0; t < NTHREADS; t++)
		pmemstream_entry_iterator_delete(&iterators[t]);
	/* the regions were only for this demonstration */
	for (int t = 0; t < allocated; t++) {
		if (pmemstream_region_free(stream, writers[t].region) != 0) {
			fprintf(stderr, "region_free: %s\n", pmemstream_errormsg());
			failed = 1;
		}
	}
	pthread_barrier_destroy(&start);
	pmemstream_delete(&stream);
	example_file_close(&file);
	if (failed)
		fprintf(stderr, "%s: FAILED\n", argv[0]);
	else
		printf("%d entries from %d threads merged in timestamp order\n",
		       NTHREADS * ENTRIES_PER_THREAD, NTHREADS);
	return failed;
}
