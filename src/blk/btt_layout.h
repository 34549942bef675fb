/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * On-media BTT structures and the arena geometry (PMDK src/libpmemblk/btt_layout.h).
 * All offsets inside an arena are relative to the arena start.
 */

#ifndef PMEMBLK_BTT_LAYOUT_H
#define PMEMBLK_BTT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define BTT_ALIGNMENT		   4096ULL
#define BTT_MIN_SIZE		   (1ULL << 24) /* 16 MiB: smallest arena */
#define BTT_MAX_ARENA		   (1ULL << 39) /* 512 GiB */
#define BTT_MIN_LBA_SIZE	   512U
#define BTT_INTERNAL_LBA_ALIGNMENT 256U
#define BTT_DEFAULT_NFREE	   256U
#define BTT_FLOG_PAIR_ALIGN	   64U
#define BTT_MAP_ENTRY_SIZE	   4U
#define BTT_MAP_LOCK_ALIGN	   64U

#define BTTINFO_SIG		"BTT_ARENA_INFO\0"
#define BTTINFO_SIG_LEN		16
#define BTTINFO_UUID_LEN	16
#define BTTINFO_MAJOR_VERSION	1
#define BTTINFO_MINOR_VERSION	1
#define BTTINFO_FLAG_ERROR	0x00000001U
#define BTTINFO_FLAG_ERROR_MASK 0x00000001U

/* map entry: two flag bits and a 30-bit post-map block number */
#define BTT_MAP_ENTRY_LBA_MASK	 0x3FFFFFFFU
#define BTT_MAP_ENTRY_FLAGS_MASK 0xC0000000U
#define BTT_MAP_ENTRY_ERROR	 0x40000000U
#define BTT_MAP_ENTRY_ZERO	 0x80000000U
#define BTT_MAP_ENTRY_NORMAL	 0xC0000000U
#define BTT_MAP_ENTRY_INITIAL	 0U

struct btt_info {
	char sig[BTTINFO_SIG_LEN];
	uint8_t uuid[BTTINFO_UUID_LEN];
	uint8_t parent_uuid[BTTINFO_UUID_LEN];
	uint32_t flags;
	uint16_t major;
	uint16_t minor;
	uint32_t external_lbasize;
	uint32_t external_nlba;
	uint32_t internal_lbasize;
	uint32_t internal_nlba;
	uint32_t nfree;
	uint32_t infosize;
	uint64_t nextoff;
	uint64_t dataoff;
	uint64_t mapoff;
	uint64_t flogoff;
	uint64_t infooff;
	uint8_t unused[3968];
	uint64_t checksum;
};

_Static_assert(offsetof(struct btt_info, flags) == 0x30, "btt_info layout");
_Static_assert(offsetof(struct btt_info, nextoff) == 0x50, "btt_info layout");
_Static_assert(offsetof(struct btt_info, infooff) == 0x70, "btt_info layout");
_Static_assert(offsetof(struct btt_info, checksum) == 0xFF8, "btt_info layout");
_Static_assert(sizeof(struct btt_info) == 4096, "btt_info layout");

/*
 * One flog entry; a pair of them (plus 32 bytes of padding) per free block. seq cycles
 * 1, 2, 3 and commits the entry: it is written last, together with new_map in one
 * aligned 8-byte store.
 */
struct btt_flog {
	uint32_t lba;
	uint32_t old_map;
	uint32_t new_map;
	uint32_t seq;
};

_Static_assert(sizeof(struct btt_flog) == 16, "btt_flog layout");

static inline uint32_t btt_seq_next(uint32_t seq)
{
	static const uint32_t next[] = {0, 2, 3, 1};
	return next[seq & 3];
}

static inline int map_entry_is_initial(uint32_t e)
{
	return (e & BTT_MAP_ENTRY_FLAGS_MASK) == BTT_MAP_ENTRY_INITIAL;
}

static inline int map_entry_is_error(uint32_t e)
{
	return (e & BTT_MAP_ENTRY_FLAGS_MASK) == BTT_MAP_ENTRY_ERROR;
}

static inline int map_entry_is_zero(uint32_t e)
{
	return (e & BTT_MAP_ENTRY_FLAGS_MASK) == BTT_MAP_ENTRY_ZERO;
}

static inline int map_entry_is_zero_or_initial(uint32_t e)
{
	uint32_t flags = e & BTT_MAP_ENTRY_FLAGS_MASK;
	return flags == BTT_MAP_ENTRY_INITIAL || flags == BTT_MAP_ENTRY_ZERO;
}

/* Geometry of one arena as a fresh layout would write it. */
struct btt_geometry {
	uint64_t arena_size;
	uint64_t nextoff;
	uint32_t internal_lbasize;
	uint32_t internal_nlba;
	uint32_t external_nlba;
	uint32_t nfree;
	uint64_t dataoff;
	uint64_t mapoff;
	uint64_t flogoff;
	uint64_t infooff;
};

uint64_t btt_flog_size(uint32_t nfree);
uint64_t btt_map_size(uint32_t external_nlba);

/* internal block size for bsize, 0 with errno EINVAL if it does not fit 32 bits */
uint32_t btt_internal_lbasize(uint32_t bsize);

/*
 * Geometry of the arena of size arena_size when space_left bytes of namespace remain
 * after it. -1 with errno EINVAL if the arena holds fewer than 2 * nfree blocks.
 */
int btt_geometry_arena(uint64_t arena_size, uint64_t space_left, uint32_t bsize,
		       struct btt_geometry *g);

/* Arena count and usable blocks of a namespace of rawsize bytes; -1/EINVAL if impossible. */
int btt_geometry_namespace(uint64_t rawsize, uint32_t bsize, unsigned *narena, uint64_t *nlba);

#endif
