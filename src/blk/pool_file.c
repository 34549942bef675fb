/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/pool_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/util.h"

/* -1: libpmem2 decides; 0/1: PMEM_IS_PMEM_FORCE as libpmem honours it (1: x86-64 only) */
static int Forced_pmem = -1;

__attribute__((constructor)) static void pool_file_read_environment(void)
{
	const char *force = getenv("PMEM_IS_PMEM_FORCE");
	const char *pmem2_force = getenv("PMEM2_FORCE_GRANULARITY");
	/* libpmem2's own override wins; PMEM_IS_PMEM_FORCE is libpmem's equivalent */
	if (force == NULL || (pmem2_force != NULL && pmem2_force[0] != '\0'))
		return;
	if (strcmp(force, "1") == 0)
		Forced_pmem = 1;
	else if (strcmp(force, "0") == 0)
		Forced_pmem = 0;
}

int pool_file_lock(int fd, const char *path)
{
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		errmsg_set_errno(errno, "flock \"%s\"", path);
		return -1;
	}
	return 0;
}

static void set_pmem2_error(int ret, const char *what)
{
	/* libpmem2 returns -errno, or its own codes far below -4095 */
	int err = ret < 0 && ret > -4096 ? -ret : EINVAL;
	errmsg_set(err, "%s: %s", what, pmem2_errormsg());
}

/*
 * The library's own mapping of the file (when libpmem2's persistence is not what is asked
 * for), with the persistence functions that go with it.
 */
static int map_own(struct pool_file *pf, size_t len, int mmap_flags,
		   enum pmem2_granularity granularity, const struct pmem_ops *functions)
{
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, mmap_flags, pf->fd, 0);
	if (addr == MAP_FAILED) {
		errmsg_set_errno(errno, "mmap");
		return -1;
	}
	pf->own_mapping = addr;
	pf->granularity = granularity;
	pf->ops = *functions;
	pf->ops.base = addr;
	pf->ops.size = len;
	return 0;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/*
 * PMEM_IS_PMEM_FORCE=1 (x86-64): cache-line flushes and a store fence, as libpmem does,
 * with the best flush instruction the CPU has.
 */
__attribute__((target("clwb"))) static void flush_clwb(const void *ptr, size_t len)
{
	uintptr_t line = (uintptr_t)ptr & ~(uintptr_t)(CACHELINE_SIZE - 1);
	for (; line < (uintptr_t)ptr + len; line += CACHELINE_SIZE)
		_mm_clwb((void *)line);
}

__attribute__((target("clflushopt"))) static void flush_clflushopt(const void *ptr, size_t len)
{
	uintptr_t line = (uintptr_t)ptr & ~(uintptr_t)(CACHELINE_SIZE - 1);
	for (; line < (uintptr_t)ptr + len; line += CACHELINE_SIZE)
		_mm_clflushopt((void *)line);
}

static void flush_clflush(const void *ptr, size_t len)
{
	uintptr_t line = (uintptr_t)ptr & ~(uintptr_t)(CACHELINE_SIZE - 1);
	for (; line < (uintptr_t)ptr + len; line += CACHELINE_SIZE)
		_mm_clflush((void *)line);
}

static pmem2_flush_fn Forced_flush;

static void forced_drain(void)
{
	_mm_sfence();
}

static void forced_persist(const void *ptr, size_t len)
{
	Forced_flush(ptr, len);
	_mm_sfence();
}

/* Non-temporal stores past the caches for larger copies, as libpmem does. */
static void copy_nontemporal(char *dst, const char *src, size_t len)
{
	size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
	memcpy(dst, src, head);
	Forced_flush(dst, head);
	size_t off = head;
	for (; off + 16 <= len; off += 16)
		_mm_stream_si128((__m128i *)(void *)(dst + off),
				 _mm_loadu_si128((const __m128i *)(const void *)(src + off)));
	memcpy(dst + off, src + off, len - off);
	Forced_flush(dst + off, len - off);
}

static void *forced_memmove(void *dst, const void *src, size_t len, unsigned flags)
{
	bool overlap =
		(const char *)src < (char *)dst + len && (char *)dst < (const char *)src + len;
	if (len >= 256 && !overlap) {
		copy_nontemporal(dst, src, len);
	} else {
		memmove(dst, src, len);
		Forced_flush(dst, len);
	}
	if (!(flags & PMEM2_F_MEM_NODRAIN))
		_mm_sfence();
	return dst;
}

static void *forced_memset(void *dst, int c, size_t len, unsigned flags)
{
	memset(dst, c, len);
	Forced_flush(dst, len);
	if (!(flags & PMEM2_F_MEM_NODRAIN))
		_mm_sfence();
	return dst;
}

static int map_forced_pmem(struct pool_file *pf, size_t len)
{
	unsigned eax, ebx = 0, ecx, edx;
	__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
	if (ebx & (1U << 24))
		Forced_flush = flush_clwb;
	else if (ebx & (1U << 23))
		Forced_flush = flush_clflushopt;
	else
		Forced_flush = flush_clflush;

	const struct pmem_ops functions = {
		.persist = forced_persist,
		.flush = Forced_flush,
		.drain = forced_drain,
		.memcpy = forced_memmove,
		.memmove = forced_memmove,
		.memset = forced_memset,
	};
	return map_own(pf, len, MAP_SHARED, PMEM2_GRANULARITY_CACHE_LINE, &functions);
}
#endif

/* PMEM_IS_PMEM_FORCE=0: every persist is an msync() of the pages concerned. */
static void msync_flush(const void *ptr, size_t len)
{
	uintptr_t start = (uintptr_t)ptr & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)ptr + len + 4095) & ~(uintptr_t)4095;
	while (msync((void *)start, end - start, MS_SYNC) != 0 && errno == EINTR)
		;
}

static void msync_drain(void)
{
}

static void *msync_memmove(void *dst, const void *src, size_t len, unsigned flags)
{
	(void)flags;
	memmove(dst, src, len);
	msync_flush(dst, len);
	return dst;
}

static void *msync_memset(void *dst, int c, size_t len, unsigned flags)
{
	(void)flags;
	memset(dst, c, len);
	msync_flush(dst, len);
	return dst;
}

static int map_forced_nonpmem(struct pool_file *pf, size_t len)
{
	static const struct pmem_ops functions = {
		.persist = msync_flush,
		.flush = msync_flush,
		.drain = msync_drain,
		.memcpy = msync_memmove,
		.memmove = msync_memmove,
		.memset = msync_memset,
	};
	return map_own(pf, len, MAP_SHARED, PMEM2_GRANULARITY_PAGE, &functions);
}

/* A private mapping never reaches the file: plain CPU copies, no flushes. */
static void *private_memmove(void *dst, const void *src, size_t len, unsigned flags)
{
	(void)flags;
	return memmove(dst, src, len);
}

static void *private_memset(void *dst, int c, size_t len, unsigned flags)
{
	(void)flags;
	return memset(dst, c, len);
}

static void private_flush(const void *ptr, size_t len)
{
	(void)ptr;
	(void)len;
}

static void private_drain(void)
{
}

/*
 * Copy-on-write mapping (pmemblk_check, read-only pools, copy_on_write.at_open). It must
 * not reserve swap for the whole pool: a 1 TiB sparse pool could not be checked otherwise.
 */
static int map_private(struct pool_file *pf, size_t len)
{
	static const struct pmem_ops functions = {
		.persist = private_flush,
		.flush = private_flush,
		.drain = private_drain,
		.memcpy = private_memmove,
		.memmove = private_memmove,
		.memset = private_memset,
	};
	return map_own(pf, len, MAP_PRIVATE | MAP_NORESERVE, PMEM2_GRANULARITY_BYTE, &functions);
}

static int map_pmem2(struct pool_file *pf, size_t len)
{
	struct pmem2_config *cfg;
	int ret = pmem2_config_new(&cfg);
	if (ret != 0) {
		set_pmem2_error(ret, "pmem2_config_new");
		return -1;
	}
	/* PAGE accepts every file; the granularity actually reached picks the flush method */
	ret = pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	if (ret == 0)
		ret = pmem2_config_set_length(cfg, len);
	if (ret == 0)
		ret = pmem2_config_set_sharing(cfg, PMEM2_SHARED);
	if (ret == 0) {
		ret = pmem2_map_new(&pf->map, cfg, pf->src);
		if (ret != 0)
			set_pmem2_error(ret, "pmem2_map_new");
	} else {
		set_pmem2_error(ret, "pmem2_config");
	}
	pmem2_config_delete(&cfg);
	return ret == 0 ? 0 : -1;
}

/* libpmem2's mapping and persistence functions */
static int map_libpmem2(struct pool_file *pf, size_t len)
{
	int ret = pmem2_source_from_fd(&pf->src, pf->fd);
	if (ret != 0) {
		set_pmem2_error(ret, "pmem2_source_from_fd");
		return -1;
	}
	if (map_pmem2(pf, len) != 0) {
		pmem2_source_delete(&pf->src);
		return -1;
	}
	pf->granularity = pmem2_map_get_store_granularity(pf->map);
	pmem_ops_init(&pf->ops, pf->map);
	return 0;
}

int pool_file_map(struct pool_file *pf, size_t len, bool is_private)
{
	pf->is_private = is_private;
	pf->size = len;
	int ret;
	if (is_private)
		ret = map_private(pf, len);
	else if (Forced_pmem == 0)
		ret = map_forced_nonpmem(pf, len);
#if defined(__x86_64__)
	else if (Forced_pmem == 1)
		ret = map_forced_pmem(pf, len);
#endif
	else
		ret = map_libpmem2(pf, len);
	if (ret != 0)
		return -1;
	pf->base = pf->ops.base;
	return 0;
}

void pool_file_close(struct pool_file *pf)
{
	if (pf->map != NULL)
		pmem2_map_delete(&pf->map);
	if (pf->own_mapping != NULL) {
		munmap(pf->own_mapping, pf->size);
		pf->own_mapping = NULL;
	}
	if (pf->src != NULL)
		pmem2_source_delete(&pf->src);
	if (pf->fd >= 0) {
		close(pf->fd);
		pf->fd = -1;
	}
	pf->base = NULL;
}

/*
 * Calls visit() on each part of [off, off + len) that may hold data; holes of the file read
 * as zero and are skipped. visit() returns false to stop; so does this function then.
 */
static bool for_each_data_part(struct pool_file *pf, uint64_t off, uint64_t len,
			       bool (*visit)(struct pool_file *pf, uint64_t off, uint64_t len))
{
	uint64_t end = off + len;
	uint64_t pos = off;

	/*
	 * A private mapping may differ from the file, so the file's holes say nothing about
	 * it; the same if the file system cannot report holes.
	 */
	while (!pf->is_private && pos < end) {
		off_t data = lseek(pf->fd, (off_t)pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				return true; /* nothing but holes up to the end of the file */
			break;
		}
		if ((uint64_t)data >= end)
			return true;
		off_t hole = lseek(pf->fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		if (!visit(pf, (uint64_t)data, stop - (uint64_t)data))
			return false;
		pos = stop;
	}
	return pos >= end || visit(pf, pos, end - pos);
}

static bool zero_persist(struct pool_file *pf, uint64_t off, uint64_t len)
{
	pf->ops.memset(pf->base + off, 0, len, 0);
	return true;
}

int pool_file_zero_range(struct pool_file *pf, uint64_t off, uint64_t len)
{
	for_each_data_part(pf, off, len, zero_persist);
	return 0;
}

/* memcmp against itself shifted by one byte: as fast as memcmp, no zero buffer needed */
static bool reads_zero(struct pool_file *pf, uint64_t off, uint64_t len)
{
	const char *p = pf->base + off;
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

bool pool_file_range_is_zero(struct pool_file *pf, uint64_t off, uint64_t len)
{
	return for_each_data_part(pf, off, len, reads_zero);
}

void pool_file_prefault(struct pool_file *pf)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	for (size_t off = 0; off < pf->size; off += (size_t)page)
		(void)*(volatile char *)(pf->base + off);
}
