/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BTF, the kernel's own compact type information (CONFIG_DEBUG_INFO_BTF):
 * validating a blob and building profile structs from it.
 *
 * The blob comes from guest memory or from a file, so it is hostile:
 * btf_parse() checks the header, that the type and string sections lie in
 * the buffer, that every type record, every type id and every name offset
 * is in range, and caps the number of types and members.  Everything that
 * follows references (typedef/const/volatile chains, arrays of arrays,
 * anonymous members) is depth-bounded, so a cycle forged into the blob is
 * an error (VMET_ELOOP), not a hang.  The work done is linear in the blob's
 * size plus the structs asked for.
 *
 * What the profile gets for a struct is the same as the DWARF builder gives:
 * its size and every member, members of anonymous structs and unions
 * flattened into the parent with absolute offsets, array members with their
 * whole size, bit-fields as (byte offset, bit within that byte, bit count)
 * with a size covering the bytes they span.
 */
#ifndef VMET_PROFILES_BTF_H
#define VMET_PROFILES_BTF_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "profiles/profile.h"

#define BTF_MAGIC		0xeb9f
#define BTF_VERSION		1
#define BTF_HEADER_MIN		24		/* bytes of struct btf_header in version 1 */
#define BTF_HEADER_MAX		256		/* a longer hdr_len is not a BTF header */
#define BTF_MAX_LEN		(256u << 20)	/* a 6.1 vmlinux blob is about 5 MiB */
#define BTF_MAX_TYPES		(1u << 21)	/* a 6.1 vmlinux has about 130 000 */
#define BTF_MAX_VLEN		0xffffu		/* the 16-bit field's own limit */
#define BTF_MAX_REF_DEPTH	32		/* typedef/const/volatile/array chain */
#define BTF_MAX_NEST		16		/* anonymous struct/union in anonymous... */

/* A validated blob (owns a copy of the bytes). */
struct btf;

/*
 * Validate `len` bytes at `buf` as a BTF blob and index its types.  The
 * bytes are copied; buf may be freed afterwards.  VMET_EFORMAT names the
 * header field, type id or byte offset that is wrong, VMET_ELIMIT the cap
 * exceeded, VMET_EUNSUPPORTED a big-endian blob.
 */
int btf_parse(const void *buf, size_t len, struct btf **out, struct vmet_err *err);
void btf_free(struct btf *b);

/* Number of types (ids 1..count; id 0 is void). */
uint32_t btf_type_count(const struct btf *b);

/*
 * Bytes in a pointer, as the blob's own "long" says (8 on x86-64, 4 on
 * i386; 8 when the blob names no long).
 */
unsigned btf_pointer_size(const struct btf *b);

/*
 * Quick check that `len` bytes at `buf` start with a plausible BTF header
 * (magic, version, hdr_len, sections within len) without indexing types:
 * used to scan memory for a blob.  On success *total is the blob's length
 * (header + the end of its last section).
 */
int btf_header_check(const void *buf, size_t len, size_t *total,
		     struct vmet_err *err);

/*
 * The id of the struct (or union) definition called `name`, or 0 when the
 * blob has none (forward declarations do not count).  A typedef name of a
 * struct counts when no struct has the name (kuid_t, spinlock_t).  When
 * several definitions share a name, the one with the lowest id wins, which
 * is the one the kernel's own BTF dedup keeps for core kernel types.
 */
uint32_t btf_find_struct(const struct btf *b, const char *name);

/*
 * Add struct `name` to p: its size and every member, flattened as described
 * above.  VMET_ENOTFOUND when the blob has no such struct; VMET_ELOOP,
 * VMET_ELIMIT or VMET_EFORMAT when following its members runs into a cycle,
 * a cap or a malformed type (the message names the struct, member and id).
 */
int btf_add_struct(const struct btf *b, const char *name, struct profile *p,
		   struct vmet_err *err);

/*
 * Size in bytes of the type with this id after following typedefs,
 * qualifiers and arrays (0 for void, functions and forward declarations).
 */
int btf_type_size(const struct btf *b, uint32_t id, uint64_t *size,
		  struct vmet_err *err);

#endif
