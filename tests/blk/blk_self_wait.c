/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A synchronous call must not wait for a future that the same thread left pending (spec
 * §4.6): only this thread's next poll would release what the future holds.
 *
 *  - a read future keeps the RTT slot of the block it copies across polls; when that block
 *    becomes the free block of the lane a later pmemblk_write gets, the write must take
 *    another lane, and the block must still hold the data the read started on;
 *  - write futures hold every lane; pmemblk_read must still complete.
 *
 * The futures' copies run on a mover of this program that completes nothing until the
 * test opens its gate, so "pending" is deterministic and the copy of the read future only
 * happens after the writes: it sees the tracked block as the writes left it. A watchdog
 * turns a wait for ever into a failure with a message (it synchronises nothing).
 */

#include <signal.h>

#define PMEMBLK_USE_MINIASYNC 1
#include "blk_test.h"

#include <libminiasync.h>

#define BSIZE	 512
#define NFUTURES 256 /* at least as many as a pool has lanes */
#define WATCHDOG 60  /* seconds */

/* --- a mover whose operations complete only once the gate is open --- */

static bool Gate_open;

static void *gated_new(struct vdm *vdm, const enum vdm_operation_type type)
{
	(void)vdm;
	(void)type;
	return malloc(1); /* no state: the operation itself says what to do */
}

static int gated_start(void *data, const struct vdm_operation *op, struct future_notifier *n)
{
	(void)data;
	(void)op;
	if (n != NULL)
		n->notifier_used = FUTURE_NOTIFIER_NONE;
	return 0;
}

static enum future_state gated_check(void *data, const struct vdm_operation *op)
{
	(void)data;
	if (!Gate_open)
		return FUTURE_STATE_RUNNING;
	if (op->type == VDM_OPERATION_MEMCPY)
		memcpy(op->data.memcpy.dest, op->data.memcpy.src, op->data.memcpy.n);
	else if (op->type == VDM_OPERATION_MEMSET)
		memset(op->data.memset.str, op->data.memset.c, op->data.memset.n);
	else
		UT_FATAL("unexpected mover operation %d", (int)op->type);
	return FUTURE_STATE_COMPLETE;
}

static void gated_delete(void *data, const struct vdm_operation *op,
			 struct vdm_operation_output *out)
{
	free(data);
	out->type = op->type;
	out->result = VDM_SUCCESS;
	if (op->type == VDM_OPERATION_MEMCPY)
		out->output.memcpy.dest = op->data.memcpy.dest;
	else
		out->output.memset.str = op->data.memset.str;
}

static int gated_has_property(void *future, enum future_property property)
{
	(void)future;
	(void)property;
	return 0;
}

static struct vdm Gated = {
	.op_new = gated_new,
	.op_delete = gated_delete,
	.op_start = gated_start,
	.op_check = gated_check,
	.capabilities = 0,
	.has_property = gated_has_property,
};

/* --- helpers --- */

static const char *Stage = "setup";

static void on_watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "blk_self_wait: a synchronous call waited for a pending "
				  "future of its own thread: ";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	r = write(2, Stage, strlen(Stage));
	r = write(2, "\n", 1);
	(void)r;
	_exit(1);
}

static PMEMblkpool *new_pool(const char *path)
{
	unlink(path);
	Gate_open = false;
	PMEMblkpool *pbp = pmemblk_xcreate(path, BSIZE, PMEMBLK_MIN_POOL, 0600, &Gated);
	if (pbp == NULL)
		UT_FATAL("xcreate: %s", pmemblk_errormsg());
	return pbp;
}

static void finish(PMEMblkpool *pbp, const char *path)
{
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(path, BSIZE), 1);
	unlink(path);
}

/* audit/rtt_hang: the block a pending read tracks becomes a lane's free block */
static void write_beside_pending_read(const char *path)
{
	/*
	 * The read future holds one lane, the first write another, whose free block is then
	 * the tracked one: the second write needs a third lane. Pools get 2 per CPU.
	 */
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("write_beside_pending_read skipped: one CPU, two lanes\n");
		return;
	}
	PMEMblkpool *pbp = new_pool(path);
	bt_write_value(pbp, 0, 1);

	unsigned char rbuf[BSIZE];
	memset(rbuf, 0xEE, sizeof(rbuf));
	struct pmemblk_read_async_future rf = pmemblk_read_async(pbp, rbuf, 0);
	UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&rf), NULL), FUTURE_STATE_RUNNING);

	Stage = "pmemblk_write of the block a pending read future copies";
	for (int v = 2; v < 2 + 2 * NFUTURES / 16; v++) {
		bt_write_value(pbp, 0, v);
		UT_ASSERTeq(bt_read_value(pbp, 0), v);
	}
	Stage = "setup";

	/* the read started before the writes: the block it tracks was never reused */
	Gate_open = true;
	FUTURE_BUSY_POLL(&rf);
	UT_ASSERTeq(FUTURE_OUTPUT(&rf)->return_value, 0);
	UT_ASSERTeq(bt_uniform(rbuf, BSIZE), 1);
	finish(pbp, path);
}

/* what write future i writes: a byte value other than 0 and the one of block NFUTURES */
static int value_of(int i)
{
	return i % 100 + 1;
}

/* audit/lanes_hang: pending write futures hold every lane */
static void read_beside_pending_writes(const char *path)
{
	PMEMblkpool *pbp = new_pool(path);
	long long nblock = (long long)pmemblk_nblock(pbp);
	UT_ASSERT(nblock > NFUTURES + 1);
	bt_write_value(pbp, NFUTURES, 0x77);

	static unsigned char bufs[NFUTURES][BSIZE];
	static struct pmemblk_write_async_future futs[NFUTURES];
	for (int i = 0; i < NFUTURES; i++) {
		bt_fill(bufs[i], BSIZE, value_of(i));
		futs[i] = pmemblk_write_async(pbp, bufs[i], i);
		UT_ASSERTeq(future_poll(FUTURE_AS_RUNNABLE(&futs[i]), NULL), FUTURE_STATE_RUNNING);
	}

	Stage = "pmemblk_read while pending write futures hold every lane";
	for (int round = 0; round < 4; round++) {
		UT_ASSERTeq(bt_read_value(pbp, NFUTURES), 0x77);
		UT_ASSERTeq(bt_read_value(pbp, NFUTURES + 1), 0);
	}
	Stage = "setup";

	Gate_open = true;
	for (int i = 0; i < NFUTURES; i++) {
		FUTURE_BUSY_POLL(&futs[i]);
		UT_ASSERTeq(FUTURE_OUTPUT(&futs[i])->return_value, 0);
	}
	for (int i = 0; i < NFUTURES; i++)
		UT_ASSERTeq(bt_read_value(pbp, i), value_of(i));
	finish(pbp, path);
}

int main(void)
{
	signal(SIGALRM, on_watchdog);
	alarm(WATCHDOG);
	char path[512];
	bt_path(path, sizeof(path), "self_wait");
	write_beside_pending_read(path);
	read_beside_pending_writes(path);
	return 0;
}
