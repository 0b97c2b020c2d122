// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshot benchmark: dump throughput (MiB/s of memory read), compression
 * ratio, verify throughput, raw-export throughput, and random 4 KiB read
 * latency from the snapshot (cold: fresh open; warm: the same pages again)
 * against the raw source.  Prints figures; asserts nothing about time.
 *
 *   bench_dump [RAMFILE]
 *
 * RAMFILE defaults to $VMET_BENCH_RAM, then to the test bed's capture of
 * guest "flat" ($VMET_STATE_DIR/flat/ram.raw, see docs/testbed.md);
 * without either, a synthetic 512 MiB image (70% zero pages, text-like and
 * random pages) is made in /tmp and the figures say so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "formats/source.h"
#include "formats/vmsnap.h"

#define NREADS 20000

static char *synthetic(void)
{
	static char path[64];
	uint64_t size = 512ull << 20;
	uint8_t *page = malloc(4096);
	FILE *f;
	unsigned seed = 1;

	snprintf(path, sizeof(path), "/tmp/vmet-bench-ram.%d", (int)getpid());
	f = fopen(path, "wb");
	if (!f || !page)
		return NULL;
	for (uint64_t a = 0; a < size; a += 4096) {
		unsigned kind;

		seed = seed * 1103515245 + 12345;
		kind = (seed >> 16) % 10;
		if (kind < 7) {
			memset(page, 0, 4096);
		} else if (kind < 9) {
			for (int k = 0; k < 4096; k++)
				page[k] = (uint8_t)("struct task_struct init_task swapper "[k % 37] ^ (a >> 12));
		} else {
			for (int k = 0; k < 4096; k++) {
				seed = seed * 1103515245 + 12345;
				page[k] = (uint8_t)(seed >> 16);
			}
		}
		if (fwrite(page, 1, 4096, f) != 4096) {
			fclose(f);
			free(page);
			return NULL;
		}
	}
	fclose(f);
	free(page);
	return path;
}

/* Mean and 99th percentile of NREADS random page reads, in microseconds. */
static void read_latency(struct phys_source *src, const uint64_t *addrs, double *mean, double *p99)
{
	static double t[NREADS];
	uint8_t buf[4096];
	struct vmet_err err;
	double sum = 0;

	for (int i = 0; i < NREADS; i++) {
		double t0 = bench_now();

		if (phys_read(src, addrs[i], buf, 4096, &err))
			fprintf(stderr, "bench_dump: read 0x%" PRIx64 ": %s\n", addrs[i], err.msg);
		t[i] = (bench_now() - t0) * 1e6;
		sum += t[i];
	}
	for (int i = 1; i < NREADS; i++)	/* insertion sort is fine for 20000 */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	*mean = sum / NREADS;
	*p99 = t[NREADS * 99 / 100];
}

int main(int argc, char **argv)
{
	const char *ram = argc > 1 ? argv[1] : getenv("VMET_BENCH_RAM");
	char tb[512], snap[64], rawout[64];
	struct phys_source *src = NULL, *snapsrc = NULL;
	struct vmet_err err = { 0 };
	struct vmsnap_write_stats st;
	struct vmsnap_write_opts wo = { 0 };
	bool synth = false;
	uint64_t *addrs, mem;
	uint8_t d[32];
	double t0, tw, tv, tr, m1, p1, m2, p2, m3, p3;
	struct stat sb;

	if (ram && stat(ram, &sb)) {
		fprintf(stderr, "bench_dump: %s: no such file\n", ram);
		return 1;
	}
	if (!ram) {
		const char *sd = getenv("VMET_STATE_DIR");

		snprintf(tb, sizeof(tb), "%s/flat/ram.raw", sd ? sd : "/var/tmp/vmet-state");
		ram = tb;
	}
	if (!ram || stat(ram, &sb)) {
		ram = synthetic();
		synth = true;
		if (!ram) {
			fprintf(stderr, "bench_dump: cannot make a synthetic image in /tmp\n");
			return 1;
		}
	}
	snprintf(snap, sizeof(snap), "/tmp/vmet-bench.%d.vmsnap", (int)getpid());
	snprintf(rawout, sizeof(rawout), "/tmp/vmet-bench.%d.raw", (int)getpid());
	if (raw_open(ram, NULL, &src, &err)) {
		fprintf(stderr, "bench_dump: %s\n", err.msg);
		return 1;
	}
	mem = phys_total_size(src);
	printf("bench_dump: %s memory: %s (%.0f MiB)\n", synth ? "synthetic" : "real guest",
	       ram, (double)mem / (1 << 20));

	t0 = bench_now();
	if (vmsnap_write(src, snap, &wo, &st, &err)) {
		fprintf(stderr, "bench_dump: dump: %s\n", err.msg);
		return 1;
	}
	tw = bench_now() - t0;
	printf("  dump (zlib level 1, 16-page chunks): %.2f s, %.0f MiB/s; %" PRIu64 " of %" PRIu64
	       " pages non-zero; file %.1f MiB = %.1f%% of memory (%.1f%% of the non-zero pages)\n",
	       tw, (double)mem / (1 << 20) / tw, st.pages_stored, st.pages_seen,
	       (double)st.file_size / (1 << 20), 100.0 * (double)st.file_size / (double)mem,
	       st.pages_stored ? 100.0 * (double)st.file_size / (double)(st.pages_stored * 4096) : 0);

	if (vmsnap_open(snap, &snapsrc, &err)) {
		fprintf(stderr, "bench_dump: open: %s\n", err.msg);
		return 1;
	}
	t0 = bench_now();
	if (vmsnap_verify(snapsrc, d, &err))
		fprintf(stderr, "bench_dump: verify: %s\n", err.msg);
	tv = bench_now() - t0;
	printf("  verify (inflate + SHA-256): %.2f s, %.0f MiB/s of memory\n", tv,
	       (double)mem / (1 << 20) / tv);

	addrs = malloc(NREADS * sizeof(*addrs));
	srand(42);
	for (int i = 0; i < NREADS; i++) {
		size_t r = (size_t)rand() % src->nranges;
		uint64_t pages = (src->ranges[r].end - src->ranges[r].start) / 4096;

		addrs[i] = src->ranges[r].start + ((uint64_t)rand() % (pages ? pages : 1)) * 4096;
	}
	phys_close(snapsrc);
	vmsnap_open(snap, &snapsrc, &err);	/* cold cache */
	read_latency(snapsrc, addrs, &m1, &p1);
	read_latency(snapsrc, addrs, &m2, &p2);
	read_latency(src, addrs, &m3, &p3);
	printf("  random 4 KiB reads (%d): snapshot cold %.1f us mean / %.1f us p99, "
	       "again %.1f / %.1f us; raw file %.2f / %.2f us\n", NREADS, m1, p1, m2, p2, m3, p3);
	/* Sequential neighbours share a chunk: the LRU makes them a memcpy. */
	{
		uint8_t buf[4096];
		double ts = bench_now();

		for (uint64_t a = src->ranges[0].start; a + 4096 <= src->ranges[0].end && a < (64u << 20);
		     a += 4096)
			phys_read(snapsrc, a, buf, 4096, &err);
		ts = bench_now() - ts;
		printf("  sequential reads of the first 64 MiB from the snapshot: %.0f MiB/s\n",
		       64.0 / ts);
	}
	t0 = bench_now();
	if (raw_export(snapsrc, rawout, 0, false, NULL, &err))
		fprintf(stderr, "bench_dump: raw export: %s\n", err.msg);
	tr = bench_now() - t0;
	printf("  raw export from the snapshot: %.2f s, %.0f MiB/s\n", tr, (double)mem / (1 << 20) / tr);
	phys_close(snapsrc);
	phys_close(src);
	free(addrs);
	unlink(snap);
	unlink(rawout);
	if (synth)
		unlink(ram);
	return 0;
}
