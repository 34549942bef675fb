/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crashx: a crash-state explorer for code that persists through libpmem2.
 *
 * libcrashx.so defines pmem2_map_new/pmem2_map_delete and pmem2_get_{persist,flush,drain,
 * memcpy,memmove,memset}_fn with libpmem2's symbol version. Linked into a program BEFORE the
 * library under test (and libpmem2), its definitions win the dynamic symbol lookup, so the
 * library receives wrapper functions that forward to the real ones and record every
 * persistence action. For each mapped file the explorer keeps a shadow of what is durable:
 * a store is durable only once its cache line was flushed (by the calling thread) and that
 * thread then drained. Before every persistence action ("crash point") it compares the live
 * mapping with the shadow (8-byte words) and writes crash images: the durable shadow, the
 * live state, and K random subsets of the differing words (word- and line-granular). Each
 * image is checked by a fresh process (the driver itself in "check" mode), which is told
 * which operations had returned before the crash point through the marks the workload
 * logged with crashx_mark().
 *
 * Fault injection (to prove the explorer can fail) needs no library change: a fault spec
 * "drop:<mark prefix>:<n>" makes the n-th flush after the first mark starting with
 * <mark prefix> have no effect on the durable shadow; "delay:<mark prefix>:<n>:<d>" lets it
 * take effect only as if it had been issued right after the d-th following drain of the
 * flushing thread (d >= 1, default 1): it becomes durable one drain later still.
 *
 * Environment: CRASHX_K (random images per crash point, default 4), CRASHX_SEED,
 * CRASHX_STRIDE (check every n-th crash point, default 1), CRASHX_MAX_IMAGES (budget per
 * workload, default 3000), CRASHX_NESTED (explore the recovery of the images of every n-th
 * crash point, default 4, 0 = never), CRASHX_FAULT (fault spec), CRASHX_VERBOSE, CRASHX_KEEP
 * (keep the image directory).
 */

#ifndef PMEMKIT_CRASHX_H
#define PMEMKIT_CRASHX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CRASHX_EXPORT __attribute__((visibility("default")))

/* The operations a workload logged, up to a crash point; one mark per line. */
struct crashx_log {
	char **lines;
	size_t n;
};

struct crashx_workload {
	const char *name;
	/*
	 * Runs the workload on a file at 'path' (which does not exist yet); everything it maps
	 * through libpmem2 is tracked. Returns 0 on success.
	 */
	int (*run)(const char *path);
	/*
	 * Checks a crash image. 'log' holds the marks logged before the crash point. Returns 0
	 * if the image is consistent; otherwise prints why to stderr and returns nonzero (an
	 * abort or any other signal counts as a violation as well).
	 */
	int (*check)(const char *image, const struct crashx_log *log);
	/* Default for CRASHX_STRIDE (0 = 1). */
	unsigned stride;
	/*
	 * Optional: opens the file at 'image' and closes it again, running the library's
	 * recovery (e.g. also write-opening every region). When set, the recovery of some crash
	 * images is itself explored ("nested"): crash images taken at every persistence action
	 * of the recovery must pass 'check' with the same log.
	 */
	int (*recover)(const char *image);
};

/*
 * The main function of a driver program:
 *   <prog> list
 *   <prog> run <workload> [--fault <spec>] [--expect-violation] [--stride n] [--k n]
 *   <prog> check <workload> <image> <log file> <log length> [--nested <stats file>]
 *                                                                   (used by the explorer)
 * "run" exits 0 when the workload found no violation (with --expect-violation: when it
 * found at least one and the fault fired).
 */
CRASHX_EXPORT int crashx_main(int argc, char *argv[], const struct crashx_workload *workloads,
			      size_t nworkloads);

/* Logs one operation mark (printf-like; no newlines) for the checkers. */
CRASHX_EXPORT void crashx_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Makes the explorer ignore persistence actions of the calling thread while 'on' (e.g. while
 * a workload prepares a file that is not under test); 0 re-enables tracking.
 */
CRASHX_EXPORT void crashx_pause(int on);

/*
 * Maps a file with libpmem2 (creating it with 'size' bytes if it does not exist; size 0 =
 * open an existing file). Returns NULL on failure. crashx_unmap_file() deletes the map and
 * closes the file.
 */
struct pmem2_map;
CRASHX_EXPORT struct pmem2_map *crashx_map_file(const char *path, size_t size);
CRASHX_EXPORT void crashx_unmap_file(struct pmem2_map *map);

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
CRASHX_EXPORT void *crashx_read_file(const char *path, size_t *size);

/* Helpers for checkers: a deterministic byte pattern and its verification. */
CRASHX_EXPORT void crashx_pattern(void *buf, size_t len, unsigned long long seed);
CRASHX_EXPORT int crashx_pattern_ok(const void *buf, size_t len, unsigned long long seed);

#ifdef __cplusplus
}
#endif

#endif
