// SPDX-License-Identifier: GPL-2.0-or-later
/* A strict, bounded, in-place JSON reader: see json_parse.h. */
#include "profiles/json_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
	char *buf;
	size_t len, pos;
	const char *origin;
	struct jdoc *d;
	size_t cap;
	struct vmet_err *err;
};

static int jerr(struct jp *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The line and column are counted only when an error is reported. */
static int jerr(struct jp *p, size_t at, const char *fmt, ...)
{
	char msg[VMET_ERR_MSG_MAX];
	size_t line = 1, col = 1;
	va_list ap;

	for (size_t i = 0; i < at && i < p->len; i++) {
		if (p->buf[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vmet_errf(p->err, VMET_EFORMAT, "%s:%zu:%zu: %s", p->origin, line, col, msg);
}

static void skip_ws(struct jp *p)
{
	while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\t' ||
				   p->buf[p->pos] == '\n' || p->buf[p->pos] == '\r'))
		p->pos++;
}

static int new_node(struct jp *p, enum jtype t, uint32_t *idx)
{
	struct jnode *n;

	if (p->d->nn >= JSON_PARSE_MAX_NODES)
		return vmet_errf(p->err, VMET_ELIMIT, "%s: more than %u JSON values", p->origin,
				 JSON_PARSE_MAX_NODES);
	if (p->d->nn == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 1024;
		struct jnode *nn = realloc(p->d->n, nc * sizeof(*nn));

		if (!nn)
			return vmet_errf(p->err, VMET_ENOMEM, "out of memory parsing %s", p->origin);
		p->d->n = nn;
		p->cap = nc;
	}
	*idx = (uint32_t)p->d->nn++;
	n = &p->d->n[*idx];
	memset(n, 0, sizeof(*n));
	n->type = t;
	n->first = n->next = J_NONE;
	return 0;
}

static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned h;

		if (c >= '0' && c <= '9')
			h = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			h = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			h = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | h;
	}
	return 0;
}

/*
 * A string starting at the opening quote: decoded in place (the decoded
 * form is never longer than the source) and NUL-terminated.
 */
static int parse_string(struct jp *p, const char **out, uint32_t *olen)
{
	size_t start = p->pos, i = p->pos + 1;
	char *w = p->buf + i, *begin = w;

	for (;;) {
		unsigned char c;

		if (i >= p->len)
			return jerr(p, start, "string without an end");
		c = (unsigned char)p->buf[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return jerr(p, i, "control byte 0x%02x in a string", c);
		if (c != '\\') {
			*w++ = (char)c;
			i++;
			continue;
		}
		if (i + 1 >= p->len)
			return jerr(p, i, "escape at the end of the input");
		switch (p->buf[i + 1]) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/': *w++ = '/'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u': {
			unsigned u, lo;

			if (i + 6 > p->len || hex4(p->buf + i + 2, &u))
				return jerr(p, i, "bad \\u escape");
			if (u >= 0xdc00 && u <= 0xdfff)
				return jerr(p, i, "lone low surrogate \\u%04x", u);
			if (u >= 0xd800 && u <= 0xdbff) {
				if (i + 12 > p->len || p->buf[i + 6] != '\\' || p->buf[i + 7] != 'u' ||
				    hex4(p->buf + i + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return jerr(p, i, "high surrogate \\u%04x without its pair", u);
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			if (!u)
				return jerr(p, i, "\\u0000: strings may not hold a NUL byte");
			/* UTF-8 of u is at most 4 bytes; the escape was at least 6. */
			if (u < 0x80) {
				*w++ = (char)u;
			} else if (u < 0x800) {
				*w++ = (char)(0xc0 | u >> 6);
				*w++ = (char)(0x80 | (u & 0x3f));
			} else if (u < 0x10000) {
				*w++ = (char)(0xe0 | u >> 12);
				*w++ = (char)(0x80 | ((u >> 6) & 0x3f));
				*w++ = (char)(0x80 | (u & 0x3f));
			} else {
				*w++ = (char)(0xf0 | u >> 18);
				*w++ = (char)(0x80 | ((u >> 12) & 0x3f));
				*w++ = (char)(0x80 | ((u >> 6) & 0x3f));
				*w++ = (char)(0x80 | (u & 0x3f));
			}
			i += 6;
			continue;
		}
		default:
			return jerr(p, i, "unknown escape \\%c", p->buf[i + 1]);
		}
		i += 2;
	}
	if ((size_t)(w - begin) > UINT32_MAX)
		return jerr(p, start, "string too long");
	*w = '\0';	/* w <= the closing quote's position */
	*out = begin;
	*olen = (uint32_t)(w - begin);
	p->pos = i + 1;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct jp *p, uint32_t idx)
{
	size_t i = p->pos, start = p->pos;

	if (i < p->len && p->buf[i] == '-')
		i++;
	if (i >= p->len || !is_digit(p->buf[i]))
		return jerr(p, start, "bad number");
	if (p->buf[i] == '0')
		i++;
	else
		while (i < p->len && is_digit(p->buf[i]))
			i++;
	if (i < p->len && p->buf[i] == '.') {
		i++;
		if (i >= p->len || !is_digit(p->buf[i]))
			return jerr(p, start, "bad number: no digit after '.'");
		while (i < p->len && is_digit(p->buf[i]))
			i++;
	}
	if (i < p->len && (p->buf[i] == 'e' || p->buf[i] == 'E')) {
		i++;
		if (i < p->len && (p->buf[i] == '+' || p->buf[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(p->buf[i]))
			return jerr(p, start, "bad number: no exponent digits");
		while (i < p->len && is_digit(p->buf[i]))
			i++;
	}
	if (i - start > 64)
		return jerr(p, start, "number longer than 64 characters");
	p->d->n[idx].s = p->buf + start;
	p->d->n[idx].len = (uint32_t)(i - start);
	p->pos = i;
	return 0;
}

static int parse_value(struct jp *p, int depth, uint32_t *idx);

/* An array or object at p->pos ('[' or '{'). */
static int parse_container(struct jp *p, int depth, uint32_t idx)
{
	bool obj = p->buf[p->pos] == '{';
	char close = obj ? '}' : ']';
	uint32_t last = J_NONE;
	int rc;

	if (depth >= JSON_PARSE_MAX_DEPTH)
		return jerr(p, p->pos, "nested deeper than %d", JSON_PARSE_MAX_DEPTH);
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->buf[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		uint32_t klen, child;

		skip_ws(p);
		if (obj) {
			if (p->pos >= p->len || p->buf[p->pos] != '"')
				return jerr(p, p->pos, "expected a member name in quotes");
			if ((rc = parse_string(p, &key, &klen)))
				return rc;
			skip_ws(p);
			if (p->pos >= p->len || p->buf[p->pos] != ':')
				return jerr(p, p->pos, "expected ':' after member \"%.64s\"", key);
			p->pos++;
		}
		if ((rc = parse_value(p, depth + 1, &child)))
			return rc;
		p->d->n[child].key = key;
		if (last == J_NONE)
			p->d->n[idx].first = child;
		else
			p->d->n[last].next = child;
		last = child;
		p->d->n[idx].count++;
		skip_ws(p);
		if (p->pos >= p->len)
			return jerr(p, p->pos, "input ends inside an %s", obj ? "object" : "array");
		if (p->buf[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->buf[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return jerr(p, p->pos, "expected ',' or '%c'", close);
	}
}

static int parse_value(struct jp *p, int depth, uint32_t *idx)
{
	int rc;
	char c;

	skip_ws(p);
	if (p->pos >= p->len)
		return jerr(p, p->pos, "expected a value, found the end of the input");
	c = p->buf[p->pos];
	switch (c) {
	case '{':
	case '[':
		if ((rc = new_node(p, c == '{' ? J_OBJ : J_ARR, idx)))
			return rc;
		return parse_container(p, depth, *idx);
	case '"':
		if ((rc = new_node(p, J_STR, idx)))
			return rc;
		{
			const char *s;
			uint32_t l;

			if ((rc = parse_string(p, &s, &l)))
				return rc;
			p->d->n[*idx].s = s;
			p->d->n[*idx].len = l;
		}
		return 0;
	case 't':
	case 'f':
	case 'n': {
		const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
		size_t wl = strlen(word);

		if (p->len - p->pos < wl || memcmp(p->buf + p->pos, word, wl))
			return jerr(p, p->pos, "unexpected '%c'", c);
		p->pos += wl;
		return new_node(p, c == 't' ? J_TRUE : c == 'f' ? J_FALSE : J_NULL, idx);
	}
	default:
		if (c == '-' || is_digit(c)) {
			if ((rc = new_node(p, J_NUM, idx)))
				return rc;
			return parse_number(p, *idx);
		}
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			return jerr(p, p->pos, "unexpected '%c'", c);
		return jerr(p, p->pos, "unexpected byte 0x%02x", (unsigned char)c);
	}
}

int jdoc_parse(char *buf, size_t len, const char *origin, struct jdoc *d,
	       struct vmet_err *err)
{
	struct jp p = { .buf = buf, .len = len, .origin = origin ? origin : "(json)",
			.d = d, .err = err };
	uint32_t root;
	int rc;

	memset(d, 0, sizeof(*d));
	if (len > JSON_PARSE_MAX_SIZE)
		return vmet_errf(err, VMET_ELIMIT, "%s: %zu bytes, more than %zu", p.origin, len,
				 JSON_PARSE_MAX_SIZE);
	/* A UTF-8 byte-order mark is tolerated, as many tools write one. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		p.pos = 3;
	rc = parse_value(&p, 0, &root);
	if (!rc) {
		skip_ws(&p);
		if (p.pos != len)
			rc = jerr(&p, p.pos, "data after the end of the document");
	}
	if (rc)
		jdoc_free(d);
	return rc;
}

void jdoc_free(struct jdoc *d)
{
	free(d->n);
	d->n = NULL;
	d->nn = 0;
}

const struct jnode *jroot(const struct jdoc *d)
{
	return d->nn ? &d->n[0] : NULL;
}

const struct jnode *jchild(const struct jdoc *d, const struct jnode *n)
{
	return n && (n->type == J_ARR || n->type == J_OBJ) && n->first != J_NONE
		       ? &d->n[n->first] : NULL;
}

const struct jnode *jnext(const struct jdoc *d, const struct jnode *n)
{
	return n && n->next != J_NONE ? &d->n[n->next] : NULL;
}

const struct jnode *jget(const struct jdoc *d, const struct jnode *obj, const char *key)
{
	const struct jnode *found = NULL;

	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (const struct jnode *c = jchild(d, obj); c; c = jnext(d, c))
		if (!strcmp(c->key, key))
			found = c;
	return found;
}

bool jnum_u64(const struct jnode *n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n->type != J_NUM || !n->len)
		return false;
	for (uint32_t i = 0; i < n->len; i++) {
		char c = n->s[i];

		if (!is_digit(c) || x > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(c - '0');
	}
	*v = x;
	return true;
}
