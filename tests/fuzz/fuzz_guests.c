// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz guest discovery: an attacker (a guest hypervisor) controls every
 * byte of its memory.  The input is that memory (at most 2 MiB, whole
 * pages): every page goes through the VMCB, vmcs12, Xen virtual VMCS and
 * Xen PV root checkers; for each guest found, its stage 2 is walked for
 * the ranges it maps, and those ranges are scanned in turn for the guest's
 * own guests (the --guest N/M path), bounded as in vmet; a PV guest's
 * tables are searched for a kernel image as vmet guests does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/buf_source.h"
#include "core/guests.h"
#include "core/s2source.h"
#include "os/linux/linux.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phys_source src = { .ops = &buf_source_ops, .format = "fuzz" };
	struct buf_src bs = { data, size & ~4095ul };
	struct phys_range r = { 0, size & ~4095ul };
	struct guest_list gl;
	struct aspace *phys;

	if (size < 4096 || size > (2u << 20))
		return 0;
	src.ranges = &r;
	src.nranges = 1;
	src.priv = &bs;
	if (guests_discover(&src, &gl, NULL, NULL, NULL))
		return 0;
	phys = aspace_phys_new(&src);
	for (size_t i = 0; phys && i < gl.n && i < 8; i++) {
		const struct guest *g = &gl.g[i];
		struct aspace *s2 = NULL;
		struct phys_source *inner;
		struct guest_list il;

		if (g->kind == VMCTL_XEN_PV) {
			struct aspace *as = aspace_x86_new(phys, PAGING_4LEVEL, g->vcpu[0].cr3, 0, NULL);
			uint64_t va, pa;

			if (as)
				linux_find_text(as, &va, &pa, NULL);
			aspace_free(as);
			continue;
		}
		if (g->s2_type == STAGE2_EPT)
			s2 = aspace_ept_new(phys, g->s2_root, NULL);
		else if (g->s2_type == STAGE2_NPT)
			s2 = aspace_npt_new(phys, g->s2_mode, g->s2_root, NULL);
		if (!s2)
			continue;
		inner = aspace_source_new(s2, "fuzz guest", NULL);
		if (inner && !guests_discover(inner, &il, NULL, NULL, NULL))
			guest_list_free(&il);
		phys_close(inner);
		aspace_free(s2);
	}
	aspace_free(phys);
	guest_list_free(&gl);
	return 0;
}
