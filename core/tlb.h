/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Translation cache for one address space.
 *
 * Two-way set-associative over 4 KiB input page numbers: a lookup is a
 * hash, a mask and two tag compares, so a warm translation costs a few
 * nanoseconds per stage.  Large pages are cached per 4 KiB slice they are
 * used at, which keeps the hit path trivial.  A flush bumps a generation
 * number instead of clearing memory, so live mode can flush often.  Size is
 * fixed per space (memory does not grow with the guest): the kernel's space
 * gets a large cache, per-process spaces a small one.
 */
#ifndef VMET_CORE_TLB_H
#define VMET_CORE_TLB_H

#include <stdbool.h>
#include <stdint.h>

#define TLB_DEFAULT_BITS 12	/* 4096 sets x 2 ways, 256 KiB */
#define TLB_SMALL_BITS 6	/* 64 sets x 2 ways, 4 KiB: per-process spaces */

struct tlb_entry {
	uint64_t tag;		/* input page number */
	uint64_t out_page;	/* output address of the 4 KiB slice */
	uint64_t page_size;	/* size of the mapping page (reporting only) */
	uint32_t gen;		/* valid when equal to tlb.gen */
	uint32_t flags;
};

struct tlb {
	struct tlb_entry *e;	/* 2 << bits entries, allocated on first insert */
	uint32_t gen;		/* starts at 1: calloc'd entries (gen 0) are invalid */
	uint8_t bits;		/* 0 = TLB_DEFAULT_BITS */
	uint8_t *lru;		/* per set: which way to replace next */
};

static inline uint64_t tlb_set(const struct tlb *t, uint64_t pn)
{
	return (pn ^ (pn >> 11) ^ (pn >> 23)) & ((1ull << t->bits) - 1);
}

static inline const struct tlb_entry *tlb_lookup(const struct tlb *t, uint64_t addr)
{
	uint64_t pn = addr >> 12;
	const struct tlb_entry *set;

	if (!t->e)
		return 0;
	set = &t->e[tlb_set(t, pn) * 2];
	if (set[0].tag == pn && set[0].gen == t->gen)
		return &set[0];
	if (set[1].tag == pn && set[1].gen == t->gen)
		return &set[1];
	return 0;
}

/* Choose the cache size (log2 of the number of sets) before first use. */
void tlb_set_bits(struct tlb *t, unsigned bits);
void tlb_insert(struct tlb *t, uint64_t addr, uint64_t out_page,
		uint64_t page_size, unsigned flags);
void tlb_flush(struct tlb *t);
void tlb_free(struct tlb *t);

#endif
