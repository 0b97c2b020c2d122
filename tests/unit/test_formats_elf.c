// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ELF core reader: cores laid out byte by byte here (as QEMU and kdump
 * write them), then read back; and every kind of damage, each of which must
 * give its own error code and name the offset or field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <cmocka.h>

#include "formats/source.h"

#define MAXSEG 8
#define MAXNOTE 8

struct seg { uint64_t paddr, filesz, memsz; uint8_t fill; };
struct note { const char *name; uint32_t type; const void *desc; size_t descsz; };

struct core {
	bool elf32;
	uint16_t machine, type;
	struct seg seg[MAXSEG];
	int nseg;
	struct note note[MAXNOTE];
	int nnote;
};

static char path[64];

static size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

static size_t notes_size(const struct core *c)
{
	size_t n = 0;

	for (int i = 0; i < c->nnote; i++)
		n += 12 + align4(strlen(c->note[i].name) + 1) + align4(c->note[i].descsz);
	return n;
}

/* Lay out: ehdr, phdrs (PT_NOTE first), notes, then segment data. */
static uint8_t *build(const struct core *c, size_t *size)
{
	size_t eh = c->elf32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	size_t ph = c->elf32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	size_t nph = (size_t)c->nseg + 1, noff = eh + nph * ph, nsz = notes_size(c);
	size_t doff = noff + nsz, total = doff;
	uint8_t *b;
	size_t o;

	for (int i = 0; i < c->nseg; i++)
		total += c->seg[i].filesz;
	b = calloc(1, total);
	assert_non_null(b);
	memcpy(b, ELFMAG, 4);
	b[EI_CLASS] = c->elf32 ? ELFCLASS32 : ELFCLASS64;
	b[EI_DATA] = ELFDATA2LSB;
	b[EI_VERSION] = EV_CURRENT;
	if (c->elf32) {
		Elf32_Ehdr *e = (Elf32_Ehdr *)b;
		e->e_type = c->type; e->e_machine = c->machine; e->e_version = EV_CURRENT;
		e->e_phoff = (Elf32_Off)eh; e->e_ehsize = (Elf32_Half)eh;
		e->e_phentsize = (Elf32_Half)ph; e->e_phnum = (Elf32_Half)nph;
	} else {
		Elf64_Ehdr *e = (Elf64_Ehdr *)b;
		e->e_type = c->type; e->e_machine = c->machine; e->e_version = EV_CURRENT;
		e->e_phoff = eh; e->e_ehsize = (Elf64_Half)eh;
		e->e_phentsize = (Elf64_Half)ph; e->e_phnum = (Elf64_Half)nph;
	}
	o = doff;
	for (size_t i = 0; i < nph; i++) {
		uint32_t type = i ? PT_LOAD : PT_NOTE;
		uint64_t off = i ? o : noff, filesz = i ? c->seg[i - 1].filesz : nsz;
		uint64_t memsz = i ? c->seg[i - 1].memsz : 0, paddr = i ? c->seg[i - 1].paddr : 0;

		if (c->elf32) {
			Elf32_Phdr *p = (Elf32_Phdr *)(b + eh + i * ph);
			p->p_type = type; p->p_offset = (Elf32_Off)off; p->p_paddr = (Elf32_Addr)paddr;
			p->p_filesz = (Elf32_Word)filesz; p->p_memsz = (Elf32_Word)memsz;
		} else {
			Elf64_Phdr *p = (Elf64_Phdr *)(b + eh + i * ph);
			p->p_type = type; p->p_offset = off; p->p_paddr = paddr;
			p->p_filesz = filesz; p->p_memsz = memsz;
		}
		if (i) {
			/* Each byte says where it is: fill ^ low address bits. */
			for (uint64_t k = 0; k < filesz; k++)
				b[o + k] = (uint8_t)(c->seg[i - 1].fill ^ (k * 7));
			o += filesz;
		}
	}
	o = noff;
	for (int i = 0; i < c->nnote; i++) {
		const struct note *n = &c->note[i];
		uint32_t hdr[3] = { (uint32_t)strlen(n->name) + 1, (uint32_t)n->descsz, n->type };

		memcpy(b + o, hdr, 12);
		o += 12;
		memcpy(b + o, n->name, strlen(n->name) + 1);
		o += align4(strlen(n->name) + 1);
		memcpy(b + o, n->desc, n->descsz);
		o += align4(n->descsz);
	}
	*size = total;
	return b;
}

static void put_file(const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* A QEMUCPUState (version 1, with kernel_gs_base: 440 bytes). */
static void qemu_state(uint8_t *d, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t rip,
		       uint32_t cs_flags)
{
	uint32_t v = 1, sz = 440;

	memset(d, 0, 440);
	memcpy(d, &v, 4);
	memcpy(d + 4, &sz, 4);
	memcpy(d + 136, &rip, 8);
	memcpy(d + 152 + 8, &cs_flags, 4);
	memcpy(d + 392, &cr0, 8);
	memcpy(d + 392 + 24, &cr3, 8);
	memcpy(d + 392 + 32, &cr4, 8);
}

static const char vmci[] = "OSRELEASE=6.1.0-test\nKERNELOFFSET=1e000000\nNUMBER(phys_base)=-16777216\n"
			   "SYMBOL(init_top_pgt)=ffffffff9f80a000\nPAGESIZE=4096\n";
static uint8_t qs0[440], qs1[440], prs[336];

static struct core qemu_core(void)
{
	struct core c = { .machine = EM_X86_64, .type = ET_CORE };

	/* vCPU 0: long mode (CS.L), CR4.PAE; vCPU 1: paging off (an AP in reset). */
	qemu_state(qs0, 0x80050033, 0x12345000, 0x6f0, 0xffffffff81000010ull, 1u << 21);
	qemu_state(qs1, 0x10, 0, 0, 0xfff0, 0);
	memset(prs, 0, sizeof(prs));
	c.seg[c.nseg++] = (struct seg){ 0x0, 0xa0000, 0xa0000, 0x11 };
	c.seg[c.nseg++] = (struct seg){ 0x100000, 0x3000, 0x5000, 0x22 };	/* 0x2000 zero tail */
	c.note[c.nnote++] = (struct note){ "CORE", NT_PRSTATUS, prs, sizeof(prs) };
	c.note[c.nnote++] = (struct note){ "QEMU", 0, qs0, sizeof(qs0) };
	c.note[c.nnote++] = (struct note){ "QEMU", 0, qs1, sizeof(qs1) };
	c.note[c.nnote++] = (struct note){ "VMCOREINFO", 0, vmci, sizeof(vmci) - 1 };
	return c;
}

static int open_core(const struct core *c, struct phys_source **src, struct vmet_err *err)
{
	size_t n;
	uint8_t *b = build(c, &n);
	int rc;

	put_file(b, n);
	free(b);
	rc = source_open(path, NULL, src, err);
	return rc;
}

static void test_qemu_core(void **state)
{
	struct core c = qemu_core();
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };
	uint8_t buf[16];
	uint64_t v;
	size_t len;
	const char *s;

	assert_int_equal(open_core(&c, &src, &err), 0);
	assert_string_equal(src->format, "elf");
	assert_int_equal(src->nranges, 2);
	assert_int_equal(phys_total_size(src), 0xa0000 + 0x5000);
	/* bytes come from the right file offsets */
	assert_int_equal(phys_read(src, 0x10, buf, 4, &err), 0);
	assert_int_equal(buf[0], (uint8_t)(0x11 ^ (0x10 * 7)));
	assert_int_equal(phys_read(src, 0x100005, buf, 1, &err), 0);
	assert_int_equal(buf[0], (uint8_t)(0x22 ^ (5 * 7)));
	/* the part of p_memsz beyond p_filesz reads as zero, across the boundary */
	assert_int_equal(phys_read(src, 0x102ff8, buf, 16, &err), 0);
	assert_int_equal(buf[7], (uint8_t)(0x22 ^ ((0x2fff * 7) & 0xff)));
	for (int i = 8; i < 16; i++)
		assert_int_equal(buf[i], 0);
	/* holes */
	assert_int_equal(phys_read(src, 0xa0000, buf, 1, &err), VMET_EHOLE);
	assert_int_equal(phys_read(src, 0x9ffff, buf, 2, &err), VMET_EHOLE);
	assert_int_equal(phys_read(src, 0x105000, buf, 1, &err), VMET_EHOLE);
	/* zero-copy only where the file holds the bytes */
	assert_non_null(src->ops->map(src, 0x1000, 4096));
	assert_null(src->ops->map(src, 0x102800, 4096));
	assert_null(src->ops->map(src, 0x103000, 4096));
	/* vCPUs from the QEMU notes, not NT_PRSTATUS */
	assert_int_equal(src->vcpus.n, 2);
	assert_int_equal(src->vcpus.v[0].cr3, 0x12345000);
	assert_int_equal(src->vcpus.v[0].cr3_origin, VCPU_ORIGIN_DUMPNOTE);
	assert_int_equal(src->vcpus.v[0].mode, PAGING_4LEVEL);
	assert_int_equal(src->vcpus.v[0].rip, 0xffffffff81000010ull);
	assert_int_equal(src->vcpus.v[0].vcpu, 0);
	assert_int_equal(src->vcpus.v[1].vcpu, 1);
	assert_int_equal(src->vcpus.v[1].mode, PAGING_NONE);
	/* VMCOREINFO */
	assert_non_null(src->vmcoreinfo);
	s = vmcoreinfo_get(src, "OSRELEASE", &len);
	assert_non_null(s);
	assert_int_equal(len, 10);
	assert_memory_equal(s, "6.1.0-test", 10);
	assert_null(vmcoreinfo_get(src, "OSRELEAS", &len));	/* whole keys only */
	assert_int_equal(vmcoreinfo_get_u64(src, "KERNELOFFSET", &v, &err), 0);
	assert_int_equal(v, 0x1e000000);
	assert_int_equal(vmcoreinfo_get_u64(src, "NUMBER(phys_base)", &v, &err), 0);
	assert_int_equal(v, (uint64_t)-16777216);
	assert_int_equal(vmcoreinfo_get_u64(src, "SYMBOL(init_top_pgt)", &v, &err), 0);
	assert_int_equal(v, 0xffffffff9f80a000ull);
	assert_int_equal(vmcoreinfo_get_u64(src, "OSRELEASE", &v, &err), VMET_EFORMAT);
	assert_int_equal(vmcoreinfo_get_u64(src, "SYMBOL(nope)", &v, &err), VMET_ENOTFOUND);
	phys_close(src);
}

/* Long mode is inferred from the ELF machine when CS.L is clear (compat mode). */
static void test_mode_inference(void **state)
{
	struct core c = qemu_core();
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };

	qemu_state(qs0, 0x80000011, 0x5000, 0x20, 0x8048000, 0);
	assert_int_equal(open_core(&c, &src, &err), 0);
	assert_int_equal(src->vcpus.v[0].mode, PAGING_4LEVEL);
	phys_close(src);
	/* The same registers in a 32-bit i386 dump: PAE */
	c.elf32 = true;
	c.machine = EM_386;
	assert_int_equal(open_core(&c, &src, &err), 0);
	assert_int_equal(src->vcpus.v[0].mode, PAGING_PAE);
	assert_int_equal(src->vcpus.v[0].cr3, 0x5000);
	phys_close(src);
	/* LA57 */
	c = qemu_core();
	qemu_state(qs0, 0x80050033, 0x7000, 0x1020, 0xffffffff81000000ull, 1u << 21);
	assert_int_equal(open_core(&c, &src, &err), 0);
	assert_int_equal(src->vcpus.v[0].mode, PAGING_5LEVEL);
	phys_close(src);
}

/* kdump: NT_PRSTATUS only: vCPUs with RIP but no CR3. */
static void test_kdump_prstatus(void **state)
{
	struct core c = qemu_core();
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };
	uint64_t rip = 0xffffffff81abcdefull;

	memcpy(prs + 112 + 16 * 8, &rip, 8);
	c.note[1] = c.note[3];
	c.nnote = 2;
	assert_int_equal(open_core(&c, &src, &err), 0);
	assert_int_equal(src->vcpus.n, 1);
	assert_int_equal(src->vcpus.v[0].rip, rip);
	assert_int_equal(src->vcpus.v[0].cr3_origin, VCPU_ORIGIN_NONE);
	assert_non_null(strstr(src->description, "kdump"));
	phys_close(src);
}

static void expect_fail(const struct core *c, int code, const char *needle)
{
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };
	int rc = open_core(c, &src, &err);

	if (rc != code)
		fail_msg("expected %d, got %d: %s", code, rc, err.msg);
	if (needle && !strstr(err.msg, needle))
		fail_msg("message lacks '%s': %s", needle, err.msg);
	assert_null(src);
}

static void test_bad_headers(void **state)
{
	struct core c = qemu_core();

	c.machine = EM_AARCH64;
	expect_fail(&c, VMET_EUNSUPPORTED, "machine 183");
	c = qemu_core();
	c.type = ET_EXEC;
	expect_fail(&c, VMET_EFORMAT, "not ET_CORE");
}

static void test_bad_ident(void **state)
{
	struct core c = qemu_core();
	size_t n;
	uint8_t *b = build(&c, &n);
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };

	b[EI_CLASS] = 3;
	put_file(b, n);
	assert_int_equal(elfcore_open(path, &src, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "ELF class 3 at offset 0x4"));
	b[EI_CLASS] = ELFCLASS64;
	b[EI_DATA] = ELFDATA2MSB;
	put_file(b, n);
	assert_int_equal(elfcore_open(path, &src, &err), VMET_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "encoding 2 at offset 0x5"));
	b[EI_DATA] = ELFDATA2LSB;
	put_file(b, 40);
	assert_int_equal(elfcore_open(path, &src, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "shorter than an ELF header"));
	put_file(b, 6);
	assert_int_equal(elfcore_open(path, &src, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "no ELF magic"));
	free(b);
}

static void test_bad_segments(void **state)
{
	struct core c = qemu_core();
	size_t n;
	uint8_t *b;
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };

	/* overlapping PT_LOADs */
	c.seg[1].paddr = 0x9f000;
	expect_fail(&c, VMET_EFORMAT, "overlap");
	/* the last segment's data cut off: truncated file */
	c = qemu_core();
	b = build(&c, &n);
	put_file(b, n - 0x100);
	free(b);
	assert_int_equal(elfcore_open(path, &src, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "beyond the file's end"));
	assert_non_null(strstr(err.msg, "truncated"));
	/* p_filesz larger than p_memsz */
	c = qemu_core();
	c.seg[1].memsz = 0x1000;
	expect_fail(&c, VMET_EFORMAT, "more than its");
	/* a segment that wraps the address space */
	c = qemu_core();
	c.seg[1].paddr = 0xfffffffffffff000ull;
	expect_fail(&c, VMET_EFORMAT, "wraps");
}

/* A segment the file holds no bytes of (p_filesz 0) reads as zeros wherever p_offset points. */
static void test_zero_filesz(void **state)
{
	struct core c = qemu_core();
	size_t n;
	uint8_t *b = build(&c, &n), buf[8];
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(Elf64_Ehdr)) + 2;
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };

	ph->p_filesz = 0;
	ph->p_offset = 0xffffffffffull;
	put_file(b, n);
	free(b);
	assert_int_equal(elfcore_open(path, &src, &err), 0);
	assert_int_equal(phys_read(src, 0x104ff8, buf, 8, &err), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);
	assert_null(src->ops->map(src, 0x100000, 4096));
	phys_close(src);
}

static void test_forged_counts(void **state)
{
	struct core c = qemu_core();
	size_t n;
	uint8_t *b = build(&c, &n);
	Elf64_Ehdr *e = (Elf64_Ehdr *)b;
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };

	/* e_phnum far beyond the file */
	e->e_phnum = 60000;
	put_file(b, n);
	assert_int_equal(elfcore_open(path, &src, &err), VMET_EFORMAT);
	if (!strstr(err.msg, "program headers"))
		fail_msg("%s", err.msg);
	/* a note whose descsz runs past the PT_NOTE */
	e->e_phnum = 3;
	{
		size_t noff = sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr);
		uint32_t huge = 0x7ffffff0;

		memcpy(b + noff + 4, &huge, 4);
		put_file(b, n);
		assert_int_equal(elfcore_open(path, &src, &err), VMET_EFORMAT);
		assert_non_null(strstr(err.msg, "malformed note at file offset"));
	}
	free(b);
}

static void test_bad_qemu_note(void **state)
{
	struct core c = qemu_core();
	uint32_t v = 2;

	memcpy(qs0, &v, 4);
	expect_fail(&c, VMET_EUNSUPPORTED, "QEMUCPUState version 2");
	c = qemu_core();
	c.note[1].descsz = 200;
	expect_fail(&c, VMET_EFORMAT, "too short");
	c = qemu_core();
	v = 10000;
	memcpy(qs0 + 4, &v, 4);
	expect_fail(&c, VMET_EFORMAT, "size field");
	c = qemu_core();
	c.note[0].descsz = 100;
	expect_fail(&c, VMET_EFORMAT, "NT_PRSTATUS");
	c = qemu_core();
	c.note[c.nnote++] = c.note[3];
	expect_fail(&c, VMET_EFORMAT, "second VMCOREINFO");
}

/* Byte flips anywhere in the headers and notes: an error or a good open, never a crash. */
static void test_flip_fuzz(void **state)
{
	struct core c = qemu_core();
	size_t n, hdr;
	uint8_t *b = build(&c, &n), *m = malloc(n);
	unsigned seed = 12345;

	assert_non_null(m);
	hdr = sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr) + notes_size(&c);
	for (int it = 0; it < 400; it++) {
		struct phys_source *src = NULL;
		struct vmet_err err = { 0 };
		uint8_t buf[64];

		memcpy(m, b, n);
		for (int k = 0; k < 1 + it % 4; k++) {
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % hdr] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		put_file(m, n);
		if (elfcore_open(path, &src, &err) == 0) {
			for (size_t r = 0; r < src->nranges; r++)
				phys_read(src, src->ranges[r].end - 1, buf, 1, &err);
			phys_close(src);
		} else {
			assert_true(err.msg[0] != '\0');
		}
	}
	free(m);
	free(b);
}

/* Lookups on hostile text: whole keys, a last line without newline, bad numbers. */
static void test_vmcoreinfo_text(void **state)
{
	struct phys_source src = { 0 };
	struct vmet_err err = { 0 };
	uint64_t v = 0;
	size_t len;
	const char *p;

	src.vmcoreinfo = (char *)"A=1\nAB=2\nSYMBOL(x)=zz\nNUMBER(n)=-5\nKERNELOFFSET=\n"
				 "SIZE(big)=99999999999999999999999\n=3\nLAST=7";
	p = vmcoreinfo_get(&src, "A", &len);
	assert_non_null(p);
	assert_int_equal(len, 1);
	assert_int_equal(*p, '1');
	assert_int_equal(vmcoreinfo_get_u64(&src, "AB", &v, &err), 0);
	assert_int_equal(v, 2);
	assert_int_equal(vmcoreinfo_get_u64(&src, "LAST", &v, &err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(vmcoreinfo_get_u64(&src, "NUMBER(n)", &v, &err), 0);
	assert_int_equal((int64_t)v, -5);
	assert_int_equal(vmcoreinfo_get_u64(&src, "SYMBOL(x)", &v, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "SYMBOL(x)=zz"));
	assert_int_equal(vmcoreinfo_get_u64(&src, "KERNELOFFSET", &v, &err), VMET_EFORMAT);
	assert_int_equal(vmcoreinfo_get_u64(&src, "SIZE(big)", &v, &err), VMET_EFORMAT);
	assert_null(vmcoreinfo_get(&src, "", &len));
	assert_null(vmcoreinfo_get(&src, "LAS", &len));
	src.vmcoreinfo = NULL;
	assert_null(vmcoreinfo_get(&src, "A", &len));
	assert_int_equal(vmcoreinfo_get_u64(&src, "A", &v, &err), VMET_ENOTFOUND);
}

static void test_sniff(void **state)
{
	struct vmet_err err = { 0 };
	struct core c = qemu_core();
	size_t n;
	uint8_t *b = build(&c, &n);

	put_file(b, n);
	assert_string_equal(source_sniff(path, &err), "elf");
	put_file((const uint8_t *)"EMiL\1\0\0\0", 8);
	assert_string_equal(source_sniff(path, &err), "lime");
	put_file((const uint8_t *)"VMETSNAP", 8);
	assert_string_equal(source_sniff(path, &err), "vmsnap");
	put_file((const uint8_t *)"\0\0\0\0\0\0\0\0", 8);
	assert_string_equal(source_sniff(path, &err), "raw");
	free(b);
}

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/vmet-test-elf.%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_core),
		cmocka_unit_test(test_mode_inference),
		cmocka_unit_test(test_kdump_prstatus),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_ident),
		cmocka_unit_test(test_bad_segments),
		cmocka_unit_test(test_zero_filesz),
		cmocka_unit_test(test_forged_counts),
		cmocka_unit_test(test_bad_qemu_note),
		cmocka_unit_test(test_flip_fuzz),
		cmocka_unit_test(test_vmcoreinfo_text),
		cmocka_unit_test(test_sniff),
	};

	return cmocka_run_group_tests_name("formats_elf", tests, setup, teardown);
}
