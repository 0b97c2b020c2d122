// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shadow /proc's formats (cmd/procfs.c) and path grammar
 * (cmd/procfs_tree.c), checked against this machine's real /proc: the
 * same number of stat fields, status keys in the kernel's order, the
 * /proc/net headers byte for byte, the same number of fields per socket
 * line.  Hostile guest strings (a comm with ')' and '\n', a unix path with
 * a newline) must not add lines or fields.
 *
 * The modules live in cmd/ (not in libvmet.a), so they are compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/procfs.c"
#include "cmd/procfs_tree.c"

/* A whole small file, NUL-terminated; NULL when it cannot be read. */
static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Fields of a stat line: everything after the last ')' plus pid and comm. */
static int stat_fields(const char *s)
{
	const char *p = strrchr(s, ')');
	int n = 2;
	bool in = false;

	assert_non_null(p);
	for (p++; *p && *p != '\n'; p++) {
		if (*p != ' ' && !in)
			n++;
		in = *p != ' ';
	}
	return n;
}

static int count_fields(const char *line)
{
	int n = 0;
	bool in = false;

	for (; *line && *line != '\n'; line++) {
		bool sp = *line == ' ' || *line == '\t';

		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}

static int count_lines(const struct procfs_buf *b)
{
	int n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->p[i] == '\n';
	return n;
}

static struct linux_task task(int32_t pid, int32_t tgid, const char *comm)
{
	struct linux_task t;

	memset(&t, 0, sizeof(t));
	t.pid = pid;
	t.tgid = tgid;
	t.ppid = 1;
	t.uid = t.euid = 1000;
	t.gid = t.egid = 100;
	t.state_char = 'S';
	t.leader = pid == tgid;
	t.nthreads = 1;
	t.start_ns = 12340000000ull;
	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	return t;
}

static void test_stat_fields(void **state)
{
	struct linux_task t = task(42, 42, "a) b\nc (d");
	struct procfs_buf b = { 0 };
	char *real = slurp("/proc/self/stat");

	procfs_task_stat(&b, &t, 3);
	assert_false(b.full);
	assert_int_equal(stat_fields(b.p), 52);
	if (real)	/* this machine's kernel agrees */
		assert_int_equal(stat_fields(real), stat_fields(b.p));
	/* comm raw in parentheses, as do_task_stat writes it; starttime in ticks. */
	assert_memory_equal(b.p, "42 (a) b\nc (d) S 1 ", 19);
	assert_non_null(strstr(b.p, " 20 0 3 0 1234 "));
	procfs_buf_free(&b);
}

/* The status keys we write appear in the real file in the same order. */
static void test_status_order(void **state)
{
	struct linux_task t = task(42, 42, "x\ny\\z");
	struct procfs_buf b = { 0 };
	char *real = slurp("/proc/self/status"), keys[64][32];
	size_t nk = 0, at = 0;

	procfs_task_status(&b, &t, 1);
	/* the hostile comm stays on its line, escaped as the kernel does */
	assert_memory_equal(b.p, "Name:\tx\\ny\\\\z\n", 14);
	for (const char *l = b.p; *l && nk < 64; l = strchr(l, '\n') + 1) {
		size_t k = strcspn(l, ":");

		assert_true(k < sizeof(keys[0]));
		memcpy(keys[nk], l, k);
		keys[nk++][k] = '\0';
	}
	assert_int_equal(nk, (size_t)count_lines(&b));
	if (!real) {
		procfs_buf_free(&b);
		return;
	}
	for (const char *l = real; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		size_t k = strcspn(l, ":");

		if (at < nk && strlen(keys[at]) == k && !memcmp(keys[at], l, k))
			at++;
	}
	assert_int_equal(at, nk);	/* every key found, in order */
	procfs_buf_free(&b);
}

static void test_comm_cmdline(void **state)
{
	struct linux_task t = task(7, 7, "sh");
	struct procfs_buf b = { 0 };
	char cmd[] = "/bin/sh\0-c\0x y";	/* as read with cmdline_keep_nul */

	procfs_task_comm(&b, &t);
	assert_string_equal(b.p, "sh\n");
	procfs_buf_free(&b);
	t.cmdline = cmd;
	t.cmdline_len = sizeof(cmd) - 1;
	procfs_task_cmdline(&b, &t);
	assert_int_equal(b.n, sizeof(cmd));
	assert_memory_equal(b.p, "/bin/sh\0-c\0x y\0", sizeof(cmd));
	procfs_buf_free(&b);
	t.kthread = true;
	procfs_task_cmdline(&b, &t);
	assert_int_equal(b.n, 0);
	procfs_buf_free(&b);
}

static struct linux_sock sock(enum linux_sock_proto proto, uint16_t family, uint64_t inode)
{
	struct linux_sock s;

	memset(&s, 0, sizeof(s));
	s.proto = proto;
	s.family = family;
	s.inode = inode;
	s.in_hash = true;
	return s;
}

static void check_net(enum procfs_net which, const char *real_path, int fields)
{
	struct linux_sock ss[2];
	struct linux_sock_list l = { .s = ss, .n = 2 };
	struct procfs_buf b = { 0 };
	char *real = slurp(real_path);
	const char *row;
	bool v6 = which == PROCFS_TCP6 || which == PROCFS_UDP6;
	enum linux_sock_proto p = which == PROCFS_TCP || which == PROCFS_TCP6 ? LSOCK_TCP :
				  which == PROCFS_UNIX ? LSOCK_UNIX : LSOCK_UDP;

	ss[0] = sock(p, p == LSOCK_UNIX ? 1 : v6 ? 10 : 2, 9934);
	ss[0].laddr[0] = 127;
	ss[0].laddr[v6 ? 15 : 3] = 1;
	ss[0].lport = 7010;
	ss[0].state = 10;
	ss[0].type = 1;
	snprintf(ss[0].path, sizeof(ss[0].path), "/run/a\nb");
	ss[1] = sock(LSOCK_OTHER, 16, 1);
	procfs_net(&b, which, &l);
	assert_false(b.full);
	assert_int_equal(count_lines(&b), 2);	/* header and one socket, nothing forged */
	if (real) {
		size_t hl = strcspn(real, "\n") + 1;

		assert_true(b.n > hl);
		assert_memory_equal(b.p, real, hl);	/* the header, byte for byte */
		row = real + hl;
		/* This machine's own first socket has the same field count; an
		 * unbound UNIX socket has no path column, so one fewer there. */
		if (*row && !(which == PROCFS_UNIX && count_fields(row) == fields - 1))
			assert_int_equal(count_fields(row), fields);
	}
	row = strchr(b.p, '\n') + 1;
	assert_int_equal(count_fields(row), fields);
	if (which == PROCFS_TCP) {
		assert_non_null(strstr(row, "   0: 0100007F:1B62 00000000:0000 0A "));
		assert_int_equal(strlen(row), 150);	/* seq_pad to TMPSZ - 1, and '\n' */
		assert_non_null(strstr(row, " 9934 "));
	}
	if (which == PROCFS_TCP6)
		assert_non_null(strstr(row, "0000007F000000000000000001000000:1B62 "));
	if (which == PROCFS_UNIX)
		assert_non_null(strstr(row, " 9934 /run/a?b\n"));
	procfs_buf_free(&b);
}

static void test_net(void **state)
{
	check_net(PROCFS_TCP, "/proc/net/tcp", 17);
	check_net(PROCFS_TCP6, "/proc/net/tcp6", 17);
	check_net(PROCFS_UDP, "/proc/net/udp", 13);
	check_net(PROCFS_UDP6, "/proc/net/udp6", 13);
	check_net(PROCFS_UNIX, "/proc/net/unix", 8);
}

static void test_sys(void **state)
{
	struct procfs_sys s = { .uptime_ns = 123456000000ull, .boot_time = 1700000000,
				.mem_total = 512ull << 20, .ntasks = 70, .nrunning = 1,
				.last_pid = 111 };
	struct procfs_buf b = { 0 };
	char *real;

	snprintf(s.banner, sizeof(s.banner), "Linux version 6.1.0 (x@y) #1");
	procfs_version(&b, &s);
	assert_string_equal(b.p, "Linux version 6.1.0 (x@y) #1\n");
	procfs_buf_free(&b);
	procfs_uptime(&b, &s);
	assert_string_equal(b.p, "123.45 0.00\n");
	if ((real = slurp("/proc/uptime")))
		assert_int_equal(count_fields(real), count_fields(b.p));
	procfs_buf_free(&b);
	procfs_loadavg(&b, &s);
	assert_string_equal(b.p, "0.00 0.00 0.00 1/70 111\n");
	if ((real = slurp("/proc/loadavg")))
		assert_int_equal(count_fields(real), count_fields(b.p));
	procfs_buf_free(&b);
	procfs_stat(&b, &s);
	assert_non_null(strstr(b.p, "\nbtime 1700000000\n"));
	if ((real = slurp("/proc/stat")))	/* "cpu" + 10 times */
		assert_int_equal(count_fields(real), count_fields(b.p));
	procfs_buf_free(&b);
	procfs_meminfo(&b, &s);
	assert_memory_equal(b.p, "MemTotal:         524288 kB\n", 28);
	if ((real = slurp("/proc/meminfo")))	/* the same column layout */
		assert_int_equal(strcspn(real, "\n"), strcspn(b.p, "\n"));
	procfs_buf_free(&b);
}

/* The cap: a guest cannot make a file grow without bound. */
static void test_cap(void **state)
{
	struct procfs_buf b = { 0 };

	procfs_put(&b, "x", 1);
	procfs_put(&b, b.p, PROCFS_MAX_FILE);	/* one byte too many */
	assert_true(b.full);
	assert_int_equal(b.n, 1);
	procfs_printf(&b, "more");
	assert_int_equal(b.n, 1);
	procfs_buf_free(&b);
}

static int collect(void *ctx, const char *name)
{
	char *out = ctx;

	strcat(out, name);
	strcat(out, " ");
	return 0;
}

static void test_lookup(void **state)
{
	struct linux_task t[4] = { task(1, 1, "init"), task(50, 50, "srv"), task(52, 50, "worker"),
				   task(9, 9, "k") };
	struct linux_sock ss[1] = { sock(LSOCK_TCP, 2, 777) };
	size_t lead[3] = { 0, 3, 1 }, thr[4] = { 0, 3, 1, 2 };
	struct procfs_fd fds[2] = { { 50, 3, 777 }, { 50, 11, 777 } };
	struct procfs_snap s = { .tl = { .t = t, .n = 4 }, .lead = lead, .nlead = 3, .thr = thr,
				 .sl = { .s = ss, .n = 1 }, .fds = fds, .nfds = 2 };
	struct procfs_node n;
	char list[256] = "";

	t[1].nthreads = 2;
	assert_true(procfs_lookup(&s, "/", 4000, &n) && n.kind == PN_ROOT);
	assert_true(procfs_lookup(&s, "/50", 4000, &n) && n.kind == PN_PID && n.task == &t[1]);
	assert_true(procfs_lookup(&s, "/50/stat", 4000, &n) && n.kind == PN_FILE &&
		    n.file == PF_STAT);
	assert_true(procfs_lookup(&s, "/50/task/52/comm", 4000, &n) && n.task == &t[2] &&
		    n.leader == &t[1] && n.file == PF_COMM);
	assert_true(procfs_lookup(&s, "/50/fd/11", 4000, &n) && n.kind == PN_FDLINK &&
		    n.fd->inode == 777);
	assert_true(procfs_lookup(&s, "/net/tcp6", 4000, &n) && n.file == PF_NET_TCP6);
	assert_true(procfs_lookup(&s, "/meminfo", 4000, &n) && n.file == PF_MEMINFO);
	assert_true(procfs_lookup(&s, "/self/status", 4000, &n) && n.file == PF_SELF_STATUS);
	assert_true(procfs_lookup(&s, "/self/task", 4000, &n) && n.kind == PN_SELF_TASK);
	assert_true(procfs_lookup(&s, "/cpuinfo", 4000, &n) && n.file == PF_CPUINFO);
	/* the reader's own PID is /self unless a guest process has it */
	assert_true(procfs_lookup(&s, "/4000/stat", 4000, &n) && n.file == PF_SELF_STAT);
	assert_true(procfs_lookup(&s, "/9/stat", 9, &n) && n.file == PF_STAT && n.task == &t[3]);
	assert_false(procfs_lookup(&s, "/052", 4000, &n));
	assert_false(procfs_lookup(&s, "/51", 4000, &n));
	assert_false(procfs_lookup(&s, "/50/task/1", 4000, &n));
	assert_false(procfs_lookup(&s, "/50/fd/4", 4000, &n));
	assert_false(procfs_lookup(&s, "/50/stat/x", 4000, &n));
	assert_false(procfs_lookup(&s, "/50/environs", 4000, &n));
	assert_false(procfs_lookup(&s, "/99999999999", 4000, &n));
	assert_false(procfs_lookup(&s, "/1/2/3/4/5/6", 4000, &n));
	assert_true(procfs_lookup(&s, "/", 0, &n));
	procfs_list(&s, &n, collect, list);
	assert_string_equal(list, "version uptime stat loadavg meminfo cpuinfo net 1 9 50 ");
	list[0] = '\0';
	assert_true(procfs_lookup(&s, "/50/task", 0, &n));
	procfs_list(&s, &n, collect, list);
	assert_string_equal(list, "50 52 ");
	list[0] = '\0';
	assert_true(procfs_lookup(&s, "/50/fd", 0, &n));
	procfs_list(&s, &n, collect, list);
	assert_string_equal(list, "3 11 ");
	/* environ for every task; exe, cwd, root only where a path was read */
	assert_true(procfs_lookup(&s, "/50/environ", 0, &n) && n.file == PF_ENVIRON);
	assert_false(procfs_lookup(&s, "/50/exe", 0, &n));
	t[1].exe = (char *)"/usr/sbin/srv (deleted)";
	t[1].cwd = (char *)"/var/lib/a\nb";
	t[2].cwd = (char *)"/tmp";
	assert_true(procfs_lookup(&s, "/50/exe", 0, &n) && n.kind == PN_LINK &&
		    !strcmp(n.link, "/usr/sbin/srv (deleted)"));
	assert_true(procfs_lookup(&s, "/50/cwd", 0, &n) && !strcmp(n.link, "/var/lib/a\nb"));
	assert_false(procfs_lookup(&s, "/50/root", 0, &n));
	assert_false(procfs_lookup(&s, "/50/exe/x", 0, &n));
	assert_true(procfs_lookup(&s, "/50/task/52/cwd", 0, &n) && !strcmp(n.link, "/tmp"));
	assert_false(procfs_lookup(&s, "/50/task/52/exe", 0, &n));
	list[0] = '\0';
	assert_true(procfs_lookup(&s, "/50", 0, &n));
	procfs_list(&s, &n, collect, list);
	assert_string_equal(list, "task fd stat status comm cmdline environ exe cwd ");
	/* a thread's environ is its group's (one mm) */
	{
		struct procfs_buf b = { 0 };
		char env[] = "A=1\0B=\n\0";

		t[1].environ = env;
		t[1].environ_len = sizeof(env) - 1;
		assert_true(procfs_lookup(&s, "/50/task/52/environ", 0, &n));
		procfs_render(&s, &n, &b);
		assert_int_equal(b.n, sizeof(env) - 1);
		assert_memory_equal(b.p, env, sizeof(env) - 1);
		procfs_buf_free(&b);
		t[1].kthread = true;	/* none for a kernel thread, whatever was read */
		procfs_render(&s, &n, &b);
		assert_int_equal(b.n, 0);
		procfs_buf_free(&b);
		t[1].kthread = false;
	}
	/* a thread's entries carry its group's thread count */
	{
		struct procfs_buf b = { 0 };

		assert_true(procfs_lookup(&s, "/50/task/52/status", 0, &n));
		procfs_render(&s, &n, &b);
		assert_non_null(strstr(b.p, "\nTgid:\t50\n"));
		assert_non_null(strstr(b.p, "\nPid:\t52\n"));
		assert_non_null(strstr(b.p, "\nThreads:\t2\n"));
		procfs_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_fields),
		cmocka_unit_test(test_status_order),
		cmocka_unit_test(test_comm_cmdline),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_sys),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
