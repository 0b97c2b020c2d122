/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guests of a guest hypervisor, as found in its memory: the VMCBs/VMCSs
 * (see vmctl.h) grouped into guests by their stage-2 root, since every vCPU
 * of one guest shares one nested page table.  Numbering is stable for a
 * given memory image: guests are ordered by the address of their first
 * control structure, vCPUs likewise, and numbered from 1 (--guest N).
 *
 * This only finds candidates; whether a kernel lies behind one is for the
 * OS layer to check.
 */
#ifndef VMET_CORE_GUESTS_H
#define VMET_CORE_GUESTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/vmctl.h"

#define GUESTS_MAX_CTL 4096	/* control structures considered */

struct guest {
	unsigned number;		/* 1-based */
	enum vmctl_kind kind;
	enum stage2_type s2_type;
	uint64_t s2_root;
	enum paging_mode s2_mode;
	struct vmctl *vcpu;		/* points into guest_list.all */
	size_t nvcpu;
};

struct guest_list {
	struct guest *g;
	size_t n;
	struct vmctl *all;		/* grouped: each guest's vCPUs are contiguous */
	size_t nall;
	bool truncated;			/* more than GUESTS_MAX_CTL candidates */
};

int guests_discover(struct phys_source *src, struct guest_list *out,
		    scan_progress_fn progress, void *ctx, struct vmet_err *err);
void guest_list_free(struct guest_list *l);

/* Parse "N" or "N/M" (nesting path) into numbers; returns depth or -1. */
int guest_path_parse(const char *s, unsigned *path, int max);

#endif
