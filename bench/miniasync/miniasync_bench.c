// SPDX-License-Identifier: BSD-3-Clause
/*
 * miniasync_bench -- what a future costs and what the thread-pool mover delivers.
 *
 * 1. Creating a 64-byte copy future on the synchronous mover and polling it to completion,
 *    per operation, against a plain memcpy of 64 bytes.
 * 2. Copy throughput of the thread-pool mover (1 and 2 workers) for 4 KiB and 1 MiB copies,
 *    kept in flight in batches waited for by a runtime, against plain memcpy in one thread.
 *
 * usage: miniasync_bench [seconds per measurement, default 0.5]
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libminiasync.h>

static double seconds_per_row = 0.5;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* keeps the compiler from dropping copies whose results are never read */
static void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void *xmalloc(size_t n)
{
	void *p = aligned_alloc(4096, n);
	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	memset(p, 0x5A, n);
	return p;
}

struct result {
	double ns_per_op;
	double gbps;
};

static struct result plain_memcpy(size_t size, size_t nbufs)
{
	char *src = xmalloc(size * nbufs), *dst = xmalloc(size * nbufs);
	uint64_t ops = 0;
	double start = now(), elapsed;
	do {
		for (int rep = 0; rep < 64; rep++) {
			for (size_t i = 0; i < nbufs; i++) {
				memcpy(dst + i * size, src + i * size, size);
				clobber(dst);
			}
			ops += nbufs;
		}
		elapsed = now() - start;
	} while (elapsed < seconds_per_row);
	free(src);
	free(dst);
	struct result r = {elapsed * 1e9 / (double)ops, (double)(ops * size) / elapsed / 1e9};
	return r;
}

static struct result sync_future_copy(size_t size)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	if (dms == NULL) {
		fprintf(stderr, "data_mover_sync_new failed\n");
		exit(1);
	}
	struct vdm *vdm = data_mover_sync_get_vdm(dms);
	char *src = xmalloc(size), *dst = xmalloc(size);
	uint64_t ops = 0;
	double start = now(), elapsed;
	do {
		for (int rep = 0; rep < 1024; rep++) {
			struct vdm_operation_future f = vdm_memcpy(vdm, dst, src, size, 0);
			while (future_poll(FUTURE_AS_RUNNABLE(&f), NULL) != FUTURE_STATE_COMPLETE)
				;
			clobber(dst);
		}
		ops += 1024;
		elapsed = now() - start;
	} while (elapsed < seconds_per_row);
	free(src);
	free(dst);
	data_mover_sync_delete(dms);
	struct result r = {elapsed * 1e9 / (double)ops, (double)(ops * size) / elapsed / 1e9};
	return r;
}

#define MAX_BATCH 64

static struct result threads_mover_copy(size_t nthreads, size_t size, size_t batch)
{
	struct data_mover_threads *dmt =
		data_mover_threads_new(nthreads, 128, FUTURE_NOTIFIER_WAKER);
	struct runtime *rt = runtime_new();
	if (dmt == NULL || rt == NULL) {
		fprintf(stderr, "cannot create the mover or the runtime\n");
		exit(1);
	}
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);
	char *src = xmalloc(size * batch), *dst = xmalloc(size * batch);
	struct vdm_operation_future futs[MAX_BATCH];
	struct future *runnable[MAX_BATCH];
	uint64_t ops = 0;
	double start = now(), elapsed;
	do {
		for (size_t i = 0; i < batch; i++) {
			futs[i] = vdm_memcpy(vdm, dst + i * size, src + i * size, size, 0);
			runnable[i] = FUTURE_AS_RUNNABLE(&futs[i]);
		}
		runtime_wait_multiple(rt, runnable, batch);
		for (size_t i = 0; i < batch; i++) {
			if (futs[i].output.result != VDM_SUCCESS) {
				fprintf(stderr, "copy failed\n");
				exit(1);
			}
		}
		ops += batch;
		elapsed = now() - start;
	} while (elapsed < seconds_per_row);
	free(src);
	free(dst);
	runtime_delete(rt);
	data_mover_threads_delete(dmt);
	struct result r = {elapsed * 1e9 / (double)ops, (double)(ops * size) / elapsed / 1e9};
	return r;
}

static const char *size_name(size_t size, char *buf, size_t len)
{
	if (size >= (1 << 20))
		snprintf(buf, len, "%zu MiB", size >> 20);
	else if (size >= (1 << 10))
		snprintf(buf, len, "%zu KiB", size >> 10);
	else
		snprintf(buf, len, "%zu B", size);
	return buf;
}

int main(int argc, char *argv[])
{
	if (argc > 1)
		seconds_per_row = atof(argv[1]);
	if (seconds_per_row <= 0) {
		fprintf(stderr, "usage: %s [seconds per measurement]\n", argv[0]);
		return 2;
	}

	char sz[32];
	printf("Cost of one operation (lower is better)\n");
	printf("%-44s %8s %10s %14s\n", "operation", "size", "ns/op", "time vs memcpy");
	struct result base = plain_memcpy(64, 64);
	struct result fut = sync_future_copy(64);
	printf("%-44s %8s %10.1f %13.2fx\n", "plain memcpy", "64 B", base.ns_per_op, 1.0);
	printf("%-44s %8s %10.1f %13.2fx\n", "sync mover: create + poll to complete", "64 B",
	       fut.ns_per_op, fut.ns_per_op / base.ns_per_op);

	printf("\nCopy throughput (higher is better)\n");
	printf("%-44s %8s %10s %14s\n", "operation", "size", "GB/s", "vs memcpy");
	const size_t sizes[] = {4096, 1 << 20};
	for (int s = 0; s < 2; s++) {
		size_t size = sizes[s];
		/* 4 KiB copies stay in cache; 1 MiB ones stream through 8 MiB buffers */
		size_t batch = size == 4096 ? 64 : 8;
		base = plain_memcpy(size, batch);
		printf("%-44s %8s %10.2f %13.2fx\n", "plain memcpy (calling thread)",
		       size_name(size, sz, sizeof(sz)), base.gbps, 1.0);
		for (size_t nthreads = 1; nthreads <= 2; nthreads++) {
			struct result r = threads_mover_copy(nthreads, size, batch);
			char label[64];
			snprintf(label, sizeof(label), "threads mover, %zu worker%s, %zu in flight",
				 nthreads, nthreads > 1 ? "s" : "", batch);
			printf("%-44s %8s %10.2f %13.2fx\n", label, size_name(size, sz, sizeof(sz)),
			       r.gbps, r.gbps / base.gbps);
		}
	}
	return 0;
}
