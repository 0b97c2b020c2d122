/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shadow /proc's file contents, rendered into memory buffers in the
 * Linux kernel's own byte formats (fs/proc/array.c, net/ipv4/tcp_ipv4.c,
 * net/ipv6/tcp_ipv6.c, net/ipv4/udp.c, net/ipv6/datagram.c,
 * net/unix/af_unix.c) so that unmodified parsers (procps, net-tools) read
 * them.  Pure formatting: no FUSE here, so every file is unit-testable.
 *
 * Guest strings are hostile: every buffer is capped (PROCFS_MAX_FILE) and
 * strings are escaped wherever the kernel escapes them (status's Name:);
 * where the kernel writes raw bytes that could split a line (a unix socket
 * path), control bytes become '?'.
 */
#ifndef VMET_CMD_PROCFS_H
#define VMET_CMD_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/linux/linux.h"

/* No rendered file grows past this (a guest may claim a million sockets). */
#define PROCFS_MAX_FILE (64u << 20)
/* USER_HZ: the unit of times in /proc/PID/stat. */
#define PROCFS_USER_HZ 100u

struct procfs_buf {
	char *p;
	size_t n, cap;
	bool full;	/* something was dropped: PROCFS_MAX_FILE or out of memory */
};

void procfs_buf_free(struct procfs_buf *b);
void procfs_printf(struct procfs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void procfs_put(struct procfs_buf *b, const void *data, size_t len);

/* /proc/PID/stat: 52 fields as Linux 6.1 writes them; nthreads of the group. */
void procfs_task_stat(struct procfs_buf *b, const struct linux_task *t, unsigned nthreads);
/* /proc/PID/status: the lines vmet knows, in the kernel's order. */
void procfs_task_status(struct procfs_buf *b, const struct linux_task *t, unsigned nthreads);
/* /proc/PID/comm: comm and a newline. */
void procfs_task_comm(struct procfs_buf *b, const struct linux_task *t);
/* /proc/PID/cmdline: NUL-terminated arguments; empty for kernel threads. */
void procfs_task_cmdline(struct procfs_buf *b, const struct linux_task *t);

/* /proc/PID/environ: the environment's bytes as read; empty without one. */
void procfs_task_environ(struct procfs_buf *b, const struct linux_task *t);

enum procfs_net { PROCFS_TCP, PROCFS_TCP6, PROCFS_UDP, PROCFS_UDP6, PROCFS_UNIX };
/* /proc/net/{tcp,tcp6,udp,udp6,unix} from a socket list. */
void procfs_net(struct procfs_buf *b, enum procfs_net which, const struct linux_sock_list *l);

/* The system-wide files. */
struct procfs_sys {
	char banner[LINUX_BANNER_MAX];	/* "Linux version ..." without the newline */
	uint64_t uptime_ns;		/* since boot */
	uint64_t boot_time;		/* btime: seconds since the epoch */
	uint64_t mem_total;		/* bytes */
	unsigned ntasks, nrunning;	/* all threads, and those in state R */
	int32_t last_pid;
};
void procfs_version(struct procfs_buf *b, const struct procfs_sys *s);
void procfs_uptime(struct procfs_buf *b, const struct procfs_sys *s);
void procfs_loadavg(struct procfs_buf *b, const struct procfs_sys *s);
void procfs_stat(struct procfs_buf *b, const struct procfs_sys *s);
void procfs_meminfo(struct procfs_buf *b, const struct procfs_sys *s);
void procfs_cpuinfo(struct procfs_buf *b, const struct procfs_sys *s);

#endif
