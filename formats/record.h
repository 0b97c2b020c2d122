/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recording which pages a command reads, to write minimal snapshots
 * (`vmet dump --pages-for ps,netstat`).
 *
 * A page set is a bounded set of 4 KiB page frames.  A recording source
 * wraps another source, forwards every read and map to it, and adds each
 * page touched to a page set that outlives the wrapper.  Installed as the
 * source_open() wrapper (formats/source.h: source_set_wrapper), it sees
 * every source a command opens, so the command needs no change to be
 * recorded: dump runs it with the same options and keeps what it read.
 */
#ifndef VMET_FORMATS_RECORD_H
#define VMET_FORMATS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/phys.h"

#define PAGE_SET_DEFAULT_MAX (1ull << 24)	/* 64 GiB worth of pages */

struct page_set {
	uint64_t *slot;		/* open addressing; 0 = empty, else pfn + 1 */
	size_t cap;		/* power of two */
	size_t n;
	size_t max;		/* bound on n */
	bool overflow;		/* a page was refused because of max */
};

void page_set_init(struct page_set *s, size_t max);
void page_set_free(struct page_set *s);
/* 0, VMET_ENOMEM, or VMET_ELIMIT when the set is full (overflow is set). */
int page_set_add(struct page_set *s, uint64_t pfn);
bool page_set_has(const struct page_set *s, uint64_t pfn);
/* Add every page that [addr, addr+len) touches. */
int page_set_add_range(struct page_set *s, uint64_t addr, uint64_t len);
/* vmsnap_keep_fn adapter: ctx is a struct page_set. */
bool page_set_keep(void *ctx, uint64_t page_addr);

/*
 * Wrap `inner` so that every page read or mapped through the result is
 * added to `set`.  The wrapper takes ownership of inner (closing the
 * wrapper closes it); ranges, vCPU records, VMCOREINFO, format and
 * description are copied from it.  A read whose page cannot be recorded
 * (set full) fails with VMET_ELIMIT rather than go unrecorded; a read that
 * fails records nothing.
 */
int record_source_new(struct phys_source *inner, struct page_set *set,
		      struct phys_source **out, struct vmet_err *err);

/*
 * The commands --pages-for can run: subcommand entry points, called with
 * an argv built from dump's own source options, output discarded, while
 * every source they open is recorded.  The table itself is in cmd/dump.c.
 */
typedef int (*page_consumer_fn)(int argc, char **argv);

struct page_consumer {
	const char *name;	/* "ps", "netstat" */
	page_consumer_fn run;	/* NULL when that command is not built in */
	/* Options that make it read all it can show (every variant of the
	 * command then works on the minimal snapshot); NULL-terminated. */
	const char *const *widest;
};

#endif
