// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw images: file offset == physical address, or a memory map that says
 * where each physical range sits in the file.  The file is mapped read-only
 * (MAP_SHARED, so a live QEMU RAM file is seen as it changes) and served
 * zero-copy.
 */
#include "formats/source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct raw_priv {
	int fd;
	const uint8_t *map;
	uint64_t size;
	struct memmap_entry *mm;	/* sorted like src->ranges */
	size_t nmm;
};

static const struct memmap_entry *raw_entry(const struct phys_source *src, uint64_t addr)
{
	const struct raw_priv *rp = src->priv;
	long i = phys_find_range(src, addr);

	return i < 0 ? NULL : &rp->mm[i];
}

static int raw_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		    struct vmet_err *err)
{
	struct raw_priv *rp = src->priv;
	const struct memmap_entry *e = raw_entry(src, addr);
	uint64_t off;

	if (!e)
		return vmet_errf(err, VMET_EHOLE, "physical address 0x%" PRIx64 " is not in the image", addr);
	off = e->offset + (addr - e->start);
	if (off + len > rp->size)
		return vmet_errf(err, VMET_EIO,
				 "raw image: physical 0x%" PRIx64 " maps to file offset 0x%" PRIx64
				 " beyond the file's end (0x%" PRIx64 "): was the file truncated?",
				 addr, off, rp->size);
	memcpy(buf, rp->map + off, len);
	return 0;
}

static const void *raw_map(struct phys_source *src, uint64_t addr, size_t len)
{
	struct raw_priv *rp = src->priv;
	const struct memmap_entry *e = raw_entry(src, addr);
	uint64_t off;

	if (!e || addr + len > e->end)
		return NULL;
	off = e->offset + (addr - e->start);
	if (off + len > rp->size)
		return NULL;
	return rp->map + off;
}

static void raw_close(struct phys_source *src)
{
	struct raw_priv *rp = src->priv;

	if (!rp)
		return;
	if (rp->map)
		munmap((void *)rp->map, rp->size);
	if (rp->fd >= 0)
		close(rp->fd);
	free(rp->mm);
	free(rp);
}

static const struct phys_source_ops raw_ops = {
	.read = raw_read,
	.map = raw_map,
	.close = raw_close,
};

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
	struct phys_source *src;
	struct raw_priv *rp;
	struct phys_range *ranges;
	struct stat st;
	int rc;

	src = phys_source_new(&raw_ops, "raw");
	rp = calloc(1, sizeof(*rp));
	if (!src || !rp) {
		free(src);
		free(rp);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	rp->fd = -1;
	src->priv = rp;
	rp->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (rp->fd < 0) {
		rc = vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(rp->fd, &st) < 0) {
		rc = vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rc = vmet_errf(err, VMET_EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	rp->size = (uint64_t)st.st_size;
	if (rp->size == 0) {
		rc = vmet_errf(err, VMET_EFORMAT, "%s: empty file: no memory to read", path);
		goto fail;
	}
	rp->map = mmap(NULL, rp->size, PROT_READ, MAP_SHARED, rp->fd, 0);
	if (rp->map == MAP_FAILED) {
		rp->map = NULL;
		rc = vmet_errf(err, VMET_EIO, "%s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	if (memmap) {
		rc = memmap_parse(memmap, &rp->mm, &rp->nmm, err);
		if (rc)
			goto fail;
		for (size_t i = 0; i < rp->nmm; i++) {
			const struct memmap_entry *e = &rp->mm[i];
			if (e->offset > rp->size || e->end - e->start > rp->size - e->offset) {
				rc = vmet_errf(err, VMET_EINVAL,
					       "memory map: [0x%" PRIx64 ", 0x%" PRIx64 ")@0x%" PRIx64
					       " reaches beyond the end of %s (0x%" PRIx64 " bytes)",
					       e->start, e->end, e->offset, path, rp->size);
				goto fail;
			}
		}
	} else {
		rp->mm = calloc(1, sizeof(*rp->mm));
		if (!rp->mm) {
			rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
			goto fail;
		}
		rp->mm[0].end = rp->size;
		rp->nmm = 1;
	}
	ranges = calloc(rp->nmm, sizeof(*ranges));
	if (!ranges) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < rp->nmm; i++) {
		ranges[i].start = rp->mm[i].start;
		ranges[i].end = rp->mm[i].end;
	}
	rc = phys_set_ranges(src, ranges, rp->nmm, err);
	if (rc)
		goto fail;
	if (asprintf(&src->description, "raw image %s (%" PRIu64 " bytes%s)", path,
		     rp->size, memmap ? ", memory map given" : "") < 0)
		src->description = NULL;
	*out = src;
	return 0;
fail:
	phys_close(src);
	return rc;
}
