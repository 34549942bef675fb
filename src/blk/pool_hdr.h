/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The 4 KiB header every PMDK pool file starts with, and the pmemblk descriptor page
 * after it. Byte-exact with PMDK 1.12 (src/common/pool_hdr.h, src/libpmemblk/blk.h).
 */

#ifndef PMEMBLK_POOL_HDR_H
#define PMEMBLK_POOL_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the on-media format is little-endian and so must the host be"
#endif

#define POOL_HDR_SIZE	     4096
#define POOL_HDR_SIG	     "PMEMBLK" /* plus the terminating NUL: 8 bytes */
#define POOL_HDR_SIG_LEN     8
#define POOL_HDR_UUID_LEN    16
#define POOL_HDR_CSUM_2K_OFF 0x800
#define POOL_HDR_MAJOR	     1

#define POOL_FEAT_CHECK_BAD_BLOCKS 0x0001U /* compat */
#define POOL_FEAT_SINGLEHDR	   0x0001U /* incompat */
#define POOL_FEAT_CKSUM_2K	   0x0002U /* incompat */
#define POOL_FEAT_SDS		   0x0004U /* incompat */
#define POOL_FEAT_INCOMPAT_KNOWN   (POOL_FEAT_SINGLEHDR | POOL_FEAT_CKSUM_2K | POOL_FEAT_SDS)
#define POOL_FEAT_RO_COMPAT_KNOWN  0U

struct arch_flags {
	uint64_t alignment_desc;
	uint8_t machine_class;
	uint8_t data;
	uint8_t reserved[4];
	uint16_t machine;
};

struct shutdown_state {
	uint64_t usc;
	uint64_t uuid;
	uint8_t dirty;
	uint8_t reserved[39];
	uint64_t checksum;
};

struct pool_hdr {
	char signature[POOL_HDR_SIG_LEN];
	uint32_t major;
	uint32_t compat;
	uint32_t incompat;
	uint32_t ro_compat;
	uint8_t poolset_uuid[POOL_HDR_UUID_LEN];
	uint8_t uuid[POOL_HDR_UUID_LEN];
	uint8_t prev_part_uuid[POOL_HDR_UUID_LEN];
	uint8_t next_part_uuid[POOL_HDR_UUID_LEN];
	uint8_t prev_repl_uuid[POOL_HDR_UUID_LEN];
	uint8_t next_repl_uuid[POOL_HDR_UUID_LEN];
	uint64_t crtime;
	struct arch_flags arch_flags;
	uint8_t unused[1904];
	uint8_t unused2[1976]; /* outside the checksum when CKSUM_2K is set */
	struct shutdown_state sds;
	uint64_t checksum;
};

_Static_assert(sizeof(struct arch_flags) == 16, "arch_flags layout");
_Static_assert(sizeof(struct shutdown_state) == 64, "shutdown_state layout");
_Static_assert(offsetof(struct pool_hdr, crtime) == 0x78, "pool_hdr layout");
_Static_assert(offsetof(struct pool_hdr, arch_flags) == 0x80, "pool_hdr layout");
_Static_assert(offsetof(struct pool_hdr, unused2) == 0x800, "pool_hdr layout");
_Static_assert(offsetof(struct pool_hdr, sds) == 0xFB8, "pool_hdr layout");
_Static_assert(offsetof(struct pool_hdr, checksum) == 0xFF8, "pool_hdr layout");
_Static_assert(sizeof(struct pool_hdr) == POOL_HDR_SIZE, "pool_hdr layout");

/* pmemblk descriptor: the page after the pool header */
#define BLK_DESC_OFF  0x1000
#define BLK_DESC_SIZE 0x1000
/* the BTT namespace starts after header and descriptor */
#define BLK_NS_OFF 0x2000

struct blk_desc {
	uint32_t bsize;
	int32_t is_zeroed;
	/*
	 * 0x1008-0x1FFF: PMDK parks its run-time handle here (never read back by a library;
	 * the pointer at 0x1058 must stay zero). Only addr and data are given values.
	 */
	uint64_t rt_addr; /* 0x1008 */
	uint64_t rt_size;
	uint64_t rt_is_pmem_rdonly;
	uint64_t rt_data; /* 0x1020 */
};

_Static_assert(offsetof(struct blk_desc, rt_data) == 0x20, "pmemblk descriptor layout");

/* Fletcher64 variant of PMDK: the 8 bytes at csum_off and, if skip_off != 0, all words
 * from skip_off on count as zero. len must be a multiple of 4. */
uint64_t blk_checksum(const void *buf, size_t len, size_t csum_off, size_t skip_off);

/* random version-4 UUID in PMDK's byte order; -1 with errno on failure */
int blk_uuid_generate(uint8_t uuid[POOL_HDR_UUID_LEN]);

void pool_hdr_arch_flags(struct arch_flags *af);

/* Fills a new single-file header (checksum included). */
int pool_hdr_init(struct pool_hdr *hdr, bool with_sds, uint64_t crtime);

/*
 * Validates a header read from a single-file pool. Returns 0 if usable (*rdonly set when
 * unknown ro_compat features require a read-only open), else -1 with errno and message.
 */
int pool_hdr_check(const struct pool_hdr *hdr, bool *rdonly);

#endif
