// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel profiles: parsing (a good file, every kind of bad line, the caps),
 * save/load round trips, lookups, bit-field values, the banner search and
 * the default search path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "profiles/profile.h"
#include "profiles/wanted.h"

static const char good[] =
	"vmet-profile 1\n"
	"# a comment, then a blank line\n"
	"\n"
	"banner Linux version 6.1.0-test (gcc) #1 SMP \\\\o/ \\x7e\n"
	"source dwarf:/tmp/vmlinux\n"
	"arch x86_64\n"
	"paging 5\n"
	"struct task_struct 9792\n"
	"member task_struct __state 24 4\n"
	"member task_struct flags 44 4\n"
	"member task_struct sched_reset_on_fork 2340 1 0 1\n"
	"member task_struct in_execve 2344 1 2 1\n"
	"member task_struct comm 2976 16\n"
	"member task_struct tasks 2192 16\n"
	"struct list_head 16\n"
	"member list_head next 0 8\n"
	"member list_head prev 8 8\n"
	"struct empty 0\n"
	"struct flex 8\n"
	"member flex n 0 8\n"
	"member flex data 8 0\n"
	"symbol init_task ffffffff82a1aa40\n"
	"symbol linux_banner ffffffff82161900\n"
	"symbol _text ffffffff81000000\n";

static struct profile *parse_ok(const char *text)
{
	struct vmet_err err = { 0 };
	struct profile *p = NULL;
	int rc = profile_parse(text, strlen(text), "t.vmprof", &p, &err);

	if (rc)
		fail_msg("parse failed: %s", err.msg);
	assert_non_null(p);
	return p;
}

/* Parse must fail with code, and the message must contain want. */
static void parse_bad(const char *text, int code, const char *want)
{
	struct vmet_err err = { 0 };
	struct profile *p = (struct profile *)1;
	int rc = profile_parse(text, strlen(text), "bad.vmprof", &p, &err);

	if (rc != code || !strstr(err.msg, want))
		fail_msg("for input\n%s\nexpected code %d with \"%s\", got %d: \"%s\"", text, code,
			 want, rc, err.msg);
	assert_null(p);
}

static void test_parse_good(void **state)
{
	struct profile *p = parse_ok(good);
	const struct profile_member *m;
	bool found;

	assert_string_equal(p->banner, "Linux version 6.1.0-test (gcc) #1 SMP \\o/ ~");
	assert_string_equal(p->source, "dwarf:/tmp/vmlinux");
	assert_string_equal(p->arch, "x86_64");
	assert_int_equal(p->paging, PAGING_5LEVEL);
	assert_int_equal(p->ns, 4);
	assert_int_equal(p->nsym, 3);
	assert_int_equal(profile_sizeof(p, "task_struct"), 9792);
	assert_int_equal(profile_sizeof(p, "list_head"), 16);
	assert_int_equal(profile_sizeof(p, "nope"), 0);
	assert_int_equal(profile_offset(p, "task_struct", "comm"), 2976);
	assert_int_equal(profile_offset(p, "task_struct", "tasks"), 2192);
	assert_int_equal(profile_offset(p, "task_struct", "__state"), 24);
	assert_int_equal(profile_offset(p, "list_head", "prev"), 8);
	assert_int_equal(profile_offset(p, "task_struct", "nope"), -1);
	assert_int_equal(profile_offset(p, "nope", "comm"), -1);
	m = profile_member(p, "task_struct", "in_execve");
	assert_non_null(m);
	assert_int_equal(m->offset, 2344);
	assert_int_equal(m->bit_offset, 2);
	assert_int_equal(m->bit_size, 1);
	m = profile_member(p, "flex", "data");
	assert_non_null(m);
	assert_int_equal(m->size, 0);
	assert_int_equal(profile_symbol(p, "init_task", &found), 0xffffffff82a1aa40ull);
	assert_true(found);
	assert_int_equal(profile_symbol(p, "_text", &found), 0xffffffff81000000ull);
	assert_true(found);
	assert_int_equal(profile_symbol(p, "zzz", &found), 0);
	assert_false(found);
	assert_int_equal(profile_symbol(p, "a", &found), 0);
	assert_false(found);
	profile_free(p);
}

/* Every kind of bad line names the file and the line. */
static void test_parse_bad_lines(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
		{ "", VMET_EFORMAT, "empty" },
		{ "vmet-profile\n", VMET_EFORMAT, "bad.vmprof:1: not a vmet profile" },
		{ "hello 1\n", VMET_EFORMAT, "bad.vmprof:1: not a vmet profile" },
		{ "vmet-profile 2\n", VMET_EUNSUPPORTED, "bad.vmprof:1: profile format version 2" },
		{ "vmet-profile 01\n", VMET_EFORMAT, "bad.vmprof:1:" },
		{ "vmet-profile 1\narch x86_64\n", VMET_EFORMAT, "no 'banner' line" },
		{ "vmet-profile 1\nbanner B\n", VMET_EFORMAT, "no 'arch' line" },
		{ "vmet-profile 1\nbanner\narch x86_64\n", VMET_EFORMAT, "bad.vmprof:2: 'banner' without" },
		{ "vmet-profile 1\nbanner A\nbanner B\n", VMET_EFORMAT, "bad.vmprof:3: second 'banner'" },
		{ "vmet-profile 1\nbanner A\\q\n", VMET_EFORMAT, "bad.vmprof:2: bad escape" },
		{ "vmet-profile 1\nbanner A\\x4\n", VMET_EFORMAT, "bad.vmprof:2: bad escape" },
		{ "vmet-profile 1\nbanner A\\x00B\n", VMET_EFORMAT, "bad.vmprof:2: \\x00" },
		{ "vmet-profile 1\nbanner A\x01\n", VMET_EFORMAT, "bad.vmprof:2: control byte 0x01" },
		{ "vmet-profile 1\nbanner A\narch arm64\n", VMET_EFORMAT, "bad.vmprof:3: expected 'arch" },
		{ "vmet-profile 1\nbanner A\narch x86_64 x\n", VMET_EFORMAT, "bad.vmprof:3:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\npaging 4level\n", VMET_EFORMAT,
		  "bad.vmprof:4: expected 'paging'" },
		{ "vmet-profile 1\nbanner A\narch x86_64\npaging 4\npaging 4\n", VMET_EFORMAT,
		  "bad.vmprof:5: second 'paging'" },
		{ "vmet-profile 1\nstruct a 8\nbanner A\n", VMET_EFORMAT,
		  "bad.vmprof:2: struct before the banner" },
		{ "vmet-profile 1\nsymbol a 10\nbanner A\n", VMET_EFORMAT,
		  "bad.vmprof:2: symbol before the banner" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a 10\nsource x\n", VMET_EFORMAT,
		  "bad.vmprof:5: 'source' after the first struct" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a\n", VMET_EFORMAT,
		  "bad.vmprof:4: expected 'struct NAME SIZE'" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a -8\n", VMET_EFORMAT, "bad.vmprof:4:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 0x8\n", VMET_EFORMAT, "bad.vmprof:4:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 99999999999999999999\n",
		  VMET_EFORMAT, "bad.vmprof:4:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 2000000000\n", VMET_ELIMIT,
		  "bad.vmprof:4: struct a: size 2000000000 above the cap" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nmember a b 0 8\n", VMET_EFORMAT,
		  "bad.vmprof:4: member of 'a' does not follow" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nstruct b 8\nmember a x 0 8\n",
		  VMET_EFORMAT, "bad.vmprof:6: member of 'a' does not follow" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0\n", VMET_EFORMAT,
		  "bad.vmprof:5: expected 'member" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0 8 1\n",
		  VMET_EFORMAT, "bad.vmprof:5: expected 'member" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 4 8\n", VMET_EFORMAT,
		  "bad.vmprof:5: member a.x: bytes 4+8 lie outside" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 9 0\n", VMET_EFORMAT,
		  "bad.vmprof:5: member a.x" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0 1 8 1\n",
		  VMET_EFORMAT, "bad.vmprof:5: bit offset 8" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0 1 0 0\n",
		  VMET_EFORMAT, "bad.vmprof:5: bit offset 0 / bit size 0" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0 1 0 65\n",
		  VMET_EFORMAT, "bad.vmprof:5:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0 2 7 1\n",
		  VMET_EFORMAT, "bad.vmprof:5: member a.x: a bit-field of 1 bits at bit 7 spans 1" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nmember a x 0 4\nmember a x 4 4\n",
		  VMET_EFORMAT, "bad.vmprof:6: duplicate member a.x" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nstruct a 8\nstruct b 8\nstruct a 4\n",
		  VMET_EFORMAT, "bad.vmprof:6: duplicate struct a" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a 10\nsymbol b 20\nsymbol a 30\n",
		  VMET_EFORMAT, "bad.vmprof:6: duplicate symbol a" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a 0x10\n", VMET_EFORMAT,
		  "bad.vmprof:4: expected 'symbol NAME ADDRESS'" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a 10000000000000000\n", VMET_EFORMAT,
		  "bad.vmprof:4:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a 1g\n", VMET_EFORMAT, "bad.vmprof:4:" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a\\b 10\n", VMET_EFORMAT,
		  "bad.vmprof:4: symbol name" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol \xc3\xa9 10\n", VMET_EFORMAT,
		  "bad.vmprof:4: symbol name" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nfrobnicate 1\n", VMET_EFORMAT,
		  "bad.vmprof:4: unknown keyword 'frobnicate'" },
		{ "vmet-profile 1\nbanner A\narch x86_64\nsymbol a 1 2 3 4 5 6 7 8 9\n", VMET_EFORMAT,
		  "bad.vmprof:4: more than 8 fields" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].text, cases[i].code, cases[i].msg);
}

static void test_parse_nul_and_caps(void **state)
{
	static const char nul[] = "vmet-profile 1\nbanner A\0B\narch x86_64\n";
	struct vmet_err err = { 0 };
	struct profile *p = NULL;
	size_t n;
	char *big;

	assert_int_equal(profile_parse(nul, sizeof(nul) - 1, "n.vmprof", &p, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "n.vmprof:2: NUL byte"));

	/* A line one byte over the cap. */
	big = malloc(PROFILE_MAX_LINE + 64);
	assert_non_null(big);
	n = (size_t)sprintf(big, "vmet-profile 1\nbanner ");
	memset(big + n, 'x', PROFILE_MAX_LINE + 1 - 7);
	n += PROFILE_MAX_LINE + 1 - 7;
	big[n++] = '\n';
	assert_int_equal(profile_parse(big, n, "l.vmprof", &p, &err), VMET_ELIMIT);
	assert_non_null(strstr(err.msg, "l.vmprof:2: line longer than"));
	/* Exactly at the cap the line is read, but the banner exceeds its own cap. */
	n = (size_t)sprintf(big, "vmet-profile 1\nbanner ");
	memset(big + n, 'x', PROFILE_MAX_LINE - 7);
	n += PROFILE_MAX_LINE - 7;
	big[n++] = '\n';
	assert_int_equal(profile_parse(big, n, "l.vmprof", &p, &err), VMET_ELIMIT);
	assert_non_null(strstr(err.msg, "l.vmprof:2: text of"));
	free(big);

	/* More members in one struct than the cap. */
	{
		size_t cap = 64 + (size_t)(PROFILE_MAX_MEMBERS + 1) * 40, len;
		char *t = malloc(cap);

		assert_non_null(t);
		len = (size_t)sprintf(t, "vmet-profile 1\nbanner A\narch x86_64\nstruct s 1000000\n");
		for (int i = 0; i <= PROFILE_MAX_MEMBERS; i++)
			len += (size_t)sprintf(t + len, "member s m%d %d 1\n", i, i);
		assert_int_equal(profile_parse(t, len, "m.vmprof", &p, &err), VMET_ELIMIT);
		assert_non_null(strstr(err.msg, "more than 4096 members"));
		assert_non_null(strstr(err.msg, "m.vmprof:4101:"));
		free(t);
	}
	/* A file above the size cap is refused before any parsing. */
	assert_int_equal(profile_parse("", (size_t)PROFILE_MAX_FILE + 1, "f.vmprof", &p, &err),
			 VMET_ELIMIT);
	assert_null(p);
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/vmet-test-profile-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Build in memory, save, load: the same dictionary, in a canonical file. */
static void test_roundtrip(void **state)
{
	struct vmet_err err = { 0 };
	struct profile *p = profile_new(), *q = NULL;
	struct profile_struct *s;
	char *dir = tmpdir(), path[512], *text = NULL, *again = NULL;
	size_t tlen, alen;

	assert_int_equal(profile_set_text(&p->banner, " Linux version X \\ \x01\xff ", &err), 0);
	assert_int_equal(profile_set_text(&p->arch, "i386", &err), 0);
	p->paging = PAGING_PAE;
	s = profile_add_struct(p, "zeta", 64, &err);
	assert_non_null(s);
	assert_int_equal(profile_add_member(s, "b", 8, 8, 0, 0, &err), 0);
	assert_int_equal(profile_add_member(s, "a", 0, 8, 0, 0, &err), 0);
	assert_int_equal(profile_add_member(s, "wide", 16, 9, 7, 64, &err), 0);
	s = profile_add_struct(p, "alpha", 4, &err);
	assert_non_null(s);
	assert_int_equal(profile_add_symbol(p, "z_sym", 0xffffffffffffffffull, &err), 0);
	assert_int_equal(profile_add_symbol(p, "a_sym", 0, &err), 0);
	assert_int_equal(profile_finish(p, &err), 0);
	/* Sorted for lookup: structs and symbols by name. */
	assert_string_equal(p->s[0].name, "alpha");
	assert_string_equal(p->sym[0].name, "a_sym");

	snprintf(path, sizeof(path), "%s/p.vmprof", dir);
	assert_int_equal(profile_save(p, path, &err), 0);
	if (profile_load(path, &q, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(q->banner, p->banner);
	assert_null(q->source);
	assert_string_equal(q->arch, "i386");
	assert_int_equal(q->paging, PAGING_PAE);
	assert_int_equal(q->ns, 2);
	assert_int_equal(q->nsym, 2);
	assert_int_equal(profile_offset(q, "zeta", "b"), 8);
	assert_int_equal(profile_member(q, "zeta", "wide")->bit_size, 64);
	assert_int_equal(profile_member(q, "zeta", "wide")->bit_offset, 7);
	assert_int_equal(profile_sizeof(q, "alpha"), 4);
	assert_int_equal(profile_symbol(q, "z_sym", NULL), 0xffffffffffffffffull);

	/* Saving what was loaded gives the same bytes: the format is canonical. */
	assert_int_equal(profile_read_file(path, 1 << 20, &text, &tlen, &err), 0);
	snprintf(path, sizeof(path), "%s/q.vmprof", dir);
	assert_int_equal(profile_save(q, path, &err), 0);
	assert_int_equal(profile_read_file(path, 1 << 20, &again, &alen, &err), 0);
	assert_int_equal(tlen, alen);
	assert_memory_equal(text, again, tlen);
	/* Members are written in layout order. */
	assert_non_null(strstr(text, "member zeta a 0 8\nmember zeta b 8 8\n"));
	assert_non_null(strstr(text, "banner \\x20Linux version X \\\\ \\x01\\xff\\x20\n"));

	/* Saving to a directory that does not exist fails and leaves nothing. */
	assert_int_equal(profile_save(q, "/nonexistent-dir/p.vmprof", &err), VMET_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/p.vmprof"));
	free(text);
	free(again);
	profile_free(p);
	profile_free(q);
	rm_rf(dir);
	free(dir);
}

static void test_builder_checks(void **state)
{
	struct vmet_err err = { 0 };
	struct profile *p = profile_new();
	struct profile_struct *s;
	char name[PROFILE_MAX_NAME + 2];

	assert_null(profile_add_struct(p, "", 4, &err));
	assert_null(profile_add_struct(p, "a b", 4, &err));
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_null(profile_add_struct(p, name, 4, &err));
	assert_int_equal(err.code, VMET_EFORMAT);
	name[PROFILE_MAX_NAME] = '\0';
	assert_non_null(profile_add_struct(p, name, 4, &err));
	/* No banner yet: finish refuses. */
	assert_int_equal(profile_finish(p, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "no banner"));
	profile_set_text(&p->banner, "B", &err);
	assert_int_equal(profile_finish(p, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "no arch"));
	profile_set_text(&p->arch, "x86_64", &err);
	s = profile_add_struct(p, "s", 8, &err);
	assert_non_null(s);
	assert_int_equal(profile_add_member(s, "m", 6, 4, 0, 0, &err), 0);
	assert_int_equal(profile_finish(p, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "member s.m: bytes 6+4"));
	profile_free(p);
}

static void test_member_value(void **state)
{
	/* bytes: 0x88 at 0, then 0xff 0x01 ..., a 64-bit field at bit 7 spans 9 bytes */
	unsigned char buf[16] = { 0x88, 0x34, 0x12, 0, 0, 0, 0, 0, 0x80, 0x01 };
	struct profile_member m = { .name = (char *)"m" };
	struct vmet_err err = { 0 };
	uint64_t v = 0;

	m.offset = 1, m.size = 2;
	assert_int_equal(profile_member_value(&m, buf, sizeof(buf), &v, &err), 0);
	assert_int_equal(v, 0x1234);
	/* bits 3..6 of byte 0 (0x88 = 1000 1000b): 0001b */
	m.offset = 0, m.size = 1, m.bit_offset = 3, m.bit_size = 4;
	assert_int_equal(profile_member_value(&m, buf, sizeof(buf), &v, &err), 0);
	assert_int_equal(v, 1);
	/* 64 bits from bit 7 of byte 1: bytes 1..9 */
	memset(buf, 0, sizeof(buf));
	buf[1] = 0x80;		/* bit 7 of byte 1: the field's bit 0 */
	buf[9] = 0x7f;		/* bits 0..6 of byte 9: the field's bits 57..63 */
	m.offset = 1, m.size = 9, m.bit_offset = 7, m.bit_size = 64;
	assert_int_equal(profile_member_value(&m, buf, sizeof(buf), &v, &err), 0);
	assert_int_equal(v, 0xfe00000000000001ull);
	/* Out of the buffer, too wide, size unknown. */
	m.offset = 10, m.size = 8, m.bit_size = 0, m.bit_offset = 0;
	assert_int_equal(profile_member_value(&m, buf, sizeof(buf), &v, &err), VMET_ELIMIT);
	m.offset = 0, m.size = 16;
	assert_int_equal(profile_member_value(&m, buf, sizeof(buf), &v, &err), VMET_EUNSUPPORTED);
	m.size = 0;
	assert_int_equal(profile_member_value(&m, buf, sizeof(buf), &v, &err), VMET_EUNSUPPORTED);
}

static void test_find_for_banner(void **state)
{
	char *d1 = tmpdir(), *d2 = tmpdir(), path[512];
	const char *dirs[3];
	struct vmet_err err = { 0 };
	struct profile *p = NULL;

	snprintf(path, sizeof(path), "%s/a.vmprof", d1);
	write_file(path, "vmet-profile 1\nbanner Linux version A\narch x86_64\n"
			 "struct s 8\nmember s m 0 8\n");
	/* Not a profile, and a profile whose body is broken after a good header. */
	snprintf(path, sizeof(path), "%s/junk.vmprof", d1);
	write_file(path, "hello\n");
	snprintf(path, sizeof(path), "%s/broken.vmprof", d2);
	write_file(path, "vmet-profile 1\nbanner Linux version B\narch x86_64\nstruct s x\n");
	snprintf(path, sizeof(path), "%s/c.vmprof", d2);
	write_file(path, "vmet-profile 1\nbanner Linux version C\narch x86_64\n"
			 "symbol init_task 1234\n");
	snprintf(path, sizeof(path), "%s/c.txt", d2);
	write_file(path, "vmet-profile 1\nbanner Linux version D\narch x86_64\n");
	dirs[0] = "/nonexistent-vmet-dir";
	dirs[1] = d1;
	dirs[2] = d2;

	/* Found in the second directory; the banner as in memory, with its newline. */
	if (profile_find_for_banner(dirs, 3, "Linux version C\n", &p, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(profile_symbol(p, "init_task", NULL), 0x1234);
	profile_free(p);
	p = NULL;
	if (profile_find_for_banner(dirs, 3, "Linux version A", &p, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(profile_offset(p, "s", "m"), 0);
	profile_free(p);
	p = NULL;
	/* A matching header with a broken body: the load error, naming the line. */
	assert_int_equal(profile_find_for_banner(dirs, 3, "Linux version B", &p, &err),
			 VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "broken.vmprof:4:"));
	assert_null(p);
	/* Only *.vmprof files count. */
	assert_int_equal(profile_find_for_banner(dirs, 3, "Linux version D", &p, &err),
			 VMET_ENOTFOUND);
	/* No match: the error names the banner, the directories and the unreadable file. */
	assert_int_equal(profile_find_for_banner(dirs, 3, "Linux version Z (x)", &p, &err),
			 VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "\"Linux version Z (x)\""));
	assert_non_null(strstr(err.msg, d1));
	assert_non_null(strstr(err.msg, "junk.vmprof:1: not a vmet profile"));
	assert_non_null(strstr(err.msg, "4 profile(s) checked"));
	assert_null(p);
	assert_int_equal(profile_find_for_banner(dirs, 0, "Linux version A", &p, &err),
			 VMET_ENOTFOUND);
	rm_rf(d1);
	rm_rf(d2);
	free(d1);
	free(d2);
}

static void test_read_banner_header_only(void **state)
{
	char *d = tmpdir(), path[512], *banner = NULL;
	struct vmet_err err = { 0 };
	FILE *f;

	/* The body is garbage: reading the banner must not look at it. */
	snprintf(path, sizeof(path), "%s/h.vmprof", d);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("vmet-profile 1\n# c\nsource x\nbanner Linux version H \\x41\n", f);
	for (int i = 0; i < 1000; i++)
		fputs("garbage garbage garbage\n", f);
	fclose(f);
	assert_int_equal(profile_read_banner(path, &banner, &err), 0);
	assert_string_equal(banner, "Linux version H A");
	free(banner);
	/* A struct line before any banner: refused at that line. */
	write_file(path, "vmet-profile 1\nstruct s 8\nbanner X\n");
	assert_int_equal(profile_read_banner(path, &banner, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "h.vmprof:2:"));
	assert_null(banner);
	rm_rf(d);
	free(d);
}

static void test_default_dirs(void **state)
{
	char *d1 = tmpdir(), *d2 = tmpdir(), env[1100], *dirs[8];
	size_t n;
	bool saw1 = false, saw2 = false;

	snprintf(env, sizeof(env), "%s::/nonexistent-vmet-dir:%s", d1, d2);
	setenv("VMET_PROFILE_DIR", env, 1);
	n = profile_default_dirs(dirs, 8);
	assert_true(n >= 2);
	/* The environment's directories come first, in order; missing ones are left out. */
	assert_string_equal(dirs[0], d1);
	assert_string_equal(dirs[1], d2);
	for (size_t i = 0; i < n; i++) {
		saw1 |= !strcmp(dirs[i], d1);
		saw2 |= !strcmp(dirs[i], d2);
		assert_null(strstr(dirs[i], "nonexistent"));
	}
	assert_true(saw1 && saw2);
	profile_dirs_free(dirs, n);
	/* max is respected. */
	n = profile_default_dirs(dirs, 1);
	assert_int_equal(n, 1);
	profile_dirs_free(dirs, n);
	unsetenv("VMET_PROFILE_DIR");
	rm_rf(d1);
	rm_rf(d2);
	free(d1);
	free(d2);
}

static void test_wanted_check(void **state)
{
	struct profile *p = parse_ok(good);
	size_t msym = 0, n;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_true(wanted_struct("task_struct"));
	assert_true(wanted_struct("inet_listen_hashbucket"));
	assert_false(wanted_struct("task_struct2"));
	assert_true(wanted_symbol("swapper_pg_dir"));	/* an alternative */
	assert_true(wanted_symbol("init_top_pgt"));
	assert_false(wanted_symbol("init"));
	n = wanted_check(p, m, &msym);
	fclose(m);
	assert_true(n > msym);
	assert_non_null(strstr(buf, "missing member task_struct.pid\n"));
	assert_non_null(strstr(buf, "missing struct mm_struct\n"));
	assert_non_null(strstr(buf, "missing symbol phys_base\n"));
	/* Present things are not reported; an alternative satisfies its entry. */
	assert_null(strstr(buf, "task_struct.comm\n"));
	assert_null(strstr(buf, "__state|state"));
	assert_null(strstr(buf, "missing symbol init_task\n"));
	assert_null(strstr(buf, "missing struct list_head\n"));
	free(buf);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad_lines),
		cmocka_unit_test(test_parse_nul_and_caps),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_builder_checks),
		cmocka_unit_test(test_member_value),
		cmocka_unit_test(test_find_for_banner),
		cmocka_unit_test(test_read_banner_header_only),
		cmocka_unit_test(test_default_dirs),
		cmocka_unit_test(test_wanted_check),
	};

	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
