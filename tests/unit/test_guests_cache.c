// SPDX-License-Identifier: GPL-2.0-or-later
/* The guest-discovery cache: hits are re-checked, stale or forged entries
 * fall back to a full scan, a changed file misses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/guests.h"
#include "core/svm.h"
#include "formats/source.h"
#include "tests/unit/helper_mem.h"

static char dir[64];

static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }

static void make_vmcb(uint8_t *p, uint64_t ncr3)
{
	memset(p, 0, 4096);
	put32(p, VMCB_INTERCEPT_MISC2, 0x3fff);
	put32(p, VMCB_ASID, 1);
	put64(p, VMCB_IOPM_BASE, 0x3a0000);
	put64(p, VMCB_MSRPM_BASE, 0x3a4000);
	put64(p, VMCB_NESTED_CTL, 1);
	put64(p, VMCB_NCR3, ncr3);
	put64(p, VMCB_EFER, EFER_SVME | 0xd01);
	put64(p, VMCB_CR0, 0x80050033);
	put64(p, VMCB_CR3, 0x10a4e000);
	put64(p, VMCB_CR4, 0x3506f0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vmet-test-gcache.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	setenv("VMET_CACHE_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* The one entry file in the cache directory. */
static void entry_file(char *path, size_t n)
{
	char cmd[160];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/guests/*.guests", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(path, (int)n, p));
	path[strcspn(path, "\n")] = '\0';
	pclose(p);
}

static void test_hit_and_revalidation(void **state)
{
	struct phys_source *src = mem_source_new(8 << 20);
	struct guests_cache_info info;
	struct guest_list gl;
	uint8_t p[4096];
	char path[256];
	FILE *f;

	(void)state;
	make_vmcb(p, 0x7e9f6000);
	mem_write(src, 0x345000, p, 4096);
	make_vmcb(p, 0x1111000);
	mem_write(src, 0x600000, p, 4096);

	/* miss, scan, store */
	assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.hit);
	assert_true(info.stored);
	assert_int_equal(gl.n, 2);
	guest_list_free(&gl);

	/* hit: the same guests, fields read fresh */
	mem_w64(src, 0x345000 + VMCB_CR3, 0x20000000);
	assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_true(info.hit);
	assert_int_equal(gl.n, 2);
	assert_int_equal(gl.g[0].vcpu[0].pa, 0x345000);
	assert_int_equal(gl.g[0].vcpu[0].cr3, 0x20000000);
	assert_int_equal(gl.g[1].s2_root, 0x1111000);
	guest_list_free(&gl);

	/* another spec: a miss */
	assert_int_equal(guests_discover_cached(src, "mem-b", GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.hit);
	guest_list_free(&gl);

	/* a cached structure that no longer passes: full scan, which sees the
	 * memory as it is now (the VMCB moved) */
	mem_w32(src, 0x600000 + VMCB_ASID, 0);
	make_vmcb(p, 0x1111000);
	mem_write(src, 0x700000, p, 4096);
	assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.hit);
	assert_non_null(strstr(info.note, "no longer passes"));
	assert_int_equal(gl.n, 2);
	assert_int_equal(gl.g[1].vcpu[0].pa, 0x700000);
	guest_list_free(&gl);

	/* a changed stage-2 root at a cached place: full scan */
	mem_w64(src, 0x700000 + VMCB_NCR3, 0x2222000);
	assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.hit);
	assert_non_null(strstr(info.note, "stage-2 root"));
	guest_list_free(&gl);

	/* a forged entry (right key, a location that holds no VMCB): rejected */
	entry_file(path, sizeof(path));
	{
		char key[512], line[600];

		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		assert_non_null(fgets(key, sizeof(key), f));
		fclose(f);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "vmet-guests-cache 1\n%scount 1\nctl 1 1000 1111000\nend\n", key);
		fclose(f);
	}
	assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.hit);
	assert_int_equal(gl.n, 2);
	guest_list_free(&gl);

	/* garbage entries of every kind: never a crash, never a hit */
	{
		static const char *bad[] = {
			"",
			"vmet-guests-cache 1\n",
			"vmet-guests-cache 2\nkey x\ncount 1\nctl 1 1000 0\nend\n",
			"vmet-guests-cache 1\nkey %s\ncount 99999999\n",
			"vmet-guests-cache 1\nkey %s\ncount 1\nctl 9 345000 7e9f6000\nend\n",
			"vmet-guests-cache 1\nkey %s\ncount 1\nctl 1 345001 7e9f6000\nend\n",
			"vmet-guests-cache 1\nkey %s\ncount 2\nctl 1 345000 7e9f6000\nend\n",
			"vmet-guests-cache 1\nkey %s\ncount 1\nctl 1 345000 7e9f6000 junk\nend\n",
			"vmet-guests-cache 1\nkey %s\ncount 1\nctl 1 345000 7e9f6000\nend\nmore\n",
			"vmet-guests-cache 1\nkey %s\ncount 1\nctl 1 ffffffffffff000 7e9f6000\nend\n",
		};
		char key[512];

		/* a fresh store gives the file its key line */
		assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_REFRESH, &gl, &info, NULL,
							NULL, NULL), 0);
		guest_list_free(&gl);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(key, sizeof(key), f));
		assert_non_null(fgets(key, sizeof(key), f));
		fclose(f);
		key[strcspn(key, "\n")] = '\0';
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			f = fopen(path, "w");
			assert_non_null(f);
			fprintf(f, bad[i], key + 4);
			fclose(f);
			assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_USE, &gl, &info, NULL,
								NULL, NULL), 0);
			if (info.hit)
				fail_msg("garbage entry %zu taken: %s", i, info.note);
			assert_int_equal(gl.n, 2);
			guest_list_free(&gl);
		}
	}

	/* OFF never touches it */
	assert_int_equal(guests_discover_cached(src, "mem-a", GUESTS_CACHE_OFF, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.hit);
	assert_false(info.stored);
	guest_list_free(&gl);
	/* no spec: not cached */
	assert_int_equal(guests_discover_cached(src, NULL, GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
	assert_false(info.stored);
	guest_list_free(&gl);
	phys_close(src);
}

/* A raw image file: the key holds its identity and mtime. */
static void test_file_key(void **state)
{
	char file[128];
	uint8_t *img = calloc(1, 4 << 20);
	struct phys_source *src;
	struct guests_cache_info info;
	struct guest_list gl;
	struct timeval tv[2];
	FILE *f;

	(void)state;
	assert_non_null(img);
	make_vmcb(img + 0x123000, 0x7e9f6000);
	snprintf(file, sizeof(file), "%s/l1.raw", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, 4 << 20, f), 4 << 20);
	fclose(f);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(source_open(file, NULL, &src, NULL), 0);
		assert_int_equal(guests_discover_cached(src, file, GUESTS_CACHE_USE, &gl, &info, NULL, NULL, NULL), 0);
		assert_int_equal(gl.n, 1);
		/* round 0: first sight; 1: a hit; 2: the file was touched */
		if (round == 1)
			assert_true(info.hit);
		else
			assert_false(info.hit);
		guest_list_free(&gl);
		phys_close(src);
		if (round == 1) {
			gettimeofday(&tv[0], NULL);
			tv[0].tv_sec += 10;
			tv[1] = tv[0];
			assert_int_equal(utimes(file, tv), 0);
		}
	}
	unlink(file);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_revalidation),
		cmocka_unit_test(test_file_key),
	};

	return cmocka_run_group_tests_name("guests_cache", tests, setup, teardown);
}
