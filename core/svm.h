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
 * consistent control registers): see vmcb_check() in vmctl.h.
 */
#ifndef VMET_CORE_SVM_H
#define VMET_CORE_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vmctl.h"

/* Offsets within the VMCB page. */
#define VMCB_INTERCEPT_MISC2	0x010	/* u32; bit 0 = VMRUN */
#define VMCB_RESERVED1		0x018	/* 0x018-0x03b: reserved, zero */
#define VMCB_RESERVED1_END	0x03c
#define VMCB_IOPM_BASE		0x040	/* u64, page aligned */
#define VMCB_MSRPM_BASE		0x048	/* u64, page aligned */
#define VMCB_ASID		0x058	/* u32 */
#define VMCB_TLB_CONTROL	0x05c	/* u8: 0, 1, 3 or 7 */
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

#endif
