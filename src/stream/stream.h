/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DRAM state of an open stream and of its regions, shared by the files of the library.
 */

#ifndef PMEMSTREAM_STREAM_H
#define PMEMSTREAM_STREAM_H

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>

#include "libpmemstream.h"

#include "common/errmsg.h"
#include "common/pmem_ops.h"
#include "common/util.h"
#include "layout.h"
#include "op_table.h"
#include "region_index.h"
#include "size_classes.h"
#include "waiters.h"

/*
 * One object per region offset, created when the region is first carved (or found at open)
 * and released only by pmemstream_delete: a region always keeps its offset and size, so a
 * reallocated region gets the same object back, and stale users are told apart by generation.
 */
struct pmemstream_region_runtime {
	struct pmemstream *stream;
	uint64_t offset;
	uint64_t end; /* offset + total size, header included */

	/* Allocator bookkeeping, under stream->alloc_lock; "allocated" is also read lock-free. */
	int allocated;
	uint64_t free_prev;  /* DRAM mirror of the predecessor in the persistent free list */
	uint64_t alloc_prev; /* ... and in the allocated list */

	/*
	 * Under the lock below, but written seldom (open, close, manual reservations) and read
	 * often: kept out of the lock's line, which appenders on other cores keep taking away.
	 */
	int writable;		   /* write-open done (spec 3.4); read lock-free with acquire */
	int closing;		   /* region_free is waiting for in-flight operations */
	uint64_t generation;	   /* new at region_free (region_new_generation); handles and
				      iterators compare it */
	uint64_t reservation_size; /* of the outstanding manual reservation */

	/* The reservation critical section and what every reservation changes. */
	_Alignas(CACHELINE_SIZE) int lock;
	uint64_t append_offset;
	uint64_t zeroed_until;	     /* [append_offset, zeroed_until) is durably zero */
	const void *last_appender;   /* the thread that reserved the last entry */
	uint64_t last_timestamp;     /* highest timestamp handed out for this region */
	uint64_t reservation_offset; /* outstanding manual reservation, or INVALID_OFFSET */
	/*
	 * For entries written as whole lines (append.c): the last reserved entry if it was
	 * a synchronous append (final once its appender returned), and the line the image below
	 * holds, as the last such entry left it; INVALID_OFFSET when unknown.
	 */
	uint64_t own_sync_entry;
	uint64_t line_image_at;
	_Alignas(CACHELINE_SIZE) unsigned char line_image[CACHELINE_SIZE];

	/*
	 * Entry iterators reading the region (entry.c); region_free waits for them, so that
	 * nothing of the region's next allocation is ever read through an iterator of an
	 * earlier one. A line of its own: readers change it, appenders never look at it.
	 */
	_Alignas(CACHELINE_SIZE) unsigned readers;
};

/* Where the terminator behind an entry ending at next ends (cut short by the region end). */
static inline uint64_t terminator_end(const struct pmemstream_region_runtime *rt, uint64_t next)
{
	return rt->end - next < ENTRY_HEADER_SIZE ? rt->end : next + ENTRY_HEADER_SIZE;
}

/* Under rt->lock: nothing is known any more of what lies before the append offset. */
static inline void region_forget_tail(struct pmemstream_region_runtime *rt)
{
	rt->own_sync_entry = INVALID_OFFSET;
	rt->line_image_at = INVALID_OFFSET;
}

struct pmemstream {
	struct pmem_ops ops;
	struct stream_header *header;
	char *data; /* data base: every offset is relative to it */
	uint64_t usable_size;
	uint64_t block_size;
	/* synchronous entries are written as whole lines where they can (append.c) */
	int whole_lines;

	pthread_mutex_t alloc_lock;
	struct region_index index;
	struct size_classes free_classes;

	_Alignas(CACHELINE_SIZE) uint64_t next_timestamp;
	_Alignas(CACHELINE_SIZE) uint64_t committed;
	_Alignas(CACHELINE_SIZE) uint64_t persisted; /* shadow of the durable watermark */
	/* the highest W stored in the header; its storer raises persisted after its fence */
	_Alignas(CACHELINE_SIZE) uint64_t w_stored;
	_Alignas(CACHELINE_SIZE) int commit_lock; /* commit.c: COMMIT_LOCK_* */
	/* the last commit stopped at a copy whose mover will not report completion */
	int commit_waits_silently;
	/*
	 * DRAM image of the header line that holds W (and the allocator's list heads and free
	 * offset): W is made durable by writing the whole line from it with non-temporal stores.
	 * Written only under commit_lock, like the line itself once the stream is open.
	 */
	_Alignas(CACHELINE_SIZE) unsigned char header_line[CACHELINE_SIZE];
	const void *last_w_raiser; /* the thread that raised W over durable entries last */

	struct op_table ops_table;
	struct waiters waiters;
	/* Given to every copy so that a threaded mover reports completion to the waiters. */
	struct future_notifier copy_notifier;
};

static inline void *stream_ptr(struct pmemstream *s, uint64_t offset)
{
	return s->data + offset;
}

static inline struct region_header *region_hdr(struct pmemstream *s, uint64_t offset)
{
	return (struct region_header *)(s->data + offset);
}

/* Header included, as its header says (trusted only once recovery checked it). */
static inline uint64_t region_total_size(struct pmemstream *s, uint64_t offset)
{
	return span_size(pm_load_relaxed(&region_hdr(s, offset)->size_and_type)) +
	       REGION_HEADER_SIZE;
}

static inline struct entry_header *entry_hdr(struct pmemstream *s, uint64_t offset)
{
	return (struct entry_header *)(s->data + offset);
}

static inline uint64_t load_committed(struct pmemstream *s)
{
	return __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE);
}

static inline uint64_t load_persisted(struct pmemstream *s)
{
	return __atomic_load_n(&s->persisted, __ATOMIC_ACQUIRE);
}

/* region.c */
struct pmemstream_region_runtime *region_lookup(struct pmemstream *s, uint64_t offset);
struct pmemstream_region_runtime *region_get(struct pmemstream *s, struct pmemstream_region r,
					     struct pmemstream_region_runtime *given);
/*
 * region_get, also giving the generation it found: a writer re-checks it under the region's
 * lock, so that nothing it began before a free lands in the region allocated again.
 */
struct pmemstream_region_runtime *region_get_at(struct pmemstream *s, struct pmemstream_region r,
						struct pmemstream_region_runtime *given,
						uint64_t *generation);
int region_open_for_write(struct pmemstream_region_runtime *rt);
/* A region generation never drawn before in the process; never 0. */
uint64_t region_new_generation(void);
/* The end of the valid prefix of entries starting at "from" (spec 2.6). */
uint64_t region_valid_end(struct pmemstream *s, struct pmemstream_region_runtime *rt,
			  uint64_t from);
int entry_is_valid(struct pmemstream *s, struct pmemstream_region_runtime *rt, uint64_t offset,
		   uint64_t committed, uint64_t max_valid, uint64_t prev_ts, uint64_t *total,
		   uint64_t *ts_out);
void region_write_terminator(struct pmemstream *s, uint64_t offset, uint64_t end);
uint64_t region_end_after(struct pmemstream *s, struct pmemstream_region_runtime *rt,
			  uint64_t entry, uint64_t total, int extend_window);

/* region_repair.c */
/* Restores region headers zeroed by pmemstream 0.2.1's exact fills; -1 only without memory. */
int region_headers_repair(struct pmemstream *s);

/* allocator.c */
int allocator_recover(struct pmemstream *s);
void allocator_release(struct pmemstream *s);

/* commit.c */
/*
 * Commit rounds (see commit.c) until persisted >= persisted_target or nothing moves any more;
 * 0 without doing anything if another thread holds the commit lock.
 */
int commit_rounds(struct pmemstream *s, uint64_t persisted_target);
/* One commit round at least (C as far as possible); 0 if another thread holds the lock. */
int commit_try(struct pmemstream *s);
/*
 * For a wait future that found the commit lock taken: makes its holder wake the waiters
 * when it releases the lock; 0 if the lock was free (the caller should look again).
 */
int commit_lock_wake_on_release(struct pmemstream *s);
/* Blocks (helping) until committed >= target. */
void commit_until(struct pmemstream *s, uint64_t target);
/* Blocks (helping, or letting the committer serve us) until persisted >= target. */
void persisted_until(struct pmemstream *s, uint64_t target);
/* Back-pressure: waits (helping) until the operation table has room for one more op. */
void commit_make_room(struct pmemstream *s);
/* Polls the copy of an OP_COPY slot; 1 once it completed (falling back to a CPU copy). */
int commit_poll_copy(struct pmemstream *s, struct op_slot *slot);
/* The table slot of an assigned timestamp (helping the committer while it is not free yet). */
struct op_slot *commit_slot(struct pmemstream *s, uint64_t ts);
void copy_notifier_init(struct pmemstream *s);
/* Takes the image of the header line that holds W (at open, before anything writes to it). */
void header_line_load(struct pmemstream *s);
/* Stores and persists a word of that line (the allocator's fields), keeping the image. */
void header_line_store_persist(struct pmemstream *s, uint64_t *word, uint64_t value);
/* true if word lies in that line */
int header_line_holds(struct pmemstream *s, const uint64_t *word);

#endif
