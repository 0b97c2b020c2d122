// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/vmctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/svm.h"
#include "core/vmx.h"
#include "core/xenpv.h"

#define SCAN_WINDOW (16ull << 20)

const char *vmctl_kind_name(enum vmctl_kind k)
{
	switch (k) {
	case VMCTL_VMCB: return "vmcb";
	case VMCTL_VMCS12: return "vmcs12";
	case VMCTL_XEN_VVMCS: return "xen-vvmcs";
	case VMCTL_XEN_PV: return "xen-pv-root";
	}
	return "?";
}

bool vmctl_reject(char *why, size_t whylen, const char *fmt, uint64_t v)
{
	if (why && whylen)
		snprintf(why, whylen, fmt, v);
	return false;
}

bool vmctl_check_kind(enum vmctl_kind kind, const uint8_t page[4096], uint64_t pa,
		      struct vmctl *out, char *why, size_t whylen)
{
	switch (kind) {
	case VMCTL_VMCB: return vmcb_check(page, pa, out, why, whylen);
	case VMCTL_VMCS12: return vmcs12_check(page, pa, out, why, whylen);
	case VMCTL_XEN_VVMCS: return xen_vvmcs_check(page, pa, out, why, whylen);
	case VMCTL_XEN_PV: return xen_pv_root_check(page, pa, out, why, whylen);
	}
	if (why && whylen)
		snprintf(why, whylen, "unknown structure kind %d", (int)kind);
	return false;
}

/* Cheap pre-filter on the first bytes, so most pages are never copied:
 * VMRUN intercepted (VMCB), vmcs12's revision, or a VMCS header (revision
 * set, shadow bit and abort indicator clear) followed by a 16-bit slot
 * (Xen's virtual VMCS). */
static bool maybe(const uint8_t *head)
{
	uint32_t misc2 = le32(head + VMCB_INTERCEPT_MISC2), rev = le32(head);

	return (misc2 & 1) || (rev & 0x7fffffffu) == VMCS12_REVISION ||
	       (rev && !(rev >> 31) && !le32(head + 4) && !(le64(head + 8) >> 16));
}

int vmctl_scan(struct phys_source *src, struct vmctl **out, size_t *n,
	       size_t max, scan_progress_fn progress, void *ctx,
	       struct vmet_err *err)
{
	struct vmctl *res = NULL;
	size_t cnt = 0, cap = 0;
	uint64_t total = phys_total_size(src), done = 0, next_report = 0;
	uint8_t buf[4096];

	for (size_t r = 0; r < src->nranges; r++) {
		uint64_t start = (src->ranges[r].start + 4095) & ~4095ull;

		for (uint64_t pa = start; pa + 4096 <= src->ranges[r].end; pa += 4096) {
			const uint8_t *page = src->ops->map ? src->ops->map(src, pa, 4096) : NULL;
			struct vmctl v;

			done += 4096;
			if (done >= next_report) {
				if (progress)
					progress(ctx, done, total);
				next_report = done + SCAN_WINDOW;
				/* Give back what the last window mapped in: the scan's
				 * memory stays bounded whatever the image's size. */
				if (pa >= SCAN_WINDOW)
					phys_release(src, pa - SCAN_WINDOW, SCAN_WINDOW);
			}
			if (!page) {
				uint8_t head[VMCB_INTERCEPT_MISC2 + 4], linear[8];

				if (phys_read(src, pa, head, sizeof(head), err) ||
				    phys_read(src, pa + 8 * XEN_PV_L4_LINEAR, linear, 8, err))
					goto fail;
				if (!maybe(head) && !xen_pv_maybe(le64(linear), pa))
					continue;
				if (phys_read(src, pa, buf, sizeof(buf), err))
					goto fail;
				page = buf;
			} else if (!maybe(page) && !xen_pv_maybe(le64(page + 8 * XEN_PV_L4_LINEAR), pa)) {
				continue;
			}
			/* Xen's layout before vmcs12: its structural checks are the
			 * stricter, and a Xen host nested in KVM hands its guests
			 * vmcs12's revision identifier. */
			if (!vmcb_check(page, pa, &v, NULL, 0) && !xen_vvmcs_check(page, pa, &v, NULL, 0) &&
			    !vmcs12_check(page, pa, &v, NULL, 0) && !xen_pv_root_check(page, pa, &v, NULL, 0))
				continue;
			if (cnt == max) {
				*out = res;
				*n = cnt;
				return vmet_errf(err, VMET_ELIMIT,
						 "more than %zu VMCB/VMCS/PV-root candidates: stopped at 0x%" PRIx64, max, pa);
			}
			/* Doubling: a memory full of candidates (one page aliased
			 * all over a guest's map) must not cost quadratic copying. */
			if (cnt == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct vmctl *nr = realloc(res, nc * sizeof(*res));

				if (!nr) {
					free(res);
					return vmet_errf(err, VMET_ENOMEM, "out of memory");
				}
				res = nr;
				cap = nc;
			}
			res[cnt++] = v;
		}
	}
	if (progress)
		progress(ctx, total, total);
	for (size_t r = 0; r < src->nranges; r++)
		phys_release(src, src->ranges[r].start, src->ranges[r].end - src->ranges[r].start);
	*out = res;
	*n = cnt;
	return 0;
fail:
	free(res);
	return err ? err->code : VMET_EIO;
}
