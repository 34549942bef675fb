/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Behaviour pinned by the spec (section 4) and the fixes of section 5: gap-free timestamps,
 * tailing iterators, LIFO reuse, publish with another size, exact fill, map size rules,
 * reopen round trips and refused reopen with other parameters.
 */

#include "stream_test.h"

static void collect_timestamps(struct pmemstream *s, uint64_t *out, size_t *n)
{
	struct pmemstream_region_iterator *rit;
	struct pmemstream_entry_iterator *eit;
	UT_ASSERTeq(pmemstream_region_iterator_new(&rit, s), 0);
	*n = 0;
	for (pmemstream_region_iterator_seek_first(rit);
	     pmemstream_region_iterator_is_valid(rit) == 0; pmemstream_region_iterator_next(rit)) {
		UT_ASSERTeq(
			pmemstream_entry_iterator_new(&eit, s, pmemstream_region_iterator_get(rit)),
			0);
		for (pmemstream_entry_iterator_seek_first(eit);
		     pmemstream_entry_iterator_is_valid(eit) == 0;
		     pmemstream_entry_iterator_next(eit))
			out[(*n)++] =
				pmemstream_entry_timestamp(s, pmemstream_entry_iterator_get(eit));
		pmemstream_entry_iterator_delete(&eit);
	}
	pmemstream_region_iterator_delete(&rit);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_gap_free_timestamps(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-ts", 1 * MiB);
	struct pmemstream *s = tm_stream(&tm, 4096);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), 0);
	UT_ASSERTeq(pmemstream_persisted_timestamp(s), 0);

	struct pmemstream_region r[3];
	for (int i = 0; i < 3; i++)
		r[i] = alloc_region(s, 4096);
	uint64_t expected = 0;
	for (int i = 0; i < 60; i++) {
		struct pmemstream_entry e = append_u64(s, r[i % 3], (uint64_t)i);
		expected++;
		UT_ASSERTeq(pmemstream_entry_timestamp(s, e), expected);
		UT_ASSERTeq(pmemstream_committed_timestamp(s), expected);
		UT_ASSERTeq(pmemstream_persisted_timestamp(s), expected);
		/* a failed append consumes nothing */
		char big[8192];
		UT_ASSERT_ERR(pmemstream_append(s, r[i % 3], NULL, big, sizeof(big), NULL), -1,
			      ENOSPC);
		/* neither does a reservation */
		struct pmemstream_entry re;
		void *d;
		if (i % 10 == 0) {
			UT_ASSERTeq(pmemstream_reserve(s, r[(i + 1) % 3], NULL, 8, &re, &d), 0);
			memcpy(d, &i, sizeof(i));
			UT_ASSERTeq(pmemstream_committed_timestamp(s), expected);
			UT_ASSERTeq(pmemstream_publish(s, r[(i + 1) % 3], NULL, re, 8), 0);
			expected++;
			UT_ASSERTeq(pmemstream_entry_timestamp(s, re), expected);
		}
	}
	uint64_t ts[256];
	size_t n;
	collect_timestamps(s, ts, &n);
	UT_ASSERTeq(n, expected);
	qsort(ts, n, sizeof(ts[0]), cmp_u64);
	for (size_t i = 0; i < n; i++)
		UT_ASSERTeq(ts[i], i + 1);

	/* reserve+publish by hand and append give identical timestamps and layouts */
	struct pmemstream_region a = alloc_region(s, 4096), b = alloc_region(s, 4096);
	for (uint64_t v = 0; v < 5; v++) {
		struct pmemstream_entry ea = append_u64(s, a, v), eb;
		void *d;
		UT_ASSERTeq(pmemstream_reserve(s, b, NULL, 8, &eb, &d), 0);
		memcpy(d, &v, 8);
		UT_ASSERTeq(pmemstream_publish(s, b, NULL, eb, 8), 0);
		UT_ASSERTeq(pmemstream_entry_timestamp(s, eb),
			    pmemstream_entry_timestamp(s, ea) + 1);
		UT_ASSERTeq(ea.offset - a.offset, eb.offset - b.offset);
	}
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_tailing_iterator(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-tail", 1 * MiB);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, 4096);
	struct pmemstream_entry_iterator *it;
	UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r), 0);

	/* programs loop seek_first on an empty region until something shows up */
	pmemstream_entry_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	struct pmemstream_entry e1 = append_u64(s, r, 1);
	while (pmemstream_entry_iterator_is_valid(it) != 0)
		pmemstream_entry_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, e1.offset);

	/* next moves to the tail and stays there */
	pmemstream_entry_iterator_next(it);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, UINT64_MAX);
	pmemstream_entry_iterator_next(it);
	pmemstream_entry_iterator_next(it);
	struct pmemstream_entry e2 = append_u64(s, r, 2);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), 0);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, e2.offset);
	UT_ASSERTeq(e2.offset, e1.offset + 24);

	/* entries appended asynchronously show up only once committed */
	struct data_mover_sync *dms = data_mover_sync_new();
	pmemstream_entry_iterator_next(it);
	uint64_t v = 3;
	struct pmemstream_entry e3;
	UT_ASSERTeq(pmemstream_async_append(s, data_mover_sync_get_vdm(dms), r, NULL, &v, 8, &e3),
		    0);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	struct pmemstream_async_wait_fut f =
		pmemstream_async_wait_committed(s, pmemstream_entry_timestamp(s, e3));
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), 0);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, e3.offset);
	data_mover_sync_delete(dms);

	/* an iterator of a freed region stays invalid, also after reallocation */
	UT_ASSERTeq(pmemstream_region_free(s, r), 0);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	UT_ASSERTeq(pmemstream_entry_iterator_get(it).offset, UINT64_MAX);
	struct pmemstream_region r2 = alloc_region(s, 4096);
	UT_ASSERTeq(r2.offset, r.offset);
	append_u64(s, r2, 4);
	append_u64(s, r2, 5);
	append_u64(s, r2, 6);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	pmemstream_entry_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_entry_iterator_is_valid(it), -1);
	pmemstream_entry_iterator_delete(&it);
	/* the reallocated region starts empty: stale entries are unreachable */
	UT_ASSERTeq(count_entries(s, r2), 3);
	UT_ASSERTeq(*(const uint64_t *)pmemstream_entry_data(
			    s, (struct pmemstream_entry){r2.offset + 64}),
		    4);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_lifo_reuse(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-lifo", 256 * KiB);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r[64];
	int n = 0;
	while (n < 64 && pmemstream_region_allocate(s, 4000, &r[n]) == 0)
		n++;
	UT_ASSERT(n > 10 && n < 64);
	UT_ASSERTeq(errno, ENOSPC);
	for (int i = 0; i < n; i++)
		UT_ASSERTeq(r[i].offset, (uint64_t)i * 4096);

	int order[] = {3, 7, 1, 9, 0};
	for (int i = 0; i < 5; i++)
		UT_ASSERTeq(pmemstream_region_free(s, r[order[i]]), 0);
	for (int i = 4; i >= 0; i--) {
		struct pmemstream_region got = alloc_region(s, 4000);
		UT_ASSERTeq(got.offset, r[order[i]].offset);
	}
	struct pmemstream_region none;
	UT_ASSERT_ERR(pmemstream_region_allocate(s, 4000, &none), -1, ENOSPC);

	/* region iteration is allocation order; a reallocated region appears at the end */
	struct pmemstream_region_iterator *it;
	UT_ASSERTeq(pmemstream_region_iterator_new(&it, s), 0);
	pmemstream_region_iterator_seek_first(it);
	for (int i = 0; i < n; i++) {
		int skip = 0;
		for (int j = 0; j < 5; j++)
			skip |= (i == order[j]);
		if (skip)
			continue;
		UT_ASSERTeq(pmemstream_region_iterator_get(it).offset, r[i].offset);
		pmemstream_region_iterator_next(it);
	}
	for (int i = 4; i >= 0; i--) {
		UT_ASSERTeq(pmemstream_region_iterator_get(it).offset, r[order[i]].offset);
		pmemstream_region_iterator_next(it);
	}
	UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), -1);
	pmemstream_region_iterator_delete(&it);
	pmemstream_delete(&s);

	/* LIFO survives a reopen */
	s = tm_stream(&tm, 4096);
	UT_ASSERTeq(pmemstream_region_free(s, r[5]), 0);
	UT_ASSERTeq(pmemstream_region_free(s, r[2]), 0);
	pmemstream_delete(&s);
	tm_reopen(&tm);
	s = tm_stream(&tm, 4096);
	UT_ASSERTeq(alloc_region(s, 4000).offset, r[2].offset);
	UT_ASSERTeq(alloc_region(s, 4000).offset, r[5].offset);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_mixed_sizes(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-sizes", 64 * KiB + 4096);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region small1 = alloc_region(s, 100);	      /* 4 KiB */
	struct pmemstream_region big = alloc_region(s, 3 * 4096);     /* 16 KiB */
	struct pmemstream_region small2 = alloc_region(s, 4096 - 64); /* 4 KiB */
	UT_ASSERTeq(pmemstream_region_size(s, small1), 4096 - 64);
	UT_ASSERTeq(pmemstream_region_size(s, big), 4 * 4096 - 64);
	UT_ASSERTeq(big.offset, 4096);
	UT_ASSERTeq(small2.offset, 5 * 4096);
	/* region_allocate(region_size(r)) yields the same total size */
	struct pmemstream_region again = alloc_region(s, pmemstream_region_size(s, big));
	UT_ASSERTeq(pmemstream_region_size(s, again), pmemstream_region_size(s, big));
	UT_ASSERTeq(pmemstream_region_free(s, again), 0);

	for (int i = 0; i < 10; i++)
		append_u64(s, big, (uint64_t)i);
	UT_ASSERTeq(pmemstream_region_free(s, small1), 0);
	UT_ASSERTeq(pmemstream_region_free(s, big), 0);
	/* the most recently freed is the big one, but a small request takes the small one */
	UT_ASSERTeq(alloc_region(s, 10).offset, small1.offset);
	struct pmemstream_region big2 = alloc_region(s, 4 * 4096 - 64);
	UT_ASSERTeq(big2.offset, big.offset);
	UT_ASSERTeq(count_entries(s, big2), 0);

	/* no exact size free and no room left: a larger free region is handed out whole */
	UT_ASSERTeq(pmemstream_region_free(s, big2), 0);
	struct pmemstream_region r;
	while (pmemstream_region_allocate(s, 8000, &r) == 0 && r.offset != big.offset)
		;
	UT_ASSERTeq(r.offset, big.offset);
	UT_ASSERTeq(pmemstream_region_size(s, r), 4 * 4096 - 64);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_publish_other_size(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-publish", 1 * MiB);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, 4096);
	size_t region_size = pmemstream_region_size(s, r);
	struct pmemstream_entry e;
	void *d;

	/* shrink */
	UT_ASSERTeq(pmemstream_reserve(s, r, NULL, 100, &e, &d), 0);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r), region_size - entry_total(100));
	memset(d, 0xab, 100);
	UT_ASSERTeq(pmemstream_publish(s, r, NULL, e, 10), 0);
	UT_ASSERTeq(pmemstream_entry_size(s, e), 10);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r), region_size - entry_total(10));
	struct pmemstream_entry next = append_u64(s, r, 5);
	UT_ASSERTeq(next.offset, e.offset + entry_total(10));

	/* grow, asynchronously */
	UT_ASSERTeq(pmemstream_reserve(s, r, NULL, 0, &e, &d), 0);
	uint64_t v = 77;
	memcpy(d, &v, 8);
	UT_ASSERTeq(pmemstream_async_publish(s, r, NULL, e, 8), 0);
	uint64_t ts = pmemstream_entry_timestamp(s, e);
	UT_ASSERT(ts != 0);
	struct pmemstream_async_wait_fut f = pmemstream_async_wait_persisted(s, ts);
	FUTURE_BUSY_POLL(&f);
	UT_ASSERTeq(pmemstream_entry_size(s, e), 8);
	UT_ASSERTeq(count_entries(s, r), 3);
	pmemstream_delete(&s);

	/* after reopen the entries are there and appends resume after them */
	tm_reopen(&tm);
	s = tm_stream(&tm, 4096);
	UT_ASSERTeq(count_entries(s, r), 3);
	struct pmemstream_entry after = append_u64(s, r, 9);
	UT_ASSERTeq(after.offset, e.offset + 24);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_exact_fill(size_t block, size_t total, uint64_t map_size)
{
	struct test_map tm;
	tm_create(&tm, "pins-fill", map_size);
	struct pmemstream *s = tm_stream(&tm, block);
	struct pmemstream_region a = alloc_region(s, total - 64);
	struct pmemstream_region b = alloc_region(s, total - 64);
	uint64_t marker = 0xfeedfacecafebeefULL;
	append_u64(s, b, marker);
	char *base = tm_base(&tm);
	uint64_t header_size = block < 256 ? (block == 64 ? 192 : 256) : block;
	char b_header[64];
	memcpy(b_header, base + header_size + b.offset, 64);

	/* entries then one that fills a exactly */
	size_t left = pmemstream_region_usable_size(s, a);
	UT_ASSERTeq(left, total - 64);
	char payload[total];
	memset(payload, 0x11, sizeof(payload));
	append_u64(s, a, 1);
	left -= 24;
	struct pmemstream_entry last;
	UT_ASSERTeq(pmemstream_append(s, a, NULL, payload, left - 16, &last), 0);
	UT_ASSERTeq(pmemstream_region_usable_size(s, a), 0);
	UT_ASSERT(memcmp(b_header, base + header_size + b.offset, 64) == 0);
	UT_ASSERT_ERR(pmemstream_append(s, a, NULL, payload, 0, NULL), -1, ENOSPC);
	UT_ASSERT_ERR(pmemstream_append(s, a, NULL, NULL, 0, NULL), -1, ENOSPC);
	UT_ASSERTeq(count_entries(s, a), 2);
	UT_ASSERTeq(count_entries(s, b), 1);

	/* the last region of the stream, filled exactly, leaves the bytes after it alone */
	struct pmemstream_region r;
	struct pmemstream_region lastr = {UINT64_MAX};
	while (pmemstream_region_allocate(s, total - 64, &r) == 0)
		lastr = r;
	UT_ASSERT(lastr.offset != UINT64_MAX);
	uint64_t end = header_size + lastr.offset + total;
	size_t tail_bytes = map_size - end;
	memset(base + end, 0x77, tail_bytes);
	UT_ASSERTeq(pmemstream_append(s, lastr, NULL, payload, total - 64 - 16, NULL), 0);
	for (size_t i = 0; i < tail_bytes; i++)
		UT_ASSERTeq((unsigned char)base[end + i], 0x77);

	pmemstream_delete(&s);

	tm_reopen(&tm);
	base = tm_base(&tm);
	s = tm_stream(&tm, block);
	UT_ASSERTeq(count_entries(s, a), 2);
	UT_ASSERTeq(count_entries(s, b), 1);
	UT_ASSERTeq(pmemstream_region_usable_size(s, a), 0);
	/* links and max_valid_timestamp changed since, legitimately; the size and type did not */
	UT_ASSERT(memcmp(b_header, base + header_size + b.offset, 8) == 0);
	UT_ASSERTeq(*(const uint64_t *)pmemstream_entry_data(
			    s, (struct pmemstream_entry){b.offset + 64}),
		    marker);
	UT_ASSERTeq(pmemstream_entry_size(s, last), left - 16);
	for (size_t i = 0; i < tail_bytes; i++)
		UT_ASSERTeq((unsigned char)base[end + i], 0x77);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_out_of_space(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-oos", 1 * MiB);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r = alloc_region(s, 4096 - 64);
	char payload[1000] = {0};
	while (pmemstream_append(s, r, NULL, payload, sizeof(payload), NULL) == 0)
		;
	UT_ASSERTeq(errno, ENOSPC);
	UT_ASSERT(pmemstream_region_usable_size(s, r) < entry_total(sizeof(payload)));
	UT_ASSERTeq(count_entries(s, r), 3);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_metadata_budget(void)
{
	/* stream metadata fits in 16 KiB plus block alignment; a region costs 64 bytes */
	size_t blocks[] = {64, 128, 256, 4096, 16384};
	for (size_t i = 0; i < 5; i++) {
		struct test_map tm;
		size_t b = blocks[i];
		tm_create(&tm, "pins-budget", 16 * KiB + 4 * b);
		struct pmemstream *s = tm_stream(&tm, b);
		struct pmemstream_region r = alloc_region(s, 4 * b - 64);
		UT_ASSERTeq(pmemstream_region_size(s, r), 4 * b - 64);
		pmemstream_delete(&s);
		tm_destroy(&tm);
	}
}

static void fill_known(struct pmemstream *s, struct pmemstream_region *r, int nregions)
{
	for (int i = 0; i < nregions; i++) {
		r[i] = alloc_region(s, 8192);
		for (uint64_t v = 0; v < 20; v++)
			append_u64(s, r[i], (uint64_t)i * 1000 + v);
	}
}

static void check_known(struct pmemstream *s, struct pmemstream_region *r, int nregions)
{
	for (int i = 0; i < nregions; i++) {
		struct pmemstream_entry_iterator *it;
		UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r[i]), 0);
		uint64_t v = 0;
		for (pmemstream_entry_iterator_seek_first(it);
		     pmemstream_entry_iterator_is_valid(it) == 0;
		     pmemstream_entry_iterator_next(it), v++) {
			struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
			UT_ASSERTeq(*(const uint64_t *)pmemstream_entry_data(s, e),
				    (uint64_t)i * 1000 + v);
		}
		UT_ASSERTeq(v, 20);
		pmemstream_entry_iterator_delete(&it);
	}
}

static void test_reopen(void)
{
	struct test_map tm;
	tm_create(&tm, "pins-reopen", 2 * MiB);
	struct pmemstream *s = tm_stream(&tm, 4096);
	struct pmemstream_region r[4];
	fill_known(s, r, 4);
	pmemstream_delete(&s);

	for (int round = 0; round < 3; round++) {
		tm_reopen(&tm);
		s = tm_stream(&tm, 4096);
		UT_ASSERTeq(pmemstream_committed_timestamp(s), 80);
		UT_ASSERTeq(pmemstream_persisted_timestamp(s), 80);
		check_known(s, r, 4);
		pmemstream_delete(&s);
	}
	s = tm_stream(&tm, 4096);
	struct pmemstream_region extra = alloc_region(s, 100);
	UT_ASSERTeq(pmemstream_entry_timestamp(s, append_u64(s, extra, 1)), 81);
	UT_ASSERTeq(pmemstream_region_free(s, extra), 0);
	pmemstream_delete(&s);

	/* other block size: refused, nothing wiped */
	struct pmemstream *bad = (struct pmemstream *)(uintptr_t)1;
	UT_ASSERT_ERR(pmemstream_from_map(&bad, 8192, tm.map), -1, EINVAL);
	UT_ASSERT_ERR(pmemstream_from_map(&bad, 64, tm.map), -1, EINVAL);
	UT_ASSERTeq((uintptr_t)bad, 1);
	/* resized file: refused, nothing wiped; back to the old size it opens */
	tm_resize(&tm, 4 * MiB);
	UT_ASSERT_ERR(pmemstream_from_map(&bad, 4096, tm.map), -1, EINVAL);
	tm_resize(&tm, 2 * MiB);
	s = tm_stream(&tm, 4096);
	check_known(s, r, 4);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), 81);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

int main(void)
{
	test_gap_free_timestamps();
	test_tailing_iterator();
	test_lifo_reuse();
	test_mixed_sizes();
	test_publish_other_size();
	test_exact_fill(4096, 4096, 64 * KiB + 4096 + 100);
	test_exact_fill(4096, 3 * 4096, 64 * KiB + 4096 + 4000);
	test_exact_fill(64, 128, 16 * KiB + 4096 + 48);
	test_exact_fill(64, 192, 16 * KiB + 4096);
	test_out_of_space();
	test_metadata_budget();
	test_reopen();
	return 0;
}
