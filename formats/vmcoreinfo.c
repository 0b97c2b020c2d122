// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Looking up VMCOREINFO keys.  The text comes from the dump (hostile): lines
 * are matched whole-key only, and values are bounded by the line's end.
 */
#include "formats/source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *vmcoreinfo_get(const struct phys_source *src, const char *key, size_t *len)
{
	const char *p = src ? src->vmcoreinfo : NULL;
	size_t klen = key ? strlen(key) : 0;

	if (!p || !klen)
		return NULL;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			if (len)
				*len = llen - klen - 1;
			return p + klen + 1;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

int vmcoreinfo_get_u64(const struct phys_source *src, const char *key, uint64_t *val,
		       struct vmet_err *err)
{
	size_t len;
	const char *v = vmcoreinfo_get(src, key, &len);
	char buf[32], *end;
	bool hex = !strncmp(key, "SYMBOL(", 7) || !strcmp(key, "KERNELOFFSET");
	bool neg = false;
	const char *s = buf;

	if (!v)
		return vmet_errf(err, VMET_ENOTFOUND, "VMCOREINFO has no %s", key);
	if (!len || len >= sizeof(buf))
		return vmet_errf(err, VMET_EFORMAT, "VMCOREINFO %s: value of %zu characters is not a number",
				 key, len);
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (!hex && *s == '-') {	/* NUMBER() is signed */
		neg = true;
		s++;
	}
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		goto bad;
	errno = 0;
	*val = strtoull(s, &end, hex ? 16 : 10);
	if (errno || *end)
		goto bad;
	if (neg)
		*val = (uint64_t)-(int64_t)*val;
	return 0;
bad:
	return vmet_errf(err, VMET_EFORMAT, "VMCOREINFO %s=%s is not a %s number", key, buf,
			 hex ? "hexadecimal" : "decimal");
}
