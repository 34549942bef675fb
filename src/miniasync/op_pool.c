/* SPDX-License-Identifier: BSD-3-Clause */

#include "miniasync/op_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CHUNK_RECORDS 1024
#define MAX_CHUNKS    1024

/*
 * The free list is a Treiber stack of record indices. Its head packs a generation tag with
 * the index (+1, so that 0 means empty): the tag changes on every push, which defeats ABA.
 */
#define HEAD_INDEX_BITS 32
#define HEAD_INDEX_MASK ((UINT64_C(1) << HEAD_INDEX_BITS) - 1)

struct record_header {
	struct op_pool *pool;
	_Atomic uint32_t next; /* index + 1 of the next free record, 0 at the end */
	uint32_t index;
};

/* Payloads start a cache line into the record so that records never share a line. */
#define PAYLOAD_OFFSET CACHELINE_SIZE

struct op_pool {
	_Atomic uint64_t free_head;
	size_t record_size;
	size_t max_chunks;
	pthread_mutex_t grow_lock;
	_Atomic size_t nchunks;
	char *chunks[MAX_CHUNKS];
};

static struct record_header *record_at(struct op_pool *pool, uint32_t index)
{
	char *chunk = pool->chunks[index / CHUNK_RECORDS];
	return (struct record_header *)(chunk +
					(size_t)(index % CHUNK_RECORDS) * pool->record_size);
}

struct op_pool *op_pool_new(size_t payload_size, size_t capacity)
{
	struct op_pool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;

	pool->record_size = ALIGN_UP(PAYLOAD_OFFSET + payload_size, (size_t)CACHELINE_SIZE);
	pool->max_chunks = (capacity + CHUNK_RECORDS - 1) / CHUNK_RECORDS;
	if (pool->max_chunks == 0)
		pool->max_chunks = 1;
	if (pool->max_chunks > MAX_CHUNKS)
		pool->max_chunks = MAX_CHUNKS;
	if (pthread_mutex_init(&pool->grow_lock, NULL) != 0) {
		free(pool);
		return NULL;
	}
	return pool;
}

void op_pool_delete(struct op_pool *pool)
{
	if (pool == NULL)
		return;
	size_t nchunks = atomic_load(&pool->nchunks);
	for (size_t i = 0; i < nchunks; i++)
		free(pool->chunks[i]);
	pthread_mutex_destroy(&pool->grow_lock);
	free(pool);
}

static void push_free(struct op_pool *pool, struct record_header *record)
{
	uint64_t head = atomic_load_explicit(&pool->free_head, memory_order_relaxed);
	uint64_t new_head;
	do {
		atomic_store_explicit(&record->next, (uint32_t)(head & HEAD_INDEX_MASK),
				      memory_order_relaxed);
		uint64_t tag = (head >> HEAD_INDEX_BITS) + 1;
		new_head = (tag << HEAD_INDEX_BITS) | ((uint64_t)record->index + 1);
	} while (!atomic_compare_exchange_weak_explicit(
		&pool->free_head, &head, new_head, memory_order_release, memory_order_relaxed));
}

static struct record_header *pop_free(struct op_pool *pool)
{
	uint64_t head = atomic_load_explicit(&pool->free_head, memory_order_acquire);
	for (;;) {
		uint32_t index_plus_one = (uint32_t)(head & HEAD_INDEX_MASK);
		if (index_plus_one == 0)
			return NULL;
		struct record_header *record = record_at(pool, index_plus_one - 1);
		uint64_t next = atomic_load_explicit(&record->next, memory_order_relaxed);
		uint64_t new_head = (head & ~HEAD_INDEX_MASK) | next;
		if (atomic_compare_exchange_weak_explicit(&pool->free_head, &head, new_head,
							  memory_order_acquire,
							  memory_order_acquire))
			return record;
	}
}

/* Adds one chunk, keeps its first record for the caller and frees the rest. */
static struct record_header *grow(struct op_pool *pool)
{
	struct record_header *mine = NULL;

	pthread_mutex_lock(&pool->grow_lock);
	/* another thread may have grown the pool while this one waited */
	mine = pop_free(pool);
	size_t nchunks = atomic_load_explicit(&pool->nchunks, memory_order_relaxed);
	if (mine == NULL && nchunks < pool->max_chunks) {
		/* line-aligned, so that payloads may lay out their fields by cache line */
		size_t chunk_size = CHUNK_RECORDS * pool->record_size;
		char *chunk = aligned_alloc(CACHELINE_SIZE, chunk_size);
		if (chunk != NULL) {
			memset(chunk, 0, chunk_size);
			pool->chunks[nchunks] = chunk;
			atomic_store_explicit(&pool->nchunks, nchunks + 1, memory_order_release);
			for (uint32_t i = 0; i < CHUNK_RECORDS; i++) {
				struct record_header *record =
					(struct record_header *)(chunk + i * pool->record_size);
				record->pool = pool;
				record->index = (uint32_t)(nchunks * CHUNK_RECORDS + i);
				if (i == 0)
					mine = record;
				else
					push_free(pool, record);
			}
		}
	}
	pthread_mutex_unlock(&pool->grow_lock);
	return mine;
}

void *op_pool_get(struct op_pool *pool)
{
	struct record_header *record = pop_free(pool);
	if (record == NULL)
		record = grow(pool);
	if (record == NULL)
		return NULL;

	char *payload = (char *)record + PAYLOAD_OFFSET;
	memset(payload, 0, pool->record_size - PAYLOAD_OFFSET);
	return payload;
}

void op_pool_put(void *payload)
{
	struct record_header *record = (struct record_header *)((char *)payload - PAYLOAD_OFFSET);
	push_free(record->pool, record);
}
