/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpmemblk: a persistent-memory file used as an array of blocks, each updated
 * atomically through a Block Translation Table. API and on-media format of PMDK's
 * libpmemblk 1.1; define PMEMBLK_USE_MINIASYNC before including this header to get the
 * asynchronous extension of pmemblk_async(3), built on libminiasync futures.
 */

#ifndef LIBPMEMBLK_H
#define LIBPMEMBLK_H 1

#include <sys/types.h>

#ifdef PMEMBLK_USE_MINIASYNC
#include <libminiasync/vdm.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* opaque type, internal to libpmemblk */
typedef struct pmemblk PMEMblkpool;

#define PMEMBLK_MAJOR_VERSION 1
#define PMEMBLK_MINOR_VERSION 1

const char *pmemblk_check_version(unsigned major_required, unsigned minor_required);

/* Smallest pool: a 16 MiB BTT namespace after the pool header and descriptor pages. */
#if defined(__PPC64__)
#define PMEMBLK_MIN_POOL ((size_t)(1024 * 1024 * 16 + 128 * 1024))
#else
#define PMEMBLK_MIN_POOL ((size_t)(1024 * 1024 * 16 + 8 * 1024))
#endif

/* smallest file accepted on open */
#define PMEMBLK_MIN_PART ((size_t)(1024 * 1024 * 2))

/* smallest internal block; smaller block sizes are accepted and padded */
#define PMEMBLK_MIN_BLK ((size_t)512)

PMEMblkpool *pmemblk_open(const char *path, size_t bsize);
PMEMblkpool *pmemblk_create(const char *path, size_t bsize, size_t poolsize, mode_t mode);
int pmemblk_check(const char *path, size_t bsize);
void pmemblk_close(PMEMblkpool *pbp);

size_t pmemblk_bsize(PMEMblkpool *pbp);
size_t pmemblk_nblock(PMEMblkpool *pbp);
int pmemblk_read(PMEMblkpool *pbp, void *buf, long long blockno);
int pmemblk_write(PMEMblkpool *pbp, const void *buf, long long blockno);
int pmemblk_set_zero(PMEMblkpool *pbp, long long blockno);
int pmemblk_set_error(PMEMblkpool *pbp, long long blockno);

/* Replaces the allocator of the library's heap memory; NULL restores the libc function. */
void pmemblk_set_funcs(void *(*malloc_func)(size_t size), void (*free_func)(void *ptr),
		       void *(*realloc_func)(void *ptr, size_t size),
		       char *(*strdup_func)(const char *s));

const char *pmemblk_errormsg(void);

/* EXPERIMENTAL */
int pmemblk_ctl_get(PMEMblkpool *pbp, const char *name, void *arg);
int pmemblk_ctl_set(PMEMblkpool *pbp, const char *name, void *arg);
int pmemblk_ctl_exec(PMEMblkpool *pbp, const char *name, void *arg);

#ifdef PMEMBLK_USE_MINIASYNC

/*
 * Asynchronous API (pmemblk_async(3)). Only output.return_value is public contract;
 * the rest of each future is the library's working state and must not be touched.
 */

enum pmemblk_write_stages {
	PMEMBLK_WRITE_INITIALIZED = 0,
	PMEMBLK_WRITE_WAITING_FOR_LANE = 1,
	PMEMBLK_WRITE_IN_PROGRESS = 2,
	PMEMBLK_WRITE_COMPLETE = 20,
};

enum pmemblk_read_stages {
	PMEMBLK_READ_INITIALIZED = 0,
	PMEMBLK_READ_WAITING_FOR_LANE = 1,
	PMEMBLK_READ_IN_PROGRESS = 2,
	PMEMBLK_READ_COMPLETE = 20,
};

enum btt_write_stages {
	BTT_WRITE_INITIALIZED = 10,
	BTT_WRITE_WAITING_FOR_READS = 11,
	BTT_WRITE_IN_PROGRESS = 12,
};

enum btt_read_stages {
	BTT_READ_INITIALIZED = 10,
	BTT_READ_ZEROS = 11,
	BTT_READ_PREPARATION = 12,
	BTT_READ_IN_PROGRESS = 13,
};

struct btt_write_async_data {
	void *btt;
	void *arena; /* arena of the block being written */
	void *buf;
	unsigned long long lba; /* external block number */
	unsigned lane;
	unsigned premap_lba; /* block number inside the arena */
	unsigned free_entry; /* map entry the block gets: the lane's free block */
	int stage;	     /* enum btt_write_stages */
	int copy_started;    /* copy holds a data mover operation */
	int padding;
	struct vdm_operation_future copy;
};

struct btt_write_async_output {
	int return_value;
	int padding;
};

FUTURE(btt_write_async_future, struct btt_write_async_data, struct btt_write_async_output);

struct btt_read_async_data {
	void *btt;
	void *arena;
	void *buf;
	unsigned long long lba;
	unsigned lane;
	unsigned premap_lba;
	unsigned entry; /* map entry being copied, published in the read tracking table */
	int stage;	/* enum btt_read_stages */
	int copy_started;
	int padding;
	struct vdm_operation_future copy;
};

struct btt_read_async_output {
	int return_value;
	int padding;
};

FUTURE(btt_read_async_future, struct btt_read_async_data, struct btt_read_async_output);

/*
 * Every data struct has a size that is a multiple of 8 and holds nothing aligned beyond
 * 8, so that future_context_get_output() finds the output member where the compiler put it.
 */
struct pmemblk_write_async_data {
	PMEMblkpool *pbp;
	void *buf;
	long long blockno;
	int stage; /* enum pmemblk_write_stages */
	struct {
		struct btt_write_async_future btt_write_fut;
		unsigned lane;
	} internal;
};

struct pmemblk_write_async_output {
	int return_value; /* 0 on success, -1 with errno set in the completing thread */
};

FUTURE(pmemblk_write_async_future, struct pmemblk_write_async_data,
       struct pmemblk_write_async_output);

struct pmemblk_read_async_data {
	PMEMblkpool *pbp;
	void *buf;
	long long blockno;
	int stage; /* enum pmemblk_read_stages */
	struct {
		struct btt_read_async_future btt_read_fut;
		unsigned lane;
	} internal;
};

struct pmemblk_read_async_output {
	int return_value; /* 0 on success, -1 with errno set in the completing thread */
};

FUTURE(pmemblk_read_async_future, struct pmemblk_read_async_data, struct pmemblk_read_async_output);

/* Like pmemblk_create/pmemblk_open; asynchronous copies of this pool then run on vdm. */
PMEMblkpool *pmemblk_xcreate(const char *path, size_t bsize, size_t poolsize, mode_t mode,
			     struct vdm *vdm);
PMEMblkpool *pmemblk_xopen(const char *path, size_t bsize, struct vdm *vdm);

/* Only initialise a future: the work starts at its first future_poll(). */
struct pmemblk_write_async_future pmemblk_write_async(PMEMblkpool *pbp, void *buf,
						      long long blockno);
struct pmemblk_read_async_future pmemblk_read_async(PMEMblkpool *pbp, void *buf, long long blockno);

#endif /* PMEMBLK_USE_MINIASYNC */

#ifdef __cplusplus
}
#endif

#endif /* LIBPMEMBLK_H */
