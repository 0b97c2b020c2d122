// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writing snapshots: the vmet snapshot format and raw images.
 *
 * Both go through one atomic-output path: a temporary file next to the
 * target (NAME.tmp.XXXXXX), fsync'd and renamed only when complete, removed
 * on any error or on SIGINT/SIGTERM/SIGHUP.  The final name therefore holds
 * either the previous file or a complete new one, never a truncated one.
 */
#include "formats/vmsnap.h"
#include "formats/source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* --- atomic output ----------------------------------------------------- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

struct atomic_out {
	int fd;
	char *final, *tmp;
	struct sigaction old[3];
	bool handlers;
};

static int atomic_open(struct atomic_out *a, const char *path, struct vmet_err *err)
{
	struct sigaction sa;
	mode_t um;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->final = strdup(path);
	if (!a->final || asprintf(&a->tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(a->final);
		a->tmp = NULL;
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	/* Signals first, so that no window leaves a temp file behind. */
	got_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(caught[i], &sa, &a->old[i]);
	a->handlers = true;
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0) {
		int e = errno;

		for (int i = 0; i < 3; i++)
			sigaction(caught[i], &a->old[i], NULL);
		free(a->final);
		free(a->tmp);
		return vmet_errf(err, VMET_EIO, "cannot create a temporary file next to %s: %s",
				 path, strerror(e));
	}
	um = umask(0);
	umask(um);
	fchmod(a->fd, 0666 & ~um);
	return 0;
}

static void atomic_restore(struct atomic_out *a)
{
	if (a->handlers)
		for (int i = 0; i < 3; i++)
			sigaction(caught[i], &a->old[i], NULL);
	a->handlers = false;
	free(a->final);
	free(a->tmp);
	a->final = a->tmp = NULL;
}

static void atomic_abort(struct atomic_out *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp)
		unlink(a->tmp);
	atomic_restore(a);
}

static int atomic_commit(struct atomic_out *a, struct vmet_err *err)
{
	char *dir;
	int dfd;

	if (fsync(a->fd) < 0 || close(a->fd) < 0) {
		int e = errno;

		a->fd = -1;
		atomic_abort(a);
		return vmet_errf(err, VMET_EIO, "writing the snapshot: %s", strerror(e));
	}
	a->fd = -1;
	if (got_signal) {
		int s = got_signal;

		atomic_abort(a);
		return vmet_errf(err, VMET_EINTR, "interrupted by signal %d: nothing written", s);
	}
	if (rename(a->tmp, a->final) < 0) {
		int e = errno;

		atomic_abort(a);
		return vmet_errf(err, VMET_EIO, "cannot rename the finished file to its name: %s",
				 strerror(e));
	}
	/* Make the rename itself durable. */
	dir = strdup(a->final);
	if (dir) {
		dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	atomic_restore(a);
	return 0;
}

static int check_signal(struct vmet_err *err)
{
	if (got_signal)
		return vmet_errf(err, VMET_EINTR, "interrupted by signal %d: the partial file was removed",
				 (int)got_signal);
	return 0;
}

/* --- buffered sequential writer ----------------------------------------- */

#define WBUF (1u << 20)

struct writer {
	int fd;
	uint64_t off;		/* file offset of the next byte */
	uint8_t *buf;
	size_t used;
};

static int w_flush(struct writer *w, struct vmet_err *err)
{
	size_t done = 0;

	while (done < w->used) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0 && errno == EINTR) {
			if (check_signal(err))
				return VMET_EINTR;
			continue;
		}
		if (n <= 0)
			return vmet_errf(err, VMET_EIO, "write failed at file offset 0x%" PRIx64 ": %s",
					 w->off - w->used + done, n < 0 ? strerror(errno) : "no progress");
		done += (size_t)n;
	}
	w->used = 0;
	return 0;
}

static int w_put(struct writer *w, const void *data, size_t len, struct vmet_err *err)
{
	const uint8_t *p = data;

	while (len) {
		size_t n = WBUF - w->used < len ? WBUF - w->used : len;

		memcpy(w->buf + w->used, p, n);
		w->used += n;
		w->off += n;
		p += n;
		len -= n;
		if (w->used == WBUF && w_flush(w, err))
			return err ? err->code : VMET_EIO;
	}
	return 0;
}

/* --- growable byte buffers for the sections ----------------------------- */

struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static int b_put(struct bytes *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

static int b_u16(struct bytes *b, uint16_t v) { return b_put(b, &v, 2); }
static int b_u32(struct bytes *b, uint32_t v) { return b_put(b, &v, 4); }
static int b_u64(struct bytes *b, uint64_t v) { return b_put(b, &v, 8); }

static int b_meta(struct bytes *b, const char *key, const char *val)
{
	int rc = b_put(b, key, strlen(key)) | b_put(b, "=", 1);

	for (const char *p = val ? val : ""; *p && !rc; p++) {
		if (*p == '\\')
			rc = b_put(b, "\\\\", 2);
		else if (*p == '\n')
			rc = b_put(b, "\\n", 2);
		else
			rc = b_put(b, p, 1);
	}
	return rc | b_put(b, "\n", 1);
}

/* --- pages of a source, in ascending order ------------------------------ */

#define PFN_LIMIT (1ull << 52)

struct page_iter {
	const struct phys_source *src;
	size_t ri;		/* first range ending after the current page's start */
	uint64_t pfn;
	bool started;
};

static bool page_next(struct page_iter *it, uint64_t *pfn)
{
	const struct phys_source *src = it->src;
	uint64_t next;

	if (!it->started) {
		if (!src->nranges)
			return false;
		it->started = true;
		it->pfn = src->ranges[0].start / VMSNAP_PAGE;
		*pfn = it->pfn;
		return true;
	}
	next = it->pfn + 1;
	if (next >= PFN_LIMIT)
		return false;
	while (it->ri < src->nranges && src->ranges[it->ri].end <= next * VMSNAP_PAGE)
		it->ri++;
	if (it->ri == src->nranges)
		return false;
	if (src->ranges[it->ri].start / VMSNAP_PAGE > next)
		next = src->ranges[it->ri].start / VMSNAP_PAGE;
	it->pfn = next;
	*pfn = next;
	return true;
}

/*
 * Read the in-range bytes of the page at pfn into buf (zeroed by the
 * caller, so bytes outside every range stay zero) and append the in-range
 * pieces to `pieces` when non-NULL.
 */
static int page_fill(struct phys_source *src, const struct page_iter *it, uint64_t pfn,
		     uint8_t *buf, struct bytes *pieces, uint64_t *bytes_in, struct vmet_err *err)
{
	uint64_t ps = pfn * VMSNAP_PAGE, pe = ps + VMSNAP_PAGE;

	for (size_t i = it->ri; i < src->nranges && src->ranges[i].start < pe; i++) {
		uint64_t s = src->ranges[i].start > ps ? src->ranges[i].start : ps;
		uint64_t e = src->ranges[i].end < pe ? src->ranges[i].end : pe;
		int rc;

		if (e <= s)
			continue;
		rc = phys_read(src, s, buf + (s - ps), e - s, err);
		if (rc)
			return vmet_err_prefix(err, rc, "reading physical 0x%" PRIx64, s);
		*bytes_in += e - s;
		if (pieces && (b_u64(pieces, s) || b_u64(pieces, e)))
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	return 0;
}

static bool is_zero(const uint8_t *p)
{
	static const uint8_t zero[VMSNAP_PAGE];

	return !memcmp(p, zero, VMSNAP_PAGE);
}

/* --- progress ---------------------------------------------------------- */

struct progress {
	bool on;
	int last;
	uint64_t total;
};

static void progress_show(struct progress *p, uint64_t done)
{
	int pct;

	if (!p->on || !p->total)
		return;
	pct = (int)(done * 100 / p->total);
	if (pct == p->last)
		return;
	p->last = pct;
	fprintf(stderr, "\rvmet dump: %3d%%", pct);
	if (pct == 100)
		fputc('\n', stderr);
}

static void progress_end(struct progress *p)
{
	if (p->on && p->last >= 0 && p->last < 100)
		fputc('\n', stderr);
}

/* --- the snapshot writer ------------------------------------------------ */

struct snap_state {
	struct writer w;
	z_stream z;
	bool z_ready;
	EVP_MD_CTX *pages_sha;
	uint8_t *chunk, *cbuf;
	size_t cbuf_size;
	unsigned ppc, in_chunk;
	int level;
	struct bytes chunks, extents, pieces;
	uint64_t nchunks, stored, ext_first, ext_n, n_ext;
};

static int flush_chunk(struct snap_state *s, struct vmet_err *err)
{
	size_t raw = (size_t)s->in_chunk * VMSNAP_PAGE, csize;
	uint16_t enc = VMSNAP_ENC_ZLIB;
	const uint8_t *out = s->cbuf;
	int zrc;

	if (!s->in_chunk)
		return 0;
	if (!EVP_DigestUpdate(s->pages_sha, s->chunk, raw))
		return vmet_errf(err, VMET_EIO, "SHA-256 failed (libcrypto)");
	deflateReset(&s->z);
	s->z.next_in = s->chunk;
	s->z.avail_in = (uInt)raw;
	s->z.next_out = s->cbuf;
	s->z.avail_out = (uInt)s->cbuf_size;
	zrc = deflate(&s->z, Z_FINISH);
	if (zrc != Z_STREAM_END)
		return vmet_errf(err, VMET_EIO, "zlib deflate failed on chunk %" PRIu64 ": %s",
				 s->nchunks, zError(zrc));
	csize = s->cbuf_size - s->z.avail_out;
	/* Incompressible data is kept as it is: no bigger, and mappable. */
	if (csize >= raw) {
		enc = VMSNAP_ENC_STORED;
		csize = raw;
		out = s->chunk;
	}
	if (b_u64(&s->chunks, s->w.off) || b_u32(&s->chunks, (uint32_t)csize) ||
	    b_u16(&s->chunks, enc) || b_u16(&s->chunks, 0))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	if (w_put(&s->w, out, csize, err))
		return err ? err->code : VMET_EIO;
	s->nchunks++;
	s->in_chunk = 0;
	return 0;
}

static int end_extent(struct snap_state *s, struct vmet_err *err)
{
	if (!s->ext_n)
		return 0;
	if (b_u64(&s->extents, s->ext_first) || b_u64(&s->extents, s->ext_n) ||
	    b_u64(&s->extents, s->stored - s->ext_n))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	s->n_ext++;
	s->ext_n = 0;
	return 0;
}

/* Append a stored page (already in s->chunk at slot in_chunk). */
static int store_page(struct snap_state *s, uint64_t pfn, struct vmet_err *err)
{
	if (s->ext_n && pfn != s->ext_first + s->ext_n && end_extent(s, err))
		return err ? err->code : VMET_ENOMEM;
	if (!s->ext_n)
		s->ext_first = pfn;
	s->ext_n++;
	s->stored++;
	if (++s->in_chunk == s->ppc)
		return flush_chunk(s, err);
	return 0;
}

static int build_vcpus(struct bytes *b, const struct vcpu_set *set)
{
	int rc = 0;

	for (size_t i = 0; set && i < set->n && !rc; i++) {
		const struct vcpu_record *v = &set->v[i];

		rc = b_u32(b, v->layer) | b_u32(b, v->guest) | b_u32(b, v->vcpu) |
		     b_u32(b, v->mode) | b_u32(b, v->cr3_origin) | b_u32(b, v->regs_origin) |
		     b_u32(b, v->s2_type) | b_u32(b, v->s2_mode) | b_u32(b, v->s2_origin) |
		     b_u32(b, 0) | b_u64(b, v->cr0) | b_u64(b, v->cr3) | b_u64(b, v->cr4) |
		     b_u64(b, v->efer) | b_u64(b, v->s2_root) | b_u64(b, v->rip) |
		     b_u64(b, v->time_ns) | b_u64(b, v->where);
	}
	return rc;
}

static int build_meta(struct bytes *b, const struct phys_source *src,
		      const struct vmsnap_write_opts *o)
{
	char when[64], unix_s[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(unix_s, sizeof(unix_s), "%lld", (long long)now);
	rc = b_meta(b, "created", when) | b_meta(b, "created_unix", unix_s) |
	     b_meta(b, "vmet_version", VMET_VERSION) |
	     b_meta(b, "source", o->source_desc ? o->source_desc :
		    src->description ? src->description : "") |
	     b_meta(b, "source_format", src->format ? src->format : "");
	if (o->banner)
		rc |= b_meta(b, "banner", o->banner);
	for (size_t i = 0; i < o->nmeta; i++)
		if (o->meta[i].key && strlen(o->meta[i].key) && !strpbrk(o->meta[i].key, "=\n"))
			rc |= b_meta(b, o->meta[i].key, o->meta[i].value);
	return rc;
}

static int put_section(struct writer *w, struct bytes *dir, uint32_t type, const void *data,
		       size_t len, uint64_t count, struct vmet_err *err)
{
	uint64_t off = w->off;

	if (w_put(w, data, len, err))
		return err ? err->code : VMET_EIO;
	if (b_u32(dir, type) || b_u32(dir, 0) || b_u64(dir, off) || b_u64(dir, len) ||
	    b_u64(dir, count))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}

/* Merge the in-range pieces of kept pages into the output memory map. */
static int pieces_to_ranges(const struct bytes *pieces, struct bytes *ranges)
{
	const uint8_t *p = pieces->p;
	size_t n = pieces->len / 16;
	uint64_t cs = 0, ce = 0;
	bool open_ = false;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t s, e;

		memcpy(&s, p + i * 16, 8);
		memcpy(&e, p + i * 16 + 8, 8);
		if (open_ && s == ce) {
			ce = e;
			continue;
		}
		if (open_)
			rc = b_u64(ranges, cs) | b_u64(ranges, ce);
		cs = s;
		ce = e;
		open_ = true;
	}
	if (open_ && !rc)
		rc = b_u64(ranges, cs) | b_u64(ranges, ce);
	return rc;
}

int vmsnap_write(struct phys_source *src, const char *path,
		 const struct vmsnap_write_opts *o, struct vmsnap_write_stats *st,
		 struct vmet_err *err)
{
	static const struct vmsnap_write_opts defaults;
	struct vmsnap_write_stats dummy;
	struct snap_state s = { 0 };
	struct atomic_out a;
	struct bytes ranges = { 0 }, vcpus = { 0 }, meta = { 0 }, dir = { 0 }, chdr = { 0 };
	struct vmsnap_digest_parts parts = { 0 };
	struct page_iter it = { .src = src };
	struct progress prog = { .last = -1 };
	uint8_t header[VMSNAP_HEADER_SIZE] = { 0 };
	const char *vmci;
	uint64_t pfn, pd_off, pd_len, nranges;
	int rc;

	if (!o)
		o = &defaults;
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	vmci = o->vmcoreinfo ? o->vmcoreinfo : src->vmcoreinfo;
	s.ppc = o->pages_per_chunk ? o->pages_per_chunk : VMSNAP_DEFAULT_PPC;
	s.level = o->level ? o->level : 1;
	if (s.ppc > VMSNAP_MAX_PPC || s.level < 1 || s.level > 9)
		return vmet_errf(err, VMET_EINVAL, "pages per chunk must be 1..%u and level 1..9",
				 VMSNAP_MAX_PPC);
	if (!src->nranges)
		return vmet_errf(err, VMET_EINVAL, "the source has no memory to write");
	if (vmci && strlen(vmci) > VMSNAP_MAX_TEXT)
		return vmet_errf(err, VMET_ELIMIT, "VMCOREINFO text is larger than %u bytes",
				 VMSNAP_MAX_TEXT);
	rc = atomic_open(&a, path, err);
	if (rc)
		return rc;
	s.w.fd = a.fd;
	s.w.buf = malloc(WBUF);
	s.chunk = malloc((size_t)s.ppc * VMSNAP_PAGE);
	s.cbuf_size = compressBound((uLong)s.ppc * VMSNAP_PAGE);
	s.cbuf = malloc(s.cbuf_size);
	s.pages_sha = EVP_MD_CTX_new();
	if (!s.w.buf || !s.chunk || !s.cbuf || !s.pages_sha ||
	    !EVP_DigestInit_ex(s.pages_sha, EVP_sha256(), NULL)) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto fail;
	}
	if (deflateInit(&s.z, s.level) != Z_OK) {
		rc = vmet_errf(err, VMET_ENOMEM, "zlib: cannot initialise deflate");
		goto fail;
	}
	s.z_ready = true;
	/* The header is written last, when its fields are known. */
	if ((rc = w_put(&s.w, header, sizeof(header), err)))
		goto fail;
	pd_off = s.w.off;
	prog.on = o->progress;
	/* Counted in pages visited, so that skipped pages advance it too. */
	for (size_t i = 0; i < src->nranges; i++)
		prog.total += (src->ranges[i].end - 1) / VMSNAP_PAGE - src->ranges[i].start / VMSNAP_PAGE + 1;
	while (page_next(&it, &pfn)) {
		uint8_t *slot = s.chunk + (size_t)s.in_chunk * VMSNAP_PAGE;

		if ((rc = check_signal(err)))
			goto fail;
		st->pages_seen++;
		if (o->keep_page && !o->keep_page(o->keep_ctx, pfn * VMSNAP_PAGE)) {
			st->pages_skipped++;
			progress_show(&prog, st->pages_seen);
			continue;
		}
		memset(slot, 0, VMSNAP_PAGE);
		rc = page_fill(src, &it, pfn, slot, o->keep_page ? &s.pieces : NULL, &st->bytes_in, err);
		if (rc)
			goto fail;
		if (is_zero(slot)) {
			st->pages_zero++;
		} else if ((rc = store_page(&s, pfn, err))) {
			goto fail;
		}
		progress_show(&prog, st->pages_seen);
	}
	progress_end(&prog);
	if ((rc = flush_chunk(&s, err)) || (rc = end_extent(&s, err)))
		goto fail;
	pd_len = s.w.off - pd_off;
	if (o->keep_page) {
		if (pieces_to_ranges(&s.pieces, &ranges)) {
			rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
			goto fail;
		}
		if (!ranges.len) {
			rc = vmet_errf(err, VMET_EINVAL, "no page was selected: the snapshot would "
				       "hold no memory");
			goto fail;
		}
	} else {
		for (size_t i = 0; i < src->nranges; i++)
			if (b_u64(&ranges, src->ranges[i].start) || b_u64(&ranges, src->ranges[i].end)) {
				rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
				goto fail;
			}
	}
	nranges = ranges.len / VMSNAP_RANGE_SIZE;
	if (b_u32(&chdr, VMSNAP_PAGE) || b_u32(&chdr, s.ppc) || b_u64(&chdr, s.stored) ||
	    b_put(&chdr, s.chunks.p, s.chunks.len) ||
	    build_vcpus(&vcpus, o->vcpus ? o->vcpus : &src->vcpus) || build_meta(&meta, src, o)) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto fail;
	}
	if (b_u32(&dir, VMSNAP_SEC_PAGEDATA) || b_u32(&dir, 0) || b_u64(&dir, pd_off) ||
	    b_u64(&dir, pd_len) || b_u64(&dir, s.nchunks)) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = put_section(&s.w, &dir, VMSNAP_SEC_RANGES, ranges.p, ranges.len, nranges, err)) ||
	    (rc = put_section(&s.w, &dir, VMSNAP_SEC_EXTENTS, s.extents.p, s.extents.len, s.n_ext, err)) ||
	    (rc = put_section(&s.w, &dir, VMSNAP_SEC_CHUNKS, chdr.p, chdr.len, s.nchunks, err)) ||
	    (rc = put_section(&s.w, &dir, VMSNAP_SEC_VCPUS, vcpus.p, vcpus.len,
			      vcpus.len / VMSNAP_VCPU_SIZE, err)) ||
	    (vmci && (rc = put_section(&s.w, &dir, VMSNAP_SEC_VMCOREINFO, vmci, strlen(vmci), 0, err))) ||
	    (rc = put_section(&s.w, &dir, VMSNAP_SEC_META, meta.p, meta.len, 0, err)))
		goto fail;
	/* The digest (vmet-snapshot(5), "Digest"). */
	if (!EVP_DigestFinal_ex(s.pages_sha, parts.page_digest, NULL)) {
		rc = vmet_errf(err, VMET_EIO, "SHA-256 failed (libcrypto)");
		goto fail;
	}
	parts.sec[0] = ranges.p;  parts.len[0] = ranges.len;
	parts.sec[1] = s.extents.p; parts.len[1] = s.extents.len;
	parts.sec[2] = vcpus.p;   parts.len[2] = vcpus.len;
	parts.sec[3] = vmci;      parts.len[3] = vmci ? strlen(vmci) : 0;
	parts.sec[4] = meta.p;    parts.len[4] = meta.len;
	if ((rc = vmsnap_digest(&parts, st->digest, err)))
		goto fail;
	{
		uint64_t dir_off = s.w.off, fsize = dir_off + dir.len;
		uint32_t v32;

		if ((rc = w_put(&s.w, dir.p, dir.len, err)) || (rc = w_flush(&s.w, err)))
			goto fail;
		memcpy(header, VMSNAP_MAGIC, 8);
		v32 = VMSNAP_VERSION;
		memcpy(header + 8, &v32, 4);
		v32 = VMSNAP_HEADER_SIZE;
		memcpy(header + 12, &v32, 4);
		memcpy(header + 16, &fsize, 8);
		memcpy(header + 24, &dir_off, 8);
		v32 = (uint32_t)(dir.len / VMSNAP_DIRENT_SIZE);
		memcpy(header + 32, &v32, 4);
		memcpy(header + VMSNAP_DIGEST_OFF, st->digest, 32);
		if (pwrite(a.fd, header, sizeof(header), 0) != (ssize_t)sizeof(header)) {
			rc = vmet_errf(err, VMET_EIO, "writing the header of %s: %s", path, strerror(errno));
			goto fail;
		}
		st->file_size = fsize;
	}
	st->pages_stored = s.stored;
	st->chunks = s.nchunks;
	rc = atomic_commit(&a, err);
	goto out;
fail:
	progress_end(&prog);
	atomic_abort(&a);
out:
	if (s.z_ready)
		deflateEnd(&s.z);
	EVP_MD_CTX_free(s.pages_sha);
	free(s.w.buf);
	free(s.chunk);
	free(s.cbuf);
	free(s.chunks.p);
	free(s.extents.p);
	free(s.pieces.p);
	free(ranges.p);
	free(vcpus.p);
	free(meta.p);
	free(dir.p);
	free(chdr.p);
	return rc;
}

/* --- raw export ---------------------------------------------------------- */

#define RAW_BLOCK (1u << 20)

int raw_export(struct phys_source *src, const char *path, uint64_t max_end, bool progress,
	       struct vmsnap_write_stats *st, struct vmet_err *err)
{
	struct vmsnap_write_stats dummy;
	struct progress prog = { .on = progress, .last = -1, .total = phys_total_size(src) };
	struct atomic_out a;
	uint8_t *buf;
	uint64_t end;
	int rc;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (!src->nranges)
		return vmet_errf(err, VMET_EINVAL, "the source has no memory");
	end = src->ranges[src->nranges - 1].end;
	if (max_end && end > max_end)
		return vmet_errf(err, VMET_ELIMIT, "memory reaches physical 0x%" PRIx64 ", beyond the "
				 "0x%" PRIx64 " a raw image may span here", end, max_end);
	buf = malloc(RAW_BLOCK);
	if (!buf)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = atomic_open(&a, path, err);
	if (rc) {
		free(buf);
		return rc;
	}
	/* Holes and zero pages stay sparse: file offset == physical address. */
	if (ftruncate(a.fd, (off_t)end) < 0) {
		rc = vmet_errf(err, VMET_EIO, "%s: cannot size the image to 0x%" PRIx64 ": %s",
			       path, end, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < src->nranges; i++) {
		for (uint64_t addr = src->ranges[i].start; addr < src->ranges[i].end;) {
			size_t n = src->ranges[i].end - addr < RAW_BLOCK ?
				   (size_t)(src->ranges[i].end - addr) : RAW_BLOCK;
			size_t p = 0;

			if ((rc = check_signal(err)))
				goto fail;
			if ((rc = phys_read(src, addr, buf, n, err))) {
				vmet_err_prefix(err, rc, "reading physical 0x%" PRIx64, addr);
				goto fail;
			}
			/* Write runs of non-zero pages; zero runs stay holes. */
			while (p < n) {
				size_t q = p, len;

				while (q < n) {
					size_t step = n - q < VMSNAP_PAGE ? n - q : VMSNAP_PAGE;
					static const uint8_t zero[VMSNAP_PAGE];

					if (!memcmp(buf + q, zero, step))
						break;
					q += step;
				}
				len = q - p;
				if (len && pwrite(a.fd, buf + p, len, (off_t)(addr + p)) != (ssize_t)len) {
					rc = vmet_errf(err, VMET_EIO, "%s: write at offset 0x%" PRIx64
						       " failed: %s", path, addr + p, strerror(errno));
					goto fail;
				}
				st->pages_stored += (len + VMSNAP_PAGE - 1) / VMSNAP_PAGE;
				if (q < n) {
					size_t step = n - q < VMSNAP_PAGE ? n - q : VMSNAP_PAGE;

					st->pages_zero++;
					q += step;
				}
				p = q;
			}
			st->bytes_in += n;
			addr += n;
			progress_show(&prog, st->bytes_in);
		}
	}
	progress_end(&prog);
	st->file_size = end;
	free(buf);
	return atomic_commit(&a, err);
fail:
	progress_end(&prog);
	free(buf);
	atomic_abort(&a);
	return rc;
}
