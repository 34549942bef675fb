/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block read/write throughput of one libpmemblk build (ours or Debian's PMDK: the same source
 * is compiled against each). It runs as a small server so that run.sh can keep one warmed-up
 * pool per library alive and alternate the measurements between the two libraries cell by
 * cell, which keeps drifting machine load from favouring either side.
 *
 *	bench_blk serve <pool file> <bsize> <pool size in MiB>
 *
 * creates the pool (the file is replaced), writes every block once so that reads copy real
 * data, prints "ready <nblock>", then answers one line per command on stdin:
 *
 *	run <read|write> <sync|async> <threads> <seconds>
 *		-> "result <ops> <elapsed seconds> <ops per second> <ops per CPU-second>"
 *	quit
 *
 * Block numbers are uniformly random over the whole pool, one generator per thread. The async
 * API (only in the build against ours) keeps BENCH_QD (default 4) futures in flight per thread and
 * polls them round-robin; the copies run on miniasync's thread-pool mover.
 *
 * With the fence_count.c shim preloaded, every measurement also prints its fences, flushes
 * and flushed bytes per operation on stderr.
 */

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_ASYNC
#include <libminiasync.h>
#define PMEMBLK_USE_MINIASYNC 1
#endif
#include <libpmemblk.h>

#ifndef BENCH_IMPL
#error "BENCH_IMPL must name the implementation"
#endif

#define MAX_THREADS	16
#define MAX_QUEUE_DEPTH 64

enum op { OP_READ, OP_WRITE };
enum api { API_SYNC, API_ASYNC };

/* futures in flight per thread (BENCH_QD); more than the pool's lanes only queue for them */
static unsigned queue_depth = 4;

static PMEMblkpool *pool;
static size_t bsize;
static uint64_t nblock;

static atomic_int go;
static atomic_int stop;

struct worker {
	pthread_t thread;
	unsigned id;
	enum op op;
	enum api api;
	uint64_t ops;
	uint64_t rng;
	int failed;
	unsigned char *buffers; /* queue_depth blocks */
};

static double clock_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

static uint64_t next_block(struct worker *w)
{
	/* xorshift64*: cheap enough not to show up next to a block operation */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (w->rng * 0x2545F4914F6CDD1DULL) % nblock;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_blk(%s): %s: %s (%s)\n", BENCH_IMPL, what, strerror(errno),
		pmemblk_errormsg());
	exit(1);
}

static void run_sync(struct worker *w)
{
	unsigned char *buf = w->buffers;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		long long b = (long long)next_block(w);
		int ret = w->op == OP_WRITE ? pmemblk_write(pool, buf, b)
					    : pmemblk_read(pool, buf, b);
		if (ret != 0) {
			w->failed = 1;
			return;
		}
		w->ops++;
	}
}

#ifdef BENCH_ASYNC
/* BENCH_MOVER=sync swaps in miniasync's synchronous mover: the futures' own overhead */
static struct data_mover_threads *mover;
static struct data_mover_sync *sync_mover;

union block_future {
	struct pmemblk_write_async_future write;
	struct pmemblk_read_async_future read;
};

static void start_future(struct worker *w, union block_future *f, unsigned slot)
{
	void *buf = w->buffers + (size_t)slot * bsize;
	long long b = (long long)next_block(w);
	if (w->op == OP_WRITE)
		f->write = pmemblk_write_async(pool, buf, b);
	else
		f->read = pmemblk_read_async(pool, buf, b);
}

/*
 * BENCH_ASYNC_WAIT=runtime: batches of queue_depth futures driven by runtime_wait_multiple(),
 * which sleeps while nothing moves, instead of polling each future as it completes.
 */
static int use_runtime;

static void run_async_batches(struct worker *w)
{
	union block_future futs[MAX_QUEUE_DEPTH];
	struct future *batch[MAX_QUEUE_DEPTH];
	struct runtime *rt = runtime_new();
	if (rt == NULL) {
		w->failed = 1;
		return;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed) && !w->failed) {
		for (unsigned i = 0; i < queue_depth; i++) {
			start_future(w, &futs[i], i);
			batch[i] = w->op == OP_WRITE ? FUTURE_AS_RUNNABLE(&futs[i].write)
						     : FUTURE_AS_RUNNABLE(&futs[i].read);
		}
		runtime_wait_multiple(rt, batch, queue_depth);
		for (unsigned i = 0; i < queue_depth; i++) {
			int ret = w->op == OP_WRITE ? FUTURE_OUTPUT(&futs[i].write)->return_value
						    : FUTURE_OUTPUT(&futs[i].read)->return_value;
			if (ret != 0)
				w->failed = 1;
		}
		w->ops += queue_depth;
	}
	runtime_delete(rt);
}

static void run_async(struct worker *w)
{
	if (use_runtime) {
		run_async_batches(w);
		return;
	}
	union block_future futs[MAX_QUEUE_DEPTH];
	int active[MAX_QUEUE_DEPTH];
	unsigned nactive = queue_depth;

	for (unsigned i = 0; i < queue_depth; i++) {
		start_future(w, &futs[i], i);
		active[i] = 1;
	}
	/* once polled, a future must be driven to completion: drain before leaving */
	while (nactive > 0) {
		int stopping = atomic_load_explicit(&stop, memory_order_relaxed);
		int progress = 0;
		for (unsigned i = 0; i < queue_depth; i++) {
			if (!active[i])
				continue;
			struct future *base = w->op == OP_WRITE ? FUTURE_AS_RUNNABLE(&futs[i].write)
								: FUTURE_AS_RUNNABLE(&futs[i].read);
			if (future_poll(base, NULL) != FUTURE_STATE_COMPLETE)
				continue;
			int ret = w->op == OP_WRITE ? FUTURE_OUTPUT(&futs[i].write)->return_value
						    : FUTURE_OUTPUT(&futs[i].read)->return_value;
			if (ret != 0)
				w->failed = 1;
			w->ops++;
			progress = 1;
			if (stopping || w->failed) {
				active[i] = 0;
				nactive--;
			} else {
				start_future(w, &futs[i], i);
			}
		}
		/*
		 * Busy-polling would starve the mover's threads when the cores are shared (as a
		 * runtime would sleep, give the CPU away while nothing completes).
		 */
		if (!progress)
			sched_yield();
	}
}
#endif

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	if (w->api == API_SYNC)
		run_sync(w);
#ifdef BENCH_ASYNC
	else
		run_async(w);
#endif
	return NULL;
}

typedef void (*fence_counts_fn)(unsigned long long out[4]);

static void measure(enum op op, enum api api, unsigned nthreads, double seconds)
{
	struct worker workers[MAX_THREADS];
	fence_counts_fn fence_counts = (fence_counts_fn)dlsym(RTLD_DEFAULT, "blk_fence_counts");
	unsigned long long before[4] = {0}, after[4] = {0};
	if (fence_counts != NULL)
		fence_counts(before);
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	for (unsigned i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];
		*w = (struct worker){.id = i, .op = op, .api = api};
		w->rng = 0x9E3779B97F4A7C15ULL * (i + 1) ^ (uint64_t)(now() * 1e9);
		w->buffers = aligned_alloc(64, (queue_depth * bsize + 63) / 64 * 64);
		if (w->buffers == NULL)
			die("aligned_alloc");
		memset(w->buffers, 0x40 + (int)i, queue_depth * bsize);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			die("pthread_create");
	}
	double start = now();
	double cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	atomic_store_explicit(&go, 1, memory_order_release);
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	atomic_store(&stop, 1);
	uint64_t ops = 0;
	int failed = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(workers[i].thread, NULL);
		ops += workers[i].ops;
		failed |= workers[i].failed;
		free(workers[i].buffers);
	}
	double elapsed = now() - start;
	double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
	if (failed)
		die("a block operation failed");
	if (fence_counts != NULL && ops > 0) {
		fence_counts(after);
		double n = (double)ops;
		fprintf(stderr,
			"%s %s %s x%u: %.2f fences, %.2f flushes (%.0f bytes), %.2f pmem copies "
			"per op\n",
			BENCH_IMPL, op == OP_WRITE ? "write" : "read",
			api == API_SYNC ? "sync" : "async", nthreads,
			(double)(after[0] - before[0]) / n, (double)(after[1] - before[1]) / n,
			(double)(after[2] - before[2]) / n, (double)(after[3] - before[3]) / n);
	}
	/* ops per CPU-second: what other users of the machine disturb least */
	printf("result %llu %.3f %.0f %.0f\n", (unsigned long long)ops, elapsed,
	       (double)ops / elapsed, cpu > 0 ? (double)ops / cpu : 0.0);
}

static void warm_up(void)
{
	/* every block holds data afterwards: reads then copy instead of returning zeros */
	unsigned char *buf = malloc(bsize);
	if (buf == NULL)
		die("malloc");
	memset(buf, 0x5A, bsize);
	for (uint64_t b = 0; b < nblock; b++)
		if (pmemblk_write(pool, buf, (long long)b) != 0)
			die("warm-up write");
	free(buf);
}

static int serve(const char *path, size_t block_size, size_t pool_mib)
{
	unlink(path);
#ifdef BENCH_ASYNC
	struct vdm *vdm;
	const char *mover_name = getenv("BENCH_MOVER");
	if (mover_name != NULL && strcmp(mover_name, "sync") == 0) {
		sync_mover = data_mover_sync_new();
		if (sync_mover == NULL)
			die("data_mover_sync_new");
		vdm = data_mover_sync_get_vdm(sync_mover);
	} else {
		/*
		 * One worker by default: the mover's workers spin while they wait for work, and
		 * on a 2-core machine two of them next to the benchmark's own threads took the
		 * cores from the threads that submit the work (async rows 0.2x instead of 0.7x).
		 */
		const char *workers_env = getenv("BENCH_MOVER_THREADS");
		size_t workers = workers_env != NULL ? strtoul(workers_env, NULL, 10) : 1;
		mover = data_mover_threads_new(workers > 0 ? workers : 1, 1024,
					       use_runtime ? FUTURE_NOTIFIER_WAKER
							   : FUTURE_NOTIFIER_NONE);
		if (mover == NULL)
			die("data_mover_threads_new");
		vdm = data_mover_threads_get_vdm(mover);
	}
	pool = pmemblk_xcreate(path, block_size, pool_mib << 20, 0600, vdm);
#else
	pool = pmemblk_create(path, block_size, pool_mib << 20, 0600);
#endif
	if (pool == NULL)
		die("pmemblk_create");
	bsize = pmemblk_bsize(pool);
	nblock = pmemblk_nblock(pool);
	warm_up();
	printf("ready %llu\n", (unsigned long long)nblock);

	char line[256];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char op[16], api[16];
		unsigned threads;
		double seconds;
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (sscanf(line, "run %15s %15s %u %lf", op, api, &threads, &seconds) != 4 ||
		    threads == 0 || threads > MAX_THREADS) {
			printf("error bad command\n");
			continue;
		}
		enum api a = strcmp(api, "async") == 0 ? API_ASYNC : API_SYNC;
#ifndef BENCH_ASYNC
		if (a == API_ASYNC) {
			printf("unsupported\n");
			continue;
		}
#endif
		measure(strcmp(op, "write") == 0 ? OP_WRITE : OP_READ, a, threads, seconds);
	}
	pmemblk_close(pool);
#ifdef BENCH_ASYNC
	if (mover != NULL)
		data_mover_threads_delete(mover);
	if (sync_mover != NULL)
		data_mover_sync_delete(sync_mover);
#endif
	unlink(path);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc != 5 || strcmp(argv[1], "serve") != 0) {
		fprintf(stderr, "usage: %s serve <pool file> <bsize> <pool size in MiB>\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef BENCH_ASYNC
	const char *wait = getenv("BENCH_ASYNC_WAIT");
	use_runtime = wait != NULL && strcmp(wait, "runtime") == 0;
#endif
	const char *qd = getenv("BENCH_QD");
	if (qd != NULL && atoi(qd) > 0 && atoi(qd) <= MAX_QUEUE_DEPTH)
		queue_depth = (unsigned)atoi(qd);
	return serve(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
}
