// SPDX-License-Identifier: GPL-2.0-or-later
/* VMCB recognition: a real-looking VMCB is found, near misses are not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/svm.h"
#include "tests/unit/helper_mem.h"

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* The state a KVM guest's VMCB has after a #VMEXIT from a 64-bit kernel. */
static void make_vmcb(uint8_t *p)
{
	uint32_t misc2 = 0x3fff, asid = 1;	/* VMRUN..RDTSCP and friends intercepted */
	uint64_t np = 1, ncr3 = 0x7e9f6000, efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE | 1;
	uint64_t cr0 = 0x80050033, cr3 = 0x10a4e000, cr4 = 0x3506f0, rip = 0xffffffff81e0a1ceull;

	memset(p, 0, 4096);
	memcpy(p + VMCB_INTERCEPT_MISC2, &misc2, 4);
	memcpy(p + VMCB_ASID, &asid, 4);
	memcpy(p + VMCB_NESTED_CTL, &np, 8);
	memcpy(p + VMCB_NCR3, &ncr3, 8);
	memcpy(p + VMCB_EFER, &efer, 8);
	memcpy(p + VMCB_CR0, &cr0, 8);
	memcpy(p + VMCB_CR3, &cr3, 8);
	memcpy(p + VMCB_CR4, &cr4, 8);
	memcpy(p + VMCB_RIP, &rip, 8);
}

static void test_check_accepts_real_layout(void **state)
{
	uint8_t p[4096];
	struct vmcb_info v;
	char why[128];

	(void)state;
	make_vmcb(p);
	assert_true(vmcb_check(p, 0x5000, &v, why, sizeof(why)));
	assert_int_equal(v.pa, 0x5000);
	assert_int_equal(v.asid, 1);
	assert_true(v.np);
	assert_int_equal(v.ncr3, 0x7e9f6000);
	assert_int_equal(v.cr3, 0x10a4e000);
	assert_int_equal(v.rip, 0xffffffff81e0a1ceull);
	assert_int_equal(v.mode, PAGING_4LEVEL);
}

static void mutate64(uint8_t *p, size_t off, uint64_t val)
{
	memcpy(p + off, &val, 8);
}

static void test_check_rejects_near_misses(void **state)
{
	uint8_t p[4096];
	char why[128];
	uint32_t zero = 0;

	(void)state;
	make_vmcb(p);
	memcpy(p + VMCB_INTERCEPT_MISC2, &zero, 4);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "VMRUN"));

	make_vmcb(p);
	memcpy(p + VMCB_ASID, &zero, 4);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "ASID"));

	make_vmcb(p);
	mutate64(p, VMCB_EFER, EFER_LME | EFER_LMA);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "SVME"));

	make_vmcb(p);
	mutate64(p, VMCB_CR3, 0xdead000000000000ull);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "CR3"));

	make_vmcb(p);
	mutate64(p, VMCB_NCR3, 0);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "nCR3"));

	make_vmcb(p);
	mutate64(p, VMCB_CR4, 0);	/* long mode without PAE */
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "LMA"));

	/* A host-save area: state-save layout with an empty control area. */
	make_vmcb(p);
	memset(p, 0, 0x400);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
}

static void test_scan_finds_only_vmcbs(void **state)
{
	struct phys_source *src = mem_source_new(16 << 20);
	struct vmcb_info *v = NULL;
	size_t n = 0;
	uint8_t p[4096];

	(void)state;
	/* noise: pages with the VMRUN bit but nothing else right */
	for (uint64_t pa = 0; pa < (16 << 20); pa += 0x10000) {
		uint32_t one = 1;

		mem_write(src, pa + VMCB_INTERCEPT_MISC2, &one, 4);
	}
	make_vmcb(p);
	mem_write(src, 0x345000, p, 4096);
	make_vmcb(p);
	memcpy(p + VMCB_ASID, &(uint32_t){ 2 }, 4);
	mem_write(src, 0xabc000, p, 4096);
	assert_int_equal(vmcb_scan(src, &v, &n, 16, NULL, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].pa, 0x345000);
	assert_int_equal(v[1].pa, 0xabc000);
	assert_int_equal(v[1].asid, 2);
	free(v);
	/* the cap is honoured and reported */
	assert_int_equal(vmcb_scan(src, &v, &n, 1, NULL, NULL, NULL), VMET_ELIMIT);
	assert_int_equal(n, 1);
	free(v);
	phys_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts_real_layout),
		cmocka_unit_test(test_check_rejects_near_misses),
		cmocka_unit_test(test_scan_finds_only_vmcbs),
	};

	return cmocka_run_group_tests_name("svm", tests, NULL, NULL);
}
