// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The DWARF builder on small programs compiled here, with DWARF 5, 4 and
 * strict DWARF 2 (whose bit-fields use the old DW_AT_bit_offset form).
 *
 * The oracle is this test binary itself: it contains the same struct
 * definitions, so offsetof() and sizeof() give the true layout, and each
 * bit-field's position is found by setting it to all ones in a zeroed
 * struct and looking at which bits changed.  Nothing is taken from DWARF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "profiles/dwarf.h"
#include "profiles/profile.h"

/*
 * Wanted names (profiles/wanted.c) so that the builder takes them:
 * task_struct with bit-fields and anonymous unions/structs nested three
 * deep, list_head, and signal_struct as a typedef of an unnamed struct.
 */
#define DEFS \
	struct list_head { struct list_head *next, *prev; }; \
	struct task_struct { \
		unsigned int __state; \
		unsigned char a : 3, b : 5; \
		unsigned int c : 7; \
		unsigned long long wide : 40, : 4, top : 20; \
		union { \
			struct list_head tasks; \
			struct { \
				long pid; \
				union { int tgid; struct { short lo; unsigned char hi : 2, rest : 6; }; }; \
			}; \
		}; \
		char comm[16]; \
		struct list_head children[3]; \
		unsigned short flags; \
		int tail[]; \
	}; \
	typedef struct { int nr_threads; struct list_head thread_head; } signal_struct;

#define STR2(...) #__VA_ARGS__
#define STR(...) STR2(__VA_ARGS__)

DEFS

static const char program[] =
	STR(DEFS) "\n"
	"extern struct task_struct *first_ref;\n"
	"const char linux_banner[] = \"Linux version 9.9.9-unit (cc) #1 SMP\\n\";\n"
	"struct task_struct init_task;\n"
	"signal_struct init_signals;\n"
	"struct list_head modules;\n"
	"int main(void) { return (int)init_task.__state + init_signals.nr_threads +"
	" (first_ref != 0) + (modules.next != 0); }\n";

/* Bit position of a bit-field: set it to all ones in a zeroed struct. */
#define BITPOS(field, pos, width) do { \
		struct task_struct t; \
		unsigned char *b = (unsigned char *)&t; \
		memset(&t, 0, sizeof(t)); \
		t.field = 0; \
		t.field -= 1;	/* unsigned: all ones */ \
		pos = -1; width = 0; \
		for (size_t i = 0; i < sizeof(t) * 8; i++) \
			if (b[i / 8] >> (i % 8) & 1) { \
				if (pos < 0) pos = (long)i; \
				width++; \
			} \
	} while (0)

struct fx {
	char dir[64];
	char exe[96];
};

/*
 * decl.c is linked first, so the first unit holds only a declaration of
 * task_struct: the builder must pass over it to the definition in k.c.
 */
static int compile(struct fx *f, const char *dwarf_flags)
{
	char src[96], decl[96], cmd[640];
	FILE *o;

	snprintf(src, sizeof(src), "%s/k.c", f->dir);
	snprintf(decl, sizeof(decl), "%s/decl.c", f->dir);
	snprintf(f->exe, sizeof(f->exe), "%s/vmlinux", f->dir);
	o = fopen(src, "w");
	if (!o)
		return -1;
	fputs(program, o);
	fclose(o);
	o = fopen(decl, "w");
	if (!o)
		return -1;
	fputs("struct task_struct;\nstruct task_struct *first_ref;\n", o);
	fclose(o);
	snprintf(cmd, sizeof(cmd), "${CC:-cc} -O0 %s -o %s %s %s 2>%s/cc.err", dwarf_flags,
		 f->exe, decl, src, f->dir);
	return system(cmd);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/vmet-test-dwarf-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void expect(const struct profile *p, const char *s, const char *m, size_t off, size_t size)
{
	const struct profile_member *pm = profile_member(p, s, m);

	if (!pm)
		fail_msg("no member %s.%s", s, m);
	if (pm->offset != off || pm->size != size || pm->bit_size)
		fail_msg("%s.%s: profile says %llu+%llu (bits %u), the compiler %zu+%zu", s, m,
			 (unsigned long long)pm->offset, (unsigned long long)pm->size,
			 pm->bit_size, off, size);
}

static void expect_bits(const struct profile *p, const char *m, long pos, unsigned width)
{
	const struct profile_member *pm = profile_member(p, "task_struct", m);

	if (!pm)
		fail_msg("no member task_struct.%s", m);
	if ((long)(pm->offset * 8 + pm->bit_offset) != pos || pm->bit_size != width ||
	    pm->size != (pm->bit_offset + pm->bit_size + 7u) / 8)
		fail_msg("task_struct.%s: profile says byte %llu bit %u, %u bits, %llu bytes; "
			 "memory says bit %ld, %u bits", m, (unsigned long long)pm->offset,
			 pm->bit_offset, pm->bit_size, (unsigned long long)pm->size, pos, width);
}

#define EXPECT(s, type, m) expect(p, #s, #m, offsetof(type, m), sizeof(((type *)0)->m))
#define EXPECT_BITS(m) do { long pos_; unsigned w_; BITPOS(m, pos_, w_); \
		expect_bits(p, #m, pos_, w_); } while (0)

static void check_build(struct fx *f, const char *flags)
{
	struct dwarf_build_stats st;
	struct vmet_err err = { 0 };
	struct profile *p = NULL;
	bool found;

	if (compile(f, flags))
		skip();	/* no compiler, or it lacks this DWARF version */
	if (profile_from_dwarf(f->exe, NULL, NULL, &p, &st, &err))
		fail_msg("%s: %s", flags, err.msg);
	assert_string_equal(p->banner, "Linux version 9.9.9-unit (cc) #1 SMP");
	assert_string_equal(p->arch, "x86_64");
	assert_int_equal(p->paging, PAGING_4LEVEL);
	assert_non_null(strstr(p->source, f->exe));
	assert_int_equal(st.structs_found, 3);
	assert_int_equal(profile_sizeof(p, "task_struct"), sizeof(struct task_struct));
	assert_int_equal(profile_sizeof(p, "list_head"), sizeof(struct list_head));
	assert_int_equal(profile_sizeof(p, "signal_struct"), sizeof(signal_struct));
	EXPECT(task_struct, struct task_struct, __state);
	EXPECT(task_struct, struct task_struct, tasks);
	EXPECT(task_struct, struct task_struct, pid);
	EXPECT(task_struct, struct task_struct, tgid);
	EXPECT(task_struct, struct task_struct, lo);
	EXPECT(task_struct, struct task_struct, comm);
	EXPECT(task_struct, struct task_struct, children);
	EXPECT(task_struct, struct task_struct, flags);
	EXPECT(list_head, struct list_head, prev);
	EXPECT(signal_struct, signal_struct, thread_head);
	EXPECT(signal_struct, signal_struct, nr_threads);
	/* A flexible array: its offset, and size 0. */
	expect(p, "task_struct", "tail", offsetof(struct task_struct, tail), 0);
	EXPECT_BITS(a);
	EXPECT_BITS(b);
	EXPECT_BITS(c);
	EXPECT_BITS(wide);
	EXPECT_BITS(top);
	EXPECT_BITS(hi);
	EXPECT_BITS(rest);
	/* Anonymous members and the unnamed padding bit-field are not members. */
	assert_int_equal(profile_struct(p, "task_struct")->nm, 16);
	assert_int_equal(profile_symbol(p, "init_task", &found) != 0, 1);
	assert_true(found);
	profile_symbol(p, "modules", &found);
	assert_true(found);
	profile_symbol(p, "first_ref", &found);
	assert_false(found);	/* not wanted */
	profile_free(p);
}

static void test_dwarf5(void **state)
{
	check_build(*state, "-gdwarf-5");
}

static void test_dwarf4(void **state)
{
	check_build(*state, "-gdwarf-4");
}

static void test_dwarf2_old_bitfields(void **state)
{
	check_build(*state, "-gdwarf-2 -gstrict-dwarf");
}

static void test_no_dwarf_or_banner(void **state)
{
	struct fx *f = *state;
	struct vmet_err err = { 0 };
	struct profile *p = NULL;
	char map[128];
	FILE *m;

	if (compile(f, "-g0"))
		skip();
	assert_int_equal(profile_from_dwarf(f->exe, NULL, NULL, &p, NULL, &err), VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no DWARF debug information"));
	assert_null(p);
	/* A System.map without linux_banner. */
	snprintf(map, sizeof(map), "%s/System.map", f->dir);
	m = fopen(map, "w");
	assert_non_null(m);
	fputs("0000000000001000 T main\n0000000000002000 D init_task\n", m);
	fclose(m);
	assert_int_equal(profile_from_dwarf(f->exe, map, NULL, &p, NULL, &err), VMET_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no symbol linux_banner"));
	/* A System.map line that is not one. */
	m = fopen(map, "w");
	assert_non_null(m);
	fputs("0000000000001000 T main\nhello\n", m);
	fclose(m);
	assert_int_equal(profile_from_dwarf(f->exe, map, NULL, &p, NULL, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "System.map:2: not a System.map line"));
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dwarf5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dwarf4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dwarf2_old_bitfields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dwarf_or_banner, setup, teardown),
	};

	return cmocka_run_group_tests_name("profile_dwarf", tests, NULL, NULL);
}
