// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet profile: build a kernel profile from a DWARF vmlinux, import one
 * from a Volatility 3 symbol table, show one, or list those the search path
 * holds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/json.h"
#include "profiles/dwarf.h"
#include "profiles/isf.h"
#include "profiles/profile.h"
#include "profiles/wanted.h"

enum { OPT_SYSTEM_MAP = OPT_CMD_BASE, OPT_OUTPUT, OPT_STRUCT, OPT_SYMBOLS };

static void help(void)
{
	printf("Usage: vmet profile build VMLINUX [--system-map FILE] [-o PROFILE]\n"
	       "       vmet profile import ISF.json [-o PROFILE]\n"
	       "       vmet profile show PROFILE [--struct NAME] [--symbols]\n"
	       "       vmet profile list [--profile-dir DIR]...\n"
	       "       vmet profile extract [OPTIONS] SOURCE [-o PROFILE]\n"
	       "\n"
	       "A profile holds what vmet needs to read one Linux kernel build: the\n"
	       "banner that identifies it (linux_banner), the layout of the structs\n"
	       "the Linux view reads and the link-time addresses of its symbols.\n"
	       "\n"
	       "build    read a vmlinux with DWARF debug information (Debian: the\n"
	       "         linux-image-*-dbg package, usr/lib/debug/boot/vmlinux-*);\n"
	       "         symbols come from its symbol table, or from --system-map.\n"
	       "import   convert a Volatility 3 symbol table (ISF JSON; decompress a\n"
	       "         .json.xz first).\n"
	       "show     print a profile: header, structs with members, symbols, and\n"
	       "         what the Linux view wants that it lacks.\n"
	       "list     print the profiles of the search path and their banners.\n"
	       "extract  derive a profile from a guest's own BTF and kallsyms\n"
	       "         (see 'vmet profile extract --help').\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output FILE   where build/import write the profile (atomically);\n"
	       "                      without it the profile goes to stdout\n"
	       "  --system-map FILE   build: symbols from this System.map\n"
	       "  --struct NAME       show: only this struct\n"
	       "  --symbols           show: only the symbols\n"
	       "  --profile-dir DIR   list: search DIR first (repeatable)\n"
	       "  --json              machine-readable output\n"
	       "  --quiet             no notes or warnings on stderr\n"
	       "  --help              this help\n"
	       "\n"
	       "The search path: --profile-dir, then $VMET_PROFILE_DIR (colon-separated),\n"
	       "profiles/ beside the vmet binary or its parent, then the installed\n"
	       "profiles directory.\n"
	       "\n"
	       "Exit status: 0 success; 1 the profile was written or shown but lacks a\n"
	       "struct or member the Linux view wants (listed on stderr); 2 usage error,\n"
	       "or an input that could not be read or understood.\n");
}

struct popts {
	struct cmd_common c;
	const char *system_map;
	const char *output;
	const char *only_struct;
	bool only_symbols;
};

/*
 * Missing structs/members (not symbols) make a profile incomplete.  Every
 * missing item is named when a profile is made; show names only what makes
 * it incomplete, as symbols that a kernel version lacks are expected.
 */
static int report_missing(const struct popts *o, const struct profile *p, bool symbols)
{
	char *buf = NULL;
	size_t len = 0, msym = 0, n;
	FILE *m = open_memstream(&buf, &len);

	n = wanted_check(p, m, &msym);
	if (m) {
		fclose(m);
		for (char *s = buf, *nl; !o->c.quiet && s && *s; s = nl + 1) {
			nl = strchr(s, '\n');
			if (!nl)
				break;
			if (symbols || strncmp(s, "missing symbol ", 15))
				fprintf(stderr, "vmet profile: %.*s\n", (int)(nl - s), s);
		}
		free(buf);
	}
	return n > msym ? EXIT_INCOMPLETE : EXIT_OK;
}

static void json_missing(struct json *j, const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	json_key(j, "missing");
	json_arr_begin(j);
	if (m) {
		wanted_check(p, m, NULL);
		fclose(m);
		for (char *s = buf, *nl; s && *s; s = nl + 1) {
			nl = strchr(s, '\n');
			if (!nl)
				break;
			/* "struct X", "member X.Y", "symbol Z": the key says they are missing. */
			if (!strncmp(s, "missing ", 8))
				s += 8;
			json_strn(j, s, (size_t)(nl - s));
		}
	}
	json_arr_end(j);
	free(buf);
}

static void json_header(struct json *j, const struct profile *p)
{
	json_kstr(j, "banner", p->banner);
	json_kstr(j, "source", p->source ? p->source : "");
	json_kstr(j, "arch", p->arch);
	json_kstr(j, "paging", paging_mode_name(p->paging));
}

static int write_result(struct popts *o, struct profile *p, double seconds,
			size_t units_read, size_t units_total)
{
	struct vmet_err err = { 0 };
	int status;

	if (!o->output) {
		/* The profile itself is the output; the summary goes to stderr. */
		if (profile_write(p, stdout, &err) || fflush(stdout) || ferror(stdout)) {
			cmd_error(&o->c, "writing the profile to stdout failed");
			return EXIT_USAGE;
		}
		status = report_missing(o, p, true);
		if (!o->c.quiet)
			fprintf(stderr, "vmet profile: %zu structs, %zu symbols\n", p->ns, p->nsym);
		return status;
	}
	if (profile_save(p, o->output, &err)) {
		cmd_error(&o->c, "%s", err.msg);
		return EXIT_USAGE;
	}
	status = report_missing(o, p, true);
	if (o->c.json) {
		struct json j;

		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_kstr(&j, "output", o->output);
		json_header(&j, p);
		json_ku64(&j, "structs", p->ns);
		json_ku64(&j, "symbols", p->nsym);
		if (seconds >= 0) {
			json_ku64(&j, "milliseconds", (uint64_t)(seconds * 1000 + 0.5));
			json_ku64(&j, "units_read", units_read);
		}
		json_missing(&j, p);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s: %zu structs, %zu symbols", o->output, p->ns, p->nsym);
		if (seconds >= 0)
			printf(", %.2f s (%zu compilation units read%s)", seconds, units_read,
			       units_total ? ", all" : "");
		printf("\nbanner %s\n", p->banner);
	}
	return status;
}

static int do_build(struct popts *o, const char *vmlinux)
{
	struct dwarf_build_stats st;
	struct vmet_err err = { 0 };
	struct profile *p;
	int status;

	if (profile_from_dwarf(vmlinux, o->system_map, o->c.quiet ? NULL : stderr, &p, &st,
			       &err)) {
		cmd_error(&o->c, "%s", err.msg);
		return EXIT_USAGE;
	}
	status = write_result(o, p, st.seconds, st.units_read, st.units_total);
	profile_free(p);
	return status;
}

static int do_import(struct popts *o, const char *isf)
{
	struct vmet_err err = { 0 };
	struct profile *p;
	int status;

	if (profile_from_isf_file(isf, o->c.quiet ? NULL : stderr, &p, &err)) {
		cmd_error(&o->c, "%s", err.msg);
		return EXIT_USAGE;
	}
	status = write_result(o, p, -1, 0, 0);
	profile_free(p);
	return status;
}

static void show_struct_text(const struct profile_struct *s)
{
	const struct profile_member **ord = malloc((s->nm ? s->nm : 1) * sizeof(*ord));

	printf("struct %s (%" PRIu64 " bytes, %zu members)\n", s->name, s->size, s->nm);
	if (!ord)
		return;
	/* In layout order, as pahole prints it; the profile keeps them by name. */
	for (size_t k = 0; k < s->nm; k++)
		ord[k] = &s->m[k];
	for (size_t a = 1; a < s->nm; a++)
		for (size_t b = a; b > 0 && (ord[b - 1]->offset > ord[b]->offset ||
					     (ord[b - 1]->offset == ord[b]->offset &&
					      ord[b - 1]->bit_offset > ord[b]->bit_offset)); b--) {
			const struct profile_member *t = ord[b];

			ord[b] = ord[b - 1];
			ord[b - 1] = t;
		}
	for (size_t k = 0; k < s->nm; k++) {
		const struct profile_member *m = ord[k];

		printf("  %6" PRIu64 "  %5" PRIu64 "  %s", m->offset, m->size, m->name);
		if (m->bit_size)
			printf("  (bits %u..%u)", m->bit_offset, m->bit_offset + m->bit_size - 1);
		putchar('\n');
	}
	free(ord);
}

static void show_struct_json(struct json *j, const struct profile_struct *s)
{
	json_obj_begin(j);
	json_kstr(j, "name", s->name);
	json_ku64(j, "size", s->size);
	json_key(j, "members");
	json_arr_begin(j);
	for (size_t k = 0; k < s->nm; k++) {
		json_obj_begin(j);
		json_kstr(j, "name", s->m[k].name);
		json_ku64(j, "offset", s->m[k].offset);
		json_ku64(j, "size", s->m[k].size);
		if (s->m[k].bit_size) {
			json_ku64(j, "bit_offset", s->m[k].bit_offset);
			json_ku64(j, "bit_size", s->m[k].bit_size);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static int do_show(struct popts *o, const char *path)
{
	struct vmet_err err = { 0 };
	const struct profile_struct *only = NULL;
	struct profile *p;
	int status;

	if (profile_load(path, &p, &err)) {
		cmd_error(&o->c, "%s", err.msg);
		return EXIT_USAGE;
	}
	if (o->only_struct && !(only = profile_struct(p, o->only_struct))) {
		cmd_error(&o->c, "%s has no struct %s", path, o->only_struct);
		profile_free(p);
		return EXIT_INCOMPLETE;
	}
	status = report_missing(o, p, false);
	if (o->c.json) {
		struct json j;

		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_kstr(&j, "file", path);
		json_header(&j, p);
		if (!o->only_symbols) {
			json_key(&j, "structs");
			json_arr_begin(&j);
			for (size_t i = 0; i < p->ns; i++)
				if (!only || only == &p->s[i])
					show_struct_json(&j, &p->s[i]);
			json_arr_end(&j);
		}
		if (!only) {
			json_key(&j, "symbols");
			json_arr_begin(&j);
			for (size_t i = 0; i < p->nsym; i++) {
				json_obj_begin(&j);
				json_kstr(&j, "name", p->sym[i].name);
				json_khex(&j, "address", p->sym[i].addr);
				json_obj_end(&j);
			}
			json_arr_end(&j);
			json_missing(&j, p);
		}
		json_obj_end(&j);
		json_end(&j);
	} else {
		if (!only && !o->only_symbols)
			printf("banner  %s\nsource  %s\narch    %s\npaging  %s\n"
			       "%zu structs, %zu symbols\n\n", p->banner,
			       p->source ? p->source : "", p->arch,
			       paging_mode_name(p->paging), p->ns, p->nsym);
		if (!o->only_symbols)
			for (size_t i = 0; i < p->ns; i++)
				if (!only || only == &p->s[i])
					show_struct_text(&p->s[i]);
		if (!only)
			for (size_t i = 0; i < p->nsym; i++)
				printf("%s%016" PRIx64 " %s\n", i || o->only_symbols ? "" : "\n",
				       p->sym[i].addr, p->sym[i].name);
	}
	profile_free(p);
	return status;
}

/* Each profile of the search path: file, banner (its header only is read). */
static int do_list(struct popts *o)
{
	char *dirs[CMD_MAX_PROFILE_DIRS + 8];
	size_t nd = 0, nfound = 0;
	struct json j;
	int status = EXIT_OK;

	for (unsigned i = 0; i < o->c.nprofile_dirs; i++)
		dirs[nd++] = strdup(o->c.profile_dirs[i]);
	nd += profile_default_dirs(dirs + nd, sizeof(dirs) / sizeof(dirs[0]) - nd);
	if (o->c.json) {
		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_key(&j, "directories");
		json_arr_begin(&j);
		for (size_t i = 0; i < nd; i++)
			json_str(&j, dirs[i] ? dirs[i] : "");
		json_arr_end(&j);
		json_key(&j, "profiles");
		json_arr_begin(&j);
	}
	for (size_t i = 0; i < nd; i++) {
		char **files = NULL;
		size_t nf = 0;
		struct vmet_err err = { 0 };

		if (!dirs[i])
			continue;
		if (profile_list_dir(dirs[i], &files, &nf, &err)) {
			cmd_error(&o->c, "%s", err.msg);
			status = EXIT_INCOMPLETE;
			continue;
		}
		for (size_t k = 0; k < nf; k++) {
			char *banner = NULL;

			vmet_err_clear(&err);
			if (profile_read_banner(files[k], &banner, &err)) {
				cmd_error(&o->c, "%s", err.msg);
				status = EXIT_INCOMPLETE;
			} else if (o->c.json) {
				json_obj_begin(&j);
				json_kstr(&j, "file", files[k]);
				json_kstr(&j, "banner", banner);
				json_obj_end(&j);
			} else {
				printf("%s\n  %s\n", files[k], banner);
			}
			nfound += banner != NULL;
			free(banner);
			free(files[k]);
		}
		free(files);
	}
	if (o->c.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else if (!nfound && !o->c.quiet) {
		fprintf(stderr, "vmet profile: no profiles in");
		for (size_t i = 0; i < nd; i++)
			fprintf(stderr, " %s", dirs[i] ? dirs[i] : "?");
		fprintf(stderr, "%s\n", nd ? "" : " (no directory of the search path exists)");
	}
	profile_dirs_free(dirs, nd);
	return status;
}

int cmd_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, 0, OPT_JSON },
		{ "quiet", no_argument, 0, OPT_QUIET },
		{ "help", no_argument, 0, OPT_HELP },
		{ "profile-dir", required_argument, 0, OPT_PROFILE_DIR },
		{ "system-map", required_argument, 0, OPT_SYSTEM_MAP },
		{ "output", required_argument, 0, OPT_OUTPUT },
		{ "struct", required_argument, 0, OPT_STRUCT },
		{ "symbols", no_argument, 0, OPT_SYMBOLS },
		{ 0, 0, 0, 0 }
	};
	struct popts o = { 0 };
	const char *verb;
	int opt;

	cmd_common_init(&o.c, "vmet profile");
	/* extract reads a memory source: it has the source options, so its own parser. */
	if (argc > 1 && !strcmp(argv[1], "extract"))
		return cmd_profile_extract(argc - 1, argv + 1);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_HELP:
			help();
			return EXIT_OK;
		case 'o':
		case OPT_OUTPUT:
			o.output = optarg;
			break;
		case OPT_SYSTEM_MAP:
			o.system_map = optarg;
			break;
		case OPT_STRUCT:
			o.only_struct = optarg;
			break;
		case OPT_SYMBOLS:
			o.only_symbols = true;
			break;
		default:
			if (cmd_common_option(&o.c, opt, optarg) <= 0) {
				fprintf(stderr, "Try 'vmet profile --help'.\n");
				return EXIT_USAGE;
			}
		}
	}
	if (optind >= argc) {
		cmd_error(&o.c, "need build, import, show, list or extract (see --help)");
		return EXIT_USAGE;
	}
	verb = argv[optind++];
	if (!strcmp(verb, "list")) {
		if (optind != argc) {
			cmd_error(&o.c, "list takes no arguments besides --profile-dir");
			return EXIT_USAGE;
		}
		return do_list(&o);
	}
	if (!strcmp(verb, "build") || !strcmp(verb, "import") || !strcmp(verb, "show")) {
		bool writes = verb[0] != 's';

		if (argc - optind != 1) {
			cmd_error(&o.c, "%s takes exactly one file (see --help)", verb);
			return EXIT_USAGE;
		}
		if (writes && !o.output && o.c.json) {
			cmd_error(&o.c, "--json describes the written profile: give -o PROFILE");
			return EXIT_USAGE;
		}
		if (o.system_map && strcmp(verb, "build")) {
			cmd_error(&o.c, "--system-map is for build only");
			return EXIT_USAGE;
		}
		if ((o.only_struct || o.only_symbols) && writes) {
			cmd_error(&o.c, "--struct and --symbols are for show only");
			return EXIT_USAGE;
		}
		if (verb[0] == 'b')
			return do_build(&o, argv[optind]);
		if (verb[0] == 'i')
			return do_import(&o, argv[optind]);
		return do_show(&o, argv[optind]);
	}
	cmd_error(&o.c, "unknown action '%s': build, import, show, list or extract", verb);
	return EXIT_USAGE;
}
