// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/stack.h"

#include <inttypes.h>

void aspace_number_stages(struct aspace *top)
{
	unsigned n = 1;

	for (struct aspace *s = top; s; s = s->lower)
		s->stage = s->kind == ASPACE_PHYS ? 0 : n++;
}

struct aspace *aspace_stage(struct aspace *top, unsigned stage)
{
	for (struct aspace *s = top; s; s = s->lower)
		if (s->stage == stage)
			return s;
	return NULL;
}

int aspace_stack_build(struct phys_source *src, const struct stack_spec *spec,
		       struct aspace **top, struct vmet_err *err)
{
	struct aspace *as = aspace_phys_new(src), *next;

	if (!as)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	if (spec->phys_bits)
		as->phys_bits = spec->phys_bits;
	if (spec->nlevels > STACK_MAX_LEVELS) {
		aspace_free_stack(as);
		return vmet_errf(err, VMET_EINVAL, "at most %d nesting levels", STACK_MAX_LEVELS);
	}
	for (unsigned i = 0; i < spec->nlevels; i++) {
		const struct stack_level *l = &spec->level[i];

		switch (l->s2_type) {
		case STAGE2_NONE:
			continue;
		case STAGE2_EPT:
			next = aspace_ept_new(as, l->s2_root, err);
			break;
		case STAGE2_NPT:
			next = aspace_npt_new(as, l->s2_mode ? l->s2_mode : PAGING_4LEVEL,
					      l->s2_root, err);
			break;
		default:
			next = NULL;
			vmet_errf(err, VMET_EINVAL, "unknown stage-2 type %d", (int)l->s2_type);
		}
		if (!next) {
			aspace_free_stack(as);
			return err ? err->code : VMET_EINVAL;
		}
		as = next;
	}
	if (spec->stage1) {
		next = aspace_x86_new(as, spec->mode, spec->cr3, spec->x86_flags, err);
		if (!next) {
			aspace_free_stack(as);
			return err ? err->code : VMET_EINVAL;
		}
		as = next;
	}
	aspace_number_stages(as);
	*top = as;
	return 0;
}
