/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's own compressed symbol table (kallsyms), found and decoded
 * from a copy of the kernel image, with no System.map and no profile.
 *
 * The tables are located by their structure alone: the token index (256
 * increasing 16-bit offsets) right after the token table it indexes, the
 * markers (one offset into the names per 256 symbols) before them, the
 * names stream whose decoding must land exactly on every marker and end
 * where the markers begin, the symbol count just before the names, and the
 * address offsets with their relative base.  Three orders are known and
 * tried: the classic one (offsets, relative base, count, names, markers,
 * token table, token index; 4.6 to 6.1), the same with
 * kallsyms_seqs_of_names between markers and token table (6.2 and 6.3, and
 * back-ported to Debian's 6.1.1xx), and the newer one with the offsets and
 * relative base after the token index (6.4 on; seen on Debian's 6.12).
 * Addresses use CONFIG_KALLSYMS_BASE_RELATIVE, with or without
 * KALLSYMS_ABSOLUTE_PERCPU (detected from the signs of the offsets); the
 * older absolute kallsyms_addresses table is not supported.
 *
 * The image is hostile data: every count, offset and length is checked,
 * every name is capped, and a table that does not decode consistently is
 * rejected with an error saying which check failed, never trusted.
 */
#ifndef VMET_OS_LINUX_KALLSYMS_H
#define VMET_OS_LINUX_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define KALLSYMS_MAX_SYMS	(1u << 21)	/* a 6.1 distribution kernel has ~100 000 */
#define KALLSYMS_NAME_MAX	512		/* KSYM_NAME_LEN in 6.1 */
#define KALLSYMS_MAX_TOKEN	256		/* bytes in one token */

struct kallsyms_sym {
	uint64_t addr;		/* runtime virtual address, or the value of an absolute symbol */
	uint32_t name;		/* offset of the NUL-terminated name in kallsyms.names */
	char type;		/* nm-style letter: T t D d R r B b A ... */
	bool absolute;		/* per-CPU offset or other absolute value: not slid */
};

/* Where each table was found, as byte offsets into the image. */
struct kallsyms_where {
	size_t offsets, relative_base, num_syms, names, markers, seqs, token_table,
	       token_index;
	bool have_seqs;
	bool absolute_percpu;
	unsigned marker_width;	/* 4 or 8 bytes */
};

struct kallsyms {
	size_t n;
	struct kallsyms_sym *sym;	/* in table order (sorted by address) */
	char *names;			/* every name, NUL-terminated, back to back */
	size_t names_len;
	uint32_t *hash;			/* open-addressing table of sym index + 1 (0 = empty) */
	size_t hash_mask;
	uint64_t relative_base;		/* runtime address the offsets count from */
	struct kallsyms_where where;
};

/*
 * Find and decode the tables in `len` bytes of kernel image at `img`, whose
 * first byte is at virtual address img_va (used to check that the relative
 * base lies near the image; 0 when the image's address is not known yet).  VMET_ENOTFOUND when no consistent set of tables is in
 * the image; the message says how far the search got.
 */
int kallsyms_decode(const uint8_t *img, size_t len, uint64_t img_va,
		    struct kallsyms **out, struct vmet_err *err);
void kallsyms_free(struct kallsyms *ks);

/*
 * The symbol called name; when several share it (static functions), the
 * first global one (upper-case type) in table order, else the first.
 * NULL when absent.
 */
const struct kallsyms_sym *kallsyms_lookup(const struct kallsyms *ks, const char *name);

/*
 * The symbols called name, in table order: stores up to max of them in
 * out and returns how many there are in all.
 */
size_t kallsyms_find(const struct kallsyms *ks, const char *name,
		     const struct kallsyms_sym **out, size_t max);

static inline const char *kallsyms_name(const struct kallsyms *ks,
					const struct kallsyms_sym *s)
{
	return ks->names + s->name;
}

#endif
