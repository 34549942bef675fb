/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PMEMBLK_CONF / PMEMBLK_CONF_FILE are applied at load time. Usage: blk_conf <name>=<value>...
 * checks that each named CTL node holds the value.
 */

#include "blk_test.h"

int main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		char name[128];
		int want;
		UT_ASSERTeq(sscanf(argv[i], "%127[^=]=%d", name, &want), 2);
		int got = -1;
		UT_ASSERTeq(pmemblk_ctl_get(NULL, name, &got), 0);
		if (got != want)
			UT_FATAL("%s is %d, expected %d", name, got, want);
	}
	return 0;
}
