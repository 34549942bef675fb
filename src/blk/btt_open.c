/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening the BTT: reading and repairing the info blocks, flog recovery, run-time state. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk/alloc.h"
#include "blk/btt.h"
#include "blk/btt_info.h"
#include "common/errmsg.h"

enum info_repair { REPAIR_NONE, REPAIR_PRIMARY, REPAIR_BACKUP };

/* [off, off + len) within [0, size), without the overflow a plain sum could hide */
static bool range_fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

struct extent {
	uint64_t off, len;
};

/* no two of the arena's parts share a byte: a write to one must never change another */
static bool extents_disjoint(const struct extent *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (e[i].off < e[j].off + e[j].len && e[j].off < e[i].off + e[i].len)
				return false;
	return true;
}

/* Bounds an info block must respect before its offsets are used to address the mapping. */
static int info_sane(const struct btt *b, const struct btt_info *info, uint64_t arena_space)
{
	if (info->external_lbasize != b->bsize) {
		errmsg_set(EINVAL, "inconsistent lbasize");
		return -1;
	}
	if (info->nfree == 0) {
		errmsg_set(EINVAL, "invalid nfree");
		return -1;
	}
	if (info->external_nlba == 0) {
		errmsg_set(EINVAL, "invalid external_nlba");
		return -1;
	}
	if (info->nextoff != 0 && info->nextoff != BTT_MAX_ARENA) {
		errmsg_set(EINVAL, "invalid arena size");
		return -1;
	}
	uint64_t arena_size = info->nextoff != 0 ? info->nextoff : arena_space;
	/* the map holds u32 entries, the flog and the info block u64 fields */
	bool aligned = info->mapoff % sizeof(uint32_t) == 0 &&
		       info->flogoff % sizeof(uint64_t) == 0 &&
		       info->infooff % sizeof(uint64_t) == 0;
	bool counts = info->internal_lbasize >= b->bsize &&
		      info->internal_nlba <= BTT_MAP_ENTRY_LBA_MASK + 1ULL &&
		      info->external_nlba <= info->internal_nlba &&
		      info->nfree <= info->internal_nlba;
	/* the primary info block, the data blocks, the map, the flog, the backup info block */
	const struct extent parts[] = {
		{0, sizeof(struct btt_info)},
		{info->dataoff, (uint64_t)info->internal_nlba * info->internal_lbasize},
		{info->mapoff, (uint64_t)info->external_nlba * BTT_MAP_ENTRY_SIZE},
		{info->flogoff, (uint64_t)info->nfree * BTT_FLOG_PAIR_ALIGN},
		{info->infooff, sizeof(struct btt_info)},
	};
	const size_t nparts = sizeof(parts) / sizeof(parts[0]);
	bool fits = aligned && counts;
	for (size_t i = 0; fits && i < nparts; i++)
		fits = range_fits(parts[i].off, parts[i].len, arena_size);
	if (!fits) {
		errmsg_set(EINVAL, "BTT info block describes regions outside its arena");
		return -1;
	}
	if (!extents_disjoint(parts, nparts)) {
		errmsg_set(EINVAL, "BTT info block describes overlapping regions");
		return -1;
	}
	return 0;
}

/*
 * Collects one valid info block per arena, primary or else backup (PMDK only reads the
 * primary). Returns the arena count, 0 if some arena has no valid copy (no layout
 * yet, or an interrupted one), -1 on an inconsistent layout.
 */
static int read_infos(struct btt *b, struct btt_info *infos, enum info_repair *repair,
		      unsigned max_arenas)
{
	uint64_t left = b->rawsize;
	uint64_t off = 0;
	unsigned count = 0;

	while (left >= BTT_MIN_SIZE && count < max_arenas) {
		uint64_t space = left < BTT_MAX_ARENA ? left : BTT_MAX_ARENA;
		const struct btt_info *primary = (const struct btt_info *)(b->ns + off);
		/* where pmempool looks for the backup: the last page of the arena */
		const struct btt_info *backup =
			(const struct btt_info *)(b->ns + off + space - sizeof(struct btt_info));
		bool primary_valid = btt_info_valid(primary, b->parent_uuid);
		bool backup_valid = btt_info_valid(backup, b->parent_uuid);
		if (!primary_valid && !backup_valid)
			return 0;
		/* a copy whose checksum holds but whose offsets leave the arena is damaged too */
		bool primary_ok = primary_valid && info_sane(b, primary, space) == 0;
		bool backup_ok = backup_valid && info_sane(b, backup, space) == 0;
		if (!primary_ok && !backup_ok)
			return -1; /* a layout exists but no copy of it can be trusted */

		struct btt_info *info = &infos[count];
		memcpy(info, primary_ok ? primary : backup, sizeof(*info));
		repair[count] = REPAIR_NONE;
		if (!primary_ok)
			repair[count] = REPAIR_PRIMARY;
		else if (!backup_ok && info->infooff == space - sizeof(struct btt_info))
			repair[count] = REPAIR_BACKUP;

		count++;
		if (info->nextoff == 0)
			break;
		if (info->nextoff > left) {
			errmsg_set(EINVAL, "invalid next arena offset");
			return -1;
		}
		off += info->nextoff;
		left -= info->nextoff;
	}
	return (int)count;
}

static void repair_infos(struct btt *b, const struct btt_info *infos,
			 const enum info_repair *repair, unsigned narena)
{
	uint64_t off = 0;
	for (unsigned i = 0; i < narena; i++) {
		char *base = b->ns + off;
		if (repair[i] == REPAIR_PRIMARY)
			btt_info_store(b, base, &infos[i]);
		else if (repair[i] == REPAIR_BACKUP)
			btt_info_store(b, base + infos[i].infooff, &infos[i]);
		off += infos[i].nextoff;
	}
}

int btt_init(struct btt *b, struct pool_file *file, uint64_t ns_off, uint32_t bsize,
	     const uint8_t parent_uuid[BTTINFO_UUID_LEN], bool is_zeroed, bool rdonly,
	     unsigned max_lanes)
{
	memset(b, 0, sizeof(*b));
	b->file = file;
	b->ns = file->base + ns_off;
	b->rawsize = file->size - ns_off;
	b->bsize = bsize;
	memcpy(b->parent_uuid, parent_uuid, BTTINFO_UUID_LEN);
	b->is_zeroed = is_zeroed;
	b->rdonly = rdonly;
	b->lazy_map_flush = file->granularity != PMEM2_GRANULARITY_PAGE;
	atomic_init(&b->laid_out, false);
	pthread_mutex_init(&b->layout_lock, NULL);

	/* what a fresh layout would give: nblock is valid before anything is written */
	unsigned narena;
	uint64_t nlba;
	if (btt_geometry_namespace(b->rawsize, bsize, &narena, &nlba) != 0)
		goto err;
	b->narena = narena;
	b->nlba = nlba;
	b->nlane = max_lanes < BTT_DEFAULT_NFREE ? max_lanes : BTT_DEFAULT_NFREE;
	if (b->nlane == 0)
		b->nlane = 1;

	struct btt_info *infos = blk_malloc(narena * sizeof(*infos));
	enum info_repair *repair = blk_malloc(narena * sizeof(*repair));
	if (infos == NULL || repair == NULL) {
		blk_free(infos);
		blk_free(repair);
		errmsg_set(ENOMEM, "out of memory for %u BTT info blocks", narena);
		goto err;
	}
	int ret = read_infos(b, infos, repair, narena);
	if (ret > 0) {
		if (!b->rdonly)
			repair_infos(b, infos, repair, (unsigned)ret);
		ret = btt_load_arenas(b, infos, (unsigned)ret);
	}
	blk_free(infos);
	blk_free(repair);
	if (ret < 0)
		goto err;
	return 0;

err:
	pthread_mutex_destroy(&b->layout_lock);
	return -1;
}

/*
 * Reads flog pair i, completes the write it describes if the map update did not make it
 * to the media, and fills the run-time copy.
 */
static int recover_flog_pair(struct btt *b, struct btt_arena *a, uint32_t i, struct btt_flog_rt *rt)
{
	struct btt_flog *pair = a->flog + (uint64_t)i * (BTT_FLOG_PAIR_ALIGN / sizeof(*pair));
	rt->slot[0] = &pair[0];
	rt->slot[1] = &pair[1];
	rt->unflushed_map = NULL;

	struct btt_flog e[2];
	memcpy(e, pair, sizeof(e));

	unsigned cur;
	if (e[0].seq == e[1].seq) {
		/* no way to tell the current entry: the arena is damaged, refuse changes */
		atomic_fetch_or(&a->flags, BTTINFO_FLAG_ERROR);
		memset(&rt->cur, 0, sizeof(rt->cur));
		rt->next = 0;
		return 0;
	} else if (e[0].seq == 0) {
		cur = 1;
	} else if (e[1].seq == 0) {
		cur = 0;
	} else if (btt_seq_next(e[0].seq) == e[1].seq) {
		cur = 1;
	} else {
		cur = 0;
	}
	rt->cur = e[cur];
	rt->next = 1 - cur;

	if (rt->cur.lba >= a->external_nlba) {
		errmsg_set(EINVAL, "flog entry lba %u out of range (nlba %u)", rt->cur.lba,
			   a->external_nlba);
		return -1;
	}

	if ((rt->cur.old_map & BTT_MAP_ENTRY_LBA_MASK) >= a->internal_nlba ||
	    (rt->cur.new_map & BTT_MAP_ENTRY_LBA_MASK) >= a->internal_nlba) {
		/* a free block outside the arena: writes would go astray, refuse them */
		atomic_fetch_or(&a->flags, BTTINFO_FLAG_ERROR);
		return 0;
	}

	if (rt->cur.old_map == rt->cur.new_map) {
		/*
		 * The initial pair. A torn first half of an interrupted first write may sit in
		 * the other slot: harmless, but pmempool check calls it invalid.
		 */
		static const struct btt_flog zero;
		if (!b->rdonly && cur == 0 && memcmp(&e[1], &zero, sizeof(zero)) != 0)
			b->file->ops.memset(rt->slot[1], 0, sizeof(zero), 0);
		return 0;
	}

	uint32_t *entry = &a->map[rt->cur.lba];
	uint32_t current = *entry;
	if (map_entry_is_initial(current))
		current = rt->cur.lba | BTT_MAP_ENTRY_NORMAL;
	if (current != rt->cur.new_map && current == rt->cur.old_map) {
		/* the write was committed in the flog but its map update was lost */
		*entry = rt->cur.new_map;
		b->file->ops.persist(entry, sizeof(*entry));
	}
	return 0;
}

static int cmp_u32(const void *lhs, const void *rhs)
{
	uint32_t l = *(const uint32_t *)lhs, r = *(const uint32_t *)rhs;
	return l < r ? -1 : l > r;
}

/*
 * Two flog pairs holding the same free block would let two lanes write into one block:
 * a damaged flog. The arena then refuses changes (reads go on).
 */
static int check_free_blocks(struct btt_arena *a)
{
	uint32_t *blocks = blk_malloc(a->nfree * sizeof(*blocks));
	if (blocks == NULL) {
		errmsg_set(ENOMEM, "out of memory for the free-block check");
		return -1;
	}
	for (uint32_t i = 0; i < a->nfree; i++)
		blocks[i] = a->flogs[i].cur.old_map & BTT_MAP_ENTRY_LBA_MASK;
	qsort(blocks, a->nfree, sizeof(*blocks), cmp_u32);
	for (uint32_t i = 1; i < a->nfree; i++)
		if (blocks[i] == blocks[i - 1])
			atomic_fetch_or(&a->flags, BTTINFO_FLAG_ERROR);
	blk_free(blocks);
	return 0;
}

static void free_arena(struct btt_arena *a)
{
	if (a->map_locks != NULL) {
		for (uint32_t i = 0; i < a->nfree; i++)
			pthread_mutex_destroy(&a->map_locks[i].mutex);
		blk_free_aligned(a->map_locks);
	}
	blk_free_aligned(a->flogs);
	blk_free_aligned(a->rtt);
	pthread_mutex_destroy(&a->info_lock);
}

static int load_arena(struct btt *b, struct btt_arena *a, const struct btt_info *info, char *base,
		      uint64_t space)
{
	a->base = base;
	a->size = info->nextoff != 0 ? info->nextoff : space;
	a->external_nlba = info->external_nlba;
	a->internal_nlba = info->internal_nlba;
	a->internal_lbasize = info->internal_lbasize;
	a->nfree = info->nfree;
	a->infooff = info->infooff;
	a->data = base + info->dataoff;
	a->map = (uint32_t *)(base + info->mapoff);
	a->flog = (struct btt_flog *)(base + info->flogoff);
	atomic_init(&a->flags, info->flags);
	pthread_mutex_init(&a->info_lock, NULL);

	a->flogs = blk_zalloc_aligned(a->nfree * sizeof(*a->flogs));
	a->rtt = blk_zalloc_aligned(btt_nrtt(b) * sizeof(*a->rtt));
	a->map_locks = blk_zalloc_aligned(a->nfree * sizeof(*a->map_locks));
	if (a->flogs == NULL || a->rtt == NULL || a->map_locks == NULL) {
		blk_free_aligned(a->map_locks);
		a->map_locks = NULL;
		errmsg_set(ENOMEM, "out of memory for the run-time state of an arena");
		return -1;
	}
	for (uint32_t i = 0; i < a->nfree; i++)
		pthread_mutex_init(&a->map_locks[i].mutex, NULL);
	for (unsigned i = 0; i < btt_nrtt(b); i++)
		atomic_init(&a->rtt[i].entry, BTT_RTT_IDLE);

	for (uint32_t i = 0; i < a->nfree; i++)
		if (recover_flog_pair(b, a, i, &a->flogs[i]) != 0)
			return -1;
	return check_free_blocks(a);
}

int btt_load_arenas(struct btt *b, const struct btt_info *infos, unsigned narena)
{
	uint32_t smallest_nfree = BTT_DEFAULT_NFREE;
	for (unsigned i = 0; i < narena; i++)
		if (infos[i].nfree < smallest_nfree)
			smallest_nfree = infos[i].nfree;
	if (b->nlane > smallest_nfree)
		b->nlane = smallest_nfree;

	struct btt_arena *arenas = blk_zalloc(narena * sizeof(*arenas));
	if (arenas == NULL) {
		errmsg_set(ENOMEM, "out of memory for %u arenas", narena);
		return -1;
	}

	uint64_t off = 0;
	uint64_t nlba = 0;
	unsigned loaded;
	for (loaded = 0; loaded < narena; loaded++) {
		uint64_t left = b->rawsize - off;
		uint64_t space = left < BTT_MAX_ARENA ? left : BTT_MAX_ARENA;
		if (load_arena(b, &arenas[loaded], &infos[loaded], b->ns + off, space) != 0) {
			free_arena(&arenas[loaded]);
			goto err;
		}
		nlba += infos[loaded].external_nlba;
		off += infos[loaded].nextoff;
	}

	b->arenas = arenas;
	/*
	 * Readers look at nlba and narena without the layout lock; a layout written now has
	 * the geometry they were computed from at open, so they only change at open time.
	 */
	if (b->narena != narena)
		b->narena = narena;
	if (b->nlba != nlba)
		b->nlba = nlba;
	atomic_store_explicit(&b->laid_out, true, memory_order_release);
	return 0;

err:
	for (unsigned i = 0; i < loaded; i++)
		free_arena(&arenas[i]);
	blk_free(arenas);
	return -1;
}

void btt_free_arenas(struct btt *b)
{
	if (b->arenas == NULL)
		return;
	for (unsigned i = 0; i < b->narena; i++)
		free_arena(&b->arenas[i]);
	blk_free(b->arenas);
	b->arenas = NULL;
}

void btt_fini(struct btt *b)
{
	if (atomic_load(&b->laid_out) && b->lazy_map_flush) {
		/* every map store becomes durable, so a closed pool needs no recovery */
		for (unsigned i = 0; i < b->narena; i++) {
			struct btt_arena *a = &b->arenas[i];
			for (unsigned lane = 0; lane < b->nlane; lane++) {
				uint32_t *entry = a->flogs[lane].unflushed_map;
				if (entry != NULL)
					b->file->ops.flush(entry, sizeof(*entry));
				a->flogs[lane].unflushed_map = NULL;
			}
		}
		b->file->ops.drain();
	}
	btt_free_arenas(b);
	pthread_mutex_destroy(&b->layout_lock);
}
