// SPDX-License-Identifier: GPL-2.0-or-later
/* Volatility 3 ISF symbol tables as vmet profiles: see isf.h. */
#include "profiles/isf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/json_parse.h"
#include "profiles/wanted.h"

struct isf {
	struct jdoc d;
	const char *origin;
	const struct jnode *base_types, *user_types, *enums, *symbols;
};

static const char *jstr(const struct isf *x, const struct jnode *obj, const char *key)
{
	const struct jnode *n = jget(&x->d, obj, key);

	return n && n->type == J_STR ? n->s : NULL;
}

static bool ju64(const struct isf *x, const struct jnode *obj, const char *key, uint64_t *v)
{
	return jnum_u64(jget(&x->d, obj, key), v);
}

/* Size in bytes of an ISF type description {kind, name|subtype|count}. */
static int type_size(const struct isf *x, const struct jnode *t, const char *where,
		     int depth, uint64_t *size, struct vmet_err *err)
{
	const char *kind = jstr(x, t, "kind"), *name = jstr(x, t, "name");
	const struct jnode *table = NULL;
	uint64_t count, sub;
	int rc;

	if (depth > ISF_MAX_TYPE_DEPTH)
		return vmet_errf(err, VMET_ELOOP, "%s: %s: type nested deeper than %d",
				 x->origin, where, ISF_MAX_TYPE_DEPTH);
	if (!kind)
		return vmet_errf(err, VMET_EFORMAT, "%s: %s: type without a \"kind\"",
				 x->origin, where);
	if (!strcmp(kind, "function")) {
		*size = 0;
		return 0;
	}
	if (!strcmp(kind, "pointer")) {
		name = "pointer";
		table = x->base_types;
	} else if (!strcmp(kind, "base")) {
		table = x->base_types;
	} else if (!strcmp(kind, "struct") || !strcmp(kind, "union") || !strcmp(kind, "class")) {
		table = x->user_types;
	} else if (!strcmp(kind, "enum")) {
		table = x->enums;
	} else if (!strcmp(kind, "array")) {
		if (!ju64(x, t, "count", &count))
			return vmet_errf(err, VMET_EFORMAT, "%s: %s: array without a count",
					 x->origin, where);
		if ((rc = type_size(x, jget(&x->d, t, "subtype"), where, depth + 1, &sub, err)))
			return rc;
		if (sub && count > PROFILE_MAX_SIZE / sub)
			return vmet_errf(err, VMET_ELIMIT, "%s: %s: array of %" PRIu64 " x %" PRIu64
					 " bytes is too large", x->origin, where, count, sub);
		*size = count * sub;
		return 0;
	} else {
		return vmet_errf(err, VMET_EFORMAT, "%s: %s: unknown type kind \"%.32s\"",
				 x->origin, where, kind);
	}
	if (!name)
		return vmet_errf(err, VMET_EFORMAT, "%s: %s: %s type without a name", x->origin,
				 where, kind);
	if (!ju64(x, jget(&x->d, table, name), "size", size))
		return vmet_errf(err, VMET_EFORMAT, "%s: %s: %s type \"%.64s\" has no size "
				 "in the ISF", x->origin, where, kind, name);
	return 0;
}

static int add_fields(const struct isf *x, struct profile_struct *ps, const struct jnode *ut,
		      uint64_t base, int depth, struct vmet_err *err);

static int add_field(const struct isf *x, struct profile_struct *ps, const struct jnode *f,
		     uint64_t base, int depth, struct vmet_err *err)
{
	const struct jnode *t = jget(&x->d, f, "type"), *anon = jget(&x->d, f, "anonymous");
	const char *kind = jstr(x, t, "kind");
	char where[2 * PROFILE_MAX_NAME + 16];
	uint64_t off, size;
	int rc;

	snprintf(where, sizeof(where), "field %s.%s", ps->name, f->key);
	if (!ju64(x, f, "offset", &off) || off > PROFILE_MAX_SIZE)
		return vmet_errf(err, VMET_EFORMAT, "%s: %s: no valid \"offset\"", x->origin, where);
	if (!kind)
		return vmet_errf(err, VMET_EFORMAT, "%s: %s: no \"type\" with a \"kind\"",
				 x->origin, where);
	if ((anon && anon->type == J_TRUE) ||
	    (!strncmp(f->key, "unnamed_field_", 14) &&
	     (!strcmp(kind, "struct") || !strcmp(kind, "union")))) {
		const char *name = jstr(x, t, "name");
		const struct jnode *sub = name ? jget(&x->d, x->user_types, name) : NULL;

		if (strcmp(kind, "struct") && strcmp(kind, "union"))
			return 0;	/* an unnamed bit-field: padding */
		if (!sub)
			return vmet_errf(err, VMET_EFORMAT, "%s: %s: anonymous %s \"%.64s\" is not "
					 "in user_types", x->origin, where, kind, name ? name : "");
		if (depth >= ISF_MAX_NEST)
			return vmet_errf(err, VMET_ELIMIT, "%s: struct %s: anonymous members nested "
					 "deeper than %d", x->origin, ps->name, ISF_MAX_NEST);
		return add_fields(x, ps, sub, base + off, depth + 1, err);
	}
	if (!strcmp(kind, "bitfield")) {
		uint64_t pos, blen, bit;

		if (!ju64(x, t, "bit_position", &pos) || !ju64(x, t, "bit_length", &blen) ||
		    !blen || blen > 64 || pos > 512)
			return vmet_errf(err, VMET_EFORMAT, "%s: %s: bit-field without a valid "
					 "bit_position and bit_length (1-64)", x->origin, where);
		/* Volatility reads the storage unit at offset and shifts by bit_position. */
		bit = (base + off) * 8 + pos;
		return profile_add_member(ps, f->key, bit / 8, (bit % 8 + blen + 7) / 8,
					  (uint8_t)(bit % 8), (uint8_t)blen, err);
	}
	if ((rc = type_size(x, t, where, 0, &size, err)))
		return rc;
	return profile_add_member(ps, f->key, base + off, size, 0, 0, err);
}

static int add_fields(const struct isf *x, struct profile_struct *ps, const struct jnode *ut,
		      uint64_t base, int depth, struct vmet_err *err)
{
	const struct jnode *fields = jget(&x->d, ut, "fields");
	int rc;

	if (!fields || fields->type != J_OBJ)
		return vmet_errf(err, VMET_EFORMAT, "%s: struct %s: no \"fields\" object",
				 x->origin, ps->name);
	for (const struct jnode *f = jchild(&x->d, fields); f; f = jnext(&x->d, f))
		if ((rc = add_field(x, ps, f, base, depth, err)))
			return rc;
	return 0;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* The banner from base64 text: bytes up to the first NUL, newline dropped. */
static int banner_from_b64(const struct isf *x, const char *s, size_t n, char **out,
			   struct vmet_err *err)
{
	char buf[PROFILE_MAX_TEXT + 1];
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return vmet_errf(err, VMET_EFORMAT, "%s: linux_banner.constant_data: "
					 "'%c' at %zu is not base64", x->origin, s[i], i);
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			char c = (char)(acc >> (bits - 8));

			bits -= 8;
			if (!c)
				break;
			if (o >= PROFILE_MAX_TEXT)
				return vmet_errf(err, VMET_ELIMIT, "%s: linux_banner longer than %d "
						 "bytes", x->origin, PROFILE_MAX_TEXT);
			buf[o++] = c;
		}
	}
	while (o && (buf[o - 1] == '\n' || buf[o - 1] == '\r'))
		o--;
	buf[o] = '\0';
	if (strncmp(buf, "Linux version ", 14))
		return vmet_errf(err, VMET_EFORMAT, "%s: linux_banner.constant_data does not "
				 "start with 'Linux version'", x->origin);
	*out = strdup(buf);
	return *out ? 0 : vmet_errf(err, VMET_ENOMEM, "out of memory");
}

static int import(struct isf *x, FILE *log, struct profile *p, struct vmet_err *err)
{
	const struct jnode *root = jroot(&x->d), *banner;
	const char *b64;
	uint64_t psize;
	char src[PROFILE_MAX_TEXT + 1];
	int rc;

	if (!root || root->type != J_OBJ)
		return vmet_errf(err, VMET_EFORMAT, "%s: not an ISF: the top level is not an object",
				 x->origin);
	x->base_types = jget(&x->d, root, "base_types");
	x->user_types = jget(&x->d, root, "user_types");
	x->enums = jget(&x->d, root, "enums");
	x->symbols = jget(&x->d, root, "symbols");
	if (!x->user_types || x->user_types->type != J_OBJ || !x->symbols ||
	    x->symbols->type != J_OBJ || !x->base_types || x->base_types->type != J_OBJ)
		return vmet_errf(err, VMET_EFORMAT, "%s: not an ISF: no base_types, user_types "
				 "and symbols objects", x->origin);
	banner = jget(&x->d, x->symbols, "linux_banner");
	b64 = jstr(x, banner, "constant_data");
	if (!b64)
		return vmet_errf(err, VMET_ENOTFOUND, "%s: no symbols.linux_banner.constant_data: "
				 "without the banner the profile cannot be matched to a guest "
				 "(dwarf2json writes it when given the vmlinux)", x->origin);
	if ((rc = banner_from_b64(x, b64, strlen(b64), &p->banner, err)))
		return rc;
	if (!ju64(x, jget(&x->d, x->base_types, "pointer"), "size", &psize) ||
	    (psize != 8 && psize != 4))
		return vmet_errf(err, VMET_EFORMAT, "%s: base_types.pointer.size is not 4 or 8",
				 x->origin);
	if ((rc = profile_set_text(&p->arch, psize == 8 ? "x86_64" : "i386", err)))
		return rc;
	p->paging = psize == 8 ? PAGING_4LEVEL : PAGING_NONE;
	snprintf(src, sizeof(src), "isf:%s", x->origin);
	if ((rc = profile_set_text(&p->source, src, err)))
		return rc;

	for (size_t i = 0; i < wanted_nstructs; i++) {
		const char *name = wanted_structs[i].name;
		const struct jnode *ut = jget(&x->d, x->user_types, name);
		struct profile_struct *ps;
		uint64_t size;

		if (!ut) {
			if (log)
				fprintf(log, "note: struct %s is not in %s\n", name, x->origin);
			continue;
		}
		if (!ju64(x, ut, "size", &size))
			return vmet_errf(err, VMET_EFORMAT, "%s: user_types.%s has no valid size",
					 x->origin, name);
		ps = profile_add_struct(p, name, size, err);
		if (!ps)
			return err ? err->code : VMET_EFORMAT;
		if ((rc = add_fields(x, ps, ut, 0, 0, err)))
			return rc;
	}
	for (const struct jnode *s = jchild(&x->d, x->symbols); s; s = jnext(&x->d, s)) {
		uint64_t addr;

		if (!wanted_symbol(s->key))
			continue;
		if (!ju64(x, s, "address", &addr))
			return vmet_errf(err, VMET_EFORMAT, "%s: symbols.%s has no valid address",
					 x->origin, s->key);
		if ((rc = profile_add_symbol(p, s->key, addr, err)))
			return vmet_err_prefix(err, rc, "%s", x->origin);
	}
	if ((rc = profile_finish(p, err)))
		return vmet_err_prefix(err, rc, "%s", x->origin);
	return 0;
}

int profile_from_isf(char *json, size_t len, const char *origin, FILE *log,
		     struct profile **out, struct vmet_err *err)
{
	struct isf x = { .origin = origin ? origin : "(isf)" };
	struct profile *p;
	int rc;

	*out = NULL;
	if ((rc = jdoc_parse(json, len, x.origin, &x.d, err)))
		return rc;
	p = profile_new();
	if (!p) {
		jdoc_free(&x.d);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	rc = import(&x, log, p, err);
	jdoc_free(&x.d);
	if (rc) {
		profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int profile_from_isf_file(const char *path, FILE *log, struct profile **out,
			  struct vmet_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = profile_read_file(path, ISF_MAX_FILE, &data, &len, err)))
		return rc;
	rc = profile_from_isf(data, len, path, log, out, err);
	free(data);
	return rc;
}
