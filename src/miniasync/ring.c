/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bounded lock-free queue (sequence number per slot: a slot is free for the producer of
 * position p when its sequence equals p, and holds that producer's item when it equals p + 1).
 *
 * Consumers spin briefly on an empty ring, because a hand-off through a sleeping thread
 * costs microseconds while a copy takes nanoseconds; then they sleep on a condition
 * variable. Producers take the mutex only when some consumer sleeps.
 */

#include "miniasync/ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"

/*
 * Under valgrind threads run one at a time, so a spinning consumer only delays the
 * producer it waits for.
 */
#define CONSUMER_SPINS (RUNNING_ON_VALGRIND ? 0U : 2048U)

/*
 * Four slots to a line. Producers queue in bursts (a batch of appends before one wait), so a
 * line carries four items to the consumer's core in one transfer; a line per slot, which kept
 * the producer of one position and the consumer of the next apart, was 4-7% slower for
 * batches of 64 B-1 KiB stream appends on one producer (bench_ab stream-async), and no faster
 * with two producers.
 */
struct ring_slot {
	_Atomic size_t seq;
	void *item;
};

struct ring {
	_Alignas(CACHELINE_SIZE) _Atomic size_t enqueue_pos;
	_Alignas(CACHELINE_SIZE) _Atomic size_t dequeue_pos;
	_Alignas(CACHELINE_SIZE) atomic_uint sleeping_consumers;
	atomic_bool stopping;
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	unsigned consumer_spins;
	size_t mask;
	/*
	 * Items the ring holds at most: the slot count, except for a ring of one item, which
	 * gets two slots (with one, "holds the item of position p" and "free for position
	 * p + 1" would be the same sequence number) and a check of its own when it fills.
	 */
	size_t capacity;
	struct ring_slot *slots;
};

struct ring *ring_new(size_t size)
{
	if (!IS_POW2(size))
		return NULL;

	struct ring *ring = aligned_alloc(CACHELINE_SIZE, sizeof(*ring));
	if (ring == NULL)
		return NULL;
	size_t nslots = size < 2 ? 2 : size;
	/* aligned_alloc wants a multiple of the alignment: a small ring still gets a line */
	ring->slots = aligned_alloc(
		CACHELINE_SIZE, ALIGN_UP(nslots * sizeof(*ring->slots), (size_t)CACHELINE_SIZE));
	if (ring->slots == NULL)
		goto err_ring;
	if (pthread_mutex_init(&ring->lock, NULL) != 0)
		goto err_slots;
	if (pthread_cond_init(&ring->nonempty, NULL) != 0)
		goto err_mutex;

	ring->mask = nslots - 1;
	ring->capacity = size;
	ring->consumer_spins = CONSUMER_SPINS;
	for (size_t i = 0; i < nslots; i++)
		atomic_init(&ring->slots[i].seq, i);
	atomic_init(&ring->enqueue_pos, 0);
	atomic_init(&ring->dequeue_pos, 0);
	atomic_init(&ring->sleeping_consumers, 0);
	atomic_init(&ring->stopping, false);
	return ring;

err_mutex:
	pthread_mutex_destroy(&ring->lock);
err_slots:
	free(ring->slots);
err_ring:
	free(ring);
	return NULL;
}

void ring_delete(struct ring *ring)
{
	if (ring == NULL)
		return;
	pthread_cond_destroy(&ring->nonempty);
	pthread_mutex_destroy(&ring->lock);
	free(ring->slots);
	free(ring);
}

static void wake_one_consumer(struct ring *ring)
{
	/*
	 * The claim of the position (a seq_cst RMW) orders this load: a consumer going to sleep
	 * either saw the claimed position or is seen here (see ring_dequeue). No fence of its
	 * own, which would wait for the slot's line to come back from a spinning consumer.
	 */
	if (atomic_load_explicit(&ring->sleeping_consumers, memory_order_seq_cst) == 0)
		return;
	pthread_mutex_lock(&ring->lock);
	pthread_cond_signal(&ring->nonempty);
	pthread_mutex_unlock(&ring->lock);
}

/*
 * A one-item ring is full until the item of the position before pos is taken (its slot's
 * sequence then says "free for pos + 1"), also while that item is still being filled in.
 */
static bool single_item_queued(struct ring *ring, size_t pos)
{
	if (ring->capacity != 1 || pos == 0)
		return false;
	const struct ring_slot *prev = &ring->slots[(pos - 1) & ring->mask];
	return atomic_load_explicit(&prev->seq, memory_order_acquire) != pos + 1;
}

int ring_try_enqueue(struct ring *ring, void *item)
{
	size_t pos = atomic_load_explicit(&ring->enqueue_pos, memory_order_relaxed);
	struct ring_slot *slot;

	for (;;) {
		slot = &ring->slots[pos & ring->mask];
		size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
		intptr_t lag = (intptr_t)seq - (intptr_t)pos;
		if (lag == 0 && single_item_queued(ring, pos)) {
			return -1;
		} else if (lag == 0) {
			if (atomic_compare_exchange_weak_explicit(&ring->enqueue_pos, &pos, pos + 1,
								  memory_order_seq_cst,
								  memory_order_relaxed))
				break;
		} else if (lag < 0) {
			return -1; /* the slot still holds an item from a lap ago: full */
		} else {
			pos = atomic_load_explicit(&ring->enqueue_pos, memory_order_relaxed);
		}
	}
	slot->item = item;
	atomic_store_explicit(&slot->seq, pos + 1, memory_order_release);

	wake_one_consumer(ring);
	return 0;
}

static void *try_dequeue(struct ring *ring)
{
	size_t pos = atomic_load_explicit(&ring->dequeue_pos, memory_order_relaxed);
	struct ring_slot *slot;

	for (;;) {
		slot = &ring->slots[pos & ring->mask];
		size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
		intptr_t lag = (intptr_t)seq - (intptr_t)(pos + 1);
		if (lag == 0) {
			if (atomic_compare_exchange_weak_explicit(&ring->dequeue_pos, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (lag < 0) {
			return NULL; /* empty */
		} else {
			pos = atomic_load_explicit(&ring->dequeue_pos, memory_order_relaxed);
		}
	}
	void *item = slot->item;
	atomic_store_explicit(&slot->seq, pos + ring->mask + 1, memory_order_release);
	return item;
}

void *ring_dequeue(struct ring *ring)
{
	for (;;) {
		for (unsigned spin = 0; spin < ring->consumer_spins; spin++) {
			void *item = try_dequeue(ring);
			if (item != NULL)
				return item;
			cpu_relax();
		}

		/*
		 * Dekker with the producer: this RMW, then the load of enqueue_pos; the producer's
		 * seq_cst claim of a position, then its load of sleeping_consumers. Sleep only if
		 * every claimed position is taken by a consumer already; a position claimed but
		 * not yet filled means the item is about to appear, so spin again instead.
		 */
		pthread_mutex_lock(&ring->lock);
		atomic_fetch_add_explicit(&ring->sleeping_consumers, 1, memory_order_seq_cst);
		size_t claimed = atomic_load_explicit(&ring->enqueue_pos, memory_order_seq_cst);
		size_t taken = atomic_load_explicit(&ring->dequeue_pos, memory_order_relaxed);
		void *item = try_dequeue(ring);
		bool stopping = atomic_load_explicit(&ring->stopping, memory_order_acquire);
		if (item == NULL && claimed == taken && !stopping)
			pthread_cond_wait(&ring->nonempty, &ring->lock);
		atomic_fetch_sub_explicit(&ring->sleeping_consumers, 1, memory_order_relaxed);
		pthread_mutex_unlock(&ring->lock);

		if (item != NULL)
			return item;
		/* a stopped ring is drained first: only an empty one ends the consumer */
		if (stopping)
			return NULL;
	}
}

void ring_stop(struct ring *ring)
{
	pthread_mutex_lock(&ring->lock);
	atomic_store_explicit(&ring->stopping, true, memory_order_release);
	pthread_cond_broadcast(&ring->nonempty);
	pthread_mutex_unlock(&ring->lock);
}
