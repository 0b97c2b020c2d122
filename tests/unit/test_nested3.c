// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Three levels of guests, constructed: L1's memory holds a VMCB for L2 (NPT
 * A); L2's memory, reachable only through A, holds a VMCB for L3 (NPT B,
 * whose tables are L2-physical) and L3's page tables.  The guests of L2 are
 * found by scanning L2's memory through A, and L3's virtual addresses
 * translate through three stages.  With $VMET set (make check-unit), the
 * same image is driven through vmet guests --depth 2 and --guest N/M.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/aspace.h"
#include "core/guests.h"
#include "core/s2source.h"
#include "core/stack.h"
#include "core/svm.h"
#include "tests/unit/helper_mem.h"

#define MEM		(64ull << 20)
#define L2_BASE		0x1000000ull	/* L2-physical 0 is L1-physical 16 MiB */
#define L2_SIZE		(16ull << 20)
#define L3_IN_L2	0x800000ull	/* L3-physical 0 is L2-physical 8 MiB */
#define L3_SIZE		(4ull << 20)
#define KTEXT		0xffffffff81000000ull
#define VMCB_A		0x2200000ull	/* L1-physical */
#define VMCB_B_GPA	0x600000ull	/* L2-physical */
#define L2_KERNEL_GPA	0xc00000ull
#define L3_KERNEL_GPA	0x200000ull
#define MARK_OFF	0x123

struct image {
	struct phys_source *src;
	uint64_t ncr3_a, ncr3_b, cr3_l2, cr3_l3;
};

static uint64_t in_l2(void *ctx, uint64_t a) { (void)ctx; return L2_BASE + a; }
static uint64_t in_l3(void *ctx, uint64_t a) { (void)ctx; return L2_BASE + L3_IN_L2 + a; }

static void vmcb(struct phys_source *src, uint64_t at, uint64_t ncr3, uint64_t cr3, uint32_t asid)
{
	uint8_t p[4096] = { 0 };
	uint64_t v;

	v = 0x3fff;
	memcpy(p + VMCB_INTERCEPT_MISC2, &v, 4);
	memcpy(p + VMCB_ASID, &asid, 4);
	v = 0x3a0000;
	memcpy(p + VMCB_IOPM_BASE, &v, 8);
	v = 0x3a4000;
	memcpy(p + VMCB_MSRPM_BASE, &v, 8);
	v = 1;
	memcpy(p + VMCB_NESTED_CTL, &v, 8);
	memcpy(p + VMCB_NCR3, &ncr3, 8);
	v = EFER_SVME | 0xd01;
	memcpy(p + VMCB_EFER, &v, 8);
	v = 0x80050033;
	memcpy(p + VMCB_CR0, &v, 8);
	memcpy(p + VMCB_CR3, &cr3, 8);
	v = 0x3506f0;
	memcpy(p + VMCB_CR4, &v, 8);
	v = KTEXT + 0x1000;
	memcpy(p + VMCB_RIP, &v, 8);
	mem_write(src, at, p, sizeof(p));
}

/*
 * Allocators hand out table addresses in the space the walker reads them
 * from (L1-, L2- or L3-physical); pa_page() zeroes the identity address,
 * so each region is chosen where L1-physical memory is otherwise unused.
 */
static void build(struct image *im)
{
	struct page_alloc l1 = { .next = 0x2000000, .end = 0x2100000 };
	struct page_alloc l2 = { .next = 0x100000, .end = 0x500000 };
	struct page_alloc l2pt = { .next = 0x500000, .end = 0x580000 };
	struct page_alloc l3pt = { .next = 0x10000, .end = 0x80000 };

	im->src = mem_source_new(MEM);
	l1.src = l2.src = l2pt.src = l3pt.src = im->src;
	/* NPT A: L2-physical [0, 16 MiB) -> L1-physical [16, 32 MiB) */
	im->ncr3_a = pa_page(&l1);
	for (uint64_t o = 0; o < L2_SIZE; o += 2 << 20)
		map_lm(im->src, &l1, im->ncr3_a, 4, o, L2_BASE + o, 2 << 20, 0x6, 0, NULL, NULL);
	/* NPT B (tables in L2-physical memory): L3 [0, 4 MiB) -> L2 [8, 12 MiB) */
	im->ncr3_b = pa_page(&l2);
	for (uint64_t o = 0; o < L3_SIZE; o += 4096)
		map_lm(im->src, &l2, im->ncr3_b, 4, o, L3_IN_L2 + o, 4096, 0x6, 0, in_l2, NULL);
	/* L2's kernel mapping (its own tables, L2-physical) */
	im->cr3_l2 = pa_page(&l2pt);
	map_lm(im->src, &l2pt, im->cr3_l2, 4, KTEXT, L2_KERNEL_GPA, 2 << 20, 0x2, 0, in_l2, NULL);
	/* L3's kernel mapping (tables in L3-physical memory) */
	im->cr3_l3 = pa_page(&l3pt);
	map_lm(im->src, &l3pt, im->cr3_l3, 4, KTEXT, L3_KERNEL_GPA, 2 << 20, 0x2, 0, in_l3, NULL);
	mem_write(im->src, L2_BASE + L3_IN_L2 + L3_KERNEL_GPA + MARK_OFF, "L3-KERNEL", 10);
	mem_write(im->src, L2_BASE + L2_KERNEL_GPA + MARK_OFF, "L2-KERNEL", 10);
	/* L1 keeps L2's VMCB; L2 keeps L3's (in its own memory) */
	vmcb(im->src, VMCB_A, im->ncr3_a, im->cr3_l2, 1);
	vmcb(im->src, L2_BASE + VMCB_B_GPA, im->ncr3_b, im->cr3_l3, 1);
}

static void test_stage2_ranges(void **state)
{
	struct image im;
	struct aspace *phys, *a;
	struct phys_range *r;
	size_t n, unreadable;

	(void)state;
	build(&im);
	phys = aspace_phys_new(im.src);
	a = aspace_npt_new(phys, PAGING_4LEVEL, im.ncr3_a, NULL);
	assert_non_null(a);
	assert_int_equal(stage2_ranges(a, &r, &n, &unreadable, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, L2_SIZE);
	assert_int_equal(unreadable, 0);
	free(r);

	/* leaves pointing past the end of memory are cut; a table out of
	 * memory is skipped and counted */
	mem_w64(im.src, im.ncr3_a + 8, (MEM + (1ull << 30)) | 0x87);	/* 1 GiB leaf, beyond */
	mem_w64(im.src, im.ncr3_a + 16, (MEM + 0x200000) | 0x7);	/* table beyond memory */
	assert_int_equal(stage2_ranges(a, &r, &n, &unreadable, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(unreadable, 1);
	free(r);
	mem_w64(im.src, im.ncr3_a + 8, 0);
	mem_w64(im.src, im.ncr3_a + 16, 0);

	/* hostile: the root points at itself at every level: bounded */
	for (unsigned i = 1; i < 512; i++)
		mem_w64(im.src, im.ncr3_a + 8 * i, im.ncr3_a | 0x7);
	{
		struct vmet_err err = { 0 };
		int rc = stage2_ranges(a, &r, &n, NULL, &err);

		assert_true(rc == VMET_ELIMIT);
		assert_non_null(strstr(err.msg, "tables"));
	}
	/* hostile: every PDPT entry a 1 GiB leaf on the same memory: the
	 * source refuses to scan 511 GiB made of 64 MiB */
	{
		uint64_t pdpt = 0x2180000;
		struct vmet_err err = { 0 };

		for (unsigned i = 1; i < 512; i++)
			mem_w64(im.src, im.ncr3_a + 8 * i, 0);
		for (unsigned i = 0; i < 512; i++)
			mem_w64(im.src, pdpt + 8 * i, 0x87);
		mem_w64(im.src, im.ncr3_a + 8, pdpt | 7);
		assert_null(aspace_source_new(a, "hostile", &err));
		assert_int_equal(err.code, VMET_ELIMIT);
		assert_non_null(strstr(err.msg, "more than twice"));
	}
	aspace_free(a);
	aspace_free(phys);
	phys_close(im.src);
}

/* EPT: present is any of R/W/X; large pages at levels 2 and 3. */
static void test_stage2_ranges_ept(void **state)
{
	struct phys_source *src = mem_source_new(MEM);
	struct page_alloc al = { .src = src, .next = 0x3000000, .end = 0x3100000 };
	struct aspace *phys = aspace_phys_new(src), *e;
	uint64_t root = pa_page(&al);
	struct phys_range *r;
	size_t n;

	(void)state;
	/* [0, 4 MiB) in 2 MiB pages, a hole, [8 MiB, 8 MiB + 64 KiB) in 4 KiB
	 * pages, execute-only included; a 2 MiB page past the end of memory */
	for (uint64_t o = 0; o < (4 << 20); o += 2 << 20)
		map_ept(src, &al, root, 4, o, 0x1000000 + o, 2 << 20, 7);
	for (uint64_t o = 0; o < 0x10000; o += 4096)
		map_ept(src, &al, root, 4, (8 << 20) + o, 0x1800000 + o, 4096, o ? 7 : 4);
	map_ept(src, &al, root, 4, 1ull << 32, MEM, 2 << 20, 7);
	e = aspace_ept_new(phys, root | 6 | (3 << 3), NULL);
	assert_non_null(e);
	assert_int_equal(stage2_ranges(e, &r, &n, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 4 << 20);
	assert_int_equal(r[1].start, 8 << 20);
	assert_int_equal(r[1].end, (8 << 20) + 0x10000);
	free(r);
	aspace_free(e);
	aspace_free(phys);
	phys_close(src);
}

static void test_three_levels(void **state)
{
	struct image im;
	struct aspace *phys, *a, *top;
	struct phys_source *l2mem;
	struct guest_list gl, inner;
	struct stack_spec spec = { 0 };
	uint64_t hpa;
	char buf[16];

	(void)state;
	build(&im);
	/* level 1: both VMCBs are in L1's memory (L2's memory is inside it);
	 * guest 1 is L2 (lowest address first), guest 2 L3's VMCB read as if
	 * it were L1's own */
	assert_int_equal(guests_discover(im.src, &gl, NULL, NULL, NULL), 0);
	assert_int_equal(gl.n, 2);
	assert_int_equal(gl.g[0].vcpu[0].pa, L2_BASE + VMCB_B_GPA);
	assert_int_equal(gl.g[1].vcpu[0].pa, VMCB_A);
	assert_int_equal(gl.g[1].s2_root, im.ncr3_a);
	guest_list_free(&gl);

	/* level 2: L2's memory through A holds exactly L3's VMCB */
	phys = aspace_phys_new(im.src);
	a = aspace_npt_new(phys, PAGING_4LEVEL, im.ncr3_a, NULL);
	l2mem = aspace_source_new(a, "guest 2's memory", NULL);
	assert_non_null(l2mem);
	assert_int_equal(phys_total_size(l2mem), L2_SIZE);
	assert_int_equal(guests_discover(l2mem, &inner, NULL, NULL, NULL), 0);
	assert_int_equal(inner.n, 1);
	assert_int_equal(inner.g[0].vcpu[0].pa, VMCB_B_GPA);
	assert_int_equal(inner.g[0].s2_root, im.ncr3_b);
	assert_int_equal(inner.g[0].vcpu[0].cr3, im.cr3_l3);
	guest_list_free(&inner);
	phys_close(l2mem);
	aspace_free(a);
	aspace_free(phys);

	/* three stages: L3 virtual -> L3 physical -> L2 physical -> L1 physical */
	spec.nlevels = 2;
	spec.level[0] = (struct stack_level){ STAGE2_NPT, im.ncr3_a, PAGING_4LEVEL };
	spec.level[1] = (struct stack_level){ STAGE2_NPT, im.ncr3_b, PAGING_4LEVEL };
	spec.stage1 = true;
	spec.mode = PAGING_4LEVEL;
	spec.cr3 = im.cr3_l3;
	assert_int_equal(aspace_stack_build(im.src, &spec, &top, NULL), 0);
	assert_int_equal(aspace_xlate_full(top, KTEXT + MARK_OFF, &hpa, NULL, NULL), 0);
	assert_int_equal(hpa, L2_BASE + L3_IN_L2 + L3_KERNEL_GPA + MARK_OFF);
	assert_int_equal(aspace_read(top, KTEXT + MARK_OFF, buf, 10, NULL), 0);
	assert_string_equal(buf, "L3-KERNEL");
	aspace_free_stack(top);
	phys_close(im.src);
}

/* Run vmet; its stdout+stderr in out, exit status returned. */
static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t got, more;
	char sink[4096];
	int st;

	assert_non_null(p);
	got = fread(out, 1, n - 1, p);
	out[got] = '\0';
	/* drain the rest, so that vmet never dies of a closed pipe */
	while ((more = fread(sink, 1, sizeof(sink), p)) > 0)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
	const char *vmet = getenv("VMET");
	char dir[] = "/tmp/vmet-test-nested3.XXXXXX", file[96], cmd[512];
	static char out[1 << 16];
	struct image im;
	FILE *f;

	(void)state;
	if (!vmet || !*vmet) {
		printf("  (VMET not set: vmet itself not run)\n");
		return;
	}
	assert_non_null(mkdtemp(dir));
	build(&im);
	snprintf(file, sizeof(file), "%s/l1.raw", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(mem_bytes(im.src), 1, MEM, f), MEM);
	fclose(f);
	phys_close(im.src);

#define VMET_RUN(args) \
	(snprintf(cmd, sizeof(cmd), "VMET_CACHE_DIR=%s/cache '%s' " args " 2>&1", dir, vmet, file), \
	 run(cmd, out, sizeof(out)))

	/* guest 2 is L2 (walkable), guest 1 is L3's VMCB misread at level 1 */
	assert_int_equal(VMET_RUN("guests --depth 2 --json %s"), 0);
	assert_non_null(strstr(out, "\"path\": \"2/1\""));
	assert_null(strstr(out, "\"path\": \"1/1\""));
	assert_non_null(strstr(out, "not scanned: guest 1 is not walkable"));
	assert_int_equal(VMET_RUN("guests --depth 2 %s"), 0);
	assert_non_null(strstr(out, "  guest 2/1: vmcb npt root 0x"));

	/* the two-stage and three-stage translations */
	assert_int_equal(VMET_RUN("translate --json --guest 2 %s 0xffffffff81000123"), 0);
	assert_non_null(strstr(out, "\"host_physical\": \"0x1c00123\""));
	assert_int_equal(VMET_RUN("translate --json --guest 2/1 %s 0xffffffff81000123"), 0);
	assert_non_null(strstr(out, "\"host_physical\": \"0x1a00123\""));
	/* cold, all shown: stage 1 reads 3 entries (2 MiB page) and has 4
	 * addresses translated by stage 2 (3 tables and the page); stage 2
	 * reads 4 entries (4 KiB pages) and has 5 translated by stage 3, which
	 * reads 3 each (2 MiB pages): 3 + 4 * (4 + 5 * 3) = 79 */
	assert_int_equal(VMET_RUN("translate --json --guest 2/1 %s 0xffffffff81000123"), 0);
	{
		size_t steps = 0;

		for (const char *q = out; (q = strstr(q, "\"stage\": ")); q++)
			steps++;
		assert_int_equal(steps, 79);
	}
	assert_non_null(strstr(out, "\"trace_truncated\": false"));

	/* errors name the level that failed */
	assert_int_equal(VMET_RUN("translate --guest 2/2 %s 0xffffffff81000123"), 2);
	assert_non_null(strstr(out, "guest 2 runs 1 guest of its own (level 2"));
	assert_non_null(strstr(out, "no guest 2"));
	assert_int_equal(VMET_RUN("translate --guest 2/1/1 %s 0xffffffff81000123"), 2);
	assert_non_null(strstr(out, "guest 2/1 runs 0 guests of its own (level 3"));
	assert_int_equal(VMET_RUN("translate --guest 3/1 %s 0xffffffff81000123"), 2);
	assert_non_null(strstr(out, "2 guests found"));
	assert_int_equal(VMET_RUN("translate --guest 1/1 %s 0xffffffff81000123"), 2);
	assert_non_null(strstr(out, "guest 1: no kernel"));
	assert_int_equal(VMET_RUN("translate --guest 2/0 %s 0xffffffff81000123"), 2);
	assert_int_equal(VMET_RUN("guests --depth 9 %s"), 2);

	/* L2's NPT also maps 512 GiB of 1 GiB pages onto the same memory: its
	 * memory is not scanned, and the listing says it is incomplete */
	build(&im);
	for (unsigned i = 0; i < 512; i++)
		mem_w64(im.src, 0x20ff000 + 8 * i, 0x87);
	mem_w64(im.src, im.ncr3_a + 8, 0x20ff000 | 7);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(mem_bytes(im.src), 1, MEM, f), MEM);
	fclose(f);
	phys_close(im.src);
	assert_int_equal(VMET_RUN("guests --depth 2 %s"), 1);
	assert_non_null(strstr(out, "guests of guest 2: "));
	assert_non_null(strstr(out, "more than twice the memory below it"));
	assert_int_equal(VMET_RUN("translate --guest 2 %s 0xffffffff81000123"), 0);
	assert_int_equal(VMET_RUN("translate --guest 2/1 %s 0xffffffff81000123"), 2);
	assert_non_null(strstr(out, "more than twice"));

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage2_ranges),
		cmocka_unit_test(test_stage2_ranges_ept),
		cmocka_unit_test(test_three_levels),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests_name("nested3", tests, NULL, NULL);
}
