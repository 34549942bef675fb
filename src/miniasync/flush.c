/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A mover cannot know whether a range is persistent memory; writing cache lines back is
 * right for persistent memory and harmless for DRAM, so flush always does it.
 */

#include "miniasync/flush.h"

#include <stdint.h>

#include "common/util.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <pthread.h>

enum writeback_kind { WRITEBACK_CLFLUSH, WRITEBACK_CLFLUSHOPT, WRITEBACK_CLWB };

static enum writeback_kind writeback;
static pthread_once_t writeback_once = PTHREAD_ONCE_INIT;

#define CPUID_7_EBX_CLFLUSHOPT (1U << 23)
#define CPUID_7_EBX_CLWB       (1U << 24)

static void detect_writeback(void)
{
	unsigned eax, ebx, ecx, edx;

	writeback = WRITEBACK_CLFLUSH;
	if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0)
		return;
	if (ebx & CPUID_7_EBX_CLWB)
		writeback = WRITEBACK_CLWB;
	else if (ebx & CPUID_7_EBX_CLFLUSHOPT)
		writeback = WRITEBACK_CLFLUSHOPT;
}

void flush_range(const void *addr, size_t len)
{
	pthread_once(&writeback_once, detect_writeback);

	/* nothing to write back: the line addr is in may not even be mapped */
	if (len == 0) {
		__asm__ volatile("sfence" ::: "memory");
		return;
	}
	uintptr_t line = ALIGN_DOWN((uintptr_t)addr, (uintptr_t)CACHELINE_SIZE);
	uintptr_t end = (uintptr_t)addr + len;

	for (; line < end; line += CACHELINE_SIZE) {
		char *p = (char *)line;
		switch (writeback) {
		case WRITEBACK_CLWB:
			__asm__ volatile("clwb %0" : "+m"(*p));
			break;
		case WRITEBACK_CLFLUSHOPT:
			__asm__ volatile("clflushopt %0" : "+m"(*p));
			break;
		default:
			__asm__ volatile("clflush %0" : "+m"(*p));
			break;
		}
	}
	/* order the write-backs before anything the completion makes visible */
	__asm__ volatile("sfence" ::: "memory");
}

#else

void flush_range(const void *addr, size_t len)
{
	(void)addr;
	(void)len;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif
