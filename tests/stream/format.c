/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The on-media format of pmemstream 0.2.1, checked byte by byte with offsets written out here
 * (not taken from the library's headers), and recovery from states that a crash at any store
 * of the allocator or the append pipeline can leave (spec 3), built by editing the file.
 */

#include "stream_test.h"

#define INV	 UINT64_MAX
#define ENTRY_T	 (2ULL << 62)
#define REGION_T (3ULL << 62)

/* stream header fields, file offsets */
#define SH_STREAM_SIZE	 64
#define SH_BLOCK_SIZE	 72
#define SH_PERSISTED	 80
#define SH_FREE_HEAD	 88
#define SH_FREE_TAIL	 96
#define SH_ALLOC_HEAD	 104
#define SH_ALLOC_TAIL	 112
#define SH_FREE_OFFSET	 120
#define SH_SIZE		 128
#define SH_RECOVERY_FREE 136

/* region header fields, relative to the region */
#define RH_SIZE_TYPE  0
#define RH_NEXT_ALLOC 8
#define RH_NEXT_FREE  16
#define RH_MAX_VALID  24

struct view {
	char *base;
	uint64_t metadata; /* H */
};

static uint64_t *sh(struct view *v, uint64_t off)
{
	return (uint64_t *)(v->base + off);
}

/* a word at a data-relative offset */
static uint64_t *dw(struct view *v, uint64_t off)
{
	return (uint64_t *)(v->base + v->metadata + off);
}

static struct view view_of(struct test_map *tm, uint64_t metadata)
{
	struct view v = {tm_base(tm), metadata};
	return v;
}

static void test_new_stream_layout(size_t block, uint64_t metadata, uint64_t map_size)
{
	struct test_map tm;
	tm_create(&tm, "format-new", map_size);
	struct pmemstream *s = tm_stream(&tm, block);
	struct view v = view_of(&tm, metadata);
	uint64_t usable = (map_size - metadata) & ~(uint64_t)(block - 1);

	UT_ASSERT(memcmp(v.base, "PMEMSTREAM", 11) == 0);
	for (int i = 11; i < 64; i++)
		UT_ASSERTeq(v.base[i], 0);
	UT_ASSERTeq(*sh(&v, SH_STREAM_SIZE), map_size);
	UT_ASSERTeq(*sh(&v, SH_BLOCK_SIZE), block);
	UT_ASSERTeq(*sh(&v, SH_PERSISTED), 0);
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), INV);
	UT_ASSERTeq(*sh(&v, SH_FREE_TAIL), INV);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_HEAD), INV);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_TAIL), INV);
	UT_ASSERTeq(*sh(&v, SH_FREE_OFFSET), 0);
	UT_ASSERTeq(*sh(&v, SH_SIZE), usable);
	UT_ASSERTeq(*sh(&v, SH_RECOVERY_FREE), INV);

	/* region: T = ALIGN_UP(req + 64, B), 64-byte header */
	struct pmemstream_region r = alloc_region(s, 100);
	uint64_t total = (100 + 64 + block - 1) & ~(uint64_t)(block - 1);
	UT_ASSERTeq(r.offset, 0);
	UT_ASSERTeq(*dw(&v, RH_SIZE_TYPE), (total - 64) | REGION_T);
	UT_ASSERTeq(*dw(&v, RH_NEXT_ALLOC), INV);
	UT_ASSERTeq(*dw(&v, RH_MAX_VALID), UINT64_MAX);
	for (int i = 32; i < 64; i += 8)
		UT_ASSERTeq(*dw(&v, (uint64_t)i), 0);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_HEAD), 0);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_TAIL), 0);
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), INV);
	UT_ASSERTeq(*sh(&v, SH_FREE_OFFSET), total);
	UT_ASSERTeq(pmemstream_region_size(s, r), total - 64);

	/* entries: 16-byte header, payload padded to 8, EMPTY after the last one */
	struct pmemstream_entry e1, e2;
	UT_ASSERTeq(pmemstream_append(s, r, NULL, "abcdefgh", 8, &e1), 0);
	UT_ASSERTeq(pmemstream_append(s, r, NULL, "0123456789abc", 13, &e2), 0);
	UT_ASSERTeq(e1.offset, 64);
	UT_ASSERTeq(e2.offset, 64 + 24);
	UT_ASSERTeq(*dw(&v, 64), 8 | ENTRY_T);
	UT_ASSERTeq(*dw(&v, 72), 1);
	UT_ASSERT(memcmp(dw(&v, 80), "abcdefgh", 8) == 0);
	UT_ASSERTeq(*dw(&v, 88), 13 | ENTRY_T);
	UT_ASSERTeq(*dw(&v, 96), 2);
	UT_ASSERT(memcmp(dw(&v, 104), "0123456789abc", 13) == 0);
	UT_ASSERTeq(*dw(&v, 88 + 32), 0);
	UT_ASSERTeq(*sh(&v, SH_PERSISTED), 2);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r), total - 64 - 24 - 32);

	/* second region follows; allocated list links */
	struct pmemstream_region r2 = alloc_region(s, 1);
	UT_ASSERTeq(r2.offset, total);
	UT_ASSERTeq(*dw(&v, RH_NEXT_ALLOC), total);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_TAIL), total);

	/* free: to the free-list head, header untouched */
	UT_ASSERTeq(pmemstream_region_free(s, r), 0);
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), 0);
	UT_ASSERTeq(*sh(&v, SH_FREE_TAIL), 0);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_HEAD), total);
	UT_ASSERTeq(*sh(&v, SH_RECOVERY_FREE), INV);
	UT_ASSERTeq(*dw(&v, RH_SIZE_TYPE), (total - 64) | REGION_T);
	pmemstream_delete(&s);

	/* reopen: allocated regions get the recovery bound W until written again */
	tm_reopen(&tm);
	v = view_of(&tm, metadata);
	s = tm_stream(&tm, block);
	UT_ASSERTeq(*dw(&v, total + RH_MAX_VALID), 2);
	append_u64(s, r2, 5);
	UT_ASSERTeq(*dw(&v, total + RH_MAX_VALID), UINT64_MAX);
	UT_ASSERTeq(*dw(&v, total + 64 + 8), 3);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

/* Three allocated regions A, B, C of one block each, with entries; the stream closed. */
#define BLK 4096
#define A   0
#define B   4096
#define C   8192

static void make_abc(struct test_map *tm, const char *tag)
{
	tm_create(tm, tag, 64 * KiB + BLK);
	struct pmemstream *s = tm_stream(tm, BLK);
	for (uint64_t i = 0; i < 3; i++) {
		struct pmemstream_region r = alloc_region(s, BLK - 64);
		UT_ASSERTeq(r.offset, i * BLK);
		for (uint64_t k = 0; k < 3; k++)
			append_u64(s, r, i * 100 + k);
	}
	pmemstream_delete(&s);
}

static void expect_regions(struct pmemstream *s, const uint64_t *offsets, size_t n)
{
	struct pmemstream_region_iterator *it;
	UT_ASSERTeq(pmemstream_region_iterator_new(&it, s), 0);
	pmemstream_region_iterator_seek_first(it);
	for (size_t i = 0; i < n; i++) {
		UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), 0);
		UT_ASSERTeq(pmemstream_region_iterator_get(it).offset, offsets[i]);
		pmemstream_region_iterator_next(it);
	}
	UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), -1);
	pmemstream_region_iterator_delete(&it);
}

static void test_carve_redo(void)
{
	struct test_map tm;
	make_abc(&tm, "format-carve");
	struct view v = view_of(&tm, BLK);
	/* crash after the new region was pushed on the free list, before free_offset moved */
	uint64_t d = 3 * BLK;
	*dw(&v, d + RH_SIZE_TYPE) = (BLK - 64) | REGION_T;
	*dw(&v, d + RH_NEXT_ALLOC) = INV;
	*dw(&v, d + RH_NEXT_FREE) = INV;
	*dw(&v, d + RH_MAX_VALID) = 0;
	*sh(&v, SH_FREE_TAIL) = d;
	*sh(&v, SH_FREE_HEAD) = d;
	UT_ASSERTeq(*sh(&v, SH_FREE_OFFSET), d);

	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(*sh(&v, SH_FREE_OFFSET), d + BLK);
	/* the region is free (taken first, LIFO) and never carved twice */
	UT_ASSERTeq(alloc_region(s, BLK - 64).offset, d);
	UT_ASSERTeq(alloc_region(s, BLK - 64).offset, d + BLK);
	uint64_t order[] = {A, B, C, d, d + BLK};
	expect_regions(s, order, 5);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_interrupted_allocation(void)
{
	struct test_map tm;
	make_abc(&tm, "format-alloc");
	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(pmemstream_region_free(s, (struct pmemstream_region){B}), 0);
	pmemstream_delete(&s);

	/* reallocation of B stopped after it was put on the allocated tail */
	struct view v = view_of(&tm, BLK);
	*dw(&v, B + RH_MAX_VALID) = UINT64_MAX;
	*dw(&v, B + 64) = 0;
	*dw(&v, B + 72) = 0;
	*dw(&v, B + RH_NEXT_ALLOC) = INV;
	*dw(&v, C + RH_NEXT_ALLOC) = B;
	*sh(&v, SH_ALLOC_TAIL) = B;
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), B);

	s = tm_stream(&tm, BLK);
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), INV);
	UT_ASSERTeq(*sh(&v, SH_FREE_TAIL), INV);
	uint64_t order[] = {A, C, B};
	expect_regions(s, order, 3);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){B}), 0);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){C}), 3);
	UT_ASSERTeq(alloc_region(s, 1).offset, 3 * BLK);
	pmemstream_delete(&s);

	/* the tail was linked but not moved: the fix-up advances it */
	tm_destroy(&tm);
	make_abc(&tm, "format-alloc2");
	v = view_of(&tm, BLK);
	s = tm_stream(&tm, BLK);
	UT_ASSERTeq(pmemstream_region_free(s, (struct pmemstream_region){A}), 0);
	pmemstream_delete(&s);
	*dw(&v, A + RH_MAX_VALID) = UINT64_MAX;
	*dw(&v, A + 64) = 0;
	*dw(&v, A + RH_NEXT_ALLOC) = INV;
	*dw(&v, C + RH_NEXT_ALLOC) = A;
	s = tm_stream(&tm, BLK);
	uint64_t order2[] = {B, C, A};
	expect_regions(s, order2, 3);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_TAIL), A);
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), INV);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_interrupted_free(int stage)
{
	struct test_map tm;
	make_abc(&tm, "format-free");
	struct view v = view_of(&tm, BLK);
	uint64_t victim = stage == 2 ? C : B;

	*sh(&v, SH_RECOVERY_FREE) = victim;
	if (stage >= 1) {
		/* pushed on the free list */
		*dw(&v, victim + RH_NEXT_FREE) = INV;
		*sh(&v, SH_FREE_TAIL) = victim;
		*sh(&v, SH_FREE_HEAD) = victim;
	}
	if (stage == 2) {
		/* removing the allocated tail: tail moved back, link not cleared yet */
		*sh(&v, SH_ALLOC_TAIL) = B;
	}
	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(*sh(&v, SH_RECOVERY_FREE), INV);
	uint64_t remaining[2];
	size_t n = 0;
	for (uint64_t r = A; r <= C; r += BLK)
		if (r != victim)
			remaining[n++] = r;
	expect_regions(s, remaining, 2);
	UT_ASSERTeq(*sh(&v, SH_ALLOC_TAIL), remaining[1]);
	UT_ASSERTeq(*dw(&v, remaining[1] + RH_NEXT_ALLOC), INV);
	UT_ASSERT_ERR(pmemstream_region_free(s, (struct pmemstream_region){victim}), -1, EINVAL);
	/* and it is reused first */
	UT_ASSERTeq(alloc_region(s, BLK - 64).offset, victim);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_half_initialised_list(void)
{
	struct test_map tm;
	make_abc(&tm, "format-list");
	struct view v = view_of(&tm, BLK);
	/* a push onto the empty free list stopped after the tail store */
	*sh(&v, SH_FREE_TAIL) = C + BLK;
	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(*sh(&v, SH_FREE_TAIL), INV);
	UT_ASSERTeq(*sh(&v, SH_FREE_HEAD), INV);
	uint64_t order[] = {A, B, C};
	expect_regions(s, order, 3);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void expect_corrupt(struct test_map *tm)
{
	struct pmemstream *s = (struct pmemstream *)(uintptr_t)1;
	UT_ASSERT_ERR(pmemstream_from_map(&s, BLK, tm->map), -1, EUCLEAN);
	UT_ASSERTeq((uintptr_t)s, 1);
}

static void test_corruption(void)
{
	struct test_map tm;
	struct view v;
	uint64_t saved;

	make_abc(&tm, "format-corrupt");
	v = view_of(&tm, BLK);

	saved = *sh(&v, SH_SIZE);
	*sh(&v, SH_SIZE) = saved + BLK;
	expect_corrupt(&tm);
	*sh(&v, SH_SIZE) = saved;

	saved = *sh(&v, SH_FREE_OFFSET);
	*sh(&v, SH_FREE_OFFSET) = 1ULL << 40;
	expect_corrupt(&tm);
	*sh(&v, SH_FREE_OFFSET) = saved;

	/* a cycle in the allocated list */
	*dw(&v, B + RH_NEXT_ALLOC) = A;
	expect_corrupt(&tm);
	*dw(&v, B + RH_NEXT_ALLOC) = C;

	/* a listed region without a region header */
	saved = *dw(&v, B + RH_SIZE_TYPE);
	*dw(&v, B + RH_SIZE_TYPE) = 8 | ENTRY_T;
	expect_corrupt(&tm);
	/* or one that overlaps the next */
	*dw(&v, B + RH_SIZE_TYPE) = (2 * BLK - 64) | REGION_T;
	expect_corrupt(&tm);
	*dw(&v, B + RH_SIZE_TYPE) = saved;

	/* untouched metadata opens again, with all the data */
	struct pmemstream *s = tm_stream(&tm, BLK);
	for (uint64_t r = A; r <= C; r += BLK)
		UT_ASSERTeq(count_entries(s, (struct pmemstream_region){r}), 3);
	pmemstream_delete(&s);

	/* a damaged signature means "no stream": a new one is created */
	v.base[9] = 'X';
	s = tm_stream(&tm, BLK);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), 0);
	struct pmemstream_region_iterator *it;
	UT_ASSERTeq(pmemstream_region_iterator_new(&it, s), 0);
	pmemstream_region_iterator_seek_first(it);
	UT_ASSERTeq(pmemstream_region_iterator_is_valid(it), -1);
	pmemstream_region_iterator_delete(&it);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

/*
 * pmemstream 0.2.1 wrote the terminator of an entry that filled its region exactly over the
 * next region's size_and_type (spec 5, defect 1). Such a file opens: the size follows from
 * where the next region (or the bump pointer) starts, and the header is restored on media.
 */
static void test_zeroed_region_header(void)
{
	const uint64_t header = (BLK - 64) | REGION_T;
	struct test_map tm;
	make_abc(&tm, "format-zeroed");
	struct view v = view_of(&tm, BLK);

	/* a region in the middle, then the last one (its end is the bump pointer) */
	uint64_t zeroed[] = {B, C};
	for (size_t z = 0; z < 2; z++) {
		*dw(&v, zeroed[z] + RH_SIZE_TYPE) = 0;
		struct pmemstream *s = tm_stream(&tm, BLK);
		UT_ASSERTeq(*dw(&v, zeroed[z] + RH_SIZE_TYPE), header);
		uint64_t order[] = {A, B, C};
		expect_regions(s, order, 3);
		for (uint64_t r = A; r <= C; r += BLK) {
			UT_ASSERTeq(pmemstream_region_size(s, (struct pmemstream_region){r}),
				    BLK - 64);
			UT_ASSERTeq(count_entries(s, (struct pmemstream_region){r}), 3);
		}
		pmemstream_delete(&s);
	}

	/* a free region: reused with its size */
	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(pmemstream_region_free(s, (struct pmemstream_region){B}), 0);
	pmemstream_delete(&s);
	*dw(&v, B + RH_SIZE_TYPE) = 0;
	s = tm_stream(&tm, BLK);
	UT_ASSERTeq(*dw(&v, B + RH_SIZE_TYPE), header);
	UT_ASSERTeq(alloc_region(s, BLK - 64).offset, B);
	pmemstream_delete(&s);

	/* the first region has no region before it whose entry could have zeroed it */
	*dw(&v, A + RH_SIZE_TYPE) = 0;
	expect_corrupt(&tm);
	UT_ASSERTeq(*dw(&v, A + RH_SIZE_TYPE), 0);
	*dw(&v, A + RH_SIZE_TYPE) = header;
	/* nor does a region whose predecessor does not end at it */
	*dw(&v, C + RH_SIZE_TYPE) = 0;
	*dw(&v, B + RH_SIZE_TYPE) = (BLK / 2 - 64) | REGION_T;
	expect_corrupt(&tm);
	UT_ASSERTeq(*dw(&v, C + RH_SIZE_TYPE), 0);
	tm_destroy(&tm);
}

static void test_torn_entries(void)
{
	struct test_map tm;
	make_abc(&tm, "format-torn");
	struct view v = view_of(&tm, BLK);
	UT_ASSERTeq(*sh(&v, SH_PERSISTED), 9);

	/* B: an entry whose header reached media but whose timestamp W never covered */
	uint64_t tail = B + 64 + 3 * 24;
	*dw(&v, tail) = 8 | ENTRY_T;
	*dw(&v, tail + 8) = 10;
	*dw(&v, tail + 16) = 0xdeadbeef;
	*dw(&v, tail + 24) = 8 | ENTRY_T; /* and more garbage after it */
	*dw(&v, tail + 32) = 3;
	/* C: entries above W in a region still marked open for writing */
	*dw(&v, C + 64 + 8) = 11;

	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(pmemstream_committed_timestamp(s), 9);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){B}), 3);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){C}), 0);
	UT_ASSERTeq(*dw(&v, C + RH_MAX_VALID), 9);
	/* appending reuses timestamp 10 at the torn position, after an EMPTY was made durable */
	struct pmemstream_entry e = append_u64(s, (struct pmemstream_region){B}, 1234);
	UT_ASSERTeq(e.offset, tail);
	UT_ASSERTeq(pmemstream_entry_timestamp(s, e), 10);
	UT_ASSERTeq(*dw(&v, tail + 24), 0);
	UT_ASSERTeq(*dw(&v, B + RH_MAX_VALID), UINT64_MAX);
	pmemstream_delete(&s);

	/* C keeps its bound across reopens while nobody writes there ... */
	s = tm_stream(&tm, BLK);
	UT_ASSERTeq(*dw(&v, C + RH_MAX_VALID), 9);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){B}), 4);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){C}), 0);
	/* ... timestamps 11+ do not resurrect the hidden entries of C */
	append_u64(s, (struct pmemstream_region){A}, 1);
	append_u64(s, (struct pmemstream_region){A}, 2);
	UT_ASSERT(pmemstream_committed_timestamp(s) >= 11);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){C}), 0);
	/* writing to C starts at its first slot */
	struct pmemstream_entry ec = append_u64(s, (struct pmemstream_region){C}, 3);
	UT_ASSERTeq(ec.offset, C + 64);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){C}), 1);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

static void test_entry_crossing_region_end(void)
{
	struct test_map tm;
	make_abc(&tm, "format-cross");
	struct view v = view_of(&tm, BLK);
	/* a corrupted size in the last entry of A */
	uint64_t last = A + 64 + 2 * 24;
	*dw(&v, last) = (BLK - 64) | ENTRY_T;
	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){A}), 2);
	UT_ASSERT_ERR(pmemstream_entry_data(s, (struct pmemstream_entry){last}), NULL, EINVAL);
	UT_ASSERTeq(append_u64(s, (struct pmemstream_region){A}, 7).offset, last);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){A}), 3);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){B}), 3);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

/* a damaged file with a timestamp repeated or going back within a region (fuzz finding S2) */
static void test_non_increasing_timestamps(void)
{
	struct test_map tm;
	make_abc(&tm, "format-dupts");
	struct view v = view_of(&tm, BLK);
	*dw(&v, A + 64 + 2 * 24 + 8) = 2; /* A: 1, 2, 2 */
	*dw(&v, B + 64 + 1 * 24 + 8) = 1; /* B: 4, 1, 6 */
	struct pmemstream *s = tm_stream(&tm, BLK);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){A}), 2);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){B}), 1);
	/* writing resumes where the valid data ends */
	UT_ASSERTeq(append_u64(s, (struct pmemstream_region){A}, 5).offset, A + 64 + 2 * 24);
	UT_ASSERTeq(append_u64(s, (struct pmemstream_region){B}, 5).offset, B + 64 + 1 * 24);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){A}), 3);
	UT_ASSERTeq(count_entries(s, (struct pmemstream_region){B}), 2);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

/*
 * A reservation published smaller than reserved leaves the user's bytes behind the entry;
 * appends after it must not take them for entries (the zeroed window ahead of the tail
 * may not be trusted across a reservation).
 */
static void test_reservation_leftovers(void)
{
	struct test_map tm;
	tm_create(&tm, "format-leftovers", 64 * KiB + BLK);
	struct pmemstream *s = tm_stream(&tm, BLK);
	struct pmemstream_region a = alloc_region(s, BLK - 64);
	struct pmemstream_region b = alloc_region(s, BLK - 64);
	append_u64(s, b, 1); /* the window ahead of b's tail is zeroed now */

	struct pmemstream_entry e;
	void *data;
	UT_ASSERTeq(pmemstream_reserve(s, b, NULL, 256, &e, &data), 0);
	uint64_t published = pmemstream_committed_timestamp(s) + 1;
	/* what looks like an entry right behind the next append, with a timestamp after it */
	uint64_t *fake = (uint64_t *)((char *)data + 2 * entry_total(8) - 16);
	fake[0] = 8 | ENTRY_T;
	fake[1] = published + 2;
	fake[2] = 0xbad;
	UT_ASSERTeq(pmemstream_publish(s, b, NULL, e, 8), 0);
	struct pmemstream_entry next = append_u64(s, b, 2);
	UT_ASSERTeq(next.offset, e.offset + entry_total(8));
	UT_ASSERTeq(pmemstream_entry_timestamp(s, next), published + 1);
	append_u64(s, a, 3); /* published + 2: the fake timestamp is committed now */
	UT_ASSERTeq(count_entries(s, b), 3);
	pmemstream_delete(&s);

	s = tm_stream(&tm, BLK);
	UT_ASSERTeq(count_entries(s, b), 3);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

/*
 * W is made durable by rewriting its whole header line from a DRAM image, and the list heads
 * and the free offset live in that line too: region changes between appends must reach the
 * image, or the next append would put the old list heads back on the media.
 */
static void test_watermark_line_keeps_allocator(void)
{
	struct test_map tm;
	tm_create(&tm, "format-wline", 64 * KiB + BLK);
	struct pmemstream *s = tm_stream(&tm, BLK);
	struct pmemstream_region a = alloc_region(s, BLK - 64);
	/* the second append raises W from the same thread: the whole-line path */
	append_u64(s, a, 1);
	append_u64(s, a, 2);
	struct pmemstream_region b = alloc_region(s, BLK - 64);
	struct pmemstream_region c = alloc_region(s, BLK - 64);
	UT_ASSERTeq(pmemstream_region_free(s, a), 0);
	append_u64(s, b, 3);
	append_u64(s, c, 4);
	pmemstream_delete(&s);

	tm_reopen(&tm);
	s = tm_stream(&tm, BLK);
	const uint64_t allocated[] = {B, C};
	expect_regions(s, allocated, 2);
	UT_ASSERTeq(count_entries(s, b), 1);
	UT_ASSERTeq(count_entries(s, c), 1);
	UT_ASSERTeq(pmemstream_persisted_timestamp(s), 4);
	/* the freed block is on the free list: reused before new space is carved */
	UT_ASSERTeq(alloc_region(s, BLK - 64).offset, A);
	pmemstream_delete(&s);
	tm_destroy(&tm);
}

/*
 * Big synchronous entries behind one of the same thread are written as whole lines, the
 * first one from a DRAM image of what precedes them and the last one ending in zeros: over
 * stale bytes, every entry must read back exactly, with an EMPTY word behind the last one,
 * at every alignment of the entry in its line and up to the region's end.
 */
static void test_streamed_entries_over_stale_bytes(void)
{
	struct test_map tm;
	tm_create(&tm, "format-streamed", 64 * KiB + 4 * BLK);
	struct pmemstream *s = tm_stream(&tm, BLK);
	struct pmemstream_region r = alloc_region(s, 4 * BLK - 64);
	struct pmemstream_entry first = append_u64(s, r, 1);
	/* the region is 4 blocks from its header on, the first entry right behind that */
	char *region_end = (char *)pmemstream_entry_data(s, first) - 16 - 64 + 4 * BLK;
	/* what a former use of the space could have left behind the zeroed window */
	char *stale = (char *)pmemstream_entry_data(s, first) + 8 + BLK;
	memset(stale, 0xee, (size_t)(region_end - stale));

	static const size_t lens[] = {256, 300, 777, 1000, 257, 263, 258, 2000};
	static unsigned char buf[2048];
	struct pmemstream_entry e[sizeof(lens) / sizeof(lens[0])];
	size_t n = sizeof(lens) / sizeof(lens[0]);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < lens[i]; j++)
			buf[j] = (unsigned char)(i * 37 + j);
		UT_ASSERTeq(pmemstream_append(s, r, NULL, buf, lens[i], &e[i]), 0);
		const uint64_t *behind = (const uint64_t *)(pmemstream_entry_data(s, e[i]) +
							    ((lens[i] + 7) & ~(size_t)7));
		UT_ASSERTeq(behind[0], 0);
		UT_ASSERTeq(behind[1], 0);
	}
	/* the rest of the region exactly: the last line is the region's */
	size_t left = pmemstream_region_usable_size(s, r);
	UT_ASSERT(left > 256 + 16);
	static unsigned char fill[4 * 4096];
	memset(fill, 0x5a, sizeof(fill));
	struct pmemstream_entry last;
	UT_ASSERTeq(pmemstream_append(s, r, NULL, fill, left - 16, &last), 0);
	UT_ASSERTeq(pmemstream_region_usable_size(s, r), 0);
	UT_ASSERTeq(pmemstream_entry_data(s, last) + left - 16, region_end);

	for (int pass = 0; pass < 2; pass++) {
		UT_ASSERTeq(count_entries(s, r), n + 2);
		for (size_t i = 0; i < n; i++) {
			const unsigned char *d =
				(const unsigned char *)pmemstream_entry_data(s, e[i]);
			UT_ASSERTeq(pmemstream_entry_length(s, e[i]), lens[i]);
			for (size_t j = 0; j < lens[i]; j++)
				UT_ASSERTeq(d[j], (unsigned char)(i * 37 + j));
		}
		UT_ASSERTeq(memcmp(pmemstream_entry_data(s, last), fill, left - 16), 0);
		pmemstream_delete(&s);
		if (pass == 0) {
			tm_reopen(&tm);
			s = tm_stream(&tm, BLK);
		}
	}
	tm_destroy(&tm);
}

int main(void)
{
	test_new_stream_layout(4096, 4096, 1 * MiB);
	test_new_stream_layout(64, 192, 64 * KiB);
	test_new_stream_layout(128, 256, 64 * KiB);
	test_new_stream_layout(16384, 16384, 1 * MiB + 100);
	test_carve_redo();
	test_interrupted_allocation();
	test_interrupted_free(0);
	test_interrupted_free(1);
	test_interrupted_free(2);
	test_half_initialised_list();
	test_corruption();
	test_zeroed_region_header();
	test_torn_entries();
	test_entry_crossing_region_end();
	test_non_increasing_timestamps();
	test_reservation_leftovers();
	test_watermark_line_keeps_allocator();
	test_streamed_entries_over_stale_bytes();
	return 0;
}
