/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The thread-pool mover: the first poll queues the operation for a worker thread; a full
 * queue sends the future back to IDLE and the next poll tries again.
 */

#include "libminiasync/data_mover_threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "miniasync/mover_pool.h"
#include "miniasync/op_pool.h"
#include "miniasync/operation.h"
#include "miniasync/ring.h"

#define DEFAULT_THREADS	     12
#define DEFAULT_RINGBUF_SIZE 128
/* pauses a completing poll waits for the worker to leave the waker before it yields */
#define WORKER_DONE_SPINS 64

struct data_mover_threads {
	struct vdm base; /* first, so that the vdm and the mover share an address */
	struct op_pool *pool;
	struct ring *ring;
	enum future_notifier_type desired_notifier;
	_Atomic(memcpy_fn) memcpy_hook;
	_Atomic(memmove_fn) memmove_hook;
	_Atomic(memset_fn) memset_hook;
	size_t nthreads;
	pthread_t threads[];
};

/*
 * Laid out by writer, because the submitting thread and the worker run on different cores:
 * the first line is written by the submitter and only read by the worker, the second only
 * touched by the submitter, the third written by the worker. Each operation then moves one
 * line to the worker and one back, instead of also pulling a shared line back and forth.
 */
struct threads_record {
	struct vdm_operation operation; /* a copy: the future may move while a worker runs */
	struct future_waker waker;	/* wake == NULL: nobody is to be woken */
	_Alignas(CACHELINE_SIZE) struct data_mover_threads *mover;
	atomic_int started;
	_Alignas(CACHELINE_SIZE) _Atomic uint64_t complete; /* the word a POLLER monitors */
	atomic_int worker_done; /* the worker no longer touches the record */
};

static void *threads_op_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	(void)type;
	struct data_mover_threads *dmt = (struct data_mover_threads *)vdm;
	struct threads_record *record = op_pool_get(dmt->pool);
	if (record != NULL && record->mover != dmt)
		record->mover = dmt; /* records are reused: most of the time it holds dmt */
	return record;
}

static int threads_op_start(void *data, const struct vdm_operation *operation,
			    struct future_notifier *n)
{
	struct threads_record *record = data;
	struct data_mover_threads *dmt = record->mover;

	record->operation = *operation;
	record->waker = (struct future_waker){.data = NULL, .wake = NULL};
	if (n != NULL) {
		n->notifier_used = dmt->desired_notifier;
		if (dmt->desired_notifier == FUTURE_NOTIFIER_WAKER)
			record->waker = n->waker;
		else if (dmt->desired_notifier == FUTURE_NOTIFIER_POLLER)
			n->poller.ptr_to_monitor = (uint64_t *)&record->complete;
	}

	if (ring_try_enqueue(dmt->ring, record) == 0)
		atomic_store_explicit(&record->started, 1, memory_order_release);
	else if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE; /* nothing will wake the caller: re-poll */
	return 0;
}

static enum future_state threads_op_check(void *data, const struct vdm_operation *operation)
{
	(void)operation;
	struct threads_record *record = data;

	if (atomic_load_explicit(&record->complete, memory_order_acquire))
		return FUTURE_STATE_COMPLETE;
	if (atomic_load_explicit(&record->started, memory_order_acquire))
		return FUTURE_STATE_RUNNING;
	return FUTURE_STATE_IDLE;
}

static void threads_op_delete(void *data, const struct vdm_operation *operation,
			      struct vdm_operation_output *output)
{
	struct threads_record *record = data;

	/*
	 * The worker may still be inside the waker; the record must outlive that call. It is
	 * a few instructions away, unless it was preempted right there: with more runnable
	 * threads than CPUs, spinning on would keep it from running.
	 */
	for (unsigned spins = 0; !atomic_load_explicit(&record->worker_done, memory_order_acquire);
	     spins++)
		pause_or_yield(spins, WORKER_DONE_SPINS);
	operation_fill_output(operation, output);
	op_pool_put(record);
}

static int threads_has_property(void *future, enum future_property property)
{
	(void)future;
	return property == FUTURE_PROPERTY_ASYNC;
}

static void *worker_main(void *arg)
{
	struct data_mover_threads *dmt = arg;
	struct threads_record *record;

	while ((record = ring_dequeue(dmt->ring)) != NULL) {
		struct operation_hooks hooks = {
			.memcpy = atomic_load_explicit(&dmt->memcpy_hook, memory_order_acquire),
			.memmove = atomic_load_explicit(&dmt->memmove_hook, memory_order_acquire),
			.memset = atomic_load_explicit(&dmt->memset_hook, memory_order_acquire),
		};
		operation_perform(&record->operation, &hooks);

		/* publish before waking, so that the woken poller finds the work done */
		atomic_store_explicit(&record->complete, 1, memory_order_release);
		if (record->waker.wake != NULL)
			FUTURE_WAKER_WAKE(&record->waker);
		atomic_store_explicit(&record->worker_done, 1, memory_order_release);
	}
	return NULL;
}

static void stop_workers(struct data_mover_threads *dmt, size_t started)
{
	ring_stop(dmt->ring);
	for (size_t i = 0; i < started; i++)
		pthread_join(dmt->threads[i], NULL);
}

static void free_mover(struct data_mover_threads *dmt)
{
	ring_delete(dmt->ring);
	op_pool_delete(dmt->pool);
	free(dmt);
}

struct data_mover_threads *data_mover_threads_new(size_t nthreads, size_t ringbuf_size,
						  enum future_notifier_type desired_notifier)
{
	if (nthreads == 0 || ringbuf_size > UINT32_MAX || !IS_POW2(ringbuf_size))
		return NULL;
	if (desired_notifier != FUTURE_NOTIFIER_NONE && desired_notifier != FUTURE_NOTIFIER_WAKER &&
	    desired_notifier != FUTURE_NOTIFIER_POLLER)
		return NULL;
	if (nthreads > (SIZE_MAX - sizeof(struct data_mover_threads)) / sizeof(pthread_t))
		return NULL;

	struct data_mover_threads *dmt = calloc(1, sizeof(*dmt) + nthreads * sizeof(pthread_t));
	if (dmt == NULL)
		return NULL;
	dmt->pool = op_pool_new(sizeof(struct threads_record), MOVER_POOL_CAPACITY);
	dmt->ring = ring_new(ringbuf_size);
	if (dmt->pool == NULL || dmt->ring == NULL) {
		free_mover(dmt);
		return NULL;
	}
	dmt->desired_notifier = desired_notifier;
	atomic_init(&dmt->memcpy_hook, operation_default_hooks.memcpy);
	atomic_init(&dmt->memmove_hook, operation_default_hooks.memmove);
	atomic_init(&dmt->memset_hook, operation_default_hooks.memset);
	dmt->base.op_new = threads_op_new;
	dmt->base.op_delete = threads_op_delete;
	dmt->base.op_start = threads_op_start;
	dmt->base.op_check = threads_op_check;
	dmt->base.capabilities = 0;
	dmt->base.has_property = threads_has_property;

	for (size_t i = 0; i < nthreads; i++) {
		if (pthread_create(&dmt->threads[i], NULL, worker_main, dmt) != 0) {
			stop_workers(dmt, i);
			free_mover(dmt);
			return NULL;
		}
		dmt->nthreads = i + 1;
	}
	return dmt;
}

struct data_mover_threads *data_mover_threads_default(void)
{
	return data_mover_threads_new(DEFAULT_THREADS, DEFAULT_RINGBUF_SIZE, FUTURE_NOTIFIER_WAKER);
}

struct vdm *data_mover_threads_get_vdm(struct data_mover_threads *dmt)
{
	return &dmt->base;
}

void data_mover_threads_delete(struct data_mover_threads *dmt)
{
	if (dmt == NULL)
		return;
	stop_workers(dmt, dmt->nthreads);
	free_mover(dmt);
}

void data_mover_threads_set_memcpy_fn(struct data_mover_threads *dmt, memcpy_fn op_memcpy)
{
	atomic_store_explicit(&dmt->memcpy_hook,
			      op_memcpy != NULL ? op_memcpy : operation_default_hooks.memcpy,
			      memory_order_release);
}

void data_mover_threads_set_memmove_fn(struct data_mover_threads *dmt, memmove_fn op_memmove)
{
	atomic_store_explicit(&dmt->memmove_hook,
			      op_memmove != NULL ? op_memmove : operation_default_hooks.memmove,
			      memory_order_release);
}

void data_mover_threads_set_memset_fn(struct data_mover_threads *dmt, memset_fn op_memset)
{
	atomic_store_explicit(&dmt->memset_hook,
			      op_memset != NULL ? op_memset : operation_default_hooks.memset,
			      memory_order_release);
}
