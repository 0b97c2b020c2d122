// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet netstat: the guest's TCP and UDP sockets (and optionally UNIX ones)
 * with their owners, read from outside, like `netstat -tunap`.  Sockets that
 * sit in the kernel's hash tables but in no process's fd table are shown
 * with PID '-': for a responder those are the interesting ones.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/json.h"
#include "cmd/linux_open.h"

enum { OPT_NO_HASH = OPT_CMD_BASE };

#define AF_INET6_GUEST 10
#define TCP_LISTEN_ 10
#define TCP_ESTABLISHED_ 1
#define SS_UNCONNECTED_ 1

struct ns_opts {
	bool tcp, udp, unx, listening_only, no_hash;
};

static void help(void)
{
	printf("Usage: vmet netstat [OPTIONS] SOURCE\n"
	       "\n"
	       "List the TCP and UDP sockets (IPv4 and IPv6) of the Linux guest in SOURCE,\n"
	       "with queues, state and owning PID/program, like netstat -tunap.  Owners\n"
	       "come from the processes' open-file tables; the kernel's TCP and UDP hash\n"
	       "tables add the sockets that no process holds (shown with PID '-').\n"
	       "\n"
	       "Options:\n"
	       "  -t, --tcp          TCP sockets\n"
	       "  -u, --udp          UDP sockets (with -t: both; neither: both)\n"
	       "  -x, --unix         UNIX sockets (with -t/-u: as well)\n"
	       "  -l, --listening    only listening sockets\n"
	       "      --no-hash      only what the fd tables show (skip the hash tables)\n"
	       "%s%s"
	       "\n"
	       "Exit status: 0 complete, 1 something could not be read (listed on stderr;\n"
	       "the rest is still printed), 2 usage error or no kernel found.\n",
	       cmd_linux_help, cmd_common_help);
}

static const char *proto_name(const struct linux_sock *s)
{
	bool v6 = s->family == AF_INET6_GUEST;

	if (s->proto == LSOCK_TCP)
		return v6 ? "tcp6" : "tcp";
	if (s->proto == LSOCK_UDP)
		return v6 ? "udp6" : "udp";
	return "unix";
}

static void addr_text(const struct linux_sock *s, const uint8_t *a, char *buf, size_t n)
{
	if (!inet_ntop(s->family == AF_INET6_GUEST ? AF_INET6 : AF_INET, a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
}

/* netstat shows an unset remote port as '*'. */
static void endpoint(const struct linux_sock *s, const uint8_t *a, uint16_t port, char *buf,
		     size_t n)
{
	char ab[INET6_ADDRSTRLEN];

	addr_text(s, a, ab, sizeof(ab));
	if (port)
		snprintf(buf, n, "%s:%u", ab, port);
	else
		snprintf(buf, n, "%s:*", ab);
}

/* UDP has no states worth naming, except a connected socket. */
static const char *state_text(const struct linux_sock *s)
{
	if (s->proto == LSOCK_UDP)
		return s->state == TCP_ESTABLISHED_ ? "ESTABLISHED" : "";
	return linux_tcp_state_name(s->state);
}

static bool shown(const struct ns_opts *no, const struct linux_sock *s)
{
	if (s->proto == LSOCK_TCP && !no->tcp)
		return false;
	if (s->proto == LSOCK_UDP && !no->udp)
		return false;
	if (s->proto == LSOCK_UNIX && !no->unx)
		return false;
	if (s->proto == LSOCK_OTHER)
		return false;
	/* An fd-only inet socket that was never bound or connected is not in
	 * any table and netstat would not list it either. */
	if (s->proto != LSOCK_UNIX && !s->in_hash && !s->lport && !s->rport)
		return false;
	if (no->listening_only)
		return s->proto == LSOCK_TCP ? s->state == TCP_LISTEN_ :
		       s->proto == LSOCK_UDP ? s->state != TCP_ESTABLISHED_ :
		       s->state == TCP_LISTEN_;
	return true;
}

static void owner_text(const struct linux_sock *s, char *buf, size_t n)
{
	size_t len;

	if (!s->nowners) {
		snprintf(buf, n, "-");
		return;
	}
	len = (size_t)snprintf(buf, n, "%d/", s->owner[0].pid);
	/* Keep a hostile comm from driving the terminal. */
	for (const char *c = s->owner[0].comm; *c && len + 1 < n; c++)
		buf[len++] = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
	buf[len < n ? len : n - 1] = '\0';
	if (s->nowners > 1 && len + 8 < n)
		snprintf(buf + len, n - len, " (+%u)", s->nowners - 1 + s->owners_more);
}

static int cmp_sock(const void *a, const void *b)
{
	const struct linux_sock *x = a, *y = b;

	if (x->proto != y->proto)
		return (int)x->proto - (int)y->proto;
	if (x->family != y->family)
		return (int)x->family - (int)y->family;
	if (x->lport != y->lport)
		return (int)x->lport - (int)y->lport;
	return (x->sk > y->sk) - (x->sk < y->sk);
}

static void print_inet(const struct ns_opts *no, const struct linux_sock_list *l)
{
	printf("Proto Recv-Q Send-Q %-23s %-23s %-11s PID/Program name\n", "Local Address",
	       "Foreign Address", "State");
	for (size_t i = 0; i < l->n; i++) {
		const struct linux_sock *s = &l->s[i];
		char la[64], ra[64], own[64], rq[16], sq[16];

		if (s->proto == LSOCK_UNIX || !shown(no, s))
			continue;
		endpoint(s, s->laddr, s->lport, la, sizeof(la));
		endpoint(s, s->raddr, s->rport, ra, sizeof(ra));
		owner_text(s, own, sizeof(own));
		snprintf(rq, sizeof(rq), s->have_queues ? "%u" : "-", s->rxq);
		snprintf(sq, sizeof(sq), s->have_queues ? "%u" : "-", s->txq);
		printf("%-5s %6s %6s %-23s %-23s %-11s %s\n", proto_name(s), rq, sq, la, ra,
		       state_text(s), own);
	}
}

static const char *unix_type(uint16_t t)
{
	switch (t) {
	case 1: return "STREAM";
	case 2: return "DGRAM";
	case 5: return "SEQPACKET";
	default: return "?";
	}
}

/* A listener by its sock state, the rest by struct socket's SS_* state. */
static const char *unix_state(const struct linux_sock *s, bool json)
{
	static const char *const ss[] = { "FREE", "UNCONNECTED", "CONNECTING", "CONNECTED",
					  "DISCONNECTING" };

	if (s->state == TCP_LISTEN_)
		return json ? "LISTEN" : "LISTENING";
	if (s->sock_state < sizeof(ss) / sizeof(ss[0]))
		return json || s->sock_state > SS_UNCONNECTED_ ? ss[s->sock_state] : "";
	return "?";
}

static void print_unix(const struct ns_opts *no, const struct linux_sock_list *l)
{
	printf("\nProto %-10s %-13s %10s %-20s Path\n", "Type", "State", "I-Node",
	       "PID/Program name");
	for (size_t i = 0; i < l->n; i++) {
		const struct linux_sock *s = &l->s[i];
		char own[64];

		if (s->proto != LSOCK_UNIX || !shown(no, s))
			continue;
		owner_text(s, own, sizeof(own));
		printf("unix  %-10s %-13s %10" PRIu64 " %-20s ", unix_type(s->type), unix_state(s, false),
		       s->inode, own);
		for (const char *c = s->path; *c; c++)
			putchar((unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c);
		putchar('\n');
	}
}

static void json_sock(struct json *j, const struct linux_sock *s)
{
	char a[INET6_ADDRSTRLEN];

	json_obj_begin(j);
	json_kstr(j, "proto", proto_name(s));
	json_ku64(j, "family", s->family);
	if (s->proto == LSOCK_UNIX) {
		json_kstr(j, "type", unix_type(s->type));
		json_kstr(j, "state", unix_state(s, true));
		json_kstr(j, "path", s->path);
	} else {
		addr_text(s, s->laddr, a, sizeof(a));
		json_kstr(j, "local_address", a);
		json_ku64(j, "local_port", s->lport);
		addr_text(s, s->raddr, a, sizeof(a));
		json_kstr(j, "remote_address", a);
		json_ku64(j, "remote_port", s->rport);
		json_kstr(j, "state", state_text(s));
		if (s->have_queues) {
			json_ku64(j, "rx_queue", s->rxq);
			json_ku64(j, "tx_queue", s->txq);
		}
	}
	if (s->inode)
		json_ku64(j, "inode", s->inode);
	if (s->netns)
		json_ku64(j, "netns", s->netns);
	json_key(j, "owners");
	json_arr_begin(j);
	for (unsigned i = 0; i < s->nowners; i++) {
		json_obj_begin(j);
		json_ki64(j, "pid", s->owner[i].pid);
		json_kstr(j, "comm", s->owner[i].comm);
		json_ki64(j, "fd", s->owner[i].fd);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (s->owners_more)
		json_ku64(j, "more_owners", s->owners_more);
	json_kbool(j, "in_hash", s->in_hash);
	json_kbool(j, "in_fd_table", s->in_fd);
	json_khex(j, "sock", s->sk);
	json_kbool(j, "complete", !s->incomplete);
	json_obj_end(j);
}

int cmd_netstat(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_COMMON_LONGOPTS,
		CMD_LIMIT_LONGOPTS,
		{ "tcp", no_argument, 0, 't' },
		{ "udp", no_argument, 0, 'u' },
		{ "unix", no_argument, 0, 'x' },
		{ "listening", no_argument, 0, 'l' },
		{ "no-hash", no_argument, 0, OPT_NO_HASH },
		{ 0, 0, 0, 0 }
	};
	struct ns_opts no = { 0 };
	struct cmd_common c;
	struct linux_session s;
	struct linux_task_list tl;
	struct linux_sock_list sl;
	struct linux_report *rep;
	struct vmet_err err = { 0 };
	unsigned flags = LINUX_SOCKS_INET;
	int opt, status = EXIT_OK;

	cmd_common_init(&c, "vmet netstat");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "tuxlnap", longopts, NULL)) != -1) {
		int r;

		switch (opt) {
		case OPT_HELP:
			help();
			return EXIT_OK;
		case 't': no.tcp = true; continue;
		case 'u': no.udp = true; continue;
		case 'x': no.unx = true; continue;
		case 'l': no.listening_only = true; continue;
		/* Accepted for muscle memory: vmet is always numeric, all, with PIDs. */
		case 'n': case 'a': case 'p': continue;
		case OPT_NO_HASH: no.no_hash = true; continue;
		}
		r = cmd_common_option(&c, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fprintf(stderr, "Try 'vmet netstat --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (!no.tcp && !no.udp && !no.unx)
		no.tcp = no.udp = true;
	if (linux_session_start(&c, argc, argv, optind, &s))
		return EXIT_USAGE;
	rep = s.rep;
	if (no.unx)
		flags |= LINUX_SOCKS_UNIX;
	if (no.no_hash)
		flags |= LINUX_SOCKS_NO_HASH;
	if (linux_tasks(s.k, 0, &tl, rep, &err) ||
	    linux_sockets(s.k, &tl, flags, &sl, rep, &err)) {
		cmd_error(&c, "%s", err.msg);
		linux_report_print(&c, rep);
		linux_task_list_free(&tl);
		linux_session_close(&s);
		return EXIT_INCOMPLETE;
	}
	if (sl.n)	/* qsort wants a valid pointer even for 0 items */
		qsort(sl.s, sl.n, sizeof(sl.s[0]), cmp_sock);
	if (sl.incomplete || rep->n)
		status = EXIT_INCOMPLETE;
	if (c.json) {
		struct json j;

		linux_json_head(&j, &c, &s);
		json_key(&j, "sockets");
		json_arr_begin(&j);
		for (size_t i = 0; i < sl.n; i++)
			if (shown(&no, &sl.s[i]))
				json_sock(&j, &sl.s[i]);
		json_arr_end(&j);
		linux_json_tail(&j, status == EXIT_OK, rep);
	} else {
		if (no.tcp || no.udp)
			print_inet(&no, &sl);
		if (no.unx)
			print_unix(&no, &sl);
	}
	if (!c.quiet)
		linux_report_print(&c, rep);
	if (status != EXIT_OK && !c.quiet)
		cmd_error(&c, "listing incomplete: %u problem(s)", rep->n);
	linux_sock_list_free(&sl);
	linux_task_list_free(&tl);
	linux_session_close(&s);
	return status;
}
