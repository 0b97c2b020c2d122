// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A physical scan for "Linux version " strings: the last resort when neither
 * VMCOREINFO nor a CR3 says where the kernel is.  Memory can hold more than
 * one such string (Debian's 6.1 kernels keep an earlier, slightly different
 * copy), so a hit is only a candidate: linux_kernel_bind() confirms which
 * one is linux_banner through the kernel's own page tables.
 */
#include "os/linux/linux.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "Linux version "
#define PREFIX_LEN (sizeof(PREFIX) - 1)
#define CHUNK (1u << 20)
/* Bytes kept from the previous chunk so a banner across a boundary is seen whole. */
#define OVERLAP LINUX_BANNER_MAX

/* A plausible banner: printable text up to a newline, a version digit first. */
static bool take_banner(const uint8_t *p, size_t avail, char *out)
{
	size_t i;

	if (avail <= PREFIX_LEN || p[PREFIX_LEN] < '0' || p[PREFIX_LEN] > '9')
		return false;
	for (i = 0; i < avail && i < LINUX_BANNER_MAX - 1; i++) {
		if (p[i] == '\n' || p[i] == '\0')
			break;
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	}
	if (i == avail || i == LINUX_BANNER_MAX - 1)
		return false;
	memcpy(out, p, i);
	out[i] = '\0';
	return true;
}

/* Read [addr, addr+len) from lower; stage-2 spaces may have unmapped pages. */
static size_t read_some(struct aspace *lower, uint64_t addr, uint8_t *buf, size_t len)
{
	size_t got = 0;

	if (lower->kind == ASPACE_PHYS)
		return phys_read(lower->phys, addr, buf, len, NULL) ? 0 : len;
	/* Page by page: an unmapped guest page ends the usable run. */
	while (got < len) {
		size_t n = len - got < 4096 ? len - got : 4096;

		if (aspace_read(lower, addr + got, buf + got, n, NULL))
			break;
		got += n;
	}
	return got;
}

static int scan_run(struct aspace *lower, uint64_t start, uint64_t end, uint8_t *buf,
		    struct linux_banner_hit *hits, size_t max, size_t *nhits)
{
	uint64_t addr = start;

	while (addr < end) {
		size_t want = end - addr > CHUNK ? CHUNK : (size_t)(end - addr);
		size_t got = read_some(lower, addr, buf, want), off = 0;

		if (!got) {
			/* Unreadable page (stage-2 hole): step over it. */
			addr = (addr | 0xfff) + 1;
			continue;
		}
		while (off + PREFIX_LEN <= got) {
			uint8_t *m = memmem(buf + off, got - off, PREFIX, PREFIX_LEN);

			if (!m)
				break;
			off = (size_t)(m - buf);
			if (*nhits < max && take_banner(m, got - off, hits[*nhits].text)) {
				hits[*nhits].pa = addr + off;
				(*nhits)++;
			}
			off++;
		}
		if (*nhits >= max || addr + got >= end)
			break;
		/* Re-read the tail so a banner split across chunks is found whole. */
		addr += got > OVERLAP ? got - OVERLAP : got;
	}
	return 0;
}

int linux_banner_scan(struct aspace *lower, uint64_t start, uint64_t limit,
		      struct linux_banner_hit *hits, size_t max, size_t *nhits,
		      struct vmet_err *err)
{
	uint8_t *buf = malloc(CHUNK);
	struct phys_source *src = lower->phys;

	*nhits = 0;
	if (!buf)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	if (lower->kind == ASPACE_PHYS) {
		for (size_t i = 0; i < src->nranges && *nhits < max; i++) {
			uint64_t s = src->ranges[i].start, e = src->ranges[i].end;

			if (s < start)
				s = start;
			if (limit && e > limit)
				e = limit;
			if (s < e)
				scan_run(lower, s, e, buf, hits, max, nhits);
		}
	} else {
		uint64_t end = limit ? limit : phys_total_size(src);

		if (start < end)
			scan_run(lower, start, end, buf, hits, max, nhits);
	}
	free(buf);
	/* A hit after the overlap re-read is found twice: keep one of each. */
	for (size_t i = 1; i < *nhits; ) {
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup |= hits[j].pa == hits[i].pa;
		if (dup) {
			memmove(&hits[i], &hits[i + 1], (*nhits - i - 1) * sizeof(hits[0]));
			(*nhits)--;
		} else {
			i++;
		}
	}
	return 0;
}
