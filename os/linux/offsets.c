// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every structure offset and symbol the Linux view uses, looked up once from
 * the profile into plain fields, so the listing loops never search by name.
 * The required set fails loudly, naming the first struct.member missing; the
 * optional groups (sockets, hash tables, unix names) switch their feature off.
 */
#include "os/linux/linux.h"

#include <string.h>

struct need {
	const char *s, *m;
	uint64_t *out;
};

/* Look up a table of members; the first missing one is named in err. */
static int lookup(const struct profile *p, const struct need *n, size_t count,
		  struct vmet_err *err)
{
	for (size_t i = 0; i < count; i++) {
		int64_t off = profile_offset(p, n[i].s, n[i].m);

		if (off < 0)
			return vmet_errf(err, VMET_ENOTFOUND, "profile has no %s.%s", n[i].s, n[i].m);
		*n[i].out = (uint64_t)off;
	}
	return 0;
}

static bool have_all(const struct profile *p, const struct need *n, size_t count)
{
	return lookup(p, n, count, NULL) == 0;
}

static int symbol(const struct profile *p, const char *name, uint64_t *out, bool required,
		  struct vmet_err *err)
{
	bool found = false;

	*out = profile_symbol(p, name, &found);
	if (!found && required)
		return vmet_errf(err, VMET_ENOTFOUND, "profile has no symbol %s", name);
	return found ? 0 : 1;
}

/* Size of a member, 0 when the profile does not know it. */
static unsigned msize(const struct profile *p, const char *s, const char *m)
{
	const struct profile_member *pm = profile_member(p, s, m);

	return pm ? (unsigned)pm->size : 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int resolve_tasks(const struct profile *p, struct linux_offsets *o, struct vmet_err *err)
{
	const struct need task[] = {
		{ "task_struct", "tasks", &o->task_tasks },
		{ "task_struct", "pid", &o->task_pid },
		{ "task_struct", "tgid", &o->task_tgid },
		{ "task_struct", "comm", &o->task_comm },
		{ "task_struct", "real_parent", &o->task_real_parent },
		{ "task_struct", "real_cred", &o->task_real_cred },
		{ "task_struct", "mm", &o->task_mm },
		{ "task_struct", "flags", &o->task_flags },
		{ "task_struct", "exit_state", &o->task_exit_state },
		{ "task_struct", "signal", &o->task_signal },
		{ "task_struct", "thread_node", &o->task_thread_node },
		{ "task_struct", "files", &o->task_files },
		{ "signal_struct", "thread_head", &o->signal_thread_head },
		{ "cred", "uid", &o->cred_uid },
		{ "cred", "gid", &o->cred_gid },
		{ "cred", "euid", &o->cred_euid },
		{ "cred", "egid", &o->cred_egid },
		{ "mm_struct", "pgd", &o->mm_pgd },
		{ "mm_struct", "arg_start", &o->mm_arg_start },
		{ "mm_struct", "arg_end", &o->mm_arg_end },
	};
	int64_t off;
	int rc = lookup(p, task, N(task), err);

	if (rc)
		return rc;
	o->task_size = profile_sizeof(p, "task_struct");
	/* 5.14 renamed the long `state` to an unsigned int `__state`. */
	if ((off = profile_offset(p, "task_struct", "__state")) >= 0) {
		o->task_state = (uint64_t)off;
		o->task_state_size = 4;
	} else if ((off = profile_offset(p, "task_struct", "state")) >= 0) {
		o->task_state = (uint64_t)off;
		o->task_state_size = 8;
	} else {
		return vmet_errf(err, VMET_ENOTFOUND, "profile has neither task_struct.__state nor .state");
	}
	/* start_boottime counts suspend too, as ps's STIME does (older: real_start_time). */
	if ((off = profile_offset(p, "task_struct", "start_boottime")) >= 0 ||
	    (off = profile_offset(p, "task_struct", "real_start_time")) >= 0 ||
	    (off = profile_offset(p, "task_struct", "start_time")) >= 0)
		o->task_start = (uint64_t)off;
	else
		return vmet_errf(err, VMET_ENOTFOUND, "profile has no task_struct.start_boottime");
	return 0;
}

static void resolve_sockets(const struct profile *p, struct linux_offsets *o)
{
	uint64_t skc = 0, sock_in_alloc = 0, inode_in_alloc = 0;
	const struct need files[] = {
		{ "files_struct", "fdt", &o->files_fdt },
		{ "fdtable", "max_fds", &o->fdt_max_fds },
		{ "fdtable", "fd", &o->fdt_fd },
		{ "file", "f_op", &o->file_f_op },
		{ "file", "private_data", &o->file_private_data },
		{ "socket", "state", &o->socket_state },
		{ "socket", "type", &o->socket_type },
		{ "socket", "sk", &o->socket_sk },
		{ "socket_alloc", "socket", &sock_in_alloc },
		{ "socket_alloc", "vfs_inode", &inode_in_alloc },
		{ "inode", "i_ino", &o->inode_ino },
		{ "sock", "__sk_common", &skc },
		{ "sock_common", "skc_daddr", &o->sk_daddr },
		{ "sock_common", "skc_rcv_saddr", &o->sk_rcv_saddr },
		{ "sock_common", "skc_dport", &o->sk_dport },
		{ "sock_common", "skc_num", &o->sk_num },
		{ "sock_common", "skc_family", &o->sk_family },
		{ "sock_common", "skc_state", &o->sk_state },
		{ "sock_common", "skc_v6_daddr", &o->sk_v6_daddr },
		{ "sock_common", "skc_v6_rcv_saddr", &o->sk_v6_rcv_saddr },
		{ "sock_common", "skc_node", &o->sk_node },
		{ "sock_common", "skc_nulls_node", &o->sk_nulls_node },
		{ "sock", "sk_protocol", &o->sk_protocol },
		{ "sock", "sk_type", &o->sk_type },
		{ "sock", "sk_ack_backlog", &o->sk_ack_backlog },
		{ "sock", "sk_max_ack_backlog", &o->sk_max_ack_backlog },
		{ "sock", "sk_backlog", &o->sk_rmem_alloc },
		{ "sock", "sk_wmem_alloc", &o->sk_wmem_alloc },
	};
	const struct need tcp[] = {
		{ "tcp_sock", "rcv_nxt", &o->tcp_rcv_nxt },
		{ "tcp_sock", "copied_seq", &o->tcp_copied_seq },
		{ "tcp_sock", "write_seq", &o->tcp_write_seq },
		{ "tcp_sock", "snd_una", &o->tcp_snd_una },
	};
	const struct need hash[] = {
		{ "inet_hashinfo", "ehash", &o->hi_ehash },
		{ "inet_hashinfo", "ehash_mask", &o->hi_ehash_mask },
		{ "inet_hashinfo", "lhash2", &o->hi_lhash2 },
		{ "inet_hashinfo", "lhash2_mask", &o->hi_lhash2_mask },
	};
	const struct need udp[] = {
		{ "udp_table", "hash", &o->udpt_hash },
		{ "udp_table", "mask", &o->udpt_mask },
	};
	const struct need unx[] = {
		{ "unix_sock", "addr", &o->unix_addr },
		{ "unix_address", "len", &o->unix_address_len },
		{ "unix_address", "name", &o->unix_address_name },
	};
	int64_t off, lnode;

	if (!have_all(p, files, N(files)) ||
	    symbol(p, "socket_file_ops", &o->sym_socket_file_ops, false, NULL))
		return;
	o->have_socket_file_ops = true;
	/* sock_common sits inside sock as __sk_common: make the offsets absolute. */
	o->sk_daddr += skc;
	o->sk_rcv_saddr += skc;
	o->sk_dport += skc;
	o->sk_num += skc;
	o->sk_family += skc;
	o->sk_state += skc;
	o->sk_v6_daddr += skc;
	o->sk_v6_rcv_saddr += skc;
	o->sk_node += skc;
	o->sk_nulls_node += skc;
	/* rmem_alloc is the first field of the sk_backlog struct. */
	o->socket_alloc_inode = (int64_t)inode_in_alloc - (int64_t)sock_in_alloc;
	o->sk_protocol_size = msize(p, "sock", "sk_protocol");
	o->sk_type_size = msize(p, "sock", "sk_type");
	if (o->sk_protocol_size != 1 && o->sk_protocol_size != 2)
		o->sk_protocol_size = 2;
	if (o->sk_type_size != 1 && o->sk_type_size != 2)
		o->sk_type_size = 2;
	o->have_tcp_seq = have_all(p, tcp, N(tcp));
	{
		uint64_t netns_off = 0, inum = 0;
		const struct need netns[] = {
			{ "sock_common", "skc_net", &o->sk_net },
			{ "net", "ns", &netns_off },
			{ "ns_common", "inum", &inum },
		};

		/* Without CONFIG_NET_NS there is one namespace and no pointer. */
		o->have_netns = have_all(p, netns, N(netns)) &&
				msize(p, "sock_common", "skc_net") == 8;
		o->sk_net += skc;
		o->net_ns_inum = netns_off + inum;
	}

	if (have_all(p, hash, N(hash)) &&
	    !symbol(p, "tcp_hashinfo", &o->sym_tcp_hashinfo, false, NULL)) {
		o->ilb_size = profile_sizeof(p, "inet_listen_hashbucket");
		/* 5.19+ chains listeners as hlist_nulls through sk_nulls_node;
		 * before, as hlist through icsk_listen_portaddr_node. */
		if ((off = profile_offset(p, "inet_listen_hashbucket", "nulls_head")) >= 0) {
			o->ilb_head = (uint64_t)off;
			o->ilb_nulls = true;
			o->have_tcp_hash = o->ilb_size > 0;
		} else if ((off = profile_offset(p, "inet_listen_hashbucket", "head")) >= 0 &&
			   (lnode = profile_offset(p, "inet_connection_sock",
						   "icsk_listen_portaddr_node")) >= 0) {
			o->ilb_head = (uint64_t)off;
			o->icsk_listen_node = (uint64_t)lnode;
			o->have_tcp_hash = o->ilb_size > 0;
		}
	}
	if (have_all(p, udp, N(udp)) &&
	    !symbol(p, "udp_table", &o->sym_udp_table, false, NULL)) {
		o->udp_hslot_size = profile_sizeof(p, "udp_hslot");
		o->have_udp_hash = o->udp_hslot_size >= 8;
	}
	o->have_unix = have_all(p, unx, N(unx));
	{
		uint64_t unx_off = 0, table = 0, buckets = 0;
		const struct need uh[] = {
			{ "net", "list", &o->net_list },
			{ "net", "unx", &unx_off },
			{ "netns_unix", "table", &table },
			{ "unix_table", "buckets", &buckets },
			{ "sock", "sk_socket", &o->sk_socket },
		};

		o->have_unix_hash = o->have_unix && have_all(p, uh, N(uh)) &&
				    !symbol(p, "init_net", &o->sym_init_net, false, NULL) &&
				    !symbol(p, "net_namespace_list", &o->sym_net_namespace_list,
					    false, NULL);
		o->net_unix_buckets = unx_off + table + buckets;
	}
}

/*
 * /proc/PID/environ and the exe, cwd and root links: optional, each group
 * switched off when the profile lacks a member (older profiles were made
 * before vmet read them).
 */
static void resolve_paths(const struct profile *p, struct linux_offsets *o)
{
	uint64_t path_mnt = 0, path_dentry = 0, bl_pprev = 0, d_hash = 0;
	const struct need env[] = {
		{ "mm_struct", "env_start", &o->mm_env_start },
		{ "mm_struct", "env_end", &o->mm_env_end },
	};
	const struct need paths[] = {
		{ "task_struct", "fs", &o->task_fs },
		{ "fs_struct", "root", &o->fs_root },
		{ "fs_struct", "pwd", &o->fs_pwd },
		{ "path", "mnt", &path_mnt },
		{ "path", "dentry", &path_dentry },
		{ "mm_struct", "exe_file", &o->mm_exe_file },
		{ "file", "f_path", &o->file_f_path },
		{ "dentry", "d_parent", &o->dentry_parent },
		{ "dentry", "d_name", &o->dentry_name },
		{ "dentry", "d_hash", &d_hash },
		{ "hlist_bl_node", "pprev", &bl_pprev },
		{ "qstr", "name", &o->qstr_name },
		{ "qstr", "len", &o->qstr_len },
		{ "mount", "mnt_parent", &o->mount_parent },
		{ "mount", "mnt_mountpoint", &o->mount_mountpoint },
		{ "mount", "mnt", &o->mount_mnt },
		{ "vfsmount", "mnt_root", &o->vfsmount_root },
	};

	o->have_environ = have_all(p, env, N(env));
	/* struct path is two pointers; anything else is not the layout walked. */
	o->have_paths = have_all(p, paths, N(paths)) && msize(p, "qstr", "len") == 4 &&
			msize(p, "qstr", "name") == 8 && msize(p, "path", "mnt") == 8 &&
			msize(p, "path", "dentry") == 8;
	o->path_mnt = path_mnt;
	o->path_dentry = path_dentry;
	o->dentry_hash_pprev = d_hash + bl_pprev;
}

int linux_offsets_resolve(const struct profile *p, struct linux_offsets *o,
			  struct vmet_err *err)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = resolve_tasks(p, o, err);
	if (rc)
		return rc;
	if ((rc = symbol(p, "init_task", &o->sym_init_task, true, err)) < 0 ||
	    (rc = symbol(p, "linux_banner", &o->sym_linux_banner, true, err)) < 0)
		return rc;
	/* x86-64 calls the kernel's PGD init_top_pgt; swapper_pg_dir elsewhere. */
	if (symbol(p, "init_top_pgt", &o->sym_init_top_pgt, false, NULL) &&
	    (rc = symbol(p, "swapper_pg_dir", &o->sym_init_top_pgt, true, err)) < 0)
		return vmet_errf(err, VMET_ENOTFOUND, "profile has neither init_top_pgt nor swapper_pg_dir");
	if (symbol(p, "_text", &o->sym_text, false, NULL) &&
	    symbol(p, "_stext", &o->sym_text, false, NULL))
		o->sym_text = LINUX_DEFAULT_TEXT;
	resolve_sockets(p, o);
	resolve_paths(p, o);
	return 0;
}
