// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw images: file offset == physical address, or a memory map that says
 * where each physical range sits in the file.  Served like every segmented
 * file (formats/open.c): mapped read-only (MAP_SHARED, so a live QEMU RAM
 * file is seen as it changes), zero-copy.
 */
#include "formats/source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mm_cmp(const void *a, const void *b)
{
	const struct memmap_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int parse_u64(const char *s, char **end, uint64_t *v)
{
	errno = 0;
	if (*s == '-' || *s == '+')
		return -1;
	*v = strtoull(s, end, 0);
	return (errno || *end == s) ? -1 : 0;
}

int memmap_parse(const char *spec, struct memmap_entry **out, size_t *n,
		 struct vmet_err *err)
{
	struct memmap_entry *mm = NULL;
	size_t cnt = 0;
	const char *p = spec;

	while (*p) {
		struct memmap_entry e;
		char *end;

		if (parse_u64(p, &end, &e.start) || *end != '-')
			goto bad;
		if (parse_u64(end + 1, &end, &e.end) || *end != '@')
			goto bad;
		if (parse_u64(end + 1, &end, &e.offset) || (*end && *end != ','))
			goto bad;
		if (e.end <= e.start) {
			free(mm);
			return vmet_errf(err, VMET_EINVAL, "memory map entry %zu: end 0x%" PRIx64
					 " is not above start 0x%" PRIx64, cnt, e.end, e.start);
		}
		if (cnt >= 4096) {
			free(mm);
			return vmet_errf(err, VMET_ELIMIT, "memory map: more than 4096 entries");
		}
		struct memmap_entry *nm = realloc(mm, (cnt + 1) * sizeof(*mm));
		if (!nm) {
			free(mm);
			return vmet_errf(err, VMET_ENOMEM, "memory map: out of memory");
		}
		mm = nm;
		mm[cnt++] = e;
		p = *end ? end + 1 : end;
		continue;
bad:
		free(mm);
		return vmet_errf(err, VMET_EINVAL,
				 "memory map: cannot parse '%s' (expected START-END@OFFSET[,...])", p);
	}
	if (!cnt)
		return vmet_errf(err, VMET_EINVAL, "memory map: empty");
	qsort(mm, cnt, sizeof(*mm), mm_cmp);
	*out = mm;
	*n = cnt;
	return 0;
}

int raw_open(const char *path, const char *memmap, struct phys_source **out,
	     struct vmet_err *err)
{
	struct mapped_file mf;
	struct memmap_entry *mm = NULL;
	struct file_segment *segs;
	size_t n = 1;
	int rc;

	rc = mapped_file_open(path, &mf, err);
	if (rc)
		return rc;
	if (memmap) {
		rc = memmap_parse(memmap, &mm, &n, err);
		if (rc) {
			mapped_file_close(&mf);
			return rc;
		}
		/* Checked here, not only by segfile_source_new, to say which
		 * map entry is wrong in the user's own terms. */
		for (size_t i = 0; i < n; i++) {
			const struct memmap_entry *e = &mm[i];

			if (e->offset > mf.size || e->end - e->start > mf.size - e->offset) {
				rc = vmet_errf(err, VMET_EINVAL,
					       "memory map: [0x%" PRIx64 ", 0x%" PRIx64 ")@0x%" PRIx64
					       " reaches beyond the end of %s (0x%" PRIx64 " bytes)",
					       e->start, e->end, e->offset, path, mf.size);
				free(mm);
				mapped_file_close(&mf);
				return rc;
			}
		}
	}
	segs = calloc(n, sizeof(*segs));
	if (!segs) {
		free(mm);
		mapped_file_close(&mf);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		segs[i].start = mm ? mm[i].start : 0;
		segs[i].end = mm ? mm[i].end : mf.size;
		segs[i].offset = mm ? mm[i].offset : 0;
		segs[i].file_len = segs[i].end - segs[i].start;
	}
	free(mm);
	rc = segfile_source_new("raw", &mf, segs, n, out, err);
	if (rc)
		return rc;
	if (asprintf(&(*out)->description, "raw image %s (%" PRIu64 " bytes%s)", path,
		     mf.size, memmap ? ", memory map given" : "") < 0)
		(*out)->description = NULL;
	return 0;
}
