/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: an in-memory physical source and page-table builders, so unit
 * tests can lay out exactly the tables (and the damage) they want.
 */
#ifndef VMET_TESTS_HELPER_MEM_H
#define VMET_TESTS_HELPER_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/phys.h"

/* A source of `size` zeroed bytes at physical 0. */
struct phys_source *mem_source_new(uint64_t size);
/* Same, with a hole: [hole_start, hole_end) is not backed. */
struct phys_source *mem_source_new_holed(uint64_t size, uint64_t hole_start, uint64_t hole_end);
uint8_t *mem_bytes(struct phys_source *src);
uint64_t mem_reads(struct phys_source *src);	/* ops->read calls so far */
void mem_w64(struct phys_source *src, uint64_t addr, uint64_t val);
void mem_w32(struct phys_source *src, uint64_t addr, uint32_t val);
void mem_write(struct phys_source *src, uint64_t addr, const void *buf, size_t len);

/*
 * A trivial bump allocator of 4 KiB table pages inside the source, starting
 * at `base`; returns the physical address of a zeroed page.
 */
struct page_alloc {
	struct phys_source *src;
	uint64_t next, end;
};
uint64_t pa_page(struct page_alloc *pa);

/*
 * Map va -> pa with a page of `size` (4K/2M/1G) in x86 long-mode tables
 * (4 or 5 levels) rooted at `root`; `flags` go on every level (P added),
 * `leaf_extra` on the leaf only (e.g. NX).  Tables are allocated from
 * `alloc` and live in the memory given by `w` (a space where tables are
 * written: for nested tests, the guest-physical view of the tables is
 * obtained through `xlate_tbl`, which maps a table address to the byte
 * offset in the source; NULL = identity).
 */
typedef uint64_t (*tbl_xlate_fn)(void *ctx, uint64_t table_addr);
void map_lm(struct phys_source *src, struct page_alloc *alloc, uint64_t root,
	    int levels, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
	    uint64_t leaf_extra, tbl_xlate_fn xl, void *ctx);

/* The same for EPT entries (RWX in bits 2:0, memtype WB on leaves). */
void map_ept(struct phys_source *src, struct page_alloc *alloc, uint64_t root,
	     int levels, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms);

#endif
