// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet mount / vmet shell: the guest's processes and sockets as a
 * read-only proc filesystem (FUSE), built from one reading of the guest
 * taken at mount time, so that unmodified tools (ps, netstat) see the
 * guest's view.  `vmet shell` mounts it over /proc in a private mount
 * namespace and runs a command there: the tools need no flags at all.
 *
 * The tree and the file formats live in procfs_tree.c and procfs.c; this
 * file is only the FUSE glue and the two commands.  The FUSE loop is
 * single-threaded (in both commands) and the reading never changes while mounted, so the
 * callbacks share it without locks.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/procfs_tree.h"

enum { OPT_REFRESH = OPT_CMD_BASE };

/* A rendered file, from open to release; listed so teardown frees leftovers. */
struct open_file {
	struct procfs_buf b;
	struct open_file *prev, *next;
};

/* What the FUSE callbacks serve (fuse's private_data). */
struct served {
	struct open_file *open;		/* files not yet released */
	struct procfs_snap *snap;
	struct cmd_common *c;
	unsigned refresh;		/* seconds between readings; 0: one reading */
	struct timespec taken;		/* CLOCK_MONOTONIC of the current reading */
};

static int take_reading(struct cmd_common *c, struct procfs_snap *s);

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/*
 * Each callback starts here, once: with --refresh, a reading older than
 * the interval is replaced by a new one before the path is resolved, so a
 * callback (and an open file, which renders at open) sees one reading.  A
 * failed reading keeps the old one.
 */
static const struct procfs_snap *begin(void)
{
	struct served *sv = fuse_get_context()->private_data;
	struct procfs_snap fresh;

	if (sv->refresh && since(&sv->taken) >= sv->refresh) {
		clock_gettime(CLOCK_MONOTONIC, &sv->taken);
		if (take_reading(sv->c, &fresh) == 0) {
			procfs_snap_free(sv->snap);
			*sv->snap = fresh;
		}
	}
	return sv->snap;
}

/* The host's /proc, opened before anything is mounted over it (for /self). */
static int host_proc = -1;

/* /self/stat, /self/status: the calling process's own files from the host. */
static void render_self(const struct procfs_node *n, struct procfs_buf *b)
{
	char path[64], chunk[4096];
	ssize_t got;
	int fd;

	if (host_proc < 0)
		return;
	snprintf(path, sizeof(path), "%d/%s", (int)fuse_get_context()->pid,
		 n->file == PF_SELF_STAT ? "stat" : "status");
	fd = openat(host_proc, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((got = read(fd, chunk, sizeof(chunk))) > 0 && b->n < (1u << 20))
		procfs_put(b, chunk, (size_t)got);
	close(fd);
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const struct procfs_snap *sn = begin();
	struct procfs_node n;

	memset(st, 0, sizeof(*st));
	if (!procfs_lookup(sn, path, fuse_get_context()->pid, &n))
		return -ENOENT;
	/* As in the real /proc: a process's entries belong to its euid/egid. */
	if (n.leader) {
		st->st_uid = n.leader->euid == UINT32_MAX ? 0 : n.leader->euid;
		st->st_gid = n.leader->egid == UINT32_MAX ? 0 : n.leader->egid;
	}
	switch (n.kind) {
	case PN_FILE:
		/* Size 0 like /proc: readers read to EOF (open sets direct_io). */
		st->st_mode = S_IFREG | (n.file == PF_ENVIRON ? 0400 : 0444);
		st->st_nlink = 1;
		break;
	case PN_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(n.link);
		break;
	case PN_FDLINK:
		st->st_mode = S_IFLNK | 0500;
		st->st_nlink = 1;
		st->st_size = 64;
		break;
	case PN_FDDIR:
		st->st_mode = S_IFDIR | 0500;
		st->st_nlink = 2;
		break;
	default:
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		break;
	}
	return 0;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	const struct procfs_snap *sn = begin();
	struct procfs_node n;

	if (!procfs_lookup(sn, path, fuse_get_context()->pid, &n))
		return -ENOENT;
	if ((n.kind != PN_FDLINK && n.kind != PN_LINK) || !size)
		return -EINVAL;
	if (n.kind == PN_LINK)
		snprintf(buf, size, "%s", n.link);	/* truncated to size, as FUSE wants */
	else
		snprintf(buf, size, "socket:[%llu]", (unsigned long long)n.fd->inode);
	return 0;
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_one(void *ctx, const char *name)
{
	struct fill_ctx *fc = ctx;

	return fc->filler(fc->buf, name, NULL, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	const struct procfs_snap *sn = begin();
	struct procfs_node n;
	struct fill_ctx fc = { buf, filler };

	if (!procfs_lookup(sn, path, fuse_get_context()->pid, &n))
		return -ENOENT;
	if (n.kind == PN_FILE || n.kind == PN_FDLINK || n.kind == PN_LINK)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	procfs_list(sn, &n, fill_one, &fc);
	return 0;
}

/* Each open renders the file once; reads slice that buffer. */
static int fs_open(const char *path, struct fuse_file_info *fi)
{
	const struct procfs_snap *sn = begin();
	struct served *sv = fuse_get_context()->private_data;
	struct procfs_node n;
	struct open_file *of;

	if (!procfs_lookup(sn, path, fuse_get_context()->pid, &n))
		return -ENOENT;
	if (n.kind != PN_FILE)
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	if (n.file == PF_SELF_STAT || n.file == PF_SELF_STATUS)
		render_self(&n, &of->b);
	else
		procfs_render(sn, &n, &of->b);
	of->next = sv->open;
	if (sv->open)
		sv->open->prev = of;
	sv->open = of;
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->direct_io = 1;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	const struct open_file *of = (const struct open_file *)(uintptr_t)fi->fh;
	size_t n;

	if (!of || off < 0)
		return -EINVAL;
	if ((uint64_t)off >= of->b.n)
		return 0;
	n = of->b.n - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, of->b.p + off, n);
	return (int)n;
}

static void close_file(struct served *sv, struct open_file *of)
{
	if (of->prev)
		of->prev->next = of->next;
	else
		sv->open = of->next;
	if (of->next)
		of->next->prev = of->prev;
	procfs_buf_free(&of->b);
	free(of);
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	if (of)
		close_file(fuse_get_context()->private_data, of);
	return 0;
}

static const struct fuse_operations fs_ops = {
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
};

/* --- the commands ---------------------------------------------------- */

static void help(bool shell)
{
	if (shell)
		printf("Usage: vmet shell [OPTIONS] SOURCE [-- COMMAND [ARGS...]]\n"
		       "\n"
		       "Run COMMAND (default: $SHELL, else /bin/sh) in a private mount namespace\n"
		       "where the shadow proc filesystem of the Linux guest in SOURCE (see\n"
		       "vmet-mount(1)) stands at /proc, so that unmodified tools (ps, netstat)\n"
		       "show the guest.  Needs root (CAP_SYS_ADMIN) and /dev/fuse.  The host's\n"
		       "mounts are not changed; vmet serves from outside that namespace and\n"
		       "stops when COMMAND ends.\n");
	else
		printf("Usage: vmet mount [OPTIONS] SOURCE MOUNTPOINT\n"
		       "\n"
		       "Serve the Linux guest in SOURCE as a read-only proc filesystem at\n"
		       "MOUNTPOINT (FUSE), from one reading taken at mount time: /PID/ with stat,\n"
		       "status, comm, cmdline, environ, the exe, cwd and root links (when their\n"
		       "paths resolve), task/TID/ and fd/ (socket links), /net/tcp, tcp6, udp,\n"
		       "udp6, unix, and minimal version, uptime, stat, loadavg, meminfo, cpuinfo.\n"
		       "Stays in the foreground; SIGINT, SIGTERM or SIGHUP unmounts.\n");
	printf("\n"
	       "Options:\n"
	       "  --refresh SECONDS  re-read the guest when the reading is older than this\n"
	       "                     (checked at each access; default: one reading)\n"
	       "\n"
	       "%s%s"
	       "\n"
	       "Exit status: %s, 1 the reading was incomplete (said on\n"
	       "stderr at start; the rest is served), 2 usage error, no kernel found, or\n"
	       "the filesystem could not be mounted.\n",
	       cmd_linux_help, cmd_common_help, shell ? "COMMAND's status when the reading was complete" :
	       "0 unmounted after a complete reading");
}

/* Open the source, read the guest, close it; 0 or EXIT_USAGE (said on stderr). */
static int take_reading(struct cmd_common *c, struct procfs_snap *s)
{
	struct linux_session ses;
	struct vmet_err err = { 0 };

	if (linux_session_open(c, &ses, &err)) {
		cmd_error(c, "%s", err.msg);
		return EXIT_USAGE;
	}
	if (procfs_snap_read(&ses, s, &err)) {
		cmd_error(c, "%s", err.msg);
		if (s->rep)
			linux_report_print(c, s->rep);
		procfs_snap_free(s);
		linux_session_close(&ses);
		return EXIT_USAGE;
	}
	linux_session_close(&ses);
	if (!c->quiet)
		linux_report_print(c, s->rep);
	if (s->incomplete && !c->quiet)
		cmd_error(c, "reading incomplete: %u problem(s); serving the rest", s->rep->n);
	return EXIT_OK;
}

/* Parse options and read the guest; argv[first...] are left to the caller. */
static int prepare(int argc, char **argv, bool shell, struct cmd_common *c,
		   struct procfs_snap *s, int *first, unsigned *refresh)
{
	static const struct option longopts[] = {
		CMD_COMMON_LONGOPTS,
		CMD_LIMIT_LONGOPTS,
		{ "refresh", required_argument, 0, OPT_REFRESH },
		{ 0, 0, 0, 0 }
	};
	uint64_t v;
	int opt, rc;

	cmd_common_init(c, shell ? "vmet shell" : "vmet mount");
	*refresh = 0;
	optind = 1;
	/* '+': stop at SOURCE, so that COMMAND's own options stay its own. */
	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		int r;

		if (opt == OPT_HELP) {
			help(shell);
			return -2;
		}
		if (opt == OPT_REFRESH) {
			if (!cmd_parse_u64(optarg, &v) || v < 1 || v > 86400) {
				cmd_error(c, "--refresh: '%s' must be 1..86400 seconds", optarg);
				return EXIT_USAGE;
			}
			*refresh = (unsigned)v;
			continue;
		}
		r = cmd_common_option(c, opt, optarg);
		if (r <= 0) {
			if (r == 0)
				fprintf(stderr, "Try '%s --help'.\n", c->prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cmd_error(c, "need a SOURCE (see --help)");
		return EXIT_USAGE;
	}
	c->source = argv[optind];
	*first = optind + 1;
	if ((rc = take_reading(c, s)))
		return rc;
	host_proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return EXIT_OK;
}

static struct fuse *fs_new(struct served *sv)
{
	char *av[] = { (char *)"vmet", (char *)"-o", (char *)"ro,fsname=vmet,subtype=vmet", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, av);

	struct fuse *f = fuse_new(&args, &fs_ops, sizeof(fs_ops), sv);

	fuse_opt_free_args(&args);	/* fuse_new copies what it keeps */
	return f;
}

/*
 * The serving loop of both commands.  The signals that end it (SIGINT,
 * SIGTERM, SIGHUP for mount; SIGCHLD, and SIGTERM/SIGHUP passed on, for
 * the shell) are blocked except while waiting in ppoll, so that one
 * arriving between the check and the wait cannot be lost: libfuse's own
 * loop has that window, and a SIGTERM that fell into it left `vmet mount`
 * serving for good.
 *
 * For the shell: serve until COMMAND has exited and the connection has
 * then been quiet for a moment.  COMMAND's last closes reach us as
 * RELEASE/RELEASEDIR requests queued as it exits; they must be answered
 * (libfuse frees a directory handle only then), so the caller holds
 * COMMAND's mount namespace open: were it to die with COMMAND, the mount
 * and the queued requests would go with it.  Processes COMMAND left behind
 * are not waited for; once vmet closes the connection they get ENOTCONN.
 */
static volatile sig_atomic_t stop_requested, child_exited;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void child_done(int sig)
{
	(void)sig;
	child_exited = 1;
}

static void serve(struct fuse_session *se)
{
	struct fuse_buf buf = { .mem = NULL };
	struct pollfd p = { .fd = fuse_session_fd(se), .events = POLLIN };
	sigset_t block, waiting;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waiting);
	while (!stop_requested && !fuse_session_exited(se)) {
		struct timespec quiet = { 0, 200 * 1000 * 1000 };
		int n = ppoll(&p, 1, child_exited ? &quiet : NULL, &waiting);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* quiet after COMMAND ended, or ppoll failed */
		n = fuse_session_receive_buf(se, &buf);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0)
			break;		/* 0: the connection ended (unmounted) */
		fuse_session_process_buf(se, &buf);
	}
	sigprocmask(SIG_SETMASK, &waiting, NULL);
	free(buf.mem);
}

int cmd_mount(int argc, char **argv)
{
	struct cmd_common c;
	struct procfs_snap s;
	struct served sv = { .snap = &s, .c = &c };
	struct fuse *f;
	int first, rc, status;

	rc = prepare(argc, argv, false, &c, &s, &first, &sv.refresh);
	if (rc)
		return rc == -2 ? EXIT_OK : rc;
	status = s.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
	if (argc - first != 1) {
		cmd_error(&c, "need exactly SOURCE and MOUNTPOINT (see --help)");
		procfs_snap_free(&s);
		return EXIT_USAGE;
	}
	clock_gettime(CLOCK_MONOTONIC, &sv.taken);
	f = fs_new(&sv);
	if (!f || fuse_mount(f, argv[first])) {
		cmd_error(&c, "cannot mount on %s (FUSE: /dev/fuse, permissions?)", argv[first]);
		if (f)
			fuse_destroy(f);
		procfs_snap_free(&s);
		return EXIT_USAGE;
	}
	{
		struct sigaction sa = { .sa_handler = request_stop };	/* no SA_RESTART */

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (!c.quiet)
		fprintf(stderr, "%s: %zu processes, %zu threads, %zu sockets at %s%s "
			"(SIGINT/SIGTERM unmounts)\n", c.prog, s.nlead, s.tl.n, s.sl.n, argv[first],
			sv.refresh ? ", re-read when older than --refresh" : "");
	serve(fuse_get_session(f));
	fuse_unmount(f);
	fuse_destroy(f);
	while (sv.open)	/* releases the kernel never sent (unmounted first) */
		close_file(&sv, sv.open);
	procfs_snap_free(&s);
	return status;
}

/*
 * `vmet dump --pages-for mount`: what vmet mount reads (argv: "mount"
 * [OPTIONS] SOURCE), without mounting anything.  The exit status is
 * vmet mount's for that reading.
 */
int cmd_mount_reading(int argc, char **argv)
{
	struct cmd_common c;
	struct procfs_snap s;
	unsigned refresh;
	int first, rc;

	rc = prepare(argc, argv, false, &c, &s, &first, &refresh);
	if (rc)
		return rc == -2 ? EXIT_OK : rc;
	rc = s.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
	procfs_snap_free(&s);
	if (host_proc >= 0)
		close(host_proc);
	host_proc = -1;
	return rc;
}

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}


/*
 * The child's half of `vmet shell`: a private mount namespace, the FUSE
 * connection FD mounted over /proc there, then COMMAND.  Only system calls
 * between fork and exec.  A failure is written to REPORT (close-on-exec,
 * so the parent reads EOF once COMMAND is running) as the step and errno.
 */
static void shell_child(int fd, int report, char **cmd)
{
	char opts[128];
	struct { int step, err; } r = { 0, 0 };

	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40555,user_id=0,group_id=0,allow_other", fd);
	if (unshare(CLONE_NEWNS))
		r.step = 1;
	else if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL))
		r.step = 2;
	else if (mount("vmet", "/proc", "fuse.vmet", MS_RDONLY | MS_NOSUID | MS_NODEV, opts))
		r.step = 3;
	else {
		close(fd);
		execvp(cmd[0], cmd);
		r.step = 4;
	}
	r.err = errno;
	(void)!write(report, &r, sizeof(r));
	_exit(r.step == 4 ? 127 : EXIT_USAGE);
}

/*
 * The filesystem is served by this process, whose own /proc stays the
 * host's: only COMMAND's namespace has the shadow over /proc.  (Serving
 * from inside that namespace would make any read of /proc/self by vmet
 * itself, or by its runtime, a request to the filesystem it is serving:
 * a deadlock.)  libfuse takes an already-open /dev/fuse as "/dev/fd/N"
 * and leaves the mount to the caller; here the caller is the child.
 */
int cmd_shell(int argc, char **argv)
{
	static const char *step[] = { "", "unshare(CLONE_NEWNS)", "making / private",
				      "mounting the shadow /proc (FUSE)", "exec" };
	struct cmd_common c;
	struct procfs_snap s;
	struct served sv = { .snap = &s, .c = &c };
	struct fuse *f = NULL;
	pid_t pid;
	int first, rc, wst = 0, status, fd, nsfd = -1, rep[2] = { -1, -1 };
	struct { int step, err; } r = { 0, 0 };
	char fdpath[32];
	const char *sh = getenv("SHELL");
	char *defcmd[] = { (char *)(sh && *sh ? sh : "/bin/sh"), NULL };
	char **cmd;
	ssize_t got;

	rc = prepare(argc, argv, true, &c, &s, &first, &sv.refresh);
	if (rc)
		return rc == -2 ? EXIT_OK : rc;
	if (first < argc && !strcmp(argv[first], "--"))
		first++;
	cmd = first < argc ? argv + first : defcmd;
	clock_gettime(CLOCK_MONOTONIC, &sv.taken);
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0 || pipe2(rep, O_CLOEXEC)) {
		cmd_error(&c, "cannot open %s: %s", fd < 0 ? "/dev/fuse" : "a pipe", strerror(errno));
		goto fail;
	}
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	f = fs_new(&sv);
	if (!f || fuse_mount(f, fdpath)) {
		cmd_error(&c, "cannot set up the FUSE session");
		goto fail;
	}
	/* Before fork: a COMMAND that ends at once must still stop the loop. */
	{
		struct sigaction sa = { .sa_handler = child_done };	/* no SA_RESTART */

		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
	pid = fork();
	if (pid == 0)
		shell_child(fd, rep[1], cmd);
	if (pid < 0) {
		cmd_error(&c, "fork: %s", strerror(errno));
		goto fail;
	}
	close(rep[1]);
	rep[1] = -1;
	while ((got = read(rep[0], &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(r)) {
		cmd_error(&c, "%s%s%s: %s%s", step[r.step > 0 && r.step < 5 ? r.step : 0],
			  r.step == 4 ? " " : "", r.step == 4 ? cmd[0] : "", strerror(r.err),
			  r.step < 4 ? " (needs root and /dev/fuse)" : "");
		while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
			;
		rc = r.step == 4 ? 127 : EXIT_USAGE;
		goto out;
	}
	/* Like a shell: Ctrl-C is for COMMAND; vmet waits and cleans up.
	 * SIGTERM and SIGHUP are passed on, so COMMAND ends and the loop
	 * stops when it does. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	{
		struct sigaction sa = { .sa_handler = pass_on };

		child_pid = pid;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	{
		char ns[64];

		snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
		nsfd = open(ns, O_RDONLY | O_CLOEXEC);	/* fails if COMMAND is gone */
	}
	if (waitpid(pid, &wst, WNOHANG) == 0) {
		serve(fuse_get_session(f));
		while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
			;
	}
	status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	if (status == 0 && s.incomplete)
		status = EXIT_INCOMPLETE;
	rc = status;
	goto out;
fail:
	rc = EXIT_USAGE;
	if (!f && fd >= 0)
		close(fd);
out:
	if (f)
		fuse_destroy(f);	/* closes the connection: late users get ENOTCONN */
	if (nsfd >= 0)
		close(nsfd);		/* COMMAND's namespace, and the mount, go now */
	if (rep[0] >= 0)
		close(rep[0]);
	if (rep[1] >= 0)
		close(rep[1]);
	while (sv.open)	/* releases the kernel never sent */
		close_file(&sv, sv.open);
	procfs_snap_free(&s);
	return rc;
}
