// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/phys.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct phys_source *phys_source_new(const struct phys_source_ops *ops,
				    const char *format)
{
	struct phys_source *src = calloc(1, sizeof(*src));

	if (src) {
		src->ops = ops;
		src->format = format;
	}
	return src;
}

long phys_find_range(const struct phys_source *src, uint64_t addr)
{
	size_t lo = 0, hi = src->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct phys_range *r = &src->ranges[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

bool phys_contains(const struct phys_source *src, uint64_t addr, uint64_t len)
{
	while (len) {
		long i = phys_find_range(src, addr);
		uint64_t avail;

		if (i < 0)
			return false;
		avail = src->ranges[i].end - addr;
		if (avail >= len)
			return true;
		addr += avail;
		len -= avail;
	}
	return true;
}

uint64_t phys_total_size(const struct phys_source *src)
{
	uint64_t total = 0;

	for (size_t i = 0; i < src->nranges; i++)
		total += src->ranges[i].end - src->ranges[i].start;
	return total;
}

int phys_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
	      struct vmet_err *err)
{
	uint8_t *p = buf;

	if (len && addr + len - 1 < addr)
		return vmet_errf(err, VMET_EHOLE,
				 "physical read at 0x%" PRIx64 " wraps the address space", addr);
	if (src->read_budget && (src->bytes_read >= src->read_budget ||
				 len > src->read_budget - src->bytes_read))
		return vmet_errf(err, VMET_ELIMIT, "read budget of %" PRIu64 " bytes used up "
				 "at physical 0x%" PRIx64 " (--max-read)", src->read_budget, addr);
	src->bytes_read += len;
	while (len) {
		long i = phys_find_range(src, addr);
		size_t n;
		int rc;

		if (i < 0)
			return vmet_errf(err, VMET_EHOLE,
					 "physical address 0x%" PRIx64 " is not in the %s source's memory",
					 addr, src->format);
		n = src->ranges[i].end - addr < len ? (size_t)(src->ranges[i].end - addr) : len;
		rc = src->ops->read(src, addr, p, n, err);
		if (rc)
			return rc;
		p += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int phys_read_u64(struct phys_source *src, uint64_t addr, uint64_t *val,
		  struct vmet_err *err)
{
	uint8_t b[8];
	int rc = phys_read(src, addr, b, 8, err);

	if (rc)
		return rc;
	memcpy(val, b, 8); /* x86 only: host and guest are little-endian */
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct phys_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int phys_set_ranges(struct phys_source *src, struct phys_range *ranges,
		    size_t n, struct vmet_err *err)
{
	if (n)
		qsort(ranges, n, sizeof(*ranges), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (ranges[i].end <= ranges[i].start) {
			uint64_t s = ranges[i].start, e = ranges[i].end;

			free(ranges);
			return vmet_errf(err, VMET_EFORMAT,
					 "memory range %zu [0x%" PRIx64 ", 0x%" PRIx64 ") is empty or wraps",
					 i, s, e);
		}
		if (i && ranges[i].start < ranges[i - 1].end) {
			uint64_t s = ranges[i].start, ps = ranges[i - 1].start,
				 pe = ranges[i - 1].end;
			free(ranges);
			return vmet_errf(err, VMET_EFORMAT,
					 "memory ranges overlap: 0x%" PRIx64 " lies inside [0x%" PRIx64
					 ", 0x%" PRIx64 ")", s, ps, pe);
		}
	}
	free(src->ranges);
	src->ranges = ranges;
	src->nranges = n;
	return 0;
}

void phys_release(struct phys_source *src, uint64_t addr, uint64_t len)
{
	if (src->ops->release && len)
		src->ops->release(src, addr, len);
}

void phys_close(struct phys_source *src)
{
	if (!src)
		return;
	if (src->ops && src->ops->close)
		src->ops->close(src);
	free(src->ranges);
	free(src->description);
	free(src->vmcoreinfo);
	vcpu_set_free(&src->vcpus);
	free(src);
}
