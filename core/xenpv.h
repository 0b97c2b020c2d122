/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Xen 64-bit PV guests, seen from below Xen.  A PV guest has no VMCB or
 * VMCS: it runs on its own page tables, which hold machine addresses, so
 * what identifies it in Xen's memory is its top-level tables.  Xen
 * installs its own slots in every L4 table a 64-bit PV guest uses (the
 * guest cannot run on one without them), and one of those slots, the
 * linear page-table slot (258: 0xffff810000000000), maps the table itself.
 * Linux never maps a table onto itself, nor do HVM guests' tables hold
 * Xen's slots; the per-domain (260) and Xen image (261) slots are always
 * there too.  A kernel-mode root also holds the read-only M2P slot (256)
 * and the kernel half (slot 511: level3_kernel_pgt), which every process
 * root of one kernel shares; the user-mode roots of a 64-bit PV Linux lack
 * the M2P slot (VMASST_TYPE_m2p_strict) and are not taken.
 *
 * Facts from Xen's x86 memory layout (xen/arch/x86/include/asm/config.h)
 * and its init_xen_l4_slots().
 */
#ifndef VMET_CORE_XENPV_H
#define VMET_CORE_XENPV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/aspace.h"
#include "core/vmctl.h"

#define XEN_PV_L4_RO_MPT	256	/* read-only machine-to-phys table */
#define XEN_PV_L4_LINEAR	258	/* linear page table: the L4 itself */
#define XEN_PV_L4_PERDOMAIN	260	/* per-domain mappings (GDT, LDT) */
#define XEN_PV_L4_XEN_IMAGE	261	/* Xen's own text and data */
#define XEN_PV_L4_KERNEL	511	/* the guest kernel's image (__START_KERNEL_map) */

#define XEN_PV_L4_XEN_LAST	271	/* Xen's slots: 256-271 */

/* Cheap pre-filter: entry 258 of the page at pa maps pa.  Machine page 0
 * is Xen's own, never a guest's table (and a zero address proves nothing). */
static inline bool xen_pv_maybe(uint64_t e258, uint64_t pa)
{
	return pa && (e258 & 1) && (e258 & 0x000ffffffffff000ull) == pa;
}

/* Where slot 256 maps the read-only M2P: an array of pfns by mfn. */
#define XEN_PV_RO_MPT_VA	0xffff800000000000ull

/*
 * The M2P entry of machine frame mfn, read through a PV root's own tables
 * (`root_as`, a 4-level space at the root): the guest's pfn for a frame a
 * live domain owns.  Xen marks a frame it took back with an invalid entry
 * (top bit set), so a root whose own frame reads invalid belongs to a
 * domain that is gone, its memory not yet scrubbed.  *valid says which.
 */
int xen_pv_m2p_entry(struct aspace *root_as, uint64_t mfn, uint64_t *entry, bool *valid,
		     struct vmet_err *err);

/*
 * True when `page` at machine address pa is a 64-bit PV guest's kernel
 * root: out->kind VMCTL_XEN_PV, cr3 = pa, mode 4-level, s2_type
 * STAGE2_NONE and s2_root = the kernel half's table (what groups the roots
 * of one guest kernel).  Else false, and why.
 */
bool xen_pv_root_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		       char *why, size_t whylen);

#endif
