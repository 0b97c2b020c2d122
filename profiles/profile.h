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
#include <stdio.h>

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
/* The same text to an open stream (stdout); the caller checks for write errors. */
int profile_write(const struct profile *p, FILE *f, struct vmet_err *err);
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

/*
 * The *.vmprof files of dir (full paths, sorted by name, malloc'd: free each
 * and the array).  A directory that does not exist holds none; one that
 * cannot be read is an error.
 */
int profile_list_dir(const char *dir, char ***files, size_t *n, struct vmet_err *err);
/* The banner of a profile file, reading only its header lines. */
int profile_read_banner(const char *path, char **banner, struct vmet_err *err);

/*
 * Read a whole regular file of at most max bytes into a malloc'd buffer
 * (NUL-terminated; *len excludes the NUL), for the loaders of profiles
 * and of the files profiles are made from.
 */
int profile_read_file(const char *path, size_t max, char **data, size_t *len,
		      struct vmet_err *err);

/*
 * Caps on what a profile may hold; a file beyond them is rejected, naming
 * the cap.  They are far above what a real kernel needs (a 6.1 profile has
 * a few hundred structs and symbols) and bound the memory a hostile file
 * can make vmet allocate.
 */
#define PROFILE_MAX_LINE	4096		/* bytes in one line, newline excluded */
#define PROFILE_MAX_FILE	(64u << 20)	/* bytes in one profile file */
#define PROFILE_MAX_NAME	256		/* bytes in a struct/member/symbol name */
#define PROFILE_MAX_TEXT	1024		/* bytes in the banner or source (unescaped) */
#define PROFILE_MAX_STRUCTS	8192
#define PROFILE_MAX_MEMBERS	4096		/* per struct */
#define PROFILE_MAX_SYMBOLS	262144
#define PROFILE_MAX_SIZE	(1ull << 30)	/* bytes in one struct */

/*
 * Building a profile in memory (the DWARF and ISF producers, tests): an
 * empty profile, then structs, members and symbols in any order, then
 * profile_finish(), which validates everything (names, bounds of members
 * within their struct, bit-field ranges, caps, duplicates) and sorts for
 * lookup.  Lookups are valid only after profile_finish(); profile_parse()
 * and profile_load() call it themselves.  After it, structs and symbols are
 * sorted by name and each struct's members by name.
 */
struct profile *profile_new(void);
/* Replace *field (banner, source or arch of a profile) with a copy of value. */
int profile_set_text(char **field, const char *value, struct vmet_err *err);
/* Returns the new struct (owned by p) or NULL with err set. */
struct profile_struct *profile_add_struct(struct profile *p, const char *name,
					  uint64_t size, struct vmet_err *err);
int profile_add_member(struct profile_struct *s, const char *name, uint64_t offset,
		       uint64_t size, uint8_t bit_offset, uint8_t bit_size,
		       struct vmet_err *err);
int profile_add_symbol(struct profile *p, const char *name, uint64_t addr,
		       struct vmet_err *err);
int profile_finish(struct profile *p, struct vmet_err *err);

/*
 * A member's value from a copy of its struct's bytes (buf, len bytes,
 * little-endian), bit-fields included.  VMET_ELIMIT when the member does
 * not lie within len, VMET_EUNSUPPORTED when it is wider than 8 bytes or its
 * size is unknown.
 */
int profile_member_value(const struct profile_member *m, const void *buf, size_t len,
			 uint64_t *val, struct vmet_err *err);

/*
 * The default profile search path, in order: each directory of
 * $VMET_PROFILE_DIR (colon-separated), profiles/ next to the running binary
 * and in its parent (a source-tree build in ./ or in build-X/), and the
 * installed directory VMET_PROFILE_DATADIR (a compile-time define; default
 * /usr/local/share/vmet/profiles).  Directories that do not exist are left
 * out.  Returns the number stored in dirs (at most max); each string is
 * malloc'd: free them with profile_dirs_free().
 */
size_t profile_default_dirs(char **dirs, size_t max);
void profile_dirs_free(char **dirs, size_t n);

#endif
