/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Translation cache for one address space.
 *
 * Direct-mapped over 4 KiB input page numbers: a lookup is a shift, a mask
 * and a tag compare, so a warm translation costs a few nanoseconds per
 * stage.  Large pages are cached per 4 KiB slice they are used at, which
 * keeps the structure trivial and the hit path branch-light.  Fixed size:
 * memory does not grow with the guest.
 */
#ifndef VMET_CORE_TLB_H
#define VMET_CORE_TLB_H

#include <stdbool.h>
#include <stdint.h>

#define TLB_BITS 12
#define TLB_SIZE (1u << TLB_BITS)

struct tlb_entry {
	uint64_t tag;		/* input page number + 1; 0 = empty */
	uint64_t out_page;	/* output address of the 4 KiB slice */
	uint64_t page_size;	/* size of the mapping page (reporting only) */
	unsigned flags;
};

struct tlb {
	struct tlb_entry *e;	/* TLB_SIZE entries, allocated lazily */
};

static inline const struct tlb_entry *tlb_lookup(const struct tlb *t, uint64_t addr)
{
	uint64_t pn = addr >> 12;
	const struct tlb_entry *ent;

	if (!t->e)
		return 0;
	ent = &t->e[pn & (TLB_SIZE - 1)];
	return ent->tag == pn + 1 ? ent : 0;
}

void tlb_insert(struct tlb *t, uint64_t addr, uint64_t out_page,
		uint64_t page_size, unsigned flags);
void tlb_flush(struct tlb *t);
void tlb_free(struct tlb *t);

#endif
