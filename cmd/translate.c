// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmet translate: show, for each address, every table entry read at every
 * level of every stage, and where the address lands.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/json.h"

static void help(void)
{
	printf("Usage: vmet translate [OPTIONS] SOURCE ADDRESS...\n"
	       "\n"
	       "Translate each ADDRESS through the stack the options describe and print\n"
	       "every table entry read: its stage, level, table address, index, raw\n"
	       "value, decoded flags and the address it leads to.  With a CR3 (given or\n"
	       "recorded in SOURCE) ADDRESS is virtual; with only --eptp/--ncr3 it is\n"
	       "guest-physical; with neither, it is checked against physical memory.\n"
	       "\n"
	       "%s"
	       "\n"
	       "Exit status: 0 every address translated, 1 one did not (the reason is\n"
	       "printed), 2 usage or source error.\n", cmd_common_help);
}

static const char *space_desc(const struct aspace *as, char *buf, size_t n)
{
	switch (as->kind) {
	case ASPACE_X86: snprintf(buf, n, "paging %s", as->name); break;
	case ASPACE_NPT: snprintf(buf, n, "NPT %s", as->name); break;
	case ASPACE_EPT: snprintf(buf, n, "EPT %s", as->name); break;
	case ASPACE_PHYS: snprintf(buf, n, "physical"); break;
	}
	return buf;
}

static const char *addr_kind(const struct aspace *as)
{
	/* What the input addresses of a space are called. */
	if (as->kind == ASPACE_X86)
		return as->lower && as->lower->kind != ASPACE_PHYS ? "guest virtual" : "virtual";
	if (as->kind == ASPACE_PHYS)
		return "host physical";
	return "guest physical";
}

static void print_text(struct aspace *top, uint64_t addr, const struct xlate_trace *t,
		       int rc, uint64_t pa, const struct vmet_err *err)
{
	char fl[96];

	printf("%s 0x%016" PRIx64 ":\n", addr_kind(top), addr);
	for (size_t i = 0; i < t->n; i++) {
		const struct xlate_step *s = &t->step[i];
		const char *lname = aspace_level_name(s->kind, s->mode, s->level);

		aspace_entry_flags(s->kind, s->level, s->leaf, s->entry, fl, sizeof(fl));
		printf("%*sstage %u %-9s table 0x%012" PRIx64 "[%3u] @0x%012" PRIx64
		       " = 0x%016" PRIx64 "  %-22s",
		       2 + 2 * (int)(s->stage - 1), "", s->stage, lname, s->table,
		       s->index, s->entry_addr, s->entry, fl);
		if (s->leaf)
			printf(" -> page 0x%" PRIx64 " (%s)\n", s->out,
			       s->page_size == 4096 ? "4 KiB" :
			       s->page_size == (2u << 20) ? "2 MiB" :
			       s->page_size == (4u << 20) ? "4 MiB" :
			       s->page_size == (1u << 30) ? "1 GiB" : "?");
		else if (s->out)
			printf(" -> table 0x%" PRIx64 "\n", s->out);
		else
			printf("\n");
	}
	if (t->truncated)
		printf("  (trace truncated at %d steps)\n", XLATE_TRACE_MAX);
	if (rc) {
		printf("  error: %s\n", err->msg);
		return;
	}
	/* The address at each stage boundary, top to bottom. */
	printf("  result:");
	{
		uint64_t a = addr;
		char d[32];

		for (struct aspace *s = top; s && s->kind != ASPACE_PHYS; s = s->lower) {
			struct xlate x;
			struct vmet_err e2;

			if (aspace_xlate(s, a, &x, &e2))
				break;
			printf(" %s 0x%" PRIx64 " ->", space_desc(s, d, sizeof(d)), a);
			a = x.out;
		}
		printf(" host physical 0x%" PRIx64 "\n", pa);
	}
}

static void print_json(struct json *j, struct aspace *top, uint64_t addr,
		       const struct xlate_trace *t, int rc, uint64_t pa,
		       const struct vmet_err *err)
{
	char fl[96], d[32];

	json_obj_begin(j);
	json_khex(j, "address", addr);
	json_kstr(j, "address_kind", addr_kind(top));
	json_kbool(j, "ok", rc == 0);
	if (rc) {
		json_kstr(j, "error", err->msg);
		json_kstr(j, "error_kind", vmet_strerror(rc));
	} else {
		json_khex(j, "host_physical", pa);
	}
	json_key(j, "steps");
	json_arr_begin(j);
	for (size_t i = 0; i < t->n; i++) {
		const struct xlate_step *s = &t->step[i];
		struct aspace *sp = aspace_stage(top, s->stage);

		json_obj_begin(j);
		json_ku64(j, "stage", s->stage);
		json_kstr(j, "space", sp ? space_desc(sp, d, sizeof(d)) : "?");
		json_ku64(j, "level", s->level);
		json_kstr(j, "level_name", aspace_level_name(s->kind, s->mode, s->level));
		json_khex(j, "table", s->table);
		json_ku64(j, "index", s->index);
		json_khex(j, "entry_address", s->entry_addr);
		json_khex(j, "entry", s->entry);
		json_kstr(j, "flags", aspace_entry_flags(s->kind, s->level, s->leaf, s->entry, fl, sizeof(fl)));
		json_kbool(j, "leaf", s->leaf);
		if (s->leaf) {
			json_khex(j, "page", s->out);
			json_ku64(j, "page_size", s->page_size);
		} else if (s->out) {
			json_khex(j, "next_table", s->out);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_kbool(j, "trace_truncated", t->truncated);
	json_obj_end(j);
}

int cmd_translate(int argc, char **argv)
{
	static const struct option longopts[] = { CMD_COMMON_LONGOPTS, { 0, 0, 0, 0 } };
	struct cmd_common c;
	struct phys_source *src = NULL;
	struct aspace *top = NULL;
	struct stack_spec spec;
	struct vmet_err err = { 0 };
	struct json j;
	int opt, status = EXIT_OK, first_addr;

	cmd_common_init(&c, "vmet translate");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cmd_common_option(&c, opt, optarg);

		if (opt == OPT_HELP) {
			help();
			return EXIT_OK;
		}
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0) {
			fprintf(stderr, "Try 'vmet translate --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		cmd_error(&c, "need SOURCE and at least one ADDRESS (see --help)");
		return EXIT_USAGE;
	}
	c.source = argv[optind];
	first_addr = optind + 1;
	for (int i = first_addr; i < argc; i++) {
		uint64_t v;

		if (!cmd_parse_u64(argv[i], &v)) {
			cmd_error(&c, "'%s' is not an address", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (cmd_open_source(&c, &src, &err)) {
		cmd_error(&c, "%s", err.msg);
		return EXIT_USAGE;
	}
	if (cmd_stack_spec(&c, src, false, &spec, &err) ||
	    aspace_stack_build(src, &spec, &top, &err)) {
		cmd_error(&c, "%s", err.msg);
		phys_close(src);
		return EXIT_USAGE;
	}
	if (c.json) {
		json_init(&j, stdout, true);
		json_obj_begin(&j);
		json_kstr(&j, "source", src->description ? src->description : c.source);
		json_key(&j, "translations");
		json_arr_begin(&j);
	}
	for (int i = first_addr; i < argc; i++) {
		struct xlate_trace *t = calloc(1, sizeof(*t));
		uint64_t addr = 0, pa = 0;
		int rc;

		if (!t) {
			cmd_error(&c, "out of memory");
			status = EXIT_USAGE;
			break;
		}
		cmd_parse_u64(argv[i], &addr);
		vmet_err_clear(&err);
		rc = aspace_xlate_full(top, addr, &pa, t, &err);
		if (!rc && !phys_contains(src, pa, 1))
			rc = vmet_errf(&err, VMET_EHOLE,
				       "translated to host physical 0x%" PRIx64
				       ", which is beyond the end of memory", pa);
		if (rc)
			status = EXIT_INCOMPLETE;
		if (c.json)
			print_json(&j, top, addr, t, rc, pa, &err);
		else
			print_text(top, addr, t, rc, pa, &err);
		free(t);
	}
	if (c.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	}
	aspace_free_stack(top);
	phys_close(src);
	return status;
}
