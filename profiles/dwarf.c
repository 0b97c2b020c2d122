// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Profiles from DWARF (libdw): struct layouts from .debug_info, symbols
 * from .symtab or a System.map, the banner from the ELF's own bytes.
 *
 * A Debian 6.1 vmlinux carries about 170 MiB of .debug_info in some 2 800
 * compilation units.  Only the top level of each unit is looked at (struct
 * definitions live there in C) and dwarf_siblingof() jumps over children
 * using DW_AT_sibling, so a unit costs a few microseconds unless it defines
 * something wanted; the scan ends when every wanted struct is found.
 */
#include "profiles/dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profiles/wanted.h"

#define BANNER_SYMBOL "linux_banner"
#define SYSMAP_MAX_LINE 1024
#define SYSMAP_MAX_LINES 2000000	/* a 6.1 System.map has about 150 000 */
#define SYSMAP_MAX_FILE (256u << 20)

/* ---- a small set of names: the wanted structs and symbols -------------- */

#define NAMESET_SLOTS 512	/* a power of two, well above twice the names */

struct name_entry {
	char name[PROFILE_MAX_NAME + 1];
	bool used;
	bool found;		/* structs: definition taken */
	/* symbols */
	uint64_t addr;
	bool global;		/* the address came from a global/weak symbol */
	bool ambiguous;		/* two local symbols with different addresses */
	uint64_t other;
};

struct nameset {
	struct name_entry slot[NAMESET_SLOTS];
	size_t n, nfound;
};

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct name_entry *nameset_find(struct nameset *ns, const char *s, size_t n)
{
	uint32_t h = name_hash(s, n);

	for (size_t i = 0; i < NAMESET_SLOTS; i++) {
		struct name_entry *e = &ns->slot[(h + i) & (NAMESET_SLOTS - 1)];

		if (!e->used)
			return NULL;
		if (strlen(e->name) == n && !memcmp(e->name, s, n))
			return e;
	}
	return NULL;
}

/* Add each '|'-separated alternative of alts. */
static int nameset_add(struct nameset *ns, const char *alts, struct vmet_err *err)
{
	for (const char *a = alts; *a;) {
		size_t l = strcspn(a, "|");

		if (l && l <= PROFILE_MAX_NAME && !nameset_find(ns, a, l)) {
			uint32_t h = name_hash(a, l);
			size_t i;

			if (2 * (ns->n + 1) > NAMESET_SLOTS)
				return vmet_errf(err, VMET_ELIMIT, "more than %d wanted names",
						 NAMESET_SLOTS / 2);
			for (i = h & (NAMESET_SLOTS - 1); ns->slot[i].used;
			     i = (i + 1) & (NAMESET_SLOTS - 1))
				;
			memcpy(ns->slot[i].name, a, l);
			ns->slot[i].name[l] = '\0';
			ns->slot[i].used = true;
			ns->n++;
		}
		a += l;
		if (*a == '|')
			a++;
	}
	return 0;
}

/* ---- symbols ----------------------------------------------------------- */

static void note_symbol(struct nameset *syms, const char *name, uint64_t addr, bool global)
{
	struct name_entry *e = nameset_find(syms, name, strlen(name));

	if (!e)
		return;
	if (!e->found) {
		e->found = true;
		e->addr = addr;
		e->global = global;
		syms->nfound++;
		return;
	}
	if (e->addr == addr)
		return;
	/* A global wins over file-local namesakes; two locals are ambiguous. */
	if (global && !e->global) {
		e->addr = addr;
		e->global = true;
		e->ambiguous = false;
	} else if (global == e->global) {
		e->ambiguous = true;
		e->other = addr;
	}
}

static int symbols_from_elf(Elf *elf, const char *path, struct nameset *syms,
			    struct vmet_err *err)
{
	Elf_Scn *scn = NULL;
	bool have = false;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return vmet_errf(err, VMET_EFORMAT, "%s: cannot read the symbol table: %s",
					 path, elf_errmsg(-1));
		have = true;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			int bind;

			if (!gelf_getsym(data, (int)i, &s))
				return vmet_errf(err, VMET_EFORMAT, "%s: symbol %zu unreadable: %s",
						 path, i, elf_errmsg(-1));
			if (s.st_shndx == SHN_UNDEF || !s.st_name)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name)
				continue;
			bind = GELF_ST_BIND(s.st_info);
			note_symbol(syms, name, s.st_value, bind == STB_GLOBAL || bind == STB_WEAK);
		}
	}
	if (!have)
		return vmet_errf(err, VMET_ENOTFOUND,
				 "%s has no symbol table: give its System.map with --system-map",
				 path);
	return 0;
}

/* System.map: "ADDRESS TYPE NAME" per line; upper-case TYPE is global. */
static int symbols_from_sysmap(const char *path, struct nameset *syms, struct vmet_err *err)
{
	FILE *f = fopen(path, "re");
	char line[SYSMAP_MAX_LINE + 2];
	size_t lineno = 0, good = 0;

	if (!f)
		return vmet_errf(err, VMET_EIO, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char name[PROFILE_MAX_NAME + 1], type;
		uint64_t addr;
		size_t n = strlen(line);
		int used = 0;

		lineno++;
		if (lineno > SYSMAP_MAX_LINES) {
			fclose(f);
			return vmet_errf(err, VMET_ELIMIT, "%s: more than %d lines", path,
					 SYSMAP_MAX_LINES);
		}
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (n > SYSMAP_MAX_LINE) {
			fclose(f);
			return vmet_errf(err, VMET_EFORMAT, "%s:%zu: line longer than %d bytes",
					 path, lineno, SYSMAP_MAX_LINE);
		}
		if (!n)
			continue;
		if (sscanf(line, "%" SCNx64 " %c %256s%n", &addr, &type, name, &used) != 3 ||
		    (size_t)used != n) {
			fclose(f);
			return vmet_errf(err, VMET_EFORMAT,
					 "%s:%zu: not a System.map line (ADDRESS TYPE NAME)",
					 path, lineno);
		}
		good++;
		if (type == 'U' || type == 'u' || type == 'w')
			continue;
		note_symbol(syms, name, addr, type >= 'A' && type <= 'Z');
	}
	fclose(f);
	/* Debian's linux-image ships a one-line placeholder System.map. */
	if (good < 2)
		return vmet_errf(err, VMET_EFORMAT,
				 "%s: %zu symbol line(s): a placeholder, not a System.map "
				 "(the real one ships in the -dbg package)", path, good);
	return 0;
}

/* ---- the banner --------------------------------------------------------- */

static int read_banner(Elf *elf, int fd, const char *path, uint64_t addr,
		       char **banner, struct vmet_err *err)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		char buf[PROFILE_MAX_TEXT + 1];
		size_t want, n;
		ssize_t r;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    sh.sh_type == SHT_NOBITS || addr < sh.sh_addr ||
		    addr - sh.sh_addr >= sh.sh_size)
			continue;
		want = sh.sh_size - (addr - sh.sh_addr);
		if (want > PROFILE_MAX_TEXT)
			want = PROFILE_MAX_TEXT;
		r = pread(fd, buf, want, (off_t)(sh.sh_offset + (addr - sh.sh_addr)));
		if (r < 0 || (size_t)r != want)
			return vmet_errf(err, VMET_EIO, "%s: cannot read %s at file offset 0x%" PRIx64,
					 path, BANNER_SYMBOL, sh.sh_offset + (addr - sh.sh_addr));
		buf[want] = '\0';
		n = strnlen(buf, want);
		if (n == want)
			return vmet_errf(err, VMET_EFORMAT,
					 "%s: %s at 0x%" PRIx64 " has no terminator within %zu bytes",
					 path, BANNER_SYMBOL, addr, want);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (strncmp(buf, "Linux version ", 14))
			return vmet_errf(err, VMET_EFORMAT,
					 "%s: %s at 0x%" PRIx64 " does not start with 'Linux version'",
					 path, BANNER_SYMBOL, addr);
		*banner = strdup(buf);
		return *banner ? 0 : vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	return vmet_errf(err, VMET_EFORMAT,
			 "%s: %s at 0x%" PRIx64 " is in no section with file contents",
			 path, BANNER_SYMBOL, addr);
}

/* ---- struct layouts ----------------------------------------------------- */

static const char *die_what(Dwarf_Die *d, char *buf, size_t n)
{
	snprintf(buf, n, "DIE at .debug_info offset 0x%" PRIx64, (uint64_t)dwarf_dieoffset(d));
	return buf;
}

/* Follow typedefs and qualifiers to the underlying type. */
static int peel(Dwarf_Die *die, Dwarf_Die *out, struct vmet_err *err)
{
	Dwarf_Die cur = *die;

	for (int i = 0; i < DWARF_MAX_TYPE_CHAIN; i++) {
		int tag = dwarf_tag(&cur);
		Dwarf_Attribute a;

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type &&
		    tag != DW_TAG_atomic_type) {
			*out = cur;
			return 0;
		}
		if (!dwarf_attr(&cur, DW_AT_type, &a) || !dwarf_formref_die(&a, &cur)) {
			*out = cur;	/* const void */
			return 0;
		}
	}
	char w[64];

	return vmet_errf(err, VMET_ELOOP, "type chain longer than %d at %s",
			 DWARF_MAX_TYPE_CHAIN, die_what(die, w, sizeof(w)));
}

static int member_offset(Dwarf_Die *m, uint64_t *off, struct vmet_err *err)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	char what[64];

	if (!dwarf_attr(m, DW_AT_data_member_location, &a)) {
		*off = 0;	/* union members */
		return 0;
	}
	if (dwarf_formudata(&a, &w) == 0) {
		*off = w;
		return 0;
	}
	/* DWARF 2 style: a location expression DW_OP_plus_uconst N. */
	{
		Dwarf_Op *ops;
		size_t nops;

		if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
		    ops[0].atom == DW_OP_plus_uconst) {
			*off = ops[0].number;
			return 0;
		}
	}
	return vmet_errf(err, VMET_EUNSUPPORTED, "member location of %s is not a constant",
			 die_what(m, what, sizeof(what)));
}

static int add_members(struct profile_struct *ps, Dwarf_Die *agg, uint64_t base, int depth,
		       struct vmet_err *err);

static int add_member(struct profile_struct *ps, Dwarf_Die *m, uint64_t base, int depth,
		      struct vmet_err *err)
{
	const char *name = dwarf_diename(m);
	Dwarf_Die type, peeled;
	Dwarf_Attribute a;
	Dwarf_Word w, bit_size = 0;
	uint64_t off = 0, size = 0;
	char what[64];
	int rc;

	if ((rc = member_offset(m, &off, err)))
		return rc;
	if (!dwarf_attr(m, DW_AT_type, &a) || !dwarf_formref_die(&a, &type))
		return vmet_errf(err, VMET_EFORMAT, "member %s of struct %s has no type (%s)",
				 name ? name : "(anonymous)", ps->name,
				 die_what(m, what, sizeof(what)));
	if ((rc = peel(&type, &peeled, err)))
		return rc;
	if (!name) {
		int tag = dwarf_tag(&peeled);

		/* An anonymous struct or union: its members belong to the parent. */
		if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type) {
			if (depth >= DWARF_MAX_NEST)
				return vmet_errf(err, VMET_ELIMIT,
						 "struct %s: anonymous members nested deeper than %d",
						 ps->name, DWARF_MAX_NEST);
			return add_members(ps, &peeled, base + off, depth + 1, err);
		}
		return 0;	/* an unnamed bit-field: padding */
	}
	if (dwarf_aggregate_size(&type, &w) == 0)
		size = w;	/* flexible arrays have none: 0 */
	if (dwarf_attr(m, DW_AT_bit_size, &a) && dwarf_formudata(&a, &bit_size) == 0 &&
	    bit_size) {
		uint64_t bit;

		if (bit_size > 64)
			return vmet_errf(err, VMET_EFORMAT, "member %s.%s: bit-field of %" PRIu64
					 " bits", ps->name, name, (uint64_t)bit_size);
		if (dwarf_attr(m, DW_AT_data_bit_offset, &a) && dwarf_formudata(&a, &w) == 0) {
			bit = (base + off) * 8 + w;
		} else if (dwarf_attr(m, DW_AT_bit_offset, &a) && dwarf_formudata(&a, &w) == 0) {
			/* DWARF 2/3: bits from the storage unit's most significant end. */
			Dwarf_Word unit = size;

			if (dwarf_attr(m, DW_AT_byte_size, &a))
				dwarf_formudata(&a, &unit);
			if (w + bit_size > unit * 8)
				return vmet_errf(err, VMET_EFORMAT,
						 "member %s.%s: bit offset %" PRIu64 " outside its "
						 "%" PRIu64 "-byte unit", ps->name, name,
						 (uint64_t)w, (uint64_t)unit);
			bit = (base + off) * 8 + unit * 8 - w - bit_size;
		} else {
			bit = (base + off) * 8;
		}
		return profile_add_member(ps, name, bit / 8, (bit % 8 + bit_size + 7) / 8,
					  (uint8_t)(bit % 8), (uint8_t)bit_size, err);
	}
	return profile_add_member(ps, name, base + off, size, 0, 0, err);
}

static int add_members(struct profile_struct *ps, Dwarf_Die *agg, uint64_t base, int depth,
		       struct vmet_err *err)
{
	Dwarf_Die m;
	int rc = dwarf_child(agg, &m);

	if (rc < 0)
		return vmet_errf(err, VMET_EFORMAT, "struct %s: cannot read members: %s",
				 ps->name, dwarf_errmsg(-1));
	if (rc > 0)
		return 0;
	do {
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if ((rc = add_member(ps, &m, base, depth, err)))
			return rc;
	} while ((rc = dwarf_siblingof(&m, &m)) == 0);
	if (rc < 0)
		return vmet_errf(err, VMET_EFORMAT, "struct %s: cannot read members: %s",
				 ps->name, dwarf_errmsg(-1));
	return 0;
}

/* A struct/union definition (or a typedef naming one) at a unit's top level. */
static int take_struct(struct profile *p, struct nameset *want, Dwarf_Die *die,
		       struct vmet_err *err)
{
	const char *name = dwarf_diename(die);
	struct name_entry *e;
	struct profile_struct *ps;
	Dwarf_Die def = *die;
	Dwarf_Word size;
	int rc;

	if (!name || !(e = nameset_find(want, name, strlen(name))) || e->found)
		return 0;
	if (dwarf_tag(die) == DW_TAG_typedef) {
		int tag;

		if ((rc = peel(die, &def, err)))
			return rc;
		tag = dwarf_tag(&def);
		if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
			return 0;
	}
	if (dwarf_hasattr(&def, DW_AT_declaration) ||
	    dwarf_aggregate_size(&def, &size) != 0)
		return 0;
	ps = profile_add_struct(p, name, size, err);
	if (!ps)
		return err ? err->code : VMET_EFORMAT;
	if ((rc = add_members(ps, &def, 0, 0, err)))
		return rc;
	e->found = true;
	want->nfound++;
	return 0;
}

static int scan_units(Dwarf *dw, const char *path, struct profile *p, struct nameset *want,
		      struct dwarf_build_stats *st, struct vmet_err *err)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	int rc = 0;

	while (want->nfound < want->n &&
	       (rc = dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL)) == 0) {
		Dwarf_Die d;

		st->units_read++;
		if (dwarf_child(&cudie, &d) != 0)
			continue;
		do {
			int tag = dwarf_tag(&d);

			if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type &&
			    tag != DW_TAG_typedef)
				continue;
			if ((rc = take_struct(p, want, &d, err)))
				return vmet_err_prefix(err, rc, "%s", path);
		} while (dwarf_siblingof(&d, &d) == 0 && want->nfound < want->n);
	}
	if (want->nfound == want->n)
		return 0;
	if (rc < 0)
		return vmet_errf(err, VMET_EFORMAT, "%s: reading compilation unit %zu: %s",
				 path, st->units_read + 1, dwarf_errmsg(-1));
	st->units_total = st->units_read;
	return 0;
}

/* ---- putting it together ------------------------------------------------ */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int build(Elf *elf, int fd, const char *vmlinux, const char *system_map, FILE *log,
		 struct profile *p, struct nameset *want, struct nameset *syms,
		 struct dwarf_build_stats *st, struct vmet_err *err)
{
	GElf_Ehdr eh;
	Dwarf *dw;
	struct name_entry *b;
	char src[PROFILE_MAX_TEXT + 1];
	int rc;

	if (!gelf_getehdr(elf, &eh) || elf_kind(elf) != ELF_K_ELF)
		return vmet_errf(err, VMET_EFORMAT, "%s: not an ELF file", vmlinux);
	if (eh.e_machine == EM_X86_64)
		rc = profile_set_text(&p->arch, "x86_64", err);
	else if (eh.e_machine == EM_386)
		rc = profile_set_text(&p->arch, "i386", err);
	else
		return vmet_errf(err, VMET_EUNSUPPORTED, "%s: ELF machine %u is not x86",
				 vmlinux, eh.e_machine);
	if (rc)
		return rc;
	snprintf(src, sizeof(src), "dwarf:%s", vmlinux);
	if ((rc = profile_set_text(&p->source, src, err)))
		return rc;

	for (size_t i = 0; i < wanted_nsymbols; i++)
		if ((rc = nameset_add(syms, wanted_symbols[i], err)))
			return rc;
	for (size_t i = 0; i < wanted_nstructs; i++)
		if ((rc = nameset_add(want, wanted_structs[i].name, err)))
			return rc;
	/* Not used by the OS view but by the builder: i386's paging mode. */
	if (eh.e_machine == EM_386 && (rc = nameset_add(want, "pte_t", err)))
		return rc;

	rc = system_map ? symbols_from_sysmap(system_map, syms, err)
			: symbols_from_elf(elf, vmlinux, syms, err);
	if (rc)
		return rc;
	b = nameset_find(syms, BANNER_SYMBOL, strlen(BANNER_SYMBOL));
	if (!b || !b->found)
		return vmet_errf(err, VMET_ENOTFOUND, "%s: no symbol %s: not a Linux kernel?",
				 system_map ? system_map : vmlinux, BANNER_SYMBOL);
	if ((rc = read_banner(elf, fd, vmlinux, b->addr, &p->banner, err)))
		return rc;
	for (size_t i = 0; i < NAMESET_SLOTS; i++) {
		struct name_entry *e = &syms->slot[i];

		if (!e->used || !e->found)
			continue;
		if (e->ambiguous) {
			if (log)
				fprintf(log, "warning: symbol %s: several local definitions "
					"(0x%" PRIx64 ", 0x%" PRIx64 "...): left out\n",
					e->name, e->addr, e->other);
			continue;
		}
		if ((rc = profile_add_symbol(p, e->name, e->addr, err)))
			return rc;
		st->symbols_found++;
	}

	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return vmet_errf(err, VMET_ENOTFOUND, "%s: no DWARF debug information (%s): "
				 "use the vmlinux of the -dbg package", vmlinux, dwarf_errmsg(-1));
	rc = scan_units(dw, vmlinux, p, want, st, err);
	dwarf_end(dw);
	if (rc)
		return rc;
	st->structs_found = want->nfound;
	if (!want->nfound)
		return vmet_errf(err, VMET_ENOTFOUND, "%s: none of the wanted structs "
				 "(task_struct...) is defined in its DWARF", vmlinux);
	if (log)
		for (size_t i = 0; i < NAMESET_SLOTS; i++)
			if (want->slot[i].used && !want->slot[i].found)
				fprintf(log, "note: struct %s is not defined in %s\n",
					want->slot[i].name, vmlinux);

	if (eh.e_machine == EM_X86_64) {
		p->paging = PAGING_4LEVEL;
	} else {
		uint64_t pte = profile_sizeof(p, "pte_t");

		p->paging = pte == 8 ? PAGING_PAE : pte == 4 ? PAGING_32 : PAGING_NONE;
	}
	return profile_finish(p, err);
}

int profile_from_dwarf(const char *vmlinux, const char *system_map, FILE *log,
		       struct profile **out, struct dwarf_build_stats *stats,
		       struct vmet_err *err)
{
	struct dwarf_build_stats st = { 0 };
	struct nameset *want = calloc(1, sizeof(*want)), *syms = calloc(1, sizeof(*syms));
	struct profile *p = profile_new();
	double t0 = now();
	Elf *elf = NULL;
	int fd = -1, rc;

	*out = NULL;
	if (!want || !syms || !p) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto out;
	}
	elf_version(EV_CURRENT);
	fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = vmet_errf(err, VMET_EIO, "%s: %s", vmlinux, strerror(errno));
		goto out;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		rc = vmet_errf(err, VMET_EFORMAT, "%s: %s", vmlinux, elf_errmsg(-1));
		goto out;
	}
	rc = build(elf, fd, vmlinux, system_map, log, p, want, syms, &st, err);
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	free(want);
	free(syms);
	st.seconds = now() - t0;
	if (stats)
		*stats = st;
	if (rc) {
		profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}
