/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The least a synchronous log append can do, with no bookkeeping: the entry (16-byte header,
 * payload, zero terminator) written as whole cache lines and fenced, then a watermark that
 * covers it made durable with a second fence -- the protocol libpmemstream runs, without the
 * library around it. With several writers they share one watermark, as the stream's writers
 * do, and raise it by group commit: one watermark persist covers every entry durable by then.
 * The gap between this and a stream append is the library's own cost; the scaling of this
 * from 1 to 2 writers is the most a log with one watermark can scale on the machine.
 */

#ifndef BENCH_STREAM_RAW_PROTOCOL_H
#define BENCH_STREAM_RAW_PROTOCOL_H

#include <libpmem2.h>
#include <stddef.h>
#include <stdint.h>

#define RAW_LINE	 64
#define RAW_MAX_WRITERS	 2
#define RAW_DURABLE_RING 4096 /* timestamps that may be in flight at once */

/* One log in one mapped file: the watermark's line first, then an area per writer. */
struct raw_log {
	char *base;
	size_t size;
	int writers;
	pmem2_memcpy_fn memcpy_fn;
	pmem2_drain_fn drain_fn;
	pmem2_flush_fn flush_fn;
	_Alignas(RAW_LINE) uint64_t next_timestamp;
	_Alignas(RAW_LINE) int commit_lock;
	uint64_t committed;		/* under commit_lock */
	const void *last_raiser;	/* under commit_lock */
	unsigned char w_line[RAW_LINE]; /* the watermark line as last stored, under commit_lock */
	_Alignas(RAW_LINE) uint64_t w_stored;
	_Alignas(RAW_LINE) uint64_t persisted;
	_Alignas(RAW_LINE) uint64_t durable[RAW_DURABLE_RING]; /* timestamp, once its entry is */
};

/* One writer's place in its area, and the last line it wrote (the next entry's prefix). */
struct raw_writer {
	size_t start, end, offset;
	unsigned char image[RAW_LINE];
};

void raw_log_init(struct raw_log *log, struct pmem2_map *map, int writers);

/* index < log->writers */
void raw_writer_init(const struct raw_log *log, struct raw_writer *w, int index);

/* Makes one entry of size payload bytes durable and covered by a durable watermark. */
void raw_append(struct raw_log *log, struct raw_writer *w, const unsigned char *payload,
		size_t size);

#endif
