// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Walker benchmark: translations per second for random mapped addresses,
 * flat (stage 1 only) and nested (stage 1 over NPT and over EPT), cold
 * (caches flushed before every translation) and warm (working set that
 * fits the cache), plus table reads per translation.  Prints figures; it
 * asserts nothing about time.
 *
 * Memory: a 160 MiB in-memory "host"; the guest's 64 MiB sits at host
 * 64 MiB and is mapped in 4 KiB pages at both stages, so a cold nested
 * walk is the worst case (4 + 4*4 + 4 = 24 table reads).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "core/aspace.h"
#include "core/stack.h"

#define HOST_MEM (160ull << 20)
#define GUEST_BASE (64ull << 20)
#define GUEST_MEM (64ull << 20)
#define NPAGES (GUEST_MEM / 4096)
#define VA_BASE 0xffff888000000000ull

static uint8_t *mem;

static int mem_read(struct phys_source *src, uint64_t a, void *b, size_t n, struct vmet_err *e)
{
	memcpy(b, mem + a, n);
	return 0;
}

static const void *mem_map(struct phys_source *src, uint64_t a, size_t n) { return mem + a; }

static const struct phys_source_ops ops = { .read = mem_read, .map = mem_map };

static uint64_t host_next = 0x100000, guest_next = 0x100000;

static uint64_t *host_u64(uint64_t hpa) { return (uint64_t *)(mem + hpa); }

/* Table builders: stage-2 tables in host memory, stage-1 tables in guest memory. */
static uint64_t *entry(uint64_t table_off, unsigned idx) { return host_u64(table_off + idx * 8ull); }

static void map4k(uint64_t root_off, uint64_t (*alloc)(void), uint64_t (*tbl_off)(uint64_t),
		  uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t t = root_off;

	for (int level = 4; level > 1; level--) {
		uint64_t *e = entry(t, (va >> (12 + 9 * (level - 1))) & 511);

		if (!(*e & 7))
			*e = alloc() | flags;
		t = tbl_off(*e & 0x000ffffffffff000ull);
	}
	*entry(t, (va >> 12) & 511) = pa | flags;
}

static uint64_t host_alloc(void) { uint64_t p = host_next; host_next += 4096; return p; }
static uint64_t guest_alloc(void) { uint64_t p = guest_next; guest_next += 4096; return p; }
static uint64_t ident(uint64_t a) { return a; }
static uint64_t g2h(uint64_t a) { return GUEST_BASE + a; }

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void run(const char *name, struct aspace *top, const uint64_t *addrs, size_t n,
		bool cold, size_t iters)
{
	struct vmet_err err;
	uint64_t sink = 0, reads;
	double t0, t1;

	/* prime for warm runs */
	for (size_t i = 0; i < n; i++) {
		uint64_t pa;

		aspace_xlate_full(top, addrs[i], &pa, NULL, &err);
	}
	aspace_reset_stats(top);
	t0 = bench_now();
	for (size_t k = 0; k < iters; k++) {
		uint64_t pa = 0;
		const uint64_t a = addrs[k % n];

		if (cold)
			aspace_flush(top);
		if (aspace_xlate_full(top, a, &pa, NULL, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			exit(1);
		}
		sink += pa;
	}
	t1 = bench_now();
	reads = aspace_table_reads(top);
	printf("%-34s %10.1f ns/xlate %12.0f xlate/s %6.2f table reads/xlate%s\n", name,
	       (t1 - t0) * 1e9 / iters, iters / (t1 - t0), (double)reads / iters,
	       sink == 1 ? " " : "");
}

int main(void)
{
	struct phys_source *src = phys_source_new(&ops, "bench-memory");
	struct phys_range *r = calloc(1, sizeof(*r));
	uint64_t cr3, s2root, *addrs;
	struct aspace *flat, *npt, *ept;
	struct stack_spec spec = { 0 };
	struct vmet_err err;
	size_t nwarm = 1024, ncold = 1 << 16;

	mem = calloc(1, HOST_MEM);
	r->end = HOST_MEM;
	phys_set_ranges(src, r, 1, NULL);

	/* Mapped pages: guest pages 0x800.. (8 MiB on), below that the tables. */
	cr3 = guest_alloc();
	s2root = host_alloc();
	{
		uint64_t flatroot = host_alloc(), eptroot = host_alloc();

		for (uint64_t i = 0x800; i < NPAGES; i++) {
			map4k(g2h(cr3), guest_alloc, g2h, VA_BASE + i * 4096, i * 4096, 3);
			map4k(flatroot, host_alloc, ident, VA_BASE + i * 4096, GUEST_BASE + i * 4096, 3);
		}
		for (uint64_t i = 0; i < NPAGES; i++) {
			map4k(s2root, host_alloc, ident, i * 4096, GUEST_BASE + i * 4096, 7);
			map4k(eptroot, host_alloc, ident, i * 4096, GUEST_BASE + i * 4096, 7);
		}
		flat = aspace_x86_new(aspace_phys_new(src), PAGING_4LEVEL, flatroot, 0, &err);
		aspace_number_stages(flat);
		spec.nlevels = 1;
		spec.level[0] = (struct stack_level){ STAGE2_NPT, s2root, PAGING_4LEVEL };
		spec.stage1 = true;
		spec.mode = PAGING_4LEVEL;
		spec.cr3 = cr3;
		if (aspace_stack_build(src, &spec, &npt, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
		spec.level[0] = (struct stack_level){ STAGE2_EPT, eptroot | 6 | (3 << 3), 0 };
		if (aspace_stack_build(src, &spec, &ept, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
	}
	addrs = malloc(ncold * sizeof(*addrs));
	for (size_t i = 0; i < ncold; i++)
		addrs[i] = VA_BASE + (0x800 + xorshift() % (NPAGES - 0x800)) * 4096 + (xorshift() & 0xff8);

	printf("vmet walker benchmark: %" PRIu64 " MiB guest in 4 KiB pages, random addresses\n",
	       (uint64_t)(GUEST_MEM >> 20));
	run("flat 4-level, warm (1024 pages)", flat, addrs, nwarm, false, 20000000);
	run("nested 4/NPT-4, warm (1024 pages)", npt, addrs, nwarm, false, 20000000);
	run("nested 4/EPT-4, warm (1024 pages)", ept, addrs, nwarm, false, 20000000);
	run("flat 4-level, cold", flat, addrs, ncold, true, 200000);
	run("nested 4/NPT-4, cold", npt, addrs, ncold, true, 200000);
	run("nested 4/EPT-4, cold", ept, addrs, ncold, true, 200000);
	run("flat 4-level, 64k random pages", flat, addrs, ncold, false, 2000000);
	run("nested 4/NPT-4, 64k random pages", npt, addrs, ncold, false, 2000000);
	{
		/* read throughput through the whole stack, warm: 8-byte reads */
		double t0 = bench_now();
		uint64_t v, sum = 0;
		size_t n = 20000000;

		for (size_t k = 0; k < n; k++) {
			aspace_read_u64(npt, addrs[k % nwarm], &v, NULL);
			sum += v;
		}
		printf("%-34s %10.1f ns/read%s\n", "nested 8-byte read, warm",
		       (bench_now() - t0) * 1e9 / n, sum == 1 ? " " : "");
	}
	aspace_free_stack(flat);
	aspace_free_stack(npt);
	aspace_free_stack(ept);
	phys_close(src);
	free(addrs);
	free(mem);
	return 0;
}
