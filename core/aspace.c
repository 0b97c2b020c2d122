// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The generic half of address spaces: caching, reads that cross pages, the
 * full-stack translation and the identity (physical) space.  The walkers
 * proper live in x86_paging.c and ept.c.
 */
#include "core/aspace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* --- physical (identity) space --------------------------------------- */

static int phys_walk(struct aspace *as, uint64_t addr, struct xlate *out,
		     struct xlate_trace *trace, struct vmet_err *err)
{
	if (!phys_contains(as->phys, addr, 1))
		return vmet_errf(err, VMET_EHOLE,
				 "physical address 0x%" PRIx64 " is beyond the end of memory "
				 "(not in any range of the %s source)", addr, as->phys->format);
	out->in = addr;
	out->out = addr;
	out->page_size = 4096;
	out->flags = XL_R | XL_W;
	return 0;
}

static const struct aspace_ops phys_ops = { .walk = phys_walk };

struct aspace *aspace_phys_new(struct phys_source *src)
{
	struct aspace *as = calloc(1, sizeof(*as));

	if (!as)
		return NULL;
	as->ops = &phys_ops;
	as->kind = ASPACE_PHYS;
	as->name = "physical";
	as->phys = src;
	as->phys_bits = 52;
	return as;
}

void aspace_free(struct aspace *as)
{
	if (!as)
		return;
	if (as->ops && as->ops->destroy)
		as->ops->destroy(as);
	tlb_free(&as->tlb);
	free(as);
}

void aspace_free_stack(struct aspace *as)
{
	while (as) {
		struct aspace *lower = as->lower;

		aspace_free(as);
		as = lower;
	}
}

/* --- translation ------------------------------------------------------ */

int aspace_xlate(struct aspace *as, uint64_t addr, struct xlate *out,
		 struct vmet_err *err)
{
	const struct tlb_entry *ent;
	int rc;

	if (as->kind == ASPACE_PHYS)
		return as->ops->walk(as, addr, out, NULL, err);
	if (as->cache_enabled && (ent = tlb_lookup(&as->tlb, addr))) {
		as->stats.hits++;
		out->in = addr;
		out->out = ent->out_page | (addr & 0xfff);
		out->page_size = ent->page_size;
		out->flags = ent->flags;
		return 0;
	}
	as->stats.walks++;
	rc = as->ops->walk(as, addr, out, NULL, err);
	if (rc)
		return rc;
	if (as->cache_enabled)
		tlb_insert(&as->tlb, addr, out->out & ~0xfffull, out->page_size, out->flags);
	return 0;
}

int aspace_xlate_full(struct aspace *as, uint64_t addr, uint64_t *out_phys,
		      struct xlate_trace *trace, struct vmet_err *err)
{
	struct xlate x;

	for (struct aspace *s = as; s; s = s->lower) {
		int rc;

		if (trace && s->kind != ASPACE_PHYS) {
			s->stats.walks++;
			rc = s->ops->walk(s, addr, &x, trace, err);
		} else {
			rc = aspace_xlate(s, addr, &x, err);
		}
		if (rc)
			return rc;
		addr = x.out;
	}
	*out_phys = addr;
	return 0;
}

/* Largest chunk of [addr, addr+len) that stays inside one 4 KiB page. */
static size_t page_chunk(uint64_t addr, size_t len)
{
	size_t left = 4096 - (size_t)(addr & 0xfff);

	return len < left ? len : left;
}

int aspace_read(struct aspace *as, uint64_t addr, void *buf, size_t len,
		struct vmet_err *err)
{
	uint8_t *p = buf;

	if (as->kind == ASPACE_PHYS)
		return phys_read(as->phys, addr, buf, len, err);
	while (len) {
		size_t n = page_chunk(addr, len);
		struct xlate x;
		int rc = aspace_xlate(as, addr, &x, err);

		if (!rc)
			rc = aspace_read(as->lower, x.out, p, n, err);
		if (rc)
			return rc;
		p += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int aspace_read_u64(struct aspace *as, uint64_t addr, uint64_t *val,
		    struct vmet_err *err)
{
	uint8_t b[8];
	int rc = aspace_read(as, addr, b, 8, err);

	if (!rc)
		memcpy(val, b, 8);
	return rc;
}

int aspace_read_u32(struct aspace *as, uint64_t addr, uint32_t *val,
		    struct vmet_err *err)
{
	uint8_t b[4];
	int rc = aspace_read(as, addr, b, 4, err);

	if (!rc)
		memcpy(val, b, 4);
	return rc;
}

long aspace_read_str(struct aspace *as, uint64_t addr, char *buf, size_t max,
		     bool *truncated, struct vmet_err *err)
{
	size_t got = 0;

	if (truncated)
		*truncated = false;
	if (!max)
		return vmet_errf(err, VMET_EINVAL, "string buffer of size 0");
	/* Read page by page so a string near an unmapped page still works. */
	while (got < max - 1) {
		size_t n = page_chunk(addr + got, max - 1 - got);
		char *nul;
		int rc = aspace_read(as, addr + got, buf + got, n, err);

		if (rc) {
			buf[got] = '\0';
			return rc;
		}
		nul = memchr(buf + got, '\0', n);
		if (nul)
			return (long)(nul - buf);
		got += n;
	}
	buf[got] = '\0';
	if (truncated)
		*truncated = true;
	return (long)got;
}

void aspace_flush(struct aspace *as)
{
	for (; as; as = as->lower) {
		tlb_flush(&as->tlb);
		if (as->kind == ASPACE_PHYS && as->phys->ops->refresh)
			as->phys->ops->refresh(as->phys);
	}
}

void aspace_set_cache(struct aspace *as, bool on)
{
	for (; as; as = as->lower) {
		as->cache_enabled = on && as->kind != ASPACE_PHYS;
		if (!on)
			tlb_flush(&as->tlb);
	}
}

void aspace_set_cache_bits(struct aspace *as, unsigned bits)
{
	tlb_set_bits(&as->tlb, bits);
}

uint64_t aspace_table_reads(const struct aspace *as)
{
	uint64_t n = 0;

	for (; as; as = as->lower)
		n += as->stats.table_reads;
	return n;
}

void aspace_reset_stats(struct aspace *as)
{
	for (; as; as = as->lower)
		memset(&as->stats, 0, sizeof(as->stats));
}

void xlate_trace_add(struct xlate_trace *t, const struct xlate_step *s)
{
	if (!t)
		return;
	if (t->n >= XLATE_TRACE_MAX) {
		t->truncated = true;
		return;
	}
	t->step[t->n++] = *s;
}

int aspace_fetch_entry(struct aspace *as, uint64_t addr, unsigned size,
		       uint64_t *val, struct xlate_trace *trace,
		       struct vmet_err *err)
{
	uint8_t b[8] = { 0 };
	int rc;

	as->stats.table_reads++;
	if (trace && as->lower->kind != ASPACE_PHYS) {
		/* Show the lower stages' walk for this fetch, as hardware does it. */
		uint64_t pa;

		rc = aspace_xlate_full(as->lower, addr, &pa, trace, err);
		if (!rc)
			rc = phys_read(as->phys, pa, b, size, err);
	} else {
		rc = aspace_read(as->lower, addr, b, size, err);
	}
	if (rc)
		return rc;
	*val = 0;
	memcpy(val, b, size);
	return 0;
}
