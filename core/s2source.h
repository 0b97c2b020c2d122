/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A guest's physical memory as a phys_source, seen through its stage 2.
 *
 * To find the guests of a guest (--guest N/M), the scanner that looks for
 * VMCBs/VMCSs in a machine's physical memory must run over guest N's
 * guest-physical memory: every page that N's EPT/NPT maps, read through the
 * stage-2 walk.  stage2_ranges() enumerates what a stage-2 space maps by
 * walking its tables (bounded: at most S2_MAX_TABLES tables and
 * S2_MAX_RANGES merged ranges), keeping only the parts whose target the
 * space below can serve; aspace_source_new() wraps the space as a source
 * with those ranges.
 */
#ifndef VMET_CORE_S2SOURCE_H
#define VMET_CORE_S2SOURCE_H

#include "core/aspace.h"

#define S2_MAX_TABLES (1u << 16)	/* 256 MiB of tables */
#define S2_MAX_RANGES (1u << 16)

/*
 * The input (guest-physical) ranges `s2` (ASPACE_NPT or ASPACE_EPT) maps,
 * sorted and merged.  Leaves whose target lies outside the source below (a
 * physical space only; deeper stages are taken as mapped) are cut to what
 * is there.  Tables that cannot be read are skipped and counted in
 * *unreadable (may be NULL).
 */
int stage2_ranges(struct aspace *s2, struct phys_range **out, size_t *n,
		  size_t *unreadable, struct vmet_err *err);

/*
 * A read-only source over `as` (not owned: free it after closing the
 * source), whose ranges are stage2_ranges(as).  `description` is copied.
 */
struct phys_source *aspace_source_new(struct aspace *as, const char *description,
				      struct vmet_err *err);

#endif
