// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/helper.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static bool num(const char *s, size_t n, uint64_t *v)
{
	char buf[32], *end;

	if (!n || n >= sizeof(buf) || *s == '-' || *s == '+')
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return !errno && !*end;
}

int helper_records_parse(const char *text, size_t len, const char *origin_name,
			 struct vcpu_set *out, struct vmet_err *err)
{
	size_t line = 0, added = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct vcpu_record r = { 0 };
		bool have_cr3 = false, have_regs = false, blank = true;

		line++;
		if ((size_t)(le - p) > HELPER_MAX_LINE)
			return vmet_errf(err, VMET_ELIMIT, "%s:%zu: line longer than %d bytes",
					 origin_name, line, HELPER_MAX_LINE);
		for (const char *f = p; f < le;) {
			const char *fe, *eq;
			size_t kl;
			uint64_t v;

			while (f < le && (*f == ' ' || *f == '\t' || *f == '\r'))
				f++;
			if (f == le)
				break;
			if (blank && *f == '#')
				break;
			blank = false;
			for (fe = f; fe < le && *fe != ' ' && *fe != '\t' && *fe != '\r'; fe++)
				;
			eq = memchr(f, '=', (size_t)(fe - f));
			if (!eq)
				return vmet_errf(err, VMET_EFORMAT, "%s:%zu: '%.*s' is not KEY=VALUE",
						 origin_name, line, (int)(fe - f), f);
			kl = (size_t)(eq - f);
#define KEY(k) (kl == sizeof(k) - 1 && !strncmp(f, k, kl))
			if (KEY("s2type")) {
				size_t vl = (size_t)(fe - eq - 1);

				if (vl == 3 && !strncasecmp(eq + 1, "ept", 3))
					r.s2_type = STAGE2_EPT;
				else if (vl == 3 && !strncasecmp(eq + 1, "npt", 3))
					r.s2_type = STAGE2_NPT;
				else if (!(vl == 4 && !strncasecmp(eq + 1, "none", 4)))
					return vmet_errf(err, VMET_EFORMAT, "%s:%zu: s2type must be none, ept or npt",
							 origin_name, line);
			} else if (KEY("vcpu") || KEY("cr3") || KEY("cr0") || KEY("cr4") || KEY("efer") ||
				   KEY("rip") || KEY("s2root") || KEY("time")) {
				if (!num(eq + 1, (size_t)(fe - eq - 1), &v))
					return vmet_errf(err, VMET_EFORMAT, "%s:%zu: %.*s: '%.*s' is not a number",
							 origin_name, line, (int)kl, f, (int)(fe - eq - 1), eq + 1);
				if (KEY("vcpu")) {
					if (v > 4095)
						return vmet_errf(err, VMET_EFORMAT, "%s:%zu: vcpu %llu is out of range",
								 origin_name, line, (unsigned long long)v);
					r.vcpu = (unsigned)v;
				} else if (KEY("cr3")) {
					r.cr3 = v;
					have_cr3 = true;
				} else if (KEY("cr0")) {
					r.cr0 = v;
					have_regs = true;
				} else if (KEY("cr4")) {
					r.cr4 = v;
				} else if (KEY("efer")) {
					r.efer = v;
				} else if (KEY("rip")) {
					r.rip = v;
				} else if (KEY("s2root")) {
					r.s2_root = v;
				} else {
					r.time_ns = v;
				}
			}
#undef KEY
			f = fe;
		}
		p = nl ? nl + 1 : end;
		if (blank)
			continue;
		if (!have_cr3)
			return vmet_errf(err, VMET_EFORMAT, "%s:%zu: record without cr3=", origin_name, line);
		if (added == HELPER_MAX_RECORDS)
			return vmet_errf(err, VMET_ELIMIT, "%s: more than %d records", origin_name,
					 HELPER_MAX_RECORDS);
		r.cr3_origin = VCPU_ORIGIN_HELPER;
		if (have_regs) {
			r.mode = paging_mode_from_regs(r.cr0, r.cr4, r.efer);
			r.regs_origin = VCPU_ORIGIN_HELPER;
		} else {
			/* CR3 alone: the walkers try what a 64-bit guest can use. */
			r.mode = PAGING_4LEVEL;
		}
		if (r.s2_type != STAGE2_NONE)
			r.s2_origin = VCPU_ORIGIN_HELPER;
		if (vcpu_set_add(out, &r))
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
		added++;
	}
	return 0;
}

int helper_records_load(const char *path, struct vcpu_set *out, struct vmet_err *err)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *buf;
	size_t n;
	int rc;

	if (!f)
		return vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || st.st_size > (off_t)HELPER_MAX_RECORDS * 256) {
		fclose(f);
		return vmet_errf(err, VMET_ELIMIT, "%s: too large for a helper record stream", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	rc = helper_records_parse(buf, n, path, out, err);
	free(buf);
	return rc;
}
