/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QMP client, just enough for vmet: connect to a QEMU monitor socket,
 * negotiate, run commands, and read their results.  QEMU sends one JSON
 * object per line; asynchronous events are skipped.  Everything QEMU sends
 * is bounded (line length, wait time) so a wedged QEMU cannot hang vmet.
 *
 * QMP is the "hypervisor helper" for a QEMU host: `info registers` reports
 * the vCPU's current registers from outside the guest (while a nested
 * guest runs, they are the nested guest's), which vmet trusts over what a
 * guest hypervisor keeps in its own memory.
 */
#ifndef VMET_LIVE_QMP_H
#define VMET_LIVE_QMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct qmp;

/* Connect and negotiate capabilities; timeout_ms bounds every wait. */
int qmp_open(const char *path, int timeout_ms, struct qmp **out, struct vmet_err *err);
/* The same over an already connected descriptor (taken over; tests use a socketpair). */
int qmp_open_fd(int fd, const char *name, int timeout_ms, struct qmp **out, struct vmet_err *err);
void qmp_close(struct qmp *q);

/*
 * Run a QMP command given as a JSON object text (e.g. {"execute":"stop"}).
 * On success *reply (if non-NULL) receives the whole reply line (malloc'd).
 * A QMP error reply is VMET_EIO with QEMU's description.
 */
int qmp_execute(struct qmp *q, const char *json_cmd, char **reply, struct vmet_err *err);

/* Run an HMP command through human-monitor-command; *out is its text (malloc'd). */
int qmp_hmp(struct qmp *q, const char *cmdline, char **out, struct vmet_err *err);

/*
 * Extract the value of "return" when it is a JSON string, unescaped
 * (malloc'd), from a reply line.  Returns NULL when absent or malformed.
 */
char *qmp_return_string(const char *reply);

#endif
