// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet ps: the guest's processes as its kernel knows them, read from
 * outside: like `ps -ef`, with the credentials, the start time and the CR3
 * of each address space.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/json.h"
#include "cmd/linux_open.h"

enum { OPT_TREE = OPT_CMD_BASE, OPT_NO_CMDLINE, OPT_EXE };

#define MAX_PIDS 256
#define TREE_MAX_DEPTH 64

struct ps_opts {
	bool threads, tree, cmdline, exe;
	int32_t pids[MAX_PIDS];
	size_t npids;
};

static void help(void)
{
	printf("Usage: vmet ps [OPTIONS] SOURCE\n"
	       "\n"
	       "List the processes of the Linux guest in SOURCE, as its kernel records them:\n"
	       "UID, PID, PPID, thread count, state, start time (seconds after boot), the\n"
	       "physical address of the address space's top table (CR3) and the command\n"
	       "line, read through the process's own page tables.  Kernel threads are\n"
	       "shown as [name].  The kernel is found without help (VMCOREINFO, a vCPU's\n"
	       "CR3, or a verified banner scan) and checked against the profile.\n"
	       "\n"
	       "Options:\n"
	       "  -p, --pid PID[,PID...]  only these processes (repeatable)\n"
	       "  -T, --threads           one line per thread (LWP column)\n"
	       "      --tree              show parent/child relations as a forest\n"
	       "      --no-cmdline        do not read command lines (show [name] only)\n"
	       "      --exe               also resolve each executable's path (mm->exe_file,\n"
	       "                          as readlink /proc/PID/exe gives it): an EXE\n"
	       "                          column, and \"exe\" in --json\n"
	       "%s%s"
	       "\n"
	       "Exit status: 0 complete, 1 something could not be read or a PID given with\n"
	       "-p does not exist (said on stderr; the rest is still printed), 2 usage\n"
	       "error or no kernel found.\n",
	       cmd_linux_help, cmd_common_help);
}

static bool wanted(const struct ps_opts *po, const struct linux_task *t)
{
	if (!po->npids)
		return true;
	for (size_t i = 0; i < po->npids; i++)
		if (po->pids[i] == t->tgid || (po->threads && po->pids[i] == t->pid))
			return true;
	return false;
}

static bool parse_pids(struct ps_opts *po, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	bool ok = copy != NULL;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; ok && tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (!cmd_parse_u64(tok, &v) || v > INT32_MAX || po->npids >= MAX_PIDS)
			ok = false;
		else
			po->pids[po->npids++] = (int32_t)v;
	}
	free(copy);
	return ok;
}

/* What CMD shows: the command line, or [comm] for kernel threads and empty ones. */
static void cmd_text(const struct linux_task *t, char *buf, size_t n, const char **out)
{
	if (t->cmdline && t->cmdline_len && !t->kthread) {
		*out = t->cmdline;
		return;
	}
	snprintf(buf, n, "[%s]", t->comm);
	*out = buf;
}

/* Replace control bytes so a hostile name cannot drive the terminal. */
static void put_safe(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void print_header(const struct ps_opts *po)
{
	if (po->threads)
		printf("%-8s %7s %7s %7s %4s S %10s %-12s ", "UID", "PID", "PPID", "LWP",
		       "NLWP", "START", "CR3");
	else
		printf("%-8s %7s %7s %4s S %10s %-12s ", "UID", "PID", "PPID", "THR",
		       "START", "CR3");
	if (po->exe)
		printf("%-24s ", "EXE");
	printf("CMD\n");
}

static void print_row(const struct ps_opts *po, const struct linux_task *t, int depth)
{
	char cr3[24], start[24], uid[16], kbuf[LINUX_COMM_LEN + 3];
	const char *cmd;

	snprintf(cr3, sizeof(cr3), t->cr3 ? "%" PRIx64 : "-", t->cr3);
	snprintf(start, sizeof(start), "%" PRIu64 ".%02" PRIu64, t->start_ns / 1000000000u,
		 t->start_ns % 1000000000u / 10000000u);
	if (t->uid == UINT32_MAX)
		snprintf(uid, sizeof(uid), "?");
	else
		snprintf(uid, sizeof(uid), "%" PRIu32, t->uid);
	cmd_text(t, kbuf, sizeof(kbuf), &cmd);
	if (po->threads)
		printf("%-8s %7d %7d %7d %4u %c %10s %-12s ", uid, t->tgid, t->ppid, t->pid,
		       t->nthreads, t->state_char, start, cr3);
	else
		printf("%-8s %7d %7d %4u %c %10s %-12s ", uid, t->tgid, t->ppid, t->nthreads,
		       t->state_char, start, cr3);
	if (po->exe) {
		size_t n = t->exe ? strlen(t->exe) : 1;

		put_safe(t->exe ? t->exe : "-");
		printf("%*s ", n < 24 ? (int)(24 - n) : 0, "");
	}
	for (int i = 0; i < depth; i++)
		fputs(i + 1 == depth ? " \\_ " : "    ", stdout);
	put_safe(cmd);
	if (t->cmdline_truncated)
		fputs(" ...", stdout);
	if (t->state_char == 'Z')
		fputs(" <defunct>", stdout);
	putchar('\n');
}

static void json_task(struct json *j, const struct ps_opts *po, const struct linux_task *t)
{
	json_obj_begin(j);
	json_ki64(j, "pid", t->tgid);
	json_ki64(j, "tid", t->pid);
	json_ki64(j, "ppid", t->ppid);
	json_ku64(j, "threads", t->nthreads);
	json_kbool(j, "leader", t->leader);
	if (t->uid != UINT32_MAX) {
		json_ku64(j, "uid", t->uid);
		json_ku64(j, "gid", t->gid);
		json_ku64(j, "euid", t->euid);
		json_ku64(j, "egid", t->egid);
	}
	json_key(j, "state");
	json_strn(j, &t->state_char, 1);
	json_ku64(j, "state_raw", t->state);
	json_ku64(j, "start_ns", t->start_ns);
	json_kstr(j, "comm", t->comm);
	json_key(j, "cmdline");
	if (t->cmdline && !t->kthread)
		json_strn(j, t->cmdline, t->cmdline_len);
	else
		json_null(j);
	json_kbool(j, "cmdline_truncated", t->cmdline_truncated);
	json_kbool(j, "kernel_thread", t->kthread);
	if (po->exe) {
		json_key(j, "exe");
		if (t->exe)
			json_str(j, t->exe);
		else
			json_null(j);
	}
	json_key(j, "cr3");
	if (t->cr3)
		json_hex(j, t->cr3);
	else
		json_null(j);
	json_khex(j, "task", t->addr);
	json_kbool(j, "complete", !t->incomplete);
	json_obj_end(j);
}

/* --- tree ------------------------------------------------------------- */

static int cmp_idx_pid(const void *a, const void *b, void *arg)
{
	const struct linux_task *t = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (t[x].tgid > t[y].tgid) - (t[x].tgid < t[y].tgid);
}

struct tree {
	const struct ps_opts *po;
	const struct linux_task_list *l;
	size_t *byppid;		/* leaders shown, sorted by (ppid, pid) */
	size_t n;
	bool *done;		/* by task index: printed (guards parent cycles) */
};

static int cmp_ppid(const void *a, const void *b, void *arg)
{
	const struct linux_task *t = arg;
	const struct linux_task *x = &t[*(const size_t *)a], *y = &t[*(const size_t *)b];

	if (x->ppid != y->ppid)
		return (x->ppid > y->ppid) - (x->ppid < y->ppid);
	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

/* First position in byppid whose ppid is >= ppid. */
static size_t first_child(const struct tree *tr, int32_t ppid)
{
	size_t lo = 0, hi = tr->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tr->l->t[tr->byppid[mid]].ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Depth-first; `done` makes a parent cycle in guest memory harmless, and
 * the depth cap bounds recursion (what lies deeper is printed as roots).
 */
static void tree_print(struct tree *tr, size_t ti, int depth)
{
	const struct linux_task *t = &tr->l->t[ti];

	tr->done[ti] = true;
	print_row(tr->po, t, depth);
	if (depth >= TREE_MAX_DEPTH)
		return;
	for (size_t i = first_child(tr, t->tgid); i < tr->n; i++) {
		size_t c = tr->byppid[i];

		if (tr->l->t[c].ppid != t->tgid)
			break;
		if (!tr->done[c] && tr->l->t[c].tgid != t->tgid)
			tree_print(tr, c, depth + 1);
	}
}

static void print_tree(const struct ps_opts *po, const struct linux_task_list *l)
{
	struct tree tr = { .po = po, .l = l };
	size_t *bypid = malloc((l->n + 1) * sizeof(*bypid)), nb = 0;

	tr.byppid = malloc((l->n + 1) * sizeof(*tr.byppid));
	tr.done = calloc(l->n + 1, sizeof(*tr.done));
	if (!bypid || !tr.byppid || !tr.done)
		goto out;
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].leader && wanted(po, &l->t[i])) {
			tr.byppid[tr.n++] = i;
			bypid[nb++] = i;
		}
	qsort_r(tr.byppid, tr.n, sizeof(size_t), cmp_ppid, l->t);
	qsort_r(bypid, nb, sizeof(size_t), cmp_idx_pid, l->t);
	/* Roots: leaders whose parent is not shown (PID 0's children, orphans). */
	for (size_t i = 0; i < nb; i++) {
		const struct linux_task *t = &l->t[bypid[i]];
		size_t lo = 0, hi = nb;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (l->t[bypid[mid]].tgid < t->ppid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!tr.done[bypid[i]] &&
		    (lo == nb || l->t[bypid[lo]].tgid != t->ppid || t->ppid == t->tgid))
			tree_print(&tr, bypid[i], 0);
	}
	/* Whatever a parent cycle or the depth cap kept from the roots. */
	for (size_t i = 0; i < nb; i++)
		if (!tr.done[bypid[i]])
			tree_print(&tr, bypid[i], 0);
out:
	free(bypid);
	free(tr.byppid);
	free(tr.done);
}

int cmd_ps(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_COMMON_LONGOPTS,
		{ "pid", required_argument, 0, 'p' },
		{ "threads", no_argument, 0, 'T' },
		{ "tree", no_argument, 0, OPT_TREE },
		CMD_LIMIT_LONGOPTS,
		{ "no-cmdline", no_argument, 0, OPT_NO_CMDLINE },
		{ "exe", no_argument, 0, OPT_EXE },
		{ 0, 0, 0, 0 }
	};
	struct ps_opts po = { .cmdline = true };
	struct cmd_common c;
	struct linux_session s;
	struct linux_task_list tl;
	struct linux_report *rep;
	struct vmet_err err = { 0 };
	unsigned flags;
	int opt, status = EXIT_OK;

	cmd_common_init(&c, "vmet ps");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:T", longopts, NULL)) != -1) {
		int r;

		switch (opt) {
		case OPT_HELP:
			help();
			return EXIT_OK;
		case 'p':
			if (!parse_pids(&po, optarg)) {
				cmd_error(&c, "-p: '%s' is not a list of PIDs (at most %d)", optarg, MAX_PIDS);
				return EXIT_USAGE;
			}
			continue;
		case 'T':
			po.threads = true;
			continue;
		case OPT_TREE:
			po.tree = true;
			continue;
		case OPT_NO_CMDLINE:
			po.cmdline = false;
			continue;
		case OPT_EXE:
			po.exe = true;
			continue;
		}
		r = cmd_common_option(&c, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fprintf(stderr, "Try 'vmet ps --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (linux_session_start(&c, argc, argv, optind, &s))
		return EXIT_USAGE;
	rep = s.rep;
	flags = (po.threads ? LINUX_TASKS_THREADS : 0) | (po.cmdline ? LINUX_TASKS_CMDLINE : 0) |
		(po.exe ? LINUX_TASKS_EXE : 0);
	if (linux_tasks(s.k, flags, &tl, rep, &err)) {
		cmd_error(&c, "%s", err.msg);
		linux_report_print(&c, rep);
		linux_session_close(&s);
		return EXIT_INCOMPLETE;
	}
	if (tl.incomplete || rep->n)
		status = EXIT_INCOMPLETE;
	/* A PID asked for and not found is a missing result, as for ps -p. */
	for (size_t i = 0; i < po.npids; i++) {
		bool found = false;

		for (size_t t = 0; t < tl.n && !found; t++)
			found = tl.t[t].tgid == po.pids[i] || (po.threads && tl.t[t].pid == po.pids[i]);
		if (!found) {
			cmd_error(&c, "no process with PID %d", po.pids[i]);
			status = EXIT_INCOMPLETE;
		}
	}
	if (c.json) {
		struct json j;

		linux_json_head(&j, &c, &s);
		json_key(&j, "tasks");
		json_arr_begin(&j);
		for (size_t i = 0; i < tl.n; i++)
			if (wanted(&po, &tl.t[i]))
				json_task(&j, &po, &tl.t[i]);
		json_arr_end(&j);
		linux_json_tail(&j, status == EXIT_OK, rep);
	} else {
		print_header(&po);
		if (po.tree && !po.threads)
			print_tree(&po, &tl);
		else
			for (size_t i = 0; i < tl.n; i++)
				if (wanted(&po, &tl.t[i]))
					print_row(&po, &tl.t[i], 0);
	}
	if (!c.quiet)
		linux_report_print(&c, rep);
	if ((tl.incomplete || rep->n) && !c.quiet)
		cmd_error(&c, "listing incomplete: %u problem(s)", rep->n);
	linux_task_list_free(&tl);
	linux_session_close(&s);
	return status;
}
