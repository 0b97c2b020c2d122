// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where is the kernel image?  Three sources of the answer, cheapest and most
 * trustworthy first: the kernel's own VMCOREINFO (KERNELOFFSET, phys_base),
 * a vCPU's page tables (the kernel-text region maps nothing below _text, so
 * the first mapped 2 MiB slot of the 1 GiB KASLR range is _text), and a
 * physical scan for the banner.  None of them needs a profile.
 */
#include "os/linux/linux.h"
#include "formats/source.h"

#include <inttypes.h>
#include <string.h>

/* CR3 bits that are not the table address: PCID / PWT / PCD, bit 63 no-flush. */
#define CR3_ADDR_MASK 0x000ffffffffff000ull

int linux_find_text(struct aspace *as, uint64_t *text_va, uint64_t *text_pa,
		    struct vmet_err *err)
{
	for (uint64_t off = 0; off < LINUX_KASLR_RANGE; off += LINUX_KASLR_ALIGN) {
		uint64_t va = LINUX_START_KERNEL_MAP + off;
		struct xlate x;

		if (aspace_xlate(as, va, &x, NULL) == 0) {
			*text_va = va;
			*text_pa = x.out;
			return 0;
		}
	}
	return vmet_errf(err, VMET_ENOTFOUND,
			 "nothing is mapped in the kernel-text region 0x%llx-0x%llx "
			 "under root 0x%" PRIx64 ": not a Linux x86-64 kernel's page tables",
			 LINUX_START_KERNEL_MAP, LINUX_START_KERNEL_MAP + LINUX_KASLR_RANGE - 1,
			 as->root);
}

static bool from_vmcoreinfo(const struct phys_source *src, struct linux_layout *out)
{
	uint64_t l5 = 0;

	if (!src->vmcoreinfo)
		return false;
	if (vmcoreinfo_get_u64(src, "KERNELOFFSET", &out->kernel_offset, NULL) ||
	    vmcoreinfo_get_u64(src, "NUMBER(phys_base)", &out->phys_base, NULL))
		return false;
	if (vmcoreinfo_get_u64(src, "SYMBOL(init_top_pgt)", &out->vmci_root_va, NULL))
		out->vmci_root_va = 0;
	if (out->mode == PAGING_NONE &&
	    !vmcoreinfo_get_u64(src, "NUMBER(pgtable_l5_enabled)", &l5, NULL))
		out->mode = l5 ? PAGING_5LEVEL : PAGING_4LEVEL;
	out->have_offsets = true;
	out->method = LINUX_LOC_VMCOREINFO;
	return true;
}

int linux_locate(struct phys_source *src, struct aspace *lower,
		 const struct linux_locate_opts *o, struct linux_layout *out,
		 struct vmet_err *err)
{
	struct vmet_err cr3err = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	out->mode = o->mode;
	if (o->use_vmcoreinfo && from_vmcoreinfo(src, out)) {
		if (out->mode == PAGING_NONE)
			out->mode = PAGING_4LEVEL;
		return 0;
	}
	if (o->have_cr3) {
		/* Unknown paging depth: 4-level first, then LA57's 5 levels. */
		enum paging_mode modes[2] = { out->mode, PAGING_NONE };

		if (out->mode == PAGING_NONE) {
			modes[0] = PAGING_4LEVEL;
			modes[1] = PAGING_5LEVEL;
		}
		for (int i = 0; i < 2 && modes[i] != PAGING_NONE; i++) {
			struct aspace *as = aspace_x86_new(lower, modes[i], o->cr3 & CR3_ADDR_MASK,
							   0, &cr3err);

			if (!as)
				continue;
			rc = linux_find_text(as, &out->text_va, &out->text_pa, &cr3err);
			aspace_free(as);
			if (!rc) {
				out->mode = modes[i];
				out->have_text = true;
				out->cr3 = o->cr3 & CR3_ADDR_MASK;
				out->method = LINUX_LOC_CR3;
				return 0;
			}
		}
	}
	if (o->allow_scan) {
		rc = linux_banner_scan(lower, 0, 0, out->hits, LINUX_SCAN_MAX, &out->nhits, err);
		if (rc)
			return rc;
		if (out->nhits) {
			out->method = LINUX_LOC_SCAN;
			return 0;
		}
	}
	return vmet_errf(err, VMET_ENOTFOUND,
			 "no Linux kernel found: %s; %s; %s",
			 !o->use_vmcoreinfo ? "VMCOREINFO not usable at this layer" :
			 src->vmcoreinfo ? "VMCOREINFO lacks KERNELOFFSET or phys_base" :
			 "the source has no VMCOREINFO",
			 !o->have_cr3 ? "no CR3 known (give --cr3)" :
			 cr3err.msg[0] ? cr3err.msg : "CR3 walk failed",
			 o->allow_scan ? "no 'Linux version' banner in memory" : "scan not allowed");
}
