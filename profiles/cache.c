// SPDX-License-Identifier: GPL-2.0-or-later
/* The cache of derived profiles, keyed by banner (see cache.h). */
#include "profiles/cache.h"
#include "profiles/wanted.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "core/cachedir.h"

#define HASH_HEX 32	/* 128 bits of SHA-256: collisions are not a concern */

int profile_cache_dir(char **dir, struct vmet_err *err)
{
	/* VMET_CACHE_DIR is the profile cache itself (as first documented). */
	return vmet_cache_dir("", "profiles", dir, err);
}

static int banner_hash(const char *banner, char hex[HASH_HEX + 1], struct vmet_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(banner, strlen(banner), md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen * 2 < HASH_HEX)
		return vmet_errf(err, VMET_EIO, "cannot hash the banner (OpenSSL SHA-256 failed)");
	for (unsigned i = 0; i < HASH_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int profile_cache_path(const char *banner, char **path, struct vmet_err *err)
{
	char hex[HASH_HEX + 1], *dir, name[HASH_HEX + 32];
	int rc;

	*path = NULL;
	if (!banner || !*banner)
		return vmet_errf(err, VMET_EINVAL, "no banner to key the cache with");
	if ((rc = banner_hash(banner, hex, err)) || (rc = profile_cache_dir(&dir, err)))
		return rc;
	/* The generation: an entry made from older wanted lists is not found. */
	snprintf(name, sizeof(name), "/auto-w%d-%s.vmprof", WANTED_GENERATION, hex);
	*path = vmet_cache_path(dir, name);
	free(dir);
	if (!*path)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}

int profile_cache_load(const char *banner, struct profile **out, char **path,
		       struct vmet_err *err)
{
	char *p;
	struct profile *prof = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	if (path)
		*path = NULL;
	if ((rc = profile_cache_path(banner, &p, err)))
		return rc;
	if (stat(p, &st)) {
		rc = vmet_errf(err, VMET_ENOTFOUND, "no cached profile %s", p);
	} else if (!(rc = profile_load(p, &prof, err))) {
		if (strcmp(prof->banner, banner)) {
			rc = vmet_errf(err, VMET_ENOTFOUND,
				       "cached profile %s is for another banner", p);
			profile_free(prof);
		} else {
			*out = prof;
		}
	}
	if (path)
		*path = p;
	else
		free(p);
	return rc;
}

/* mkdir -p for the cache's own directories. */
static int mkdirs(char *dir, struct vmet_err *err)
{
	for (char *s = dir + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			int e = errno;

			*s = c;
			return vmet_errf(err, VMET_EIO, "cannot create %s: %s", dir, strerror(e));
		}
		*s = c;
		if (!c)
			return 0;
	}
}

int profile_cache_store(const struct profile *p, char **path, struct vmet_err *err)
{
	char *file, *dir;
	int rc;

	if (path)
		*path = NULL;
	if ((rc = profile_cache_path(p->banner, &file, err)))
		return rc;
	if ((rc = profile_cache_dir(&dir, err))) {
		free(file);
		return rc;
	}
	rc = mkdirs(dir, err);
	free(dir);
	if (!rc)
		rc = profile_save(p, file, err);
	if (path)
		*path = file;
	else
		free(file);
	return rc;
}
