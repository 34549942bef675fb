/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Self-checking entry payloads: who wrote it, its sequence number and length, a pattern
 * derived from them and a checksum, so that any torn, mixed or misplaced entry is detected.
 */

#ifndef PMEMSTREAM_TEST_PAYLOAD_H
#define PMEMSTREAM_TEST_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAYLOAD_MAGIC 0x5354524dU /* "STRM" */
#define PAYLOAD_MAX   256

struct payload_head {
	uint32_t magic;
	uint32_t lane;
	uint64_t seq;
	uint64_t check;
};

static inline uint64_t payload_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* Varying, mostly non-multiple-of-8 lengths between 24 and max. */
static inline size_t payload_len(uint32_t lane, uint64_t seq, size_t max)
{
	size_t span = max - sizeof(struct payload_head) + 1;
	return sizeof(struct payload_head) + (size_t)(payload_mix(lane * 1000003ULL + seq) % span);
}

static inline uint64_t payload_checksum(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		if (i >= offsetof(struct payload_head, check) && i < sizeof(struct payload_head))
			continue;
		h = (h ^ p[i]) * 0x100000001b3ULL;
	}
	return h ^ len;
}

/* A payload of exactly len bytes (len >= sizeof(struct payload_head)). */
static inline size_t payload_make_len(void *buf, uint32_t lane, uint64_t seq, size_t len)
{
	unsigned char *p = buf;
	struct payload_head h = {PAYLOAD_MAGIC, lane, seq, 0};
	memcpy(p, &h, sizeof(h));
	for (size_t i = sizeof(h); i < len; i++)
		p[i] = (unsigned char)(lane * 31 + seq * 7 + i);
	h.check = payload_checksum(p, len);
	memcpy(p, &h, sizeof(h));
	return len;
}

static inline size_t payload_make(void *buf, uint32_t lane, uint64_t seq, size_t max)
{
	return payload_make_len(buf, lane, seq, payload_len(lane, seq, max));
}

/* 1 if intact; lane and seq returned. */
static inline int payload_check(const void *buf, size_t len, uint32_t *lane, uint64_t *seq)
{
	struct payload_head h;
	if (len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != PAYLOAD_MAGIC)
		return 0;
	const unsigned char *p = buf;
	for (size_t i = sizeof(h); i < len; i++)
		if (p[i] != (unsigned char)(h.lane * 31 + h.seq * 7 + i))
			return 0;
	if (payload_checksum(buf, len) != h.check)
		return 0;
	*lane = h.lane;
	*seq = h.seq;
	return 1;
}

#endif
