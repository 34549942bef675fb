// SPDX-License-Identifier: BSD-3-Clause
/*
 * basic-async.c -- two copies on the default thread-pool mover, waited for together, twice.
 * Only <libminiasync.h> provides stdio here, as programs written for miniasync expect.
 */

#undef NDEBUG /* the asserts are this example's checks */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <libminiasync.h>

#define SMALL (1 << 10)
#define LARGE (2 << 10)

static void fill(char *buf, size_t n, char first)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(first + (char)(i % 26));
}

int main(void)
{
	char *src1 = malloc(SMALL), *dst1 = malloc(SMALL);
	char *src2 = malloc(LARGE), *dst2 = malloc(LARGE);
	if (!src1 || !dst1 || !src2 || !dst2) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}

	struct runtime *r = runtime_new();
	struct data_mover_threads *dmt = data_mover_threads_default();
	if (r == NULL || dmt == NULL) {
		fprintf(stderr, "cannot create the runtime or the data mover\n");
		return 1;
	}
	struct vdm *vdm = data_mover_threads_get_vdm(dmt);

	for (int round = 0; round < 2; round++) {
		fill(src1, SMALL, round ? 'a' : 'A');
		fill(src2, LARGE, round ? 'A' : 'a');
		memset(dst1, 0, SMALL);
		memset(dst2, 0, LARGE);

		struct vdm_operation_future copy1 = vdm_memcpy(vdm, dst1, src1, SMALL, 0);
		struct vdm_operation_future copy2 = vdm_memcpy(vdm, dst2, src2, LARGE, 0);
		struct future *futs[] = {FUTURE_AS_RUNNABLE(&copy1), FUTURE_AS_RUNNABLE(&copy2)};

		/* both copies run on the workers at the same time */
		runtime_wait_multiple(r, futs, 2);

		assert(FUTURE_OUTPUT(&copy1)->result == VDM_SUCCESS);
		assert(FUTURE_OUTPUT(&copy2)->result == VDM_SUCCESS);
		assert(FUTURE_OUTPUT(&copy1)->output.memcpy.dest == dst1);
		assert(memcmp(src1, dst1, SMALL) == 0);
		assert(memcmp(src2, dst2, LARGE) == 0);
		fprintf(stdout, "round %d: copied %d and %d bytes (%.5s..., %.5s...)\n", round,
			SMALL, LARGE, dst1, dst2);
	}

	runtime_delete(r);
	data_mover_threads_delete(dmt);
	free(src1);
	free(dst1);
	free(src2);
	free(dst2);
	return 0;
}
