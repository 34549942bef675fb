/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Timestamps and the futures waiting for them (spec 4.2, 6.5). Polling performs commit and
 * watermark work itself; a future that still has to wait registers its waker, keyed by an id
 * kept in its private data, and is woken by whoever advances the committed timestamp past it,
 * publishes a new operation, or (through the mover) completes a copy.
 */

#include <errno.h>

#include "stream.h"

enum wait_kind {
	WAIT_COMMITTED = 1,
	WAIT_PERSISTED = 2,
};

/* Private use of the public data fields. */
#define wait_kind_of(d)	     ((d)->first_timestamp)
#define wait_registration(d) ((d)->processing_timestamp)

uint64_t pmemstream_committed_timestamp(struct pmemstream *stream)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return INVALID_TIMESTAMP;
	}
	return load_committed(stream);
}

uint64_t pmemstream_persisted_timestamp(struct pmemstream *stream)
{
	if (stream == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		return INVALID_TIMESTAMP;
	}
	return load_persisted(stream);
}

static int reached(struct pmemstream *s, const struct pmemstream_async_wait_data *d)
{
	if (wait_kind_of(d) == WAIT_COMMITTED)
		return load_committed(s) >= d->timestamp;
	return load_persisted(s) >= d->timestamp;
}

enum progress {
	PROGRESS_REACHED,
	PROGRESS_STALLED,   /* commit rounds ran and stopped short of the timestamp */
	PROGRESS_LOCK_BUSY, /* somebody else holds the commit lock */
};

static enum progress progress(struct pmemstream *s, const struct pmemstream_async_wait_data *d)
{
	if (reached(s, d))
		return PROGRESS_REACHED;
	int ran = commit_rounds(s, wait_kind_of(d) == WAIT_PERSISTED ? d->timestamp : 0);
	if (reached(s, d))
		return PROGRESS_REACHED;
	return ran ? PROGRESS_STALLED : PROGRESS_LOCK_BUSY;
}

/*
 * Progress once the waker is registered. Rounds that stall wait for an operation to be
 * published or a copy to complete, and whoever does that wakes the waiters; a busy lock
 * is asked to wake them when its holder lets go.
 */
static enum progress progress_registered(struct pmemstream *s,
					 const struct pmemstream_async_wait_data *d)
{
	enum progress p;
	while ((p = progress(s, d)) == PROGRESS_LOCK_BUSY && !commit_lock_wake_on_release(s))
		; /* released in the meantime: look again */
	return p;
}

static enum future_state wait_task(struct future_context *context, struct future_notifier *notifier)
{
	struct pmemstream_async_wait_data *d = future_context_get_data(context);
	struct pmemstream_async_wait_output *out = future_context_get_output(context);
	struct pmemstream *s = d->stream;

	if (notifier != NULL)
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;

	if (progress(s, d) != PROGRESS_REACHED) {
		if (notifier == NULL || notifier->waker.wake == NULL ||
		    __atomic_load_n(&s->commit_waits_silently, __ATOMIC_RELAXED))
			return FUTURE_STATE_RUNNING;
		if (waiters_register(&s->waiters, &wait_registration(d), d->timestamp,
				     notifier->waker) != 0)
			return FUTURE_STATE_RUNNING;
		/* progress made between the first look and the registration is not missed */
		if (progress_registered(s, d) != PROGRESS_REACHED) {
			if (__atomic_load_n(&s->commit_waits_silently, __ATOMIC_RELAXED)) {
				/* stuck behind a copy nobody will report: the caller must poll */
				waiters_unregister(&s->waiters, wait_registration(d));
				wait_registration(d) = 0;
				return FUTURE_STATE_RUNNING;
			}
			notifier->notifier_used = FUTURE_NOTIFIER_WAKER;
			return FUTURE_STATE_RUNNING;
		}
	}
	/* no wake of this future may run once it has reported completion */
	waiters_unregister(&s->waiters, wait_registration(d));
	wait_registration(d) = 0;
	out->error_code = 0;
	return FUTURE_STATE_COMPLETE;
}

static struct pmemstream_async_wait_fut make_wait(struct pmemstream *s, uint64_t ts,
						  enum wait_kind kind)
{
	struct pmemstream_async_wait_fut fut;

	fut.data.stream = s;
	fut.data.timestamp = ts;
	fut.data.first_timestamp = kind;
	fut.data.processing_timestamp = 0;
	fut.data.last_timestamp = 0;
	fut.output.error_code = 0;
	if (s == NULL) {
		errmsg_set(EINVAL, "stream is NULL");
		fut.output.error_code = -1;
		FUTURE_INIT_COMPLETE(&fut);
	} else {
		FUTURE_INIT(&fut, wait_task);
	}
	return fut;
}

struct pmemstream_async_wait_fut pmemstream_async_wait_committed(struct pmemstream *stream,
								 uint64_t timestamp)
{
	return make_wait(stream, timestamp, WAIT_COMMITTED);
}

struct pmemstream_async_wait_fut pmemstream_async_wait_persisted(struct pmemstream *stream,
								 uint64_t timestamp)
{
	return make_wait(stream, timestamp, WAIT_PERSISTED);
}
