/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Appends racing with a free and reallocation of their region: an append or reserve that
 * passed the runtime handle of one allocation must not land in the next allocation of the
 * region (man 3: a handle of a freed region is refused). Appenders write the number of the
 * allocation whose handle they use; after each round the region may hold only entries of
 * its own allocation, and a reservation made with a stale handle must not be left behind
 * (it would block the region with EBUSY). A reader walks the region with iterators all the
 * while: an iterator of a freed allocation must read nothing of the next one (the thread
 * checkers run this test; a read racing with the new allocation's writes is reported).
 *
 * usage: stream_free_race ROUNDS
 */

#include <pthread.h>

#include "stream_test.h"

#define APPENDERS	      2
#define REGION_SIZE	      (64 * KiB)
#define MIN_ENTRIES_PER_ROUND 8

static struct test_map tm;
static struct pmemstream *S;
static struct pmemstream_region R;

/* the allocation appenders should use: its number and its runtime handle */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t current_number;
static struct pmemstream_region_runtime *current_handle;
static int stop;

static void current_get(uint64_t *number, struct pmemstream_region_runtime **handle)
{
	pthread_mutex_lock(&current_lock);
	*number = current_number;
	*handle = current_handle;
	pthread_mutex_unlock(&current_lock);
}

static void current_set(uint64_t number, struct pmemstream_region_runtime *handle)
{
	pthread_mutex_lock(&current_lock);
	current_number = number;
	current_handle = handle;
	pthread_mutex_unlock(&current_lock);
}

/* refused (stale handle, freed region, full) or done: never anything else */
static void check_result(int ret)
{
	if (ret != 0 && errno != EINVAL && errno != ENOSPC && errno != EBUSY)
		UT_FATAL("append failed with errno %d: %s", errno, pmemstream_errormsg());
}

/*
 * Entries of several sizes, so that the entries of one allocation do not start where those
 * of the one before did: a stale reader would then read the payload a copy is writing.
 */
static void *appender(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	uint64_t payload[8] = {0};
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		uint64_t number;
		struct pmemstream_region_runtime *handle;
		current_get(&number, &handle);
		if (k++ % 4 != 0) {
			payload[0] = number;
			size_t size = sizeof(payload[0]) * (1 + k % 8);
			check_result(pmemstream_append(S, R, handle, payload, size, NULL));
			continue;
		}
		struct pmemstream_entry e;
		void *data;
		int ret = pmemstream_reserve(S, R, handle, sizeof(number), &e, &data);
		check_result(ret);
		if (ret == 0) {
			memcpy(data, &number, sizeof(number));
			/* refused only if the region was freed meanwhile: then it is gone with it
			 */
			check_result(pmemstream_publish(S, R, handle, e, sizeof(number)));
		}
	}
	return NULL;
}

/* Walks the region's entries over and over, through frees and reallocations. */
static void *reader(void *arg)
{
	(void)arg;
	size_t walks = 0;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct pmemstream_entry_iterator *it;
		if (pmemstream_entry_iterator_new(&it, S, R) != 0) {
			UT_ASSERTeq(errno, EINVAL); /* between a free and the reallocation */
			continue;
		}
		pmemstream_entry_iterator_seek_first(it);
		/* (get may answer "none" here: the region can be freed after is_valid) */
		while (pmemstream_entry_iterator_is_valid(it) == 0) {
			(void)pmemstream_entry_iterator_get(it);
			pmemstream_entry_iterator_next(it);
		}
		pmemstream_entry_iterator_delete(&it);
		walks++;
	}
	return (void *)walks;
}

/* Every entry of the region was appended with the handle of allocation "number". */
static size_t check_entries(uint64_t number)
{
	struct pmemstream_entry_iterator *it;
	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, S, R), 0);
	size_t n = 0;
	for (pmemstream_entry_iterator_seek_first(it); pmemstream_entry_iterator_is_valid(it) == 0;
	     pmemstream_entry_iterator_next(it), n++) {
		struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
		uint64_t written;
		memcpy(&written, pmemstream_entry_data(S, e), sizeof(written));
		if (written != number)
			UT_FATAL("allocation %" PRIu64
				 " of the region holds an entry appended with "
				 "the handle of allocation %" PRIu64,
				 number, written);
	}
	pmemstream_entry_iterator_delete(&it);
	return n;
}

/* Frees the region, which may have to wait for an outstanding reservation to be published. */
static void free_region(void)
{
	unsigned spins = 0;
	while (pmemstream_region_free(S, R) != 0) {
		UT_ASSERTeq(errno, EBUSY);
		UT_ASSERT(++spins < 100000000);
	}
}

int main(int argc, char **argv)
{
	UT_ASSERTeq(argc, 2);
	unsigned rounds = (unsigned)atoi(argv[1]);
	tm_create(&tm, "free-race", 4 * MiB);
	S = tm_stream(&tm, 4096);
	R = alloc_region(S, REGION_SIZE);
	struct pmemstream_region_runtime *handle;
	UT_ASSERTeq(pmemstream_region_runtime_initialize(S, R, &handle), 0);
	current_set(1, handle);

	pthread_t threads[APPENDERS], walker;
	for (unsigned i = 0; i < APPENDERS; i++)
		UT_ASSERTeq(pthread_create(&threads[i], NULL, appender, (void *)(uintptr_t)i), 0);
	UT_ASSERTeq(pthread_create(&walker, NULL, reader, NULL), 0);

	size_t entries = 0;
	for (uint64_t number = 1; number <= rounds; number++) {
		/* the appenders are at work in this allocation before it is freed under them */
		size_t n;
		while ((n = check_entries(number)) < MIN_ENTRIES_PER_ROUND)
			;
		entries += n;
		free_region();
		struct pmemstream_region again = alloc_region(S, REGION_SIZE);
		UT_ASSERTeq(again.offset, R.offset);
		UT_ASSERTeq(pmemstream_region_runtime_initialize(S, R, &handle), 0);
		current_set(number + 1, handle);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < APPENDERS; i++)
		UT_ASSERTeq(pthread_join(threads[i], NULL), 0);
	void *walks;
	UT_ASSERTeq(pthread_join(walker, &walks), 0);
	entries += check_entries(rounds + 1);
	printf("%u reallocations, %zu entries checked, %zu walks\n", rounds, entries,
	       (size_t)(uintptr_t)walks);

	pmemstream_delete(&S);
	tm_destroy(&tm);
	return 0;
}
