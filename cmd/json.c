// SPDX-License-Identifier: GPL-2.0-or-later
#include "cmd/json.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
	j->pretty = pretty;
}

static void indent(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator before a value or key at the current depth. */
static void pre_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth)
		indent(j);
}

static void open(struct json *j, char c)
{
	pre_value(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void json_obj_begin(struct json *j) { open(j, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr_begin(struct json *j) { open(j, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

static void put_escaped(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			/* Bytes >= 0x80 are escaped one by one (as U+0080..U+00FF)
			 * rather than trusted as UTF-8: the output stays valid and
			 * the raw byte is recoverable. */
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	pre_value(j);
	put_escaped(j->f, key, strlen(key));
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	pre_value(j);
	put_escaped(j->f, s, n);
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v) { pre_value(j); fprintf(j->f, "%" PRIu64, v); }
void json_i64(struct json *j, int64_t v) { pre_value(j); fprintf(j->f, "%" PRId64, v); }
void json_hex(struct json *j, uint64_t v) { pre_value(j); fprintf(j->f, "\"0x%" PRIx64 "\"", v); }
void json_bool(struct json *j, bool v) { pre_value(j); fputs(v ? "true" : "false", j->f); }
void json_null(struct json *j) { pre_value(j); fputs("null", j->f); }

void json_kstr(struct json *j, const char *k, const char *s) { json_key(j, k); json_str(j, s); }
void json_ku64(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_u64(j, v); }
void json_ki64(struct json *j, const char *k, int64_t v) { json_key(j, k); json_i64(j, v); }
void json_khex(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_hex(j, v); }
void json_kbool(struct json *j, const char *k, bool v) { json_key(j, k); json_bool(j, v); }

void json_end(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
