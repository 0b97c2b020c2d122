// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/bytes.h"
#include "core/vmx.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/aspace.h"

static bool reject(char *why, size_t n, const char *fmt, uint64_t v)
{
	if (why && n)
		snprintf(why, n, fmt, v);
	return false;
}

bool vmcs12_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		  char *why, size_t whylen)
{
	struct vmctl v = { .kind = VMCTL_VMCS12, .pa = pa };
	uint32_t rev = le32(page + 0) & 0x7fffffffu, cpu, sec;
	struct eptp_info ei;

	if (rev != VMCS12_REVISION)
		return reject(why, whylen, "revision 0x%" PRIx64 " is not vmcs12's", rev);
	if (le32(page + VMCS12_LAUNCH_STATE) > 1)
		return reject(why, whylen, "launch state %" PRIu64 " is neither 0 nor 1",
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
		return reject(why, whylen, "guest CR0.PE clear (CR0 0x%" PRIx64 ")", v.cr0);
	if (v.cr3 >> 52)
		return reject(why, whylen, "guest CR3 bits 63:52 set (CR3 0x%" PRIx64 ")", v.cr3);
	if (v.cr0 >> 32 || v.cr4 >> 32)
		return reject(why, whylen, "guest CR0/CR4 high bits set (CR0 0x%" PRIx64 ")", v.cr0);
	if (v.efer >> 16)
		return reject(why, whylen, "reserved EFER bits set (0x%" PRIx64 ")", v.efer);
	cpu = le32(page + VMCS12_CPU_BASED_CTL);
	sec = le32(page + VMCS12_SECONDARY_CTL);
	if ((cpu >> 31) && (sec & 2)) {
		v.s2_type = STAGE2_EPT;
		v.s2_root = le64(page + VMCS12_EPT_POINTER);
		if (eptp_decode(v.s2_root, &ei, NULL))
			return reject(why, whylen, "EPT enabled with an invalid EPTP 0x%" PRIx64, v.s2_root);
		v.s2_mode = ei.levels == 5 ? PAGING_5LEVEL : PAGING_4LEVEL;
	}
	/* IA-32e guests (VM-entry control "IA-32e mode guest") show it in EFER.LMA
	 * as saved by KVM; fall back to the registers. */
	v.mode = paging_mode_from_regs(v.cr0, v.cr4, v.efer);
	if (out)
		*out = v;
	return true;
}
