// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/bytes.h"
#include "core/svm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool vmcb_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		char *why, size_t whylen)
{
	struct vmctl v = { .kind = VMCTL_VMCB, .pa = pa };
	uint64_t nested_ctl;
	uint32_t asid;

	/* Cheapest, most selective checks first: this runs on every page. */
	if (!(le32(page + VMCB_INTERCEPT_MISC2) & 1))
		return vmctl_reject(why, whylen, "VMRUN not intercepted (misc2 0x%" PRIx64 ")",
			      le32(page + VMCB_INTERCEPT_MISC2));
	/* Control-area fields whose format is fixed: reserved bytes are zero,
	 * the permission-map bases are page aligned (and set: no real
	 * hypervisor runs a guest without I/O and MSR intercept maps), the TLB
	 * control byte takes one of its four defined values. */
	for (size_t off = VMCB_RESERVED1; off < VMCB_RESERVED1_END; off += 4)
		if (le32(page + off))
			return vmctl_reject(why, whylen, "reserved control-area bytes at 0x%" PRIx64 " are not zero", off);
	if ((le64(page + VMCB_IOPM_BASE) & 0xfff) || !le64(page + VMCB_IOPM_BASE) ||
	    (le64(page + VMCB_MSRPM_BASE) & 0xfff) || !le64(page + VMCB_MSRPM_BASE))
		return vmctl_reject(why, whylen, "IOPM/MSRPM base not a page address (IOPM 0x%" PRIx64 ")",
			      le64(page + VMCB_IOPM_BASE));
	switch (page[VMCB_TLB_CONTROL]) {
	case 0: case 1: case 3: case 7:
		break;
	default:
		return vmctl_reject(why, whylen, "TLB control 0x%" PRIx64 " is not a defined value",
			      page[VMCB_TLB_CONTROL]);
	}
	v.efer = le64(page + VMCB_EFER);
	if (!(v.efer & EFER_SVME))
		return vmctl_reject(why, whylen, "EFER.SVME clear (EFER 0x%" PRIx64 ")", v.efer);
	/* EFER bits 63:16 are reserved (AMD defines up to bit 15, plus 16-21 on
	 * recent parts: accept those, reject the rest). */
	if (v.efer >> 22)
		return vmctl_reject(why, whylen, "reserved EFER bits set (0x%" PRIx64 ")", v.efer);
	asid = le32(page + VMCB_ASID);
	v.id = asid;
	if (!asid)
		return vmctl_reject(why, whylen, "ASID is 0 (reserved for the host)", 0);
	v.cr0 = le64(page + VMCB_CR0);
	v.cr3 = le64(page + VMCB_CR3);
	v.cr4 = le64(page + VMCB_CR4);
	v.rip = le64(page + VMCB_RIP);
	/* VMRUN's consistency checks: CR0.CD=0 with NW=1 is illegal, CR0[63:32]
	 * and CR3[63:52] must be zero, CR4 reserved bits zero. */
	if (v.cr0 >> 32)
		return vmctl_reject(why, whylen, "CR0 bits 63:32 set (CR0 0x%" PRIx64 ")", v.cr0);
	if ((v.cr0 & (1ull << 29)) && !(v.cr0 & (1ull << 30)))
		return vmctl_reject(why, whylen, "CR0.NW set without CD (CR0 0x%" PRIx64 ")", v.cr0);
	if (v.cr3 >> 52)
		return vmctl_reject(why, whylen, "CR3 bits 63:52 set (CR3 0x%" PRIx64 ")", v.cr3);
	if (v.cr4 >> 32)
		return vmctl_reject(why, whylen, "CR4 bits 63:32 set (CR4 0x%" PRIx64 ")", v.cr4);
	/* Long mode active needs PAE and PG. */
	if ((v.efer & (1ull << 10)) && (!(v.cr4 & (1ull << 5)) || !(v.cr0 & (1ull << 31))))
		return vmctl_reject(why, whylen, "EFER.LMA without CR4.PAE and CR0.PG (EFER 0x%" PRIx64 ")", v.efer);
	nested_ctl = le64(page + VMCB_NESTED_CTL);
	if (nested_ctl & 1) {
		v.s2_type = STAGE2_NPT;
		v.s2_root = le64(page + VMCB_NCR3);
		/* The nested tables use the host's paging depth; a 5-level host
		 * shows it only in its own CR4, so assume 4 unless told. */
		v.s2_mode = PAGING_4LEVEL;
		if (v.s2_root >> 52)
			return vmctl_reject(why, whylen, "nCR3 bits 63:52 set (nCR3 0x%" PRIx64 ")", v.s2_root);
		if (v.s2_root & 0xfe7)
			return vmctl_reject(why, whylen, "nCR3 0x%" PRIx64 " has bits set below the table address "
				      "other than PWT/PCD", v.s2_root);
		if (!(v.s2_root & ~0xfffull))
			return vmctl_reject(why, whylen, "nested paging enabled with nCR3 0x%" PRIx64, v.s2_root);
	}
	v.mode = paging_mode_from_regs(v.cr0, v.cr4, v.efer);
	if (out)
		*out = v;
	return true;
}

