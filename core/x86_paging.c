// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * x86 paging walkers: stage 1 in every mode (32-bit, PAE, 4-level, 5-level)
 * and AMD NPT, which uses the long-mode table format over guest-physical
 * addresses (AMD APM vol. 2, "Nested Paging").  Entry formats follow the
 * Intel SDM vol. 3A ch. 4; the reserved-bit rules checked here are the ones
 * that make hardware fault, so a walk that succeeds here would succeed on
 * the CPU too.
 */
#include "core/aspace.h"

#include <inttypes.h>
#include <stdlib.h>

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_XD   (1ull << 63)

/* Bits 51:12 of a long-mode/PAE entry: the next table or page frame. */
#define LM_ADDR_MASK 0x000ffffffffff000ull

static uint64_t bits(unsigned hi, unsigned lo)
{
	return (hi >= 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

static const char *space_label(const struct aspace *as)
{
	return as->kind == ASPACE_NPT ? "NPT" : "paging";
}

/* Fail a walk with the full location of the bad entry. */
static int walk_fail(struct aspace *as, struct vmet_err *err, int code,
		     unsigned level, uint64_t table, unsigned idx, uint64_t entry,
		     const char *why)
{
	return vmet_errf(err, code,
			 "stage %u (%s %s) level %u %s: table 0x%" PRIx64 " entry %u = 0x%016" PRIx64 ": %s",
			 as->stage ? as->stage : 1, space_label(as), as->name, level,
			 aspace_level_name(as->kind, as->mode, level), table, idx, entry, why);
}

static int fetch_fail(struct aspace *as, struct vmet_err *err, int code,
		      unsigned level, uint64_t table, unsigned idx)
{
	return vmet_err_prefix(err, code,
			       "stage %u (%s %s) level %u %s: reading table 0x%" PRIx64 " entry %u",
			       as->stage ? as->stage : 1, space_label(as), as->name, level,
			       aspace_level_name(as->kind, as->mode, level), table, idx);
}

static void add_step(struct aspace *as, struct xlate_trace *trace, unsigned level,
		     uint64_t table, unsigned idx, unsigned esize, uint64_t entry,
		     uint64_t out, bool leaf, uint64_t psize)
{
	struct xlate_step s = {
		.kind = (uint8_t)as->kind,
		.mode = (uint8_t)as->mode,
		.stage = (uint8_t)(as->stage ? as->stage : 1),
		.level = (uint8_t)level,
		.leaf = leaf,
		.index = (uint16_t)idx,
		.table = table,
		.entry_addr = table + (uint64_t)idx * esize,
		.entry = entry,
		.out = out,
		.page_size = leaf ? psize : 0,
	};

	xlate_trace_add(trace, &s);
}

/*
 * Levels `top` down to 1 of 8-byte, 512-entry tables from `table`: what long
 * mode (4/5-level), NPT and PAE below its PDPTEs share.  flags_w/flags_u/nx
 * carry what the levels above allowed.
 */
static int walk_8byte_levels(struct aspace *as, uint64_t addr, uint64_t table, unsigned top,
			     unsigned flags_w, unsigned flags_u, unsigned nx, struct xlate *out,
			     struct xlate_trace *trace, struct vmet_err *err)
{
	uint64_t rsvd_hi = as->phys_bits < 52 ? bits(51, as->phys_bits) : 0;

	for (unsigned level = top; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		unsigned idx = (unsigned)((addr >> shift) & 511);
		uint64_t e, next;
		int rc = aspace_fetch_entry(as, table + idx * 8ull, 8, &e, trace, err);

		if (rc)
			return fetch_fail(as, err, rc, level, table, idx);
		if (!(e & PTE_P)) {
			add_step(as, trace, level, table, idx, 8, e, 0, false, 0);
			return walk_fail(as, err, VMET_ENOTPRESENT, level, table, idx, e,
					 "not present");
		}
		if (e & rsvd_hi) {
			add_step(as, trace, level, table, idx, 8, e, 0, false, 0);
			return walk_fail(as, err, VMET_ERESERVED, level, table, idx, e,
					 "reserved bits set above MAXPHYADDR");
		}
		if (!(e & PTE_RW))
			flags_w = 0;
		if (!(e & PTE_US))
			flags_u = 0;
		if (e & PTE_XD)
			nx = XL_NX;
		if (level >= 4 && (e & PTE_PS)) {
			add_step(as, trace, level, table, idx, 8, e, 0, false, 0);
			return walk_fail(as, err, VMET_ERESERVED, level, table, idx, e,
					 "reserved bit 7 (PS) set in a PML4/PML5 entry");
		}
		if (level == 1 || (e & PTE_PS)) {
			uint64_t psize = 1ull << shift;

			/* Large pages: bits shift-1:13 of the entry must be 0 (bit 12 is PAT). */
			if (level > 1 && (e & bits(shift - 1, 13))) {
				add_step(as, trace, level, table, idx, 8, e, 0, false, 0);
				return walk_fail(as, err, VMET_ERESERVED, level, table, idx, e,
						 level == 3 ? "reserved bits 29:13 set in a 1 GiB page entry"
							    : "reserved bits 20:13 set in a 2 MiB page entry");
			}
			next = (e & LM_ADDR_MASK & ~(psize - 1)) | (addr & (psize - 1));
			add_step(as, trace, level, table, idx, 8, e, next & ~(psize - 1), true, psize);
			out->in = addr;
			out->out = next;
			out->page_size = psize;
			out->flags = flags_w | flags_u | nx | XL_R | ((e & PTE_G) ? XL_G : 0);
			return 0;
		}
		next = e & LM_ADDR_MASK;
		add_step(as, trace, level, table, idx, 8, e, next, false, 0);
		table = next;
	}
	return vmet_errf(err, VMET_EINVAL, "internal: walk fell through");
}

/* Long mode (4/5-level) and NPT. */
static int lm_walk(struct aspace *as, uint64_t addr, struct xlate *out,
		   struct xlate_trace *trace, struct vmet_err *err)
{
	unsigned levels = as->mode == PAGING_5LEVEL ? 5 : 4;
	unsigned vbits = levels == 5 ? 57 : 48;
	uint64_t table;

	/* Canonical: bits 63:vbits-1 all equal.  NPT input is guest-physical and
	 * must simply fit the table's reach. */
	if (as->kind == ASPACE_NPT) {
		if (addr >> vbits)
			return vmet_errf(err, VMET_ENONCANON,
					 "stage %u (NPT %s): guest-physical 0x%" PRIx64
					 " is beyond the %u-bit reach of the nested tables",
					 as->stage, as->name, addr, vbits);
	} else {
		uint64_t top = addr >> (vbits - 1);

		if (top != 0 && top != (~0ull >> (vbits - 1)))
			return vmet_errf(err, VMET_ENONCANON,
					 "stage %u (paging %s): 0x%" PRIx64 " is not a canonical %u-bit address",
					 as->stage ? as->stage : 1, as->name, addr, vbits);
	}
	table = as->root & LM_ADDR_MASK;
	if ((as->flags & X86_PTI_KERNEL_ROOT) && (addr >> 63))
		table &= ~0x1000ull;
	return walk_8byte_levels(as, addr, table, levels, XL_W, XL_U, 0, out, trace, err);
}

/* PAE: 4 PDPTEs at CR3[31:5], then 512-entry PD and PT of 8-byte entries. */
static int pae_walk(struct aspace *as, uint64_t addr, struct xlate *out,
		    struct xlate_trace *trace, struct vmet_err *err)
{
	uint64_t table = as->root & 0xffffffe0ull, e, next;
	uint64_t rsvd_hi = as->phys_bits < 52 ? bits(51, as->phys_bits) : 0;
	unsigned idx;
	int rc;

	if (addr >> 32)
		return vmet_errf(err, VMET_ENONCANON,
				 "stage %u (paging PAE): 0x%" PRIx64 " is beyond the 32-bit address space",
				 as->stage ? as->stage : 1, addr);
	idx = (unsigned)(addr >> 30);
	rc = aspace_fetch_entry(as, table + idx * 8ull, 8, &e, trace, err);
	if (rc)
		return fetch_fail(as, err, rc, 3, table, idx);
	if (!(e & PTE_P)) {
		add_step(as, trace, 3, table, idx, 8, e, 0, false, 0);
		return walk_fail(as, err, VMET_ENOTPRESENT, 3, table, idx, e, "not present");
	}
	/* PDPTE: bits 2:1, 8:5 and 63:MAXPHYADDR are reserved (no R/W, U/S or
	 * XD here: the levels below decide). */
	if (e & (0x6ull | 0x1e0ull | rsvd_hi | PTE_XD)) {
		add_step(as, trace, 3, table, idx, 8, e, 0, false, 0);
		return walk_fail(as, err, VMET_ERESERVED, 3, table, idx, e,
				 "reserved bits set in a PAE PDPTE");
	}
	next = e & LM_ADDR_MASK;
	add_step(as, trace, 3, table, idx, 8, e, next, false, 0);
	return walk_8byte_levels(as, addr, next, 2, XL_W, XL_U, 0, out, trace, err);
}

/* 32-bit paging with PSE: 1024-entry PD and PT of 4-byte entries. */
static int p32_walk(struct aspace *as, uint64_t addr, struct xlate *out,
		    struct xlate_trace *trace, struct vmet_err *err)
{
	uint64_t table = as->root & 0xfffff000ull, e, next;
	unsigned idx, flags_w = XL_W, flags_u = XL_U;
	int rc;

	if (addr >> 32)
		return vmet_errf(err, VMET_ENONCANON,
				 "stage %u (paging 32-bit): 0x%" PRIx64 " is beyond the 32-bit address space",
				 as->stage ? as->stage : 1, addr);
	idx = (unsigned)(addr >> 22);
	rc = aspace_fetch_entry(as, table + idx * 4ull, 4, &e, trace, err);
	if (rc)
		return fetch_fail(as, err, rc, 2, table, idx);
	if (!(e & PTE_P)) {
		add_step(as, trace, 2, table, idx, 4, e, 0, false, 0);
		return walk_fail(as, err, VMET_ENOTPRESENT, 2, table, idx, e, "not present");
	}
	if (!(e & PTE_RW))
		flags_w = 0;
	if (!(e & PTE_US))
		flags_u = 0;
	if (e & PTE_PS) {
		/* 4 MiB page; bits 20:13 carry physical bits 39:32 (PSE-36), bit 21 reserved. */
		if (e & (1ull << 21)) {
			add_step(as, trace, 2, table, idx, 4, e, 0, false, 0);
			return walk_fail(as, err, VMET_ERESERVED, 2, table, idx, e,
					 "reserved bit 21 set in a 4 MiB page entry");
		}
		next = (e & 0xffc00000ull) | (((e >> 13) & 0xffull) << 32);
		add_step(as, trace, 2, table, idx, 4, e, next, true, 4ull << 20);
		out->in = addr;
		out->out = next | (addr & 0x3fffff);
		out->page_size = 4ull << 20;
		out->flags = flags_w | flags_u | XL_R | ((e & PTE_G) ? XL_G : 0);
		return 0;
	}
	next = e & 0xfffff000ull;
	add_step(as, trace, 2, table, idx, 4, e, next, false, 0);
	table = next;
	idx = (unsigned)((addr >> 12) & 1023);
	rc = aspace_fetch_entry(as, table + idx * 4ull, 4, &e, trace, err);
	if (rc)
		return fetch_fail(as, err, rc, 1, table, idx);
	if (!(e & PTE_P)) {
		add_step(as, trace, 1, table, idx, 4, e, 0, false, 0);
		return walk_fail(as, err, VMET_ENOTPRESENT, 1, table, idx, e, "not present");
	}
	if (!(e & PTE_RW))
		flags_w = 0;
	if (!(e & PTE_US))
		flags_u = 0;
	next = e & 0xfffff000ull;
	add_step(as, trace, 1, table, idx, 4, e, next, true, 4096);
	out->in = addr;
	out->out = next | (addr & 0xfff);
	out->page_size = 4096;
	out->flags = flags_w | flags_u | XL_R | ((e & PTE_G) ? XL_G : 0);
	return 0;
}

static int none_walk(struct aspace *as, uint64_t addr, struct xlate *out,
		     struct xlate_trace *trace, struct vmet_err *err)
{
	out->in = addr;
	out->out = addr;
	out->page_size = 4096;
	out->flags = XL_R | XL_W | XL_U;
	return 0;
}

static const struct aspace_ops lm_ops = { .walk = lm_walk };
static const struct aspace_ops pae_ops = { .walk = pae_walk };
static const struct aspace_ops p32_ops = { .walk = p32_walk };
static const struct aspace_ops none_ops = { .walk = none_walk };

static struct aspace *paging_new(struct aspace *lower, enum aspace_kind kind,
				 enum paging_mode mode, uint64_t root, unsigned flags,
				 struct vmet_err *err)
{
	struct aspace *as;

	if (!lower) {
		vmet_errf(err, VMET_EINVAL, "no lower address space");
		return NULL;
	}
	as = calloc(1, sizeof(*as));
	if (!as) {
		vmet_errf(err, VMET_ENOMEM, "out of memory");
		return NULL;
	}
	as->kind = kind;
	as->mode = mode;
	as->root = root;
	as->flags = flags;
	as->lower = lower;
	as->phys = lower->phys;
	as->phys_bits = lower->phys_bits ? lower->phys_bits : 52;
	as->cache_enabled = true;
	switch (mode) {
	case PAGING_4LEVEL:
		as->ops = &lm_ops;
		as->name = "4-level";
		break;
	case PAGING_5LEVEL:
		as->ops = &lm_ops;
		as->name = "5-level";
		break;
	case PAGING_PAE:
		as->ops = &pae_ops;
		as->name = "PAE";
		break;
	case PAGING_32:
		as->ops = &p32_ops;
		as->name = "32-bit";
		break;
	case PAGING_NONE:
		as->ops = &none_ops;
		as->name = "paging off";
		break;
	}
	return as;
}

struct aspace *aspace_x86_new(struct aspace *lower, enum paging_mode mode,
			      uint64_t cr3, unsigned flags, struct vmet_err *err)
{
	return paging_new(lower, ASPACE_X86, mode, cr3, flags, err);
}

struct aspace *aspace_npt_new(struct aspace *lower, enum paging_mode mode,
			      uint64_t ncr3, struct vmet_err *err)
{
	if (mode != PAGING_4LEVEL && mode != PAGING_5LEVEL) {
		/* Legacy-mode hosts can use PAE/32-bit nested tables; no supported
		 * guest hypervisor does on x86-64, so refuse rather than guess. */
		vmet_errf(err, VMET_EUNSUPPORTED,
			  "NPT with %s host paging is not supported (4- or 5-level only)",
			  paging_mode_name(mode));
		return NULL;
	}
	return paging_new(lower, ASPACE_NPT, mode, ncr3, 0, err);
}
