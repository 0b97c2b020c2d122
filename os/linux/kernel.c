// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Binding a located kernel to a profile: KASLR slide, phys_base, the
 * kernel's own page-table root, and the checks that make the result
 * trustworthy (the banner bytes, init_task's name, its task list).
 */
#include "os/linux/linux.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Physical (lower-space) address of a runtime kernel-image address. */
static uint64_t image_pa(uint64_t va, uint64_t phys_base)
{
	return va - LINUX_START_KERNEL_MAP + phys_base;
}

static int build_kas(struct linux_kernel *k, struct vmet_err *err)
{
	aspace_free(k->kas);
	k->kas = aspace_x86_new(k->lower, k->mode, k->root, 0, err);
	if (!k->kas)
		return err ? err->code : VMET_ENOMEM;
	k->kas->stage = k->lower->stage + 1;
	return 0;
}

/* Compare memory at the banner symbol with the profile's banner. */
static int check_banner(struct linux_kernel *k, struct vmet_err *err)
{
	const char *want = k->prof->banner ? k->prof->banner : "";
	size_t n = strlen(want);
	char got[LINUX_BANNER_MAX];
	struct xlate x;
	size_t glen;
	int rc;

	if (!n || n >= sizeof(got) - 1)
		return vmet_errf(err, VMET_EFORMAT, "profile banner is %s",
				 n ? "too long" : "empty");
	k->banner_va = linux_sym(k, k->off.sym_linux_banner);
	rc = aspace_xlate(k->kas, k->banner_va, &x, err);
	if (!rc)
		rc = aspace_read(k->kas, k->banner_va, got, n + 1, err);
	if (rc)
		return vmet_err_prefix(err, rc, "linux_banner at 0x%" PRIx64
				       " through kernel root 0x%" PRIx64, k->banner_va, k->root);
	k->banner_pa = x.out;
	got[n + 1] = '\0';
	if (!memcmp(got, want, n) && (got[n] == '\n' || got[n] == '\0'))
		return 0;
	/* Name the banner that is really there: scan the image around _text
	 * (the error path only, so the cost does not matter). */
	{
		struct linux_banner_hit *hits = calloc(4, sizeof(*hits)), *hit = hits;
		uint64_t text_pa = image_pa(linux_sym(k, k->off.sym_text), k->phys_base);
		size_t nh = 0;

		if (hits)
			linux_banner_scan(k->lower, text_pa, text_pa + (64ull << 20), hits, 4, &nh, NULL);
		/* Debian's image also holds an unused copy without the build
		 * number ("#  SMP"): prefer the one with "#<digit>". */
		for (size_t i = 0; i < nh; i++) {
			const char *h = strchr(hits[i].text, '#');

			if (h && h[1] >= '0' && h[1] <= '9') {
				hit = &hits[i];
				break;
			}
		}
		if (nh) {
			rc = vmet_errf(err, VMET_EMISMATCH, "wrong profile: guest banner '%.205s' "
				       "(0x%" PRIx64 "), profile's '%.205s'", hit->text, hit->pa, want);
			free(hits);
			return rc;
		}
		free(hits);
	}
	/* Nothing near: quote what is at the symbol, printable and short. */
	for (glen = 0; glen < n + 1 && glen < 40 && got[glen] && got[glen] != '\n'; glen++)
		if ((unsigned char)got[glen] < 0x20 || (unsigned char)got[glen] > 0x7e)
			got[glen] = '?';
	got[glen] = '\0';
	return vmet_errf(err, VMET_EMISMATCH, "wrong profile or slide: linux_banner at 0x%" PRIx64
			 " holds '%s', the profile expects '%.200s'", k->banner_va, got, want);
}

/* init_task must be the idle task and its task list must link back. */
static int check_init_task(struct linux_kernel *k, struct vmet_err *err)
{
	uint64_t it = linux_sym(k, k->off.sym_init_task);
	uint64_t head = it + k->off.task_tasks, next, prev;
	char comm[LINUX_COMM_LEN + 1] = { 0 };
	int rc;

	rc = linux_read(k, it + k->off.task_comm, comm, LINUX_COMM_LEN, "init_task.comm", err);
	if (rc)
		return rc;
	if (strcmp(comm, "swapper") && strcmp(comm, "swapper/0"))
		return vmet_errf(err, VMET_EMISMATCH, "init_task at 0x%" PRIx64 " is named '%.16s', "
				 "not swapper: wrong profile or slide", it, comm);
	rc = linux_read_ptr(k, head, &next, false, "init_task.tasks.next", err);
	if (!rc)
		rc = linux_read_ptr(k, next + 8, &prev, false, "first task's tasks.prev", err);
	if (rc)
		return rc;
	if (prev != head)
		return vmet_errf(err, VMET_EMISMATCH, "init_task.tasks.next 0x%" PRIx64 " points back "
				 "to 0x%" PRIx64 ", not to init_task.tasks 0x%" PRIx64, next, prev, head);
	return 0;
}

/*
 * init_top_pgt's address in lower, read off the tables at cr3 (which mapped
 * _text, so they map the whole image).  Not image_pa(): a Xen PV guest's
 * image is contiguous only in its pseudo-physical space, while its page
 * tables hold machine frames, and the translation is right either way.
 */
static int root_through(struct linux_kernel *k, uint64_t cr3, struct vmet_err *err)
{
	uint64_t va = linux_sym(k, k->off.sym_init_top_pgt);
	struct aspace *as = aspace_x86_new(k->lower, k->mode, cr3, 0, err);
	struct xlate x;
	int rc;

	if (!as)
		return err ? err->code : VMET_ENOMEM;
	rc = aspace_xlate(as, va, &x, err);
	aspace_free(as);
	if (rc)
		return vmet_err_prefix(err, rc, "init_top_pgt at 0x%" PRIx64 " through CR3 0x%" PRIx64,
				       va, cr3);
	k->root = x.out;
	return 0;
}

/* Slide and phys_base from a banner-scan hit, through the tables it implies. */
static int bind_scan_hit(struct linux_kernel *k, const struct linux_banner_hit *h,
			 struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint64_t text_va, text_pa;
	int rc;

	/* The image is physically contiguous, so symbols keep their link-time
	 * distances: init_top_pgt is as far from the banner as when linked. */
	k->root = h->pa + (o->sym_init_top_pgt - o->sym_linux_banner);
	rc = build_kas(k, err);
	if (!rc)
		rc = linux_find_text(k->kas, &text_va, &text_pa, err);
	if (rc)
		return rc;
	k->slide = text_va - o->sym_text;
	k->phys_base = text_pa - (text_va - LINUX_START_KERNEL_MAP);
	return 0;
}

static int verify(struct linux_kernel *k, struct vmet_err *err)
{
	int rc = check_banner(k, err);

	if (!rc)
		rc = check_init_task(k, err);
	return rc;
}

int linux_kernel_bind(struct phys_source *src, struct aspace *lower,
		      const struct linux_layout *lay, const struct profile *prof,
		      struct linux_kernel **out, struct vmet_err *err)
{
	struct linux_kernel *k = calloc(1, sizeof(*k));
	int rc;

	if (!k)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	k->src = src;
	k->lower = lower;
	k->prof = prof;
	k->method = lay->method;
	k->mode = lay->mode != PAGING_NONE ? lay->mode : PAGING_4LEVEL;
	k->max_tasks = LINUX_MAX_TASKS;
	k->max_threads = LINUX_MAX_THREADS;
	k->max_cmdline = LINUX_MAX_CMDLINE;
	k->max_environ = LINUX_MAX_ENVIRON;
	k->max_fds = LINUX_MAX_FDS;
	k->max_sockets = LINUX_MAX_SOCKETS;
	if (k->mode != PAGING_4LEVEL && k->mode != PAGING_5LEVEL) {
		rc = vmet_errf(err, VMET_EUNSUPPORTED, "Linux view supports x86-64 kernels "
			       "(4- or 5-level paging), not %s", paging_mode_name(k->mode));
		goto fail;
	}
	rc = linux_offsets_resolve(prof, &k->off, err);
	if (rc)
		goto fail;
	switch (lay->method) {
	case LINUX_LOC_VMCOREINFO:
		k->slide = lay->kernel_offset;
		k->phys_base = lay->phys_base;
		if (lay->vmci_root_va && lay->vmci_root_va != linux_sym(k, k->off.sym_init_top_pgt)) {
			rc = vmet_errf(err, VMET_EMISMATCH, "VMCOREINFO says init_top_pgt is at 0x%" PRIx64
				       ", the profile and KERNELOFFSET 0x%" PRIx64 " say 0x%" PRIx64,
				       lay->vmci_root_va, k->slide, linux_sym(k, k->off.sym_init_top_pgt));
			goto fail;
		}
		break;
	case LINUX_LOC_CR3:
		k->slide = lay->text_va - k->off.sym_text;
		k->phys_base = lay->text_pa - (lay->text_va - LINUX_START_KERNEL_MAP);
		/* Tables that map _text but not .data (a PTI user root) leave
		 * the image's own layout to say where init_top_pgt is. */
		if (!root_through(k, lay->cr3, NULL))
			goto bound;
		break;
	case LINUX_LOC_SCAN: {
		struct vmet_err last = { 0 };
		size_t tried = 0;

		/* Several copies of a banner can be in memory: only the one whose
		 * implied page tables map it back at linux_banner is the kernel's. */
		for (size_t i = 0; i < lay->nhits * 2; i++) {
			const struct linux_banner_hit *h = &lay->hits[i / 2];

			/* Unknown paging depth: each hit with 4, then 5 levels. */
			if (i % 2 && lay->mode != PAGING_NONE)
				continue;
			if (lay->mode == PAGING_NONE)
				k->mode = i % 2 ? PAGING_5LEVEL : PAGING_4LEVEL;
			if (!prof->banner || strcmp(h->text, prof->banner))
				continue;
			tried++;
			rc = bind_scan_hit(k, h, &last);
			if (!rc) {
				k->root = image_pa(linux_sym(k, k->off.sym_init_top_pgt), k->phys_base);
				if (!(rc = build_kas(k, &last)) && !(rc = verify(k, &last)) &&
				    k->banner_pa == h->pa) {
					*out = k;
					return 0;
				}
				if (!rc)
					vmet_errf(&last, VMET_EMISMATCH, "banner copy at 0x%" PRIx64
						  " is not linux_banner (that is at 0x%" PRIx64 ")",
						  h->pa, k->banner_pa);
			}
		}
		rc = vmet_errf(err, VMET_ENOTFOUND, "none of %zu banner copies found by the scan "
			       "(%zu match the profile) verified as linux_banner%s%s", lay->nhits,
			       tried, last.msg[0] ? ": " : "", last.msg);
		goto fail;
	}
	default:
		rc = vmet_errf(err, VMET_EINVAL, "kernel not located");
		goto fail;
	}
	k->root = image_pa(linux_sym(k, k->off.sym_init_top_pgt), k->phys_base);
bound:
	rc = build_kas(k, err);
	if (!rc)
		rc = verify(k, err);
	if (rc)
		goto fail;
	*out = k;
	return 0;
fail:
	linux_kernel_close(k);
	return rc;
}

void linux_kernel_close(struct linux_kernel *k)
{
	if (!k)
		return;
	aspace_free(k->user_as);
	aspace_free(k->kas);
	free(k);
}
