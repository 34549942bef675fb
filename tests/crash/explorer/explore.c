/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exploration engine: crash points, crash images, checker processes, statistics and the
 * driver's main function.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashx_int.h"
#include "ut.h"

extern char **environ;

/* A word that may or may not have reached the media at a crash point. */
struct cand {
	size_t off;
	uint64_t live;
	uint64_t alt; /* the value at the last flush of its line, if it differs; else live */
};

static struct {
	const struct crashx_workload *w;
	char dir[512];
	char pool[600];
	char image[600];
	char logpath[600];
	char outpath[600];
	char self[512];
	int log_fd;
	size_t log_len;
	char last_mark[256];
	unsigned k;
	unsigned stride;
	unsigned long max_images;
	int verbose;
	int keep;
	int expect_violation;
	uint64_t rng;
	unsigned nested_every; /* explore recovery at every n-th crash point (0: never) */
	int in_nested;	       /* this process explores a recovery */
	char nested_stats[600];

	struct cand *cand;
	size_t ncand, cand_cap;
	uint64_t *seen;
	size_t seen_cap, nseen;

	unsigned long events, points, dup_points, skipped_points, images, violations,
		saved_violations, budget_hits;
	unsigned long nested_runs, nested_points, nested_images, nested_violations;
	size_t max_cand;
} X;

/* --- small helpers -------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void crashx_pattern(void *buf, size_t len, unsigned long long seed)
{
	uint64_t s = seed * 0x2545F4914F6CDD1DULL + 1;
	unsigned char *b = buf;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = splitmix(&s);
		memcpy(b + i, &v, len - i < 8 ? len - i : 8);
	}
}

int crashx_pattern_ok(const void *buf, size_t len, unsigned long long seed)
{
	uint64_t s = seed * 0x2545F4914F6CDD1DULL + 1;
	const unsigned char *b = buf;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = splitmix(&s);
		if (memcmp(b + i, &v, len - i < 8 ? len - i : 8) != 0)
			return 0;
	}
	return 1;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
	return h * 0xFF51AFD7ED558CCDULL;
}

/* Remembers a key; returns 1 if it was seen before. */
static int seen_before(uint64_t key)
{
	if (key == 0)
		key = 1;
	if (2 * (X.nseen + 1) > X.seen_cap) {
		size_t cap = X.seen_cap ? 2 * X.seen_cap : 1024;
		uint64_t *t = calloc(cap, sizeof(*t));
		if (t == NULL)
			abort();
		for (size_t i = 0; i < X.seen_cap; i++) {
			if (X.seen[i] == 0)
				continue;
			size_t j = X.seen[i] & (cap - 1);
			while (t[j] != 0)
				j = (j + 1) & (cap - 1);
			t[j] = X.seen[i];
		}
		free(X.seen);
		X.seen = t;
		X.seen_cap = cap;
	}
	size_t j = key & (X.seen_cap - 1);
	while (X.seen[j] != 0) {
		if (X.seen[j] == key)
			return 1;
		j = (j + 1) & (X.seen_cap - 1);
	}
	X.seen[j] = key;
	X.nseen++;
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && v[0] ? strtoul(v, NULL, 0) : dflt;
}

/* --- crash images ----------------------------------------------------------------------- */

static void collect_candidates(void)
{
	struct cx_file *f = &cx_file;
	X.ncand = 0;
	for (size_t page = 0; page < f->size; page += 4096) {
		size_t plen = f->size - page < 4096 ? f->size - page : 4096;
		if (memcmp(f->live + page, f->durable + page, plen) == 0)
			continue;
		for (size_t off = page; off + CX_WORD <= page + plen; off += CX_WORD) {
			uint64_t l, d;
			memcpy(&l, f->live + off, 8);
			memcpy(&d, f->durable + off, 8);
			if (l == d)
				continue;
			if (X.ncand == X.cand_cap) {
				X.cand_cap = X.cand_cap ? 2 * X.cand_cap : 1024;
				X.cand = realloc(X.cand, X.cand_cap * sizeof(*X.cand));
				if (X.cand == NULL)
					abort();
			}
			uint64_t alt = l;
			uint32_t pi = f->pend_idx[off / CX_LINE];
			if (pi != 0) {
				uint64_t a;
				memcpy(&a, f->pend[pi - 1].data + off % CX_LINE, 8);
				if (a != d)
					alt = a;
			}
			X.cand[X.ncand++] = (struct cand){off, l, alt};
		}
	}
	if (X.ncand > X.max_cand)
		X.max_cand = X.ncand;
}

static int all_zero(const unsigned char *p, size_t len)
{
	static const unsigned char zero[4096];
	return memcmp(p, zero, len) == 0;
}

/* Writes the image: durable shadow, then the chosen candidate words (sel[i] = 0 none,
 * 1 live value, 2 alternative value). */
static void write_image(const unsigned char *sel)
{
	struct cx_file *f = &cx_file;
	int fd = open(X.image, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("crashx: image");
		abort();
	}
	if (ftruncate(fd, (off_t)f->file_size) != 0)
		abort();
	for (size_t page = 0; page < f->size; page += 4096) {
		size_t plen = f->size - page < 4096 ? f->size - page : 4096;
		if (all_zero(f->durable + page, plen))
			continue;
		if (pwrite(fd, f->durable + page, plen, (off_t)page) != (ssize_t)plen)
			abort();
	}
	for (size_t i = 0; i < X.ncand; i++) {
		if (sel[i] == 0)
			continue;
		uint64_t v = sel[i] == 1 ? X.cand[i].live : X.cand[i].alt;
		if (pwrite(fd, &v, 8, (off_t)X.cand[i].off) != 8)
			abort();
	}
	/* bytes beyond the mapping were never written through it: copy them from the file */
	if (f->file_size > f->size) {
		int in = open(f->path, O_RDONLY);
		if (in < 0) {
			perror("crashx: reopening the file under test");
			abort();
		}
		char buf[65536];
		off_t pos = (off_t)f->size;
		ssize_t n;
		while ((n = pread(in, buf, sizeof(buf), pos)) > 0) {
			if (pwrite(fd, buf, (size_t)n, pos) != n)
				abort();
			pos += n;
		}
		close(in);
	}
	close(fd);
}

static void print_file(const char *path, int max_lines)
{
	FILE *in = fopen(path, "r");
	if (in == NULL)
		return;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), in) != NULL && n++ < max_lines)
		fprintf(stderr, "    | %s", line);
	fclose(in);
}

/* Runs the checker on the current image; returns 1 on a violation. */
static int check_image(const char *what, const char *kind, int nested)
{
	char len[32];
	snprintf(len, sizeof(len), "%zu", X.log_len);
	char *argv[] = {X.self,	   "check", (char *)X.w->name,		X.image,
			X.logpath, len,	    nested ? "--nested" : NULL, X.nested_stats,
			NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, X.outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	pid_t pid;
	int err = posix_spawn(&pid, X.self, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0) {
		fprintf(stderr, "crashx: cannot start the checker: %s\n", strerror(err));
		abort();
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			abort();
	X.images++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (X.verbose > 1)
			print_file(X.outpath, 20);
		return 0;
	}
	X.violations++;
	if (X.violations <= 5 || X.verbose) {
		fprintf(stderr,
			"crashx: %s: VIOLATION at %scrash point %lu (event %" PRIu64
			", before %s), image '%s'%s, %zu words in flight, last mark '%s': checker "
			"%s "
			"%d\n",
			X.w->name, X.in_nested ? "recovery " : "", X.points, (uint64_t)X.events,
			what, kind, nested ? " (its recovery explored)" : "", X.ncand, X.last_mark,
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		print_file(X.outpath, 30);
	}
	if (!X.expect_violation && !X.in_nested && X.saved_violations < 3) {
		char img[700], log[700];
		snprintf(img, sizeof(img), "%s/violation-%lu.img", X.dir, X.saved_violations);
		snprintf(log, sizeof(log), "%s/violation-%lu.log", X.dir, X.saved_violations);
		X.saved_violations++;
		if (rename(X.image, img) == 0) {
			char cmd[4096];
			snprintf(cmd, sizeof(cmd), "cp %s %s", X.logpath, log);
			if (system(cmd) == 0)
				fprintf(stderr, "    reproduce: %s check %s %s %s %zu\n", X.self,
					X.w->name, img, log, X.log_len);
		}
	}
	return 1;
}

void cx_crash_point(const char *what)
{
	X.events++;
	if (X.expect_violation && X.violations > 0) {
		X.skipped_points++;
		return;
	}
	if (X.stride > 1 && X.events % X.stride != 0) {
		X.skipped_points++;
		return;
	}
	if (X.images >= X.max_images) {
		X.budget_hits++;
		return;
	}
	collect_candidates();
	struct cx_file *f = &cx_file;
	uint64_t key = mix(mix(f->version, X.log_len), X.ncand);
	for (size_t i = 0; i < X.ncand; i++)
		key = mix(mix(mix(key, X.cand[i].off), X.cand[i].live), X.cand[i].alt);
	if (seen_before(key)) {
		X.dup_points++;
		return;
	}
	X.points++;

	unsigned char *sel = calloc(X.ncand + 1, 1);
	if (sel == NULL)
		abort();
	write_image(sel);
	check_image(what, "durable", 0);
	if (X.ncand == 0) {
		free(sel);
		return;
	}
	memset(sel, 1, X.ncand);
	write_image(sel);
	int nested =
		X.nested_every && X.w->recover && !X.in_nested && X.points % X.nested_every == 0;
	check_image(what, "all", nested);
	for (unsigned k = 0; X.ncand > 1 && k < X.k; k++) {
		int by_line = k % 2 == 1;
		size_t chosen = 0;
		uint64_t r = 0;
		size_t cur_line = SIZE_MAX;
		int line_in = 0;
		for (size_t i = 0; i < X.ncand; i++) {
			if (by_line) {
				if (X.cand[i].off / CX_LINE != cur_line) {
					cur_line = X.cand[i].off / CX_LINE;
					line_in = splitmix(&X.rng) & 1;
				}
				sel[i] = (unsigned char)line_in;
			} else {
				if (i % 32 == 0)
					r = splitmix(&X.rng);
				sel[i] = (r >> (2 * (i % 32))) & 1;
				if (sel[i] && X.cand[i].alt != X.cand[i].live &&
				    ((r >> (2 * (i % 32) + 1)) & 1))
					sel[i] = 2;
			}
			chosen += sel[i] != 0;
		}
		if (chosen == 0 || chosen == X.ncand)
			continue; /* same as an image already checked */
		write_image(sel);
		check_image(what, by_line ? "random-lines" : "random-words", nested && k == 0);
	}
	free(sel);
}

/* --- marks ----------------------------------------------------------------------------- */

void crashx_mark(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	pthread_mutex_lock(&cx_lock);
	size_t keep = (size_t)n < sizeof(X.last_mark) - 1 ? (size_t)n : sizeof(X.last_mark) - 1;
	memcpy(X.last_mark, line, keep);
	X.last_mark[keep] = '\0';
	line[n++] = '\n';
	if (X.log_fd > 0) {
		if (write(X.log_fd, line, (size_t)n) != n)
			abort();
		X.log_len += (size_t)n;
	}
	if (cx_fault.kind != CX_FAULT_NONE && !cx_fault.armed &&
	    strncmp(line, cx_fault.prefix, strlen(cx_fault.prefix)) == 0)
		cx_fault.armed = 1;
	pthread_mutex_unlock(&cx_lock);
}

static int read_log(const char *path, size_t len, struct crashx_log *log)
{
	char *buf = malloc(len + 1);
	if (buf == NULL)
		return -1;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, buf, len, 0) != (ssize_t)len) {
		perror("crashx: log");
		return -1;
	}
	close(fd);
	buf[len] = '\0';
	size_t cap = 16;
	log->lines = malloc(cap * sizeof(char *));
	log->n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, "\n", &save); tok != NULL;
	     tok = strtok_r(NULL, "\n", &save)) {
		if (log->n == cap) {
			cap *= 2;
			log->lines = realloc(log->lines, cap * sizeof(char *));
		}
		log->lines[log->n++] = tok;
	}
	return 0;
}

/* --- main --------------------------------------------------------------------------------- */

static int usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s list\n"
		"       %s run <workload> [--fault <spec>] [--expect-violation] [--stride n] "
		"[--k n]\n"
		"       %s check <workload> <image> <log> <log length>\n",
		prog, prog, prog);
	return 2;
}

static const struct crashx_workload *find(const struct crashx_workload *w, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].name, name) == 0)
			return &w[i];
	fprintf(stderr, "crashx: no workload '%s'\n", name);
	return NULL;
}

static void read_nested_stats(void)
{
	FILE *in = fopen(X.nested_stats, "r");
	if (in == NULL)
		return;
	unsigned long p, i, v;
	while (fscanf(in, "%lu %lu %lu", &p, &i, &v) == 3) {
		X.nested_runs++;
		X.nested_points += p;
		X.nested_images += i;
		X.nested_violations += v;
	}
	fclose(in);
}

static int copy_file(const char *from, const char *to)
{
	size_t size;
	char *buf = crashx_read_file(from, &size);
	if (buf == NULL)
		return -1;
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ret = fd >= 0 && write(fd, buf, size) == (ssize_t)size ? 0 : -1;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/*
 * Explores the recovery of one crash image: the recovery runs on a copy under the explorer,
 * and every crash image of it is checked against the same log (in fresh processes). The
 * image itself is left untouched, so that a violation can be reproduced from it.
 */
static int nested_check(const struct crashx_workload *w, const char *image, const char *log,
			size_t log_len, const char *stats)
{
	X.w = w;
	X.in_nested = 1;
	X.k = (unsigned)env_ulong("CRASHX_K", 4);
	X.stride = 1;
	X.max_images = 1000;
	X.rng = env_ulong("CRASHX_SEED", 1) ^ ((uint64_t)getpid() << 20);
	X.log_fd = -1;
	X.log_len = log_len;
	snprintf(X.logpath, sizeof(X.logpath), "%s", log);
	snprintf(X.last_mark, sizeof(X.last_mark), "(recovery)");
	ssize_t sl = readlink("/proc/self/exe", X.self, sizeof(X.self) - 1);
	if (sl <= 0)
		return 2;
	X.self[sl] = '\0';
	snprintf(X.dir, sizeof(X.dir), "%s.nested-%d", image, (int)getpid());
	if (mkdir(X.dir, 0700) != 0)
		return 2;
	snprintf(X.pool, sizeof(X.pool), "%s/base", X.dir);
	snprintf(X.image, sizeof(X.image), "%s/image", X.dir);
	snprintf(X.outpath, sizeof(X.outpath), "%s/check.out", X.dir);
	if (copy_file(image, X.pool) != 0)
		return 2;
	/* the fault of the nested runs (CRASHX_NESTED_FAULT), for the explorer's own tests */
	if (cx_parse_fault(getenv("CRASHX_NESTED_FAULT")) != 0)
		return 2;

	pthread_mutex_lock(&cx_lock);
	cx_active = 1;
	pthread_mutex_unlock(&cx_lock);
	int rc = w->recover(X.pool);
	pthread_mutex_lock(&cx_lock);
	if (cx_file.in_use)
		cx_crash_point("end of recovery");
	cx_active = 0;
	pthread_mutex_unlock(&cx_lock);

	FILE *out = fopen(stats, "a");
	if (out != NULL) {
		fprintf(out, "%lu %lu %lu\n", X.points, X.images, X.violations);
		fclose(out);
	}
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", X.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "crashx: cannot remove %s\n", X.dir);
	if (rc != 0) {
		fprintf(stderr, "recovery of the image failed (%d)\n", rc);
		return 1;
	}
	return X.violations != 0;
}

static int run(const struct crashx_workload *w, int argc, char *argv[])
{
	const char *fault = getenv("CRASHX_FAULT");
	X.w = w;
	X.k = (unsigned)env_ulong("CRASHX_K", 4);
	X.stride = (unsigned)env_ulong("CRASHX_STRIDE", w->stride ? w->stride : 1);
	X.max_images = env_ulong("CRASHX_MAX_IMAGES", 3000);
	X.verbose = (int)env_ulong("CRASHX_VERBOSE", 0);
	X.keep = (int)env_ulong("CRASHX_KEEP", 0);
	X.rng = env_ulong("CRASHX_SEED", 1);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--expect-violation") == 0)
			X.expect_violation = 1;
		else if (strcmp(argv[i], "--fault") == 0 && i + 1 < argc)
			fault = argv[++i];
		else if (strcmp(argv[i], "--stride") == 0 && i + 1 < argc)
			X.stride = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--k") == 0 && i + 1 < argc)
			X.k = (unsigned)strtoul(argv[++i], NULL, 0);
		else
			return usage("crashx");
	}
	if (cx_parse_fault(fault) != 0)
		return 2;
	/* a run that must find a violation stops at the first; it needs no nested runs */
	X.nested_every = (unsigned)env_ulong("CRASHX_NESTED", X.expect_violation ? 0 : 4);
	ssize_t sl = readlink("/proc/self/exe", X.self, sizeof(X.self) - 1);
	if (sl <= 0)
		return 2;
	X.self[sl] = '\0';
	snprintf(X.dir, sizeof(X.dir), "%s/crashx-%s-%d", ut_test_dir(), w->name, (int)getpid());
	if (mkdir(X.dir, 0700) != 0) {
		perror(X.dir);
		return 2;
	}
	snprintf(X.pool, sizeof(X.pool), "%s/pool", X.dir);
	snprintf(X.image, sizeof(X.image), "%s/image", X.dir);
	snprintf(X.logpath, sizeof(X.logpath), "%s/log", X.dir);
	snprintf(X.outpath, sizeof(X.outpath), "%s/check.out", X.dir);
	snprintf(X.nested_stats, sizeof(X.nested_stats), "%s/nested.stats", X.dir);
	X.log_fd = open(X.logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (X.log_fd < 0)
		return 2;

	double t0 = now();
	pthread_mutex_lock(&cx_lock);
	cx_active = 1;
	pthread_mutex_unlock(&cx_lock);
	int rc = w->run(X.pool);
	pthread_mutex_lock(&cx_lock);
	if (cx_file.in_use)
		cx_crash_point("end");
	cx_active = 0;
	pthread_mutex_unlock(&cx_lock);
	double t = now() - t0;

	printf("crashx: workload %s: %lu persistence events, %lu crash points checked "
	       "(%lu duplicate, %lu skipped, %lu over budget), %lu images, max %zu words in "
	       "flight, "
	       "%lu violations, %.1f s\n",
	       w->name, X.events, X.points, X.dup_points, X.skipped_points, X.budget_hits, X.images,
	       X.max_cand, X.violations, t);
	read_nested_stats();
	if (X.nested_runs)
		printf("crashx: workload %s: recovery explored from %lu crash images: %lu crash "
		       "points, %lu images, %lu violations\n",
		       w->name, X.nested_runs, X.nested_points, X.nested_images,
		       X.nested_violations);
	if (cx_fault.kind != CX_FAULT_NONE)
		printf("crashx: fault %s:%s:%lu%s%.0u %s (event %" PRIu64 ")\n",
		       cx_fault.kind == CX_FAULT_DROP ? "drop" : "delay", cx_fault.prefix,
		       cx_fault.n, cx_fault.kind == CX_FAULT_DELAY ? ":" : "",
		       cx_fault.kind == CX_FAULT_DELAY ? cx_fault.drains : 0,
		       cx_fault.fired ? "injected" : "NEVER FIRED", cx_fault.fired_event);
	fflush(stdout);

	int ok;
	if (X.events == 0) {
		fprintf(stderr,
			"crashx: no persistence action observed: is libcrashx linked before "
			"the library under test and libpmem2, and does the library flush through "
			"libpmem2 (PMEM2_FORCE_GRANULARITY set)?\n");
		ok = 0;
	} else if (rc != 0) {
		fprintf(stderr, "crashx: workload %s failed (%d)\n", w->name, rc);
		ok = 0;
	} else if (X.expect_violation) {
		ok = X.violations > 0 && (cx_fault.kind == CX_FAULT_NONE || cx_fault.fired);
		if (!ok)
			fprintf(stderr, "crashx: expected a violation, found none\n");
	} else {
		ok = X.violations == 0;
	}
	if (!X.keep && (ok || X.expect_violation) && X.saved_violations == 0) {
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", X.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "crashx: cannot remove %s\n", X.dir);
	} else {
		fprintf(stderr, "crashx: files kept in %s\n", X.dir);
	}
	return ok ? 0 : 1;
}

int crashx_main(int argc, char *argv[], const struct crashx_workload *workloads, size_t nworkloads)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < nworkloads; i++)
			printf("%s\n", workloads[i].name);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "run") == 0) {
		const struct crashx_workload *w = find(workloads, nworkloads, argv[2]);
		return w ? run(w, argc - 3, argv + 3) : 2;
	}
	if ((argc == 6 || (argc == 8 && strcmp(argv[6], "--nested") == 0)) &&
	    strcmp(argv[1], "check") == 0) {
		const struct crashx_workload *w = find(workloads, nworkloads, argv[2]);
		if (w == NULL)
			return 2;
		/* a recovery that hangs is a violation too */
		alarm(argc == 8 ? 600 : 120);
		size_t log_len = strtoull(argv[5], NULL, 0);
		if (argc == 8 && w->recover != NULL &&
		    nested_check(w, argv[3], argv[4], log_len, argv[7]) != 0)
			return 1;
		struct crashx_log log;
		if (read_log(argv[4], log_len, &log) != 0)
			return 2;
		return w->check(argv[3], &log) == 0 ? 0 : 1;
	}
	return usage(argv[0]);
}
