// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BTF blobs: validation, the type index, and struct layouts for profiles.
 *
 * Format facts (from the kernel's Documentation/bpf/btf.rst): a header
 * (magic 0xeB9F, version 1, hdr_len, then offsets and lengths of the type
 * and string sections counted from the end of the header), a type section
 * of variable-length records (12-byte common part: name offset, info word
 * with kind/vlen/kind_flag, size-or-type; then a kind-specific tail), and a
 * string section of NUL-terminated names starting with an empty one.
 */
#include "core/bytes.h"
#include "profiles/btf.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum btf_kind {
	KIND_UNKN = 0, KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION,
	KIND_ENUM, KIND_FWD, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST,
	KIND_RESTRICT, KIND_FUNC, KIND_FUNC_PROTO, KIND_VAR, KIND_DATASEC,
	KIND_FLOAT, KIND_DECL_TAG, KIND_TYPE_TAG, KIND_ENUM64,
	KIND_MAX = KIND_ENUM64
};

static const char *const kind_names[] = {
	"unknown", "int", "ptr", "array", "struct", "union", "enum", "fwd",
	"typedef", "volatile", "const", "restrict", "func", "func_proto",
	"var", "datasec", "float", "decl_tag", "type_tag", "enum64",
};

#define TYPE_HDR 12u		/* name_off, info, size/type */
#define MAX_NAME_OFF 0x7fffffffu
/*
 * Member records visited while flattening one struct: a forged blob can
 * nest anonymous members so that their number grows exponentially with
 * depth; this keeps the work bounded whatever the nesting.
 */
#define MAX_FLATTEN_WORK (1u << 20)

struct name_idx {
	const char *name;
	uint32_t id;
};

struct btf {
	uint8_t *data;
	size_t len;
	const uint8_t *types;	/* type section */
	uint32_t types_len;
	const char *strs;	/* string section (ends with a NUL, checked) */
	uint32_t strs_len;
	uint32_t *off;		/* off[id]: byte offset of type id in types; off[0] unused */
	uint32_t n;		/* number of types */
	unsigned ptr_size;
	struct name_idx *sidx;	/* struct/union definitions by name, then id */
	size_t nsidx;
	struct name_idx *tidx;	/* typedefs, the same way */
	size_t ntidx;
};

static unsigned info_kind(uint32_t info) { return (info >> 24) & 0x1f; }
static unsigned info_vlen(uint32_t info) { return info & 0xffff; }
static bool info_kflag(uint32_t info) { return info >> 31; }

static const char *kind_name(unsigned k)
{
	return k <= KIND_MAX ? kind_names[k] : "?";
}

/* Bytes after the 12-byte common part of a record of this kind, or -1. */
static long tail_size(unsigned kind, unsigned vlen)
{
	switch (kind) {
	case KIND_INT: case KIND_VAR: case KIND_DECL_TAG:
		return 4;
	case KIND_ARRAY:
		return 12;
	case KIND_STRUCT: case KIND_UNION: case KIND_DATASEC: case KIND_ENUM64:
		return 12L * vlen;
	case KIND_ENUM: case KIND_FUNC_PROTO:
		return 8L * vlen;
	case KIND_PTR: case KIND_FWD: case KIND_TYPEDEF: case KIND_VOLATILE:
	case KIND_CONST: case KIND_RESTRICT: case KIND_FUNC: case KIND_FLOAT:
	case KIND_TYPE_TAG:
		return 0;
	}
	return -1;
}

/* ---- header ------------------------------------------------------------ */

struct hdr {
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
};

static int header_read(const uint8_t *p, size_t len, struct hdr *h, size_t *total,
		       struct vmet_err *err)
{
	uint64_t t_start, t_end, s_start, s_end;
	uint16_t magic;

	if (len < BTF_HEADER_MIN)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: %zu bytes, shorter than the %d-byte header",
				 len, BTF_HEADER_MIN);
	magic = le16(p);
	if (magic == 0x9feb)
		return vmet_errf(err, VMET_EUNSUPPORTED, "BTF: big-endian blob (magic 0x9feb)");
	if (magic != BTF_MAGIC)
		return vmet_errf(err, VMET_EFORMAT, "BTF: magic 0x%04x is not 0x%04x",
				 magic, BTF_MAGIC);
	if (p[2] != BTF_VERSION)
		return vmet_errf(err, VMET_EFORMAT, "BTF: version %u, only %d is known",
				 p[2], BTF_VERSION);
	h->hdr_len = le32(p + 4);
	h->type_off = le32(p + 8);
	h->type_len = le32(p + 12);
	h->str_off = le32(p + 16);
	h->str_len = le32(p + 20);
	if (h->hdr_len < BTF_HEADER_MIN || h->hdr_len > BTF_HEADER_MAX || h->hdr_len > len)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: hdr_len %" PRIu32 " outside %d..%d or beyond the %zu bytes",
				 h->hdr_len, BTF_HEADER_MIN, BTF_HEADER_MAX, len);
	/* A longer header from a newer producer is fine only if its extra fields are unused. */
	for (uint32_t i = BTF_HEADER_MIN; i < h->hdr_len; i++)
		if (p[i])
			return vmet_errf(err, VMET_EFORMAT,
					 "BTF: header byte %" PRIu32 " (beyond the known fields) is "
					 "0x%02x, not 0", i, p[i]);
	t_start = (uint64_t)h->hdr_len + h->type_off;
	t_end = t_start + h->type_len;
	s_start = (uint64_t)h->hdr_len + h->str_off;
	s_end = s_start + h->str_len;
	if (h->type_off % 4 || h->type_len % 4)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: type section at +%" PRIu32 " of %" PRIu32
				 " bytes is not 4-byte aligned", h->type_off, h->type_len);
	if (h->str_len == 0 || h->str_len > MAX_NAME_OFF + 1ull)
		return vmet_errf(err, VMET_EFORMAT, "BTF: string section of %" PRIu32 " bytes",
				 h->str_len);
	*total = t_end > s_end ? t_end : s_end;
	if (*total > len)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: sections end at byte %zu, beyond the %zu bytes given",
				 *total, len);
	if (*total > BTF_MAX_LEN)
		return vmet_errf(err, VMET_ELIMIT, "BTF: %zu bytes, above the cap of %u",
				 *total, BTF_MAX_LEN);
	if (t_start < s_end && s_start < t_end)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: type section [%" PRIu64 ", %" PRIu64 ") overlaps string "
				 "section [%" PRIu64 ", %" PRIu64 ")", t_start, t_end, s_start, s_end);
	if (p[s_start] != 0 || p[s_end - 1] != 0)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: string section [%" PRIu64 ", %" PRIu64 ") does not start "
				 "and end with a NUL", s_start, s_end);
	return 0;
}

int btf_header_check(const void *buf, size_t len, size_t *total, struct vmet_err *err)
{
	struct hdr h;

	return header_read(buf, len, &h, total, err);
}

/* ---- type index -------------------------------------------------------- */

static const uint8_t *type_at(const struct btf *b, uint32_t id)
{
	return b->types + b->off[id];
}

static const char *str_at(const struct btf *b, uint32_t off)
{
	/* Offsets were checked at parse time; strings end within the section. */
	return b->strs + off;
}

static int check_name_off(const struct btf *b, uint32_t id, uint32_t off, const char *what,
			  struct vmet_err *err)
{
	if (off >= b->strs_len)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: type %" PRIu32 ": %s name offset %" PRIu32
				 " beyond the %" PRIu32 "-byte string section",
				 id, what, off, b->strs_len);
	return 0;
}

static int check_ref(const struct btf *b, uint32_t id, uint32_t ref, const char *what,
		     struct vmet_err *err)
{
	if (ref > b->n)
		return vmet_errf(err, VMET_EFORMAT,
				 "BTF: type %" PRIu32 ": %s refers to type %" PRIu32
				 ", beyond the last id %" PRIu32, id, what, ref, b->n);
	return 0;
}

/* Pass 1: record where each type starts; checks that records fit. */
static int index_types(struct btf *b, struct vmet_err *err)
{
	uint32_t pos = 0, n = 0, cap = 0;

	while (pos < b->types_len) {
		uint32_t info;
		unsigned kind, vlen;
		long tail;

		if (b->types_len - pos < TYPE_HDR)
			return vmet_errf(err, VMET_EFORMAT,
					 "BTF: type %" PRIu32 " at type-section byte %" PRIu32
					 ": only %" PRIu32 " bytes left for its 12-byte header",
					 n + 1, pos, b->types_len - pos);
		info = le32(b->types + pos + 4);
		kind = info_kind(info);
		vlen = info_vlen(info);
		tail = tail_size(kind, vlen);
		if (kind == KIND_UNKN || tail < 0)
			return vmet_errf(err, kind > KIND_MAX ? VMET_EUNSUPPORTED : VMET_EFORMAT,
					 "BTF: type %" PRIu32 " at type-section byte %" PRIu32
					 ": kind %u is not known", n + 1, pos, kind);
		if ((uint64_t)tail > b->types_len - pos - TYPE_HDR)
			return vmet_errf(err, VMET_EFORMAT,
					 "BTF: type %" PRIu32 " (%s, vlen %u) at type-section byte %"
					 PRIu32 " runs past the section's end", n + 1,
					 kind_name(kind), vlen, pos);
		if (n + 1 >= BTF_MAX_TYPES)
			return vmet_errf(err, VMET_ELIMIT, "BTF: more than %u types", BTF_MAX_TYPES);
		if (n + 1 >= cap) {
			uint32_t ncap = cap ? cap * 2 : 4096;
			uint32_t *o = realloc(b->off, (size_t)ncap * sizeof(*o));

			if (!o)
				return vmet_errf(err, VMET_ENOMEM, "BTF: out of memory indexing types");
			b->off = o;
			cap = ncap;
		}
		b->off[++n] = pos;
		pos += TYPE_HDR + (uint32_t)tail;
	}
	b->n = n;
	return 0;
}

/* Pass 2: every name offset and type reference in range. */
static int check_types(struct btf *b, struct vmet_err *err)
{
	for (uint32_t id = 1; id <= b->n; id++) {
		const uint8_t *t = type_at(b, id);
		uint32_t info = le32(t + 4), st = le32(t + 8);
		unsigned kind = info_kind(info), vlen = info_vlen(info);
		const uint8_t *x = t + TYPE_HDR;

		if (check_name_off(b, id, le32(t), "its", err))
			return err ? err->code : VMET_EFORMAT;
		switch (kind) {
		case KIND_PTR: case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST:
		case KIND_RESTRICT: case KIND_FUNC: case KIND_VAR: case KIND_DECL_TAG:
		case KIND_TYPE_TAG: case KIND_FUNC_PROTO:
			if (check_ref(b, id, st, "its type", err))
				return err ? err->code : VMET_EFORMAT;
			break;
		case KIND_ARRAY:
			if (check_ref(b, id, le32(x), "the element type", err) ||
			    check_ref(b, id, le32(x + 4), "the index type", err))
				return err ? err->code : VMET_EFORMAT;
			break;
		}
		for (unsigned i = 0; i < vlen; i++) {
			switch (kind) {
			case KIND_STRUCT: case KIND_UNION:
				if (check_name_off(b, id, le32(x + 12 * i), "a member", err) ||
				    check_ref(b, id, le32(x + 12 * i + 4), "a member", err))
					return err ? err->code : VMET_EFORMAT;
				break;
			case KIND_ENUM:
				if (check_name_off(b, id, le32(x + 8 * i), "an enumerator", err))
					return err ? err->code : VMET_EFORMAT;
				break;
			case KIND_ENUM64:
				if (check_name_off(b, id, le32(x + 12 * i), "an enumerator", err))
					return err ? err->code : VMET_EFORMAT;
				break;
			case KIND_FUNC_PROTO:
				if (check_name_off(b, id, le32(x + 8 * i), "a parameter", err) ||
				    check_ref(b, id, le32(x + 8 * i + 4), "a parameter", err))
					return err ? err->code : VMET_EFORMAT;
				break;
			case KIND_DATASEC:
				if (check_ref(b, id, le32(x + 12 * i), "a variable", err))
					return err ? err->code : VMET_EFORMAT;
				break;
			}
		}
	}
	return 0;
}

static int cmp_name_idx(const void *a, const void *b)
{
	const struct name_idx *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool is_struct_kind(unsigned kind)
{
	return kind == KIND_STRUCT || kind == KIND_UNION;
}

static int index_names(struct btf *b, struct vmet_err *err)
{
	size_t ns = 0, nt = 0;

	for (uint32_t id = 1; id <= b->n; id++) {
		const uint8_t *t = type_at(b, id);
		unsigned kind = info_kind(le32(t + 4));
		const char *name = str_at(b, le32(t));

		if (!*name)
			continue;
		ns += is_struct_kind(kind);
		nt += kind == KIND_TYPEDEF;
		/* The blob's own long says how wide its pointers are. */
		if (kind == KIND_INT && (!strcmp(name, "long int") ||
					 !strcmp(name, "long unsigned int"))) {
			uint32_t sz = le32(t + 8);

			if (sz == 4 || sz == 8)
				b->ptr_size = sz;
		}
	}
	b->sidx = calloc(ns ? ns : 1, sizeof(*b->sidx));
	b->tidx = calloc(nt ? nt : 1, sizeof(*b->tidx));
	if (!b->sidx || !b->tidx)
		return vmet_errf(err, VMET_ENOMEM, "BTF: out of memory indexing names");
	for (uint32_t id = 1; id <= b->n; id++) {
		const uint8_t *t = type_at(b, id);
		unsigned kind = info_kind(le32(t + 4));
		const char *name = str_at(b, le32(t));
		struct name_idx e = { name, id };

		if (!*name)
			continue;
		if (is_struct_kind(kind))
			b->sidx[b->nsidx++] = e;
		else if (kind == KIND_TYPEDEF)
			b->tidx[b->ntidx++] = e;
	}
	qsort(b->sidx, b->nsidx, sizeof(*b->sidx), cmp_name_idx);
	qsort(b->tidx, b->ntidx, sizeof(*b->tidx), cmp_name_idx);
	return 0;
}

int btf_parse(const void *buf, size_t len, struct btf **out, struct vmet_err *err)
{
	struct btf *b;
	struct hdr h;
	size_t total;
	int rc;

	*out = NULL;
	if (!buf)
		return vmet_errf(err, VMET_EINVAL, "BTF: no buffer");
	if ((rc = header_read(buf, len, &h, &total, err)))
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->data = malloc(total))) {
		free(b);
		return vmet_errf(err, VMET_ENOMEM, "BTF: out of memory for %zu bytes", total);
	}
	memcpy(b->data, buf, total);
	b->len = total;
	b->types = b->data + h.hdr_len + h.type_off;
	b->types_len = h.type_len;
	b->strs = (const char *)b->data + h.hdr_len + h.str_off;
	b->strs_len = h.str_len;
	b->ptr_size = 8;
	if ((rc = index_types(b, err)) || (rc = check_types(b, err)) ||
	    (rc = index_names(b, err))) {
		btf_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void btf_free(struct btf *b)
{
	if (!b)
		return;
	free(b->sidx);
	free(b->tidx);
	free(b->off);
	free(b->data);
	free(b);
}

uint32_t btf_type_count(const struct btf *b)
{
	return b->n;
}

unsigned btf_pointer_size(const struct btf *b)
{
	return b->ptr_size;
}

/* Id of the first entry called name in a sorted index, or 0. */
static uint32_t idx_find(const struct name_idx *idx, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	/* Lower bound: the first entry with this name has the lowest id. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(idx[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && !strcmp(idx[lo].name, name))
		return idx[lo].id;
	return 0;
}

static int resolve(const struct btf *b, uint32_t id, uint32_t *out, struct vmet_err *err);

uint32_t btf_find_struct(const struct btf *b, const char *name)
{
	uint32_t id = idx_find(b->sidx, b->nsidx, name), rid;

	if (id)
		return id;
	/* A typedef of a struct (kuid_t, spinlock_t) stands for that struct. */
	id = idx_find(b->tidx, b->ntidx, name);
	if (id && !resolve(b, id, &rid, NULL) && rid &&
	    is_struct_kind(info_kind(le32(type_at(b, rid) + 4))))
		return rid;
	return 0;
}

/* ---- following references ---------------------------------------------- */

/* Skip typedefs and qualifiers; the id reached (possibly 0 = void). */
static int resolve(const struct btf *b, uint32_t id, uint32_t *out, struct vmet_err *err)
{
	uint32_t start = id;

	for (unsigned depth = 0; depth <= BTF_MAX_REF_DEPTH; depth++) {
		const uint8_t *t;

		if (id == 0) {
			*out = 0;
			return 0;
		}
		t = type_at(b, id);
		switch (info_kind(le32(t + 4))) {
		case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST:
		case KIND_RESTRICT: case KIND_TYPE_TAG:
			id = le32(t + 8);
			break;
		default:
			*out = id;
			return 0;
		}
	}
	return vmet_errf(err, VMET_ELOOP,
			 "BTF: type %" PRIu32 ": more than %d typedefs/qualifiers in a row "
			 "(a cycle?)", start, BTF_MAX_REF_DEPTH);
}

int btf_type_size(const struct btf *b, uint32_t id, uint64_t *size, struct vmet_err *err)
{
	uint64_t mult = 1;
	uint32_t start = id;

	if (id > b->n)
		return vmet_errf(err, VMET_EINVAL, "BTF: no type %" PRIu32, id);
	/* Arrays and qualifiers share one depth budget: either can be forged into a cycle. */
	for (unsigned depth = 0; depth <= BTF_MAX_REF_DEPTH; depth++) {
		const uint8_t *t;
		uint64_t sz;

		if (id == 0) {
			*size = 0;
			return 0;
		}
		t = type_at(b, id);
		switch (info_kind(le32(t + 4))) {
		case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST:
		case KIND_RESTRICT: case KIND_TYPE_TAG: case KIND_VAR:
			id = le32(t + 8);
			continue;
		case KIND_ARRAY: {
			uint32_t nelems = le32(t + TYPE_HDR + 8);

			if (nelems && mult > PROFILE_MAX_SIZE / nelems)
				return vmet_errf(err, VMET_ELIMIT,
						 "BTF: type %" PRIu32 ": array size above %llu bytes",
						 start, PROFILE_MAX_SIZE);
			mult *= nelems;
			id = le32(t + TYPE_HDR);
			continue;
		}
		case KIND_PTR:
			sz = b->ptr_size;
			break;
		case KIND_INT: case KIND_ENUM: case KIND_ENUM64: case KIND_STRUCT:
		case KIND_UNION: case KIND_FLOAT: case KIND_DATASEC:
			sz = le32(t + 8);
			break;
		default:	/* fwd, func, func_proto: no size */
			sz = 0;
			break;
		}
		if (sz && mult > PROFILE_MAX_SIZE / sz)
			return vmet_errf(err, VMET_ELIMIT,
					 "BTF: type %" PRIu32 ": size above %llu bytes",
					 start, PROFILE_MAX_SIZE);
		*size = sz * mult;
		return 0;
	}
	return vmet_errf(err, VMET_ELOOP,
			 "BTF: type %" PRIu32 ": more than %d arrays/typedefs/qualifiers in a "
			 "row (a cycle?)", start, BTF_MAX_REF_DEPTH);
}

/* ---- flattening a struct ----------------------------------------------- */

struct flatten {
	const struct btf *b;
	struct profile_struct *ps;
	const char *sname;
	unsigned long work;
};

static int add_members(struct flatten *f, uint32_t id, uint64_t base_bits, unsigned nest,
		       struct vmet_err *err)
{
	const struct btf *b = f->b;
	const uint8_t *t = type_at(b, id);
	uint32_t info = le32(t + 4);
	unsigned vlen = info_vlen(info);
	bool kflag = info_kflag(info);

	if (nest > BTF_MAX_NEST)
		return vmet_errf(err, VMET_ELOOP,
				 "BTF: struct %s: anonymous members nested more than %d deep "
				 "at type %" PRIu32 " (a cycle?)", f->sname, BTF_MAX_NEST, id);
	for (unsigned i = 0; i < vlen; i++) {
		const uint8_t *m = t + TYPE_HDR + 12u * i;
		const char *mname = str_at(b, le32(m));
		uint32_t mtype = le32(m + 4), moff = le32(m + 8), rid;
		uint64_t bits = kflag ? (moff & 0xffffff) : moff, size;
		unsigned bit_size = kflag ? moff >> 24 : 0;
		const uint8_t *rt;
		unsigned rkind;
		int rc;

		if (++f->work > MAX_FLATTEN_WORK)
			return vmet_errf(err, VMET_ELIMIT,
					 "BTF: struct %s: more than %u member records to flatten",
					 f->sname, MAX_FLATTEN_WORK);
		bits += base_bits;
		if ((rc = resolve(b, mtype, &rid, err)))
			return vmet_err_prefix(err, rc, "struct %s member '%s'", f->sname, mname);
		rt = rid ? type_at(b, rid) : NULL;
		rkind = rt ? info_kind(le32(rt + 4)) : KIND_UNKN;
		if (!*mname) {
			/* Anonymous struct/union: its members belong to the parent. */
			if (rkind == KIND_STRUCT || rkind == KIND_UNION) {
				if (bits % 8)
					return vmet_errf(err, VMET_EFORMAT,
							 "BTF: struct %s: anonymous member of type %"
							 PRIu32 " at bit %" PRIu64
							 ", not on a byte boundary",
							 f->sname, rid, bits);
				if ((rc = add_members(f, rid, bits, nest + 1, err)))
					return rc;
			}
			/* Anything else unnamed is padding (e.g. `int :3`): nothing to look up. */
			continue;
		}
		/* Old-style bit-fields carry their width in the int type instead of the member. */
		if (!kflag && rkind == KIND_INT) {
			uint32_t enc = le32(rt + TYPE_HDR), isz = le32(rt + 8);
			unsigned nr_bits = enc & 0xff, ioff = (enc >> 16) & 0xff;

			if (ioff || (nr_bits && (uint64_t)nr_bits != (uint64_t)isz * 8)) {
				bits += ioff;
				bit_size = nr_bits;
			}
		}
		if (bit_size) {
			if (bit_size > 64)
				return vmet_errf(err, VMET_EFORMAT,
						 "BTF: struct %s member '%s': bit-field of %u bits",
						 f->sname, mname, bit_size);
			size = ((bits % 8) + bit_size + 7) / 8;
			rc = profile_add_member(f->ps, mname, bits / 8, size,
						(uint8_t)(bits % 8), (uint8_t)bit_size, err);
		} else {
			if (bits % 8)
				return vmet_errf(err, VMET_EFORMAT,
						 "BTF: struct %s member '%s' at bit %" PRIu64
						 " is not a bit-field but not on a byte boundary",
						 f->sname, mname, bits);
			if ((rc = btf_type_size(b, mtype, &size, err)))
				return vmet_err_prefix(err, rc, "struct %s member '%s'",
						       f->sname, mname);
			rc = profile_add_member(f->ps, mname, bits / 8, size, 0, 0, err);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int btf_add_struct(const struct btf *b, const char *name, struct profile *p,
		   struct vmet_err *err)
{
	uint32_t id = btf_find_struct(b, name);
	struct flatten f = { .b = b, .sname = name };
	const uint8_t *t;

	if (!id)
		return vmet_errf(err, VMET_ENOTFOUND, "BTF: no struct %s", name);
	t = type_at(b, id);
	f.ps = profile_add_struct(p, name, le32(t + 8), err);
	if (!f.ps)
		return err ? err->code : VMET_ENOMEM;
	return add_members(&f, id, 0, 0, err);
}
