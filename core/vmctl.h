/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding a guest hypervisor's control structures in its own memory: AMD
 * VMCBs (architectural layout) and Intel VMCSs in the layouts that matter
 * (KVM's vmcs12, which is what a KVM host keeps in a KVM guest's memory for
 * the guest's own guests, and Xen's virtual VMCS, what a Xen host keeps
 * there when the processor has no VMCS shadowing); and, for Xen's PV
 * guests, which have neither, their kernel page-table roots.  Each checker accepts a
 * page only when it passes the consistency checks the processor (or the
 * emulating host) makes at VM entry and the layout's own invariants, so
 * that random memory does not yield a false guest; callers then check that
 * a kernel really lies behind what was found.
 */
#ifndef VMET_CORE_VMCTL_H
#define VMET_CORE_VMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/phys.h"

enum vmctl_kind {
	VMCTL_VMCB = 1,		/* AMD SVM VMCB */
	VMCTL_VMCS12,		/* KVM's vmcs12 (Intel VMX) */
	VMCTL_XEN_VVMCS,	/* Xen's virtual VMCS (Intel VMX) */
	VMCTL_XEN_PV,		/* a Xen 64-bit PV guest's kernel root (core/xenpv.h) */
};
#define VMCTL_KIND_LAST VMCTL_XEN_PV

struct vmctl {
	enum vmctl_kind kind;
	uint64_t pa;		/* physical address of the structure */
	uint32_t id;		/* ASID (VMCB) or VPID (VMCS) */
	enum stage2_type s2_type;	/* STAGE2_NONE: shadow paging, or PV */
	/* nCR3 or EPTP.  A PV root has no stage 2 (its tables hold machine
	 * addresses): this is then its kernel half's table, shared by every
	 * root of one guest kernel, which groups them into one guest. */
	uint64_t s2_root;
	enum paging_mode s2_mode;
	uint64_t efer, cr0, cr3, cr4, rip;
	enum paging_mode mode;	/* the guest's paging mode */
};

const char *vmctl_kind_name(enum vmctl_kind k);

/* Per-layout checkers: true when `page` is plausibly one; else why. */
bool vmcb_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		char *why, size_t whylen);
bool vmcs12_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		  char *why, size_t whylen);
bool xen_vvmcs_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		     char *why, size_t whylen);

/* For the checkers: put why a page is not one (fmt takes v) and say false. */
bool vmctl_reject(char *why, size_t whylen, const char *fmt, uint64_t v);

/* The checker for `kind` (re-checking a structure found before). */
bool vmctl_check_kind(enum vmctl_kind kind, const uint8_t page[4096], uint64_t pa,
		      struct vmctl *out, char *why, size_t whylen);

typedef void (*scan_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Scan every 4 KiB page of a source with every checker.  At most `max`
 * results (VMET_ELIMIT past that, with the first `max` returned).
 */
int vmctl_scan(struct phys_source *src, struct vmctl **out, size_t *n,
	       size_t max, scan_progress_fn progress, void *ctx,
	       struct vmet_err *err);

#endif
