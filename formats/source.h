/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a source from a user's spec: a file path (format recognised by its
 * magic: vmet snapshot, ELF core, LiME, else raw) or a live spec such as
 * qemu:RAMFILE,qmp=SOCK or xen:DOMID (handled by live/ when present).
 */
#ifndef VMET_FORMATS_SOURCE_H
#define VMET_FORMATS_SOURCE_H

#include <stdbool.h>

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
	/* Live sources (qemu:, qemu-pid:): see live/qemu.h. */
	bool pause;
	unsigned samples;
};

int source_open(const char *spec, const struct source_opts *opts,
		struct phys_source **out, struct vmet_err *err);

/*
 * A hook applied to every source source_open() returns: the wrapper gets
 * the opened source and returns the one handed to the caller (taking
 * ownership of the first).  `vmet dump --pages-for` installs the page
 * recorder (formats/record.h) this way; NULL removes it.
 */
typedef int (*source_wrap_fn)(void *ctx, struct phys_source *inner,
			      struct phys_source **out, struct vmet_err *err);
void source_set_wrapper(source_wrap_fn fn, void *ctx);

/*
 * The format source_open() would choose for a file from its first bytes:
 * "vmsnap", "elf", "lime" or "raw".  NULL with err filled when the file
 * cannot be read.
 */
const char *source_sniff(const char *path, struct vmet_err *err);

/* Individual readers (formats/<name>.c). */
int raw_open(const char *path, const char *memmap, struct phys_source **out,
	     struct vmet_err *err);
/* ELF core: QEMU dump-guest-memory, kdump vmcore (formats/elfcore.c). */
int elfcore_open(const char *path, struct phys_source **out, struct vmet_err *err);
/* LiME (formats/lime.c). */
int lime_open(const char *path, struct phys_source **out, struct vmet_err *err);
/* vmet snapshot (formats/vmsnap_read.c; the format is in vmsnap.h). */
int vmsnap_open(const char *path, struct phys_source **out, struct vmet_err *err);

/* Parse a memory-map spec into ranges + file offsets (used by raw). */
struct memmap_entry {
	uint64_t start, end, offset;
};
int memmap_parse(const char *spec, struct memmap_entry **out, size_t *n,
		 struct vmet_err *err);

/*
 * Shared by the file readers whose memory sits in the file as contiguous
 * segments (ELF PT_LOAD, LiME ranges): the file mapped read-only, and a
 * source serving each segment zero-copy from that mapping.
 */
struct mapped_file {
	int fd;
	const uint8_t *map;	/* whole file, PROT_READ; NULL when empty */
	uint64_t size;
	const char *path;	/* borrowed from the caller */
};

/* Open and map `path` read-only.  An empty file is VMET_EFORMAT. */
int mapped_file_open(const char *path, struct mapped_file *mf, struct vmet_err *err);
void mapped_file_close(struct mapped_file *mf);

struct file_segment {
	uint64_t start, end;	/* physical [start, end) */
	uint64_t offset;	/* file offset of `start` */
	uint64_t file_len;	/* bytes present in the file; the rest reads as zero */
	uint64_t hdr_offset;	/* file offset of the header that described it (messages) */
};

/*
 * Build a source over `mf` from segments (any order).  Checks every segment
 * against the file's end and against the others, naming the describing
 * header's offset in the error.  Takes ownership of `mf` (closed on error
 * too) and of `segs`.  The caller fills vcpus/vmcoreinfo/description after.
 */
int segfile_source_new(const char *format, struct mapped_file *mf,
		       struct file_segment *segs, size_t n,
		       struct phys_source **out, struct vmet_err *err);

/*
 * VMCOREINFO ("KEY=VALUE" lines, as the kernel writes them) in a source.
 * vmcoreinfo_get() returns a pointer to KEY's value inside src->vmcoreinfo
 * and its length (up to the end of the line), or NULL when absent.
 * vmcoreinfo_get_u64() parses it the way the kernel printed it: hex for
 * SYMBOL(...) and KERNELOFFSET, decimal for everything else (NUMBER,
 * OFFSET, SIZE, LENGTH, PAGESIZE, CRASHTIME).  Returns 0, VMET_ENOTFOUND,
 * or VMET_EFORMAT when the value is not a number.
 */
const char *vmcoreinfo_get(const struct phys_source *src, const char *key, size_t *len);
int vmcoreinfo_get_u64(const struct phys_source *src, const char *key, uint64_t *val,
		       struct vmet_err *err);

#endif
