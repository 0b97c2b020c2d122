// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ELF cores: QEMU's dump-guest-memory output and kdump vmcores.
 *
 * Memory is the PT_LOAD segments, placed at their physical address
 * (p_paddr); bytes past p_filesz up to p_memsz read as zero.  The notes give
 * what the walker needs to enter the guest:
 *
 *   "QEMU" (type 0)   one per vCPU: QEMU's QEMUCPUState (below), with
 *                     CR0/CR3/CR4 and RIP -> one layer-0 vcpu_record each
 *   "CORE" NT_PRSTATUS general registers only; used for RIP when there is
 *                     no QEMU note (kdump), CR3 then stays unknown
 *   "VMCOREINFO"      the kernel's KEY=VALUE text -> src->vmcoreinfo
 *
 * libelf parses the ELF and program headers and walks the notes; segment
 * bytes are served from our own read-only mapping, never read up front.
 */
#include "core/bytes.h"
#include "formats/source.h"

#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELF_MAX_PHDRS (1u << 20)
#define ELF_MAX_NOTE_SEG (64u << 20)	/* QEMU writes ~1 KiB per vCPU */
#define ELF_MAX_NOTES 65536
#define ELF_MAX_VCPUS 4096
#define VMCOREINFO_MAX (1u << 20)

/*
 * QEMUCPUState, version 1 (QEMU target/i386/arch_dump.c): u32 version,
 * u32 size, 18 u64 (rax..r15, rip, rflags), ten 24-byte segments (cs, ds,
 * es, fs, gs, ss, ldt, tr, gdt, idt: u32 selector, limit, flags, pad;
 * u64 base), u64 cr[5], then optionally u64 kernel_gs_base.
 */
#define QCS_RIP 136
#define QCS_CS 152
#define QCS_SEG_FLAGS 8
#define QCS_CR 392
#define QCS_MIN_SIZE (QCS_CR + 5 * 8)
#define QEMU_SEG_L (1u << 21)		/* 64-bit code segment */

/* NT_PRSTATUS: where the instruction pointer sits in each layout. */
#define PRSTATUS64_SIZE 336
#define PRSTATUS64_RIP (112 + 16 * 8)
#define PRSTATUS32_SIZE 144
#define PRSTATUS32_EIP (72 + 12 * 4)

#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)


struct elf_notes {
	struct vcpu_set qemu;		/* from QEMU notes */
	struct vcpu_set core;		/* from NT_PRSTATUS, RIP only */
	char *vmcoreinfo;
};

/*
 * EFER is not in QEMUCPUState, so long mode is inferred: paging with PAE on
 * and either a 64-bit code segment (CS.L) or an x86-64 ELF, which QEMU
 * writes only when the first vCPU had EFER.LMA set.  A vCPU that is in
 * compatibility mode on a 32-bit dump would be taken for PAE; QEMU never
 * writes such a file for a 64-bit guest.
 */
static int qemu_note(struct elf_notes *nt, const uint8_t *d, size_t n, uint64_t off,
		     bool x86_64_elf, const char *path, struct vmet_err *err)
{
	struct vcpu_record r = { 0 };
	uint32_t version, size;
	bool lm;

	if (n < QCS_MIN_SIZE)
		return vmet_errf(err, VMET_EFORMAT, "%s: QEMU note at file offset 0x%" PRIx64
				 " is %zu bytes, too short for a QEMUCPUState (%d)",
				 path, off, n, QCS_MIN_SIZE);
	version = le32(d);
	size = le32(d + 4);
	if (version != 1)
		return vmet_errf(err, VMET_EUNSUPPORTED, "%s: QEMU note at file offset 0x%" PRIx64
				 ": QEMUCPUState version %" PRIu32 " (vmet reads version 1)",
				 path, off, version);
	if (size < QCS_MIN_SIZE || size > n)
		return vmet_errf(err, VMET_EFORMAT, "%s: QEMU note at file offset 0x%" PRIx64
				 ": size field %" PRIu32 " does not fit the note (%zu bytes)",
				 path, off, size, n);
	if (nt->qemu.n >= ELF_MAX_VCPUS)
		return vmet_errf(err, VMET_ELIMIT, "%s: more than %d QEMU vCPU notes (at 0x%" PRIx64 ")",
				 path, ELF_MAX_VCPUS, off);
	r.vcpu = (unsigned)nt->qemu.n;
	r.rip = le64(d + QCS_RIP);
	r.cr0 = le64(d + QCS_CR);
	r.cr3 = le64(d + QCS_CR + 3 * 8);
	r.cr4 = le64(d + QCS_CR + 4 * 8);
	lm = (r.cr0 & CR0_PG) && (r.cr4 & CR4_PAE) &&
	     ((le32(d + QCS_CS + QCS_SEG_FLAGS) & QEMU_SEG_L) || x86_64_elf);
	r.efer = lm ? EFER_LME | EFER_LMA : 0;
	r.mode = paging_mode_from_regs(r.cr0, r.cr4, r.efer);
	r.cr3_origin = VCPU_ORIGIN_DUMPNOTE;
	r.regs_origin = VCPU_ORIGIN_DUMPNOTE;
	if (vcpu_set_add(&nt->qemu, &r))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}

static int prstatus_note(struct elf_notes *nt, const uint8_t *d, size_t n, uint64_t off,
			 const char *path, struct vmet_err *err)
{
	struct vcpu_record r = { 0 };

	if (nt->core.n >= ELF_MAX_VCPUS)
		return vmet_errf(err, VMET_ELIMIT, "%s: more than %d NT_PRSTATUS notes (at 0x%" PRIx64 ")",
				 path, ELF_MAX_VCPUS, off);
	if (n == PRSTATUS64_SIZE)
		r.rip = le64(d + PRSTATUS64_RIP);
	else if (n == PRSTATUS32_SIZE)
		r.rip = le32(d + PRSTATUS32_EIP);
	else
		return vmet_errf(err, VMET_EFORMAT, "%s: NT_PRSTATUS note at file offset 0x%" PRIx64
				 " is %zu bytes, not an x86 (%d) or x86-64 (%d) prstatus",
				 path, off, n, PRSTATUS32_SIZE, PRSTATUS64_SIZE);
	r.vcpu = (unsigned)nt->core.n;
	if (vcpu_set_add(&nt->core, &r))
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}

static int vmcoreinfo_note(struct elf_notes *nt, const uint8_t *d, size_t n, uint64_t off,
			   const char *path, struct vmet_err *err)
{
	size_t len = strnlen((const char *)d, n);

	if (nt->vmcoreinfo)
		return vmet_errf(err, VMET_EFORMAT, "%s: second VMCOREINFO note at file offset 0x%"
				 PRIx64 ": which one is the kernel's?", path, off);
	if (len > VMCOREINFO_MAX)
		return vmet_errf(err, VMET_ELIMIT, "%s: VMCOREINFO note at file offset 0x%" PRIx64
				 " is %zu bytes (more than %u)", path, off, len, VMCOREINFO_MAX);
	nt->vmcoreinfo = strndup((const char *)d, len);
	if (!nt->vmcoreinfo)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int read_notes(Elf *elf, const GElf_Phdr *ph, size_t idx, uint64_t fsize, bool x86_64_elf,
		      size_t *nnotes, struct elf_notes *nt, const char *path, struct vmet_err *err)
{
	Elf_Data *data;
	size_t off = 0, next;
	GElf_Nhdr nh;
	size_t name_off, desc_off;

	if (ph->p_offset > fsize || ph->p_filesz > fsize - ph->p_offset)
		return vmet_errf(err, VMET_EFORMAT, "%s: PT_NOTE (program header %zu) at [0x%" PRIx64
				 ", 0x%" PRIx64 ") goes beyond the file's end 0x%" PRIx64,
				 path, idx, (uint64_t)ph->p_offset,
				 (uint64_t)(ph->p_offset + ph->p_filesz), fsize);
	if (ph->p_filesz > ELF_MAX_NOTE_SEG)
		return vmet_errf(err, VMET_ELIMIT, "%s: PT_NOTE (program header %zu) is %" PRIu64
				 " bytes, more than %u", path, idx, (uint64_t)ph->p_filesz,
				 ELF_MAX_NOTE_SEG);
	if (!ph->p_filesz)
		return 0;
	data = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	if (!data)
		return vmet_errf(err, VMET_EFORMAT, "%s: cannot read PT_NOTE at file offset 0x%" PRIx64
				 ": %s", path, (uint64_t)ph->p_offset, elf_errmsg(-1));
	while (off < data->d_size) {
		const uint8_t *base = data->d_buf;
		uint64_t foff = ph->p_offset + off;
		const char *name;
		const uint8_t *desc;
		int rc = 0;

		next = gelf_getnote(data, off, &nh, &name_off, &desc_off);
		if (!next) {
			/* Some writers pad the segment with zeros after the last note. */
			if (all_zero(base + off, data->d_size - off))
				break;
			return vmet_errf(err, VMET_EFORMAT, "%s: malformed note at file offset 0x%"
					 PRIx64 " (name or descriptor size runs past the PT_NOTE's "
					 "end 0x%" PRIx64 ")", path, foff,
					 (uint64_t)(ph->p_offset + ph->p_filesz));
		}
		if (++*nnotes > ELF_MAX_NOTES)
			return vmet_errf(err, VMET_ELIMIT, "%s: more than %d notes (at file offset 0x%"
					 PRIx64 ")", path, ELF_MAX_NOTES, foff);
		name = (const char *)base + name_off;
		desc = base + desc_off;
		if (nh.n_namesz == 5 && !memcmp(name, "QEMU", 5) && nh.n_type == 0)
			rc = qemu_note(nt, desc, nh.n_descsz, foff, x86_64_elf, path, err);
		else if (nh.n_namesz == 5 && !memcmp(name, "CORE", 5) && nh.n_type == NT_PRSTATUS)
			rc = prstatus_note(nt, desc, nh.n_descsz, foff, path, err);
		else if (nh.n_namesz == 11 && !memcmp(name, "VMCOREINFO", 11))
			rc = vmcoreinfo_note(nt, desc, nh.n_descsz, foff, path, err);
		if (rc)
			return rc;
		off = next;
	}
	return 0;
}

static int parse(Elf *elf, const struct mapped_file *mf, struct file_segment **segs_out,
		 size_t *nsegs_out, struct elf_notes *nt, bool *qemu, struct vmet_err *err)
{
	const char *path = mf->path;
	GElf_Ehdr eh;
	size_t phnum, nsegs = 0, nnotes = 0;
	struct file_segment *segs;
	int cls;

	/* e_ident first, from our own mapping: libelf's messages for these
	 * ("no error") would not say what is wrong. */
	if (mf->size < EI_NIDENT || memcmp(mf->map, ELFMAG, SELFMAG))
		return vmet_errf(err, VMET_EFORMAT, "%s: no ELF magic at offset 0 (or a file of %" PRIu64
				 " bytes, shorter than e_ident)", path, mf->size);
	cls = mf->map[EI_CLASS];
	if (cls != ELFCLASS32 && cls != ELFCLASS64)
		return vmet_errf(err, VMET_EFORMAT, "%s: ELF class %d at offset 0x4 is neither 1 (32-bit) "
				 "nor 2 (64-bit)", path, cls);
	if (mf->map[EI_DATA] != ELFDATA2LSB)
		return vmet_errf(err, VMET_EUNSUPPORTED, "%s: ELF data encoding %d at offset 0x5: "
				 "vmet reads little-endian x86 cores only", path, mf->map[EI_DATA]);
	if (mf->size < (cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return vmet_errf(err, VMET_EFORMAT, "%s: %" PRIu64 " bytes, shorter than an ELF header: "
				 "truncated", path, mf->size);
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return vmet_errf(err, VMET_EFORMAT, "%s: libelf cannot read the ELF header: %s",
				 path, elf_errmsg(-1));
	if (eh.e_type != ET_CORE)
		return vmet_errf(err, VMET_EFORMAT, "%s: ELF type %u at offset 0x10 is not ET_CORE (4): "
				 "not a memory dump", path, eh.e_type);
	if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)
		return vmet_errf(err, VMET_EUNSUPPORTED, "%s: ELF machine %u at offset 0x12 is not "
				 "x86-64 (62) or i386 (3)", path, eh.e_machine);
	if (elf_getphdrnum(elf, &phnum))
		return vmet_errf(err, VMET_EFORMAT, "%s: cannot count program headers: %s",
				 path, elf_errmsg(-1));
	if (!phnum)
		return vmet_errf(err, VMET_EFORMAT, "%s: no program headers (e_phnum = 0): no memory",
				 path);
	/* libelf quietly clamps the count to what fits in the file: a forged
	 * e_phnum must be an error, not a shorter list. */
	if (eh.e_phnum != PN_XNUM && phnum != eh.e_phnum)
		return vmet_errf(err, VMET_EFORMAT, "%s: e_phnum says %u program headers but only %zu "
				 "fit in the file (truncated or forged header)", path, eh.e_phnum, phnum);
	if (phnum > ELF_MAX_PHDRS || eh.e_phoff > mf->size ||
	    (uint64_t)phnum * eh.e_phentsize > mf->size - eh.e_phoff)
		return vmet_errf(err, VMET_EFORMAT, "%s: %zu program headers of %u bytes at e_phoff 0x%"
				 PRIx64 " do not fit in the file (0x%" PRIx64 " bytes)",
				 path, phnum, eh.e_phentsize, (uint64_t)eh.e_phoff, mf->size);
	segs = calloc(phnum, sizeof(*segs));
	if (!segs)
		return vmet_errf(err, VMET_ENOMEM, "out of memory for %zu program headers", phnum);
	for (size_t i = 0; i < phnum; i++) {
		uint64_t hoff = eh.e_phoff + (uint64_t)i * eh.e_phentsize;
		GElf_Phdr ph;
		int rc;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			free(segs);
			return vmet_errf(err, VMET_EFORMAT, "%s: program header %zu at file offset 0x%"
					 PRIx64 " is unreadable: %s", path, i, hoff, elf_errmsg(-1));
		}
		if (ph.p_type == PT_NOTE) {
			rc = read_notes(elf, &ph, i, mf->size, eh.e_machine == EM_X86_64, &nnotes, nt,
					path, err);
			if (rc) {
				free(segs);
				return rc;
			}
			continue;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;	/* no bytes to serve */
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr) {
			free(segs);
			return vmet_errf(err, VMET_EFORMAT, "%s: PT_LOAD (program header %zu at 0x%" PRIx64
					 ") wraps the physical address space: p_paddr 0x%" PRIx64
					 " + p_memsz 0x%" PRIx64, path, i, hoff, (uint64_t)ph.p_paddr,
					 (uint64_t)ph.p_memsz);
		}
		segs[nsegs++] = (struct file_segment){
			.start = ph.p_paddr, .end = ph.p_paddr + ph.p_memsz,
			.offset = ph.p_offset, .file_len = ph.p_filesz, .hdr_offset = hoff,
		};
	}
	*qemu = nt->qemu.n > 0;
	*segs_out = segs;
	*nsegs_out = nsegs;
	return 0;
}

int elfcore_open(const char *path, struct phys_source **out, struct vmet_err *err)
{
	struct mapped_file mf;
	struct elf_notes nt = { 0 };
	struct file_segment *segs = NULL;
	struct phys_source *src = NULL;
	size_t nsegs = 0;
	bool qemu = false;
	Elf *elf;
	int rc;

	rc = mapped_file_open(path, &mf, err);
	if (rc)
		return rc;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		mapped_file_close(&mf);
		return vmet_errf(err, VMET_EIO, "libelf: %s", elf_errmsg(-1));
	}
	/* ELF_C_READ: libelf preads the headers it is asked for, nothing more. */
	elf = elf_begin(mf.fd, ELF_C_READ, NULL);
	if (!elf) {
		mapped_file_close(&mf);
		return vmet_errf(err, VMET_EFORMAT, "%s: %s", path, elf_errmsg(-1));
	}
	rc = parse(elf, &mf, &segs, &nsegs, &nt, &qemu, err);
	elf_end(elf);
	if (rc) {
		mapped_file_close(&mf);
		goto out;
	}
	rc = segfile_source_new("elf", &mf, segs, nsegs, &src, err);
	if (rc)
		goto out;
	/* QEMU notes carry CR3; NT_PRSTATUS alone (kdump) only says how many
	 * CPUs there were and where they stood. */
	src->vcpus = nt.qemu.n ? nt.qemu : nt.core;
	if (nt.qemu.n)
		vcpu_set_free(&nt.core);
	else
		vcpu_set_free(&nt.qemu);
	memset(&nt.qemu, 0, sizeof(nt.qemu));
	memset(&nt.core, 0, sizeof(nt.core));
	src->vmcoreinfo = nt.vmcoreinfo;
	nt.vmcoreinfo = NULL;
	if (asprintf(&src->description, "ELF core %s (%s, %zu vCPU note%s, %zu segments, %" PRIu64
		     " bytes%s)", path, qemu ? "QEMU dump-guest-memory" :
		     src->vmcoreinfo ? "kdump vmcore" : "no QEMU notes",
		     src->vcpus.n, src->vcpus.n == 1 ? "" : "s", src->nranges,
		     phys_total_size(src), src->vmcoreinfo ? ", VMCOREINFO" : "") < 0)
		src->description = NULL;
	*out = src;
out:
	vcpu_set_free(&nt.qemu);
	vcpu_set_free(&nt.core);
	free(nt.vmcoreinfo);
	return rc;
}
