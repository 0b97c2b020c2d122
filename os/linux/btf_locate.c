// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding the kernel's BTF blob in a copy of its image: by the linker's
 * __start_BTF/__stop_BTF symbols when kallsyms has them, else by scanning
 * for a header that is consistent with itself (the magic alone is two
 * bytes and turns up in code and data).
 */
#include "os/linux/autoprofile.h"

#include <inttypes.h>
#include <string.h>

#include "profiles/btf.h"

static int from_symbols(const struct linux_image *img, const struct kallsyms *ks,
			const uint8_t **blob, size_t *len, struct linux_btf_where *where,
			struct vmet_err *err)
{
	const struct kallsyms_sym *s = kallsyms_lookup(ks, "__start_BTF");
	const struct kallsyms_sym *e = kallsyms_lookup(ks, "__stop_BTF");
	size_t total;
	uint64_t off;
	int rc;

	if (!s || !e)
		return VMET_ENOTFOUND;
	if (e->addr <= s->addr || s->addr < img->va || s->addr - img->va >= img->len ||
	    e->addr - img->va > img->len)
		return vmet_errf(err, VMET_EFORMAT,
				 "__start_BTF 0x%" PRIx64 " .. __stop_BTF 0x%" PRIx64
				 " is not a range inside the %zu-byte image at 0x%" PRIx64,
				 s->addr, e->addr, img->len, img->va);
	off = s->addr - img->va;
	rc = btf_header_check(img->buf + off, (size_t)(e->addr - s->addr), &total, err);
	if (rc)
		return vmet_err_prefix(err, rc, "blob at __start_BTF 0x%" PRIx64, s->addr);
	*blob = img->buf + off;
	*len = (size_t)(e->addr - s->addr);
	where->va = s->addr;
	where->len = *len;
	where->from_symbols = true;
	return 0;
}

static int by_scan(const struct linux_image *img, const uint8_t **blob, size_t *len,
		   struct linux_btf_where *where, struct vmet_err *err)
{
	static const uint8_t magic[3] = { 0x9f, 0xeb, 0x01 };	/* 0xeB9F little-endian, version 1 */
	const uint8_t *p = img->buf, *end = img->buf + img->len;
	unsigned candidates = 0;

	while (p < end) {
		size_t total;
		const uint8_t *hit = memmem(p, (size_t)(end - p), magic, sizeof(magic));

		if (!hit)
			break;
		candidates++;
		if (btf_header_check(hit, (size_t)(end - hit), &total, NULL) == 0 &&
		    total > BTF_HEADER_MIN + 16) {
			*blob = hit;
			*len = total;
			where->va = img->va + (uint64_t)(hit - img->buf);
			where->len = total;
			where->from_symbols = false;
			return 0;
		}
		p = hit + 1;
	}
	return vmet_errf(err, VMET_ENOTFOUND,
			 "no BTF blob in the %zu-byte kernel image at 0x%" PRIx64
			 " (%u magic candidates, none with a consistent header): a kernel "
			 "without CONFIG_DEBUG_INFO_BTF needs a profile file",
			 img->len, img->va, candidates);
}

int linux_btf_locate(const struct linux_image *img, const struct kallsyms *ks,
		     const uint8_t **blob, size_t *len, struct linux_btf_where *where,
		     struct vmet_err *err)
{
	struct vmet_err symerr = { 0 };
	int rc = ks ? from_symbols(img, ks, blob, len, where, &symerr) : VMET_ENOTFOUND;

	if (!rc)
		return 0;
	/* Symbols that point at garbage are worth saying, but a scan may still succeed. */
	rc = by_scan(img, blob, len, where, err);
	if (rc && symerr.msg[0])
		vmet_err_prefix(err, rc, "%s; and", symerr.msg);
	return rc;
}
