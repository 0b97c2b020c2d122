// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kallsyms decoding: synthetic kernel images laid out the way
 * scripts/kallsyms lays them out (with and without seqs_of_names, absolute
 * per-CPU symbols, a name long enough for the two-byte length), decoded
 * back symbol by symbol; then every kind of damage a hostile guest could
 * do to the tables, which must end in an error, never a crash or a hang.
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

#include "os/linux/kallsyms.h"

#define TEXT_VA 0xffffffff81000000ull
#define NSYMS 1000
#define NPERCPU 5

struct gsym {
	char name[300];
	char type;
	uint64_t addr;
	bool absolute;
};

struct image {
	uint8_t *buf;
	size_t len, cap;
	/* where the generator put things, for targeted damage */
	size_t offsets, relative_base, num_syms, names, markers, seqs, token_table,
	       token_index;
	size_t nmarkers;
};

static char tokens[256][8];

/* Single printable characters, then a few multi-character tokens. */
static void make_tokens(void)
{
	static const char *multi[] = { "sym_", "init", "_t", "ask", "per", "cpu", "00", "1" };
	unsigned k = 0;

	for (unsigned i = 0; i < 256; i++) {
		if (i > 0x20 && i < 0x7f)
			snprintf(tokens[i], sizeof(tokens[i]), "%c", (char)i);
		else
			snprintf(tokens[i], sizeof(tokens[i]), "%s", multi[k++ % 8]);
	}
}

static void put(struct image *im, const void *p, size_t n)
{
	if (im->len + n > im->cap) {
		im->cap = (im->len + n) * 2;
		im->buf = realloc(im->buf, im->cap);
		assert_non_null(im->buf);
	}
	memcpy(im->buf + im->len, p, n);
	im->len += n;
}

static void pad8(struct image *im)
{
	static const uint8_t z[8];

	put(im, z, (8 - im->len % 8) % 8);
}

static void put32(struct image *im, uint32_t v)
{
	put(im, &v, 4);
}

/* Greedy longest-token encoding of "type + name". */
static size_t encode(const char *s, uint8_t *out)
{
	size_t n = 0;

	while (*s) {
		unsigned best = (uint8_t)*s;
		size_t blen = 1;

		for (unsigned t = 0; t < 256; t++) {
			size_t l = strlen(tokens[t]);

			if (l > blen && !strncmp(s, tokens[t], l)) {
				best = t;
				blen = l;
			}
		}
		out[n++] = (uint8_t)best;
		s += blen;
	}
	return n;
}

static void make_syms(struct gsym *g, size_t n)
{
	uint64_t a = TEXT_VA;

	for (size_t i = 0; i < n; i++) {
		if (i < NPERCPU) {
			snprintf(g[i].name, sizeof(g[i].name), "percpu_var%zu", i);
			g[i].type = 'A';
			g[i].addr = 0x1000 * i;
			g[i].absolute = true;
			continue;
		}
		if (i == NPERCPU)
			snprintf(g[i].name, sizeof(g[i].name), "_text");
		else if (i == 500)
			snprintf(g[i].name, sizeof(g[i].name), "init_task");
		else if (i == 600) {	/* longer than 127 tokens: the two-byte length */
			memset(g[i].name, 'z', 200);
			g[i].name[200] = '\0';
		}
		else if (i == 700 || i == 701)	/* file-local namesakes */
			snprintf(g[i].name, sizeof(g[i].name), "dup_static");
		else if (i == 702)
			snprintf(g[i].name, sizeof(g[i].name), "dup_static");
		else
			snprintf(g[i].name, sizeof(g[i].name), "sym_%05zu", i);
		g[i].type = i == 702 ? 'D' : i == 700 || i == 701 ? 't' : "TtDdRrBb"[i % 8];
		g[i].addr = a;
		g[i].absolute = false;
		a += 16 + (i % 5) * 8;
	}
}

static void put_offsets(struct image *im, const struct gsym *g, size_t n, uint64_t rel_base)
{
	im->offsets = im->len;
	for (size_t i = 0; i < n; i++)
		put32(im, g[i].absolute ? (uint32_t)g[i].addr
					: (uint32_t)(int32_t)(-(int64_t)(g[i].addr - rel_base) - 1));
	pad8(im);
	im->relative_base = im->len;
	put(im, &rel_base, 8);
}

enum order { CLASSIC, SEQS, NEWER };

/*
 * Lay the tables out at 8-byte aligned labels after `text` bytes of filler,
 * in one of the orders scripts/kallsyms has used:
 *   CLASSIC  offsets, relative_base, num_syms, names, markers, token_table,
 *            token_index (up to 6.1)
 *   SEQS     the same with seqs_of_names before token_table (6.2, Debian 6.1)
 *   NEWER    num_syms, names, markers, token_table, token_index, offsets,
 *            relative_base, seqs_of_names (6.4 on)
 */
static void build_order(struct image *im, const struct gsym *g, size_t n, enum order order,
			uint64_t rel_base)
{
	uint8_t enc[400];
	uint32_t *markers = calloc(n / 256 + 1, 4);
	uint16_t idx[256];
	size_t names_len = 0;
	bool seqs = order == SEQS;

	assert_non_null(markers);
	memset(im, 0, sizeof(*im));
	for (size_t i = 0; i < 4096; i++) {	/* "text": bytes that must not confuse the scan */
		uint8_t b = (uint8_t)(i * 7 + 3);

		put(im, &b, 1);
	}
	if (order != NEWER)
		put_offsets(im, g, n, rel_base);
	im->num_syms = im->len;
	put32(im, (uint32_t)n);
	pad8(im);
	im->names = im->len;
	for (size_t i = 0; i < n; i++) {
		char full[320];
		size_t l;

		if (i % 256 == 0)
			markers[i / 256] = (uint32_t)names_len;
		snprintf(full, sizeof(full), "%c%s", g[i].type, g[i].name);
		l = encode(full, enc);
		if (l > 127) {
			uint8_t lb[2] = { (uint8_t)(0x80 | (l & 0x7f)), (uint8_t)(l >> 7) };

			put(im, lb, 2);
			names_len += 2;
		} else {
			uint8_t lb = (uint8_t)l;

			put(im, &lb, 1);
			names_len++;
		}
		put(im, enc, l);
		names_len += l;
	}
	pad8(im);
	im->markers = im->len;
	im->nmarkers = (n + 255) / 256;
	for (size_t k = 0; k < im->nmarkers; k++)
		put32(im, markers[k]);
	pad8(im);
	if (seqs) {
		im->seqs = im->len;
		for (size_t i = 0; i < n; i++) {
			uint8_t s3[3] = { (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

			put(im, s3, 3);
		}
		pad8(im);
	}
	im->token_table = im->len;
	for (unsigned t = 0, off = 0; t < 256; t++) {
		idx[t] = (uint16_t)off;
		put(im, tokens[t], strlen(tokens[t]) + 1);
		off += (unsigned)strlen(tokens[t]) + 1;
	}
	pad8(im);
	im->token_index = im->len;
	put(im, idx, sizeof(idx));
	pad8(im);
	if (order == NEWER) {
		put_offsets(im, g, n, rel_base);
		for (size_t i = 0; i < n; i++) {
			uint8_t s3[3] = { (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

			put(im, s3, 3);
		}
		pad8(im);
	}
	for (size_t i = 0; i < 2048; i++) {	/* .data after it */
		uint8_t b = (uint8_t)(i * 13);

		put(im, &b, 1);
	}
	free(markers);
}

static void build(struct image *im, const struct gsym *g, size_t n, bool seqs,
		  uint64_t rel_base)
{
	build_order(im, g, n, seqs ? SEQS : CLASSIC, rel_base);
}

static struct gsym *syms(void)
{
	static struct gsym g[NSYMS];
	static bool done;

	if (!done) {
		make_tokens();
		make_syms(g, NSYMS);
		done = true;
	}
	return g;
}

static void check_all(const struct kallsyms *ks, const struct gsym *g, size_t n)
{
	assert_int_equal(ks->n, n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kallsyms_name(ks, &ks->sym[i]), g[i].name))
			fail_msg("symbol %zu: name '%s', want '%s'", i,
				 kallsyms_name(ks, &ks->sym[i]), g[i].name);
		assert_int_equal(ks->sym[i].type, g[i].type);
		assert_int_equal(ks->sym[i].addr, g[i].addr);
		assert_int_equal(ks->sym[i].absolute, g[i].absolute);
	}
}

static void decode_layout(enum order order)
{
	struct gsym *g = syms();
	struct image im;
	struct kallsyms *ks = NULL;
	struct vmet_err err = { 0 };
	const struct kallsyms_sym *s, *same[4];
	bool seqs = order == SEQS;

	build_order(&im, g, NSYMS, order, TEXT_VA);
	if (kallsyms_decode(im.buf, im.len, TEXT_VA, &ks, &err))
		fail_msg("decode: %s", err.msg);
	check_all(ks, g, NSYMS);
	assert_int_equal(ks->relative_base, TEXT_VA);
	assert_int_equal(ks->where.names, im.names);
	assert_int_equal(ks->where.markers, im.markers);
	assert_int_equal(ks->where.token_table, im.token_table);
	assert_int_equal(ks->where.token_index, im.token_index);
	assert_int_equal(ks->where.offsets, im.offsets);
	assert_int_equal(ks->where.have_seqs, seqs);
	assert_true(ks->where.absolute_percpu);
	assert_int_equal(ks->where.marker_width, 4);

	s = kallsyms_lookup(ks, "init_task");
	assert_non_null(s);
	assert_int_equal(s->addr, g[500].addr);
	assert_null(kallsyms_lookup(ks, "no_such_symbol"));
	assert_null(kallsyms_lookup(ks, ""));
	/* namesakes: all three found in table order, the global one preferred */
	assert_int_equal(kallsyms_find(ks, "dup_static", same, 4), 3);
	assert_int_equal(same[0]->addr, g[700].addr);
	assert_int_equal(same[2]->addr, g[702].addr);
	assert_int_equal(kallsyms_lookup(ks, "dup_static")->addr, g[702].addr);
	kallsyms_free(ks);

	/* The image's address may be unknown (a banner-scan window). */
	if (kallsyms_decode(im.buf, im.len, 0, &ks, &err))
		fail_msg("decode without va: %s", err.msg);
	check_all(ks, g, NSYMS);
	kallsyms_free(ks);
	free(im.buf);
}

static void test_decode_classic(void **state)
{
	(void)state;
	decode_layout(CLASSIC);
}

static void test_decode_seqs(void **state)
{
	(void)state;
	decode_layout(SEQS);
}

static void test_decode_newer(void **state)
{
	(void)state;
	decode_layout(NEWER);
}

/* Without absolute per-CPU symbols every offset is relative and unsigned. */
static void test_decode_relative_only(void **state)
{
	static struct gsym g[300];
	struct image im;
	struct kallsyms *ks = NULL;
	struct vmet_err err = { 0 };
	uint64_t base = 0xc1000000ull;	/* an i386 kernel */

	(void)state;
	make_tokens();
	for (size_t i = 0; i < 300; i++) {
		snprintf(g[i].name, sizeof(g[i].name), "f%zu", i);
		g[i].type = 'T';
		g[i].addr = base + 32 * i;
	}
	build(&im, g, 300, false, base);
	/* rewrite the offsets in the non-absolute encoding: addr - base, unsigned */
	for (size_t i = 0; i < 300; i++) {
		uint32_t v = (uint32_t)(g[i].addr - base);

		memcpy(im.buf + im.offsets + 4 * i, &v, 4);
	}
	if (kallsyms_decode(im.buf, im.len, base, &ks, &err))
		fail_msg("decode: %s", err.msg);
	check_all(ks, g, 300);
	assert_false(ks->where.absolute_percpu);
	kallsyms_free(ks);
	free(im.buf);
}

/* ---- damage ------------------------------------------------------------- */

static int decode_damaged(const struct image *im, size_t off, const void *bytes, size_t n,
			  size_t len, struct vmet_err *err)
{
	uint8_t *c = malloc(im->len);
	struct kallsyms *ks = NULL;
	int rc;

	assert_non_null(c);
	memcpy(c, im->buf, im->len);
	memcpy(c + off, bytes, n);
	rc = kallsyms_decode(c, len, TEXT_VA, &ks, err);
	if (!rc)
		kallsyms_free(ks);
	free(c);
	return rc;
}

static void test_damage(void **state)
{
	struct gsym *g = syms();
	struct image im;
	struct vmet_err err = { 0 };
	uint32_t v;
	int32_t o1, o2;
	uint8_t swap[8];

	(void)state;
	build(&im, g, NSYMS, true, TEXT_VA);

	/* a marker that does not match the names */
	v = 12345;
	assert_int_equal(decode_damaged(&im, im.markers + 4, &v, 4, im.len, &err),
			 VMET_ENOTFOUND);
	/* an absurd symbol count */
	v = 0xffffffffu;
	assert_int_equal(decode_damaged(&im, im.num_syms, &v, 4, im.len, &err),
			 VMET_ENOTFOUND);
	/* a count one too high: the names would run into the markers */
	v = NSYMS + 1;
	assert_int_equal(decode_damaged(&im, im.num_syms, &v, 4, im.len, &err),
			 VMET_ENOTFOUND);
	/* a names entry whose length runs past the table */
	assert_int_equal(decode_damaged(&im, im.names, "\x7f", 1, im.len, &err),
			 VMET_ENOTFOUND);
	/* a two-byte length claiming 32767 tokens */
	assert_int_equal(decode_damaged(&im, im.names, "\xff\xff", 2, im.len, &err),
			 VMET_ENOTFOUND);
	/* a token index that goes backwards: no token table at all */
	assert_int_equal(decode_damaged(&im, im.token_index + 20, "\x01\x00", 2, im.len, &err),
			 VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no token table"));
	/* a token that is not printable */
	assert_int_equal(decode_damaged(&im, im.token_table + 1, "\x01", 1, im.len, &err),
			 VMET_ENOTFOUND);
	/* two offsets swapped: addresses out of order is not kallsyms_offsets */
	memcpy(&o1, im.buf + im.offsets + 4 * 100, 4);
	memcpy(&o2, im.buf + im.offsets + 4 * 101, 4);
	memcpy(swap, &o2, 4);
	memcpy(swap + 4, &o1, 4);
	assert_int_equal(decode_damaged(&im, im.offsets + 4 * 100, swap, 8, im.len, &err),
			 VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "below the previous"));
	/* a relative base far from the image */
	{
		uint64_t b = 0xffff888000000000ull;

		assert_int_equal(decode_damaged(&im, im.relative_base, &b, 8, im.len, &err),
				 VMET_ENOTFOUND);
	}
	/* the image cut in the middle of the names */
	assert_int_equal(decode_damaged(&im, 0, "", 0, im.names + 100, &err), VMET_ENOTFOUND);
	/* nothing at all */
	assert_int_equal(decode_damaged(&im, 0, "", 0, 0, &err), VMET_ENOTFOUND);
	assert_int_equal(decode_damaged(&im, 0, "", 0, 100, &err), VMET_ENOTFOUND);
	free(im.buf);
}

/*
 * Random damage to every table: the decoder ends with a consistent result
 * or an error; ASan/UBSan check that it never reads out of bounds.
 */
static void test_random_damage(void **state)
{
	struct gsym *g = syms();
	struct image im;
	uint32_t seed = 777;
	unsigned ok = 0, bad = 0;
	uint8_t *c;
	size_t span;

	(void)state;
	build(&im, g, NSYMS, true, TEXT_VA);
	c = malloc(im.len);
	assert_non_null(c);
	span = im.token_index + 512 - im.offsets;
	for (int round = 0; round < 1500; round++) {
		struct kallsyms *ks = NULL;
		struct vmet_err err = { 0 };

		memcpy(c, im.buf, im.len);
		for (int k = 0; k < 1 + round % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			c[im.offsets + (seed >> 4) % span] ^= (uint8_t)(1u << ((seed >> 24) % 8));
		}
		if (kallsyms_decode(c, im.len, TEXT_VA, &ks, &err) == 0) {
			ok++;
			/* whatever decoded is self-consistent: sorted, names in the pool */
			for (size_t i = 0; i < ks->n; i++) {
				assert_true(ks->sym[i].name < ks->names_len);
				if (i)
					assert_true(ks->sym[i].addr >= ks->sym[i - 1].addr);
			}
			kallsyms_free(ks);
		} else {
			assert_true(err.msg[0] != '\0');
			bad++;
		}
	}
	/* flips in offsets of equal-order symbols or seqs may go unnoticed; most do not */
	assert_true(bad > 100);
	assert_true(ok + bad == 1500);
	free(c);
	free(im.buf);
}

/*
 * An image tiled with copies of a valid token table and index and nothing
 * else: every copy is a candidate that restarts the marker search.  The
 * decoder must give up (bounded work), not grind for minutes.
 */
static void test_many_token_tables(void **state)
{
	struct gsym *g = syms();
	struct image im;
	size_t tlen, n = 0;
	uint8_t *big;
	struct kallsyms *ks = NULL;
	struct vmet_err err = { 0 };
	clock_t t0 = clock();
	int rc;

	(void)state;
	build(&im, g, NSYMS, false, TEXT_VA);
	tlen = im.token_index + 512 - im.token_table;	/* table + index, 8-aligned */
	big = malloc(8u << 20);
	assert_non_null(big);
	memset(big, 0, 8u << 20);
	for (size_t off = 0; off + tlen <= (8u << 20); off += tlen, n++)
		memcpy(big + off, im.buf + im.token_table, tlen);
	rc = kallsyms_decode(big, 8u << 20, TEXT_VA, &ks, &err);
	assert_true(rc == VMET_ELIMIT || rc == VMET_ENOTFOUND);
	assert_null(ks);
	assert_true(err.msg[0] != '\0');
	assert_true(n > 1000);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20.0);
	free(big);
	free(im.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_classic),
		cmocka_unit_test(test_decode_seqs),
		cmocka_unit_test(test_decode_newer),
		cmocka_unit_test(test_decode_relative_only),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_random_damage),
		cmocka_unit_test(test_many_token_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
