// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shadow /proc's tree (see procfs_tree.h): one reading of the guest,
 * sorted indexes for lookups by PID, and the path grammar
 *
 *   /  /PID/  /PID/task/  /PID/task/TID/  /PID/fd/  /PID/fd/N  /net/
 *   /PID/{stat,status,comm,cmdline,environ}  /PID/task/TID/{stat,...,environ}
 *   /PID/{exe,cwd,root}  /PID/task/TID/{exe,cwd,root}  (links, when resolved)
 *   /net/{tcp,tcp6,udp,udp6,unix}  /{version,uptime,stat,loadavg,meminfo,cpuinfo}
 *   /self/{stat,status} (the reader's, from the host: see procfs_tree.h), /self/task/
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/procfs_tree.h"

/* stat and status first: /self has those two. */
static const char *const pid_files[] = { "stat", "status", "comm", "cmdline", "environ" };
static const char *const pid_links[] = { "exe", "cwd", "root" };
static const char *const net_files[] = { "tcp", "tcp6", "udp", "udp6", "unix" };
static const char *const sys_files[] = { "version", "uptime", "stat", "loadavg", "meminfo",
					 "cpuinfo" };

static int cmp_lead(const void *a, const void *b, void *arg)
{
	const struct linux_task *t = arg;
	const struct linux_task *x = &t[*(const size_t *)a], *y = &t[*(const size_t *)b];

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static int cmp_thr(const void *a, const void *b, void *arg)
{
	const struct linux_task *t = arg;
	const struct linux_task *x = &t[*(const size_t *)a], *y = &t[*(const size_t *)b];

	if (x->tgid != y->tgid)
		return (x->tgid > y->tgid) - (x->tgid < y->tgid);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_fd(const void *a, const void *b)
{
	const struct procfs_fd *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->fd > y->fd) - (x->fd < y->fd);
}

static void read_banner(struct linux_kernel *k, char *out, size_t n)
{
	static const size_t tries[] = { 256, 128, 64 };
	struct vmet_err err = { 0 };

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		size_t len = tries[i] < n ? tries[i] : n - 1;

		if (linux_read(k, k->banner_va, out, len, "linux_banner", &err) == 0) {
			out[len] = '\0';
			out[strcspn(out, "\n")] = '\0';
			return;
		}
	}
	out[0] = '\0';
}

/* A list of the leaders only, sharing tl's entries (linux_sockets wants one). */
static int leaders_view(const struct linux_task_list *tl, struct linux_task_list *out)
{
	memset(out, 0, sizeof(*out));
	out->t = calloc(tl->n + 1, sizeof(*out->t));
	if (!out->t)
		return -1;
	for (size_t i = 0; i < tl->n; i++)
		if (tl->t[i].leader)
			out->t[out->n++] = tl->t[i];
	out->cap = tl->n + 1;
	return 0;
}

static int index_fds(struct procfs_snap *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->sl.n; i++)
		n += s->sl.s[i].nowners;
	s->fds = calloc(n + 1, sizeof(*s->fds));
	if (!s->fds)
		return -1;
	for (size_t i = 0; i < s->sl.n; i++) {
		const struct linux_sock *k = &s->sl.s[i];

		for (unsigned o = 0; o < k->nowners && o < LINUX_SOCK_OWNERS; o++) {
			s->fds[s->nfds].pid = k->owner[o].pid;
			s->fds[s->nfds].fd = k->owner[o].fd;
			s->fds[s->nfds].inode = k->inode;
			s->nfds++;
		}
	}
	if (s->nfds)
		qsort(s->fds, s->nfds, sizeof(*s->fds), cmp_fd);
	return 0;
}

int procfs_snap_read(struct linux_session *ses, struct procfs_snap *s, struct vmet_err *err)
{
	struct linux_task_list lv;
	uint64_t latest = 0;
	time_t now = time(NULL);

	memset(s, 0, sizeof(*s));
	s->rep = calloc(1, sizeof(*s->rep));
	if (!s->rep)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	/* /PID/cmdline wants the arguments apart, as the kernel gives them. */
	ses->k->cmdline_keep_nul = true;
	if (linux_tasks(ses->k, LINUX_TASKS_THREADS | LINUX_TASKS_CMDLINE | LINUX_TASKS_ENVIRON |
			LINUX_TASKS_PATHS, &s->tl, s->rep, err))
		return -1;
	if (leaders_view(&s->tl, &lv))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	if (linux_sockets(ses->k, &lv, LINUX_SOCKS_INET | LINUX_SOCKS_UNIX, &s->sl, s->rep, err)) {
		free(lv.t);	/* its entries belong to s->tl */
		return -1;
	}
	free(lv.t);
	s->lead = calloc(s->tl.n + 1, sizeof(*s->lead));
	s->thr = calloc(s->tl.n + 1, sizeof(*s->thr));
	if (!s->lead || !s->thr || index_fds(s))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->tl.n; i++) {
		const struct linux_task *t = &s->tl.t[i];

		s->thr[i] = i;
		if (t->leader)
			s->lead[s->nlead++] = i;
		if (t->start_ns > latest)
			latest = t->start_ns;
		if (t->pid > s->sys.last_pid)
			s->sys.last_pid = t->pid;
		s->sys.nrunning += t->state_char == 'R';
	}
	qsort_r(s->lead, s->nlead, sizeof(size_t), cmp_lead, s->tl.t);
	qsort_r(s->thr, s->tl.n, sizeof(size_t), cmp_thr, s->tl.t);
	s->sys.ntasks = (unsigned)s->tl.n;
	read_banner(ses->k, s->sys.banner, sizeof(s->sys.banner));
	/*
	 * The kernel's clock is not read: the newest task's start time is a
	 * lower bound of the uptime, and boot time follows from the host's
	 * clock now (right for a live guest, approximate for a dump).
	 */
	s->sys.uptime_ns = latest + 1000000000u;
	s->sys.boot_time = (uint64_t)now > s->sys.uptime_ns / 1000000000u ?
			   (uint64_t)now - s->sys.uptime_ns / 1000000000u : 0;
	s->sys.mem_total = phys_total_size(ses->src);
	s->incomplete = s->tl.incomplete || s->sl.incomplete || s->rep->n;
	return 0;
}

void procfs_snap_free(struct procfs_snap *s)
{
	linux_task_list_free(&s->tl);
	linux_sock_list_free(&s->sl);
	free(s->lead);
	free(s->thr);
	free(s->fds);
	free(s->rep);
	memset(s, 0, sizeof(*s));
}

/* A PID as /proc names it: decimal, no sign, no leading zero, fits int32. */
static bool parse_id(const char *p, size_t len, int32_t *out)
{
	int64_t v = 0;

	if (!len || len > 10 || (p[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static const struct linux_task *find_leader(const struct procfs_snap *s, int32_t tgid)
{
	size_t lo = 0, hi = s->nlead;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct linux_task *t = &s->tl.t[s->lead[mid]];

		if (t->tgid == tgid)
			return t;
		if (t->tgid < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* First position in s->thr whose (tgid, pid) is >= the key. */
static size_t thr_lower(const struct procfs_snap *s, int32_t tgid, int32_t pid)
{
	size_t lo = 0, hi = s->tl.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct linux_task *t = &s->tl.t[s->thr[mid]];

		if (t->tgid < tgid || (t->tgid == tgid && t->pid < pid))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t fd_lower(const struct procfs_snap *s, int32_t pid, int32_t fd)
{
	size_t lo = 0, hi = s->nfds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct procfs_fd *f = &s->fds[mid];

		if (f->pid < pid || (f->pid == pid && f->fd < fd))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int name_index(const char *const *names, size_t n, const char *p, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], p, len))
			return (int)i;
	return -1;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The target of one of pid_links for a task; NULL: the link does not exist. */
static const char *task_link(const struct linux_task *t, int which)
{
	return which == 0 ? t->exe : which == 1 ? t->cwd : t->root;
}

/* A file or link in a PID or TID directory (n->task set). */
static bool task_entry(const char *name, size_t len, struct procfs_node *n)
{
	int i;

	if ((i = name_index(pid_files, NELEM(pid_files), name, len)) >= 0) {
		n->kind = PN_FILE;
		n->file = (enum procfs_file)(PF_STAT + i);
		return true;
	}
	if ((i = name_index(pid_links, NELEM(pid_links), name, len)) < 0 ||
	    !(n->link = task_link(n->task, i)))
		return false;
	n->kind = PN_LINK;
	return true;
}

bool procfs_lookup(const struct procfs_snap *s, const char *path, int32_t reader,
		   struct procfs_node *n)
{
	const char *comp[5];
	size_t len[5], nc = 0;
	int32_t id, tid;
	int i;

	memset(n, 0, sizeof(*n));
	for (const char *p = path; *p;) {
		size_t l;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l = strcspn(p, "/");
		if (nc == NELEM(comp))
			return false;
		comp[nc] = p;
		len[nc++] = l;
		p += l;
	}
	if (nc == 0) {
		n->kind = PN_ROOT;
		return true;
	}
	if (len[0] == 3 && !memcmp(comp[0], "net", 3)) {
		if (nc == 1) {
			n->kind = PN_NETDIR;
			return true;
		}
		if (nc != 2 || (i = name_index(net_files, NELEM(net_files), comp[1], len[1])) < 0)
			return false;
		n->kind = PN_FILE;
		n->file = (enum procfs_file)(PF_NET_TCP + i);
		return true;
	}
	if ((len[0] == 4 && !memcmp(comp[0], "self", 4)) ||
	    (parse_id(comp[0], len[0], &id) && id == reader && !find_leader(s, id))) {
		if (nc == 1) {
			n->kind = PN_SELF;
			return true;
		}
		if (nc == 2 && len[1] == 4 && !memcmp(comp[1], "task", 4)) {
			n->kind = PN_SELF_TASK;
			return true;
		}
		if (nc != 2 || (i = name_index(pid_files, 2, comp[1], len[1])) < 0)
			return false;
		n->kind = PN_FILE;
		n->file = (enum procfs_file)(PF_SELF_STAT + i);
		return true;
	}
	if (!parse_id(comp[0], len[0], &id)) {
		if (nc != 1 || (i = name_index(sys_files, NELEM(sys_files), comp[0], len[0])) < 0)
			return false;
		n->kind = PN_FILE;
		n->file = (enum procfs_file)(PF_VERSION + i);
		return true;
	}
	if (!(n->leader = n->task = find_leader(s, id)))
		return false;
	if (nc == 1) {
		n->kind = PN_PID;
		return true;
	}
	if (len[1] == 2 && !memcmp(comp[1], "fd", 2)) {
		size_t at;

		if (nc == 2) {
			n->kind = PN_FDDIR;
			return true;
		}
		if (nc != 3 || !parse_id(comp[2], len[2], &tid))
			return false;
		at = fd_lower(s, id, tid);
		if (at == s->nfds || s->fds[at].pid != id || s->fds[at].fd != tid)
			return false;
		n->kind = PN_FDLINK;
		n->fd = &s->fds[at];
		return true;
	}
	if (len[1] == 4 && !memcmp(comp[1], "task", 4)) {
		size_t at;

		if (nc == 2) {
			n->kind = PN_TASKDIR;
			return true;
		}
		if (!parse_id(comp[2], len[2], &tid))
			return false;
		at = thr_lower(s, id, tid);
		if (at == s->tl.n || s->tl.t[s->thr[at]].tgid != id || s->tl.t[s->thr[at]].pid != tid)
			return false;
		n->task = &s->tl.t[s->thr[at]];
		if (nc == 3) {
			n->kind = PN_TID;
			return true;
		}
		return nc == 4 && task_entry(comp[3], len[3], n);
	}
	return nc == 2 && task_entry(comp[1], len[1], n);
}

void procfs_render(const struct procfs_snap *s, const struct procfs_node *n,
		   struct procfs_buf *b)
{
	/* Threads are not counted on their own entries: the leader's count. */
	unsigned nthr = n->leader ? n->leader->nthreads : 1;

	switch (n->file) {
	case PF_STAT: procfs_task_stat(b, n->task, nthr); break;
	case PF_STATUS: procfs_task_status(b, n->task, nthr); break;
	case PF_COMM: procfs_task_comm(b, n->task); break;
	case PF_CMDLINE: procfs_task_cmdline(b, n->task); break;
	/* Threads share the leader's mm, whose environment was read. */
	case PF_ENVIRON: procfs_task_environ(b, n->leader ? n->leader : n->task); break;
	case PF_NET_TCP: procfs_net(b, PROCFS_TCP, &s->sl); break;
	case PF_NET_TCP6: procfs_net(b, PROCFS_TCP6, &s->sl); break;
	case PF_NET_UDP: procfs_net(b, PROCFS_UDP, &s->sl); break;
	case PF_NET_UDP6: procfs_net(b, PROCFS_UDP6, &s->sl); break;
	case PF_NET_UNIX: procfs_net(b, PROCFS_UNIX, &s->sl); break;
	case PF_VERSION: procfs_version(b, &s->sys); break;
	case PF_UPTIME: procfs_uptime(b, &s->sys); break;
	case PF_SYSSTAT: procfs_stat(b, &s->sys); break;
	case PF_LOADAVG: procfs_loadavg(b, &s->sys); break;
	case PF_MEMINFO: procfs_meminfo(b, &s->sys); break;
	case PF_CPUINFO: procfs_cpuinfo(b, &s->sys); break;
	case PF_SELF_STAT: case PF_SELF_STATUS: break;
	}
}

void procfs_list(const struct procfs_snap *s, const struct procfs_node *n, procfs_dir_fn fn,
		 void *ctx)
{
	char name[16];
	size_t at;
	int32_t tgid;

	switch (n->kind) {
	case PN_ROOT:
		for (size_t i = 0; i < NELEM(sys_files); i++)
			fn(ctx, sys_files[i]);
		fn(ctx, "net");
		for (size_t i = 0; i < s->nlead; i++) {
			snprintf(name, sizeof(name), "%d", s->tl.t[s->lead[i]].tgid);
			if (fn(ctx, name))
				return;
		}
		break;
	case PN_NETDIR:
		for (size_t i = 0; i < NELEM(net_files); i++)
			fn(ctx, net_files[i]);
		break;
	case PN_PID:
		fn(ctx, "task");
		fn(ctx, "fd");
		/* fall through */
	case PN_TID:
		for (size_t i = 0; i < NELEM(pid_files); i++)
			fn(ctx, pid_files[i]);
		for (size_t i = 0; i < NELEM(pid_links); i++)
			if (task_link(n->task, (int)i))
				fn(ctx, pid_links[i]);
		break;
	case PN_SELF:
		fn(ctx, "task");
		fn(ctx, pid_files[0]);
		fn(ctx, pid_files[1]);
		break;
	case PN_TASKDIR:
		tgid = n->leader->tgid;
		for (at = thr_lower(s, tgid, INT32_MIN);
		     at < s->tl.n && s->tl.t[s->thr[at]].tgid == tgid; at++) {
			snprintf(name, sizeof(name), "%d", s->tl.t[s->thr[at]].pid);
			if (fn(ctx, name))
				return;
		}
		break;
	case PN_FDDIR:
		tgid = n->leader->tgid;
		for (at = fd_lower(s, tgid, INT32_MIN); at < s->nfds && s->fds[at].pid == tgid; at++) {
			/* A socket shared by two fds of one process is listed under both. */
			snprintf(name, sizeof(name), "%d", s->fds[at].fd);
			if (fn(ctx, name))
				return;
		}
		break;
	default:
		break;
	}
}
