// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest-discovery cache (see guests.h).  One small text file per source:
 *
 *     vmet-guests-cache 1
 *     key KEY
 *     count N
 *     ctl KIND ADDRESS STAGE2-ROOT        (N lines, hex)
 *     end
 *
 * The file is named after a 64-bit hash of the key and holds the key in
 * full, so a hash collision is a miss, not a wrong answer.  Everything read
 * back is bounded and checked; the structures themselves are re-read from
 * the source and re-checked before use.
 */
#include "core/cachedir.h"
#include "core/guests.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "vmet-guests-cache 1"
#define KEY_MAX 8192
#define LINE_MAX_LEN (KEY_MAX + 16)

int guests_cache_dir(char **dir, struct vmet_err *err)
{
	return vmet_cache_dir("/guests", "guests", dir, err);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The key: what the cached locations are valid for.  *exact: a regular
 * file whose identity and mtime are in the key. */
static int make_key(const struct phys_source *src, const char *spec, char *key, size_t n,
		    bool *exact)
{
	uint64_t rh = 0xcbf29ce484222325ull;
	char real[PATH_MAX];
	struct stat st;
	int len;

	if (!spec || !*spec)
		return -1;
	for (size_t i = 0; i < src->nranges; i++)
		rh = fnv1a(rh, &src->ranges[i], sizeof(src->ranges[i]));
	*exact = !src->live && !stat(spec, &st) && S_ISREG(st.st_mode) && realpath(spec, real);
	if (*exact)
		len = snprintf(key, n, "file %s dev=%ju ino=%ju size=%jd mtime=%jd.%09ld format=%s ranges=%zu/%016" PRIx64,
			       real, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
			       (intmax_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
			       src->format ? src->format : "?", src->nranges, rh);
	else
		len = snprintf(key, n, "spec %s format=%s live=%d ranges=%zu/%016" PRIx64, spec,
			       src->format ? src->format : "?", (int)src->live, src->nranges, rh);
	if (len < 0 || (size_t)len >= n)
		return -1;
	/* One line: a spec with a newline in it is not cached. */
	return strchr(key, '\n') ? -1 : 0;
}

static char *entry_path(const char *dir, const char *key)
{
	char name[64];

	snprintf(name, sizeof(name), "/%016" PRIx64 ".guests",
		 fnv1a(0xcbf29ce484222325ull, key, strlen(key)));
	return vmet_cache_path(dir, name);
}

/* Read the entry; 0 with the locations in out->all (kind, pa, s2_root). */
static int load(const char *path, const char *key, struct guest_list *out, char *why, size_t n)
{
	FILE *f = fopen(path, "r");
	char *line = malloc(LINE_MAX_LEN);
	unsigned long long count = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!f || !line) {
		snprintf(why, n, "no cache entry");
		goto out;
	}
	if (!fgets(line, LINE_MAX_LEN, f) || strcmp(line, CACHE_MAGIC "\n")) {
		snprintf(why, n, "cache entry %s: not a vmet guests cache", path);
		goto out;
	}
	if (!fgets(line, LINE_MAX_LEN, f) || strncmp(line, "key ", 4) || strlen(line) < 5 ||
	    line[strlen(line) - 1] != '\n') {
		snprintf(why, n, "cache entry %s: no key", path);
		goto out;
	}
	line[strlen(line) - 1] = '\0';
	if (strcmp(line + 4, key)) {
		snprintf(why, n, "cache entry for another source or an older version of it");
		goto out;
	}
	if (!fgets(line, LINE_MAX_LEN, f) || sscanf(line, "count %llu", &count) != 1 ||
	    count == 0 || count > GUESTS_MAX_CTL) {
		snprintf(why, n, "cache entry %s: bad count", path);
		goto out;
	}
	out->all = calloc(count, sizeof(*out->all));
	if (!out->all) {
		snprintf(why, n, "out of memory");
		goto out;
	}
	for (unsigned long long i = 0; i < count; i++) {
		unsigned kind;
		uint64_t pa, root;
		char tail;

		if (!fgets(line, LINE_MAX_LEN, f) ||
		    sscanf(line, "ctl %u %" SCNx64 " %" SCNx64 "%c", &kind, &pa, &root, &tail) != 4 ||
		    tail != '\n' || kind < VMCTL_VMCB || kind > VMCTL_KIND_LAST || (pa & 0xfff)) {
			snprintf(why, n, "cache entry %s: bad record %llu", path, i + 1);
			goto out;
		}
		out->all[i].kind = (enum vmctl_kind)kind;
		out->all[i].pa = pa;
		out->all[i].s2_root = root;
		out->nall++;
	}
	if (!fgets(line, LINE_MAX_LEN, f) || strcmp(line, "end\n") || fgetc(f) != EOF) {
		snprintf(why, n, "cache entry %s: not terminated", path);
		goto out;
	}
	rc = 0;
out:
	if (rc)
		guest_list_free(out);
	if (f)
		fclose(f);
	free(line);
	return rc;
}

/* Re-read and re-check every cached location; fresh fields replace them. */
static int revalidate(struct phys_source *src, struct guest_list *l, char *why, size_t n)
{
	uint8_t page[4096];

	for (size_t i = 0; i < l->nall; i++) {
		struct vmctl *v = &l->all[i], fresh;
		char reason[160] = "";

		if (phys_read(src, v->pa, page, sizeof(page), NULL)) {
			snprintf(why, n, "cached %s at 0x%" PRIx64 " is no longer readable",
				 vmctl_kind_name(v->kind), v->pa);
			return -1;
		}
		if (!vmctl_check_kind(v->kind, page, v->pa, &fresh, reason, sizeof(reason))) {
			snprintf(why, n, "cached %s at 0x%" PRIx64 " no longer passes: %s",
				 vmctl_kind_name(v->kind), v->pa, reason);
			return -1;
		}
		if (fresh.s2_root != v->s2_root) {
			snprintf(why, n, "cached %s at 0x%" PRIx64 " now has stage-2 root 0x%" PRIx64
				 " (was 0x%" PRIx64 ")", vmctl_kind_name(v->kind), v->pa, fresh.s2_root,
				 v->s2_root);
			return -1;
		}
		*v = fresh;
	}
	return 0;
}

static int mkdirs(char *dir)
{
	for (char *s = dir + 1;; s++) {
		char c = *s;

		if (c != '/' && c)
			continue;
		*s = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			*s = c;
			return -1;
		}
		*s = c;
		if (!c)
			return 0;
	}
}

/* Write the entry next to its final name, then rename: readers see the old
 * entry or the new one, never half of one. */
static bool store(char *dir, const char *path, const char *key, const struct guest_list *l)
{
	size_t tn = strlen(path) + 32;
	char *tmp = malloc(tn);
	FILE *f;
	int fd;
	bool ok;

	if (!tmp || mkdirs(dir)) {
		free(tmp);
		return false;
	}
	snprintf(tmp, tn, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return false;
	}
	fprintf(f, CACHE_MAGIC "\nkey %s\ncount %zu\n", key, l->nall);
	for (size_t i = 0; i < l->nall; i++)
		fprintf(f, "ctl %u %" PRIx64 " %" PRIx64 "\n", (unsigned)l->all[i].kind, l->all[i].pa,
			l->all[i].s2_root);
	fputs("end\n", f);
	ok = !ferror(f);
	ok = !fclose(f) && ok;
	ok = ok && !rename(tmp, path);
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok;
}

int guests_discover_cached(struct phys_source *src, const char *spec,
			   enum guests_cache_mode mode, struct guest_list *out,
			   struct guests_cache_info *info, scan_progress_fn progress,
			   void *ctx, struct vmet_err *err)
{
	struct guests_cache_info dummy;
	char *key = NULL, *dir = NULL, *path = NULL;
	bool exact = false;
	int rc;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (mode == GUESTS_CACHE_OFF) {
		snprintf(info->note, sizeof(info->note), "cache not used");
		return guests_discover(src, out, progress, ctx, err);
	}
	key = malloc(KEY_MAX);
	if (!key || make_key(src, spec, key, KEY_MAX, &exact) || guests_cache_dir(&dir, NULL) ||
	    !(path = entry_path(dir, key))) {
		snprintf(info->note, sizeof(info->note), "source not cacheable or no cache directory");
		free(key);
		free(dir);
		return guests_discover(src, out, progress, ctx, err);
	}
	if (mode == GUESTS_CACHE_USE) {
		if (!load(path, key, out, info->note, sizeof(info->note)) &&
		    !revalidate(src, out, info->note, sizeof(info->note)) && !guests_group(out, NULL)) {
			info->hit = true;
			snprintf(info->note, sizeof(info->note), "%zu location%s from %s, each re-checked",
				 out->nall, out->nall == 1 ? "" : "s", path);
			goto done;
		}
		guest_list_free(out);
	} else {
		snprintf(info->note, sizeof(info->note), "rescan asked for");
	}
	rc = guests_discover(src, out, progress, ctx, err);
	if (rc) {
		free(key);
		free(dir);
		free(path);
		return rc;
	}
	/* An empty or cut list is not worth keeping: nothing to enter. */
	if (out->nall && !out->truncated)
		info->stored = store(dir, path, key, out);
done:
	free(key);
	free(dir);
	free(path);
	return 0;
}
