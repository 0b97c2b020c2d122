// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The proof that BTF + kallsyms give the same profile as DWARF: from one
 * vmlinux (Debian's -dbg package), build the profile both ways and compare
 * them field by field: every wanted struct's size and every member's
 * offset, size and bit-field position, every symbol's address, the banner.
 * The BTF way runs on an image assembled from the vmlinux's loaded sections,
 * exactly as it would be copied out of a guest (kallsyms found by its
 * structure, BTF by __start_BTF), so the whole memory path is exercised
 * except the copy.  Also: every kallsyms entry against the System.map.
 *
 * Needs the vmlinux: $VMET_TEST_VMLINUX, else the testbed's cache
 * (/var/cache/vmet-testbed/<release>/usr/lib/debug/boot/vmlinux-*).  Without
 * one the tests are skipped (and say so).
 */
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <inttypes.h>
#include <libelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "os/linux/autoprofile.h"
#include "profiles/dwarf.h"

#define IMAGE_CAP (96u << 20)

static char vmlinux[1024];

static bool find_vmlinux(void)
{
	const char *env = getenv("VMET_TEST_VMLINUX");
	glob_t g;

	if (env && *env) {
		snprintf(vmlinux, sizeof(vmlinux), "%s", env);
		return access(vmlinux, R_OK) == 0;
	}
	if (glob("/var/cache/vmet-testbed/*/usr/lib/debug/boot/vmlinux-*", 0, NULL, &g))
		return false;
	snprintf(vmlinux, sizeof(vmlinux), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return true;
}

/*
 * The image a guest would hold from _text on: every allocated section with
 * bytes in the file, at its link address (BSS and gaps stay zero).
 */
static uint8_t *image_from_vmlinux(uint64_t *text_va, size_t *len)
{
	int fd = open(vmlinux, O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	uint8_t *buf = calloc(1, IMAGE_CAP);
	uint64_t text = 0, end = 0;

	assert_true(fd >= 0);
	assert_non_null(buf);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn))) {
		gelf_getshdr(scn, &sh);
		if (!(sh.sh_flags & SHF_ALLOC) || !sh.sh_addr || sh.sh_addr < 0xffffffff80000000ull)
			continue;
		if (!text || sh.sh_addr < text)
			text = sh.sh_addr;
	}
	assert_true(text != 0);
	scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_type != SHT_PROGBITS || sh.sh_addr < text ||
		    sh.sh_addr - text + sh.sh_size > IMAGE_CAP)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		memcpy(buf + (sh.sh_addr - text), d->d_buf, d->d_size);
		if (sh.sh_addr - text + sh.sh_size > end)
			end = sh.sh_addr - text + sh.sh_size;
	}
	elf_end(elf);
	close(fd);
	*text_va = text;
	*len = end;
	return buf;
}

struct fixture {
	uint8_t *buf;
	struct linux_image img;
	struct kallsyms *ks;
};

static int setup(void **state)
{
	struct fixture *f;
	struct vmet_err err = { 0 };

	if (!find_vmlinux()) {
		fprintf(stderr, "no vmlinux (set VMET_TEST_VMLINUX or run the testbed): "
			"BTF/DWARF equality not checked\n");
		*state = NULL;
		return 0;
	}
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->buf = image_from_vmlinux(&f->img.va, &f->img.len);
	f->img.buf = f->buf;
	/* As the unrelocated kernel would sit: physical = virtual - __START_KERNEL_map. */
	f->img.pa = f->img.va - LINUX_START_KERNEL_MAP;
	if (kallsyms_decode(f->img.buf, f->img.len, f->img.va, &f->ks, &err))
		fail_msg("kallsyms in %s: %s", vmlinux, err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f) {
		kallsyms_free(f->ks);
		free(f->buf);
		free(f);
	}
	return 0;
}

static void test_profiles_equal(void **state)
{
	struct fixture *f = *state;
	struct profile *dp = NULL, *bp = NULL;
	struct linux_autoprofile_info info;
	struct vmet_err err = { 0 };
	size_t members = 0;

	if (!f)
		skip();
	if (profile_from_dwarf(vmlinux, NULL, NULL, &dp, NULL, &err))
		fail_msg("DWARF profile of %s: %s", vmlinux, err.msg);
	if (linux_profile_build(NULL, PAGING_4LEVEL, &f->img, f->ks, &bp, &info, &err))
		fail_msg("BTF profile of %s: %s", vmlinux, err.msg);
	assert_true(info.btf.from_symbols);

	assert_string_equal(bp->banner, dp->banner);
	assert_string_equal(bp->arch, dp->arch);
	assert_int_equal(bp->paging, dp->paging);
	assert_int_equal(bp->ns, dp->ns);
	assert_true(dp->ns > 40);
	for (size_t i = 0; i < dp->ns; i++) {
		const struct profile_struct *d = &dp->s[i];
		const struct profile_struct *b = profile_struct(bp, d->name);

		if (!b)
			fail_msg("BTF profile lacks struct %s", d->name);
		if (b->size != d->size || b->nm != d->nm)
			fail_msg("struct %s: BTF %" PRIu64 " bytes / %zu members, DWARF %" PRIu64
				 " / %zu", d->name, b->size, b->nm, d->size, d->nm);
		for (size_t k = 0; k < d->nm; k++) {
			const struct profile_member *dm = &d->m[k];
			const struct profile_member *bm = profile_member(bp, d->name, dm->name);

			if (!bm)
				fail_msg("BTF profile lacks %s.%s", d->name, dm->name);
			if (bm->offset != dm->offset || bm->size != dm->size ||
			    bm->bit_offset != dm->bit_offset || bm->bit_size != dm->bit_size)
				fail_msg("%s.%s: BTF %" PRIu64 "+%" PRIu64 " bits %u:%u, DWARF %"
					 PRIu64 "+%" PRIu64 " bits %u:%u", d->name, dm->name,
					 bm->offset, bm->size, bm->bit_offset, bm->bit_size,
					 dm->offset, dm->size, dm->bit_offset, dm->bit_size);
			members++;
		}
	}
	assert_int_equal(bp->nsym, dp->nsym);
	for (size_t i = 0; i < dp->nsym; i++) {
		bool found;
		uint64_t a = profile_symbol(bp, dp->sym[i].name, &found);

		if (!found || a != dp->sym[i].addr)
			fail_msg("symbol %s: BTF/kallsyms %s0x%" PRIx64 ", DWARF 0x%" PRIx64,
				 dp->sym[i].name, found ? "" : "(absent) ", a, dp->sym[i].addr);
	}
	printf("equal: %zu structs, %zu members, %zu symbols, banner '%.40s...'\n",
	       dp->ns, members, dp->nsym, dp->banner);
	profile_free(dp);
	profile_free(bp);
}

/* Every decoded kallsyms entry is in the System.map at the same address. */
static void test_kallsyms_match_system_map(void **state)
{
	struct fixture *f = *state;
	char path[1100], line[1024];
	char *slash;
	FILE *m;
	struct {
		uint64_t addr;
		char *name;
	} *map = NULL;
	size_t n = 0, cap = 0, mismatched = 0;

	if (!f)
		skip();
	snprintf(path, sizeof(path), "%s", vmlinux);
	slash = strrchr(path, '/');
	assert_non_null(slash);
	/* Debian: vmlinux-R next to System.map-R */
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "System.map-%s",
		 strrchr(vmlinux, '/') + 1 + strlen("vmlinux-"));
	m = fopen(path, "r");
	if (!m)
		skip();
	while (fgets(line, sizeof(line), m)) {
		uint64_t a;
		char t, name[512];

		if (sscanf(line, "%" SCNx64 " %c %511s", &a, &t, name) != 3)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			map = realloc(map, cap * sizeof(*map));
			assert_non_null(map);
		}
		map[n].addr = a;
		map[n].name = strdup(name);
		n++;
	}
	fclose(m);
	assert_true(n > 1000);
	/* both are sorted by address: walk them together */
	for (size_t i = 0, j = 0; i < f->ks->n; i++) {
		const struct kallsyms_sym *s = &f->ks->sym[i];
		const char *name = kallsyms_name(f->ks, s);
		size_t k;

		while (j < n && map[j].addr < s->addr)
			j++;
		for (k = j; k < n && map[k].addr == s->addr; k++)
			if (!strcmp(map[k].name, name))
				break;
		if (k >= n || map[k].addr != s->addr) {
			if (mismatched++ < 5)
				fprintf(stderr, "kallsyms %016" PRIx64 " %s not in %s\n", s->addr,
					name, path);
		}
	}
	assert_int_equal(mismatched, 0);
	assert_true(f->ks->n > 50000);
	for (size_t i = 0; i < n; i++)
		free(map[i].name);
	free(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles_equal),
		cmocka_unit_test(test_kallsyms_match_system_map),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
