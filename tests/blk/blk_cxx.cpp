// SPDX-License-Identifier: BSD-3-Clause
// The public header with the asynchronous gate compiles as C++ and works from C++.

#define PMEMBLK_USE_MINIASYNC 1
#include <libpmemblk.h>
#include <libminiasync.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "ut.h"

static_assert(PMEMBLK_MAJOR_VERSION == 1 && PMEMBLK_MINOR_VERSION == 1, "version");
static_assert(PMEMBLK_MIN_BLK == 512, "PMEMBLK_MIN_BLK");
static_assert(PMEMBLK_MIN_PART == 2 * 1024 * 1024, "PMEMBLK_MIN_PART");
// the output member must sit where future_context_get_output() looks for it
static_assert(offsetof(pmemblk_write_async_future, output) ==
		      offsetof(pmemblk_write_async_future, data) + sizeof(pmemblk_write_async_data),
	      "write future layout");
static_assert(offsetof(pmemblk_read_async_future, output) ==
		      offsetof(pmemblk_read_async_future, data) + sizeof(pmemblk_read_async_data),
	      "read future layout");
static_assert(offsetof(pmemblk_write_async_future, data) == sizeof(struct future),
	      "data right after the base");

int main()
{
	UT_ASSERT(pmemblk_check_version(PMEMBLK_MAJOR_VERSION, PMEMBLK_MINOR_VERSION) == nullptr);
	std::string path = std::string(ut_test_dir()) + "/blk_cxx_" + std::to_string(getpid());
	unlink(path.c_str());

	data_mover_sync *dms = data_mover_sync_new();
	UT_ASSERT(dms != nullptr);
	PMEMblkpool *pbp = pmemblk_xcreate(path.c_str(), 512, PMEMBLK_MIN_POOL, 0600,
					   data_mover_sync_get_vdm(dms));
	UT_ASSERT(pbp != nullptr);

	unsigned char buf[512];
	std::memset(buf, 0x2B, sizeof(buf));
	pmemblk_write_async_future w = pmemblk_write_async(pbp, buf, 3);
	FUTURE_BUSY_POLL(&w);
	UT_ASSERTeq(FUTURE_OUTPUT(&w)->return_value, 0);

	std::memset(buf, 0, sizeof(buf));
	pmemblk_read_async_future r = pmemblk_read_async(pbp, buf, 3);
	FUTURE_BUSY_POLL(&r);
	UT_ASSERTeq(FUTURE_OUTPUT(&r)->return_value, 0);
	UT_ASSERTeq(buf[511], 0x2B);
	UT_ASSERT_ERR(pmemblk_read(pbp, buf, -1), -1, EINVAL);
	pmemblk_close(pbp);
	UT_ASSERTeq(pmemblk_check(path.c_str(), 512), 1);
	data_mover_sync_delete(dms);
	unlink(path.c_str());
	return 0;
}
