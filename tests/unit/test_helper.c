// SPDX-License-Identifier: GPL-2.0-or-later
/* The hypervisor-helper record stream. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/helper.h"

static int parse(const char *s, struct vcpu_set *set, struct vmet_err *err)
{
	return helper_records_parse(s, strlen(s), "test", set, err);
}

static void test_records(void **state)
{
	struct vcpu_set set = { 0 };
	struct vmet_err err;

	(void)state;
	/* the nested bed's capture.sh format, a comment, a blank line, CRLF */
	assert_int_equal(parse("# L0 samples\n"
			       "sample=1 cr3=0x10a4e000 rip=0xffffffff81e0a1ce efer=0xd01 cr0=0x80050033 cr4=0x6f0\n"
			       "\n"
			       "vcpu=1 cr3=0x2000 s2type=npt s2root=0x7e9f6000 time=1764144000000000000\r\n"
			       "cr3=4096 cr0=0x80050033 cr4=0x16f0 efer=0xd01\n", &set, &err), 0);
	assert_int_equal(set.n, 3);
	assert_int_equal(set.v[0].cr3, 0x10a4e000);
	assert_int_equal(set.v[0].rip, 0xffffffff81e0a1ceull);
	assert_int_equal(set.v[0].mode, PAGING_4LEVEL);
	assert_int_equal(set.v[0].cr3_origin, VCPU_ORIGIN_HELPER);
	assert_int_equal(set.v[0].layer, 0);
	assert_int_equal(set.v[1].vcpu, 1);
	assert_int_equal(set.v[1].s2_type, STAGE2_NPT);
	assert_int_equal(set.v[1].s2_root, 0x7e9f6000);
	assert_int_equal(set.v[1].s2_origin, VCPU_ORIGIN_HELPER);
	assert_int_equal(set.v[1].time_ns, 1764144000000000000ull);
	assert_int_equal(set.v[2].cr3, 4096);
	assert_int_equal(set.v[2].mode, PAGING_5LEVEL);
	vcpu_set_free(&set);
}

static void test_errors(void **state)
{
	struct vcpu_set set = { 0 };
	struct vmet_err err;
	char big[HELPER_MAX_LINE + 16];

	(void)state;
	assert_int_equal(parse("rip=0x1000\n", &set, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "test:1: record without cr3="));
	assert_int_equal(parse("cr3=0x1000\ncr3=zz\n", &set, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "test:2: cr3: 'zz' is not a number"));
	assert_int_equal(parse("cr3=0x1000 junk\n", &set, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "not KEY=VALUE"));
	assert_int_equal(parse("cr3=1 s2type=vmx\n", &set, &err), VMET_EFORMAT);
	assert_int_equal(parse("cr3=1 vcpu=99999\n", &set, &err), VMET_EFORMAT);
	assert_int_equal(parse("cr3=-1\n", &set, &err), VMET_EFORMAT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &set, &err), VMET_ELIMIT);
	vcpu_set_free(&set);
	assert_int_equal(helper_records_load("/nonexistent/helper", &set, &err), VMET_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("helper", tests, NULL, NULL);
}
