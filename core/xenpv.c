// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/xenpv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"

#define ADDR_MASK 0x000ffffffffff000ull
#define PTE_P	0x1ull
#define PTE_RW	0x2ull
#define PTE_U	0x4ull
#define PTE_PS	0x80ull		/* reserved in an L4 entry */

bool xen_pv_root_check(const uint8_t page[4096], uint64_t pa, struct vmctl *out,
		       char *why, size_t whylen)
{
	uint64_t linear = le64(page + 8 * XEN_PV_L4_LINEAR);
	uint64_t mpt = le64(page + 8 * XEN_PV_L4_RO_MPT);
	uint64_t kernel = le64(page + 8 * XEN_PV_L4_KERNEL);

	if (!xen_pv_maybe(linear, pa))
		return vmctl_reject(why, whylen, "entry 258 (0x%016" PRIx64 ") does not map the table itself",
			      linear);
	/* Xen's slots are its own: never large, and supervisor-only but for
	 * the M2P, which the guest kernel reads (and runs in ring 3). */
	for (unsigned i = XEN_PV_L4_RO_MPT; i <= XEN_PV_L4_XEN_LAST; i++) {
		uint64_t e = le64(page + 8 * i);

		if ((e & PTE_PS) || (i != XEN_PV_L4_RO_MPT && (e & PTE_U))) {
			if (why && whylen)
				snprintf(why, whylen, "entry %u (0x%016" PRIx64 ") is user or large: "
					 "not one of Xen's slots", i, e);
			return false;
		}
	}
	if (!(le64(page + 8 * XEN_PV_L4_PERDOMAIN) & PTE_P) ||
	    !(le64(page + 8 * XEN_PV_L4_XEN_IMAGE) & PTE_P))
		return vmctl_reject(why, whylen, "Xen's per-domain or image slot (260, 261) is empty "
			      "(entry 258 0x%016" PRIx64 ")", linear);
	if (!(mpt & PTE_P) || (mpt & (PTE_RW | PTE_PS)))
		return vmctl_reject(why, whylen, "entry 256 (0x%016" PRIx64 ") is not a read-only M2P map "
			      "(a user-mode root, or not Xen's)", mpt);
	if (!(kernel & PTE_P) || (kernel & PTE_PS) || !(kernel & ADDR_MASK) ||
	    (kernel & ADDR_MASK) == pa)
		return vmctl_reject(why, whylen, "entry 511 (0x%016" PRIx64 ") maps no kernel half", kernel);
	if (out) {
		memset(out, 0, sizeof(*out));
		out->kind = VMCTL_XEN_PV;
		out->pa = pa;
		out->s2_type = STAGE2_NONE;
		out->s2_root = kernel & ADDR_MASK;
		out->cr3 = pa;
		out->efer = 0x500;	/* LME | LMA: 64-bit PV runs in long mode */
		out->mode = PAGING_4LEVEL;
	}
	return true;
}

int xen_pv_m2p_entry(struct aspace *root_as, uint64_t mfn, uint64_t *entry, bool *valid,
		     struct vmet_err *err)
{
	int rc;

	/* The read-only M2P is 256 GiB: 2^35 frames' entries. */
	if (mfn >> 35)
		return vmet_errf(err, VMET_EINVAL, "machine frame 0x%" PRIx64 " has no M2P entry", mfn);
	rc = aspace_read_u64(root_as, XEN_PV_RO_MPT_VA + 8 * mfn, entry, err);
	if (rc)
		return vmet_err_prefix(err, rc, "M2P entry of machine frame 0x%" PRIx64, mfn);
	*valid = !(*entry >> 63);
	return 0;
}
