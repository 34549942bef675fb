/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash test: a child process appends in a loop (two threads sharing a region, one thread
 * with its own, synchronously or asynchronously, plus a thread allocating and freeing
 * regions) and is killed with SIGKILL at a random moment. The child reports every append
 * that returned through shared memory, never through the stream. After each kill the parent
 * reopens the stream and checks that every reported entry is present and intact, that each
 * writer's visible entries form a gap-free prefix, and that nothing torn is visible.
 *
 * usage: stream_kill [kills] [seed]
 */

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "payload.h"
#include "stream_test.h"

#define LANES		  3 /* lanes 0 and 1 share a region, lane 2 has its own */
#define CHURN_LANE	  3 /* entries of the allocate/free thread: checked for integrity only */
#define MAX_SEQ		  (1u << 22)
#define GROUP_REGION_SIZE (256 * KiB)
#define STREAM_SIZE	  (64 * MiB)
#define BATCH		  16
/* up to a few lines and beyond the size above which entries are streamed (append.c) */
#define ENTRY_MAX 1100

struct progress {
	uint64_t reported[LANES]; /* highest seq whose append (or wait) returned */
	uint64_t base[LANES];	  /* highest seq visible at the start of the run */
};

static struct progress *progress;
static struct test_map tm;

/* ---- child ---- */

struct group {
	pthread_mutex_t lock;
	struct pmemstream_region region;
};

static struct pmemstream *child_stream;
static struct group groups[2];
static int async_mode;

static struct pmemstream_region group_region(int g)
{
	pthread_mutex_lock(&groups[g].lock);
	struct pmemstream_region r = groups[g].region;
	pthread_mutex_unlock(&groups[g].lock);
	return r;
}

/* The region is full: move the group to a new one (once, whoever notices first). */
static void group_advance(int g, struct pmemstream_region full)
{
	pthread_mutex_lock(&groups[g].lock);
	if (groups[g].region.offset == full.offset)
		groups[g].region = alloc_region(child_stream, GROUP_REGION_SIZE);
	pthread_mutex_unlock(&groups[g].lock);
}

static void *lane_thread(void *arg)
{
	int lane = (int)(intptr_t)arg;
	int g = lane < 2 ? 0 : 1;
	struct data_mover_sync *dms = data_mover_sync_new();
	struct data_mover_threads *dmt = data_mover_threads_new(1, 64, FUTURE_NOTIFIER_NONE);
	struct vdm *vdm =
		lane == 1 ? data_mover_threads_get_vdm(dmt) : data_mover_sync_get_vdm(dms);
	static _Thread_local unsigned char bufs[BATCH][ENTRY_MAX];
	uint64_t seq = progress->base[lane];

	for (;;) {
		int n = async_mode ? BATCH : 1;
		uint64_t last_ts = 0;
		for (int i = 0; i < n; i++) {
			seq++;
			size_t len = payload_make(bufs[i], (uint32_t)lane, seq, ENTRY_MAX);
			struct pmemstream_entry e;
			for (;;) {
				struct pmemstream_region r = group_region(g);
				int ret = async_mode
						  ? pmemstream_async_append(child_stream, vdm, r,
									    NULL, bufs[i], len, &e)
						  : pmemstream_append(child_stream, r, NULL,
								      bufs[i], len, &e);
				if (ret == 0)
					break;
				if (errno != ENOSPC)
					UT_FATAL("append: %s", pmemstream_errormsg());
				group_advance(g, r);
			}
			last_ts = pmemstream_entry_timestamp(child_stream, e);
		}
		if (async_mode) {
			struct pmemstream_async_wait_fut f =
				pmemstream_async_wait_persisted(child_stream, last_ts);
			FUTURE_BUSY_POLL(&f);
		}
		__atomic_store_n(&progress->reported[lane], seq, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *churn_thread(void *arg)
{
	(void)arg;
	unsigned char buf[PAYLOAD_MAX];
	uint64_t i = 0;
	for (;;) {
		struct pmemstream_region r;
		if (pmemstream_region_allocate(child_stream, 1 + (i * 7919) % 20000, &r) != 0)
			UT_FATAL("allocate: %s", pmemstream_errormsg());
		size_t len = payload_make(buf, CHURN_LANE, ++i, 64);
		UT_ASSERTeq(pmemstream_append(child_stream, r, NULL, buf, len, NULL), 0);
		UT_ASSERTeq(pmemstream_region_free(child_stream, r), 0);
	}
	return NULL;
}

static void run_child(void)
{
	tm_map(&tm);
	if (pmemstream_from_map(&child_stream, 4096, tm.map) != 0)
		UT_FATAL("child open: %s", pmemstream_errormsg());
	for (int g = 0; g < 2; g++) {
		pthread_mutex_init(&groups[g].lock, NULL);
		groups[g].region = alloc_region(child_stream, GROUP_REGION_SIZE);
	}
	pthread_t t[LANES + 1];
	for (int l = 0; l < LANES; l++)
		pthread_create(&t[l], NULL, lane_thread, (void *)(intptr_t)l);
	pthread_create(&t[LANES], NULL, churn_thread, NULL);
	for (int l = 0; l <= LANES; l++)
		pthread_join(t[l], NULL);
	_exit(0);
}

/* ---- parent ---- */

struct tally {
	uint64_t lost, torn, entries;
};

static uint8_t *seen[LANES];

/* Returns the bytes the regions take, to decide when to start over. */
static uint64_t verify(struct tally *t)
{
	tm_map(&tm);
	struct pmemstream *s;
	if (pmemstream_from_map(&s, 4096, tm.map) != 0)
		UT_FATAL("reopen after kill: %s", pmemstream_errormsg());

	uint64_t max_seq[LANES] = {0}, used = 0, last_ts_all = 0;
	for (int l = 0; l < LANES; l++)
		memset(seen[l], 0, MAX_SEQ);

	struct pmemstream_region_iterator *rit;
	UT_ASSERTeq(pmemstream_region_iterator_new(&rit, s), 0);
	for (pmemstream_region_iterator_seek_first(rit);
	     pmemstream_region_iterator_is_valid(rit) == 0; pmemstream_region_iterator_next(rit)) {
		struct pmemstream_region r = pmemstream_region_iterator_get(rit);
		used += pmemstream_region_size(s, r) + 64;
		struct pmemstream_entry_iterator *it;
		UT_ASSERTeq(pmemstream_entry_iterator_new(&it, s, r), 0);
		uint64_t last_ts = 0;
		for (pmemstream_entry_iterator_seek_first(it);
		     pmemstream_entry_iterator_is_valid(it) == 0;
		     pmemstream_entry_iterator_next(it)) {
			struct pmemstream_entry e = pmemstream_entry_iterator_get(it);
			uint64_t ts = pmemstream_entry_timestamp(s, e);
			uint32_t lane;
			uint64_t seq;
			t->entries++;
			if (ts <= last_ts || ts > pmemstream_persisted_timestamp(s) ||
			    !payload_check(pmemstream_entry_data(s, e), pmemstream_entry_size(s, e),
					   &lane, &seq)) {
				t->torn++;
				continue;
			}
			last_ts = ts;
			if (ts > last_ts_all)
				last_ts_all = ts;
			if (lane == CHURN_LANE)
				continue;
			if (lane >= LANES || seq == 0 || seq >= MAX_SEQ || seen[lane][seq]) {
				t->torn++;
				continue;
			}
			seen[lane][seq] = 1;
			if (seq > max_seq[lane])
				max_seq[lane] = seq;
		}
		pmemstream_entry_iterator_delete(&it);
	}
	pmemstream_region_iterator_delete(&rit);
	UT_ASSERT(last_ts_all <= pmemstream_committed_timestamp(s));

	for (int l = 0; l < LANES; l++) {
		/* a hole in a writer's sequence would be an entry lost behind a visible one */
		for (uint64_t q = 1; q <= max_seq[l]; q++)
			if (!seen[l][q])
				t->torn++;
		uint64_t reported = __atomic_load_n(&progress->reported[l], __ATOMIC_ACQUIRE);
		if (reported > max_seq[l])
			t->lost += reported - max_seq[l];
		progress->base[l] = max_seq[l];
		progress->reported[l] = max_seq[l];
	}
	pmemstream_delete(&s);
	tm_unmap(&tm);
	return used;
}

static void start_over(void)
{
	tm_destroy(&tm);
	tm_create(&tm, "kill", STREAM_SIZE);
	tm_unmap(&tm);
	memset(progress, 0, sizeof(*progress));
}

int main(int argc, char *argv[])
{
	int kills = argc > 1 ? atoi(argv[1]) : 60;
	unsigned seed = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)time(NULL);
	srand(seed);
	progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	UT_ASSERT(progress != MAP_FAILED);
	for (int l = 0; l < LANES; l++)
		seen[l] = malloc(MAX_SEQ);

	tm.fd = -1;
	tm.map = NULL;
	tm_create(&tm, "kill", STREAM_SIZE);
	tm_unmap(&tm);
	memset(progress, 0, sizeof(*progress));

	struct tally t = {0};
	uint64_t reported_total = 0;
	for (int k = 0; k < kills; k++) {
		async_mode = k % 2;
		pid_t pid = fork();
		UT_ASSERT(pid >= 0);
		if (pid == 0)
			run_child();
		/* from "still opening the stream" to "deep in the append loop" */
		struct timespec delay = {0, (long)(200000 + rand() % 25000000)};
		nanosleep(&delay, NULL);
		kill(pid, SIGKILL);
		int status;
		UT_ASSERTeq(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			UT_FATAL("child ended on its own (status %#x)", status);
		for (int l = 0; l < LANES; l++)
			reported_total += progress->reported[l] - progress->base[l];
		uint64_t used = verify(&t);
		if (used > STREAM_SIZE / 2)
			start_over();
	}
	printf("kills=%d lost=%" PRIu64 " torn=%" PRIu64 " (seed %u, %" PRIu64
	       " appends reported, %" PRIu64 " entries checked)\n",
	       kills, t.lost, t.torn, seed, reported_total, t.entries);
	UT_ASSERTeq(t.lost, 0);
	UT_ASSERTeq(t.torn, 0);
	UT_ASSERT(reported_total > 0);
	tm_destroy(&tm);
	for (int l = 0; l < LANES; l++)
		free(seen[l]);
	return 0;
}
