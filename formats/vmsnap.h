/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vmet snapshot format (.vmsnap), version 1, and its writer.
 * man/vmet-snapshot.5 is the normative description; this header is the
 * same layout as constants.  Everything is little-endian, no alignment.
 *
 *   header (96 bytes at offset 0)
 *     0  "VMETSNAP"        8  u32 version (1)     12 u32 header_size (96)
 *     16 u64 file_size     24 u64 dir_offset      32 u32 dir_count
 *     36 u32 flags (0)     40 u8 digest[32]       72 reserved (0) to 96
 *   directory: dir_count entries of 32 bytes
 *     u32 type, u32 flags (0), u64 offset, u64 size, u64 count
 *   sections (any order in the file, each at most once):
 *     META       "key=value\n" text (acquisition metadata)
 *     RANGES     count x {u64 start, u64 end}: the memory map, [start, end)
 *     EXTENTS    count x {u64 first_pfn, u64 npages, u64 first_ordinal}:
 *                runs of stored (non-zero) 4 KiB pages; the stored pages
 *                are numbered 0.. in physical order ("ordinals")
 *     CHUNKS     {u32 page_size (4096), u32 pages_per_chunk, u64 stored_pages}
 *                then count x {u64 file_offset, u32 csize, u16 encoding,
 *                u16 reserved}: chunk k holds ordinals
 *                [k*ppc, min((k+1)*ppc, stored_pages))
 *     VCPUS      count x 104-byte records (VMSNAP_VCPU_* offsets)
 *     VMCOREINFO the source's VMCOREINFO text
 *     PAGEDATA   the chunks' bytes
 *   A page of a range that no extent covers is all zero.
 */
#ifndef VMET_FORMATS_VMSNAP_H
#define VMET_FORMATS_VMSNAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/phys.h"

#define VMSNAP_MAGIC "VMETSNAP"
#define VMSNAP_VERSION 1u
#define VMSNAP_HEADER_SIZE 96u
#define VMSNAP_DIGEST_OFF 40u
#define VMSNAP_DIRENT_SIZE 32u
#define VMSNAP_MAX_SECTIONS 64u
#define VMSNAP_PAGE 4096u
#define VMSNAP_DEFAULT_PPC 16u		/* 64 KiB of page data per chunk */
#define VMSNAP_MAX_PPC 1024u

enum vmsnap_section {
	VMSNAP_SEC_META = 1,
	VMSNAP_SEC_RANGES = 2,
	VMSNAP_SEC_EXTENTS = 3,
	VMSNAP_SEC_CHUNKS = 4,
	VMSNAP_SEC_VCPUS = 5,
	VMSNAP_SEC_VMCOREINFO = 6,
	VMSNAP_SEC_PAGEDATA = 7,
};

#define VMSNAP_RANGE_SIZE 16u
#define VMSNAP_EXTENT_SIZE 24u
#define VMSNAP_CHUNKHDR_SIZE 16u
#define VMSNAP_CHUNK_SIZE 16u
#define VMSNAP_ENC_ZLIB 0u		/* RFC 1950 zlib stream */
#define VMSNAP_ENC_STORED 1u		/* page bytes as they are */

/* A vCPU record: u32 fields, then u64 fields. */
#define VMSNAP_VCPU_SIZE 104u
#define VMSNAP_VCPU_LAYER 0
#define VMSNAP_VCPU_GUEST 4
#define VMSNAP_VCPU_VCPU 8
#define VMSNAP_VCPU_MODE 12
#define VMSNAP_VCPU_CR3_ORIGIN 16
#define VMSNAP_VCPU_REGS_ORIGIN 20
#define VMSNAP_VCPU_S2_TYPE 24
#define VMSNAP_VCPU_S2_MODE 28
#define VMSNAP_VCPU_S2_ORIGIN 32
/* 36: u32 reserved (0) */
#define VMSNAP_VCPU_CR0 40
#define VMSNAP_VCPU_CR3 48
#define VMSNAP_VCPU_CR4 56
#define VMSNAP_VCPU_EFER 64
#define VMSNAP_VCPU_S2_ROOT 72
#define VMSNAP_VCPU_RIP 80
#define VMSNAP_VCPU_TIME 88
#define VMSNAP_VCPU_WHERE 96

#define VMSNAP_MAX_VCPUS 65536u
#define VMSNAP_MAX_TEXT (1u << 20)	/* META and VMCOREINFO */

/* --- reading (vmsnap_open() is in formats/source.h) ------------------- */

/* The META text of a snapshot source, or NULL for other sources. */
const char *vmsnap_meta(const struct phys_source *src);
/*
 * Value of a META key, unescaped into buf (always terminated).  Returns the
 * value's length or VMET_ENOTFOUND.
 */
int vmsnap_meta_get(const struct phys_source *src, const char *key, char *buf, size_t size);

struct vmsnap_info {
	uint32_t version;
	uint64_t file_size;
	uint32_t pages_per_chunk;
	uint64_t stored_pages;		/* non-zero pages kept */
	uint64_t nchunks, nextents;
	uint64_t compressed_bytes;	/* PAGEDATA size */
	uint8_t digest[32];		/* as stored in the header */
};
/* Layout figures of a snapshot source; VMET_EINVAL for other sources. */
int vmsnap_get_info(const struct phys_source *src, struct vmsnap_info *info,
		    struct vmet_err *err);

/*
 * Recompute the digest over the whole content (every chunk decompressed)
 * into `computed`.  Returns 0 when it equals the stored one, VMET_EMISMATCH
 * when not, or the error that stopped the check (a corrupt chunk).
 */
int vmsnap_verify(struct phys_source *src, uint8_t computed[32], struct vmet_err *err);

/* --- writing ----------------------------------------------------------- */

struct vmsnap_meta_kv {
	const char *key, *value;
};

/* Decide whether the page at a 4 KiB-aligned address is written. */
typedef bool (*vmsnap_keep_fn)(void *ctx, uint64_t page_addr);

struct vmsnap_write_opts {
	const struct vcpu_set *vcpus;	/* records to store; NULL = src->vcpus */
	const char *vmcoreinfo;		/* NULL = src->vmcoreinfo */
	const char *source_desc;	/* NULL = src->description */
	const char *banner;		/* kernel banner if the caller found one */
	const struct vmsnap_meta_kv *meta; /* more META lines */
	size_t nmeta;
	/*
	 * With keep_page, only the pages it accepts are written and the
	 * memory map shrinks to them: a page left out reads as a hole, not
	 * as zeros (a minimal snapshot must not invent memory).
	 */
	vmsnap_keep_fn keep_page;
	void *keep_ctx;
	int level;			/* zlib level 1..9; 0 = 1 (fast) */
	unsigned pages_per_chunk;	/* 0 = VMSNAP_DEFAULT_PPC */
	bool progress;			/* percentage on stderr */
};

struct vmsnap_write_stats {
	uint64_t bytes_in;		/* bytes of memory read from the source */
	uint64_t pages_seen, pages_zero, pages_stored, pages_skipped;
	uint64_t chunks, file_size;
	uint8_t digest[32];
};

/*
 * Write `src` as a snapshot at `path`, atomically: the data goes to a
 * temporary file in the same directory, which is fsync'd and renamed over
 * `path` only when complete.  On any error, or SIGINT/SIGTERM/SIGHUP
 * (VMET_EINTR), the temporary file is removed.  A live source is read as
 * it is: pausing it for a consistent image is the caller's choice.
 */
int vmsnap_write(struct phys_source *src, const char *path,
		 const struct vmsnap_write_opts *o, struct vmsnap_write_stats *st,
		 struct vmet_err *err);

/*
 * Write `src` as a raw image (file offset == physical address; holes and
 * zero pages left sparse), with the same atomicity.  Ranges above
 * max_end (0 = no limit) are refused rather than creating a huge file.
 */
int raw_export(struct phys_source *src, const char *path, uint64_t max_end, bool progress,
	       struct vmsnap_write_stats *st, struct vmet_err *err);

/*
 * The digest rule, shared by writer and reader: SHA-256 over the 8 bytes
 * "VMSNAP1\0"; then for RANGES, EXTENTS, VCPUS, VMCOREINFO and META, in
 * that order, a u64 byte length and the section's bytes (length 0 when
 * absent); then the 32-byte SHA-256 of every stored page, 4096 bytes each,
 * uncompressed, in ordinal order.
 */
enum { VMSNAP_DIGEST_PARTS = 5 };
struct vmsnap_digest_parts {
	const void *sec[VMSNAP_DIGEST_PARTS];
	uint64_t len[VMSNAP_DIGEST_PARTS];
	uint8_t page_digest[32];
};
int vmsnap_digest(const struct vmsnap_digest_parts *p, uint8_t out[32], struct vmet_err *err);

/* SHA-256 digest as 64 hex characters + NUL. */
void vmsnap_digest_hex(const uint8_t d[32], char out[65]);

#endif
