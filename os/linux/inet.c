// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decoding one socket: struct sock_common's addresses, ports and state
 * (enough for TIME_WAIT and request socks, which are only that much), plus
 * protocol, type and queue figures for full socks.
 */
#include "os/linux/linux.h"

#include <inttypes.h>
#include <string.h>

#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_LISTEN_ 10
#define TCP_TIME_WAIT_ 6
#define TCP_NEW_SYN_RECV_ 12

const char *linux_tcp_state_name(unsigned state)
{
	static const char *const names[] = {
		"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"SYN_RECV",	/* TCP_NEW_SYN_RECV: a request sock, shown as /proc does */
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

static int rd(struct linux_kernel *k, uint64_t addr, void *buf, size_t n, const char *what,
	      struct vmet_err *err)
{
	return linux_read(k, addr, buf, n, what, err);
}

static uint32_t seq_diff(uint32_t a, uint32_t b)
{
	/* Sequence numbers wrap; a negative difference (racing update) is 0. */
	int32_t d = (int32_t)(a - b);

	return d > 0 ? (uint32_t)d : 0;
}

static int read_queues(struct linux_kernel *k, uint64_t sk, struct linux_sock *s,
		       struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint32_t a, b, c, d;
	int rc;

	if (s->proto == LSOCK_TCP) {
		/* As /proc/net/tcp: a listener's receive queue is its accept
		 * backlog; otherwise unread bytes.  Send queue: unacked bytes. */
		if (!o->have_tcp_seq)
			return 0;
		rc = rd(k, sk + o->tcp_rcv_nxt, &a, 4, "tcp rcv_nxt", err);
		if (!rc)
			rc = rd(k, sk + o->tcp_copied_seq, &b, 4, "tcp copied_seq", err);
		if (!rc)
			rc = rd(k, sk + o->tcp_write_seq, &c, 4, "tcp write_seq", err);
		if (!rc)
			rc = rd(k, sk + o->tcp_snd_una, &d, 4, "tcp snd_una", err);
		if (!rc && s->state == TCP_LISTEN_)
			rc = rd(k, sk + o->sk_ack_backlog, &a, 4, "sk_ack_backlog", err);
		if (rc)
			return rc;
		s->rxq = s->state == TCP_LISTEN_ ? a : seq_diff(a, b);
		s->txq = seq_diff(c, d);
	} else {
		int32_t r, w;

		rc = rd(k, sk + o->sk_rmem_alloc, &r, 4, "sk_rmem_alloc", err);
		if (!rc)
			rc = rd(k, sk + o->sk_wmem_alloc, &w, 4, "sk_wmem_alloc", err);
		if (rc)
			return rc;
		/* sk_wmem_alloc starts at 1 for the socket's own reference. */
		s->rxq = r > 0 ? (uint32_t)r : 0;
		s->txq = w > 1 ? (uint32_t)(w - 1) : 0;
	}
	s->have_queues = true;
	return 0;
}

int linux_sock_read_inet(struct linux_kernel *k, uint64_t sk, bool full_sock,
			 struct linux_sock *s, struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint16_t family, num, dport, proto = 0, type = 0;
	uint8_t state;
	int rc;

	s->sk = sk;
	rc = rd(k, sk + o->sk_family, &family, 2, "sock family", err);
	if (!rc)
		rc = rd(k, sk + o->sk_state, &state, 1, "sock state", err);
	if (rc)
		return rc;
	s->family = family;
	s->state = state;
	if (family == AF_UNIX_) {
		s->proto = LSOCK_UNIX;
	} else if (family != AF_INET_ && family != AF_INET6_) {
		s->proto = LSOCK_OTHER;
		return 0;
	}
	if (o->have_netns) {
		/* Which network namespace: a container's sockets share the hash
		 * tables with the host's, and only this tells them apart. */
		uint64_t net;

		rc = linux_read_ptr(k, sk + o->sk_net, &net, false, "sock skc_net", err);
		if (!rc)
			rc = linux_read_u32(k, net + o->net_ns_inum, &s->netns, "net->ns.inum", err);
		if (rc)
			return rc;
	}
	/* TIME_WAIT and request socks are only a sock_common. */
	if (state == TCP_TIME_WAIT_ || state == TCP_NEW_SYN_RECV_)
		full_sock = false;
	if (full_sock) {
		rc = rd(k, sk + o->sk_protocol, &proto, o->sk_protocol_size, "sk_protocol", err);
		if (!rc)
			rc = rd(k, sk + o->sk_type, &type, o->sk_type_size, "sk_type", err);
		if (rc)
			return rc;
		s->type = type;
	} else {
		/* Only TCP leaves sock_common-only sockets in the hash tables. */
		proto = IPPROTO_TCP_;
		s->type = 1;
	}
	if (s->proto == LSOCK_UNIX)
		return 0;
	s->proto = proto == IPPROTO_TCP_ ? LSOCK_TCP : proto == IPPROTO_UDP_ ? LSOCK_UDP
								      : LSOCK_OTHER;
	if (s->proto == LSOCK_OTHER)
		return 0;
	rc = rd(k, sk + o->sk_num, &num, 2, "skc_num", err);
	if (!rc)
		rc = rd(k, sk + o->sk_dport, &dport, 2, "skc_dport", err);
	if (rc)
		return rc;
	s->lport = num;				/* host order */
	s->rport = (uint16_t)((dport >> 8) | (dport << 8));	/* network order */
	memset(s->laddr, 0, sizeof(s->laddr));
	memset(s->raddr, 0, sizeof(s->raddr));
	if (family == AF_INET_) {
		rc = rd(k, sk + o->sk_rcv_saddr, s->laddr, 4, "skc_rcv_saddr", err);
		if (!rc)
			rc = rd(k, sk + o->sk_daddr, s->raddr, 4, "skc_daddr", err);
	} else {
		rc = rd(k, sk + o->sk_v6_rcv_saddr, s->laddr, 16, "skc_v6_rcv_saddr", err);
		if (!rc)
			rc = rd(k, sk + o->sk_v6_daddr, s->raddr, 16, "skc_v6_daddr", err);
	}
	if (rc)
		return rc;
	if (full_sock)
		return read_queues(k, sk, s, err);
	return 0;
}
