/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Success and error paths of every libpmemstream function: return values pinned by the spec
 * (-1, 0, NULL, UINT64_MAX), the specific errno, and output arguments left untouched.
 */

#include <pthread.h>

#include "stream_test.h"

#define SENTINEL    0x5a5a5a5a5a5a5a5aULL
#define STREAM_SIZE (4 * MiB)

static struct test_map tm;

/* Offsets that designate no region of a stream of STREAM_SIZE whose first region is at 0. */
static const uint64_t bad_offsets[] = {
	UINT64_MAX, UINT64_MAX & ~7ULL, 8, 64, 4095, STREAM_SIZE, STREAM_SIZE - 4096, 1ULL << 40,
};
#define NBAD (sizeof(bad_offsets) / sizeof(bad_offsets[0]))

static void test_from_map_errors(void)
{
	struct pmemstream *s = (struct pmemstream *)(uintptr_t)SENTINEL;

	UT_ASSERT_ERR(pmemstream_from_map(NULL, 4096, tm.map), -1, EINVAL);
	size_t bad_blocks[] = {0, 8, 63, 100, 192, 10240, 4097};
	for (size_t i = 0; i < sizeof(bad_blocks) / sizeof(bad_blocks[0]); i++) {
		UT_ASSERT_ERR(pmemstream_from_map(&s, bad_blocks[i], tm.map), -1, EINVAL);
		UT_ASSERTeq((uintptr_t)s, SENTINEL);
		UT_ASSERT(strlen(pmemstream_errormsg()) > 0);
	}
	UT_ASSERT_ERR(pmemstream_from_map(&s, 4096, NULL), -1, EINVAL);
	UT_ASSERTeq((uintptr_t)s, SENTINEL);
	/* a failed open must not have created anything */
	UT_ASSERT(memcmp(tm_base(&tm), "PMEMSTREAM", 10) != 0);
}

static void test_delete(void)
{
	pmemstream_delete(NULL);
	struct pmemstream *s = NULL;
	pmemstream_delete(&s);
	s = tm_stream(&tm, 4096);
	pmemstream_delete(&s);
	UT_ASSERT(s == NULL);
}

static void *errormsg_thread(void *arg)
{
	(void)arg;
	const char *msg = pmemstream_errormsg();
	UT_ASSERT(msg != NULL);
	UT_ASSERTeq(strlen(msg), 0);
	/* the message is per thread */
	UT_ASSERT_ERR(pmemstream_region_allocate(NULL, 1, NULL), -1, EINVAL);
	UT_ASSERT(strlen(pmemstream_errormsg()) > 0);
	return NULL;
}

static void test_errormsg(void)
{
	pthread_t t;
	pthread_create(&t, NULL, errormsg_thread, NULL);
	pthread_join(t, NULL);
}

static void test_allocate(struct pmemstream *s)
{
	struct pmemstream_region r = {SENTINEL};

	UT_ASSERT_ERR(pmemstream_region_allocate(NULL, 100, &r), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_allocate(s, 0, &r), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_allocate(s, STREAM_SIZE, &r), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_region_allocate(s, SIZE_MAX, &r), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_region_allocate(s, SIZE_MAX - 63, &r), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_region_allocate(s, (1ULL << 62) - 64, &r), -1, ENOSPC);
	UT_ASSERTeq(r.offset, SENTINEL);

	/* first region at data offset 0; the region output is optional */
	UT_ASSERTeq(pmemstream_region_allocate(s, 4096 - 64, &r), 0);
	UT_ASSERTeq(r.offset, 0);
	UT_ASSERTeq(pmemstream_region_allocate(s, 1, NULL), 0);
	UT_ASSERTeq(pmemstream_region_size(s, (struct pmemstream_region){4096}), 4096 - 64);
}

static void test_region_getters(struct pmemstream *s, struct pmemstream_region r)
{
	UT_ASSERT_ERR(pmemstream_region_size(NULL, r), 0, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_usable_size(NULL, r), 0, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_region_size(s, bad), 0, EINVAL);
		UT_ASSERT_ERR(pmemstream_region_usable_size(s, bad), 0, EINVAL);
	}
	UT_ASSERTeq(pmemstream_region_size(s, r), 4096 - 64);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r), 4096 - 64);
}

static void test_runtime_initialize(struct pmemstream *s, struct pmemstream_region r)
{
	struct pmemstream_region_runtime *rt = (void *)(uintptr_t)SENTINEL, *rt2 = NULL;

	UT_ASSERT_ERR(pmemstream_region_runtime_initialize(NULL, r, &rt), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_runtime_initialize(s, r, NULL), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_region_runtime_initialize(s, bad, &rt), -1, EINVAL);
	}
	UT_ASSERTeq((uintptr_t)rt, SENTINEL);
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, r, &rt), 0);
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, r, &rt2), 0);
	UT_ASSERT(rt == rt2);
}

static void test_reserve_publish(struct pmemstream *s, struct pmemstream_region r,
				 struct pmemstream_region other)
{
	struct pmemstream_entry e = {SENTINEL};
	void *data = (void *)(uintptr_t)SENTINEL;
	struct pmemstream_region_runtime *rt, *other_rt;
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, r, &rt), 0);
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, other, &other_rt), 0);
	uint64_t ts_before = pmemstream_committed_timestamp(s);

	UT_ASSERT_ERR(pmemstream_reserve(NULL, r, NULL, 8, &e, &data), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_reserve(s, r, NULL, 8, NULL, &data), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_reserve(s, r, NULL, 8, &e, NULL), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_reserve(s, bad, NULL, 8, &e, &data), -1, EINVAL);
	}
	/* a runtime of another region */
	UT_ASSERT_ERR(pmemstream_reserve(s, r, other_rt, 8, &e, &data), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_reserve(s, r, NULL, 4096, &e, &data), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_reserve(s, r, NULL, SIZE_MAX, &e, &data), -1, ENOSPC);
	UT_ASSERTeq(e.offset, SENTINEL);
	UT_ASSERTeq((uintptr_t)data, SENTINEL);

	/* size 0 still gives an aligned, usable pointer */
	UT_ASSERTeq(pmemstream_reserve(s, r, rt, 0, &e, &data), 0);
	UT_ASSERTeq(e.offset, r.offset + 64);
	UT_ASSERT(data != NULL);
	UT_ASSERTeq((uintptr_t)data % 8, 0);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts_before);

	/* one outstanding reservation per region: others wait for it */
	struct pmemstream_entry e2 = {SENTINEL};
	void *data2 = NULL;
	UT_ASSERT_ERR(pmemstream_reserve(s, r, NULL, 8, &e2, &data2), -1, EBUSY);
	uint64_t v = 7;
	UT_ASSERT_ERR(pmemstream_append(s, r, NULL, &v, 8, &e2), -1, EBUSY);
	UT_ASSERTeq(e2.offset, SENTINEL);
	UT_ASSERT_ERR(pmemstream_region_free(s, r), -1, EBUSY);

	UT_ASSERT_ERR(pmemstream_publish(NULL, r, NULL, e, 8), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_publish(s, bad, NULL, e, 8), -1, EINVAL);
	}
	UT_ASSERT_ERR(pmemstream_publish(s, r, NULL, (struct pmemstream_entry){e.offset + 8}, 8),
		      -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_publish(s, other, NULL, e, 8), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_publish(s, r, NULL, e, 4096), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_async_publish(s, r, NULL, e, 4096), -1, EINVAL);
	/* failures consumed no timestamp */
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts_before);

	/* reserve 0, publish 8 (programs do this) */
	memcpy(data, &v, sizeof(v));
	UT_ASSERTeq(pmemstream_publish(s, r, rt, e, sizeof(v)), 0);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts_before + 1);
	UT_ASSERTeq(pmemstream_persisted_timestamp(s), ts_before + 1);
	UT_ASSERTeq(pmemstream_entry_size(s, e), 8);
	UT_ASSERTeq(*(const uint64_t *)pmemstream_entry_data(s, e), 7);
	UT_ASSERTeq(pmemstream_entry_timestamp(s, e), ts_before + 1);
	/* published twice: no longer a reservation */
	UT_ASSERT_ERR(pmemstream_publish(s, r, rt, e, 8), -1, EINVAL);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r), 4096 - 64 - 24);
}

static void test_append(struct pmemstream *s, struct pmemstream_region r)
{
	struct pmemstream_entry e = {SENTINEL};
	uint64_t v = 42;
	uint64_t ts = pmemstream_committed_timestamp(s);

	UT_ASSERT_ERR(pmemstream_append(NULL, r, NULL, &v, 8, &e), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_append(s, bad, NULL, &v, 8, &e), -1, EINVAL);
	}
	UT_ASSERT_ERR(pmemstream_append(s, r, NULL, NULL, 8, &e), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_append(s, r, NULL, &v, SIZE_MAX, &e), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_append(s, r, NULL, &v, 1ULL << 62, &e), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_append(s, r, NULL, &v, 4096, &e), -1, ENOSPC);
	UT_ASSERTeq(e.offset, SENTINEL);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts);

	/* size 0 with NULL data; entry output optional */
	UT_ASSERTeq(pmemstream_append(s, r, NULL, NULL, 0, &e), 0);
	UT_ASSERTeq(pmemstream_entry_size(s, e), 0);
	UT_ASSERT(pmemstream_entry_data(s, e) != NULL);
	UT_ASSERTeq(pmemstream_append(s, r, NULL, &v, 8, NULL), 0);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts + 2);
	UT_ASSERTeq(pmemstream_persisted_timestamp(s), ts + 2);

	/* size 0 with NULL data as a region's first entry (written through the cache) */
	struct pmemstream_region fresh = alloc_region(s, 1024);
	UT_ASSERTeq(pmemstream_append(s, fresh, NULL, NULL, 0, &e), 0);
	UT_ASSERTeq(pmemstream_entry_size(s, e), 0);
	UT_ASSERTeq(count_entries(s, fresh), 1);
	UT_ASSERTeq(pmemstream_region_free(s, fresh), 0);
}

static void test_async(struct pmemstream *s, struct pmemstream_region r)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	struct vdm *vdm = data_mover_sync_get_vdm(dms);
	struct pmemstream_entry e = {SENTINEL};
	uint64_t v = 43;
	uint64_t ts = pmemstream_committed_timestamp(s);

	UT_ASSERT_ERR(pmemstream_async_append(NULL, vdm, r, NULL, &v, 8, &e), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_async_append(s, NULL, r, NULL, &v, 8, &e), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_async_append(s, vdm, bad, NULL, &v, 8, &e), -1, EINVAL);
		UT_ASSERT_ERR(pmemstream_async_publish(s, bad, NULL, e, 8), -1, EINVAL);
	}
	UT_ASSERT_ERR(pmemstream_async_append(s, vdm, r, NULL, NULL, 8, &e), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_async_append(s, vdm, r, NULL, &v, 4096, &e), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_async_publish(NULL, r, NULL, e, 8), -1, EINVAL);
	UT_ASSERT_ERR(
		pmemstream_async_publish(s, r, NULL, (struct pmemstream_entry){r.offset + 64}, 8),
		-1, EINVAL);
	UT_ASSERTeq(e.offset, SENTINEL);

	UT_ASSERTeq(pmemstream_async_append(s, vdm, r, NULL, &v, 8, &e), 0);
	/* the timestamp is readable at once, before commit */
	UT_ASSERTeq(pmemstream_entry_timestamp(s, e), ts + 1);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), ts);

	struct pmemstream_async_wait_fut fut = pmemstream_async_wait_persisted(s, ts + 1);
	UT_ASSERTeq(FUTURE_STATE(&fut), FUTURE_STATE_IDLE);
	UT_ASSERTeq(fut.output.error_code, 0);
	UT_ASSERTeq(fut.data.timestamp, ts + 1);
	UT_ASSERT(fut.data.stream == s);
	while (future_poll(FUTURE_AS_RUNNABLE(&fut), NULL) != FUTURE_STATE_COMPLETE)
		;
	UT_ASSERTeq(fut.output.error_code, 0);
	UT_ASSERT(pmemstream_persisted_timestamp(s) >= ts + 1);
	UT_ASSERTeq(*(const uint64_t *)pmemstream_entry_data(s, e), 43);

	/* NULL stream: born complete with an error */
	fut = pmemstream_async_wait_committed(NULL, 5);
	UT_ASSERTeq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(fut.output.error_code, -1);
	UT_ASSERTeq(fut.data.timestamp, 5);
	fut = pmemstream_async_wait_persisted(NULL, 6);
	UT_ASSERTeq(FUTURE_STATE(&fut), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(fut.output.error_code, -1);
	UT_ASSERTeq(fut.data.timestamp, 6);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL), FUTURE_STATE_COMPLETE);

	/* an already reached timestamp completes on the first poll, notifier reported */
	struct future_notifier n;
	memset(&n, 0xff, sizeof(n));
	fut = pmemstream_async_wait_committed(s, 1);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&fut), &n), FUTURE_STATE_COMPLETE);
	UT_ASSERTeq(n.notifier_used, FUTURE_NOTIFIER_NONE);

	/* a timestamp nobody has taken yet keeps the future running */
	fut = pmemstream_async_wait_committed(s, ts + 1000);
	for (int i = 0; i < 10; i++)
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&fut), NULL), FUTURE_STATE_RUNNING);
	UT_ASSERTeq(fut.output.error_code, 0);

	UT_ASSERT_ERR(pmemstream_committed_timestamp(NULL), 0, EINVAL);
	UT_ASSERT_ERR(pmemstream_persisted_timestamp(NULL), 0, EINVAL);
	data_mover_sync_delete(dms);
}

static void test_entry_accessors(struct pmemstream *s, struct pmemstream_region r,
				 struct pmemstream_region freed)
{
	struct pmemstream_entry good = append_u64(s, r, 99);

	UT_ASSERT_ERR(pmemstream_entry_data(NULL, good), NULL, EINVAL);
	UT_ASSERT_ERR(pmemstream_entry_size(NULL, good), 0, EINVAL);
	UT_ASSERT_ERR(pmemstream_entry_length(NULL, good), 0, EINVAL);
	UT_ASSERT_ERR(pmemstream_entry_timestamp(NULL, good), 0, EINVAL);

	uint64_t bad[] = {UINT64_MAX,	   UINT64_MAX & ~7ULL, good.offset + 4,
			  r.offset,	   good.offset + 8,    STREAM_SIZE,
			  STREAM_SIZE - 8, freed.offset + 64,  1ULL << 50};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pmemstream_entry e = {bad[i]};
		UT_ASSERT_ERR(pmemstream_entry_data(s, e), NULL, EINVAL);
		UT_ASSERT_ERR(pmemstream_entry_size(s, e), 0, EINVAL);
		UT_ASSERT_ERR(pmemstream_entry_length(s, e), 0, EINVAL);
		UT_ASSERT_ERR(pmemstream_entry_timestamp(s, e), 0, EINVAL);
	}
	UT_ASSERTeq(pmemstream_entry_size(s, good), 8);
	UT_ASSERTeq(pmemstream_entry_length(s, good), 8);
	UT_ASSERTeq(*(const uint64_t *)pmemstream_entry_data(s, good), 99);
	UT_ASSERTeq(pmemstream_entry_timestamp(s, good), pmemstream_committed_timestamp(s));
}

static void test_entry_iterator(struct pmemstream *s, struct pmemstream_region r)
{
	struct pmemstream_entry_iterator *it = (void *)(uintptr_t)SENTINEL;

	UT_ASSERT_ERR(pmemstream_entry_iterator_new(&it, NULL, r), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_entry_iterator_new(NULL, s, r), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_entry_iterator_new(&it, s, bad), -1, EINVAL);
	}
	UT_ASSERTeq((uintptr_t)it, SENTINEL);

	/* NULL iterators */
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(NULL), -1);
	pmemstream_entry_iterator_next(NULL);
	pmemstream_entry_iterator_seek_first(NULL);
	UT_ASSERTeq(pmemstream_entry_iterator_get(NULL).offset, UINT64_MAX);
	pmemstream_entry_iterator_delete(NULL);
	struct pmemstream_entry_iterator *null_it = NULL;
	pmemstream_entry_iterator_delete(&null_it);

	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r), 0);
	/* not positioned yet */
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, UINT64_MAX);
	pmemstream_entry_iterator_next(it);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, UINT64_MAX);
	pmemstream_entry_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), 0);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, r.offset + 64);
	pmemstream_entry_iterator_delete(&it);
	UT_ASSERT(it == NULL);

	/* empty region: seek_first leaves it invalid */
	struct pmemstream_region empty = alloc_region(s, 1000);
	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, empty), 0);
	pmemstream_entry_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, UINT64_MAX);
	pmemstream_entry_iterator_delete(&it);
	UT_ASSERTeq(pmemstream_region_free(s, empty), 0);
}

static void test_region_iterator(struct pmemstream *s)
{
	struct pmemstream_region_iterator *it = (void *)(uintptr_t)SENTINEL;

	UT_ASSERT_ERR(pmemstream_region_iterator_new(&it, NULL), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_iterator_new(NULL, s), -1, EINVAL);
	UT_ASSERTeq((uintptr_t)it, SENTINEL);

	UT_ASSERTeq(pmemstream_region_iterator_is_valid(NULL), -1);
	pmemstream_region_iterator_seek_first(NULL);
	pmemstream_region_iterator_next(NULL);
	UT_ASSERTeq(pmemstream_region_iterator_get(NULL).offset, UINT64_MAX);
	pmemstream_region_iterator_delete(NULL);

	UT_ASSERTeq(pmemstream_region_iterator_new(&it, s), 0);
	UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), -1);
	UT_ASSERTeq(pmemstream_region_iterator_get(it).offset, UINT64_MAX);
	/* next on an invalid iterator is a no-op */
	pmemstream_region_iterator_next(it);
	UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), -1);
	pmemstream_region_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), 0);
	UT_ASSERTeq(pmemstream_region_iterator_get(it).offset, 0);
	size_t n = 0;
	for (; pmemstream_region_iterator_is_valid(it) == 0; pmemstream_region_iterator_next(it))
		n++;
	UT_ASSERT(n >= 2);
	pmemstream_region_iterator_next(it);
	UT_ASSERTeq(pmemstream_region_iterator_get(it).offset, UINT64_MAX);
	pmemstream_region_iterator_delete(&it);
	UT_ASSERT(it == NULL);
}

static void test_free(struct pmemstream *s, struct pmemstream_region r)
{
	UT_ASSERT_ERR(pmemstream_region_free(NULL, r), -1, EINVAL);
	for (size_t i = 0; i < NBAD; i++) {
		struct pmemstream_region bad = {bad_offsets[i]};
		UT_ASSERT_ERR(pmemstream_region_free(s, bad), -1, EINVAL);
	}
	struct pmemstream_region_runtime *rt;
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, r, &rt), 0);
	UT_ASSERTeq(pmemstream_region_free(s, r), 0);
	/* double free, and everything on a freed region */
	UT_ASSERT_ERR(pmemstream_region_free(s, r), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_size(s, r), 0, EINVAL);
	UT_ASSERT_ERR(pmemstream_region_usable_size(s, r), 0, EINVAL);
	uint64_t v = 1;
	UT_ASSERT_ERR(pmemstream_append(s, r, NULL, &v, 8, NULL), -1, EINVAL);
	/* a stale runtime */
	UT_ASSERT_ERR(pmemstream_append(s, r, rt, &v, 8, NULL), -1, EINVAL);
	struct pmemstream_region_runtime *rt2 = (void *)(uintptr_t)SENTINEL;
	UT_ASSERT_ERR(pmemstream_region_runtime_initialize(s, r, &rt2), -1, EINVAL);
	UT_ASSERTeq((uintptr_t)rt2, SENTINEL);

	/* reallocated at the same offset (LIFO): the old runtime stays stale */
	struct pmemstream_region same;
	UT_ASSERTeq(pmemstream_region_allocate(s, 4096 - 64, &same), 0);
	UT_ASSERTeq(same.offset, r.offset);
	UT_ASSERT_ERR(pmemstream_append(s, same, rt, &v, 8, NULL), -1, EINVAL);
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, same, &rt2), 0);
	UT_ASSERT(rt2 != rt);
	UT_ASSERTeq(pmemstream_append(s, same, rt2, &v, 8, NULL), 0);

	/* every earlier handle stays stale, however often the region comes back */
	struct pmemstream_region_runtime *handles[200];
	handles[0] = rt2;
	for (size_t i = 1; i < sizeof(handles) / sizeof(handles[0]); i++) {
		UT_ASSERTeq(pmemstream_region_free(s, same), 0);
		UT_ASSERTeq(pmemstream_region_allocate(s, 4096 - 64, &same), 0);
		UT_ASSERTeq(same.offset, r.offset);
		UT_ASSERT_ERR(pmemstream_append(s, same, rt, &v, 8, NULL), -1, EINVAL);
		for (size_t k = 0; k < i; k++)
			UT_ASSERT_ERR(pmemstream_append(s, same, handles[k], &v, 8, NULL), -1,
				      EINVAL);
		UT_ASSERTeq(pmemstream_region_runtime_initialize(s, same, &handles[i]), 0);
		UT_ASSERTeq(pmemstream_append(s, same, handles[i], &v, 8, NULL), 0);
	}
}

/* A runtime handle is refused with any region but its own, also of another stream. */
static void test_foreign_runtime(struct pmemstream *s, struct pmemstream *other)
{
	struct pmemstream_region a, b, c;
	struct pmemstream_region_runtime *rt_a, *rt_c;
	UT_ASSERTeq(pmemstream_region_allocate(s, 4096 - 64, &a), 0);
	UT_ASSERTeq(pmemstream_region_allocate(s, 4096 - 64, &b), 0);
	UT_ASSERTeq(pmemstream_region_allocate(other, 4096 - 64, &c), 0);
	UT_ASSERTeq(pmemstream_region_runtime_initialize(s, a, &rt_a), 0);
	UT_ASSERTeq(pmemstream_region_runtime_initialize(other, c, &rt_c), 0);
	uint64_t v = 1;
	UT_ASSERT_ERR(pmemstream_append(s, b, rt_a, &v, 8, NULL), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_append(s, a, rt_c, &v, 8, NULL), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_append(other, c, rt_a, &v, 8, NULL), -1, EINVAL);
	UT_ASSERTeq(pmemstream_append(s, a, rt_a, &v, 8, NULL), 0);
	UT_ASSERTeq(pmemstream_append(other, c, rt_c, &v, 8, NULL), 0);
	UT_ASSERTeq(pmemstream_region_free(s, a), 0);
	UT_ASSERTeq(pmemstream_region_free(s, b), 0);
	UT_ASSERTeq(pmemstream_region_free(other, c), 0);
}

static void test_fill_stream(struct pmemstream *s)
{
	/* allocating until -1 terminates with ENOSPC */
	int n = 0;
	struct pmemstream_region r;
	while (pmemstream_region_allocate(s, 100000, &r) != -1)
		n++;
	UT_ASSERT(n > 10);
	UT_ASSERTeq(errno, ENOSPC);
}

int main(void)
{
	tm_create(&tm, "api", STREAM_SIZE);
	static const char *names[] = {"BYTE", "CACHE_LINE", "PAGE"};
	printf("store granularity: %s\n", names[pmem2_map_get_store_granularity(tm.map)]);
	test_from_map_errors();
	test_delete();
	test_errormsg();

	struct pmemstream *s = tm_stream(&tm, 4096);
	test_allocate(s);
	struct pmemstream_region r = {0}, other = {4096};
	test_region_getters(s, r);
	test_runtime_initialize(s, r);
	test_reserve_publish(s, r, other);
	test_append(s, r);
	test_async(s, r);
	struct pmemstream_region freed = alloc_region(s, 100);
	UT_ASSERTeq(pmemstream_region_free(s, freed), 0);
	test_entry_accessors(s, r, freed);
	test_entry_iterator(s, r);
	test_region_iterator(s);
	test_free(s, other);
	struct test_map tm2;
	tm_create(&tm2, "api2", 1 * MiB);
	struct pmemstream *s2 = tm_stream(&tm2, 4096);
	test_foreign_runtime(s, s2);
	pmemstream_delete(&s2);
	tm_destroy(&tm2);
	test_fill_stream(s);
	pmemstream_delete(&s);
	tm_destroy(&tm);
	return 0;
}
