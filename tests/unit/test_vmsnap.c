// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet snapshots: write from an in-memory source, read back byte for byte;
 * minimal snapshots; atomic writing; every kind of damage (flipped bytes,
 * truncation, forged counts and offsets) detected with a specific error.
 * Section positions are found from the documented layout (vmet-snapshot(5)),
 * not through the reader.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "formats/record.h"
#include "formats/source.h"
#include "formats/vmsnap.h"
#include "tests/unit/helper_mem.h"

#define MEM (4u << 20)

static char dir[64], snap[96], raw[96];

static struct phys_source *make_source(void)
{
	struct phys_source *src = mem_source_new(MEM);
	uint8_t *m = mem_bytes(src);
	struct phys_range *r = calloc(3, sizeof(*r));
	struct vcpu_record v = { 0 };

	assert_non_null(r);
	/* Unaligned ranges, two sharing page 0x9f, and a hole below 1 MiB. */
	r[0] = (struct phys_range){ 0, 0x9fc00 };
	r[1] = (struct phys_range){ 0x9fe00, 0xa0000 };
	r[2] = (struct phys_range){ 0x100000, MEM };
	assert_int_equal(phys_set_ranges(src, r, 3, NULL), 0);
	/* Text-like pages, a page of noise, zero pages between. */
	for (uint64_t a = 0; a < MEM; a += 4096) {
		if ((a / 4096) % 3 == 0)
			for (int k = 0; k < 4096; k++)
				m[a + k] = (uint8_t)("vmet snapshot test "[k % 19] + (a >> 12));
	}
	srand(7);
	for (int k = 0; k < 8 * 4096; k++)	/* 8 pages: at least one whole chunk */
		m[0x200000 + k] = (uint8_t)rand();
	m[0x9fc00] = 0xee;	/* outside every range: must not be stored or read */
	m[0x9fe10] = 0x42;
	v = (struct vcpu_record){ .layer = 0, .vcpu = 0, .cr0 = 0x80050033, .cr3 = 0x1234000,
				  .cr4 = 0x6f0, .efer = 0xd01, .mode = PAGING_4LEVEL,
				  .cr3_origin = VCPU_ORIGIN_DUMPNOTE, .regs_origin = VCPU_ORIGIN_HELPER,
				  .rip = 0xffffffff81000000ull, .time_ns = 123456789 };
	assert_int_equal(vcpu_set_add(&src->vcpus, &v), 0);
	v = (struct vcpu_record){ .layer = 1, .guest = 2, .vcpu = 3, .cr3 = 0x5000,
				  .mode = PAGING_5LEVEL, .cr3_origin = VCPU_ORIGIN_VMCB,
				  .s2_type = STAGE2_NPT, .s2_root = 0x77000, .s2_mode = PAGING_4LEVEL,
				  .s2_origin = VCPU_ORIGIN_VMCB, .where = 0x3f000 };
	assert_int_equal(vcpu_set_add(&src->vcpus, &v), 0);
	src->vmcoreinfo = strdup("OSRELEASE=6.1.0-x\nKERNELOFFSET=2a000000\n");
	src->description = strdup("test memory");
	return src;
}

static struct vmsnap_write_opts wopts(void)
{
	static const struct vmsnap_meta_kv kv[] = { { "note", "two\nlines \\ here" } };

	return (struct vmsnap_write_opts){ .pages_per_chunk = 4, .banner = "Linux version 6.1.0-x",
					   .meta = kv, .nmeta = 1 };
}

static void write_snap(struct phys_source *src, struct vmsnap_write_stats *st)
{
	struct vmet_err err = { 0 };
	struct vmsnap_write_opts o = wopts();

	if (vmsnap_write(src, snap, &o, st, &err))
		fail_msg("write: %s", err.msg);
}

static void compare_all(struct phys_source *a, struct phys_source *b)
{
	static uint8_t x[MEM], y[MEM];
	struct vmet_err err = { 0 };

	assert_int_equal(a->nranges, b->nranges);
	for (size_t i = 0; i < a->nranges; i++) {
		uint64_t s = a->ranges[i].start, n = a->ranges[i].end - s;

		assert_int_equal(a->ranges[i].start, b->ranges[i].start);
		assert_int_equal(a->ranges[i].end, b->ranges[i].end);
		assert_int_equal(phys_read(a, s, x, n, &err), 0);
		if (phys_read(b, s, y, n, &err))
			fail_msg("%s", err.msg);
		assert_memory_equal(x, y, n);
	}
}

static void test_round_trip(void **state)
{
	struct phys_source *src = make_source(), *s2 = NULL;
	struct vmsnap_write_stats st;
	struct vmsnap_info si;
	struct vmet_err err = { 0 };
	uint8_t d[32], b[4];
	char val[64];
	uint64_t nonzero = 0;

	write_snap(src, &st);
	assert_int_equal(source_open(snap, NULL, &s2, &err), 0);
	assert_string_equal(s2->format, "vmsnap");
	compare_all(src, s2);
	/* the byte outside every range is a hole, not data */
	assert_int_equal(phys_read(s2, 0x9fc00, b, 1, &err), VMET_EHOLE);
	assert_int_equal(phys_read(s2, 0x9fe10, b, 1, &err), 0);
	assert_int_equal(b[0], 0x42);
	/* every vCPU field, including provenance */
	assert_int_equal(s2->vcpus.n, 2);
	for (int i = 0; i < 2; i++) {
		const struct vcpu_record *p = &src->vcpus.v[i], *q = &s2->vcpus.v[i];

		assert_int_equal(p->layer, q->layer); assert_int_equal(p->guest, q->guest);
		assert_int_equal(p->vcpu, q->vcpu); assert_int_equal(p->cr0, q->cr0);
		assert_int_equal(p->cr3, q->cr3); assert_int_equal(p->cr4, q->cr4);
		assert_int_equal(p->efer, q->efer); assert_int_equal(p->mode, q->mode);
		assert_int_equal(p->cr3_origin, q->cr3_origin);
		assert_int_equal(p->regs_origin, q->regs_origin);
		assert_int_equal(p->s2_type, q->s2_type); assert_int_equal(p->s2_root, q->s2_root);
		assert_int_equal(p->s2_mode, q->s2_mode); assert_int_equal(p->s2_origin, q->s2_origin);
		assert_int_equal(p->rip, q->rip); assert_int_equal(p->time_ns, q->time_ns);
		assert_int_equal(p->where, q->where);
	}
	assert_string_equal(s2->vmcoreinfo, src->vmcoreinfo);
	assert_int_equal(vmsnap_meta_get(s2, "note", val, sizeof(val)), 16);
	assert_string_equal(val, "two\nlines \\ here");
	assert_true(vmsnap_meta_get(s2, "banner", val, sizeof(val)) > 0);
	assert_string_equal(val, "Linux version 6.1.0-x");
	assert_true(vmsnap_meta_get(s2, "source", val, sizeof(val)) > 0);
	assert_string_equal(val, "test memory");
	assert_int_equal(vmsnap_meta_get(s2, "nope", val, sizeof(val)), VMET_ENOTFOUND);
	/* sparse: exactly the non-zero pages are stored */
	for (uint64_t a = 0; a < MEM; a += 4096) {
		bool nz = false;

		for (size_t r = 0; r < src->nranges; r++)
			for (uint64_t k = a; k < a + 4096; k++)
				if (k >= src->ranges[r].start && k < src->ranges[r].end && mem_bytes(src)[k])
					nz = true;
		nonzero += nz;
	}
	assert_int_equal(vmsnap_get_info(s2, &si, &err), 0);
	assert_int_equal(si.stored_pages, nonzero);
	assert_int_equal(st.pages_stored, nonzero);
	assert_int_equal(si.pages_per_chunk, 4);
	assert_int_equal(si.nchunks, (nonzero + 3) / 4);
	assert_memory_equal(si.digest, st.digest, 32);
	assert_int_equal(vmsnap_verify(s2, d, &err), 0);
	assert_memory_equal(d, st.digest, 32);
	/* zero-copy: zero pages and stored (incompressible) chunks */
	assert_non_null(s2->ops->map(s2, 0x101000, 4096));
	assert_non_null(s2->ops->map(s2, 0x204000, 4096));
	assert_memory_equal(s2->ops->map(s2, 0x204000, 4096), mem_bytes(src) + 0x204000, 4096);
	assert_null(s2->ops->map(s2, 0x102000, 4096));	/* compressed */
	phys_close(s2);
	phys_close(src);
}

static void test_minimal(void **state)
{
	struct phys_source *src = make_source(), *s2 = NULL;
	struct vmsnap_write_opts o = wopts();
	struct vmet_err err = { 0 };
	struct page_set set;
	uint8_t b[8];

	page_set_init(&set, 0);
	assert_int_equal(page_set_add(&set, 0x9f), 0);	/* the shared page */
	assert_int_equal(page_set_add(&set, 0x101), 0);	/* a zero page */
	assert_int_equal(page_set_add(&set, 0x102), 0);
	assert_int_equal(page_set_add(&set, 0x300), 0);
	assert_int_equal(page_set_add(&set, 0x5000), 0);	/* outside memory: ignored */
	o.keep_page = page_set_keep;
	o.keep_ctx = &set;
	assert_int_equal(vmsnap_write(src, snap, &o, NULL, &err), 0);
	assert_int_equal(vmsnap_open(snap, &s2, &err), 0);
	assert_int_equal(s2->nranges, 4);
	assert_int_equal(s2->ranges[0].start, 0x9f000);
	assert_int_equal(s2->ranges[0].end, 0x9fc00);
	assert_int_equal(s2->ranges[1].start, 0x9fe00);
	assert_int_equal(s2->ranges[2].start, 0x101000);
	assert_int_equal(s2->ranges[2].end, 0x103000);
	assert_int_equal(s2->ranges[3].start, 0x300000);
	assert_int_equal(phys_read(s2, 0x300000, b, 8, &err), 0);
	assert_memory_equal(b, mem_bytes(src) + 0x300000, 8);
	/* a page no command read is a hole, not zeros */
	assert_int_equal(phys_read(s2, 0x103000, b, 1, &err), VMET_EHOLE);
	assert_int_equal(phys_read(s2, 0x0, b, 1, &err), VMET_EHOLE);
	{
		uint8_t d[32];

		assert_int_equal(vmsnap_verify(s2, d, &err), 0);
	}
	phys_close(s2);
	/* nothing selected: refused */
	page_set_free(&set);
	page_set_init(&set, 0);
	assert_int_equal(vmsnap_write(src, snap, &o, NULL, &err), VMET_EINVAL);
	page_set_free(&set);
	phys_close(src);
}

/* --- damage --------------------------------------------------------------- */

static uint8_t *load(size_t *n)
{
	FILE *f = fopen(snap, "rb");
	uint8_t *b;
	long sz;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)sz + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return b;
}

static void store(const uint8_t *b, size_t n)
{
	FILE *f = fopen(raw, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Directory entry of a section type (from the documented layout). */
static uint8_t *dirent(uint8_t *b, uint32_t type)
{
	uint64_t doff = rd64(b + 24);
	uint32_t n = rd32(b + 32);

	for (uint32_t i = 0; i < n; i++)
		if (rd32(b + doff + 32 * i) == type)
			return b + doff + 32 * i;
	fail_msg("no section %u", type);
	return NULL;
}

static void expect_open(const uint8_t *b, size_t n, int code, const char *needle)
{
	struct phys_source *s = NULL;
	struct vmet_err err = { 0 };
	int rc;

	store(b, n);
	rc = vmsnap_open(raw, &s, &err);
	if (rc != code)
		fail_msg("expected %d, got %d: %s", code, rc, err.msg);
	if (needle && !strstr(err.msg, needle))
		fail_msg("message lacks '%s': %s", needle, err.msg);
	if (!rc)
		phys_close(s);
}

static void test_damage(void **state)
{
	struct phys_source *src = make_source();
	size_t n;
	uint8_t *b, *m;
	uint64_t v;

	write_snap(src, NULL);
	phys_close(src);
	b = load(&n);
	m = malloc(n + 16);
	assert_non_null(m);
#define FRESH() memcpy(m, b, n)
	FRESH();
	expect_open(m, n, 0, NULL);
	expect_open(m, n - 1, VMET_EFORMAT, "truncated");
	expect_open(m, 50, VMET_EFORMAT, "shorter than the 96-byte");
	m[n] = 0;
	expect_open(m, n + 1, VMET_EFORMAT, "trailing data");
	FRESH(); m[0] = 'X';
	expect_open(m, n, VMET_EFORMAT, "bad magic");
	FRESH(); m[8] = 2;
	expect_open(m, n, VMET_EUNSUPPORTED, "version 2");
	FRESH(); m[32] = 0xff; m[33] = 0xff;
	expect_open(m, n, VMET_EFORMAT, "dir_count");
	FRESH(); v = n - 8; memcpy(m + 24, &v, 8);
	expect_open(m, n, VMET_EFORMAT, "outside the file");
	/* a section pointing beyond the end */
	FRESH(); v = 1ull << 40; memcpy(dirent(m, VMSNAP_SEC_EXTENTS) + 16, &v, 8);
	expect_open(m, n, VMET_EFORMAT, "section EXTENTS");
	/* two sections on top of each other */
	FRESH(); memcpy(dirent(m, VMSNAP_SEC_META) + 8, dirent(m, VMSNAP_SEC_RANGES) + 8, 8);
	expect_open(m, n, VMET_EFORMAT, "overlaps");
	/* forged counts */
	{
		uint8_t *c;

		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_CHUNKS) + 8);
		v = rd64(c + 8) + 100; memcpy(c + 8, &v, 8);	/* stored_pages */
		expect_open(m, n, VMET_EFORMAT, "chunk entries");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_CHUNKS) + 8);
		v = 1ull << 40; memcpy(c + 8, &v, 8);
		expect_open(m, n, VMET_EFORMAT, "more than the memory map");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_CHUNKS) + 8);
		c[4] = 0; c[5] = 0x10;		/* pages_per_chunk 4096 */
		expect_open(m, n, VMET_EFORMAT, "pages_per_chunk");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_CHUNKS) + 8);
		v = 8; memcpy(c + 16, &v, 8);	/* chunk 0 in the header */
		expect_open(m, n, VMET_EFORMAT, "outside PAGEDATA");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_EXTENTS) + 8);
		v = rd64(c + 8) + 1; memcpy(c + 8, &v, 8);	/* extent 0 npages */
		expect_open(m, n, VMET_EFORMAT, "extent");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_EXTENTS) + 8);
		v = 0x100000; memcpy(c, &v, 8);	/* extent 0 far outside memory */
		expect_open(m, n, VMET_EFORMAT, "outside the memory map");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_VCPUS) + 8);
		c[12] = 9;			/* paging mode 9 */
		expect_open(m, n, VMET_EFORMAT, "vCPU record 0");
		FRESH(); c = m + rd64(dirent(m, VMSNAP_SEC_RANGES) + 8);
		v = 0x200000; memcpy(c + 16, &v, 8);	/* range 1 starts inside range 2 */
		expect_open(m, n, VMET_EFORMAT, "RANGES");
		FRESH(); v = 17; memcpy(dirent(m, VMSNAP_SEC_RANGES) + 16, &v, 8);
		expect_open(m, n, VMET_EFORMAT, "multiple of 16");
	}
	free(m);
	free(b);
#undef FRESH
}

/* Content damage that passes the structural checks: the digest catches it. */
static void test_verify_detects(void **state)
{
	struct phys_source *src = make_source(), *s2 = NULL;
	struct vmet_err err = { 0 };
	uint8_t d[32], buf[4096];
	size_t n;
	uint8_t *b, *e;

	write_snap(src, NULL);
	phys_close(src);
	b = load(&n);
	/* one byte of META */
	e = dirent(b, VMSNAP_SEC_META);
	b[rd64(e + 8) + 3] ^= 1;
	store(b, n);
	assert_int_equal(vmsnap_open(raw, &s2, &err), 0);
	assert_int_equal(vmsnap_verify(s2, d, &err), VMET_EMISMATCH);
	assert_non_null(strstr(err.msg, "digest mismatch"));
	phys_close(s2);
	b[rd64(e + 8) + 3] ^= 1;
	/* one byte inside a stored (uncompressed) chunk: only the digest can tell */
	{
		uint8_t *c = b + rd64(dirent(b, VMSNAP_SEC_CHUNKS) + 8) + 16;
		uint64_t nch = rd64(dirent(b, VMSNAP_SEC_CHUNKS) + 24), off = 0, zoff = 0;

		for (uint64_t i = 0; i < nch; i++) {
			if (c[16 * i + 12] == VMSNAP_ENC_STORED)
				off = rd64(c + 16 * i);
			else if (!zoff)
				zoff = rd64(c + 16 * i);
		}
		assert_true(off && zoff);
		b[off + 100] ^= 0x80;
		store(b, n);
		assert_int_equal(vmsnap_open(raw, &s2, &err), 0);
		assert_int_equal(vmsnap_verify(s2, d, &err), VMET_EMISMATCH);
		phys_close(s2);
		b[off + 100] ^= 0x80;
		/* a byte inside a zlib chunk: the reader names the chunk */
		b[zoff + 20] ^= 0x55;
		store(b, n);
		assert_int_equal(vmsnap_open(raw, &s2, &err), 0);
		assert_int_equal(vmsnap_verify(s2, d, &err), VMET_EFORMAT);
		assert_non_null(strstr(err.msg, "chunk 0"));
		assert_int_equal(phys_read(s2, 0x0, buf, 16, &err), VMET_EFORMAT);
		assert_non_null(strstr(err.msg, "is corrupt"));
		phys_close(s2);
	}
	free(b);
}

static void test_flip_fuzz(void **state)
{
	struct phys_source *src = make_source();
	size_t n;
	uint8_t *b, *m;
	unsigned seed = 99;

	write_snap(src, NULL);
	phys_close(src);
	b = load(&n);
	m = malloc(n);
	assert_non_null(m);
	for (int it = 0; it < 300; it++) {
		struct phys_source *s = NULL;
		struct vmet_err err = { 0 };
		uint8_t d[32], buf[256];
		size_t meta = rd64(dirent(b, VMSNAP_SEC_RANGES) + 8);

		memcpy(m, b, n);
		for (int k = 0; k < 1 + it % 3; k++) {
			size_t at;

			seed = seed * 1103515245 + 12345;
			/* half the flips in the header/directory/index, half anywhere */
			at = (it & 1) ? (seed >> 8) % n
				      : (seed >> 8) % 2 ? (seed >> 9) % 96 : meta + (seed >> 9) % (n - meta);
			m[at] ^= (uint8_t)(1u << ((seed >> 3) % 8));
		}
		store(m, n);
		if (vmsnap_open(raw, &s, &err))
			continue;
		for (size_t r = 0; r < s->nranges; r++) {
			uint64_t len = s->ranges[r].end - s->ranges[r].start;

			phys_read(s, s->ranges[r].start, buf, len < sizeof(buf) ? len : sizeof(buf), &err);
			phys_read(s, s->ranges[r].end - 1, buf, 1, &err);
		}
		vmsnap_verify(s, d, &err);
		phys_close(s);
	}
	free(m);
	free(b);
}

/* --- atomic writing --------------------------------------------------------- */

static uint64_t fail_at;

static int failing_read(struct phys_source *src, uint64_t a, void *b, size_t n, struct vmet_err *e)
{
	if (a + n > fail_at)
		return vmet_errf(e, VMET_EIO, "test: read at 0x%llx fails", (unsigned long long)a);
	memset(b, 0x5a, n);
	return 0;
}

static const struct phys_source_ops failing_ops = { .read = failing_read };

static int count_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void test_atomic(void **state)
{
	struct phys_source *src = phys_source_new(&failing_ops, "test-failing");
	struct phys_range *r = calloc(1, sizeof(*r));
	struct vmet_err err = { 0 };
	struct stat st;
	char bad[128];

	r[0] = (struct phys_range){ 0, 8u << 20 };
	assert_int_equal(phys_set_ranges(src, r, 1, NULL), 0);
	unlink(snap);
	fail_at = 5u << 20;
	assert_int_equal(vmsnap_write(src, snap, NULL, NULL, &err), VMET_EIO);
	if (!strstr(err.msg, "reading physical 0x500000"))
		fail_msg("%s", err.msg);
	assert_int_equal(stat(snap, &st), -1);
	assert_int_equal(count_tmp(), 0);
	assert_int_equal(raw_export(src, raw, 0, false, NULL, &err), VMET_EIO);
	assert_int_equal(count_tmp(), 0);
	/* an existing file is left as it was */
	fail_at = UINT64_MAX;
	assert_int_equal(vmsnap_write(src, snap, NULL, NULL, &err), 0);
	assert_int_equal(stat(snap, &st), 0);
	fail_at = 1u << 20;
	{
		off_t before = st.st_size;

		assert_int_equal(vmsnap_write(src, snap, NULL, NULL, &err), VMET_EIO);
		assert_int_equal(stat(snap, &st), 0);
		assert_int_equal(st.st_size, before);
	}
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.vmsnap", dir);
	assert_int_equal(vmsnap_write(src, bad, NULL, NULL, &err), VMET_EIO);
	assert_non_null(strstr(err.msg, "temporary file"));
	phys_close(src);
}

static void test_raw_export(void **state)
{
	struct phys_source *src = make_source(), *s2 = NULL;
	struct vmet_err err = { 0 };
	struct stat st;
	uint8_t b[16];

	assert_int_equal(raw_export(src, raw, 0, false, NULL, &err), 0);
	assert_int_equal(stat(raw, &st), 0);
	assert_int_equal(st.st_size, MEM);
	assert_true((uint64_t)st.st_blocks * 512 < MEM);	/* sparse */
	assert_int_equal(raw_open(raw, NULL, &s2, &err), 0);
	assert_int_equal(phys_read(s2, 0x300000, b, 16, &err), 0);
	assert_memory_equal(b, mem_bytes(src) + 0x300000, 16);
	/* bytes outside the source's ranges become zeros */
	assert_int_equal(phys_read(s2, 0x9fc00, b, 1, &err), 0);
	assert_int_equal(b[0], 0);
	phys_close(s2);
	assert_int_equal(raw_export(src, raw, 1u << 20, false, NULL, &err), VMET_ELIMIT);
	phys_close(src);
}

/* A source whose frames from 0x200000 on cannot be read (as a PV domain's
 * source has frames Xen will not map for it). */
static int half_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		     struct vmet_err *err)
{
	if (addr + len > 0x200000)
		return vmet_errf(err, VMET_EIO, "frame 0x%" PRIx64 " not mapped", addr >> 12);
	memset(buf, 0x5a, len);
	return 0;
}

static void test_recorder_skips_failed_reads(void **state)
{
	static const struct phys_source_ops ops = { .read = half_read };
	static struct phys_range r = { 0, 0x400000 };
	struct phys_source *src = calloc(1, sizeof(*src)), *rec = NULL;
	struct vmet_err err = { 0 };
	struct page_set set;
	uint8_t b[16];

	(void)state;
	src->ops = &ops;
	src->format = "test";
	src->ranges = &r;
	src->nranges = 1;
	page_set_init(&set, 16);
	assert_int_equal(record_source_new(src, &set, &rec, &err), 0);
	assert_int_equal(phys_read(rec, 0x1ff000, b, 16, &err), 0);
	assert_int_not_equal(phys_read(rec, 0x200000, b, 16, &err), 0);
	assert_int_equal(set.n, 1);
	assert_true(page_set_has(&set, 0x1ff));
	assert_false(page_set_has(&set, 0x200));
	src->ranges = NULL;	/* static: not the source's to free */
	phys_close(rec);
	page_set_free(&set);
}

static void test_recorder(void **state)
{
	struct phys_source *src = make_source(), *rec = NULL;
	struct vmet_err err = { 0 };
	struct page_set set;
	uint8_t b[8192];

	page_set_init(&set, 3);
	assert_int_equal(record_source_new(src, &set, &rec, &err), 0);
	assert_int_equal(rec->nranges, 3);
	assert_int_equal(rec->vcpus.n, 2);
	assert_string_equal(rec->vmcoreinfo, src->vmcoreinfo);
	assert_int_equal(phys_read(rec, 0x100ff8, b, 16, &err), 0);	/* two pages */
	assert_memory_equal(b, mem_bytes(src) + 0x100ff8, 16);
	assert_true(page_set_has(&set, 0x100));
	assert_true(page_set_has(&set, 0x101));
	assert_false(page_set_has(&set, 0x102));
	assert_int_equal(set.n, 2);
	assert_int_equal(phys_read(rec, 0x100010, b, 16, &err), 0);	/* again: no growth */
	assert_int_equal(set.n, 2);
	assert_int_equal(phys_read(rec, 0x200000, b, 8192, &err), VMET_ELIMIT);	/* cap 3 */
	assert_true(set.overflow);
	phys_close(rec);	/* closes src too */
	page_set_free(&set);
	/* growth keeps every member */
	page_set_init(&set, 0);
	for (uint64_t p = 0; p < 5000; p++)
		assert_int_equal(page_set_add(&set, p * 3), 0);
	for (uint64_t p = 0; p < 15000; p++)
		assert_int_equal(page_set_has(&set, p), p % 3 == 0);
	page_set_free(&set);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vmet-test-vmsnap.%d", (int)getpid());
	mkdir(dir, 0700);
	snprintf(snap, sizeof(snap), "%s/t.vmsnap", dir);
	snprintf(raw, sizeof(raw), "%s/t.bin", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(snap);
	unlink(raw);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_verify_detects),
		cmocka_unit_test(test_flip_fuzz),
		cmocka_unit_test(test_atomic),
		cmocka_unit_test(test_raw_export),
		cmocka_unit_test(test_recorder),
		cmocka_unit_test(test_recorder_skips_failed_reads),
	};

	return cmocka_run_group_tests_name("vmsnap", tests, setup, teardown);
}
