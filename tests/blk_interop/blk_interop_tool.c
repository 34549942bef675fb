/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One tool, built twice: against Debian's PMDK libpmemblk and against ours. The test script
 * drives pools through both builds so that each implementation reads, checks and continues
 * what the other one wrote.
 *
 * The block contents are a pure function of (seed, block number), and so is the operation
 * applied to each block (write, set_zero, set_error in several orders), so any build can
 * verify a pool given the list of seeds that were written, in order.
 *
 * usage: blk_interop_tool <command> ...
 *   whoami                                      print the implementation and its library file
 *   create <file> <bsize> <poolsize> [mode]     mode: alloc (poolsize > 0, the default),
 *                                               sparse (truncate, create with poolsize 0),
 *                                               dirty (like sparse, non-zero bytes after 8 KiB)
 *   info <file>                                 print "nblock N bsize B" (checked by formula)
 *   write <file> <seed> <count>                 apply one layer of operations
 *   verify <file> <layer>[,<layer>...] <count>  check the result of these layers, in order;
 *                                               a layer is <seed> or @<block>:<seed>
 *   check <file> [bsize]                        pmemblk_check must return 1
 *   check-mismatch <file> <bsize>               pmemblk_check must fail with -1/EINVAL
 *   open-mismatch <file> <bsize>                pmemblk_open must fail with EINVAL
 *   write-async, verify-async                   as write and verify, through write/read
 *                                               futures (only in the build against ours)
 *   craft <file> <stage> <used|initial> <layers> <count> <seed>
 *                                               raw bytes: a write interrupted after its
 *                                               stage-th persist (see cmd_craft)
 */

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef INTEROP_ASYNC
#include <libminiasync.h>
#define PMEMBLK_USE_MINIASYNC 1
#endif
#include <libpmemblk.h>

#ifndef INTEROP_IMPL
#error "INTEROP_IMPL (implementation name) must be defined"
#endif
#ifndef INTEROP_EXPECTED_LIB
#error "INTEROP_EXPECTED_LIB (path of the libpmemblk this build must use) must be defined"
#endif

#define NAMESPACE_OFFSET   8192ULL
#define BTT_MIN_SIZE	   (16ULL << 20)
#define BTT_MAX_ARENA	   (1ULL << 39)
#define BTT_NFREE	   256ULL
#define BTT_ARENA_OVERHEAD (2 * 4096ULL + 16384ULL + 4096ULL)

/* Full scans above this many blocks would make the large pools slow; those are sampled. */
#define FULL_SCAN_LIMIT	  (1ULL << 20)
#define SAMPLED_UNTOUCHED 10000

enum action {
	ACT_WRITE,
	ACT_WRITE_ZERO,	 /* write, set_zero -> zeros */
	ACT_WRITE_ERROR, /* write, set_error -> EIO */
	ACT_ERROR_WRITE, /* set_error, write -> data */
	ACT_ZERO,	 /* set_zero -> zeros */
	ACT_ERROR_ZERO,	 /* set_error, set_zero -> zeros */
	ACT_UNTOUCHED,	 /* not selected by any layer -> zeros */
};

enum outcome { OUT_DATA, OUT_ZEROS, OUT_EIO };

static const char *progname = "blk_interop_tool(" INTEROP_IMPL ")";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		die("bad %s '%s'", what, s);
	/* size suffixes keep the test script readable */
	switch (*end) {
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0')
		die("bad %s '%s'", what, s);
	return v;
}

/* A program built against one library must never run with the other one: same soname. */
static const char *loaded_library(void)
{
	static char resolved[PATH_MAX];
	Dl_info info;
	if (dladdr((void *)pmemblk_create, &info) == 0 || info.dli_fname == NULL)
		die("dladdr(pmemblk_create) failed");
	if (realpath(info.dli_fname, resolved) == NULL)
		die("realpath(%s): %s", info.dli_fname, strerror(errno));
	return resolved;
}

static void check_library(void)
{
	char expected[PATH_MAX];
	if (realpath(INTEROP_EXPECTED_LIB, expected) == NULL)
		die("realpath(%s): %s", INTEROP_EXPECTED_LIB, strerror(errno));
	const char *loaded = loaded_library();
	if (strcmp(loaded, expected) != 0)
		die("linked against %s, expected %s", loaded, expected);
}

/* The spec's nblock formula (§2.12): both libraries must report exactly this. */
static uint64_t expected_nblock(uint64_t file_size, uint64_t bsize)
{
	uint64_t raw = file_size / 4096 * 4096 - NAMESPACE_OFFSET;
	uint64_t ilbs = bsize < 512 ? 512 : bsize;
	ilbs = (ilbs + 255) / 256 * 256;
	uint64_t total = 0;
	while (raw >= BTT_MIN_SIZE) {
		uint64_t arena = raw < BTT_MAX_ARENA ? raw : BTT_MAX_ARENA;
		raw -= arena;
		total += (arena - BTT_ARENA_OVERHEAD) / (ilbs + 4) - BTT_NFREE;
	}
	return total;
}

/* External blocks of the first arena: the first block of arena 1 is worth touching. */
static uint64_t first_arena_nblock(uint64_t bsize)
{
	uint64_t ilbs = bsize < 512 ? 512 : bsize;
	ilbs = (ilbs + 255) / 256 * 256;
	return (BTT_MAX_ARENA - BTT_ARENA_OVERHEAD) / (ilbs + 4) - BTT_NFREE;
}

static PMEMblkpool *open_pool(const char *path)
{
	PMEMblkpool *pbp = pmemblk_open(path, 0);
	if (pbp == NULL)
		die("pmemblk_open(%s): %s (%s)", path, strerror(errno), pmemblk_errormsg());
	return pbp;
}

static void fill_pattern(unsigned char *buf, size_t bsize, uint64_t seed, uint64_t block)
{
	uint64_t state = mix64(seed * 0x100000001B3ULL ^ block);
	for (size_t i = 0; i < bsize; i += 8) {
		uint64_t word = mix64(state + i);
		size_t n = bsize - i < 8 ? bsize - i : 8;
		memcpy(buf + i, &word, n);
	}
	/* a readable tag: a mismatch report then names the seed and block it came from */
	if (bsize >= 16) {
		memcpy(buf, &seed, 8);
		memcpy(buf + 8, &block, 8);
	}
}

static enum action action_of(uint64_t seed, uint64_t block)
{
	unsigned h = (unsigned)(mix64(seed ^ (block * 0xD6E8FEB86659FD93ULL)) % 16);
	switch (h) {
	case 11:
		return ACT_WRITE_ZERO;
	case 12:
		return ACT_WRITE_ERROR;
	case 13:
		return ACT_ERROR_WRITE;
	case 14:
		return ACT_ZERO;
	case 15:
		return ACT_ERROR_ZERO;
	default:
		return ACT_WRITE;
	}
}

static enum outcome outcome_of(enum action a)
{
	switch (a) {
	case ACT_WRITE:
	case ACT_ERROR_WRITE:
		return OUT_DATA;
	case ACT_WRITE_ERROR:
		return OUT_EIO;
	default:
		return OUT_ZEROS;
	}
}

struct selection {
	uint64_t block;
	unsigned layer;
};

#define ALL_BLOCKS UINT64_MAX
#define MAX_LAYERS 64

/*
 * A layer is either a seed's full set of operations or, written "@<block>:<seed>", a single
 * plain write of the seed's pattern to one block (what an interrupted write may leave).
 */
struct layer {
	uint64_t seed;
	uint64_t only_block;
};

static unsigned parse_layers(const char *arg, struct layer *layers)
{
	unsigned n = 0;
	char *list = strdup(arg);
	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (n == MAX_LAYERS)
			die("too many layers");
		layers[n].only_block = ALL_BLOCKS;
		if (tok[0] == '@') {
			char *colon = strchr(tok, ':');
			if (colon == NULL)
				die("bad layer '%s' (want @<block>:<seed>)", tok);
			*colon = '\0';
			layers[n].only_block = parse_u64(tok + 1, "block");
			tok = colon + 1;
		}
		layers[n++].seed = parse_u64(tok, "seed");
	}
	free(list);
	if (n == 0)
		die("no layers in '%s'", arg);
	return n;
}

static enum action layer_action(const struct layer *l, uint64_t block)
{
	return l->only_block == ALL_BLOCKS ? action_of(l->seed, block) : ACT_WRITE;
}

static int cmp_selection(const void *a, const void *b)
{
	const struct selection *x = a, *y = b;
	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return x->layer < y->layer ? -1 : (x->layer > y->layer);
}

static int cmp_block(const void *a, const void *b)
{
	const struct selection *x = a, *y = b;
	return x->block < y->block ? -1 : (x->block > y->block);
}

/*
 * The blocks a layer touches: the edges of the pool and of the first arena, its middle, and
 * `count` pseudo-random ones. Duplicates are harmless (every action defines the end state).
 */
static size_t select_blocks(uint64_t seed, uint64_t count, uint64_t nblock, uint64_t bsize,
			    struct selection *out, unsigned layer)
{
	size_t n = 0;
	uint64_t edges[] = {0,
			    1,
			    nblock / 2,
			    nblock - 2,
			    nblock - 1,
			    first_arena_nblock(bsize) - 1,
			    first_arena_nblock(bsize)};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		if (edges[i] < nblock)
			out[n++] = (struct selection){edges[i], layer};
	}
	uint64_t state = mix64(seed);
	for (uint64_t i = 0; i < count; i++) {
		state = mix64(state);
		out[n++] = (struct selection){state % nblock, layer};
	}
	return n;
}

#define MAX_EDGES 7

static void do_op(const char *what, int ret, uint64_t block)
{
	if (ret != 0)
		die("%s(%" PRIu64 "): %s (%s)", what, block, strerror(errno), pmemblk_errormsg());
}

static int cmd_whoami(void)
{
	printf("%s %s\n", INTEROP_IMPL, loaded_library());
	return 0;
}

static int cmd_create(int argc, char *argv[])
{
	if (argc < 3)
		die("usage: create <file> <bsize> <poolsize> [alloc|sparse|dirty]");
	const char *path = argv[0];
	uint64_t bsize = parse_u64(argv[1], "bsize");
	uint64_t poolsize = parse_u64(argv[2], "poolsize");
	const char *mode = argc > 3 ? argv[3] : "alloc";
	PMEMblkpool *pbp;

	if (strcmp(mode, "alloc") == 0) {
		pbp = pmemblk_create(path, bsize, poolsize, 0600);
	} else if (strcmp(mode, "sparse") == 0 || strcmp(mode, "dirty") == 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			die("open(%s): %s", path, strerror(errno));
		if (ftruncate(fd, (off_t)poolsize) != 0)
			die("ftruncate(%s): %s", path, strerror(errno));
		if (strcmp(mode, "dirty") == 0) {
			/* what a reused file looks like: only the first 8 KiB are zero */
			static unsigned char junk[1 << 16];
			memset(junk, 0xA5, sizeof(junk));
			for (uint64_t off = NAMESPACE_OFFSET; off < poolsize; off += sizeof(junk)) {
				size_t n = poolsize - off < sizeof(junk) ? poolsize - off
									 : sizeof(junk);
				if (pwrite(fd, junk, n, (off_t)off) != (ssize_t)n)
					die("pwrite(%s): %s", path, strerror(errno));
			}
		}
		close(fd);
		/* otherwise huge sparse pools would be allocated in full */
		int no = 0;
		if (pmemblk_ctl_set(NULL, "fallocate.at_create", &no) != 0)
			die("ctl_set(fallocate.at_create): %s", pmemblk_errormsg());
		pbp = pmemblk_create(path, bsize, 0, 0600);
	} else {
		die("unknown create mode '%s'", mode);
	}
	if (pbp == NULL)
		die("pmemblk_create(%s, %" PRIu64 ", %" PRIu64 ", %s): %s (%s)", path, bsize,
		    poolsize, mode, strerror(errno), pmemblk_errormsg());
	if (pmemblk_bsize(pbp) != bsize)
		die("bsize %zu after create with %" PRIu64, pmemblk_bsize(pbp), bsize);
	pmemblk_close(pbp);
	return 0;
}

static int cmd_info(int argc, char *argv[])
{
	if (argc < 1)
		die("usage: info <file>");
	struct stat st;
	if (stat(argv[0], &st) != 0)
		die("stat(%s): %s", argv[0], strerror(errno));
	PMEMblkpool *pbp = open_pool(argv[0]);
	size_t nblock = pmemblk_nblock(pbp);
	size_t bsize = pmemblk_bsize(pbp);
	pmemblk_close(pbp);
	uint64_t want = expected_nblock((uint64_t)st.st_size, bsize);
	if (nblock != want)
		die("nblock %zu, the formula gives %" PRIu64 " (size %lld, bsize %zu)", nblock,
		    want, (long long)st.st_size, bsize);
	printf("nblock %zu bsize %zu\n", nblock, bsize);
	return 0;
}

static int cmd_write(int argc, char *argv[])
{
	if (argc < 3)
		die("usage: write <file> <seed> <count>");
	uint64_t seed = parse_u64(argv[1], "seed");
	uint64_t count = parse_u64(argv[2], "count");
	PMEMblkpool *pbp = open_pool(argv[0]);
	uint64_t nblock = pmemblk_nblock(pbp);
	size_t bsize = pmemblk_bsize(pbp);

	struct selection *sel = malloc((count + MAX_EDGES) * sizeof(*sel));
	unsigned char *buf = malloc(bsize);
	if (sel == NULL || buf == NULL)
		die("out of memory");
	size_t n = select_blocks(seed, count, nblock, bsize, sel, 0);

	for (size_t i = 0; i < n; i++) {
		long long b = (long long)sel[i].block;
		enum action a = action_of(seed, sel[i].block);
		fill_pattern(buf, bsize, seed, sel[i].block);
		switch (a) {
		case ACT_WRITE:
			do_op("write", pmemblk_write(pbp, buf, b), sel[i].block);
			break;
		case ACT_WRITE_ZERO:
			do_op("write", pmemblk_write(pbp, buf, b), sel[i].block);
			do_op("set_zero", pmemblk_set_zero(pbp, b), sel[i].block);
			break;
		case ACT_WRITE_ERROR:
			do_op("write", pmemblk_write(pbp, buf, b), sel[i].block);
			do_op("set_error", pmemblk_set_error(pbp, b), sel[i].block);
			break;
		case ACT_ERROR_WRITE:
			do_op("set_error", pmemblk_set_error(pbp, b), sel[i].block);
			do_op("write", pmemblk_write(pbp, buf, b), sel[i].block);
			break;
		case ACT_ZERO:
			do_op("set_zero", pmemblk_set_zero(pbp, b), sel[i].block);
			break;
		case ACT_ERROR_ZERO:
			do_op("set_error", pmemblk_set_error(pbp, b), sel[i].block);
			do_op("set_zero", pmemblk_set_zero(pbp, b), sel[i].block);
			break;
		case ACT_UNTOUCHED:
			break;
		}
	}
	pmemblk_close(pbp);
	free(buf);
	free(sel);
	printf("wrote layer %" PRIu64 ": %zu operations\n", seed, n);
	return 0;
}

struct verify_stats {
	uint64_t data, zeros, eio, untouched, bad;
};

static void verify_block(PMEMblkpool *pbp, size_t bsize, uint64_t block, enum outcome want,
			 uint64_t seed, unsigned char *got, unsigned char *expect,
			 struct verify_stats *st)
{
	errno = 0;
	int ret = pmemblk_read(pbp, got, (long long)block);
	int err = errno;
	const char *problem = NULL;

	if (want == OUT_EIO) {
		if (ret != -1 || err != EIO)
			problem = "expected EIO";
		else
			st->eio++;
	} else if (ret != 0) {
		problem = "read failed";
	} else {
		if (want == OUT_DATA)
			fill_pattern(expect, bsize, seed, block);
		else
			memset(expect, 0, bsize);
		if (memcmp(got, expect, bsize) != 0)
			problem = want == OUT_DATA ? "wrong data" : "expected zeros";
		else if (want == OUT_DATA)
			st->data++;
		else
			st->zeros++;
	}
	if (problem != NULL) {
		if (st->bad < 10) {
			uint64_t tag[2] = {0, 0};
			if (ret == 0 && bsize >= 16)
				memcpy(tag, got, 16);
			fprintf(stderr,
				"%s: block %" PRIu64 ": %s (read %d, errno %d; want seed %" PRIu64
				"; got tag seed %" PRIu64 " block %" PRIu64 ")\n",
				progname, block, problem, ret, err, seed, tag[0], tag[1]);
		}
		st->bad++;
	}
}

/*
 * The final state of every block the layers touched, sorted by block number: a block's state
 * is decided by the last layer that touched it.
 */
static size_t final_selection(const struct layer *layers, unsigned nlayers, uint64_t count,
			      uint64_t nblock, uint64_t bsize, struct selection **out)
{
	struct selection *sel = malloc(nlayers * (count + MAX_EDGES) * sizeof(*sel));
	if (sel == NULL)
		die("out of memory");
	size_t n = 0;
	for (unsigned l = 0; l < nlayers; l++) {
		if (layers[l].only_block != ALL_BLOCKS)
			sel[n++] = (struct selection){layers[l].only_block, l};
		else
			n += select_blocks(layers[l].seed, count, nblock, bsize, sel + n, l);
	}
	qsort(sel, n, sizeof(*sel), cmp_selection);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && sel[m - 1].block == sel[i].block)
			sel[m - 1] = sel[i];
		else
			sel[m++] = sel[i];
	}
	*out = sel;
	return m;
}

#ifdef INTEROP_ASYNC
/*
 * The same layers through the asynchronous API (our build only): every block write of a
 * layer is a pmemblk_write_async future, ASYNC_BATCH of them driven at once by a runtime
 * with the thread-pool mover; set_zero and set_error (no async form) run before and after,
 * in the order the actions need. Reads likewise, for verify-async.
 */
#define ASYNC_BATCH 32

struct async_ctx {
	struct data_mover_threads *mover;
	struct runtime *rt;
	PMEMblkpool *pbp;
};

static void async_open(struct async_ctx *c, const char *path)
{
	c->mover = data_mover_threads_new(2, 256, FUTURE_NOTIFIER_NONE);
	c->rt = runtime_new();
	if (c->mover == NULL || c->rt == NULL)
		die("cannot set up miniasync");
	c->pbp = pmemblk_xopen(path, 0, data_mover_threads_get_vdm(c->mover));
	if (c->pbp == NULL)
		die("pmemblk_xopen(%s): %s (%s)", path, strerror(errno), pmemblk_errormsg());
}

static void async_close(struct async_ctx *c)
{
	pmemblk_close(c->pbp);
	runtime_delete(c->rt);
	data_mover_threads_delete(c->mover);
}

static int cmd_write_async(int argc, char *argv[])
{
	if (argc < 3)
		die("usage: write-async <file> <seed> <count>");
	uint64_t seed = parse_u64(argv[1], "seed");
	uint64_t count = parse_u64(argv[2], "count");
	struct async_ctx c;
	async_open(&c, argv[0]);
	uint64_t nblock = pmemblk_nblock(c.pbp);
	size_t bsize = pmemblk_bsize(c.pbp);
	struct selection *sel = malloc((count + MAX_EDGES) * sizeof(*sel));
	unsigned char *bufs = malloc(ASYNC_BATCH * bsize);
	if (sel == NULL || bufs == NULL)
		die("out of memory");
	size_t n = select_blocks(seed, count, nblock, bsize, sel, 0);

	for (size_t i = 0; i < n; i++)
		if (action_of(seed, sel[i].block) == ACT_ERROR_WRITE)
			do_op("set_error", pmemblk_set_error(c.pbp, (long long)sel[i].block),
			      sel[i].block);

	struct pmemblk_write_async_future futs[ASYNC_BATCH];
	struct future *batch[ASYNC_BATCH];
	uint64_t blocks[ASYNC_BATCH];
	size_t writes = 0;
	for (size_t i = 0; i < n;) {
		unsigned k = 0;
		for (; i < n && k < ASYNC_BATCH; i++) {
			enum action a = action_of(seed, sel[i].block);
			if (a == ACT_ZERO || a == ACT_ERROR_ZERO)
				continue;
			unsigned char *buf = bufs + (size_t)k * bsize;
			fill_pattern(buf, bsize, seed, sel[i].block);
			blocks[k] = sel[i].block;
			futs[k] = pmemblk_write_async(c.pbp, buf, (long long)sel[i].block);
			batch[k] = FUTURE_AS_RUNNABLE(&futs[k]);
			k++;
		}
		runtime_wait_multiple(c.rt, batch, k);
		for (unsigned j = 0; j < k; j++)
			if (FUTURE_OUTPUT(&futs[j])->return_value != 0)
				die("write future of block %" PRIu64 " failed: %s", blocks[j],
				    pmemblk_errormsg());
		writes += k;
	}

	for (size_t i = 0; i < n; i++) {
		long long b = (long long)sel[i].block;
		switch (action_of(seed, sel[i].block)) {
		case ACT_WRITE_ZERO:
		case ACT_ZERO:
			do_op("set_zero", pmemblk_set_zero(c.pbp, b), sel[i].block);
			break;
		case ACT_WRITE_ERROR:
			do_op("set_error", pmemblk_set_error(c.pbp, b), sel[i].block);
			break;
		case ACT_ERROR_ZERO:
			do_op("set_error", pmemblk_set_error(c.pbp, b), sel[i].block);
			do_op("set_zero", pmemblk_set_zero(c.pbp, b), sel[i].block);
			break;
		default:
			break;
		}
	}
	async_close(&c);
	free(bufs);
	free(sel);
	printf("wrote layer %" PRIu64 " asynchronously: %zu write futures\n", seed, writes);
	return 0;
}

static int cmd_verify(int argc, char *argv[]);

/* Reads every block the layers touched through read futures, then runs the full verify. */
static int cmd_verify_async(int argc, char *argv[])
{
	if (argc < 3)
		die("usage: verify-async <file> <layer>[,<layer>...] <count>");
	uint64_t count = parse_u64(argv[2], "count");
	struct layer layers[MAX_LAYERS];
	unsigned nlayers = parse_layers(argv[1], layers);
	struct async_ctx c;
	async_open(&c, argv[0]);
	uint64_t nblock = pmemblk_nblock(c.pbp);
	size_t bsize = pmemblk_bsize(c.pbp);
	struct selection *sel;
	size_t m = final_selection(layers, nlayers, count, nblock, bsize, &sel);
	unsigned char *bufs = malloc(ASYNC_BATCH * bsize), *expect = malloc(bsize);
	if (bufs == NULL || expect == NULL)
		die("out of memory");

	struct pmemblk_read_async_future futs[ASYNC_BATCH];
	struct future *batch[ASYNC_BATCH];
	size_t bad = 0;
	for (size_t i = 0; i < m; i += ASYNC_BATCH) {
		unsigned k = (unsigned)(m - i < ASYNC_BATCH ? m - i : ASYNC_BATCH);
		for (unsigned j = 0; j < k; j++) {
			memset(bufs + (size_t)j * bsize, 0xEE, bsize);
			futs[j] = pmemblk_read_async(c.pbp, bufs + (size_t)j * bsize,
						     (long long)sel[i + j].block);
			batch[j] = FUTURE_AS_RUNNABLE(&futs[j]);
		}
		runtime_wait_multiple(c.rt, batch, k);
		for (unsigned j = 0; j < k; j++) {
			const struct layer *l = &layers[sel[i + j].layer];
			uint64_t block = sel[i + j].block;
			enum outcome want = outcome_of(layer_action(l, block));
			int ret = FUTURE_OUTPUT(&futs[j])->return_value;
			int ok;
			if (want == OUT_EIO) {
				ok = ret == -1;
			} else {
				if (want == OUT_DATA)
					fill_pattern(expect, bsize, l->seed, block);
				else
					memset(expect, 0, bsize);
				ok = ret == 0 &&
				     memcmp(bufs + (size_t)j * bsize, expect, bsize) == 0;
			}
			if (!ok && bad++ < 10)
				fprintf(stderr,
					"%s: read future of block %" PRIu64 ": ret %d, wrong\n",
					progname, block, ret);
		}
	}
	async_close(&c);
	free(bufs);
	free(expect);
	free(sel);
	if (bad > 0)
		die("%zu blocks read wrong through futures", bad);
	printf("read %zu blocks through futures\n", m);
	return cmd_verify(argc, argv);
}
#endif

static int cmd_verify(int argc, char *argv[])
{
	if (argc < 3)
		die("usage: verify <file> <layer>[,<layer>...] <count>");
	uint64_t count = parse_u64(argv[2], "count");
	struct layer layers[MAX_LAYERS];
	unsigned nlayers = parse_layers(argv[1], layers);

	PMEMblkpool *pbp = open_pool(argv[0]);
	uint64_t nblock = pmemblk_nblock(pbp);
	size_t bsize = pmemblk_bsize(pbp);
	unsigned char *got = malloc(bsize), *expect = malloc(bsize);
	if (got == NULL || expect == NULL)
		die("out of memory");
	struct selection *sel;
	size_t m = final_selection(layers, nlayers, count, nblock, bsize, &sel);

	struct verify_stats st = {0};
	for (size_t i = 0; i < m; i++) {
		const struct layer *l = &layers[sel[i].layer];
		verify_block(pbp, bsize, sel[i].block, outcome_of(layer_action(l, sel[i].block)),
			     l->seed, got, expect, &st);
	}

	/* everything else must still read as zeros */
	if (nblock <= FULL_SCAN_LIMIT) {
		size_t j = 0;
		for (uint64_t b = 0; b < nblock; b++) {
			if (j < m && sel[j].block == b) {
				j++;
				continue;
			}
			verify_block(pbp, bsize, b, OUT_ZEROS, 0, got, expect, &st);
			st.untouched++;
		}
	} else {
		uint64_t state = mix64(~layers[0].seed);
		for (unsigned i = 0; i < SAMPLED_UNTOUCHED; i++) {
			state = mix64(state);
			uint64_t b = state % nblock;
			struct selection key = {b, 0};
			if (bsearch(&key, sel, m, sizeof(*sel), cmp_block) != NULL)
				continue;
			verify_block(pbp, bsize, b, OUT_ZEROS, 0, got, expect, &st);
			st.untouched++;
		}
	}

	/* out-of-range numbers must be refused the same way by both */
	errno = 0;
	if (pmemblk_read(pbp, got, (long long)nblock) != -1 || errno != EINVAL)
		die("read of block nblock (%" PRIu64 ") did not fail with EINVAL", nblock);
	errno = 0;
	if (pmemblk_read(pbp, got, -1) != -1 || errno != EINVAL)
		die("read of block -1 did not fail with EINVAL");

	pmemblk_close(pbp);
	free(sel);
	free(got);
	free(expect);
	printf("verified %" PRIu64 " data, %" PRIu64 " zero, %" PRIu64 " EIO blocks, %" PRIu64
	       " untouched; %" PRIu64 " bad\n",
	       st.data, st.zeros, st.eio, st.untouched, st.bad);
	if (st.data == 0 || st.zeros == 0 || st.eio == 0)
		die("the layers did not produce every kind of block (too few operations?)");
	return st.bad == 0 ? 0 : 1;
}

static int cmd_check(int argc, char *argv[])
{
	if (argc < 1)
		die("usage: check <file> [bsize]");
	size_t bsize = argc > 1 ? (size_t)parse_u64(argv[1], "bsize") : 0;
	errno = 0;
	int ret = pmemblk_check(argv[0], bsize);
	if (ret != 1)
		die("pmemblk_check(%s, %zu) = %d, errno %d (%s)", argv[0], bsize, ret, errno,
		    pmemblk_errormsg());
	printf("pmemblk_check: consistent\n");
	return 0;
}

static int cmd_check_mismatch(int argc, char *argv[])
{
	if (argc < 2)
		die("usage: check-mismatch <file> <bsize>");
	size_t bsize = (size_t)parse_u64(argv[1], "bsize");
	errno = 0;
	int ret = pmemblk_check(argv[0], bsize);
	if (ret != -1 || errno != EINVAL)
		die("pmemblk_check(%s, %zu) = %d errno %d, expected -1/EINVAL", argv[0], bsize, ret,
		    errno);
	return 0;
}

static int cmd_open_mismatch(int argc, char *argv[])
{
	if (argc < 2)
		die("usage: open-mismatch <file> <bsize>");
	size_t bsize = (size_t)parse_u64(argv[1], "bsize");
	errno = 0;
	PMEMblkpool *pbp = pmemblk_open(argv[0], bsize);
	if (pbp != NULL || errno != EINVAL)
		die("pmemblk_open(%s, %zu) = %p errno %d, expected NULL/EINVAL", argv[0], bsize,
		    (void *)pbp, errno);
	return 0;
}

/*
 * Raw on-media surgery, no library involved: the state a crash leaves behind when it
 * interrupts a write of one block after one of its four ordered persists (spec §3.5): the
 * data in the lane's free block (stage 1), the flog entry's first half (2), its second half
 * with the sequence number, which commits the write (3), the map entry (4).
 */
#define MAP_ENTRY_MASK 0x3FFFFFFFU
#define MAP_NORMAL     0xC0000000U
#define MAP_FLAGS_MASK 0xC0000000U

struct flog_entry {
	uint32_t lba, old_map, new_map, seq;
};

static uint32_t flog_seq_next(uint32_t seq)
{
	static const uint32_t next[4] = {0, 2, 3, 1};
	return next[seq & 3];
}

static void raw_read(int fd, void *buf, size_t len, uint64_t off)
{
	if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
		die("pread at %" PRIu64 ": %s", off, strerror(errno));
}

static void raw_write(int fd, const void *buf, size_t len, uint64_t off)
{
	if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
		die("pwrite at %" PRIu64 ": %s", off, strerror(errno));
}

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_at(const unsigned char *p)
{
	return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

static int cmd_craft(int argc, char *argv[])
{
	if (argc < 6)
		die("usage: craft <file> <stage 1-4> <used|initial> <layers> <count> <new seed>");
	const char *path = argv[0];
	uint64_t stage = parse_u64(argv[1], "stage");
	int want_initial = strcmp(argv[2], "initial") == 0;
	struct layer layers[MAX_LAYERS];
	unsigned nlayers = parse_layers(argv[3], layers);
	uint64_t count = parse_u64(argv[4], "count");
	uint64_t new_seed = parse_u64(argv[5], "new seed");
	if (stage < 1 || stage > 4)
		die("stage must be 1..4");

	int fd = open(path, O_RDWR);
	if (fd < 0)
		die("open(%s): %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0)
		die("fstat: %s", strerror(errno));

	unsigned char desc[8], info[4096];
	raw_read(fd, desc, sizeof(desc), 0x1000);
	uint64_t bsize = le32_at(desc);
	uint64_t arena = NAMESPACE_OFFSET;
	raw_read(fd, info, sizeof(info), arena);
	if (memcmp(info, "BTT_ARENA_INFO\0", 16) != 0)
		die("%s: no BTT layout in arena 0", path);
	uint32_t external_nlba = le32_at(info + 0x3C);
	uint32_t internal_lbasize = le32_at(info + 0x40);
	uint32_t nfree = le32_at(info + 0x48);
	uint64_t dataoff = le64_at(info + 0x58);
	uint64_t mapoff = le64_at(info + 0x60);
	uint64_t flogoff = le64_at(info + 0x68);

	/* the victim: a block of arena 0 that holds data, so that old and new differ */
	uint64_t nblock = expected_nblock((uint64_t)st.st_size, bsize);
	struct selection *sel;
	size_t m = final_selection(layers, nlayers, count, nblock, bsize, &sel);
	uint64_t victim = UINT64_MAX;
	for (size_t i = 0; i < m && victim == UINT64_MAX; i++) {
		if (sel[i].block < external_nlba &&
		    outcome_of(layer_action(&layers[sel[i].layer], sel[i].block)) == OUT_DATA)
			victim = sel[i].block;
	}
	free(sel);
	if (victim == UINT64_MAX)
		die("no block with data in arena 0");

	/* the lane: a flog pair in its initial form, or one that a write has already used */
	unsigned pair = nfree;
	int cur = 0;
	struct flog_entry e[2];
	for (unsigned i = 0; i < nfree; i++) {
		raw_read(fd, e, sizeof(e), arena + flogoff + (uint64_t)i * 64);
		if (e[0].seq == e[1].seq)
			continue;
		int c = e[0].seq == 0			      ? 1
			: e[1].seq == 0			      ? 0
			: flog_seq_next(e[0].seq) == e[1].seq ? 1
							      : 0;
		int initial = c == 0 && e[0].seq == 1 && e[0].old_map == e[0].new_map &&
			      e[1].lba == 0 && e[1].old_map == 0 && e[1].new_map == 0;
		if (initial == want_initial) {
			pair = i;
			cur = c;
			break;
		}
	}
	if (pair == nfree)
		die("no %s flog pair", argv[2]);

	uint32_t free_block = e[cur].old_map & MAP_ENTRY_MASK;
	uint64_t map_at = arena + mapoff + victim * 4;
	unsigned char raw_map[4];
	raw_read(fd, raw_map, 4, map_at);
	uint32_t old_entry = le32_at(raw_map);
	if ((old_entry & MAP_FLAGS_MASK) == 0)
		old_entry = (uint32_t)victim | MAP_NORMAL;
	uint32_t new_entry = free_block | MAP_NORMAL;
	uint64_t slot_at = arena + flogoff + (uint64_t)pair * 64 + (uint64_t)(1 - cur) * 16;

	unsigned char *data = calloc(1, internal_lbasize);
	if (data == NULL)
		die("out of memory");
	fill_pattern(data, bsize, new_seed, victim);
	raw_write(fd, data, bsize, arena + dataoff + (uint64_t)free_block * internal_lbasize);
	free(data);
	if (stage >= 2) {
		uint32_t half[2] = {(uint32_t)victim, old_entry};
		raw_write(fd, half, sizeof(half), slot_at);
	}
	if (stage >= 3) {
		uint32_t half[2] = {new_entry, flog_seq_next(e[cur].seq)};
		raw_write(fd, half, sizeof(half), slot_at + 8);
	}
	if (stage >= 4)
		raw_write(fd, &new_entry, 4, map_at);
	if (fsync(fd) != 0)
		die("fsync: %s", strerror(errno));
	close(fd);
	/* stages 3 and 4 committed the write: the block must read the new data */
	printf("block %" PRIu64 " pair %u free %u old 0x%08x new 0x%08x -> %s\n", victim, pair,
	       free_block, old_entry, new_entry, stage >= 3 ? "new" : "old");
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc < 2)
		die("usage: %s <whoami|create|info|write|verify|check|check-mismatch|"
		    "open-mismatch|craft> ...",
		    argv[0]);
	check_library();
	const char *cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (strcmp(cmd, "whoami") == 0)
		return cmd_whoami();
	if (strcmp(cmd, "create") == 0)
		return cmd_create(argc, argv);
	if (strcmp(cmd, "info") == 0)
		return cmd_info(argc, argv);
	if (strcmp(cmd, "write") == 0)
		return cmd_write(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "check-mismatch") == 0)
		return cmd_check_mismatch(argc, argv);
	if (strcmp(cmd, "open-mismatch") == 0)
		return cmd_open_mismatch(argc, argv);
	if (strcmp(cmd, "craft") == 0)
		return cmd_craft(argc, argv);
#ifdef INTEROP_ASYNC
	if (strcmp(cmd, "write-async") == 0)
		return cmd_write_async(argc, argv);
	if (strcmp(cmd, "verify-async") == 0)
		return cmd_verify_async(argc, argv);
#endif
	die("unknown command '%s'", cmd);
}
