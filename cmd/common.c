// SPDX-License-Identifier: GPL-2.0-or-later
#include "cmd/cmd.h"
#include "cmd/guest.h"
#include "core/helper.h"
#include "live/qemu.h"
#include "live/xen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char cmd_common_help[] =
	"Source options:\n"
	"  --format FMT       read SOURCE as raw|elf|lime|vmsnap instead of guessing\n"
	"  --memmap MAP       raw images with holes: START-END@OFFSET[,...]\n"
	"  --pause            live sources (qemu:, qemu-pid:, xen:): pause the guest\n"
	"                     while vmet reads it\n"
	"  --helper FILE      host-side vCPU records (KEY=VALUE lines: vcpu, cr3, cr0,\n"
	"                     cr4, efer, rip, s2type, s2root, time), trusted over a\n"
	"                     guest hypervisor's VMCB/VMCS for --guest\n"
	"  --guest N          work inside guest N of the guest hypervisor whose memory\n"
	"                     SOURCE holds (see vmet guests): its EPT/NPT is stage 2\n"
	"  --guest N/M        inside guest M of guest N (found in N's memory; up to 4\n"
	"                     levels, see vmet guests --depth)\n"
	"  --rescan           --guest: scan SOURCE again instead of re-checking the\n"
	"                     locations cached by the last scan\n"
	"Translation options (override what the source records):\n"
	"  --cr3 X            stage-1 root (guest CR3; PCID bits are ignored)\n"
	"  --mode M           stage-1 paging: 4, 5, pae, 32 or none\n"
	"  --pti              CR3 is a PTI pair: kernel addresses use CR3 & ~0x1000\n"
	"  --eptp X           stage 2 is Intel EPT with this EPTP\n"
	"  --ncr3 X           stage 2 is AMD NPT with this nCR3\n"
	"  --s2-mode M        NPT depth: 4 (default) or 5\n"
	"  --phys-bits N      MAXPHYADDR for reserved-bit checks (default 52)\n"
	"Output:\n"
	"  --json             machine-readable output\n"
	"  --quiet            no progress or warnings on stderr\n"
	"  --help             this help\n";

const char cmd_linux_help[] =
	"Kernel options:\n"
	"  --profile FILE     use this profile (else the one whose banner fits, else\n"
	"                     one read from the kernel's BTF; 'auto': that directly)\n"
	"  --profile-dir DIR  look for profiles in DIR first (repeatable)\n"
	"Limits (a hostile guest cannot make vmet work without end; raise them\n"
	"for very large guests):\n"
	"  --max-tasks N      processes on the task list (default 65536)\n"
	"  --max-threads N    threads in one process (default 65536)\n"
	"  --max-cmdline N    bytes of one command line (default 131072)\n"
	"  --max-fds N        file descriptors looked at in one process (default 1048576)\n"
	"  --max-sockets N    sockets kept (default 1048576)\n"
	"  --max-read BYTES   guest memory read by the listing, once the kernel is\n"
	"                     found (default 1G; suffixes K M G)\n";

/* A limit: 1..max, with an optional K/M/G suffix for byte counts. */
static int parse_limit(struct cmd_common *c, const char *name, const char *arg,
		       uint64_t max, bool bytes, uint64_t *out)
{
	char num[32];
	const char *given = arg;
	size_t n = strlen(arg);
	unsigned shift = 0;
	uint64_t v;

	if (bytes && n > 1 && n < sizeof(num)) {
		switch (arg[n - 1]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
	}
	if (shift) {
		memcpy(num, arg, n - 1);
		num[n - 1] = '\0';
		arg = num;
	}
	if (!cmd_parse_u64(arg, &v) || v < 1 || v > (max >> shift)) {
		cmd_error(c, "%s: '%s' must be 1..%" PRIu64, name, given, max);
		return -1;
	}
	*out = v << shift;
	return 1;
}

void cmd_common_init(struct cmd_common *c, const char *prog)
{
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->mode = -1;
	c->s2_mode = -1;
}

void cmd_error(const struct cmd_common *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c && c->prog ? c->prog : "vmet");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cmd_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && end != s && !*end;
}

int cmd_common_option(struct cmd_common *c, int opt, const char *arg)
{
	uint64_t v;
	int m;

	switch (opt) {
	case OPT_FORMAT:
		c->sopts.format = arg;
		return 1;
	case OPT_MEMMAP:
		c->sopts.memmap = arg;
		return 1;
	case OPT_CR3:
		if (!cmd_parse_u64(arg, &c->cr3)) {
			cmd_error(c, "--cr3: '%s' is not a number", arg);
			return -1;
		}
		c->have_cr3 = true;
		return 1;
	case OPT_MODE:
		m = paging_mode_parse(arg);
		if (m < 0) {
			cmd_error(c, "--mode: '%s' is not one of 4, 5, pae, 32, none", arg);
			return -1;
		}
		c->mode = m;
		return 1;
	case OPT_EPTP:
	case OPT_NCR3:
		if (c->s2_type != STAGE2_NONE) {
			cmd_error(c, "give only one of --eptp and --ncr3");
			return -1;
		}
		if (!cmd_parse_u64(arg, &c->s2_root)) {
			cmd_error(c, "%s: '%s' is not a number",
				  opt == OPT_EPTP ? "--eptp" : "--ncr3", arg);
			return -1;
		}
		c->s2_type = opt == OPT_EPTP ? STAGE2_EPT : STAGE2_NPT;
		return 1;
	case OPT_S2MODE:
		m = paging_mode_parse(arg);
		if (m != PAGING_4LEVEL && m != PAGING_5LEVEL) {
			cmd_error(c, "--s2-mode: '%s' must be 4 or 5", arg);
			return -1;
		}
		c->s2_mode = m;
		return 1;
	case OPT_PHYS_BITS:
		if (!cmd_parse_u64(arg, &v) || v < 32 || v > 52) {
			cmd_error(c, "--phys-bits: '%s' must be between 32 and 52", arg);
			return -1;
		}
		c->phys_bits = (unsigned)v;
		return 1;
	case OPT_PTI:
		c->pti = true;
		return 1;
	case OPT_PAUSE:
		c->pause = true;
		return 1;
	case OPT_HELPER:
		c->helper = arg;
		return 1;
	case OPT_JSON:
		c->json = true;
		return 1;
	case OPT_QUIET:
		c->quiet = true;
		return 1;
	case OPT_GUEST:
		c->guest = arg;
		return 1;
	case OPT_RESCAN:
		c->rescan = true;
		return 1;
	case OPT_PROFILE:
		c->profile = arg;
		return 1;
	case OPT_MAX_TASKS:
		return parse_limit(c, "--max-tasks", arg, 1u << 24, false, &c->max.tasks);
	case OPT_MAX_THREADS:
		return parse_limit(c, "--max-threads", arg, 1u << 24, false, &c->max.threads);
	case OPT_MAX_CMDLINE:
		return parse_limit(c, "--max-cmdline", arg, 64u << 20, true, &c->max.cmdline);
	case OPT_MAX_FDS:
		return parse_limit(c, "--max-fds", arg, 1u << 30, false, &c->max.fds);
	case OPT_MAX_SOCKETS:
		return parse_limit(c, "--max-sockets", arg, 1u << 26, false, &c->max.sockets);
	case OPT_MAX_READ:
		return parse_limit(c, "--max-read", arg, 1ull << 50, true, &c->max.read);
	case OPT_PROFILE_DIR:
		if (c->nprofile_dirs >= CMD_MAX_PROFILE_DIRS) {
			cmd_error(c, "--profile-dir: at most %d directories", CMD_MAX_PROFILE_DIRS);
			return -1;
		}
		c->profile_dirs[c->nprofile_dirs++] = arg;
		return 1;
	}
	return 0;
}

int cmd_open_source(struct cmd_common *c, struct phys_source **src,
		    struct vmet_err *err)
{
	int rc;

	if (!c->source)
		return vmet_errf(err, VMET_EINVAL, "no SOURCE given (see --help)");
	if (c->pause && !qemu_spec_match(c->source) && !xen_spec_match(c->source))
		return vmet_errf(err, VMET_EINVAL, "--pause applies to live sources only (qemu:, qemu-pid:, xen:)");
	c->sopts.pause = c->pause;
	/* Entering a nested guest (or checking each, as vmet guests does)
	 * needs host-side CR3s taken while it ran. */
	c->sopts.samples = c->guest || c->checks_guests ? 16 : 1;
	rc = source_open(c->source, &c->sopts, src, err);
	if (!rc && c->helper) {
		rc = helper_records_load(c->helper, &(*src)->vcpus, err);
		if (rc) {
			vmet_err_prefix(err, rc, "--helper");
			phys_close(*src);
			*src = NULL;
		}
	}
	return rc;
}

int cmd_stack_spec(struct cmd_common *c, struct phys_source *src, bool need_cr3,
		   struct stack_spec *spec, struct vmet_err *err)
{
	const struct vcpu_record *rec = vcpu_set_find(&src->vcpus, 0, 0);

	if (c->guest) {
		struct guest_check chk;

		return cmd_guest_spec(c, src, spec, &chk, err);
	}
	memset(spec, 0, sizeof(*spec));
	spec->phys_bits = c->phys_bits;
	if (c->s2_type != STAGE2_NONE) {
		spec->level[0].s2_type = c->s2_type;
		spec->level[0].s2_root = c->s2_root;
		spec->level[0].s2_mode = c->s2_mode > 0 ? (enum paging_mode)c->s2_mode
							 : PAGING_4LEVEL;
		spec->nlevels = 1;
	}
	if (c->have_cr3) {
		spec->stage1 = true;
		spec->cr3 = c->cr3;
		spec->mode = c->mode >= 0 ? (enum paging_mode)c->mode
			   : (rec && rec->mode != PAGING_NONE) ? rec->mode : PAGING_4LEVEL;
	} else if (rec && rec->cr3_origin != VCPU_ORIGIN_NONE && c->s2_type == STAGE2_NONE) {
		spec->stage1 = true;
		spec->cr3 = rec->cr3;
		spec->mode = c->mode >= 0 ? (enum paging_mode)c->mode : rec->mode;
	} else if (c->mode == PAGING_NONE) {
		spec->stage1 = false;
	} else if (need_cr3) {
		return vmet_errf(err, VMET_EINVAL,
				 "no CR3 known for %s: give --cr3 (and --mode), or use a source "
				 "that records vCPU registers (ELF core, vmet snapshot)",
				 c->source);
	}
	if (spec->stage1 && c->pti)
		spec->x86_flags |= X86_PTI_KERNEL_ROOT;
	return 0;
}
