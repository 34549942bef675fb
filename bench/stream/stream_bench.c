/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_stream: append throughput of libpmemstream next to PMDK's libpmemlog and next to
 * the raw cost of making the same bytes durable with libpmem2.
 *
 *	bench_stream [--duration S] [--sizes 64,1024,4096] [--dir /dev/shm] [--region-mib N]
 *		     [--mover-threads N] [--reps N] [--filter TEXT] [--no-baselines]
 *
 * --filter runs only the stream cells whose name contains TEXT (with the baselines, unless
 * --no-baselines, which is meant for profiling one cell).
 *
 * Every cell runs for a fixed time, split into --reps slices; the cells of one entry size
 * take turns slice by slice and each cell reports its best slice. A slice runs in rounds:
 * the threads append until the deadline or until their region (or the log) is full; then
 * one thread frees and re-allocates the regions (or rewinds the log) and the next round
 * starts. The files are created once, prefaulted, and reused by every cell, so page faults
 * are not measured; each stream slice starts with a new empty stream in that file.
 *
 * The environment is fixed by the program itself (it re-executes itself when needed, so
 * that library constructors see it too): PMEM2_FORCE_GRANULARITY=CACHE_LINE makes libpmem2
 * flush cache lines (no msync) and PMEM_IS_PMEM_FORCE=1 does the same for libpmem, which
 * libpmemlog uses. Both libraries then pay the same flush + fence per persist.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpmemlog.h>
#include <libpmemstream.h>

#include "raw_protocol.h"

#define BLOCK_SIZE    ((size_t)4096)
#define ASYNC_BATCH   16
#define CLOCK_EVERY   16 /* appends between two looks at the clock */
#define MAX_THREADS   2
#define MAX_SIZES     8
#define ENTRY_HEADER  16
#define REGION_HEADER 64
#define DEFAULT_SIZES          \
	{                      \
		64, 1024, 4096 \
	}
#define MAX_PAYLOAD_SIZE ((size_t)1 << 20)

enum workload {
	WL_LOG,		  /* pmemlog_append */
	WL_RAW,		  /* pmem2 memcpy + persist, sequential */
	WL_RAW_PROTOCOL,  /* the least a log append can do: entry persist, then watermark */
	WL_APPEND,	  /* pmemstream_append */
	WL_RESERVE,	  /* pmemstream_reserve + memcpy + pmemstream_publish */
	WL_ASYNC,	  /* pmemstream_async_append x16 on the threads mover, wait the last */
	WL_ASYNC_SYNCMVR, /* the same on the synchronous mover: the mover's own cost removed */
};

enum placement {
	ONE_THREAD,
	SAME_REGION, /* all threads append to one region (one log for libpmemlog) */
	OWN_REGIONS, /* one region per thread */
	OWN_STREAMS, /* one stream (file) per thread, one region in each */
};

struct cell_spec {
	const char *name;
	enum workload workload;
	int threads;
	enum placement placement;
};

static const struct cell_spec cells[] = {
	{"libpmemlog append", WL_LOG, 1, ONE_THREAD},
	{"raw pmem2 memcpy+persist", WL_RAW, 1, ONE_THREAD},
	{"raw entry+watermark (2 persists)", WL_RAW_PROTOCOL, 1, ONE_THREAD},
	{"stream append", WL_APPEND, 1, ONE_THREAD},
	{"stream reserve+publish", WL_RESERVE, 1, ONE_THREAD},
	{"stream async x16 (threads mover)", WL_ASYNC, 1, ONE_THREAD},
	{"stream async x16 (sync mover)", WL_ASYNC_SYNCMVR, 1, ONE_THREAD},
	{"libpmemlog append", WL_LOG, 2, SAME_REGION},
	{"raw pmem2 memcpy+persist, own areas", WL_RAW, 2, OWN_REGIONS},
	{"raw entry+W, own areas, shared W", WL_RAW_PROTOCOL, 2, OWN_REGIONS},
	{"stream append, same region", WL_APPEND, 2, SAME_REGION},
	{"stream append, own regions", WL_APPEND, 2, OWN_REGIONS},
	{"stream append, own streams", WL_APPEND, 2, OWN_STREAMS},
	{"stream reserve+publish, own regions", WL_RESERVE, 2, OWN_REGIONS},
	{"stream async x16, same region", WL_ASYNC, 2, SAME_REGION},
	{"stream async x16, own regions", WL_ASYNC, 2, OWN_REGIONS},
};
#define NCELLS (sizeof(cells) / sizeof(cells[0]))

struct options {
	double duration;
	size_t sizes[MAX_SIZES];
	int nsizes;
	const char *dir;
	size_t region_size; /* total bytes of one region, also the log pool and raw area */
	size_t mover_threads;
	const char *filter;
	bool no_baselines; /* for profiling one stream cell alone */
	int reps;	   /* the duration is split into this many interleaved slices */
};

/* A file mapped with libpmem2; unlinked at once, the mapping keeps it alive. */
struct mapped_file {
	int fd;
	struct pmem2_source *source;
	struct pmem2_config *config;
	struct pmem2_map *map;
};

/* Everything the cells share, created once. */
struct bench {
	struct options opt;
	/* the first holds a region per thread; the others one each, for OWN_STREAMS */
	struct mapped_file stream_files[MAX_THREADS];
	struct pmemstream *streams[MAX_THREADS];
	struct mapped_file raw_file;
	pmem2_memcpy_fn raw_memcpy;
	struct raw_log *raw_log;
	PMEMlogpool *log;
	struct data_mover_threads *threads_mover;
	struct data_mover_sync *sync_mover;
	unsigned char *payload;
};

struct result {
	bool ran;
	bool failed;
	double ops_per_s;
	double mb_per_s;
};

/* State of one running cell, shared by its worker threads. */
struct run {
	struct bench *bench;
	const struct cell_spec *spec;
	size_t size;
	double deadline;
	pthread_barrier_t barrier;
	bool stop;   /* written by the leader between the two barriers of a round */
	bool failed; /* any thread hit an unexpected error */
	int nregions;
	struct pmemstream *streams[MAX_THREADS]; /* the stream of each region */
	struct pmemstream_region regions[MAX_THREADS];
	struct pmemstream_region_runtime *runtimes[MAX_THREADS];
};

struct worker {
	pthread_t thread;
	struct run *run;
	int index;
	uint64_t ops;
	struct runtime *runtime;
	size_t raw_offset;
	struct raw_writer raw;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(struct run *run, const char *what)
{
	fprintf(stderr, "%s (%s, %zu B): %s: %s\n", run->spec->name,
		run->spec->placement == ONE_THREAD ? "1 thread" : "2 threads", run->size, what,
		pmemstream_errormsg());
	run->failed = true;
}

static int map_file(struct mapped_file *f, const char *path, size_t size)
{
	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (f->fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	unlink(path);
	if (ftruncate(f->fd, (off_t)size) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (pmem2_source_from_fd(&f->source, f->fd) || pmem2_config_new(&f->config) ||
	    pmem2_config_set_required_store_granularity(f->config, PMEM2_GRANULARITY_PAGE) ||
	    pmem2_map_new(&f->map, f->config, f->source)) {
		fprintf(stderr, "%s: %s\n", path, pmem2_errormsg());
		return -1;
	}
	/* fault every page in now, so that no cell pays for first touches */
	memset(pmem2_map_get_address(f->map), 0, size);
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->map)
		pmem2_map_delete(&f->map);
	if (f->config)
		pmem2_config_delete(&f->config);
	if (f->source)
		pmem2_source_delete(&f->source);
	if (f->fd > 0)
		close(f->fd);
}

/*
 * Every stream slice starts from a new, empty stream in the same (already faulted) file, so
 * that no cell inherits another's timestamps or operation-table state.
 */
static int stream_recreate(struct bench *b, int i)
{
	pmemstream_delete(&b->streams[i]);
	/* without its signature the file is initialised again by pmemstream_from_map */
	char *base = pmem2_map_get_address(b->stream_files[i].map);
	pmem2_get_memset_fn(b->stream_files[i].map)(base, 0, BLOCK_SIZE, 0);
	if (pmemstream_from_map(&b->streams[i], BLOCK_SIZE, b->stream_files[i].map) != 0) {
		fprintf(stderr, "pmemstream_from_map: %s\n", pmemstream_errormsg());
		return -1;
	}
	return 0;
}

/* ----- regions ----- */

static bool region_per_thread(enum placement p)
{
	return p == OWN_REGIONS || p == OWN_STREAMS;
}

static size_t region_request(const struct bench *b)
{
	return b->opt.region_size - REGION_HEADER;
}

static int regions_allocate(struct run *run)
{
	for (int i = 0; i < run->nregions; i++) {
		struct pmemstream *s = run->streams[i];
		if (pmemstream_region_allocate(s, region_request(run->bench), &run->regions[i]) ||
		    pmemstream_region_runtime_initialize(s, run->regions[i], &run->runtimes[i])) {
			fail(run, "region allocate");
			return -1;
		}
	}
	return 0;
}

static int regions_free(struct run *run)
{
	for (int i = 0; i < run->nregions; i++) {
		if (pmemstream_region_free(run->streams[i], run->regions[i]) != 0) {
			fail(run, "region free");
			return -1;
		}
	}
	return 0;
}

/* An append failed: a full region ends the round, anything else the cell. */
static bool region_full(struct run *run, int region)
{
	if (errno == ENOSPC)
		return true;
	size_t usable = pmemstream_region_usable_size(run->streams[region], run->regions[region]);
	return usable < ENTRY_HEADER + run->size;
}

/* ----- one round of each workload: append until the deadline or until full ----- */

/* the index of the region (and its stream) a worker appends to */
static int region_of(const struct worker *w)
{
	return region_per_thread(w->run->spec->placement) ? w->index : 0;
}

static void round_log(struct worker *w)
{
	struct run *run = w->run;
	for (;;) {
		for (int i = 0; i < CLOCK_EVERY; i++) {
			if (pmemlog_append(run->bench->log, run->bench->payload, run->size) != 0) {
				if (errno != ENOSPC) {
					fprintf(stderr, "pmemlog_append: %s\n", pmemlog_errormsg());
					run->failed = true;
				}
				return;
			}
			w->ops++;
		}
		if (now_s() >= run->deadline)
			return;
	}
}

static void round_raw(struct worker *w)
{
	struct run *run = w->run;
	struct bench *b = run->bench;
	/* with several threads each one writes its own part of the file */
	size_t area = pmem2_map_get_size(b->raw_file.map) / (size_t)run->spec->threads;
	char *base = (char *)pmem2_map_get_address(b->raw_file.map) + (size_t)w->index * area;
	for (;;) {
		for (int i = 0; i < CLOCK_EVERY; i++) {
			if (w->raw_offset + run->size > area)
				w->raw_offset = 0;
			/* flags 0: copy, flush what was written, fence -- one persist per op */
			b->raw_memcpy(base + w->raw_offset, b->payload, run->size, 0);
			w->raw_offset += (run->size + 7) & ~(size_t)7;
			w->ops++;
		}
		if (now_s() >= run->deadline)
			return;
	}
}

/* The least a synchronous append can do (raw_protocol.h), each thread in its own area. */
static void round_raw_protocol(struct worker *w)
{
	struct run *run = w->run;
	for (;;) {
		for (int i = 0; i < CLOCK_EVERY; i++) {
			raw_append(run->bench->raw_log, &w->raw, run->bench->payload, run->size);
			w->ops++;
		}
		if (now_s() >= run->deadline)
			return;
	}
}

static void round_append(struct worker *w)
{
	struct run *run = w->run;
	int r = region_of(w);
	struct pmemstream *s = run->streams[r];
	for (;;) {
		for (int i = 0; i < CLOCK_EVERY; i++) {
			if (pmemstream_append(s, run->regions[r], run->runtimes[r],
					      run->bench->payload, run->size, NULL) != 0) {
				if (!region_full(run, r))
					fail(run, "append");
				return;
			}
			w->ops++;
		}
		if (now_s() >= run->deadline)
			return;
	}
}

static void round_reserve(struct worker *w)
{
	struct run *run = w->run;
	int r = region_of(w);
	struct pmemstream *s = run->streams[r];
	for (;;) {
		for (int i = 0; i < CLOCK_EVERY; i++) {
			struct pmemstream_entry entry;
			void *space;
			if (pmemstream_reserve(s, run->regions[r], run->runtimes[r], run->size,
					       &entry, &space) != 0) {
				if (!region_full(run, r))
					fail(run, "reserve");
				return;
			}
			/* plain stores: publish flushes them */
			memcpy(space, run->bench->payload, run->size);
			if (pmemstream_publish(s, run->regions[r], run->runtimes[r], entry,
					       run->size) != 0) {
				fail(run, "publish");
				return;
			}
			w->ops++;
		}
		if (now_s() >= run->deadline)
			return;
	}
}

static void round_async(struct worker *w)
{
	struct run *run = w->run;
	struct bench *b = run->bench;
	struct vdm *vdm = run->spec->workload == WL_ASYNC
				  ? data_mover_threads_get_vdm(b->threads_mover)
				  : data_mover_sync_get_vdm(b->sync_mover);
	int r = region_of(w);
	struct pmemstream *s = run->streams[r];
	for (;;) {
		struct pmemstream_entry last;
		int issued = 0;
		bool full = false;
		for (; issued < ASYNC_BATCH; issued++) {
			if (pmemstream_async_append(s, vdm, run->regions[r], run->runtimes[r],
						    b->payload, run->size, &last) != 0) {
				if (!region_full(run, r)) {
					fail(run, "async_append");
					return;
				}
				full = true;
				break;
			}
		}
		if (issued > 0) {
			/* one wait makes the whole batch durable */
			uint64_t ts = pmemstream_entry_timestamp(s, last);
			struct pmemstream_async_wait_fut fut =
				pmemstream_async_wait_persisted(s, ts);
			runtime_wait(w->runtime, FUTURE_AS_RUNNABLE(&fut));
			if (fut.output.error_code != 0) {
				fail(run, "wait persisted");
				return;
			}
			w->ops += (uint64_t)issued;
		}
		if (full || now_s() >= run->deadline)
			return;
	}
}

static void run_round(struct worker *w)
{
	switch (w->run->spec->workload) {
	case WL_LOG:
		round_log(w);
		break;
	case WL_RAW:
		round_raw(w);
		break;
	case WL_RAW_PROTOCOL:
		round_raw_protocol(w);
		break;
	case WL_APPEND:
		round_append(w);
		break;
	case WL_RESERVE:
		round_reserve(w);
		break;
	case WL_ASYNC:
	case WL_ASYNC_SYNCMVR:
		round_async(w);
		break;
	}
}

static bool uses_stream(enum workload wl)
{
	return wl != WL_LOG && wl != WL_RAW && wl != WL_RAW_PROTOCOL;
}

/* Between rounds, run by worker 0 alone: decide whether to go on and make room if so. */
static void between_rounds(struct run *run)
{
	if (run->failed || now_s() >= run->deadline) {
		run->stop = true;
		return;
	}
	if (run->spec->workload == WL_LOG) {
		pmemlog_rewind(run->bench->log);
	} else if (uses_stream(run->spec->workload)) {
		if (regions_free(run) != 0 || regions_allocate(run) != 0)
			run->stop = true;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	for (;;) {
		pthread_barrier_wait(&run->barrier);
		if (run->stop)
			break;
		run_round(w);
		pthread_barrier_wait(&run->barrier);
		if (w->index == 0)
			between_rounds(run);
	}
	return NULL;
}

/*
 * A cell that overruns its slice by far means the library stopped making progress: say where,
 * and stop instead of hanging the whole run.
 */
#define HANG_SECONDS 30.0

static void join_or_die(pthread_t thread, struct run *run, double start)
{
	double limit = start + run->bench->opt.duration / run->bench->opt.reps + HANG_SECONDS;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	double wait = limit - now_s();
	if (wait < 0)
		wait = 0;
	deadline.tv_sec += (time_t)wait;
	deadline.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(thread, NULL, &deadline) == 0)
		return;
	fprintf(stderr,
		"\n%s (%d thread(s), %zu B) still running %.0f s after its slice ended: committed "
		"%" PRIu64 ", persisted %" PRIu64 "; giving up\n",
		run->spec->name, run->spec->threads, run->size, HANG_SECONDS,
		pmemstream_committed_timestamp(run->streams[0]),
		pmemstream_persisted_timestamp(run->streams[0]));
	_exit(3);
}

/* committed timestamps of the first n streams together: one per append */
static uint64_t committed_sum(struct bench *b, int n)
{
	uint64_t sum = 0;
	for (int i = 0; i < n; i++)
		sum += pmemstream_committed_timestamp(b->streams[i]);
	return sum;
}

static struct result run_cell(struct bench *b, const struct cell_spec *spec, size_t size)
{
	struct result res = {.ran = true};
	struct run run = {.bench = b, .spec = spec, .size = size};
	struct worker workers[MAX_THREADS] = {0};

	int nstreams = spec->placement == OWN_STREAMS ? spec->threads : 1;
	if (uses_stream(spec->workload)) {
		for (int i = 0; i < nstreams; i++) {
			if (stream_recreate(b, i) != 0) {
				res.failed = true;
				return res;
			}
		}
		run.nregions = region_per_thread(spec->placement) ? spec->threads : 1;
		for (int i = 0; i < run.nregions; i++)
			run.streams[i] = b->streams[spec->placement == OWN_STREAMS ? i : 0];
		if (regions_allocate(&run) != 0) {
			res.failed = true;
			return res;
		}
	} else if (spec->workload == WL_LOG) {
		pmemlog_rewind(b->log);
	} else if (spec->workload == WL_RAW_PROTOCOL) {
		raw_log_init(b->raw_log, b->raw_file.map, spec->threads);
		for (int t = 0; t < spec->threads; t++)
			raw_writer_init(b->raw_log, &workers[t].raw, t);
	}
	uint64_t ts_before = committed_sum(b, nstreams);

	pthread_barrier_init(&run.barrier, NULL, (unsigned)spec->threads);
	for (int t = 0; t < spec->threads; t++) {
		workers[t].run = &run;
		workers[t].index = t;
		workers[t].runtime = runtime_new();
	}
	/* the deadline is set before the threads exist; creating two threads takes microseconds */
	double start = now_s();
	run.deadline = start + b->opt.duration / b->opt.reps;
	for (int t = 0; t < spec->threads; t++)
		pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]);
	uint64_t ops = 0;
	for (int t = 0; t < spec->threads; t++) {
		join_or_die(workers[t].thread, &run, start);
		ops += workers[t].ops;
		runtime_delete(workers[t].runtime);
	}
	double elapsed = now_s() - start;
	pthread_barrier_destroy(&run.barrier);

	if (uses_stream(spec->workload)) {
		/* every successful publish consumes exactly one timestamp */
		uint64_t ts_used = committed_sum(b, nstreams) - ts_before;
		if (!run.failed && ts_used != ops) {
			fprintf(stderr,
				"%s (%zu B): %" PRIu64 " appends counted, %" PRIu64
				" timestamps committed\n",
				spec->name, size, ops, ts_used);
			run.failed = true;
		}
		for (int i = 0; i < nstreams; i++) {
			struct pmemstream *st = b->streams[i];
			if (pmemstream_persisted_timestamp(st) ==
			    pmemstream_committed_timestamp(st))
				continue;
			fprintf(stderr,
				"%s (%zu B): persisted %" PRIu64 " != committed %" PRIu64 "\n",
				spec->name, size, pmemstream_persisted_timestamp(st),
				pmemstream_committed_timestamp(st));
			run.failed = true;
		}
		regions_free(&run);
	}

	res.failed = run.failed;
	res.ops_per_s = (double)ops / elapsed;
	res.mb_per_s = res.ops_per_s * (double)size / 1e6;
	return res;
}

/* ----- setup ----- */

static int bench_open(struct bench *b)
{
	const struct options *o = &b->opt;
	char path[4096];

	size_t max_size = 0;
	for (int i = 0; i < o->nsizes; i++)
		max_size = o->sizes[i] > max_size ? o->sizes[i] : max_size;
	b->payload = malloc(max_size);
	if (b->payload == NULL)
		return -1;
	for (size_t i = 0; i < max_size; i++)
		b->payload[i] = (unsigned char)(i * 31 + 7);

	/* header block + one region per thread (one in the others) + slack */
	for (int i = 0; i < MAX_THREADS; i++) {
		size_t regions = i == 0 ? MAX_THREADS : 1;
		snprintf(path, sizeof(path), "%s/bench_stream.%d.stream%d", o->dir, (int)getpid(),
			 i);
		if (map_file(&b->stream_files[i], path, regions * o->region_size + 4 * BLOCK_SIZE))
			return -1;
		if (pmemstream_from_map(&b->streams[i], BLOCK_SIZE, b->stream_files[i].map) != 0) {
			fprintf(stderr, "pmemstream_from_map: %s\n", pmemstream_errormsg());
			return -1;
		}
	}

	snprintf(path, sizeof(path), "%s/bench_stream.%d.raw", o->dir, (int)getpid());
	if (map_file(&b->raw_file, path, o->region_size) != 0)
		return -1;
	b->raw_memcpy = pmem2_get_memcpy_fn(b->raw_file.map);
	b->raw_log = aligned_alloc(RAW_LINE, sizeof(*b->raw_log));
	if (b->raw_log == NULL)
		return -1;

	snprintf(path, sizeof(path), "%s/bench_stream.%d.log", o->dir, (int)getpid());
	unlink(path);
	b->log = pmemlog_create(path, o->region_size, 0600);
	if (b->log == NULL) {
		fprintf(stderr, "pmemlog_create %s: %s\n", path, pmemlog_errormsg());
		return -1;
	}
	unlink(path);
	/* prefault the log: fill it once (not needed when only stream cells run) */
	while (!o->no_baselines && pmemlog_append(b->log, b->payload, max_size) == 0)
		;
	pmemlog_rewind(b->log);

	b->threads_mover = data_mover_threads_new(o->mover_threads, 256, FUTURE_NOTIFIER_WAKER);
	b->sync_mover = data_mover_sync_new();
	if (b->threads_mover == NULL || b->sync_mover == NULL) {
		fprintf(stderr, "cannot create the data movers\n");
		return -1;
	}
	return 0;
}

static void bench_close(struct bench *b)
{
	for (int i = 0; i < MAX_THREADS; i++)
		pmemstream_delete(&b->streams[i]);
	data_mover_threads_delete(b->threads_mover);
	data_mover_sync_delete(b->sync_mover);
	if (b->log)
		pmemlog_close(b->log);
	for (int i = 0; i < MAX_THREADS; i++)
		unmap_file(&b->stream_files[i]);
	unmap_file(&b->raw_file);
	free(b->raw_log);
	free(b->payload);
}

/* ----- report ----- */

static const struct result *find(const struct result res[][NCELLS], int size_idx, enum workload wl,
				 int threads)
{
	for (size_t c = 0; c < NCELLS; c++)
		if (cells[c].workload == wl && cells[c].threads == threads &&
		    res[size_idx][c].ran && !res[size_idx][c].failed)
			return &res[size_idx][c];
	return NULL;
}

/* The single-thread cell of the same workload, for the scaling column. */
static const struct result *find_one_thread(const struct result res[][NCELLS], int size_idx,
					    enum workload wl)
{
	return find(res, size_idx, wl, 1);
}

static void print_ratio(const struct result *r, const struct result *base)
{
	if (r == NULL || base == NULL || base->ops_per_s <= 0)
		printf(" %8s |", "-");
	else
		printf(" %7.2fx |", r->ops_per_s / base->ops_per_s);
}

static void print_size(size_t size)
{
	if (size >= 1024 && size % 1024 == 0)
		printf("%4zu KiB |", size / 1024);
	else
		printf("%6zu B |", size);
}

static void print_table(const struct bench *b, const struct result res[][NCELLS])
{
	printf("\n%8s | %-36s | %3s | %11s | %9s | %7s | %9s | %9s | %9s |\n", "size", "workload",
	       "thr", "ops/s", "MB/s", "ns/op", "vs log", "vs raw", "vs 1 thr");
	printf("---------+--------------------------------------+-----+-------------+-----------+"
	       "---------+-----------+-----------+-----------+\n");
	for (int s = 0; s < b->opt.nsizes; s++) {
		for (size_t c = 0; c < NCELLS; c++) {
			const struct result *r = &res[s][c];
			if (!r->ran)
				continue;
			print_size(b->opt.sizes[s]);
			printf(" %-36s | %3d |", cells[c].name, cells[c].threads);
			if (r->failed) {
				printf(" %11s |\n", "FAILED");
				continue;
			}
			/* per-thread time of one operation */
			printf(" %11.0f | %9.1f | %7.0f |", r->ops_per_s, r->mb_per_s,
			       1e9 * cells[c].threads / r->ops_per_s);
			/* against libpmemlog and the raw limit, each with as many threads */
			print_ratio(r, find(res, s, WL_LOG, cells[c].threads));
			print_ratio(r, find(res, s, WL_RAW, cells[c].threads));
			print_ratio(cells[c].threads > 1 ? r : NULL,
				    find_one_thread(res, s, cells[c].workload));
			printf("\n");
		}
	}
}

static int size_index(const struct bench *b, size_t size)
{
	for (int s = 0; s < b->opt.nsizes; s++)
		if (b->opt.sizes[s] == size)
			return s;
	return -1;
}

static void print_target(const char *what, const struct result *r, const struct result *base,
			 double goal)
{
	if (r == NULL || base == NULL) {
		printf("  %-58s >= %.2fx: not measured\n", what, goal);
		return;
	}
	double ratio = r->ops_per_s / base->ops_per_s;
	printf("  %-58s >= %.2fx: %5.2fx %s\n", what, goal, ratio, ratio >= goal ? "ok" : "MISSED");
}

static const struct result *find_cell(const struct result res[][NCELLS], int s, enum workload wl,
				      int threads, enum placement p)
{
	if (s < 0)
		return NULL;
	for (size_t c = 0; c < NCELLS; c++)
		if (cells[c].workload == wl && cells[c].threads == threads &&
		    cells[c].placement == p && res[s][c].ran && !res[s][c].failed)
			return &res[s][c];
	return NULL;
}

static void print_targets(const struct bench *b, const struct result res[][NCELLS])
{
	int s64 = size_index(b, 64), s4k = size_index(b, 4096);
	printf("\ntargets (issue 3; same payload, so the MB/s ratio equals the ops/s ratio):\n");
	print_target("sync append 64 B ops/s vs libpmemlog",
		     find_cell(res, s64, WL_APPEND, 1, ONE_THREAD),
		     find_cell(res, s64, WL_LOG, 1, ONE_THREAD), 1.1);
	print_target("sync append 4 KiB MB/s vs libpmemlog",
		     find_cell(res, s4k, WL_APPEND, 1, ONE_THREAD),
		     find_cell(res, s4k, WL_LOG, 1, ONE_THREAD), 1.0);
	print_target("async x16 64 B (threads mover) ops/s vs libpmemlog sync",
		     find_cell(res, s64, WL_ASYNC, 1, ONE_THREAD),
		     find_cell(res, s64, WL_LOG, 1, ONE_THREAD), 4.0);
	print_target("sync append 64 B, 2 threads one region vs 1 thread",
		     find_cell(res, s64, WL_APPEND, 2, SAME_REGION),
		     find_cell(res, s64, WL_APPEND, 1, ONE_THREAD), 1.5);
	/* what the machine allows: independent persists from two threads */
	const struct result *raw1 = find_cell(res, s64, WL_RAW, 1, ONE_THREAD);
	const struct result *raw2 = find_cell(res, s64, WL_RAW, 2, OWN_REGIONS);
	if (raw1 != NULL && raw2 != NULL)
		printf("  (this machine: raw 64 B persists scale %.2fx from 1 to 2 threads)\n",
		       raw2->ops_per_s / raw1->ops_per_s);
	/* and the same protocol bare: two ordered persists, one watermark shared by both */
	const struct result *app1 = find_cell(res, s64, WL_APPEND, 1, ONE_THREAD);
	const struct result *own_streams = find_cell(res, s64, WL_APPEND, 2, OWN_STREAMS);
	if (app1 != NULL && own_streams != NULL)
		printf("  (2 threads on streams of their own scale %.2fx: no shared watermark)\n",
		       own_streams->ops_per_s / app1->ops_per_s);
	const struct result *proto1 = find_cell(res, s64, WL_RAW_PROTOCOL, 1, ONE_THREAD);
	const struct result *proto2 = find_cell(res, s64, WL_RAW_PROTOCOL, 2, OWN_REGIONS);
	if (proto1 != NULL && proto2 != NULL)
		printf("  (this machine: the bare protocol with one shared W scales %.2fx)\n",
		       proto2->ops_per_s / proto1->ops_per_s);

	printf("\nthe library's own cost: sync append vs the bare 2-persist protocol\n");
	for (int s = 0; s < b->opt.nsizes; s++) {
		const struct result *app = find_cell(res, s, WL_APPEND, 1, ONE_THREAD);
		const struct result *floor = find_cell(res, s, WL_RAW_PROTOCOL, 1, ONE_THREAD);
		if (app == NULL || floor == NULL)
			continue;
		printf("  %6zu B: %.2fx of the floor, %+.0f ns per append\n", b->opt.sizes[s],
		       app->ops_per_s / floor->ops_per_s,
		       1e9 / app->ops_per_s - 1e9 / floor->ops_per_s);
	}
}

/* ----- main ----- */

static int parse_sizes(struct options *o, char *list)
{
	o->nsizes = 0;
	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (o->nsizes == MAX_SIZES)
			return -1;
		size_t v = strtoull(tok, NULL, 0);
		if (v == 0 || v > MAX_PAYLOAD_SIZE)
			return -1;
		o->sizes[o->nsizes++] = v;
	}
	return o->nsizes > 0 ? 0 : -1;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--duration S] [--sizes 64,1024,4096] [--dir DIR] [--region-mib N]\n"
		"          [--mover-threads N] [--reps N] [--filter TEXT] [--no-baselines]\n",
		prog);
	exit(2);
}

/*
 * libpmem reads part of its environment in a constructor, before main() runs, so setenv()
 * alone could come too late: set the variables and start over once.
 */
static void force_environment(char *argv[])
{
	const char *gran = getenv("PMEM2_FORCE_GRANULARITY");
	const char *force = getenv("PMEM_IS_PMEM_FORCE");
	if (gran && strcmp(gran, "CACHE_LINE") == 0 && force && strcmp(force, "1") == 0)
		return;
	setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
	setenv("PMEM_IS_PMEM_FORCE", "1", 1);
	execv("/proc/self/exe", argv);
	perror("re-exec with the benchmark environment; continuing with setenv only");
}

int main(int argc, char *argv[])
{
	force_environment(argv);

	struct bench b = {.opt = {.duration = 1.5,
				  .sizes = DEFAULT_SIZES,
				  .nsizes = 3,
				  .dir = "/dev/shm",
				  .region_size = (size_t)64 << 20,
				  .mover_threads = 1,
				  .reps = 3}};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--no-baselines") == 0) {
			b.opt.no_baselines = true;
			continue;
		}
		if (i + 1 >= argc)
			usage(argv[0]);
		char *val = argv[++i];
		if (strcmp(arg, "--duration") == 0)
			b.opt.duration = atof(val);
		else if (strcmp(arg, "--sizes") == 0) {
			if (parse_sizes(&b.opt, val) != 0)
				usage(argv[0]);
		} else if (strcmp(arg, "--dir") == 0)
			b.opt.dir = val;
		else if (strcmp(arg, "--region-mib") == 0)
			b.opt.region_size = strtoull(val, NULL, 0) << 20;
		else if (strcmp(arg, "--mover-threads") == 0)
			b.opt.mover_threads = strtoull(val, NULL, 0);
		else if (strcmp(arg, "--filter") == 0)
			b.opt.filter = val;
		else if (strcmp(arg, "--reps") == 0)
			b.opt.reps = atoi(val);
		else
			usage(argv[0]);
	}
	if (b.opt.duration <= 0 || b.opt.reps <= 0 || b.opt.region_size < ((size_t)4 << 20) ||
	    b.opt.mover_threads == 0)
		usage(argv[0]);

	printf("libpmemstream append benchmark: %.2f s per cell (best of %d interleaved slices), "
	       "files in %s,\n%zu MiB per region/log/raw area, "
	       "PMEM2_FORCE_GRANULARITY=%s PMEM_IS_PMEM_FORCE=%s, threads mover with %zu "
	       "worker(s), async waited every %d appends\n",
	       b.opt.duration, b.opt.reps, b.opt.dir, b.opt.region_size >> 20,
	       getenv("PMEM2_FORCE_GRANULARITY"), getenv("PMEM_IS_PMEM_FORCE"), b.opt.mover_threads,
	       ASYNC_BATCH);
	fflush(stdout);

	if (bench_open(&b) != 0) {
		bench_close(&b);
		return 1;
	}

	static struct result res[MAX_SIZES][NCELLS];
	int failed = 0;
	/*
	 * The cells of one size take turns, several times over, and each keeps its best slice:
	 * the machine is shared, and a burst of foreign load should not decide a ratio.
	 */
	for (int s = 0; s < b.opt.nsizes; s++) {
		for (int rep = 0; rep < b.opt.reps; rep++) {
			for (size_t c = 0; c < NCELLS; c++) {
				bool baseline = !uses_stream(cells[c].workload);
				if (baseline ? b.opt.no_baselines
					     : b.opt.filter &&
						       strstr(cells[c].name, b.opt.filter) == NULL)
					continue;
				struct result r = run_cell(&b, &cells[c], b.opt.sizes[s]);
				struct result *best = &res[s][c];
				best->failed |= r.failed;
				if (!best->ran || r.ops_per_s > best->ops_per_s) {
					r.failed = best->failed;
					*best = r;
				}
				failed |= r.failed;
			}
			fprintf(stderr, ".");
		}
	}
	fprintf(stderr, "\n");
	print_table(&b, res);
	print_targets(&b, res);

	bench_close(&b);
	return failed;
}
