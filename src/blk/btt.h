/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time state of the Block Translation Table over the pool's namespace, and the
 * operations on it. Lane L owns flog pair L and read-tracking slot L of every arena; the
 * read-only lanes that follow the nlane lanes own an RTT slot only.
 */

#ifndef PMEMBLK_BTT_H
#define PMEMBLK_BTT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "blk/btt_layout.h"
#include "blk/pool_file.h"
#include "common/util.h"

/* RTT slot value while the lane reads nothing: never a NORMAL map entry */
#define BTT_RTT_IDLE BTT_MAP_ENTRY_ERROR

/*
 * RTT slots beyond the lanes, for synchronous reads that find every lane taken (maybe by
 * pending futures of their own thread). One is enough to always make progress, and each
 * one more is a slot every write has to check.
 */
#define BTT_READ_ONLY_LANES 1

/* btt_write's answer when its lane's free block stayed in use: nothing was written */
#define BTT_FREE_BLOCK_BUSY 1

/* Run-time copy of one flog pair; touched only by the holder of its lane. */
struct btt_flog_rt {
	struct btt_flog cur;	  /* the current (last committed) entry */
	struct btt_flog *slot[2]; /* the pair on media */
	unsigned next;		  /* slot the next update writes */
	uint32_t *unflushed_map;  /* map entry this lane stored and has not flushed yet */
} __attribute__((aligned(CACHELINE_SIZE)));

struct btt_rtt_slot {
	_Atomic uint32_t entry;
} __attribute__((aligned(CACHELINE_SIZE)));

struct btt_map_lock {
	pthread_mutex_t mutex;
	/*
	 * The one map store made under this lock that may not be durable yet (lazy map flush,
	 * see btt_io.c) and the lane that made it; NULL when all of them are.
	 */
	uint32_t *pending_entry;
	unsigned pending_lane;
} __attribute__((aligned(CACHELINE_SIZE)));

struct btt_arena {
	char *base; /* arena start in the mapping */
	uint64_t size;
	uint32_t external_nlba;
	uint32_t internal_nlba;
	uint32_t internal_lbasize;
	uint32_t nfree;
	uint64_t infooff;
	char *data;
	uint32_t *map;
	struct btt_flog *flog;
	_Atomic uint32_t flags; /* BTTINFO_FLAG_ERROR once the arena refuses changes */
	pthread_mutex_t info_lock;
	struct btt_flog_rt *flogs;	/* nfree pairs */
	struct btt_rtt_slot *rtt;	/* btt_nrtt() slots */
	struct btt_map_lock *map_locks; /* nfree locks */
};

struct btt {
	struct pool_file *file;
	char *ns; /* namespace start in the mapping */
	uint64_t rawsize;
	uint32_t bsize; /* external block size */
	uint8_t parent_uuid[BTTINFO_UUID_LEN];
	bool is_zeroed; /* the namespace is known to be zero: no map zeroing at layout */
	bool rdonly;	/* nothing may be written to the file */
	/*
	 * Map entries are flushed lazily (see btt_write) on cache-flush platforms; on msync
	 * ones every persist is a system call anyway, so each map store is persisted at once.
	 */
	bool lazy_map_flush;
	unsigned narena;
	uint64_t nlba;
	unsigned nlane;
	atomic_bool laid_out;
	pthread_mutex_t layout_lock;
	struct btt_arena *arenas;
};

/* Reads (and repairs, unless rdonly) the layout and runs flog recovery. */
int btt_init(struct btt *b, struct pool_file *file, uint64_t ns_off, uint32_t bsize,
	     const uint8_t parent_uuid[BTTINFO_UUID_LEN], bool is_zeroed, bool rdonly,
	     unsigned max_lanes);

/* Flushes what is still pending and frees the run-time state. */
void btt_fini(struct btt *b);

/* lane may be a read-only lane: a read uses nothing but the lane's RTT slot */
int btt_read(struct btt *b, unsigned lane, uint64_t lba, void *buf);

/*
 * 0, -1 with errno, or BTT_FREE_BLOCK_BUSY when a reader kept the lane's free block for a
 * while: that reader may be a pending future only the caller's thread can complete, so the
 * caller should retry on another lane.
 */
int btt_write(struct btt *b, unsigned lane, uint64_t lba, const void *buf);
int btt_set_zero(struct btt *b, unsigned lane, uint64_t lba);
int btt_set_error(struct btt *b, unsigned lane, uint64_t lba);

/* 1 consistent, 0 not, -1 with errno */
int btt_check(struct btt *b);

/* internals shared by the files of the BTT */

/* Writes a fresh layout (first write); caller holds layout_lock. */
int btt_format(struct btt *b);

/* Builds the run-time arenas from valid info blocks and runs flog recovery. */
int btt_load_arenas(struct btt *b, const struct btt_info *infos, unsigned narena);
void btt_free_arenas(struct btt *b);

/* Lays the namespace out if this is the first change; 0 or -1 with errno. */
int btt_ensure_layout(struct btt *b);

/* RTT slots per arena: one per lane, then the read-only lanes */
static inline unsigned btt_nrtt(const struct btt *b)
{
	return b->nlane + BTT_READ_ONLY_LANES;
}

/* range check (-1/EINVAL); arena and pre-map LBA of an external LBA */
int btt_lba_check_failed(const struct btt *b);
static inline int btt_lba_check(const struct btt *b, uint64_t lba)
{
	return likely(lba < b->nlba) ? 0 : btt_lba_check_failed(b);
}

static inline struct btt_arena *btt_lba_to_arena(struct btt *b, uint64_t lba, uint32_t *premap_lba)
{
	struct btt_arena *a = b->arenas;
	while (lba >= a->external_nlba) {
		lba -= a->external_nlba;
		a++;
	}
	*premap_lba = (uint32_t)lba;
	return a;
}

/* -1/EIO if the arena refuses changes */
int btt_arena_writable(struct btt_arena *a);

/* the free block lane holds in arena a, as the NORMAL map entry it will become */
static inline uint32_t btt_free_entry(const struct btt_arena *a, unsigned lane)
{
	return (a->flogs[lane].cur.old_map & BTT_MAP_ENTRY_LBA_MASK) | BTT_MAP_ENTRY_NORMAL;
}

static inline char *btt_block_address(const struct btt_arena *a, uint32_t entry)
{
	return a->data + (uint64_t)(entry & BTT_MAP_ENTRY_LBA_MASK) * a->internal_lbasize;
}

/* true while some reader copies from the block of free_entry */
bool btt_block_in_use(const struct btt *b, const struct btt_arena *a, uint32_t free_entry);

/*
 * Switches pre-map LBA premap_lba to free_entry, whose data has been copied (not yet
 * drained): the durable flog update and the map store. The data becomes durable in
 * the same drain as the first flog half. -1/EIO (nothing changed) if the block's current
 * map entry is damaged.
 */
int btt_commit(struct btt *b, struct btt_arena *a, unsigned lane, uint32_t premap_lba,
	       uint32_t free_entry, const void *data, size_t data_len);

/*
 * One attempt of the read protocol: publishes the map entry in the lane's RTT slot and
 * re-validates it. Returns the NORMAL entry to copy from (slot published), or 0 after
 * handling a zero block (*zero set) or an error entry (-1 in *err, errno EIO).
 */
uint32_t btt_read_begin(struct btt_arena *a, unsigned lane, uint32_t premap_lba, bool *zero,
			int *err);

/*
 * The read protocol's core: publishes the entry premap_lba maps to in the lane's RTT
 * slot, repeating until the map still holds it afterwards, and returns it (of any
 * kind: a zero or error entry in the slot matches no writer's free block, so the checks
 * on the entry need not hold up the publication).
 */
static inline uint32_t btt_read_publish(struct btt_arena *a, unsigned lane, uint32_t premap_lba)
{
	_Atomic uint32_t *slot = &a->rtt[lane].entry;
	uint32_t *map_entry = &a->map[premap_lba];
	uint32_t entry = __atomic_load_n(map_entry, __ATOMIC_ACQUIRE);
	for (;;) {
		/* a writer that replaced the entry meanwhile may have handed its block out */
		atomic_store_explicit(slot, entry, memory_order_seq_cst);
		uint32_t latest = __atomic_load_n(map_entry, __ATOMIC_SEQ_CST);
		if (likely(latest == entry))
			return entry;
		entry = latest;
	}
}

/* a NORMAL entry naming a block of the arena: copy it */
static inline bool btt_entry_is_data(const struct btt_arena *a, uint32_t entry)
{
	return (entry & BTT_MAP_ENTRY_FLAGS_MASK) == BTT_MAP_ENTRY_NORMAL &&
	       (entry & BTT_MAP_ENTRY_LBA_MASK) < a->internal_nlba;
}

static inline void btt_read_end(struct btt_arena *a, unsigned lane)
{
	atomic_store_explicit(&a->rtt[lane].entry, BTT_RTT_IDLE, memory_order_release);
}

#endif
