// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading vmet snapshots.  Every count and offset in the file is checked
 * against the file's size and against the other sections before use; page
 * lookups are a binary search over the extents, and decompressed chunks are
 * kept in a small LRU cache so that neighbouring reads cost a memcpy.
 */
#include "core/bytes.h"
#include "formats/source.h"
#include "formats/vmsnap.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

_Static_assert(VCPU_ORIGIN_XEN_PV_ROOT == 8 && PAGING_5LEVEL == 4 && STAGE2_NPT == 2,
	       "vmet-snapshot(5) fixes these numbers: keep the enums in step");

#define CACHE_SLOTS 8

struct extent {
	uint64_t first_pfn, npages, first_ord;
};

struct chunk {
	uint64_t offset;
	uint32_t csize;
	uint16_t enc;
};

struct cache_slot {
	uint64_t chunk;		/* UINT64_MAX = empty */
	uint64_t used;		/* LRU clock */
	uint8_t *buf;
};

struct vmsnap_priv {
	struct mapped_file mf;
	struct vmsnap_info info;
	struct extent *ext;
	struct chunk *chunks;
	uint64_t pagedata_off, pagedata_size;
	struct { uint64_t off, size; bool present; } sec[8];
	char *meta;
	struct cache_slot cache[CACHE_SLOTS];
	uint64_t clock;
};

static const uint8_t zero_page[VMSNAP_PAGE];

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static const char *sec_name(unsigned t)
{
	static const char *const n[] = { "?", "META", "RANGES", "EXTENTS", "CHUNKS", "VCPUS",
					 "VMCOREINFO", "PAGEDATA" };
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

static uint64_t chunk_pages(const struct vmsnap_priv *vp, uint64_t c)
{
	uint64_t first = c * vp->info.pages_per_chunk, left = vp->info.stored_pages - first;

	return left < vp->info.pages_per_chunk ? left : vp->info.pages_per_chunk;
}

/* Decompress chunk c into buf (chunk_pages * 4096 bytes). */
static int chunk_inflate(const struct vmsnap_priv *vp, uint64_t c, uint8_t *buf,
			 struct vmet_err *err)
{
	const struct chunk *ch = &vp->chunks[c];
	uLongf want = (uLongf)(chunk_pages(vp, c) * VMSNAP_PAGE), got = want;
	int zrc;

	if (ch->enc == VMSNAP_ENC_STORED) {
		memcpy(buf, vp->mf.map + ch->offset, want);
		return 0;
	}
	zrc = uncompress(buf, &got, vp->mf.map + ch->offset, ch->csize);
	if (zrc != Z_OK || got != want)
		return vmet_errf(err, VMET_EFORMAT, "%s: chunk %" PRIu64 " at file offset 0x%" PRIx64
				 " (%" PRIu32 " bytes) is corrupt: %s", vp->mf.path, c, ch->offset,
				 ch->csize, zrc != Z_OK ? zError(zrc) : "wrong decompressed size");
	return 0;
}

static const uint8_t *chunk_get(struct vmsnap_priv *vp, uint64_t c, struct vmet_err *err)
{
	struct cache_slot *victim = &vp->cache[0];

	if (vp->chunks[c].enc == VMSNAP_ENC_STORED)
		return vp->mf.map + vp->chunks[c].offset;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *s = &vp->cache[i];

		if (s->chunk == c) {
			s->used = ++vp->clock;
			return s->buf;
		}
		if (s->used < victim->used)
			victim = s;
	}
	if (!victim->buf) {
		victim->buf = malloc((size_t)vp->info.pages_per_chunk * VMSNAP_PAGE);
		if (!victim->buf) {
			vmet_errf(err, VMET_ENOMEM, "out of memory for the chunk cache");
			return NULL;
		}
	}
	victim->chunk = UINT64_MAX;
	if (chunk_inflate(vp, c, victim->buf, err))
		return NULL;
	victim->chunk = c;
	victim->used = ++vp->clock;
	return victim->buf;
}

/* Extent holding pfn, or NULL (a zero page). */
static const struct extent *find_extent(const struct vmsnap_priv *vp, uint64_t pfn)
{
	size_t lo = 0, hi = vp->info.nextents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct extent *e = &vp->ext[mid];

		if (pfn < e->first_pfn)
			hi = mid;
		else if (pfn - e->first_pfn >= e->npages)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

/* Pointer to the 4 KiB page at pfn (zero_page when not stored). */
static const uint8_t *page_ptr(struct vmsnap_priv *vp, uint64_t pfn, struct vmet_err *err)
{
	const struct extent *e = find_extent(vp, pfn);
	uint64_t ord, c;
	const uint8_t *base;

	if (!e)
		return zero_page;
	ord = e->first_ord + (pfn - e->first_pfn);
	c = ord / vp->info.pages_per_chunk;
	base = chunk_get(vp, c, err);
	return base ? base + (ord % vp->info.pages_per_chunk) * VMSNAP_PAGE : NULL;
}

static int vmsnap_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		       struct vmet_err *err)
{
	struct vmsnap_priv *vp = src->priv;
	uint8_t *out = buf;

	while (len) {
		uint64_t in_page = addr & (VMSNAP_PAGE - 1);
		size_t n = VMSNAP_PAGE - in_page < len ? (size_t)(VMSNAP_PAGE - in_page) : len;
		const uint8_t *p = page_ptr(vp, addr / VMSNAP_PAGE, err);

		if (!p)
			return vmet_err_prefix(err, VMET_EFORMAT, "reading physical 0x%" PRIx64, addr);
		memcpy(out, p + in_page, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static const void *vmsnap_map(struct phys_source *src, uint64_t addr, size_t len)
{
	struct vmsnap_priv *vp = src->priv;
	uint64_t in_page = addr & (VMSNAP_PAGE - 1);
	const struct extent *e;
	uint64_t ord;
	const struct chunk *ch;

	/* Only bytes that stay put until close: stored chunks and zero pages
	 * (cache slots get reused). */
	if (len > VMSNAP_PAGE - in_page)
		return NULL;
	e = find_extent(vp, addr / VMSNAP_PAGE);
	if (!e)
		return zero_page + in_page;
	ord = e->first_ord + (addr / VMSNAP_PAGE - e->first_pfn);
	ch = &vp->chunks[ord / vp->info.pages_per_chunk];
	if (ch->enc != VMSNAP_ENC_STORED)
		return NULL;
	return vp->mf.map + ch->offset + (ord % vp->info.pages_per_chunk) * VMSNAP_PAGE + in_page;
}

static void vmsnap_close(struct phys_source *src)
{
	struct vmsnap_priv *vp = src->priv;

	if (!vp)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++)
		free(vp->cache[i].buf);
	free(vp->ext);
	free(vp->chunks);
	free(vp->meta);
	mapped_file_close(&vp->mf);
	free(vp);
}

static const struct phys_source_ops vmsnap_ops = {
	.read = vmsnap_read,
	.map = vmsnap_map,
	.close = vmsnap_close,
};

/* --- opening: validate everything ------------------------------------- */

#define FAIL(code, ...) do { rc = vmet_errf(err, code, __VA_ARGS__); goto fail; } while (0)

static int load_dir(struct vmsnap_priv *vp, uint64_t dir_off, uint32_t dir_count,
		    struct vmet_err *err)
{
	const char *path = vp->mf.path;
	uint64_t size = vp->mf.size;
	struct { uint64_t off, end; unsigned type; } spans[VMSNAP_MAX_SECTIONS];
	size_t ns = 0;
	int rc = 0;

	if (dir_count == 0 || dir_count > VMSNAP_MAX_SECTIONS)
		FAIL(VMET_EFORMAT, "%s: header field dir_count (offset 32) is %" PRIu32
		     ", not between 1 and %u", path, dir_count, VMSNAP_MAX_SECTIONS);
	if (dir_off < VMSNAP_HEADER_SIZE || dir_off > size ||
	    (uint64_t)dir_count * VMSNAP_DIRENT_SIZE > size - dir_off)
		FAIL(VMET_EFORMAT, "%s: directory of %" PRIu32 " entries at dir_offset 0x%" PRIx64
		     " (header offset 24) lies outside the file (0x%" PRIx64 " bytes)",
		     path, dir_count, dir_off, size);
	for (uint32_t i = 0; i < dir_count; i++) {
		const uint8_t *d = vp->mf.map + dir_off + (uint64_t)i * VMSNAP_DIRENT_SIZE;
		uint64_t doff = dir_off + (uint64_t)i * VMSNAP_DIRENT_SIZE;
		uint32_t type = le32(d);
		uint64_t off = le64(d + 8), len = le64(d + 16);

		if (off < VMSNAP_HEADER_SIZE || off > size || len > size - off)
			FAIL(VMET_EFORMAT, "%s: directory entry %" PRIu32 " (file offset 0x%" PRIx64
			     ", section %s) places [0x%" PRIx64 ", +0x%" PRIx64 ") outside the file"
			     " (0x%" PRIx64 " bytes)", path, i, doff, sec_name(type), off, len, size);
		if (type >= 1 && type <= VMSNAP_SEC_PAGEDATA) {
			if (vp->sec[type].present)
				FAIL(VMET_EFORMAT, "%s: directory entry %" PRIu32 " (file offset 0x%" PRIx64
				     "): second %s section", path, i, doff, sec_name(type));
			vp->sec[type].present = true;
			vp->sec[type].off = off;
			vp->sec[type].size = len;
		}
		/* Unknown types are later additions: skipped, but they must not
		 * overlap anything either. */
		for (size_t k = 0; k < ns; k++)
			if (len && off < spans[k].end && spans[k].off < off + len)
				FAIL(VMET_EFORMAT, "%s: section %s at [0x%" PRIx64 ", 0x%" PRIx64
				     ") overlaps section %s at [0x%" PRIx64 ", 0x%" PRIx64 ")",
				     path, sec_name(type), off, off + len, sec_name(spans[k].type),
				     spans[k].off, spans[k].end);
		if (off < dir_off + (uint64_t)dir_count * VMSNAP_DIRENT_SIZE && dir_off < off + len)
			FAIL(VMET_EFORMAT, "%s: section %s at [0x%" PRIx64 ", 0x%" PRIx64
			     ") overlaps the directory", path, sec_name(type), off, off + len);
		spans[ns].off = off;
		spans[ns].end = off + len;
		spans[ns].type = type;
		ns++;
	}
	for (unsigned t = VMSNAP_SEC_RANGES; t <= VMSNAP_SEC_PAGEDATA; t++)
		if (t != VMSNAP_SEC_VCPUS && t != VMSNAP_SEC_VMCOREINFO && !vp->sec[t].present)
			FAIL(VMET_EFORMAT, "%s: no %s section in the directory", path, sec_name(t));
fail:
	return rc;
}

static int load_ranges(struct phys_source *src, struct vmsnap_priv *vp, struct vmet_err *err)
{
	const uint8_t *p = vp->mf.map + vp->sec[VMSNAP_SEC_RANGES].off;
	uint64_t len = vp->sec[VMSNAP_SEC_RANGES].size, n = len / VMSNAP_RANGE_SIZE;
	struct phys_range *r;

	if (!n || len % VMSNAP_RANGE_SIZE)
		return vmet_errf(err, VMET_EFORMAT, "%s: RANGES section at 0x%" PRIx64 " is %" PRIu64
				 " bytes, not a non-zero multiple of %u", vp->mf.path,
				 vp->sec[VMSNAP_SEC_RANGES].off, len, VMSNAP_RANGE_SIZE);
	r = calloc(n, sizeof(*r));
	if (!r)
		return vmet_errf(err, VMET_ENOMEM, "out of memory for %" PRIu64 " ranges", n);
	/* The format stores them sorted; checked here so that the message can
	 * name the entry's offset. */
	for (uint64_t i = 0; i < n; i++) {
		r[i].start = le64(p + i * VMSNAP_RANGE_SIZE);
		r[i].end = le64(p + i * VMSNAP_RANGE_SIZE + 8);
		if (r[i].end <= r[i].start || (i && r[i].start < r[i - 1].end)) {
			uint64_t s = r[i].start, e = r[i].end;

			free(r);
			return vmet_errf(err, VMET_EFORMAT, "%s: RANGES entry %" PRIu64 " at file offset 0x%"
					 PRIx64 " [0x%" PRIx64 ", 0x%" PRIx64 ") is empty, or overlaps "
					 "or precedes the one before", vp->mf.path, i,
					 vp->sec[VMSNAP_SEC_RANGES].off + i * VMSNAP_RANGE_SIZE, s, e);
		}
	}
	if (phys_set_ranges(src, r, n, err))
		return vmet_err_prefix(err, VMET_EFORMAT, "%s: RANGES section at 0x%" PRIx64,
				       vp->mf.path, vp->sec[VMSNAP_SEC_RANGES].off);
	return 0;
}

static int load_chunks(struct phys_source *src, struct vmsnap_priv *vp, struct vmet_err *err)
{
	const char *path = vp->mf.path;
	uint64_t off = vp->sec[VMSNAP_SEC_CHUNKS].off, len = vp->sec[VMSNAP_SEC_CHUNKS].size;
	const uint8_t *p = vp->mf.map + off;
	uint64_t pd = vp->sec[VMSNAP_SEC_PAGEDATA].off, pdend = pd + vp->sec[VMSNAP_SEC_PAGEDATA].size;
	uint64_t n, span_pages = 0;
	uint32_t page_size, ppc;
	int rc = 0;

	if (len < VMSNAP_CHUNKHDR_SIZE || (len - VMSNAP_CHUNKHDR_SIZE) % VMSNAP_CHUNK_SIZE)
		return vmet_errf(err, VMET_EFORMAT, "%s: CHUNKS section at 0x%" PRIx64 " is %" PRIu64
				 " bytes, not %u + a multiple of %u", path, off, len,
				 VMSNAP_CHUNKHDR_SIZE, VMSNAP_CHUNK_SIZE);
	page_size = le32(p);
	ppc = le32(p + 4);
	vp->info.stored_pages = le64(p + 8);
	n = (len - VMSNAP_CHUNKHDR_SIZE) / VMSNAP_CHUNK_SIZE;
	if (page_size != VMSNAP_PAGE)
		return vmet_errf(err, VMET_EFORMAT, "%s: CHUNKS at 0x%" PRIx64 ": page size %" PRIu32
				 " (only 4096 is defined)", path, off, page_size);
	if (!ppc || ppc > VMSNAP_MAX_PPC)
		return vmet_errf(err, VMET_EFORMAT, "%s: CHUNKS at 0x%" PRIx64 ": pages_per_chunk %"
				 PRIu32 " is not between 1 and %u", path, off, ppc, VMSNAP_MAX_PPC);
	for (size_t i = 0; i < src->nranges; i++)
		span_pages += (src->ranges[i].end - 1) / VMSNAP_PAGE - src->ranges[i].start / VMSNAP_PAGE + 1;
	if (vp->info.stored_pages > span_pages)
		return vmet_errf(err, VMET_EFORMAT, "%s: CHUNKS at 0x%" PRIx64 ": %" PRIu64
				 " stored pages, more than the memory map's %" PRIu64 " pages",
				 path, off, vp->info.stored_pages, span_pages);
	vp->info.pages_per_chunk = ppc;
	if (n != (vp->info.stored_pages + ppc - 1) / ppc)
		return vmet_errf(err, VMET_EFORMAT, "%s: CHUNKS at 0x%" PRIx64 ": %" PRIu64
				 " chunk entries for %" PRIu64 " pages of %" PRIu32 " per chunk",
				 path, off, n, vp->info.stored_pages, ppc);
	vp->info.nchunks = n;
	vp->chunks = calloc(n ? n : 1, sizeof(*vp->chunks));
	if (!vp->chunks)
		return vmet_errf(err, VMET_ENOMEM, "out of memory for %" PRIu64 " chunks", n);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *e = p + VMSNAP_CHUNKHDR_SIZE + i * VMSNAP_CHUNK_SIZE;
		struct chunk *c = &vp->chunks[i];
		uint64_t raw = chunk_pages(vp, i) * VMSNAP_PAGE;

		c->offset = le64(e);
		c->csize = le32(e + 8);
		c->enc = rd16(e + 12);
		if (c->offset < pd || c->offset > pdend || c->csize > pdend - c->offset || !c->csize)
			FAIL(VMET_EFORMAT, "%s: chunk %" PRIu64 " (entry at file offset 0x%" PRIx64
			     ") claims [0x%" PRIx64 ", +%" PRIu32 "), outside PAGEDATA [0x%" PRIx64
			     ", 0x%" PRIx64 ")", path, i, off + VMSNAP_CHUNKHDR_SIZE + i * VMSNAP_CHUNK_SIZE,
			     c->offset, c->csize, pd, pdend);
		if (c->enc == VMSNAP_ENC_STORED ? c->csize != raw :
		    c->enc != VMSNAP_ENC_ZLIB || c->csize > compressBound((uLong)raw))
			FAIL(VMET_EFORMAT, "%s: chunk %" PRIu64 " (entry at file offset 0x%" PRIx64
			     "): encoding %u with %" PRIu32 " bytes for %" PRIu64 " bytes of pages",
			     path, i, off + VMSNAP_CHUNKHDR_SIZE + i * VMSNAP_CHUNK_SIZE, c->enc,
			     c->csize, raw);
	}
fail:
	return rc;
}

static bool page_in_ranges(const struct phys_source *src, uint64_t pfn)
{
	/* Any byte of the page inside a range: the range starting at or before
	 * the page's end must reach into it. */
	size_t lo = 0, hi = src->nranges;
	uint64_t ps = pfn * VMSNAP_PAGE, pe = ps + VMSNAP_PAGE;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (src->ranges[mid].start < pe)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && src->ranges[lo - 1].end > ps;
}

static int load_extents(struct phys_source *src, struct vmsnap_priv *vp, struct vmet_err *err)
{
	const char *path = vp->mf.path;
	uint64_t off = vp->sec[VMSNAP_SEC_EXTENTS].off, len = vp->sec[VMSNAP_SEC_EXTENTS].size;
	const uint8_t *p = vp->mf.map + off;
	uint64_t n = len / VMSNAP_EXTENT_SIZE, ord = 0, next_pfn = 0;
	int rc = 0;

	if (len % VMSNAP_EXTENT_SIZE)
		return vmet_errf(err, VMET_EFORMAT, "%s: EXTENTS section at 0x%" PRIx64 " is %" PRIu64
				 " bytes, not a multiple of %u", path, off, len, VMSNAP_EXTENT_SIZE);
	vp->ext = calloc(n ? n : 1, sizeof(*vp->ext));
	if (!vp->ext)
		return vmet_errf(err, VMET_ENOMEM, "out of memory for %" PRIu64 " extents", n);
	vp->info.nextents = n;
	for (uint64_t i = 0; i < n; i++) {
		struct extent *e = &vp->ext[i];
		uint64_t eoff = off + i * VMSNAP_EXTENT_SIZE;

		e->first_pfn = le64(p + i * VMSNAP_EXTENT_SIZE);
		e->npages = le64(p + i * VMSNAP_EXTENT_SIZE + 8);
		e->first_ord = le64(p + i * VMSNAP_EXTENT_SIZE + 16);
		if (!e->npages || e->npages > vp->info.stored_pages - ord)
			FAIL(VMET_EFORMAT, "%s: extent %" PRIu64 " (file offset 0x%" PRIx64 "): %" PRIu64
			     " pages where %" PRIu64 " stored pages remain", path, i, eoff, e->npages,
			     vp->info.stored_pages - ord);
		if (e->first_ord != ord)
			FAIL(VMET_EFORMAT, "%s: extent %" PRIu64 " (file offset 0x%" PRIx64
			     "): first ordinal %" PRIu64 ", expected %" PRIu64, path, i, eoff,
			     e->first_ord, ord);
		if ((i && e->first_pfn < next_pfn) || e->first_pfn > UINT64_MAX / VMSNAP_PAGE - e->npages)
			FAIL(VMET_EFORMAT, "%s: extent %" PRIu64 " (file offset 0x%" PRIx64
			     ") at page 0x%" PRIx64 " overlaps the previous one or is out of order",
			     path, i, eoff, e->first_pfn);
		if (!page_in_ranges(src, e->first_pfn) ||
		    !page_in_ranges(src, e->first_pfn + e->npages - 1))
			FAIL(VMET_EFORMAT, "%s: extent %" PRIu64 " (file offset 0x%" PRIx64
			     ") stores pages 0x%" PRIx64 "..0x%" PRIx64 " outside the memory map",
			     path, i, eoff, e->first_pfn, e->first_pfn + e->npages - 1);
		ord += e->npages;
		next_pfn = e->first_pfn + e->npages;
	}
	if (ord != vp->info.stored_pages)
		FAIL(VMET_EFORMAT, "%s: EXTENTS at 0x%" PRIx64 " cover %" PRIu64
		     " pages, CHUNKS says %" PRIu64, path, off, ord, vp->info.stored_pages);
fail:
	return rc;
}

static int load_vcpus(struct phys_source *src, struct vmsnap_priv *vp, struct vmet_err *err)
{
	uint64_t off = vp->sec[VMSNAP_SEC_VCPUS].off, len = vp->sec[VMSNAP_SEC_VCPUS].size;
	const uint8_t *p = vp->mf.map + off;
	uint64_t n = len / VMSNAP_VCPU_SIZE;

	if (!vp->sec[VMSNAP_SEC_VCPUS].present)
		return 0;
	if (len % VMSNAP_VCPU_SIZE || n > VMSNAP_MAX_VCPUS)
		return vmet_errf(err, VMET_EFORMAT, "%s: VCPUS section at 0x%" PRIx64 " is %" PRIu64
				 " bytes: not a multiple of %u, or more than %u records",
				 vp->mf.path, off, len, VMSNAP_VCPU_SIZE, VMSNAP_MAX_VCPUS);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *r = p + i * VMSNAP_VCPU_SIZE;
		struct vcpu_record v = { 0 };
		uint32_t mode = le32(r + VMSNAP_VCPU_MODE), s2m = le32(r + VMSNAP_VCPU_S2_MODE);
		uint32_t o1 = le32(r + VMSNAP_VCPU_CR3_ORIGIN), o2 = le32(r + VMSNAP_VCPU_REGS_ORIGIN);
		uint32_t o3 = le32(r + VMSNAP_VCPU_S2_ORIGIN), s2t = le32(r + VMSNAP_VCPU_S2_TYPE);

		if (mode > PAGING_5LEVEL || s2m > PAGING_5LEVEL || s2t > STAGE2_NPT ||
		    o1 > VCPU_ORIGIN_XEN_PV_ROOT || o2 > VCPU_ORIGIN_XEN_PV_ROOT ||
		    o3 > VCPU_ORIGIN_XEN_PV_ROOT)
			return vmet_errf(err, VMET_EFORMAT, "%s: vCPU record %" PRIu64 " (file offset 0x%"
					 PRIx64 ") has an unknown paging mode, stage-2 type or origin",
					 vp->mf.path, i, off + i * VMSNAP_VCPU_SIZE);
		v.layer = le32(r + VMSNAP_VCPU_LAYER);
		v.guest = le32(r + VMSNAP_VCPU_GUEST);
		v.vcpu = le32(r + VMSNAP_VCPU_VCPU);
		v.mode = mode;
		v.cr3_origin = o1;
		v.regs_origin = o2;
		v.s2_type = s2t;
		v.s2_mode = s2m;
		v.s2_origin = o3;
		v.cr0 = le64(r + VMSNAP_VCPU_CR0);
		v.cr3 = le64(r + VMSNAP_VCPU_CR3);
		v.cr4 = le64(r + VMSNAP_VCPU_CR4);
		v.efer = le64(r + VMSNAP_VCPU_EFER);
		v.s2_root = le64(r + VMSNAP_VCPU_S2_ROOT);
		v.rip = le64(r + VMSNAP_VCPU_RIP);
		v.time_ns = le64(r + VMSNAP_VCPU_TIME);
		v.where = le64(r + VMSNAP_VCPU_WHERE);
		if (vcpu_set_add(&src->vcpus, &v))
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	return 0;
}

static int load_text(struct vmsnap_priv *vp, unsigned type, char **out, struct vmet_err *err)
{
	uint64_t off = vp->sec[type].off, len = vp->sec[type].size;

	if (!vp->sec[type].present)
		return 0;
	if (len > VMSNAP_MAX_TEXT)
		return vmet_errf(err, VMET_ELIMIT, "%s: %s section at 0x%" PRIx64 " is %" PRIu64
				 " bytes (more than %u)", vp->mf.path, sec_name(type), off, len,
				 VMSNAP_MAX_TEXT);
	*out = strndup((const char *)vp->mf.map + off, len);
	if (!*out)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}

int vmsnap_open(const char *path, struct phys_source **out, struct vmet_err *err)
{
	struct phys_source *src = phys_source_new(&vmsnap_ops, "vmsnap");
	struct vmsnap_priv *vp = calloc(1, sizeof(*vp));
	const uint8_t *h;
	uint32_t hsize;
	int rc;

	if (!src || !vp) {
		free(src);
		free(vp);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	vp->mf.fd = -1;
	for (int i = 0; i < CACHE_SLOTS; i++)
		vp->cache[i].chunk = UINT64_MAX;
	src->priv = vp;
	rc = mapped_file_open(path, &vp->mf, err);
	if (rc)
		goto fail;
	h = vp->mf.map;
	if (vp->mf.size < VMSNAP_HEADER_SIZE)
		FAIL(VMET_EFORMAT, "%s: %" PRIu64 " bytes, shorter than the %u-byte snapshot header",
		     path, vp->mf.size, VMSNAP_HEADER_SIZE);
	if (memcmp(h, VMSNAP_MAGIC, 8))
		FAIL(VMET_EFORMAT, "%s: bad magic at offset 0 (not a vmet snapshot)", path);
	vp->info.version = le32(h + 8);
	if (vp->info.version != VMSNAP_VERSION)
		FAIL(VMET_EUNSUPPORTED, "%s: snapshot version %" PRIu32 " at offset 8 (this vmet reads "
		     "version %u)", path, vp->info.version, VMSNAP_VERSION);
	hsize = le32(h + 12);
	if (hsize != VMSNAP_HEADER_SIZE)
		FAIL(VMET_EFORMAT, "%s: header_size %" PRIu32 " at offset 12, expected %u",
		     path, hsize, VMSNAP_HEADER_SIZE);
	vp->info.file_size = le64(h + 16);
	if (vp->info.file_size != vp->mf.size)
		FAIL(VMET_EFORMAT, "%s: header (offset 16) says the snapshot is %" PRIu64
		     " bytes but the file has %" PRIu64 ": %s", path, vp->info.file_size,
		     vp->mf.size, vp->mf.size < vp->info.file_size ? "truncated" : "trailing data");
	memcpy(vp->info.digest, h + VMSNAP_DIGEST_OFF, 32);
	rc = load_dir(vp, le64(h + 24), le32(h + 32), err);
	if (rc)
		goto fail;
	vp->info.compressed_bytes = vp->sec[VMSNAP_SEC_PAGEDATA].size;
	if ((rc = load_ranges(src, vp, err)) || (rc = load_chunks(src, vp, err)) ||
	    (rc = load_extents(src, vp, err)) || (rc = load_vcpus(src, vp, err)) ||
	    (rc = load_text(vp, VMSNAP_SEC_VMCOREINFO, &src->vmcoreinfo, err)) ||
	    (rc = load_text(vp, VMSNAP_SEC_META, &vp->meta, err)))
		goto fail;
	if (asprintf(&src->description, "vmet snapshot %s (%zu ranges, %" PRIu64 " bytes, %"
		     PRIu64 " pages stored)", path, src->nranges, phys_total_size(src),
		     vp->info.stored_pages) < 0)
		src->description = NULL;
	*out = src;
	return 0;
fail:
	phys_close(src);
	return rc;
}

/* --- metadata and verification ----------------------------------------- */

static struct vmsnap_priv *priv_of(const struct phys_source *src)
{
	return src && src->ops == &vmsnap_ops ? src->priv : NULL;
}

const char *vmsnap_meta(const struct phys_source *src)
{
	const struct vmsnap_priv *vp = priv_of(src);

	return vp ? (vp->meta ? vp->meta : "") : NULL;
}

int vmsnap_meta_get(const struct phys_source *src, const char *key, char *buf, size_t size)
{
	const char *p = vmsnap_meta(src);
	size_t klen = strlen(key);

	if (!p || !size)
		return VMET_ENOTFOUND;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t o = 0;

			for (size_t i = klen + 1; i < llen && o + 1 < size; i++) {
				char c = p[i];

				if (c == '\\' && i + 1 < llen) {
					c = p[++i];
					if (c == 'n')
						c = '\n';
				}
				buf[o++] = c;
			}
			buf[o] = '\0';
			return (int)o;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return VMET_ENOTFOUND;
}

int vmsnap_get_info(const struct phys_source *src, struct vmsnap_info *info,
		    struct vmet_err *err)
{
	const struct vmsnap_priv *vp = priv_of(src);

	if (!vp)
		return vmet_errf(err, VMET_EINVAL, "not a vmet snapshot");
	*info = vp->info;
	return 0;
}

int vmsnap_digest(const struct vmsnap_digest_parts *p, uint8_t out[32], struct vmet_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return vmet_errf(err, VMET_ENOMEM, "SHA-256: out of memory");
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, "VMSNAP1", 8);
	for (int i = 0; ok && i < VMSNAP_DIGEST_PARTS; i++) {
		uint64_t len = p->len[i];	/* little-endian host */

		ok = EVP_DigestUpdate(ctx, &len, 8) &&
		     (!len || EVP_DigestUpdate(ctx, p->sec[i], len));
	}
	ok = ok && EVP_DigestUpdate(ctx, p->page_digest, 32) &&
	     EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : vmet_errf(err, VMET_EIO, "SHA-256 failed (libcrypto)");
}

void vmsnap_digest_hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int vmsnap_verify(struct phys_source *src, uint8_t computed[32], struct vmet_err *err)
{
	struct vmsnap_priv *vp = priv_of(src);
	static const unsigned order[VMSNAP_DIGEST_PARTS] = {
		VMSNAP_SEC_RANGES, VMSNAP_SEC_EXTENTS, VMSNAP_SEC_VCPUS,
		VMSNAP_SEC_VMCOREINFO, VMSNAP_SEC_META };
	struct vmsnap_digest_parts parts = { 0 };
	EVP_MD_CTX *ctx;
	uint8_t *buf;
	int rc = 0;

	if (!vp)
		return vmet_errf(err, VMET_EINVAL, "only vmet snapshots carry a digest");
	buf = malloc((size_t)vp->info.pages_per_chunk * VMSNAP_PAGE);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t c = 0; c < vp->info.nchunks; c++) {
		rc = chunk_inflate(vp, c, buf, err);
		if (rc)
			goto out;
		if (!EVP_DigestUpdate(ctx, buf, chunk_pages(vp, c) * VMSNAP_PAGE)) {
			rc = vmet_errf(err, VMET_EIO, "SHA-256 failed (libcrypto)");
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, parts.page_digest, NULL)) {
		rc = vmet_errf(err, VMET_EIO, "SHA-256 failed (libcrypto)");
		goto out;
	}
	for (int i = 0; i < VMSNAP_DIGEST_PARTS; i++) {
		unsigned t = order[i];

		parts.sec[i] = vp->sec[t].present ? vp->mf.map + vp->sec[t].off : NULL;
		parts.len[i] = vp->sec[t].present ? vp->sec[t].size : 0;
	}
	rc = vmsnap_digest(&parts, computed, err);
	if (!rc && memcmp(computed, vp->info.digest, 32)) {
		char a[65], b[65];

		vmsnap_digest_hex(vp->info.digest, a);
		vmsnap_digest_hex(computed, b);
		rc = vmet_errf(err, VMET_EMISMATCH, "%s: digest mismatch: header says %s, content "
			       "hashes to %s", vp->mf.path, a, b);
	}
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}
