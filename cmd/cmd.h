/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every subcommand shares: the options that say which source to read
 * and how to enter it (CR3, stage 2, paging mode), opening it, building the
 * translation stack, and the exit-code convention:
 *
 *   0  success, complete output
 *   1  the command ran but a result is missing or incomplete (an address did
 *      not translate, a list was cut short by a bound or bad guest data)
 *   2  usage error, or the source could not be opened or understood
 */
#ifndef VMET_CMD_CMD_H
#define VMET_CMD_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/aspace.h"
#include "core/stack.h"
#include "formats/source.h"

#define EXIT_OK 0
#define EXIT_INCOMPLETE 1
#define EXIT_USAGE 2

enum {
	OPT_FORMAT = 0x1000, OPT_MEMMAP, OPT_CR3, OPT_MODE, OPT_EPTP, OPT_NCR3,
	OPT_S2MODE, OPT_PHYS_BITS, OPT_PTI, OPT_JSON, OPT_QUIET, OPT_GUEST,
	OPT_PROFILE, OPT_PROFILE_DIR, OPT_HELP, OPT_PAUSE, OPT_HELPER, OPT_RESCAN,
	OPT_MAX_TASKS, OPT_MAX_THREADS, OPT_MAX_CMDLINE, OPT_MAX_FDS, OPT_MAX_SOCKETS,
	OPT_MAX_READ,
	OPT_CMD_BASE = 0x2000	/* subcommands number their own options from here */
};

#define CMD_COMMON_LONGOPTS \
	{ "format", required_argument, 0, OPT_FORMAT }, \
	{ "memmap", required_argument, 0, OPT_MEMMAP }, \
	{ "cr3", required_argument, 0, OPT_CR3 }, \
	{ "mode", required_argument, 0, OPT_MODE }, \
	{ "eptp", required_argument, 0, OPT_EPTP }, \
	{ "ncr3", required_argument, 0, OPT_NCR3 }, \
	{ "s2-mode", required_argument, 0, OPT_S2MODE }, \
	{ "phys-bits", required_argument, 0, OPT_PHYS_BITS }, \
	{ "pti", no_argument, 0, OPT_PTI }, \
	{ "json", no_argument, 0, OPT_JSON }, \
	{ "quiet", no_argument, 0, OPT_QUIET }, \
	{ "guest", required_argument, 0, OPT_GUEST }, \
	{ "profile", required_argument, 0, OPT_PROFILE }, \
	{ "profile-dir", required_argument, 0, OPT_PROFILE_DIR }, \
	{ "pause", no_argument, 0, OPT_PAUSE }, \
	{ "helper", required_argument, 0, OPT_HELPER }, \
	{ "rescan", no_argument, 0, OPT_RESCAN }, \
	{ "help", no_argument, 0, OPT_HELP }

/* Help text for the common options, for each subcommand's --help. */
extern const char cmd_common_help[];

/*
 * Bounds on the work a hostile guest can cause, for the commands that read
 * the Linux view (ps, netstat, mount, shell): they add these to their
 * options and cmd_linux_help (kernel options and limits) to their --help;
 * linux_session_open applies them.  0 in struct cmd_limits means the default.
 */
#define CMD_LIMIT_LONGOPTS \
	{ "max-tasks", required_argument, 0, OPT_MAX_TASKS }, \
	{ "max-threads", required_argument, 0, OPT_MAX_THREADS }, \
	{ "max-cmdline", required_argument, 0, OPT_MAX_CMDLINE }, \
	{ "max-fds", required_argument, 0, OPT_MAX_FDS }, \
	{ "max-sockets", required_argument, 0, OPT_MAX_SOCKETS }, \
	{ "max-read", required_argument, 0, OPT_MAX_READ }

extern const char cmd_linux_help[];

struct cmd_limits {
	uint64_t tasks, threads, cmdline, fds, sockets, read;
};

/* Default of --max-read: bytes of guest memory one listing may read. */
#define CMD_DEFAULT_MAX_READ (1ull << 30)

#define CMD_MAX_PROFILE_DIRS 8

struct cmd_common {
	const char *prog;		/* "vmet translate" */
	const char *source;
	struct source_opts sopts;
	bool have_cr3;
	uint64_t cr3;
	int mode;			/* enum paging_mode, or -1 = from the vCPU record */
	enum stage2_type s2_type;	/* from --eptp / --ncr3 */
	uint64_t s2_root;
	int s2_mode;			/* -1 = default (4-level) */
	unsigned phys_bits;
	bool pti;
	bool json;
	bool quiet;
	bool pause;			/* live sources: stop the guest while reading */
	const char *helper;		/* --helper FILE: host-side vCPU records */
	const char *guest;		/* --guest N[/M] */
	bool checks_guests;		/* vmet guests: check every guest as --guest would */
	bool rescan;			/* --rescan: ignore the guest-discovery cache */
	const char *profile;
	const char *profile_dirs[CMD_MAX_PROFILE_DIRS];
	unsigned nprofile_dirs;
	struct cmd_limits max;
};

void cmd_common_init(struct cmd_common *c, const char *prog);

/*
 * Handle one getopt result if it is a common option: returns 1 when handled,
 * 0 when it is not a common option, -1 on a bad argument (message printed).
 */
int cmd_common_option(struct cmd_common *c, int opt, const char *arg);

/* Print "PROG: message" to stderr. */
void cmd_error(const struct cmd_common *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse an unsigned number (0x hex or decimal); false on garbage. */
bool cmd_parse_u64(const char *s, uint64_t *v);

int cmd_open_source(struct cmd_common *c, struct phys_source **src,
		    struct vmet_err *err);

/*
 * Describe the stack the options ask for: stage 2 from --eptp/--ncr3 (or the
 * source's records), stage 1 from --cr3/--mode (or the source's layer-0
 * vCPU record).  With need_cr3 and no CR3 known, fails naming the options.
 */
int cmd_stack_spec(struct cmd_common *c, struct phys_source *src, bool need_cr3,
		   struct stack_spec *spec, struct vmet_err *err);

/* The subcommands. */
int cmd_translate(int argc, char **argv);
int cmd_guests(int argc, char **argv);
int cmd_profile(int argc, char **argv);
/*
 * `vmet profile extract ...`: cmd_profile() dispatches here with argv[0] =
 * "extract" (before its own option parsing); this parses everything else.
 */
int cmd_profile_extract(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_netstat(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_shell(int argc, char **argv);
/* vmet mount's reading of the guest alone, nothing mounted (dump --pages-for mount). */
int cmd_mount_reading(int argc, char **argv);

#endif
