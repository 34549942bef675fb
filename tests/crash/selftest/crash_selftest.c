/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Self-test of the crash-state explorer on the fake record log: the correct variants must
 * show no violation, every broken variant and every injected fault must be reported.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashx.h"
#include "fakelog.h"

#define NRECORDS  8
#define NSLOTS	  16
#define FILE_SIZE (FAKELOG_FIRST_SLOT + NSLOTS * FAKELOG_SLOT)

static int run_mode(const char *path, enum fakelog_mode mode)
{
	struct pmem2_map *map = crashx_map_file(path, FILE_SIZE);
	if (map == NULL)
		return -1;
	crashx_mark("B open");
	struct fakelog *log = fakelog_open(map, mode);
	if (log == NULL)
		return -1;
	crashx_mark("E open");
	unsigned char payload[FAKELOG_PAYLOAD];
	for (uint64_t seq = 1; seq <= NRECORDS; seq++) {
		crashx_pattern(payload, sizeof(payload), seq);
		crashx_mark("B put %llu", (unsigned long long)seq);
		if (fakelog_put(log, seq, payload) != 0)
			return -1;
		crashx_mark("E put %llu", (unsigned long long)seq);
	}
	fakelog_close(log);
	crashx_unmap_file(map);
	return 0;
}

#define MODE_RUN(name, mode)                    \
	static int run_##name(const char *path) \
	{                                       \
		return run_mode(path, mode);    \
	}
MODE_RUN(correct, FAKELOG_CORRECT)
MODE_RUN(correct_memcpy, FAKELOG_CORRECT_MEMCPY)
MODE_RUN(broken_no_persist, FAKELOG_BROKEN_NO_PERSIST)
MODE_RUN(broken_noflush, FAKELOG_BROKEN_NOFLUSH)
MODE_RUN(broken_foreign_drain, FAKELOG_BROKEN_FOREIGN_DRAIN)
MODE_RUN(broken_flag_first, FAKELOG_BROKEN_FLAG_FIRST)

/*
 * Invariants: once open returned, the header is valid; a slot is either empty or holds its
 * own record with the exact payload of a put that had begun; every put that returned is
 * there.
 */
static int check(const char *image, const struct crashx_log *log)
{
	size_t size;
	unsigned char *img = crashx_read_file(image, &size);
	if (img == NULL || size != FILE_SIZE) {
		fprintf(stderr, "cannot read the image\n");
		return 1;
	}
	int opened = 0;
	int begun[NSLOTS + 1] = {0}, ended[NSLOTS + 1] = {0};
	for (size_t i = 0; i < log->n; i++) {
		unsigned long long seq;
		if (strcmp(log->lines[i], "E open") == 0)
			opened = 1;
		else if (sscanf(log->lines[i], "B put %llu", &seq) == 1 && seq <= NSLOTS)
			begun[seq] = 1;
		else if (sscanf(log->lines[i], "E put %llu", &seq) == 1 && seq <= NSLOTS)
			ended[seq] = 1;
	}
	uint64_t magic, nslots;
	memcpy(&magic, img, 8);
	memcpy(&nslots, img + 8, 8);
	if (opened && magic != FAKELOG_MAGIC) {
		fprintf(stderr, "header lost after open returned\n");
		return 1;
	}
	if (magic == FAKELOG_MAGIC && nslots != NSLOTS) {
		fprintf(stderr, "valid header with nslots %llu\n", (unsigned long long)nslots);
		return 1;
	}
	int bad = 0;
	for (uint64_t seq = 1; seq <= NSLOTS; seq++) {
		const unsigned char *slot = img + FAKELOG_FIRST_SLOT + (seq - 1) * FAKELOG_SLOT;
		uint64_t flag;
		memcpy(&flag, slot, 8);
		if (flag == 0) {
			if (ended[seq]) {
				fprintf(stderr, "record %llu lost (its put returned)\n",
					(unsigned long long)seq);
				bad = 1;
			}
			continue;
		}
		if (flag != seq || !begun[seq]) {
			fprintf(stderr, "slot %llu holds flag %llu that was never written\n",
				(unsigned long long)seq, (unsigned long long)flag);
			bad = 1;
		} else if (!crashx_pattern_ok(slot + 64, FAKELOG_PAYLOAD, seq)) {
			fprintf(stderr, "record %llu is valid but its payload is torn\n",
				(unsigned long long)seq);
			bad = 1;
		}
	}
	free(img);
	return bad;
}

static const struct crashx_workload workloads[] = {
	{"correct", run_correct, check, 0},
	{"correct-memcpy", run_correct_memcpy, check, 0},
	{"broken-no-persist", run_broken_no_persist, check, 0},
	{"broken-noflush", run_broken_noflush, check, 0},
	{"broken-foreign-drain", run_broken_foreign_drain, check, 0},
	{"broken-flag-first", run_broken_flag_first, check, 0},
};

int main(int argc, char *argv[])
{
	return crashx_main(argc, argv, workloads, sizeof(workloads) / sizeof(workloads[0]));
}
