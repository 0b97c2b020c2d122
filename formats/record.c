// SPDX-License-Identifier: GPL-2.0-or-later
/* Page sets and the recording source wrapper (see record.h). */
#include "formats/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

void page_set_init(struct page_set *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max ? max : PAGE_SET_DEFAULT_MAX;
}

void page_set_free(struct page_set *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

static size_t hash_pfn(uint64_t pfn, size_t cap)
{
	/* Fibonacci hashing: neighbouring pages spread over the table. */
	return (size_t)((pfn * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static void insert_slot(uint64_t *slot, size_t cap, uint64_t key)
{
	size_t i = hash_pfn(key - 1, cap);

	while (slot[i] && slot[i] != key)
		i = (i + 1) & (cap - 1);
	slot[i] = key;
}

bool page_set_has(const struct page_set *s, uint64_t pfn)
{
	size_t i;

	if (!s->cap)
		return false;
	i = hash_pfn(pfn, s->cap);
	/* Load stays below one half, so an empty slot is always reached. */
	while (s->slot[i]) {
		if (s->slot[i] == pfn + 1)
			return true;
		i = (i + 1) & (s->cap - 1);
	}
	return false;
}

int page_set_add(struct page_set *s, uint64_t pfn)
{
	if (pfn == UINT64_MAX)
		return VMET_EINVAL;
	if (page_set_has(s, pfn))
		return 0;
	if (s->n >= s->max) {
		s->overflow = true;
		return VMET_ELIMIT;
	}
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *ns = calloc(cap, sizeof(*ns));

		if (!ns)
			return VMET_ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				insert_slot(ns, cap, s->slot[i]);
		free(s->slot);
		s->slot = ns;
		s->cap = cap;
	}
	insert_slot(s->slot, s->cap, pfn + 1);
	s->n++;
	return 0;
}

int page_set_add_range(struct page_set *s, uint64_t addr, uint64_t len)
{
	uint64_t last;

	if (!len)
		return 0;
	last = (addr + len - 1 < addr ? UINT64_MAX : addr + len - 1) / PAGE;
	for (uint64_t p = addr / PAGE; p <= last; p++) {
		int rc = page_set_add(s, p);

		if (rc)
			return rc;
	}
	return 0;
}

bool page_set_keep(void *ctx, uint64_t page_addr)
{
	return page_set_has(ctx, page_addr / PAGE);
}

/* --- the recording source ----------------------------------------------- */

struct record_priv {
	struct phys_source *inner;
	struct page_set *set;
};

static int rec_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		    struct vmet_err *err)
{
	struct record_priv *rp = src->priv;
	int rc = rp->inner->ops->read(rp->inner, addr, buf, len, err);

	/* A failed read used nothing: keeping its pages would make the dump
	 * fail on them (a PV domain's source has frames it cannot map). */
	if (rc)
		return rc;
	rc = page_set_add_range(rp->set, addr, len);
	if (rc)
		return vmet_errf(err, rc, "recording the pages read at physical 0x%" PRIx64 ": %s"
				 " (%zu pages recorded)", addr,
				 rc == VMET_ELIMIT ? "page set full" : vmet_strerror(rc), rp->set->n);
	return 0;
}

static const void *rec_map(struct phys_source *src, uint64_t addr, size_t len)
{
	struct record_priv *rp = src->priv;
	const void *m = rp->inner->ops->map ? rp->inner->ops->map(rp->inner, addr, len) : NULL;

	if (!m || page_set_add_range(rp->set, addr, len))
		return NULL;	/* the caller falls back to read, which reports */
	return m;
}

static void rec_refresh(struct phys_source *src)
{
	struct record_priv *rp = src->priv;

	if (rp->inner->ops->refresh)
		rp->inner->ops->refresh(rp->inner);
}

static int rec_pause(struct phys_source *src, bool pause, struct vmet_err *err)
{
	struct record_priv *rp = src->priv;

	return rp->inner->ops->pause ? rp->inner->ops->pause(rp->inner, pause, err) : 0;
}

static void rec_close(struct phys_source *src)
{
	struct record_priv *rp = src->priv;

	if (!rp)
		return;
	phys_close(rp->inner);
	free(rp);
}

static const struct phys_source_ops rec_ops_base = {
	.read = rec_read,
	.map = rec_map,
	.refresh = rec_refresh,
	.pause = rec_pause,
	.close = rec_close,
};

static const struct phys_source_ops rec_ops_nopause = {
	.read = rec_read,
	.map = rec_map,
	.refresh = rec_refresh,
	.close = rec_close,
};

int record_source_new(struct phys_source *inner, struct page_set *set,
		      struct phys_source **out, struct vmet_err *err)
{
	struct phys_source *src;
	struct record_priv *rp;
	struct phys_range *r;

	/* Keep "has no pause" visible to callers that test the op. */
	src = phys_source_new(inner->ops->pause ? &rec_ops_base : &rec_ops_nopause, inner->format);
	rp = calloc(1, sizeof(*rp));
	r = calloc(inner->nranges ? inner->nranges : 1, sizeof(*r));
	if (!src || !rp || !r) {
		free(src);
		free(rp);
		free(r);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	memcpy(r, inner->ranges, inner->nranges * sizeof(*r));
	src->ranges = r;
	src->nranges = inner->nranges;
	for (size_t i = 0; i < inner->vcpus.n; i++)
		if (vcpu_set_add(&src->vcpus, &inner->vcpus.v[i]))
			goto nomem;
	if (inner->vmcoreinfo && !(src->vmcoreinfo = strdup(inner->vmcoreinfo)))
		goto nomem;
	if (inner->description && asprintf(&src->description, "%s, recorded", inner->description) < 0) {
		src->description = NULL;
		goto nomem;
	}
	src->live = inner->live;
	rp->inner = inner;
	rp->set = set;
	src->priv = rp;
	*out = src;
	return 0;
nomem:
	free(rp);
	src->priv = NULL;
	phys_close(src);
	return vmet_errf(err, VMET_ENOMEM, "out of memory");
}
