/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the translation stack for one guest from a description: optional
 * stage 2 (EPT/NPT) over physical memory, then optional stage 1 (x86
 * paging).  Deeper nesting is the same description repeated, bottom first.
 */
#ifndef VMET_CORE_STACK_H
#define VMET_CORE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/aspace.h"

struct stack_level {
	enum stage2_type s2_type;	/* STAGE2_NONE: no stage 2 at this level */
	uint64_t s2_root;		/* EPTP or nCR3 */
	enum paging_mode s2_mode;	/* NPT table depth (4/5); EPT takes it from the EPTP */
};

#define STACK_MAX_LEVELS 4

struct stack_spec {
	/* Stage-2 levels, bottom (closest to the source) first. */
	struct stack_level level[STACK_MAX_LEVELS];
	unsigned nlevels;
	bool stage1;			/* add x86 paging on top */
	enum paging_mode mode;
	uint64_t cr3;
	unsigned x86_flags;		/* X86_PTI_KERNEL_ROOT ... */
	unsigned phys_bits;		/* 0 = 52 */
};

/*
 * Build the stack over src.  On success *top is the top-most space (stage 1
 * if requested, else the top stage 2, else the physical space) with stage
 * numbers assigned (1 = top).  Free with aspace_free_stack().
 */
int aspace_stack_build(struct phys_source *src, const struct stack_spec *spec,
		       struct aspace **top, struct vmet_err *err);

/* (Re)number stages from the top: top = 1, physical space gets 0. */
void aspace_number_stages(struct aspace *top);

/* The space with a given stage number in a stack, or NULL. */
struct aspace *aspace_stage(struct aspace *top, unsigned stage);

#endif
