/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Futures: resumable units of work polled to completion, and chains of futures.
 *
 * Everything here is static inline or a macro: the layout of every struct and the
 * polling protocol below are the ABI shared with miniasync 0.2.1 binaries.
 */

#ifndef FUTURE_H
#define FUTURE_H 1

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define __FUTURE_WAIT() _mm_pause()
#else
#include <sched.h>
#define __FUTURE_WAIT() sched_yield()
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum future_state {
	FUTURE_STATE_IDLE,
	FUTURE_STATE_COMPLETE,
	FUTURE_STATE_RUNNING,
};

struct future_context {
	size_t data_size;
	size_t output_size;
	enum future_state state;
	uint32_t padding;
};

/* Data lives right after the context and output right after the data, with no padding. */
static inline void *future_context_get_data(struct future_context *context)
{
	return (char *)context + sizeof(*context);
}

static inline void *future_context_get_output(struct future_context *context)
{
	return (char *)future_context_get_data(context) + context->data_size;
}

static inline size_t future_context_get_size(struct future_context *context)
{
	return context->data_size + context->output_size;
}

typedef void (*future_waker_wake_fn)(void *data);

struct future_waker {
	void *data;
	future_waker_wake_fn wake;
};

#define FUTURE_WAKER_WAKE(_wakerp) ((_wakerp)->wake((_wakerp)->data))

struct future_poller {
	uint64_t *ptr_to_monitor;
};

enum future_notifier_type {
	FUTURE_NOTIFIER_NONE,
	FUTURE_NOTIFIER_WAKER,
	FUTURE_NOTIFIER_POLLER,
};

struct future_notifier {
	struct future_waker waker;
	struct future_poller poller;
	enum future_notifier_type notifier_used;
	uint32_t padding;
};

enum future_property {
	FUTURE_PROPERTY_ASYNC,
};

typedef enum future_state (*future_task_fn)(struct future_context *context,
					    struct future_notifier *notifier);
typedef int (*future_has_property_fn)(void *future, enum future_property property);

struct future {
	future_task_fn task;
	future_has_property_fn has_property;
	struct future_context context;
};

#define FUTURE(_name, _data_type, _output_type) \
	struct _name {                          \
		struct future base;             \
		_data_type data;                \
		_output_type output;            \
	}

#define FUTURE_INIT_EXT(_futurep, _taskfn, _propertyfn)                            \
	do {                                                                       \
		(_futurep)->base.task = (_taskfn);                                 \
		(_futurep)->base.has_property = (_propertyfn);                     \
		(_futurep)->base.context.state = FUTURE_STATE_IDLE;                \
		(_futurep)->base.context.data_size = sizeof((_futurep)->data);     \
		(_futurep)->base.context.output_size = sizeof((_futurep)->output); \
		(_futurep)->base.context.padding = 0;                              \
	} while (0)

#define FUTURE_INIT(_futurep, _taskfn) \
	FUTURE_INIT_EXT((_futurep), (_taskfn), future_has_property_default)

/* has_property stays callable (the reference leaves NULL here and crashes sorters). */
#define FUTURE_INIT_COMPLETE(_futurep)                                             \
	do {                                                                       \
		(_futurep)->base.task = NULL;                                      \
		(_futurep)->base.has_property = future_has_property_default;       \
		(_futurep)->base.context.state = FUTURE_STATE_COMPLETE;            \
		(_futurep)->base.context.data_size = sizeof((_futurep)->data);     \
		(_futurep)->base.context.output_size = sizeof((_futurep)->output); \
		(_futurep)->base.context.padding = 0;                              \
	} while (0)

#define FUTURE_AS_RUNNABLE(_futurep) (&(_futurep)->base)
#define FUTURE_DATA(_futurep)	     (&(_futurep)->data)
#define FUTURE_OUTPUT(_futurep)	     (&(_futurep)->output)
#define FUTURE_STATE(_futurep)	     ((_futurep)->base.context.state)

static inline enum future_state future_poll(struct future *fut, struct future_notifier *notifier)
{
	if (fut->context.state != FUTURE_STATE_COMPLETE)
		fut->context.state = fut->task(&fut->context, notifier);

	return fut->context.state;
}

#define FUTURE_BUSY_POLL(_futurep)                                                         \
	while (future_poll(FUTURE_AS_RUNNABLE(_futurep), NULL) != FUTURE_STATE_COMPLETE) { \
		__FUTURE_WAIT();                                                           \
	}

/* Futures made by binaries built against the reference headers may carry NULL here. */
static inline int future_has_property(struct future *fut, enum future_property property)
{
	if (fut->has_property == NULL)
		return 0;

	return fut->has_property(fut, property);
}

static inline int future_has_property_default(void *future, enum future_property property)
{
	(void)future;
	(void)property;
	return 0;
}

/* Chains */

enum future_chain_entry_type {
	FUTURE_CHAIN_ENTRY_REGULAR = 1,
	FUTURE_CHAIN_ENTRY_LAST = 2,
};

/* The array length tells the init macros, at compile time, whether an entry is the last one. */
typedef uint8_t _future_entry_type_regular[FUTURE_CHAIN_ENTRY_REGULAR];
typedef uint8_t _future_entry_type_last[FUTURE_CHAIN_ENTRY_LAST];

#define FUTURE_CHAIN_FLAG_ENTRY_LAST	  ((uint64_t)1 << 0)
#define FUTURE_CHAIN_FLAG_ENTRY_PROCESSED ((uint64_t)1 << 1)
#define FUTURE_CHAIN_VALID_FLAGS	  (FUTURE_CHAIN_FLAG_ENTRY_LAST | FUTURE_CHAIN_FLAG_ENTRY_PROCESSED)

typedef void (*future_map_fn)(struct future_context *lhs, struct future_context *rhs, void *arg);
typedef void (*future_init_fn)(void *future, struct future_context *chain_fut, void *arg);

/* The generic view of every macro-declared entry; flags is read and written as an integer. */
struct future_chain_entry {
	future_map_fn map;
	void *map_arg;
	future_init_fn init;
	void *init_arg;
	uint64_t flags;
	struct future future;
};

#define _FUTURE_CHAIN_ENTRY_DECLARE(_future_type, _name, _flags_type) \
	struct {                                                      \
		future_map_fn map;                                    \
		void *map_arg;                                        \
		future_init_fn init;                                  \
		void *init_arg;                                       \
		_flags_type *flags;                                   \
		_future_type fut;                                     \
	} _name

#define FUTURE_CHAIN_ENTRY(_future_type, _name) \
	_FUTURE_CHAIN_ENTRY_DECLARE(_future_type, _name, _future_entry_type_regular)

#define FUTURE_CHAIN_ENTRY_LAST(_future_type, _name) \
	_FUTURE_CHAIN_ENTRY_DECLARE(_future_type, _name, _future_entry_type_last)

/* The pointer-typed flags member only ever holds flag bits, never an address. */
#define _FUTURE_CHAIN_ENTRY_INITIAL_FLAGS(_entry) \
	(sizeof(*(_entry)->flags) == FUTURE_CHAIN_ENTRY_LAST ? FUTURE_CHAIN_FLAG_ENTRY_LAST : 0)

#ifdef __cplusplus
#define _FUTURE_CHAIN_ENTRY_FLAGS_AS_MEMBER(_entry, _value) \
	reinterpret_cast<decltype((_entry)->flags)>(static_cast<uintptr_t>(_value))
#else
#define _FUTURE_CHAIN_ENTRY_FLAGS_AS_MEMBER(_entry, _value) ((void *)(uintptr_t)(_value))
#endif

#define FUTURE_CHAIN_ENTRY_INIT(_entry, _fut, _map, _map_arg)               \
	do {                                                                \
		(_entry)->fut = (_fut);                                     \
		(_entry)->map = (_map);                                     \
		(_entry)->map_arg = (_map_arg);                             \
		(_entry)->init = NULL;                                      \
		(_entry)->init_arg = NULL;                                  \
		(_entry)->flags = _FUTURE_CHAIN_ENTRY_FLAGS_AS_MEMBER(      \
			_entry, _FUTURE_CHAIN_ENTRY_INITIAL_FLAGS(_entry)); \
	} while (0)

#define FUTURE_CHAIN_ENTRY_LAZY_INIT(_entry, _init, _init_arg, _map, _map_arg) \
	do {                                                                   \
		(_entry)->map = (_map);                                        \
		(_entry)->map_arg = (_map_arg);                                \
		(_entry)->init = (_init);                                      \
		(_entry)->init_arg = (_init_arg);                              \
		(_entry)->flags = _FUTURE_CHAIN_ENTRY_FLAGS_AS_MEMBER(         \
			_entry, _FUTURE_CHAIN_ENTRY_INITIAL_FLAGS(_entry));    \
	} while (0)

#define FUTURE_CHAIN_ENTRY_HAS_FLAG(_entry, _flag) (((_entry)->flags & (_flag)) == (_flag))
#define FUTURE_CHAIN_ENTRY_IS_LAST(_entry) \
	FUTURE_CHAIN_ENTRY_HAS_FLAG((_entry), FUTURE_CHAIN_FLAG_ENTRY_LAST)
#define FUTURE_CHAIN_ENTRY_IS_PROCESSED(_entry) \
	FUTURE_CHAIN_ENTRY_HAS_FLAG((_entry), FUTURE_CHAIN_FLAG_ENTRY_PROCESSED)
#define FUTURE_CHAIN_ENTRY_IS_INITIALIZED(_entry) ((_entry)->init == NULL)

static inline void _future_chain_entry_run_init(struct future_chain_entry *entry,
						struct future_context *chain_ctx)
{
	if (entry->init != NULL) {
		entry->init(&entry->future, chain_ctx, entry->init_arg);
		entry->init = NULL;
	}
}

/*
 * The step is computed from the entry's own context, so a lazy entry must be initialised
 * before its sizes are read.
 */
static inline struct future_chain_entry *
get_next_future_chain_entry(struct future_context *chain_ctx, struct future_chain_entry *entry,
			    uint8_t *data, size_t *used)
{
	_future_chain_entry_run_init(entry, chain_ctx);

	size_t entry_size =
		sizeof(struct future_chain_entry) + future_context_get_size(&entry->future.context);
	*used += (entry_size + 7) & ~(size_t)7;

	if (FUTURE_CHAIN_ENTRY_IS_LAST(entry) || *used >= chain_ctx->data_size)
		return NULL;

	return (struct future_chain_entry *)(data + *used);
}

static inline enum future_state async_chain_impl(struct future_context *ctx,
						 struct future_notifier *notifier)
{
	uint8_t *data = (uint8_t *)future_context_get_data(ctx);
	struct future_chain_entry *entry = (struct future_chain_entry *)data;
	size_t used = 0;

	while (entry != NULL) {
		struct future_chain_entry *next =
			get_next_future_chain_entry(ctx, entry, data, &used);

		if (!FUTURE_CHAIN_ENTRY_IS_PROCESSED(entry)) {
			if (future_poll(&entry->future, notifier) != FUTURE_STATE_COMPLETE)
				return FUTURE_STATE_RUNNING;

			if (entry->map != NULL) {
				if (next != NULL)
					_future_chain_entry_run_init(next, ctx);
				entry->map(&entry->future.context,
					   next != NULL ? &next->future.context : ctx,
					   entry->map_arg);
			}
			entry->flags |= FUTURE_CHAIN_FLAG_ENTRY_PROCESSED;
		}
		entry = next;
	}

	return FUTURE_STATE_COMPLETE;
}

/* 1 or 0 for the entry currently in progress; -1 once every entry is processed. */
static inline int future_chain_has_property(void *future, enum future_property property)
{
	struct future_context *ctx = &((struct future *)future)->context;
	uint8_t *data = (uint8_t *)future_context_get_data(ctx);
	struct future_chain_entry *entry = (struct future_chain_entry *)data;
	size_t used = 0;

	while (entry != NULL) {
		struct future_chain_entry *next =
			get_next_future_chain_entry(ctx, entry, data, &used);

		if (!FUTURE_CHAIN_ENTRY_IS_PROCESSED(entry))
			return future_has_property(&entry->future, property) > 0 ? 1 : 0;
		entry = next;
	}

	return -1;
}

#define FUTURE_CHAIN_INIT(_futurep) \
	FUTURE_INIT_EXT((_futurep), async_chain_impl, future_chain_has_property)

#ifdef __cplusplus
}
#endif

#endif /* FUTURE_H */
