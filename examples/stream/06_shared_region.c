/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 06_shared_region: many threads appending to ONE region, and how errors are reported.
 *
 *	example_stream_shared_region FILE
 *
 * Any number of threads may append to the same region at once (pmemstream 0.2.1 allowed
 * only one). The library hands out space and timestamps together, so within the region the
 * entries lie in timestamp order and a reader sees one well-ordered history. Synchronous
 * appenders that wait at the same moment share the persist of the stream's timestamp
 * (group commit), which is why several threads get more done than one.
 *
 * The end of the program shows the error convention: calls return -1 (or 0 / NULL for
 * getters), errno holds the cause and pmemstream_errormsg() a readable message.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpmemstream.h>

#include "example_map.h"

#define NTHREADS	   4
#define ENTRIES_PER_THREAD 200
#define REGION_SIZE	   ((size_t)64 << 10)

struct payload {
	uint32_t thread;
	uint32_t seq;
};

struct shared {
	struct pmemstream *stream;
	struct pmemstream_region region;
	struct pmemstream_region_runtime *runtime;
	pthread_barrier_t start;
};

struct writer {
	pthread_t thread;
	struct shared *shared;
	uint32_t id;
	int failed;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct shared *sh = w->shared;

	pthread_barrier_wait(&sh->start);
	for (uint32_t i = 0; i < ENTRIES_PER_THREAD; i++) {
		struct payload p = {.thread = w->id, .seq = i};
		struct pmemstream_entry entry;
		/* the same region and the same runtime in every thread */
		if (pmemstream_append(sh->stream, sh->region, sh->runtime, &p, sizeof(p), &entry)) {
			fprintf(stderr, "thread %u: append: %s\n", w->id, pmemstream_errormsg());
			w->failed = 1;
			break;
		}
		/* durable on return, whatever the other threads are doing */
		if (pmemstream_persisted_timestamp(sh->stream) <
		    pmemstream_entry_timestamp(sh->stream, entry)) {
			fprintf(stderr, "thread %u: append returned before persisting\n", w->id);
			w->failed = 1;
		}
	}
	return NULL;
}

/* Reads the region back: timestamps grow with position, each thread's entries in order. */
static int check_region(struct shared *sh)
{
	uint32_t next_seq[NTHREADS] = {0};
	uint64_t previous = 0;
	size_t count = 0;
	int failed = 0;

	struct pmemstream_entry_iterator *it;
	if (pmemstream_entry_iterator_new(&it, sh->stream, sh->region) != 0) {
		fprintf(stderr, "entry iterator: %s\n", pmemstream_errormsg());
		return 1;
	}
	for (pmemstream_entry_iterator_seek_first(it); pmemstream_entry_iterator_is_valid(it) == 0;
	     pmemstream_entry_iterator_next(it)) {
		struct pmemstream_entry entry = pmemstream_entry_iterator_get(it);
		const struct payload *p = pmemstream_entry_data(sh->stream, entry);
		uint64_t ts = pmemstream_entry_timestamp(sh->stream, entry);
		if (p == NULL || p->thread >= NTHREADS || p->seq != next_seq[p->thread] ||
		    ts <= previous) {
			fprintf(stderr, "entry %zu (timestamp %" PRIu64 ") out of order\n", count,
				ts);
			failed = 1;
			break;
		}
		next_seq[p->thread]++;
		previous = ts;
		count++;
	}
	pmemstream_entry_iterator_delete(&it);

	if (!failed && count != NTHREADS * ENTRIES_PER_THREAD) {
		fprintf(stderr, "%zu entries, expected %d\n", count, NTHREADS * ENTRIES_PER_THREAD);
		failed = 1;
	}
	if (!failed)
		printf("%zu entries from %d threads, in timestamp order within the region\n", count,
		       NTHREADS);
	return failed;
}

/* Each failing call: -1, a specific errno, a message, and no side effect. */
static int show_errors(struct shared *sh)
{
	int failed = 0;
	size_t usable = pmemstream_region_usable_size(sh->stream, sh->region);

	/* an entry larger than the room left in the region */
	static char big[REGION_SIZE];
	struct pmemstream_entry untouched = {.offset = 12345};
	errno = 0;
	int ret =
		pmemstream_append(sh->stream, sh->region, sh->runtime, big, usable + 1, &untouched);
	int err = errno; /* saved before printf can change it */
	printf("append of %zu bytes into %zu usable: ret %d, errno %d (%s), \"%s\"\n", usable + 1,
	       usable, ret, err, strerror(err), pmemstream_errormsg());
	if (ret != -1 || err != ENOSPC || untouched.offset != 12345)
		failed = 1;

	/* something that is not a region of this stream */
	struct pmemstream_region bogus = {.offset = 3};
	errno = 0;
	ret = pmemstream_region_free(sh->stream, bogus);
	err = errno;
	printf("free of region offset 3: ret %d, errno %d (%s), \"%s\"\n", ret, err, strerror(err),
	       pmemstream_errormsg());
	if (ret != -1 || err != EINVAL)
		failed = 1;

	/* getters answer 0 instead of -1 */
	size_t size = pmemstream_region_size(sh->stream, bogus);
	printf("size of region offset 3: %zu\n", size);
	if (size != 0)
		failed = 1;

	if (failed)
		fprintf(stderr, "error reporting does not match the documentation\n");
	return failed;
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
	struct shared sh = {0};
	if (pmemstream_from_map(&sh.stream, EXAMPLE_BLOCK_SIZE, file.map) != 0) {
		fprintf(stderr, "pmemstream_from_map: %s\n", pmemstream_errormsg());
		example_file_close(&file);
		return 1;
	}

	int failed = 0;
	if (pmemstream_region_allocate(sh.stream, REGION_SIZE, &sh.region) != 0 ||
	    pmemstream_region_runtime_initialize(sh.stream, sh.region, &sh.runtime) != 0) {
		fprintf(stderr, "region setup: %s\n", pmemstream_errormsg());
		pmemstream_delete(&sh.stream);
		example_file_close(&file);
		return 1;
	}

	struct writer writers[NTHREADS];
	pthread_barrier_init(&sh.start, NULL, NTHREADS);
	for (uint32_t t = 0; t < NTHREADS; t++) {
		writers[t] = (struct writer){.shared = &sh, .id = t};
		pthread_create(&writers[t].thread, NULL, writer_main, &writers[t]);
	}
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(writers[t].thread, NULL);
		failed |= writers[t].failed;
	}
	pthread_barrier_destroy(&sh.start);

	failed |= check_region(&sh);
	failed |= show_errors(&sh);

	if (pmemstream_region_free(sh.stream, sh.region) != 0) {
		fprintf(stderr, "region_free: %s\n", pmemstream_errormsg());
		failed = 1;
	}
	pmemstream_delete(&sh.stream);
	example_file_close(&file);
	if (failed)
		fprintf(stderr, "%s: FAILED\n", argv[0]);
	return failed;
}
