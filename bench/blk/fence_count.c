/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for bench_blk: counts the persistence work of either library, so that the
 * benchmark can print fences and flushes per block operation (BENCH_FENCES=1 in run.sh).
 *
 * Ours persists through function pointers it fetches once from libpmem2 (pmem2_get_*_fn);
 * the shim hands out counting wrappers around the real ones. PMDK's libpmemblk calls libpmem
 * directly (pmem_persist, pmem_drain, pmem_memcpy_nodrain, ...); the shim wraps those calls.
 * A "fence" is every operation that ends with a drain (an SFENCE on x86): persist, drain,
 * *_persist, and pmem2 copies without NODRAIN/NOFLUSH.
 *
 * bench_blk finds blk_fence_counts() with dlsym() when the shim is loaded.
 */

#include <dlfcn.h>
#include <libpmem.h>
#include <libpmem2.h>
#include <stdatomic.h>
#include <stddef.h>

enum { FENCES, FLUSHES, FLUSHED_BYTES, COPIES, NCOUNTERS };

static _Atomic unsigned long long counters[NCOUNTERS];

void blk_fence_counts(unsigned long long out[4]);
void blk_fence_counts(unsigned long long out[4])
{
	for (int i = 0; i < NCOUNTERS; i++)
		out[i] = atomic_load(&counters[i]);
}

static void count(int which, unsigned long long n)
{
	atomic_fetch_add_explicit(&counters[which], n, memory_order_relaxed);
}

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* libpmem2: one real function of each kind per process (the bench maps a single pool) */

static pmem2_persist_fn real2_persist;
static pmem2_flush_fn real2_flush;
static pmem2_drain_fn real2_drain;
static pmem2_memcpy_fn real2_memcpy;
static pmem2_memmove_fn real2_memmove;
static pmem2_memset_fn real2_memset;

static void count_mem2(size_t len, unsigned flags)
{
	count(COPIES, 1);
	if (!(flags & PMEM2_F_MEM_NOFLUSH)) {
		count(FLUSHES, 1);
		count(FLUSHED_BYTES, len);
		if (!(flags & PMEM2_F_MEM_NODRAIN))
			count(FENCES, 1);
	}
}

static void wrap2_persist(const void *ptr, size_t size)
{
	count(FLUSHES, 1);
	count(FLUSHED_BYTES, size);
	count(FENCES, 1);
	real2_persist(ptr, size);
}

static void wrap2_flush(const void *ptr, size_t size)
{
	count(FLUSHES, 1);
	count(FLUSHED_BYTES, size);
	real2_flush(ptr, size);
}

static void wrap2_drain(void)
{
	count(FENCES, 1);
	real2_drain();
}

static void *wrap2_memcpy(void *dst, const void *src, size_t len, unsigned flags)
{
	count_mem2(len, flags);
	return real2_memcpy(dst, src, len, flags);
}

static void *wrap2_memmove(void *dst, const void *src, size_t len, unsigned flags)
{
	count_mem2(len, flags);
	return real2_memmove(dst, src, len, flags);
}

static void *wrap2_memset(void *dst, int c, size_t len, unsigned flags)
{
	count_mem2(len, flags);
	return real2_memset(dst, c, len, flags);
}

#define WRAP_GETTER(kind)                                                                         \
	pmem2_##kind##_fn pmem2_get_##kind##_fn(struct pmem2_map *map)                            \
	{                                                                                         \
		pmem2_##kind##_fn (*getter)(struct pmem2_map *) = next("pmem2_get_" #kind "_fn"); \
		real2_##kind = getter(map);                                                       \
		return wrap2_##kind;                                                              \
	}

WRAP_GETTER(persist)
WRAP_GETTER(flush)
WRAP_GETTER(drain)
WRAP_GETTER(memcpy)
WRAP_GETTER(memmove)
WRAP_GETTER(memset)

/* libpmem, as called by PMDK's libpmemblk */

void pmem_persist(const void *addr, size_t len)
{
	static void (*real)(const void *, size_t);
	if (real == NULL)
		real = next("pmem_persist");
	count(FLUSHES, 1);
	count(FLUSHED_BYTES, len);
	count(FENCES, 1);
	real(addr, len);
}

void pmem_drain(void)
{
	static void (*real)(void);
	if (real == NULL)
		real = next("pmem_drain");
	count(FENCES, 1);
	real();
}

void *pmem_memcpy_nodrain(void *dst, const void *src, size_t len)
{
	static void *(*real)(void *, const void *, size_t);
	if (real == NULL)
		real = next("pmem_memcpy_nodrain");
	count(COPIES, 1);
	count(FLUSHES, 1);
	count(FLUSHED_BYTES, len);
	return real(dst, src, len);
}

void *pmem_memset_persist(void *dst, int c, size_t len)
{
	static void *(*real)(void *, int, size_t);
	if (real == NULL)
		real = next("pmem_memset_persist");
	count(COPIES, 1);
	count(FLUSHES, 1);
	count(FLUSHED_BYTES, len);
	count(FENCES, 1);
	return real(dst, c, len);
}

int pmem_msync(const void *addr, size_t len)
{
	static int (*real)(const void *, size_t);
	if (real == NULL)
		real = next("pmem_msync");
	count(FLUSHES, 1);
	count(FLUSHED_BYTES, len);
	count(FENCES, 1);
	return real(addr, len);
}
