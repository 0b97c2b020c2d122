/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Linux view: find a Linux kernel in guest memory, then read its tasks
 * and sockets.
 *
 * Finding the kernel has two halves.  Locating (linux_locate) needs no
 * profile: it learns where the kernel image sits, virtually and physically,
 * from VMCOREINFO (KERNELOFFSET, phys_base), else from a CR3 (the first
 * mapped 2 MiB page of the kernel-text region is _text), else from a
 * physical scan for the banner.  Binding (linux_kernel_bind) takes a
 * profile, computes the KASLR slide and the kernel's own page-table root
 * (init_top_pgt), and verifies the result (banner bytes equal the profile's
 * banner, init_task is "swapper", its task list is self-consistent) before
 * anything is trusted.  Everything after that reads through the kernel's
 * root, so the listing never depends on which process a vCPU was running.
 *
 * Guest memory is hostile.  Every list walk is bounded and cycle-checked,
 * every pointer is checked to be a canonical kernel address before use,
 * every string and count is capped.  Problems do not stop a listing: they
 * are recorded in a struct linux_report (which names the address or field
 * that failed) and the item is marked incomplete.
 */
#ifndef VMET_OS_LINUX_LINUX_H
#define VMET_OS_LINUX_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/aspace.h"
#include "core/err.h"
#include "core/phys.h"
#include "profiles/profile.h"

/* x86-64: where the kernel image is linked (__START_KERNEL_map). */
#define LINUX_START_KERNEL_MAP 0xffffffff80000000ull
/* Link address of _text when the profile does not say (PHYSICAL_START 16 MiB). */
#define LINUX_DEFAULT_TEXT 0xffffffff81000000ull
/* KASLR moves the image within 1 GiB (KERNEL_IMAGE_SIZE) in 2 MiB steps. */
#define LINUX_KASLR_RANGE (1ull << 30)
#define LINUX_KASLR_ALIGN (2ull << 20)

/* Default caps (all overridable by the caller). */
#define LINUX_MAX_TASKS 65536		/* tasks on init_task.tasks */
#define LINUX_MAX_THREADS 65536		/* threads in one group */
#define LINUX_MAX_CMDLINE (128u << 10)	/* bytes of one command line */
#define LINUX_MAX_ENVIRON (128u << 10)	/* bytes of one environment */
#define LINUX_PATH_MAX 4096		/* a resolved path, as PATH_MAX (with its NUL) */
#define LINUX_NAME_MAX 255		/* one path component (NAME_MAX) */
#define LINUX_MAX_MOUNT_HOPS 1024	/* mount crossings while resolving one path */
#define LINUX_MAX_FDS (1u << 20)	/* fdtable->max_fds */
#define LINUX_MAX_HASH_BUCKETS (1u << 24)
#define LINUX_MAX_CHAIN 4096		/* sockets in one hash chain */
#define LINUX_MAX_SOCKETS (1u << 20)
#define LINUX_MAX_NETNS 4096		/* network namespaces walked */
#define LINUX_UNIX_HASH_SIZE 512	/* UNIX_HASH_SIZE (2 * 256) in Linux 5.x and 6.x */

/* --- problems met while reading -------------------------------------- */

#define LINUX_REPORT_KEEP 64
#define LINUX_REPORT_MSG 256

/* A listing's problems: the first LINUX_REPORT_KEEP messages and a count. */
struct linux_report {
	unsigned n;
	char msg[LINUX_REPORT_KEEP][LINUX_REPORT_MSG];
};

void linux_report_add(struct linux_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Record err's message with a prefix ("task 0x...: "). */
void linux_report_err(struct linux_report *r, const struct vmet_err *err,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- locating the kernel (no profile needed) -------------------------- */

enum linux_locate_method {
	LINUX_LOC_NONE = 0,
	LINUX_LOC_VMCOREINFO,	/* KERNELOFFSET + phys_base from the source */
	LINUX_LOC_CR3,		/* _text found by walking a vCPU's CR3 */
	LINUX_LOC_SCAN,		/* banner candidates from a physical scan */
};

#define LINUX_SCAN_MAX 16	/* banner candidates kept by a scan */
#define LINUX_BANNER_MAX 512

struct linux_banner_hit {
	uint64_t pa;			/* in the lower space (guest physical) */
	char text[LINUX_BANNER_MAX];	/* up to the newline, NUL-terminated */
};

struct linux_locate_opts {
	bool use_vmcoreinfo;	/* false when the source's VMCOREINFO is another layer's */
	bool have_cr3;
	uint64_t cr3;		/* a vCPU's CR3 in the lower space (PCID bits ignored) */
	enum paging_mode mode;	/* PAGING_NONE: unknown (VMCOREINFO or 4-level) */
	bool allow_scan;	/* may scan all of lower's memory as a last resort */
};

struct linux_layout {
	enum linux_locate_method method;
	enum paging_mode mode;
	/* VMCOREINFO: */
	bool have_offsets;
	uint64_t kernel_offset;	/* KASLR virtual slide */
	uint64_t phys_base;
	uint64_t vmci_root_va;	/* SYMBOL(init_top_pgt), 0 if absent */
	/* CR3: where _text is mapped, and the root (in lower) that maps it */
	bool have_text;
	uint64_t text_va, text_pa;
	uint64_t cr3;
	/* scan: */
	size_t nhits;
	struct linux_banner_hit hits[LINUX_SCAN_MAX];
};

/*
 * Learn where the kernel image is.  `lower` is the space the kernel's page
 * tables live in (physical, or a stage-2 space).  Tries VMCOREINFO, then a
 * CR3, then (allow_scan) a scan.  VMET_ENOTFOUND says what was tried.
 */
int linux_locate(struct phys_source *src, struct aspace *lower,
		 const struct linux_locate_opts *o, struct linux_layout *out,
		 struct vmet_err *err);

/*
 * First mapped 2 MiB-aligned address of the kernel-text region in `as` (a
 * stage-1 space): that is _text, and its translation _text's physical
 * address.  Works because Linux unmaps the region below _text at boot.
 */
int linux_find_text(struct aspace *as, uint64_t *text_va, uint64_t *text_pa,
		    struct vmet_err *err);

/*
 * Physical scan of `lower` (a phys space, or a stage-2 space: scanned over
 * its guest-physical range [0, limit)) for "Linux version " strings; keeps at
 * most LINUX_SCAN_MAX hits.  limit 0 = the source's size.
 */
int linux_banner_scan(struct aspace *lower, uint64_t start, uint64_t limit,
		      struct linux_banner_hit *hits, size_t max, size_t *nhits,
		      struct vmet_err *err);

/* --- offsets resolved once from the profile ---------------------------- */

struct linux_offsets {
	/* task_struct */
	uint64_t task_size;
	uint64_t task_tasks, task_pid, task_tgid, task_comm, task_real_parent;
	uint64_t task_real_cred, task_mm, task_flags, task_state, task_exit_state;
	uint64_t task_start, task_signal, task_thread_node, task_files;
	unsigned task_state_size;	/* 4 (__state) or 8 (older long state) */
	uint64_t signal_thread_head;
	/* cred */
	uint64_t cred_uid, cred_gid, cred_euid, cred_egid;
	/* mm_struct */
	uint64_t mm_pgd, mm_arg_start, mm_arg_end;
	bool have_environ;
	uint64_t mm_env_start, mm_env_end;
	/* paths (exe, cwd, root): fs_struct, struct path, dentry, mount */
	bool have_paths;
	uint64_t task_fs, fs_root, fs_pwd, path_mnt, path_dentry, mm_exe_file, file_f_path;
	uint64_t dentry_parent, dentry_name, dentry_hash_pprev, qstr_name, qstr_len;
	uint64_t mount_parent, mount_mountpoint, mount_mnt, vfsmount_root;
	/* files */
	uint64_t files_fdt, fdt_max_fds, fdt_fd;
	uint64_t file_f_op, file_private_data;
	/* socket */
	uint64_t socket_state, socket_type, socket_sk;
	int64_t socket_alloc_inode;	/* vfs_inode - socket within socket_alloc */
	uint64_t inode_ino;
	/* sock (absolute offsets from the start of struct sock) */
	uint64_t sk_daddr, sk_rcv_saddr, sk_dport, sk_num, sk_family, sk_state;
	uint64_t sk_v6_daddr, sk_v6_rcv_saddr, sk_node, sk_nulls_node;
	uint64_t sk_protocol, sk_type;
	unsigned sk_protocol_size, sk_type_size;
	bool have_netns;
	uint64_t sk_net, net_ns_inum;	/* sock_common.skc_net; net.ns.inum */
	uint64_t sk_ack_backlog, sk_max_ack_backlog, sk_rmem_alloc, sk_wmem_alloc;
	/* tcp_sock queue figures */
	bool have_tcp_seq;
	uint64_t tcp_rcv_nxt, tcp_copied_seq, tcp_write_seq, tcp_snd_una;
	/* hash tables */
	bool have_tcp_hash;
	uint64_t hi_ehash, hi_ehash_mask, hi_lhash2, hi_lhash2_mask;
	uint64_t ilb_size, ilb_head;
	bool ilb_nulls;			/* lhash2 chains are hlist_nulls via sk_nulls_node */
	uint64_t icsk_listen_node;	/* else: via icsk_listen_portaddr_node */
	bool have_udp_hash;
	uint64_t udpt_hash, udpt_mask, udp_hslot_size;
	/* unix */
	bool have_unix;
	uint64_t unix_addr, unix_address_len, unix_address_name;
	bool have_unix_hash;		/* per-namespace unix hash (5.19+: net.unx.table) */
	uint64_t net_list, net_unix_buckets, sk_socket;
	uint64_t sym_init_net, sym_net_namespace_list;
	/* symbols (link addresses) */
	uint64_t sym_init_task, sym_init_top_pgt, sym_linux_banner, sym_text;
	uint64_t sym_socket_file_ops, sym_tcp_hashinfo, sym_udp_table;
	bool have_socket_file_ops;
};

/*
 * Resolve every offset vmet needs.  Missing essentials (task list, pid,
 * comm...) fail with VMET_ENOTFOUND naming struct.member; optional groups
 * (sockets, hash tables, unix) just clear their have_* flag.
 */
int linux_offsets_resolve(const struct profile *p, struct linux_offsets *o,
			  struct vmet_err *err);

/* --- the bound kernel ------------------------------------------------ */

struct linux_kernel {
	struct phys_source *src;	/* not owned */
	struct aspace *lower;		/* not owned: physical or stage-2 space */
	struct aspace *kas;		/* owned: stage 1 rooted at init_top_pgt */
	struct aspace *user_as;		/* owned: one process's space, re-rooted per task */
	const struct profile *prof;	/* not owned */
	struct linux_offsets off;
	enum linux_locate_method method;
	enum paging_mode mode;
	uint64_t slide;			/* runtime - link virtual address */
	uint64_t phys_base;		/* pa = va - START_KERNEL_MAP + phys_base */
	uint64_t root;			/* init_top_pgt, an address in `lower` */
	uint64_t banner_va, banner_pa;
	/* caps */
	size_t max_tasks, max_threads, max_cmdline, max_fds, max_sockets, max_environ;
	/* Command lines keep the NULs between arguments (as /proc/PID/cmdline
	 * has them) instead of spaces; cmdline_len counts them. */
	bool cmdline_keep_nul;
};

/*
 * Bind a layout to a profile: compute slide and root, build the kernel
 * space and verify it.  VMET_EMISMATCH when the banner in memory is not the
 * profile's (the message quotes both).  Free with linux_kernel_close().
 */
int linux_kernel_bind(struct phys_source *src, struct aspace *lower,
		      const struct linux_layout *lay, const struct profile *prof,
		      struct linux_kernel **out, struct vmet_err *err);
void linux_kernel_close(struct linux_kernel *k);

/* Runtime address of a link-time symbol address. */
static inline uint64_t linux_sym(const struct linux_kernel *k, uint64_t link)
{
	return link + k->slide;
}

/* --- guarded reads ------------------------------------------------- */

/* True for a canonical address in the kernel half for the kernel's mode. */
bool linux_kaddr_ok(const struct linux_kernel *k, uint64_t va);
/* Read from kernel virtual memory; errors name `what` and the address. */
int linux_read(struct linux_kernel *k, uint64_t va, void *buf, size_t len,
	       const char *what, struct vmet_err *err);
int linux_read_u64(struct linux_kernel *k, uint64_t va, uint64_t *val,
		   const char *what, struct vmet_err *err);
int linux_read_u32(struct linux_kernel *k, uint64_t va, uint32_t *val,
		   const char *what, struct vmet_err *err);
/* Read a pointer and check it is a kernel address (NULL allowed when null_ok). */
int linux_read_ptr(struct linux_kernel *k, uint64_t va, uint64_t *val, bool null_ok,
		   const char *what, struct vmet_err *err);

/* --- bounded list walks ------------------------------------------- */

/*
 * Walk a circular struct list_head from its anchor `head`.  Each call gives
 * the next node's list_head address; the walk ends back at head.  Detects a
 * cycle that does not pass through head (Brent), a broken back link
 * (next->prev != cur), bad pointers, and more than `max` nodes.  Set
 * `backward` after init to walk the prev links (to recover the far end of
 * a list whose forward chain is broken).
 */
struct linux_list_walk {
	uint64_t head, cur;
	uint64_t tortoise;
	size_t power, lam, count, max;
	bool check_back;	/* check the opposite link of every node */
	bool backward;		/* follow prev instead of next */
};
void linux_list_init(struct linux_list_walk *w, uint64_t head, size_t max,
		     bool check_back);
/* 1: *node set; 0: back at head; <0: error (err says where). */
int linux_list_next(struct linux_kernel *k, struct linux_list_walk *w,
		    uint64_t *node, struct vmet_err *err);

/*
 * Cycle check for singly linked chains (hlist, hlist_nulls): Brent's
 * algorithm over the node addresses, plus a length cap.
 */
struct linux_chain_guard {
	uint64_t tortoise;
	size_t power, lam, count, max;
};
void linux_chain_init(struct linux_chain_guard *g, size_t max);
/* 0 ok; VMET_ELOOP or VMET_ELIMIT naming the node. */
int linux_chain_step(struct linux_chain_guard *g, uint64_t node, struct vmet_err *err);

/* --- tasks ---------------------------------------------------------- */

#define LINUX_COMM_LEN 16

struct linux_task {
	uint64_t addr;			/* task_struct */
	int32_t pid, tgid, ppid;
	uint32_t uid, gid, euid, egid;
	uint32_t state, exit_state, flags;
	char state_char;		/* R S D T t X Z P I, as ps shows it */
	uint64_t start_ns;		/* since boot (start_boottime) */
	char comm[LINUX_COMM_LEN + 1];
	bool kthread;			/* PF_KTHREAD (a zombie has no mm but is not one) */
	bool leader;			/* thread-group leader */
	unsigned nthreads;		/* threads in its group (leaders) */
	uint64_t mm, files, fs;
	uint64_t cr3;			/* mm->pgd as a physical address; 0 none */
	char *cmdline;			/* malloc'd, args joined with spaces; NULL none */
	size_t cmdline_len;
	bool cmdline_truncated;
	/* LINUX_TASKS_ENVIRON, leaders only (threads share the mm): the bytes
	 * of /proc/PID/environ, NULs kept; NULL none. */
	char *environ;
	size_t environ_len;
	bool environ_truncated;
	/* LINUX_TASKS_PATHS: /proc/PID/exe, cwd and root as the guest's
	 * readlink gives them (malloc'd); NULL when there is none (kernel
	 * thread, zombie) or it could not be resolved (reported). */
	char *exe, *cwd, *root;
	bool incomplete;		/* some field could not be read */
};

struct linux_task_list {
	struct linux_task *t;
	size_t n, cap;
	bool incomplete;
};

enum {
	LINUX_TASKS_THREADS = 0x1,	/* list every thread, not only leaders */
	LINUX_TASKS_CMDLINE = 0x2,	/* read command lines */
	LINUX_TASKS_IDLE = 0x4,		/* include init_task (PID 0) */
	LINUX_TASKS_ENVIRON = 0x8,	/* read environments (leaders) */
	LINUX_TASKS_PATHS = 0x10,	/* resolve exe, cwd and root */
	LINUX_TASKS_EXE = 0x20,		/* resolve exe only */
};

/*
 * Every task on init_task's list (and its threads with TASKS_THREADS).
 * Problems go to rep and mark the list (and the task) incomplete; the
 * return value is an error only when nothing could be listed.
 */
int linux_tasks(struct linux_kernel *k, unsigned flags, struct linux_task_list *out,
		struct linux_report *rep, struct vmet_err *err);
void linux_task_list_free(struct linux_task_list *l);

/* Read one task_struct's fields (no cmdline, no thread count). */
int linux_task_read(struct linux_kernel *k, uint64_t task, struct linux_task *t,
		    struct linux_report *rep);

/* ps's state letter for __state/exit_state values. */
char linux_task_state_char(uint32_t state, uint32_t exit_state);

/*
 * Command line of a task with an mm: [arg_start, arg_end) read through the
 * process's own page tables (stage 1 at t->cr3 over k->lower), capped at
 * k->max_cmdline.  NUL separators become spaces (kept with
 * k->cmdline_keep_nul); trailing NULs dropped.
 */
int linux_task_cmdline(struct linux_kernel *k, struct linux_task *t,
		       struct vmet_err *err);

/*
 * Environment of a task with an mm: [env_start, env_end) read through the
 * process's own page tables like the command line, every byte kept (as
 * /proc/PID/environ gives it), capped at k->max_environ.
 */
int linux_task_environ(struct linux_kernel *k, struct linux_task *t,
		       struct vmet_err *err);

/*
 * The path of (vfsmount, dentry) as the kernel's d_path() writes it for a
 * reader at the root: component names (dentry->d_name) from the dentry up
 * to its mount's root, then on through mount->mnt_mountpoint and
 * mnt_parent until the top mount, " (deleted)" appended for an unlinked
 * dentry.  out holds LINUX_PATH_MAX bytes.  Bounded: a name longer than
 * LINUX_NAME_MAX or holding '/' or NUL, a path longer than LINUX_PATH_MAX
 * (which a cycle becomes), more than LINUX_MAX_MOUNT_HOPS mount crossings,
 * or an unreadable pointer fail: no path rather than a wrong one.
 */
int linux_d_path(struct linux_kernel *k, uint64_t vfsmount, uint64_t dentry, char *out,
		 struct vmet_err *err);

/*
 * t->exe (mm->exe_file), and with `fs` t->cwd (fs->pwd) and t->root
 * (fs->root).  A task without mm or fs has none (not a problem); one that
 * fails is reported and left NULL.
 */
void linux_task_paths(struct linux_kernel *k, struct linux_task *t, bool fs,
		      struct linux_report *rep);

/* Physical address (in k->lower) of a kernel virtual address. */
int linux_virt_to_phys(struct linux_kernel *k, uint64_t va, uint64_t *pa,
		       struct vmet_err *err);

/* --- sockets --------------------------------------------------------- */

enum linux_sock_proto { LSOCK_TCP = 1, LSOCK_UDP, LSOCK_UNIX, LSOCK_OTHER };

#define LINUX_SOCK_OWNERS 4
#define LINUX_UNIX_PATH 110

struct linux_sock_owner {
	int32_t pid;
	char comm[LINUX_COMM_LEN + 1];
	int32_t fd;
};

struct linux_sock {
	uint64_t sk;			/* struct sock (or timewait/request sock) */
	enum linux_sock_proto proto;
	uint16_t family;		/* AF_INET 2, AF_INET6 10, AF_UNIX 1 */
	uint16_t type;			/* SOCK_STREAM 1, SOCK_DGRAM 2, ... */
	uint8_t state;			/* TCP_* state numbers (also used by UDP/unix) */
	uint8_t sock_state;		/* struct socket's SS_* state (fd-table sockets) */
	uint8_t laddr[16], raddr[16];	/* network order; IPv4 in the first 4 bytes */
	uint16_t lport, rport;		/* host order */
	uint32_t rxq, txq;
	bool have_queues;
	uint64_t inode;			/* 0 when unknown (timewait, hash-only) */
	uint32_t netns;			/* network namespace inode; 0 unknown */
	bool in_hash;			/* found in tcp_hashinfo / udp_table */
	bool in_fd;			/* found through a process's fd table */
	unsigned nowners;		/* owners kept (more are counted in owners_more) */
	unsigned owners_more;
	struct linux_sock_owner owner[LINUX_SOCK_OWNERS];
	char path[LINUX_UNIX_PATH + 2];	/* unix: path, '@' + name when abstract */
	bool incomplete;
};

struct linux_sock_list {
	struct linux_sock *s;
	size_t n, cap;
	bool incomplete;
};

enum {
	LINUX_SOCKS_INET = 0x1,		/* TCP and UDP, v4 and v6 */
	LINUX_SOCKS_UNIX = 0x2,
	LINUX_SOCKS_NO_HASH = 0x4,	/* fd tables only (skip the hash tables) */
};

/*
 * Sockets through every process's fd table (owners) and the kernel's TCP,
 * UDP and (with LINUX_SOCKS_UNIX) unix hash tables (sockets no process owns).  `tasks` must be a
 * leaders-only list (linux_tasks without THREADS).
 */
int linux_sockets(struct linux_kernel *k, const struct linux_task_list *tasks,
		  unsigned flags, struct linux_sock_list *out,
		  struct linux_report *rep, struct vmet_err *err);
void linux_sock_list_free(struct linux_sock_list *l);

/* Decode the inet fields of a sock at `sk` into s (family from memory). */
int linux_sock_read_inet(struct linux_kernel *k, uint64_t sk, bool full_sock,
			 struct linux_sock *s, struct vmet_err *err);

/* "LISTEN", "ESTABLISHED"... for TCP state numbers; "" for 0. */
const char *linux_tcp_state_name(unsigned state);

#endif
