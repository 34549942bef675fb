/* SPDX-License-Identifier: BSD-3-Clause */
/* Facts about the CPU that choose between equivalent ways of writing to persistent memory. */

#ifndef PMEMKIT_COMMON_CPU_H
#define PMEMKIT_COMMON_CPU_H

/*
 * 1 if non-temporal stores that fill only part of a cache line, fenced at once, beat
 * cached stores and a flush. Measured for a 64 B log entry (80 bytes over two lines): on
 * Intel the non-temporal stores were about 10% faster, on AMD EPYC (Zen 4) 25% slower.
 */
int cpu_partial_line_nontemporal_pays(void);

#endif
