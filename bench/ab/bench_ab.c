/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two builds of one of our libraries, side by side in one process: for deciding whether a
 * change is faster on machines whose speed drifts by 2x within minutes. Both builds are
 * loaded with dlopen (each keeps its own symbols), each gets its own file in /dev/shm, and
 * the worker threads switch between them every slice, so that both see the same drift.
 *
 *	bench_ab stream SIZE THREADS same|own LIB_A LIB_B
 *		synchronous appends of SIZE bytes, all threads to one region or one each
 *	bench_ab stream-async SIZE THREADS own LIB_A LIB_B
 *		asynchronous appends on a threads mover with one worker, waited every 16;
 *		the mover and runtime come from the libminiasync of each library's build
 *		(../miniasync/libminiasync.so.0 next to its src/stream)
 *	bench_ab blk-write|blk-read BSIZE THREADS LIB_A LIB_B
 *		random blocks of a 1 GiB pool
 *
 * Prints ops/s of each and the ratio B/A. Run it twice with A and B swapped: the first
 * library loaded tends to run a little warmer. bench/ab/run.sh builds two revisions and
 * does both.
 */

#include <dlfcn.h>
#include <fcntl.h>
#include <libpmem2.h>
#include <libpmemblk.h>
#include <libminiasync.h>
#include <libpmemstream.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLICES	       60
#define SLICE_US       40000
#define MAX_THREADS    8
#define REGION_SIZE    (256ULL << 20)
#define BLK_POOL_SIZE  (1ULL << 30)
#define MAX_ENTRY_SIZE 8192
#define ASYNC_BATCH    16

enum workload { STREAM, STREAM_ASYNC, BLK_WRITE, BLK_READ };

struct stream_fns {
	__typeof__(pmemstream_from_map) *from_map;
	__typeof__(pmemstream_delete) *delete_stream;
	__typeof__(pmemstream_region_allocate) *region_allocate;
	__typeof__(pmemstream_region_free) *region_free;
	__typeof__(pmemstream_append) *append;
	/* stream-async only */
	__typeof__(pmemstream_async_append) *async_append;
	__typeof__(pmemstream_async_wait_persisted) *wait_persisted;
	__typeof__(pmemstream_entry_timestamp) *entry_timestamp;
	__typeof__(runtime_new) *runtime_new;
	__typeof__(runtime_delete) *runtime_delete;
	__typeof__(runtime_wait) *runtime_wait;
	__typeof__(data_mover_threads_new) *mover_new;
	__typeof__(data_mover_threads_get_vdm) *mover_vdm;
	__typeof__(data_mover_threads_delete) *mover_delete;
};

struct blk_fns {
	__typeof__(pmemblk_create) *create;
	__typeof__(pmemblk_close) *close;
	__typeof__(pmemblk_nblock) *nblock;
	__typeof__(pmemblk_read) *read;
	__typeof__(pmemblk_write) *write;
};

struct side {
	void *lib;
	void *miniasync; /* stream-async: the libminiasync of the same build */
	char path[64];
	struct stream_fns st;
	struct pmem2_map *map;
	struct pmemstream *stream;
	struct pmemstream_region regions[MAX_THREADS];
	unsigned generation[MAX_THREADS]; /* bumped by each refill of the region */
	struct data_mover_threads *mover;
	struct runtime *runtimes[MAX_THREADS];
	struct blk_fns bf;
	PMEMblkpool *pool;
	size_t nblock;
	atomic_ulong ops;
};

static enum workload Workload;
static size_t Size;
static unsigned Threads;
static int Own_regions;
static struct side Sides[2];
static atomic_int Current;
static atomic_int Stop;
static pthread_mutex_t Refill_lock = PTHREAD_MUTEX_INITIALIZER;

static bool stream_workload(void)
{
	return Workload == STREAM || Workload == STREAM_ASYNC;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_ab: %s\n", what);
	exit(1);
}

static void *symbol(void *lib, const char *name)
{
	void *p = dlsym(lib, name);
	if (p == NULL)
		die(dlerror());
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct pmem2_map *map_file(const char *path, size_t size)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		die("cannot create the stream file");
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, fd) ||
	    pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE) ||
	    pmem2_map_new(&map, cfg, src))
		die(pmem2_errormsg());
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
	close(fd);
	unlink(path);
	/* page faults would cost both sides alike, but their noise would hide small changes */
	memset(pmem2_map_get_address(map), 0, size);
	return map;
}

/* BUILD/src/stream/libpmemstream.so.0 -> BUILD/src/miniasync/libminiasync.so.0, loaded */
static void *open_sibling_miniasync(const char *stream_lib)
{
	char path[4096];
	const char *dir_end = strrchr(stream_lib, '/');
	int dir_len = dir_end == NULL ? 0 : (int)(dir_end - stream_lib);
	if (snprintf(path, sizeof(path), "%.*s/../miniasync/libminiasync.so.0", dir_len,
		     stream_lib) >= (int)sizeof(path))
		die("library path too long");
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		die(dlerror());
	return lib;
}

static void open_stream_side(struct side *s)
{
	s->st.from_map = symbol(s->lib, "pmemstream_from_map");
	s->st.delete_stream = symbol(s->lib, "pmemstream_delete");
	s->st.region_allocate = symbol(s->lib, "pmemstream_region_allocate");
	s->st.region_free = symbol(s->lib, "pmemstream_region_free");
	s->st.append = symbol(s->lib, "pmemstream_append");
	s->map = map_file(s->path, REGION_SIZE * Threads + (64ULL << 20));
	if (s->st.from_map(&s->stream, 4096, s->map))
		die("pmemstream_from_map");
	for (unsigned i = 0; i < Threads; i++)
		if (s->st.region_allocate(s->stream, REGION_SIZE, &s->regions[i]))
			die("pmemstream_region_allocate");
	if (Workload != STREAM_ASYNC)
		return;
	s->st.async_append = symbol(s->lib, "pmemstream_async_append");
	s->st.wait_persisted = symbol(s->lib, "pmemstream_async_wait_persisted");
	s->st.entry_timestamp = symbol(s->lib, "pmemstream_entry_timestamp");
	s->st.runtime_new = symbol(s->miniasync, "runtime_new");
	s->st.runtime_delete = symbol(s->miniasync, "runtime_delete");
	s->st.runtime_wait = symbol(s->miniasync, "runtime_wait");
	s->st.mover_new = symbol(s->miniasync, "data_mover_threads_new");
	s->st.mover_vdm = symbol(s->miniasync, "data_mover_threads_get_vdm");
	s->st.mover_delete = symbol(s->miniasync, "data_mover_threads_delete");
	s->mover = s->st.mover_new(1, 128, FUTURE_NOTIFIER_WAKER);
	if (s->mover == NULL)
		die("data_mover_threads_new");
	for (unsigned i = 0; i < Threads; i++)
		if ((s->runtimes[i] = s->st.runtime_new()) == NULL)
			die("runtime_new");
}

static void open_blk_side(struct side *s)
{
	s->bf.create = symbol(s->lib, "pmemblk_create");
	s->bf.close = symbol(s->lib, "pmemblk_close");
	s->bf.nblock = symbol(s->lib, "pmemblk_nblock");
	s->bf.read = symbol(s->lib, "pmemblk_read");
	s->bf.write = symbol(s->lib, "pmemblk_write");
	unlink(s->path);
	s->pool = s->bf.create(s->path, Size, BLK_POOL_SIZE, 0600);
	if (s->pool == NULL)
		die("pmemblk_create");
	s->nblock = s->bf.nblock(s->pool);
	/* every block written once, so that reads copy data */
	unsigned char *block = calloc(1, Size);
	if (block == NULL)
		die("out of memory");
	for (size_t b = 0; b < s->nblock; b++)
		if (s->bf.write(s->pool, block, (long long)b))
			die("pmemblk_write");
	free(block);
}

static void close_side(struct side *s)
{
	if (stream_workload()) {
		s->st.delete_stream(&s->stream); /* finishes the copies still running */
		if (Workload == STREAM_ASYNC) {
			s->st.mover_delete(s->mover);
			for (unsigned i = 0; i < Threads; i++)
				s->st.runtime_delete(s->runtimes[i]);
		}
		pmem2_map_delete(&s->map);
	} else {
		s->bf.close(s->pool);
		unlink(s->path);
	}
}

/*
 * An append to region slot i failed: it is full (or was just refilled by another thread, which
 * the generation it was read with tells). The first to get here frees and reallocates it.
 */
static void refill_region(struct side *s, unsigned i, unsigned generation)
{
	pthread_mutex_lock(&Refill_lock);
	if (__atomic_load_n(&s->generation[i], __ATOMIC_RELAXED) == generation) {
		struct pmemstream_region fresh;
		s->st.region_free(s->stream, s->regions[i]);
		if (s->st.region_allocate(s->stream, REGION_SIZE, &fresh))
			die("pmemstream_region_allocate");
		__atomic_store_n(&s->regions[i].offset, fresh.offset, __ATOMIC_RELAXED);
		__atomic_store_n(&s->generation[i], generation + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&Refill_lock);
}

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Up to ASYNC_BATCH appends to the thread's own region, then one wait; 0 if it was full. */
static unsigned async_batch(struct side *s, unsigned id, const unsigned char *buf)
{
	struct pmemstream_region r = {__atomic_load_n(&s->regions[id].offset, __ATOMIC_RELAXED)};
	struct vdm *vdm = s->st.mover_vdm(s->mover);
	struct pmemstream_entry last;
	unsigned issued = 0;
	while (issued < ASYNC_BATCH &&
	       s->st.async_append(s->stream, vdm, r, NULL, buf, Size, &last) == 0)
		issued++;
	if (issued > 0) {
		struct pmemstream_async_wait_fut fut =
			s->st.wait_persisted(s->stream, s->st.entry_timestamp(s->stream, last));
		s->st.runtime_wait(s->runtimes[id], FUTURE_AS_RUNNABLE(&fut));
		if (fut.output.error_code != 0)
			die("pmemstream_async_wait_persisted");
	}
	return issued;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	static _Thread_local unsigned char buf[MAX_ENTRY_SIZE];
	memset(buf, (int)id + 1, sizeof(buf));
	uint64_t rng = 0x9E3779B97F4A7C15ULL * (id + 1);
	while (!atomic_load_explicit(&Stop, memory_order_relaxed)) {
		struct side *s = &Sides[atomic_load_explicit(&Current, memory_order_relaxed)];
		int failed;
		if (Workload == STREAM_ASYNC) {
			/* the region is the thread's own and nothing of it is in flight now */
			unsigned generation = __atomic_load_n(&s->generation[id], __ATOMIC_ACQUIRE);
			unsigned done = async_batch(s, id, buf);
			if (done < ASYNC_BATCH)
				refill_region(s, id, generation);
			atomic_fetch_add_explicit(&s->ops, done, memory_order_relaxed);
			continue;
		}
		if (Workload == STREAM) {
			/* a stale region fails the append, and the generation tells so */
			unsigned i = Own_regions ? id : 0;
			unsigned generation = __atomic_load_n(&s->generation[i], __ATOMIC_ACQUIRE);
			struct pmemstream_region r = {
				__atomic_load_n(&s->regions[i].offset, __ATOMIC_RELAXED)};
			failed = s->st.append(s->stream, r, NULL, buf, Size, NULL);
			if (failed) {
				refill_region(s, i, generation);
				continue;
			}
		} else {
			long long b = (long long)(next_random(&rng) % s->nblock);
			failed = Workload == BLK_WRITE ? s->bf.write(s->pool, buf, b)
						       : s->bf.read(s->pool, buf, b);
			if (failed)
				die("block operation failed");
		}
		atomic_fetch_add_explicit(&s->ops, 1, memory_order_relaxed);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_ab stream SIZE THREADS same|own LIB_A LIB_B\n"
			"       bench_ab stream-async SIZE THREADS own LIB_A LIB_B\n"
			"       bench_ab blk-write|blk-read BSIZE THREADS LIB_A LIB_B\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	if (argc < 6)
		usage();
	int arg = 1;
	const char *name = argv[arg++];
	if (strcmp(name, "stream") == 0)
		Workload = STREAM;
	else if (strcmp(name, "stream-async") == 0)
		Workload = STREAM_ASYNC;
	else if (strcmp(name, "blk-write") == 0)
		Workload = BLK_WRITE;
	else if (strcmp(name, "blk-read") == 0)
		Workload = BLK_READ;
	else
		usage();
	Size = strtoull(argv[arg++], NULL, 0);
	Threads = (unsigned)strtoul(argv[arg++], NULL, 0);
	if (stream_workload()) {
		if (argc != 7)
			usage();
		Own_regions = strcmp(argv[arg++], "own") == 0;
		/* a region is refilled when full: only safe with nothing else in flight there */
		if (Workload == STREAM_ASYNC && !Own_regions)
			die("stream-async runs with own regions only");
		/* a failed append means a full region only if the entry fits an empty one */
		if (Size > MAX_ENTRY_SIZE)
			die("SIZE is at most 8192");
	} else if (argc != 6 || Size > MAX_ENTRY_SIZE) {
		usage();
	}
	if (Threads == 0 || Threads > MAX_THREADS)
		die("THREADS is 1 to 8");

	for (int i = 0; i < 2; i++) {
		struct side *s = &Sides[i];
		/* two files of one soname, loaded by path, are two libraries */
		s->lib = dlopen(argv[arg + i], RTLD_NOW | RTLD_LOCAL);
		if (s->lib == NULL)
			die(dlerror());
		if (Workload == STREAM_ASYNC)
			s->miniasync = open_sibling_miniasync(argv[arg + i]);
		snprintf(s->path, sizeof(s->path), "/dev/shm/bench_ab.%d.%d", (int)getpid(), i);
		if (stream_workload())
			open_stream_side(s);
		else
			open_blk_side(s);
	}

	pthread_t threads[MAX_THREADS];
	for (unsigned i = 0; i < Threads; i++)
		if (pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)i) != 0)
			die("pthread_create");
	double seconds[2] = {0, 0};
	for (int slice = 0; slice < SLICES; slice++) {
		int side = slice % 2;
		atomic_store(&Current, side);
		double start = now();
		usleep(SLICE_US);
		seconds[side] += now() - start;
	}
	atomic_store(&Stop, 1);
	for (unsigned i = 0; i < Threads; i++)
		pthread_join(threads[i], NULL);

	double rate[2];
	for (int i = 0; i < 2; i++) {
		rate[i] = (double)atomic_load(&Sides[i].ops) / seconds[i];
		close_side(&Sides[i]);
	}
	printf("%s %zu x%u%s: A %.3f M ops/s, B %.3f M ops/s, B/A %.3f\n", name, Size, Threads,
	       stream_workload() ? (Own_regions ? " own regions" : " one region") : "",
	       rate[0] / 1e6, rate[1] / 1e6, rate[1] / rate[0]);
	return 0;
}
