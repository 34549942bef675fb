/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny persistent record log on raw libpmem2, written like the real libraries (function
 * pointers fetched once through src/common/pmem_ops), in correct and in deliberately broken
 * variants: the explorer's self-test must pass the former and catch every one of the latter.
 *
 * Layout: header line at offset 0 (magic, slot count), then slots of 256 bytes from
 * offset 256: the record's sequence number (its valid flag) in the slot's first cache line,
 * a 192-byte payload in the three lines after it. Record seq lives in slot seq - 1.
 */

#ifndef FAKELOG_H
#define FAKELOG_H

#include <libpmem2.h>
#include <stdint.h>

#define FAKELOG_EXPORT	   __attribute__((visibility("default")))
#define FAKELOG_MAGIC	   0x474f4c454b4146ULL
#define FAKELOG_PAYLOAD	   192
#define FAKELOG_SLOT	   256
#define FAKELOG_FIRST_SLOT 256

enum fakelog_mode {
	FAKELOG_CORRECT,	      /* payload stores, persist; flag store, persist */
	FAKELOG_CORRECT_MEMCPY,	      /* memcpy_fn NODRAIN, drain; flag, flush, drain */
	FAKELOG_BROKEN_NO_PERSIST,    /* payload stores are never flushed */
	FAKELOG_BROKEN_NOFLUSH,	      /* memcpy_fn with NOFLUSH and no flush afterwards */
	FAKELOG_BROKEN_FOREIGN_DRAIN, /* payload flushed by a helper thread that never drains */
	FAKELOG_BROKEN_FLAG_FIRST,    /* flag persisted before the payload */
};

struct fakelog;

FAKELOG_EXPORT struct fakelog *fakelog_open(struct pmem2_map *map, enum fakelog_mode mode);
FAKELOG_EXPORT void fakelog_close(struct fakelog *log);
FAKELOG_EXPORT uint64_t fakelog_nslots(struct fakelog *log);
FAKELOG_EXPORT int fakelog_put(struct fakelog *log, uint64_t seq, const void *payload);

#endif
