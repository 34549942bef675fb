/* SPDX-License-Identifier: BSD-3-Clause */

#include "common/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <string.h>

int cpu_partial_line_nontemporal_pays(void)
{
	unsigned max_leaf, vendor[3];
	if (!__get_cpuid(0, &max_leaf, &vendor[0], &vendor[2], &vendor[1]))
		return 0;
	return memcmp(vendor, "GenuineIntel", sizeof(vendor)) == 0;
}
#else
int cpu_partial_line_nontemporal_pays(void)
{
	return 0;
}
#endif
