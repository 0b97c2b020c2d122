// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet guests: the guests a guest hypervisor runs, as found in its memory,
 * each checked for a kernel behind it and for agreement with the host side.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/guest.h"
#include "cmd/json.h"
#include "os/linux/linux.h"

static void help(void)
{
	printf("Usage: vmet guests [OPTIONS] SOURCE\n"
	       "\n"
	       "Scan SOURCE (the memory of a machine that runs a hypervisor) for the\n"
	       "control structures of its guests: AMD VMCBs, KVM vmcs12 and Xen virtual\n"
	       "VMCSs (VMCS layouts are the emulating host's; see vmet-guests(1)).  Guests\n"
	       "are vCPUs grouped by their stage-2 root (nCR3 / EPTP), numbered for --guest N.\n"
	       "Each is checked: does its CR3 reach a Linux kernel through its stage 2, and\n"
	       "does a host-side record (QEMU monitor registers, ELF dump CPU notes) agree?\n"
	       "\n"
	       "%s"
	       "\n"
	       "Exit status: 0 all guests listed and none disagrees with the host side,\n"
	       "1 a guest hypervisor misreports a guest (DISAGREE) or the scan was cut short,\n"
	       "2 usage or source error.\n", cmd_common_help);
}

/* First "Linux version" string in the guest's kernel image, if any. */
static void guest_banner(struct phys_source *src, const struct guest *g,
			 const struct guest_check *chk, char *out, size_t n)
{
	struct stack_spec spec = { 0 };
	struct aspace *s2;
	struct linux_banner_hit *hits;
	size_t nh = 0;

	out[0] = '\0';
	if (chk->trust == GUEST_NO_KERNEL)
		return;
	spec.nlevels = 1;
	spec.level[0].s2_type = g->s2_type;
	spec.level[0].s2_root = g->s2_root;
	spec.level[0].s2_mode = chk->s2_mode;
	hits = calloc(4, sizeof(*hits));
	if (!hits || aspace_stack_build(src, &spec, &s2, NULL)) {
		free(hits);
		return;
	}
	/* The banner is in .rodata, within the first tens of MiB after _text. */
	/* Debian keeps an earlier copy of the banner whose version field lacks
	 * the build number ("#  SMP"); UTS_VERSION always starts '#' + digit,
	 * so prefer a hit that has one. */
	if (!linux_banner_scan(s2, chk->text_pa, chk->text_pa + (64ull << 20), hits, 4, &nh, NULL) && nh) {
		size_t pick = 0;

		for (size_t i = 0; i < nh; i++) {
			const char *h = strchr(hits[i].text, '#');

			if (h && h[1] >= '0' && h[1] <= '9') {
				pick = i;
				break;
			}
		}
		snprintf(out, n, "%s", hits[pick].text);
	}
	aspace_free_stack(s2);
	free(hits);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\rvmet: scanning for VMCB/VMCS: %3u%%", total ? (unsigned)(done * 100 / total) : 100);
	if (done == total)
		fputc('\n', stderr);
}

int cmd_guests(int argc, char **argv)
{
	static const struct option longopts[] = { CMD_COMMON_LONGOPTS, { 0, 0, 0, 0 } };
	struct cmd_common c;
	struct phys_source *src = NULL;
	struct guest_list gl;
	struct vmet_err err = { 0 };
	struct json j;
	int opt, status = EXIT_OK;

	cmd_common_init(&c, "vmet guests");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cmd_common_option(&c, opt, optarg);

		if (opt == OPT_HELP) {
			help();
			return EXIT_OK;
		}
		if (r <= 0) {
			if (r == 0)
				fprintf(stderr, "Try 'vmet guests --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cmd_error(&c, "need exactly one SOURCE (see --help)");
		return EXIT_USAGE;
	}
	if (c.guest) {
		cmd_error(&c, "--guest does not apply: vmet guests lists them");
		return EXIT_USAGE;
	}
	c.source = argv[optind];
	if (cmd_open_source(&c, &src, &err)) {
		cmd_error(&c, "%s", err.msg);
		return EXIT_USAGE;
	}
	/* Listing always scans; the locations found are cached for --guest. */
	if (guests_discover_cached(src, c.source, GUESTS_CACHE_REFRESH, &gl, NULL,
				   !c.quiet && isatty(2) ? progress : NULL, NULL, &err)) {
		cmd_error(&c, "%s", err.msg);
		phys_close(src);
		return EXIT_USAGE;
	}
	if (gl.truncated) {
		cmd_error(&c, "more than %d control structures: list cut short", GUESTS_MAX_CTL);
		status = EXIT_INCOMPLETE;
	}
	if (c.json) {
		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_kstr(&j, "source", src->description ? src->description : c.source);
		json_kbool(&j, "truncated", gl.truncated);
		json_key(&j, "guests");
		json_arr_begin(&j);
	} else if (!gl.n) {
		printf("no VMCB or VMCS found in %s\n", c.source);
	}
	for (size_t i = 0; i < gl.n; i++) {
		const struct guest *g = &gl.g[i];
		struct guest_check chk;
		char banner[LINUX_BANNER_MAX];

		if (guest_check(src, g, &chk, &err)) {
			snprintf(chk.note, sizeof(chk.note), "check failed: %.400s", err.msg);
			chk.trust = GUEST_NO_KERNEL;
		}
		if (chk.trust == GUEST_DISAGREE)
			status = EXIT_INCOMPLETE;
		guest_banner(src, g, &chk, banner, sizeof(banner));
		if (c.json) {
			json_obj_begin(&j);
			json_ku64(&j, "guest", g->number);
			json_kstr(&j, "structure", vmctl_kind_name(g->kind));
			json_kstr(&j, "stage2", stage2_type_name(g->s2_type));
			json_khex(&j, "stage2_root", g->s2_root);
			json_kstr(&j, "stage2_mode", paging_mode_name(chk.s2_mode));
			json_kstr(&j, "trust", guest_trust_name(chk.trust));
			if (chk.trust != GUEST_NO_KERNEL) {
				json_khex(&j, "cr3", chk.cr3);
				json_kstr(&j, "cr3_origin", vcpu_origin_name(chk.cr3_origin));
				json_kstr(&j, "mode", paging_mode_name(chk.mode));
				json_khex(&j, "kernel_text_va", chk.text_va);
				json_khex(&j, "kernel_text_gpa", chk.text_pa);
			}
			json_kstr(&j, "banner", banner[0] ? banner : NULL);
			json_kstr(&j, "note", chk.note);
			json_key(&j, "vcpus");
			json_arr_begin(&j);
			for (size_t k = 0; k < g->nvcpu; k++) {
				const struct vmctl *v = &g->vcpu[k];

				json_obj_begin(&j);
				json_khex(&j, "address", v->pa);
				json_ku64(&j, g->kind == VMCTL_VMCB ? "asid" : "vpid", v->id);
				json_khex(&j, "cr3", v->cr3);
				json_khex(&j, "cr0", v->cr0);
				json_khex(&j, "cr4", v->cr4);
				json_khex(&j, "efer", v->efer);
				json_khex(&j, "rip", v->rip);
				json_kstr(&j, "mode", paging_mode_name(v->mode));
				json_obj_end(&j);
			}
			json_arr_end(&j);
			json_obj_end(&j);
			continue;
		}
		printf("guest %u: %s %s root 0x%" PRIx64 " (%s-level), %zu vCPU%s\n", g->number,
		       vmctl_kind_name(g->kind), stage2_type_name(g->s2_type), g->s2_root,
		       paging_mode_name(chk.s2_mode), g->nvcpu, g->nvcpu == 1 ? "" : "s");
		for (size_t k = 0; k < g->nvcpu; k++) {
			const struct vmctl *v = &g->vcpu[k];

			printf("  vcpu %zu: %s at 0x%" PRIx64 " %s %u cr3 0x%" PRIx64 " rip 0x%" PRIx64
			       " paging %s\n", k, vmctl_kind_name(v->kind), v->pa,
			       v->kind == VMCTL_VMCB ? "asid" : "vpid", v->id, v->cr3, v->rip,
			       paging_mode_name(v->mode));
		}
		if (chk.trust != GUEST_NO_KERNEL)
			printf("  kernel: _text 0x%" PRIx64 " at guest-physical 0x%" PRIx64
			       "; CR3 to use 0x%" PRIx64 " (%s)\n", chk.text_va, chk.text_pa, chk.cr3,
			       vcpu_origin_name(chk.cr3_origin));
		if (banner[0])
			printf("  banner: %s\n", banner);
		printf("  trust: %s: %s\n", guest_trust_name(chk.trust), chk.note);
	}
	if (c.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	}
	guest_list_free(&gl);
	phys_close(src);
	return status;
}
