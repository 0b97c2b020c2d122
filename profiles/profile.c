// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel profiles: building in memory, validation, the line-oriented text
 * format (docs/profile-format.md), lookups and the banner search.
 *
 * Profile files come from anywhere (a colleague's mail, a download), so
 * parsing is strict: every line is checked, every count and length capped,
 * and an error names the file and the line.
 */
#include "profiles/profile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VMET_PROFILE_DATADIR
#define VMET_PROFILE_DATADIR "/usr/local/share/vmet/profiles"
#endif

#define PROFILE_MAGIC "vmet-profile"
#define PROFILE_VERSION 1

/* ---- building ---------------------------------------------------------- */

/*
 * Arrays grow by doubling without a stored capacity: the capacity is the
 * next power of two above the count, so a realloc is due exactly when the
 * count is 0 or a power of two.
 */
static int grow(void **arr, size_t n, size_t elem, struct vmet_err *err)
{
	void *p;

	if (n && (n & (n - 1)))
		return 0;
	p = realloc(*arr, (n ? 2 * n : 8) * elem);
	if (!p)
		return vmet_errf(err, VMET_ENOMEM, "out of memory growing a profile");
	*arr = p;
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c <= ' ' || c >= 0x7f || c == '\\' || n >= PROFILE_MAX_NAME)
			return false;
	}
	return n > 0;
}

static int check_name(const char *what, const char *name, struct vmet_err *err)
{
	if (!name_ok(name))
		return vmet_errf(err, VMET_EFORMAT,
				 "%s name '%.64s' is empty, too long (max %d) or has a "
				 "space, backslash or non-ASCII byte",
				 what, name, PROFILE_MAX_NAME);
	return 0;
}

struct profile *profile_new(void)
{
	return calloc(1, sizeof(struct profile));
}

int profile_set_text(char **field, const char *value, struct vmet_err *err)
{
	char *c;

	if (strlen(value) > PROFILE_MAX_TEXT)
		return vmet_errf(err, VMET_ELIMIT, "text '%.40s...' longer than %d bytes",
				 value, PROFILE_MAX_TEXT);
	c = strdup(value);
	if (!c)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	free(*field);
	*field = c;
	return 0;
}

struct profile_struct *profile_add_struct(struct profile *p, const char *name,
					  uint64_t size, struct vmet_err *err)
{
	struct profile_struct *s;

	if (check_name("struct", name, err))
		return NULL;
	if (p->ns >= PROFILE_MAX_STRUCTS) {
		vmet_errf(err, VMET_ELIMIT, "more than %d structs", PROFILE_MAX_STRUCTS);
		return NULL;
	}
	if (size > PROFILE_MAX_SIZE) {
		vmet_errf(err, VMET_ELIMIT, "struct %s: size %" PRIu64 " above the cap %llu",
			  name, size, PROFILE_MAX_SIZE);
		return NULL;
	}
	if (grow((void **)&p->s, p->ns, sizeof(*p->s), err))
		return NULL;
	s = &p->s[p->ns];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name) {
		vmet_errf(err, VMET_ENOMEM, "out of memory");
		return NULL;
	}
	s->size = size;
	p->ns++;
	return s;
}

int profile_add_member(struct profile_struct *s, const char *name, uint64_t offset,
		       uint64_t size, uint8_t bit_offset, uint8_t bit_size,
		       struct vmet_err *err)
{
	struct profile_member *m;

	if (check_name("member", name, err))
		return vmet_err_prefix(err, VMET_EFORMAT, "struct %s", s->name);
	if (s->nm >= PROFILE_MAX_MEMBERS)
		return vmet_errf(err, VMET_ELIMIT, "struct %s: more than %d members",
				 s->name, PROFILE_MAX_MEMBERS);
	if (grow((void **)&s->m, s->nm, sizeof(*s->m), err))
		return err ? err->code : VMET_ENOMEM;
	m = &s->m[s->nm];
	m->name = strdup(name);
	if (!m->name)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	m->offset = offset;
	m->size = size;
	m->bit_offset = bit_offset;
	m->bit_size = bit_size;
	s->nm++;
	return 0;
}

int profile_add_symbol(struct profile *p, const char *name, uint64_t addr,
		       struct vmet_err *err)
{
	struct profile_symbol *y;

	if (check_name("symbol", name, err))
		return err ? err->code : VMET_EFORMAT;
	if (p->nsym >= PROFILE_MAX_SYMBOLS)
		return vmet_errf(err, VMET_ELIMIT, "more than %d symbols", PROFILE_MAX_SYMBOLS);
	if (grow((void **)&p->sym, p->nsym, sizeof(*p->sym), err))
		return err ? err->code : VMET_ENOMEM;
	y = &p->sym[p->nsym];
	y->name = strdup(name);
	if (!y->name)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	y->addr = addr;
	p->nsym++;
	return 0;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ns; i++) {
		for (size_t k = 0; k < p->s[i].nm; k++)
			free(p->s[i].m[k].name);
		free(p->s[i].m);
		free(p->s[i].name);
	}
	for (size_t i = 0; i < p->nsym; i++)
		free(p->sym[i].name);
	free(p->s);
	free(p->sym);
	free(p->banner);
	free(p->source);
	free(p->arch);
	free(p);
}

/* ---- validation and sorting -------------------------------------------- */

/*
 * Where each entry came from, so that profile_parse() can name the line of
 * a duplicate or an out-of-bounds member that profile_finish() finds.  The
 * producers in memory have no lines and pass NULL.
 */
struct line_map {
	const char *origin;
	size_t *struct_line;	/* per struct, in insertion order */
	size_t **member_line;	/* per struct, per member */
	size_t *sym_line;
};

static int member_check(const struct profile_struct *s, const struct profile_member *m,
			struct vmet_err *err)
{
	if (m->bit_size) {
		if (m->bit_offset > 7 || m->bit_size > 64)
			return vmet_errf(err, VMET_EFORMAT,
					 "member %s.%s: bit-field at bit %u of %u bits "
					 "(bit offset must be 0-7, size 1-64)",
					 s->name, m->name, m->bit_offset, m->bit_size);
		if (m->size != ((uint64_t)m->bit_offset + m->bit_size + 7) / 8)
			return vmet_errf(err, VMET_EFORMAT,
					 "member %s.%s: a bit-field of %u bits at bit %u spans "
					 "%u bytes, not %" PRIu64,
					 s->name, m->name, m->bit_size, m->bit_offset,
					 (m->bit_offset + m->bit_size + 7) / 8, m->size);
	} else if (m->bit_offset) {
		return vmet_errf(err, VMET_EFORMAT,
				 "member %s.%s: bit offset %u without a bit-field size",
				 s->name, m->name, m->bit_offset);
	}
	/* Flexible array members have size 0 and may sit at the very end. */
	if (m->offset > s->size || m->size > s->size - m->offset)
		return vmet_errf(err, VMET_EFORMAT,
				 "member %s.%s: bytes %" PRIu64 "+%" PRIu64
				 " lie outside the struct's %" PRIu64 " bytes",
				 s->name, m->name, m->offset, m->size, s->size);
	return 0;
}

static int cmp_member_idx(const void *a, const void *b, void *arg)
{
	const struct profile_member *m = arg;

	return strcmp(m[*(const size_t *)a].name, m[*(const size_t *)b].name);
}

static int cmp_struct_idx(const void *a, const void *b, void *arg)
{
	const struct profile_struct *s = arg;

	return strcmp(s[*(const size_t *)a].name, s[*(const size_t *)b].name);
}

static int cmp_symbol_idx(const void *a, const void *b, void *arg)
{
	const struct profile_symbol *y = arg;

	return strcmp(y[*(const size_t *)a].name, y[*(const size_t *)b].name);
}

/* Put arr (n elements of elem bytes) in the order idx gives. */
static int permute(void *arr, const size_t *idx, size_t n, size_t elem,
		   struct vmet_err *err)
{
	char *tmp;

	if (n < 2)
		return 0;
	tmp = malloc(n * elem);
	if (!tmp)
		return vmet_errf(err, VMET_ENOMEM, "out of memory sorting a profile");
	for (size_t i = 0; i < n; i++)
		memcpy(tmp + i * elem, (char *)arr + idx[i] * elem, elem);
	memcpy(arr, tmp, n * elem);
	free(tmp);
	return 0;
}

static int at_line(struct vmet_err *err, const struct line_map *lm, size_t line)
{
	if (lm && line)
		return vmet_err_prefix(err, VMET_EFORMAT, "%s:%zu", lm->origin, line);
	return err ? err->code : VMET_EFORMAT;
}

static int finish(struct profile *p, const struct line_map *lm, struct vmet_err *err)
{
	size_t *idx = NULL, nmax = p->ns > p->nsym ? p->ns : p->nsym;
	int rc = 0;

	if (!p->banner || !*p->banner)
		return vmet_errf(err, VMET_EFORMAT, "no banner");
	if (!p->arch)
		return vmet_errf(err, VMET_EFORMAT, "no arch");
	if (strcmp(p->arch, "x86_64") && strcmp(p->arch, "i386"))
		return vmet_errf(err, VMET_EFORMAT, "arch '%.32s' is not x86_64 or i386", p->arch);
	for (size_t i = 0; i < p->ns; i++)
		if (p->s[i].nm > nmax)
			nmax = p->s[i].nm;
	idx = malloc((nmax ? nmax : 1) * sizeof(*idx));
	if (!idx)
		return vmet_errf(err, VMET_ENOMEM, "out of memory sorting a profile");

	for (size_t i = 0; i < p->ns && !rc; i++) {
		struct profile_struct *s = &p->s[i];

		for (size_t k = 0; k < s->nm; k++) {
			if ((rc = member_check(s, &s->m[k], err))) {
				rc = at_line(err, lm, lm ? lm->member_line[i][k] : 0);
				break;
			}
			idx[k] = k;
		}
		if (rc)
			break;
		qsort_r(idx, s->nm, sizeof(*idx), cmp_member_idx, s->m);
		for (size_t k = 1; k < s->nm; k++)
			if (!strcmp(s->m[idx[k - 1]].name, s->m[idx[k]].name)) {
				size_t a = idx[k - 1] < idx[k] ? idx[k] : idx[k - 1];

				rc = vmet_errf(err, VMET_EFORMAT, "duplicate member %s.%s",
					       s->name, s->m[idx[k]].name);
				rc = at_line(err, lm, lm ? lm->member_line[i][a] : 0);
				break;
			}
		if (!rc)
			rc = permute(s->m, idx, s->nm, sizeof(*s->m), err);
	}
	if (rc)
		goto out;

	for (size_t i = 0; i < p->ns; i++)
		idx[i] = i;
	qsort_r(idx, p->ns, sizeof(*idx), cmp_struct_idx, p->s);
	for (size_t i = 1; i < p->ns; i++)
		if (!strcmp(p->s[idx[i - 1]].name, p->s[idx[i]].name)) {
			size_t a = idx[i - 1] < idx[i] ? idx[i] : idx[i - 1];

			rc = vmet_errf(err, VMET_EFORMAT, "duplicate struct %s", p->s[a].name);
			rc = at_line(err, lm, lm ? lm->struct_line[a] : 0);
			goto out;
		}
	if ((rc = permute(p->s, idx, p->ns, sizeof(*p->s), err)))
		goto out;

	for (size_t i = 0; i < p->nsym; i++)
		idx[i] = i;
	qsort_r(idx, p->nsym, sizeof(*idx), cmp_symbol_idx, p->sym);
	for (size_t i = 1; i < p->nsym; i++)
		if (!strcmp(p->sym[idx[i - 1]].name, p->sym[idx[i]].name)) {
			size_t a = idx[i - 1] < idx[i] ? idx[i] : idx[i - 1];

			rc = vmet_errf(err, VMET_EFORMAT, "duplicate symbol %s", p->sym[a].name);
			rc = at_line(err, lm, lm ? lm->sym_line[a] : 0);
			goto out;
		}
	rc = permute(p->sym, idx, p->nsym, sizeof(*p->sym), err);
out:
	free(idx);
	return rc;
}

int profile_finish(struct profile *p, struct vmet_err *err)
{
	return finish(p, NULL, err);
}

/* ---- escaping of the free-text fields (banner, source) ----------------- */

/*
 * Printable ASCII stays as is; a backslash, any other byte, and a space at
 * either end (editors strip trailing blanks) become \\ or \xHH, so each
 * value is one line that survives a text editor.
 */
static void put_escaped(FILE *f, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c < 0x20 || c >= 0x7f || (c == ' ' && (i == 0 || i == n - 1)))
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..n) into a new string; NULL with err set on a bad escape. */
static char *unescape(const char *s, size_t n, struct vmet_err *err)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out) {
		vmet_errf(err, VMET_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
		} else if (i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
			   hexval(s[i + 3]) >= 0) {
			int v = hexval(s[i + 2]) * 16 + hexval(s[i + 3]);

			if (!v) {
				vmet_errf(err, VMET_EFORMAT, "\\x00 at column %zu: "
					  "text may not hold a NUL byte", i + 1);
				free(out);
				return NULL;
			}
			out[o++] = (char)v;
			i += 3;
		} else {
			vmet_errf(err, VMET_EFORMAT, "bad escape at column %zu "
				  "(only \\\\ and \\xHH are known)", i + 1);
			free(out);
			return NULL;
		}
	}
	out[o] = '\0';
	if (o > PROFILE_MAX_TEXT) {
		vmet_errf(err, VMET_ELIMIT, "text of %zu bytes is longer than %d", o,
			  PROFILE_MAX_TEXT);
		free(out);
		return NULL;
	}
	return out;
}

/* ---- parsing ----------------------------------------------------------- */

#define MAX_TOKENS 8

struct parser {
	const char *origin;
	size_t line;
	struct profile *p;
	struct line_map lm;
	bool have_version, have_banner, have_source, have_arch, have_paging;
	bool in_body;			/* a struct or symbol line was seen */
	struct profile_struct *cur;	/* struct the next member lines belong to */
	size_t cur_idx;
};

static int perr(struct parser *ps, struct vmet_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct parser *ps, struct vmet_err *err, int code, const char *fmt, ...)
{
	char msg[VMET_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vmet_errf(err, code, "%s:%zu: %s", ps->origin, ps->line, msg);
}

/* Decimal, no sign, no leading zeros beyond "0", no overflow. */
static bool parse_dec(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return true;
}

/* 1-16 hex digits, no 0x: the form System.map uses. */
static bool parse_hex(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	size_t n = 0;

	for (; *s; s++, n++) {
		int h = hexval(*s);

		if (h < 0 || n >= 16)
			return false;
		x = x << 4 | (uint64_t)h;
	}
	if (!n)
		return false;
	*v = x;
	return true;
}

static int line_map_add(void **arr, size_t n, size_t line, struct vmet_err *err)
{
	if (grow(arr, n, sizeof(size_t), err))
		return err ? err->code : VMET_ENOMEM;
	((size_t *)*arr)[n] = line;
	return 0;
}

/* The text after the keyword and its blanks, trailing blanks removed. */
static int text_value(struct parser *ps, const char *rest, size_t n, char **field,
		      struct vmet_err *err)
{
	char *v;

	while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
		n--;
	if (!n)
		return perr(ps, err, VMET_EFORMAT, "empty value");
	v = unescape(rest, n, err);
	if (!v)
		return perr(ps, err, err ? err->code : VMET_EFORMAT, "%s",
			    err ? err->msg : "bad text");
	free(*field);
	*field = v;
	return 0;
}

static int once(struct parser *ps, bool *seen, const char *kw, struct vmet_err *err)
{
	if (*seen)
		return perr(ps, err, VMET_EFORMAT, "second '%s' line", kw);
	if (ps->in_body)
		return perr(ps, err, VMET_EFORMAT,
			    "'%s' after the first struct or symbol line (header lines come first)", kw);
	*seen = true;
	return 0;
}

static int parse_line(struct parser *ps, char *line, size_t len, struct vmet_err *err)
{
	char *tok[MAX_TOKENS];
	size_t nt = 0;
	char *rest = NULL;	/* text after the first token, for banner/source */
	char *q = line;
	struct profile *p = ps->p;
	uint64_t a, b, c, d;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return perr(ps, err, VMET_EFORMAT,
				    "control byte 0x%02x at column %zu", ch, i + 1);
	}
	while (*q == ' ' || *q == '\t')
		q++;
	if (!*q || *q == '#')
		return 0;
	if (!ps->have_version) {
		if (strncmp(q, PROFILE_MAGIC " ", sizeof(PROFILE_MAGIC)) ||
		    !parse_dec(q + sizeof(PROFILE_MAGIC), &a))
			return perr(ps, err, VMET_EFORMAT,
				    "not a vmet profile: the first line must be '%s %d'",
				    PROFILE_MAGIC, PROFILE_VERSION);
		if (a != PROFILE_VERSION)
			return perr(ps, err, VMET_EUNSUPPORTED,
				    "profile format version %" PRIu64 " (this vmet reads %d)",
				    a, PROFILE_VERSION);
		ps->have_version = true;
		return 0;
	}
	/* The keyword first: banner and source take the rest of the line as text. */
	tok[nt++] = q;
	while (*q && *q != ' ' && *q != '\t')
		q++;
	if (*q) {
		*q++ = '\0';
		while (*q == ' ' || *q == '\t')
			q++;
		rest = q;
	}
	if (!strcmp(tok[0], "banner") || !strcmp(tok[0], "source")) {
		bool is_banner = tok[0][0] == 'b';

		if (once(ps, is_banner ? &ps->have_banner : &ps->have_source, tok[0], err))
			return err ? err->code : VMET_EFORMAT;
		if (!rest || !*rest)
			return perr(ps, err, VMET_EFORMAT, "'%s' without a value", tok[0]);
		return text_value(ps, rest, len - (size_t)(rest - line),
				  is_banner ? &p->banner : &p->source, err);
	}
	while (*q && nt < MAX_TOKENS) {
		tok[nt++] = q;
		while (*q && *q != ' ' && *q != '\t')
			q++;
		if (!*q)
			break;
		*q++ = '\0';
		while (*q == ' ' || *q == '\t')
			q++;
	}
	if (*q)
		return perr(ps, err, VMET_EFORMAT, "more than %d fields", MAX_TOKENS);

	if (!strcmp(tok[0], "arch")) {
		if (once(ps, &ps->have_arch, "arch", err))
			return err ? err->code : VMET_EFORMAT;
		if (nt != 2 || (strcmp(tok[1], "x86_64") && strcmp(tok[1], "i386")))
			return perr(ps, err, VMET_EFORMAT, "expected 'arch x86_64' or 'arch i386'");
		return profile_set_text(&p->arch, tok[1], err);
	}
	if (!strcmp(tok[0], "paging")) {
		int m;

		if (once(ps, &ps->have_paging, "paging", err))
			return err ? err->code : VMET_EFORMAT;
		m = nt == 2 ? paging_mode_parse(tok[1]) : -1;
		if (m < 0 || strcmp(tok[1], paging_mode_name((enum paging_mode)m)))
			return perr(ps, err, VMET_EFORMAT,
				    "expected 'paging' and one of 4, 5, pae, 32, none");
		p->paging = (enum paging_mode)m;
		return 0;
	}
	if (!strcmp(tok[0], "struct")) {
		if (!ps->have_banner)
			return perr(ps, err, VMET_EFORMAT, "struct before the banner line");
		if (nt != 3 || !parse_dec(tok[2], &a))
			return perr(ps, err, VMET_EFORMAT, "expected 'struct NAME SIZE' (decimal)");
		ps->in_body = true;
		ps->cur = profile_add_struct(p, tok[1], a, err);
		if (!ps->cur)
			return perr(ps, err, err ? err->code : VMET_EFORMAT, "%s",
				    err ? err->msg : "bad struct");
		ps->cur_idx = p->ns - 1;
		if (line_map_add((void **)&ps->lm.struct_line, ps->cur_idx, ps->line, err) ||
		    grow((void **)&ps->lm.member_line, ps->cur_idx, sizeof(size_t *), err))
			return err ? err->code : VMET_ENOMEM;
		ps->lm.member_line[ps->cur_idx] = NULL;
		return 0;
	}
	if (!strcmp(tok[0], "member")) {
		if ((nt != 5 && nt != 7) || !parse_dec(tok[3], &a) || !parse_dec(tok[4], &b) ||
		    (nt == 7 && (!parse_dec(tok[5], &c) || !parse_dec(tok[6], &d))))
			return perr(ps, err, VMET_EFORMAT,
				    "expected 'member STRUCT NAME OFFSET SIZE [BIT_OFFSET BIT_SIZE]' "
				    "(decimal)");
		if (nt == 5)
			c = d = 0;
		if (!ps->cur || strcmp(ps->cur->name, tok[1]))
			return perr(ps, err, VMET_EFORMAT,
				    "member of '%.64s' does not follow a 'struct %.64s' line "
				    "(members follow their struct)", tok[1], tok[1]);
		if (nt == 7 && (c > 7 || d < 1 || d > 64))
			return perr(ps, err, VMET_EFORMAT,
				    "bit offset %" PRIu64 " / bit size %" PRIu64
				    " out of range (0-7 / 1-64)", c, d);
		if (profile_add_member(ps->cur, tok[2], a, b, (uint8_t)c, (uint8_t)d, err))
			return perr(ps, err, err ? err->code : VMET_EFORMAT, "%s",
				    err ? err->msg : "bad member");
		if (line_map_add((void **)&ps->lm.member_line[ps->cur_idx], ps->cur->nm - 1,
				 ps->line, err))
			return err ? err->code : VMET_ENOMEM;
		return 0;
	}
	if (!strcmp(tok[0], "symbol")) {
		if (!ps->have_banner)
			return perr(ps, err, VMET_EFORMAT, "symbol before the banner line");
		if (nt != 3 || !parse_hex(tok[2], &a))
			return perr(ps, err, VMET_EFORMAT,
				    "expected 'symbol NAME ADDRESS' (1-16 hex digits, no 0x)");
		ps->in_body = true;
		ps->cur = NULL;
		if (profile_add_symbol(p, tok[1], a, err))
			return perr(ps, err, err ? err->code : VMET_EFORMAT, "%s",
				    err ? err->msg : "bad symbol");
		if (line_map_add((void **)&ps->lm.sym_line, p->nsym - 1, ps->line, err))
			return err ? err->code : VMET_ENOMEM;
		return 0;
	}
	return perr(ps, err, VMET_EFORMAT, "unknown keyword '%.32s'", tok[0]);
}

static void line_map_free(struct line_map *lm, size_t ns)
{
	if (lm->member_line)
		for (size_t i = 0; i < ns; i++)
			free(lm->member_line[i]);
	free(lm->member_line);
	free(lm->struct_line);
	free(lm->sym_line);
}

int profile_parse(const char *text, size_t len, const char *origin,
		  struct profile **out, struct vmet_err *err)
{
	struct parser ps = { .origin = origin ? origin : "(profile)" };
	char *buf = malloc(PROFILE_MAX_LINE + 1);
	size_t pos = 0;
	int rc = 0;

	*out = NULL;
	ps.lm.origin = ps.origin;
	if (len > PROFILE_MAX_FILE) {
		free(buf);
		return vmet_errf(err, VMET_ELIMIT, "%s: %zu bytes, more than the %u a profile "
				 "may have", ps.origin, len, PROFILE_MAX_FILE);
	}
	ps.p = profile_new();
	if (!buf || !ps.p) {
		free(buf);
		free(ps.p);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ps.line++;
		if (n > PROFILE_MAX_LINE) {
			rc = perr(&ps, err, VMET_ELIMIT, "line longer than %d bytes",
				  PROFILE_MAX_LINE);
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			rc = perr(&ps, err, VMET_EFORMAT, "NUL byte in the line");
			break;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		rc = parse_line(&ps, buf, n, err);
		pos += n + 1;
	}
	if (!rc && !ps.have_version)
		rc = vmet_errf(err, VMET_EFORMAT, "%s: empty, not a vmet profile", ps.origin);
	if (!rc && !ps.have_banner)
		rc = vmet_errf(err, VMET_EFORMAT, "%s: no 'banner' line", ps.origin);
	if (!rc && !ps.have_arch)
		rc = vmet_errf(err, VMET_EFORMAT, "%s: no 'arch' line", ps.origin);
	if (!rc && (rc = finish(ps.p, &ps.lm, err)) && !strstr(err ? err->msg : "", ps.origin))
		vmet_err_prefix(err, rc, "%s", ps.origin);
	line_map_free(&ps.lm, ps.p->ns);
	free(buf);
	if (rc) {
		profile_free(ps.p);
		return rc;
	}
	*out = ps.p;
	return 0;
}

int profile_read_file(const char *path, size_t max, char **data, size_t *len,
		 struct vmet_err *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vmet_errf(err, errno == ENOENT ? VMET_ENOTFOUND : VMET_EIO,
				 "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return vmet_errf(err, VMET_EIO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return vmet_errf(err, VMET_ELIMIT, "%s: %lld bytes, more than the %zu allowed",
				 path, (long long)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return vmet_errf(err, VMET_ENOMEM, "out of memory reading %s", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : 0;

			free(buf);
			close(fd);
			return vmet_errf(err, VMET_EIO, "%s: read failed at offset %zu: %s",
					 path, got, e ? strerror(e) : "file shrank");
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

int profile_load(const char *path, struct profile **out, struct vmet_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = profile_read_file(path, PROFILE_MAX_FILE, &data, &len, err);
	if (rc)
		return rc;
	rc = profile_parse(data, len, path, out, err);
	free(data);
	return rc;
}

/* ---- saving ------------------------------------------------------------ */

static int cmp_member_offset(const void *a, const void *b)
{
	const struct profile_member *x = *(const struct profile_member *const *)a;
	const struct profile_member *y = *(const struct profile_member *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->bit_offset != y->bit_offset)
		return x->bit_offset < y->bit_offset ? -1 : 1;
	return strcmp(x->name, y->name);
}

int profile_write(const struct profile *p, FILE *f, struct vmet_err *err)
{
	const struct profile_member **ord = NULL;
	size_t nmax = 0;

	for (size_t i = 0; i < p->ns; i++)
		if (p->s[i].nm > nmax)
			nmax = p->s[i].nm;
	ord = malloc((nmax ? nmax : 1) * sizeof(*ord));
	if (!ord)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	fprintf(f, "%s %d\n", PROFILE_MAGIC, PROFILE_VERSION);
	fputs("banner ", f);
	put_escaped(f, p->banner);
	fputc('\n', f);
	if (p->source && *p->source) {
		fputs("source ", f);
		put_escaped(f, p->source);
		fputc('\n', f);
	}
	fprintf(f, "arch %s\n", p->arch);
	fprintf(f, "paging %s\n", paging_mode_name(p->paging));
	for (size_t i = 0; i < p->ns; i++) {
		const struct profile_struct *s = &p->s[i];

		fprintf(f, "struct %s %" PRIu64 "\n", s->name, s->size);
		/* Members in layout order: the file reads like pahole's output. */
		for (size_t k = 0; k < s->nm; k++)
			ord[k] = &s->m[k];
		qsort(ord, s->nm, sizeof(*ord), cmp_member_offset);
		for (size_t k = 0; k < s->nm; k++) {
			fprintf(f, "member %s %s %" PRIu64 " %" PRIu64, s->name, ord[k]->name,
				ord[k]->offset, ord[k]->size);
			if (ord[k]->bit_size)
				fprintf(f, " %u %u", ord[k]->bit_offset, ord[k]->bit_size);
			fputc('\n', f);
		}
	}
	for (size_t i = 0; i < p->nsym; i++)
		fprintf(f, "symbol %s %016" PRIx64 "\n", p->sym[i].name, p->sym[i].addr);
	free(ord);
	return 0;
}

int profile_save(const struct profile *p, const char *path, struct vmet_err *err)
{
	char *tmp;
	size_t n = strlen(path) + 32;
	FILE *f;
	int fd, rc;

	if (!p->banner || !p->arch)
		return vmet_errf(err, VMET_EINVAL, "%s: profile has no banner or arch", path);
	tmp = malloc(n);
	if (!tmp)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	/* Same directory as the target, so that rename() is atomic. */
	snprintf(tmp, n, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = vmet_errf(err, VMET_EIO, "%s: cannot create a temporary file: %s", path,
			       strerror(errno));
		free(tmp);
		return rc;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		rc = vmet_errf(err, VMET_EIO, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	rc = profile_write(p, f, err);
	if (rc) {
		fclose(f);
		goto fail;
	}
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		rc = vmet_errf(err, VMET_EIO, "%s: write failed: %s", tmp, strerror(errno));
		fclose(f);
		goto fail;
	}
	if (fclose(f)) {
		rc = vmet_errf(err, VMET_EIO, "%s: close failed: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path)) {
		rc = vmet_errf(err, VMET_EIO, "%s: rename from %s failed: %s", path, tmp,
			       strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- lookups ----------------------------------------------------------- */

const struct profile_struct *profile_struct(const struct profile *p, const char *name)
{
	size_t lo = 0, hi = p ? p->ns : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->s[mid].name);

		if (!c)
			return &p->s[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct profile_member *profile_member(const struct profile *p,
					    const char *sname, const char *mname)
{
	const struct profile_struct *s = profile_struct(p, sname);
	size_t lo = 0, hi = s ? s->nm : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(mname, s->m[mid].name);

		if (!c)
			return &s->m[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int64_t profile_offset(const struct profile *p, const char *sname, const char *mname)
{
	const struct profile_member *m = profile_member(p, sname, mname);

	return m ? (int64_t)m->offset : -1;
}

uint64_t profile_sizeof(const struct profile *p, const char *sname)
{
	const struct profile_struct *s = profile_struct(p, sname);

	return s ? s->size : 0;
}

uint64_t profile_symbol(const struct profile *p, const char *name, bool *found)
{
	size_t lo = 0, hi = p ? p->nsym : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->sym[mid].name);

		if (!c) {
			if (found)
				*found = true;
			return p->sym[mid].addr;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (found)
		*found = false;
	return 0;
}

int profile_member_value(const struct profile_member *m, const void *buf, size_t len,
			 uint64_t *val, struct vmet_err *err)
{
	unsigned char b[9] = { 0 };
	uint64_t v = 0;

	if (!m->size || m->size > (m->bit_size ? 9u : 8u) || m->bit_size > 64 ||
	    m->bit_offset > 7 ||
	    (m->bit_size && m->size != ((uint64_t)m->bit_offset + m->bit_size + 7) / 8))
		return vmet_errf(err, VMET_EUNSUPPORTED,
				 "member %s: size %" PRIu64 " is not a readable integer",
				 m->name, m->size);
	if (m->offset > len || m->size > len - m->offset)
		return vmet_errf(err, VMET_ELIMIT,
				 "member %s at %" PRIu64 "+%" PRIu64 " lies beyond %zu bytes",
				 m->name, m->offset, m->size, len);
	memcpy(b, (const unsigned char *)buf + m->offset, m->size);
	for (size_t i = m->size; i-- > 0;)
		v = v << 8 | b[i];
	if (m->bit_size) {
		/* A 64-bit field at bit 7 spans 9 bytes: the top bits come from b[8]. */
		v >>= m->bit_offset;
		if (m->size == 9)
			v |= (uint64_t)b[8] << (64 - m->bit_offset);
		if (m->bit_size < 64)
			v &= (1ull << m->bit_size) - 1;
	}
	*val = v;
	return 0;
}

/* ---- finding a profile by banner --------------------------------------- */

int profile_read_banner(const char *path, char **banner, struct vmet_err *err)
{
	FILE *f = fopen(path, "re");
	char *line = malloc(PROFILE_MAX_LINE + 2);
	struct parser ps = { .origin = path };
	int rc = 0;

	*banner = NULL;
	if (!f || !line) {
		rc = vmet_errf(err, f ? VMET_ENOMEM : VMET_EIO, "%s: %s", path,
			       f ? "out of memory" : strerror(errno));
		goto out;
	}
	ps.p = profile_new();
	if (!ps.p) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto out;
	}
	/* A header is a handful of lines; a file without a banner early is not one. */
	while (!ps.have_banner && ps.line < 64) {
		size_t n;

		if (!fgets(line, PROFILE_MAX_LINE + 2, f))
			break;
		ps.line++;
		n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (n > PROFILE_MAX_LINE) {
			rc = perr(&ps, err, VMET_ELIMIT, "line longer than %d bytes",
				  PROFILE_MAX_LINE);
			goto out;
		}
		if (strlen(line) != n) {
			rc = perr(&ps, err, VMET_EFORMAT, "NUL byte in the line");
			goto out;
		}
		if ((rc = parse_line(&ps, line, n, err)))
			goto out;
	}
	if (!ps.have_banner) {
		rc = vmet_errf(err, VMET_EFORMAT, "%s: no 'banner' line in the header", path);
		goto out;
	}
	*banner = ps.p->banner;
	ps.p->banner = NULL;
out:
	profile_free(ps.p);
	free(line);
	if (f)
		fclose(f);
	return rc;
}

static int filter_vmprof(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 7 && !strcmp(d->d_name + n - 7, ".vmprof");
}

int profile_list_dir(const char *dir, char ***files, size_t *n, struct vmet_err *err)
{
	struct dirent **ents = NULL;
	char **out;
	int ne = scandir(dir, &ents, filter_vmprof, alphasort);
	size_t k = 0;
	int rc = 0;

	*files = NULL;
	*n = 0;
	if (ne < 0)
		return errno == ENOENT ? 0 : vmet_errf(err, VMET_EIO, "%s: %s", dir,
						       strerror(errno));
	out = calloc((size_t)ne + 1, sizeof(*out));
	for (int i = 0; i < ne; i++) {
		if (out && !rc) {
			size_t l = strlen(dir) + strlen(ents[i]->d_name) + 2;

			out[k] = malloc(l);
			if (out[k]) {
				snprintf(out[k], l, "%s/%s", dir, ents[i]->d_name);
				k++;
			} else {
				rc = VMET_ENOMEM;
			}
		}
		free(ents[i]);
	}
	free(ents);
	if (!out || rc) {
		for (size_t i = 0; out && i < k; i++)
			free(out[i]);
		free(out);
		return vmet_errf(err, VMET_ENOMEM, "out of memory listing %s", dir);
	}
	*files = out;
	*n = k;
	return 0;
}

int profile_find_for_banner(const char *const *dirs, size_t ndirs,
			    const char *banner, struct profile **out,
			    struct vmet_err *err)
{
	size_t blen = strlen(banner), checked = 0, bad = 0;
	char firstbad[VMET_ERR_MSG_MAX] = "";
	char where[256] = "";
	size_t wl = 0;
	int rc = VMET_ENOTFOUND;

	*out = NULL;
	/* The caller may pass linux_banner as stored, with its newline. */
	while (blen && (banner[blen - 1] == '\n' || banner[blen - 1] == '\r'))
		blen--;
	for (size_t i = 0; i < ndirs && rc == VMET_ENOTFOUND; i++) {
		char **files = NULL;
		size_t nf = 0;
		struct vmet_err e2 = { 0 };

		if (wl < sizeof(where))
			wl += (size_t)snprintf(where + wl, sizeof(where) - wl, "%s%s",
					       wl ? ", " : "", dirs[i]);
		if (profile_list_dir(dirs[i], &files, &nf, &e2)) {
			if (!bad++)
				snprintf(firstbad, sizeof(firstbad), "%s", e2.msg);
			continue;
		}
		for (size_t k = 0; k < nf; k++) {
			char *b = NULL;

			if (rc == VMET_ENOTFOUND) {
				checked++;
				vmet_err_clear(&e2);
				if (profile_read_banner(files[k], &b, &e2)) {
					if (!bad++)
						snprintf(firstbad, sizeof(firstbad), "%s", e2.msg);
				} else if (strlen(b) == blen && !memcmp(b, banner, blen)) {
					rc = profile_load(files[k], out, err);
				}
				free(b);
			}
			free(files[k]);
		}
		free(files);
	}
	if (rc != VMET_ENOTFOUND)
		return rc;
	return vmet_errf(err, VMET_ENOTFOUND,
			 "no profile for the kernel banner found in memory \"%.*s\" "
			 "(%zu profile(s) checked in %s%s%s; build one with "
			 "'vmet profile build' or give --profile)",
			 (int)(blen > 200 ? 200 : blen), banner, checked,
			 ndirs ? where : "no directories",
			 bad ? "; unreadable: " : "", bad ? firstbad : "");
}

/* ---- default search path ----------------------------------------------- */

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static void add_dir(char **dirs, size_t max, size_t *n, const char *path)
{
	char real[PATH_MAX];
	char *c;

	if (*n >= max || !is_dir(path) || !realpath(path, real))
		return;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(dirs[i], real))
			return;
	c = strdup(real);
	if (c)
		dirs[(*n)++] = c;
}

size_t profile_default_dirs(char **dirs, size_t max)
{
	const char *env = getenv("VMET_PROFILE_DIR");
	char exe[PATH_MAX], buf[PATH_MAX + 32];
	size_t n = 0;
	ssize_t r;

	if (env) {
		const char *s = env;

		while (*s) {
			size_t l = strcspn(s, ":");

			if (l && l < sizeof(buf)) {
				memcpy(buf, s, l);
				buf[l] = '\0';
				add_dir(dirs, max, &n, buf);
			}
			s += l;
			if (*s == ':')
				s++;
		}
	}
	r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (r > 0) {
		char *slash;

		exe[r] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, sizeof(buf), "%s/profiles", exe);
			add_dir(dirs, max, &n, buf);
			snprintf(buf, sizeof(buf), "%s/../profiles", exe);
			add_dir(dirs, max, &n, buf);
		}
	}
	add_dir(dirs, max, &n, VMET_PROFILE_DATADIR);
	return n;
}

void profile_dirs_free(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
}
