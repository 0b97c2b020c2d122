// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recognise a source spec and hand it to the reader that understands it, and
 * the plumbing the segment-based file readers (ELF core, LiME) share: a
 * read-only mapping of the file and a source that serves its segments.
 */
#include "formats/source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/vmsnap.h"
#include "live/qemu.h"
#include "live/xen.h"

#define LIME_MAGIC_BYTES "EMiL"	/* 0x4C694D45 stored little-endian */

const char *source_sniff(const char *path, struct vmet_err *err)
{
	unsigned char b[8] = { 0 };
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = pread(fd, b, sizeof(b), 0);
	close(fd);
	if (n < 0) {
		vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (n >= 8 && !memcmp(b, VMSNAP_MAGIC, 8))
		return "vmsnap";
	if (n >= 4 && !memcmp(b, "\x7f" "ELF", 4))
		return "elf";
	if (n >= 4 && !memcmp(b, LIME_MAGIC_BYTES, 4))
		return "lime";
	return "raw";
}

static source_wrap_fn wrap_fn;
static void *wrap_ctx;

void source_set_wrapper(source_wrap_fn fn, void *ctx)
{
	wrap_fn = fn;
	wrap_ctx = ctx;
}

static int open_format(const char *spec, const struct source_opts *opts,
		       struct phys_source **out, struct vmet_err *err)
{
	const char *memmap = opts ? opts->memmap : NULL;
	const char *format = opts ? opts->format : NULL;

	if (!spec || !*spec)
		return vmet_errf(err, VMET_EINVAL, "no source given");
	if (qemu_spec_match(spec)) {
		struct qemu_opts qo = { .pause = opts && opts->pause, .samples = opts ? opts->samples : 0 };

		if (format || memmap)
			return vmet_errf(err, VMET_EINVAL, "--format and --memmap apply to files, "
					 "not to the live source %s", spec);
		return qemu_open(spec, &qo, out, err);
	}
	if (xen_spec_match(spec)) {
		struct xen_opts xo = { .pause = opts && opts->pause };

		if (format || memmap)
			return vmet_errf(err, VMET_EINVAL, "--format and --memmap apply to files, "
					 "not to the live source %s", spec);
		return xen_open(spec, &xo, out, err);
	}
	if (!format)
		format = memmap ? "raw" : source_sniff(spec, err);
	if (!format)
		return err ? err->code : VMET_EIO;
	if (memmap && strcmp(format, "raw"))
		return vmet_errf(err, VMET_EINVAL,
				 "--memmap applies to raw images only, and %s is read as %s",
				 spec, format);
	if (!strcmp(format, "raw"))
		return raw_open(spec, memmap, out, err);
	if (!strcmp(format, "elf"))
		return elfcore_open(spec, out, err);
	if (!strcmp(format, "lime"))
		return lime_open(spec, out, err);
	if (!strcmp(format, "vmsnap"))
		return vmsnap_open(spec, out, err);
	return vmet_errf(err, VMET_EUNSUPPORTED,
			 "source format '%s' is not one of raw, elf, lime, vmsnap", format);
}

int source_open(const char *spec, const struct source_opts *opts,
		struct phys_source **out, struct vmet_err *err)
{
	struct phys_source *src;
	int rc = open_format(spec, opts, &src, err);

	if (rc || !wrap_fn) {
		if (!rc)
			*out = src;
		return rc;
	}
	rc = wrap_fn(wrap_ctx, src, out, err);
	if (rc)
		phys_close(src);
	return rc;
}

/* --- mapped files ------------------------------------------------------ */

int mapped_file_open(const char *path, struct mapped_file *mf, struct vmet_err *err)
{
	struct stat st;

	memset(mf, 0, sizeof(*mf));
	mf->path = path;
	mf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (mf->fd < 0)
		return vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
	if (fstat(mf->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = errno;

		close(mf->fd);
		mf->fd = -1;
		return vmet_errf(err, VMET_EIO, "%s: %s", path,
				 S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
	}
	mf->size = (uint64_t)st.st_size;
	if (!mf->size) {
		close(mf->fd);
		mf->fd = -1;
		return vmet_errf(err, VMET_EFORMAT, "%s: empty file", path);
	}
	/* Mapping does not read the file: pages come in only when touched, so
	 * a 16 GiB dump costs address space, not memory. */
	mf->map = mmap(NULL, mf->size, PROT_READ, MAP_SHARED, mf->fd, 0);
	if (mf->map == MAP_FAILED) {
		mf->map = NULL;
		close(mf->fd);
		mf->fd = -1;
		return vmet_errf(err, VMET_EIO, "%s: mmap: %s", path, strerror(errno));
	}
	return 0;
}

void mapped_file_close(struct mapped_file *mf)
{
	if (mf->map)
		munmap((void *)mf->map, mf->size);
	if (mf->fd >= 0)
		close(mf->fd);
	mf->map = NULL;
	mf->fd = -1;
}

/* --- segment sources --------------------------------------------------- */

struct segfile_priv {
	struct mapped_file mf;
	struct file_segment *segs;	/* sorted like src->ranges */
	size_t n;
};

static const struct file_segment *seg_of(const struct phys_source *src, uint64_t addr)
{
	const struct segfile_priv *sp = src->priv;
	long i = phys_find_range(src, addr);

	return i < 0 ? NULL : &sp->segs[i];
}

static int segfile_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
			struct vmet_err *err)
{
	const struct segfile_priv *sp = src->priv;
	const struct file_segment *s = seg_of(src, addr);
	uint64_t rel, in_file;

	if (!s)
		return vmet_errf(err, VMET_EHOLE, "physical address 0x%" PRIx64
				 " is not in the %s file %s", addr, src->format, sp->mf.path);
	rel = addr - s->start;
	/* Bytes the segment declares but the file does not hold are zero
	 * (ELF p_filesz < p_memsz), as a loader would make them. */
	in_file = rel < s->file_len ? s->file_len - rel : 0;
	if (in_file > len)
		in_file = len;
	if (in_file)
		memcpy(buf, sp->mf.map + s->offset + rel, in_file);
	if (in_file < len)
		memset((uint8_t *)buf + in_file, 0, len - in_file);
	return 0;
}

static const void *segfile_map(struct phys_source *src, uint64_t addr, size_t len)
{
	const struct segfile_priv *sp = src->priv;
	const struct file_segment *s = seg_of(src, addr);

	if (!s || addr + len > s->end || addr - s->start + len > s->file_len)
		return NULL;
	return sp->mf.map + s->offset + (addr - s->start);
}

/* Drop the page mappings of whatever segments [addr, addr+len) touches. */
static void segfile_release(struct phys_source *src, uint64_t addr, uint64_t len)
{
	const struct segfile_priv *sp = src->priv;
	uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;

	for (size_t i = 0; i < sp->n; i++) {
		const struct file_segment *s = &sp->segs[i];
		uint64_t a = addr > s->start ? addr : s->start;
		uint64_t b = end < s->start + s->file_len ? end : s->start + s->file_len;
		uintptr_t lo, hi;

		if (a >= b)
			continue;
		/* Whole pages inside the range only: a neighbour may still be in use. */
		lo = ((uintptr_t)(sp->mf.map + s->offset + (a - s->start)) + 4095) & ~(uintptr_t)4095;
		hi = (uintptr_t)(sp->mf.map + s->offset + (b - s->start)) & ~(uintptr_t)4095;
		if (lo < hi)
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
}

static void segfile_close(struct phys_source *src)
{
	struct segfile_priv *sp = src->priv;

	if (!sp)
		return;
	mapped_file_close(&sp->mf);
	free(sp->segs);
	free(sp);
}

static const struct phys_source_ops segfile_ops = {
	.read = segfile_read,
	.map = segfile_map,
	.release = segfile_release,
	.close = segfile_close,
};

static int seg_cmp(const void *a, const void *b)
{
	const struct file_segment *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int segfile_source_new(const char *format, struct mapped_file *mf,
		       struct file_segment *segs, size_t n,
		       struct phys_source **out, struct vmet_err *err)
{
	struct phys_source *src = NULL;
	struct segfile_priv *sp = NULL;
	struct phys_range *ranges = NULL;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct file_segment *s = &segs[i];

		if (s->end <= s->start) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: segment described at file offset 0x%"
				       PRIx64 " is empty or wraps ([0x%" PRIx64 ", 0x%" PRIx64 "))",
				       mf->path, s->hdr_offset, s->start, s->end);
			goto fail;
		}
		if (s->file_len > s->end - s->start) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: segment described at file offset 0x%"
				       PRIx64 " holds 0x%" PRIx64 " file bytes, more than its 0x%"
				       PRIx64 "-byte memory range", mf->path, s->hdr_offset,
				       s->file_len, s->end - s->start);
			goto fail;
		}
		/* A segment with no file bytes (all zero) may point anywhere. */
		if (s->file_len && (s->offset > mf->size || s->file_len > mf->size - s->offset)) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: segment described at file offset 0x%"
				       PRIx64 " (physical 0x%" PRIx64 ") has its data at [0x%" PRIx64
				       ", 0x%" PRIx64 "), beyond the file's end 0x%" PRIx64
				       ": the file is truncated or the header is corrupt",
				       mf->path, s->hdr_offset, s->start, s->offset,
				       s->offset + s->file_len, mf->size);
			goto fail;
		}
	}
	if (n)
		qsort(segs, n, sizeof(*segs), seg_cmp);
	for (size_t i = 1; i < n; i++) {
		if (segs[i].start < segs[i - 1].end) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: segments overlap: the one described at "
				       "file offset 0x%" PRIx64 " starts at physical 0x%" PRIx64
				       ", inside [0x%" PRIx64 ", 0x%" PRIx64 ") described at 0x%" PRIx64,
				       mf->path, segs[i].hdr_offset, segs[i].start,
				       segs[i - 1].start, segs[i - 1].end, segs[i - 1].hdr_offset);
			goto fail;
		}
	}
	if (!n) {
		rc = vmet_errf(err, VMET_EFORMAT, "%s: no memory segments", mf->path);
		goto fail;
	}
	src = phys_source_new(&segfile_ops, format);
	sp = calloc(1, sizeof(*sp));
	ranges = calloc(n, sizeof(*ranges));
	if (!src || !sp || !ranges) {
		rc = vmet_errf(err, VMET_ENOMEM, "%s: out of memory for %zu segments", mf->path, n);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		ranges[i].start = segs[i].start;
		ranges[i].end = segs[i].end;
	}
	rc = phys_set_ranges(src, ranges, n, err);
	ranges = NULL;
	if (rc)
		goto fail;
	sp->mf = *mf;
	sp->segs = segs;
	sp->n = n;
	src->priv = sp;
	*out = src;
	return 0;
fail:
	free(ranges);
	free(sp);
	if (src)
		phys_close(src);
	free(segs);
	mapped_file_close(mf);
	return rc;
}
