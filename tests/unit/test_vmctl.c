// SPDX-License-Identifier: GPL-2.0-or-later
/* VMCB, vmcs12, Xen virtual VMCS and Xen PV root recognition: real-looking structures are found, near misses are not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/guests.h"
#include "core/svm.h"
#include "core/vmx.h"
#include "core/xenpv.h"
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
	memcpy(p + VMCB_IOPM_BASE, &(uint64_t){ 0x3a0000 }, 8);
	memcpy(p + VMCB_MSRPM_BASE, &(uint64_t){ 0x3a4000 }, 8);
}

static void test_check_accepts_real_layout(void **state)
{
	uint8_t p[4096];
	struct vmctl v;
	char why[128];

	(void)state;
	make_vmcb(p);
	assert_true(vmcb_check(p, 0x5000, &v, why, sizeof(why)));
	assert_int_equal(v.pa, 0x5000);
	assert_int_equal(v.id, 1);
	assert_int_equal(v.kind, VMCTL_VMCB);
	assert_int_equal(v.s2_type, STAGE2_NPT);
	assert_int_equal(v.s2_root, 0x7e9f6000);
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

	make_vmcb(p);
	mutate64(p, 0x20, 0xffff888004c3e000ull);	/* kernel data in the reserved bytes */
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "reserved control-area"));

	make_vmcb(p);
	mutate64(p, VMCB_IOPM_BASE, 0x3a0010);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "IOPM"));

	make_vmcb(p);
	p[VMCB_TLB_CONTROL] = 2;
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "TLB control"));

	make_vmcb(p);
	mutate64(p, VMCB_NCR3, 0x102d);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "nCR3"));

	/* A host-save area: state-save layout with an empty control area. */
	make_vmcb(p);
	memset(p, 0, 0x400);
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
}

static void test_scan_finds_only_vmcbs(void **state)
{
	struct phys_source *src = mem_source_new(16 << 20);
	struct vmctl *v = NULL;
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
	assert_int_equal(vmctl_scan(src, &v, &n, 16, NULL, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].pa, 0x345000);
	assert_int_equal(v[1].pa, 0xabc000);
	assert_int_equal(v[1].id, 2);
	free(v);
	/* the cap is honoured and reported */
	assert_int_equal(vmctl_scan(src, &v, &n, 1, NULL, NULL, NULL), VMET_ELIMIT);
	assert_int_equal(n, 1);
	free(v);
	phys_close(src);
}

static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }

/* A vmcs12 as KVM leaves it for a 64-bit guest with EPT. */
static void make_vmcs12(uint8_t *p)
{
	memset(p, 0, 4096);
	put32(p, 0, VMCS12_REVISION);
	put32(p, VMCS12_LAUNCH_STATE, 1);
	mutate64(p, VMCS12_EPT_POINTER, 0x1234000 | 6 | (3 << 3) | (1 << 6));
	mutate64(p, VMCS12_GUEST_EFER, 0xd01);
	mutate64(p, VMCS12_GUEST_CR0, 0x80050033);
	mutate64(p, VMCS12_GUEST_CR3, 0x5a5a000);
	mutate64(p, VMCS12_GUEST_CR4, 0x3726f0);
	mutate64(p, VMCS12_GUEST_RIP, 0xffffffff81000000ull);
	put32(p, VMCS12_CPU_BASED_CTL, 0x80000000u | 0x1000);
	put32(p, VMCS12_SECONDARY_CTL, 0x2 | 0x20);
	put32(p, VMCS12_VPID, 3);
}

static void test_vmcs12(void **state)
{
	uint8_t p[4096];
	struct vmctl v;
	char why[128];

	(void)state;
	make_vmcs12(p);
	assert_true(vmcs12_check(p, 0x9000, &v, why, sizeof(why)));
	assert_int_equal(v.kind, VMCTL_VMCS12);
	assert_int_equal(v.s2_type, STAGE2_EPT);
	assert_int_equal(v.s2_root, 0x1234000 | 6 | (3 << 3) | (1 << 6));
	assert_int_equal(v.s2_mode, PAGING_4LEVEL);
	assert_int_equal(v.cr3, 0x5a5a000);
	assert_int_equal(v.id, 3);
	assert_int_equal(v.mode, PAGING_4LEVEL);
	/* not a VMCB */
	assert_false(vmcb_check(p, 0x9000, NULL, why, sizeof(why)));

	/* EPT off: found, without a stage 2 (shadow paging) */
	put32(p, VMCS12_SECONDARY_CTL, 0);
	assert_true(vmcs12_check(p, 0x9000, &v, why, sizeof(why)));
	assert_int_equal(v.s2_type, STAGE2_NONE);

	make_vmcs12(p);
	mutate64(p, VMCS12_EPT_POINTER, 0x1234000 | 3);	/* invalid memory type */
	assert_false(vmcs12_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "EPTP"));
	make_vmcs12(p);
	put32(p, 0, 0x11e57ed1);
	assert_false(vmcs12_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "revision"));
	make_vmcs12(p);
	put32(p, VMCS12_LAUNCH_STATE, 7);
	assert_false(vmcs12_check(p, 0, NULL, why, sizeof(why)));
	make_vmcs12(p);
	mutate64(p, VMCS12_GUEST_CR3, 1ull << 60);
	assert_false(vmcs12_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "CR3"));
}

/* Xen's virtual VMCS: field encodings map to the slots Xen's layout gives. */
static void test_xen_vvmcs_slots(void **state)
{
	(void)state;
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_VPID), 63);
	assert_int_equal(xen_vvmcs_slot(0x0002), 1);		/* posted-interrupt vector */
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_EPT_POINTER), 141);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_EPT_POINTER | 1), 141);	/* high half */
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_LINK_POINTER), 192);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_GUEST_EFER), 195);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_PIN_CTL), 256);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_SECONDARY_CTL), 271);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_GUEST_CR0), 448);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_GUEST_CR3), 449);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_GUEST_RIP), 463);
	assert_int_equal(xen_vvmcs_slot(VMCS_ENC_HOST_CR4), 482);
	for (uint32_t enc = 0; enc < 0x8000; enc++)
		assert_true(xen_vvmcs_slot(enc) < 512);
}

/* Store a field the way Xen does: masked to its width. */
static void xput(uint8_t *p, uint32_t enc, uint64_t val)
{
	unsigned w = (enc >> 13) & 3;

	if (w == 0)
		val &= 0xffff;
	else if (w == 2)
		val &= 0xffffffff;
	mutate64(p, 8 * xen_vvmcs_slot(enc), val);
}

/* A virtual VMCS as a Xen host leaves it for a 64-bit KVM-or-Xen guest
 * hypervisor's 64-bit guest with EPT (fields as KVM writes them). */
static void make_xen_vvmcs(uint8_t *p, uint32_t revision)
{
	memset(p, 0, 4096);
	put32(p, 0, revision);
	xput(p, VMCS_ENC_VPID, 1);
	xput(p, 0x0800, 0x18);					/* guest ES selector */
	xput(p, VMCS_ENC_EPT_POINTER, 0x3e81e000 | 6 | (3 << 3) | (1 << 6));
	xput(p, VMCS_ENC_LINK_POINTER, ~0ull);
	xput(p, VMCS_ENC_GUEST_EFER, 0xd01);
	xput(p, 0x2804, 0x0007040600070406ull);			/* guest PAT */
	xput(p, VMCS_ENC_PIN_CTL, 0x16 | 1 | 8);
	xput(p, VMCS_ENC_CPU_CTL, 0x80000000u | 0x04006172);
	xput(p, VMCS_ENC_EXIT_CTL, 0x3fefff);
	xput(p, VMCS_ENC_ENTRY_CTL, 0xd3ff);			/* IA-32e, load EFER */
	xput(p, VMCS_ENC_SECONDARY_CTL, 0x2 | 0x20 | 0x80);	/* EPT, VPID, unrestricted */
	xput(p, 0x4800, 0xffffffff);				/* guest ES limit */
	xput(p, VMCS_ENC_GUEST_CR0, 0x80050033);
	xput(p, VMCS_ENC_GUEST_CR3, 0x6b42000);
	xput(p, VMCS_ENC_GUEST_CR4, 0x3726f0);
	xput(p, VMCS_ENC_GUEST_RIP, 0xffffffff81e0a1ceull);
	xput(p, VMCS_ENC_HOST_CR0, 0x80050033);
	xput(p, VMCS_ENC_HOST_CR3, 0x10ab000);
	xput(p, VMCS_ENC_HOST_CR4, 0x3726f0);
}

static void test_xen_vvmcs(void **state)
{
	uint8_t p[4096];
	struct vmctl v;
	char why[160];

	(void)state;
	make_xen_vvmcs(p, 0x10);
	assert_true(xen_vvmcs_check(p, 0x7000, &v, why, sizeof(why)));
	assert_int_equal(v.kind, VMCTL_XEN_VVMCS);
	assert_string_equal(vmctl_kind_name(v.kind), "xen-vvmcs");
	assert_int_equal(v.pa, 0x7000);
	assert_int_equal(v.s2_type, STAGE2_EPT);
	assert_int_equal(v.s2_root, 0x3e81e000 | 6 | (3 << 3) | (1 << 6));
	assert_int_equal(v.s2_mode, PAGING_4LEVEL);
	assert_int_equal(v.cr0, 0x80050033);
	assert_int_equal(v.cr3, 0x6b42000);
	assert_int_equal(v.cr4, 0x3726f0);
	assert_int_equal(v.efer, 0xd01);
	assert_int_equal(v.rip, 0xffffffff81e0a1ceull);
	assert_int_equal(v.id, 1);
	assert_int_equal(v.mode, PAGING_4LEVEL);
	/* neither a VMCB nor a vmcs12 */
	assert_false(vmcb_check(p, 0, NULL, why, sizeof(why)));
	assert_false(vmcs12_check(p, 0, NULL, why, sizeof(why)));

	/* A Xen host nested in KVM passes vmcs12's revision on: still Xen's. */
	make_xen_vvmcs(p, VMCS12_REVISION);
	assert_true(xen_vvmcs_check(p, 0, &v, why, sizeof(why)));

	/* Without "load IA32_EFER" the EFER field is 0; the entry control
	 * still makes the guest 64-bit. */
	make_xen_vvmcs(p, 0x10);
	xput(p, VMCS_ENC_ENTRY_CTL, 0x13ff);	/* IA-32e, no load EFER */
	xput(p, VMCS_ENC_GUEST_EFER, 0);
	assert_true(xen_vvmcs_check(p, 0, &v, why, sizeof(why)));
	assert_int_equal(v.mode, PAGING_4LEVEL);

	/* EPT off: found, no stage 2 (and no unrestricted guest without EPT) */
	make_xen_vvmcs(p, 0x10);
	xput(p, VMCS_ENC_SECONDARY_CTL, 0x20);
	assert_true(xen_vvmcs_check(p, 0, &v, why, sizeof(why)));
	assert_int_equal(v.s2_type, STAGE2_NONE);
	xput(p, VMCS_ENC_SECONDARY_CTL, 0xa0);
	assert_false(xen_vvmcs_check(p, 0, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "unrestricted"));
	/* secondary controls ignored unless activated */
	make_xen_vvmcs(p, 0x10);
	xput(p, VMCS_ENC_CPU_CTL, 0x04006172);
	assert_true(xen_vvmcs_check(p, 0, &v, why, sizeof(why)));
	assert_int_equal(v.s2_type, STAGE2_NONE);
}

struct xen_miss {
	uint32_t enc;		/* 0xffffffff: raw byte offset in `off` */
	size_t off;
	uint64_t val;
	const char *why;
};

static void test_xen_vvmcs_near_misses(void **state)
{
	static const struct xen_miss miss[] = {
		{ 0xffffffff, 4, 1, "abort" },
		{ 0xffffffff, 0, 0, "revision" },
		{ 0xffffffff, 0, 0x80000010u, "shadow-VMCS" },
		{ 0xffffffff, 8 * 1, 0x10000, "16-bit" },		/* 16-bit slot too wide */
		{ 0xffffffff, 8 * 40, 1, "16-bit" },			/* no such field */
		{ 0xffffffff, 8 * 300, 1ull << 32, "32-bit" },
		{ VMCS_ENC_LINK_POINTER, 0, 0x1234, "link pointer" },
		{ VMCS_ENC_LINK_POINTER, 0, 0, NULL },			/* page 0: allowed */
		{ VMCS_ENC_HOST_CR0, 0, 0x80050013, "host CR0" },	/* NE clear */
		{ VMCS_ENC_HOST_CR4, 0, 0x3706f0 & ~0x2000ull, "host CR4" },
		{ VMCS_ENC_HOST_CR3, 0, 1ull << 55, "host CR3" },
		{ VMCS_ENC_PIN_CTL, 0, 0x9, "pin-based" },
		{ VMCS_ENC_GUEST_CR0, 0, 0x80050013, "guest CR0" },
		{ VMCS_ENC_GUEST_CR0, 0, 0x80000020, "PE/PG" },		/* PG without PE */
		{ VMCS_ENC_GUEST_CR4, 0, 0x3706f0 & ~0x2000ull, "guest CR4" },
		{ VMCS_ENC_GUEST_CR4, 0, 0x2000, "IA-32e" },		/* long mode, no PAE */
		{ VMCS_ENC_GUEST_CR3, 0, 1ull << 60, "CR3" },
		{ VMCS_ENC_GUEST_EFER, 0, 0x1d01, "EFER" },		/* SVME is AMD's */
		{ VMCS_ENC_GUEST_EFER, 0, 0x001, "LMA" },
		{ VMCS_ENC_EPT_POINTER, 0, 0x3e81e000 | 3, "EPTP" },
		{ VMCS_ENC_EPT_POINTER, 0, 6 | (3 << 3), "EPTP" },	/* table at 0 */
	};
	uint8_t p[4096];
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
		make_xen_vvmcs(p, 0x10);
		if (miss[i].enc == 0xffffffff) {
			if (miss[i].off == 0 || miss[i].off == 4)
				put32(p, miss[i].off, (uint32_t)miss[i].val);
			else
				mutate64(p, miss[i].off, miss[i].val);
		} else {
			mutate64(p, 8 * xen_vvmcs_slot(miss[i].enc), miss[i].val);
		}
		why[0] = '\0';
		if (!miss[i].why) {
			assert_true(xen_vvmcs_check(p, 0, NULL, why, sizeof(why)));
			continue;
		}
		if (xen_vvmcs_check(p, 0, NULL, why, sizeof(why)))
			fail_msg("case %zu (%s) accepted", i, miss[i].why);
		if (!strstr(why, miss[i].why))
			fail_msg("case %zu: expected '%s' in '%s'", i, miss[i].why, why);
	}
}

/* Hostile memory: no checker takes random pages, uniform pages, page
 * tables, text, or a random page behind a well-formed VMCS header. */
static void test_hostile_pages(void **state)
{
	uint8_t p[4096];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0;

	(void)state;
	for (unsigned n = 0; n < 20000; n++) {
		for (size_t i = 0; i < sizeof(p); i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(p + i, &x, 8);
		}
		switch (n % 4) {
		case 1:		/* a valid header on random bytes */
			put32(p, 0, 0x10);
			put32(p, 4, 0);
			mutate64(p, 8, 0);
			break;
		case 2:		/* mostly zero, random bytes sprinkled */
			for (size_t i = 0; i < sizeof(p); i++)
				if (p[i] & 0xf0)
					p[i] = 0;
			put32(p, 0, 0x4);
			put32(p, 4, 0);
			break;
		case 3:		/* small values only: every 16/32-bit slot passes */
			for (size_t i = 0; i < sizeof(p); i += 8)
				mutate64(p, i, le64(p + i) & 0xffff);
			put32(p, 0, 0x12);
			put32(p, 4, 0);
			break;
		}
		accepted += vmcb_check(p, 0, NULL, NULL, 0) + vmcs12_check(p, 0, NULL, NULL, 0) +
			    xen_vvmcs_check(p, 0, NULL, NULL, 0) + xen_pv_root_check(p, 0, NULL, NULL, 0);
		/* past the PV pre-filter: entry 258 maps the page */
		mutate64(p, 8 * XEN_PV_L4_LINEAR, 0x5063);
		accepted += xen_pv_root_check(p, 0x5000, NULL, NULL, 0);
	}
	assert_int_equal(accepted, 0);
	for (unsigned b = 0; b < 256; b++) {
		memset(p, b, sizeof(p));
		assert_false(vmcb_check(p, 0, NULL, NULL, 0));
		assert_false(xen_vvmcs_check(p, 0, NULL, NULL, 0));
	}
	/* a page table: entries 0x...067 */
	for (size_t i = 0; i < 512; i++)
		mutate64(p, 8 * i, 0x1000000ull + 0x1000 * i + 0x67);
	assert_false(xen_vvmcs_check(p, 0, NULL, NULL, 0));
	assert_false(vmcb_check(p, 0, NULL, NULL, 0));
	/* text */
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = "Linux version 6.1.0 (debian-kernel@lists.debian.org) "[i % 53];
	assert_false(xen_vvmcs_check(p, 0, NULL, NULL, 0));
	/* a vmcs12 (host PAT at 256, a 16-bit read-only slot in Xen's layout) */
	make_vmcs12(p);
	mutate64(p, 256, 0x0007040600070406ull);
	assert_false(xen_vvmcs_check(p, 0, NULL, NULL, 0));
}

static void test_scan_xen(void **state)
{
	struct phys_source *src = mem_source_new(8 << 20);
	struct vmctl *v = NULL;
	size_t n = 0;
	uint8_t p[4096];

	(void)state;
	/* noise that passes the pre-filter: small header, then junk */
	for (uint64_t pa = 0; pa < (8 << 20); pa += 0x3000) {
		put32(p, 0, 0x10);
		memset(p + 4, 0x11, sizeof(p) - 4);
		put32(p, 4, 0);
		mutate64(p, 8, 0);
		mem_write(src, pa, p, 4096);
	}
	make_xen_vvmcs(p, VMCS12_REVISION);
	mem_write(src, 0x401000, p, 4096);
	make_vmcs12(p);
	mem_write(src, 0x402000, p, 4096);
	assert_int_equal(vmctl_scan(src, &v, &n, 16, NULL, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].kind, VMCTL_XEN_VVMCS);
	assert_int_equal(v[0].pa, 0x401000);
	assert_int_equal(v[1].kind, VMCTL_VMCS12);
	free(v);
	phys_close(src);
}

static void test_scan_both_kinds(void **state)
{
	struct phys_source *src = mem_source_new(8 << 20);
	struct vmctl *v = NULL;
	size_t n = 0;
	uint8_t p[4096];

	(void)state;
	make_vmcs12(p);
	mem_write(src, 0x200000, p, 4096);
	make_vmcb(p);
	mem_write(src, 0x7ff000, p, 4096);
	assert_int_equal(vmctl_scan(src, &v, &n, 16, NULL, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].kind, VMCTL_VMCS12);
	assert_int_equal(v[0].pa, 0x200000);
	assert_int_equal(v[1].kind, VMCTL_VMCB);
	assert_int_equal(v[1].pa, 0x7ff000);
	free(v);
	phys_close(src);
}

static void test_guests_grouping(void **state)
{
	struct phys_source *src = mem_source_new(8 << 20);
	struct guest_list gl;
	uint8_t p[4096];
	unsigned path[4];

	(void)state;
	/* guest A: two vCPUs sharing nCR3 0x7e9f6000 (one with PWT set in nCR3);
	 * guest B: one vCPU with another nCR3, placed lowest in memory */
	make_vmcb(p);
	mem_write(src, 0x300000, p, 4096);
	mutate64(p, VMCB_NCR3, 0x7e9f6008);
	mutate64(p, VMCB_CR3, 0x2222000);
	mem_write(src, 0x500000, p, 4096);
	make_vmcb(p);
	mutate64(p, VMCB_NCR3, 0x11111000);
	mem_write(src, 0x100000, p, 4096);
	assert_int_equal(guests_discover(src, &gl, NULL, NULL, NULL), 0);
	assert_int_equal(gl.n, 2);
	assert_int_equal(gl.g[0].number, 1);
	assert_int_equal(gl.g[0].s2_root, 0x11111000);
	assert_int_equal(gl.g[0].nvcpu, 1);
	assert_int_equal(gl.g[1].number, 2);
	assert_int_equal(gl.g[1].nvcpu, 2);
	assert_int_equal(gl.g[1].vcpu[0].pa, 0x300000);
	assert_int_equal(gl.g[1].vcpu[1].cr3, 0x2222000);
	guest_list_free(&gl);
	phys_close(src);

	assert_int_equal(guest_path_parse("2", path, 4), 1);
	assert_int_equal(path[0], 2);
	assert_int_equal(guest_path_parse("1/3", path, 4), 2);
	assert_int_equal(path[1], 3);
	assert_int_equal(guest_path_parse("0", path, 4), -1);
	assert_int_equal(guest_path_parse("1/", path, 4), -1);
	assert_int_equal(guest_path_parse("x", path, 4), -1);
	assert_int_equal(guest_path_parse("", path, 4), -1);
	assert_int_equal(guest_path_parse("1/1/1/1/1", path, 4), -1);
}

/*
 * A 64-bit PV Linux's kernel root at pa as Xen 4.17 leaves it (entries as
 * read off a real bed): user half, Xen's slots (256 RO M2P, 258 the table
 * itself, 260-262), the direct map at 273, the kernel half at 511.
 */
static void make_pv_root(uint8_t *p, uint64_t pa, uint64_t kernel_half)
{
	memset(p, 0, 4096);
	mutate64(p, 8 * 0, 0x3bbc1067);
	mutate64(p, 8 * 256, 0x80000000776f0025ull);
	mutate64(p, 8 * 257, 0x7fdaf063);
	mutate64(p, 8 * 258, 0x8000000000000063ull | pa);
	mutate64(p, 8 * 260, 0x8000000073543063ull);
	mutate64(p, 8 * 261, 0x7fc6d063);
	mutate64(p, 8 * 262, 0x800000007fc6c063ull);
	mutate64(p, 8 * 273, 0x3f812067);
	mutate64(p, 8 * 510, 0x3f114067);
	mutate64(p, 8 * 511, kernel_half | 0x67);
}

static void test_xen_pv_root(void **state)
{
	uint8_t p[4096];
	struct vmctl v;
	char why[160];

	(void)state;
	make_pv_root(p, 0x3b62e000, 0x3f815000);
	assert_true(xen_pv_root_check(p, 0x3b62e000, &v, why, sizeof(why)));
	assert_int_equal(v.kind, VMCTL_XEN_PV);
	assert_int_equal(v.cr3, 0x3b62e000);
	assert_int_equal(v.s2_type, STAGE2_NONE);
	assert_int_equal(v.s2_root, 0x3f815000);
	assert_int_equal(v.mode, PAGING_4LEVEL);
	assert_true(vmctl_check_kind(VMCTL_XEN_PV, p, 0x3b62e000, NULL, NULL, 0));
	/* the same page elsewhere: entry 258 no longer maps itself */
	assert_false(xen_pv_root_check(p, 0x3b62f000, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "entry 258"));
	/* a user-mode root (m2p_strict: no M2P slot) */
	mutate64(p, 8 * 256, 0);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "M2P"));
	/* a writable M2P slot is not Xen's */
	mutate64(p, 8 * 256, 0x80000000776f0027ull);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, NULL, 0));
	make_pv_root(p, 0x3b62e000, 0x3f815000);
	/* no kernel half, or one that is the table itself */
	mutate64(p, 8 * 511, 0);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "entry 511"));
	mutate64(p, 8 * 511, 0x3b62e067);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, NULL, 0));
	/* Xen's linear slot is supervisor-only and never large */
	make_pv_root(p, 0x3b62e000, 0x3f815000);
	mutate64(p, 8 * 258, 0x3b62e067);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, NULL, 0));
	mutate64(p, 8 * 258, 0x3b62e0e3);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, NULL, 0));
	/* without Xen's own image slot it is not Xen's */
	make_pv_root(p, 0x3b62e000, 0x3f815000);
	mutate64(p, 8 * 261, 0);
	assert_false(xen_pv_root_check(p, 0x3b62e000, NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "261"));
	/* an ordinary (native, HVM) Linux root has no self-map */
	for (size_t i = 0; i < 512; i++)
		mutate64(p, 8 * i, 0x1000000ull + 0x1000 * i + 0x67);
	assert_false(xen_pv_root_check(p, 0x1102000, NULL, NULL, 0));
}

/* Liveness from Xen's M2P, read through the root's own slot 256. */
static void test_xen_pv_m2p(void **state)
{
	struct phys_source *src = mem_source_new(8 << 20);
	struct page_alloc alloc = { src, 0x600000, 0x700000 };
	struct aspace *phys = aspace_phys_new(src), *as;
	const uint64_t root = 0x200000, m2p_page = 0x400000;
	uint8_t p[4096];
	uint64_t e = 0;
	bool valid = true;
	struct vmet_err err = { 0 };

	(void)state;
	make_pv_root(p, root, 0x300000);
	mutate64(p, 8 * XEN_PV_L4_RO_MPT, 0);
	mem_write(src, root, p, 4096);
	/* the M2P page holding the entries of frames 0x200-0x3ff, read-only */
	map_lm(src, &alloc, root, 4, XEN_PV_RO_MPT_VA + 8 * 0x200, m2p_page, 4096, 0x4, 0, NULL, NULL);
	mem_w64(src, m2p_page, 0x1234);
	as = aspace_x86_new(phys, PAGING_4LEVEL, root, 0, NULL);
	assert_non_null(as);
	assert_true(xen_pv_root_check(mem_bytes(src) + root, root, NULL, NULL, 0));
	assert_int_equal(xen_pv_m2p_entry(as, root >> 12, &e, &valid, &err), 0);
	assert_int_equal(e, 0x1234);
	assert_true(valid);
	/* Xen took the frame back */
	mem_w64(src, m2p_page, ~0ull);
	aspace_free(as);
	as = aspace_x86_new(phys, PAGING_4LEVEL, root, 0, NULL);
	assert_int_equal(xen_pv_m2p_entry(as, root >> 12, &e, &valid, &err), 0);
	assert_false(valid);
	/* a frame whose entry is not mapped, one past the M2P */
	assert_int_not_equal(xen_pv_m2p_entry(as, 0x10000, &e, &valid, &err), 0);
	assert_non_null(strstr(err.msg, "M2P entry of machine frame 0x10000"));
	assert_int_equal(xen_pv_m2p_entry(as, 1ull << 35, &e, &valid, &err), VMET_EINVAL);
	aspace_free(as);
	aspace_free(phys);
	phys_close(src);
}

/* PV roots group by kernel half: two kernels (a domU and dom0), one guest
 * each, numbered with the VMCB guests by address. */
static void test_xen_pv_grouping(void **state)
{
	struct phys_source *src = mem_source_new(8 << 20);
	struct guest_list gl;
	uint8_t p[4096];

	(void)state;
	make_pv_root(p, 0x200000, 0x600000);
	mem_write(src, 0x200000, p, 4096);
	make_pv_root(p, 0x480000, 0x600000);
	mem_write(src, 0x480000, p, 4096);
	make_pv_root(p, 0x300000, 0x700000);
	mem_write(src, 0x300000, p, 4096);
	/* a user-mode root of the first kernel: not taken */
	make_pv_root(p, 0x310000, 0x610000);
	mutate64(p, 8 * 256, 0);
	mem_write(src, 0x310000, p, 4096);
	make_vmcb(p);
	mem_write(src, 0x100000, p, 4096);
	assert_int_equal(guests_discover(src, &gl, NULL, NULL, NULL), 0);
	assert_int_equal(gl.n, 3);
	assert_int_equal(gl.g[0].kind, VMCTL_VMCB);
	assert_int_equal(gl.g[1].kind, VMCTL_XEN_PV);
	assert_int_equal(gl.g[1].s2_root, 0x600000);
	assert_int_equal(gl.g[1].nvcpu, 2);
	assert_int_equal(gl.g[1].vcpu[0].cr3, 0x200000);
	assert_int_equal(gl.g[1].vcpu[1].cr3, 0x480000);
	assert_int_equal(gl.g[2].number, 3);
	assert_int_equal(gl.g[2].s2_root, 0x700000);
	assert_int_equal(gl.g[2].nvcpu, 1);
	guest_list_free(&gl);
	phys_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts_real_layout),
		cmocka_unit_test(test_check_rejects_near_misses),
		cmocka_unit_test(test_scan_finds_only_vmcbs),
		cmocka_unit_test(test_vmcs12),
		cmocka_unit_test(test_xen_vvmcs_slots),
		cmocka_unit_test(test_xen_vvmcs),
		cmocka_unit_test(test_xen_vvmcs_near_misses),
		cmocka_unit_test(test_hostile_pages),
		cmocka_unit_test(test_scan_xen),
		cmocka_unit_test(test_scan_both_kinds),
		cmocka_unit_test(test_guests_grouping),
		cmocka_unit_test(test_xen_pv_root),
		cmocka_unit_test(test_xen_pv_grouping),
		cmocka_unit_test(test_xen_pv_m2p),
	};

	return cmocka_run_group_tests_name("vmctl", tests, NULL, NULL);
}
