/* SPDX-License-Identifier: BSD-3-Clause */

#include "blk/pool_hdr.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "common/errmsg.h"

uint64_t blk_checksum(const void *buf, size_t len, size_t csum_off, size_t skip_off)
{
	const uint8_t *bytes = buf;
	uint32_t lo = 0;
	uint32_t hi = 0;

	for (size_t pos = 0; pos + 4 <= len; pos += 4) {
		uint32_t word = 0;
		bool in_csum = pos >= csum_off && pos < csum_off + 8;
		bool skipped = skip_off != 0 && pos >= skip_off;
		if (!in_csum && !skipped)
			memcpy(&word, bytes + pos, sizeof(word));
		lo += word;
		hi += lo;
	}
	return (uint64_t)hi << 32 | lo;
}

int blk_uuid_generate(uint8_t uuid[POOL_HDR_UUID_LEN])
{
	size_t got = 0;
	while (got < POOL_HDR_UUID_LEN) {
		ssize_t n = getrandom(uuid + got, POOL_HDR_UUID_LEN - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errmsg_set_errno(errno, "getrandom");
			return -1;
		}
		got += (size_t)n;
	}
	/*
	 * PMDK stores time_low, time_mid and time_hi_and_version as little-endian integers,
	 * so the version nibble lands in the high half of byte 7; the variant is in byte 8.
	 */
	uuid[7] = (uint8_t)((uuid[7] & 0x0F) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
	return 0;
}

/* (alignof(T) - 1) per type, four bits each, char in the lowest nibble */
#define ALIGN_NIBBLE(type, index) ((uint64_t)((_Alignof(type) - 1) & 0xF) << (4 * (index)))

void pool_hdr_arch_flags(struct arch_flags *af)
{
	memset(af, 0, sizeof(*af));
	af->alignment_desc = ALIGN_NIBBLE(char, 0) | ALIGN_NIBBLE(short, 1) | ALIGN_NIBBLE(int, 2) |
			     ALIGN_NIBBLE(long, 3) | ALIGN_NIBBLE(long long, 4) |
			     ALIGN_NIBBLE(size_t, 5) | ALIGN_NIBBLE(off_t, 6) |
			     ALIGN_NIBBLE(float, 7) | ALIGN_NIBBLE(double, 8) |
			     ALIGN_NIBBLE(long double, 9) | ALIGN_NIBBLE(void *, 10);
	af->machine_class = sizeof(void *) == 8 ? 2 : 1; /* ELFCLASS64 / ELFCLASS32 */
	af->data = 1;					 /* ELFDATA2LSB */
#if defined(__x86_64__)
	af->machine = 62; /* EM_X86_64 */
#elif defined(__aarch64__)
	af->machine = 183; /* EM_AARCH64 */
#elif defined(__PPC64__)
	af->machine = 21; /* EM_PPC64 */
#elif defined(__riscv) && __riscv_xlen == 64
	af->machine = 243; /* EM_RISCV */
#else
#error "unsupported architecture"
#endif
}

#if defined(__x86_64__)
/* the value PMDK writes on x86-64 Linux */
#define X86_64_ALIGNMENT_DESC 0x000007F737777310ULL
#endif

int pool_hdr_init(struct pool_hdr *hdr, bool with_sds, uint64_t crtime)
{
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr->signature, POOL_HDR_SIG, POOL_HDR_SIG_LEN);
	hdr->major = POOL_HDR_MAJOR;
	hdr->compat = POOL_FEAT_CHECK_BAD_BLOCKS;
	hdr->incompat = POOL_FEAT_CKSUM_2K | (with_sds ? POOL_FEAT_SDS : 0);
	hdr->ro_compat = 0;
	do {
		if (blk_uuid_generate(hdr->poolset_uuid) != 0 || blk_uuid_generate(hdr->uuid) != 0)
			return -1;
	} while (memcmp(hdr->poolset_uuid, hdr->uuid, POOL_HDR_UUID_LEN) == 0);
	/* a single file links to itself as its only part and replica */
	memcpy(hdr->prev_part_uuid, hdr->uuid, POOL_HDR_UUID_LEN);
	memcpy(hdr->next_part_uuid, hdr->uuid, POOL_HDR_UUID_LEN);
	memcpy(hdr->prev_repl_uuid, hdr->uuid, POOL_HDR_UUID_LEN);
	memcpy(hdr->next_repl_uuid, hdr->uuid, POOL_HDR_UUID_LEN);
	hdr->crtime = crtime;
	pool_hdr_arch_flags(&hdr->arch_flags);
#ifdef X86_64_ALIGNMENT_DESC
	if (hdr->arch_flags.alignment_desc != X86_64_ALIGNMENT_DESC) {
		errmsg_set(EINVAL, "unexpected type alignments 0x%016llx",
			   (unsigned long long)hdr->arch_flags.alignment_desc);
		return -1;
	}
#endif
	hdr->checksum = blk_checksum(hdr, sizeof(*hdr), offsetof(struct pool_hdr, checksum),
				     POOL_HDR_CSUM_2K_OFF);
	return 0;
}

static bool uuid_equal(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, POOL_HDR_UUID_LEN) == 0;
}

int pool_hdr_check(const struct pool_hdr *hdr, bool *rdonly)
{
	*rdonly = false;

	if (hdr->major == 0) {
		errmsg_set(EINVAL, "invalid major version (0)");
		return -1;
	}
	if (memcmp(hdr->signature, POOL_HDR_SIG, POOL_HDR_SIG_LEN) != 0) {
		errmsg_set(EINVAL, "wrong pool type: \"%.8s\"", hdr->signature);
		return -1;
	}
	if (hdr->major != POOL_HDR_MAJOR) {
		errmsg_set(EINVAL, "pool version %u (library expects %d)", hdr->major,
			   POOL_HDR_MAJOR);
		return -1;
	}
	if (hdr->incompat & ~POOL_FEAT_INCOMPAT_KNOWN) {
		errmsg_set(EINVAL, "unsafe to continue due to unknown incompat features: 0x%x",
			   hdr->incompat & ~POOL_FEAT_INCOMPAT_KNOWN);
		return -1;
	}
	if (hdr->ro_compat & ~POOL_FEAT_RO_COMPAT_KNOWN)
		*rdonly = true;

	size_t skip = (hdr->incompat & POOL_FEAT_CKSUM_2K) ? POOL_HDR_CSUM_2K_OFF : 0;
	uint64_t csum = blk_checksum(hdr, sizeof(*hdr), offsetof(struct pool_hdr, checksum), skip);
	if (csum != hdr->checksum) {
		errmsg_set(EINVAL, "invalid checksum of pool header");
		return -1;
	}

	struct arch_flags mine;
	pool_hdr_arch_flags(&mine);
	if (memcmp(&mine, &hdr->arch_flags, sizeof(mine)) != 0) {
		errmsg_set(EINVAL, "wrong architecture flags");
		return -1;
	}

	if (!uuid_equal(hdr->prev_part_uuid, hdr->uuid) ||
	    !uuid_equal(hdr->next_part_uuid, hdr->uuid) ||
	    !uuid_equal(hdr->prev_repl_uuid, hdr->uuid) ||
	    !uuid_equal(hdr->next_repl_uuid, hdr->uuid)) {
		errmsg_set(EINVAL, "wrong UUID links: the file is a part of a pool set");
		return -1;
	}

	if (hdr->incompat & POOL_FEAT_SINGLEHDR) {
		errmsg_set(EINVAL, "SINGLEHDR feature set on a single-file pool");
		return -1;
	}

	/*
	 * The shutdown state (SDS) is neither used nor validated: PMDK refuses an open only
	 * after an ADR failure on a real DAX device, which this library does not track.
	 */
	return 0;
}
