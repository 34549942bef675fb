/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Assertions for the test programs: a failed check prints where and why, then aborts, so
 * that CTest reports the test as failed. Never compiled out (no NDEBUG dependence).
 */

#ifndef PMEMKIT_TESTS_UT_H
#define PMEMKIT_TESTS_UT_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UT_FATAL(...)                                                        \
	do {                                                                 \
		fprintf(stderr, "%s:%d %s: ", __FILE__, __LINE__, __func__); \
		fprintf(stderr, __VA_ARGS__);                                \
		fprintf(stderr, "\n");                                       \
		abort();                                                     \
	} while (0)

#define UT_ASSERT(cond)                                          \
	do {                                                     \
		if (!(cond))                                     \
			UT_FATAL("assertion failed: %s", #cond); \
	} while (0)

#define UT_ASSERTeq(lhs, rhs)                                                                   \
	do {                                                                                    \
		uint64_t ut_l_ = (uint64_t)(lhs), ut_r_ = (uint64_t)(rhs);                      \
		if (ut_l_ != ut_r_)                                                             \
			UT_FATAL("%s (0x%" PRIx64 ") != %s (0x%" PRIx64 ")", #lhs, ut_l_, #rhs, \
				 ut_r_);                                                        \
	} while (0)

#define UT_ASSERTne(lhs, rhs)                                                    \
	do {                                                                     \
		uint64_t ut_l_ = (uint64_t)(lhs), ut_r_ = (uint64_t)(rhs);       \
		if (ut_l_ == ut_r_)                                              \
			UT_FATAL("%s == %s (0x%" PRIx64 ")", #lhs, #rhs, ut_l_); \
	} while (0)

/* A call that must fail with the given return value and errno. */
#define UT_ASSERT_ERR(call, ret, err)                                                             \
	do {                                                                                      \
		errno = 0;                                                                        \
		uint64_t ut_ret_ = (uint64_t)(call);                                              \
		int ut_errno_ = errno;                                                            \
		if (ut_ret_ != (uint64_t)(ret) || ut_errno_ != (err))                             \
			UT_FATAL("%s returned 0x%" PRIx64 " errno %d (%s), expected 0x%" PRIx64   \
				 " errno %d",                                                     \
				 #call, ut_ret_, ut_errno_, strerror(ut_errno_), (uint64_t)(ret), \
				 (int)(err));                                                     \
	} while (0)

/* A directory for test files: $PMEMKIT_TEST_DIR, else /dev/shm, else /tmp. */
static inline const char *ut_test_dir(void)
{
	const char *dir = getenv("PMEMKIT_TEST_DIR");
	if (dir != NULL && dir[0] != '\0')
		return dir;
	FILE *probe = fopen("/dev/shm/.pmemkit-probe", "w");
	if (probe != NULL) {
		fclose(probe);
		remove("/dev/shm/.pmemkit-probe");
		return "/dev/shm";
	}
	return "/tmp";
}

#endif
