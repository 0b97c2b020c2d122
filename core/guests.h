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

/* Group out->all (any order) into out->g, numbered as guests_discover does. */
int guests_group(struct guest_list *out, struct vmet_err *err);

/*
 * Discovery through a cache of where the control structures were found, so
 * that --guest N does not scan the whole memory every run.  The cache holds
 * only locations (kind, address, stage-2 root) under a key naming the
 * source: for a regular file its path, device, inode, size and mtime (a
 * changed file misses); for anything else (live sources, devices) the
 * source spec and its range list.  A hit is never taken on trust: every
 * cached structure is read again from `src` and must pass its checker with
 * the same kind and stage-2 root, its fields taken fresh; if any fails, the
 * whole memory is scanned as without a cache.  A live source can gain a
 * guest that a hit does not show: `vmet guests` (GUESTS_CACHE_REFRESH)
 * always scans and rewrites the entry.
 *
 * The cache directory: $VMET_CACHE_DIR/guests, else
 * $XDG_CACHE_HOME/vmet/guests, else $HOME/.cache/vmet/guests.  Failing to
 * read or write it is never an error: discovery goes on without it.
 */
enum guests_cache_mode {
	GUESTS_CACHE_OFF,	/* scan; do not touch the cache */
	GUESTS_CACHE_USE,	/* a valid entry, else scan and store */
	GUESTS_CACHE_REFRESH,	/* scan and store */
};

struct guests_cache_info {
	bool hit;		/* the list came from a validated entry */
	bool stored;		/* the entry was (re)written */
	char note[256];		/* why there was no hit, or where it came from */
};

int guests_discover_cached(struct phys_source *src, const char *spec,
			   enum guests_cache_mode mode, struct guest_list *out,
			   struct guests_cache_info *info, scan_progress_fn progress,
			   void *ctx, struct vmet_err *err);

/* The cache directory (malloc'd); VMET_ENOTFOUND when none can be named. */
int guests_cache_dir(char **dir, struct vmet_err *err);

/* Parse "N" or "N/M" (nesting path) into numbers; returns depth or -1. */
int guest_path_parse(const char *s, unsigned *path, int max);

#endif
