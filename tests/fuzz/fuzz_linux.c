// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the Linux view over a real guest: the bundled snapshot of a Debian
 * 12 guest (testdata/debian12-flat.vmsnap: exactly the pages ps, netstat
 * and mount read) with attacker-chosen bytes overlaid on those pages, then the whole
 * listing: locate and bind the kernel, every task with threads, command
 * lines, environments and exe/cwd/root paths, every socket.  Input:
 * patches of (page u16, offset u16, length u8, bytes), at most 64.  Run
 * from the source tree (make fuzz does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/source.h"
#include "os/linux/linux.h"
#include "profiles/profile.h"

#define MAX_PATCHES 64

struct patch {
	uint64_t pa;
	uint8_t len;
	uint8_t bytes[256];
};

static struct phys_source *base;
static struct profile *prof;
static uint64_t *pages;		/* physical address of each stored page, sorted */
static uint8_t *content;		/* their bytes, read once: the snapshot decompresses slowly */
static size_t npages;
static struct patch patches[MAX_PATCHES];
static size_t npatches;

static const uint8_t *page_bytes(uint64_t pa)
{
	size_t lo = 0, hi = npages;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pages[mid] == pa)
			return content + mid * 4096;
		if (pages[mid] < pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int overlay_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
			struct vmet_err *err)
{
	uint8_t *out = buf;

	for (size_t done = 0; done < len;) {
		uint64_t a = addr + done;
		const uint8_t *pg = page_bytes(a & ~4095ull);
		size_t n = 4096 - (a & 4095);

		if (n > len - done)
			n = len - done;
		if (!pg)
			return vmet_errf(err, VMET_EHOLE, "fuzz: 0x%llx not in the snapshot",
					 (unsigned long long)a);
		memcpy(out + done, pg + (a & 4095), n);
		done += n;
	}
	for (size_t i = 0; i < npatches; i++) {
		const struct patch *p = &patches[i];
		uint64_t a = addr > p->pa ? addr : p->pa;
		uint64_t b = addr + len < p->pa + p->len ? addr + len : p->pa + p->len;

		if (a < b)
			memcpy(out + (a - addr), p->bytes + (a - p->pa), b - a);
	}
	return 0;
}

static const struct phys_source_ops overlay_ops = { .read = overlay_read };

static void init(void)
{
	if (base)
		return;
	if (source_open("testdata/debian12-flat.vmsnap", NULL, &base, NULL) ||
	    profile_load("profiles/debian-6.1.0-56-amd64.vmprof", &prof, NULL)) {
		fprintf(stderr, "fuzz_linux: run from the source tree (testdata/, profiles/)\n");
		abort();
	}
	for (size_t r = 0; r < base->nranges; r++)
		npages += (base->ranges[r].end - base->ranges[r].start) / 4096;
	pages = calloc(npages, sizeof(*pages));
	content = malloc(npages * 4096);
	if (!pages || !content)
		abort();
	npages = 0;
	for (size_t r = 0; r < base->nranges; r++)
		for (uint64_t a = base->ranges[r].start; a < base->ranges[r].end; a += 4096) {
			if (phys_read(base, a, content + npages * 4096, 4096, NULL))
				abort();
			pages[npages++] = a;
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phys_source ov;
	struct aspace *lower;
	struct linux_locate_opts lo = { .use_vmcoreinfo = true };
	struct linux_layout lay;
	struct linux_kernel *k = NULL;
	struct linux_report *rep;
	struct linux_task_list leaders = { 0 }, all = { 0 };
	struct linux_sock_list socks = { 0 };

	init();
	npatches = 0;
	while (size >= 5 && npatches < MAX_PATCHES) {
		struct patch *p = &patches[npatches++];
		uint16_t pg = (uint16_t)(data[0] | data[1] << 8), off = (uint16_t)(data[2] | data[3] << 8);
		size_t len = data[4];

		data += 5;
		size -= 5;
		if (len > size)
			len = size;
		p->pa = pages[pg % npages] + (off % 4096);
		p->len = (uint8_t)len;
		memcpy(p->bytes, data, len);
		data += len;
		size -= len;
		if (!len)
			npatches--;	/* an empty patch changes nothing */
	}
	/* The overlay borrows the snapshot's map, records and VMCOREINFO. */
	ov = *base;
	ov.ops = &overlay_ops;
	ov.priv = NULL;
	lower = aspace_phys_new(&ov);
	rep = calloc(1, sizeof(*rep));
	if (!lower || !rep)
		abort();
	if (!linux_locate(&ov, lower, &lo, &lay, NULL) &&
	    !linux_kernel_bind(&ov, lower, &lay, prof, &k, NULL)) {
		/* Environments and paths too, as vmet mount reads them. */
		linux_tasks(k, LINUX_TASKS_THREADS | LINUX_TASKS_CMDLINE | LINUX_TASKS_ENVIRON |
			    LINUX_TASKS_PATHS, &all, rep, NULL);
		if (!linux_tasks(k, 0, &leaders, rep, NULL))
			linux_sockets(k, &leaders, LINUX_SOCKS_INET | LINUX_SOCKS_UNIX, &socks, rep, NULL);
		/* Untouched, the snapshot must list its guest: else this harness
		 * would only ever fuzz the error paths. */
		if (!npatches && (all.n < 60 || socks.n < 15)) {
			fprintf(stderr, "fuzz_linux: the clean snapshot lists %zu tasks, %zu sockets\n",
				all.n, socks.n);
			abort();
		}
		linux_sock_list_free(&socks);
		linux_task_list_free(&leaders);
		linux_task_list_free(&all);
		linux_kernel_close(k);
	}
	free(rep);
	aspace_free(lower);
	return 0;
}
