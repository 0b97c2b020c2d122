// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Zero-configuration profiles: how long deriving a profile from a guest's
 * memory takes (image + kallsyms, then BTF + profile + checks; the first
 * run and the median of repeats), and how long a run that finds the
 * profile in the cache takes.  The target: under 200 ms on the
 * 512 MiB test guest.  Prints figures; asserts nothing about time.
 *
 *   bench_btf [SOURCE]
 * SOURCE defaults to $VMET_BENCH_SOURCE, else the newest ELF dump that
 * tests/guest/capture.sh left under $VMET_STATE_DIR (default
 * /var/tmp/vmet-state); without one it says so and exits 0.  "Cold" runs
 * first drop the source file's pages from the page cache (that file only).
 * The cache goes to a temporary directory, never the user's.
 */
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "formats/source.h"
#include "os/linux/autoprofile.h"

#define REPEAT 15

/* The newest DIR/<guest>/dump.elf, or false. */
static bool newest_dump(char *out, size_t n)
{
	const char *dir = getenv("VMET_STATE_DIR");
	char pat[512];
	glob_t g;
	time_t best = 0;

	snprintf(pat, sizeof(pat), "%s/*/dump.elf", dir && *dir ? dir : "/var/tmp/vmet-state");
	if (glob(pat, 0, NULL, &g))
		return false;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;

		if (!stat(g.gl_pathv[i], &st) && st.st_mtime >= best) {
			best = st.st_mtime;
			snprintf(out, n, "%s", g.gl_pathv[i]);
		}
	}
	globfree(&g);
	return best != 0;
}

/* Drop one file's pages from the page cache (colleagues share the machine's cache). */
static void evict(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

/* VMCOREINFO first, then the source's layer-0 CR3, as the commands do. */
static int locate(struct phys_source *src, struct aspace *lower, struct linux_layout *lay,
		  struct vmet_err *err)
{
	const struct vcpu_record *rec = vcpu_set_find(&src->vcpus, 0, 0);
	struct linux_locate_opts o = { .use_vmcoreinfo = true, .allow_scan = true };

	if (rec && rec->cr3_origin != VCPU_ORIGIN_NONE) {
		o.have_cr3 = true;
		o.cr3 = rec->cr3;
		o.mode = rec->mode;
	}
	return linux_locate(src, lower, &o, lay, err);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : getenv("VMET_BENCH_SOURCE");
	char def[512], cache[] = "/tmp/vmet-bench-cache.XXXXXX";
	struct phys_source *src = NULL;
	struct aspace *lower;
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	struct linux_autoprofile_info info;
	struct profile *p = NULL;
	struct vmet_err err = { 0 };
	double t0, first, derive[REPEAT], img[REPEAT], rest[REPEAT], cached[REPEAT];
	double cold;

	if (!path && newest_dump(def, sizeof(def)))
		path = def;
	if (!path || access(path, R_OK)) {
		printf("bench_btf: no guest dump (%s); run tests/guest/boot.sh NAME and "
		       "capture.sh NAME, or set VMET_BENCH_SOURCE: skipped\n",
		       path ? path : "none captured");
		return 0;
	}
	evict(path);
	if (!lay || source_open(path, &(struct source_opts){ 0 }, &src, &err)) {
		fprintf(stderr, "bench_btf: %s: %s\n", path, err.msg);
		return 1;
	}
	lower = aspace_phys_new(src);
	if (!lower || locate(src, lower, lay, &err)) {
		fprintf(stderr, "bench_btf: %s: %s\n", path, err.msg);
		return 1;
	}

	t0 = bench_now_ms();
	if (linux_profile_from_memory(lower, lay, &p, &info, &err)) {
		fprintf(stderr, "bench_btf: %s\n", err.msg);
		return 1;
	}
	cold = bench_now_ms() - t0;
	profile_free(p);
	t0 = bench_now_ms();
	if (linux_profile_from_memory(lower, lay, &p, &info, &err)) {
		fprintf(stderr, "bench_btf: %s\n", err.msg);
		return 1;
	}
	first = bench_now_ms() - t0;
	printf("source: %s (%.0f MiB), kernel located by %s\n", path,
	       (double)phys_total_size(src) / (1 << 20),
	       lay->method == LINUX_LOC_VMCOREINFO ? "VMCOREINFO" :
	       lay->method == LINUX_LOC_CR3 ? "CR3" : "banner scan");
	printf("derived: %zu structs, %zu symbols from %zu kallsyms entries and %" PRIu32
	       " BTF types (%zu bytes)\n", info.structs, info.symbols, info.nsyms,
	       info.btf_types, info.btf.len);
	profile_free(p);

	for (int i = 0; i < REPEAT; i++) {
		t0 = bench_now_ms();
		if (linux_profile_from_memory(lower, lay, &p, &info, &err)) {
			fprintf(stderr, "bench_btf: %s\n", err.msg);
			return 1;
		}
		derive[i] = bench_now_ms() - t0;
		img[i] = info.t_read * 1e3;
		rest[i] = info.t_btf * 1e3;
		profile_free(p);
	}

	if (!mkdtemp(cache)) {
		perror("bench_btf: mkdtemp");
		return 1;
	}
	setenv("VMET_CACHE_DIR", cache, 1);
	if (linux_profile_auto(lower, lay, 0, &p, &info, &err) || info.from_cache) {
		fprintf(stderr, "bench_btf: filling the cache: %s\n", err.msg);
		return 1;
	}
	profile_free(p);
	for (int i = 0; i < REPEAT; i++) {
		t0 = bench_now_ms();
		if (linux_profile_auto(lower, lay, 0, &p, &info, &err) || !info.from_cache) {
			fprintf(stderr, "bench_btf: cached run: %s\n",
				err.msg[0] ? err.msg : "not served from the cache");
			return 1;
		}
		cached[i] = bench_now_ms() - t0;
		profile_free(p);
	}
	printf("derive from memory: cold (source not in the page cache) %.1f ms, first warm "
	       "%.1f ms, median of %d %.1f ms (image + kallsyms %.1f ms, BTF + profile + "
	       "checks %.1f ms); target < 200 ms\n", cold, first, REPEAT,
	       bench_median(derive, REPEAT), bench_median(img, REPEAT), bench_median(rest, REPEAT));
	printf("cached run: median of %d %.1f ms (banner scan + profile load)\n", REPEAT,
	       bench_median(cached, REPEAT));

	/* leave nothing behind */
	if (info.cache_path[0])
		unlink(info.cache_path);
	rmdir(cache);
	aspace_free_stack(lower);
	phys_close(src);
	free(lay);
	return 0;
}
