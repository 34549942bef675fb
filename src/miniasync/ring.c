/* SPDX-License-Identifier: BSD-3-Clause */

#include "miniasync/ring.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct ring {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	size_t mask;
	size_t head; /* next slot to dequeue */
	size_t tail; /* next slot to fill */
	unsigned sleeping_consumers;
	bool stopping;
	void *slots[];
};

struct ring *ring_new(size_t size)
{
	if (size == 0 || (size & (size - 1)) != 0)
		return NULL;

	struct ring *ring = calloc(1, sizeof(*ring) + size * sizeof(void *));
	if (ring == NULL)
		return NULL;
	if (pthread_mutex_init(&ring->lock, NULL) != 0) {
		free(ring);
		return NULL;
	}
	if (pthread_cond_init(&ring->nonempty, NULL) != 0) {
		pthread_mutex_destroy(&ring->lock);
		free(ring);
		return NULL;
	}
	ring->mask = size - 1;
	return ring;
}

void ring_delete(struct ring *ring)
{
	if (ring == NULL)
		return;
	pthread_cond_destroy(&ring->nonempty);
	pthread_mutex_destroy(&ring->lock);
	free(ring);
}

int ring_try_enqueue(struct ring *ring, void *item)
{
	pthread_mutex_lock(&ring->lock);
	if (ring->tail - ring->head > ring->mask) {
		pthread_mutex_unlock(&ring->lock);
		return -1;
	}
	ring->slots[ring->tail & ring->mask] = item;
	ring->tail++;
	if (ring->sleeping_consumers > 0)
		pthread_cond_signal(&ring->nonempty);
	pthread_mutex_unlock(&ring->lock);
	return 0;
}

void *ring_dequeue(struct ring *ring)
{
	void *item = NULL;

	pthread_mutex_lock(&ring->lock);
	while (ring->head == ring->tail && !ring->stopping) {
		ring->sleeping_consumers++;
		pthread_cond_wait(&ring->nonempty, &ring->lock);
		ring->sleeping_consumers--;
	}
	if (ring->head != ring->tail) {
		item = ring->slots[ring->head & ring->mask];
		ring->head++;
	}
	pthread_mutex_unlock(&ring->lock);
	return item;
}

void ring_stop(struct ring *ring)
{
	pthread_mutex_lock(&ring->lock);
	ring->stopping = true;
	pthread_cond_broadcast(&ring->nonempty);
	pthread_mutex_unlock(&ring->lock);
}
