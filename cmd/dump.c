// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet dump: freeze any source into a vmet snapshot (or a raw image), with
 * the vCPU records and VMCOREINFO it knows plus the roots the user gave.
 * With --pages-for, only the pages the named commands read are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/json.h"
#include "cmd/linux_open.h"
#include "formats/record.h"
#include "formats/vmsnap.h"

enum { OPT_OUTPUT = OPT_CMD_BASE, OPT_OUT_FORMAT, OPT_SOURCE_FORMAT, OPT_PAGES_FOR, OPT_LEVEL,
       OPT_NO_BANNER, OPT_NO_PAUSE };

/*
 * Commands whose reads --pages-for can record (see formats/record.h).
 * Weak, so that dump builds whichever of them exist; a missing one is
 * reported when asked for.
 */
int cmd_ps(int argc, char **argv) __attribute__((weak));
int cmd_netstat(int argc, char **argv) __attribute__((weak));
int cmd_mount_reading(int argc, char **argv) __attribute__((weak));

static const char *const ps_widest[] = { "-T", "--exe", NULL };
static const char *const netstat_widest[] = { "-tux", NULL };

static const struct page_consumer consumers[] = {
	{ "ps", cmd_ps, ps_widest },
	{ "netstat", cmd_netstat, netstat_widest },
	/* vmet mount's reading (environments, paths...), without mounting */
	{ "mount", cmd_mount_reading, NULL },
};

#define RAW_MAX_END (1ull << 44)	/* a sparse raw image up to 16 TiB */
#define MAX_PASS 64			/* options handed on to --pages-for commands */

static void help(void)
{
	printf("Usage: vmet dump [OPTIONS] SOURCE -o FILE\n"
	       "\n"
	       "Write SOURCE (raw, ELF core, LiME, vmet snapshot or a live guest) as a vmet\n"
	       "snapshot: the memory map, non-zero pages in zlib chunks with an index, the\n"
	       "vCPU records SOURCE knows plus any --cr3/--eptp/--ncr3 given here (origin\n"
	       "user), VMCOREINFO, acquisition metadata and a SHA-256 digest (see\n"
	       "vmet-snapshot(5)).  The file appears under its name only when complete.\n"
	       "\n"
	       "Dump options:\n"
	       "  -o, --output FILE     where to write (required)\n"
	       "  --format FMT          output format: vmsnap (default) or raw (file offset =\n"
	       "                        physical address, holes and zero pages left sparse)\n"
	       "  --source-format FMT   read SOURCE as raw|elf|lime|vmsnap instead of guessing\n"
	       "  --pages-for CMDS      run the listed commands (ps, netstat, mount: its\n"
	       "                        reading, not the mount; comma-separated)\n"
	       "                        on SOURCE with the same options, output discarded, and\n"
	       "                        keep only the pages they read: a minimal snapshot\n"
	       "  --level N             zlib level 1 (fast, default) .. 9 (small)\n"
	       "  --no-banner           do not look for the Linux kernel to record its banner\n"
	       "  --no-pause            read a live guest without pausing it (the image may\n"
	       "                        then mix moments)\n"
	       "\n"
	       "%s"
	       "(In dump, --format names the output format; use --source-format for SOURCE.)\n"
	       "\n"
	       "Progress goes to stderr when it is a terminal, unless --quiet.\n"
	       "\n"
	       "Exit status: 0 written, 1 written but a --pages-for command reported an\n"
	       "incomplete result, 2 usage, source or write error (nothing written).\n",
	       cmd_common_help);
}

struct dump_args {
	struct cmd_common c;
	const char *output;
	const char *out_format;
	const char *pages_for;
	int level;
	bool no_banner, no_pause;
	char *pass[MAX_PASS];		/* "--opt=value" strings for consumers */
	int npass;
};

static int pass_opt(struct dump_args *d, const char *name, const char *val)
{
	char *s;

	if (d->npass >= MAX_PASS)
		return -1;
	if (val ? asprintf(&s, "--%s=%s", name, val) < 0 : asprintf(&s, "--%s", name) < 0)
		return -1;
	d->pass[d->npass++] = s;
	return 0;
}

static const char *opt_name(const struct option *opts, int val)
{
	for (; opts->name; opts++)
		if (opts->val == val)
			return opts->name;
	return NULL;
}

/* The records to store: the user's first (so they win lookups), then SOURCE's. */
static int user_records(const struct cmd_common *c, const struct phys_source *src,
			struct vcpu_set *out)
{
	struct vcpu_record r = { 0 };

	if (c->have_cr3 || c->s2_type != STAGE2_NONE) {
		r.time_ns = (uint64_t)time(NULL) * 1000000000ull;
		if (c->s2_type != STAGE2_NONE) {
			/* A stage-2 root means the CR3 belongs to a guest of layer 0. */
			r.layer = 1;
			r.guest = 1;
			r.s2_type = c->s2_type;
			r.s2_root = c->s2_root;
			r.s2_mode = c->s2_mode > 0 ? (enum paging_mode)c->s2_mode : PAGING_4LEVEL;
			r.s2_origin = VCPU_ORIGIN_USER;
		}
		if (c->have_cr3) {
			r.cr3 = c->cr3;
			r.cr3_origin = VCPU_ORIGIN_USER;
			r.mode = c->mode >= 0 ? (enum paging_mode)c->mode : PAGING_4LEVEL;
			r.regs_origin = c->mode >= 0 ? VCPU_ORIGIN_USER : VCPU_ORIGIN_NONE;
		}
		if (vcpu_set_add(out, &r))
			return -1;
	}
	for (size_t i = 0; i < src->vcpus.n; i++)
		if (vcpu_set_add(out, &src->vcpus.v[i]))
			return -1;
	return 0;
}

/*
 * The kernel banner for the metadata, only when a profile verifies against
 * memory (the path ps takes): an unverified "Linux version" string may be a
 * stale copy.  Not finding a kernel is no error for a dump.
 */
static char *verified_banner(struct cmd_common *c)
{
	struct linux_session s;
	struct vmet_err e = { 0 };
	char *b = NULL;

	if (linux_session_open(c, &s, &e))
		return NULL;
	if (s.prof && s.prof->banner)
		b = strdup(s.prof->banner);
	linux_session_close(&s);
	return b;
}

/*
 * Re-dumping a snapshot keeps its acquisition metadata as "source.KEY", so
 * that a snapshot made from a snapshot still says when the memory was
 * captured and from what.
 */
#define MAX_CARRIED 32

struct carried {
	char *key[MAX_CARRIED], *val[MAX_CARRIED];
	size_t n;
};

static size_t carry_meta(const struct phys_source *src, struct carried *cm,
			 struct vmsnap_meta_kv *kv)
{
	const char *p = vmsnap_meta(src);
	char val[1024];

	while (p && *p && cm->n < MAX_CARRIED) {
		const char *eol = strchr(p, '\n'), *eq;
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);
		char key[128];

		eq = memchr(p, '=', llen);
		if (eq && eq > p && (size_t)(eq - p) < sizeof(key) - 8) {
			memcpy(key, p, (size_t)(eq - p));
			key[eq - p] = '\0';
			if (vmsnap_meta_get(src, key, val, sizeof(val)) >= 0 &&
			    asprintf(&cm->key[cm->n], "source.%s", key) >= 0) {
				cm->val[cm->n] = strdup(val);
				if (cm->val[cm->n]) {
					kv[cm->n] = (struct vmsnap_meta_kv){ cm->key[cm->n], cm->val[cm->n] };
					cm->n++;
				} else {
					free(cm->key[cm->n]);
				}
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return cm->n;
}

static int record_wrap(void *ctx, struct phys_source *inner, struct phys_source **out,
		       struct vmet_err *err)
{
	return record_source_new(inner, ctx, out, err);
}

/*
 * Run each --pages-for command with SOURCE and the passed options while
 * every source it opens is recorded into `set`.  Returns the worst exit.
 */
static int run_consumers(struct dump_args *d, struct page_set *set)
{
	char *list = strdup(d->pages_for), *save = NULL;
	int worst = EXIT_OK;

	if (!list) {
		cmd_error(&d->c, "out of memory");
		return EXIT_USAGE;
	}
	for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct page_consumer *pc = NULL;
		char *argv[MAX_PASS + 8];
		int argc = 0, rc, saved, devnull;

		for (size_t i = 0; i < sizeof(consumers) / sizeof(consumers[0]); i++)
			if (!strcmp(name, consumers[i].name))
				pc = &consumers[i];
		if (!pc || !pc->run) {
			cmd_error(&d->c, "--pages-for: '%s' is not %s", name,
				  pc ? "built into this vmet" : "one of ps, netstat, mount");
			worst = EXIT_USAGE;
			break;
		}
		argv[argc++] = name;
		for (const char *const *w = pc->widest; w && *w; w++)
			argv[argc++] = (char *)*w;
		for (int i = 0; i < d->npass; i++)
			argv[argc++] = d->pass[i];
		argv[argc++] = (char *)d->c.source;
		argv[argc] = NULL;
		/* The command's listing is not wanted, only what it read. */
		fflush(stdout);
		saved = dup(STDOUT_FILENO);
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (saved < 0 || devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0) {
			cmd_error(&d->c, "cannot redirect output: %s", strerror(errno));
			worst = EXIT_USAGE;
			if (saved >= 0)
				close(saved);
			if (devnull >= 0)
				close(devnull);
			break;
		}
		close(devnull);
		source_set_wrapper(record_wrap, set);
		rc = pc->run(argc, argv);
		source_set_wrapper(NULL, NULL);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		if (set->overflow) {
			cmd_error(&d->c, "--pages-for %s: more than %zu pages read", name, set->max);
			worst = EXIT_USAGE;
			break;
		}
		if (rc == EXIT_INCOMPLETE) {
			if (!d->c.quiet)
				cmd_error(&d->c, "warning: '%s' reported an incomplete result; the "
					  "snapshot holds what it read", name);
			worst = EXIT_INCOMPLETE;
		} else if (rc != EXIT_OK) {
			cmd_error(&d->c, "--pages-for: 'vmet %s' failed (exit %d): nothing written",
				  name, rc);
			worst = EXIT_USAGE;
			break;
		}
	}
	free(list);
	return worst;
}

static void report(const struct dump_args *d, const struct phys_source *src,
		   const struct vmsnap_write_stats *st, double secs, size_t nvcpus, bool raw)
{
	double mib = (double)st->bytes_in / (1 << 20);
	char hex[65];

	vmsnap_digest_hex(st->digest, hex);
	if (d->c.json) {
		struct json j;

		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_kstr(&j, "output", d->output);
		json_kstr(&j, "format", raw ? "raw" : "vmsnap");
		json_kstr(&j, "source", src->description ? src->description : d->c.source);
		json_ku64(&j, "memory_bytes", st->bytes_in);
		json_ku64(&j, "pages_seen", st->pages_seen);
		json_ku64(&j, "pages_stored", st->pages_stored);
		json_ku64(&j, "pages_zero", st->pages_zero);
		json_ku64(&j, "pages_skipped", st->pages_skipped);
		json_ku64(&j, "file_bytes", st->file_size);
		if (!raw) {
			json_ku64(&j, "chunks", st->chunks);
			json_ku64(&j, "vcpu_records", nvcpus);
			json_kstr(&j, "sha256", hex);
		}
		json_ku64(&j, "milliseconds", (uint64_t)(secs * 1000));
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	if (d->c.quiet)
		return;
	printf("wrote %s (%s): %.1f MiB of memory, %" PRIu64 " pages stored, %" PRIu64
	       " zero pages omitted", d->output, raw ? "raw" : "vmsnap", mib, st->pages_stored,
	       st->pages_zero);
	if (st->pages_skipped)
		printf(", %" PRIu64 " pages not read by --pages-for commands", st->pages_skipped);
	printf("\n");
	if (!raw)
		printf("  %" PRIu64 " chunks, file %.1f MiB (%.1f%% of memory), %zu vCPU records\n"
		       "  sha256 %s\n", st->chunks, (double)st->file_size / (1 << 20),
		       st->bytes_in ? 100.0 * (double)st->file_size / (double)st->bytes_in : 0.0,
		       nvcpus, hex);
	printf("  %.2f s, %.0f MiB/s\n", secs, secs > 0 ? mib / secs : 0.0);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		/* Before the common ones: dump's --format is the output's. */
		{ "format", required_argument, 0, OPT_OUT_FORMAT },
		{ "output", required_argument, 0, OPT_OUTPUT },
		{ "source-format", required_argument, 0, OPT_SOURCE_FORMAT },
		{ "pages-for", required_argument, 0, OPT_PAGES_FOR },
		{ "level", required_argument, 0, OPT_LEVEL },
		{ "no-banner", no_argument, 0, OPT_NO_BANNER },
		{ "no-pause", no_argument, 0, OPT_NO_PAUSE },
		CMD_COMMON_LONGOPTS,
		{ 0, 0, 0, 0 }
	};
	struct dump_args d = { .out_format = "vmsnap" };
	struct phys_source *src = NULL;
	struct vmet_err err = { 0 };
	struct vcpu_set recs = { 0 };
	struct page_set set;
	struct vmsnap_write_stats st;
	struct timespec t0, t1;
	char *banner = NULL;
	struct carried carried = { 0 };
	bool raw, progress, paused = false;
	int opt, status = EXIT_OK, rc;
	uint64_t v;

	cmd_common_init(&d.c, "vmet dump");
	page_set_init(&set, 0);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		int r;

		switch (opt) {
		case OPT_HELP:
			help();
			status = EXIT_OK;
			goto out;
		case 'o':
		case OPT_OUTPUT:
			d.output = optarg;
			continue;
		case OPT_OUT_FORMAT:
			if (strcmp(optarg, "vmsnap") && strcmp(optarg, "raw")) {
				cmd_error(&d.c, "--format: '%s' is not vmsnap or raw (use --source-format "
					  "for SOURCE's format)", optarg);
				status = EXIT_USAGE;
				goto out;
			}
			d.out_format = optarg;
			continue;
		case OPT_SOURCE_FORMAT:
			d.c.sopts.format = optarg;
			if (pass_opt(&d, "format", optarg))
				goto toomany;
			continue;
		case OPT_PAGES_FOR:
			d.pages_for = optarg;
			continue;
		case OPT_NO_BANNER:
			d.no_banner = true;
			continue;
		case OPT_NO_PAUSE:
			d.no_pause = true;
			continue;
		case OPT_LEVEL:
			if (!cmd_parse_u64(optarg, &v) || v < 1 || v > 9) {
				cmd_error(&d.c, "--level: '%s' must be 1..9", optarg);
				status = EXIT_USAGE;
				goto out;
			}
			d.level = (int)v;
			continue;
		}
		r = cmd_common_option(&d.c, opt, optarg);
		if (r < 0) {
			status = EXIT_USAGE;
			goto out;
		}
		if (r == 0) {
			fprintf(stderr, "Try 'vmet dump --help'.\n");
			status = EXIT_USAGE;
			goto out;
		}
		/* Source and translation options go to --pages-for commands too. */
		if (opt != OPT_JSON && opt != OPT_QUIET &&
		    pass_opt(&d, opt_name(longopts, opt), optarg))
			goto toomany;
	}
	if (argc - optind != 1 || !d.output) {
		cmd_error(&d.c, "need one SOURCE and -o FILE (see --help)");
		status = EXIT_USAGE;
		goto out;
	}
	d.c.source = argv[optind];
	raw = !strcmp(d.out_format, "raw");
	if (raw && d.pages_for) {
		cmd_error(&d.c, "--pages-for writes a vmet snapshot: a raw image cannot hold holes "
			  "between the kept pages");
		status = EXIT_USAGE;
		goto out;
	}
	if (d.pages_for) {
		status = run_consumers(&d, &set);
		if (status == EXIT_USAGE)
			goto out;
	}
	if (cmd_open_source(&d.c, &src, &err)) {
		cmd_error(&d.c, "%s", err.msg);
		status = EXIT_USAGE;
		goto out;
	}
	if (user_records(&d.c, src, &recs)) {
		cmd_error(&d.c, "out of memory");
		status = EXIT_USAGE;
		goto out;
	}
	/* A live guest is stopped while it is read, so that the image is of
	 * one moment (--pages-for commands paused it themselves). */
	if (src->live && !d.no_pause) {
		if (!src->ops->pause) {
			cmd_error(&d.c, "%s cannot be paused: give --no-pause to read it running",
				  d.c.source);
			status = EXIT_USAGE;
			goto out;
		}
		if (src->ops->pause(src, true, &err)) {
			cmd_error(&d.c, "%s (or give --no-pause to read it running)", err.msg);
			status = EXIT_USAGE;
			goto out;
		}
		paused = true;
	} else if (src->live && !d.c.quiet) {
		cmd_error(&d.c, "warning: reading %s while it runs: the image may mix moments",
			  d.c.source);
	}
	progress = !d.c.quiet && !d.c.json && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (raw) {
		rc = raw_export(src, d.output, RAW_MAX_END, progress, &st, &err);
	} else {
		struct vmsnap_meta_kv kv[1 + MAX_CARRIED];
		struct vmsnap_write_opts wo = {
			.vcpus = &recs,
			.level = d.level,
			.progress = progress,
			.meta = kv,
		};

		if (d.pages_for) {
			kv[wo.nmeta++] = (struct vmsnap_meta_kv){ "pages_for", d.pages_for };
			wo.keep_page = page_set_keep;
			wo.keep_ctx = &set;
		}
		wo.nmeta += carry_meta(src, &carried, kv + wo.nmeta);
		if (!d.no_banner)
			banner = verified_banner(&d.c);
		/* A snapshot's banner was verified when it was recorded. */
		if (!banner && vmsnap_meta(src)) {
			char b[1024];

			if (vmsnap_meta_get(src, "banner", b, sizeof(b)) > 0)
				banner = strdup(b);
		}
		wo.banner = banner;
		rc = vmsnap_write(src, d.output, &wo, &st, &err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (paused) {
		src->ops->pause(src, false, NULL);
		paused = false;
	}
	if (rc) {
		cmd_error(&d.c, "%s: %s", d.output, err.msg);
		status = EXIT_USAGE;
		goto out;
	}
	report(&d, src, &st, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       recs.n, raw);
	goto out;
toomany:
	cmd_error(&d.c, "too many options");
	status = EXIT_USAGE;
out:
	if (paused)
		src->ops->pause(src, false, NULL);
	free(banner);
	for (size_t i = 0; i < carried.n; i++) {
		free(carried.key[i]);
		free(carried.val[i]);
	}
	for (int i = 0; i < d.npass; i++)
		free(d.pass[i]);
	vcpu_set_free(&recs);
	page_set_free(&set);
	phys_close(src);
	return status;
}
