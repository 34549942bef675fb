/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by the interposer (shadow model) and the exploration engine. */

#ifndef PMEMKIT_CRASHX_INT_H
#define PMEMKIT_CRASHX_INT_H

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "crashx.h"

#define CX_LINE 64
#define CX_WORD 8

struct pmem2_map;

/* A flushed cache line whose content is not known to be durable yet. */
struct cx_pending {
	size_t line;		     /* line index in the file */
	uint64_t threads;	     /* bit (tid % 64) of every thread that flushed it */
	unsigned char data[CX_LINE]; /* content at the (last) flush */
};

/* A flush held back by a "delay" fault until its thread has drained 'drains' more times. */
struct cx_delayed {
	size_t off, len;
	int tid;
	unsigned drains;
};

/* The one file under test. */
struct cx_file {
	int in_use;
	dev_t dev;
	ino_t ino;
	char path[4096]; /* to copy file bytes beyond the mapping */
	size_t file_size;
	size_t size;		/* tracked bytes: [0, size) of the file, as mapped */
	unsigned char *durable; /* what survives a crash for sure */
	unsigned char *live;	/* the mapping, or 'detached' after it was unmapped */
	unsigned char *detached;
	struct pmem2_map *map;
	uint32_t *pend_idx; /* per line: 1 + index into pend, 0 = not pending */
	struct cx_pending *pend;
	size_t npend, pend_cap;
	struct cx_delayed *delayed;
	size_t ndelayed, delayed_cap;
	uint64_t version; /* bumped whenever 'durable' changes */
};

extern pthread_mutex_t cx_lock;
extern int cx_active; /* tracking on (run mode, inside the workload) */
extern struct cx_file cx_file;

/* Fault injection state (see crashx.h). */
enum cx_fault_kind { CX_FAULT_NONE, CX_FAULT_DROP, CX_FAULT_DELAY };
struct cx_fault {
	enum cx_fault_kind kind;
	char prefix[128];
	unsigned long n;
	unsigned drains;
	int armed;
	unsigned long count;
	int fired;
	uint64_t fired_event;
	char fired_at[64];
};
extern struct cx_fault cx_fault;

int cx_parse_fault(const char *spec);

/* Called with cx_lock held before every persistence action while cx_active. */
void cx_crash_point(const char *what);

int cx_tid(void);
int cx_paused(void);

#endif
