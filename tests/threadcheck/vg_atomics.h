/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forced into every C file (-include) of the helgrind/drd build only. helgrind and drd know
 * pthread primitives but not atomics, so every acquire/release of the code would look like a
 * data race. This header turns each GCC __atomic builtin (which <stdatomic.h> also expands
 * to) into the builtin plus the valgrind happens-before annotations its memory order implies:
 * a release (or stronger) operation on an address "happens before" every later acquire (or
 * stronger) operation on the same address. No library source changes are needed.
 *
 * Not modelled: stand-alone fences (__atomic_thread_fence) and implicit operations on
 * _Atomic objects (x = v, x++); relaxed accesses carry no ordering, as in C11.
 */

#ifndef PMEMKIT_VG_ATOMICS_H
#define PMEMKIT_VG_ATOMICS_H

#ifndef __cplusplus

#include <stdatomic.h>
#include <valgrind/helgrind.h>
#include <valgrind/drd.h>

/* One annotation for whichever of the two tools runs (the other ignores the request). */
#define VGA_BEFORE(a)                                                                    \
	do {                                                                             \
		ANNOTATE_HAPPENS_BEFORE((void *)(a));                                    \
		VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ__DRD_ANNOTATE_HAPPENS_BEFORE, \
						(void *)(a), 0, 0, 0, 0);                \
	} while (0)
#define VGA_AFTER(a)                                                                    \
	do {                                                                            \
		ANNOTATE_HAPPENS_AFTER((void *)(a));                                    \
		VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ__DRD_ANNOTATE_HAPPENS_AFTER, \
						(void *)(a), 0, 0, 0, 0);               \
	} while (0)

/*
 * The atomic accesses themselves are not races by definition: exclude the object from
 * checking (it stays excluded if the memory is later reused for plain data).
 */
#define VGA_ATOMIC_OBJ(a)                                                               \
	do {                                                                            \
		VALGRIND_HG_DISABLE_CHECKING((a), sizeof(*(a)));                        \
		VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ__DRD_START_SUPPRESSION, (a), \
						sizeof(*(a)), 0, 0, 0);                 \
	} while (0)

#define VGA_REL(mo) \
	((mo) == __ATOMIC_RELEASE || (mo) == __ATOMIC_ACQ_REL || (mo) == __ATOMIC_SEQ_CST)
#define VGA_ACQ(mo)                                                                          \
	((mo) == __ATOMIC_ACQUIRE || (mo) == __ATOMIC_CONSUME || (mo) == __ATOMIC_ACQ_REL || \
	 (mo) == __ATOMIC_SEQ_CST)

/* a load-like operation: the builtin, then "after" */
#define VGA_LOADLIKE(p, mo, call)            \
	__extension__({                      \
		VGA_ATOMIC_OBJ(p);           \
		__auto_type vga_r_ = (call); \
		if (VGA_ACQ(mo))             \
			VGA_AFTER(p);        \
		vga_r_;                      \
	})
#define VGA_LOAD_VOID(p, mo, call)    \
	__extension__({               \
		VGA_ATOMIC_OBJ(p);    \
		call;                 \
		if (VGA_ACQ(mo))      \
			VGA_AFTER(p); \
	})
/* a read-modify-write: "before", the builtin, "after" */
#define VGA_RMW(p, mo, call)                 \
	__extension__({                      \
		VGA_ATOMIC_OBJ(p);           \
		if (VGA_REL(mo))             \
			VGA_BEFORE(p);       \
		__auto_type vga_r_ = (call); \
		if (VGA_ACQ(mo))             \
			VGA_AFTER(p);        \
		vga_r_;                      \
	})
#define VGA_RMW_VOID(p, mo, call)      \
	__extension__({                \
		VGA_ATOMIC_OBJ(p);     \
		if (VGA_REL(mo))       \
			VGA_BEFORE(p); \
		call;                  \
		if (VGA_ACQ(mo))       \
			VGA_AFTER(p);  \
	})
#define VGA_STORE(p, mo, call)         \
	__extension__({                \
		VGA_ATOMIC_OBJ(p);     \
		if (VGA_REL(mo))       \
			VGA_BEFORE(p); \
		call;                  \
	})

/* Inside a macro's own expansion its name is not expanded again: these call the builtins. */
#define __atomic_load_n(p, mo)	       VGA_LOADLIKE(p, mo, __atomic_load_n(p, mo))
#define __atomic_load(p, r, mo)	       VGA_LOAD_VOID(p, mo, __atomic_load(p, r, mo))
#define __atomic_store_n(p, v, mo)     VGA_STORE(p, mo, __atomic_store_n(p, v, mo))
#define __atomic_store(p, v, mo)       VGA_STORE(p, mo, __atomic_store(p, v, mo))
#define __atomic_exchange_n(p, v, mo)  VGA_RMW(p, mo, __atomic_exchange_n(p, v, mo))
#define __atomic_exchange(p, v, r, mo) VGA_RMW_VOID(p, mo, __atomic_exchange(p, v, r, mo))
#define __atomic_compare_exchange_n(p, e, d, w, s, f) \
	VGA_RMW(p, s, __atomic_compare_exchange_n(p, e, d, w, s, f))
#define __atomic_compare_exchange(p, e, d, w, s, f) \
	VGA_RMW(p, s, __atomic_compare_exchange(p, e, d, w, s, f))
#define __atomic_add_fetch(p, v, mo)  VGA_RMW(p, mo, __atomic_add_fetch(p, v, mo))
#define __atomic_sub_fetch(p, v, mo)  VGA_RMW(p, mo, __atomic_sub_fetch(p, v, mo))
#define __atomic_and_fetch(p, v, mo)  VGA_RMW(p, mo, __atomic_and_fetch(p, v, mo))
#define __atomic_or_fetch(p, v, mo)   VGA_RMW(p, mo, __atomic_or_fetch(p, v, mo))
#define __atomic_xor_fetch(p, v, mo)  VGA_RMW(p, mo, __atomic_xor_fetch(p, v, mo))
#define __atomic_nand_fetch(p, v, mo) VGA_RMW(p, mo, __atomic_nand_fetch(p, v, mo))
#define __atomic_fetch_add(p, v, mo)  VGA_RMW(p, mo, __atomic_fetch_add(p, v, mo))
#define __atomic_fetch_sub(p, v, mo)  VGA_RMW(p, mo, __atomic_fetch_sub(p, v, mo))
#define __atomic_fetch_and(p, v, mo)  VGA_RMW(p, mo, __atomic_fetch_and(p, v, mo))
#define __atomic_fetch_or(p, v, mo)   VGA_RMW(p, mo, __atomic_fetch_or(p, v, mo))
#define __atomic_fetch_xor(p, v, mo)  VGA_RMW(p, mo, __atomic_fetch_xor(p, v, mo))
#define __atomic_fetch_nand(p, v, mo) VGA_RMW(p, mo, __atomic_fetch_nand(p, v, mo))
#define __atomic_test_and_set(p, mo)  VGA_RMW(p, mo, __atomic_test_and_set(p, mo))
#define __atomic_clear(p, mo)	      VGA_STORE(p, mo, __atomic_clear(p, mo))

#endif /* !__cplusplus */
#endif
