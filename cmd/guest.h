/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entering a nested guest (--guest N): find the guest hypervisor's control
 * structures, check that a Linux kernel really lies behind them, and decide
 * which CR3 to trust.
 *
 * V-Met does not trust the guest hypervisor for CR3.  The host side's
 * records (the QEMU monitor's registers, or an ELF dump's CPU notes, both
 * written by the host hypervisor) are checked first: a host-side CR3 that
 * leads to a kernel through the guest's stage 2 is the guest's.  The CR3 in
 * the VMCB/VMCS is then compared with it; a VMCB whose CR3 leads nowhere, or
 * to a different kernel image, is a guest hypervisor lying about its guest,
 * and is reported as such.
 */
#ifndef VMET_CMD_GUEST_H
#define VMET_CMD_GUEST_H

#include <stdbool.h>

#include "cmd/cmd.h"
#include "core/guests.h"

enum guest_trust {
	GUEST_AGREE = 1,	/* host-side CR3 and VMCB/VMCS CR3 reach the same kernel */
	GUEST_NO_HELPER,	/* no host-side record for this guest: VMCB/VMCS CR3 used */
	GUEST_DISAGREE,		/* they disagree: host-side CR3 used, loudly */
	GUEST_NO_KERNEL,	/* nothing leads to a kernel through this stage 2 */
	GUEST_STALE,		/* Xen PV: Xen took the root's frame back: the guest is gone */
};

struct guest_check {
	enum guest_trust trust;
	uint64_t cr3;			/* the CR3 to use */
	enum vcpu_origin cr3_origin;
	enum paging_mode mode;
	enum paging_mode s2_mode;	/* NPT depth that worked (VMCBs do not record it) */
	uint64_t text_va, text_pa;	/* the kernel image found (guest physical) */
	uint64_t ctl_cr3;		/* what the VMCB/VMCS said */
	bool ctl_ok;			/* ...and whether it led to a kernel */
	uint64_t helper_cr3;		/* the host-side record that matched, if any */
	char note[768];			/* human-readable verdict */
};

/* Check one guest; `src` supplies the host-side records (src->vcpus, layer 0). */
int guest_check(struct phys_source *src, const struct guest *g, struct guest_check *out,
		struct vmet_err *err);
/* The same for a guest found in the memory `lower` (a guest's own guest:
 * `lower` is its parent's stage-2 space; host-side records still from src). */
int guest_check_at(struct aspace *lower, struct phys_source *src, const struct guest *g,
		   struct guest_check *out, struct vmet_err *err);

/* A stage-2 space for a guest over `lower` (free with aspace_free). */
struct aspace *guest_stage2_new(struct aspace *lower, enum stage2_type type, uint64_t root,
				enum paging_mode mode, struct vmet_err *err);

/* The guests of a guest: scan the memory its stage 2 `s2` maps (no cache). */
int guest_discover_inner(struct aspace *s2, const char *label, struct guest_list *gl,
			 uint64_t *scanned, scan_progress_fn show, struct vmet_err *err);

/*
 * For --guest N[/M...]: discover guests, check guest N, and describe its
 * stack: stage 2 from its VMCB/VMCS, stage 1 from the trusted CR3 (unless
 * --cr3 overrides it).  With N/M, guest N's memory (through its stage 2) is
 * scanned for its own guests and guest M's stage 2 is stacked on N's, and
 * so on.  Disagreement is printed on stderr (even with --quiet).
 */
int cmd_guest_spec(struct cmd_common *c, struct phys_source *src, struct stack_spec *spec,
		   struct guest_check *chk, struct vmet_err *err);

const char *guest_trust_name(enum guest_trust t);

#endif
