// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/svm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static bool reject(char *why, size_t n, const char *fmt, uint64_t v)
{
	if (why && n)
		snprintf(why, n, fmt, v);
	return false;
}

bool vmcb_check(const uint8_t page[4096], uint64_t pa, struct vmcb_info *out,
		char *why, size_t whylen)
{
	struct vmcb_info v = { .pa = pa };

	/* Cheapest, most selective checks first: this runs on every page. */
	if (!(rd32(page, VMCB_INTERCEPT_MISC2) & 1))
		return reject(why, whylen, "VMRUN not intercepted (misc2 0x%" PRIx64 ")",
			      rd32(page, VMCB_INTERCEPT_MISC2));
	v.efer = rd64(page, VMCB_EFER);
	if (!(v.efer & EFER_SVME))
		return reject(why, whylen, "EFER.SVME clear (EFER 0x%" PRIx64 ")", v.efer);
	/* EFER bits 63:16 are reserved (AMD defines up to bit 15, plus 16-21 on
	 * recent parts: accept those, reject the rest). */
	if (v.efer >> 22)
		return reject(why, whylen, "reserved EFER bits set (0x%" PRIx64 ")", v.efer);
	v.asid = rd32(page, VMCB_ASID);
	if (!v.asid)
		return reject(why, whylen, "ASID is 0 (reserved for the host)", 0);
	v.cr0 = rd64(page, VMCB_CR0);
	v.cr3 = rd64(page, VMCB_CR3);
	v.cr4 = rd64(page, VMCB_CR4);
	v.rip = rd64(page, VMCB_RIP);
	v.exitcode = rd64(page, VMCB_EXITCODE);
	/* VMRUN's consistency checks: CR0.CD=0 with NW=1 is illegal, CR0[63:32]
	 * and CR3[63:52] must be zero, CR4 reserved bits zero. */
	if (v.cr0 >> 32)
		return reject(why, whylen, "CR0 bits 63:32 set (CR0 0x%" PRIx64 ")", v.cr0);
	if ((v.cr0 & (1ull << 29)) && !(v.cr0 & (1ull << 30)))
		return reject(why, whylen, "CR0.NW set without CD (CR0 0x%" PRIx64 ")", v.cr0);
	if (v.cr3 >> 52)
		return reject(why, whylen, "CR3 bits 63:52 set (CR3 0x%" PRIx64 ")", v.cr3);
	if (v.cr4 >> 32)
		return reject(why, whylen, "CR4 bits 63:32 set (CR4 0x%" PRIx64 ")", v.cr4);
	/* Long mode active needs PAE and PG. */
	if ((v.efer & (1ull << 10)) && (!(v.cr4 & (1ull << 5)) || !(v.cr0 & (1ull << 31))))
		return reject(why, whylen, "EFER.LMA without CR4.PAE and CR0.PG (EFER 0x%" PRIx64 ")", v.efer);
	v.np = rd64(page, VMCB_NESTED_CTL) & 1;
	v.ncr3 = rd64(page, VMCB_NCR3);
	if (v.np) {
		if (v.ncr3 >> 52)
			return reject(why, whylen, "nCR3 bits 63:52 set (nCR3 0x%" PRIx64 ")", v.ncr3);
		if (!(v.ncr3 & ~0xfffull))
			return reject(why, whylen, "nested paging enabled with nCR3 0x%" PRIx64, v.ncr3);
	}
	v.mode = paging_mode_from_regs(v.cr0, v.cr4, v.efer);
	if (out)
		*out = v;
	return true;
}

int vmcb_scan(struct phys_source *src, struct vmcb_info **out, size_t *n,
	      size_t max, scan_progress_fn progress, void *ctx,
	      struct vmet_err *err)
{
	struct vmcb_info *res = NULL;
	size_t cnt = 0;
	uint64_t total = phys_total_size(src), done = 0, next_report = 0;
	uint8_t buf[4096];

	for (size_t r = 0; r < src->nranges; r++) {
		uint64_t start = (src->ranges[r].start + 4095) & ~4095ull;

		for (uint64_t pa = start; pa + 4096 <= src->ranges[r].end; pa += 4096) {
			const uint8_t *page = src->ops->map ? src->ops->map(src, pa, 4096) : NULL;
			struct vmcb_info v;

			done += 4096;
			if (progress && done >= next_report) {
				progress(ctx, done, total);
				next_report = done + (64ull << 20);
			}
			if (!page) {
				/* Peek at the intercept word before reading the page. */
				uint32_t misc2;

				if (phys_read(src, pa + VMCB_INTERCEPT_MISC2, &misc2, 4, err)) {
					free(res);
					return err ? err->code : VMET_EIO;
				}
				if (!(misc2 & 1))
					continue;
				if (phys_read(src, pa, buf, sizeof(buf), err)) {
					free(res);
					return err ? err->code : VMET_EIO;
				}
				page = buf;
			}
			if (!vmcb_check(page, pa, &v, NULL, 0))
				continue;
			if (cnt == max) {
				*out = res;
				*n = cnt;
				return vmet_errf(err, VMET_ELIMIT,
						 "more than %zu VMCB candidates: stopped at 0x%" PRIx64, max, pa);
			}
			{
				struct vmcb_info *nr = realloc(res, (cnt + 1) * sizeof(*res));

				if (!nr) {
					free(res);
					return vmet_errf(err, VMET_ENOMEM, "out of memory");
				}
				res = nr;
			}
			res[cnt++] = v;
		}
	}
	if (progress)
		progress(ctx, total, total);
	*out = res;
	*n = cnt;
	return 0;
}
