// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Profiles derived from the guest kernel's own memory: the image copy,
 * kallsyms for the symbols, BTF for the layouts, checks against memory,
 * and the banner-keyed cache in front of it all.
 */
#include "os/linux/autoprofile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profiles/btf.h"
#include "profiles/cache.h"
#include "profiles/wanted.h"

#define CHUNK (2u << 20)
#define PAGE 4096u
/* i386 kernels are linked at PAGE_OFFSET + 16 MiB. */
#define I386_DEFAULT_TEXT 0xc1000000ull
#define PTE_ADDR_MASK ((uint64_t)0x000ffffffffff000ull)
#define BANNER_PREFIX "Linux version "

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- copying the image -------------------------------------------------- */

/*
 * Copy up to max bytes from pa.  Stops at the first page that is not there,
 * unless `holes`: then such pages read as zeros (a virtual copy crosses the
 * gaps the kernel unmaps between its sections) and the copy ends after the
 * last page that was there.
 */
static int copy_from(struct aspace *lower, uint64_t pa, size_t max, bool holes,
		     uint8_t **buf, size_t *len, struct vmet_err *err)
{
	uint8_t *b = malloc(max);
	size_t n = 0, got = 0;
	struct vmet_err first = { 0 };

	*buf = NULL;
	*len = 0;
	if (!b)
		return vmet_errf(err, VMET_ENOMEM, "out of memory for a %zu-byte image copy", max);
	while (n < max) {
		size_t want = max - n < CHUNK ? max - n : CHUNK;

		if (aspace_read(lower, pa + n, b + n, want, &first) == 0) {
			n += want;
			got = n;
			continue;
		}
		if (holes) {
			for (size_t end = n + want; n < end; n += PAGE)
				if (aspace_read(lower, pa + n, b + n, PAGE, NULL) == 0)
					got = n + PAGE;
				else
					memset(b + n, 0, PAGE);
			continue;
		}
		/* The chunk has a hole: keep the pages before it. */
		while (want >= PAGE && aspace_read(lower, pa + n, b + n, PAGE, NULL) == 0) {
			n += PAGE;
			want -= PAGE;
		}
		break;
	}
	if (holes)
		n = got;
	if (n == 0) {
		free(b);
		return vmet_errf(err, first.code ? first.code : VMET_EHOLE,
				 "kernel image at 0x%" PRIx64 " is not readable: %s", pa, first.msg);
	}
	*buf = b;
	*len = n;
	return 0;
}

/*
 * The bytes at pa: mapped in place when the source can (no copy, and pages
 * never looked at are never read), else copied.
 */
static int image_get(struct aspace *lower, uint64_t pa, const uint8_t **buf,
		     uint8_t **owned, size_t *len, struct vmet_err *err)
{
	struct phys_source *src = lower->phys;

	*owned = NULL;
	if (lower->kind == ASPACE_PHYS && src->ops->map) {
		for (size_t n = LINUX_IMAGE_MAX; n >= LINUX_IMAGE_MAX / 4; n /= 2) {
			const void *m = src->ops->map(src, pa, n);

			if (m) {
				*buf = m;
				*len = n;
				return 0;
			}
		}
	}
	if (copy_from(lower, pa, LINUX_IMAGE_MAX, false, owned, len, err))
		return err ? err->code : VMET_EIO;
	*buf = *owned;
	return 0;
}

static uint64_t default_text(uint64_t va)
{
	return va > 0xffffffffull ? LINUX_DEFAULT_TEXT : I386_DEFAULT_TEXT;
}

/* _text from a VMCOREINFO or CR3 layout; false for a scan. */
static bool layout_text(const struct linux_layout *lay, uint64_t *va, uint64_t *pa)
{
	if (lay->method == LINUX_LOC_VMCOREINFO && lay->have_offsets) {
		*va = LINUX_DEFAULT_TEXT + lay->kernel_offset;
		*pa = *va - LINUX_START_KERNEL_MAP + lay->phys_base;
		return true;
	}
	if (lay->method == LINUX_LOC_CR3 && lay->have_text) {
		*va = lay->text_va;
		*pa = lay->text_pa;
		return true;
	}
	return false;
}

/*
 * Whether _text really is at img->pa: init_top_pgt's kernel entry holds the
 * physical address of level3_kernel_pgt (level4 under 5-level paging), so
 * the two symbols pin the image's physical placement.  True when the
 * symbols are missing or outside the image (nothing to contradict).
 */
static bool placement_agrees(const struct linux_image *img, const struct kallsyms *ks)
{
	const struct kallsyms_sym *pgt = kallsyms_lookup(ks, "init_top_pgt");
	const struct kallsyms_sym *l3 = kallsyms_lookup(ks, "level3_kernel_pgt");
	const struct kallsyms_sym *l4 = kallsyms_lookup(ks, "level4_kernel_pgt");
	uint64_t off, e, to;

	if (!pgt || pgt->addr < img->va)
		return true;
	off = pgt->addr - img->va + 511 * 8;
	if (off >= img->len || img->len - off < 8)
		return true;
	memcpy(&e, img->buf + off, 8);
	to = e & PTE_ADDR_MASK;
	return (l3 && to == img->pa + (l3->addr - img->va)) ||
	       (l4 && to == img->pa + (l4->addr - img->va));
}

/*
 * A scan hit: kallsyms from a window around the banner, then _text is where
 * the banner's distance from _text puts it -- if the hit is linux_banner
 * itself and not one of the other copies of the string in memory, which
 * placement_agrees() tells.
 */
static int image_from_hit(struct aspace *lower, const struct linux_banner_hit *h,
			  struct linux_image *img, struct kallsyms **ks, struct vmet_err *err)
{
	uint64_t wpa = h->pa > LINUX_IMAGE_SCAN_BEFORE ? h->pa - LINUX_IMAGE_SCAN_BEFORE : 0;
	const struct kallsyms_sym *b, *t;
	uint64_t text_pa, shift;
	const uint8_t *buf;
	uint8_t *owned;
	size_t len;
	int rc;

	wpa &= ~(uint64_t)(LINUX_KASLR_ALIGN - 1);
	if ((rc = image_get(lower, wpa, &buf, &owned, &len, err)))
		return rc;
	/* Virtual addresses are unknown until kallsyms says where _text is. */
	rc = kallsyms_decode(buf, len, 0, ks, err);
	if (rc)
		goto fail;
	b = kallsyms_lookup(*ks, "linux_banner");
	t = kallsyms_lookup(*ks, "_text");
	if (!b || !t || b->addr < t->addr || b->addr - t->addr > h->pa - wpa) {
		rc = vmet_errf(err, VMET_ENOTFOUND,
			       "kallsyms near the banner at 0x%" PRIx64 " %s", h->pa,
			       !b || !t ? "lack linux_banner or _text"
				      : "put _text before the copied window");
		goto fail;
	}
	text_pa = h->pa - (b->addr - t->addr);
	shift = text_pa - wpa;
	if (shift >= len) {
		rc = vmet_errf(err, VMET_ENOTFOUND,
			       "kallsyms near the banner at 0x%" PRIx64 " put _text at 0x%" PRIx64
			       ", past the %zu bytes readable from 0x%" PRIx64, h->pa, text_pa,
			       len, wpa);
		goto fail;
	}
	if (owned) {
		memmove(owned, owned + shift, len - shift);
		img->buf = img->owned = owned;
	} else {
		img->buf = buf + shift;
	}
	img->len = len - shift;
	img->pa = text_pa;
	img->va = t->addr;
	/* Table positions were found in the window: make them image offsets. */
	(*ks)->where.offsets -= shift;
	(*ks)->where.relative_base -= shift;
	(*ks)->where.num_syms -= shift;
	(*ks)->where.names -= shift;
	(*ks)->where.markers -= shift;
	(*ks)->where.seqs -= (*ks)->where.have_seqs ? shift : 0;
	(*ks)->where.token_table -= shift;
	(*ks)->where.token_index -= shift;
	if (!placement_agrees(img, *ks)) {
		rc = vmet_errf(err, VMET_EMISMATCH,
			       "the banner at 0x%" PRIx64 " is a copy, not linux_banner: "
			       "init_top_pgt does not map an image at 0x%" PRIx64, h->pa, text_pa);
		img->buf = NULL;
		img->owned = NULL;
		goto fail;
	}
	return 0;
fail:
	kallsyms_free(*ks);
	*ks = NULL;
	free(owned);
	return rc;
}

/*
 * Whether the tables in vas map [va, va + span) onto [pa, pa + span) page
 * for page, as they do for any guest whose kernel was loaded contiguously
 * in its physical space; unmapped pages contradict nothing.
 */
static bool image_contiguous(struct aspace *vas, uint64_t va, uint64_t pa, size_t span)
{
	uint64_t off = 0;

	while (off < span) {
		struct xlate x;

		if (aspace_xlate(vas, va + off, &x, NULL)) {
			off += PAGE;
			continue;
		}
		if (x.out != pa + off)
			return false;
		off += x.page_size - ((va + off) & (x.page_size - 1));
	}
	return true;
}

/* The lower-space address of an image address (*pa), or false. */
static bool image_place(const struct linux_image *img, uint64_t va, uint64_t *pa)
{
	struct xlate x;

	if (!img->vas) {
		*pa = img->pa + (va - img->va);
		return true;
	}
	if (aspace_xlate(img->vas, va, &x, NULL))
		return false;
	*pa = x.out;
	return true;
}

/*
 * Where the image of a VMCOREINFO or CR3 layout is read: `lower` at _text's
 * physical address, unless the located CR3's tables do not map the image
 * page for page onto lower (a Xen PV guest): then through those tables, at
 * _text's virtual address (*vas, the caller's to free).
 */
static int image_space(struct aspace *lower, const struct linux_layout *lay, uint64_t va,
		       uint64_t pa, struct aspace **vas, struct vmet_err *err)
{
	*vas = NULL;
	if (lay->method != LINUX_LOC_CR3)
		return 0;
	*vas = aspace_x86_new(lower, lay->mode, lay->cr3, 0, err);
	if (!*vas)
		return err ? err->code : VMET_ENOMEM;
	if (image_contiguous(*vas, va, pa, LINUX_IMAGE_MAX)) {
		aspace_free(*vas);
		*vas = NULL;
	}
	return 0;
}

int linux_image_read(struct aspace *lower, const struct linux_layout *lay,
		     struct linux_image *img, struct kallsyms **ks, struct vmet_err *err)
{
	const struct kallsyms_sym *t;
	int rc;

	memset(img, 0, sizeof(*img));
	*ks = NULL;
	if (layout_text(lay, &img->va, &img->pa)) {
		if ((rc = image_space(lower, lay, img->va, img->pa, &img->vas, err)))
			return rc;
		if (img->vas) {
			rc = copy_from(img->vas, img->va, LINUX_IMAGE_MAX, true, &img->owned,
				       &img->len, err);
			img->buf = img->owned;
		} else {
			rc = image_get(lower, img->pa, &img->buf, &img->owned, &img->len, err);
		}
		if (!rc)
			rc = kallsyms_decode(img->buf, img->len, img->va, ks, err);
		if (rc)
			goto fail;
		t = kallsyms_lookup(*ks, "_text");
		if (t && t->addr != img->va) {
			rc = vmet_errf(err, VMET_EMISMATCH,
				       "kallsyms puts _text at 0x%" PRIx64 ", the kernel was "
				       "located at 0x%" PRIx64, t->addr, img->va);
			goto fail;
		}
		return 0;
	}
	if (lay->method == LINUX_LOC_SCAN) {
		struct vmet_err last = { 0 };

		for (size_t i = 0; i < lay->nhits; i++) {
			vmet_err_clear(&last);
			if (image_from_hit(lower, &lay->hits[i], img, ks, &last) == 0)
				return 0;
		}
		return vmet_errf(err, last.code ? last.code : VMET_ENOTFOUND,
				 "none of %zu banner(s) in memory has kallsyms around it%s%s",
				 lay->nhits, last.msg[0] ? ": " : "", last.msg);
	}
	return vmet_errf(err, VMET_EINVAL, "kernel not located: nothing says where _text is");
fail:
	kallsyms_free(*ks);
	*ks = NULL;
	linux_image_free(img);
	return rc;
}

void linux_image_free(struct linux_image *img)
{
	aspace_free(img->vas);
	img->vas = NULL;
	free(img->owned);
	img->owned = NULL;
	img->buf = NULL;
	img->len = 0;
}

/* Bytes at a runtime kernel-image address: from the copy, else from memory. */
static int image_bytes(struct aspace *lower, const struct linux_image *img, uint64_t va,
		       void *buf, size_t n, const char *what, struct vmet_err *err)
{
	uint64_t off = va - img->va;
	int rc;

	if (va < img->va)
		return vmet_errf(err, VMET_EFORMAT, "%s at 0x%" PRIx64 " is below _text 0x%" PRIx64,
				 what, va, img->va);
	if (off < img->len && img->len - off >= n) {
		memcpy(buf, img->buf + off, n);
		return 0;
	}
	if (!lower)
		return vmet_errf(err, VMET_EHOLE, "%s at 0x%" PRIx64 " is beyond the %zu-byte "
				 "image copy", what, va, img->len);
	rc = img->vas ? aspace_read(img->vas, va, buf, n, err)
		      : aspace_read(lower, img->pa + off, buf, n, err);
	if (rc)
		return vmet_err_prefix(err, rc, "%s at 0x%" PRIx64, what, va);
	return 0;
}

/* ---- the profile -------------------------------------------------------- */

static int add_banner(struct aspace *lower, const struct linux_image *img,
		      const struct kallsyms *ks, struct profile *p, struct vmet_err *err)
{
	const struct kallsyms_sym *s = kallsyms_lookup(ks, "linux_banner");
	char text[PROFILE_MAX_TEXT + 2];
	size_t n;
	int rc;

	if (!s)
		return vmet_errf(err, VMET_ENOTFOUND, "kallsyms has no linux_banner");
	memset(text, 0, sizeof(text));
	/* The banner may sit at the very end of what is readable: take what there is. */
	for (n = sizeof(text) - 1; n > 0; n /= 2)
		if (image_bytes(lower, img, s->addr, text, n, "linux_banner", NULL) == 0)
			break;
	text[n] = '\0';
	text[strcspn(text, "\n")] = '\0';
	if (strncmp(text, BANNER_PREFIX, strlen(BANNER_PREFIX)))
		return vmet_errf(err, VMET_EMISMATCH,
				 "linux_banner at 0x%" PRIx64 " does not read '" BANNER_PREFIX
				 "...': kallsyms or the image copy is wrong", s->addr);
	if (strlen(text) > PROFILE_MAX_TEXT)
		return vmet_errf(err, VMET_EFORMAT, "linux_banner at 0x%" PRIx64
				 " has no newline within %d bytes", s->addr, PROFILE_MAX_TEXT);
	rc = profile_set_text(&p->banner, text, err);
	return rc;
}

/* Call fn for each '|'-separated alternative of alts. */
static int each_alt(const char *alts, int (*fn)(void *ctx, const char *name,
						struct vmet_err *err),
		    void *ctx, struct vmet_err *err)
{
	char one[PROFILE_MAX_NAME + 1];

	for (const char *a = alts; *a;) {
		size_t l = strcspn(a, "|");
		int rc;

		if (l && l <= PROFILE_MAX_NAME) {
			memcpy(one, a, l);
			one[l] = '\0';
			if ((rc = fn(ctx, one, err)))
				return rc;
		}
		a += l;
		if (*a == '|')
			a++;
	}
	return 0;
}

struct build {
	const struct btf *btf;
	const struct kallsyms *ks;
	struct profile *p;
	uint64_t slide;
	size_t structs, symbols;
};

static int add_struct(void *ctx, const char *name, struct vmet_err *err)
{
	struct build *b = ctx;
	int rc;

	/* profile_struct() needs a finished profile: look through the list. */
	for (size_t i = 0; i < b->p->ns; i++)
		if (!strcmp(b->p->s[i].name, name))
			return 0;
	rc = btf_add_struct(b->btf, name, b->p, err);
	if (rc == VMET_ENOTFOUND)
		return 0;	/* kernels differ; wanted_check() reports what is missing */
	if (!rc)
		b->structs++;
	return rc;
}

/*
 * The same choice the DWARF builder makes among namesakes: a global beats
 * file-local ones; two globals (or, without a global, two locals) at
 * different addresses are ambiguous and left out.
 */
static int add_symbol(void *ctx, const char *name, struct vmet_err *err)
{
	struct build *b = ctx;
	const struct kallsyms *ks = b->ks;
	const struct kallsyms_sym *pick = NULL, *same[64];
	bool global = false, ambiguous = false;
	size_t n = kallsyms_find(ks, name, same, 64);
	uint64_t addr;

	if (!n)
		return 0;
	if (n > 64)
		return 0;	/* a name that many statics share is no kernel-wide object */
	for (size_t i = 0; i < n; i++) {
		const struct kallsyms_sym *s = same[i];
		bool g = s->type >= 'A' && s->type <= 'Z';

		if (!pick || (g && !global)) {
			pick = s;
			global = g;
			ambiguous = false;
		} else if (g == global && s->addr != pick->addr) {
			ambiguous = true;
		}
	}
	if (ambiguous)
		return 0;
	addr = pick->absolute ? pick->addr : pick->addr - b->slide;
	b->symbols++;
	return profile_add_symbol(b->p, name, addr, err);
}

/*
 * What the profile says must hold in memory: init_task is the idle task,
 * and the kernel's top page table maps the kernel image through
 * level3/level4_kernel_pgt as head_64.S sets it up.
 */
static int verify(struct aspace *lower, const struct linux_image *img,
		  const struct kallsyms *ks, const struct profile *p, enum paging_mode mode,
		  struct vmet_err *err)
{
	const struct kallsyms_sym *it = kallsyms_lookup(ks, "init_task");
	const struct kallsyms_sym *pgt = kallsyms_lookup(ks, "init_top_pgt");
	const struct kallsyms_sym *l3 = kallsyms_lookup(ks, "level3_kernel_pgt");
	const struct kallsyms_sym *l4 = kallsyms_lookup(ks, "level4_kernel_pgt");
	const struct profile_member *comm = profile_member(p, "task_struct", "comm");
	char name[17] = { 0 };
	uint64_t e511, l3pa = 0, l4pa = 0;
	int rc;

	if (!it || !comm)
		return vmet_errf(err, VMET_ENOTFOUND, "cannot check the profile: %s",
				 !it ? "kallsyms has no init_task" : "BTF has no task_struct.comm");
	rc = image_bytes(lower, img, it->addr + comm->offset, name,
			 comm->size < 16 ? comm->size : 16, "init_task.comm", err);
	if (rc)
		return rc;
	if (strcmp(name, "swapper") && strcmp(name, "swapper/0"))
		return vmet_errf(err, VMET_EMISMATCH,
				 "init_task 0x%" PRIx64 " + comm offset %" PRIu64 " reads '%.16s', "
				 "not swapper: kallsyms and BTF disagree with memory",
				 it->addr, comm->offset, name);
	if (!pgt || img->va <= 0xffffffffull)
		return 0;	/* i386 has no init_top_pgt; the banner and init_task suffice */
	rc = image_bytes(lower, img, pgt->addr + 511 * 8, &e511, 8, "init_top_pgt[511]", err);
	if (rc)
		return rc;
	if (!(e511 & 1))
		return vmet_errf(err, VMET_EMISMATCH,
				 "init_top_pgt 0x%" PRIx64 " entry 511 (kernel image) is not "
				 "present (0x%016" PRIx64 ")", pgt->addr, e511);
	/* 4-level: init_top_pgt is the PML4, its last entry level3_kernel_pgt;
	 * 5-level: the PML5, its last entry level4_kernel_pgt.  A scan does not
	 * know the mode, and either target pins the placement. */
	if (l3 && !image_place(img, l3->addr, &l3pa))
		l3pa = 1;	/* unmapped: matches no entry */
	if (l4 && !image_place(img, l4->addr, &l4pa))
		l4pa = 1;
	if ((l3 || l4) && !(l3 && (e511 & PTE_ADDR_MASK) == l3pa) &&
	    !(l4 && (e511 & PTE_ADDR_MASK) == l4pa))
		return vmet_errf(err, VMET_EMISMATCH,
				 "init_top_pgt 0x%" PRIx64 " entry 511 points at 0x%" PRIx64
				 ", at neither level3_kernel_pgt (physical 0x%" PRIx64
				 ") nor level4_kernel_pgt (0x%" PRIx64 ")", pgt->addr,
				 e511 & PTE_ADDR_MASK, l3pa, l4pa);
	return 0;
}

static int build(struct aspace *lower, enum paging_mode mode, const struct linux_image *img,
		 const struct kallsyms *ks, const struct btf *btf, struct profile **out,
		 struct linux_autoprofile_info *info, struct vmet_err *err)
{
	struct build b = { .btf = btf, .ks = ks };
	bool is64 = img->va > 0xffffffffull;
	int rc;

	b.p = profile_new();
	if (!b.p)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	/* Link-time addresses: _text is where the kernel was linked when not moved. */
	b.slide = img->va - default_text(img->va);
	rc = profile_set_text(&b.p->source, "btf:memory", err);
	if (!rc)
		rc = profile_set_text(&b.p->arch, btf_pointer_size(btf) == 8 ? "x86_64" : "i386",
				      err);
	if (!rc)
		rc = add_banner(lower, img, ks, b.p, err);
	for (size_t i = 0; !rc && i < wanted_nstructs; i++)
		rc = each_alt(wanted_structs[i].name, add_struct, &b, err);
	for (size_t i = 0; !rc && i < wanted_nsymbols; i++)
		rc = each_alt(wanted_symbols[i], add_symbol, &b, err);
	if (!rc) {
		if (is64) {
			b.p->paging = PAGING_4LEVEL;	/* as DWARF: 5-level is the guest's run-time choice */
		} else {
			uint32_t pte = btf_find_struct(btf, "pte_t");
			uint64_t sz = 0;

			if (pte)
				btf_type_size(btf, pte, &sz, NULL);
			b.p->paging = sz == 8 ? PAGING_PAE : sz == 4 ? PAGING_32 : PAGING_NONE;
		}
		rc = profile_finish(b.p, err);
	}
	if (!rc)
		rc = verify(lower, img, ks, b.p, mode, err);
	if (rc) {
		profile_free(b.p);
		return rc;
	}
	if (info) {
		info->structs = b.structs;
		info->symbols = b.symbols;
	}
	*out = b.p;
	return 0;
}

int linux_profile_build(struct aspace *lower, enum paging_mode mode,
			const struct linux_image *img, const struct kallsyms *ks,
			struct profile **out, struct linux_autoprofile_info *info,
			struct vmet_err *err)
{
	struct linux_autoprofile_info dummy;
	struct btf *btf = NULL;
	const uint8_t *blob;
	size_t blen;
	int rc;

	*out = NULL;
	if (!info)
		info = &dummy;
	info->text_va = img->va;
	info->text_pa = img->pa;
	info->image_bytes = img->len;
	info->image_mapped = img->owned == NULL;
	info->nsyms = ks->n;
	info->ks_where = ks->where;
	rc = linux_btf_locate(img, ks, &blob, &blen, &info->btf, err);
	if (!rc)
		rc = btf_parse(blob, blen, &btf, err);
	if (!rc) {
		info->btf_types = btf_type_count(btf);
		rc = build(lower, mode, img, ks, btf, out, info, err);
	}
	btf_free(btf);
	return rc;
}

int linux_profile_from_memory(struct aspace *lower, const struct linux_layout *lay,
			      struct profile **out, struct linux_autoprofile_info *info,
			      struct vmet_err *err)
{
	struct linux_autoprofile_info dummy;
	struct linux_image img;
	struct kallsyms *ks = NULL;
	double t0 = now(), t1, t2;
	int rc;

	*out = NULL;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	rc = linux_image_read(lower, lay, &img, &ks, err);
	if (rc)
		return vmet_err_prefix(err, rc, "profile from memory");
	t1 = now();
	rc = linux_profile_build(lower, lay->mode, &img, ks, out, info, err);
	t2 = now();
	kallsyms_free(ks);
	linux_image_free(&img);
	/* Reading and kallsyms are one step (the decode needs the copy); split by the clock. */
	info->t_read = t1 - t0;
	info->t_btf = t2 - t1;
	info->t_total = t2 - t0;
	if (rc)
		return vmet_err_prefix(err, rc, "profile from memory");
	return 0;
}

/* ---- with the cache ----------------------------------------------------- */

/* The first banner in hits[0..n) with a cache entry. */
static bool cache_try(const struct linux_banner_hit *h, size_t n, struct profile **out,
		      struct linux_autoprofile_info *info)
{
	for (size_t i = 0; i < n; i++) {
		char *path = NULL;
		bool found = profile_cache_load(h[i].text, out, &path, NULL) == 0;

		if (found) {
			info->from_cache = true;
			snprintf(info->cache_path, sizeof(info->cache_path), "%s", path);
		}
		free(path);
		if (found)
			return true;
	}
	return false;
}

/* Step of the banner search from _text, so a hit early in .rodata ends it early. */
#define CACHE_SCAN_STEP (8u << 20)

static bool cache_lookup(struct aspace *lower, const struct linux_layout *lay,
			 struct profile **out, struct linux_autoprofile_info *info)
{
	struct linux_banner_hit *hits;
	struct aspace *vas = NULL, *space;
	uint64_t va, pa, base;
	bool found = false;

	if (!layout_text(lay, &va, &pa))
		return cache_try(lay->hits, lay->nhits, out, info);
	hits = calloc(LINUX_SCAN_MAX, sizeof(*hits));
	if (!hits || image_space(lower, lay, va, pa, &vas, NULL)) {
		free(hits);
		return false;
	}
	space = vas ? vas : lower;
	base = vas ? va : pa;
	/*
	 * Several banner copies can be in memory; the caller's bind rejects a
	 * wrong one.  Windows overlap by a banner's length so none is cut.
	 */
	for (uint64_t off = 0; off < LINUX_IMAGE_MAX && !found; off += CACHE_SCAN_STEP) {
		size_t n = 0;

		if (linux_banner_scan(space, base + off, base + off + CACHE_SCAN_STEP + LINUX_BANNER_MAX,
				      hits, LINUX_SCAN_MAX, &n, NULL))
			break;
		found = cache_try(hits, n, out, info);
	}
	aspace_free(vas);
	free(hits);
	return found;
}

int linux_profile_auto(struct aspace *lower, const struct linux_layout *lay,
		       unsigned flags, struct profile **out,
		       struct linux_autoprofile_info *info, struct vmet_err *err)
{
	struct linux_autoprofile_info dummy;
	struct vmet_err cerr = { 0 };
	double t0 = now();
	char *path = NULL;
	int rc;

	*out = NULL;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (!(flags & LINUX_AUTO_NO_CACHE_READ) && cache_lookup(lower, lay, out, info)) {
		info->t_total = now() - t0;
		return 0;
	}
	rc = linux_profile_from_memory(lower, lay, out, info, err);
	if (rc || (flags & LINUX_AUTO_NO_CACHE_WRITE))
		return rc;
	if (profile_cache_store(*out, &path, &cerr))
		snprintf(info->cache_note, sizeof(info->cache_note), "%s", cerr.msg);
	else
		snprintf(info->cache_path, sizeof(info->cache_path), "%s", path);
	free(path);
	info->t_total = now() - t0;
	return 0;
}
