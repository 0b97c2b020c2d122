/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where vmet keeps what it derives (profiles read from a guest's BTF, where
 * a snapshot's VMCBs are): one rule for every cache.
 */
#ifndef VMET_CORE_CACHEDIR_H
#define VMET_CORE_CACHEDIR_H

#include "core/err.h"

/*
 * $VMET_CACHE_DIR followed by env_sub (may be ""), else
 * $XDG_CACHE_HOME/vmet/SUB, else $HOME/.cache/vmet/SUB; malloc'd in *dir.
 * VMET_ENOTFOUND when none of the three is set, VMET_ENOMEM.  The
 * directory is not created.
 */
int vmet_cache_dir(const char *env_sub, const char *sub, char **dir, struct vmet_err *err);

/* dir followed by name ("/file"), malloc'd; NULL when out of memory. */
char *vmet_cache_path(const char *dir, const char *name);

#endif
