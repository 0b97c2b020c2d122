// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Linux view over a synthetic kernel: page tables, a kernel image with
 * a banner, init_task and a task list, a process with its own page tables,
 * and sockets, all laid out in a fake memory image with a fake profile.
 * Each damage case (cycles, pointers out of memory, a comm without NUL, an
 * absurd command line, an endless hash chain) must be bounded and reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/aspace.h"
#include "os/linux/linux.h"
#include "profiles/profile.h"
#include "tests/unit/helper_mem.h"

#define MEM (64ull << 20)
#define SKM 0xffffffff80000000ull
#define LINK_TEXT 0xffffffff81000000ull
#define SLIDE 0x400000ull
#define TEXT_PA 0x2000000ull
#define PHYS_BASE (TEXT_PA - (LINK_TEXT + SLIDE - SKM))
#define DIRECT 0xffff888000000000ull

/* Link addresses of the fake kernel's symbols. */
#define SYM_BANNER 0xffffffff81100000ull
#define SYM_INIT_TASK 0xffffffff81180000ull
#define SYM_ROOT 0xffffffff81200000ull
#define SYM_SOCK_FOPS 0xffffffff81110000ull
#define SYM_TCP_HASH 0xffffffff81120000ull
#define SYM_UDP_TABLE 0xffffffff81130000ull
#define SYM_INIT_NET 0xffffffff81140000ull
#define SYM_NET_LIST 0xffffffff81150000ull

#define BANNER "Linux version 6.1.0-test (vmet@test) #1 SMP PREEMPT_DYNAMIC"

/* task_struct layout of the fake kernel */
enum {
	T_STATE = 0x08, T_TASKS = 0x10, T_PID = 0x20, T_TGID = 0x24, T_COMM = 0x30,
	T_PARENT = 0x40, T_CRED = 0x48, T_MM = 0x50, T_FLAGS = 0x58, T_EXIT = 0x60,
	T_START = 0x68, T_SIGNAL = 0x70, T_THREAD = 0x78, T_FILES = 0x88, T_FS = 0x90,
	T_SIZE = 0x100,
};
/* mm_struct, fs_struct, file, dentry (with its qstr and hlist_bl_node), mount */
enum {
	MM_ENV_START = 0x18, MM_ENV_END = 0x20, MM_EXE = 0x28, MM_SIZE = 0x40,
	FS_ROOT = 0x08, FS_PWD = 0x18, FS_SIZE = 0x28, FILE_PATH = 0x18,
	D_HASH = 0x08, D_PARENT = 0x18, D_NAME = 0x20, D_SIZE = 0x40, Q_LEN = 4, Q_NAME = 8,
	M_PARENT = 0x10, M_MOUNTPOINT = 0x18, M_MNT = 0x20, M_SIZE = 0x60, V_ROOT = 0,
};
/* socket side */
enum {
	SKC_DADDR = 0, SKC_SADDR = 4, SKC_DPORT = 12, SKC_NUM = 14, SKC_FAMILY = 16,
	SKC_STATE = 18, SKC_V6D = 24, SKC_V6S = 40, SKC_NODE = 56, SKC_SIZE = 72,
	SK_TYPE = 80, SK_PROTO = 82, SK_ACK = 84, SK_MAXACK = 88, SK_BACKLOG = 92,
	SK_WMEM = 96, SK_SOCKET = 104, SK_SIZE = 128, UNIX_ADDR = 128, UNIX_SIZE = 160,
};

static uint64_t rt(uint64_t link) { return link + SLIDE; }
static uint64_t img_pa(uint64_t link) { return rt(link) - SKM + PHYS_BASE; }
static uint64_t dm(uint64_t pa) { return DIRECT + pa; }

struct fx {
	struct phys_source *src;
	struct aspace *phys;
	struct page_alloc alloc;
	struct profile *prof;
	uint64_t root;
	uint64_t heap;		/* next free physical byte for kernel objects */
	uint64_t init_cred;
	int levels;		/* 4, or 5 for LA57 tables */
};

static void add_struct(struct profile *p, const char *name, uint64_t size,
		       const char *const *names, const uint64_t *offs, const uint64_t *sizes)
{
	struct vmet_err err;
	struct profile_struct *s = profile_add_struct(p, name, size, &err);

	assert_non_null(s);
	for (size_t i = 0; names[i]; i++)
		assert_int_equal(profile_add_member(s, names[i], offs[i], sizes[i], 0, 0, &err), 0);
}

#define S(name, size, ...) do { \
	static const char *const n_[] = { __VA_ARGS__, NULL }; \
	add_struct(p, name, size, n_, o_, z_); } while (0)

static struct profile *fake_profile(const char *banner)
{
	struct profile *p = profile_new();
	struct vmet_err err;

	assert_non_null(p);
	assert_int_equal(profile_set_text(&p->banner, banner, &err), 0);
	assert_int_equal(profile_set_text(&p->arch, "x86_64", &err), 0);
	p->paging = PAGING_4LEVEL;
	{
		static const uint64_t o_[] = { T_STATE, T_TASKS, T_PID, T_TGID, T_COMM, T_PARENT,
					       T_CRED, T_MM, T_FLAGS, T_EXIT, T_START, T_SIGNAL,
					       T_THREAD, T_FILES, T_FS };
		static const uint64_t z_[] = { 4, 16, 4, 4, 16, 8, 8, 8, 4, 4, 8, 8, 16, 8, 8 };
		S("task_struct", T_SIZE, "__state", "tasks", "pid", "tgid", "comm", "real_parent",
		  "real_cred", "mm", "flags", "exit_state", "start_boottime", "signal",
		  "thread_node", "files", "fs");
	}
	{
		static const uint64_t o_[] = { 0x10 }, z_[] = { 16 };
		S("signal_struct", 0x40, "thread_head");
	}
	{
		static const uint64_t o_[] = { 4, 8, 12, 16 }, z_[] = { 4, 4, 4, 4 };
		S("cred", 0x20, "uid", "gid", "euid", "egid");
	}
	{
		static const uint64_t o_[] = { 0, 8, 16, MM_ENV_START, MM_ENV_END, MM_EXE };
		static const uint64_t z_[] = { 8, 8, 8, 8, 8, 8 };
		S("mm_struct", MM_SIZE, "pgd", "arg_start", "arg_end", "env_start", "env_end",
		  "exe_file");
	}
	{
		static const uint64_t o_[] = { FS_ROOT, FS_PWD }, z_[] = { 16, 16 };
		S("fs_struct", FS_SIZE, "root", "pwd");
	}
	{
		static const uint64_t o_[] = { 0, 8 }, z_[] = { 8, 8 };
		S("path", 16, "mnt", "dentry");
	}
	{
		static const uint64_t o_[] = { D_HASH, D_PARENT, D_NAME }, z_[] = { 16, 8, 16 };
		S("dentry", D_SIZE, "d_hash", "d_parent", "d_name");
	}
	{
		static const uint64_t o_[] = { 0, 8 }, z_[] = { 8, 8 };
		S("hlist_bl_node", 16, "next", "pprev");
	}
	{
		static const uint64_t o_[] = { Q_LEN, Q_NAME }, z_[] = { 4, 8 };
		S("qstr", 16, "len", "name");
	}
	{
		static const uint64_t o_[] = { M_PARENT, M_MOUNTPOINT, M_MNT }, z_[] = { 8, 8, 0x20 };
		S("mount", M_SIZE, "mnt_parent", "mnt_mountpoint", "mnt");
	}
	{
		static const uint64_t o_[] = { V_ROOT }, z_[] = { 8 };
		S("vfsmount", 0x20, "mnt_root");
	}
	{
		static const uint64_t o_[] = { 8 }, z_[] = { 8 };
		S("files_struct", 0x10, "fdt");
	}
	{
		static const uint64_t o_[] = { 0, 8 }, z_[] = { 4, 8 };
		S("fdtable", 0x10, "max_fds", "fd");
	}
	{
		static const uint64_t o_[] = { 8, 16, FILE_PATH }, z_[] = { 8, 8, 16 };
		S("file", 0x30, "f_op", "private_data", "f_path");
	}
	{
		static const uint64_t o_[] = { 0, 4, 8 }, z_[] = { 4, 2, 8 };
		S("socket", 0x20, "state", "type", "sk");
	}
	{
		static const uint64_t o_[] = { 0, 0x20 }, z_[] = { 0x20, 0x20 };
		S("socket_alloc", 0x40, "socket", "vfs_inode");
	}
	{
		static const uint64_t o_[] = { 8 }, z_[] = { 8 };
		S("inode", 0x20, "i_ino");
	}
	{
		static const uint64_t o_[] = { SKC_DADDR, SKC_SADDR, SKC_DPORT, SKC_NUM, SKC_FAMILY,
					       SKC_STATE, SKC_V6D, SKC_V6S, SKC_NODE, SKC_NODE };
		static const uint64_t z_[] = { 4, 4, 2, 2, 2, 1, 16, 16, 16, 16 };
		S("sock_common", SKC_SIZE, "skc_daddr", "skc_rcv_saddr", "skc_dport", "skc_num",
		  "skc_family", "skc_state", "skc_v6_daddr", "skc_v6_rcv_saddr", "skc_node",
		  "skc_nulls_node");
	}
	{
		static const uint64_t o_[] = { 0, SK_TYPE, SK_PROTO, SK_ACK, SK_MAXACK, SK_BACKLOG,
					       SK_WMEM, SK_SOCKET };
		static const uint64_t z_[] = { SKC_SIZE, 2, 2, 4, 4, 4, 4, 8 };
		S("sock", SK_SIZE, "__sk_common", "sk_type", "sk_protocol", "sk_ack_backlog",
		  "sk_max_ack_backlog", "sk_backlog", "sk_wmem_alloc", "sk_socket");
	}
	{
		static const uint64_t o_[] = { UNIX_ADDR }, z_[] = { 8 };
		S("unix_sock", UNIX_SIZE, "addr");
	}
	{
		static const uint64_t o_[] = { 4, 8 }, z_[] = { 4, 0 };
		S("unix_address", 8, "len", "name");
	}
	{
		static const uint64_t o_[] = { 0, 16 }, z_[] = { 16, 32 };
		S("net", 0x40, "list", "unx");
	}
	{
		static const uint64_t o_[] = { 0 }, z_[] = { 16 };
		S("netns_unix", 32, "table");
	}
	{
		static const uint64_t o_[] = { 8 }, z_[] = { 8 };
		S("unix_table", 16, "buckets");
	}
	{
		static const uint64_t o_[] = { 0, 8, 16, 20 }, z_[] = { 8, 8, 4, 4 };
		S("inet_hashinfo", 0x20, "ehash", "lhash2", "ehash_mask", "lhash2_mask");
	}
	{
		static const uint64_t o_[] = { 8 }, z_[] = { 8 };
		S("inet_listen_hashbucket", 16, "nulls_head");
	}
	{
		static const uint64_t o_[] = { 0, 8 }, z_[] = { 8, 4 };
		S("udp_table", 0x10, "hash", "mask");
	}
	{
		static const uint64_t o_[] = { 0 }, z_[] = { 8 };
		S("udp_hslot", 16, "head");
	}
	assert_int_equal(profile_add_symbol(p, "linux_banner", SYM_BANNER, &err), 0);
	assert_int_equal(profile_add_symbol(p, "init_task", SYM_INIT_TASK, &err), 0);
	assert_int_equal(profile_add_symbol(p, "init_top_pgt", SYM_ROOT, &err), 0);
	assert_int_equal(profile_add_symbol(p, "_text", LINK_TEXT, &err), 0);
	assert_int_equal(profile_add_symbol(p, "socket_file_ops", SYM_SOCK_FOPS, &err), 0);
	assert_int_equal(profile_add_symbol(p, "tcp_hashinfo", SYM_TCP_HASH, &err), 0);
	assert_int_equal(profile_add_symbol(p, "udp_table", SYM_UDP_TABLE, &err), 0);
	assert_int_equal(profile_add_symbol(p, "init_net", SYM_INIT_NET, &err), 0);
	assert_int_equal(profile_add_symbol(p, "net_namespace_list", SYM_NET_LIST, &err), 0);
	if (profile_finish(p, &err))
		fail_msg("profile_finish: %s", err.msg);
	return p;
}

/* A zeroed kernel object on the heap; returns its direct-map address. */
static uint64_t kalloc(struct fx *f, uint64_t size)
{
	uint64_t pa = f->heap;

	f->heap += (size + 0xfff) & ~0xfffull;
	return dm(pa);
}

static void kw64(struct fx *f, uint64_t va, uint64_t v)
{
	uint64_t pa = va >= DIRECT && va < DIRECT + MEM ? va - DIRECT : img_pa(va - SLIDE);

	mem_w64(f->src, pa, v);
}

static void kw32(struct fx *f, uint64_t va, uint32_t v)
{
	uint64_t pa = va >= DIRECT && va < DIRECT + MEM ? va - DIRECT : img_pa(va - SLIDE);

	mem_w32(f->src, pa, v);
}

static void kwrite(struct fx *f, uint64_t va, const void *b, size_t n)
{
	uint64_t pa = va >= DIRECT && va < DIRECT + MEM ? va - DIRECT : img_pa(va - SLIDE);

	mem_write(f->src, pa, b, n);
}

static void kw16(struct fx *f, uint64_t va, uint16_t v)
{
	kwrite(f, va, &v, 2);
}

static void kw8(struct fx *f, uint64_t va, uint8_t v)
{
	kwrite(f, va, &v, 1);
}

/* Initialise a task: its own thread list (one thread) and basic fields. */
static void task_init(struct fx *f, uint64_t t, int pid, const char *comm, uint64_t parent,
		      uint64_t signal, uint32_t flags)
{
	char c[16] = { 0 };

	memcpy(c, comm, strnlen(comm, sizeof(c)));
	kw32(f, t + T_PID, (uint32_t)pid);
	kw32(f, t + T_TGID, (uint32_t)pid);
	kwrite(f, t + T_COMM, c, 16);
	kw64(f, t + T_PARENT, parent);
	kw64(f, t + T_CRED, f->init_cred);
	kw32(f, t + T_FLAGS, flags);
	kw32(f, t + T_STATE, 1);
	kw64(f, t + T_START, 1500000000ull);
	kw64(f, t + T_SIGNAL, signal);
	/* signal->thread_head <-> task->thread_node, a one-thread group */
	kw64(f, signal + 0x10, t + T_THREAD);
	kw64(f, signal + 0x18, t + T_THREAD);
	kw64(f, t + T_THREAD, signal + 0x10);
	kw64(f, t + T_THREAD + 8, signal + 0x10);
}

/* Link tasks[0..n) into a circular list headed by tasks[0]. */
static void link_tasks(struct fx *f, const uint64_t *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kw64(f, t[i] + T_TASKS, t[(i + 1) % n] + T_TASKS);
		kw64(f, t[i] + T_TASKS + 8, t[(i + n - 1) % n] + T_TASKS);
	}
}

struct world {
	uint64_t init, a, b, mm, user_root, argpa;
};

/*
 * Build the fake kernel: image mapped at _text + SLIDE, a direct map, the
 * banner (plus a decoy copy earlier in memory), init_task, "init" (PID 1,
 * with an mm and argv "/sbin/init\0splash\0") and "kthreadd" (PID 2).
 */
static void build(struct fx *f, struct world *w)
{
	uint64_t sig_i, sig_a, sig_b;

	f->root = img_pa(SYM_ROOT);
	memset(mem_bytes(f->src) + f->root, 0, 4096);
	for (uint64_t off = 0; off < (4u << 20); off += 2u << 20)
		map_lm(f->src, &f->alloc, f->root, f->levels, rt(LINK_TEXT) + off, TEXT_PA + off,
		       2u << 20, 3, 0, NULL, NULL);
	for (uint64_t pa = 0; pa < MEM; pa += 2u << 20)
		map_lm(f->src, &f->alloc, f->root, f->levels, dm(pa), pa, 2u << 20, 3, 0, NULL, NULL);
	/* A decoy banner first in memory, differing as Debian's copy does. */
	{
		static const char decoy[] = "Linux version 6.1.0-test (vmet@test) #  SMP PREEMPT_DYNAMIC\n";

		mem_write(f->src, 0x900000, decoy, sizeof(decoy) - 1);
	}
	kwrite(f, rt(SYM_BANNER), BANNER "\n", sizeof(BANNER));

	f->init_cred = kalloc(f, 0x20);
	w->init = rt(SYM_INIT_TASK);
	w->a = kalloc(f, T_SIZE);
	w->b = kalloc(f, T_SIZE);
	sig_i = kalloc(f, 0x40);
	sig_a = kalloc(f, 0x40);
	sig_b = kalloc(f, 0x40);
	task_init(f, w->init, 0, "swapper/0", w->init, sig_i, 0x00200002);
	task_init(f, w->a, 1, "init", w->init, sig_a, 0x00400100);
	task_init(f, w->b, 2, "kthreadd", w->init, sig_b, 0x00208040);
	kw32(f, f->init_cred + 4, 1000);	/* uid */
	kw32(f, f->init_cred + 8, 100);		/* gid */
	kw32(f, f->init_cred + 12, 0);		/* euid */
	kw32(f, f->init_cred + 16, 100);	/* egid */
	{
		uint64_t t[] = { w->init, w->a, w->b };

		link_tasks(f, t, 3);
	}
	/* init's address space: argv at user 0x7ffc0000 */
	w->mm = kalloc(f, 0x20);
	w->user_root = pa_page(&f->alloc);
	w->argpa = pa_page(&f->alloc);
	map_lm(f->src, &f->alloc, w->user_root, f->levels, 0x7ffc0000, w->argpa, 4096, 7, 0, NULL, NULL);
	mem_write(f->src, w->argpa + 0x10, "/sbin/init\0splash\0", 18);
	kw64(f, w->mm + 0, dm(w->user_root));
	kw64(f, w->mm + 8, 0x7ffc0010);
	kw64(f, w->mm + 16, 0x7ffc0010 + 18);
	kw64(f, w->a + T_MM, w->mm);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->src = mem_source_new(MEM);
	f->phys = aspace_phys_new(f->src);
	f->alloc = (struct page_alloc){ f->src, 0x100000, 0x800000 };
	f->heap = 0x1000000;
	f->levels = 4;
	f->prof = fake_profile(BANNER);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	profile_free(f->prof);
	aspace_free(f->phys);
	phys_close(f->src);
	free(f);
	return 0;
}

static struct linux_layout *vmci_layout(void)
{
	struct linux_layout *lay = calloc(1, sizeof(*lay));

	lay->method = LINUX_LOC_VMCOREINFO;
	lay->mode = PAGING_4LEVEL;
	lay->have_offsets = true;
	lay->kernel_offset = SLIDE;
	lay->phys_base = PHYS_BASE;
	return lay;
}

static struct linux_kernel *bind_ok(struct fx *f, const struct linux_layout *lay)
{
	struct linux_kernel *k = NULL;
	struct vmet_err err = { 0 };

	if (linux_kernel_bind(f->src, f->phys, lay, f->prof, &k, &err))
		fail_msg("bind: %s", err.msg);
	return k;
}

static const struct linux_task *find_pid(const struct linux_task_list *l, int pid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].pid == pid)
			return &l->t[i];
	return NULL;
}

static void test_bind_vmcoreinfo_and_list(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	const struct linux_task *a, *b;

	build(f, &w);
	k = bind_ok(f, lay);
	assert_int_equal(k->slide, SLIDE);
	assert_int_equal(k->root, f->root);
	assert_int_equal(k->banner_pa, img_pa(SYM_BANNER));
	assert_int_equal(linux_tasks(k, LINUX_TASKS_CMDLINE, &l, &rep, &err), 0);
	assert_false(l.incomplete);
	assert_int_equal(rep.n, 0);
	assert_int_equal(l.n, 2);
	a = find_pid(&l, 1);
	b = find_pid(&l, 2);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->comm, "init");
	assert_int_equal(a->ppid, 0);
	assert_int_equal(a->uid, 1000);
	assert_int_equal(a->gid, 100);
	assert_int_equal(a->euid, 0);
	assert_int_equal(a->cr3, w.user_root);
	assert_false(a->kthread);
	assert_string_equal(a->cmdline, "/sbin/init splash");
	assert_int_equal(a->nthreads, 1);
	assert_int_equal(a->state_char, 'S');
	assert_true(b->kthread);
	assert_null(b->cmdline);
	assert_int_equal(b->cr3, 0);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

/* VMCOREINFO text in the source: KERNELOFFSET and phys_base are taken,
 * and an init_top_pgt that disagrees with the profile is refused. */
static void test_locate_by_vmcoreinfo(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_locate_opts o = { .use_vmcoreinfo = true, .allow_scan = false };
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_kernel *k = NULL;
	struct vmet_err err = { 0 };
	char text[512];

	build(f, &w);
	snprintf(text, sizeof(text), "OSRELEASE=6.1.0-test\nKERNELOFFSET=%llx\nNUMBER(phys_base)=%llu\n"
		 "SYMBOL(init_top_pgt)=%llx\nNUMBER(pgtable_l5_enabled)=0\n",
		 (unsigned long long)SLIDE, (unsigned long long)PHYS_BASE,
		 (unsigned long long)rt(SYM_ROOT));
	f->src->vmcoreinfo = strdup(text);
	if (linux_locate(f->src, f->phys, &o, lay, &err))
		fail_msg("locate: %s", err.msg);
	assert_int_equal(lay->method, LINUX_LOC_VMCOREINFO);
	assert_int_equal(lay->kernel_offset, SLIDE);
	assert_int_equal(lay->phys_base, PHYS_BASE);
	assert_int_equal(lay->mode, PAGING_4LEVEL);
	k = bind_ok(f, lay);
	assert_int_equal(k->root, f->root);
	linux_kernel_close(k);
	/* VMCOREINFO from another layer (nested) must not be used. */
	o.use_vmcoreinfo = false;
	assert_int_equal(linux_locate(f->src, f->phys, &o, lay, &err), VMET_ENOTFOUND);
	/* A root that is not where the profile and the slide put it. */
	lay->method = LINUX_LOC_VMCOREINFO;
	lay->kernel_offset = SLIDE;
	lay->phys_base = PHYS_BASE;
	lay->mode = PAGING_4LEVEL;
	lay->vmci_root_va = rt(SYM_ROOT) + 0x1000;
	k = NULL;
	assert_int_equal(linux_kernel_bind(f->src, f->phys, lay, f->prof, &k, &err), VMET_EMISMATCH);
	assert_non_null(strstr(err.msg, "init_top_pgt"));
	free(lay);
}

static void test_locate_by_cr3(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_locate_opts o = { .have_cr3 = true, .mode = PAGING_4LEVEL };
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_kernel *k;
	struct vmet_err err = { 0 };

	build(f, &w);
	/* A process's CR3 whose kernel half is the kernel's: copy the top table. */
	memcpy(mem_bytes(f->src) + w.user_root + 256 * 8, mem_bytes(f->src) + f->root + 256 * 8,
	       256 * 8);
	o.cr3 = w.user_root | 0x5;	/* PCID bits must be ignored */
	if (linux_locate(f->src, f->phys, &o, lay, &err))
		fail_msg("locate: %s", err.msg);
	assert_int_equal(lay->method, LINUX_LOC_CR3);
	assert_int_equal(lay->text_va, rt(LINK_TEXT));
	assert_int_equal(lay->text_pa, TEXT_PA);
	k = bind_ok(f, lay);
	assert_int_equal(k->slide, SLIDE);
	assert_int_equal(k->phys_base, PHYS_BASE);
	assert_int_equal(k->root, f->root);
	linux_kernel_close(k);
	free(lay);
}

/*
 * A Xen PV guest's image is contiguous in its pseudo-physical space only:
 * its tables map it onto machine frames wherever Xen had them.  Here the
 * second 2 MiB of the image (init_top_pgt's) sits 16 MiB away from the
 * first; the root must come from the tables, not from _text's distance.
 */
static void test_cr3_scattered_image(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_locate_opts o = { .have_cr3 = true, .mode = PAGING_4LEVEL };
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_task_list l = { 0 };
	struct linux_report rep = { 0 };
	struct linux_kernel *k;
	struct vmet_err err = { 0 };
	const uint64_t second = TEXT_PA + (2u << 20), moved = TEXT_PA + (16u << 20);
	const uint64_t root = moved + (img_pa(SYM_ROOT) - second);
	uint8_t *m;

	build(f, &w);
	m = mem_bytes(f->src);
	memcpy(m + moved, m + second, 2u << 20);
	memset(m + second, 0, 2u << 20);
	map_lm(f->src, &f->alloc, root, f->levels, rt(LINK_TEXT) + (2u << 20), moved, 2u << 20,
	       3, 0, NULL, NULL);
	o.cr3 = root;
	if (linux_locate(f->src, f->phys, &o, lay, &err))
		fail_msg("locate: %s", err.msg);
	assert_int_equal(lay->method, LINUX_LOC_CR3);
	assert_int_equal(lay->text_pa, TEXT_PA);
	assert_int_equal(lay->cr3, root);
	k = bind_ok(f, lay);
	assert_int_equal(k->slide, SLIDE);
	assert_int_equal(k->root, root);
	assert_int_equal(linux_tasks(k, LINUX_TASKS_CMDLINE, &l, &rep, &err), 0);
	assert_int_equal(l.n, 2);
	assert_non_null(find_pid(&l, 1));
	assert_string_equal(find_pid(&l, 1)->cmdline, "/sbin/init splash");
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

/* LA57 tables found from a CR3 and from a scan, the depth not given. */
static void test_five_level_depth_unknown(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_locate_opts o = { .have_cr3 = true, .mode = PAGING_5LEVEL };
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };

	f->levels = 5;
	build(f, &w);
	o.cr3 = f->root;
	if (linux_locate(f->src, f->phys, &o, lay, &err))
		fail_msg("locate: %s", err.msg);
	assert_int_equal(lay->mode, PAGING_5LEVEL);
	assert_int_equal(lay->text_va, rt(LINK_TEXT));
	k = bind_ok(f, lay);
	assert_int_equal(linux_tasks(k, LINUX_TASKS_CMDLINE, &l, &rep, &err), 0);
	assert_string_equal(find_pid(&l, 1)->cmdline, "/sbin/init splash");
	linux_task_list_free(&l);
	linux_kernel_close(k);
	/* A scan does not know the depth: binding tries both. */
	memset(lay, 0, sizeof(*lay));
	o = (struct linux_locate_opts){ .allow_scan = true };
	if (linux_locate(f->src, f->phys, &o, lay, &err))
		fail_msg("locate: %s", err.msg);
	assert_int_equal(lay->mode, PAGING_NONE);
	k = bind_ok(f, lay);
	assert_int_equal(k->mode, PAGING_5LEVEL);
	assert_int_equal(k->slide, SLIDE);
	linux_kernel_close(k);
	free(lay);
}

static void test_scan_skips_decoy_banner(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_locate_opts o = { .allow_scan = true };
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_kernel *k;
	struct vmet_err err = { 0 };
	struct profile *decoyp;

	build(f, &w);
	if (linux_locate(f->src, f->phys, &o, lay, &err))
		fail_msg("locate: %s", err.msg);
	assert_int_equal(lay->method, LINUX_LOC_SCAN);
	assert_int_equal(lay->nhits, 2);
	assert_int_equal(lay->hits[0].pa, 0x900000);	/* decoy comes first */
	k = bind_ok(f, lay);
	assert_int_equal(k->banner_pa, img_pa(SYM_BANNER));
	assert_int_equal(k->slide, SLIDE);
	linux_kernel_close(k);
	/* A profile made for the decoy's text must not be accepted. */
	decoyp = fake_profile("Linux version 6.1.0-test (vmet@test) #  SMP PREEMPT_DYNAMIC");
	k = NULL;
	assert_int_not_equal(linux_kernel_bind(f->src, f->phys, lay, decoyp, &k, &err), 0);
	assert_null(k);
	profile_free(decoyp);
	free(lay);
}

static void test_wrong_profile_is_mismatch(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k = NULL;
	struct vmet_err err = { 0 };
	struct profile *other = fake_profile("Linux version 9.9.9 (x@y) #7 SMP");

	build(f, &w);
	assert_int_equal(linux_kernel_bind(f->src, f->phys, lay, other, &k, &err), VMET_EMISMATCH);
	assert_non_null(strstr(err.msg, "6.1.0-test"));	/* quotes what memory holds */
	/* A wrong slide lands on no banner at all. */
	lay->kernel_offset = SLIDE + (2u << 20);
	assert_int_not_equal(linux_kernel_bind(f->src, f->phys, lay, f->prof, &k, &err), 0);
	assert_null(k);
	profile_free(other);
	free(lay);
}

static void test_task_cycle_is_bounded(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };

	build(f, &w);
	k = bind_ok(f, lay);
	/* init -> a -> b -> a -> b ...: never returns to init_task */
	kw64(f, w.b + T_TASKS, w.a + T_TASKS);
	assert_int_equal(linux_tasks(k, 0, &l, &rep, &err), 0);
	assert_true(l.incomplete);
	assert_true(rep.n >= 1);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(rep.msg[0], "task list"));
	linux_task_list_free(&l);
	/* Without the back-link check, Brent's detection ends the walk. */
	{
		struct linux_list_walk lw;
		uint64_t node;
		int rc;
		size_t steps = 0;

		linux_list_init(&lw, w.init + T_TASKS, 1000, false);
		while ((rc = linux_list_next(k, &lw, &node, &err)) == 1)
			steps++;
		assert_int_equal(rc, VMET_ELOOP);
		assert_true(steps < 10);
	}
	linux_kernel_close(k);
	free(lay);
}

static void test_task_out_of_memory_recovers_tail(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	bool recovered = false;

	build(f, &w);
	k = bind_ok(f, lay);
	/* init_task -> a -> (nowhere); b still links back to a and to init. */
	kw64(f, w.a + T_TASKS, DIRECT + (1ull << 40));
	assert_int_equal(linux_tasks(k, 0, &l, &rep, &err), 0);
	assert_true(l.incomplete);
	assert_int_equal(l.n, 2);
	assert_non_null(find_pid(&l, 1));
	assert_non_null(find_pid(&l, 2));	/* found walking backwards */
	for (unsigned i = 0; i < rep.n && i < LINUX_REPORT_KEEP; i++)
		recovered |= strstr(rep.msg[i], "backwards") != NULL;
	assert_true(recovered);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

static void test_comm_without_nul_and_long_cmdline(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	const struct linux_task *a;

	build(f, &w);
	kwrite(f, w.a + T_COMM, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 16);
	mem_write(f->src, w.argpa + 0x10, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 50);
	kw64(f, w.mm + 16, 0x7ffc0010 + (1ull << 30));	/* 1 GiB of argv */
	k = bind_ok(f, lay);
	k->max_cmdline = 40;
	assert_int_equal(linux_tasks(k, LINUX_TASKS_CMDLINE, &l, &rep, &err), 0);
	a = find_pid(&l, 1);
	assert_non_null(a);
	assert_string_equal(a->comm, "ABCDEFGHIJKLMNOP");
	assert_int_equal(a->comm[LINUX_COMM_LEN], '\0');
	assert_true(a->cmdline_truncated);
	assert_int_equal(a->cmdline_len, 40);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

static void test_cmdline_unmapped_is_reported(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };

	build(f, &w);
	kw64(f, w.mm + 8, 0x7ff00000);		/* argv on a page that is not mapped */
	kw64(f, w.mm + 16, 0x7ff00010);
	k = bind_ok(f, lay);
	assert_int_equal(linux_tasks(k, LINUX_TASKS_CMDLINE, &l, &rep, &err), 0);
	assert_true(l.incomplete);
	assert_true(find_pid(&l, 1)->incomplete);
	assert_null(find_pid(&l, 1)->cmdline);
	assert_non_null(strstr(rep.msg[0], "0x7ff00000"));
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

/* A UDP socket owned by init through fd 3, plus an unowned TCP listener. */
static void build_sockets(struct fx *f, struct world *w, uint64_t *udp_sk, uint64_t *tcp_sk)
{
	uint64_t files = kalloc(f, 0x10), fdt = kalloc(f, 0x10), fdarr = kalloc(f, 64);
	uint64_t file = kalloc(f, 0x20), sock = kalloc(f, 0x40);
	uint64_t usk = kalloc(f, SK_SIZE), tsk = kalloc(f, SK_SIZE);
	uint64_t slots = kalloc(f, 16), ehash = kalloc(f, 8), lhash = kalloc(f, 16);
	uint8_t lo[4] = { 127, 0, 0, 1 };

	kw64(f, w->a + T_FILES, files);
	kw64(f, files + 8, fdt);
	kw32(f, fdt + 0, 8);
	kw64(f, fdt + 8, fdarr);
	kw64(f, fdarr + 3 * 8, file);
	kw64(f, file + 8, rt(SYM_SOCK_FOPS));
	kw64(f, file + 16, sock);
	kw16(f, sock + 4, 2);			/* SOCK_DGRAM */
	kw64(f, sock + 8, usk);
	kw64(f, sock + 0x20 + 8, 4242);		/* i_ino */
	kw16(f, usk + SKC_FAMILY, 2);
	kw8(f, usk + SKC_STATE, 7);
	kw16(f, usk + SKC_NUM, 53);
	kwrite(f, usk + SKC_SADDR, lo, 4);
	kw16(f, usk + SK_PROTO, 17);
	kw16(f, usk + SK_TYPE, 2);
	kw32(f, usk + SK_WMEM, 1);
	/* udp_table: one slot holding the UDP sock */
	kw64(f, rt(SYM_UDP_TABLE), slots);
	kw32(f, rt(SYM_UDP_TABLE) + 8, 0);
	kw64(f, slots, usk + SKC_NODE);
	/* tcp_hashinfo: an empty ehash and one listener nobody owns */
	kw64(f, rt(SYM_TCP_HASH), ehash);
	kw64(f, rt(SYM_TCP_HASH) + 8, lhash);
	kw64(f, ehash, 1);			/* nulls end marker */
	kw64(f, lhash + 8, tsk + SKC_NODE);
	kw64(f, tsk + SKC_NODE, 3);		/* nulls end */
	kw16(f, tsk + SKC_FAMILY, 10);
	kw8(f, tsk + SKC_STATE, 10);		/* LISTEN */
	kw16(f, tsk + SKC_NUM, 2222);
	kw16(f, tsk + SK_PROTO, 6);
	kw16(f, tsk + SK_TYPE, 1);
	*udp_sk = usk;
	*tcp_sk = tsk;
}

static const struct linux_sock *find_sock(const struct linux_sock_list *l, uint64_t sk)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i].sk == sk)
			return &l->s[i];
	return NULL;
}

static void test_sockets_owned_and_unowned(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_sock_list sl;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	uint64_t usk, tsk;
	const struct linux_sock *u, *t;

	build(f, &w);
	build_sockets(f, &w, &usk, &tsk);
	k = bind_ok(f, lay);
	assert_int_equal(linux_tasks(k, 0, &l, &rep, &err), 0);
	assert_int_equal(linux_sockets(k, &l, LINUX_SOCKS_INET, &sl, &rep, &err), 0);
	if (rep.n)
		fail_msg("unexpected problem: %s", rep.msg[0]);
	assert_false(sl.incomplete);
	assert_int_equal(sl.n, 2);
	u = find_sock(&sl, usk);
	t = find_sock(&sl, tsk);
	assert_non_null(u);
	assert_non_null(t);
	assert_int_equal(u->proto, LSOCK_UDP);
	assert_int_equal(u->lport, 53);
	assert_memory_equal(u->laddr, "\x7f\0\0\x01", 4);
	assert_int_equal(u->inode, 4242);
	assert_true(u->in_fd && u->in_hash);
	assert_int_equal(u->nowners, 1);
	assert_int_equal(u->owner[0].pid, 1);
	assert_int_equal(u->owner[0].fd, 3);
	assert_int_equal(t->proto, LSOCK_TCP);
	assert_int_equal(t->family, 10);
	assert_int_equal(t->lport, 2222);
	assert_int_equal(t->state, 10);
	assert_true(t->in_hash);
	assert_false(t->in_fd);
	assert_int_equal(t->nowners, 0);
	linux_sock_list_free(&sl);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

/* A unix socket no process holds, found in init_net's unix hash. */
static void test_unowned_unix_socket(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_sock_list sl;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	uint64_t usk, tsk, ux = kalloc(f, UNIX_SIZE), ua = kalloc(f, 64), buckets = kalloc(f, 4096);
	const struct linux_sock *u;

	build(f, &w);
	build_sockets(f, &w, &usk, &tsk);
	/* net_namespace_list <-> init_net.list, one namespace */
	kw64(f, rt(SYM_NET_LIST), rt(SYM_INIT_NET));
	kw64(f, rt(SYM_NET_LIST) + 8, rt(SYM_INIT_NET));
	kw64(f, rt(SYM_INIT_NET), rt(SYM_NET_LIST));
	kw64(f, rt(SYM_INIT_NET) + 8, rt(SYM_NET_LIST));
	kw64(f, rt(SYM_INIT_NET) + 16 + 8, buckets);	/* unx.table.buckets */
	kw64(f, buckets + 77 * 8, ux + SKC_NODE);
	kw16(f, ux + SKC_FAMILY, 1);
	kw8(f, ux + SKC_STATE, 1);			/* TCP_ESTABLISHED: connected */
	kw16(f, ux + SK_TYPE, 1);
	kw64(f, ux + UNIX_ADDR, ua);
	kw32(f, ua + 4, 2 + 9);
	kwrite(f, ua + 8 + 2, "\0abstract", 9);
	k = bind_ok(f, lay);
	assert_int_equal(linux_tasks(k, 0, &l, &rep, &err), 0);
	assert_int_equal(linux_sockets(k, &l, LINUX_SOCKS_INET | LINUX_SOCKS_UNIX, &sl, &rep, &err), 0);
	if (rep.n)
		fail_msg("unexpected problem: %s", rep.msg[0]);
	u = find_sock(&sl, ux);
	assert_non_null(u);
	assert_int_equal(u->proto, LSOCK_UNIX);
	assert_string_equal(u->path, "@abstract");
	assert_true(u->in_hash);
	assert_false(u->in_fd);
	assert_int_equal(u->nowners, 0);
	assert_int_equal(u->sock_state, 3);		/* shown CONNECTED, as /proc does */
	linux_sock_list_free(&sl);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

static void test_endless_hash_chain_is_bounded(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_sock_list sl;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	uint64_t usk, tsk, other = kalloc(f, SK_SIZE);
	bool loop = false;

	build(f, &w);
	build_sockets(f, &w, &usk, &tsk);
	/* udp chain: usk -> other -> usk -> ... */
	kw64(f, usk + SKC_NODE, other + SKC_NODE);
	kw64(f, other + SKC_NODE, usk + SKC_NODE);
	kw16(f, other + SKC_FAMILY, 2);
	kw16(f, other + SK_PROTO, 17);
	k = bind_ok(f, lay);
	assert_int_equal(linux_tasks(k, 0, &l, &rep, &err), 0);
	assert_int_equal(linux_sockets(k, &l, LINUX_SOCKS_INET, &sl, &rep, &err), 0);
	assert_true(sl.incomplete);
	for (unsigned i = 0; i < rep.n && i < LINUX_REPORT_KEEP; i++)
		loop |= strstr(rep.msg[i], "loops") != NULL;
	assert_true(loop);
	assert_non_null(find_sock(&sl, usk));
	assert_non_null(find_sock(&sl, other));
	assert_non_null(find_sock(&sl, tsk));	/* the other tables are still read */
	linux_sock_list_free(&sl);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

/* An fdtable claiming 4 billion fds is read up to the cap, and said so. */
static void test_huge_fdtable_is_capped(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_sock_list sl;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	uint64_t usk, tsk, fdt;

	build(f, &w);
	build_sockets(f, &w, &usk, &tsk);
	k = bind_ok(f, lay);
	k->max_fds = 16;
	assert_int_equal(linux_read_u64(k, w.a + T_FILES, &fdt, "files", &err), 0);
	assert_int_equal(linux_read_u64(k, fdt + 8, &fdt, "fdt", &err), 0);
	kw32(f, fdt, 0xffffffffu);
	assert_int_equal(linux_tasks(k, 0, &l, &rep, &err), 0);
	assert_int_equal(linux_sockets(k, &l, LINUX_SOCKS_INET, &sl, &rep, &err), 0);
	assert_true(sl.incomplete);
	assert_non_null(strstr(rep.msg[0], "4294967295"));
	assert_non_null(find_sock(&sl, usk));		/* fd 3 is below the cap */
	assert_true(find_sock(&sl, usk)->in_fd);
	linux_sock_list_free(&sl);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

static void test_chain_guard(void **state)
{
	struct linux_chain_guard g;
	struct vmet_err err = { 0 };
	int rc = 0;
	size_t steps = 0;

	(void)state;
	/* 10 distinct nodes, then a cycle of 1000: found within a few thousand steps. */
	linux_chain_init(&g, 1u << 20);
	for (uint64_t i = 0; !rc && steps < 100000; steps++) {
		rc = linux_chain_step(&g, 0x1000 + i * 0x40, &err);
		i = i < 1009 ? i + 1 : 10;
	}
	assert_int_equal(rc, VMET_ELOOP);
	assert_true(steps < 5000);
	/* A long chain without a cycle hits the cap. */
	linux_chain_init(&g, 100);
	rc = 0;
	for (uint64_t i = 0; !rc && i < 1000; i++)
		rc = linux_chain_step(&g, 0x1000 + i * 0x40, &err);
	assert_int_equal(rc, VMET_ELIMIT);
}

/* --- paths (exe, cwd, root) and the environment ---------------------- */

/* A dentry named `name` under `parent` (0: a root, its own parent). */
static uint64_t dentry(struct fx *f, uint64_t parent, const char *name, bool hashed)
{
	uint64_t d = kalloc(f, D_SIZE + 64);
	size_t n = strlen(name);

	kw64(f, d + D_PARENT, parent ? parent : d);
	kw32(f, d + D_NAME + Q_LEN, (uint32_t)n);
	kw64(f, d + D_NAME + Q_NAME, d + D_SIZE);	/* the name inline, like d_iname */
	kwrite(f, d + D_SIZE, name, n);
	if (hashed)
		kw64(f, d + D_HASH + 8, d + D_HASH);	/* any non-NULL pprev */
	return d;
}

/* A struct mount whose root is `root`, on `mountpoint` in `parent` (0: top). */
static uint64_t mount_at(struct fx *f, uint64_t root, uint64_t parent, uint64_t mountpoint)
{
	uint64_t m = kalloc(f, M_SIZE);

	kw64(f, m + M_MNT + V_ROOT, root);
	kw64(f, m + M_PARENT, parent ? parent : m);
	kw64(f, m + M_MOUNTPOINT, mountpoint ? mountpoint : root);
	return m;
}

struct tree {
	uint64_t rootfs, droot, drun, tmpfs, dtroot, dvmet, ddir, dgone, fs, file;
};

/*
 * A rootfs with /run, a tmpfs mounted on /run holding /vmet/a dir, and a
 * deleted /gone; init's fs: cwd "/run/vmet/a dir", root "/"; its exe /gone.
 */
static void build_tree(struct fx *f, struct world *w, struct tree *t)
{
	t->droot = dentry(f, 0, "/", false);
	t->rootfs = mount_at(f, t->droot, 0, 0);
	t->drun = dentry(f, t->droot, "run", true);
	t->dtroot = dentry(f, 0, "/", false);
	t->tmpfs = mount_at(f, t->dtroot, t->rootfs, t->drun);
	t->dvmet = dentry(f, t->dtroot, "vmet", true);
	t->ddir = dentry(f, t->dvmet, "a dir", true);
	t->dgone = dentry(f, t->droot, "gone", false);	/* unlinked */
	t->fs = kalloc(f, FS_SIZE);
	kw64(f, t->fs + FS_ROOT, t->rootfs + M_MNT);
	kw64(f, t->fs + FS_ROOT + 8, t->droot);
	kw64(f, t->fs + FS_PWD, t->tmpfs + M_MNT);
	kw64(f, t->fs + FS_PWD + 8, t->ddir);
	t->file = kalloc(f, 0x30);
	kw64(f, t->file + FILE_PATH, t->rootfs + M_MNT);
	kw64(f, t->file + FILE_PATH + 8, t->dgone);
	kw64(f, w->a + T_FS, t->fs);
	kw64(f, w->b + T_FS, t->fs);
	kw64(f, w->mm + MM_EXE, t->file);
	/* The environment next to argv: two variables, NULs kept. */
	mem_write(f->src, w->argpa + 0x100, "HOME=/\0TERM=linux\0", 18);
	kw64(f, w->mm + MM_ENV_START, 0x7ffc0100);
	kw64(f, w->mm + MM_ENV_END, 0x7ffc0100 + 18);
}

static void test_paths_and_environ(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct tree t;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	const struct linux_task *a, *b;

	build(f, &w);
	build_tree(f, &w, &t);
	k = bind_ok(f, lay);
	assert_true(k->off.have_paths);
	assert_true(k->off.have_environ);
	assert_int_equal(linux_tasks(k, LINUX_TASKS_CMDLINE | LINUX_TASKS_ENVIRON |
				     LINUX_TASKS_PATHS, &l, &rep, &err), 0);
	assert_int_equal(rep.n, 0);
	assert_false(l.incomplete);
	a = find_pid(&l, 1);
	b = find_pid(&l, 2);
	assert_string_equal(a->cwd, "/run/vmet/a dir");
	assert_string_equal(a->root, "/");
	assert_string_equal(a->exe, "/gone (deleted)");
	assert_int_equal(a->environ_len, 18);
	assert_memory_equal(a->environ, "HOME=/\0TERM=linux\0", 18);
	/* A kernel thread: cwd and root through its fs, no exe, no environment. */
	assert_string_equal(b->cwd, "/run/vmet/a dir");
	assert_null(b->exe);
	assert_null(b->environ);
	linux_task_list_free(&l);

	/* Capped like the command line. */
	k->max_environ = 7;
	assert_int_equal(linux_tasks(k, LINUX_TASKS_ENVIRON, &l, &rep, &err), 0);
	a = find_pid(&l, 1);
	assert_int_equal(a->environ_len, 7);
	assert_true(a->environ_truncated);
	assert_null(a->cwd);	/* not asked for */
	linux_task_list_free(&l);
	/* The exe alone (vmet ps --exe). */
	assert_int_equal(linux_tasks(k, LINUX_TASKS_EXE, &l, &rep, &err), 0);
	a = find_pid(&l, 1);
	assert_string_equal(a->exe, "/gone (deleted)");
	assert_null(a->cwd);
	assert_null(a->root);
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

static uint64_t kr64(struct fx *f, uint64_t va)
{
	uint64_t pa = va >= DIRECT && va < DIRECT + MEM ? va - DIRECT : img_pa(va - SLIDE), v;

	memcpy(&v, mem_bytes(f->src) + pa, 8);
	return v;
}

/* A second thread (TID tid) in leader's group, sharing its mm and creds. */
static uint64_t add_thread(struct fx *f, uint64_t leader, int tid)
{
	uint64_t thr = kalloc(f, T_SIZE), signal = kr64(f, leader + T_SIGNAL), head = signal + 0x10;

	task_init(f, thr, tid, "worker", kr64(f, leader + T_PARENT), signal, 0x40);
	kw32(f, thr + T_TGID, kr64(f, leader + T_TGID) & 0xffffffffu);
	kw64(f, thr + T_MM, kr64(f, leader + T_MM));
	kw64(f, thr + T_FS, kr64(f, leader + T_FS));
	/* head <-> leader <-> thr <-> head */
	kw64(f, head, leader + T_THREAD);
	kw64(f, leader + T_THREAD, thr + T_THREAD);
	kw64(f, leader + T_THREAD + 8, head);
	kw64(f, thr + T_THREAD, head);
	kw64(f, thr + T_THREAD + 8, leader + T_THREAD);
	kw64(f, head + 8, thr + T_THREAD);
	return thr;
}

static void test_thread_paths(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct tree t;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	uint64_t thr, fs2;

	build(f, &w);
	build_tree(f, &w, &t);
	thr = add_thread(f, w.a, 7);
	k = bind_ok(f, lay);
	/* Shared mm and fs: the leader's paths. */
	assert_int_equal(linux_tasks(k, LINUX_TASKS_THREADS | LINUX_TASKS_PATHS, &l, &rep, &err), 0);
	assert_int_equal(rep.n, 0);
	assert_string_equal(find_pid(&l, 7)->exe, "/gone (deleted)");
	assert_string_equal(find_pid(&l, 7)->cwd, "/run/vmet/a dir");
	assert_int_equal(find_pid(&l, 1)->nthreads, 2);
	linux_task_list_free(&l);
	/* A thread with its own fs_struct (unshare(CLONE_FS), then chdir). */
	fs2 = kalloc(f, FS_SIZE);
	kw64(f, fs2 + FS_ROOT, t.rootfs + M_MNT);
	kw64(f, fs2 + FS_ROOT + 8, t.droot);
	kw64(f, fs2 + FS_PWD, t.tmpfs + M_MNT);
	kw64(f, fs2 + FS_PWD + 8, t.dvmet);
	kw64(f, thr + T_FS, fs2);
	/* And a leader that has exited: no mm, no fs; its thread runs on. */
	kw64(f, w.a + T_MM, 0);
	kw64(f, w.a + T_FS, 0);
	assert_int_equal(linux_tasks(k, LINUX_TASKS_THREADS | LINUX_TASKS_PATHS, &l, &rep, &err), 0);
	assert_int_equal(rep.n, 0);
	assert_null(find_pid(&l, 1)->exe);
	assert_null(find_pid(&l, 1)->cwd);
	assert_string_equal(find_pid(&l, 7)->exe, "/gone (deleted)");
	assert_string_equal(find_pid(&l, 7)->cwd, "/run/vmet");
	assert_string_equal(find_pid(&l, 7)->root, "/");
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

/* d_path's result for a dentry on the rootfs of build_tree: 0 or the error. */
static int path_of(struct linux_kernel *k, uint64_t mnt, uint64_t d, char *out)
{
	struct vmet_err err = { 0 };

	return linux_d_path(k, mnt + M_MNT, d, out, &err);
}

static void test_hostile_paths(void **state)
{
	struct fx *f = *state;
	struct world w;
	struct tree t;
	struct linux_layout *lay = vmci_layout();
	struct linux_kernel *k;
	struct linux_task_list l;
	struct linux_report rep = { 0 };
	struct vmet_err err = { 0 };
	char out[LINUX_PATH_MAX];
	uint64_t d, d2, m1, m2, r1, r2;
	char big[300];

	build(f, &w);
	build_tree(f, &w, &t);
	k = bind_ok(f, lay);
	assert_int_equal(path_of(k, t.tmpfs, t.ddir, out), 0);
	assert_string_equal(out, "/run/vmet/a dir");
	/* A newline is a legal name byte: kept, as readlink gives it. */
	d = dentry(f, t.droot, "new\nline", true);
	assert_int_equal(path_of(k, t.rootfs, d, out), 0);
	assert_string_equal(out, "/new\nline");
	/* '/' or NUL inside a name, an empty name, a name past NAME_MAX. */
	d = dentry(f, t.droot, "a/b", true);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_EFORMAT);
	d = dentry(f, t.droot, "ab", true);
	kwrite(f, d + D_SIZE, "a\0", 2);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_EFORMAT);
	kw32(f, d + D_NAME + Q_LEN, 0);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_EFORMAT);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	d = dentry(f, t.droot, big, true);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_EFORMAT);
	kw32(f, d + D_NAME + Q_LEN, 0xffffffffu);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_EFORMAT);
	/* A name pointer out of memory, a parent that is no kernel address. */
	d = dentry(f, t.droot, "x", true);
	kw64(f, d + D_NAME + Q_NAME, DIRECT + (1ull << 40));
	assert_true(path_of(k, t.rootfs, d, out) < 0);
	kw64(f, d + D_NAME + Q_NAME, d + D_SIZE);
	kw64(f, d + D_PARENT, 0x1234);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_ENONCANON);
	/* Two dentries each other's parent: bounded by the path's length. */
	d = dentry(f, 0, "x", true);
	d2 = dentry(f, d, "y", true);
	kw64(f, d + D_PARENT, d2);
	assert_int_equal(path_of(k, t.rootfs, d, out), VMET_ELIMIT);
	/* Two mounts each other's parent, on each other's root: no names are
	 * added, so the crossing cap ends it. */
	r1 = dentry(f, 0, "/", false);
	r2 = dentry(f, 0, "/", false);
	m1 = mount_at(f, r1, 0, 0);
	m2 = mount_at(f, r2, m1, r1);
	kw64(f, m1 + M_PARENT, m2);
	kw64(f, m1 + M_MOUNTPOINT, r2);
	assert_int_equal(path_of(k, m1, r1, out), VMET_ELIMIT);
	/* A dentry that is its own parent but not its mount's root: "/" (the
	 * kernel's answer for a path outside its mount). */
	d = dentry(f, 0, "orphan", true);
	assert_int_equal(path_of(k, t.tmpfs, d, out), 0);
	assert_string_equal(out, "/");
	/* In a listing: init's cwd broken, reported, absent; the rest stands. */
	kw64(f, t.ddir + D_PARENT, 0x1234);
	assert_int_equal(linux_tasks(k, LINUX_TASKS_PATHS, &l, &rep, &err), 0);
	assert_true(l.incomplete);
	assert_null(find_pid(&l, 1)->cwd);
	assert_string_equal(find_pid(&l, 1)->root, "/");
	assert_string_equal(find_pid(&l, 1)->exe, "/gone (deleted)");
	assert_non_null(strstr(rep.msg[0], "PID 1: cwd"));
	linux_task_list_free(&l);
	linux_kernel_close(k);
	free(lay);
}

static void test_state_letters(void **state)
{
	(void)state;
	assert_int_equal(linux_task_state_char(0, 0), 'R');
	assert_int_equal(linux_task_state_char(1, 0), 'S');
	assert_int_equal(linux_task_state_char(2, 0), 'D');
	assert_int_equal(linux_task_state_char(0x402, 0), 'I');
	assert_int_equal(linux_task_state_char(0, 32), 'Z');
	assert_int_equal(linux_task_state_char(4, 0), 'T');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_vmcoreinfo_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locate_by_vmcoreinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locate_by_cr3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cr3_scattered_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_skips_decoy_banner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_five_level_depth_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_profile_is_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_cycle_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_out_of_memory_recovers_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comm_without_nul_and_long_cmdline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_unmapped_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockets_owned_and_unowned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unowned_unix_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless_hash_chain_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_fdtable_is_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_and_environ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_paths, setup, teardown),
		cmocka_unit_test(test_chain_guard),
		cmocka_unit_test(test_state_letters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
