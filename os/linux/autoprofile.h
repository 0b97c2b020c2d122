/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Zero-configuration profiles: everything the Linux view needs, read out of
 * the guest kernel itself.  The struct layouts come from the kernel's BTF
 * blob (CONFIG_DEBUG_INFO_BTF), the symbol addresses from its kallsyms
 * tables, the banner from linux_banner; the result has the same form as a
 * profile built from a DWARF vmlinux (profiles/dwarf.h) and is checked
 * against memory before it is returned: linux_banner must read "Linux
 * version ", init_task must be named swapper, and init_top_pgt's kernel
 * entry must point at level3_kernel_pgt (level4_kernel_pgt under 5-level
 * paging).
 *
 * Derived profiles are cached by banner (profiles/cache.h), so only the
 * first look at a kernel build pays for the derivation.
 *
 * Call sequence for an opener (cmd/linux_open.c): linux_locate(), then,
 * when --profile auto is given or no profile file fits the banner,
 * linux_profile_auto() and linux_kernel_bind() with the profile it gives.
 */
#ifndef VMET_OS_LINUX_AUTOPROFILE_H
#define VMET_OS_LINUX_AUTOPROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/aspace.h"
#include "core/err.h"
#include "os/linux/kallsyms.h"
#include "os/linux/linux.h"
#include "profiles/profile.h"

/*
 * Bytes of kernel image read from _text on: .text, .rodata (kallsyms, BTF)
 * and .data (init_task, init_top_pgt) of a distribution kernel fit in well
 * under this (Debian 6.1: _text to _end is 52 MiB).  Reads past it (a
 * symbol beyond the window) go to memory directly.
 */
#define LINUX_IMAGE_MAX (64u << 20)
/* A scan hit's window: the tables are within this distance of the banner. */
#define LINUX_IMAGE_SCAN_BEFORE (40u << 20)

/*
 * The kernel image from _text on: the source's own mapping of those bytes
 * when it has one (files, a live guest's RAM), else a copy.
 */
struct linux_image {
	const uint8_t *buf;
	uint8_t *owned;		/* the copy, or NULL when buf is the source's mapping */
	size_t len;		/* bytes available (a copy stops at the first hole) */
	uint64_t pa;		/* address of buf[0] in the lower space */
	uint64_t va;		/* runtime virtual address of buf[0] (_text) */
	/* Owned; non-NULL when the image is not contiguous in the lower space
	 * (a Xen PV guest's, whose tables map it onto scattered machine
	 * frames): the located CR3's tables, which the copy was read through
	 * and which give an image address's place in the lower space. */
	struct aspace *vas;
};

/*
 * Map (or copy) the image and decode its kallsyms.  With a VMCOREINFO or
 * CR3 layout the image starts at the _text the layout gives (with a CR3
 * layout whose tables do not map the image page for page onto the lower
 * space, it is copied through those tables: unmapped pages read as zeros,
 * and img->vas is set); with a scan
 * layout each banner hit is tried: a window around it is searched for
 * kallsyms, whose linux_banner and _text then say where _text is, and
 * init_top_pgt must agree (other copies of the banner string exist).  On
 * success *ks holds the symbols (runtime addresses).
 */
int linux_image_read(struct aspace *lower, const struct linux_layout *lay,
		     struct linux_image *img, struct kallsyms **ks, struct vmet_err *err);
void linux_image_free(struct linux_image *img);

/* Where the BTF blob was found (os/linux/btf_locate.c). */
struct linux_btf_where {
	uint64_t va;		/* runtime address of the blob */
	size_t len;
	bool from_symbols;	/* __start_BTF/__stop_BTF; else a scan for the header */
};

/*
 * Find the BTF blob in the image: between kallsyms' __start_BTF and
 * __stop_BTF when both are there and inside the image, else the first
 * self-consistent BTF header (magic, version 1, sections in bounds) found
 * by scanning the image.  *blob points into img->buf.
 */
int linux_btf_locate(const struct linux_image *img, const struct kallsyms *ks,
		     const uint8_t **blob, size_t *len, struct linux_btf_where *where,
		     struct vmet_err *err);

struct linux_autoprofile_info {
	bool from_cache;
	char cache_path[512];	/* the cache file read or written ("" if none) */
	char cache_note[VMET_ERR_MSG_MAX];	/* why the cache was not written, if not */
	uint64_t text_va, text_pa;
	size_t image_bytes;
	bool image_mapped;		/* read in place (else copied) */
	size_t nsyms;			/* kallsyms entries */
	struct kallsyms_where ks_where;	/* image offsets of the tables */
	struct linux_btf_where btf;
	uint32_t btf_types;
	size_t structs, symbols;	/* what the profile holds */
	double t_read, t_kallsyms, t_btf, t_total;	/* seconds */
};

/*
 * The part of linux_profile_from_memory() after the copy: locate and parse
 * the BTF, collect the wanted structs and symbols, run the checks.  lower
 * (may be NULL) serves reads beyond the copy; mode is the kernel's paging
 * mode (which top-level entry init_top_pgt should hold).  Fills the info
 * fields that describe the image, kallsyms, BTF and profile.
 */
int linux_profile_build(struct aspace *lower, enum paging_mode mode,
			const struct linux_image *img, const struct kallsyms *ks,
			struct profile **out, struct linux_autoprofile_info *info,
			struct vmet_err *err);

/* linux_profile_auto() flags */
enum {
	LINUX_AUTO_NO_CACHE_READ = 0x1,		/* derive even if a cached profile exists */
	LINUX_AUTO_NO_CACHE_WRITE = 0x2,	/* do not store what was derived */
};

/*
 * Derive a profile from memory (no cache involved).  The profile has passed
 * profile_finish() and the memory checks above.  info may be NULL.
 */
int linux_profile_from_memory(struct aspace *lower, const struct linux_layout *lay,
			      struct profile **out, struct linux_autoprofile_info *info,
			      struct vmet_err *err);

/*
 * The cached profile for this kernel when there is one (found by the
 * banners near the image), else linux_profile_from_memory() and a cache
 * write.  A cache that cannot be written is not an error (info->cache_note
 * says why).  The caller still binds (which re-checks the banner): when a
 * cached profile does not bind, call again with LINUX_AUTO_NO_CACHE_READ.
 */
int linux_profile_auto(struct aspace *lower, const struct linux_layout *lay,
		       unsigned flags, struct profile **out,
		       struct linux_autoprofile_info *info, struct vmet_err *err);

#endif
