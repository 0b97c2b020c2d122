// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing what QEMU 7.2's monitor prints: registers and the memory map. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "live/qemu.h"
#include "live/qemu_regs.h"
#include "live/qmp.h"

/* Captured from `info registers -a` of a Debian 6.1 guest (trimmed). */
static const char regs[] =
	"\r\nCPU#0\r\n"
	"RAX=000000000001ad40 RBX=0000000000000000 RCX=0000000000000000 RDX=4000000000000000\r\n"
	"R8 =0000000000023000 R9 =00000000314de729 R10=00000000fffffffb R11=0000000000000001\r\n"
	"RIP=ffffffff924592eb RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n"
	"CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]\r\n"
	"CR0=80050033 CR2=00000000005794a9 CR3=00000000024b4000 CR4=000006f0\r\n"
	"DR6=00000000ffff0ff0 DR7=0000000000000400\r\n"
	"EFER=0000000000000d01\r\n"
	"CPU#1\r\n"
	"RIP=0000000000401000 RFL=00000246 [---Z-P-] CPL=3 II=0 A20=1 SMM=0 HLT=0\r\n"
	"CR0=80050033 CR2=0000000000000000 CR3=0000000010a4e005 CR4=000016f0\r\n"
	"EFER=0000000000000d01\r\n";

static void test_registers(void **state)
{
	struct vcpu_set set = { 0 };
	struct vmet_err err;

	(void)state;
	assert_int_equal(qemu_parse_registers(regs, &set, &err), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.v[0].cr3, 0x24b4000);
	assert_int_equal(set.v[0].cr0, 0x80050033);
	assert_int_equal(set.v[0].rip, 0xffffffff924592ebull);
	assert_int_equal(set.v[0].efer, 0xd01);
	assert_int_equal(set.v[0].mode, PAGING_4LEVEL);
	assert_int_equal(set.v[0].cr3_origin, VCPU_ORIGIN_HELPER);
	/* CR2 and DR registers must not be mistaken for CR3 */
	assert_int_equal(set.v[1].vcpu, 1);
	assert_int_equal(set.v[1].cr3, 0x10a4e005);
	assert_int_equal(set.v[1].mode, PAGING_5LEVEL);	/* CR4.LA57 */
	vcpu_set_free(&set);

	assert_int_equal(qemu_parse_registers("no cpus here", &set, &err), VMET_EFORMAT);
	assert_int_equal(qemu_parse_registers("CPU#0\nCR0=1 CR4=0\nEFER=0\n", &set, &err), VMET_EFORMAT);
	assert_non_null(strstr(err.msg, "CPU#0 has no CR3"));
	vcpu_set_free(&set);
}

static const char mtree[] =
	"FlatView #0\r\n AS \"I/O\", root: io\r\n Root memory region: io\r\n"
	"  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\r\n\r\n"
	"FlatView #1\r\n AS \"memory\", root: system\r\n AS \"cpu-memory-0\", root: system\r\n"
	" Root memory region: system\r\n"
	"  0000000000000000-000000000009ffff (prio 0, ram): mem\r\n"
	"  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem\r\n"
	"  00000000000c0000-00000000000c9fff (prio 0, rom): mem @00000000000c0000\r\n"
	"  0000000000100000-000000001fffffff (prio 0, ram): mem @0000000000100000\r\n"
	"  00000000fd000000-00000000fdffffff (prio 1, ram): vga.vram\r\n"
	"  0000000100000000-000000015fffffff (prio 0, ram): mem @0000000080000000\r\n"
	"  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\r\n\r\n"
	"FlatView #2\r\n AS \"cpu-smm-0\", root: memory\r\n"
	"  0000000000000000-00000000000bffff (prio 0, ram): mem\r\n";

static void test_mtree(void **state)
{
	struct qemu_ram_range *rr;
	size_t n;
	struct vmet_err err;

	(void)state;
	assert_int_equal(qemu_parse_mtree(mtree, &rr, &n, &err), 0);
	/* the SMM view is not read; i/o is skipped; ram and rom kept */
	assert_int_equal(n, 6);
	assert_int_equal(rr[0].gpa_start, 0);
	assert_int_equal(rr[0].gpa_end, 0xa0000);
	assert_int_equal(rr[0].block_offset, 0);
	assert_string_equal(rr[1].block, "mem");
	assert_int_equal(rr[1].block_offset, 0xc0000);
	assert_int_equal(rr[4].gpa_start, 0x100000000ull);
	assert_int_equal(rr[4].block_offset, 0x80000000ull);
	assert_string_equal(rr[3].block, "vga.vram");
	free(rr);
	assert_int_equal(qemu_parse_mtree("FlatView #0\n AS \"I/O\"\n", &rr, &n, &err), VMET_EFORMAT);
}

static void test_qmp_return_string(void **state)
{
	char *s;

	(void)state;
	s = qmp_return_string("{\"return\": \"a\\r\\nb \\\"q\\\" \\u0041\\\\\"}");
	assert_non_null(s);
	assert_string_equal(s, "a\r\nb \"q\" A\\");
	free(s);
	assert_null(qmp_return_string("{\"return\": {}}"));
	assert_null(qmp_return_string("{\"return\": \"unterminated"));
	assert_null(qmp_return_string("{\"return\": \"bad \\x escape\"}"));
}

/* A canned QEMU: every reply is queued up front, with events in between. */
static void test_qmp_session(void **state)
{
	static const char script[] =
		"{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n"
		"{\"return\": {}}\r\n"
		"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n"
		"{\"return\": {}}\r\n"
		"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"RESUME\"}\r\n"
		"{\"return\": \"CPU#0\\r\\nCR0=80050033 CR3=0000000001234000 CR4=000006f0\\r\\nEFER=0000000000000d01\\r\\n\"}\r\n"
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such \\\"thing\\\"\"}}\r\n";
	int sv[2];
	struct qmp *q;
	struct vmet_err err;
	struct vcpu_set set = { 0 };

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], script, sizeof(script) - 1), (ssize_t)(sizeof(script) - 1));
	assert_int_equal(qmp_open_fd(sv[0], "test", 1000, &q, &err), 0);
	assert_int_equal(qmp_execute(q, "{\"execute\":\"stop\"}", NULL, &err), 0);
	/* the STOP/RESUME events must not be taken for the registers' reply */
	assert_int_equal(qemu_read_registers(q, &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.v[0].cr3, 0x1234000);
	assert_int_equal(qmp_execute(q, "{\"execute\":\"thing\"}", NULL, &err), VMET_EIO);
	assert_non_null(strstr(err.msg, "no such \"thing\""));
	/* nothing more queued: a bounded wait, then a clear error */
	assert_int_equal(qmp_execute(q, "{\"execute\":\"cont\"}", NULL, &err), VMET_EIO);
	assert_non_null(strstr(err.msg, "no reply within"));
	close(sv[1]);
	qmp_close(q);
	vcpu_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_mtree),
		cmocka_unit_test(test_qmp_return_string),
		cmocka_unit_test(test_qmp_session),
	};

	return cmocka_run_group_tests_name("qemu_text", tests, NULL, NULL);
}
