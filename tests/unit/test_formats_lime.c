// SPDX-License-Identifier: GPL-2.0-or-later
/* LiME reader: good files read back byte for byte; each kind of damage is named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "formats/source.h"

static char path[64];

struct lrange { uint64_t s, e; uint32_t magic, version; uint8_t fill; };

/* ranges[i] = header + (e - s + 1) bytes of fill ^ offset */
static uint8_t *build(const struct lrange *r, int n, size_t *size)
{
	size_t total = 0, o = 0;
	uint8_t *b;

	for (int i = 0; i < n; i++)
		total += 32 + (r[i].e - r[i].s + 1);
	b = calloc(1, total);
	assert_non_null(b);
	for (int i = 0; i < n; i++) {
		uint64_t len = r[i].e - r[i].s + 1;

		memcpy(b + o, &r[i].magic, 4);
		memcpy(b + o + 4, &r[i].version, 4);
		memcpy(b + o + 8, &r[i].s, 8);
		memcpy(b + o + 16, &r[i].e, 8);
		o += 32;
		for (uint64_t k = 0; k < len; k++)
			b[o + k] = (uint8_t)(r[i].fill ^ k);
		o += len;
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

#define M 0x4C694D45u

static int open_ranges(const struct lrange *r, int n, size_t cut, struct phys_source **src,
		       struct vmet_err *err)
{
	size_t size;
	uint8_t *b = build(r, n, &size);

	put_file(b, size - cut);
	free(b);
	return source_open(path, NULL, src, err);
}

static void test_good(void **state)
{
	/* Unaligned ends, as /proc/iomem gives them (0x9fbff inclusive). */
	struct lrange r[] = { { 0x1000, 0x9fbff, M, 1, 0x5a }, { 0x100000, 0x1fffff, M, 1, 0xa5 } };
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };
	uint8_t b[8];

	assert_int_equal(open_ranges(r, 2, 0, &src, &err), 0);
	assert_string_equal(src->format, "lime");
	assert_int_equal(src->nranges, 2);
	assert_int_equal(src->ranges[0].start, 0x1000);
	assert_int_equal(src->ranges[0].end, 0x9fc00);
	assert_int_equal(phys_total_size(src), 0x9ec00 + 0x100000);
	assert_int_equal(phys_read(src, 0x1000, b, 1, &err), 0);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(phys_read(src, 0x9fbff, b, 1, &err), 0);
	assert_int_equal(b[0], (uint8_t)(0x5a ^ (0x9fbff - 0x1000)));
	assert_int_equal(phys_read(src, 0x100123, b, 1, &err), 0);
	assert_int_equal(b[0], (uint8_t)(0xa5 ^ 0x123));
	assert_int_equal(phys_read(src, 0x9fc00, b, 1, &err), VMET_EHOLE);
	assert_int_equal(phys_read(src, 0x0, b, 1, &err), VMET_EHOLE);
	assert_non_null(src->ops->map(src, 0x100000, 4096));
	phys_close(src);
}

static void expect_fail(const struct lrange *r, int n, size_t cut, int code, const char *needle)
{
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };
	int rc = open_ranges(r, n, cut, &src, &err);

	if (rc != code)
		fail_msg("expected %d, got %d: %s", code, rc, err.msg);
	if (!strstr(err.msg, needle))
		fail_msg("message lacks '%s': %s", needle, err.msg);
	assert_null(src);
}

static void test_damage(void **state)
{
	struct lrange r[] = { { 0x0, 0xfff, M, 1, 1 }, { 0x2000, 0x2fff, M, 1, 2 } };

	r[1].magic = 0x12345678;	/* second header: offset 0x1020 */
	expect_fail(r, 2, 0, VMET_EFORMAT, "bad LiME magic 0x12345678 at offset 0x1020");
	r[1].magic = M;
	r[1].version = 2;
	expect_fail(r, 2, 0, VMET_EUNSUPPORTED, "version 2");
	r[1].version = 1;
	r[1].e = 0x1fff;		/* end below start */
	expect_fail(r, 2, 0, VMET_EFORMAT, "below start");
	r[1].e = 0x2fff;
	expect_fail(r, 2, 100, VMET_EFORMAT, "only 0xf9c remain");
	expect_fail(r, 2, 0x1000 + 10, VMET_EFORMAT, "cut short");
	r[1].s = 0x800;			/* overlaps the first range */
	r[1].e = 0x17ff;
	expect_fail(r, 2, 0, VMET_EFORMAT, "overlap");
}

static void test_forged_size(void **state)
{
	/* A forged e_addr asking for far more than the file holds. */
	struct lrange r[] = { { 0x0, 0xfff, M, 1, 1 } };
	size_t n;
	uint8_t *b = build(r, 1, &n);
	uint64_t e = 0xffffffffffull;
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };

	memcpy(b + 16, &e, 8);
	put_file(b, n);
	free(b);
	assert_int_equal(lime_open(path, &src, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "remain in the file"));
}

/* Flips in the headers: an error or a good open, never a crash or a wrong read. */
static void test_flip_fuzz(void **state)
{
	struct lrange r[] = { { 0x0, 0xfff, M, 1, 1 }, { 0x3000, 0x3fff, M, 1, 2 },
			      { 0x10000, 0x10fff, M, 1, 3 } };
	size_t n, hdr[3] = { 0, 0x1020, 0x2040 };
	uint8_t *b = build(r, 3, &n), *m = malloc(n);
	unsigned seed = 5;

	assert_non_null(m);
	for (int it = 0; it < 300; it++) {
		struct phys_source *src = NULL;
		struct vmet_err err = { 0 };
		uint8_t buf[16];

		memcpy(m, b, n);
		seed = seed * 1103515245 + 12345;
		m[hdr[(seed >> 8) % 3] + (seed >> 12) % 32] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		put_file(m, n);
		if (lime_open(path, &src, &err)) {
			assert_true(err.msg[0] != '\0');
			continue;
		}
		for (size_t i = 0; i < src->nranges; i++) {
			assert_int_equal(phys_read(src, src->ranges[i].end - 1, buf, 1, &err), 0);
			assert_int_equal(phys_read(src, src->ranges[i].start, buf, 1, &err), 0);
		}
		phys_close(src);
	}
	free(m);
	free(b);
}

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/vmet-test-lime.%d", (int)getpid());
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
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_forged_size),
		cmocka_unit_test(test_flip_fuzz),
	};

	return cmocka_run_group_tests_name("formats_lime", tests, setup, teardown);
}
