/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block reads and writes through the BTT.
 *
 * Write protocol (each step durable before the next, as on-media PMDK compatibility
 * requires): data into the lane's free block and the flog entry's first half {lba,
 * old_map}; then {new_map, seq}, which commits the write; then the map entry.
 * Two drains per write instead of PMDK's four:
 *  - the data and the first flog half have no order between them (neither means
 *    anything before seq is written), so they share one drain;
 *  - the map store is not drained at all on cache-flush platforms. A committed flog
 *    entry whose map update is lost is completed by recovery at the next open, exactly
 *    as PMDK does, provided the entry is still current and it is the only such entry
 *    for its LBA. Both hold because the map entry is made durable before either can
 *    change: before the lane's next commit in the arena (which replaces the entry) the
 *    lane flushes its unflushed map entry, and before any commit under a map lock the
 *    writer flushes the store another lane left pending under that lock (at most one:
 *    each commit under the lock flushes the one before) — both in the first drain.
 *
 * The map store itself is a plain store: a locked instruction there cost 10% of a 4 KiB
 * write on AMD EPYC. Its ordering against readers comes from the fence in
 * btt_block_in_use, which runs before the block it freed can be reused.
 */

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "blk/btt.h"
#include "blk/btt_info.h"
#include "common/errmsg.h"

/* 8-byte stores into a struct of 32-bit fields, without breaking aliasing rules */
typedef uint64_t __attribute__((may_alias)) u64_alias;

int btt_lba_check_failed(const struct btt *b)
{
	errmsg_set(EINVAL, "lba out of range (nlba %llu)", (unsigned long long)b->nlba);
	return -1;
}

int btt_arena_writable(struct btt_arena *a)
{
	uint32_t flags = atomic_load_explicit(&a->flags, memory_order_relaxed);
	if (unlikely(flags & BTTINFO_FLAG_ERROR_MASK)) {
		errmsg_set(EIO, "EIO due to btt_info error flags 0x%x",
			   flags & BTTINFO_FLAG_ERROR_MASK);
		return -1;
	}
	return 0;
}

bool btt_block_in_use(const struct btt *b, const struct btt_arena *a, uint32_t free_entry)
{
	/*
	 * Orders the map store that freed the block (commit_locked, in this lane's previous
	 * write, which happens before this through the lane's handoff) before the loads below;
	 * a reader orders its slot store before its map reload (btt_read_publish). So either
	 * the reader sees the new map entry, or this sees the reader's slot.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	unsigned nrtt = btt_nrtt(b);
	for (unsigned i = 0; i < nrtt; i++)
		if (atomic_load_explicit(&a->rtt[i].entry, memory_order_seq_cst) == free_entry)
			return true;
	return false;
}

static struct btt_map_lock *map_lock_of(struct btt_arena *a, uint32_t premap_lba)
{
	/* one lock per map cache line, as PMDK */
	uint32_t line = premap_lba / (BTT_MAP_LOCK_ALIGN / BTT_MAP_ENTRY_SIZE);
	return &a->map_locks[line % a->nfree];
}

/* A map entry naming a block the arena does not have: damaged media, never used. */
static int entry_out_of_range(const struct btt_arena *a, uint32_t entry, uint32_t premap_lba)
{
	if (likely((entry & BTT_MAP_ENTRY_LBA_MASK) < a->internal_nlba))
		return 0;
	errmsg_set(EIO, "EIO due to map entry 0x%x of block %u beyond the arena", entry,
		   premap_lba);
	return 1;
}

/* btt_commit with the map lock of premap_lba held; the data is in the free block, flushed */
static int commit_locked(struct btt *b, struct btt_arena *a, unsigned lane, uint32_t premap_lba,
			 uint32_t free_entry, struct btt_map_lock *lock)
{
	const struct pmem_ops *ops = &b->file->ops;
	struct btt_flog_rt *rt = &a->flogs[lane];
	uint32_t *map_entry = &a->map[premap_lba];

	uint32_t old_entry = __atomic_load_n(map_entry, __ATOMIC_RELAXED);
	if (map_entry_is_initial(old_entry))
		old_entry = premap_lba | BTT_MAP_ENTRY_NORMAL;
	/* it would become this lane's free block: refuse rather than write outside the arena */
	if (unlikely(entry_out_of_range(a, old_entry, premap_lba))) {
		pthread_mutex_unlock(&lock->mutex);
		return -1;
	}

	struct btt_flog *flog = rt->slot[rt->next];
	u64_alias *first_half = (u64_alias *)(void *)&flog->lba;
	u64_alias *second_half = (u64_alias *)(void *)&flog->new_map;

	__atomic_store_n(first_half, (uint64_t)premap_lba | (uint64_t)old_entry << 32,
			 __ATOMIC_RELAXED);
	ops->flush(flog, sizeof(uint64_t));
	if (b->lazy_map_flush) {
		/* this lane's own pending store, if any, is rt->unflushed_map or already durable */
		if (lock->pending_entry != NULL && lock->pending_lane != lane)
			ops->flush(lock->pending_entry, sizeof(uint32_t));
		if (rt->unflushed_map != NULL)
			ops->flush(rt->unflushed_map, sizeof(uint32_t));
	}
	ops->drain();

	uint32_t seq = btt_seq_next(rt->cur.seq);
	__atomic_store_n(second_half, (uint64_t)free_entry | (uint64_t)seq << 32, __ATOMIC_RELAXED);
	ops->flush(second_half, sizeof(uint64_t));
	ops->drain();

	__atomic_store_n(map_entry, free_entry, __ATOMIC_RELEASE);
	if (b->lazy_map_flush) {
		rt->unflushed_map = map_entry;
		lock->pending_entry = map_entry;
		lock->pending_lane = lane;
	} else {
		ops->persist(map_entry, sizeof(*map_entry));
	}
	pthread_mutex_unlock(&lock->mutex);

	rt->cur.lba = premap_lba;
	rt->cur.old_map = old_entry;
	rt->cur.new_map = free_entry;
	rt->cur.seq = seq;
	rt->next = 1 - rt->next;
	return 0;
}

int btt_commit(struct btt *b, struct btt_arena *a, unsigned lane, uint32_t premap_lba,
	       uint32_t free_entry, const void *data, size_t data_len)
{
	if (data != NULL)
		b->file->ops.flush(data, data_len);
	struct btt_map_lock *lock = map_lock_of(a, premap_lba);
	pthread_mutex_lock(&lock->mutex);
	return commit_locked(b, a, lane, premap_lba, free_entry, lock);
}

/* rounds a writer waits for the readers of its free block: 128 pauses, then yields */
#define BTT_FREE_BLOCK_SPINS  256
#define BTT_FREE_BLOCK_PAUSES 128

/*
 * Waits for readers of the lane's free block, but not for ever: a reader that keeps it
 * may be a pending read future of the writer's own thread (spec 4.6).
 */
static bool free_block_released(const struct btt *b, const struct btt_arena *a, uint32_t free_entry)
{
	for (unsigned spins = 0; btt_block_in_use(b, a, free_entry); spins++) {
		if (spins == BTT_FREE_BLOCK_SPINS)
			return false;
		pause_or_yield(spins, BTT_FREE_BLOCK_PAUSES);
	}
	return true;
}

int btt_write(struct btt *b, unsigned lane, uint64_t lba, const void *buf)
{
	if (btt_lba_check(b, lba) != 0 || btt_ensure_layout(b) != 0)
		return -1;

	uint32_t premap_lba;
	struct btt_arena *a = btt_lba_to_arena(b, lba, &premap_lba);
	if (btt_arena_writable(a) != 0)
		return -1;
	/* the map entry is needed after the copy: let its cache miss overlap the copy */
	__builtin_prefetch(&a->map[premap_lba], 1, 3);

	/* the lane's free block may still be copied by a reader that found it mapped */
	uint32_t free_entry = btt_free_entry(a, lane);
	if (unlikely(!free_block_released(b, a, free_entry)))
		return BTT_FREE_BLOCK_BUSY;

	/*
	 * The lock first: its locked instruction would otherwise wait for the copy's
	 * non-temporal stores like a fence, and the flog's first fence does that anyway.
	 */
	struct btt_map_lock *lock = map_lock_of(a, premap_lba);
	pthread_mutex_lock(&lock->mutex);
	b->file->ops.memcpy(btt_block_address(a, free_entry), buf, b->bsize, PMEM2_F_MEM_NODRAIN);
	return commit_locked(b, a, lane, premap_lba, free_entry, lock);
}

/* what a reader does with a map entry */
enum entry_kind { ENTRY_DATA, ENTRY_ZERO, ENTRY_FAILED };

/* ENTRY_DATA exactly when btt_entry_is_data; errno set for ENTRY_FAILED */
static enum entry_kind classify(const struct btt_arena *a, uint32_t entry, uint32_t premap_lba)
{
	if (btt_entry_is_data(a, entry))
		return ENTRY_DATA;
	if (map_entry_is_zero_or_initial(entry))
		return ENTRY_ZERO;
	/* a NORMAL entry out of range, or an error entry (in range or not) */
	if (!entry_out_of_range(a, entry, premap_lba))
		errmsg_set(EIO, "EIO due to map entry error flag");
	return ENTRY_FAILED;
}

uint32_t btt_read_begin(struct btt_arena *a, unsigned lane, uint32_t premap_lba, bool *zero,
			int *err)
{
	uint32_t entry = btt_read_publish(a, lane, premap_lba);
	enum entry_kind kind = classify(a, entry, premap_lba);
	if (likely(kind == ENTRY_DATA))
		return entry;
	btt_read_end(a, lane);
	*zero = kind == ENTRY_ZERO;
	*err = kind == ENTRY_FAILED ? -1 : 0;
	return 0;
}

/* btt_read of an entry btt_entry_is_data refused: a zero block, or -1 with errno */
static __attribute__((noinline, cold)) int read_not_data(struct btt_arena *a, uint32_t entry,
							 uint32_t premap_lba, void *buf, size_t len)
{
	if (classify(a, entry, premap_lba) != ENTRY_ZERO)
		return -1;
	memset(buf, 0, len);
	return 0;
}

int btt_read(struct btt *b, unsigned lane, uint64_t lba, void *buf)
{
	if (btt_lba_check(b, lba) != 0)
		return -1;
	if (!atomic_load_explicit(&b->laid_out, memory_order_acquire)) {
		memset(buf, 0, b->bsize);
		return 0;
	}

	uint32_t premap_lba;
	struct btt_arena *a = btt_lba_to_arena(b, lba, &premap_lba);
	uint32_t entry = btt_read_publish(a, lane, premap_lba);
	if (likely(btt_entry_is_data(a, entry))) {
		memcpy(buf, btt_block_address(a, entry), b->bsize);
		btt_read_end(a, lane);
		return 0;
	}
	btt_read_end(a, lane);
	return read_not_data(a, entry, premap_lba, buf, b->bsize);
}

/* set_zero / set_error: a flag on the map entry, durable at once; no flog involved */
static int map_entry_setf(struct btt *b, uint64_t lba, uint32_t flag)
{
	if (btt_lba_check(b, lba) != 0)
		return -1;
	if (!atomic_load_explicit(&b->laid_out, memory_order_acquire)) {
		/* every block reads as zeros before the layout exists */
		if (flag == BTT_MAP_ENTRY_ZERO)
			return 0;
		if (btt_ensure_layout(b) != 0)
			return -1;
	}

	uint32_t premap_lba;
	struct btt_arena *a = btt_lba_to_arena(b, lba, &premap_lba);
	if (btt_arena_writable(a) != 0)
		return -1;

	uint32_t *map_entry = &a->map[premap_lba];
	pthread_mutex_t *lock = &map_lock_of(a, premap_lba)->mutex;
	pthread_mutex_lock(lock);
	uint32_t old_entry = __atomic_load_n(map_entry, __ATOMIC_RELAXED);
	if (map_entry_is_initial(old_entry))
		old_entry = premap_lba | BTT_MAP_ENTRY_NORMAL;
	if (flag == BTT_MAP_ENTRY_ZERO && map_entry_is_zero(old_entry)) {
		pthread_mutex_unlock(lock);
		return 0;
	}
	uint32_t new_entry = (old_entry & BTT_MAP_ENTRY_LBA_MASK) | flag;
	__atomic_store_n(map_entry, new_entry, __ATOMIC_SEQ_CST);
	b->file->ops.persist(map_entry, sizeof(*map_entry));
	pthread_mutex_unlock(lock);
	return 0;
}

int btt_set_zero(struct btt *b, unsigned lane, uint64_t lba)
{
	(void)lane;
	return map_entry_setf(b, lba, BTT_MAP_ENTRY_ZERO);
}

int btt_set_error(struct btt *b, unsigned lane, uint64_t lba)
{
	(void)lane;
	return map_entry_setf(b, lba, BTT_MAP_ENTRY_ERROR);
}
