/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shadow /proc's tree: one consistent reading of a guest (tasks with
 * their threads and command lines, sockets with their owners' fds, the
 * system figures) and the mapping of paths onto it.  No FUSE here: the
 * FUSE glue (cmd/mount.c) asks procfs_lookup() what a path is and
 * procfs_render() for a file's bytes.
 */
#ifndef VMET_CMD_PROCFS_TREE_H
#define VMET_CMD_PROCFS_TREE_H

#include "cmd/linux_open.h"
#include "cmd/procfs.h"

struct procfs_fd {
	int32_t pid, fd;
	uint64_t inode;
};

struct procfs_snap {
	struct linux_task_list tl;	/* every thread, with command lines */
	size_t *lead;			/* indices of leaders, by tgid */
	size_t nlead;
	size_t *thr;			/* indices of all tasks, by (tgid, pid) */
	struct linux_sock_list sl;
	struct procfs_fd *fds;		/* socket fds, by (pid, fd) */
	size_t nfds;
	struct procfs_sys sys;
	struct linux_report *rep;	/* what went wrong while reading */
	bool incomplete;
};

/* Read everything the tree serves, once.  Problems land in s->rep. */
int procfs_snap_read(struct linux_session *ses, struct procfs_snap *s, struct vmet_err *err);
void procfs_snap_free(struct procfs_snap *s);

enum procfs_kind {
	PN_NONE = 0,
	PN_ROOT, PN_PID, PN_TASKDIR, PN_TID, PN_FDDIR, PN_NETDIR,	/* directories */
	PN_SELF,	/* the reader's own directory: not the guest's (see below) */
	PN_SELF_TASK,	/* /self/task, empty: procps probes it to learn that task/ exists */
	PN_FDLINK,							/* symlink */
	PN_LINK,	/* /PID/{exe,cwd,root}: a path read from the guest (link) */
	PN_FILE,
};

enum procfs_file {
	PF_STAT, PF_STATUS, PF_COMM, PF_CMDLINE, PF_ENVIRON,
	PF_NET_TCP, PF_NET_TCP6, PF_NET_UDP, PF_NET_UDP6, PF_NET_UNIX,
	PF_VERSION, PF_UPTIME, PF_SYSSTAT, PF_LOADAVG, PF_MEMINFO, PF_CPUINFO,
	/*
	 * /self/stat and /self/status describe the reader, which is a host
	 * process, not a guest one: procps reads them about itself and stops
	 * without them.  procfs_render() leaves them empty; the FUSE glue
	 * copies the caller's own files from the host's /proc.
	 */
	PF_SELF_STAT, PF_SELF_STATUS,
};

struct procfs_node {
	enum procfs_kind kind;
	enum procfs_file file;
	const struct linux_task *task;	/* PID/TID directories and their files */
	const struct linux_task *leader;
	const struct procfs_fd *fd;	/* PN_FDLINK */
	const char *link;		/* PN_LINK: the target, never NULL */
};

/*
 * What `path` ("/", "/1/stat", "/net/tcp"...) names; false: nothing.
 * `reader` is the host PID of the calling process: procps looks itself up
 * as /proc/<getpid()> too, so that name (when no guest process has it)
 * means /self.  It is never listed.  An exe, cwd or root link whose target
 * is not known (none, or not resolved) does not exist.
 */
bool procfs_lookup(const struct procfs_snap *s, const char *path, int32_t reader,
		   struct procfs_node *n);
/* A file node's content. */
void procfs_render(const struct procfs_snap *s, const struct procfs_node *n,
		   struct procfs_buf *b);

/* Directory listing: calls fn for each name in a directory node. */
typedef int (*procfs_dir_fn)(void *ctx, const char *name);
void procfs_list(const struct procfs_snap *s, const struct procfs_node *n, procfs_dir_fn fn,
		 void *ctx);

#endif
