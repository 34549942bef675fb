// SPDX-License-Identifier: BSD-3-Clause
// The public header in C++ (-Wall -Wextra clean), and the struct shapes callers rely on.

#include <libpmemstream.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

static_assert(sizeof(pmemstream_region) == 8, "region is one offset");
static_assert(sizeof(pmemstream_entry) == 8, "entry is one offset");
static_assert(sizeof(pmemstream_async_wait_data) == 40, "wait data layout");
static_assert(offsetof(pmemstream_async_wait_data, timestamp) == 8, "wait data layout");
static_assert(offsetof(pmemstream_async_wait_data, last_timestamp) == 32, "wait data layout");
static_assert(offsetof(pmemstream_async_wait_fut, data) == sizeof(future), "future layout");
static_assert(std::is_same<decltype(pmemstream_async_wait_output::error_code), int>::value,
	      "error_code is an int");
static_assert(PMEMSTREAM_FIRST_TIMESTAMP == 1ULL, "first timestamp");
static_assert(PMEMSTREAM_INVALID_OFFSET == UINT64_MAX, "invalid offset");

// programs carry identical definitions; these must stay legal redefinitions
#define PMEMSTREAM_INVALID_TIMESTAMP (0ULL)
#define PMEMSTREAM_FIRST_TIMESTAMP   (PMEMSTREAM_INVALID_TIMESTAMP + 1ULL)
#define PMEMSTREAM_INVALID_OFFSET    UINT64_MAX

int main()
{
	pmemstream *s = nullptr;
	if (pmemstream_from_map(&s, 4096, nullptr) != -1 || s != nullptr)
		return 1;
	pmemstream_async_wait_fut f = pmemstream_async_wait_persisted(nullptr, 3);
	if (future_poll(FUTURE_AS_RUNNABLE(&f), nullptr) != FUTURE_STATE_COMPLETE ||
	    f.output.error_code != -1 || f.data.timestamp != 3)
		return 1;
	std::printf("%s\n", pmemstream_errormsg());
	return 0;
}
