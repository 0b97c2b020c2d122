// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The xen: source off Xen: spec parsing, and a plain "Xen not available"
 * (never a crash or a link error) where the libraries or the hypervisor
 * are missing.  The connector itself runs in the Xen bed (tests/guest/xen).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/source.h"
#include "live/xen.h"

static void test_parse(void **state)
{
	struct vmet_err err;
	uint32_t domid = 99;
	const char *name = NULL;

	(void)state;
	assert_true(xen_spec_match("xen:1"));
	assert_false(xen_spec_match("xenial.raw"));
	assert_int_equal(xen_parse_target("xen:7", &domid, &name, &err), 1);
	assert_int_equal(domid, 7);
	assert_int_equal(xen_parse_target("xen:0", &domid, &name, &err), 1);
	assert_int_equal(domid, 0);
	assert_int_equal(xen_parse_target("xen:pvh-guest", &domid, &name, &err), 0);
	assert_string_equal(name, "pvh-guest");
	assert_int_equal(xen_parse_target("xen:", &domid, &name, &err), VMET_EINVAL);
	/* DOMID_FIRST_RESERVED and above are not domains */
	assert_int_equal(xen_parse_target("xen:32752", &domid, &name, &err), VMET_EINVAL);
	assert_int_equal(xen_parse_target("xen:12x", &domid, &name, &err), VMET_EINVAL);
	assert_int_equal(xen_parse_target("xen:99999999999999999999", &domid, &name, &err),
			 VMET_EINVAL);
}

static void test_not_available(void **state)
{
	struct phys_source *src = NULL;
	struct vmet_err err;

	(void)state;
	setenv("VMET_LIBXENCTRL", "libvmet-no-such-xenctrl.so", 1);
	assert_int_equal(source_open("xen:1", NULL, &src, &err), VMET_EUNSUPPORTED);
	assert_null(src);
	assert_non_null(strstr(err.msg, "Xen not available: "));
	assert_non_null(strstr(err.msg, "libvmet-no-such-xenctrl.so"));
	/* files options do not apply to a live source */
	assert_int_equal(source_open("xen:1", &(struct source_opts){ .format = "raw" }, &src, &err),
			 VMET_EINVAL);
	unsetenv("VMET_LIBXENCTRL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_not_available),
	};

	return cmocka_run_group_tests_name("xen", tests, NULL, NULL);
}
