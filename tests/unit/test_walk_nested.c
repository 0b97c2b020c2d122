// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stage 2 (EPT, NPT) and two-stage composition: stage-1 tables live in
 * guest-physical memory and every one of their entries is fetched through
 * stage 2, as hardware does.
 */
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
#define GUEST_BASE (32ull << 20)	/* gpa X lives at hpa GUEST_BASE + X */
#define GUEST_SIZE (8ull << 20)

struct fx {
	struct phys_source *src;
	struct page_alloc host;	/* stage-2 tables, host-physical */
	struct page_alloc guest;	/* stage-1 tables, guest-physical */
	uint64_t s2root, cr3;
};

static uint64_t gpa_to_off(void *ctx, uint64_t gpa)
{
	(void)ctx;
	return GUEST_BASE + gpa;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->src = mem_source_new(MEM);
	f->host = (struct page_alloc){ f->src, 0x100000, 0x300000 };
	/* guest allocator hands out gpas; pa_page zeroes at the gpa as if it were
	 * host-physical, which only touches the unused [4 MiB, 6 MiB) host range */
	f->guest = (struct page_alloc){ f->src, 0x400000, 0x600000 };
	f->s2root = pa_page(&f->host);
	f->cr3 = pa_page(&f->guest);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	phys_close(f->src);
	free(f);
	return 0;
}

/* Identity-plus-offset stage 2 over the guest's 8 MiB, in 4 KiB pages. */
static void build_s2(struct fx *f, bool ept)
{
	for (uint64_t gpa = 0; gpa < GUEST_SIZE; gpa += 4096) {
		if (ept)
			map_ept(f->src, &f->host, f->s2root, 4, gpa, GUEST_BASE + gpa, 4096, 7);
		else
			map_lm(f->src, &f->host, f->s2root, 4, gpa, GUEST_BASE + gpa, 4096, 7, 0, NULL, NULL);
	}
}

static void map_guest(struct fx *f, uint64_t va, uint64_t gpa, uint64_t size)
{
	map_lm(f->src, &f->guest, f->cr3, 4, va, gpa, size, 3, 0, gpa_to_off, NULL);
}

static struct aspace *stack(struct fx *f, bool ept)
{
	struct stack_spec spec = { 0 };
	struct aspace *top;
	struct vmet_err err;

	spec.nlevels = 1;
	spec.level[0].s2_type = ept ? STAGE2_EPT : STAGE2_NPT;
	spec.level[0].s2_root = ept ? (f->s2root | 6 | (3 << 3)) : f->s2root;
	spec.level[0].s2_mode = PAGING_4LEVEL;
	spec.stage1 = true;
	spec.mode = PAGING_4LEVEL;
	spec.cr3 = f->cr3;
	if (aspace_stack_build(f->src, &spec, &top, &err))
		fail_msg("%s", err.msg);
	return top;
}

static void nested_reads(void **state, bool ept)
{
	struct fx *f = *state;
	struct aspace *as;
	uint64_t va = 0xffffffff81234000ull, gpa = 0x7f3000, pa;
	char buf[8];

	build_s2(f, ept);
	map_guest(f, va, gpa, 4096);
	mem_write(f->src, GUEST_BASE + gpa + 0x10, "V-Met!!", 8);
	as = stack(f, ept);
	assert_int_equal(as->stage, 1);
	assert_int_equal(as->lower->stage, 2);
	assert_int_equal(as->lower->kind, ept ? ASPACE_EPT : ASPACE_NPT);

	/* cold: 4 stage-1 entries, each fetched through a 4-read stage-2 walk,
	 * plus the stage-2 walk of the final guest-physical page = 24 */
	assert_int_equal(aspace_read(as, va + 0x10, buf, 8, NULL), 0);
	assert_string_equal(buf, "V-Met!!");
	assert_int_equal(aspace_table_reads(as), 24);
	/* warm: both caches hit, no table read at all */
	aspace_reset_stats(as);
	assert_int_equal(aspace_read(as, va + 0x10, buf, 8, NULL), 0);
	assert_int_equal(aspace_table_reads(as), 0);
	assert_int_equal(as->stats.hits, 1);
	assert_int_equal(as->lower->stats.hits, 1);
	/* full translation lands where the bytes are */
	assert_int_equal(aspace_xlate_full(as, va + 0x10, &pa, NULL, NULL), 0);
	assert_int_equal(pa, GUEST_BASE + gpa + 0x10);
	aspace_free_stack(as);
}

static void test_npt_nested_read_counts(void **state) { nested_reads(state, false); }
static void test_ept_nested_read_counts(void **state) { nested_reads(state, true); }

static void test_nested_trace(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate_trace t = { 0 };
	uint64_t pa;

	build_s2(f, true);
	map_guest(f, 0x400000, 0x123000, 4096);
	as = stack(f, true);
	assert_int_equal(aspace_xlate_full(as, 0x400abc, &pa, &t, NULL), 0);
	assert_int_equal(pa, GUEST_BASE + 0x123abc);
	assert_int_equal(t.n, 24);
	/* hardware order: the stage-2 walk of a table's page, then the stage-1 entry */
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 4; k++) {
			assert_int_equal(t.step[i * 5 + k].stage, 2);
			assert_int_equal(t.step[i * 5 + k].kind, ASPACE_EPT);
			assert_int_equal(t.step[i * 5 + k].level, 4 - k);
		}
		assert_int_equal(t.step[i * 5 + 4].stage, 1);
		assert_int_equal(t.step[i * 5 + 4].level, 4 - i);
	}
	assert_int_equal(t.step[4].table, f->cr3);	/* stage-1 table addresses are guest-physical */
	for (int k = 20; k < 24; k++)
		assert_int_equal(t.step[k].stage, 2);
	assert_true(t.step[23].leaf);
	assert_int_equal(t.step[23].out, GUEST_BASE + 0x123000);
	aspace_free_stack(as);
}

static void test_stage2_failure_names_stage(void **state)
{
	struct fx *f = *state;
	struct aspace *as;
	struct xlate x;
	struct vmet_err err;
	char buf[8];

	build_s2(f, false);
	/* a stage-1 page whose guest-physical frame stage 2 does not map */
	map_guest(f, 0x800000, 0x7000000, 4096);
	as = stack(f, false);
	assert_int_equal(aspace_read(as, 0x800000, buf, 8, &err), VMET_ENOTPRESENT);
	assert_non_null(strstr(err.msg, "stage 2 (NPT"));
	/* a stage-1 table entry whose table stage 2 does not map: stage 1 names
	 * its level, and the message carries the stage-2 reason */
	mem_w64(f->src, GUEST_BASE + f->cr3 + 8 * 3, 0x7100000 | 3);
	aspace_flush(as);
	assert_int_equal(aspace_xlate(as, 3ull << 39, &x, &err), VMET_ENOTPRESENT);
	assert_non_null(strstr(err.msg, "stage 1 (paging 4-level) level 3 PDPT"));
	assert_non_null(strstr(err.msg, "stage 2"));
	aspace_free_stack(as);
}

static void test_eptp_decode(void **state)
{
	struct eptp_info i;
	struct vmet_err err;

	(void)state;
	assert_int_equal(eptp_decode(0x12345000 | 0x5e, &i, &err), 0);	/* WB, 4 levels, A/D */
	assert_int_equal(i.memtype, 6);
	assert_int_equal(i.levels, 4);
	assert_true(i.ad);
	assert_int_equal(i.root, 0x12345000);
	assert_int_equal(eptp_decode(0x1000 | 6 | (4 << 3), &i, NULL), 0);
	assert_int_equal(i.levels, 5);
	assert_int_equal(eptp_decode(0x1000 | 3 | (3 << 3), &i, &err), VMET_EINVAL);
	assert_non_null(strstr(err.msg, "memory type 3"));
	assert_int_equal(eptp_decode(0x1000 | 6 | (2 << 3), &i, &err), VMET_EINVAL);
	assert_non_null(strstr(err.msg, "walk length 3"));
	assert_int_equal(eptp_decode(0x1000 | 6 | (3 << 3) | 0x100, &i, &err), VMET_EINVAL);
	assert_non_null(strstr(err.msg, "reserved"));
	{
		struct aspace *phys = aspace_phys_new(NULL);

		assert_null(aspace_ept_new(phys, 0xdeadbeefcafe, &err));
		aspace_free(phys);
	}
}

static void test_ept_entries(void **state)
{
	struct fx *f = *state;
	struct aspace *phys = aspace_phys_new(f->src), *ept;
	struct xlate x;
	struct vmet_err err;
	uint64_t root = f->s2root, *e;

	map_ept(f->src, &f->host, root, 4, 0x40000000, 0x0, 1ull << 30, 5);	/* 1 GiB, R+X */
	map_ept(f->src, &f->host, root, 4, 0x200000, 0x600000, 2 << 20, 3);	/* 2 MiB, R+W */
	map_ept(f->src, &f->host, root, 4, 0x5000, 0x9000, 4096, 4);		/* execute-only */
	ept = aspace_ept_new(phys, root | 6 | (3 << 3), &err);
	assert_non_null(ept);
	aspace_number_stages(ept);
	assert_int_equal(aspace_xlate(ept, 0x40000123, &x, NULL), 0);
	assert_int_equal(x.out, 0x123);
	assert_int_equal(x.page_size, 1ull << 30);
	assert_true(x.flags & XL_R);
	assert_false(x.flags & XL_W);
	assert_false(x.flags & XL_NX);
	assert_int_equal(aspace_xlate(ept, 0x3fffff, &x, NULL), 0);
	assert_int_equal(x.out, 0x7fffff);
	assert_true(x.flags & XL_W);
	assert_true(x.flags & XL_NX);
	assert_int_equal(aspace_xlate(ept, 0x5008, &x, NULL), 0);
	assert_false(x.flags & XL_R);
	/* not present */
	assert_int_equal(aspace_xlate(ept, 0x80000000, &x, &err), VMET_ENOTPRESENT);
	assert_non_null(strstr(err.msg, "EPT PDPT"));
	/* the 2 MiB leaf: find it and damage it in turn */
	{
		uint64_t pml4e = ((uint64_t *)(mem_bytes(f->src) + root))[0];
		uint64_t pdpte = ((uint64_t *)(mem_bytes(f->src) + (pml4e & ~0xfffull)))[0];
		e = (uint64_t *)(mem_bytes(f->src) + (pdpte & ~0xfffull)) + 1;
	}
	*e = (*e & ~7ull) | 2;		/* write-only */
	aspace_flush(ept);
	assert_int_equal(aspace_xlate(ept, 0x200000, &x, &err), VMET_EMISCONFIG);
	assert_non_null(strstr(err.msg, "writable but not readable"));
	*e = (*e & ~0x3full) | 3 | (2 << 3);	/* memory type 2 is reserved */
	aspace_flush(ept);
	assert_int_equal(aspace_xlate(ept, 0x200000, &x, &err), VMET_EMISCONFIG);
	assert_non_null(strstr(err.msg, "memory type"));
	*e = (*e & ~0x3full) | 3 | (6 << 3) | (1 << 12);	/* reserved bit 12 in a 2 MiB leaf */
	aspace_flush(ept);
	assert_int_equal(aspace_xlate(ept, 0x200000, &x, &err), VMET_EMISCONFIG);
	assert_non_null(strstr(err.msg, "2 MiB"));
	/* beyond the 48-bit reach of a 4-level EPT */
	assert_int_equal(aspace_xlate(ept, 1ull << 48, &x, &err), VMET_ENONCANON);
	aspace_free(ept);
	aspace_free(phys);
}

static void test_npt_5level(void **state)
{
	struct fx *f = *state;
	struct aspace *phys = aspace_phys_new(f->src), *npt;
	struct xlate x;

	map_lm(f->src, &f->host, f->s2root, 5, 0x1000000000000ull, 0x3000, 4096, 7, 0, NULL, NULL);
	npt = aspace_npt_new(phys, PAGING_5LEVEL, f->s2root, NULL);
	assert_non_null(npt);
	assert_int_equal(aspace_xlate(npt, 0x1000000000040ull, &x, NULL), 0);
	assert_int_equal(x.out, 0x3040);
	/* the same address is beyond the reach of 4-level nested tables */
	aspace_free(npt);
	npt = aspace_npt_new(phys, PAGING_4LEVEL, f->s2root, NULL);
	assert_int_equal(aspace_xlate(npt, 0x1000000000040ull, &x, NULL), VMET_ENONCANON);
	aspace_free(npt);
	assert_null(aspace_npt_new(phys, PAGING_PAE, f->s2root, NULL));
	aspace_free(phys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_npt_nested_read_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_nested_read_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage2_failure_names_stage, setup, teardown),
		cmocka_unit_test(test_eptp_decode),
		cmocka_unit_test_setup_teardown(test_ept_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_npt_5level, setup, teardown),
	};

	return cmocka_run_group_tests_name("walk_nested", tests, NULL, NULL);
}
