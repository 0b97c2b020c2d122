/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building a profile from a kernel with DWARF debug information (a vmlinux
 * from a linux-image-*-dbg package, or a kernel build tree), through libdw.
 *
 * What the profile gets:
 * - the banner: linux_banner's bytes as stored in the ELF file (so that it
 *   equals the banner in guest memory byte for byte), without the newline;
 * - arch from the ELF header; paging 4 for x86-64 (5-level is a run-time
 *   choice the CR4 of the guest tells), pae or 32 for i386 from the size
 *   of pte_t;
 * - every struct in profiles/wanted.c with all its members: the complete
 *   definition (declarations are skipped), members of anonymous structs
 *   and unions flattened into the parent with absolute offsets, bit-fields
 *   as (byte, bit within it, bit count, bytes spanned), array members with
 *   their whole size, flexible arrays with size 0;
 * - the wanted symbols, from the ELF symbol table or from a System.map.
 *
 * The compilation units are read once, top-level entries only, and the
 * scan stops as soon as every wanted struct has been found.
 */
#ifndef VMET_PROFILES_DWARF_H
#define VMET_PROFILES_DWARF_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "profiles/profile.h"

#define DWARF_MAX_NEST 16	/* anonymous struct in anonymous union in ... */
#define DWARF_MAX_TYPE_CHAIN 32	/* typedef -> const -> volatile -> ... */

struct dwarf_build_stats {
	size_t units_read;		/* compilation units looked at */
	size_t units_total;		/* 0 when the scan stopped early (not counted) */
	size_t structs_found;
	size_t symbols_found;
	double seconds;			/* the whole build, wall clock */
};

/*
 * Build a profile from `vmlinux`.  With system_map, symbols come from that
 * file (lines "ADDRESS TYPE NAME") instead of the ELF symbol table.
 * Warnings (an ambiguous local symbol, a struct not found) go to `log` when
 * it is not NULL.  The result has passed profile_finish().
 */
int profile_from_dwarf(const char *vmlinux, const char *system_map, FILE *log,
		       struct profile **out, struct dwarf_build_stats *stats,
		       struct vmet_err *err);

#endif
