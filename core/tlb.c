// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/tlb.h"

#include <stdlib.h>
#include <string.h>

void tlb_set_bits(struct tlb *t, unsigned bits)
{
	tlb_free(t);
	t->bits = (uint8_t)(bits ? bits : TLB_DEFAULT_BITS);
}

void tlb_insert(struct tlb *t, uint64_t addr, uint64_t out_page,
		uint64_t page_size, unsigned flags)
{
	uint64_t pn = addr >> 12, s;
	struct tlb_entry *set, *ent;

	if (!t->e) {
		if (!t->bits)
			t->bits = TLB_DEFAULT_BITS;
		t->e = calloc(2ull << t->bits, sizeof(*t->e));
		t->lru = calloc(1ull << t->bits, 1);
		if (!t->e || !t->lru) {
			tlb_free(t);	/* caching is an optimisation: run uncached */
			return;
		}
		if (!t->gen)
			t->gen = 1;
	}
	s = tlb_set(t, pn);
	set = &t->e[s * 2];
	/* Prefer an invalid way; otherwise replace the one not used last. */
	if (set[0].gen != t->gen)
		ent = &set[0];
	else if (set[1].gen != t->gen)
		ent = &set[1];
	else
		ent = &set[t->lru[s]];
	t->lru[s] = (uint8_t)(ent == &set[0]);
	ent->tag = pn;
	ent->out_page = out_page;
	ent->page_size = page_size;
	ent->flags = flags;
	ent->gen = t->gen;
}

void tlb_flush(struct tlb *t)
{
	if (!t->e)
		return;
	if (++t->gen == 0) {
		/* wrapped after 2^32 flushes: really clear, so no stale entry revives */
		memset(t->e, 0, (2ull << t->bits) * sizeof(*t->e));
		t->gen = 1;
	}
}

void tlb_free(struct tlb *t)
{
	free(t->e);
	free(t->lru);
	t->e = NULL;
	t->lru = NULL;
}
