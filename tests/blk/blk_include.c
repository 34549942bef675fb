/* SPDX-License-Identifier: BSD-3-Clause */
/* The header alone, without the asynchronous gate, pulls in nothing of libminiasync. */

#include <libpmemblk.h>

#ifdef FUTURE_H
#error "libpmemblk.h included libminiasync without PMEMBLK_USE_MINIASYNC"
#endif

#include <stddef.h>

int main(void)
{
	PMEMblkpool *pbp = NULL;
	(void)pbp;
	return pmemblk_check_version(PMEMBLK_MAJOR_VERSION, PMEMBLK_MINOR_VERSION) == NULL ? 0 : 1;
}
