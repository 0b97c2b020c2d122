// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/tlb.h"

#include <stdlib.h>
#include <string.h>

void tlb_insert(struct tlb *t, uint64_t addr, uint64_t out_page,
		uint64_t page_size, unsigned flags)
{
	uint64_t pn = addr >> 12;
	struct tlb_entry *ent;

	if (!t->e) {
		t->e = calloc(TLB_SIZE, sizeof(*t->e));
		if (!t->e)
			return; /* caching is an optimisation: run uncached */
	}
	ent = &t->e[pn & (TLB_SIZE - 1)];
	ent->tag = pn + 1;
	ent->out_page = out_page;
	ent->page_size = page_size;
	ent->flags = flags;
}

void tlb_flush(struct tlb *t)
{
	if (t->e)
		memset(t->e, 0, TLB_SIZE * sizeof(*t->e));
}

void tlb_free(struct tlb *t)
{
	free(t->e);
	t->e = NULL;
}
