/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one step every Linux command starts with: open the source, build the
 * stage-2 stack the options describe, find the kernel, pick and verify a
 * profile.  ps, netstat, mount and dump --pages-for all go through it, so
 * they find the kernel the same way and report failures the same way.
 */
#ifndef VMET_CMD_LINUX_OPEN_H
#define VMET_CMD_LINUX_OPEN_H

#include "cmd/cmd.h"
#include "os/linux/linux.h"

struct linux_session {
	struct phys_source *src;	/* owned */
	struct aspace *lower;		/* owned: stage-2 stack (or physical space) */
	struct profile *prof;		/* owned */
	struct linux_kernel *k;		/* owned */
	char *profile_path;		/* owned: where prof came from */
	struct linux_report *rep;	/* owned: the listing's problems */
};

/*
 * Open c->source and find its Linux kernel.  Kernel location tries, in
 * order, VMCOREINFO (only without stage 2: it describes the source's own
 * layer), the CR3 from --cr3 or the source's vCPU record, and a physical
 * banner scan; the profile is --profile, else the one in the profile
 * directories (--profile-dir, then the defaults) that verifies against
 * memory.  On failure err says what was tried and what was found.
 */
int linux_session_open(struct cmd_common *c, struct linux_session *s, struct vmet_err *err);
void linux_session_close(struct linux_session *s);

/*
 * What ps and netstat do once their options are parsed: argv[first] must
 * be the only operand, the SOURCE; open the session.  EXIT_OK, or
 * EXIT_USAGE with the reason said on stderr.
 */
int linux_session_start(struct cmd_common *c, int argc, char **argv, int first,
			struct linux_session *s);

/* "vmcoreinfo", "cr3", "scan". */
const char *linux_method_name(enum linux_locate_method m);

/* Print a report's problems to stderr as "PROG: warning: ..." lines. */
void linux_report_print(const struct cmd_common *c, const struct linux_report *r);

struct json;
/*
 * The parts every Linux command's --json shares: "source" and a "kernel"
 * object (banner, profile, how it was located, KASLR slide, phys_base,
 * page-table root) opening the document; "complete" and the "problems"
 * list closing it.
 */
void linux_json_head(struct json *j, const struct cmd_common *c, const struct linux_session *s);
void linux_json_tail(struct json *j, bool complete, const struct linux_report *r);

#endif
