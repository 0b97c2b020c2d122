// SPDX-License-Identifier: GPL-2.0-or-later
#include "live/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "live/qemu_regs.h"
#include "live/qmp.h"

#define MAX_RAM_RANGES 256

struct qemu_priv {
	struct qmp *qmp;
	bool paused_by_us;
	/* RAMFILE mode */
	const uint8_t *map;
	uint64_t map_size;
	/* qemu-pid mode */
	int memfd;
	uint64_t hva;			/* host virtual address of the RAM block */
	struct qemu_ram_range *rr;	/* sorted like src->ranges */
	size_t nrr;
};

bool qemu_spec_match(const char *spec)
{
	return !strncmp(spec, "qemu:", 5) || !strncmp(spec, "qemu-pid:", 9);
}

int qemu_parse_mtree(const char *text, struct qemu_ram_range **out, size_t *n,
		     struct vmet_err *err)
{
	const char *p = strstr(text, "AS \"memory\"");
	struct qemu_ram_range *rr = NULL;
	size_t cnt = 0;

	if (!p)
		return vmet_errf(err, VMET_EFORMAT, "'info mtree -f' has no address space \"memory\"");
	/* Lines of this flat view until the next "FlatView" heading. */
	while ((p = strchr(p, '\n'))) {
		struct qemu_ram_range r = { 0 };
		char kind[16], name[64];
		const char *at;
		int used = 0;

		p++;
		if (!strncmp(p, "FlatView", 8) || !*p)
			break;
		if (sscanf(p, " %" SCNx64 "-%" SCNx64 " (prio %*d, %15[a-z]): %63s%n",
			   &r.gpa_start, &r.gpa_end, kind, name, &used) != 4)
			continue;
		if (strcmp(kind, "ram") && strcmp(kind, "rom"))
			continue;
		if (r.gpa_end < r.gpa_start || r.gpa_end == UINT64_MAX)
			continue;
		r.gpa_end++;	/* QEMU prints inclusive ends */
		at = p + used;
		if (at[0] == ' ' && at[1] == '@')
			r.block_offset = strtoull(at + 2, NULL, 16);
		snprintf(r.block, sizeof(r.block), "%s", name);
		if (cnt == MAX_RAM_RANGES) {
			free(rr);
			return vmet_errf(err, VMET_ELIMIT, "'info mtree -f': more than %d RAM ranges",
					 MAX_RAM_RANGES);
		}
		{
			struct qemu_ram_range *nr = realloc(rr, (cnt + 1) * sizeof(*rr));

			if (!nr) {
				free(rr);
				return vmet_errf(err, VMET_ENOMEM, "out of memory");
			}
			rr = nr;
		}
		rr[cnt++] = r;
	}
	if (!cnt)
		return vmet_errf(err, VMET_EFORMAT, "'info mtree -f': no RAM in address space \"memory\"");
	*out = rr;
	*n = cnt;
	return 0;
}

/* Keep only the ranges of the largest RAM block: the guest's main memory. */
static void keep_main_block(struct qemu_ram_range *rr, size_t *n)
{
	const char *best = NULL;
	uint64_t best_size = 0;
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		uint64_t size = 0;

		for (size_t j = 0; j < *n; j++)
			if (!strcmp(rr[i].block, rr[j].block))
				size += rr[j].gpa_end - rr[j].gpa_start;
		if (size > best_size) {
			best_size = size;
			best = rr[i].block;
		}
	}
	{
		char name[64];

		snprintf(name, sizeof(name), "%s", best);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(rr[i].block, name))
				rr[k++] = rr[i];
	}
	*n = k;
}

static const struct qemu_ram_range *find_rr(const struct phys_source *src, uint64_t addr)
{
	const struct qemu_priv *qp = src->priv;
	long i = phys_find_range(src, addr);

	return i < 0 ? NULL : &qp->rr[i];
}

static int qemu_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		     struct vmet_err *err)
{
	struct qemu_priv *qp = src->priv;
	const struct qemu_ram_range *r = find_rr(src, addr);
	uint64_t off;

	if (!r)
		return vmet_errf(err, VMET_EHOLE, "guest-physical 0x%" PRIx64 " is not guest RAM", addr);
	off = r->block_offset + (addr - r->gpa_start);
	if (qp->map) {
		if (off + len > qp->map_size)
			return vmet_errf(err, VMET_EIO,
					 "RAM file: 0x%" PRIx64 " maps to offset 0x%" PRIx64
					 " beyond the file's end", addr, off);
		memcpy(buf, qp->map + off, len);
		return 0;
	}
	{
		ssize_t got = pread(qp->memfd, buf, len, (off_t)(qp->hva + off));

		if (got != (ssize_t)len)
			return vmet_errf(err, VMET_EIO, "reading QEMU memory at 0x%" PRIx64 " (gpa 0x%" PRIx64
					 "): %s", qp->hva + off, addr, got < 0 ? strerror(errno) : "short read");
	}
	return 0;
}

static const void *qemu_map(struct phys_source *src, uint64_t addr, size_t len)
{
	struct qemu_priv *qp = src->priv;
	const struct qemu_ram_range *r = find_rr(src, addr);
	uint64_t off;

	if (!qp->map || !r || addr + len > r->gpa_end)
		return NULL;
	off = r->block_offset + (addr - r->gpa_start);
	return off + len <= qp->map_size ? qp->map + off : NULL;
}

static int qemu_pause(struct phys_source *src, bool pause, struct vmet_err *err)
{
	struct qemu_priv *qp = src->priv;
	int rc;

	if (!qp->qmp)
		return vmet_errf(err, VMET_EUNSUPPORTED, "pausing needs a QMP socket (,qmp=PATH)");
	if (pause) {
		/* A guest someone else stopped stays stopped: only what vmet
		 * paused is resumed. */
		char *reply = NULL;

		rc = qmp_execute(qp->qmp, "{\"execute\":\"query-status\"}", &reply, err);
		if (rc)
			return rc;
		if (!strstr(reply, "\"running\": true")) {
			free(reply);
			return 0;
		}
		free(reply);
	} else if (!qp->paused_by_us) {
		return 0;
	}
	rc = qmp_execute(qp->qmp, pause ? "{\"execute\":\"stop\"}" : "{\"execute\":\"cont\"}", NULL, err);
	if (!rc)
		qp->paused_by_us = pause;
	return rc;
}

static void qemu_close(struct phys_source *src)
{
	struct qemu_priv *qp = src->priv;

	if (!qp)
		return;
	if (qp->paused_by_us && qp->qmp) {
		struct vmet_err err;

		if (qemu_pause(src, false, &err))
			fprintf(stderr, "vmet: could not resume the guest: %s\n", err.msg);
	}
	qmp_close(qp->qmp);
	if (qp->map)
		munmap((void *)qp->map, qp->map_size);
	if (qp->memfd >= 0)
		close(qp->memfd);
	free(qp->rr);
	free(qp);
}

static const struct phys_source_ops qemu_ops = {
	.read = qemu_read,
	.map = qemu_map,
	.pause = qemu_pause,
	.close = qemu_close,
};

/*
 * Sample every vCPU's registers n times, 20 ms apart, keeping each distinct
 * (vCPU, CR3) once: the monitor shows whichever mode the vCPU is in.
 */
static int sample_registers(struct qmp *q, unsigned n, struct vcpu_set *out, struct vmet_err *err)
{
	for (unsigned k = 0; k < n; k++) {
		struct vcpu_set now = { 0 };
		int rc = qemu_read_registers(q, &now, err);

		if (rc) {
			vcpu_set_free(&now);
			return rc;
		}
		for (size_t i = 0; i < now.n; i++) {
			bool seen = false;

			for (size_t j = 0; j < out->n && !seen; j++)
				seen = out->v[j].vcpu == now.v[i].vcpu && out->v[j].cr3 == now.v[i].cr3;
			if (!seen && vcpu_set_add(out, &now.v[i])) {
				vcpu_set_free(&now);
				return vmet_errf(err, VMET_ENOMEM, "out of memory");
			}
		}
		vcpu_set_free(&now);
		if (k + 1 < n)
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	return 0;
}

/* RAM block size from `info ramblock` (its "Total" column). */
static int ramblock_total(struct qmp *q, const char *block, uint64_t *total, struct vmet_err *err)
{
	char *text = NULL;
	int rc = qmp_hmp(q, "info ramblock", &text, err);

	if (rc)
		return rc;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128];
		uint64_t offset, used, tot;

		if (sscanf(line, " %127s %*s %*s %" SCNx64 " %" SCNx64 " %" SCNx64, name, &offset, &used, &tot) == 4 &&
		    !strcmp(name, block)) {
			*total = tot;
			free(text);
			return 0;
		}
	}
	free(text);
	return vmet_errf(err, VMET_ENOTFOUND, "'info ramblock' does not list block '%s'", block);
}

/* The mapping of exactly `size` bytes in QEMU's address space that holds RAM. */
static int find_ram_hva(unsigned long pid, uint64_t size, uint64_t *hva, struct vmet_err *err)
{
	char path[64], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%lu/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		uint64_t lo, hi;
		char perms[8];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi, perms) != 3)
			continue;
		if (hi - lo == size && perms[0] == 'r' && perms[1] == 'w') {
			if (found++) {
				fclose(f);
				return vmet_errf(err, VMET_EMISMATCH,
						 "QEMU pid %lu has more than one %" PRIu64 "-byte RAM-like mapping: "
						 "use qemu:RAMFILE instead", pid, size);
			}
			*hva = lo;
		}
	}
	fclose(f);
	if (!found)
		return vmet_errf(err, VMET_ENOTFOUND, "no %" PRIu64 "-byte mapping in %s", size, path);
	return 0;
}

int qemu_open(const char *spec, const struct qemu_opts *opts,
	      struct phys_source **out, struct vmet_err *err)
{
	bool by_pid = !strncmp(spec, "qemu-pid:", 9);
	char *copy = strdup(by_pid ? spec + 9 : spec + 5), *qmp_path = NULL, *comma;
	struct phys_source *src = phys_source_new(&qemu_ops, "qemu");
	struct qemu_priv *qp = calloc(1, sizeof(*qp));
	struct phys_range *ranges = NULL;
	int rc;

	if (!copy || !src || !qp) {
		free(copy);
		free(src);
		free(qp);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	qp->memfd = -1;
	src->priv = qp;
	src->live = true;
	comma = strchr(copy, ',');
	if (comma) {
		*comma = '\0';
		if (strncmp(comma + 1, "qmp=", 4) || !comma[5]) {
			rc = vmet_errf(err, VMET_EINVAL, "%s: expected ',qmp=SOCKET' after the %s", spec,
				       by_pid ? "PID" : "RAM file");
			goto fail;
		}
		qmp_path = comma + 5;
	}
	if (by_pid && !qmp_path) {
		rc = vmet_errf(err, VMET_EINVAL, "%s: qemu-pid: needs ,qmp=SOCKET to learn the memory map", spec);
		goto fail;
	}
	if (qmp_path) {
		rc = qmp_open(qmp_path, opts && opts->qmp_timeout_ms ? opts->qmp_timeout_ms : 10000,
			      &qp->qmp, err);
		if (rc)
			goto fail;
		rc = sample_registers(qp->qmp, opts && opts->samples ? opts->samples : 1, &src->vcpus, err);
		if (rc)
			goto fail;
		if (opts && opts->pause) {
			rc = qemu_pause(src, true, err);
			if (!rc)
				rc = sample_registers(qp->qmp, 1, &src->vcpus, err);
			if (rc)
				goto fail;
		}
		{
			char *mtree = NULL;

			rc = qmp_hmp(qp->qmp, "info mtree -f", &mtree, err);
			if (!rc)
				rc = qemu_parse_mtree(mtree, &qp->rr, &qp->nrr, err);
			free(mtree);
			if (rc)
				goto fail;
			keep_main_block(qp->rr, &qp->nrr);
		}
	}
	if (by_pid) {
		char *end, path[64];
		unsigned long pid = strtoul(copy, &end, 10);
		uint64_t total = 0;

		if (end == copy || *end || !pid) {
			rc = vmet_errf(err, VMET_EINVAL, "%s: '%s' is not a process id", spec, copy);
			goto fail;
		}
		rc = ramblock_total(qp->qmp, qp->rr[0].block, &total, err);
		if (!rc)
			rc = find_ram_hva(pid, total, &qp->hva, err);
		if (rc)
			goto fail;
		snprintf(path, sizeof(path), "/proc/%lu/mem", pid);
		qp->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (qp->memfd < 0) {
			rc = vmet_errf(err, VMET_EIO, "%s: %s (vmet needs ptrace rights over QEMU)", path,
				       strerror(errno));
			goto fail;
		}
	} else {
		struct stat st;
		int fd = open(copy, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
			rc = vmet_errf(err, VMET_EIO, "%s: %s", copy, fd < 0 ? strerror(errno) : "empty or unreadable");
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		qp->map_size = (uint64_t)st.st_size;
		qp->map = mmap(NULL, qp->map_size, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (qp->map == MAP_FAILED) {
			qp->map = NULL;
			rc = vmet_errf(err, VMET_EIO, "%s: mmap: %s", copy, strerror(errno));
			goto fail;
		}
		if (!qp->rr) {
			/* No memory map from QEMU: file offset == guest-physical. */
			qp->rr = calloc(1, sizeof(*qp->rr));
			if (!qp->rr) {
				rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
				goto fail;
			}
			qp->rr[0].gpa_end = qp->map_size;
			qp->nrr = 1;
		}
	}
	/* phys_set_ranges sorts; keep rr in the same order by sorting first. */
	for (size_t i = 1; i < qp->nrr; i++)
		for (size_t j = i; j > 0 && qp->rr[j].gpa_start < qp->rr[j - 1].gpa_start; j--) {
			struct qemu_ram_range t = qp->rr[j];

			qp->rr[j] = qp->rr[j - 1];
			qp->rr[j - 1] = t;
		}
	ranges = calloc(qp->nrr, sizeof(*ranges));
	if (!ranges) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < qp->nrr; i++) {
		ranges[i].start = qp->rr[i].gpa_start;
		ranges[i].end = qp->rr[i].gpa_end;
	}
	rc = phys_set_ranges(src, ranges, qp->nrr, err);
	if (rc)
		goto fail;
	if (asprintf(&src->description, "live QEMU %s %s%s%s%s", by_pid ? "pid" : "RAM file", copy,
		     qmp_path ? " (QMP " : "", qmp_path ? qmp_path : "", qmp_path ? ")" : "") < 0)
		src->description = NULL;
	free(copy);
	*out = src;
	return 0;
fail:
	free(copy);
	phys_close(src);
	return rc;
}
