// SPDX-License-Identifier: BSD-3-Clause
/*
 * basic.c -- futures from a thread-pool data mover, a hand-written future, and a chain that
 * feeds the result of a copy into it; run by the runtime and by busy polling.
 */

#undef NDEBUG /* the asserts are this example's checks */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <libminiasync.h>

/* A future of our own: prints a pointer. It completes in its first poll. */
struct print_data {
	void *value;
};

struct print_output {
	uintptr_t printed; /* a struct cannot be empty in C */
};

FUTURE(print_fut, struct print_data, struct print_output);

static enum future_state print_task(struct future_context *ctx, struct future_notifier *notifier)
{
	/* nothing to wait for, so no notification will ever come: ask to be polled */
	if (notifier != NULL)
		notifier->notifier_used = FUTURE_NOTIFIER_NONE;

	struct print_data *data = future_context_get_data(ctx);
	struct print_output *output = future_context_get_output(ctx);
	printf("async print: %p\n", data->value);
	output->printed = 1;
	return FUTURE_STATE_COMPLETE;
}

static struct print_fut async_print(void *value)
{
	struct print_fut fut;
	fut.data.value = value;
	fut.output.printed = 0;
	FUTURE_INIT(&fut, print_task);
	return fut;
}

/* A chain: copy with the mover, then print where the data went. */
struct memcpy_print_data {
	FUTURE_CHAIN_ENTRY(struct vdm_operation_future, copy);
	FUTURE_CHAIN_ENTRY(struct print_fut, print);
};

struct memcpy_print_output {
	uintptr_t unused;
};

FUTURE(memcpy_print_fut, struct memcpy_print_data, struct memcpy_print_output);

#define MAP_ARG ((void *)0xd)

/* Runs when the copy completes, before the print is first polled. */
static void copy_to_print(struct future_context *copy_ctx, struct future_context *print_ctx,
			  void *arg)
{
	struct vdm_operation_output *copied = future_context_get_output(copy_ctx);
	struct print_data *print = future_context_get_data(print_ctx);

	assert(arg == MAP_ARG);
	assert(copied->type == VDM_OPERATION_MEMCPY);
	assert(copied->result == VDM_SUCCESS);
	print->value = copied->output.memcpy.dest;
}

static struct memcpy_print_fut async_memcpy_print(struct vdm *vdm, void *dest, void *src, size_t n)
{
	struct memcpy_print_fut chain;
	chain.output.unused = 0;
	FUTURE_CHAIN_ENTRY_INIT(&chain.data.copy, vdm_memcpy(vdm, dest, src, n, 0), copy_to_print,
				MAP_ARG);
	/* the value to print is not known yet; the map above fills it in */
	FUTURE_CHAIN_ENTRY_INIT(&chain.data.print, async_print(NULL), NULL, NULL);
	FUTURE_CHAIN_INIT(&chain);
	return chain;
}

int main(void)
{
	static const char hello[] = "testbuf";
	char *buf_a = malloc(sizeof(hello));
	char *buf_b = malloc(sizeof(hello));
	assert(buf_a != NULL && buf_b != NULL);
	memcpy(buf_a, hello, sizeof(hello));
	memset(buf_b, 0, sizeof(hello));

	struct runtime *r = runtime_new();
	assert(r != NULL);

	/* four worker threads, a ring of 1024 operations, futures wake the runtime */
	struct data_mover_threads *dmt = data_mover_threads_new(4, 1024, FUTURE_NOTIFIER_WAKER);
	assert(dmt != NULL);
	struct vdm *mover = data_mover_threads_get_vdm(dmt);

	/* 1. a copy, waited for by the runtime */
	struct vdm_operation_future a_to_b = vdm_memcpy(mover, buf_b, buf_a, sizeof(hello), 0);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&a_to_b));
	assert(FUTURE_OUTPUT(&a_to_b)->result == VDM_SUCCESS);
	assert(memcmp(buf_a, buf_b, sizeof(hello)) == 0);

	/* 2. our own future */
	struct print_fut print_5 = async_print((void *)0x5);
	runtime_wait(r, FUTURE_AS_RUNNABLE(&print_5));
	assert(FUTURE_OUTPUT(&print_5)->printed == 1);

	/* 3. the chain, under the runtime */
	memset(buf_b, 0, sizeof(hello));
	struct memcpy_print_fut memcpy_print =
		async_memcpy_print(mover, buf_b, buf_a, sizeof(hello));
	runtime_wait(r, FUTURE_AS_RUNNABLE(&memcpy_print));
	assert(memcpy_print.data.print.fut.data.value == buf_b);
	assert(memcmp(buf_a, buf_b, sizeof(hello)) == 0);

	runtime_delete(r);

	/* 4. the same chain without a runtime: poll until done (NULL notifier) */
	memset(buf_b, 0, sizeof(hello));
	struct memcpy_print_fut busy = async_memcpy_print(mover, buf_b, buf_a, sizeof(hello));
	FUTURE_BUSY_POLL(&busy);
	assert(memcmp(buf_a, buf_b, sizeof(hello)) == 0);

	data_mover_threads_delete(dmt);

	printf("%s %s %d\n", buf_a, buf_b, memcmp(buf_a, buf_b, sizeof(hello)));
	free(buf_a);
	free(buf_b);
	return 0;
}
