/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel VMX control structures in guest-hypervisor memory.
 *
 * A VMCS's field layout is not architectural: only its first 8 bytes are
 * (revision identifier, abort indicator).  What sits in a guest
 * hypervisor's memory depends on who emulates VMX for it.  Supported here:
 * KVM's vmcs12, the layout a KVM host keeps in its guest's memory for each
 * nested guest (revision 0x11e57ed0, field offsets fixed for migration
 * compatibility: see KVM's vmx_check_vmcs12_offsets()).
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

#endif
