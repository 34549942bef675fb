/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An asynchronous write whose copy is made by a mover that reports VDM_F_MEM_DURABLE
 * (spec §4.5). Such a copy is durable once it is in memory, which makes it durable in the
 * file only on a pmem mapping: on an msync platform the page still has to be written back.
 *
 *   blk_async_durable page  (PMEM2_FORCE_GRANULARITY=PAGE or PMEM_IS_PMEM_FORCE=0): the
 *                           data block is msync'ed before the flog update that commits it
 *   blk_async_durable pmem  (cache-line granularity): the mover is asked for a durable copy
 *
 * msync is interposed (the executable's definition wins over libc's for every library),
 * and the mover is miniasync's synchronous one with the capability added and its start
 * function wrapped to see the flags of each copy.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define PMEMBLK_USE_MINIASYNC 1
#include "blk_test.h"

#include <libminiasync.h>

#define BSIZE	 512
#define LBA	 10
#define MAX_LOG	 256
#define POOLSIZE (64 * MiB)

/* msync calls while Recording, in call order */
static atomic_bool Recording;
static atomic_size_t Nlog;
static struct {
	uintptr_t start, end;
} Log[MAX_LOG];

int msync(void *addr, size_t len, int flags)
{
	static int (*real)(void *, size_t, int);
	if (real == NULL)
		real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "msync");
	if (atomic_load(&Recording)) {
		size_t i = atomic_fetch_add(&Nlog, 1);
		UT_ASSERT(i < MAX_LOG);
		Log[i].start = (uintptr_t)addr;
		Log[i].end = (uintptr_t)addr + len;
	}
	return real(addr, len, flags);
}

/* flags of the last copy the mover was asked for */
static vdm_operation_start Real_start;
static atomic_ullong Copy_flags;

static int recording_start(void *data, const struct vdm_operation *op, struct future_notifier *n)
{
	if (op->type == VDM_OPERATION_MEMCPY)
		atomic_store(&Copy_flags, op->data.memcpy.flags);
	return Real_start(data, op, n);
}

static struct vdm *durable_mover(struct data_mover_sync *dms)
{
	struct vdm *vdm = data_mover_sync_get_vdm(dms);
	vdm->capabilities |= VDM_F_MEM_DURABLE;
	Real_start = vdm->op_start;
	vdm->op_start = recording_start;
	return vdm;
}

/* where the file's first page is mapped in this process */
static uintptr_t mapping_of(const char *path)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	UT_ASSERT(maps != NULL);
	char line[1024];
	uintptr_t base = 0;
	while (base == 0 && fgets(line, sizeof(line), maps) != NULL) {
		unsigned long start, offset;
		char file[512] = "";
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %511s", &start, &offset, file) == 3 &&
		    offset == 0 && strcmp(file, path) == 0)
			base = start;
	}
	fclose(maps);
	if (base == 0)
		UT_FATAL("%s is not mapped", path);
	return base;
}

static void write_async(PMEMblkpool *pbp, void *buf, long long lba)
{
	struct pmemblk_write_async_future fut = pmemblk_write_async(pbp, buf, lba);
	FUTURE_BUSY_POLL(&fut);
	UT_ASSERTeq(FUTURE_OUTPUT(&fut)->return_value, 0);
}

/* index of the first logged msync that covers [start, end), or -1 */
static long first_covering(uintptr_t start, uintptr_t end)
{
	for (size_t i = 0; i < atomic_load(&Nlog); i++)
		if (Log[i].start <= start && Log[i].end >= end)
			return (long)i;
	return -1;
}

/* index of the last logged msync that touches [start, end), or -1 */
static long last_touching(uintptr_t start, uintptr_t end)
{
	long last = -1;
	for (size_t i = 0; i < atomic_load(&Nlog); i++)
		if (Log[i].start < end && Log[i].end > start)
			last = (long)i;
	return last;
}

static void check_page(const char *path, PMEMblkpool *pbp, unsigned char *buf)
{
	atomic_store(&Nlog, 0);
	atomic_store(&Recording, true);
	write_async(pbp, buf, LBA);
	atomic_store(&Recording, false);
	UT_ASSERTeq(bt_read_value(pbp, LBA), buf[0]);

	/* the file shares its pages with the mapping: no need to close to read the layout */
	struct bt_arena a;
	bt_arena0(path, &a);
	uint32_t entry = bt_read_u32(path, a.map + 4ULL * LBA) & 0x3FFFFFFFU;
	uintptr_t base = mapping_of(path);
	uintptr_t data = base + a.data + (uint64_t)entry * a.internal_lbasize;
	/* the flog lies between the map and the backup info block */
	long commit = last_touching(base + a.flog, base + a.backup);
	long data_sync = first_covering(data, data + BSIZE);
	UT_ASSERT(commit >= 0);
	if (data_sync < 0)
		UT_FATAL("the data block of the write (file offset 0x%llx) was never msync'ed",
			 (unsigned long long)(data - base));
	if (data_sync > commit)
		UT_FATAL("the data block was msync'ed (call %ld) after the flog commit (call %ld)",
			 data_sync, commit);
}

static void check_pmem(PMEMblkpool *pbp, unsigned char *buf)
{
	atomic_store(&Copy_flags, 0);
	write_async(pbp, buf, LBA);
	UT_ASSERTeq(atomic_load(&Copy_flags) & VDM_F_MEM_DURABLE, VDM_F_MEM_DURABLE);
	UT_ASSERTeq(bt_read_value(pbp, LBA), buf[0]);
}

int main(int argc, char *argv[])
{
	if (argc != 2 || (strcmp(argv[1], "page") != 0 && strcmp(argv[1], "pmem") != 0))
		UT_FATAL("usage: %s page|pmem", argv[0]);
	bool page = strcmp(argv[1], "page") == 0;

	char path[512];
	bt_path(path, sizeof(path), "async_durable");
	unlink(path);
	struct data_mover_sync *dms = data_mover_sync_new();
	UT_ASSERT(dms != NULL);
	PMEMblkpool *pbp = pmemblk_xcreate(path, BSIZE, POOLSIZE, 0600, durable_mover(dms));
	if (pbp == NULL)
		UT_FATAL("xcreate: %s", pmemblk_errormsg());

	unsigned char buf[BSIZE];
	bt_fill(buf, BSIZE, 0x11);
	write_async(pbp, buf, LBA); /* lays the BTT out, so the write under test only commits */
	bt_fill(buf, BSIZE, 0x5a);
	if (page)
		check_page(path, pbp, buf);
	else
		check_pmem(pbp, buf);

	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(path, BSIZE), 1);
	unlink(path);
	data_mover_sync_delete(dms);
	return 0;
}
