// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tasks: init_task's list of thread-group leaders, each group's threads
 * (signal->thread_head), and the fields ps shows.  A broken list is walked
 * again from the other end, so one bad pointer loses as few tasks as
 * possible; everything lost is reported.
 */
#include "core/bytes.h"
#include "os/linux/linux.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PF_KTHREAD 0x00200000u

/* ps's letters for the kernel's reported states (fs/proc/array.c order). */
char linux_task_state_char(uint32_t state, uint32_t exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	/* TASK_REPORT covers the low 7 bits; TASK_IDLE (UNINTERRUPTIBLE|NOLOAD)
	 * is reported as its own 'I'. */
	uint32_t s = (state | exit_state) & 0x7f;
	unsigned idx = 0;

	if (state == 0x402)
		return 'I';
	while (s) {
		idx++;
		s >>= 1;
	}
	return idx < sizeof(letters) - 1 ? letters[idx] : '?';
}

static int list_push(struct linux_task_list *l, const struct linux_task *t)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 128;
		struct linux_task *nt = realloc(l->t, cap * sizeof(*nt));

		if (!nt)
			return VMET_ENOMEM;
		l->t = nt;
		l->cap = cap;
	}
	l->t[l->n++] = *t;
	return 0;
}

void linux_task_list_free(struct linux_task_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->t[i].cmdline);
		free(l->t[i].environ);
		free(l->t[i].exe);
		free(l->t[i].cwd);
		free(l->t[i].root);
	}
	free(l->t);
	memset(l, 0, sizeof(*l));
}

#define MAXF(a, b) ((a) > (b) ? (a) : (b))

/* Bytes of task_struct that hold every field read here. */
static uint64_t task_span(const struct linux_offsets *o)
{
	uint64_t s = 0;

	s = MAXF(s, o->task_tasks + 16);
	s = MAXF(s, o->task_pid + 4);
	s = MAXF(s, o->task_tgid + 4);
	s = MAXF(s, o->task_comm + LINUX_COMM_LEN);
	s = MAXF(s, o->task_real_parent + 8);
	s = MAXF(s, o->task_real_cred + 8);
	s = MAXF(s, o->task_mm + 8);
	s = MAXF(s, o->task_flags + 4);
	s = MAXF(s, o->task_state + o->task_state_size);
	s = MAXF(s, o->task_exit_state + 4);
	s = MAXF(s, o->task_start + 8);
	s = MAXF(s, o->task_signal + 8);
	s = MAXF(s, o->task_thread_node + 16);
	s = MAXF(s, o->task_files + 8);
	if (o->have_paths)
		s = MAXF(s, o->task_fs + 8);
	return s;
}

#define TASK_SPAN_MAX (64u << 10)

int linux_task_read(struct linux_kernel *k, uint64_t task, struct linux_task *t,
		    struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	uint64_t span = task_span(o), parent, cred, pgd;
	struct vmet_err err = { 0 };
	uint8_t *b;
	int rc;

	memset(t, 0, sizeof(*t));
	t->addr = task;
	t->ppid = -1;
	if (span > TASK_SPAN_MAX) {
		linux_report_add(rep, "task_struct offsets reach %" PRIu64 " bytes: profile is bad", span);
		return VMET_EFORMAT;
	}
	b = malloc(span);
	if (!b)
		return VMET_ENOMEM;
	rc = linux_read(k, task, b, span, "task_struct", &err);
	if (rc) {
		linux_report_err(rep, &err, "task 0x%" PRIx64, task);
		free(b);
		return rc;
	}
	t->pid = (int32_t)le32(b + o->task_pid);
	t->tgid = (int32_t)le32(b + o->task_tgid);
	/* comm is 16 bytes and need not hold a NUL in a hostile guest. */
	memcpy(t->comm, b + o->task_comm, LINUX_COMM_LEN);
	t->comm[LINUX_COMM_LEN] = '\0';
	t->flags = le32(b + o->task_flags);
	t->state = o->task_state_size == 8 ? (uint32_t)le64(b + o->task_state)
					   : le32(b + o->task_state);
	t->exit_state = le32(b + o->task_exit_state);
	t->state_char = linux_task_state_char(t->state, t->exit_state);
	t->start_ns = le64(b + o->task_start);
	t->mm = le64(b + o->task_mm);
	t->files = le64(b + o->task_files);
	t->fs = o->have_paths ? le64(b + o->task_fs) : 0;
	t->kthread = (t->flags & PF_KTHREAD) != 0;
	t->leader = t->pid == t->tgid;
	parent = le64(b + o->task_real_parent);
	cred = le64(b + o->task_real_cred);
	free(b);

	if (linux_read_u32(k, parent + o->task_tgid, (uint32_t *)&t->ppid, "real_parent->tgid", &err)) {
		linux_report_err(rep, &err, "PID %d: parent", t->pid);
		t->ppid = -1;
		t->incomplete = true;
	}
	{
		uint32_t ids[4];
		const uint64_t offs[4] = { o->cred_uid, o->cred_gid, o->cred_euid, o->cred_egid };

		for (int i = 0; i < 4; i++)
			if (linux_read_u32(k, cred + offs[i], &ids[i], "real_cred", &err)) {
				linux_report_err(rep, &err, "PID %d: credentials", t->pid);
				t->incomplete = true;
				ids[i] = UINT32_MAX;
			}
		t->uid = ids[0];
		t->gid = ids[1];
		t->euid = ids[2];
		t->egid = ids[3];
	}
	if (t->mm && !(t->flags & PF_KTHREAD)) {
		if (linux_read_ptr(k, t->mm + o->mm_pgd, &pgd, false, "mm->pgd", &err) ||
		    linux_virt_to_phys(k, pgd, &t->cr3, &err)) {
			linux_report_err(rep, &err, "PID %d: address space", t->pid);
			t->incomplete = true;
			t->cr3 = 0;
		}
	}
	return 0;
}

static void free_strings(struct linux_task *t)
{
	free(t->cmdline);
	free(t->environ);
	free(t->exe);
	free(t->cwd);
	free(t->root);
	t->cmdline = t->environ = t->exe = t->cwd = t->root = NULL;
}

/* strdup of a string that may be NULL; false when out of memory. */
static bool dup_opt(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

/*
 * A thread's exe is its leader's when they share the mm (a leader that has
 * exited has none while its threads run on); its cwd and root are when it
 * shares the leader's fs_struct (CLONE_FS, as threads are made).  What
 * differs is resolved.  -1: out of memory.
 */
static int thread_paths(struct linux_kernel *k, struct linux_task *t,
			const struct linux_task *leader, bool fs, struct linux_report *rep)
{
	bool own_fs = fs && t->fs != leader->fs;

	if (own_fs || t->mm != leader->mm)
		linux_task_paths(k, t, own_fs, rep);
	if (fs && !own_fs && (!dup_opt(&t->cwd, leader->cwd) || !dup_opt(&t->root, leader->root)))
		return -1;
	if (t->mm == leader->mm && !t->exe && !dup_opt(&t->exe, leader->exe))
		return -1;
	return 0;
}

/*
 * Threads of the group led by out->t[at]: count them, and list the
 * non-leaders when asked.  Works by index: pushing may move the array.
 */
static int group_threads(struct linux_kernel *k, size_t at, unsigned flags,
			 struct linux_task_list *out, struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	uint64_t leader = out->t[at].addr, signal, node;
	int32_t pid = out->t[at].pid;
	struct linux_list_walk w;
	struct vmet_err err = { 0 };
	unsigned n = 0;
	int rc;

	if (linux_read_ptr(k, leader + o->task_signal, &signal, false, "task->signal", &err)) {
		linux_report_err(rep, &err, "PID %d: threads", pid);
		out->t[at].incomplete = true;
		out->t[at].nthreads = 1;
		return 0;
	}
	linux_list_init(&w, signal + o->signal_thread_head, k->max_threads, true);
	while ((rc = linux_list_next(k, &w, &node, &err)) == 1) {
		uint64_t task = node - o->task_thread_node;
		struct linux_task t;

		n++;
		if (!(flags & LINUX_TASKS_THREADS) || task == leader)
			continue;
		if (linux_task_read(k, task, &t, rep)) {
			out->incomplete = true;
			continue;
		}
		/* Threads share the leader's mm: ps -T shows the same line. */
		/* memcpy, not strdup: a cmdline kept with its NUL separators
		 * would be cut at the first argument. */
		if (out->t[at].cmdline) {
			t.cmdline = malloc(out->t[at].cmdline_len + 1);
			if (!t.cmdline)
				return VMET_ENOMEM;
			memcpy(t.cmdline, out->t[at].cmdline, out->t[at].cmdline_len + 1);
			t.cmdline_len = out->t[at].cmdline_len;
			t.cmdline_truncated = out->t[at].cmdline_truncated;
		}
		if ((flags & (LINUX_TASKS_PATHS | LINUX_TASKS_EXE)) &&
		    thread_paths(k, &t, &out->t[at], flags & LINUX_TASKS_PATHS, rep)) {
			free_strings(&t);
			return VMET_ENOMEM;
		}
		if (t.incomplete)
			out->incomplete = true;
		if (list_push(out, &t)) {
			free_strings(&t);
			return VMET_ENOMEM;
		}
	}
	if (rc < 0) {
		linux_report_err(rep, &err, "PID %d: thread list", pid);
		out->t[at].incomplete = true;
		out->incomplete = true;
	}
	out->t[at].nthreads = n ? n : 1;
	return 0;
}

static int add_leader(struct linux_kernel *k, uint64_t task, unsigned flags,
		      struct linux_task_list *out, struct linux_report *rep)
{
	struct linux_task t;
	struct vmet_err err = { 0 };
	size_t at;
	int rc;

	if (linux_task_read(k, task, &t, rep)) {
		out->incomplete = true;
		return 0;
	}
	if ((flags & LINUX_TASKS_CMDLINE) && !t.kthread && t.cr3 &&
	    linux_task_cmdline(k, &t, &err)) {
		linux_report_err(rep, &err, "PID %d: command line", t.pid);
		t.incomplete = true;
	}
	if ((flags & LINUX_TASKS_ENVIRON) && !t.kthread && t.cr3 &&
	    linux_task_environ(k, &t, &err)) {
		linux_report_err(rep, &err, "PID %d: environment", t.pid);
		t.incomplete = true;
	}
	if (flags & (LINUX_TASKS_PATHS | LINUX_TASKS_EXE))
		linux_task_paths(k, &t, flags & LINUX_TASKS_PATHS, rep);
	if (t.incomplete)
		out->incomplete = true;
	at = out->n;
	if (list_push(out, &t)) {
		free_strings(&t);
		return VMET_ENOMEM;
	}
	rc = group_threads(k, at, flags, out, rep);
	if (out->t[at].incomplete)
		out->incomplete = true;
	return rc;
}

/* Whether a leader at task address `addr` is already listed (recovery only). */
static bool listed(const struct linux_task_list *l, size_t upto, uint64_t addr)
{
	for (size_t i = 0; i < upto; i++)
		if (l->t[i].addr == addr)
			return true;
	return false;
}

int linux_tasks(struct linux_kernel *k, unsigned flags, struct linux_task_list *out,
		struct linux_report *rep, struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint64_t init = linux_sym(k, o->sym_init_task), head = init + o->task_tasks;
	uint64_t node, last = head;
	struct linux_list_walk w;
	struct vmet_err lerr = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (flags & LINUX_TASKS_IDLE) {
		rc = add_leader(k, init, flags, out, rep);
		if (rc)
			return vmet_errf(err, rc, "out of memory");
	}
	linux_list_init(&w, head, k->max_tasks, true);
	while ((rc = linux_list_next(k, &w, &node, &lerr)) == 1) {
		if ((rc = add_leader(k, node - o->task_tasks, flags, out, rep)))
			return vmet_errf(err, rc, "out of memory");
		last = node;
	}
	if (rc < 0) {
		size_t before = out->n;

		linux_report_err(rep, &lerr, "task list (after task 0x%" PRIx64 ")%s",
				 last - o->task_tasks, rc == VMET_ELIMIT ? " (--max-tasks)" : "");
		out->incomplete = true;
		/* Recover the tail: walk prev links from the head until we meet the
		 * last task the forward walk reached. */
		if (rc != VMET_ELIMIT) {
			linux_list_init(&w, head, k->max_tasks, true);
			w.backward = true;
			/* Stop at the first task already listed: a cycle must not make
			 * the recovery list tasks twice (quadratic only on this path). */
			while ((rc = linux_list_next(k, &w, &node, &lerr)) == 1 && node != last &&
			       !listed(out, before, node - o->task_tasks))
				if ((rc = add_leader(k, node - o->task_tasks, flags, out, rep)))
					return vmet_errf(err, rc, "out of memory");
			if (rc < 0)
				linux_report_err(rep, &lerr, "task list walked backwards");
			if (out->n > before)
				linux_report_add(rep, "recovered %zu task(s) by walking the task list backwards",
						 out->n - before);
		}
	}
	if (!out->n)
		return vmet_errf(err, VMET_EFORMAT, "no task could be read from init_task's list at 0x%"
				 PRIx64, head);
	return 0;
}
