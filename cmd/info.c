// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet info: what a source is.  Format, memory map and size, the vCPU
 * records with where each value came from, VMCOREINFO highlights, snapshot
 * metadata, and (--verify) the snapshot's digest recomputed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/json.h"
#include "cmd/linux_open.h"
#include "formats/vmsnap.h"

enum { OPT_VERIFY = OPT_CMD_BASE, OPT_ALL_RANGES, OPT_NO_KERNEL };

#define TEXT_RANGES 32		/* ranges listed in text unless --all-ranges */

/* The VMCOREINFO keys an analyst looks at first. */
static const char *const vmci_keys[] = {
	"OSRELEASE", "BUILD-ID", "PAGESIZE", "KERNELOFFSET", "NUMBER(phys_base)",
	"SYMBOL(init_top_pgt)", "SYMBOL(swapper_pg_dir)", "SYMBOL(_stext)",
	"NUMBER(pgtable_l5_enabled)", "CRASHTIME",
};

static void help(void)
{
	printf("Usage: vmet info [OPTIONS] SOURCE\n"
	       "\n"
	       "Describe SOURCE: its format, memory ranges and total size, the vCPU\n"
	       "records it carries (CR3, paging mode, stage-2 root) with the origin of\n"
	       "each value, VMCOREINFO highlights, the Linux kernel's banner when a\n"
	       "profile verifies it (as vmet ps finds it), and for a vmet snapshot its metadata\n"
	       "(creation time, source, vmet version, kernel banner), layout and digest.\n"
	       "\n"
	       "Info options:\n"
	       "  --verify           recompute a snapshot's SHA-256 over all its content\n"
	       "                     and compare it with the stored one\n"
	       "  --all-ranges       list every memory range (text lists the first %d)\n"
	       "  --no-kernel        do not look for the Linux kernel and its banner\n"
	       "\n"
	       "%s"
	       "\n"
	       "Exit status: 0 success (and, with --verify, the digest matches), 2 usage\n"
	       "or source error, a digest mismatch, or --verify on a format without a\n"
	       "digest.\n", TEXT_RANGES, cmd_common_help);
}

static const char *size_str(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static const char *mode_desc(enum paging_mode m)
{
	switch (m) {
	case PAGING_NONE: return "paging off";
	case PAGING_32: return "32-bit paging";
	case PAGING_PAE: return "PAE paging";
	case PAGING_4LEVEL: return "4-level paging";
	case PAGING_5LEVEL: return "5-level paging";
	}
	return "?";
}

static void vcpu_text(const struct vcpu_record *v)
{
	printf("  layer %u guest %u vcpu %u:\n", v->layer, v->guest, v->vcpu);
	if (v->cr3_origin != VCPU_ORIGIN_NONE)
		printf("    cr3   0x%" PRIx64 " (%s)\n", v->cr3, vcpu_origin_name(v->cr3_origin));
	else
		printf("    cr3   unknown\n");
	if (v->regs_origin != VCPU_ORIGIN_NONE)
		printf("    mode  %s (%s); cr0 0x%" PRIx64 " cr4 0x%" PRIx64
		       " efer 0x%" PRIx64 "\n", mode_desc(v->mode),
		       vcpu_origin_name(v->regs_origin), v->cr0, v->cr4, v->efer);
	else if (v->cr3_origin != VCPU_ORIGIN_NONE)
		printf("    mode  %s (not recorded: assumed)\n", mode_desc(v->mode));
	if (v->s2_type != STAGE2_NONE)
		printf("    stage 2 %s root 0x%" PRIx64 " (%s), %s\n",
		       v->s2_type == STAGE2_EPT ? "EPT" : "NPT", v->s2_root,
		       vcpu_origin_name(v->s2_origin), v->s2_type == STAGE2_EPT ?
		       "depth from the EPTP" : mode_desc(v->s2_mode));
	if (v->rip)
		printf("    rip   0x%" PRIx64 "\n", v->rip);
	if (v->where)
		printf("    control structure at physical 0x%" PRIx64 "\n", v->where);
}

/* The kernel as vmet ps would find it: banner verified by a profile. */
struct kernel_found {
	bool ok;
	char *banner, *profile;
	const char *method;
	uint64_t slide;
	struct vmet_err err;
};

static void find_kernel(struct cmd_common *c, struct kernel_found *kf)
{
	struct linux_session s;

	memset(kf, 0, sizeof(*kf));
	if (linux_session_open(c, &s, &kf->err))
		return;
	kf->ok = true;
	kf->banner = s.prof && s.prof->banner ? strdup(s.prof->banner) : NULL;
	kf->profile = s.profile_path ? strdup(s.profile_path) : NULL;
	kf->method = linux_method_name(s.k->method);
	kf->slide = s.k->slide;
	linux_session_close(&s);
}

static void vcpu_json(struct json *j, const struct vcpu_record *v)
{
	json_obj_begin(j);
	json_ku64(j, "layer", v->layer);
	json_ku64(j, "guest", v->guest);
	json_ku64(j, "vcpu", v->vcpu);
	json_khex(j, "cr3", v->cr3);
	json_kstr(j, "cr3_origin", vcpu_origin_name(v->cr3_origin));
	json_kstr(j, "mode", paging_mode_name(v->mode));
	json_khex(j, "cr0", v->cr0);
	json_khex(j, "cr4", v->cr4);
	json_khex(j, "efer", v->efer);
	json_kstr(j, "regs_origin", vcpu_origin_name(v->regs_origin));
	json_kstr(j, "s2_type", stage2_type_name(v->s2_type));
	json_khex(j, "s2_root", v->s2_root);
	json_kstr(j, "s2_mode", paging_mode_name(v->s2_mode));
	json_kstr(j, "s2_origin", vcpu_origin_name(v->s2_origin));
	json_khex(j, "rip", v->rip);
	json_ku64(j, "time_ns", v->time_ns);
	json_khex(j, "where", v->where);
	json_obj_end(j);
}

/* One META line "key=value" -> callback with the unescaped value. */
static void meta_each(const struct phys_source *src,
		      void (*fn)(void *ctx, const char *key, const char *val), void *ctx)
{
	const char *p = vmsnap_meta(src);
	char key[128], val[1024];

	while (p && *p) {
		const char *eol = strchr(p, '\n'), *eq;
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		eq = memchr(p, '=', llen);
		if (eq && (size_t)(eq - p) < sizeof(key)) {
			memcpy(key, p, (size_t)(eq - p));
			key[eq - p] = '\0';
			if (vmsnap_meta_get(src, key, val, sizeof(val)) >= 0)
				fn(ctx, key, val);
		}
		if (!eol)
			break;
		p = eol + 1;
	}
}

static void meta_text(void *ctx, const char *key, const char *val)
{
	printf("  %-20s %s\n", key, val);
}

static void meta_json(void *ctx, const char *key, const char *val)
{
	json_kstr(ctx, key, val);
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_COMMON_LONGOPTS,
		{ "verify", no_argument, 0, OPT_VERIFY },
		{ "all-ranges", no_argument, 0, OPT_ALL_RANGES },
		{ "no-kernel", no_argument, 0, OPT_NO_KERNEL },
		{ 0, 0, 0, 0 }
	};
	struct cmd_common c;
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 }, verr = { 0 };
	struct vmsnap_info si;
	bool verify = false, all_ranges = false, no_kernel = false, snap;
	struct kernel_found kf = { 0 };
	uint8_t computed[32];
	char hex[65], chex[65], sz[32];
	int opt, vrc = 0, status = EXIT_OK;

	cmd_common_init(&c, "vmet info");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r;

		if (opt == OPT_HELP) {
			help();
			return EXIT_OK;
		}
		if (opt == OPT_VERIFY) {
			verify = true;
			continue;
		}
		if (opt == OPT_ALL_RANGES) {
			all_ranges = true;
			continue;
		}
		if (opt == OPT_NO_KERNEL) {
			no_kernel = true;
			continue;
		}
		r = cmd_common_option(&c, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fprintf(stderr, "Try 'vmet info --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cmd_error(&c, "need exactly one SOURCE (see --help)");
		return EXIT_USAGE;
	}
	c.source = argv[optind];
	if (cmd_open_source(&c, &src, &err)) {
		cmd_error(&c, "%s", err.msg);
		return EXIT_USAGE;
	}
	snap = vmsnap_get_info(src, &si, NULL) == 0;
	if (verify && !snap) {
		cmd_error(&c, "--verify: %s is a %s source, which carries no digest (only vmet "
			  "snapshots do)", c.source, src->format);
		phys_close(src);
		return EXIT_USAGE;
	}
	if (verify) {
		vrc = vmsnap_verify(src, computed, &verr);
		if (vrc)
			status = EXIT_USAGE;
	}
	if (!no_kernel)
		find_kernel(&c, &kf);
	if (snap)
		vmsnap_digest_hex(si.digest, hex);
	if (verify && (!vrc || vrc == VMET_EMISMATCH))
		vmsnap_digest_hex(computed, chex);

	if (c.json) {
		struct json j;

		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_kstr(&j, "source", src->description ? src->description : c.source);
		json_kstr(&j, "format", src->format);
		json_kbool(&j, "live", src->live);
		json_ku64(&j, "memory_bytes", phys_total_size(src));
		json_key(&j, "ranges");
		json_arr_begin(&j);
		for (size_t i = 0; i < src->nranges; i++) {
			json_obj_begin(&j);
			json_khex(&j, "start", src->ranges[i].start);
			json_khex(&j, "end", src->ranges[i].end);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_key(&j, "vcpus");
		json_arr_begin(&j);
		for (size_t i = 0; i < src->vcpus.n; i++)
			vcpu_json(&j, &src->vcpus.v[i]);
		json_arr_end(&j);
		json_key(&j, "vmcoreinfo");
		if (src->vmcoreinfo) {
			json_obj_begin(&j);
			for (size_t i = 0; i < sizeof(vmci_keys) / sizeof(vmci_keys[0]); i++) {
				size_t len;
				const char *v = vmcoreinfo_get(src, vmci_keys[i], &len);

				if (v) {
					json_key(&j, vmci_keys[i]);
					json_strn(&j, v, len);
				}
			}
			json_obj_end(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "kernel");
		if (kf.ok) {
			json_obj_begin(&j);
			json_kstr(&j, "banner", kf.banner);
			json_kstr(&j, "profile", kf.profile);
			json_kstr(&j, "located_by", kf.method);
			json_khex(&j, "kaslr_slide", kf.slide);
			json_obj_end(&j);
		} else {
			json_null(&j);
			if (!no_kernel)
				json_kstr(&j, "kernel_error", kf.err.msg);
		}
		if (snap) {
			json_key(&j, "snapshot");
			json_obj_begin(&j);
			json_ku64(&j, "version", si.version);
			json_ku64(&j, "file_bytes", si.file_size);
			json_ku64(&j, "pages_stored", si.stored_pages);
			json_ku64(&j, "pages_per_chunk", si.pages_per_chunk);
			json_ku64(&j, "chunks", si.nchunks);
			json_ku64(&j, "extents", si.nextents);
			json_ku64(&j, "compressed_bytes", si.compressed_bytes);
			json_kstr(&j, "sha256", hex);
			json_key(&j, "metadata");
			json_obj_begin(&j);
			meta_each(src, meta_json, &j);
			json_obj_end(&j);
			json_obj_end(&j);
		}
		if (verify) {
			json_key(&j, "verify");
			json_obj_begin(&j);
			json_kbool(&j, "ok", vrc == 0);
			if (!vrc || vrc == VMET_EMISMATCH)
				json_kstr(&j, "computed_sha256", chex);
			if (vrc)
				json_kstr(&j, "error", verr.msg);
			json_obj_end(&j);
		}
		json_obj_end(&j);
		json_end(&j);
	} else {
		size_t shown = all_ranges ? src->nranges :
			       src->nranges < TEXT_RANGES ? src->nranges : TEXT_RANGES;

		printf("source:  %s\n", src->description ? src->description : c.source);
		printf("format:  %s%s\n", src->format, src->live ? " (live)" : "");
		printf("memory:  %zu range%s, %" PRIu64 " bytes (%s)\n", src->nranges,
		       src->nranges == 1 ? "" : "s", phys_total_size(src),
		       size_str(phys_total_size(src), sz, sizeof(sz)));
		for (size_t i = 0; i < shown; i++)
			printf("  [0x%012" PRIx64 ", 0x%012" PRIx64 ")  %s\n", src->ranges[i].start,
			       src->ranges[i].end,
			       size_str(src->ranges[i].end - src->ranges[i].start, sz, sizeof(sz)));
		if (shown < src->nranges)
			printf("  ... %zu more (--all-ranges)\n", src->nranges - shown);
		printf("vCPU records: %zu\n", src->vcpus.n);
		for (size_t i = 0; i < src->vcpus.n; i++)
			vcpu_text(&src->vcpus.v[i]);
		if (src->vmcoreinfo) {
			printf("VMCOREINFO: %zu bytes\n", strlen(src->vmcoreinfo));
			for (size_t i = 0; i < sizeof(vmci_keys) / sizeof(vmci_keys[0]); i++) {
				size_t len;
				const char *v = vmcoreinfo_get(src, vmci_keys[i], &len);

				if (v)
					printf("  %s=%.*s\n", vmci_keys[i], (int)(len > 200 ? 200 : len), v);
			}
		} else {
			printf("VMCOREINFO: none\n");
		}
		if (kf.ok)
			printf("kernel:  %s\n  located by %s, KASLR slide 0x%" PRIx64 ", profile %s\n",
			       kf.banner ? kf.banner : "(profile has no banner)", kf.method, kf.slide,
			       kf.profile ? kf.profile : "?");
		else if (!no_kernel)
			printf("kernel:  not found (%.300s)\n", kf.err.msg);
		if (snap) {
			printf("snapshot: version %" PRIu32 ", %s file, %" PRIu64 " pages stored in %"
			       PRIu64 " chunks of up to %" PRIu32 " pages, %" PRIu64 " extents\n",
			       si.version, size_str(si.file_size, sz, sizeof(sz)), si.stored_pages,
			       si.nchunks, si.pages_per_chunk, si.nextents);
			meta_each(src, meta_text, NULL);
			printf("sha256:  %s", hex);
			if (!verify)
				printf(" (not checked; --verify)\n");
			else if (!vrc)
				printf(" (verified)\n");
			else
				printf(" (VERIFY FAILED)\n");
		}
	}
	if (vrc)
		cmd_error(&c, "%s", verr.msg);
	free(kf.banner);
	free(kf.profile);
	phys_close(src);
	return status;
}
