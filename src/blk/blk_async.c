/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The asynchronous API: only the data copy runs on the pool's data mover; lanes, read
 * tracking, the flog and the map are handled by the CPU within single polls, and no lock
 * but the (atomic) lane is held from one poll to the next. A write future completing with
 * 0 gives the guarantees of pmemblk_write: the block switched atomically and durably.
 */

#include <errno.h>
#include <limits.h>
#include <string.h>

#define PMEMBLK_USE_MINIASYNC 1
#include "libpmemblk.h"

#include "blk/blk.h"
#include "common/errmsg.h"

#define EXPORT __attribute__((visibility("default")))

/* copy_started of a write: no mover copy, one in the CPU caches, one already durable */
enum { COPY_NONE, COPY_CACHED, COPY_DURABLE };

static void notifier_none(struct future_notifier *notifier)
{
	if (notifier != NULL)
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;
}

/* the handle that embeds the btt a future works on */
static struct pmemblk *pool_of_btt(struct btt *b)
{
	return (struct pmemblk *)((char *)b - offsetof(struct pmemblk, btt));
}

/*
 * A mover's durable copy reaches memory, which is the file only on a pmem mapping: on an
 * msync platform the page cache must still be written back (spec 4.5 d).
 */
static bool mover_copy_is_durable(struct pmemblk *pbp)
{
	return pbp->file.granularity != PMEM2_GRANULARITY_PAGE &&
	       vdm_is_supported(pbp->vdm, VDM_F_MEM_DURABLE);
}

static enum future_state btt_write_fail(struct btt_write_async_output *out)
{
	out->return_value = -1;
	return FUTURE_STATE_COMPLETE;
}

static enum future_state btt_write_task(struct future_context *ctx,
					struct future_notifier *notifier)
{
	struct btt_write_async_data *d = future_context_get_data(ctx);
	struct btt_write_async_output *out = future_context_get_output(ctx);
	struct btt *b = d->btt;
	struct pmemblk *pbp = pool_of_btt(b);
	struct btt_arena *a = d->arena;

	notifier_none(notifier);
	switch (d->stage) {
	case BTT_WRITE_INITIALIZED: {
		if (btt_lba_check(b, d->lba) != 0 || btt_ensure_layout(b) != 0)
			return btt_write_fail(out);
		uint32_t premap_lba;
		a = btt_lba_to_arena(b, d->lba, &premap_lba);
		if (btt_arena_writable(a) != 0)
			return btt_write_fail(out);
		d->arena = a;
		d->premap_lba = premap_lba;
		d->free_entry = btt_free_entry(a, d->lane);
		d->stage = BTT_WRITE_WAITING_FOR_READS;
	}
		/* fallthrough */
	case BTT_WRITE_WAITING_FOR_READS: {
		if (btt_block_in_use(b, a, d->free_entry))
			return FUTURE_STATE_RUNNING;
		void *dst = btt_block_address(a, d->free_entry);
		if (pbp->vdm != NULL) {
			/* a mover that can make the copy durable saves the flush */
			bool durable = mover_copy_is_durable(pbp);
			d->copy = vdm_memcpy(pbp->vdm, dst, d->buf, b->bsize,
					     durable ? VDM_F_MEM_DURABLE : 0);
			d->copy_started = durable ? COPY_DURABLE : COPY_CACHED;
		} else {
			b->file->ops.memcpy(dst, d->buf, b->bsize, PMEM2_F_MEM_NODRAIN);
		}
		d->stage = BTT_WRITE_IN_PROGRESS;
	}
		/* fallthrough */
	case BTT_WRITE_IN_PROGRESS: {
		void *dst = btt_block_address(a, d->free_entry);
		const void *to_flush = NULL;
		if (d->copy_started) {
			if (future_poll(FUTURE_AS_RUNNABLE(&d->copy), notifier) !=
			    FUTURE_STATE_COMPLETE)
				return FUTURE_STATE_RUNNING;
			if (d->copy.output.result != VDM_SUCCESS) {
				/* the data went to a free block no map entry refers to */
				errmsg_set(EIO, "data mover failed to copy the block");
				return btt_write_fail(out);
			}
			if (d->copy_started == COPY_CACHED)
				to_flush = dst;
		}
		if (btt_commit(b, a, d->lane, d->premap_lba, d->free_entry, to_flush, b->bsize) !=
		    0)
			return btt_write_fail(out);
		out->return_value = 0;
		return FUTURE_STATE_COMPLETE;
	}
	default:
		errmsg_set(EINVAL, "write future in an unknown stage %d", d->stage);
		return btt_write_fail(out);
	}
}

static enum future_state write_task(struct future_context *ctx, struct future_notifier *notifier)
{
	struct pmemblk_write_async_data *d = future_context_get_data(ctx);
	struct pmemblk_write_async_output *out = future_context_get_output(ctx);
	struct btt_write_async_future *inner = &d->internal.btt_write_fut;
	PMEMblkpool *pbp = d->pbp;

	notifier_none(notifier);
	switch (d->stage) {
	case PMEMBLK_WRITE_INITIALIZED:
		if (pbp->rdonly) {
			errmsg_set(EROFS, "EROFS (pool is read-only)");
			goto fail;
		}
		if (d->blockno < 0) {
			errmsg_set(EINVAL, "negative block number");
			goto fail;
		}
		d->stage = PMEMBLK_WRITE_WAITING_FOR_LANE;
		/* fallthrough */
	case PMEMBLK_WRITE_WAITING_FOR_LANE:
		if (!lane_try_acquire(&pbp->lanes, &d->internal.lane))
			return FUTURE_STATE_RUNNING; /* no waiting in a poll: try again next time */
		memset(&inner->data, 0, sizeof(inner->data));
		inner->data.btt = &pbp->btt;
		inner->data.buf = d->buf;
		inner->data.lba = (unsigned long long)d->blockno;
		inner->data.lane = d->internal.lane;
		inner->data.stage = BTT_WRITE_INITIALIZED;
		inner->output.return_value = -1;
		FUTURE_INIT(inner, btt_write_task);
		d->stage = PMEMBLK_WRITE_IN_PROGRESS;
		/* fallthrough */
	case PMEMBLK_WRITE_IN_PROGRESS:
		if (future_poll(FUTURE_AS_RUNNABLE(inner), notifier) != FUTURE_STATE_COMPLETE)
			return FUTURE_STATE_RUNNING;
		lane_release(&pbp->lanes, d->internal.lane);
		out->return_value = inner->output.return_value;
		d->stage = PMEMBLK_WRITE_COMPLETE;
		return FUTURE_STATE_COMPLETE;
	default:
		errmsg_set(EINVAL, "write future in an unknown stage %d", d->stage);
		goto fail;
	}

fail:
	out->return_value = -1;
	d->stage = PMEMBLK_WRITE_COMPLETE;
	return FUTURE_STATE_COMPLETE;
}

EXPORT struct pmemblk_write_async_future pmemblk_write_async(PMEMblkpool *pbp, void *buf,
							     long long blockno)
{
	struct pmemblk_write_async_future future;
	memset(&future.data, 0, sizeof(future.data));
	future.data.pbp = pbp;
	future.data.buf = buf;
	future.data.blockno = blockno;
	future.data.stage = PMEMBLK_WRITE_INITIALIZED;
	future.data.internal.lane = UINT_MAX;
	future.output.return_value = -1;
	FUTURE_INIT(&future, write_task);
	return future;
}

static enum future_state btt_read_fail(struct btt_read_async_output *out)
{
	out->return_value = -1;
	return FUTURE_STATE_COMPLETE;
}

static enum future_state btt_read_task(struct future_context *ctx, struct future_notifier *notifier)
{
	struct btt_read_async_data *d = future_context_get_data(ctx);
	struct btt_read_async_output *out = future_context_get_output(ctx);
	struct btt *b = d->btt;
	struct pmemblk *pbp = pool_of_btt(b);

	notifier_none(notifier);
	switch (d->stage) {
	case BTT_READ_INITIALIZED: {
		if (btt_lba_check(b, d->lba) != 0)
			return btt_read_fail(out);
		d->stage = BTT_READ_ZEROS;
		if (atomic_load_explicit(&b->laid_out, memory_order_acquire)) {
			uint32_t premap_lba;
			struct btt_arena *a = btt_lba_to_arena(b, d->lba, &premap_lba);
			bool zero = false;
			int err = 0;
			uint32_t entry = btt_read_begin(a, d->lane, premap_lba, &zero, &err);
			if (err != 0)
				return btt_read_fail(out);
			if (!zero) {
				/* the read-tracking slot now protects the block until the copy ends
				 */
				d->arena = a;
				d->premap_lba = premap_lba;
				d->entry = entry;
				d->stage = BTT_READ_IN_PROGRESS;
			}
		}
		if (pbp->vdm != NULL) {
			if (d->stage == BTT_READ_IN_PROGRESS)
				d->copy = vdm_memcpy(pbp->vdm, d->buf,
						     btt_block_address(d->arena, d->entry),
						     b->bsize, 0);
			else
				d->copy = vdm_memset(pbp->vdm, d->buf, 0, b->bsize, 0);
			d->copy_started = 1;
		} else if (d->stage == BTT_READ_IN_PROGRESS) {
			memcpy(d->buf, btt_block_address(d->arena, d->entry), b->bsize);
		} else {
			memset(d->buf, 0, b->bsize);
		}
	}
		/* fallthrough */
	case BTT_READ_ZEROS:
	case BTT_READ_IN_PROGRESS: {
		if (d->copy_started &&
		    future_poll(FUTURE_AS_RUNNABLE(&d->copy), notifier) != FUTURE_STATE_COMPLETE)
			return FUTURE_STATE_RUNNING;
		if (d->stage == BTT_READ_IN_PROGRESS)
			btt_read_end(d->arena, d->lane);
		if (d->copy_started && d->copy.output.result != VDM_SUCCESS) {
			errmsg_set(EIO, "data mover failed to copy the block");
			return btt_read_fail(out);
		}
		out->return_value = 0;
		return FUTURE_STATE_COMPLETE;
	}
	default:
		errmsg_set(EINVAL, "read future in an unknown stage %d", d->stage);
		return btt_read_fail(out);
	}
}

static enum future_state read_task(struct future_context *ctx, struct future_notifier *notifier)
{
	struct pmemblk_read_async_data *d = future_context_get_data(ctx);
	struct pmemblk_read_async_output *out = future_context_get_output(ctx);
	struct btt_read_async_future *inner = &d->internal.btt_read_fut;
	PMEMblkpool *pbp = d->pbp;

	notifier_none(notifier);
	switch (d->stage) {
	case PMEMBLK_READ_INITIALIZED:
		if (d->blockno < 0) {
			errmsg_set(EINVAL, "negative block number");
			goto fail;
		}
		d->stage = PMEMBLK_READ_WAITING_FOR_LANE;
		/* fallthrough */
	case PMEMBLK_READ_WAITING_FOR_LANE:
		if (!lane_try_acquire(&pbp->lanes, &d->internal.lane))
			return FUTURE_STATE_RUNNING;
		memset(&inner->data, 0, sizeof(inner->data));
		inner->data.btt = &pbp->btt;
		inner->data.buf = d->buf;
		inner->data.lba = (unsigned long long)d->blockno;
		inner->data.lane = d->internal.lane;
		inner->data.stage = BTT_READ_INITIALIZED;
		inner->output.return_value = -1;
		FUTURE_INIT(inner, btt_read_task);
		d->stage = PMEMBLK_READ_IN_PROGRESS;
		/* fallthrough */
	case PMEMBLK_READ_IN_PROGRESS:
		if (future_poll(FUTURE_AS_RUNNABLE(inner), notifier) != FUTURE_STATE_COMPLETE)
			return FUTURE_STATE_RUNNING;
		lane_release(&pbp->lanes, d->internal.lane);
		out->return_value = inner->output.return_value;
		d->stage = PMEMBLK_READ_COMPLETE;
		return FUTURE_STATE_COMPLETE;
	default:
		errmsg_set(EINVAL, "read future in an unknown stage %d", d->stage);
		goto fail;
	}

fail:
	out->return_value = -1;
	d->stage = PMEMBLK_READ_COMPLETE;
	return FUTURE_STATE_COMPLETE;
}

EXPORT struct pmemblk_read_async_future pmemblk_read_async(PMEMblkpool *pbp, void *buf,
							   long long blockno)
{
	struct pmemblk_read_async_future future;
	memset(&future.data, 0, sizeof(future.data));
	future.data.pbp = pbp;
	future.data.buf = buf;
	future.data.blockno = blockno;
	future.data.stage = PMEMBLK_READ_INITIALIZED;
	future.data.internal.lane = UINT_MAX;
	future.output.return_value = -1;
	FUTURE_INIT(&future, read_task);
	return future;
}

static PMEMblkpool *attach_vdm(PMEMblkpool *pbp, struct vdm *vdm)
{
	if (pbp != NULL)
		pbp->vdm = vdm;
	return pbp;
}

EXPORT PMEMblkpool *pmemblk_xcreate(const char *path, size_t bsize, size_t poolsize, mode_t mode,
				    struct vdm *vdm)
{
	return attach_vdm(blk_pool_create(path, bsize, poolsize, mode), vdm);
}

EXPORT PMEMblkpool *pmemblk_xopen(const char *path, size_t bsize, struct vdm *vdm)
{
	return attach_vdm(blk_pool_open(path, bsize, false), vdm);
}
