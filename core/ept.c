// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Intel EPT walker (SDM vol. 3C, "EPT Translation Mechanism").
 *
 * EPT entries differ from x86 paging entries: presence is "any of R/W/X",
 * write-without-read and reserved memory types are misconfigurations (a
 * distinct VM exit on hardware, so a distinct error here), and leaf entries
 * carry the memory type in bits 5:3.
 */
#include "core/aspace.h"

#include <inttypes.h>
#include <stdlib.h>

#define EPT_R    (1ull << 0)
#define EPT_W    (1ull << 1)
#define EPT_X    (1ull << 2)
#define EPT_PS   (1ull << 7)
#define EPT_UX   (1ull << 10)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

static uint64_t bits(unsigned hi, unsigned lo)
{
	return (hi >= 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

int eptp_decode(uint64_t eptp, struct eptp_info *info, struct vmet_err *err)
{
	unsigned wl = (unsigned)((eptp >> 3) & 7) + 1;

	info->memtype = (unsigned)(eptp & 7);
	info->levels = wl;
	info->ad = (eptp >> 6) & 1;
	info->root = eptp & EPT_ADDR_MASK;
	if (info->memtype != 0 && info->memtype != 6)
		return vmet_errf(err, VMET_EINVAL,
				 "EPTP 0x%" PRIx64 ": memory type %u is invalid (only 0=UC and 6=WB)",
				 eptp, info->memtype);
	if (wl != 4 && wl != 5)
		return vmet_errf(err, VMET_EINVAL,
				 "EPTP 0x%" PRIx64 ": walk length %u is invalid (bits 5:3 must give 4 or 5 levels)",
				 eptp, wl);
	/* Bits 11:8 are reserved; bits 63:52 too. */
	if (eptp & (bits(11, 8) | bits(63, 52)))
		return vmet_errf(err, VMET_EINVAL,
				 "EPTP 0x%" PRIx64 ": reserved bits set (11:8 or 63:52)", eptp);
	return 0;
}

static int ept_fail(struct aspace *as, struct vmet_err *err, int code,
		    unsigned level, uint64_t table, unsigned idx, uint64_t e, const char *why)
{
	return vmet_errf(err, code,
			 "stage %u (EPT %s) level %u %s: table 0x%" PRIx64 " entry %u = 0x%016" PRIx64 ": %s",
			 as->stage ? as->stage : 1, as->name, level,
			 aspace_level_name(as->kind, as->mode, level), table, idx, e, why);
}

static void ept_step(struct aspace *as, struct xlate_trace *trace, unsigned level,
		     uint64_t table, unsigned idx, uint64_t e, uint64_t out, bool leaf,
		     uint64_t psize)
{
	struct xlate_step s = {
		.kind = ASPACE_EPT,
		.mode = (uint8_t)as->mode,
		.stage = (uint8_t)(as->stage ? as->stage : 1),
		.level = (uint8_t)level,
		.leaf = leaf,
		.index = (uint16_t)idx,
		.table = table,
		.entry_addr = table + idx * 8ull,
		.entry = e,
		.out = out,
		.page_size = leaf ? psize : 0,
	};

	xlate_trace_add(trace, &s);
}

static int ept_walk(struct aspace *as, uint64_t addr, struct xlate *out,
		    struct xlate_trace *trace, struct vmet_err *err)
{
	unsigned levels = as->mode == PAGING_5LEVEL ? 5 : 4;
	unsigned reach = levels == 5 ? 57 : 48;
	uint64_t table = as->root & EPT_ADDR_MASK;
	uint64_t rsvd_hi = as->phys_bits < 52 ? bits(51, as->phys_bits) : 0;
	unsigned perm = XL_R | XL_W | XL_UX, exec = 1;

	if (addr >> reach)
		return vmet_errf(err, VMET_ENONCANON,
				 "stage %u (EPT %s): guest-physical 0x%" PRIx64
				 " is beyond the %u-bit reach of the EPT",
				 as->stage, as->name, addr, reach);

	for (unsigned level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		unsigned idx = (unsigned)((addr >> shift) & 511);
		uint64_t e, next;
		bool leaf;
		int rc = aspace_fetch_entry(as, table + idx * 8ull, 8, &e, trace, err);

		if (rc)
			return vmet_err_prefix(err, rc,
					       "stage %u (EPT %s) level %u %s: reading table 0x%" PRIx64 " entry %u",
					       as->stage, as->name, level,
					       aspace_level_name(as->kind, as->mode, level), table, idx);
		if (!(e & (EPT_R | EPT_W | EPT_X))) {
			ept_step(as, trace, level, table, idx, e, 0, false, 0);
			return ept_fail(as, err, VMET_ENOTPRESENT, level, table, idx, e,
					"not present (R, W and X all clear)");
		}
		if ((e & (EPT_R | EPT_W)) == EPT_W) {
			ept_step(as, trace, level, table, idx, e, 0, false, 0);
			return ept_fail(as, err, VMET_EMISCONFIG, level, table, idx, e,
					"misconfigured: writable but not readable");
		}
		if (e & rsvd_hi) {
			ept_step(as, trace, level, table, idx, e, 0, false, 0);
			return ept_fail(as, err, VMET_EMISCONFIG, level, table, idx, e,
					"misconfigured: reserved bits set above MAXPHYADDR");
		}
		leaf = level == 1 || (e & EPT_PS);
		if (level >= 4 && (e & EPT_PS)) {
			ept_step(as, trace, level, table, idx, e, 0, false, 0);
			return ept_fail(as, err, VMET_EMISCONFIG, level, table, idx, e,
					"misconfigured: reserved bit 7 set in a PML4/PML5 entry");
		}
		if (!leaf && (e & bits(6, 3))) {
			ept_step(as, trace, level, table, idx, e, 0, false, 0);
			return ept_fail(as, err, VMET_EMISCONFIG, level, table, idx, e,
					"misconfigured: reserved bits 6:3 set in a non-leaf entry");
		}
		if (!(e & EPT_R))
			perm &= ~XL_R;
		if (!(e & EPT_W))
			perm &= ~XL_W;
		if (!(e & EPT_UX))
			perm &= ~XL_UX;
		if (!(e & EPT_X))
			exec = 0;
		if (leaf) {
			uint64_t psize = 1ull << shift;
			unsigned mt = (unsigned)((e >> 3) & 7);

			if (mt == 2 || mt == 3 || mt == 7) {
				ept_step(as, trace, level, table, idx, e, 0, false, 0);
				return ept_fail(as, err, VMET_EMISCONFIG, level, table, idx, e,
						"misconfigured: reserved memory type in a leaf entry");
			}
			if (level > 1 && (e & bits(shift - 1, 12))) {
				ept_step(as, trace, level, table, idx, e, 0, false, 0);
				return ept_fail(as, err, VMET_EMISCONFIG, level, table, idx, e,
						level == 3 ? "misconfigured: reserved bits 29:12 set in a 1 GiB page entry"
							   : "misconfigured: reserved bits 20:12 set in a 2 MiB page entry");
			}
			next = (e & EPT_ADDR_MASK & ~(psize - 1)) | (addr & (psize - 1));
			ept_step(as, trace, level, table, idx, e, next & ~(psize - 1), true, psize);
			out->in = addr;
			out->out = next;
			out->page_size = psize;
			out->flags = perm | (exec ? 0 : XL_NX);
			return 0;
		}
		next = e & EPT_ADDR_MASK;
		ept_step(as, trace, level, table, idx, e, next, false, 0);
		table = next;
	}
	return vmet_errf(err, VMET_EINVAL, "internal: EPT walk fell through");
}

static const struct aspace_ops ept_ops = { .walk = ept_walk };

struct aspace *aspace_ept_new(struct aspace *lower, uint64_t eptp,
			      struct vmet_err *err)
{
	struct eptp_info info;
	struct aspace *as;

	if (!lower) {
		vmet_errf(err, VMET_EINVAL, "no lower address space");
		return NULL;
	}
	if (eptp_decode(eptp, &info, err))
		return NULL;
	as = calloc(1, sizeof(*as));
	if (!as) {
		vmet_errf(err, VMET_ENOMEM, "out of memory");
		return NULL;
	}
	as->ops = &ept_ops;
	as->kind = ASPACE_EPT;
	as->mode = info.levels == 5 ? PAGING_5LEVEL : PAGING_4LEVEL;
	as->name = info.levels == 5 ? "5-level" : "4-level";
	as->root = eptp;
	as->lower = lower;
	as->phys = lower->phys;
	as->phys_bits = lower->phys_bits ? lower->phys_bits : 52;
	as->cache_enabled = true;
	return as;
}
