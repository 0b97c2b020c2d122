// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The structs and symbols a profile holds: what a Linux ps and netstat read
 * on x86-64 (and i386) kernels from 4.x to 6.x.  To extend: add a line.
 */
#include "profiles/wanted.h"

#include <string.h>

#define M(...) ((const char *const[]){ __VA_ARGS__, NULL })

const struct wanted_struct wanted_structs[] = {
	/* processes */
	{ "task_struct", M("tasks", "pid", "tgid", "real_parent", "parent", "comm", "mm",
			   "active_mm", "cred", "real_cred", "__state|state", "exit_state",
			   "flags", "start_time", "start_boottime|real_start_time",
			   "group_leader", "signal", "thread_node|thread_group", "files",
			   "nsproxy", "thread_pid|pids", "children", "sibling", "fs") },
	{ "signal_struct", M("thread_head|nr_threads", "nr_threads") },
	{ "mm_struct", M("pgd", "arg_start", "arg_end", "env_start", "env_end", "exe_file") },
	{ "cred", M("uid", "gid", "euid", "egid", "suid", "sgid", "fsuid", "fsgid") },
	{ "pid", M("numbers", "level") },
	{ "upid", M("nr", "ns") },
	{ "pid_namespace", M("level") },
	{ "nsproxy", M("net_ns", "pid_ns_for_children", "uts_ns") },
	{ "uts_namespace", M("name") },
	{ "new_utsname", M("sysname", "nodename", "release", "version", "machine") },
	{ "vm_area_struct", M("vm_start", "vm_end", "vm_flags", "vm_file", "vm_pgoff") },
	{ "timekeeper", M("tkr_mono", "offs_boot", "xtime_sec", "wall_to_monotonic") },
	{ "tk_read_base", M("base") },
	{ "timespec64", M("tv_sec", "tv_nsec") },
	/* open files */
	{ "files_struct", M("fdt") },
	{ "fdtable", M("max_fds", "fd") },
	{ "file", M("f_op", "private_data", "f_inode", "f_path") },
	{ "path", M("mnt", "dentry") },
	{ "dentry", M("d_name", "d_parent", "d_inode", "d_hash") },
	{ "hlist_bl_node", M("next", "pprev") },
	/* paths: /proc/PID/{exe,cwd,root} (fs/d_path.c's walk up dentries and mounts) */
	{ "fs_struct", M("root", "pwd") },
	{ "mount", M("mnt_parent", "mnt_mountpoint", "mnt") },
	{ "vfsmount", M("mnt_root") },
	{ "qstr", M("name", "len|hash_len") },
	{ "inode", M("i_ino", "i_mode") },
	/* sockets */
	{ "socket", M("sk", "type", "state", "file", "ops") },
	{ "socket_alloc", M("socket", "vfs_inode") },
	{ "sock", M("__sk_common", "sk_type", "sk_protocol", "sk_receive_queue",
		    "sk_write_queue", "sk_socket", "sk_backlog", "sk_wmem_alloc",
		    "sk_ack_backlog", "sk_max_ack_backlog") },
	{ "sock_common", M("skc_family", "skc_state", "skc_num", "skc_dport", "skc_rcv_saddr",
			   "skc_daddr", "skc_v6_rcv_saddr", "skc_v6_daddr",
			   "skc_node|skc_nulls_node", "skc_net", "skc_prot") },
	{ "inet_sock", M("sk", "inet_sport", "pinet6") },
	{ "inet_connection_sock", M("icsk_inet") },	/* icsk_listen_portaddr_node before 5.19 */
	{ "tcp_sock", M("rcv_nxt", "copied_seq", "write_seq", "snd_una") },
	{ "udp_sock", M("inet") },
	{ "unix_sock", M("sk", "addr", "path", "peer") },
	{ "unix_address", M("len", "name") },
	{ "sockaddr_un", M("sun_family", "sun_path") },
	{ "ipv6_pinfo", M("saddr") },
	{ "in6_addr", M("in6_u") },
	{ "sk_buff_head", M("qlen") },
	{ "proto", M("name") },
	{ "proto_ops", M("family") },
	/* socket tables */
	{ "net", M("list", "ns") },
	{ "ns_common", M("inum") },
	{ "netns_unix", NULL },
	{ "unix_table", NULL },
	{ "inet_hashinfo", M("ehash", "ehash_mask", "lhash2", "lhash2_mask|listening_hash") },
	{ "inet_ehash_bucket", M("chain") },
	{ "inet_listen_hashbucket", M("nulls_head|head") },
	{ "udp_table", M("hash", "mask") },
	{ "udp_hslot", M("head", "count") },
	/* generic lists */
	{ "list_head", M("next", "prev") },
	{ "hlist_head", M("first") },
	{ "hlist_node", M("next", "pprev") },
	{ "hlist_nulls_head", M("first") },
	{ "hlist_nulls_node", M("next", "pprev") },
	{ "rb_node", NULL },
	{ "rb_root", NULL },
	/* modules */
	{ "module", M("list", "name") },
};
const size_t wanted_nstructs = sizeof(wanted_structs) / sizeof(wanted_structs[0]);

const char *const wanted_symbols[] = {
	/* finding the kernel */
	"linux_banner", "_text", "_stext", "_etext", "_end", "phys_base",
	"init_top_pgt|swapper_pg_dir", "level4_kernel_pgt", "page_offset_base",
	"vmemmap_base", "vmalloc_base", "vmcoreinfo_data", "vmcoreinfo_note",
	"__per_cpu_offset", "__per_cpu_start",
	/* processes */
	"init_task", "init_mm", "init_cred", "init_pid_ns", "init_uts_ns", "init_files",
	"pid_max", "nr_threads", "jiffies", "jiffies_64", "tk_core",
	"current_task|pcpu_hot", "runqueues", "modules",
	/* sockets */
	"init_net", "net_namespace_list", "socket_file_ops", "sockfs_dentry_operations",
	"tcp_hashinfo", "udp_table", "udplite_table", "unix_socket_table",
	"tcp_prot", "udp_prot", "udplite_prot", "raw_prot", "tcpv6_prot", "udpv6_prot",
	"udplitev6_prot", "rawv6_prot", "unix_dgram_proto", "unix_stream_proto",
	"inet_stream_ops", "inet_dgram_ops", "inet_sockraw_ops", "inet6_stream_ops",
	"inet6_dgram_ops", "inet6_sockraw_ops", "unix_stream_ops", "unix_dgram_ops",
	"unix_seqpacket_ops", "packet_ops", "netlink_ops", "pipefifo_fops",
};
const size_t wanted_nsymbols = sizeof(wanted_symbols) / sizeof(wanted_symbols[0]);

/* Whether name is one of the '|'-separated alternatives in alts. */
static bool alt_match(const char *alts, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = alts; *s;) {
		size_t l = strcspn(s, "|");

		if (l == n && !memcmp(s, name, n))
			return true;
		s += l;
		if (*s == '|')
			s++;
	}
	return false;
}

bool wanted_struct(const char *name)
{
	for (size_t i = 0; i < wanted_nstructs; i++)
		if (alt_match(wanted_structs[i].name, name))
			return true;
	return false;
}

bool wanted_symbol(const char *name)
{
	for (size_t i = 0; i < wanted_nsymbols; i++)
		if (alt_match(wanted_symbols[i], name))
			return true;
	return false;
}

/* Whether any alternative of alts is a member of struct s / a symbol. */
static bool have_member(const struct profile *p, const char *s, const char *alts)
{
	char one[PROFILE_MAX_NAME + 1];

	for (const char *a = alts; *a;) {
		size_t l = strcspn(a, "|");

		if (l <= PROFILE_MAX_NAME) {
			memcpy(one, a, l);
			one[l] = '\0';
			bool found = false;

			if (s)
				found = profile_member(p, s, one) != NULL;
			else
				profile_symbol(p, one, &found);
			if (found)
				return true;
		}
		a += l;
		if (*a == '|')
			a++;
	}
	return false;
}

size_t wanted_check(const struct profile *p, FILE *report, size_t *missing_symbols)
{
	size_t missing = 0, msym = 0;

	for (size_t i = 0; i < wanted_nstructs; i++) {
		const struct wanted_struct *w = &wanted_structs[i];

		if (!profile_struct(p, w->name)) {
			if (report)
				fprintf(report, "missing struct %s\n", w->name);
			missing++;
			continue;
		}
		for (const char *const *m = w->members; m && *m; m++)
			if (!have_member(p, w->name, *m)) {
				if (report)
					fprintf(report, "missing member %s.%s\n", w->name, *m);
				missing++;
			}
	}
	for (size_t i = 0; i < wanted_nsymbols; i++)
		if (!have_member(p, NULL, wanted_symbols[i])) {
			if (report)
				fprintf(report, "missing symbol %s\n", wanted_symbols[i]);
			msym++;
		}
	if (missing_symbols)
		*missing_symbols = msym;
	return missing + msym;
}
