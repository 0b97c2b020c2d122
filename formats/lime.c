// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LiME (Linux Memory Extractor) files: a sequence of ranges, each a 32-byte
 * header followed by the range's bytes.
 *
 *   u32 magic 0x4C694D45 ("EMiL" on disk)   u32 version (1)
 *   u64 s_addr (first physical byte)         u64 e_addr (last byte, inclusive)
 *   u8  reserved[8]
 *
 * Every header is checked before its range is trusted; the file must end
 * exactly after the last range.
 */
#include "core/bytes.h"
#include "formats/source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIME_MAGIC 0x4C694D45u
#define LIME_VERSION 1u
#define LIME_HDR 32u
#define LIME_MAX_RANGES (1u << 20)


int lime_open(const char *path, struct phys_source **out, struct vmet_err *err)
{
	struct mapped_file mf;
	struct file_segment *segs = NULL;
	size_t n = 0, cap = 0;
	uint64_t off = 0;
	struct phys_source *src;
	int rc;

	rc = mapped_file_open(path, &mf, err);
	if (rc)
		return rc;
	while (off < mf.size) {
		const uint8_t *h = mf.map + off;
		uint32_t magic, version;
		uint64_t s, e, len;

		if (mf.size - off < LIME_HDR) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: LiME header at offset 0x%" PRIx64
				       " is cut short: %" PRIu64 " of %u bytes (truncated file?)",
				       path, off, mf.size - off, LIME_HDR);
			goto fail;
		}
		magic = le32(h);
		version = le32(h + 4);
		s = le64(h + 8);
		e = le64(h + 16);
		if (magic != LIME_MAGIC) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: bad LiME magic 0x%08" PRIx32
				       " at offset 0x%" PRIx64 " (expected 0x%08x)",
				       path, magic, off, LIME_MAGIC);
			goto fail;
		}
		if (version != LIME_VERSION) {
			rc = vmet_errf(err, VMET_EUNSUPPORTED, "%s: LiME header at offset 0x%" PRIx64
				       ": version %" PRIu32 " (only version 1 is defined)",
				       path, off, version);
			goto fail;
		}
		if (e < s || e == UINT64_MAX) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: LiME header at offset 0x%" PRIx64
				       ": end 0x%" PRIx64 " is below start 0x%" PRIx64
				       " (or wraps)", path, off, e, s);
			goto fail;
		}
		len = e - s + 1;
		if (len > mf.size - off - LIME_HDR) {
			rc = vmet_errf(err, VMET_EFORMAT, "%s: LiME range [0x%" PRIx64 ", 0x%" PRIx64
				       "] (header at offset 0x%" PRIx64 ") needs 0x%" PRIx64
				       " bytes but only 0x%" PRIx64 " remain in the file (truncated?)",
				       path, s, e, off, len, mf.size - off - LIME_HDR);
			goto fail;
		}
		if (n == LIME_MAX_RANGES) {
			rc = vmet_errf(err, VMET_ELIMIT, "%s: more than %u LiME ranges (header at 0x%"
				       PRIx64 ")", path, LIME_MAX_RANGES, off);
			goto fail;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct file_segment *ns = realloc(segs, nc * sizeof(*segs));

			if (!ns) {
				rc = vmet_errf(err, VMET_ENOMEM, "%s: out of memory", path);
				goto fail;
			}
			segs = ns;
			cap = nc;
		}
		segs[n++] = (struct file_segment){ .start = s, .end = e + 1, .offset = off + LIME_HDR,
						   .file_len = len, .hdr_offset = off };
		off += LIME_HDR + len;
	}
	rc = segfile_source_new("lime", &mf, segs, n, &src, err);
	if (rc)
		return rc;
	if (asprintf(&src->description, "LiME file %s (%zu ranges, %" PRIu64 " bytes)",
		     path, n, phys_total_size(src)) < 0)
		src->description = NULL;
	*out = src;
	return 0;
fail:
	free(segs);
	mapped_file_close(&mf);
	return rc;
}
