/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Physical-memory sources: where host-physical bytes come from.
 *
 * A source is a sparse physical address space described by a sorted list of
 * non-overlapping ranges.  Reading a byte outside every range is a hole
 * (VMET_EHOLE) and names the first missing address.  Files (raw, ELF core,
 * LiME, vmet snapshot) and live connectors (QEMU, Xen) all implement this
 * one interface; nothing above core/ knows which kind it reads.
 *
 * A source also carries what it knows about the machine beyond its bytes:
 * vCPU records (see vcpu.h), and free-form facts such as a VMCOREINFO note.
 * Sources are strictly read-only: no operation writes to the guest.
 */
#ifndef VMET_CORE_PHYS_H
#define VMET_CORE_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/vcpu.h"

struct phys_range {
	uint64_t start;	/* first byte */
	uint64_t end;	/* one past the last byte */
};

struct phys_source;

struct phys_source_ops {
	/*
	 * Copy len bytes at physical addr into buf.  The caller guarantees
	 * the whole range lies inside one phys_range (phys_read() splits).
	 * Returns 0 or a negative VMET_E* code with err filled.
	 */
	int (*read)(struct phys_source *src, uint64_t addr, void *buf,
		    size_t len, struct vmet_err *err);
	/*
	 * Optional zero-copy access: a pointer to len bytes at addr valid
	 * until the source is closed, or NULL when the bytes are not directly
	 * mapped (compressed, split, not in memory).  Never an error.
	 */
	const void *(*map)(struct phys_source *src, uint64_t addr, size_t len);
	/*
	 * Optional: the caller is done with [addr, addr+len) for now (a scan
	 * moving on).  A mapped source drops its page mappings so a scan of a
	 * large image does not grow the process's resident memory.
	 */
	void (*release)(struct phys_source *src, uint64_t addr, uint64_t len);
	/* Optional: drop cached state so that the next read sees live memory. */
	void (*refresh)(struct phys_source *src);
	/* Optional: pause / resume a live guest for a consistent view. */
	int (*pause)(struct phys_source *src, bool pause, struct vmet_err *err);
	void (*close)(struct phys_source *src);
};

struct phys_source {
	const struct phys_source_ops *ops;
	const char *format;		/* "raw", "elf", "lime", "vmsnap", "qemu"... */
	char *description;		/* human-readable: path and details; owned */
	struct phys_range *ranges;	/* sorted, non-overlapping; owned */
	size_t nranges;
	struct vcpu_set vcpus;		/* records the source itself knows */
	char *vmcoreinfo;		/* VMCOREINFO text if the source has it; owned */
	bool live;			/* memory may change between reads */
	void *priv;			/* implementation data */
	/*
	 * Work bound for hostile memory: phys_read() counts what it returns
	 * and fails with VMET_ELIMIT once bytes_read would pass read_budget
	 * (0: no bound).  A listing sets both before it starts, so that a
	 * guest whose structures point everywhere costs a known amount.
	 */
	uint64_t read_budget;
	uint64_t bytes_read;
};

/*
 * Read from a source across range boundaries.  Fails with VMET_EHOLE naming
 * the first address not covered, or with the implementation's error.
 */
int phys_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
	      struct vmet_err *err);

/* Read a little-endian u64 / u32. */
int phys_read_u64(struct phys_source *src, uint64_t addr, uint64_t *val,
		  struct vmet_err *err);

/* True when [addr, addr+len) lies entirely in the source's ranges. */
bool phys_contains(const struct phys_source *src, uint64_t addr, uint64_t len);

/* Index of the range holding addr, or -1. O(log n). */
long phys_find_range(const struct phys_source *src, uint64_t addr);

/* Total bytes covered by the ranges. */
uint64_t phys_total_size(const struct phys_source *src);

/*
 * Install a range list after sorting it; rejects overlaps, empty and
 * wrapping ranges with VMET_EFORMAT.  Takes ownership of `ranges`.
 */
int phys_set_ranges(struct phys_source *src, struct phys_range *ranges,
		    size_t n, struct vmet_err *err);

void phys_close(struct phys_source *src);

/* Hint that [addr, addr+len) is not needed for now (see ops->release). */
void phys_release(struct phys_source *src, uint64_t addr, uint64_t len);

/* Helpers for implementations: a zeroed source with ops and format set. */
struct phys_source *phys_source_new(const struct phys_source_ops *ops,
				    const char *format);

#endif
