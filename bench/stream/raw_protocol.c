/* SPDX-License-Identifier: BSD-3-Clause */

#include "raw_protocol.h"

#include <immintrin.h>
#include <string.h>

#define ENTRY_HEADER 16
#define TERMINATOR   8
#define ENTRY_TYPE   (2ULL << 62)
#define STAGED_LINES 4 /* entries up to this many lines are built in DRAM whole */
#define EDGE_LINES   2 /* bigger ones: this many lines at each end, the rest copied directly */

#define ALIGN_DOWN_LINE(x) ((x) & ~(size_t)(RAW_LINE - 1))
#define ALIGN_UP_LINE(x)   ALIGN_DOWN_LINE((x) + RAW_LINE - 1)

void raw_log_init(struct raw_log *log, struct pmem2_map *map, int writers)
{
	memset(log, 0, sizeof(*log));
	log->base = pmem2_map_get_address(map);
	log->size = pmem2_map_get_size(map);
	log->writers = writers;
	log->memcpy_fn = pmem2_get_memcpy_fn(map);
	log->drain_fn = pmem2_get_drain_fn(map);
	log->flush_fn = pmem2_get_flush_fn(map);
	log->next_timestamp = 1;
	/* timestamp 0 never exists: its slot must not look durable */
	log->durable[0] = UINT64_MAX;
}

void raw_writer_init(const struct raw_log *log, struct raw_writer *w, int index)
{
	size_t area = ALIGN_DOWN_LINE((log->size - RAW_LINE) / (size_t)log->writers);
	w->start = RAW_LINE + (size_t)index * area;
	w->end = w->start + area;
	w->offset = w->start;
	memset(w->image, 0, sizeof(w->image));
}

/* The bytes of the entry at entry_off as they belong at [from, from + len) of the file. */
static void render(unsigned char *dst, size_t from, size_t len, size_t entry_off,
		   const unsigned char *header, const unsigned char *payload, size_t size)
{
	for (size_t i = 0; i < len;) {
		size_t at = from + i;
		size_t n;
		if (at < entry_off) {
			n = entry_off - at;
			if (n > len - i)
				n = len - i;
			memset(dst + i, 0, n); /* overwritten by the prefix below */
		} else if (at < entry_off + ENTRY_HEADER) {
			size_t k = at - entry_off;
			n = ENTRY_HEADER - k < len - i ? ENTRY_HEADER - k : len - i;
			memcpy(dst + i, header + k, n);
		} else if (at < entry_off + ENTRY_HEADER + size) {
			size_t k = at - entry_off - ENTRY_HEADER;
			n = size - k < len - i ? size - k : len - i;
			memcpy(dst + i, payload + k, n);
		} else {
			n = len - i;
			memset(dst + i, 0, n);
		}
		i += n;
	}
}

static void write_entry(struct raw_log *log, struct raw_writer *w, size_t off, size_t total,
			uint64_t ts, const unsigned char *payload, size_t size)
{
	unsigned char header[ENTRY_HEADER];
	uint64_t size_and_type = size | ENTRY_TYPE;
	memcpy(header, &size_and_type, 8);
	memcpy(header + 8, &ts, 8);

	size_t first = ALIGN_DOWN_LINE(off);
	size_t end = ALIGN_UP_LINE(off + total + TERMINATOR);
	unsigned flags = PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN;
	_Alignas(RAW_LINE) unsigned char lines[STAGED_LINES * RAW_LINE];
	size_t edge = end - first <= sizeof(lines) ? end - first : EDGE_LINES * RAW_LINE;

	render(lines, first, edge, off, header, payload, size);
	memcpy(lines, w->image, off - first); /* the earlier entry's bytes in the first line */
	log->memcpy_fn(log->base + first, lines, edge, flags);
	size_t lines_at = first;
	if (edge < end - first) {
		size_t body = first + edge, tail = end - edge;
		log->memcpy_fn(log->base + body, payload + (body - off - ENTRY_HEADER), tail - body,
			       flags);
		render(lines, tail, edge, off, header, payload, size);
		log->memcpy_fn(log->base + tail, lines, edge, flags);
		lines_at = tail;
	}
	log->drain_fn();
	/* the line the next entry starts in (the terminator may reach into the one after) */
	memcpy(w->image, lines + (ALIGN_DOWN_LINE(off + total) - lines_at), RAW_LINE);
}

static int try_lock(int *lock)
{
	return __atomic_load_n(lock, __ATOMIC_RELAXED) == 0 &&
	       __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0;
}

static _Thread_local char Raiser_id;

/* Raises W over every durable entry from committed + 1 on; 0 if there was nothing to raise. */
static int raise_watermark(struct raw_log *log)
{
	uint64_t c = log->committed;
	while (__atomic_load_n(&log->durable[(c + 1) % RAW_DURABLE_RING], __ATOMIC_ACQUIRE) ==
	       c + 1)
		c++;
	if (c == log->committed)
		return 0;
	log->committed = c;
	memcpy(log->w_line, &c, sizeof(c));
	__atomic_store_n(&log->w_stored, c, __ATOMIC_RELAXED);
	int alone = log->last_raiser == &Raiser_id;
	log->last_raiser = &Raiser_id;
	if (alone) {
		/* as the stream's lone writer: the line non-temporal, fenced under the lock */
		log->memcpy_fn(log->base, log->w_line, RAW_LINE,
			       PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN);
		log->drain_fn();
		__atomic_store_n(&log->commit_lock, 0, __ATOMIC_RELEASE);
	} else {
		/* alternating writers fence at the same time, outside the lock */
		__atomic_store_n((uint64_t *)(void *)log->base, c, __ATOMIC_RELAXED);
		__atomic_store_n(&log->commit_lock, 0, __ATOMIC_RELEASE);
		log->flush_fn(log->base, sizeof(uint64_t));
		log->drain_fn();
	}
	uint64_t seen = __atomic_load_n(&log->persisted, __ATOMIC_RELAXED);
	while (seen < c && !__atomic_compare_exchange_n(&log->persisted, &seen, c, 1,
							__ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return 1;
}

void raw_append(struct raw_log *log, struct raw_writer *w, const unsigned char *payload,
		size_t size)
{
	size_t total = ENTRY_HEADER + ((size + 7) & ~(size_t)7);
	if (w->offset + total + TERMINATOR > w->end)
		w->offset = w->start; /* the area's first line holds nothing of an earlier entry */
	size_t off = w->offset;
	w->offset += total;

	uint64_t ts = __atomic_fetch_add(&log->next_timestamp, 1, __ATOMIC_RELAXED);
	write_entry(log, w, off, total, ts, payload, size);
	__atomic_store_n(&log->durable[ts % RAW_DURABLE_RING], ts, __ATOMIC_RELEASE);

	while (__atomic_load_n(&log->persisted, __ATOMIC_ACQUIRE) < ts) {
		if (__atomic_load_n(&log->w_stored, __ATOMIC_RELAXED) >= ts ||
		    !try_lock(&log->commit_lock)) {
			_mm_pause(); /* a raise covering ts is on its way, or somebody is raising */
			continue;
		}
		if (!raise_watermark(log))
			__atomic_store_n(&log->commit_lock, 0, __ATOMIC_RELEASE);
	}
}
