// SPDX-License-Identifier: GPL-2.0-or-later
#include "live/qemu_regs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live/qmp.h"

/* Find "KEY=" at a token start within [p, end) and parse the hex after it. */
static bool reg_value(const char *p, const char *end, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);

	for (const char *s = p; s + kl < end; s++) {
		char *e;

		if (strncmp(s, key, kl) || s[kl] != '=')
			continue;
		if (s != p && s[-1] != ' ' && s[-1] != '\n')
			continue;
		errno = 0;
		*v = strtoull(s + kl + 1, &e, 16);
		return !errno && e != s + kl + 1;
	}
	return false;
}

int qemu_parse_registers(const char *text, struct vcpu_set *out, struct vmet_err *err)
{
	static const char *const need[] = { "CR0", "CR3", "CR4", "EFER" };
	const char *p = strstr(text, "CPU#");
	struct timespec ts;
	unsigned count = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!p)
		return vmet_errf(err, VMET_EFORMAT, "'info registers' output has no CPU#N block");
	while (p) {
		const char *next = strstr(p + 4, "CPU#");
		const char *end = next ? next : p + strlen(p);
		struct vcpu_record r = { 0 };
		uint64_t vals[4];
		char *e;
		unsigned long n = strtoul(p + 4, &e, 10);

		if (e == p + 4 || n > 4096)
			return vmet_errf(err, VMET_EFORMAT, "'info registers': bad CPU number near '%.12s'", p);
		for (int i = 0; i < 4; i++)
			if (!reg_value(p, end, need[i], &vals[i]))
				return vmet_errf(err, VMET_EFORMAT,
						 "'info registers': CPU#%lu has no %s value", n, need[i]);
		if (++count > 4096)
			return vmet_errf(err, VMET_ELIMIT, "'info registers': more than 4096 CPUs");
		r.vcpu = (unsigned)n;
		r.cr0 = vals[0];
		r.cr3 = vals[1];
		r.cr4 = vals[2];
		r.efer = vals[3];
		reg_value(p, end, "RIP", &r.rip);
		r.mode = paging_mode_from_regs(r.cr0, r.cr4, r.efer);
		r.cr3_origin = VCPU_ORIGIN_HELPER;
		r.regs_origin = VCPU_ORIGIN_HELPER;
		r.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (vcpu_set_add(out, &r))
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
		p = next;
	}
	return 0;
}

int qemu_read_registers(struct qmp *q, struct vcpu_set *out, struct vmet_err *err)
{
	char *text = NULL;
	int rc = qmp_hmp(q, "info registers -a", &text, err);

	if (!rc)
		rc = qemu_parse_registers(text, out, err);
	free(text);
	return rc;
}
