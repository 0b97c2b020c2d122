/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel VMX control structures in guest-hypervisor memory.
 *
 * A VMCS's field layout is not architectural: only its first 8 bytes are
 * (revision identifier, abort indicator).  What sits in a guest
 * hypervisor's memory depends on who emulates VMX for it.  Supported here:
 * KVM's vmcs12, the layout a KVM host keeps in its guest's memory for each
 * nested guest (revision 0x11e57ed0, field offsets fixed for migration
 * compatibility: see KVM's vmx_check_vmcs12_offsets()), and Xen's virtual
 * VMCS, the layout a Xen host keeps in an HVM guest's memory for each VMCS
 * that guest loads when the processor offers no VMCS shadowing.
 *
 * Xen's virtual VMCS is an array of 512 little-endian u64 slots, one per
 * field, the slot computed from the field's encoding (SDM appendix B):
 * slot = index[4:0] | type << 5 | width << 7, where index is encoding bits
 * 9:1, type bits 11:10 and width bits 14:13 (0 = 16-bit, 1 = 64-bit,
 * 2 = 32-bit, 3 = natural).  Slot 0 would be VPID (encoding 0): it holds
 * the revision identifier and VMX-abort indicator instead, and VPID moves to
 * slot 63 (16-bit read-only, a group with no fields).  Both halves of a
 * 64-bit field share its slot.  Xen stores 16- and 32-bit fields masked to
 * their width.  The revision identifier is the processor's own (Xen passes
 * it through), so it is no signature: the layout is recognised by its
 * structure (see xen_vvmcs_check()).  With VMCS shadowing (Haswell and
 * later) Xen sets bit 31 of the revision and lets the processor keep the
 * page in its own, undocumented format, which is not recognised.
 */
#ifndef VMET_CORE_VMX_H
#define VMET_CORE_VMX_H

#include "core/vmctl.h"

#define VMCS12_REVISION		0x11e57ed0u
#define VMCS12_LAUNCH_STATE	8	/* u32 */
#define VMCS12_EPT_POINTER	120	/* u64 */
#define VMCS12_GUEST_EFER	200	/* u64 */
#define VMCS12_GUEST_CR0	424	/* natural width */
#define VMCS12_GUEST_CR3	432
#define VMCS12_GUEST_CR4	440
#define VMCS12_GUEST_RIP	544
#define VMCS12_CPU_BASED_CTL	748	/* u32; bit 31 = activate secondary controls */
#define VMCS12_SECONDARY_CTL	804	/* u32; bit 1 = enable EPT */
#define VMCS12_VPID		960	/* u16 */


/* VMCS field encodings (Intel SDM vol. 3, appendix B) used below. */
#define VMCS_ENC_VPID		0x0000
#define VMCS_ENC_EPT_POINTER	0x201a
#define VMCS_ENC_LINK_POINTER	0x2800
#define VMCS_ENC_GUEST_EFER	0x2806
#define VMCS_ENC_PIN_CTL	0x4000
#define VMCS_ENC_CPU_CTL	0x4002
#define VMCS_ENC_EXIT_CTL	0x400c
#define VMCS_ENC_ENTRY_CTL	0x4012
#define VMCS_ENC_SECONDARY_CTL	0x401e
#define VMCS_ENC_GUEST_CR0	0x6800
#define VMCS_ENC_GUEST_CR3	0x6802
#define VMCS_ENC_GUEST_CR4	0x6804
#define VMCS_ENC_GUEST_RIP	0x681e
#define VMCS_ENC_HOST_CR0	0x6c00
#define VMCS_ENC_HOST_CR3	0x6c02
#define VMCS_ENC_HOST_CR4	0x6c04

/* The u64 slot (0..511) of a field encoding in Xen's virtual VMCS. */
unsigned xen_vvmcs_slot(uint32_t encoding);

#endif
