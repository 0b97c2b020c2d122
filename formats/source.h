/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a source from a user's spec: a file path (format recognised by its
 * magic: vmet snapshot, ELF core, LiME, else raw) or a live spec such as
 * qemu:RAMFILE,qmp=SOCK or xen:DOMID (handled by live/ when present).
 */
#ifndef VMET_FORMATS_SOURCE_H
#define VMET_FORMATS_SOURCE_H

#include "core/phys.h"

struct source_opts {
	/*
	 * Memory map for raw images with holes: "START-END@OFFSET[,...]"
	 * (hex or decimal; physical [START,END) is at file OFFSET), or NULL
	 * for file offset == physical address over the whole file.
	 */
	const char *memmap;
	/* Force a format ("raw", "elf", "lime", "vmsnap") instead of sniffing. */
	const char *format;
};

int source_open(const char *spec, const struct source_opts *opts,
		struct phys_source **out, struct vmet_err *err);

/* Individual readers (formats/<name>.c). */
int raw_open(const char *path, const char *memmap, struct phys_source **out,
	     struct vmet_err *err);

/* Parse a memory-map spec into ranges + file offsets (used by raw). */
struct memmap_entry {
	uint64_t start, end, offset;
};
int memmap_parse(const char *spec, struct memmap_entry **out, size_t *n,
		 struct vmet_err *err);

#endif
