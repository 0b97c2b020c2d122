// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON reader (valid documents, every kind of malformed one, the caps)
 * and the Volatility ISF importer on a hand-written symbol table in the
 * form dwarf2json writes: anonymous unions and structs flattened, bit-fields
 * re-based to byte + bit, member sizes from base types, enums, pointers and
 * arrays, the banner from base64 constant data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "profiles/isf.h"
#include "profiles/json_parse.h"
#include "profiles/profile.h"

/* ---- JSON reader -------------------------------------------------------- */

static void test_json_values(void **state)
{
	char doc[] = "{\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\\\"\"],"
		     "\"big\": 18446744073709551615, \"over\": 18446744073709551616,"
		     "\"neg\": -1, \"frac\": 1.0, \"exp\": 1e3, \"a\": {}, \"e\": [] }";
	struct jdoc d;
	struct vmet_err err = { 0 };
	const struct jnode *root, *a, *c;
	uint64_t v;

	assert_int_equal(jdoc_parse(doc, strlen(doc), "t.json", &d, &err), 0);
	root = jroot(&d);
	assert_int_equal(root->type, J_OBJ);
	assert_int_equal(root->count, 8);
	/* A repeated key: the last one wins. */
	a = jget(&d, root, "a");
	assert_int_equal(a->type, J_OBJ);
	assert_int_equal(a->count, 0);
	a = jchild(&d, root);
	assert_string_equal(a->key, "a");
	assert_int_equal(a->count, 6);
	c = jchild(&d, a);
	assert_true(jnum_u64(c, &v));
	assert_int_equal(v, 1);
	c = jnext(&d, c);
	assert_int_equal(c->type, J_NUM);
	assert_false(jnum_u64(c, &v));
	c = jnext(&d, c);
	assert_int_equal(c->type, J_TRUE);
	c = jnext(&d, c);
	assert_int_equal(c->type, J_FALSE);
	c = jnext(&d, c);
	assert_int_equal(c->type, J_NULL);
	c = jnext(&d, c);
	assert_int_equal(c->type, J_STR);
	/* é is C3 A9, U+1F600 is F0 9F 98 80 */
	assert_string_equal(c->s, "x\xc3\xa9\xf0\x9f\x98\x80\n\"");
	assert_int_equal(c->len, 9);
	assert_null(jnext(&d, c));
	assert_true(jnum_u64(jget(&d, root, "big"), &v));
	assert_true(v == UINT64_MAX);
	assert_false(jnum_u64(jget(&d, root, "over"), &v));
	assert_false(jnum_u64(jget(&d, root, "neg"), &v));
	assert_false(jnum_u64(jget(&d, root, "frac"), &v));
	assert_false(jnum_u64(jget(&d, root, "exp"), &v));
	assert_null(jget(&d, root, "missing"));
	assert_null(jget(&d, a, "x"));	/* not an object */
	assert_null(jchild(&d, jget(&d, root, "e")));
	jdoc_free(&d);
}

static void test_json_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "", "t.json:1:1: expected a value" },
		{ "  ", "t.json:1:3: expected a value" },
		{ "{", "t.json:1:2: expected a member name" },
		{ "{\"a\" 1}", "t.json:1:6: expected ':'" },
		{ "{\"a\":1,}", "t.json:1:8: expected a member name" },
		{ "[1,]", "t.json:1:4: unexpected ']'" },
		{ "[1 2]", "t.json:1:4: expected ',' or ']'" },
		{ "[1", "input ends inside an array" },
		{ "{a:1}", "t.json:1:2: expected a member name" },
		{ "\"abc", "t.json:1:1: string without an end" },
		{ "\"a\tb\"", "control byte 0x09" },
		{ "\"\\x\"", "unknown escape \\x" },
		{ "\"\\u12\"", "bad \\u escape" },
		{ "\"\\u0000\"", "NUL byte" },
		{ "\"\\udc00\"", "lone low surrogate" },
		{ "\"\\ud800x\"", "without its pair" },
		{ "\"\\ud800\\u0041\"", "without its pair" },
		{ "01", "t.json:1:2: data after the end" },
		{ "1.", "no digit after '.'" },
		{ "-", "bad number" },
		{ "1e", "no exponent digits" },
		{ "tru", "unexpected 't'" },
		{ "nul", "unexpected 'n'" },
		{ "[]]", "t.json:1:3: data after the end" },
		{ "{}\n\n  x", "t.json:3:3: data after the end" },
		{ "\x01", "unexpected byte 0x01" },
		{ "+1", "unexpected '+'" },
		{ "[1111111111111111111111111111111111111111111111111111111111111111111]",
		  "number longer than 64" },
	};
	struct vmet_err err;
	struct jdoc d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].text);
		char *buf = malloc(n + 1);
		int rc;

		memcpy(buf, cases[i].text, n + 1);
		vmet_err_clear(&err);
		rc = jdoc_parse(buf, n, "t.json", &d, &err);
		if (rc != VMET_EFORMAT || !strstr(err.msg, cases[i].msg))
			fail_msg("input '%s': expected \"%s\", got %d \"%s\"", cases[i].text,
				 cases[i].msg, rc, err.msg);
		assert_null(d.n);
		free(buf);
	}
}

static void test_json_depth_cap(void **state)
{
	char buf[2 * (JSON_PARSE_MAX_DEPTH + 2)];
	struct vmet_err err = { 0 };
	struct jdoc d;
	size_t n;

	/* Exactly at the cap: accepted. */
	n = 0;
	for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++)
		buf[n++] = '[';
	for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++)
		buf[n++] = ']';
	assert_int_equal(jdoc_parse(buf, n, "t.json", &d, &err), 0);
	assert_int_equal(d.nn, JSON_PARSE_MAX_DEPTH);
	jdoc_free(&d);
	/* One deeper: refused, not a stack overflow. */
	n = 0;
	for (int i = 0; i <= JSON_PARSE_MAX_DEPTH; i++)
		buf[n++] = '[';
	for (int i = 0; i <= JSON_PARSE_MAX_DEPTH; i++)
		buf[n++] = ']';
	assert_int_equal(jdoc_parse(buf, n, "t.json", &d, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "nested deeper than 64"));
}

/* ---- ISF import --------------------------------------------------------- */

/* "Linux version 6.1.0-test (gcc) #1 SMP\n\0" in base64 */
#define BANNER_B64 "TGludXggdmVyc2lvbiA2LjEuMC10ZXN0IChnY2MpICMxIFNNUAoA"

#define ISF_HEAD \
	"{\"metadata\": {\"format\": \"6.2.0\", \"producer\": {\"name\": \"dwarf2json\"}},\n" \
	" \"base_types\": {\n" \
	"  \"pointer\": {\"size\": 8, \"signed\": false, \"kind\": \"int\", \"endian\": \"little\"},\n" \
	"  \"char\": {\"size\": 1, \"signed\": true, \"kind\": \"char\", \"endian\": \"little\"},\n" \
	"  \"unsigned int\": {\"size\": 4, \"signed\": false, \"kind\": \"int\", \"endian\": \"little\"},\n" \
	"  \"long long unsigned int\": {\"size\": 8, \"signed\": false, \"kind\": \"int\", \"endian\": \"little\"}},\n" \
	" \"enums\": {\"pid_type\": {\"size\": 4, \"base\": \"unsigned int\", \"constants\": {\"PIDTYPE_PID\": 0}}},\n"

static const char isf_good[] =
	ISF_HEAD
	" \"user_types\": {\n"
	"  \"task_struct\": {\"size\": 9792, \"kind\": \"struct\", \"fields\": {\n"
	"   \"__state\": {\"type\": {\"kind\": \"base\", \"name\": \"unsigned int\"}, \"offset\": 24},\n"
	"   \"unnamed_field_8\": {\"type\": {\"kind\": \"union\", \"name\": \"unnamed_1234abcd\"},"
	"     \"offset\": 8, \"anonymous\": true},\n"
	"   \"tasks\": {\"type\": {\"kind\": \"struct\", \"name\": \"list_head\"}, \"offset\": 2192},\n"
	"   \"mm\": {\"type\": {\"kind\": \"pointer\", \"subtype\": {\"kind\": \"struct\", \"name\": \"mm_struct\"}},"
	"     \"offset\": 2272},\n"
	"   \"comm\": {\"type\": {\"kind\": \"array\", \"count\": 16, \"subtype\": {\"kind\": \"base\", \"name\": \"char\"}},"
	"     \"offset\": 2976},\n"
	"   \"grid\": {\"type\": {\"kind\": \"array\", \"count\": 2, \"subtype\": {\"kind\": \"array\", \"count\": 3,"
	"     \"subtype\": {\"kind\": \"struct\", \"name\": \"list_head\"}}}, \"offset\": 3000},\n"
	"   \"in_execve\": {\"type\": {\"kind\": \"bitfield\", \"bit_position\": 2, \"bit_length\": 1,"
	"     \"type\": {\"kind\": \"base\", \"name\": \"unsigned int\"}}, \"offset\": 2344},\n"
	"   \"sched_bits\": {\"type\": {\"kind\": \"bitfield\", \"bit_position\": 35, \"bit_length\": 7,"
	"     \"type\": {\"kind\": \"base\", \"name\": \"long long unsigned int\"}}, \"offset\": 2336},\n"
	"   \"ptype\": {\"type\": {\"kind\": \"enum\", \"name\": \"pid_type\"}, \"offset\": 100},\n"
	"   \"fn\": {\"type\": {\"kind\": \"function\"}, \"offset\": 104}}},\n"
	"  \"unnamed_1234abcd\": {\"size\": 16, \"kind\": \"union\", \"fields\": {\n"
	"   \"whole\": {\"type\": {\"kind\": \"array\", \"count\": 2, \"subtype\": {\"kind\": \"pointer\"}},"
	"     \"offset\": 0},\n"
	"   \"unnamed_field_0\": {\"type\": {\"kind\": \"struct\", \"name\": \"unnamed_5678\"}, \"offset\": 0}}},\n"
	"  \"unnamed_5678\": {\"size\": 16, \"kind\": \"struct\", \"fields\": {\n"
	"   \"x\": {\"type\": {\"kind\": \"base\", \"name\": \"unsigned int\"}, \"offset\": 4},\n"
	"   \"y\": {\"type\": {\"kind\": \"pointer\", \"subtype\": {\"kind\": \"base\", \"name\": \"void\"}},"
	"     \"offset\": 8}}},\n"
	"  \"list_head\": {\"size\": 16, \"kind\": \"struct\", \"fields\": {\n"
	"   \"next\": {\"type\": {\"kind\": \"pointer\", \"subtype\": {\"kind\": \"struct\", \"name\": \"list_head\"}},"
	"     \"offset\": 0},\n"
	"   \"prev\": {\"type\": {\"kind\": \"pointer\", \"subtype\": {\"kind\": \"struct\", \"name\": \"list_head\"}},"
	"     \"offset\": 8}}},\n"
	"  \"not_wanted\": {\"size\": 4, \"kind\": \"struct\", \"fields\": {}}},\n"
	" \"symbols\": {\n"
	"  \"init_task\": {\"address\": 18446744071606774336, \"type\": {\"kind\": \"struct\", \"name\": \"task_struct\"}},\n"
	"  \"linux_banner\": {\"address\": 18446744071596398848, \"constant_data\": \"" BANNER_B64 "\"},\n"
	"  \"some_function\": {\"address\": 18446744071562067968}}}\n";

static int import(const char *text, struct profile **p, struct vmet_err *err)
{
	size_t n = strlen(text);
	char *buf = malloc(n + 1);
	int rc;

	assert_non_null(buf);
	memcpy(buf, text, n + 1);
	rc = profile_from_isf(buf, n, "t.isf.json", NULL, p, err);
	free(buf);
	return rc;
}

static void expect_member(const struct profile *p, const char *s, const char *m, uint64_t off,
			  uint64_t size, unsigned bit, unsigned bits)
{
	const struct profile_member *pm = profile_member(p, s, m);

	if (!pm)
		fail_msg("no member %s.%s", s, m);
	if (pm->offset != off || pm->size != size || pm->bit_offset != bit || pm->bit_size != bits)
		fail_msg("%s.%s: got %llu+%llu bits %u/%u, want %llu+%llu bits %u/%u", s, m,
			 (unsigned long long)pm->offset, (unsigned long long)pm->size,
			 pm->bit_offset, pm->bit_size, (unsigned long long)off,
			 (unsigned long long)size, bit, bits);
}

static void test_isf_import(void **state)
{
	struct vmet_err err = { 0 };
	struct profile *p = NULL;
	bool found;

	if (import(isf_good, &p, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(p->banner, "Linux version 6.1.0-test (gcc) #1 SMP");
	assert_string_equal(p->arch, "x86_64");
	assert_int_equal(p->paging, PAGING_4LEVEL);
	assert_string_equal(p->source, "isf:t.isf.json");
	/* Only wanted structs; anonymous helper types are not structs of their own. */
	assert_int_equal(p->ns, 2);
	assert_null(profile_struct(p, "not_wanted"));
	assert_null(profile_struct(p, "unnamed_1234abcd"));
	assert_int_equal(profile_sizeof(p, "task_struct"), 9792);
	expect_member(p, "task_struct", "__state", 24, 4, 0, 0);
	expect_member(p, "task_struct", "tasks", 2192, 16, 0, 0);
	expect_member(p, "task_struct", "mm", 2272, 8, 0, 0);
	expect_member(p, "task_struct", "comm", 2976, 16, 0, 0);
	expect_member(p, "task_struct", "grid", 3000, 96, 0, 0);
	expect_member(p, "task_struct", "ptype", 100, 4, 0, 0);
	expect_member(p, "task_struct", "fn", 104, 0, 0, 0);
	/* Flattened: the union at 8, the struct inside it at 8 + 0. */
	expect_member(p, "task_struct", "whole", 8, 16, 0, 0);
	expect_member(p, "task_struct", "x", 12, 4, 0, 0);
	expect_member(p, "task_struct", "y", 16, 8, 0, 0);
	assert_null(profile_member(p, "task_struct", "unnamed_field_8"));
	assert_null(profile_member(p, "task_struct", "unnamed_field_0"));
	/* Bit 2 of the unit at 2344; bit 35 of the unit at 2336 = byte 2340, bit 3. */
	expect_member(p, "task_struct", "in_execve", 2344, 1, 2, 1);
	expect_member(p, "task_struct", "sched_bits", 2340, 2, 3, 7);
	assert_int_equal(profile_symbol(p, "init_task", &found), 0xffffffff82aa2a40ull);
	assert_true(found);
	assert_int_equal(profile_symbol(p, "linux_banner", &found), 0xffffffff820bd900ull);
	assert_true(found);
	profile_symbol(p, "some_function", &found);
	assert_false(found);
	profile_free(p);
}

/* Replace the first occurrence of `from` in isf_good by `to`. */
static char *variant(const char *from, const char *to)
{
	const char *at = strstr(isf_good, from);
	size_t n = strlen(isf_good) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);

	assert_non_null(at);
	assert_non_null(s);
	snprintf(s, n, "%.*s%s%s", (int)(at - isf_good), isf_good, to, at + strlen(from));
	return s;
}

static void test_isf_errors(void **state)
{
	static const struct {
		const char *from, *to;
		int code;
		const char *msg;
	} cases[] = {
		{ "\"constant_data\": \"" BANNER_B64 "\"", "\"x\": 1", VMET_ENOTFOUND,
		  "no symbols.linux_banner.constant_data" },
		{ BANNER_B64, "V2luZG93cwA=", VMET_EFORMAT, "does not start with 'Linux version'" },
		{ BANNER_B64, "TGlu*XggdmVy", VMET_EFORMAT, "'*' at 4 is not base64" },
		{ "\"pointer\": {\"size\": 8", "\"pointer\": {\"size\": 3", VMET_EFORMAT,
		  "base_types.pointer.size is not 4 or 8" },
		{ "\"user_types\"", "\"types\"", VMET_EFORMAT, "not an ISF" },
		{ "\"kind\": \"enum\", \"name\": \"pid_type\"", "\"kind\": \"enum\", \"name\": \"nope\"",
		  VMET_EFORMAT, "field task_struct.ptype: enum type \"nope\" has no size" },
		{ "{\"kind\": \"function\"}", "{\"kind\": \"coroutine\"}", VMET_EFORMAT,
		  "field task_struct.fn: unknown type kind \"coroutine\"" },
		{ "\"name\": \"unnamed_1234abcd\"", "\"name\": \"unnamed_gone\"", VMET_EFORMAT,
		  "anonymous union \"unnamed_gone\" is not in user_types" },
		{ "\"offset\": 2976", "\"offset\": -1", VMET_EFORMAT,
		  "field task_struct.comm: no valid \"offset\"" },
		{ "\"offset\": 2976", "\"offset\": 9780", VMET_EFORMAT,
		  "member task_struct.comm: bytes 9780+16 lie outside" },
		{ "\"bit_length\": 1", "\"bit_length\": 0", VMET_EFORMAT,
		  "field task_struct.in_execve: bit-field without a valid" },
		{ "\"count\": 16", "\"count\": 99999999999999", VMET_ELIMIT, "is too large" },
		{ "\"size\": 9792", "\"size\": \"big\"", VMET_EFORMAT,
		  "user_types.task_struct has no valid size" },
		{ "\"address\": 18446744071606774336", "\"address\": null", VMET_EFORMAT,
		  "symbols.init_task has no valid address" },
		{ "\"symbols\": {", "\"symbols\": {,", VMET_EFORMAT, "t.isf.json:" },
	};
	struct vmet_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = variant(cases[i].from, cases[i].to);
		struct profile *p = (struct profile *)1;
		int rc;

		vmet_err_clear(&err);
		rc = import(text, &p, &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: expected %d \"%s\", got %d \"%s\"", i, cases[i].code,
				 cases[i].msg, rc, err.msg);
		assert_null(p);
		free(text);
	}
}

/* An anonymous member referring to itself must hit the nesting cap, not recurse forever. */
static void test_isf_anonymous_cycle(void **state)
{
	char *text = variant("\"unnamed_field_0\": {\"type\": {\"kind\": \"struct\", \"name\": \"unnamed_5678\"}",
			     "\"unnamed_field_0\": {\"type\": {\"kind\": \"union\", \"name\": \"unnamed_1234abcd\"}");
	struct vmet_err err = { 0 };
	struct profile *p = NULL;

	assert_int_equal(import(text, &p, &err), VMET_ELIMIT);
	assert_non_null(strstr(err.msg, "nested deeper than"));
	assert_null(p);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_depth_cap),
		cmocka_unit_test(test_isf_import),
		cmocka_unit_test(test_isf_errors),
		cmocka_unit_test(test_isf_anonymous_cycle),
	};

	return cmocka_run_group_tests_name("profile_isf", tests, NULL, NULL);
}
