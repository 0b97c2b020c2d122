/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPU records: the registers the walker needs to enter a guest, and where
 * each one came from.
 *
 * A record belongs to a layer of the nesting stack: layer 0 is the machine
 * whose memory the source holds (the host VM, "L1" from the outside
 * monitor's view, or simply the guest for a flat dump); layer 1 is a guest
 * of that machine's hypervisor, and so on.  `guest` numbers the guests of a
 * layer (1-based, as in --guest N), 0 for layer 0.
 *
 * Provenance matters: V-Met trusts the host hypervisor's helper over a
 * VMCB/VMCS in guest-hypervisor memory, and every value printed says which
 * it is.
 */
#ifndef VMET_CORE_VCPU_H
#define VMET_CORE_VCPU_H

#include <stddef.h>
#include <stdint.h>

enum vcpu_origin {
	VCPU_ORIGIN_NONE = 0,	/* value not known */
	VCPU_ORIGIN_HELPER,	/* host hypervisor helper (e.g. QEMU monitor at L0) */
	VCPU_ORIGIN_VMCB,	/* AMD VMCB found in guest-hypervisor memory */
	VCPU_ORIGIN_VMCS,	/* Intel VMCS (vmcs12 etc.) in guest-hypervisor memory */
	VCPU_ORIGIN_DUMPNOTE,	/* ELF core note / snapshot record */
	VCPU_ORIGIN_USER,	/* command line (--cr3, --eptp, --ncr3) */
	VCPU_ORIGIN_DERIVED,	/* computed by vmet (e.g. kernel page-table root) */
	VCPU_ORIGIN_XEN,	/* libxenctrl vCPU context */
	VCPU_ORIGIN_XEN_PV_ROOT, /* a Xen PV guest's page-table root found in memory */
};

enum paging_mode {
	PAGING_NONE = 0,	/* paging off: virtual == physical */
	PAGING_32,		/* 2-level, 4 KiB / 4 MiB pages */
	PAGING_PAE,		/* 3-level, 4 KiB / 2 MiB pages */
	PAGING_4LEVEL,		/* x86-64 4-level */
	PAGING_5LEVEL,		/* x86-64 5-level (LA57) */
};

enum stage2_type {
	STAGE2_NONE = 0,
	STAGE2_EPT,		/* Intel EPT, root = EPTP */
	STAGE2_NPT,		/* AMD NPT, root = nCR3 */
};

struct vcpu_record {
	unsigned layer;		/* 0 = the machine the source holds */
	unsigned guest;		/* guest number within the layer (0 for layer 0) */
	unsigned vcpu;		/* vCPU index within the guest */

	uint64_t cr0, cr3, cr4, efer;
	enum paging_mode mode;
	enum vcpu_origin cr3_origin;
	enum vcpu_origin regs_origin;	/* cr0/cr4/efer/mode */

	enum stage2_type s2_type;
	uint64_t s2_root;	/* EPTP or nCR3 */
	enum paging_mode s2_mode; /* NPT: host paging mode; EPT: from EPTP */
	enum vcpu_origin s2_origin;

	uint64_t rip;
	uint64_t time_ns;	/* when captured, CLOCK_REALTIME; 0 if unknown */
	uint64_t where;		/* physical address of the VMCB/VMCS, if any */
};

struct vcpu_set {
	struct vcpu_record *v;
	size_t n, cap;
};

int vcpu_set_add(struct vcpu_set *set, const struct vcpu_record *rec);
void vcpu_set_free(struct vcpu_set *set);

/* First record of (layer, guest), or NULL. */
const struct vcpu_record *vcpu_set_find(const struct vcpu_set *set,
					unsigned layer, unsigned guest);

/* Paging mode implied by CR0/CR4/EFER (PG, PAE, LME/LMA, LA57). */
enum paging_mode paging_mode_from_regs(uint64_t cr0, uint64_t cr4, uint64_t efer);

const char *vcpu_origin_name(enum vcpu_origin o);
const char *paging_mode_name(enum paging_mode m);
const char *stage2_type_name(enum stage2_type t);
/* Parse "4", "5", "pae", "32", "none"; returns -1 when unknown. */
int paging_mode_parse(const char *s);

#endif
