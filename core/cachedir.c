// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/cachedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *join3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

char *vmet_cache_path(const char *dir, const char *name)
{
	return join3(dir, name, "");
}

int vmet_cache_dir(const char *env_sub, const char *sub, char **dir, struct vmet_err *err)
{
	const char *v;

	*dir = NULL;
	if ((v = getenv("VMET_CACHE_DIR")) && *v)
		*dir = join3(v, env_sub, "");
	else if ((v = getenv("XDG_CACHE_HOME")) && *v == '/')
		*dir = join3(v, "/vmet/", sub);
	else if ((v = getenv("HOME")) && *v == '/')
		*dir = join3(v, "/.cache/vmet/", sub);
	else
		return vmet_errf(err, VMET_ENOTFOUND, "no cache directory: neither VMET_CACHE_DIR, "
				 "XDG_CACHE_HOME nor HOME is set");
	if (!*dir)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}
