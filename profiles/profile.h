/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel profiles: the structure layouts and symbol addresses the OS view
 * needs for one kernel build, and the banner that identifies the build.
 *
 * A profile is a dictionary, not a fixed struct: structs by name, each with
 * a size and named members (offset, size; members of anonymous structs and
 * unions flattened into their parent with absolute offsets), and symbols by
 * name.  Whatever produced it (DWARF, Volatility ISF, BTF from guest memory)
 * the result has the same form, so everything downstream is unchanged.
 *
 * On disk a profile is a small line-oriented text file (profile-format.md in
 * docs/ describes it); loading one is a single pass over a few hundred lines.
 * Symbol addresses are link-time (unslid) addresses.
 */
#ifndef VMET_PROFILES_PROFILE_H
#define VMET_PROFILES_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/vcpu.h"

struct profile_member {
	char *name;
	uint64_t offset;	/* bytes from the start of the struct */
	uint64_t size;		/* bytes; 0 if unknown */
	uint8_t bit_offset;	/* for bit-fields: bit within the byte at offset */
	uint8_t bit_size;	/* 0 = not a bit-field */
};

struct profile_struct {
	char *name;
	uint64_t size;
	struct profile_member *m;
	size_t nm;
};

struct profile_symbol {
	char *name;
	uint64_t addr;
};

struct profile {
	char *banner;		/* linux_banner contents, without trailing newline */
	char *source;		/* what it was built from ("dwarf:PATH", "btf:memory") */
	char *arch;		/* "x86_64" or "i386" */
	enum paging_mode paging; /* PAGING_NONE when unknown */
	struct profile_struct *s;
	size_t ns;
	struct profile_symbol *sym;	/* sorted by name after load */
	size_t nsym;
};

/* Load from a file / from text in memory. */
int profile_load(const char *path, struct profile **out, struct vmet_err *err);
int profile_parse(const char *text, size_t len, const char *origin,
		  struct profile **out, struct vmet_err *err);
/* Write in the on-disk format (atomically: temp file + rename). */
int profile_save(const struct profile *p, const char *path, struct vmet_err *err);
void profile_free(struct profile *p);

const struct profile_struct *profile_struct(const struct profile *p, const char *name);
const struct profile_member *profile_member(const struct profile *p,
					    const char *sname, const char *mname);
/* Offset of sname.mname, or -1 when absent. */
int64_t profile_offset(const struct profile *p, const char *sname, const char *mname);
/* Size of struct sname, or 0 when absent. */
uint64_t profile_sizeof(const struct profile *p, const char *sname);
/* Symbol address, or 0 when absent (in which case *found is false). */
uint64_t profile_symbol(const struct profile *p, const char *name, bool *found);

/*
 * Choose a profile whose banner equals `banner` from the given directories
 * (searched in order, each *.vmprof file).  VMET_ENOTFOUND names the banner.
 */
int profile_find_for_banner(const char *const *dirs, size_t ndirs,
			    const char *banner, struct profile **out,
			    struct vmet_err *err);

#endif
