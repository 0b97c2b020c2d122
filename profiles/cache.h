/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cache of profiles derived from guest memory, keyed by banner.
 *
 * Deriving a profile from a guest's BTF and kallsyms costs a copy of the
 * kernel image and a decode; the banner (linux_banner, which names the
 * build) says when the result can be reused.  Entries live in
 * $XDG_CACHE_HOME/vmet/profiles, else $HOME/.cache/vmet/profiles, one file
 * per banner named after a hash of it, in the ordinary profile format: a
 * cached profile is an ordinary profile file and can be copied out and
 * given with --profile.  $VMET_CACHE_DIR overrides the directory (tests).
 * The name carries WANTED_GENERATION (profiles/wanted.h): when vmet learns
 * to read more structs, entries derived by an older vmet are not used (they
 * lack those structs) but derived again.
 *
 * A cache entry is a hint, never trusted by itself: a file whose banner
 * differs from the one asked for is ignored, and the caller verifies the
 * profile against memory as it does any other.
 */
#ifndef VMET_PROFILES_CACHE_H
#define VMET_PROFILES_CACHE_H

#include "core/err.h"
#include "profiles/profile.h"

/* The cache directory (malloc'd; not created). VMET_ENOTFOUND without a home. */
int profile_cache_dir(char **dir, struct vmet_err *err);

/* The entry path for a banner (malloc'd): DIR/auto-wGENERATION-HASH.vmprof. */
int profile_cache_path(const char *banner, char **path, struct vmet_err *err);

/*
 * Load the entry for `banner`.  VMET_ENOTFOUND when there is none (or it
 * holds another banner); other errors when it exists but does not load.
 * *path (may be NULL) receives the file name either way when known.
 */
int profile_cache_load(const char *banner, struct profile **out, char **path,
		       struct vmet_err *err);

/* Store p under its banner, creating the directory (mode 0700) as needed. */
int profile_cache_store(const struct profile *p, char **path, struct vmet_err *err);

#endif
