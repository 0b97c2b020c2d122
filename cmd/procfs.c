// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shadow /proc's files in the kernel's byte formats (see procfs.h).
 * Fields vmet does not read are written as the kernel writes an idle,
 * unremarkable value (mostly 0) so that field positions never move.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/procfs.h"

#define AF_INET6_GUEST 10
#define TCP_ESTABLISHED_ 1
#define TCP_LISTEN_ 10
#define SO_ACCEPTCON_ (1u << 16)	/* __SO_ACCEPTCON in unix flags */
#define SS_UNCONNECTED_ 1
#define SS_CONNECTING_ 2
#define SS_CONNECTED_ 3
#define SS_DISCONNECTING_ 4

void procfs_buf_free(struct procfs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

/* Room for len more bytes (and a NUL); false (and b->full) past the cap. */
static bool reserve(struct procfs_buf *b, size_t len)
{
	size_t want;
	char *np;

	if (b->full || len > PROCFS_MAX_FILE - b->n) {
		b->full = true;
		return false;
	}
	want = b->n + len + 1;
	if (want <= b->cap)
		return true;
	want = want < 4096 ? 4096 : want * 2;
	np = realloc(b->p, want);
	if (!np) {
		b->full = true;
		return false;
	}
	b->p = np;
	b->cap = want;
	return true;
}

void procfs_put(struct procfs_buf *b, const void *data, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
}

void procfs_printf(struct procfs_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len < sizeof(small)) {
		procfs_put(b, small, (size_t)len);
		return;
	}
	if (!reserve(b, (size_t)len))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
}

static unsigned long long ticks(uint64_t ns)
{
	return (unsigned long long)(ns / (1000000000u / PROCFS_USER_HZ));
}

/*
 * fs/proc/array.c do_task_stat(): comm is written raw between parentheses
 * (parsers look for the last ')'; comm is at most 15 bytes and has no NUL).
 * Priority 20 and nice 0 are a SCHED_OTHER task's defaults; tty_nr 0 with
 * tpgid -1 is "no terminal".  The wchan field is 0/1 since Linux 5.16.
 */
void procfs_task_stat(struct procfs_buf *b, const struct linux_task *t, unsigned nthreads)
{
	int exit_signal = t->leader ? 17 : -1;	/* SIGCHLD; threads have none */

	procfs_printf(b, "%d (%s) %c %d 0 0 0 -1 %u 0 0 0 0 0 0 0 0 20 0 %u 0 %llu 0 0 ",
		      t->pid, t->comm, t->state_char ? t->state_char : 'R', t->ppid, t->flags,
		      nthreads ? nthreads : 1, ticks(t->start_ns));
	/* rsslim (RLIM_INFINITY), code, stack, esp, eip, 4 signal masks */
	procfs_printf(b, "18446744073709551615 0 0 0 0 0 0 0 0 0 ");
	procfs_printf(b, "%d 0 0 %d 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		      t->state_char == 'R' ? 0 : 1, exit_signal);
}

static const char *state_text(char c)
{
	switch (c) {
	case 'R': return "R (running)";
	case 'S': return "S (sleeping)";
	case 'D': return "D (disk sleep)";
	case 'T': return "T (stopped)";
	case 't': return "t (tracing stop)";
	case 'X': return "X (dead)";
	case 'Z': return "Z (zombie)";
	case 'P': return "P (parked)";
	case 'I': return "I (idle)";
	default: return "R (running)";
	}
}

/*
 * proc_task_name(m, p, true): seq_escape_str(..., ESCAPE_SPACE |
 * ESCAPE_SPECIAL, "\n\\"): only newline and backslash are escaped, so a
 * comm cannot start a line of its own; procps undoes exactly these.
 */
static void escaped_name(struct procfs_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			procfs_put(b, "\\n", 2);
		else if (*s == '\\')
			procfs_put(b, "\\\\", 2);
		else
			procfs_put(b, s, 1);
	}
}

/* fs/proc/array.c proc_pid_status(), the lines in its order. */
void procfs_task_status(struct procfs_buf *b, const struct linux_task *t, unsigned nthreads)
{
	uint32_t uid = t->uid, euid = t->euid, gid = t->gid, egid = t->egid;

	procfs_put(b, "Name:\t", 6);
	escaped_name(b, t->comm);
	procfs_printf(b, "\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
		      state_text(t->state_char), t->tgid, t->pid, t->ppid);
	/* real, effective, saved, fs: vmet reads the first two; the others follow euid. */
	procfs_printf(b, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", uid, euid, euid, euid,
		      gid, egid, egid, egid);
	procfs_printf(b, "FDSize:\t0\nGroups:\t\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t0\nNSsid:\t0\n",
		      t->tgid, t->pid);
	procfs_printf(b, "Threads:\t%u\n", nthreads ? nthreads : 1);
	procfs_printf(b, "SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
		      "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
		      "SigCgt:\t0000000000000000\n");
}

void procfs_task_comm(struct procfs_buf *b, const struct linux_task *t)
{
	procfs_printf(b, "%s\n", t->comm);
}

/*
 * The argument area, each argument NUL-terminated, as the kernel gives it:
 * procfs_snap_read asks the task reader to keep the separators.  (A task
 * read without that has its arguments joined by spaces: one argument.)
 */
void procfs_task_cmdline(struct procfs_buf *b, const struct linux_task *t)
{
	if (t->kthread || !t->cmdline || !t->cmdline_len)
		return;
	procfs_put(b, t->cmdline, t->cmdline_len);
	procfs_put(b, "", 1);
}

void procfs_task_environ(struct procfs_buf *b, const struct linux_task *t)
{
	if (t->kthread || !t->environ || !t->environ_len)
		return;
	procfs_put(b, t->environ, t->environ_len);
}

/* An IPv4 address as the kernel prints a __be32 with %08X (little-endian host). */
static uint32_t be32_word(const uint8_t *a)
{
	return (uint32_t)a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 | (uint32_t)a[3] << 24;
}

static void v6_addr(struct procfs_buf *b, const uint8_t *a)
{
	procfs_printf(b, "%08X%08X%08X%08X", be32_word(a), be32_word(a + 4), be32_word(a + 8),
		      be32_word(a + 12));
}

static bool net_match(const struct linux_sock *s, enum procfs_net which)
{
	bool v6 = s->family == AF_INET6_GUEST;

	switch (which) {
	case PROCFS_TCP: return s->proto == LSOCK_TCP && !v6;
	case PROCFS_TCP6: return s->proto == LSOCK_TCP && v6;
	case PROCFS_UDP: return s->proto == LSOCK_UDP && !v6;
	case PROCFS_UDP6: return s->proto == LSOCK_UDP && v6;
	case PROCFS_UNIX: return s->proto == LSOCK_UNIX;
	}
	return false;
}

/*
 * An fd-only inet socket that was never bound or connected is in no hash
 * table, and the kernel's seq files (which walk the tables) do not list it.
 */
static bool net_listed(const struct linux_sock *s)
{
	return s->proto == LSOCK_UNIX || s->in_hash || s->lport || s->rport;
}

/* seq_pad(): lines of tcp and udp (v4) are padded with spaces to a width. */
static void pad_line(struct procfs_buf *b, size_t start, size_t width)
{
	while (!b->full && b->n - start < width)
		procfs_put(b, " ", 1);
	procfs_put(b, "\n", 1);
}

static void unix_line(struct procfs_buf *b, const struct linux_sock *s)
{
	unsigned st;

	if (s->in_fd)
		st = s->sock_state <= SS_DISCONNECTING_ ? s->sock_state : SS_UNCONNECTED_;
	else	/* af_unix.c: a sock without a struct socket */
		st = s->state == TCP_ESTABLISHED_ ? SS_CONNECTING_ : SS_DISCONNECTING_;
	if (s->in_fd && st == 0)
		st = s->state == TCP_ESTABLISHED_ ? SS_CONNECTED_ : SS_UNCONNECTED_;
	/* %pK without kptr_restrict rights: zeros, as an unprivileged reader sees. */
	procfs_printf(b, "0000000000000000: %08X %08X %08X %04X %02X %5" PRIu64, 2u, 0u,
		      s->state == TCP_LISTEN_ ? SO_ACCEPTCON_ : 0u, s->type, st, s->inode);
	if (s->path[0]) {
		procfs_put(b, " ", 1);
		/* The kernel writes the path raw; a newline would forge a line. */
		for (const char *c = s->path; *c; c++)
			procfs_put(b, (unsigned char)*c < 0x20 || *c == 0x7f ? "?" : c, 1);
	}
	procfs_put(b, "\n", 1);
}

void procfs_net(struct procfs_buf *b, enum procfs_net which, const struct linux_sock_list *l)
{
	static const char *const head[] = {
		[PROCFS_TCP] = "  sl  local_address rem_address   st tx_queue rx_queue tr "
			       "tm->when retrnsmt   uid  timeout inode",
		[PROCFS_TCP6] = "  sl  local_address                         "
				"remote_address                        "
				"st tx_queue rx_queue tr tm->when retrnsmt"
				"   uid  timeout inode",
		[PROCFS_UDP] = "   sl  local_address rem_address   st tx_queue rx_queue tr "
			       "tm->when retrnsmt   uid  timeout inode ref pointer drops",
		[PROCFS_UDP6] = "  sl  local_address                         "
				"remote_address                        "
				"st tx_queue rx_queue tr tm->when retrnsmt"
				"   uid  timeout inode ref pointer drops",
		[PROCFS_UNIX] = "Num       RefCount Protocol Flags    Type St Inode Path",
	};
	/* TMPSZ - 1 for tcp, 127 for udp; the v6 files and unix are not padded. */
	size_t width = which == PROCFS_TCP ? 149 : which == PROCFS_UDP ? 127 : 0;
	size_t start = b->n;
	int sl = 0;

	procfs_put(b, head[which], strlen(head[which]));
	pad_line(b, start, width);
	for (size_t i = 0; i < l->n && !b->full; i++) {
		const struct linux_sock *s = &l->s[i];

		if (!net_match(s, which) || !net_listed(s))
			continue;
		if (which == PROCFS_UNIX) {
			unix_line(b, s);
			continue;
		}
		start = b->n;
		/* sl: the kernel counts entries (tcp) or names the hash bucket (udp). */
		procfs_printf(b, which == PROCFS_UDP || which == PROCFS_UDP6 ? "%5d: " : "%4d: ", sl++);
		if (which == PROCFS_TCP || which == PROCFS_UDP)
			procfs_printf(b, "%08X:%04X %08X:%04X", be32_word(s->laddr), s->lport,
				      be32_word(s->raddr), s->rport);
		else {
			v6_addr(b, s->laddr);
			procfs_printf(b, ":%04X ", s->lport);
			v6_addr(b, s->raddr);
			procfs_printf(b, ":%04X", s->rport);
		}
		/* st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
		procfs_printf(b, " %02X %08X:%08X 00:00000000 00000000 %5u %8d %" PRIu64,
			      s->state, s->have_queues ? s->txq : 0, s->have_queues ? s->rxq : 0,
			      0u, 0, s->inode);
		if (which == PROCFS_TCP || which == PROCFS_TCP6)
			/* refcnt pointer rto ato quick/pingpong cwnd ssthresh */
			procfs_printf(b, " 1 0000000000000000 0 0 0 10 -1");
		else	/* ref pointer drops */
			procfs_printf(b, " 2 0000000000000000 0");
		pad_line(b, start, width);
	}
}

void procfs_version(struct procfs_buf *b, const struct procfs_sys *s)
{
	procfs_printf(b, "%.*s\n", (int)strnlen(s->banner, sizeof(s->banner)), s->banner);
}

void procfs_uptime(struct procfs_buf *b, const struct procfs_sys *s)
{
	uint64_t cs = s->uptime_ns / 10000000u;	/* centiseconds */

	procfs_printf(b, "%llu.%02llu 0.00\n", (unsigned long long)(cs / 100),
		      (unsigned long long)(cs % 100));
}

/* No load figures are read: 0.00, with the task counts vmet does know. */
void procfs_loadavg(struct procfs_buf *b, const struct procfs_sys *s)
{
	procfs_printf(b, "0.00 0.00 0.00 %u/%u %d\n", s->nrunning, s->ntasks, s->last_pid);
}

/* fs/proc/stat.c: one CPU line of zero times, then the counters. */
void procfs_stat(struct procfs_buf *b, const struct procfs_sys *s)
{
	procfs_printf(b, "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nintr 0\nctxt 0\n"
		      "btime %llu\nprocesses %u\nprocs_running %u\nprocs_blocked 0\n"
		      "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
		      (unsigned long long)s->boot_time, s->ntasks, s->nrunning);
}

/* Only the size of guest memory is known: nothing is claimed free. */
void procfs_meminfo(struct procfs_buf *b, const struct procfs_sys *s)
{
	procfs_printf(b, "MemTotal:       %8llu kB\nMemFree:               0 kB\n"
		      "MemAvailable:          0 kB\nBuffers:               0 kB\n"
		      "Cached:                0 kB\nSwapTotal:             0 kB\n"
		      "SwapFree:              0 kB\n",
		      (unsigned long long)(s->mem_total >> 10));
}

/*
 * The guest's CPUs are not read: one CPU, as /stat says, with the lines
 * procps reads to map CPUs onto cores (it stops without the file).
 */
void procfs_cpuinfo(struct procfs_buf *b, const struct procfs_sys *s)
{
	procfs_printf(b, "processor\t: 0\nphysical id\t: 0\ncore id\t\t: 0\n\n");
}
