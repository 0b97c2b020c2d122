/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address spaces: one interface for every level of the translation stack.
 *
 *     guest virtual  --stage 1 (x86 paging, root CR3)-->  guest physical
 *     guest physical --stage 2 (EPT / NPT, root EPTP/nCR3)--> host physical
 *     host physical  = struct phys_source
 *
 * Every space has a `lower` space: where its page tables live and where its
 * output addresses point.  The bottom space is a phys space (identity over a
 * phys_source).  A stage-1 space over a stage-2 space fetches each of its
 * page-table entries through the stage-2 walk, as hardware does, so any
 * number of stages composes.
 *
 * Each paging space keeps a small translation cache (see tlb.h) keyed by
 * 4 KiB input page, so a warm read costs one lookup per stage.  Live sources
 * must call aspace_flush() when guest memory may have changed.
 */
#ifndef VMET_CORE_ASPACE_H
#define VMET_CORE_ASPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/phys.h"
#include "core/tlb.h"
#include "core/vcpu.h"

/* Permission and attribute bits of a completed translation. */
#define XL_W     0x01u	/* writable */
#define XL_U     0x02u	/* user accessible (stage 1) */
#define XL_NX    0x04u	/* not executable */
#define XL_R     0x08u	/* readable (EPT; implied elsewhere) */
#define XL_G     0x10u	/* global (stage 1) */
#define XL_UX    0x20u	/* EPT user-execute (MBEC) */

enum aspace_kind {
	ASPACE_PHYS,		/* identity over a phys_source */
	ASPACE_X86,		/* stage 1 x86 paging (32, PAE, 4-, 5-level) */
	ASPACE_NPT,		/* stage 2 AMD nested paging */
	ASPACE_EPT,		/* stage 2 Intel EPT */
};

/* One table entry read during a walk. */
struct xlate_step {
	uint8_t kind;		/* enum aspace_kind of the space that read it */
	uint8_t mode;		/* enum paging_mode of that space */
	uint8_t stage;		/* 1 = top-most (virtual) stage; increases downwards */
	uint8_t level;		/* 5 = PML5 ... 1 = PT; PAE: 3 = PDPT */
	uint8_t fetch_for;	/* 0, or the stage whose entry fetch this step serves */
	uint8_t leaf;		/* this entry mapped a page (not a table) */
	uint16_t index;		/* entry index within its table */
	uint64_t table;		/* table base, in the lower space of `stage` */
	uint64_t entry_addr;	/* table + index * entry size */
	uint64_t entry;		/* raw entry value */
	uint64_t out;		/* next table or page frame (lower space) */
	uint64_t page_size;	/* when leaf */
};

#define XLATE_TRACE_MAX 256	/* 5-level over 5-level: 35 reads; three 5-level stages: 215 */

struct xlate_trace {
	size_t n;
	bool truncated;
	struct xlate_step step[XLATE_TRACE_MAX];
};

/* A completed translation in one space. */
struct xlate {
	uint64_t in;		/* input address */
	uint64_t out;		/* address in the lower space */
	uint64_t page_size;	/* size of the page that mapped it */
	unsigned flags;		/* XL_* */
};

struct aspace_stats {
	uint64_t table_reads;	/* page-table entries fetched (this space only) */
	uint64_t walks;		/* full walks (cache misses) */
	uint64_t hits;		/* cache hits */
};

struct aspace;

struct aspace_ops {
	/*
	 * Walk the tables for `addr`.  Fills out on success.  When trace is
	 * non-NULL, appends a step for every entry read, including entry
	 * fetches made through lower paging spaces.  Never uses the cache.
	 */
	int (*walk)(struct aspace *as, uint64_t addr, struct xlate *out,
		    struct xlate_trace *trace, struct vmet_err *err);
	void (*destroy)(struct aspace *as);
};

struct aspace {
	const struct aspace_ops *ops;
	enum aspace_kind kind;
	const char *name;	/* "x86-64 4-level", "EPT 4-level", "physical" */
	unsigned stage;		/* 1-based position from the top; set by aspace_stack */
	struct aspace *lower;	/* NULL only for the phys space */
	struct phys_source *phys; /* bottom source (every space knows it) */
	uint64_t root;		/* CR3 / EPTP / nCR3 as given */
	enum paging_mode mode;
	unsigned phys_bits;	/* MAXPHYADDR for reserved-bit checks (default 52) */
	unsigned flags;		/* kind-specific (X86_PTI_KERNEL_ROOT; EPT A/D...) */
	struct tlb tlb;
	bool cache_enabled;
	struct aspace_stats stats;
	void *priv;
};

/* --- construction ---------------------------------------------------- */

/* Identity space over a source (does not take ownership of src). */
struct aspace *aspace_phys_new(struct phys_source *src);

/* x86 stage-1 paging over `lower`.  flags: X86_PTI_KERNEL_ROOT etc. */
#define X86_PTI_KERNEL_ROOT 0x1u /* upper-half addresses use cr3 & ~0x1000 (PTI pair) */
struct aspace *aspace_x86_new(struct aspace *lower, enum paging_mode mode,
			      uint64_t cr3, unsigned flags, struct vmet_err *err);

/* AMD NPT (long-mode tables, 4- or 5-level) over `lower`. */
struct aspace *aspace_npt_new(struct aspace *lower, enum paging_mode mode,
			      uint64_t ncr3, struct vmet_err *err);

/* Intel EPT over `lower`; walk length, memory type, A/D come from the EPTP. */
struct aspace *aspace_ept_new(struct aspace *lower, uint64_t eptp,
			      struct vmet_err *err);

/* Destroy `as` only (not its lower spaces). */
void aspace_free(struct aspace *as);
/* Destroy `as` and every space below it (not the phys_source). */
void aspace_free_stack(struct aspace *as);

/* --- use ------------------------------------------------------------- */

/* Translate one address to the lower space, through the cache. */
int aspace_xlate(struct aspace *as, uint64_t addr, struct xlate *out,
		 struct vmet_err *err);

/*
 * Translate all the way to host physical.  With a trace, every entry read at
 * every stage is recorded (the cache is bypassed so the trace is complete).
 * `out_phys` receives the final host-physical address.
 */
int aspace_xlate_full(struct aspace *as, uint64_t addr, uint64_t *out_phys,
		      struct xlate_trace *trace, struct vmet_err *err);

/* Read bytes at an address of this space, crossing pages as needed. */
int aspace_read(struct aspace *as, uint64_t addr, void *buf, size_t len,
		struct vmet_err *err);
int aspace_read_u64(struct aspace *as, uint64_t addr, uint64_t *val,
		    struct vmet_err *err);
int aspace_read_u32(struct aspace *as, uint64_t addr, uint32_t *val,
		    struct vmet_err *err);

/*
 * Read a NUL-terminated string of at most max-1 bytes into buf (always
 * terminated).  Returns the length, or a negative error.  A string with no
 * terminator within max-1 bytes is truncated and flagged in *truncated.
 */
long aspace_read_str(struct aspace *as, uint64_t addr, char *buf, size_t max,
		     bool *truncated, struct vmet_err *err);

/* Drop cached translations in this space and every space below it. */
void aspace_flush(struct aspace *as);
/* Enable/disable caching down the stack (live mode may want it off). */
void aspace_set_cache(struct aspace *as, bool on);

/*
 * Size this space's cache (log2 of sets, see tlb.h): per-process spaces use
 * TLB_SMALL_BITS so that listing many processes keeps memory small.
 */
void aspace_set_cache_bits(struct aspace *as, unsigned bits);

/* Sum of table reads over this space and every space below it. */
uint64_t aspace_table_reads(const struct aspace *as);
void aspace_reset_stats(struct aspace *as);

/* Name of a table level ("PML4", "EPT PDPT", "PD"...). */
const char *aspace_level_name(enum aspace_kind kind, enum paging_mode mode,
			      unsigned level);
/*
 * Decode a raw entry's flags into text ("P RW US A NX", "R W X WB"...), for
 * traces.  Returns buf.
 */
char *aspace_entry_flags(enum aspace_kind kind, unsigned level, bool leaf,
			 uint64_t entry, char *buf, size_t size);

/* Decoded EPTP fields. */
struct eptp_info {
	unsigned memtype;	/* 0 = UC, 6 = WB; others invalid */
	unsigned levels;	/* walk length: 4 or 5 */
	bool ad;		/* accessed/dirty flags enabled */
	uint64_t root;		/* PML4/PML5 table address */
};
/* Decode and validate an EPTP; VMET_EINVAL names the bad field. */
int eptp_decode(uint64_t eptp, struct eptp_info *info, struct vmet_err *err);

/* Append a step to a trace (used by walkers; NULL trace is a no-op). */
void xlate_trace_add(struct xlate_trace *t, const struct xlate_step *s);

/*
 * Fetch a table entry of `size` bytes (4 or 8) at `addr` in `lower`, as a
 * walker of stage `for_stage` does: through lower's walk (with trace) when
 * tracing, through the cache otherwise.  Counts the read in `as` stats.
 */
int aspace_fetch_entry(struct aspace *as, uint64_t addr, unsigned size,
		       uint64_t *val, struct xlate_trace *trace,
		       struct vmet_err *err);

#endif
