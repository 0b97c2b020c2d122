/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small streaming JSON writer for --json output.  Strings from guest
 * memory are hostile: every byte that is not printable ASCII is escaped, so
 * the output is always valid JSON whatever the guest put in a comm.
 */
#ifndef VMET_CMD_JSON_H
#define VMET_CMD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no element written yet at this depth */
	bool after_key;
	bool pretty;
};

void json_init(struct json *j, FILE *f, bool pretty);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_hex(struct json *j, uint64_t v);	/* "0x..." string: JSON numbers lose 64-bit precision */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* key + value shorthands */
void json_kstr(struct json *j, const char *k, const char *s);
void json_ku64(struct json *j, const char *k, uint64_t v);
void json_ki64(struct json *j, const char *k, int64_t v);
void json_khex(struct json *j, const char *k, uint64_t v);
void json_kbool(struct json *j, const char *k, bool v);
/* Finish the document (newline). */
void json_end(struct json *j);

#endif
