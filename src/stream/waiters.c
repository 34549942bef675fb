/* SPDX-License-Identifier: BSD-3-Clause */

#include "waiters.h"

#include <errno.h>
#include <stdlib.h>

int waiters_init(struct waiters *w)
{
	*w = (struct waiters){.next_id = 1};
	int ret = pthread_mutex_init(&w->lock, NULL);
	if (ret != 0) {
		errno = ret;
		return -1;
	}
	return 0;
}

void waiters_release(struct waiters *w)
{
	pthread_mutex_destroy(&w->lock);
	free(w->list);
	w->list = NULL;
}

static void publish_count(struct waiters *w)
{
	__atomic_store_n(&w->registered, w->count, __ATOMIC_SEQ_CST);
}

int waiters_register(struct waiters *w, uint64_t *id, uint64_t timestamp, struct future_waker waker)
{
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	struct waiter *found = NULL;
	if (*id != 0) {
		for (size_t i = 0; i < w->count; i++) {
			if (w->list[i].id == *id) {
				found = &w->list[i];
				break;
			}
		}
	}
	if (found == NULL) {
		if (w->count == w->capacity) {
			size_t cap = w->capacity ? w->capacity * 2 : 8;
			struct waiter *list = realloc(w->list, cap * sizeof(*list));
			if (list == NULL) {
				ret = -1;
				goto out;
			}
			w->list = list;
			w->capacity = cap;
		}
		if (*id == 0)
			*id = w->next_id++;
		found = &w->list[w->count++];
		found->id = *id;
	}
	found->timestamp = timestamp;
	found->waker = waker;
	publish_count(w);
out:
	pthread_mutex_unlock(&w->lock);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ret;
}

static void remove_at(struct waiters *w, size_t i)
{
	w->list[i] = w->list[--w->count];
}

void waiters_unregister(struct waiters *w, uint64_t id)
{
	if (id == 0)
		return;
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->count; i++) {
		if (w->list[i].id == id) {
			remove_at(w, i);
			break;
		}
	}
	publish_count(w);
	pthread_mutex_unlock(&w->lock);
}

void waiters_wake(struct waiters *w, uint64_t reached)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	waiters_wake_fenced(w, reached);
}

void waiters_wake_fenced(struct waiters *w, uint64_t reached)
{
	if (__atomic_load_n(&w->registered, __ATOMIC_RELAXED) == 0)
		return;

	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->count;) {
		if (w->list[i].timestamp <= reached) {
			struct future_waker waker = w->list[i].waker;
			remove_at(w, i);
			FUTURE_WAKER_WAKE(&waker);
		} else {
			i++;
		}
	}
	publish_count(w);
	pthread_mutex_unlock(&w->lock);
}
