// SPDX-License-Identifier: GPL-2.0-or-later
/* vmet: inspect virtual machines from outside. Subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "ps", cmd_ps, "list a Linux guest's processes (like ps -ef)" },
	{ "netstat", cmd_netstat, "list a Linux guest's sockets and their owners (like netstat -tunap)" },
	{ "mount", cmd_mount, "serve a Linux guest as a read-only /proc (FUSE)" },
	{ "shell", cmd_shell, "run a command with the guest's shadow /proc at /proc (private namespace)" },
	{ "translate", cmd_translate, "show every table entry behind a virtual or guest-physical address" },
	{ "guests", cmd_guests, "list the guests a guest hypervisor runs (VMCB/VMCS), checked" },
	{ "info", cmd_info, "what a source is: format, memory map, vCPU records, metadata, digest" },
	{ "dump", cmd_dump, "write a source as a vmet snapshot (or a raw image)" },
	{ "profile", cmd_profile, "build, import, extract, show or list kernel profiles" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmet COMMAND [OPTIONS] SOURCE [ARGS...]\n"
		"       vmet COMMAND --help\n"
		"\n"
		"vmet inspects virtual machines from outside: it reads host memory, walks\n"
		"the guest's page tables (and a guest hypervisor's EPT/NPT) itself, and\n"
		"reads the guest kernel's structures.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f,
		"\n"
		"SOURCE is a memory image (raw, ELF core, LiME, vmet snapshot), a live\n"
		"QEMU guest (qemu:RAMFILE[,qmp=SOCKET], qemu-pid:PID,qmp=SOCKET) or, from\n"
		"dom0, a Xen domain (xen:DOMID, xen:NAME).\n"
		"Add --guest N to work inside a nested guest.  See vmet(1).\n"
		"\n"
		"Exit status: 0 success, 1 incomplete result, 2 usage or source error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *hargv[] = { argv[2], (char *)"--help", NULL };

			for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
				if (!strcmp(argv[2], subcommands[i].name))
					return subcommands[i].run(2, hargv);
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vmet %s\n", VMET_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vmet: unknown command '%s' (see vmet --help)\n", argv[1]);
	return EXIT_USAGE;
}
