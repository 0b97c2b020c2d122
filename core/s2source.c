// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/s2source.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

#define ADDR_MASK 0x000ffffffffff000ull

struct walk {
	struct aspace *s2;
	bool ept;
	struct phys_range *r;
	size_t n, cap;
	size_t tables, unreadable;
	struct vmet_err *err;
};

static int add(struct walk *w, uint64_t start, uint64_t end)
{
	if (w->n && w->r[w->n - 1].end == start) {
		w->r[w->n - 1].end = end;
		return 0;
	}
	if (w->n == S2_MAX_RANGES)
		return vmet_errf(w->err, VMET_ELIMIT, "stage 2 at 0x%" PRIx64 " maps more than %u separate ranges",
				 w->s2->root, S2_MAX_RANGES);
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		struct phys_range *nr = realloc(w->r, nc * sizeof(*nr));

		if (!nr)
			return vmet_errf(w->err, VMET_ENOMEM, "out of memory");
		w->r = nr;
		w->cap = nc;
	}
	w->r[w->n].start = start;
	w->r[w->n].end = end;
	w->n++;
	return 0;
}

/* A leaf: gpa [in, in+size) -> lower [out, out+size); keep what is there. */
static int leaf(struct walk *w, uint64_t in, uint64_t out, uint64_t size)
{
	struct aspace *lower = w->s2->lower;
	const struct phys_source *src = lower->phys;

	if (lower->kind != ASPACE_PHYS)
		return add(w, in, in + size);
	for (size_t i = 0; i < src->nranges; i++) {
		uint64_t s = src->ranges[i].start > out ? src->ranges[i].start : out;
		uint64_t e = src->ranges[i].end < out + size ? src->ranges[i].end : out + size;
		int rc;

		/* Whole pages only: the scanner reads 4 KiB at a time. */
		s = (s + 4095) & ~4095ull;
		e &= ~4095ull;
		if (s < e && (rc = add(w, in + (s - out), in + (e - out))))
			return rc;
	}
	return 0;
}

static bool present(const struct walk *w, uint64_t e)
{
	return w->ept ? (e & 7) != 0 : (e & 1) != 0;
}

static int table(struct walk *w, uint64_t addr, unsigned level, uint64_t base)
{
	uint8_t t[4096];
	unsigned shift = 12 + 9 * (level - 1);

	if (++w->tables > S2_MAX_TABLES)
		return vmet_errf(w->err, VMET_ELIMIT, "stage 2 at 0x%" PRIx64 " has more than %u tables",
				 w->s2->root, S2_MAX_TABLES);
	if (aspace_read(w->s2->lower, addr, t, sizeof(t), NULL)) {
		w->unreadable++;
		return 0;
	}
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = le64(t + 8 * i), in = base + ((uint64_t)i << shift);
		int rc;

		if (!present(w, e))
			continue;
		if (level == 1 || ((level == 2 || level == 3) && (e & 0x80))) {
			uint64_t size = 1ull << shift;

			rc = leaf(w, in, e & ADDR_MASK & ~(size - 1), size);
		} else if (level > 3 && (e & 0x80)) {
			continue;	/* reserved: not a mapping */
		} else {
			rc = table(w, e & ADDR_MASK, level - 1, in);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int stage2_ranges(struct aspace *s2, struct phys_range **out, size_t *n,
		  size_t *unreadable, struct vmet_err *err)
{
	struct walk w = { .s2 = s2, .err = err };
	unsigned levels;
	int rc;

	*out = NULL;
	*n = 0;
	if (s2->kind == ASPACE_EPT) {
		w.ept = true;
		levels = (unsigned)((s2->root >> 3) & 7) + 1;
	} else if (s2->kind == ASPACE_NPT) {
		levels = s2->mode == PAGING_5LEVEL ? 5 : 4;
	} else {
		return vmet_errf(err, VMET_EINVAL, "%s is not a stage-2 space", s2->name);
	}
	if (levels != 4 && levels != 5)
		return vmet_errf(err, VMET_EINVAL, "stage 2 at 0x%" PRIx64 ": %u levels", s2->root, levels);
	rc = table(&w, s2->root & ADDR_MASK, levels, 0);
	if (rc) {
		free(w.r);
		return rc;
	}
	if (unreadable)
		*unreadable = w.unreadable;
	*out = w.r;
	*n = w.n;
	return 0;
}

static int as_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		   struct vmet_err *err)
{
	return aspace_read(src->priv, addr, buf, len, err);
}

static const struct phys_source_ops as_ops = {
	.read = as_read,
};

struct phys_source *aspace_source_new(struct aspace *as, const char *description,
				      struct vmet_err *err)
{
	struct phys_source *src = phys_source_new(&as_ops, "stage2");
	struct phys_range *r;
	size_t n;

	if (!src) {
		vmet_errf(err, VMET_ENOMEM, "out of memory");
		return NULL;
	}
	src->priv = as;
	src->live = as->phys && as->phys->live;
	if (description && !(src->description = strdup(description))) {
		phys_close(src);
		vmet_errf(err, VMET_ENOMEM, "out of memory");
		return NULL;
	}
	if (stage2_ranges(as, &r, &n, NULL, err)) {
		phys_close(src);
		return NULL;
	}
	{
		uint64_t total = 0, cap = 0;

		for (size_t i = 0; i < n; i++)
			total += r[i].end - r[i].start;
		/* A guest's memory comes out of the memory below it: tables that
		 * map far more (the same pages over and over) would only make the
		 * scan endless. */
		if (as->phys)
			cap = 2 * phys_total_size(as->phys) + (16ull << 20);
		if (cap && total > cap) {
			free(r);
			phys_close(src);
			vmet_errf(err, VMET_ELIMIT, "stage 2 at 0x%" PRIx64 " maps %" PRIu64 " MiB, more than twice "
				  "the memory below it: not a guest's memory map", as->root, total >> 20);
			return NULL;
		}
	}
	if (n && phys_set_ranges(src, r, n, err)) {
		phys_close(src);
		return NULL;
	}
	if (!n)
		free(r);
	return src;
}
