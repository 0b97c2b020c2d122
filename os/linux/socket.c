// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sockets through the processes' open-file tables: a file whose f_op is
 * socket_file_ops holds a struct socket in private_data, whose sk is the
 * sock.  This is what gives a socket its owners; the hash-table walk
 * (sockhash.c) then adds the sockets nobody owns.
 */
#include "os/linux/linux.h"
#include "os/linux/sockset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FD_CHUNK 512
#define AF_UNIX_ 1

void linux_sock_list_free(struct linux_sock_list *l)
{
	if (!l)
		return;
	free(l->s);
	memset(l, 0, sizeof(*l));
}

/* --- the socket set: list + index by sock address ----------------------- */

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

int sockset_init(struct sockset *set, struct linux_sock_list *l, size_t max)
{
	memset(set, 0, sizeof(*set));
	set->l = l;
	set->max = max;
	set->bits = 10;
	set->idx = calloc((size_t)1 << set->bits, sizeof(*set->idx));
	return set->idx ? 0 : VMET_ENOMEM;
}

void sockset_free(struct sockset *set)
{
	free(set->idx);
	set->idx = NULL;
}

static int rehash(struct sockset *set)
{
	unsigned bits = set->bits + 1;
	size_t n = (size_t)1 << bits, mask = n - 1;
	size_t *idx = calloc(n, sizeof(*idx));

	if (!idx)
		return VMET_ENOMEM;
	for (size_t i = 0; i < set->l->n; i++) {
		size_t h = hash64(set->l->s[i].sk) & mask;

		while (idx[h])
			h = (h + 1) & mask;
		idx[h] = i + 1;
	}
	free(set->idx);
	set->idx = idx;
	set->bits = bits;
	return 0;
}

static struct linux_sock *sockset_slot(struct sockset *set, uint64_t sk, bool *created)
{
	size_t mask = ((size_t)1 << set->bits) - 1, h = hash64(sk) & mask;
	struct linux_sock_list *l = set->l;

	*created = false;
	while (set->idx[h]) {
		if (l->s[set->idx[h] - 1].sk == sk)
			return &l->s[set->idx[h] - 1];
		h = (h + 1) & mask;
	}
	if (l->n >= set->max)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct linux_sock *ns = realloc(l->s, cap * sizeof(*ns));

		if (!ns)
			return NULL;
		l->s = ns;
		l->cap = cap;
	}
	memset(&l->s[l->n], 0, sizeof(l->s[0]));
	l->s[l->n].sk = sk;
	set->idx[h] = ++l->n;
	*created = true;
	/* Keep the table at most half full so probes stay short. */
	if (l->n * 2 > mask && rehash(set))
		return NULL;
	return &l->s[l->n - 1];
}

struct linux_sock *sockset_get(struct sockset *set, uint64_t sk, bool *created,
			       struct linux_report *rep)
{
	struct linux_sock *s = sockset_slot(set, sk, created);

	if (!s) {
		/* Said once: every later socket would say it again. */
		if (!set->full)
			linux_report_add(rep, "too many sockets (more than %zu: --max-sockets) "
					 "or out of memory", set->max);
		set->full = true;
		set->l->incomplete = true;
	}
	return s;
}

/* --- unix socket names ------------------------------------------------- */

void linux_unix_path(struct linux_kernel *k, struct linux_sock *s, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	struct vmet_err err = { 0 };
	uint64_t addr;
	int32_t len;
	char buf[LINUX_UNIX_PATH + 2];
	size_t n;

	if (!o->have_unix)
		return;
	if (linux_read_ptr(k, s->sk + o->unix_addr, &addr, true, "unix_sock.addr", &err) ||
	    (addr && linux_read(k, addr + o->unix_address_len, &len, 4, "unix_address.len", &err))) {
		linux_report_err(rep, &err, "unix socket 0x%" PRIx64, s->sk);
		s->incomplete = true;
		return;
	}
	if (!addr || len <= 2)
		return;		/* unbound */
	/* len counts sun_family (2 bytes); sun_path is at most 108 bytes. */
	n = (size_t)len - 2;
	if (n > LINUX_UNIX_PATH - 2)
		n = LINUX_UNIX_PATH - 2;
	if (linux_read(k, addr + o->unix_address_name + 2, buf, n, "unix_address.name", &err)) {
		linux_report_err(rep, &err, "unix socket 0x%" PRIx64, s->sk);
		s->incomplete = true;
		return;
	}
	if (buf[0] == '\0') {
		/* Abstract name: shown with a leading '@', as ss and netstat do. */
		s->path[0] = '@';
		for (size_t i = 1; i < n; i++)
			s->path[i] = buf[i] ? buf[i] : '@';
		s->path[n] = '\0';
	} else {
		memcpy(s->path, buf, n);
		s->path[n] = '\0';
		s->path[strnlen(s->path, n)] = '\0';
	}
}

/* --- fd tables ----------------------------------------------------------- */

static void add_owner(struct linux_sock *s, const struct linux_task *t, int32_t fd)
{
	for (unsigned i = 0; i < s->nowners; i++)
		if (s->owner[i].pid == t->tgid)
			return;
	if (s->nowners == LINUX_SOCK_OWNERS) {
		s->owners_more++;
		return;
	}
	s->owner[s->nowners].pid = t->tgid;
	s->owner[s->nowners].fd = fd;
	memcpy(s->owner[s->nowners].comm, t->comm, sizeof(t->comm));
	s->nowners++;
}

static void one_socket_file(struct linux_kernel *k, const struct linux_task *t, int32_t fd,
			    uint64_t file, unsigned flags, struct sockset *set,
			    struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	struct vmet_err err = { 0 };
	uint64_t sock, sk, ino = 0;
	struct linux_sock *s, tmp = { 0 };
	bool created;
	int16_t stype = 0;
	uint32_t sstate = 0;

	if (linux_read_ptr(k, file + o->file_private_data, &sock, false, "file->private_data", &err) ||
	    linux_read_ptr(k, sock + o->socket_sk, &sk, true, "socket->sk", &err) ||
	    linux_read(k, sock + o->socket_type, &stype, 2, "socket->type", &err) ||
	    linux_read_u32(k, sock + o->socket_state, &sstate, "socket->state", &err) ||
	    linux_read_u64(k, sock + (uint64_t)o->socket_alloc_inode + o->inode_ino, &ino,
			   "socket inode i_ino", &err)) {
		linux_report_err(rep, &err, "PID %d fd %d", t->tgid, fd);
		set->l->incomplete = true;
		return;
	}
	if (!sk)
		return;		/* being released */
	s = sockset_get(set, sk, &created, rep);
	if (!s)
		return;
	if (created) {
		if (linux_sock_read_inet(k, sk, true, &tmp, &err)) {
			linux_report_err(rep, &err, "PID %d fd %d: sock 0x%" PRIx64, t->tgid, fd, sk);
			tmp.incomplete = true;
			set->l->incomplete = true;
		}
		tmp.sk = sk;
		*s = tmp;
		if (s->proto == LSOCK_UNIX) {
			s->type = (uint16_t)stype;
			if (flags & LINUX_SOCKS_UNIX)
				linux_unix_path(k, s, rep);
		}
	}
	s->in_fd = true;
	s->inode = ino;
	s->sock_state = sstate < 256 ? (uint8_t)sstate : 0;
	add_owner(s, t, fd);
}

static void task_fds(struct linux_kernel *k, const struct linux_task *t, unsigned flags,
		     struct sockset *set, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	uint64_t fdt, fdarr, sfops = linux_sym(k, o->sym_socket_file_ops);
	uint64_t chunk[FD_CHUNK];
	struct vmet_err err = { 0 };
	uint32_t max_fds;

	if (!t->files)
		return;		/* kernel thread or exiting */
	if (linux_read_ptr(k, t->files + o->files_fdt, &fdt, false, "files->fdt", &err) ||
	    linux_read_u32(k, fdt + o->fdt_max_fds, &max_fds, "fdtable.max_fds", &err) ||
	    linux_read_ptr(k, fdt + o->fdt_fd, &fdarr, false, "fdtable.fd", &err)) {
		linux_report_err(rep, &err, "PID %d: open files", t->tgid);
		set->l->incomplete = true;
		return;
	}
	if (max_fds > k->max_fds) {
		linux_report_add(rep, "PID %d: fdtable claims %u fds; only the first %zu read",
				 t->tgid, max_fds, k->max_fds);
		set->l->incomplete = true;
		max_fds = (uint32_t)k->max_fds;
	}
	for (uint32_t base = 0; base < max_fds; base += FD_CHUNK) {
		uint32_t n = max_fds - base < FD_CHUNK ? max_fds - base : FD_CHUNK;

		if (linux_read(k, fdarr + (uint64_t)base * 8, chunk, (size_t)n * 8, "fd array", &err)) {
			linux_report_err(rep, &err, "PID %d: fds %u-%u", t->tgid, base, base + n - 1);
			set->l->incomplete = true;
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint64_t fop;

			if (!chunk[i])
				continue;
			if (linux_read_u64(k, chunk[i] + o->file_f_op, &fop, "file->f_op", &err)) {
				linux_report_err(rep, &err, "PID %d fd %u", t->tgid, base + i);
				set->l->incomplete = true;
				continue;
			}
			if (fop == sfops)
				one_socket_file(k, t, (int32_t)(base + i), chunk[i], flags, set, rep);
		}
	}
}

int linux_sockets(struct linux_kernel *k, const struct linux_task_list *tasks,
		  unsigned flags, struct linux_sock_list *out,
		  struct linux_report *rep, struct vmet_err *err)
{
	struct sockset set;

	memset(out, 0, sizeof(*out));
	if (!k->off.have_socket_file_ops)
		return vmet_errf(err, VMET_ENOTFOUND, "profile lacks the socket structures "
				 "(file, fdtable, socket, sock_common) or socket_file_ops");
	if (sockset_init(&set, out, k->max_sockets))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	for (size_t i = 0; i < tasks->n; i++)
		if (tasks->t[i].leader)
			task_fds(k, &tasks->t[i], flags, &set, rep);
	if ((flags & LINUX_SOCKS_INET) && !(flags & LINUX_SOCKS_NO_HASH))
		linux_sock_hashes(k, &set, rep);
	if ((flags & LINUX_SOCKS_UNIX) && !(flags & LINUX_SOCKS_NO_HASH))
		linux_unix_hashes(k, &set, rep);
	sockset_free(&set);
	if (tasks->incomplete)
		out->incomplete = true;
	return 0;
}
