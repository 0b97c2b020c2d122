/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * find-vmcb: list the pages of a raw RAM image that look like AMD VMCBs.
 *
 * A test oracle for the nested testbed, kept deliberately apart from vmet's
 * own scanner (core/svm.c) so that the two can check each other: it reads
 * the architectural offsets (AMD APM vol. 2, appendix B) straight from the
 * file and applies only the checks VMRUN itself makes.  Built and run by
 * find-vmcb.sh; not part of libvmet.
 *
 * Usage: find-vmcb RAMFILE [VA]
 * Prints one line per candidate page:
 *   pa=0x... asid=N np=0|1 ncr3=0x... efer=0x... cr0=0x... cr3=0x... cr4=0x... rip=0x...
 * and a line "candidates=N with_np=M".  With VA (hex), every candidate with
 * nested paging also gets VA walked through its CR3 and then, for each
 * table and the final page, through its nCR3, with a 4- and a 5-level NPT
 * (the depth is L1's choice and not in the VMCB):
 *   walk pa=0x... va=0x... npt=4|5 gpa=0x... hpa=0x... bytes=TEXT
 *   walk pa=0x... va=0x... npt=4|5 fail=REASON
 * where TEXT is the 40 bytes at hpa, non-printable ones as '.'.
 * Exit 0 if at least one VMCB with nested paging on was found, 1 if none,
 * 2 on a usage or I/O error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

/* Offsets within the VMCB page (APM vol. 2, table B-1 and B-2). */
#define OFF_INTERCEPT_WORD4 0x010	/* bit 0: VMRUN */
#define OFF_ASID            0x058
#define OFF_NESTED_CTL      0x090	/* bit 0: NP_ENABLE */
#define OFF_NCR3            0x0b0
#define OFF_SAVE            0x400
#define OFF_EFER            (OFF_SAVE + 0x0d0)
#define OFF_CR4             (OFF_SAVE + 0x148)
#define OFF_CR3             (OFF_SAVE + 0x150)
#define OFF_CR0             (OFF_SAVE + 0x158)
#define OFF_RIP             (OFF_SAVE + 0x178)

#define CR4_LA57  (1ull << 12)
#define PTE_P     1ull
#define PTE_PS    (1ull << 7)
#define PTE_ADDR  0x000ffffffffff000ull	/* bits 51:12 */
#define EFER_LME  (1ull << 8)
#define EFER_SVME (1ull << 12)
/* Bits 1-7 and 9 and 16-63 of EFER are reserved and must be zero. */
#define EFER_MBZ  (~0xfd01ull)
#define CR0_PE    (1ull << 0)
#define CR0_NW    (1ull << 29)
#define CR0_CD    (1ull << 30)
#define CR0_PG    (1ull << 31)
#define CR4_PAE   (1ull << 5)
/* A table root may carry PWT/PCD (bits 3-4); the other low bits are zero
 * for a nested-paging root. */
#define ROOT_LOW_MBZ 0xfe7ull

static uint64_t le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

/* The consistency checks VMRUN makes on the guest state (APM vol. 2,
 * "Canonicalization and Consistency Checks"); a page failing any of them
 * could not have been run, so it is not a live VMCB. */
static int looks_like_vmcb(const unsigned char *pg, uint64_t ram_size)
{
	uint64_t efer = le(pg + OFF_EFER, 8);
	uint64_t cr0 = le(pg + OFF_CR0, 8);
	uint64_t cr4 = le(pg + OFF_CR4, 8);
	uint64_t ncr3 = le(pg + OFF_NCR3, 8);

	if (!(le(pg + OFF_INTERCEPT_WORD4, 4) & 1))
		return 0;
	if (le(pg + OFF_ASID, 4) == 0)
		return 0;
	if (!(efer & EFER_SVME) || (efer & EFER_MBZ))
		return 0;
	if (cr0 >> 32 || ((cr0 & CR0_NW) && !(cr0 & CR0_CD)))
		return 0;
	if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
		return 0;
	if ((efer & EFER_LME) && (cr0 & CR0_PG) && !(cr4 & CR4_PAE))
		return 0;
	/* With nested paging on, nCR3 must name a table inside this RAM. */
	if ((le(pg + OFF_NESTED_CTL, 8) & 1) &&
	    (ncr3 == 0 || (ncr3 & ROOT_LOW_MBZ) || (ncr3 & ~0xfffull) >= ram_size))
		return 0;
	return 1;
}

struct ram {
	const unsigned char *map;
	uint64_t size;
};

/* One table entry, or a reason why it cannot be read. */
static const char *entry_at(const struct ram *ram, uint64_t table, unsigned idx,
			    uint64_t *out)
{
	uint64_t at = table + 8ull * idx;

	if (at + 8 > ram->size || at < table)
		return "table outside RAM";
	*out = le(ram->map + at, 8);
	return NULL;
}

/* Walk ADDR through LEVELS levels of x86-64-format tables rooted at ROOT.
 * NESTED_ROOT != 0: every table address is itself a guest-physical address
 * to be put through the NPT at NESTED_ROOT (NPT_LEVELS deep) first. */
static const char *walk(const struct ram *ram, uint64_t root, unsigned levels,
			uint64_t nested_root, unsigned npt_levels,
			uint64_t addr, uint64_t *out)
{
	uint64_t table = root & PTE_ADDR;

	for (unsigned lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = 12 + 9 * (lvl - 1);
		uint64_t e, where = table;
		const char *why;

		if (nested_root) {
			why = walk(ram, nested_root, npt_levels, 0, 0, table, &where);
			if (why)
				return why;
		}
		why = entry_at(ram, where, (unsigned)((addr >> shift) & 511), &e);
		if (why)
			return why;
		if (!(e & PTE_P))
			return nested_root ? "stage-1 entry not present" : "NPT entry not present";
		if (lvl == 1 || ((lvl == 2 || lvl == 3) && (e & PTE_PS))) {
			uint64_t size = 1ull << shift;

			*out = (e & PTE_ADDR & ~(size - 1)) | (addr & (size - 1));
			return NULL;
		}
		table = e & PTE_ADDR;
	}
	return "no leaf";
}

static void walk_report(const struct ram *ram, uint64_t pa, const unsigned char *pg,
			uint64_t va)
{
	uint64_t cr3 = le(pg + OFF_CR3, 8), ncr3 = le(pg + OFF_NCR3, 8);
	unsigned levels = (le(pg + OFF_CR4, 8) & CR4_LA57) ? 5 : 4;

	for (unsigned npt = 4; npt <= 5; npt++) {
		uint64_t gpa, hpa;
		const char *why;
		char text[41];

		printf("walk pa=0x%" PRIx64 " va=0x%" PRIx64 " npt=%u ", pa, va, npt);
		why = walk(ram, cr3, levels, ncr3, npt, va, &gpa);
		if (!why)
			why = walk(ram, ncr3, npt, 0, 0, gpa, &hpa);
		if (!why && hpa + sizeof(text) - 1 > ram->size)
			why = "page outside RAM";
		if (why) {
			printf("fail=%s\n", why);
			continue;
		}
		for (unsigned i = 0; i + 1 < sizeof(text); i++) {
			unsigned char c = ram->map[hpa + i];

			text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
		}
		text[sizeof(text) - 1] = '\0';
		printf("gpa=0x%" PRIx64 " hpa=0x%" PRIx64 " bytes=%s\n", gpa, hpa, text);
	}
}

int main(int argc, char **argv)
{
	struct stat st;
	unsigned long found = 0, with_np = 0;
	const unsigned char *map;
	int fd;

	uint64_t va = 0;
	int want_walk = 0;

	if (argc == 3) {
		char *end;

		errno = 0;
		va = strtoull(argv[2], &end, 16);
		if (errno || end == argv[2] || *end) {
			fprintf(stderr, "find-vmcb: VA '%s' is not a hex number\n", argv[2]);
			return 2;
		}
		want_walk = 1;
	} else if (argc != 2) {
		fprintf(stderr, "usage: find-vmcb RAMFILE [VA]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "find-vmcb: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (st.st_size < (off_t)PAGE) {
		fprintf(stderr, "find-vmcb: %s: %lld bytes, smaller than one page\n",
			argv[1], (long long)st.st_size);
		return 2;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "find-vmcb: mmap %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	for (uint64_t pa = 0; pa + PAGE <= (uint64_t)st.st_size; pa += PAGE) {
		const unsigned char *pg = map + pa;
		uint64_t nctl;

		if (!looks_like_vmcb(pg, (uint64_t)st.st_size))
			continue;
		nctl = le(pg + OFF_NESTED_CTL, 8);
		found++;
		if (nctl & 1)
			with_np++;
		printf("pa=0x%" PRIx64 " asid=%" PRIu64 " np=%u ncr3=0x%" PRIx64
		       " efer=0x%" PRIx64 " cr0=0x%" PRIx64 " cr3=0x%" PRIx64
		       " cr4=0x%" PRIx64 " rip=0x%" PRIx64 "\n",
		       pa, le(pg + OFF_ASID, 4), (unsigned)(nctl & 1),
		       le(pg + OFF_NCR3, 8), le(pg + OFF_EFER, 8),
		       le(pg + OFF_CR0, 8), le(pg + OFF_CR3, 8),
		       le(pg + OFF_CR4, 8), le(pg + OFF_RIP, 8));
		if (want_walk && (nctl & 1)) {
			struct ram ram = { map, (uint64_t)st.st_size };

			walk_report(&ram, pa, pg, va);
		}
	}
	printf("candidates=%lu with_np=%lu\n", found, with_np);
	munmap((void *)map, (size_t)st.st_size);
	close(fd);
	return with_np ? 0 : 1;
}
