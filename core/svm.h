/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AMD SVM: finding the VMCBs a guest hypervisor keeps for its guests.
 *
 * The VMCB layout is architectural (AMD APM vol. 2, appendix B): a 4 KiB
 * page whose control area (offset 0) holds the intercept vectors, the guest
 * ASID, the nested-paging enable bit and nCR3, and whose state-save area
 * (offset 0x400) holds the guest's EFER, CR0, CR3, CR4 and RIP as of the
 * last #VMEXIT.  A page is taken for a VMCB only when it passes the checks
 * VMRUN itself would make (VMRUN intercepted, ASID non-zero, EFER.SVME set,
 * consistent control registers), so that random memory does not yield a
 * false guest; the caller then checks that a kernel really lies behind it.
 */
#ifndef VMET_CORE_SVM_H
#define VMET_CORE_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/phys.h"

/* Offsets within the VMCB page. */
#define VMCB_INTERCEPT_MISC2	0x010	/* u32; bit 0 = VMRUN */
#define VMCB_ASID		0x058	/* u32 */
#define VMCB_EXITCODE		0x070	/* u64 */
#define VMCB_NESTED_CTL		0x090	/* u64; bit 0 = NP_ENABLE */
#define VMCB_NCR3		0x0b0	/* u64 */
#define VMCB_SAVE		0x400
#define VMCB_EFER		(VMCB_SAVE + 0x0d0)
#define VMCB_CR4		(VMCB_SAVE + 0x148)
#define VMCB_CR3		(VMCB_SAVE + 0x150)
#define VMCB_CR0		(VMCB_SAVE + 0x158)
#define VMCB_RIP		(VMCB_SAVE + 0x178)

#define EFER_SVME (1ull << 12)

struct vmcb_info {
	uint64_t pa;		/* physical address of the VMCB page */
	uint32_t asid;
	bool np;		/* nested paging enabled */
	uint64_t ncr3;
	uint64_t efer, cr0, cr3, cr4, rip;
	uint64_t exitcode;
	enum paging_mode mode;	/* guest paging mode from cr0/cr4/efer */
};

/*
 * Decode and check one candidate page.  Returns true when it is a plausible
 * VMCB; otherwise false with `why` saying which check failed.
 */
bool vmcb_check(const uint8_t page[4096], uint64_t pa, struct vmcb_info *out,
		char *why, size_t whylen);

/* Scan progress: called now and then with bytes done / total. */
typedef void (*scan_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Scan every page of a source for VMCBs with nested paging enabled (a
 * guest hypervisor that uses shadow paging has no stage 2 to walk; such
 * VMCBs are returned too, with np false).  At most `max` results.
 */
int vmcb_scan(struct phys_source *src, struct vmcb_info **out, size_t *n,
	      size_t max, scan_progress_fn progress, void *ctx,
	      struct vmet_err *err);

#endif
