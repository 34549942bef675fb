/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The libpmem2 side of the explorer: definitions of pmem2_map_new/delete and
 * pmem2_get_*_fn that win the symbol lookup over libpmem2's (see crashx.h), and the durable
 * shadow they maintain.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpmem2.h>

#include "crashx_int.h"

#define PMEM2_VERSION "LIBPMEM2_1.0"

pthread_mutex_t cx_lock = PTHREAD_MUTEX_INITIALIZER;
int cx_active;
struct cx_file cx_file;
struct cx_fault cx_fault;

/* The real functions, per mapping: a library asks for them once per map. */
struct cx_real {
	pmem2_persist_fn persist;
	pmem2_flush_fn flush;
	pmem2_drain_fn drain;
	pmem2_memcpy_fn memcpy;
	pmem2_memmove_fn memmove;
	pmem2_memset_fn memset;
};

struct cx_map {
	struct pmem2_map *map;
	uintptr_t start, end;
	struct cx_real real;
};

#define CX_MAX_MAPS 64
static struct cx_map maps[CX_MAX_MAPS];
static struct cx_real last_real; /* for addresses outside any known map */

static _Thread_local int tid_plus1;
static _Thread_local int pause_depth;
static atomic_int next_tid;

int cx_tid(void)
{
	if (tid_plus1 == 0)
		tid_plus1 = atomic_fetch_add(&next_tid, 1) + 1;
	return tid_plus1 - 1;
}

int cx_paused(void)
{
	return pause_depth > 0;
}

void crashx_pause(int on)
{
	pause_depth += on ? 1 : -1;
}

static void *real_sym(const char *name)
{
	void *f = dlvsym(RTLD_NEXT, name, PMEM2_VERSION);
	if (f == NULL)
		f = dlsym(RTLD_NEXT, name);
	if (f == NULL) {
		fprintf(stderr, "crashx: cannot find the real %s: %s\n", name, dlerror());
		abort();
	}
	return f;
}

#define REAL(name, type)                            \
	static type real_##name(void)               \
	{                                           \
		static type fn;                     \
		if (fn == NULL)                     \
			fn = (type)real_sym(#name); \
		return fn;                          \
	}

typedef int (*map_new_t)(struct pmem2_map **, const struct pmem2_config *,
			 const struct pmem2_source *);
typedef int (*map_delete_t)(struct pmem2_map **);
typedef int (*map_from_existing_t)(struct pmem2_map **, const struct pmem2_source *, void *, size_t,
				   enum pmem2_granularity);
typedef pmem2_persist_fn (*get_persist_t)(struct pmem2_map *);
typedef pmem2_flush_fn (*get_flush_t)(struct pmem2_map *);
typedef pmem2_drain_fn (*get_drain_t)(struct pmem2_map *);
typedef pmem2_memcpy_fn (*get_memcpy_t)(struct pmem2_map *);
typedef pmem2_memmove_fn (*get_memmove_t)(struct pmem2_map *);
typedef pmem2_memset_fn (*get_memset_t)(struct pmem2_map *);

REAL(pmem2_map_new, map_new_t)
REAL(pmem2_map_delete, map_delete_t)
REAL(pmem2_map_from_existing, map_from_existing_t)
REAL(pmem2_get_persist_fn, get_persist_t)
REAL(pmem2_get_flush_fn, get_flush_t)
REAL(pmem2_get_drain_fn, get_drain_t)
REAL(pmem2_get_memcpy_fn, get_memcpy_t)
REAL(pmem2_get_memmove_fn, get_memmove_t)
REAL(pmem2_get_memset_fn, get_memset_t)

static struct cx_real *real_for(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	for (int i = 0; i < CX_MAX_MAPS; i++)
		if (maps[i].map != NULL && a >= maps[i].start && a < maps[i].end)
			return &maps[i].real;
	return &last_real;
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);
	if (p == NULL) {
		fprintf(stderr, "crashx: out of memory (%zu bytes)\n", size);
		abort();
	}
	return p;
}

/* --- the durable shadow ------------------------------------------------------------------ */

static int in_file(const void *addr, size_t len, size_t *off)
{
	struct cx_file *f = &cx_file;
	if (!f->in_use || f->map == NULL)
		return 0;
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)f->live;
	if (a < base || a >= base + f->size)
		return 0;
	(void)len;
	*off = a - base;
	return 1;
}

/* Records a flush of [off, off + len) by thread 'tid': the lines' current content. */
static void shadow_flush(size_t off, size_t len, int tid)
{
	struct cx_file *f = &cx_file;
	if (len == 0)
		return;
	size_t end = off + len;
	if (end > f->size)
		end = f->size;
	for (size_t line = off / CX_LINE; line * CX_LINE < end; line++) {
		struct cx_pending *p;
		if (f->pend_idx[line] != 0) {
			p = &f->pend[f->pend_idx[line] - 1];
		} else {
			if (f->npend == f->pend_cap) {
				f->pend_cap = f->pend_cap ? 2 * f->pend_cap : 256;
				f->pend = realloc(f->pend, f->pend_cap * sizeof(*f->pend));
				if (f->pend == NULL)
					abort();
			}
			p = &f->pend[f->npend++];
			p->line = line;
			p->threads = 0;
			f->pend_idx[line] = (uint32_t)f->npend;
		}
		p->threads |= 1ULL << (tid % 64);
		memcpy(p->data, f->live + line * CX_LINE, CX_LINE);
	}
}

/* A flush, unless the armed fault picks this one. */
static void shadow_flush_fault_aware(size_t off, size_t len, uint64_t event)
{
	struct cx_fault *ft = &cx_fault;
	if (ft->kind != CX_FAULT_NONE && ft->armed && !ft->fired && ++ft->count == ft->n) {
		ft->fired = 1;
		ft->fired_event = event;
		if (ft->kind == CX_FAULT_DELAY) {
			struct cx_file *f = &cx_file;
			if (f->ndelayed == f->delayed_cap) {
				f->delayed_cap = f->delayed_cap ? 2 * f->delayed_cap : 8;
				f->delayed =
					realloc(f->delayed, f->delayed_cap * sizeof(*f->delayed));
				if (f->delayed == NULL)
					abort();
			}
			f->delayed[f->ndelayed++] =
				(struct cx_delayed){off, len, cx_tid(), ft->drains};
		}
		return;
	}
	shadow_flush(off, len, cx_tid());
}

/* A drain by thread 'tid': its flushed lines become durable; its delayed flushes age. */
static void shadow_drain(int tid)
{
	struct cx_file *f = &cx_file;
	uint64_t bit = 1ULL << (tid % 64);
	int changed = 0;
	for (size_t i = 0; i < f->npend;) {
		struct cx_pending *p = &f->pend[i];
		if (!(p->threads & bit)) {
			i++;
			continue;
		}
		unsigned char *d = f->durable + p->line * CX_LINE;
		if (memcmp(d, p->data, CX_LINE) != 0) {
			memcpy(d, p->data, CX_LINE);
			changed = 1;
		}
		f->pend_idx[p->line] = 0;
		if (i != f->npend - 1) {
			*p = f->pend[f->npend - 1];
			f->pend_idx[p->line] = (uint32_t)(i + 1);
		}
		f->npend--;
	}
	if (changed)
		f->version++;
	for (size_t i = 0; i < f->ndelayed;) {
		struct cx_delayed *dl = &f->delayed[i];
		if (dl->tid != tid) {
			i++;
			continue;
		}
		if (--dl->drains > 0) {
			i++;
			continue;
		}
		/* issued now: pending until this thread's next drain */
		shadow_flush(dl->off, dl->len, tid);
		f->delayed[i] = f->delayed[--f->ndelayed];
	}
}

static uint64_t event_no;

/* True when this action is a crash point to explore; takes the lock either way. */
static int enter(void)
{
	pthread_mutex_lock(&cx_lock);
	return cx_active && cx_file.in_use;
}

static void point(const char *what)
{
	event_no++;
	if (!cx_paused())
		cx_crash_point(what);
}

/* --- wrappers handed to the library ------------------------------------------------------ */

static void w_persist(const void *ptr, size_t size)
{
	size_t off;
	if (enter() && in_file(ptr, size, &off)) {
		point("persist");
		real_for(ptr)->persist(ptr, size);
		shadow_flush_fault_aware(off, size, event_no);
		shadow_drain(cx_tid());
	} else {
		real_for(ptr)->persist(ptr, size);
		if (cx_active && cx_file.in_use) {
			point("drain");
			shadow_drain(cx_tid());
		}
	}
	pthread_mutex_unlock(&cx_lock);
}

static void w_flush(const void *ptr, size_t size)
{
	size_t off;
	if (enter() && in_file(ptr, size, &off)) {
		point("flush");
		real_for(ptr)->flush(ptr, size);
		shadow_flush_fault_aware(off, size, event_no);
	} else {
		real_for(ptr)->flush(ptr, size);
	}
	pthread_mutex_unlock(&cx_lock);
}

static void w_drain(void)
{
	if (enter()) {
		point("drain");
		last_real.drain();
		shadow_drain(cx_tid());
	} else {
		last_real.drain();
	}
	pthread_mutex_unlock(&cx_lock);
}

/*
 * The mem* functions: crash point before the copy, then (unless NOFLUSH) the copied lines
 * are flushed, and (unless NODRAIN) a crash point right before the final drain, where a
 * partly copied range is explored.
 */
static void after_mem(size_t off, size_t len, unsigned flags)
{
	if (flags & PMEM2_F_MEM_NOFLUSH)
		return;
	shadow_flush_fault_aware(off, len, event_no);
	if (flags & PMEM2_F_MEM_NODRAIN)
		return;
	point("mem-drain");
	shadow_drain(cx_tid());
}

static void *w_memcpy(void *dst, const void *src, size_t len, unsigned flags)
{
	size_t off;
	void *r;
	if (enter() && in_file(dst, len, &off)) {
		point("memcpy");
		r = real_for(dst)->memcpy(dst, src, len, flags);
		after_mem(off, len, flags);
	} else {
		r = real_for(dst)->memcpy(dst, src, len, flags);
	}
	pthread_mutex_unlock(&cx_lock);
	return r;
}

static void *w_memmove(void *dst, const void *src, size_t len, unsigned flags)
{
	size_t off;
	void *r;
	if (enter() && in_file(dst, len, &off)) {
		point("memmove");
		r = real_for(dst)->memmove(dst, src, len, flags);
		after_mem(off, len, flags);
	} else {
		r = real_for(dst)->memmove(dst, src, len, flags);
	}
	pthread_mutex_unlock(&cx_lock);
	return r;
}

static void *w_memset(void *dst, int c, size_t len, unsigned flags)
{
	size_t off;
	void *r;
	if (enter() && in_file(dst, len, &off)) {
		point("memset");
		r = real_for(dst)->memset(dst, c, len, flags);
		after_mem(off, len, flags);
	} else {
		r = real_for(dst)->memset(dst, c, len, flags);
	}
	pthread_mutex_unlock(&cx_lock);
	return r;
}

/* --- the interposed libpmem2 functions ---------------------------------------------------- */

static void track_new_map(struct pmem2_map *map, const struct pmem2_source *src)
{
	struct cx_file *f = &cx_file;
	int fd;
	struct stat st;
	if (pmem2_source_get_fd(src, &fd) != 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	unsigned char *addr = pmem2_map_get_address(map);
	size_t size = pmem2_map_get_size(map);
	if (f->in_use) {
		if (f->dev != st.st_dev || f->ino != st.st_ino) {
			fprintf(stderr,
				"crashx: a second file is mapped; only the first is explored\n");
			return;
		}
		if (f->map != NULL) {
			fprintf(stderr, "crashx: the file is mapped twice; the second map is not "
					"explored\n");
			return;
		}
		if (size != f->size) {
			fprintf(stderr, "crashx: the file was remapped with another size\n");
			abort();
		}
		/* a remap: the content the file got through the old mapping is the live state */
		f->map = map;
		f->live = addr;
		free(f->detached);
		f->detached = NULL;
		return;
	}
	f->in_use = 1;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	/*
	 * The file's name, not a dup of its descriptor: a dup would share the open file
	 * description and with it any flock the library holds, so it could not reopen the file.
	 */
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, f->path, sizeof(f->path) - 1);
	f->path[n > 0 ? n : 0] = '\0';
	f->file_size = (size_t)st.st_size;
	f->size = size;
	f->map = map;
	f->live = addr;
	f->durable = xmalloc(size);
	memcpy(f->durable, addr, size);
	size_t nlines = (size + CX_LINE - 1) / CX_LINE;
	f->pend_idx = calloc(nlines, sizeof(*f->pend_idx));
	if (f->pend_idx == NULL)
		abort();
	f->version = 1;
}

static void register_map(struct pmem2_map *map, const struct pmem2_source *src)
{
	pthread_mutex_lock(&cx_lock);
	for (int i = 0; i < CX_MAX_MAPS; i++) {
		if (maps[i].map != NULL)
			continue;
		maps[i].map = map;
		maps[i].start = (uintptr_t)pmem2_map_get_address(map);
		maps[i].end = maps[i].start + pmem2_map_get_size(map);
		maps[i].real.persist = real_pmem2_get_persist_fn()(map);
		maps[i].real.flush = real_pmem2_get_flush_fn()(map);
		maps[i].real.drain = real_pmem2_get_drain_fn()(map);
		maps[i].real.memcpy = real_pmem2_get_memcpy_fn()(map);
		maps[i].real.memmove = real_pmem2_get_memmove_fn()(map);
		maps[i].real.memset = real_pmem2_get_memset_fn()(map);
		last_real = maps[i].real;
		break;
	}
	if (cx_active)
		track_new_map(map, src);
	pthread_mutex_unlock(&cx_lock);
}

CRASHX_EXPORT int pmem2_map_new(struct pmem2_map **map_ptr, const struct pmem2_config *cfg,
				const struct pmem2_source *src)
{
	int ret = real_pmem2_map_new()(map_ptr, cfg, src);
	if (ret == 0)
		register_map(*map_ptr, src);
	return ret;
}

/* A mapping the caller made itself (libpmemblk does so for PMEM_IS_PMEM_FORCE). */
CRASHX_EXPORT int pmem2_map_from_existing(struct pmem2_map **map_ptr,
					  const struct pmem2_source *src, void *addr, size_t len,
					  enum pmem2_granularity gran)
{
	int ret = real_pmem2_map_from_existing()(map_ptr, src, addr, len, gran);
	if (ret == 0)
		register_map(*map_ptr, src);
	return ret;
}

CRASHX_EXPORT int pmem2_map_delete(struct pmem2_map **map_ptr)
{
	struct pmem2_map *map = map_ptr ? *map_ptr : NULL;
	pthread_mutex_lock(&cx_lock);
	struct cx_file *f = &cx_file;
	if (map != NULL && f->in_use && f->map == map) {
		/* what the mapping held stays in the file; keep exploring it */
		f->detached = xmalloc(f->size);
		memcpy(f->detached, f->live, f->size);
		f->live = f->detached;
		f->map = NULL;
	}
	pthread_mutex_unlock(&cx_lock);
	int ret = real_pmem2_map_delete()(map_ptr);
	if (ret == 0 && map != NULL) {
		pthread_mutex_lock(&cx_lock);
		for (int i = 0; i < CX_MAX_MAPS; i++)
			if (maps[i].map == map)
				maps[i].map = NULL;
		pthread_mutex_unlock(&cx_lock);
	}
	return ret;
}

CRASHX_EXPORT pmem2_persist_fn pmem2_get_persist_fn(struct pmem2_map *map)
{
	(void)map;
	return w_persist;
}

CRASHX_EXPORT pmem2_flush_fn pmem2_get_flush_fn(struct pmem2_map *map)
{
	(void)map;
	return w_flush;
}

CRASHX_EXPORT pmem2_drain_fn pmem2_get_drain_fn(struct pmem2_map *map)
{
	(void)map;
	return w_drain;
}

CRASHX_EXPORT pmem2_memcpy_fn pmem2_get_memcpy_fn(struct pmem2_map *map)
{
	(void)map;
	return w_memcpy;
}

CRASHX_EXPORT pmem2_memmove_fn pmem2_get_memmove_fn(struct pmem2_map *map)
{
	(void)map;
	return w_memmove;
}

CRASHX_EXPORT pmem2_memset_fn pmem2_get_memset_fn(struct pmem2_map *map)
{
	(void)map;
	return w_memset;
}

int cx_parse_fault(const char *spec)
{
	struct cx_fault *ft = &cx_fault;
	memset(ft, 0, sizeof(*ft));
	if (spec == NULL || spec[0] == '\0')
		return 0;
	char kind[16];
	int consumed = 0;
	if (sscanf(spec, "%15[a-z]:%127[^:]:%lu%n", kind, ft->prefix, &ft->n, &consumed) < 3 ||
	    ft->n == 0)
		goto bad;
	if (strcmp(kind, "drop") == 0) {
		ft->kind = CX_FAULT_DROP;
		if (spec[consumed] != '\0')
			goto bad;
	} else if (strcmp(kind, "delay") == 0) {
		ft->kind = CX_FAULT_DELAY;
		ft->drains = 1;
		if (spec[consumed] == ':' &&
		    (sscanf(spec + consumed + 1, "%u", &ft->drains) != 1 || ft->drains == 0))
			goto bad;
	} else {
		goto bad;
	}
	/* "*": counting starts at once, not at a mark */
	ft->armed = strcmp(ft->prefix, "*") == 0;
	return 0;
bad:
	fprintf(stderr,
		"crashx: bad fault spec '%s' (drop:<mark prefix>:<n> or "
		"delay:<mark prefix>:<n>[:<drains>])\n",
		spec);
	ft->kind = CX_FAULT_NONE;
	return -1;
}
