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
#include "core/stack.h"
#include "os/linux/linux.h"

static void help(void)
{
	printf("Usage: vmet guests [--depth D] [OPTIONS] SOURCE\n"
	       "\n"
	       "Scan SOURCE (the memory of a machine that runs a hypervisor) for the\n"
	       "control structures of its guests: AMD VMCBs, KVM vmcs12 and Xen virtual\n"
	       "VMCSs (VMCS layouts are the emulating host's; see vmet-guests(1)).  Guests\n"
	       "are vCPUs grouped by their stage-2 root (nCR3 / EPTP), numbered for --guest N.\n"
	       "Xen's PV guests (dom0 too), which have no VMCB/VMCS, are found by their\n"
	       "kernel page-table roots (xen-pv-root), grouped by kernel.\n"
	       "Each is checked: does its CR3 reach a Linux kernel through its stage 2, and\n"
	       "does a host-side record (QEMU monitor registers, ELF dump CPU notes) agree?\n"
	       "\n"
	       "  --depth D          also list the guests of each guest, down to level D\n"
	       "                     (1-%d, default 1): guest N's memory, read through its\n"
	       "                     stage 2, is scanned in turn; they are numbered N/M\n"
	       "                     for --guest N/M\n"
	       "\n"
	       "%s"
	       "\n"
	       "Exit status: 0 all guests listed and none disagrees with the host side,\n"
	       "1 a guest hypervisor misreports a guest (DISAGREE), the scan was cut short\n"
	       "or a walkable guest's memory could not be scanned, 2 usage or source error.\n", STACK_MAX_LEVELS, cmd_common_help);
}

/* First "Linux version" string in the guest's kernel image, if any. */
static void guest_banner(struct aspace *lower, const struct guest *g,
			 const struct guest_check *chk, char *out, size_t n)
{
	struct aspace *s2 = NULL;
	struct linux_banner_hit *hits;
	size_t nh = 0;

	uint64_t start = chk->text_pa;

	out[0] = '\0';
	if (chk->trust == GUEST_NO_KERNEL)
		return;
	hits = calloc(4, sizeof(*hits));
	/* A PV guest's image is contiguous only virtually: read it through
	 * its own tables, which sit right on `lower`. */
	if (hits && g->kind == VMCTL_XEN_PV) {
		s2 = aspace_x86_new(lower, chk->mode, chk->cr3 & 0x000ffffffffff000ull, 0, NULL);
		start = chk->text_va;
	} else if (hits) {
		s2 = guest_stage2_new(lower, g->s2_type, g->s2_root, chk->s2_mode, NULL);
	}
	if (!hits || !s2) {
		free(hits);
		return;
	}
	/* The banner is in .rodata, within the first tens of MiB after _text. */
	/* Debian keeps an earlier copy of the banner whose version field lacks
	 * the build number ("#  SMP"); UTS_VERSION always starts '#' + digit,
	 * so prefer a hit that has one. */
	if (!linux_banner_scan(s2, start, start + (64ull << 20), hits, 4, &nh, NULL) && nh) {
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
	aspace_free(s2);
	free(hits);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\rvmet: scanning for VMCB/VMCS/PV roots: %3u%%", total ? (unsigned)(done * 100 / total) : 100);
	if (done == total)
		fputc('\n', stderr);
}

enum { OPT_DEPTH = OPT_CMD_BASE };

/* A PV guest's kernel roots printed (one per process): the rest in --json. */
#define PV_ROOTS_SHOWN 4

struct lister {
	struct cmd_common *c;
	struct phys_source *src;	/* host-side records */
	struct json j;
	int depth;			/* levels to list */
	int status;
};

static void list_level(struct lister *L, struct aspace *lower, const struct guest_list *gl,
		       const char *prefix, int level);

/* The guests of guest `g` (at `path`), listed one level down. */
static void list_inner(struct lister *L, struct aspace *lower, const struct guest *g,
		       const struct guest_check *chk, const char *path, int level)
{
	struct aspace *s2 = NULL;
	struct guest_list inner;
	struct vmet_err err = { 0 };
	char label[96];
	uint64_t scanned = 0;
	int rc;

	snprintf(label, sizeof(label), "guest %s's memory", path);
	if (g->kind == VMCTL_XEN_PV)
		rc = vmet_errf(&err, VMET_ENOTFOUND, "none: guest %s is a Xen PV guest, which runs "
			       "no guests of its own", path);
	else if (chk->trust == GUEST_NO_KERNEL)
		rc = vmet_errf(&err, VMET_ENOTFOUND, "not scanned: guest %s is not walkable", path);
	else if (!(s2 = guest_stage2_new(lower, g->s2_type, g->s2_root, chk->s2_mode, &err)))
		rc = err.code ? err.code : VMET_EINVAL;
	else
		rc = guest_discover_inner(s2, label, &inner, &scanned,
					  !L->c->quiet && isatty(2) ? progress : NULL, &err);
	/* A walkable guest whose memory could not be scanned: incomplete. */
	if (rc && chk->trust != GUEST_NO_KERNEL && g->kind != VMCTL_XEN_PV)
		L->status = EXIT_INCOMPLETE;
	if (L->c->json) {
		json_kstr(&L->j, "guests_note", rc ? err.msg : NULL);
		if (!rc)
			json_ku64(&L->j, "guests_scanned_bytes", scanned);
		json_key(&L->j, "guests");
		json_arr_begin(&L->j);
	} else if (rc) {
		printf("%*s  guests of guest %s: %s\n", 2 * (level - 1), "", path, err.msg);
	} else if (!inner.n) {
		printf("%*s  guests of guest %s: none (%" PRIu64 " MiB of its memory scanned)\n",
		       2 * (level - 1), "", path, scanned >> 20);
	}
	if (!rc) {
		if (inner.truncated) {
			cmd_error(L->c, "guest %s: more than %d control structures: list cut short", path,
				  GUESTS_MAX_CTL);
			L->status = EXIT_INCOMPLETE;
		}
		list_level(L, s2, &inner, path, level + 1);
		guest_list_free(&inner);
	}
	if (L->c->json)
		json_arr_end(&L->j);
	aspace_free(s2);
}

static void list_level(struct lister *L, struct aspace *lower, const struct guest_list *gl,
		       const char *prefix, int level)
{
	struct json *j = &L->j;
	int ind = 2 * (level - 1);

	for (size_t i = 0; i < gl->n; i++) {
		const struct guest *g = &gl->g[i];
		struct guest_check chk;
		struct vmet_err err = { 0 };
		char banner[LINUX_BANNER_MAX], path[64];

		if (prefix)
			snprintf(path, sizeof(path), "%s/%u", prefix, g->number);
		else
			snprintf(path, sizeof(path), "%u", g->number);
		if (guest_check_at(lower, L->src, g, &chk, &err)) {
			snprintf(chk.note, sizeof(chk.note), "check failed: %.400s", err.msg);
			chk.trust = GUEST_NO_KERNEL;
		}
		if (chk.trust == GUEST_DISAGREE)
			L->status = EXIT_INCOMPLETE;
		guest_banner(lower, g, &chk, banner, sizeof(banner));
		if (L->c->json) {
			json_obj_begin(j);
			json_ku64(j, "guest", g->number);
			json_kstr(j, "path", path);
			json_ku64(j, "level", (uint64_t)level);
			json_kstr(j, "structure", vmctl_kind_name(g->kind));
			json_kstr(j, "stage2", stage2_type_name(g->s2_type));
			json_khex(j, "stage2_root", g->s2_root);
			json_kstr(j, "stage2_mode", paging_mode_name(chk.s2_mode));
			json_kstr(j, "trust", guest_trust_name(chk.trust));
			if (chk.trust != GUEST_NO_KERNEL) {
				json_khex(j, "cr3", chk.cr3);
				json_kstr(j, "cr3_origin", vcpu_origin_name(chk.cr3_origin));
				json_kstr(j, "mode", paging_mode_name(chk.mode));
				json_khex(j, "kernel_text_va", chk.text_va);
				json_khex(j, "kernel_text_gpa", chk.text_pa);
			}
			json_kstr(j, "banner", banner[0] ? banner : NULL);
			json_kstr(j, "note", chk.note);
			json_key(j, "vcpus");
			json_arr_begin(j);
			for (size_t k = 0; k < g->nvcpu; k++) {
				const struct vmctl *v = &g->vcpu[k];

				json_obj_begin(j);
				json_khex(j, "address", v->pa);
				if (g->kind != VMCTL_XEN_PV)
					json_ku64(j, g->kind == VMCTL_VMCB ? "asid" : "vpid", v->id);
				json_khex(j, "cr3", v->cr3);
				json_khex(j, "cr0", v->cr0);
				json_khex(j, "cr4", v->cr4);
				json_khex(j, "efer", v->efer);
				json_khex(j, "rip", v->rip);
				json_kstr(j, "mode", paging_mode_name(v->mode));
				json_obj_end(j);
			}
			json_arr_end(j);
			if (level < L->depth)
				list_inner(L, lower, g, &chk, path, level);
			json_obj_end(j);
			continue;
		}
		if (g->kind == VMCTL_XEN_PV) {
			/* Its "vCPUs" are the kernel roots of its processes. */
			printf("%*sguest %s: %s, no stage 2 (machine addresses), kernel half 0x%" PRIx64
			       ", %zu kernel root%s\n", ind, "", path, vmctl_kind_name(g->kind), g->s2_root,
			       g->nvcpu, g->nvcpu == 1 ? "" : "s");
			for (size_t k = 0; k < g->nvcpu && k < PV_ROOTS_SHOWN; k++)
				printf("%*s  root %zu: 0x%" PRIx64 "\n", ind, "", k, g->vcpu[k].pa);
			if (g->nvcpu > PV_ROOTS_SHOWN)
				printf("%*s  (%zu more roots: --json lists them)\n", ind, "",
				       g->nvcpu - PV_ROOTS_SHOWN);
		} else {
			printf("%*sguest %s: %s %s root 0x%" PRIx64 " (%s-level), %zu vCPU%s\n", ind, "",
			       path, vmctl_kind_name(g->kind), stage2_type_name(g->s2_type), g->s2_root,
			       paging_mode_name(chk.s2_mode), g->nvcpu, g->nvcpu == 1 ? "" : "s");
			for (size_t k = 0; k < g->nvcpu; k++) {
				const struct vmctl *v = &g->vcpu[k];

				printf("%*s  vcpu %zu: %s at 0x%" PRIx64 " %s %u cr3 0x%" PRIx64 " rip 0x%" PRIx64
				       " paging %s\n", ind, "", k, vmctl_kind_name(v->kind), v->pa,
				       v->kind == VMCTL_VMCB ? "asid" : "vpid", v->id, v->cr3, v->rip,
				       paging_mode_name(v->mode));
			}
		}
		if (chk.trust != GUEST_NO_KERNEL)
			printf("%*s  kernel: _text 0x%" PRIx64 " at %s 0x%" PRIx64
			       "; CR3 to use 0x%" PRIx64 " (%s)\n", ind, "", chk.text_va,
			       g->kind == VMCTL_XEN_PV ? "machine address" : "guest-physical", chk.text_pa,
			       chk.cr3, vcpu_origin_name(chk.cr3_origin));
		if (banner[0])
			printf("%*s  banner: %s\n", ind, "", banner);
		printf("%*s  trust: %s: %s\n", ind, "", guest_trust_name(chk.trust), chk.note);
		if (level < L->depth)
			list_inner(L, lower, g, &chk, path, level);
	}
}

int cmd_guests(int argc, char **argv)
{
	static const struct option longopts[] = { CMD_COMMON_LONGOPTS,
		{ "depth", required_argument, 0, OPT_DEPTH }, { 0, 0, 0, 0 } };
	struct cmd_common c;
	struct phys_source *src = NULL;
	struct aspace *phys;
	struct guest_list gl;
	struct vmet_err err = { 0 };
	struct lister L = { .c = &c, .depth = 1, .status = EXIT_OK };
	int opt;

	cmd_common_init(&c, "vmet guests");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r;
		uint64_t d;

		if (opt == OPT_HELP) {
			help();
			return EXIT_OK;
		}
		if (opt == OPT_DEPTH) {
			if (!cmd_parse_u64(optarg, &d) || d < 1 || d > STACK_MAX_LEVELS) {
				cmd_error(&c, "--depth: '%s' is not a level from 1 to %d", optarg, STACK_MAX_LEVELS);
				return EXIT_USAGE;
			}
			L.depth = (int)d;
			continue;
		}
		r = cmd_common_option(&c, opt, optarg);
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
		cmd_error(&c, "--guest does not apply: vmet guests lists them (--depth for deeper levels)");
		return EXIT_USAGE;
	}
	c.source = argv[optind];
	c.checks_guests = true;
	if (cmd_open_source(&c, &src, &err)) {
		cmd_error(&c, "%s", err.msg);
		return EXIT_USAGE;
	}
	L.src = src;
	/* Listing always scans; the locations found are cached for --guest. */
	if (guests_discover_cached(src, c.source, GUESTS_CACHE_REFRESH, &gl, NULL,
				   !c.quiet && isatty(2) ? progress : NULL, NULL, &err)) {
		cmd_error(&c, "%s", err.msg);
		phys_close(src);
		return EXIT_USAGE;
	}
	if (!(phys = aspace_phys_new(src))) {
		cmd_error(&c, "out of memory");
		guest_list_free(&gl);
		phys_close(src);
		return EXIT_USAGE;
	}
	if (c.phys_bits)
		phys->phys_bits = c.phys_bits;
	if (gl.truncated) {
		cmd_error(&c, "more than %d control structures: list cut short", GUESTS_MAX_CTL);
		L.status = EXIT_INCOMPLETE;
	}
	if (c.json) {
		json_init(&L.j, stdout, true);
		json_obj_begin(&L.j);
		json_kstr(&L.j, "source", src->description ? src->description : c.source);
		json_kbool(&L.j, "truncated", gl.truncated);
		json_ku64(&L.j, "depth", (uint64_t)L.depth);
		json_key(&L.j, "guests");
		json_arr_begin(&L.j);
	} else if (!gl.n) {
		printf("no VMCB, VMCS or Xen PV root found in %s\n", c.source);
	}
	list_level(&L, phys, &gl, NULL, 1);
	if (c.json) {
		json_arr_end(&L.j);
		json_obj_end(&L.j);
		json_end(&L.j);
	}
	aspace_free(phys);
	guest_list_free(&gl);
	phys_close(src);
	return L.status;
}
