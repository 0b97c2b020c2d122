// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet profile extract: derive a profile from the guest kernel's own BTF
 * and kallsyms, with no debug symbols, and save it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/guest.h"
#include "cmd/json.h"
#include "os/linux/autoprofile.h"
#include "profiles/wanted.h"

enum { OPT_OUTPUT = OPT_CMD_BASE, OPT_CACHE };

#define PTI_USER_BIT 0x1000ull

static void help(void)
{
	printf("Usage: vmet profile extract [OPTIONS] SOURCE [-o PROFILE]\n"
	       "\n"
	       "Derive a profile for the Linux kernel in SOURCE from the kernel's own\n"
	       "memory: struct layouts from its BTF type information\n"
	       "(CONFIG_DEBUG_INFO_BTF), symbol addresses from its kallsyms tables,\n"
	       "the banner from linux_banner.  No vmlinux or System.map is needed.\n"
	       "The result is checked against memory (linux_banner, init_task's name,\n"
	       "init_top_pgt) before it is written.\n"
	       "\n"
	       "The kernel is located the way vmet ps does it: VMCOREINFO, then a CR3\n"
	       "(--cr3 or the source's vCPU record), then a scan for the banner.\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output FILE  write the profile to FILE (atomically); without it\n"
	       "                     only the summary is printed\n"
	       "  --cache            also store it in the profile cache, where commands\n"
	       "                     given --profile auto find it\n"
	       "\n"
	       "%s"
	       "\n"
	       "Exit status: 0 profile derived (and written); 1 derived, but it lacks a\n"
	       "struct or member the Linux view wants (listed on stderr); 2 usage error,\n"
	       "source error, or no usable BTF/kallsyms in memory.\n", cmd_common_help);
}

/* Locate the kernel as linux_session_open() does, without binding a profile. */
static int locate(struct cmd_common *c, struct phys_source *src, bool use_vmcoreinfo,
		  struct aspace **lower, struct linux_layout *lay, struct vmet_err *err)
{
	struct stack_spec spec, lspec;
	struct linux_locate_opts o = { 0 };
	int rc;

	if (c->guest) {
		/* A nested guest: stage 2 and the trusted CR3 as vmet ps finds them. */
		struct guest_check chk;

		rc = cmd_guest_spec(c, src, &spec, &chk, err);
	} else {
		rc = cmd_stack_spec(c, src, false, &spec, err);
	}
	if (rc)
		return rc;
	lspec = spec;
	lspec.stage1 = false;
	rc = aspace_stack_build(src, &lspec, lower, err);
	if (rc)
		return rc;
	o.use_vmcoreinfo = use_vmcoreinfo && spec.nlevels == 0;
	o.have_cr3 = spec.stage1;
	o.cr3 = spec.cr3;
	if (spec.stage1 && (spec.x86_flags & X86_PTI_KERNEL_ROOT))
		o.cr3 &= ~PTI_USER_BIT;
	o.mode = c->mode >= 0 ? (enum paging_mode)c->mode :
		 spec.stage1 ? spec.mode : PAGING_NONE;
	o.allow_scan = true;
	return linux_locate(src, *lower, &o, lay, err);
}

static const char *method_name(enum linux_locate_method m)
{
	switch (m) {
	case LINUX_LOC_VMCOREINFO: return "vmcoreinfo";
	case LINUX_LOC_CR3: return "cr3";
	case LINUX_LOC_SCAN: return "scan";
	default: return "none";
	}
}

static void print_text(const struct profile *p, const struct linux_autoprofile_info *in,
		       const struct linux_layout *lay, const char *output)
{
	const struct kallsyms_where *w = &in->ks_where;

	printf("banner:   %s\n", p->banner);
	printf("kernel:   located by %s; _text 0x%" PRIx64 " (physical 0x%" PRIx64 "), "
	       "%zu bytes of image %s\n", method_name(lay->method), in->text_va,
	       in->text_pa, in->image_bytes, in->image_mapped ? "mapped" : "copied");
	printf("kallsyms: %zu symbols; names at _text+0x%zx, markers +0x%zx (%u-byte), "
	       "token table +0x%zx, offsets +0x%zx%s%s\n", in->nsyms, w->names, w->markers,
	       w->marker_width, w->token_table, w->offsets,
	       w->have_seqs ? ", seqs_of_names" : "",
	       w->absolute_percpu ? ", absolute per-CPU" : "");
	printf("BTF:      0x%" PRIx64 ", %zu bytes, %" PRIu32 " types (found by %s)\n",
	       in->btf.va, in->btf.len, in->btf_types,
	       in->btf.from_symbols ? "__start_BTF/__stop_BTF" : "a header scan");
	printf("profile:  %zu structs, %zu symbols%s%s\n", in->structs, in->symbols,
	       output ? " -> " : " (not written: no -o)", output ? output : "");
	if (in->cache_path[0])
		printf("cache:    %s\n", in->cache_path);
	printf("time:     %.1f ms (image + kallsyms %.1f ms, BTF + profile + checks "
	       "%.1f ms)\n", in->t_total * 1e3, in->t_read * 1e3, in->t_btf * 1e3);
}

static void print_json(const struct profile *p, const struct linux_autoprofile_info *in,
		       const struct linux_layout *lay, const char *output, size_t missing)
{
	const struct kallsyms_where *w = &in->ks_where;
	struct json j;

	json_init(&j, stdout, true);
	json_obj_begin(&j);
	json_kstr(&j, "banner", p->banner);
	if (output)
		json_kstr(&j, "output", output);
	else
		json_key(&j, "output"), json_null(&j);
	json_kstr(&j, "located_by", method_name(lay->method));
	json_khex(&j, "text_va", in->text_va);
	json_khex(&j, "text_pa", in->text_pa);
	json_ku64(&j, "image_bytes", in->image_bytes);
	json_kbool(&j, "image_mapped", in->image_mapped);
	json_key(&j, "kallsyms");
	json_obj_begin(&j);
	json_ku64(&j, "symbols", in->nsyms);
	json_ku64(&j, "names_offset", w->names);
	json_ku64(&j, "markers_offset", w->markers);
	json_ku64(&j, "marker_width", w->marker_width);
	json_ku64(&j, "token_table_offset", w->token_table);
	json_ku64(&j, "token_index_offset", w->token_index);
	json_ku64(&j, "offsets_offset", w->offsets);
	json_kbool(&j, "seqs_of_names", w->have_seqs);
	json_kbool(&j, "absolute_percpu", w->absolute_percpu);
	json_obj_end(&j);
	json_key(&j, "btf");
	json_obj_begin(&j);
	json_khex(&j, "address", in->btf.va);
	json_ku64(&j, "bytes", in->btf.len);
	json_ku64(&j, "types", in->btf_types);
	json_kstr(&j, "found_by", in->btf.from_symbols ? "symbols" : "scan");
	json_obj_end(&j);
	json_ku64(&j, "structs", in->structs);
	json_ku64(&j, "symbols", in->symbols);
	json_ku64(&j, "missing", missing);
	if (in->cache_path[0])
		json_kstr(&j, "cache", in->cache_path);
	json_key(&j, "microseconds");
	json_obj_begin(&j);
	json_ku64(&j, "total", (uint64_t)(in->t_total * 1e6));
	json_ku64(&j, "image_and_kallsyms", (uint64_t)(in->t_read * 1e6));
	json_ku64(&j, "btf_and_profile", (uint64_t)(in->t_btf * 1e6));
	json_obj_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

int cmd_profile_extract(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_COMMON_LONGOPTS,
		{ "output", required_argument, 0, OPT_OUTPUT },
		{ "cache", no_argument, 0, OPT_CACHE },
		{ 0, 0, 0, 0 }
	};
	struct cmd_common c;
	struct phys_source *src = NULL;
	struct aspace *lower = NULL;
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_autoprofile_info info;
	struct profile *p = NULL;
	struct vmet_err err = { 0 };
	const char *output = NULL;
	bool cache = false;
	size_t missing = 0, msym = 0;
	int opt, status = EXIT_USAGE, rc;

	cmd_common_init(&c, "vmet profile extract");
	if (!lay) {
		cmd_error(&c, "out of memory");
		return EXIT_USAGE;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		int r;

		switch (opt) {
		case OPT_HELP:
			help();
			free(lay);
			return EXIT_OK;
		case 'o':
		case OPT_OUTPUT:
			output = optarg;
			continue;
		case OPT_CACHE:
			cache = true;
			continue;
		}
		r = cmd_common_option(&c, opt, optarg);
		if (r <= 0) {
			if (r == 0)
				fprintf(stderr, "Try 'vmet profile extract --help'.\n");
			free(lay);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cmd_error(&c, "need exactly one SOURCE (see --help)");
		free(lay);
		return EXIT_USAGE;
	}
	if (c.profile || c.nprofile_dirs) {
		cmd_error(&c, "--profile and --profile-dir do not apply: extract derives the "
			  "profile from memory");
		free(lay);
		return EXIT_USAGE;
	}
	c.source = argv[optind];
	if (cmd_open_source(&c, &src, &err))
		goto fail;
	rc = locate(&c, src, true, &lower, lay, &err);
	if (!rc)
		rc = linux_profile_auto(lower, lay, LINUX_AUTO_NO_CACHE_READ |
					(cache ? 0 : LINUX_AUTO_NO_CACHE_WRITE), &p, &info, &err);
	/* A VMCOREINFO that leads nowhere must not hide a CR3 that would (as vmet ps). */
	if (rc && lay->method == LINUX_LOC_VMCOREINFO && c.s2_type == STAGE2_NONE && !c.guest) {
		struct vmet_err first = err;

		aspace_free_stack(lower);
		lower = NULL;
		rc = locate(&c, src, false, &lower, lay, &err);
		if (!rc)
			rc = linux_profile_auto(lower, lay, LINUX_AUTO_NO_CACHE_READ |
						(cache ? 0 : LINUX_AUTO_NO_CACHE_WRITE),
						&p, &info, &err);
		if (rc)
			vmet_err_prefix(&err, rc, "%s; then", first.msg);
	}
	if (rc)
		goto fail;
	if (output && profile_save(p, output, &err))
		goto fail;
	if (cache && info.cache_note[0] && !c.quiet)
		cmd_error(&c, "warning: not cached: %s", info.cache_note);
	missing = wanted_check(p, c.quiet ? NULL : stderr, &msym);
	if (c.json)
		print_json(p, &info, lay, output, missing - msym);
	else
		print_text(p, &info, lay, output);
	status = missing > msym ? EXIT_INCOMPLETE : EXIT_OK;
	goto out;
fail:
	cmd_error(&c, "%s", err.msg);
out:
	profile_free(p);
	aspace_free_stack(lower);
	if (src)
		phys_close(src);
	free(lay);
	return status;
}
