/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small strict JSON reader (RFC 8259) for the files vmet imports, such as
 * Volatility symbol tables.  The document is parsed in one pass into a flat
 * array of nodes; strings are decoded in place in the caller's buffer, so a
 * 50 MiB symbol table costs one node array and no per-string allocation.
 *
 * Input is untrusted: nesting depth, node count and size are capped, every
 * escape and number is checked, and an error names the line and column.
 * Numbers keep their text: jnum_u64() converts integers exactly, beyond the
 * 2^53 a double would hold (kernel addresses need all 64 bits).
 */
#ifndef VMET_PROFILES_JSON_PARSE_H
#define VMET_PROFILES_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JSON_PARSE_MAX_DEPTH 64
#define JSON_PARSE_MAX_NODES (1u << 26)
#define JSON_PARSE_MAX_SIZE ((size_t)1 << 30)

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

#define J_NONE UINT32_MAX	/* no node: end of a child list */

struct jnode {
	enum jtype type;
	const char *key;	/* member name when the parent is an object, else NULL */
	const char *s;		/* J_STR: decoded text, NUL-terminated; J_NUM: the digits */
	uint32_t len;		/* bytes of s */
	uint32_t first;		/* J_ARR/J_OBJ: first child, or J_NONE */
	uint32_t next;		/* next sibling, or J_NONE */
	uint32_t count;		/* J_ARR/J_OBJ: number of children */
};

struct jdoc {
	struct jnode *n;	/* n[0] is the root */
	size_t nn;
};

/*
 * Parse buf[0..len) (modified in place: strings are decoded there; buf
 * must outlive the document).  origin names the input in errors.
 */
int jdoc_parse(char *buf, size_t len, const char *origin, struct jdoc *d,
	       struct vmet_err *err);
void jdoc_free(struct jdoc *d);

const struct jnode *jroot(const struct jdoc *d);
/* Children in document order: for (c = jchild(d, n); c; c = jnext(d, c)). */
const struct jnode *jchild(const struct jdoc *d, const struct jnode *n);
const struct jnode *jnext(const struct jdoc *d, const struct jnode *n);
/* Member `key` of an object (the last one when a key repeats), or NULL. */
const struct jnode *jget(const struct jdoc *d, const struct jnode *obj, const char *key);
/* A non-negative integer without fraction or exponent that fits 64 bits. */
bool jnum_u64(const struct jnode *n, uint64_t *v);

#endif
