// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BTF parser: layouts of hand-built blobs (flattening, bit-fields, typedef
 * and qualifier chains, arrays), every header and type check, forged cycles
 * and blow-ups, random damage, and the running kernel's own blob when the
 * machine exposes one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "profiles/btf.h"

/* ---- a small BTF writer ------------------------------------------------ */

enum {
	K_INT = 1, K_PTR = 2, K_ARRAY = 3, K_STRUCT = 4, K_UNION = 5, K_ENUM = 6,
	K_FWD = 7, K_TYPEDEF = 8, K_VOLATILE = 9, K_CONST = 10, K_FUNC_PROTO = 13,
};

struct w {
	uint8_t types[1 << 16];
	size_t tlen;
	char strs[1 << 14];
	size_t slen;
	uint32_t ntypes;
};

static void w_init(struct w *w)
{
	memset(w, 0, sizeof(*w));
	w->slen = 1;	/* the empty name */
}

static uint32_t w_str(struct w *w, const char *s)
{
	uint32_t off = (uint32_t)w->slen;

	if (!*s)
		return 0;
	memcpy(w->strs + w->slen, s, strlen(s) + 1);
	w->slen += strlen(s) + 1;
	return off;
}

static void w_u32(struct w *w, uint32_t v)
{
	memcpy(w->types + w->tlen, &v, 4);
	w->tlen += 4;
}

static uint32_t w_type(struct w *w, const char *name, unsigned kind, unsigned vlen,
		       int kflag, uint32_t size_or_type)
{
	w_u32(w, w_str(w, name));
	w_u32(w, (uint32_t)vlen | (uint32_t)kind << 24 | (uint32_t)(kflag ? 1u << 31 : 0));
	w_u32(w, size_or_type);
	return ++w->ntypes;
}

static uint32_t w_int(struct w *w, const char *name, uint32_t size)
{
	uint32_t id = w_type(w, name, K_INT, 0, 0, size);

	w_u32(w, size * 8);
	return id;
}

static uint32_t w_array(struct w *w, uint32_t elem, uint32_t index, uint32_t n)
{
	uint32_t id = w_type(w, "", K_ARRAY, 0, 0, 0);

	w_u32(w, elem);
	w_u32(w, index);
	w_u32(w, n);
	return id;
}

/* A member; with kflag structs, bitsz goes in the top byte of offset. */
static void w_member(struct w *w, const char *name, uint32_t type, uint32_t bit_off,
		     uint32_t bitsz)
{
	w_u32(w, w_str(w, name));
	w_u32(w, type);
	w_u32(w, bit_off | bitsz << 24);
}

/* Serialise header + types + strings into a malloc'd buffer. */
static uint8_t *w_blob(const struct w *w, size_t *len)
{
	uint32_t hdr[6];
	uint8_t *b;

	*len = 24 + w->tlen + w->slen;
	b = malloc(*len);
	assert_non_null(b);
	hdr[0] = 0xeb9f | 1u << 16;	/* magic, version 1, flags 0 */
	hdr[1] = 24;			/* hdr_len */
	hdr[2] = 0;			/* type_off */
	hdr[3] = (uint32_t)w->tlen;
	hdr[4] = (uint32_t)w->tlen;	/* str_off */
	hdr[5] = (uint32_t)w->slen;
	memcpy(b, hdr, 24);
	memcpy(b + 24, w->types, w->tlen);
	memcpy(b + 24 + w->tlen, w->strs, w->slen);
	return b;
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

/*
 * The sample: a struct that exercises every shape the profile cares about.
 *
 *   typedef struct { unsigned int val; } kuid_t;
 *   struct sample {                      // 64 bytes
 *       long a;                          // 0
 *       const volatile kuid_t uid;       // 8  (qualifiers over a typedef)
 *       unsigned int f1:3, f2:10;        // 12 bits 0-2, 3-12
 *       unsigned int f3:7;               // bits 107-113 (byte 13 bit 3)
 *       char name[16];                   // 16
 *       union { void *p; long l; };      // 32 (anonymous)
 *       struct { int x; struct { int y; }; }; // 40, 44 (nested anonymous)
 *       struct sample *next[2];          // 48
 *   };
 */
static uint8_t *sample_blob(size_t *len)
{
	struct w w;
	uint32_t t_long, t_uint, t_int, t_char, t_kuid_s, t_kuid, t_vol, t_cst, t_arr16;
	uint32_t t_void_p, t_u, t_iny, t_anon, t_sample, t_sp, t_arr2;

	w_init(&w);
	t_long = w_int(&w, "long int", 8);			/* 1 */
	t_uint = w_int(&w, "unsigned int", 4);			/* 2 */
	t_int = w_int(&w, "int", 4);				/* 3 */
	t_char = w_int(&w, "char", 1);				/* 4 */
	t_kuid_s = w_type(&w, "", K_STRUCT, 1, 0, 4);		/* 5 */
	w_member(&w, "val", t_uint, 0, 0);
	t_kuid = w_type(&w, "kuid_t", K_TYPEDEF, 0, 0, t_kuid_s); /* 6 */
	t_vol = w_type(&w, "", K_VOLATILE, 0, 0, t_kuid);	/* 7 */
	t_cst = w_type(&w, "", K_CONST, 0, 0, t_vol);		/* 8 */
	t_arr16 = w_array(&w, t_char, t_int, 16);		/* 9 */
	t_void_p = w_type(&w, "", K_PTR, 0, 0, 0);		/* 10 */
	t_u = w_type(&w, "", K_UNION, 2, 0, 8);			/* 11 */
	w_member(&w, "p", t_void_p, 0, 0);
	w_member(&w, "l", t_long, 0, 0);
	t_iny = w_type(&w, "", K_STRUCT, 1, 0, 4);		/* 12 */
	w_member(&w, "y", t_int, 0, 0);
	t_anon = w_type(&w, "", K_STRUCT, 2, 0, 8);		/* 13 */
	w_member(&w, "x", t_int, 0, 0);
	w_member(&w, "", t_iny, 32, 0);
	t_sample = w.ntypes + 4;	/* forward reference, as real blobs have */
	t_sp = w_type(&w, "", K_PTR, 0, 0, t_sample);		/* 14 */
	t_arr2 = w_array(&w, t_sp, t_int, 2);			/* 15 */
	assert_int_equal(w_type(&w, "sample", K_FWD, 0, 0, 0), 16);
	assert_int_equal(w_type(&w, "sample", K_STRUCT, 9, 1, 64), t_sample); /* 17 */
	w_member(&w, "a", t_long, 0, 0);
	w_member(&w, "uid", t_cst, 64, 0);
	w_member(&w, "f1", t_uint, 96, 3);
	w_member(&w, "f2", t_uint, 99, 10);
	w_member(&w, "f3", t_uint, 107, 7);
	w_member(&w, "name", t_arr16, 128, 0);
	w_member(&w, "", t_u, 256, 0);
	w_member(&w, "", t_anon, 320, 0);
	w_member(&w, "next", t_arr2, 384, 0);
	return w_blob(&w, len);
}

static struct btf *parse_ok(const uint8_t *b, size_t len)
{
	struct btf *btf = NULL;
	struct vmet_err err = { 0 };
	int rc = btf_parse(b, len, &btf, &err);

	if (rc)
		fail_msg("btf_parse: %s", err.msg);
	return btf;
}

static int parse_fails(const uint8_t *b, size_t len, const char *needle)
{
	struct btf *btf = NULL;
	struct vmet_err err = { 0 };
	int rc = btf_parse(b, len, &btf, &err);

	if (btf)
		fail_msg("a blob that should fail (%s) parsed", needle ? needle : "?");
	assert_int_not_equal(rc, 0);
	if (needle && !strstr(err.msg, needle))
		fail_msg("error '%s' lacks '%s'", err.msg, needle);
	return rc;
}

static void check_member(const struct profile *p, const char *s, const char *m,
			 uint64_t off, uint64_t size, unsigned bo, unsigned bs)
{
	const struct profile_member *pm = profile_member(p, s, m);

	if (!pm)
		fail_msg("no member %s.%s", s, m);
	if (pm->offset != off || pm->size != size || pm->bit_offset != bo ||
	    pm->bit_size != bs)
		fail_msg("%s.%s: got off %llu size %llu bits %u+%u, want %llu %llu %u+%u", s, m,
			 (unsigned long long)pm->offset, (unsigned long long)pm->size,
			 pm->bit_offset, pm->bit_size, (unsigned long long)off,
			 (unsigned long long)size, bo, bs);
}

static struct profile *new_profile(void)
{
	struct profile *p = profile_new();
	struct vmet_err err;

	assert_non_null(p);
	assert_int_equal(profile_set_text(&p->banner, "Linux version test", &err), 0);
	assert_int_equal(profile_set_text(&p->arch, "x86_64", &err), 0);
	return p;
}

/* ---- layouts ------------------------------------------------------------ */

static void test_sample_layout(void **state)
{
	size_t len;
	uint8_t *b = sample_blob(&len);
	struct btf *btf = parse_ok(b, len);
	struct profile *p = new_profile();
	struct vmet_err err = { 0 };

	(void)state;
	free(b);	/* the parser keeps its own copy */
	assert_int_equal(btf_type_count(btf), 17);
	assert_int_equal(btf_pointer_size(btf), 8);
	assert_int_equal(btf_find_struct(btf, "sample"), 17);	/* the definition, not the fwd */
	assert_int_equal(btf_find_struct(btf, "nosuch"), 0);
	assert_int_equal(btf_add_struct(btf, "sample", p, &err), 0);
	assert_int_equal(btf_add_struct(btf, "kuid_t", p, &err), 0);
	assert_int_equal(btf_add_struct(btf, "nosuch", p, &err), VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nosuch"));
	assert_int_equal(profile_finish(p, &err), 0);

	assert_int_equal(profile_sizeof(p, "sample"), 64);
	assert_int_equal(profile_struct(p, "sample")->nm, 11);
	check_member(p, "sample", "a", 0, 8, 0, 0);
	check_member(p, "sample", "uid", 8, 4, 0, 0);
	check_member(p, "sample", "f1", 12, 1, 0, 3);
	check_member(p, "sample", "f2", 12, 2, 3, 10);
	check_member(p, "sample", "f3", 13, 2, 3, 7);
	check_member(p, "sample", "name", 16, 16, 0, 0);
	check_member(p, "sample", "p", 32, 8, 0, 0);
	check_member(p, "sample", "l", 32, 8, 0, 0);
	check_member(p, "sample", "x", 40, 4, 0, 0);
	check_member(p, "sample", "y", 44, 4, 0, 0);
	check_member(p, "sample", "next", 48, 16, 0, 0);
	assert_int_equal(profile_sizeof(p, "kuid_t"), 4);
	check_member(p, "kuid_t", "val", 0, 4, 0, 0);

	/* A bit-field read back through the profile gives the bits we stored. */
	{
		uint8_t bytes[64] = { 0 };
		uint64_t v;
		uint32_t word = 5u | 777u << 3 | 99u << 11;

		memcpy(bytes + 12, &word, 4);
		assert_int_equal(profile_member_value(profile_member(p, "sample", "f2"), bytes,
						      sizeof(bytes), &v, &err), 0);
		assert_int_equal(v, 777);
		assert_int_equal(profile_member_value(profile_member(p, "sample", "f3"), bytes,
						      sizeof(bytes), &v, &err), 0);
		assert_int_equal(v, 99);
	}
	profile_free(p);
	btf_free(btf);
}

static void test_type_size(void **state)
{
	size_t len;
	uint8_t *b = sample_blob(&len);
	struct btf *btf = parse_ok(b, len);
	struct vmet_err err;
	uint64_t sz;

	(void)state;
	assert_int_equal(btf_type_size(btf, 8, &sz, &err), 0);	/* const volatile kuid_t */
	assert_int_equal(sz, 4);
	assert_int_equal(btf_type_size(btf, 15, &sz, &err), 0);	/* sample *[2] */
	assert_int_equal(sz, 16);
	assert_int_equal(btf_type_size(btf, 16, &sz, &err), 0);	/* fwd: unknown */
	assert_int_equal(sz, 0);
	assert_int_equal(btf_type_size(btf, 0, &sz, &err), 0);	/* void */
	assert_int_equal(sz, 0);
	assert_int_equal(btf_type_size(btf, 18, &sz, &err), VMET_EINVAL);
	btf_free(btf);
	free(b);
}

/* Old-style bit-fields (no kind_flag) put the width in an int type of their own. */
static void test_old_style_bitfield(void **state)
{
	struct w w;
	uint32_t t_u4, t_b5;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct profile *p = new_profile();
	struct vmet_err err;

	(void)state;
	w_init(&w);
	t_u4 = w_int(&w, "unsigned int", 4);
	t_b5 = w_type(&w, "unsigned int", K_INT, 0, 0, 4);
	w_u32(&w, 5);				/* 5 bits, offset 0 */
	w_type(&w, "old", K_STRUCT, 2, 0, 8);
	w_member(&w, "w", t_u4, 0, 0);
	w_member(&w, "b", t_b5, 38, 0);	/* bit 38: byte 4, bit 6 */
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_add_struct(btf, "old", p, &err), 0);
	assert_int_equal(profile_finish(p, &err), 0);
	check_member(p, "old", "w", 0, 4, 0, 0);
	check_member(p, "old", "b", 4, 2, 6, 5);
	profile_free(p);
	btf_free(btf);
	free(b);
}

/* A 4-byte long makes pointers 4 bytes (i386 kernels). */
static void test_pointer_size_from_long(void **state)
{
	struct w w;
	uint32_t t_l, t_p;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct profile *p = new_profile();
	struct vmet_err err;

	(void)state;
	w_init(&w);
	t_l = w_int(&w, "long int", 4);
	t_p = w_type(&w, "", K_PTR, 0, 0, t_l);
	w_type(&w, "s32", K_STRUCT, 2, 0, 8);
	w_member(&w, "p", t_p, 0, 0);
	w_member(&w, "l", t_l, 32, 0);
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_pointer_size(btf), 4);
	assert_int_equal(btf_add_struct(btf, "s32", p, &err), 0);
	assert_int_equal(profile_finish(p, &err), 0);
	check_member(p, "s32", "p", 0, 4, 0, 0);
	check_member(p, "s32", "l", 4, 4, 0, 0);
	profile_free(p);
	btf_free(btf);
	free(b);
}

/* Unnamed non-struct members are padding (`int :3`) and are not listed. */
static void test_unnamed_padding(void **state)
{
	struct w w;
	uint32_t t_i;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct profile *p = new_profile();
	struct vmet_err err;

	(void)state;
	w_init(&w);
	t_i = w_int(&w, "int", 4);
	w_type(&w, "pad", K_STRUCT, 2, 1, 4);
	w_member(&w, "", t_i, 0, 3);
	w_member(&w, "z", t_i, 3, 2);
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_add_struct(btf, "pad", p, &err), 0);
	assert_int_equal(profile_finish(p, &err), 0);
	assert_int_equal(profile_struct(p, "pad")->nm, 1);
	check_member(p, "pad", "z", 0, 1, 3, 2);
	profile_free(p);
	btf_free(btf);
	free(b);
}

/* ---- the header --------------------------------------------------------- */

static void test_header_errors(void **state)
{
	size_t len, total;
	uint8_t *b = sample_blob(&len), *c = malloc(len + 64);
	struct vmet_err err;

	(void)state;
	assert_non_null(c);
	assert_int_equal(btf_header_check(b, len, &total, &err), 0);
	assert_int_equal(total, len);
	/* trailing bytes after the blob are allowed (a scan reads more than the blob) */
	memcpy(c, b, len);
	memset(c + len, 0xaa, 64);
	assert_int_equal(btf_header_check(c, len + 64, &total, &err), 0);
	assert_int_equal(total, len);

	parse_fails(b, 10, "shorter than");
	parse_fails(NULL, 0, "no buffer");

#define DAMAGE(off, bytes, n, needle, code) do { \
		memcpy(c, b, len); \
		memcpy(c + (off), bytes, n); \
		assert_int_equal(parse_fails(c, len, needle), code); \
	} while (0)
	DAMAGE(0, "\x12\x34", 2, "magic 0x3412", VMET_EFORMAT);
	DAMAGE(0, "\xeb\x9f", 2, "big-endian", VMET_EUNSUPPORTED);
	DAMAGE(2, "\x02", 1, "version 2", VMET_EFORMAT);
	DAMAGE(4, "\x10\x00\x00\x00", 4, "hdr_len 16", VMET_EFORMAT);
	DAMAGE(4, "\x00\x10\x00\x00", 4, "hdr_len 4096", VMET_EFORMAT);
	/* type section longer than the buffer */
	DAMAGE(12, "\x00\x00\x01\x00", 4, "beyond the", VMET_EFORMAT);
	/* a type length that wraps 32 bits must not wrap our arithmetic */
	DAMAGE(12, "\xfc\xff\xff\xff", 4, NULL, VMET_EFORMAT);
	DAMAGE(8, "\xfc\xff\xff\xff", 4, NULL, VMET_EFORMAT);
	DAMAGE(16, "\x00\x00\x00\x00", 4, "overlaps", VMET_EFORMAT);
	DAMAGE(8, "\x02\x00\x00\x00", 4, "aligned", VMET_EFORMAT);
	DAMAGE(20, "\x00\x00\x00\x00", 4, "string section of 0", VMET_EFORMAT);
	/* the string section must end in a NUL */
	DAMAGE(len - 1, "x", 1, "NUL", VMET_EFORMAT);

	/* a longer header is fine when its unknown part is zero, not otherwise */
	{
		size_t l2 = len + 8;
		uint8_t *d = calloc(1, l2);

		assert_non_null(d);
		memcpy(d, b, 24);
		memcpy(d + 32, b + 24, len - 24);
		put32(d, 4, 32);
		btf_free(parse_ok(d, l2));
		d[28] = 1;
		parse_fails(d, l2, "header byte 28");
		free(d);
	}
	free(c);
	free(b);
}

/* ---- types -------------------------------------------------------------- */

static void test_type_errors(void **state)
{
	size_t len;
	uint8_t *b = sample_blob(&len), *c = malloc(len);
	/* type 1 starts at byte 24, type 5 (the kuid struct) at 24 + 4*16 */
	const size_t t1 = 24, t5 = 24 + 64, t5m = t5 + 12;

	(void)state;
	assert_non_null(c);
	DAMAGE(t1, "\xff\xff\x00\x00", 4, "name offset", VMET_EFORMAT);
	DAMAGE(t1 + 4, "\x00\x00\x00\x1f", 4, "kind 31", VMET_EUNSUPPORTED);
	DAMAGE(t1 + 4, "\x00\x00\x00\x00", 4, "kind 0", VMET_EFORMAT);
	/* a struct claiming thousands of members runs past the section */
	DAMAGE(t5 + 4, "\xff\xff\x00\x04", 4, "runs past", VMET_EFORMAT);
	/* member type id beyond the last type */
	DAMAGE(t5m + 4, "\x00\x01\x00\x00", 4, "type 256", VMET_EFORMAT);
	DAMAGE(t5m, "\x00\x00\x01\x00", 4, "member name offset", VMET_EFORMAT);
	/* typedef pointing past the end */
	DAMAGE(24 + 64 + 24 + 8, "\x63\x00\x00\x00", 4, "type 99", VMET_EFORMAT);
	/* a type section that ends in the middle of a record */
	memcpy(c, b, len);
	put32(c, 12, 20);	/* type_len: one record and a bit */
	assert_int_equal(parse_fails(c, len, "12-byte header"), VMET_EFORMAT);
#undef DAMAGE
	free(c);
	free(b);
}

/* typedef A -> typedef B -> A: a member of type A must fail, not spin. */
static void test_typedef_cycle(void **state)
{
	struct w w;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct profile *p = new_profile();
	struct vmet_err err = { 0 };
	uint64_t sz;

	(void)state;
	w_init(&w);
	w_type(&w, "A", K_TYPEDEF, 0, 0, 2);
	w_type(&w, "B", K_CONST, 0, 0, 1);
	w_type(&w, "cyc", K_STRUCT, 1, 0, 8);
	w_member(&w, "m", 1, 0, 0);
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_type_size(btf, 1, &sz, &err), VMET_ELOOP);
	assert_int_equal(btf_add_struct(btf, "cyc", p, &err), VMET_ELOOP);
	assert_non_null(strstr(err.msg, "cyc"));
	/* the typedef loop also makes the name A resolve to nothing */
	assert_int_equal(btf_find_struct(btf, "A"), 0);
	profile_free(p);
	btf_free(btf);
	free(b);
}

/* An array whose element type is itself. */
static void test_array_cycle(void **state)
{
	struct w w;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct vmet_err err = { 0 };
	uint64_t sz;

	(void)state;
	w_init(&w);
	w_array(&w, 1, 1, 1);
	w_array(&w, 2, 2, 4);
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_type_size(btf, 1, &sz, &err), VMET_ELOOP);
	/* with more than one element the size cap may trip first: an error either way */
	assert_true(btf_type_size(btf, 2, &sz, &err) < 0);
	btf_free(btf);
	free(b);
}

/* A huge array: the size cap, not an overflow. */
static void test_array_overflow(void **state)
{
	struct w w;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct vmet_err err = { 0 };
	uint64_t sz;
	uint32_t t_l, t_a;

	(void)state;
	w_init(&w);
	t_l = w_int(&w, "long int", 8);
	t_a = w_array(&w, t_l, t_l, 0xffffffffu);
	w_array(&w, t_a, t_l, 0xffffffffu);
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_type_size(btf, 3, &sz, &err), VMET_ELIMIT);
	btf_free(btf);
	free(b);
}

/* An anonymous struct that contains itself anonymously. */
static void test_anonymous_cycle(void **state)
{
	struct w w;
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct profile *p = new_profile();
	struct vmet_err err = { 0 };

	(void)state;
	w_init(&w);
	w_type(&w, "", K_STRUCT, 1, 0, 8);
	w_member(&w, "", 1, 0, 0);
	w_type(&w, "outer", K_STRUCT, 1, 0, 8);
	w_member(&w, "", 1, 0, 0);
	b = w_blob(&w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_add_struct(btf, "outer", p, &err), VMET_ELOOP);
	assert_non_null(strstr(err.msg, "outer"));
	profile_free(p);
	btf_free(btf);
	free(b);
}

/*
 * Every level holds 200 anonymous members of the level below, 12 levels
 * deep: 200^12 member visits if nothing bounded the work.  Must end quickly.
 */
static void test_anonymous_blowup(void **state)
{
	struct w *w = malloc(sizeof(*w));
	size_t len;
	uint8_t *b;
	struct btf *btf;
	struct profile *p = new_profile();
	struct vmet_err err = { 0 };
	clock_t t0 = clock();

	(void)state;
	assert_non_null(w);
	w_init(w);
	w_int(w, "int", 4);
	w_type(w, "", K_STRUCT, 1, 0, 4);
	w_member(w, "leaf", 1, 0, 0);
	for (int lvl = 0; lvl < 12; lvl++) {
		uint32_t below = w->ntypes;

		w_type(w, lvl == 11 ? "bomb" : "", K_UNION, 200, 0, 4);
		for (int i = 0; i < 200; i++)
			w_member(w, "", below, 0, 0);
	}
	b = w_blob(w, &len);
	btf = parse_ok(b, len);
	assert_int_equal(btf_add_struct(btf, "bomb", p, &err), VMET_ELIMIT);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	profile_free(p);
	btf_free(btf);
	free(b);
	free(w);
}

/*
 * Random damage to a valid blob: whatever the bytes, parsing and flattening
 * end with a result or an error (ASan/UBSan check the "no crash" half).
 */
static void test_random_damage(void **state)
{
	size_t len;
	uint8_t *b = sample_blob(&len), *c = malloc(len);
	uint32_t seed = 12345;
	unsigned parsed = 0, rejected = 0;

	(void)state;
	assert_non_null(c);
	for (int round = 0; round < 20000; round++) {
		struct btf *btf = NULL;
		struct vmet_err err = { 0 };
		int flips = 1 + round % 4;

		memcpy(c, b, len);
		for (int i = 0; i < flips; i++) {
			seed = seed * 1103515245u + 12345u;
			c[(seed >> 8) % len] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		if (btf_parse(c, len, &btf, &err)) {
			assert_null(btf);
			assert_true(err.msg[0] != '\0');
			rejected++;
			continue;
		}
		parsed++;
		{
			struct profile *p = new_profile();
			struct vmet_err e2 = { 0 };
			uint64_t sz;

			if (btf_add_struct(btf, "sample", p, &e2) == 0)
				profile_finish(p, &e2);
			for (uint32_t id = 0; id <= btf_type_count(btf); id++)
				btf_type_size(btf, id, &sz, &e2);
			profile_free(p);
		}
		btf_free(btf);
	}
	/* Both outcomes happen: the damage is neither always fatal nor always ignored. */
	assert_true(parsed > 100);
	assert_true(rejected > 100);
	free(c);
	free(b);
}

/* ---- a real kernel's blob ------------------------------------------------ */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*len = n;
	return buf;
}

/*
 * The blob of the machine running the test (or $VMET_TEST_BTF): facts that
 * hold for every x86-64 Linux, checked through the parser.
 */
static void test_real_blob(void **state)
{
	const char *path = getenv("VMET_TEST_BTF");
	size_t len = 0;
	uint8_t *b;
	struct btf *btf;
	struct profile *p;
	struct vmet_err err = { 0 };

	(void)state;
	if (!path)
		path = "/sys/kernel/btf/vmlinux";
	b = slurp(path, &len);
	if (!b) {
		if (getenv("VMET_TEST_BTF"))
			fail_msg("cannot read %s", path);
		skip();
	}
	btf = parse_ok(b, len);
	assert_true(btf_type_count(btf) > 10000);
	assert_int_equal(btf_pointer_size(btf), 8);
	p = new_profile();
	assert_int_equal(btf_add_struct(btf, "list_head", p, &err), 0);
	assert_int_equal(btf_add_struct(btf, "task_struct", p, &err), 0);
	assert_int_equal(btf_add_struct(btf, "kuid_t", p, &err), 0);
	assert_int_equal(btf_add_struct(btf, "sock_common", p, &err), 0);
	if (profile_finish(p, &err))
		fail_msg("profile_finish: %s", err.msg);
	check_member(p, "list_head", "next", 0, 8, 0, 0);
	check_member(p, "list_head", "prev", 8, 8, 0, 0);
	assert_int_equal(profile_sizeof(p, "list_head"), 16);
	assert_int_equal(profile_member(p, "task_struct", "comm")->size, 16);
	assert_int_equal(profile_member(p, "task_struct", "tasks")->size, 16);
	assert_int_equal(profile_member(p, "task_struct", "pid")->size, 4);
	check_member(p, "kuid_t", "val", 0, 4, 0, 0);
	/* skc_daddr/skc_rcv_saddr live in an anonymous union of a struct: flattened */
	check_member(p, "sock_common", "skc_daddr", 0, 4, 0, 0);
	check_member(p, "sock_common", "skc_rcv_saddr", 4, 4, 0, 0);
	check_member(p, "sock_common", "skc_dport", 12, 2, 0, 0);
	check_member(p, "sock_common", "skc_num", 14, 2, 0, 0);
	profile_free(p);
	btf_free(btf);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_layout),
		cmocka_unit_test(test_type_size),
		cmocka_unit_test(test_old_style_bitfield),
		cmocka_unit_test(test_pointer_size_from_long),
		cmocka_unit_test(test_unnamed_padding),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_typedef_cycle),
		cmocka_unit_test(test_array_cycle),
		cmocka_unit_test(test_array_overflow),
		cmocka_unit_test(test_anonymous_cycle),
		cmocka_unit_test(test_anonymous_blowup),
		cmocka_unit_test(test_random_damage),
		cmocka_unit_test(test_real_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
