/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a profile must hold: the structs and symbols the OS view (os/linux/)
 * reads.  The producers (DWARF, ISF, BTF) take every member of each listed
 * struct, so a new member needs no change here; a new struct or symbol is
 * one line in wanted.c.
 *
 * Each struct also lists the members the OS view relies on, so that a
 * profile can be checked before use ("does it have what ps needs?").  An
 * entry "a|b" is satisfied by either name: kernels rename members across
 * versions (task_struct.state became __state in 5.14).
 */
#ifndef VMET_PROFILES_WANTED_H
#define VMET_PROFILES_WANTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "profiles/profile.h"

/*
 * Raised whenever the lists below gain a struct or symbol: profiles derived
 * from memory are cached under this generation (profiles/cache.c), so a
 * cached profile made from a shorter list is derived again rather than
 * used without the new fields.  2: fs_struct, mount, vfsmount,
 * hlist_bl_node (the exe, cwd and root links of vmet mount).
 */
#define WANTED_GENERATION 2

struct wanted_struct {
	const char *name;		/* struct, union or typedef name */
	const char *const *members;	/* NULL-terminated; may be NULL */
};

extern const struct wanted_struct wanted_structs[];
extern const size_t wanted_nstructs;

/*
 * Symbols, in the same "a|b" form.  Many exist only in some kernels
 * (unix_socket_table went away in 6.0, swapper_pg_dir is a macro on
 * x86-64): the list is what to collect, not what every kernel has.
 */
extern const char *const wanted_symbols[];
extern const size_t wanted_nsymbols;

/* Whether a struct / symbol name is wanted (an alternative counts). */
bool wanted_struct(const char *name);
bool wanted_symbol(const char *name);

/*
 * Check a profile against the lists: print one line per missing struct,
 * member or symbol to `report` (when not NULL) and return how many are
 * missing.  Missing symbols alone are common and harmless; the caller
 * decides what is fatal.
 */
size_t wanted_check(const struct profile *p, FILE *report, size_t *missing_symbols);

#endif
