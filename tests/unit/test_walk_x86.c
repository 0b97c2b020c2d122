// SPDX-License-Identifier: GPL-2.0-or-later
/* Stage-1 x86 walkers over synthetic page tables: every mode, page size and failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/aspace.h"
#include "core/stack.h"
#include "tests/unit/helper_mem.h"

#define MEM (64ull << 20)
#define NX (1ull << 63)

struct fx {
	struct phys_source *src;
	struct aspace *phys;
	struct page_alloc alloc;
	uint64_t root;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->src = mem_source_new(MEM);
	f->phys = aspace_phys_new(f->src);
	f->alloc = (struct page_alloc){ f->src, 0x100000, 0x800000 };
	f->root = pa_page(&f->alloc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	aspace_free(f->phys);
	phys_close(f->src);
	free(f);
	return 0;
}

static struct aspace *x86(struct fx *f, enum paging_mode m, uint64_t cr3, unsigned flags)
{
	struct vmet_err err;
	struct aspace *as = aspace_x86_new(f->phys, m, cr3, flags, &err);

	assert_non_null(as);
	aspace_number_stages(as);
	return as;
}

static void expect_xlate(struct aspace *as, uint64_t va, uint64_t pa, uint64_t psize)
{
	struct xlate x;
	struct vmet_err err = { 0 };
	int rc = aspace_xlate(as, va, &x, &err);

	if (rc)
		fail_msg("0x%llx: %s", (unsigned long long)va, err.msg);
	assert_int_equal(x.out, pa);
	assert_int_equal(x.page_size, psize);
}

static void test_4level_page_sizes(void **state)
{
	struct fx *f = *state;
	struct aspace *as;

	map_lm(f->src, &f->alloc, f->root, 4, 0xffffffff81234000ull, 0x2000000, 4096, 3, 0, NULL, NULL);
	map_lm(f->src, &f->alloc, f->root, 4, 0xffff888000200000ull, 0x1200000, 2 << 20, 3, NX, NULL, NULL);
	map_lm(f->src, &f->alloc, f->root, 4, 0x0000004000000000ull, 0x40000000, 1 << 30, 7, 0, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	expect_xlate(as, 0xffffffff81234abcull, 0x2000abc, 4096);
	expect_xlate(as, 0xffff888000312345ull, 0x1312345, 2 << 20);
	expect_xlate(as, 0x000000403ffff123ull, 0x7ffff123, 1 << 30);
	aspace_free(as);
}

static void test_flags_accumulate(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;

	/* user+writable at the upper levels, NX on the leaf only */
	map_lm(f->src, &f->alloc, f->root, 4, 0x400000, 0x300000, 4096, 7, NX, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	assert_int_equal(aspace_xlate(as, 0x400010, &x, NULL), 0);
	assert_true(x.flags & XL_U);
	assert_true(x.flags & XL_W);
	assert_true(x.flags & XL_NX);
	/* a supervisor, read-only leaf clears U and W */
	map_lm(f->src, &f->alloc, f->root, 4, 0x401000, 0x301000, 4096, 7, 0, NULL, NULL);
	{
		uint64_t *pt = (uint64_t *)(mem_bytes(f->src) +
			(((uint64_t *)(mem_bytes(f->src) +
			  (((uint64_t *)(mem_bytes(f->src) +
			     (((uint64_t *)(mem_bytes(f->src) + f->root))[0] & ~0xfffull)))[0] & ~0xfffull)))[2] & ~0xfffull));
		pt[1] &= ~6ull;
	}
	aspace_flush(as);
	assert_int_equal(aspace_xlate(as, 0x401000, &x, NULL), 0);
	assert_false(x.flags & XL_U);
	assert_false(x.flags & XL_W);
	assert_false(x.flags & XL_NX);
	aspace_free(as);
}

static void test_5level(void **state)
{
	struct fx *f = *state;
	struct aspace *as, *as4;
	struct xlate x;
	struct vmet_err err;

	map_lm(f->src, &f->alloc, f->root, 5, 0xff11000000001000ull, 0x500000, 4096, 3, 0, NULL, NULL);
	as = x86(f, PAGING_5LEVEL, f->root, 0);
	expect_xlate(as, 0xff11000000001008ull, 0x500008, 4096);
	/* canonical for 57 bits but not for 48 */
	as4 = x86(f, PAGING_4LEVEL, f->root, 0);
	assert_int_equal(aspace_xlate(as4, 0xff11000000001008ull, &x, &err), VMET_ENONCANON);
	assert_non_null(strstr(err.msg, "not a canonical 48-bit"));
	/* non-canonical for 57 bits */
	assert_int_equal(aspace_xlate(as, 0x0100000000000000ull, &x, &err), VMET_ENONCANON);
	aspace_free(as);
	aspace_free(as4);
}

static void test_not_present_names_level(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;
	struct vmet_err err;
	char want[128];

	map_lm(f->src, &f->alloc, f->root, 4, 0x7f0000000000ull, 0x600000, 4096, 7, 0, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	/* PML4 slot 0 is empty */
	assert_int_equal(aspace_xlate(as, 0x1000, &x, &err), VMET_ENOTPRESENT);
	snprintf(want, sizeof(want), "level 4 PML4: table 0x%llx entry 0 ", (unsigned long long)f->root);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "not present"));
	/* same PML4 entry as the mapping, different PT slot */
	assert_int_equal(aspace_xlate(as, 0x7f0000001000ull, &x, &err), VMET_ENOTPRESENT);
	assert_non_null(strstr(err.msg, "level 1 PT"));
	aspace_free(as);
}

static void test_reserved_bits(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;
	struct vmet_err err;
	uint64_t *pml4 = (uint64_t *)(mem_bytes(f->src) + f->root);

	map_lm(f->src, &f->alloc, f->root, 4, 0x200000, 0x400000, 2 << 20, 3, 0, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	expect_xlate(as, 0x200000, 0x400000, 2 << 20);

	/* PS in a PML4 entry is reserved */
	pml4[0] |= 0x80;
	aspace_flush(as);
	assert_int_equal(aspace_xlate(as, 0x200000, &x, &err), VMET_ERESERVED);
	assert_non_null(strstr(err.msg, "PML4"));
	pml4[0] &= ~0x80ull;

	/* bit 13 in a 2 MiB leaf is reserved */
	{
		uint64_t pdpt = pml4[0] & ~0xfffull;
		uint64_t pd = ((uint64_t *)(mem_bytes(f->src) + pdpt))[0] & ~0xfffull;
		uint64_t *pde = (uint64_t *)(mem_bytes(f->src) + pd) + 1;

		*pde |= 1ull << 13;
		aspace_flush(as);
		assert_int_equal(aspace_xlate(as, 0x200000, &x, &err), VMET_ERESERVED);
		assert_non_null(strstr(err.msg, "2 MiB"));
		*pde &= ~(1ull << 13);
		/* above MAXPHYADDR when it is 40 bits */
		*pde |= 1ull << 45;
		aspace_flush(as);
		assert_int_equal(aspace_xlate(as, 0x200000, &x, NULL), 0); /* 52: fine */
		as->phys_bits = 40;
		aspace_flush(as);
		assert_int_equal(aspace_xlate(as, 0x200000, &x, &err), VMET_ERESERVED);
		assert_non_null(strstr(err.msg, "MAXPHYADDR"));
	}
	aspace_free(as);
}

static void test_table_beyond_memory(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;
	struct vmet_err err;

	/* PML4 entry pointing at 1 TiB: far beyond the 64 MiB source */
	mem_w64(f->src, f->root, 0x10000000000ull | 3);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	assert_int_equal(aspace_xlate(as, 0x1000, &x, &err), VMET_EHOLE);
	assert_non_null(strstr(err.msg, "PDPT"));
	assert_non_null(strstr(err.msg, "0x10000000000"));
	aspace_free(as);
	/* CR3 itself beyond memory */
	as = x86(f, PAGING_4LEVEL, 0x40000000000ull, 0);
	assert_int_equal(aspace_xlate(as, 0x1000, &x, &err), VMET_EHOLE);
	assert_non_null(strstr(err.msg, "PML4"));
	aspace_free(as);
}

static void test_self_reference(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	uint64_t idx = 0x1ed, va;

	/* Recursive slot: as on hardware, walking it four times lands on the
	 * PML4 page itself; the walk must end (levels are fixed) and agree. */
	mem_w64(f->src, f->root + idx * 8, f->root | 3);
	va = 0xffff000000000000ull | (idx << 39) | (idx << 30) | (idx << 21) | (idx << 12);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	expect_xlate(as, va + 0x18, f->root + 0x18, 4096);
	aspace_free(as);
}

static void test_pcid_and_pti(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	uint64_t kroot = f->root;
	uint64_t uroot = pa_page(&f->alloc);	/* root + 0x1000: the PTI user half */

	assert_int_equal(uroot, kroot + 0x1000);
	map_lm(f->src, &f->alloc, kroot, 4, 0xffffffff81000000ull, 0x1000000, 2 << 20, 3, 0, NULL, NULL);
	map_lm(f->src, &f->alloc, uroot, 4, 0x400000, 0x700000, 4096, 7, 0, NULL, NULL);
	/* user CR3 with PCID 5 and the no-flush bit */
	as = x86(f, PAGING_4LEVEL, (1ull << 63) | uroot | 5, X86_PTI_KERNEL_ROOT);
	expect_xlate(as, 0x400123, 0x700123, 4096);
	expect_xlate(as, 0xffffffff81000040ull, 0x1000040, 2 << 20);
	aspace_free(as);
	/* without the flag the kernel half is simply not mapped in the user PGD */
	as = x86(f, PAGING_4LEVEL, uroot | 5, 0);
	{
		struct xlate x;

		assert_int_equal(aspace_xlate(as, 0xffffffff81000040ull, &x, NULL), VMET_ENOTPRESENT);
	}
	aspace_free(as);
}

static void test_pae(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;
	struct vmet_err err;
	uint64_t pdpt = 0x9000 + 0x20;	/* 32-byte aligned, not page aligned */
	uint64_t pd = pa_page(&f->alloc), pt = pa_page(&f->alloc);

	mem_w64(f->src, pdpt + 3 * 8, pd | 1);
	mem_w64(f->src, pd + 0 * 8, 0x1e00000 | 0x83 | NX);	/* 2 MiB at 0xc0000000 */
	mem_w64(f->src, pd + 1 * 8, pt | 3);
	mem_w64(f->src, pt + 5 * 8, 0x345000 | 3);
	as = x86(f, PAGING_PAE, pdpt, 0);
	expect_xlate(as, 0xc0012345, 0x1e12345, 2 << 20);
	assert_int_equal(aspace_xlate(as, 0xc0012345, &x, NULL), 0);
	assert_true(x.flags & XL_NX);
	expect_xlate(as, 0xc0205abc, 0x345abc, 4096);
	/* PDPTE 0 not present */
	assert_int_equal(aspace_xlate(as, 0x1000, &x, &err), VMET_ENOTPRESENT);
	assert_non_null(strstr(err.msg, "PDPT"));
	/* reserved bit 1 in a PDPTE */
	mem_w64(f->src, pdpt + 3 * 8, pd | 1 | 2);
	aspace_flush(as);
	assert_int_equal(aspace_xlate(as, 0xc0012345, &x, &err), VMET_ERESERVED);
	/* addresses above 4 GiB do not exist */
	assert_int_equal(aspace_xlate(as, 0x100000000ull, &x, &err), VMET_ENONCANON);
	aspace_free(as);
}

static void test_32bit(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;
	struct vmet_err err;
	uint64_t pd = pa_page(&f->alloc), pt = pa_page(&f->alloc);

	mem_w32(f->src, pd + 0x300 * 4, 0x00c00000 | 0x83);		/* 4 MiB page at 0xc0000000 */
	mem_w32(f->src, pd + 0x301 * 4, 0x00400000 | 0x83 | (0x5 << 13)); /* PSE-36: bits 39:32 = 5 */
	mem_w32(f->src, pd + 1 * 4, (uint32_t)pt | 7);
	mem_w32(f->src, pt + 2 * 4, 0x00abc000 | 7);
	as = x86(f, PAGING_32, pd, 0);
	expect_xlate(as, 0xc0123456, 0xd23456, 4 << 20);
	expect_xlate(as, 0xc0400010, 0x500400010ull, 4 << 20);
	expect_xlate(as, 0x00402abc, 0xabcabc, 4096);
	mem_w32(f->src, pd + 0x302 * 4, 0x00800000 | 0x83 | (1u << 21));
	assert_int_equal(aspace_xlate(as, 0xc0800000, &x, &err), VMET_ERESERVED);
	assert_int_equal(aspace_xlate(as, 0x00800000, &x, &err), VMET_ENOTPRESENT);
	aspace_free(as);
}

static void test_read_crosses_pages(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	char buf[16];
	bool trunc;
	struct vmet_err err;

	/* two adjacent virtual pages backed by non-adjacent frames */
	map_lm(f->src, &f->alloc, f->root, 4, 0x10000, 0x2000000, 4096, 3, 0, NULL, NULL);
	map_lm(f->src, &f->alloc, f->root, 4, 0x11000, 0x1000000, 4096, 3, 0, NULL, NULL);
	mem_write(f->src, 0x2000000 + 4090, "hello ", 6);
	mem_write(f->src, 0x1000000, "world\0", 6);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	assert_int_equal(aspace_read(as, 0x10000 + 4090, buf, 12, NULL), 0);
	assert_memory_equal(buf, "hello world", 12);
	assert_int_equal(aspace_read_str(as, 0x10000 + 4090, buf, sizeof(buf), &trunc, NULL), 11);
	assert_string_equal(buf, "hello world");
	assert_false(trunc);
	/* a string with no terminator is cut and flagged */
	assert_int_equal(aspace_read_str(as, 0x10000 + 4090, buf, 6, &trunc, NULL), 5);
	assert_true(trunc);
	/* a string running into an unmapped page fails with the address */
	mem_write(f->src, 0x1000000, "worldxxxxxxxxxxx", 16);
	memset(mem_bytes(f->src) + 0x1000000, 'x', 4096);
	assert_int_equal(aspace_read_str(as, 0x11000, buf, sizeof(buf), &trunc, &err), 15);
	{
		char big[8192];

		assert_int_equal(aspace_read_str(as, 0x11000, big, sizeof(big), &trunc, &err),
				 VMET_ENOTPRESENT);
	}
	aspace_free(as);
}

static void test_cache_and_flush(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	uint64_t reads;

	map_lm(f->src, &f->alloc, f->root, 4, 0x20000, 0x3000000, 4096, 3, 0, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	expect_xlate(as, 0x20000, 0x3000000, 4096);
	assert_int_equal(as->stats.table_reads, 4);
	expect_xlate(as, 0x20008, 0x3000008, 4096);
	assert_int_equal(as->stats.table_reads, 4);	/* cache hit: no table read */
	assert_int_equal(as->stats.hits, 1);
	/* remap behind the cache's back: stale until flushed, as a TLB */
	map_lm(f->src, &f->alloc, f->root, 4, 0x20000, 0x3100000, 4096, 3, 0, NULL, NULL);
	expect_xlate(as, 0x20000, 0x3000000, 4096);
	aspace_flush(as);
	expect_xlate(as, 0x20000, 0x3100000, 4096);
	/* cache off: every translation walks */
	aspace_set_cache(as, false);
	reads = as->stats.table_reads;
	expect_xlate(as, 0x20000, 0x3100000, 4096);
	expect_xlate(as, 0x20000, 0x3100000, 4096);
	assert_int_equal(as->stats.table_reads, reads + 8);
	aspace_free(as);
}

static void test_trace_flat(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate_trace t = { 0 };
	uint64_t pa;

	map_lm(f->src, &f->alloc, f->root, 4, 0xffffffff82000000ull, 0x2200000, 2 << 20, 3, 0, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	assert_int_equal(aspace_xlate_full(as, 0xffffffff82000010ull, &pa, &t, NULL), 0);
	assert_int_equal(pa, 0x2200010);
	assert_int_equal(t.n, 3);	/* PML4, PDPT, PD (2 MiB leaf) */
	assert_int_equal(t.step[0].level, 4);
	assert_int_equal(t.step[0].table, f->root);
	assert_int_equal(t.step[0].index, 511);
	assert_int_equal(t.step[2].level, 2);
	assert_true(t.step[2].leaf);
	assert_int_equal(t.step[2].page_size, 2 << 20);
	assert_int_equal(t.step[2].out, 0x2200000);
	aspace_free(as);
}

/* The read budget bounds everything read through a source, walks included. */
static void test_read_budget(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	char buf[64];
	struct vmet_err err;

	map_lm(f->src, &f->alloc, f->root, 4, 0x10000, 0x2000000, 4096, 3, 0, NULL, NULL);
	as = x86(f, PAGING_4LEVEL, f->root, 0);
	f->src->bytes_read = 0;
	f->src->read_budget = 4 * 8 + 64;	/* four table entries and the data */
	assert_int_equal(aspace_read(as, 0x10000, buf, 64, &err), 0);
	assert_true(f->src->bytes_read <= f->src->read_budget);
	/* the next read needs no walk (TLB) but the budget is spent */
	assert_int_equal(aspace_read(as, 0x10000, buf, 1, &err), VMET_ELIMIT);
	assert_non_null(strstr(err.msg, "--max-read"));
	/* a budget smaller than what was read already is spent, not wrapped */
	f->src->read_budget = 8;
	assert_int_equal(phys_read(f->src, 0, buf, 1, &err), VMET_ELIMIT);
	f->src->read_budget = 0;	/* no bound */
	assert_int_equal(phys_read(f->src, 0, buf, 64, &err), 0);
	aspace_free(as);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_4level_page_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_accumulate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_present_names_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_beyond_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcid_and_pti, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_crosses_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_flat, setup, teardown),
	};

	return cmocka_run_group_tests_name("walk_x86", tests, NULL, NULL);
}
