/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bounded multi-producer, multi-consumer queue of pointers. Producers never wait for
 * space (a full ring is reported); consumers sleep until an item arrives or the ring stops.
 */

#ifndef MINIASYNC_RING_H
#define MINIASYNC_RING_H

#include <stddef.h>

struct ring;

/* size must be a power of two */
struct ring *ring_new(size_t size);
void ring_delete(struct ring *ring);

/* 0 on success, -1 when the ring is full */
int ring_try_enqueue(struct ring *ring, void *item);

/* Blocks; returns NULL only once the ring is stopped and drained. */
void *ring_dequeue(struct ring *ring);

/* Wakes every consumer; items already queued are still handed out. */
void ring_stop(struct ring *ring);

#endif
