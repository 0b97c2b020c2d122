// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/bytes.h"
#include "core/vmx.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/aspace.h"

bool vmcs12_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		  char *why, size_t whylen)
{
	struct vmctl v = { .kind = VMCTL_VMCS12, .pa = pa };
	uint32_t rev = le32(page + 0) & 0x7fffffffu, cpu, sec;
	struct eptp_info ei;

	if (rev != VMCS12_REVISION)
		return vmctl_reject(why, whylen, "revision 0x%" PRIx64 " is not vmcs12's", rev);
	if (le32(page + VMCS12_LAUNCH_STATE) > 1)
		return vmctl_reject(why, whylen, "launch state %" PRIu64 " is neither 0 nor 1",
			      le32(page + VMCS12_LAUNCH_STATE));
	v.efer = le64(page + VMCS12_GUEST_EFER);
	v.cr0 = le64(page + VMCS12_GUEST_CR0);
	v.cr3 = le64(page + VMCS12_GUEST_CR3);
	v.cr4 = le64(page + VMCS12_GUEST_CR4);
	v.rip = le64(page + VMCS12_GUEST_RIP);
	v.id = le32(page + VMCS12_VPID) & 0xffff;
	/* VM-entry checks on guest state (SDM 27.3.1): CR0.PE and CR4.VMXE
	 * fixed bits, CR3 within MAXPHYADDR. */
	if (!(v.cr4 & (1ull << 13)) && !(v.cr0 & 1))
		return vmctl_reject(why, whylen, "guest CR0.PE clear (CR0 0x%" PRIx64 ")", v.cr0);
	if (v.cr3 >> 52)
		return vmctl_reject(why, whylen, "guest CR3 bits 63:52 set (CR3 0x%" PRIx64 ")", v.cr3);
	if (v.cr0 >> 32 || v.cr4 >> 32)
		return vmctl_reject(why, whylen, "guest CR0/CR4 high bits set (CR0 0x%" PRIx64 ")", v.cr0);
	if (v.efer >> 16)
		return vmctl_reject(why, whylen, "reserved EFER bits set (0x%" PRIx64 ")", v.efer);
	cpu = le32(page + VMCS12_CPU_BASED_CTL);
	sec = le32(page + VMCS12_SECONDARY_CTL);
	if ((cpu >> 31) && (sec & 2)) {
		v.s2_type = STAGE2_EPT;
		v.s2_root = le64(page + VMCS12_EPT_POINTER);
		if (eptp_decode(v.s2_root, &ei, NULL))
			return vmctl_reject(why, whylen, "EPT enabled with an invalid EPTP 0x%" PRIx64, v.s2_root);
		v.s2_mode = ei.levels == 5 ? PAGING_5LEVEL : PAGING_4LEVEL;
	}
	/* IA-32e guests (VM-entry control "IA-32e mode guest") show it in EFER.LMA
	 * as saved by KVM; fall back to the registers. */
	v.mode = paging_mode_from_regs(v.cr0, v.cr4, v.efer);
	if (out)
		*out = v;
	return true;
}

unsigned xen_vvmcs_slot(uint32_t encoding)
{
	unsigned index = (encoding >> 1) & 0x1f, type = (encoding >> 10) & 3,
		 width = (encoding >> 13) & 3;
	unsigned slot = index | type << 5 | width << 7;

	/* Slot 0 is the revision identifier: VPID lives in an empty group. */
	return slot ? slot : 63;
}

static uint64_t xfield(const uint8_t *page, uint32_t encoding)
{
	return le64(page + 8 * xen_vvmcs_slot(encoding));
}

#define CR0_PE (1ull << 0)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

bool xen_vvmcs_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		     char *why, size_t whylen)
{
	struct vmctl v = { .kind = VMCTL_XEN_VVMCS, .pa = pa };
	uint32_t rev = le32(page), pin, cpu, sec = 0, entry;
	uint64_t link, hcr0, hcr3, hcr4, mode_efer;
	struct eptp_info ei;

	/* Header: a revision identifier (any, as long as it is set), the
	 * shadow-VMCS indicator clear (set: the processor's own format), and
	 * no VMX abort. */
	if (le32(page + 4))
		return vmctl_reject(why, whylen, "VMX-abort indicator 0x%" PRIx64 " is set", le32(page + 4));
	if (!rev)
		return vmctl_reject(why, whylen, "revision identifier is 0", 0);
	if (rev >> 31)
		return vmctl_reject(why, whylen, "shadow-VMCS bit set in revision 0x%" PRIx64
			      ": the page is in the processor's own format", rev);
	/* Xen stores 16-bit fields (slots 0-127) and 32-bit fields (256-383)
	 * masked to their width; slots 32-62 (16-bit read-only) have no field. */
	for (unsigned s = 1; s < 128; s++) {
		uint64_t x = le64(page + 8 * s);

		if ((s >= 32 && s < 63) ? x != 0 : (x >> 16) != 0)
			return vmctl_reject(why, whylen, "16-bit field slot %" PRIu64 " holds more than 16 bits", s);
	}
	for (unsigned s = 256; s < 384; s++)
		if (le64(page + 8 * s) >> 32)
			return vmctl_reject(why, whylen, "32-bit field slot %" PRIu64 " holds more than 32 bits", s);
	/* VM-entry checks (SDM 27.2, 27.3). */
	link = xfield(page, VMCS_ENC_LINK_POINTER);
	if (link != ~0ull && ((link & 0xfff) || link >> 52))
		return vmctl_reject(why, whylen, "VMCS link pointer 0x%" PRIx64 " is neither all ones nor a page address",
			      link);
	hcr0 = xfield(page, VMCS_ENC_HOST_CR0);
	hcr3 = xfield(page, VMCS_ENC_HOST_CR3);
	hcr4 = xfield(page, VMCS_ENC_HOST_CR4);
	if ((hcr0 & (CR0_PE | CR0_NE | CR0_PG)) != (CR0_PE | CR0_NE | CR0_PG) || hcr0 >> 32)
		return vmctl_reject(why, whylen, "host CR0 0x%" PRIx64 " is not a VMX host's (PE, NE, PG)", hcr0);
	if (!(hcr4 & CR4_VMXE) || hcr4 >> 32)
		return vmctl_reject(why, whylen, "host CR4 0x%" PRIx64 " lacks VMXE or sets bits 63:32", hcr4);
	if (hcr3 >> 52)
		return vmctl_reject(why, whylen, "host CR3 bits 63:52 set (0x%" PRIx64 ")", hcr3);
	pin = (uint32_t)xfield(page, VMCS_ENC_PIN_CTL);
	if ((pin & 0x16) != 0x16)
		return vmctl_reject(why, whylen, "pin-based controls 0x%" PRIx64 " lack the always-1 bits 1, 2, 4", pin);
	cpu = (uint32_t)xfield(page, VMCS_ENC_CPU_CTL);
	if (cpu >> 31)
		sec = (uint32_t)xfield(page, VMCS_ENC_SECONDARY_CTL);
	entry = (uint32_t)xfield(page, VMCS_ENC_ENTRY_CTL);

	v.efer = xfield(page, VMCS_ENC_GUEST_EFER);
	v.cr0 = xfield(page, VMCS_ENC_GUEST_CR0);
	v.cr3 = xfield(page, VMCS_ENC_GUEST_CR3);
	v.cr4 = xfield(page, VMCS_ENC_GUEST_CR4);
	v.rip = xfield(page, VMCS_ENC_GUEST_RIP);
	v.id = (uint32_t)xfield(page, VMCS_ENC_VPID);
	if (v.cr0 >> 32 || !(v.cr0 & CR0_NE))
		return vmctl_reject(why, whylen, "guest CR0 0x%" PRIx64 " lacks NE or sets bits 63:32", v.cr0);
	if (v.cr4 >> 32 || !(v.cr4 & CR4_VMXE))
		return vmctl_reject(why, whylen, "guest CR4 0x%" PRIx64 " lacks VMXE or sets bits 63:32", v.cr4);
	if (v.cr3 >> 52)
		return vmctl_reject(why, whylen, "guest CR3 bits 63:52 set (CR3 0x%" PRIx64 ")", v.cr3);
	if (v.efer >> 12)
		return vmctl_reject(why, whylen, "reserved guest EFER bits set (0x%" PRIx64 ")", v.efer);
	/* Without "unrestricted guest" (secondary bit 7) PE and PG are fixed
	 * to 1; with it, PG still needs PE. */
	if (!(sec & (1u << 7)) ? (v.cr0 & (CR0_PE | CR0_PG)) != (CR0_PE | CR0_PG)
			       : ((v.cr0 & CR0_PG) && !(v.cr0 & CR0_PE)))
		return vmctl_reject(why, whylen, "guest CR0 0x%" PRIx64 ": PE/PG not as VM entry requires", v.cr0);
	/* "IA-32e mode guest" (entry bit 9) needs PG and PAE; with "load
	 * IA32_EFER" (bit 15) EFER.LMA must match it. */
	if ((entry & (1u << 9)) && (!(v.cr0 & CR0_PG) || !(v.cr4 & CR4_PAE)))
		return vmctl_reject(why, whylen, "IA-32e mode guest without CR0.PG and CR4.PAE (CR4 0x%" PRIx64 ")",
			      v.cr4);
	if ((entry & (1u << 15)) && !!(v.efer & EFER_LMA) != !!(entry & (1u << 9)))
		return vmctl_reject(why, whylen, "guest EFER.LMA disagrees with the IA-32e entry control (EFER 0x%"
			      PRIx64 ")", v.efer);
	if (sec & 2) {
		v.s2_type = STAGE2_EPT;
		v.s2_root = xfield(page, VMCS_ENC_EPT_POINTER);
		if (eptp_decode(v.s2_root, &ei, NULL) || !ei.root)
			return vmctl_reject(why, whylen, "EPT enabled with an invalid EPTP 0x%" PRIx64, v.s2_root);
		v.s2_mode = ei.levels == 5 ? PAGING_5LEVEL : PAGING_4LEVEL;
	} else if (sec & (1u << 7)) {
		return vmctl_reject(why, whylen, "unrestricted guest without EPT (secondary controls 0x%" PRIx64 ")", sec);
	}
	/* The entry control is what makes the guest 64-bit; the EFER field is
	 * loaded only with "load IA32_EFER". */
	mode_efer = v.efer;
	if (entry & (1u << 9))
		mode_efer |= EFER_LMA | EFER_LME;
	v.mode = paging_mode_from_regs(v.cr0, v.cr4, mode_efer);
	if (out)
		*out = v;
	return true;
}
