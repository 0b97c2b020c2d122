// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding the BTF blob in a kernel image without symbols: the header scan
 * must skip stray magic bytes and headers that do not hold together, find
 * the real blob, and say clearly when there is none.  Plus the profile
 * cache: entries keyed by banner, a file with another banner ignored, the
 * directory chosen from the environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "os/linux/autoprofile.h"
#include "profiles/btf.h"
#include "profiles/cache.h"

/* A minimal valid blob: one int type named "int". */
static size_t tiny_blob(uint8_t *b)
{
	static const char strs[] = "\0int";
	uint32_t hdr[6] = { 0xeb9f | 1u << 16, 24, 0, 16, 16, sizeof(strs) };
	uint32_t type[4] = { 1, 1u << 24, 4, 32 };

	memcpy(b, hdr, 24);
	memcpy(b + 24, type, 16);
	memcpy(b + 40, strs, sizeof(strs));
	return 40 + sizeof(strs);
}

static void test_scan_finds_blob(void **state)
{
	static uint8_t buf[1 << 16];
	struct linux_image img = { .buf = buf, .len = sizeof(buf), .va = 0xffffffff81000000ull };
	struct linux_btf_where w;
	struct vmet_err err = { 0 };
	const uint8_t *blob;
	size_t len, n;
	struct btf *b;

	(void)state;
	memset(buf, 0x90, sizeof(buf));
	/* decoys: the magic alone, and a header whose sections leave the image */
	memcpy(buf + 100, "\x9f\xeb\x01\x00\x18\x00\x00\x00", 8);
	n = tiny_blob(buf + 1000);
	memcpy(buf + 1000 + 24 + 16, "X", 1);	/* break the decoy's string section */
	n = tiny_blob(buf + 5003);		/* the real one, at an odd offset */
	assert_int_equal(linux_btf_locate(&img, NULL, &blob, &len, &w, &err), 0);
	assert_ptr_equal(blob, buf + 5003);
	assert_int_equal(len, n);
	assert_false(w.from_symbols);
	assert_int_equal(w.va, img.va + 5003);
	assert_int_equal(btf_parse(blob, len, &b, &err), 0);
	assert_int_equal(btf_type_count(b), 1);
	btf_free(b);
}

static void test_scan_none(void **state)
{
	static uint8_t buf[1 << 14];
	struct linux_image img = { .buf = buf, .len = sizeof(buf), .va = 0xffffffff81000000ull };
	struct linux_btf_where w;
	struct vmet_err err = { 0 };
	const uint8_t *blob;
	size_t len, n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 64, "\x9f\xeb\x01", 3);
	assert_int_equal(linux_btf_locate(&img, NULL, &blob, &len, &w, &err), VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no BTF blob"));
	assert_non_null(strstr(err.msg, "1 magic candidates"));
	/* a blob cut by the end of the image is not a blob */
	{
		uint8_t whole[64];

		n = tiny_blob(whole);
		assert_true(n > 40);
		memcpy(buf + sizeof(buf) - 40, whole, 40);
	}
	assert_int_equal(linux_btf_locate(&img, NULL, &blob, &len, &w, &err), VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "2 magic candidates"));
	/* an empty image */
	img.len = 0;
	assert_int_equal(linux_btf_locate(&img, NULL, &blob, &len, &w, &err), VMET_ENOTFOUND);
}

/* ---- the cache ---------------------------------------------------------- */

static struct profile *small_profile(const char *banner)
{
	struct profile *p = profile_new();
	struct profile_struct *s;
	struct vmet_err err;

	assert_non_null(p);
	assert_int_equal(profile_set_text(&p->banner, banner, &err), 0);
	assert_int_equal(profile_set_text(&p->arch, "x86_64", &err), 0);
	assert_int_equal(profile_set_text(&p->source, "btf:memory", &err), 0);
	p->paging = PAGING_4LEVEL;
	s = profile_add_struct(p, "list_head", 16, &err);
	assert_non_null(s);
	assert_int_equal(profile_add_member(s, "next", 0, 8, 0, 0, &err), 0);
	assert_int_equal(profile_add_member(s, "prev", 8, 8, 0, 0, &err), 0);
	assert_int_equal(profile_add_symbol(p, "init_task", 0xffffffff82a1aa40ull, &err), 0);
	assert_int_equal(profile_finish(p, &err), 0);
	return p;
}

static void test_cache_roundtrip(void **state)
{
	char dir[] = "/tmp/vmet-test-cache.XXXXXX", sub[600];
	const char *b1 = "Linux version 6.1.0-test (a) #1 SMP";
	const char *b2 = "Linux version 6.1.0-test (b) #1 SMP";
	struct profile *p = small_profile(b1), *q = NULL;
	struct vmet_err err = { 0 };
	char *path = NULL, *path2 = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/deeper/profiles", dir);
	setenv("VMET_CACHE_DIR", sub, 1);

	assert_int_equal(profile_cache_load(b1, &q, &path, &err), VMET_ENOTFOUND);
	assert_null(q);
	assert_non_null(path);
	assert_true(strncmp(path, sub, strlen(sub)) == 0);
	free(path);

	/* store creates the directories, and the entry reads back */
	assert_int_equal(profile_cache_store(p, &path, &err), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(profile_cache_load(b1, &q, &path2, &err), 0);
	assert_string_equal(path, path2);
	assert_string_equal(q->banner, b1);
	assert_int_equal(profile_offset(q, "list_head", "prev"), 8);
	profile_free(q);
	q = NULL;
	free(path2);
	path2 = NULL;

	/* another banner has another entry */
	assert_int_equal(profile_cache_path(b2, &path2, &err), 0);
	assert_string_not_equal(path, path2);
	assert_int_equal(profile_cache_load(b2, &q, NULL, &err), VMET_ENOTFOUND);

	/* an entry whose banner is not the one asked for is not used */
	rename(path, path2);
	assert_int_equal(profile_cache_load(b2, &q, NULL, &err), VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "another banner"));
	assert_null(q);

	/* a damaged entry is an error, not a profile */
	{
		FILE *f = fopen(path2, "w");

		assert_non_null(f);
		fputs("vmet-profile 1\nbanner x\ngarbage here\n", f);
		fclose(f);
	}
	assert_true(profile_cache_load(b2, &q, NULL, &err) < 0);
	assert_null(q);

	unlink(path2);
	free(path);
	free(path2);
	profile_free(p);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
	unsetenv("VMET_CACHE_DIR");
}

static void test_cache_dir_from_env(void **state)
{
	char *d = NULL;
	struct vmet_err err = { 0 };

	(void)state;
	unsetenv("VMET_CACHE_DIR");
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	assert_int_equal(profile_cache_dir(&d, &err), 0);
	assert_string_equal(d, "/x/cache/vmet/profiles");
	free(d);
	/* a relative XDG_CACHE_HOME is invalid by the spec: fall back to HOME */
	setenv("XDG_CACHE_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(profile_cache_dir(&d, &err), 0);
	assert_string_equal(d, "/home/u/.cache/vmet/profiles");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(profile_cache_dir(&d, &err), VMET_ENOTFOUND);
	assert_null(d);
	assert_int_equal(profile_cache_path("Linux version x", &d, &err), VMET_ENOTFOUND);
	assert_int_equal(profile_cache_path("", &d, &err), VMET_EINVAL);
}

/* A cache that cannot be written says why. */
static void test_cache_unwritable(void **state)
{
	struct profile *p = small_profile("Linux version 6.1.0-ro");
	struct vmet_err err = { 0 };

	(void)state;
	setenv("VMET_CACHE_DIR", "/proc/vmet-no-such-dir/profiles", 1);
	assert_int_equal(profile_cache_store(p, NULL, &err), VMET_EIO);
	assert_non_null(strstr(err.msg, "cannot create"));
	unsetenv("VMET_CACHE_DIR");
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_finds_blob),
		cmocka_unit_test(test_scan_none),
		cmocka_unit_test(test_cache_roundtrip),
		cmocka_unit_test(test_cache_dir_from_env),
		cmocka_unit_test(test_cache_unwritable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
