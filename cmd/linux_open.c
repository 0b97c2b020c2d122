// SPDX-License-Identifier: GPL-2.0-or-later
/* Open a source and find its Linux kernel: shared by every Linux command. */
#include "cmd/linux_open.h"
#include "cmd/json.h"
#include "cmd/guest.h"
#include "os/linux/autoprofile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIRS (CMD_MAX_PROFILE_DIRS + 8)
#define PTI_USER_BIT 0x1000ull

const char *linux_method_name(enum linux_locate_method m)
{
	switch (m) {
	case LINUX_LOC_VMCOREINFO: return "vmcoreinfo";
	case LINUX_LOC_CR3: return "cr3";
	case LINUX_LOC_SCAN: return "scan";
	default: return "none";
	}
}

void linux_report_print(const struct cmd_common *c, const struct linux_report *r)
{
	unsigned kept = r->n < LINUX_REPORT_KEEP ? r->n : LINUX_REPORT_KEEP;

	for (unsigned i = 0; i < kept; i++)
		cmd_error(c, "warning: %s", r->msg[i]);
	if (r->n > kept)
		cmd_error(c, "warning: %u more problem(s) not shown", r->n - kept);
}

void linux_json_head(struct json *j, const struct cmd_common *c, const struct linux_session *s)
{
	json_init(j, stdout, true);
	json_obj_begin(j);
	json_kstr(j, "source", s->src->description ? s->src->description : c->source);
	json_key(j, "kernel");
	json_obj_begin(j);
	json_kstr(j, "banner", s->prof->banner);
	json_kstr(j, "profile", s->profile_path);
	json_kstr(j, "located_by", linux_method_name(s->k->method));
	json_khex(j, "kaslr_slide", s->k->slide);
	json_khex(j, "phys_base", s->k->phys_base);
	json_khex(j, "root", s->k->root);
	json_obj_end(j);
}

void linux_json_tail(struct json *j, bool complete, const struct linux_report *r)
{
	unsigned kept = r->n < LINUX_REPORT_KEEP ? r->n : LINUX_REPORT_KEEP;

	json_kbool(j, "complete", complete);
	json_key(j, "problems");
	json_arr_begin(j);
	for (unsigned i = 0; i < kept; i++)
		json_str(j, r->msg[i]);
	json_arr_end(j);
	json_obj_end(j);
	json_end(j);
}

/* Try binding one loaded profile; keeps it on success. */
static int try_profile(struct linux_session *s, const struct linux_layout *lay,
		       struct profile *p, const char *path, struct vmet_err *err)
{
	int rc = linux_kernel_bind(s->src, s->lower, lay, p, &s->k, err);

	if (rc) {
		profile_free(p);
		return rc;
	}
	s->prof = p;
	s->profile_path = strdup(path);
	return 0;
}

/*
 * A profile read out of the kernel itself (BTF + kallsyms), cached by
 * banner.  A cached one that no longer binds is derived afresh.
 */
static int auto_profile(struct linux_session *s, const struct linux_layout *lay,
			struct vmet_err *err)
{
	static const char derived[] = "(derived from guest memory: BTF and kallsyms)";
	struct linux_autoprofile_info *info = calloc(1, sizeof(*info));
	struct profile *p = NULL;
	int rc;

	if (!info)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = linux_profile_auto(s->lower, lay, 0, &p, info, err);
	if (!rc) {
		bool cached = info->from_cache;

		rc = try_profile(s, lay, p, cached ? info->cache_path : derived, err);
		if (rc && cached) {
			rc = linux_profile_auto(s->lower, lay, LINUX_AUTO_NO_CACHE_READ, &p, info, err);
			if (!rc)
				rc = try_profile(s, lay, p, derived, err);
		}
	}
	free(info);
	return rc;
}

/* "Linux version RELEASE " for a quick banner filter, from VMCOREINFO. */
static bool release_prefix(const struct phys_source *src, char *buf, size_t n)
{
	size_t len;
	const char *rel = vmcoreinfo_get(src, "OSRELEASE", &len);

	if (!rel || !len || len > 64)
		return false;
	snprintf(buf, n, "Linux version %.*s ", (int)len, rel);
	return true;
}

/*
 * Search the profile directories for the profile that binds.  A scan's hits
 * name their banner, so the matching file is found by its header; otherwise
 * every profile whose banner fits is loaded and verified against memory.
 */
static int search_dirs(struct linux_session *s, const struct linux_layout *lay,
		       const char *const *dirs, size_t ndirs, struct vmet_err *err)
{
	char prefix[96];
	bool have_prefix = lay->method == LINUX_LOC_VMCOREINFO &&
			   release_prefix(s->src, prefix, sizeof(prefix));
	struct vmet_err last = { 0 };
	size_t tried = 0;
	int rc;

	if (lay->method == LINUX_LOC_SCAN) {
		for (size_t i = 0; i < lay->nhits; i++) {
			struct profile *p = NULL;

			vmet_err_clear(&last);
			if (profile_find_for_banner(dirs, ndirs, lay->hits[i].text, &p, &last))
				continue;
			tried++;
			if (!try_profile(s, lay, p, "(matched by banner)", &last))
				return 0;
		}
		return vmet_errf(err, VMET_ENOTFOUND, "%s", last.msg[0] ? last.msg :
				 "no profile matches a banner found in memory");
	}
	for (size_t d = 0; d < ndirs; d++) {
		char **files = NULL;
		size_t nf = 0;
		bool done = false;

		if (profile_list_dir(dirs[d], &files, &nf, NULL))
			continue;
		for (size_t i = 0; i < nf; i++) {
			char *banner = NULL;
			struct profile *p = NULL;

			if (!done && !profile_read_banner(files[i], &banner, NULL) &&
			    (!have_prefix || !strncmp(banner, prefix, strlen(prefix))) &&
			    !profile_load(files[i], &p, &last)) {
				tried++;
				vmet_err_clear(&last);
				done = !try_profile(s, lay, p, files[i], &last);
			}
			free(banner);
			free(files[i]);
		}
		free(files);
		if (done)
			return 0;
	}
	/* Name the banner that is in memory, so the user knows what to build. */
	{
		struct linux_banner_hit hit[1];
		size_t n = 0;
		/* A CR3 layout's image is read through its tables (a PV guest's
		 * is not contiguous in the source), anything else physically. */
		struct aspace *vas = lay->method == LINUX_LOC_CR3 ?
				     aspace_x86_new(s->lower, lay->mode, lay->cr3, 0, NULL) : NULL;
		uint64_t start = vas ? lay->text_va : lay->phys_base + 0x1000000ull;

		linux_banner_scan(vas ? vas : s->lower, start, start + (64ull << 20), hit, 1, &n, NULL);
		aspace_free(vas);
		rc = vmet_errf(err, VMET_ENOTFOUND,
			       "no profile fits this kernel (%zu tried%s%s); the banner in memory is "
			       "'%s'; build a profile with 'vmet profile build VMLINUX -o FILE' and "
			       "pass --profile FILE", tried, last.msg[0] ? ", last: " : "", last.msg,
			       n ? hit[0].text : "(not found near the kernel image)");
	}
	return rc;
}

static int find_kernel(struct cmd_common *c, struct linux_session *s,
		       const struct linux_locate_opts *o, struct vmet_err *err)
{
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	int rc;

	if (!lay)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = linux_locate(s->src, s->lower, o, lay, err);
	if (rc)
		goto out;
	if (s->prof) {
		rc = linux_kernel_bind(s->src, s->lower, lay, s->prof, &s->k, err);
	} else if (c->profile && !strcmp(c->profile, "auto")) {
		rc = auto_profile(s, lay, err);
	} else {
		char *defdirs[MAX_DIRS];
		const char *dirs[MAX_DIRS];
		size_t nd = 0, ndef;

		for (unsigned i = 0; i < c->nprofile_dirs; i++)
			dirs[nd++] = c->profile_dirs[i];
		ndef = profile_default_dirs(defdirs, MAX_DIRS - nd);
		for (size_t i = 0; i < ndef; i++)
			dirs[nd++] = defdirs[i];
		rc = search_dirs(s, lay, dirs, nd, err);
		profile_dirs_free(defdirs, ndef);
		/* No profile file fits: read one out of the kernel (BTF). */
		if (rc == VMET_ENOTFOUND) {
			struct vmet_err e2 = { 0 };

			if (!auto_profile(s, lay, &e2))
				rc = 0;
			else
				vmet_err_prefix(err, rc, "no profile could be derived from memory "
						"either (%s)", e2.msg);
		}
	}
	if (rc)
		vmet_err_prefix(err, rc, "kernel located by %s", linux_method_name(lay->method));
out:
	free(lay);
	return rc;
}

/*
 * The bounds of --max-*: the kernel's caps, and a fresh read budget, so
 * that what finding the kernel read (a banner scan reads all of memory)
 * does not count against the listing.
 */
static void linux_session_limits(const struct cmd_common *c, struct linux_session *s)
{
	const struct cmd_limits *m = &c->max;

	if (m->tasks)
		s->k->max_tasks = (size_t)m->tasks;
	if (m->threads)
		s->k->max_threads = (size_t)m->threads;
	if (m->cmdline)
		s->k->max_cmdline = (size_t)m->cmdline;
	if (m->fds)
		s->k->max_fds = (size_t)m->fds;
	if (m->sockets)
		s->k->max_sockets = (size_t)m->sockets;
	s->src->bytes_read = 0;
	s->src->read_budget = m->read ? m->read : CMD_DEFAULT_MAX_READ;
}

int linux_session_open(struct cmd_common *c, struct linux_session *s, struct vmet_err *err)
{
	struct stack_spec spec, lspec;
	struct linux_locate_opts o = { 0 };
	struct vmet_err first = { 0 };
	int rc;

	memset(s, 0, sizeof(*s));
	s->rep = calloc(1, sizeof(*s->rep));
	if (!s->rep)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	/* A given profile that does not load is the user's error: say so first. */
	if (c->profile && strcmp(c->profile, "auto")) {
		rc = profile_load(c->profile, &s->prof, err);
		if (rc)
			goto fail;
		s->profile_path = strdup(c->profile);
	}
	rc = cmd_open_source(c, &s->src, err);
	if (rc)
		goto fail;
	if (c->guest) {
		/* A nested guest: its stage 2 and trusted CR3 from the guest
		 * hypervisor's control structures, checked against host records. */
		struct guest_check chk;

		rc = cmd_guest_spec(c, s->src, &spec, &chk, err);
	} else {
		rc = cmd_stack_spec(c, s->src, false, &spec, err);
	}
	if (rc)
		goto fail;
	/* The kernel's tables live below stage 1: build only the stage-2 part. */
	lspec = spec;
	lspec.stage1 = false;
	rc = aspace_stack_build(s->src, &lspec, &s->lower, err);
	if (rc)
		goto fail;
	o.use_vmcoreinfo = spec.nlevels == 0;
	o.have_cr3 = spec.stage1;
	o.cr3 = spec.cr3;
	if (spec.stage1 && (spec.x86_flags & X86_PTI_KERNEL_ROOT))
		o.cr3 &= ~PTI_USER_BIT;
	/* The paging depth is known from --mode, a vCPU record or the guest
	 * check; a bare --cr3 leaves it open and both depths are tried. */
	{
		const struct vcpu_record *rec = vcpu_set_find(&s->src->vcpus, 0, 0);
		bool known = c->guest || (rec && rec->mode != PAGING_NONE);

		o.mode = c->mode >= 0 ? (enum paging_mode)c->mode :
			 spec.stage1 && known ? spec.mode : PAGING_NONE;
	}
	o.allow_scan = true;
	/*
	 * Each way of locating the kernel is tried in turn, so that a VMCOREINFO
	 * that does not verify cannot hide a CR3 that would.  A CR3 with bit 12
	 * set may be the user half of a PTI pair, whose kernel half maps only
	 * the entry code: its kernel twin (bit 12 clear) is tried next.
	 */
	{
		struct linux_locate_opts tries[8];
		size_t n = 0;
		/* With the depth unknown, a 4-level walk of 5-level tables can find
		 * a bogus "_text": each depth is its own attempt, and the binding's
		 * checks pick the right one. */
		enum paging_mode depth[2] = { o.mode, PAGING_NONE };

		if (o.mode == PAGING_NONE) {
			depth[0] = PAGING_4LEVEL;
			depth[1] = PAGING_5LEVEL;
		}

		if (o.use_vmcoreinfo && s->src->vmcoreinfo) {
			tries[n] = o;
			tries[n].have_cr3 = false;
			tries[n++].allow_scan = false;
		}
		for (int d = 0; o.have_cr3 && d < 2 && depth[d] != PAGING_NONE; d++) {
			tries[n] = o;
			tries[n].mode = depth[d];
			tries[n].use_vmcoreinfo = false;
			tries[n++].allow_scan = false;
			if (o.cr3 & PTI_USER_BIT) {
				tries[n] = tries[n - 1];
				tries[n++].cr3 &= ~PTI_USER_BIT;
			}
		}
		tries[n] = o;
		tries[n].use_vmcoreinfo = false;
		tries[n++].have_cr3 = false;
		rc = VMET_ENOTFOUND;
		for (size_t i = 0; i < n && rc; i++) {
			struct vmet_err e = { 0 };

			rc = find_kernel(c, s, &tries[i], &e);
			/* A given profile whose banner is not the kernel's will not fit
			 * however else the kernel is found: that is the answer. */
			if (rc == VMET_EMISMATCH && c->profile && strcmp(c->profile, "auto") &&
			    strstr(e.msg, "wrong profile:")) {
				*err = e;
				break;
			}
			if (rc && i == 0)
				first = e;
			else if (rc)
				vmet_errf(err, rc, "%s; then %s", first.msg, e.msg);
			if (rc && i == 0 && n == 1)
				*err = first;
		}
	}
	if (rc)
		goto fail;
	linux_session_limits(c, s);
	return 0;
fail:
	linux_session_close(s);
	return rc;
}

int linux_session_start(struct cmd_common *c, int argc, char **argv, int first,
			struct linux_session *s)
{
	struct vmet_err err = { 0 };

	if (argc - first != 1) {
		cmd_error(c, "need exactly one SOURCE (see --help)");
		return EXIT_USAGE;
	}
	c->source = argv[first];
	if (linux_session_open(c, s, &err)) {
		cmd_error(c, "%s", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void linux_session_close(struct linux_session *s)
{
	linux_kernel_close(s->k);
	profile_free(s->prof);
	aspace_free_stack(s->lower);
	if (s->src)
		phys_close(s->src);
	free(s->profile_path);
	free(s->rep);
	memset(s, 0, sizeof(*s));
}
