// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Linux view's listing alone, in process: finding the kernel, listing
 * tasks with command lines, listing sockets, each timed cold (first run,
 * fresh caches) and warm (median of repeats over the same open source), and
 * the peak RSS.  The whole-process figures are bench/linux.sh's job.
 *
 *   bench_linux SOURCE PROFILE [CR3]
 * or with no arguments, $VMET_BENCH_SOURCE / $VMET_BENCH_PROFILE /
 * $VMET_BENCH_CR3; without a source it says so and exits 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/bench.h"
#include "core/stack.h"
#include "formats/source.h"
#include "os/linux/linux.h"

#define REPEAT 25

struct ctx {
	struct phys_source *src;
	struct aspace *lower;
	struct profile *prof;
	struct linux_kernel *k;
	bool have_cr3;
	uint64_t cr3;
};

static int find(struct ctx *c, struct vmet_err *err)
{
	struct linux_locate_opts o = { .use_vmcoreinfo = true, .have_cr3 = c->have_cr3,
				       .cr3 = c->cr3, .allow_scan = true };
	struct linux_layout *lay = calloc(1, sizeof(*lay));
	int rc;

	if (!lay)
		return VMET_ENOMEM;
	rc = linux_locate(c->src, c->lower, &o, lay, err);
	if (!rc)
		rc = linux_kernel_bind(c->src, c->lower, lay, c->prof, &c->k, err);
	free(lay);
	return rc;
}

static int list_tasks(struct ctx *c, size_t *n)
{
	struct linux_task_list l;
	struct linux_report *rep = calloc(1, sizeof(*rep));
	struct vmet_err err = { 0 };
	int rc;

	if (!rep)
		return VMET_ENOMEM;
	rc = linux_tasks(c->k, LINUX_TASKS_CMDLINE, &l, rep, &err);
	if (!rc) {
		*n = l.n;
		linux_task_list_free(&l);
	}
	free(rep);
	return rc;
}

static int list_socks(struct ctx *c, size_t *n)
{
	struct linux_task_list l;
	struct linux_sock_list sl;
	struct linux_report *rep = calloc(1, sizeof(*rep));
	struct vmet_err err = { 0 };
	int rc;

	if (!rep)
		return VMET_ENOMEM;
	rc = linux_tasks(c->k, 0, &l, rep, &err);
	if (!rc) {
		rc = linux_sockets(c->k, &l, LINUX_SOCKS_INET | LINUX_SOCKS_UNIX, &sl, rep, &err);
		if (!rc) {
			*n = sl.n;
			linux_sock_list_free(&sl);
		}
		linux_task_list_free(&l);
	}
	free(rep);
	return rc;
}

int main(int argc, char **argv)
{
	const char *source = argc > 1 ? argv[1] : getenv("VMET_BENCH_SOURCE");
	const char *profile = argc > 2 ? argv[2] : getenv("VMET_BENCH_PROFILE");
	const char *cr3s = argc > 3 ? argv[3] : getenv("VMET_BENCH_CR3");
	struct stack_spec spec = { 0 };
	struct ctx c = { 0 };
	struct vmet_err err = { 0 };
	double t0, open_ms, find_ms, tasks_cold, socks_cold, w[REPEAT];
	size_t ntasks = 0, nsocks = 0;
	struct rusage ru;

	if (!source || !profile) {
		printf("bench_linux: no guest (give SOURCE PROFILE [CR3], or set VMET_BENCH_SOURCE "
		       "and VMET_BENCH_PROFILE): skipped\n");
		return 0;
	}
	if (cr3s) {
		c.have_cr3 = true;
		c.cr3 = strtoull(cr3s, NULL, 0);
	}
	t0 = bench_now_ms();
	if (source_open(source, NULL, &c.src, &err) || profile_load(profile, &c.prof, &err) ||
	    aspace_stack_build(c.src, &spec, &c.lower, &err)) {
		fprintf(stderr, "bench_linux: %s\n", err.msg);
		return 1;
	}
	open_ms = bench_now_ms() - t0;
	t0 = bench_now_ms();
	if (find(&c, &err)) {
		fprintf(stderr, "bench_linux: %s\n", err.msg);
		return 1;
	}
	find_ms = bench_now_ms() - t0;
	t0 = bench_now_ms();
	if (list_tasks(&c, &ntasks))
		return 1;
	tasks_cold = bench_now_ms() - t0;
	t0 = bench_now_ms();
	if (list_socks(&c, &nsocks))
		return 1;
	socks_cold = bench_now_ms() - t0;
	printf("source %s, kernel located by %s\n", source,
	       c.k->method == LINUX_LOC_VMCOREINFO ? "vmcoreinfo" :
	       c.k->method == LINUX_LOC_CR3 ? "cr3" : "scan");
	printf("open source + profile   %8.3f ms\n", open_ms);
	printf("find + verify kernel    %8.3f ms\n", find_ms);
	printf("tasks (%zu, cmdlines)   cold %8.3f ms", ntasks, tasks_cold);
	for (int i = 0; i < REPEAT; i++) {
		t0 = bench_now_ms();
		list_tasks(&c, &ntasks);
		w[i] = bench_now_ms() - t0;
	}
	printf("   warm median %8.3f ms\n", bench_median(w, REPEAT));
	printf("sockets (%zu)           cold %8.3f ms", nsocks, socks_cold);
	for (int i = 0; i < REPEAT; i++) {
		t0 = bench_now_ms();
		list_socks(&c, &nsocks);
		w[i] = bench_now_ms() - t0;
	}
	printf("   warm median %8.3f ms\n", bench_median(w, REPEAT));
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %ld KiB (mapped source pages included)\n", ru.ru_maxrss);
	linux_kernel_close(c.k);
	profile_free(c.prof);
	aspace_free_stack(c.lower);
	phys_close(c.src);
	return 0;
}
