// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/vcpu.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int vcpu_set_add(struct vcpu_set *set, const struct vcpu_record *rec)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 4;
		struct vcpu_record *v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return -1;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = *rec;
	return 0;
}

void vcpu_set_free(struct vcpu_set *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

const struct vcpu_record *vcpu_set_find(const struct vcpu_set *set,
					unsigned layer, unsigned guest)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].layer == layer && set->v[i].guest == guest)
			return &set->v[i];
	return NULL;
}

/* CR0.PG = bit 31, CR4.PAE = bit 5, CR4.LA57 = bit 12, EFER.LMA = bit 10, LME = bit 8. */
enum paging_mode paging_mode_from_regs(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	if (!(cr0 & (1ull << 31)))
		return PAGING_NONE;
	if (efer & ((1ull << 10) | (1ull << 8)))
		return (cr4 & (1ull << 12)) ? PAGING_5LEVEL : PAGING_4LEVEL;
	if (cr4 & (1ull << 5))
		return PAGING_PAE;
	return PAGING_32;
}

const char *vcpu_origin_name(enum vcpu_origin o)
{
	switch (o) {
	case VCPU_ORIGIN_NONE: return "unknown";
	case VCPU_ORIGIN_HELPER: return "helper";
	case VCPU_ORIGIN_VMCB: return "vmcb";
	case VCPU_ORIGIN_VMCS: return "vmcs";
	case VCPU_ORIGIN_DUMPNOTE: return "dump-note";
	case VCPU_ORIGIN_USER: return "user";
	case VCPU_ORIGIN_DERIVED: return "derived";
	case VCPU_ORIGIN_XEN: return "xen";
	case VCPU_ORIGIN_XEN_PV_ROOT: return "xen-pv-root";
	}
	return "unknown";
}

const char *paging_mode_name(enum paging_mode m)
{
	switch (m) {
	case PAGING_NONE: return "none";
	case PAGING_32: return "32";
	case PAGING_PAE: return "pae";
	case PAGING_4LEVEL: return "4";
	case PAGING_5LEVEL: return "5";
	}
	return "?";
}

const char *stage2_type_name(enum stage2_type t)
{
	switch (t) {
	case STAGE2_NONE: return "none";
	case STAGE2_EPT: return "ept";
	case STAGE2_NPT: return "npt";
	}
	return "?";
}

int paging_mode_parse(const char *s)
{
	if (!strcmp(s, "4") || !strcasecmp(s, "4level") || !strcasecmp(s, "4-level"))
		return PAGING_4LEVEL;
	if (!strcmp(s, "5") || !strcasecmp(s, "5level") || !strcasecmp(s, "5-level") ||
	    !strcasecmp(s, "la57"))
		return PAGING_5LEVEL;
	if (!strcasecmp(s, "pae"))
		return PAGING_PAE;
	if (!strcmp(s, "32") || !strcasecmp(s, "2level"))
		return PAGING_32;
	if (!strcasecmp(s, "none") || !strcasecmp(s, "off"))
		return PAGING_NONE;
	return -1;
}
