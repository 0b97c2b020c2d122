// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's own socket tables: tcp_hashinfo (established, time-wait and
 * request socks in ehash; listeners in lhash2) and udp_table.  This is what
 * /proc/net/{tcp,udp}[6] list, and it finds sockets that no process holds
 * open (orphans, time-wait, or a socket whose owner was hidden).  Every
 * chain is bounded and cycle-checked; a bad chain is reported and the walk
 * goes on with the next bucket.
 */
#include "os/linux/sockset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_CHUNK 512

/* What /proc/net/unix shows of a socket no fd led to: its struct socket's
 * state and inode when it still has one, its name. */
static void unix_extra(struct linux_kernel *k, struct linux_sock *s, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	struct vmet_err err = { 0 };
	uint64_t sock;
	uint32_t st;

	linux_unix_path(k, s, rep);
	if (linux_read_ptr(k, s->sk + o->sk_socket, &sock, true, "sock->sk_socket", &err)) {
		linux_report_err(rep, &err, "unix socket 0x%" PRIx64, s->sk);
		s->incomplete = true;
		return;
	}
	if (!sock) {
		/* Orphaned: /proc derives the state from the sock's. */
		s->sock_state = s->state == 1 ? 3 : 1;
		return;
	}
	if (linux_read_u32(k, sock + o->socket_state, &st, "socket->state", &err) ||
	    linux_read_u64(k, sock + (uint64_t)o->socket_alloc_inode + o->inode_ino, &s->inode,
			   "socket inode i_ino", &err)) {
		linux_report_err(rep, &err, "unix socket 0x%" PRIx64, s->sk);
		s->incomplete = true;
		return;
	}
	s->sock_state = st < 256 ? (uint8_t)st : 0;
}

static void add_sock(struct linux_kernel *k, struct sockset *set, uint64_t sk, bool full,
		     struct linux_report *rep)
{
	struct vmet_err err = { 0 };
	struct linux_sock tmp = { 0 }, *s;
	bool created;

	s = sockset_get(set, sk, &created, rep);
	if (!s)
		return;
	if (created) {
		if (linux_sock_read_inet(k, sk, full, &tmp, &err)) {
			linux_report_err(rep, &err, "hashed sock 0x%" PRIx64, sk);
			tmp.incomplete = true;
			set->l->incomplete = true;
		}
		tmp.sk = sk;
		*s = tmp;
		if (s->proto == LSOCK_UNIX && !s->incomplete)
			unix_extra(k, s, rep);
	}
	s->in_hash = true;
}

/*
 * Walk one chain from its first node.  nulls: an hlist_nulls chain ends at
 * an odd "nulls" value; else an hlist ends at NULL.  Nodes sit at node_off
 * inside the sock.
 */
static void walk_chain(struct linux_kernel *k, struct sockset *set, uint64_t first, bool nulls,
		       uint64_t node_off, const char *table, uint64_t bucket,
		       struct linux_report *rep)
{
	struct linux_chain_guard g;
	struct vmet_err err = { 0 };
	uint64_t node = first;

	linux_chain_init(&g, LINUX_MAX_CHAIN);
	while (nulls ? !(node & 1) : node != 0) {
		if (!linux_kaddr_ok(k, node)) {
			linux_report_add(rep, "%s bucket %" PRIu64 ": chain pointer 0x%" PRIx64
					 " is not a kernel address", table, bucket, node);
			set->l->incomplete = true;
			return;
		}
		if (linux_chain_step(&g, node, &err)) {
			linux_report_err(rep, &err, "%s bucket %" PRIu64, table, bucket);
			set->l->incomplete = true;
			return;
		}
		add_sock(k, set, node - node_off, true, rep);
		if (linux_read_u64(k, node, &node, "hash chain next", &err)) {
			linux_report_err(rep, &err, "%s bucket %" PRIu64, table, bucket);
			set->l->incomplete = true;
			return;
		}
	}
}

/* Every bucket of a table: `count` buckets of `stride` bytes, head at head_off. */
static void walk_table(struct linux_kernel *k, struct sockset *set, uint64_t base, uint64_t count,
		       uint64_t stride, uint64_t head_off, bool nulls, uint64_t node_off,
		       const char *table, struct linux_report *rep)
{
	struct vmet_err err = { 0 };
	uint8_t *buf;

	if (count > LINUX_MAX_HASH_BUCKETS || !stride || stride > 4096 || head_off + 8 > stride) {
		linux_report_add(rep, "%s: %" PRIu64 " buckets of %" PRIu64 " bytes is not believable",
				 table, count, stride);
		set->l->incomplete = true;
		return;
	}
	buf = malloc(BUCKET_CHUNK * stride);
	if (!buf) {
		set->l->incomplete = true;
		return;
	}
	for (uint64_t b = 0; b < count; b += BUCKET_CHUNK) {
		uint64_t n = count - b < BUCKET_CHUNK ? count - b : BUCKET_CHUNK;

		if (linux_read(k, base + b * stride, buf, n * stride, table, &err)) {
			linux_report_err(rep, &err, "%s buckets %" PRIu64 "-%" PRIu64, table, b, b + n - 1);
			set->l->incomplete = true;
			continue;
		}
		for (uint64_t i = 0; i < n; i++) {
			uint64_t first;

			memcpy(&first, buf + i * stride + head_off, 8);
			walk_chain(k, set, first, nulls, node_off, table, b + i, rep);
		}
	}
	free(buf);
}

static void tcp_tables(struct linux_kernel *k, struct sockset *set, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	uint64_t hi = linux_sym(k, o->sym_tcp_hashinfo), ehash, lhash2;
	uint32_t emask, lmask;
	struct vmet_err err = { 0 };

	if (linux_read_ptr(k, hi + o->hi_ehash, &ehash, false, "tcp_hashinfo.ehash", &err) ||
	    linux_read_u32(k, hi + o->hi_ehash_mask, &emask, "tcp_hashinfo.ehash_mask", &err) ||
	    linux_read_ptr(k, hi + o->hi_lhash2, &lhash2, false, "tcp_hashinfo.lhash2", &err) ||
	    linux_read_u32(k, hi + o->hi_lhash2_mask, &lmask, "tcp_hashinfo.lhash2_mask", &err)) {
		linux_report_err(rep, &err, "TCP hash tables");
		set->l->incomplete = true;
		return;
	}
	walk_table(k, set, lhash2, (uint64_t)lmask + 1, o->ilb_size, o->ilb_head, o->ilb_nulls,
		   o->ilb_nulls ? o->sk_nulls_node : o->icsk_listen_node, "tcp listen hash", rep);
	walk_table(k, set, ehash, (uint64_t)emask + 1, 8, 0, true, o->sk_nulls_node,
		   "tcp established hash", rep);
}

static void udp_tables(struct linux_kernel *k, struct sockset *set, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	uint64_t ut = linux_sym(k, o->sym_udp_table), hash;
	uint32_t mask;
	struct vmet_err err = { 0 };

	if (linux_read_ptr(k, ut + o->udpt_hash, &hash, false, "udp_table.hash", &err) ||
	    linux_read_u32(k, ut + o->udpt_mask, &mask, "udp_table.mask", &err)) {
		linux_report_err(rep, &err, "UDP hash table");
		set->l->incomplete = true;
		return;
	}
	walk_table(k, set, hash, (uint64_t)mask + 1, o->udp_hslot_size, 0, false, o->sk_node,
		   "udp hash", rep);
}

void linux_sock_hashes(struct linux_kernel *k, struct sockset *set, struct linux_report *rep)
{
	if (k->off.have_tcp_hash)
		tcp_tables(k, set, rep);
	else
		linux_report_add(rep, "profile lacks tcp_hashinfo: unowned TCP sockets not listed");
	if (k->off.have_udp_hash)
		udp_tables(k, set, rep);
	else
		linux_report_add(rep, "profile lacks udp_table: unowned UDP sockets not listed");
}

/*
 * Unix sockets hash per network namespace (net->unx.table, 5.19 on):
 * every namespace on net_namespace_list, each with its bucket array.
 */
void linux_unix_hashes(struct linux_kernel *k, struct sockset *set, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	struct linux_list_walk w;
	struct vmet_err err = { 0 };
	uint64_t node;
	int rc;

	if (!o->have_unix_hash) {
		linux_report_add(rep, "profile lacks the per-namespace unix hash: unowned unix "
				 "sockets not listed");
		set->l->incomplete = true;
		return;
	}
	linux_list_init(&w, linux_sym(k, o->sym_net_namespace_list), LINUX_MAX_NETNS, true);
	while ((rc = linux_list_next(k, &w, &node, &err)) == 1) {
		uint64_t net = node - o->net_list, buckets;

		if (linux_read_ptr(k, net + o->net_unix_buckets, &buckets, false,
				   "net->unx.table.buckets", &err)) {
			linux_report_err(rep, &err, "network namespace 0x%" PRIx64, net);
			set->l->incomplete = true;
			continue;
		}
		walk_table(k, set, buckets, LINUX_UNIX_HASH_SIZE, 8, 0, false, o->sk_node,
			   "unix hash", rep);
	}
	if (rc < 0) {
		linux_report_err(rep, &err, "network namespace list");
		set->l->incomplete = true;
	}
}
