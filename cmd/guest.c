// SPDX-License-Identifier: GPL-2.0-or-later
#include "cmd/guest.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/s2source.h"
#include "core/xenpv.h"
#include "os/linux/linux.h"

const char *guest_trust_name(enum guest_trust t)
{
	switch (t) {
	case GUEST_AGREE: return "agree";
	case GUEST_NO_HELPER: return "no-helper";
	case GUEST_DISAGREE: return "DISAGREE";
	case GUEST_NO_KERNEL: return "no-kernel";
	case GUEST_STALE: return "stale";
	}
	return "?";
}

static bool long_mode(enum paging_mode m)
{
	return m == PAGING_4LEVEL || m == PAGING_5LEVEL;
}

/* Where does _text sit when entering `lower` with this CR3?  0 on success. */
static int kernel_text(struct aspace *lower, uint64_t cr3, enum paging_mode mode,
		       uint64_t *va, uint64_t *pa, struct vmet_err *err)
{
	struct aspace *as;
	int rc;

	if (!long_mode(mode))
		return vmet_errf(err, VMET_EUNSUPPORTED, "paging mode %s: only 64-bit guests are checked",
				 paging_mode_name(mode));
	as = aspace_x86_new(lower, mode, cr3 & 0x000ffffffffff000ull, 0, err);
	if (!as)
		return err ? err->code : VMET_ENOMEM;
	/* Small cache: this space lives for one check. */
	aspace_set_cache_bits(as, TLB_SMALL_BITS);
	rc = linux_find_text(as, va, pa, err);
	aspace_free(as);
	return rc;
}

static int guest_check_depth(struct aspace *lower, struct phys_source *src, const struct guest *g,
			     struct guest_check *out, struct vmet_err *err);

int guest_check(struct phys_source *src, const struct guest *g, struct guest_check *out,
		struct vmet_err *err)
{
	struct aspace *phys = aspace_phys_new(src);
	int rc;

	if (!phys)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = guest_check_at(phys, src, g, out, err);
	aspace_free(phys);
	return rc;
}

int guest_check_at(struct aspace *lower, struct phys_source *src, const struct guest *g,
		   struct guest_check *out, struct vmet_err *err)
{
	struct guest g5;
	int rc = guest_check_depth(lower, src, g, out, err);

	out->s2_mode = g->s2_mode;
	/* A VMCB does not say how deep the nested tables are: a host with
	 * 5-level paging builds 5-level NPT.  Try that when 4 finds nothing. */
	if (rc || out->trust != GUEST_NO_KERNEL || g->s2_type != STAGE2_NPT ||
	    g->s2_mode != PAGING_4LEVEL)
		return rc;
	g5 = *g;
	g5.s2_mode = PAGING_5LEVEL;
	{
		struct guest_check c5;

		rc = guest_check_depth(lower, src, &g5, &c5, err);
		if (!rc && c5.trust != GUEST_NO_KERNEL) {
			*out = c5;
			out->s2_mode = PAGING_5LEVEL;
		}
	}
	return rc;
}

struct aspace *guest_stage2_new(struct aspace *lower, enum stage2_type type, uint64_t root,
				enum paging_mode mode, struct vmet_err *err)
{
	switch (type) {
	case STAGE2_EPT:
		return aspace_ept_new(lower, root, err);
	case STAGE2_NPT:
		return aspace_npt_new(lower, mode ? mode : PAGING_4LEVEL, root, err);
	default:
		vmet_errf(err, VMET_EINVAL, "no stage 2 to walk");
		return NULL;
	}
}

/* Roots of one PV kernel tried before giving up: they share its kernel half. */
#define PV_ROOTS_TRIED 8

/* Whether Xen's M2P still gives root's frame to a guest: 1 yes, 0 no
 * (the domain is gone), -1 unreadable (why in note). */
static int pv_root_live(struct aspace *lower, uint64_t root, char *note, size_t n)
{
	struct aspace *as = aspace_x86_new(lower, PAGING_4LEVEL, root, 0, NULL);
	struct vmet_err err = { 0 };
	uint64_t e = 0;
	bool valid = false;
	int rc;

	if (!as)
		return -1;
	aspace_set_cache_bits(as, TLB_SMALL_BITS);
	rc = xen_pv_m2p_entry(as, root >> 12, &e, &valid, &err);
	aspace_free(as);
	if (rc) {
		snprintf(note, n, "; Xen's M2P not readable (%.200s)", err.msg);
		return -1;
	}
	if (!valid)
		snprintf(note, n, "Xen's M2P marks root 0x%" PRIx64 "'s frame free (entry 0x%" PRIx64
			 "): a PV guest that is gone, its memory not yet scrubbed", root, e);
	return valid;
}

/*
 * A Xen PV guest: its roots' tables hold addresses in `lower` itself, so
 * there is no stage 2 to walk and no ambiguity with the hypervisor's own
 * space (Xen is not Linux).  Xen's M2P, reached through a root's own
 * slot 256, tells a live guest's root from the leftovers of a destroyed
 * one.  A host-side CR3 confirms it when it reaches the same kernel image:
 * the machine's CR3 is the PV guest's root while that guest runs.  Another
 * kernel there is another PV guest (dom0), not a disagreement.
 */
static void check_pv(struct aspace *lower, struct phys_source *src, const struct guest *g,
		     struct guest_check *out)
{
	struct vmet_err ctl_err = { 0 };
	char m2p[320] = "";
	int live = -1;

	/* The first root that reaches a kernel, unless a later one is better
	 * attested: live (1) over unreadable (-1) over free (0). */
	for (size_t i = 0; i < g->nvcpu && i < PV_ROOTS_TRIED && live != 1; i++) {
		uint64_t va, pa;
		char why[sizeof(m2p)] = "";
		int l;

		if (kernel_text(lower, g->vcpu[i].cr3, g->vcpu[i].mode, &va, &pa, &ctl_err))
			continue;
		l = pv_root_live(lower, g->vcpu[i].cr3, why, sizeof(why));
		if (out->ctl_ok && (l == 0 || (l == -1 && live != 0)))
			continue;
		out->ctl_ok = true;
		out->ctl_cr3 = g->vcpu[i].cr3;
		out->mode = g->vcpu[i].mode;
		out->text_va = va;
		out->text_pa = pa;
		live = l;
		memcpy(m2p, why, sizeof(m2p));
	}
	if (!out->ctl_ok) {
		out->trust = GUEST_NO_KERNEL;
		snprintf(out->note, sizeof(out->note),
			 "Xen PV page-table roots (kernel half 0x%" PRIx64 ") reach no kernel: %.300s",
			 g->s2_root, ctl_err.msg);
		return;
	}
	out->cr3 = out->ctl_cr3;
	out->cr3_origin = VCPU_ORIGIN_XEN_PV_ROOT;
	if (live == 0) {
		out->trust = GUEST_STALE;
		snprintf(out->note, sizeof(out->note), "%s", m2p);
		return;
	}
	if (live == 1)
		m2p[0] = '\0';
	for (size_t i = 0; i < src->vcpus.n; i++) {
		const struct vcpu_record *r = &src->vcpus.v[i];
		uint64_t va, pa;

		if (r->layer != 0 || (r->cr3_origin != VCPU_ORIGIN_HELPER &&
				      r->cr3_origin != VCPU_ORIGIN_DUMPNOTE) ||
		    kernel_text(lower, r->cr3, r->mode, &va, &pa, NULL) || pa != out->text_pa)
			continue;
		out->trust = GUEST_AGREE;
		out->helper_cr3 = r->cr3;
		snprintf(out->note, sizeof(out->note),
			 "Xen PV guest (no stage 2: its tables hold machine addresses), %zu kernel "
			 "root%s; host-side CR3 0x%" PRIx64 " reaches the same kernel (_text at 0x%" PRIx64
			 ")%s", g->nvcpu, g->nvcpu == 1 ? "" : "s", r->cr3, out->text_pa, m2p);
		return;
	}
	out->trust = GUEST_NO_HELPER;
	snprintf(out->note, sizeof(out->note),
		 "Xen PV guest (no stage 2: its tables hold machine addresses), %zu kernel root%s; "
		 "root 0x%" PRIx64 " reaches a kernel%s; no host-side CR3 was sampled while it ran",
		 g->nvcpu, g->nvcpu == 1 ? "" : "s", out->ctl_cr3,
		 live == 1 ? " and Xen's M2P gives its frame to a guest" : m2p);
}

static int guest_check_depth(struct aspace *lower, struct phys_source *src, const struct guest *g,
			     struct guest_check *out, struct vmet_err *err)
{
	struct aspace *s2, *phys = lower;
	struct vmet_err ctl_err = { 0 };
	uint64_t va = 0, pa = 0;
	size_t n_host = 0;
	bool helper_ok = false;

	memset(out, 0, sizeof(*out));
	if (g->kind == VMCTL_XEN_PV) {
		check_pv(lower, src, g, out);
		return 0;
	}
	if (g->s2_type == STAGE2_NONE) {
		out->trust = GUEST_NO_KERNEL;
		snprintf(out->note, sizeof(out->note),
			 "no stage 2 (the guest hypervisor uses shadow paging for it): not walkable");
		return 0;
	}
	s2 = guest_stage2_new(lower, g->s2_type, g->s2_root, g->s2_mode, err);
	if (!s2)
		return err ? err->code : VMET_EINVAL;

	/* What the guest hypervisor says: any vCPU whose CR3 reaches a kernel. */
	for (size_t i = 0; i < g->nvcpu && !out->ctl_ok; i++) {
		out->ctl_cr3 = g->vcpu[i].cr3;
		out->mode = g->vcpu[i].mode;
		if (!kernel_text(s2, g->vcpu[i].cr3, g->vcpu[i].mode, &out->text_va, &out->text_pa,
				 &ctl_err))
			out->ctl_ok = true;
	}
	if (!out->ctl_ok)
		out->ctl_cr3 = g->vcpu[0].cr3;

	/* What the host side saw: a layer-0 record that reaches a kernel through
	 * this stage 2 (and not through identity, which would make it the guest
	 * hypervisor's own CR3) is this guest's. */
	for (size_t i = 0; i < src->vcpus.n && !helper_ok; i++) {
		const struct vcpu_record *r = &src->vcpus.v[i];
		uint64_t hva, hpa;

		if (r->layer != 0 || (r->cr3_origin != VCPU_ORIGIN_HELPER &&
				      r->cr3_origin != VCPU_ORIGIN_DUMPNOTE))
			continue;
		n_host++;
		if (kernel_text(s2, r->cr3, r->mode, &va, &pa, NULL))
			continue;
		if (!kernel_text(phys, r->cr3, r->mode, &hva, &hpa, NULL))
			continue;	/* ambiguous: also the guest hypervisor's own space */
		helper_ok = true;
		out->helper_cr3 = r->cr3;
		if (!out->ctl_ok)
			out->mode = r->mode;
	}

	if (helper_ok && out->ctl_ok && pa == out->text_pa) {
		out->trust = GUEST_AGREE;
		out->cr3 = out->helper_cr3;
		out->cr3_origin = VCPU_ORIGIN_HELPER;
		snprintf(out->note, sizeof(out->note),
			 "host-side CR3 0x%" PRIx64 " and %s CR3 0x%" PRIx64 " reach the same kernel "
			 "(_text at guest-physical 0x%" PRIx64 ")", out->helper_cr3,
			 vmctl_kind_name(g->kind), out->ctl_cr3, pa);
	} else if (helper_ok) {
		out->trust = GUEST_DISAGREE;
		out->cr3 = out->helper_cr3;
		out->cr3_origin = VCPU_ORIGIN_HELPER;
		if (out->ctl_ok)
			snprintf(out->note, sizeof(out->note),
				 "%s at 0x%" PRIx64 " gives CR3 0x%" PRIx64 ", which reaches a different kernel "
				 "image (_text at 0x%" PRIx64 ") than host-side CR3 0x%" PRIx64 " (0x%" PRIx64
				 "): the guest hypervisor misreports its guest; using the host-side CR3",
				 vmctl_kind_name(g->kind), g->vcpu[0].pa, out->ctl_cr3, out->text_pa,
				 out->helper_cr3, pa);
		else
			snprintf(out->note, sizeof(out->note),
				 "%s at 0x%" PRIx64 " gives CR3 0x%" PRIx64 ", which reaches no kernel (%.200s), "
				 "but host-side CR3 0x%" PRIx64 " does: the guest hypervisor misreports its "
				 "guest; using the host-side CR3", vmctl_kind_name(g->kind), g->vcpu[0].pa,
				 out->ctl_cr3, ctl_err.msg, out->helper_cr3);
		out->text_va = va;
		out->text_pa = pa;
	} else if (out->ctl_ok) {
		out->trust = GUEST_NO_HELPER;
		out->cr3 = out->ctl_cr3;
		out->cr3_origin = g->kind == VMCTL_VMCB ? VCPU_ORIGIN_VMCB : VCPU_ORIGIN_VMCS;
		snprintf(out->note, sizeof(out->note),
			 "%s CR3 0x%" PRIx64 " reaches a kernel; %s",
			 vmctl_kind_name(g->kind), out->ctl_cr3,
			 n_host ? "no host-side record reaches one through this stage 2 (none was "
				  "sampled while this guest ran): CR3 not confirmed"
				: "no host-side records to confirm it");
	} else {
		out->trust = GUEST_NO_KERNEL;
		snprintf(out->note, sizeof(out->note),
			 "no kernel behind %s 0x%" PRIx64 ": its CR3 0x%" PRIx64 " fails (%.200s)%s",
			 g->s2_type == STAGE2_EPT ? "EPTP" : "nCR3", g->s2_root, out->ctl_cr3,
			 ctl_err.msg, n_host ? " and no host-side CR3 reaches one either" : "");
	}
	aspace_free(s2);
	return 0;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\rvmet: scanning for VMCB/VMCS/PV roots: %3u%%", total ? (unsigned)(done * 100 / total) : 100);
	if (done == total)
		fputc('\n', stderr);
}

int guest_discover_inner(struct aspace *s2, const char *label, struct guest_list *gl,
			 uint64_t *scanned, scan_progress_fn show, struct vmet_err *err)
{
	struct phys_source *gsrc = aspace_source_new(s2, label, err);
	int rc;

	memset(gl, 0, sizeof(*gl));
	if (scanned)
		*scanned = gsrc ? phys_total_size(gsrc) : 0;
	if (!gsrc)
		return vmet_err_prefix(err, err ? err->code : VMET_EINVAL, "%s", label);
	rc = guests_discover(gsrc, gl, show, NULL, err);
	if (rc)
		vmet_err_prefix(err, rc, "%s", label);
	phys_close(gsrc);
	return rc;
}

static void path_text(const unsigned *path, int n, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%u", i ? "/" : "", path[i]);
}

int cmd_guest_spec(struct cmd_common *c, struct phys_source *src, struct stack_spec *spec,
		   struct guest_check *chk, struct vmet_err *err)
{
	unsigned path[STACK_MAX_LEVELS];
	int depth = guest_path_parse(c->guest, path, STACK_MAX_LEVELS);
	struct aspace *lower;
	bool show = !c->quiet && isatty(2);
	int rc = 0;

	if (depth < 0)
		return vmet_errf(err, VMET_EINVAL, "--guest: '%s' is not N or N/M... (numbers from 1, at most %d "
				 "levels)", c->guest, STACK_MAX_LEVELS);
	if (c->s2_type != STAGE2_NONE)
		return vmet_errf(err, VMET_EINVAL, "--guest and --eptp/--ncr3 both name a stage 2: give one");
	lower = aspace_phys_new(src);
	if (!lower)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	if (c->phys_bits)
		lower->phys_bits = c->phys_bits;
	memset(spec, 0, sizeof(*spec));
	spec->phys_bits = c->phys_bits;
	for (int lvl = 0; lvl < depth && !rc; lvl++) {
		char here[64], parent[64];
		struct guest_list gl;
		uint64_t scanned = 0;
		const struct guest *g;
		bool last = lvl == depth - 1;

		path_text(path, lvl + 1, here, sizeof(here));
		path_text(path, lvl, parent, sizeof(parent));
		if (lvl == 0) {
			rc = guests_discover_cached(src, c->source,
						    c->rescan ? GUESTS_CACHE_REFRESH : GUESTS_CACHE_USE, &gl, NULL,
						    show ? progress : NULL, NULL, err);
		} else {
			char label[96];

			snprintf(label, sizeof(label), "guest %s's memory", parent);
			if (show)
				fprintf(stderr, "vmet: looking for the guests of guest %s\n", parent);
			rc = guest_discover_inner(lower, label, &gl, &scanned, show ? progress : NULL, err);
		}
		if (rc) {
			vmet_err_prefix(err, rc, "--guest %s", c->guest);
			break;
		}
		if (path[lvl] > gl.n) {
			if (lvl == 0)
				rc = vmet_errf(err, VMET_ENOTFOUND,
					       "--guest %s: %zu guest%s found in %s, no guest %u (see vmet guests)%s",
					       c->guest, gl.n, gl.n == 1 ? "" : "s", c->source, path[0],
					       gl.truncated ? "; scan truncated" : "");
			else
				rc = vmet_errf(err, VMET_ENOTFOUND,
					       "--guest %s: guest %s runs %zu guest%s of its own (level %d; %" PRIu64
					       " MiB of its memory scanned), no guest %u (see vmet guests --depth %d)%s",
					       c->guest, parent, gl.n, gl.n == 1 ? "" : "s", lvl + 1, scanned >> 20,
					       path[lvl], lvl + 1, gl.truncated ? "; scan truncated" : "");
			guest_list_free(&gl);
			break;
		}
		g = &gl.g[path[lvl] - 1];
		if (g->kind == VMCTL_XEN_PV && !last) {
			rc = vmet_errf(err, VMET_EINVAL, "--guest %s: guest %s is a Xen PV guest: it runs "
				       "no guests of its own", c->guest, here);
			guest_list_free(&gl);
			break;
		}
		rc = guest_check_at(lower, src, g, chk, err);
		if (!rc && chk->trust == GUEST_NO_KERNEL && !(last && c->have_cr3))
			rc = vmet_errf(err, VMET_ENOTFOUND, "guest %s: %s", here, chk->note);
		if (!rc) {
			struct stack_level *l = &spec->level[lvl];
			struct aspace *s2;

			if (chk->trust == GUEST_DISAGREE || chk->trust == GUEST_STALE)
				fprintf(stderr, "%s: WARNING: guest %s: %s\n", c->prog, here, chk->note);
			l->s2_type = g->s2_type;
			l->s2_root = g->s2_root;
			l->s2_mode = last && c->s2_mode > 0 ? (enum paging_mode)c->s2_mode : chk->s2_mode;
			/* A PV guest's stage 1 sits right on `lower`. */
			spec->nlevels = (unsigned)lvl + (g->kind != VMCTL_XEN_PV);
			if (!last) {
				s2 = guest_stage2_new(lower, l->s2_type, l->s2_root, l->s2_mode, err);
				if (!s2)
					rc = err ? err->code : VMET_EINVAL;
				else
					lower = s2;
			}
		}
		guest_list_free(&gl);
	}
	aspace_free_stack(lower);
	if (rc)
		return rc;
	spec->stage1 = true;
	spec->cr3 = c->have_cr3 ? c->cr3 : chk->cr3;
	spec->mode = c->mode >= 0 ? (enum paging_mode)c->mode : chk->mode;
	if (c->pti)
		spec->x86_flags |= X86_PTI_KERNEL_ROOT;
	return 0;
}
