// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the memory-image readers: the input is a whole file (ELF core, LiME,
 * vmet snapshot or raw), opened as the user would open it, then read at the
 * edges of every range it claims.  The first byte picks the format to force
 * (or none: sniffing), so the readers see inputs whose magic is wrong too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const forced[] = { NULL, "elf", "lime", "vmsnap", "raw" };
	struct source_opts opts = { 0 };
	struct phys_source *src = NULL;
	char path[64];
	int fd;

	if (size < 1 || size > (4u << 20))
		return 0;
	fd = memfd_create("vmet-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	opts.format = forced[data[0] % 5];
	if (!source_open(path, &opts, &src, NULL)) {
		uint8_t buf[256];

		/* Every range's first and last bytes, and one page across its end. */
		for (size_t i = 0; i < src->nranges && i < 64; i++) {
			const struct phys_range *r = &src->ranges[i];
			uint64_t len = r->end - r->start;

			phys_read(src, r->start, buf, len < sizeof(buf) ? len : sizeof(buf), NULL);
			if (len > sizeof(buf))
				phys_read(src, r->end - sizeof(buf), buf, sizeof(buf), NULL);
			phys_read(src, r->end - 1, buf, 2, NULL);
			if (src->ops->map)
				src->ops->map(src, r->start, len < 4096 ? len : 4096);
		}
		{
			size_t vl;

			vmcoreinfo_get(src, "KERNELOFFSET", &vl);
		}
		phys_close(src);
	}
	close(fd);
	return 0;
}
