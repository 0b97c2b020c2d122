// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/unit/helper_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct mem_priv {
	uint8_t *buf;
	uint64_t size;
	uint64_t reads;
};

static int mem_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		    struct vmet_err *err)
{
	struct mem_priv *mp = src->priv;

	if (addr + len > mp->size)
		return vmet_errf(err, VMET_EIO, "mem: out of range");
	mp->reads++;
	memcpy(buf, mp->buf + addr, len);
	return 0;
}

static void mem_close(struct phys_source *src)
{
	struct mem_priv *mp = src->priv;

	free(mp->buf);
	free(mp);
}

static const struct phys_source_ops mem_ops = { .read = mem_read, .close = mem_close };

struct phys_source *mem_source_new_holed(uint64_t size, uint64_t hs, uint64_t he)
{
	struct phys_source *src = phys_source_new(&mem_ops, "test-memory");
	struct mem_priv *mp = calloc(1, sizeof(*mp));
	struct phys_range *r = calloc(2, sizeof(*r));
	size_t n = 0;

	assert(src && mp && r);
	mp->buf = calloc(1, size);
	assert(mp->buf);
	mp->size = size;
	src->priv = mp;
	if (hs < he) {
		if (hs > 0)
			r[n++] = (struct phys_range){ 0, hs };
		if (he < size)
			r[n++] = (struct phys_range){ he, size };
	} else {
		r[n++] = (struct phys_range){ 0, size };
	}
	assert(phys_set_ranges(src, r, n, NULL) == 0);
	return src;
}

struct phys_source *mem_source_new(uint64_t size)
{
	return mem_source_new_holed(size, 0, 0);
}

uint8_t *mem_bytes(struct phys_source *src) { return ((struct mem_priv *)src->priv)->buf; }
uint64_t mem_reads(struct phys_source *src) { return ((struct mem_priv *)src->priv)->reads; }

void mem_write(struct phys_source *src, uint64_t addr, const void *buf, size_t len)
{
	struct mem_priv *mp = src->priv;

	assert(addr + len <= mp->size);
	memcpy(mp->buf + addr, buf, len);
}

void mem_w64(struct phys_source *src, uint64_t addr, uint64_t val) { mem_write(src, addr, &val, 8); }
void mem_w32(struct phys_source *src, uint64_t addr, uint32_t val) { mem_write(src, addr, &val, 4); }

uint64_t pa_page(struct page_alloc *pa)
{
	uint64_t p = pa->next;

	assert(p + 4096 <= pa->end);
	pa->next += 4096;
	memset(mem_bytes(pa->src) + p, 0, 4096);
	return p;
}

/* Where the bytes of a table (by its address as the walker sees it) live. */
static uint64_t tbl_off(tbl_xlate_fn xl, void *ctx, uint64_t a)
{
	return xl ? xl(ctx, a) : a;
}

static uint64_t rd64(struct phys_source *src, uint64_t off)
{
	uint64_t v;

	memcpy(&v, mem_bytes(src) + off, 8);
	return v;
}

void map_lm(struct phys_source *src, struct page_alloc *alloc, uint64_t root,
	    int levels, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
	    uint64_t leaf_extra, tbl_xlate_fn xl, void *ctx)
{
	int leaf_level = size == (1ull << 30) ? 3 : size == (2ull << 20) ? 2 : 1;
	uint64_t table = root;

	for (int level = levels; level > leaf_level; level--) {
		unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
		uint64_t eoff = tbl_off(xl, ctx, table) + idx * 8;
		uint64_t e = rd64(src, eoff);

		if (!(e & 1)) {
			uint64_t t = pa_page(alloc);
			e = t | flags | 1;
			mem_w64(src, eoff, e);
		}
		table = e & 0x000ffffffffff000ull;
	}
	{
		unsigned idx = (va >> (12 + 9 * (leaf_level - 1))) & 511;
		uint64_t e = pa | flags | leaf_extra | 1 | (leaf_level > 1 ? 0x80 : 0);

		mem_w64(src, tbl_off(xl, ctx, table) + idx * 8, e);
	}
}

void map_ept(struct phys_source *src, struct page_alloc *alloc, uint64_t root,
	     int levels, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms)
{
	int leaf_level = size == (1ull << 30) ? 3 : size == (2ull << 20) ? 2 : 1;
	uint64_t table = root;

	for (int level = levels; level > leaf_level; level--) {
		unsigned idx = (gpa >> (12 + 9 * (level - 1))) & 511;
		uint64_t eoff = table + idx * 8;
		uint64_t e = rd64(src, eoff);

		if (!(e & 7)) {
			e = pa_page(alloc) | 7;
			mem_w64(src, eoff, e);
		}
		table = e & 0x000ffffffffff000ull;
	}
	{
		unsigned idx = (gpa >> (12 + 9 * (leaf_level - 1))) & 511;
		uint64_t e = hpa | perms | (6ull << 3) | (leaf_level > 1 ? 0x80 : 0);

		mem_w64(src, table + idx * 8, e);
	}
}
