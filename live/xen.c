// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xen:DOMID — a live Xen domain read from dom0 (see xen.h).
 *
 * The Xen libraries are not linked: the headers (Debian's libxen-dev) give
 * the types, and every function is looked up with dlsym in the library of
 * the same release, so a machine without Xen runs the same binary.
 * libxenctrl's ABI changes with every Xen release, hence the exact
 * soname; VMET_LIBXENCTRL names another one (at the user's risk).
 */
#include "live/xen.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

bool xen_spec_match(const char *spec)
{
	return spec && !strncmp(spec, "xen:", 4);
}

int xen_parse_target(const char *spec, uint32_t *domid, const char **name,
		     struct vmet_err *err)
{
	const char *s = xen_spec_match(spec) ? spec + 4 : spec;
	char *end;
	unsigned long v;

	if (!s || !*s)
		return vmet_errf(err, VMET_EINVAL, "xen: needs a domain number or name (xen:DOMID)");
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*end || errno || v >= 0x7ff0)
			return vmet_errf(err, VMET_EINVAL, "%s: '%s' is not a domain number "
					 "(0 to 32751)", spec, s);
		*domid = (uint32_t)v;
		return 1;
	}
	*name = s;
	return 0;
}

#ifndef VMET_NO_XEN_HEADERS

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

/* The release the headers describe: libxenctrl's soname carries it. */
#define XENCTRL_SONAME "libxenctrl.so.4.17"
#define XENFMEM_SONAME "libxenforeignmemory.so.1"
#define XENSTORE_SONAME "libxenstore.so.4"

#define PAGE 4096u
/*
 * Mapping a foreign frame costs a page-table update in dom0 (a hypercall
 * in a PV dom0), so frames are mapped in small chunks and many chunks kept:
 * a process listing touches the kernel's text, its slabs and one
 * page-table path per process, scattered over the guest.  The cache is
 * direct-mapped (chunk number modulo the slots): O(1), and at most
 * CACHE_SLOTS * CHUNK_PAGES * 4 KiB = 128 MiB of address space mapped.
 */
#define CHUNK_PAGES 32u
#define CACHE_SLOTS 1024u
/*
 * The memory map of an HVM/PVH domain is asked of Xen, 2 MiB at a time:
 * the first and last frame of every 2 MiB region are mapped (and unmapped
 * at once); a region where Xen maps both is taken as present, one where it
 * maps neither as absent, and a region where it maps one of the two is
 * probed frame by frame.  A single frame refused inside a present region
 * (ballooned out) is found when read, and named.
 */
#define REGION_PAGES 512u
#define PROBE_BATCH 2048u
#define PROBE_MAX_FRAMES (16ull << 20)
#define MAX_RANGES 4096u
#define MAX_E820 128u
#define MAX_VCPUS 512u

/* --- the libraries, loaded once ----------------------------------------- */

struct xen_lib {
	void *ctrl_so, *fmem_so, *store_so;
	xc_interface *(*xc_open)(xentoollog_logger *, xentoollog_logger *, unsigned);
	int (*xc_close)(xc_interface *);
	int (*getinfolist)(xc_interface *, uint32_t, unsigned, xc_domaininfo_t *);
	int (*hvm_ctx_partial)(xc_interface *, uint32_t, uint16_t, uint16_t, void *, uint32_t);
	int (*vcpu_ctx)(xc_interface *, uint32_t, uint32_t, vcpu_guest_context_any_t *);
	int (*dom_pause)(xc_interface *, uint32_t);
	int (*dom_unpause)(xc_interface *, uint32_t);
	int (*max_gpfn)(xc_interface *, uint32_t, xen_pfn_t *);
	int (*machine_map)(xc_interface *, struct e820entry *, uint32_t);
	xenforeignmemory_handle *(*fm_open)(xentoollog_logger *, unsigned);
	int (*fm_close)(xenforeignmemory_handle *);
	void *(*fm_map)(xenforeignmemory_handle *, uint32_t, int, size_t, const xen_pfn_t *, int *);
	int (*fm_unmap)(xenforeignmemory_handle *, void *, size_t);
	struct xs_handle *(*xs_open)(unsigned long);
	void (*xs_close)(struct xs_handle *);
	char **(*xs_directory)(struct xs_handle *, xs_transaction_t, const char *, unsigned *);
	void *(*xs_read)(struct xs_handle *, xs_transaction_t, const char *, unsigned *);
};

static struct xen_lib xl;
static bool xl_loaded;

/* dlsym into a function pointer of any type (POSIX guarantees it works). */
#define SYM(so, field, name)                                                     \
	do {                                                                     \
		void *p_ = dlsym(so, name);                                      \
		if (!p_)                                                         \
			return vmet_errf(err, VMET_EUNSUPPORTED,                 \
					 "Xen not available: %s has no %s", #so, name); \
		memcpy(&xl.field, &p_, sizeof(p_));                              \
	} while (0)

static int lib_load(struct vmet_err *err)
{
	const char *ctrl = getenv("VMET_LIBXENCTRL");
	void *so;

	if (xl_loaded)
		return 0;
	if (!ctrl || !*ctrl)
		ctrl = XENCTRL_SONAME;
	xl.ctrl_so = dlopen(ctrl, RTLD_NOW | RTLD_LOCAL);
	if (!xl.ctrl_so)
		return vmet_errf(err, VMET_EUNSUPPORTED, "Xen not available: %s", dlerror());
	xl.fmem_so = dlopen(XENFMEM_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!xl.fmem_so)
		return vmet_errf(err, VMET_EUNSUPPORTED, "Xen not available: %s", dlerror());
	so = xl.ctrl_so;
	SYM(so, xc_open, "xc_interface_open");
	SYM(so, xc_close, "xc_interface_close");
	SYM(so, getinfolist, "xc_domain_getinfolist");
	SYM(so, hvm_ctx_partial, "xc_domain_hvm_getcontext_partial");
	SYM(so, vcpu_ctx, "xc_vcpu_getcontext");
	SYM(so, dom_pause, "xc_domain_pause");
	SYM(so, dom_unpause, "xc_domain_unpause");
	SYM(so, max_gpfn, "xc_domain_maximum_gpfn");
	SYM(so, machine_map, "xc_get_machine_memory_map");
	so = xl.fmem_so;
	SYM(so, fm_open, "xenforeignmemory_open");
	SYM(so, fm_close, "xenforeignmemory_close");
	SYM(so, fm_map, "xenforeignmemory_map");
	SYM(so, fm_unmap, "xenforeignmemory_unmap");
	xl_loaded = true;
	return 0;
}

/* xenstore is needed only to find a domain by name. */
static int store_load(struct vmet_err *err)
{
	void *so;

	if (xl.xs_open)
		return 0;
	xl.store_so = dlopen(XENSTORE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!xl.store_so)
		return vmet_errf(err, VMET_EUNSUPPORTED, "Xen not available: %s "
				 "(needed to find a domain by name; give its number)", dlerror());
	so = xl.store_so;
	SYM(so, xs_open, "xs_open");
	SYM(so, xs_close, "xs_close");
	SYM(so, xs_directory, "xs_directory");
	SYM(so, xs_read, "xs_read");
	return 0;
}

/*
 * A logger that keeps the library's last message instead of printing it:
 * vmet's own error says what failed, with the library's words appended.
 */
static char lib_msg[256];

static void quiet_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	if (level >= XTL_ERROR)
		vsnprintf(lib_msg, sizeof(lib_msg), format, al);
}

static void quiet_destroy(xentoollog_logger *lg)
{
}

static xentoollog_logger quiet_logger = {
	.vmessage = quiet_vmessage,
	.destroy = quiet_destroy,
};

/* --- the source ------------------------------------------------------------ */

struct chunk {
	bool valid;
	uint64_t frame;			/* first frame (gfn or mfn), CHUNK_PAGES-aligned */
	uint8_t *map;			/* NULL when Xen refused the whole batch */
	int err[CHUNK_PAGES];		/* per-page result of the foreign map */
};

struct xen_priv {
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	uint32_t domid;
	bool pv;
	bool paused_by_us;
	xc_interface *sig_xch;		/* used by the signal handler only */
	struct chunk *cache;		/* CACHE_SLOTS */
};

static void chunk_drop(struct xen_priv *xp, struct chunk *c)
{
	if (c->valid && c->map)
		xl.fm_unmap(xp->fmem, c->map, CHUNK_PAGES);
	c->valid = false;
	c->map = NULL;
}

/* The cached mapping of the chunk holding `frame`, mapping it if needed. */
static struct chunk *chunk_get(struct xen_priv *xp, uint64_t frame, struct vmet_err *err)
{
	uint64_t base = frame & ~(uint64_t)(CHUNK_PAGES - 1);
	struct chunk *c = &xp->cache[(base / CHUNK_PAGES) % CACHE_SLOTS];
	xen_pfn_t pfns[CHUNK_PAGES];

	if (c->valid && c->frame == base)
		return c;
	chunk_drop(xp, c);
	for (unsigned i = 0; i < CHUNK_PAGES; i++)
		pfns[i] = (xen_pfn_t)(base + i);
	/* PROT_READ: the mapping cannot write the guest even by mistake. */
	c->map = xl.fm_map(xp->fmem, xp->domid, PROT_READ, CHUNK_PAGES, pfns, c->err);
	if (!c->map) {
		int e = errno;

		return vmet_errf(err, VMET_EIO, "domain %u: mapping %s frames 0x%" PRIx64 "-0x%" PRIx64
				 " failed: %s", xp->domid, xp->pv ? "machine" : "guest", base,
				 base + CHUNK_PAGES - 1, strerror(e)), NULL;
	}
	c->valid = true;
	c->frame = base;
	return c;
}

static int xen_read(struct phys_source *src, uint64_t addr, void *buf, size_t len,
		    struct vmet_err *err)
{
	struct xen_priv *xp = src->priv;
	uint8_t *out = buf;

	while (len) {
		uint64_t frame = addr / PAGE;
		size_t off = (size_t)(addr % PAGE), n = PAGE - off;
		struct chunk *c = chunk_get(xp, frame, err);
		int e;

		if (!c)
			return err ? err->code : VMET_EIO;
		if (n > len)
			n = len;
		e = c->err[frame - c->frame];
		if (e) {
			/* Touching a refused page would fault: say which frame. */
			if (e < 0)
				e = -e;
			return vmet_errf(err, VMET_EHOLE, "%s 0x%" PRIx64 ": Xen does not map %s frame "
					 "0x%" PRIx64 " of domain %u (%s)",
					 xp->pv ? "machine address" : "guest-physical", addr,
					 xp->pv ? "machine" : "guest", frame, xp->domid, strerror(e));
		}
		memcpy(out, c->map + (frame - c->frame) * PAGE + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static void xen_refresh(struct phys_source *src)
{
	struct xen_priv *xp = src->priv;

	/* The mappings show live memory already; dropping them picks up
	 * frames the guest has ballooned in or out since. */
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		chunk_drop(xp, &xp->cache[i]);
}

/* --- pausing, and unpausing whatever happens -------------------------------- */

/*
 * One paused domain at a time is remembered for the exit paths: close, a
 * normal exit() that skipped close (atexit), and a fatal signal.  The
 * signal handler uses an interface handle of its own, so that it cannot
 * meet the main thread's handle half-way through a hypercall.
 */
static struct xen_priv *volatile paused_xp;
static const int fatal_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static struct sigaction old_actions[sizeof(fatal_sigs) / sizeof(fatal_sigs[0])];
static bool atexit_set;

static void on_fatal_signal(int sig);

static void unpause_now(void)
{
	struct xen_priv *xp = paused_xp;

	if (!xp)
		return;
	paused_xp = NULL;
	xl.dom_unpause(xp->sig_xch ? xp->sig_xch : xp->xch, xp->domid);
	xp->paused_by_us = false;
}

/* Put back what was there before, unless the program has since installed
 * a handler of its own (vmet dump does), which stays. */
static void restore_handlers(void)
{
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++) {
		struct sigaction cur;

		if (!sigaction(fatal_sigs[i], NULL, &cur) && cur.sa_handler == on_fatal_signal)
			sigaction(fatal_sigs[i], &old_actions[i], NULL);
	}
}

static void on_fatal_signal(int sig)
{
	static const char msg[] = "vmet: interrupted; the Xen domain is unpaused\n";

	unpause_now();
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	/* Whatever the program would have done without us (die, by default). */
	restore_handlers();
	raise(sig);
}

static void on_exit_unpause(void)
{
	if (paused_xp) {
		unpause_now();
		restore_handlers();
	}
}

static int domain_info(struct xen_priv *xp, xc_domaininfo_t *info, struct vmet_err *err)
{
	lib_msg[0] = '\0';
	if (xl.getinfolist(xp->xch, xp->domid, 1, info) != 1 || info->domain != xp->domid)
		return vmet_errf(err, VMET_ENOTFOUND, "Xen has no domain %u%s%s", xp->domid,
				 lib_msg[0] ? ": " : "", lib_msg);
	return 0;
}

static int xen_pause(struct phys_source *src, bool pause, struct vmet_err *err)
{
	struct xen_priv *xp = src->priv;
	xc_domaininfo_t info;
	int rc;

	if (!pause) {
		if (!xp->paused_by_us)
			return 0;
		if (paused_xp == xp)
			paused_xp = NULL;
		restore_handlers();
		lib_msg[0] = '\0';
		if (xl.dom_unpause(xp->xch, xp->domid))
			return vmet_errf(err, VMET_EIO, "xc_domain_unpause(%u): %s", xp->domid,
					 lib_msg[0] ? lib_msg : strerror(errno));
		xp->paused_by_us = false;
		return 0;
	}
	if (xp->paused_by_us)
		return 0;
	rc = domain_info(xp, &info, err);
	if (rc)
		return rc;
	/* A domain someone else paused stays paused: only what vmet paused is
	 * unpaused. */
	if (info.flags & XEN_DOMINF_paused)
		return 0;
	if (paused_xp)
		return vmet_errf(err, VMET_EUNSUPPORTED, "vmet pauses one Xen domain at a time");
	if (!xp->sig_xch)
		xp->sig_xch = xl.xc_open(&quiet_logger, &quiet_logger, 0);
	if (!atexit_set && !atexit(on_exit_unpause))
		atexit_set = true;
	{
		struct sigaction sa = { .sa_handler = on_fatal_signal };

		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++)
			sigaction(fatal_sigs[i], &sa, &old_actions[i]);
	}
	/* Registered before the hypercall: a signal between the two finds a
	 * domain to unpause that is, at worst, not paused yet (harmless). */
	xp->paused_by_us = true;
	paused_xp = xp;
	lib_msg[0] = '\0';
	if (xl.dom_pause(xp->xch, xp->domid)) {
		int e = errno;

		paused_xp = NULL;
		xp->paused_by_us = false;
		restore_handlers();
		return vmet_errf(err, VMET_EIO, "xc_domain_pause(%u): %s", xp->domid,
				 lib_msg[0] ? lib_msg : strerror(e));
	}
	return 0;
}

static void xen_close(struct phys_source *src)
{
	struct xen_priv *xp = src->priv;

	if (!xp)
		return;
	if (xp->paused_by_us) {
		struct vmet_err err;

		if (xen_pause(src, false, &err))
			fprintf(stderr, "vmet: could not unpause Xen domain %u: %s\n", xp->domid, err.msg);
	}
	if (xp->cache) {
		for (unsigned i = 0; i < CACHE_SLOTS; i++)
			chunk_drop(xp, &xp->cache[i]);
		free(xp->cache);
	}
	if (xp->fmem)
		xl.fm_close(xp->fmem);
	if (xp->sig_xch)
		xl.xc_close(xp->sig_xch);
	if (xp->xch)
		xl.xc_close(xp->xch);
	free(xp);
}

static const struct phys_source_ops xen_ops = {
	.read = xen_read,
	.refresh = xen_refresh,
	.pause = xen_pause,
	.close = xen_close,
};

/* --- opening ---------------------------------------------------------------- */

static int find_by_name(const char *name, uint32_t *domid, struct vmet_err *err)
{
	struct xs_handle *xs;
	char **ids;
	unsigned n = 0;
	int found = 0;
	int rc = store_load(err);

	if (rc)
		return rc;
	xs = xl.xs_open(0);
	if (!xs)
		return vmet_errf(err, VMET_EIO, "cannot reach xenstore to find domain '%s': %s "
				 "(is xenstored running?)", name, strerror(errno));
	ids = xl.xs_directory(xs, XBT_NULL, "/local/domain", &n);
	for (unsigned i = 0; ids && i < n && i < 65536; i++) {
		char path[64], *end;
		unsigned len = 0;
		char *val;
		unsigned long id = strtoul(ids[i], &end, 10);

		if (*end || id >= 0x7ff0)
			continue;
		snprintf(path, sizeof(path), "/local/domain/%lu/name", id);
		val = xl.xs_read(xs, XBT_NULL, path, &len);
		if (val && len == strlen(name) && !memcmp(val, name, len)) {
			*domid = (uint32_t)id;
			found++;
		}
		free(val);
	}
	free(ids);
	xl.xs_close(xs);
	if (!found)
		return vmet_errf(err, VMET_ENOTFOUND, "no Xen domain is named '%s' in xenstore", name);
	if (found > 1)
		return vmet_errf(err, VMET_EMISMATCH, "%d Xen domains are named '%s': give the number",
				 found, name);
	return 0;
}

/* HVM and PVH: CR0/CR3/CR4/EFER of each vCPU from its HVM save record. */
static int vcpus_hvm(struct phys_source *src, const xc_domaininfo_t *info, struct vmet_err *err)
{
	struct xen_priv *xp = src->priv;
	uint64_t now = (uint64_t)time(NULL) * 1000000000ull;

	for (uint32_t v = 0; v <= info->max_vcpu_id && v < MAX_VCPUS; v++) {
		struct hvm_hw_cpu cpu;
		struct vcpu_record r = { 0 };

		memset(&cpu, 0, sizeof(cpu));
		lib_msg[0] = '\0';
		if (xl.hvm_ctx_partial(xp->xch, xp->domid, HVM_SAVE_CODE(CPU), (uint16_t)v,
				       &cpu, sizeof(cpu))) {
			/* A vCPU that was never brought up has no record. */
			if (v == 0)
				return vmet_errf(err, VMET_EIO, "domain %u: no vCPU 0 context from "
						 "xc_domain_hvm_getcontext_partial: %s", xp->domid,
						 lib_msg[0] ? lib_msg : strerror(errno));
			continue;
		}
		r.vcpu = v;
		r.cr0 = cpu.cr0;
		r.cr3 = cpu.cr3;
		r.cr4 = cpu.cr4;
		r.efer = cpu.msr_efer;
		r.rip = cpu.rip;
		r.mode = paging_mode_from_regs(r.cr0, r.cr4, r.efer);
		r.cr3_origin = r.regs_origin = VCPU_ORIGIN_XEN;
		r.time_ns = now;
		if (vcpu_set_add(&src->vcpus, &r))
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * PV: the kernel's page-table root from ctrlreg[3], a machine frame number
 * in Xen's CR3 encoding.  A 64-bit PV guest always runs 4-level paging
 * with long mode on; CR0/CR4 are the guest's virtual view.
 */
static int vcpus_pv(struct phys_source *src, const xc_domaininfo_t *info, struct vmet_err *err)
{
	struct xen_priv *xp = src->priv;
	uint64_t now = (uint64_t)time(NULL) * 1000000000ull;

	for (uint32_t v = 0; v <= info->max_vcpu_id && v < MAX_VCPUS; v++) {
		vcpu_guest_context_any_t ctx;
		struct vcpu_record r = { 0 };

		memset(&ctx, 0, sizeof(ctx));
		lib_msg[0] = '\0';
		if (xl.vcpu_ctx(xp->xch, xp->domid, v, &ctx)) {
			if (v == 0)
				return vmet_errf(err, VMET_EIO, "domain %u: no vCPU 0 context from "
						 "xc_vcpu_getcontext: %s", xp->domid,
						 lib_msg[0] ? lib_msg : strerror(errno));
			continue;
		}
		if (!(ctx.x64.flags & VGCF_online) && v != 0)
			continue;
		r.vcpu = v;
		r.cr0 = ctx.x64.ctrlreg[0];
		r.cr3 = (uint64_t)xen_cr3_to_pfn(ctx.x64.ctrlreg[3]) * PAGE;
		r.cr4 = ctx.x64.ctrlreg[4];
		r.efer = 0x500;	/* LME | LMA: a 64-bit PV guest is in long mode */
		r.rip = ctx.x64.user_regs.rip;
		r.mode = PAGING_4LEVEL;
		r.cr3_origin = r.regs_origin = VCPU_ORIGIN_XEN;
		r.time_ns = now;
		if (vcpu_set_add(&src->vcpus, &r))
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	return 0;
}

static int add_range(struct phys_range **r, size_t *n, uint64_t start, uint64_t end,
		     struct vmet_err *err)
{
	struct phys_range *nr;

	if (*n && (*r)[*n - 1].end == start) {
		(*r)[*n - 1].end = end;
		return 0;
	}
	if (*n >= MAX_RANGES)
		return VMET_ELIMIT;
	nr = realloc(*r, (*n + 1) * sizeof(**r));
	if (!nr)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	*r = nr;
	nr[*n].start = start;
	nr[*n].end = end;
	(*n)++;
	return 0;
}

/*
 * Ask Xen which of frames[0..n) it maps for the domain (mapping them and
 * unmapping at once): ok[i] = 1 when it does.
 */
static int probe_frames(struct xen_priv *xp, const xen_pfn_t *frames, size_t n, int *perr,
			struct vmet_err *err)
{
	void *m = xl.fm_map(xp->fmem, xp->domid, PROT_READ, n, frames, perr);

	if (!m)
		return vmet_errf(err, VMET_EIO, "domain %u: mapping guest frames from 0x%" PRIx64
				 " failed: %s", xp->domid, (uint64_t)frames[0], strerror(errno));
	xl.fm_unmap(xp->fmem, m, n);
	return 0;
}

/* Add [first, first+n) frame by frame as Xen maps them. */
static int ranges_fine(struct xen_priv *xp, uint64_t first, uint64_t n, struct phys_range **r,
		       size_t *nr, struct vmet_err *err)
{
	xen_pfn_t pfns[REGION_PAGES] = { 0 };
	int perr[REGION_PAGES];
	int rc;

	for (uint64_t i = 0; i < n; i++)
		pfns[i] = (xen_pfn_t)(first + i);
	rc = probe_frames(xp, pfns, (size_t)n, perr, err);
	for (uint64_t i = 0; !rc && i < n; i++)
		if (!perr[i])
			rc = add_range(r, nr, (first + i) * PAGE, (first + i + 1) * PAGE, err);
	return rc;
}

/* HVM/PVH: the guest-physical frames Xen maps, 0 .. max_gpfn (see REGION_PAGES). */
static int ranges_hvm(struct phys_source *src, struct phys_range **out, size_t *nout,
		      char *how, size_t howlen, struct vmet_err *err)
{
	struct xen_priv *xp = src->priv;
	xen_pfn_t maxpfn = 0, *pfns = NULL;
	int *perr = NULL;
	struct phys_range *r = NULL;
	size_t n = 0;
	uint64_t frames, regions, partial = 0;
	int rc = 0;

	lib_msg[0] = '\0';
	if (xl.max_gpfn(xp->xch, xp->domid, &maxpfn) < 0)
		return vmet_errf(err, VMET_EIO, "domain %u: xc_domain_maximum_gpfn: %s", xp->domid,
				 lib_msg[0] ? lib_msg : strerror(errno));
	frames = (uint64_t)maxpfn + 1;
	if (frames > PROBE_MAX_FRAMES)
		goto whole;
	regions = (frames + REGION_PAGES - 1) / REGION_PAGES;
	pfns = malloc(PROBE_BATCH * sizeof(*pfns));
	perr = malloc(PROBE_BATCH * sizeof(*perr));
	if (!pfns || !perr) {
		rc = vmet_errf(err, VMET_ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t g0 = 0; g0 < regions; g0 += PROBE_BATCH / 2) {
		uint64_t cnt = regions - g0 < PROBE_BATCH / 2 ? regions - g0 : PROBE_BATCH / 2;

		for (uint64_t i = 0; i < cnt; i++) {
			uint64_t first = (g0 + i) * REGION_PAGES;
			uint64_t last = first + REGION_PAGES - 1 < frames ? first + REGION_PAGES - 1 : frames - 1;

			pfns[2 * i] = (xen_pfn_t)first;
			pfns[2 * i + 1] = (xen_pfn_t)last;
		}
		rc = probe_frames(xp, pfns, (size_t)(2 * cnt), perr, err);
		if (rc)
			goto out;
		for (uint64_t i = 0; i < cnt; i++) {
			uint64_t first = (g0 + i) * REGION_PAGES;
			uint64_t len = frames - first < REGION_PAGES ? frames - first : REGION_PAGES;
			bool a = !perr[2 * i], b = !perr[2 * i + 1];

			if (a && b)
				rc = add_range(&r, &n, first * PAGE, (first + len) * PAGE, err);
			else if (a || b) {
				partial++;
				rc = ranges_fine(xp, first, len, &r, &n, err);
			}
			if (rc == VMET_ELIMIT)
				goto whole;
			if (rc)
				goto out;
		}
	}
	snprintf(how, howlen, "frames Xen maps up to gfn 0x%" PRIx64 ", 2 MiB regions by their ends, "
		 "%" PRIu64 " frame by frame", (uint64_t)maxpfn, partial);
	goto out;
whole:
	free(r);
	r = NULL;
	n = 0;
	rc = add_range(&r, &n, 0, frames * PAGE, err);
	snprintf(how, howlen, "gfn 0 to 0x%" PRIx64 " (not probed; unpopulated frames are holes)",
		 (uint64_t)maxpfn);
out:
	free(pfns);
	free(perr);
	if (rc) {
		free(r);
		return rc;
	}
	if (!n)
		return vmet_errf(err, VMET_ENOTFOUND, "domain %u: Xen maps none of its frames", xp->domid);
	*out = r;
	*nout = n;
	return 0;
}

/* PV: the host's RAM (machine addresses); frames of other domains are holes. */
static int ranges_pv(struct phys_source *src, struct phys_range **out, size_t *nout,
		     char *how, size_t howlen, struct vmet_err *err)
{
	struct xen_priv *xp = src->priv;
	struct e820entry e[MAX_E820];
	struct phys_range *r = NULL;
	size_t n = 0;
	int cnt;

	lib_msg[0] = '\0';
	cnt = xl.machine_map(xp->xch, e, MAX_E820);
	if (cnt <= 0)
		return vmet_errf(err, VMET_EIO, "xc_get_machine_memory_map: %s",
				 lib_msg[0] ? lib_msg : strerror(errno));
	for (int i = 0; i < cnt; i++) {
		uint64_t s = (e[i].addr + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		uint64_t end = (e[i].addr + e[i].size) & ~(uint64_t)(PAGE - 1);
		struct phys_range *nr;

		if (e[i].type != 1 || end <= s || e[i].addr + e[i].size < e[i].addr)
			continue;
		nr = realloc(r, (n + 1) * sizeof(*r));
		if (!nr) {
			free(r);
			return vmet_errf(err, VMET_ENOMEM, "out of memory");
		}
		r = nr;
		r[n].start = s;
		r[n].end = end;
		n++;
	}
	if (!n)
		return vmet_errf(err, VMET_EFORMAT, "the machine memory map has no RAM entry");
	snprintf(how, howlen, "machine RAM from xc_get_machine_memory_map (%d entries)", cnt);
	*out = r;
	*nout = n;
	return 0;
}

int xen_open(const char *spec, const struct xen_opts *opts,
	     struct phys_source **out, struct vmet_err *err)
{
	struct phys_source *src = NULL;
	struct xen_priv *xp = NULL;
	struct phys_range *ranges = NULL;
	size_t nranges = 0;
	const char *name = NULL;
	uint32_t domid = 0;
	xc_domaininfo_t info;
	char how[192] = "";
	int rc = xen_parse_target(spec, &domid, &name, err);

	if (rc < 0)
		return rc;
	rc = lib_load(err);
	if (rc)
		return rc;
	src = phys_source_new(&xen_ops, "xen");
	xp = calloc(1, sizeof(*xp));
	if (!src || !xp || !(xp->cache = calloc(CACHE_SLOTS, sizeof(*xp->cache)))) {
		if (xp)
			free(xp->cache);
		free(xp);
		free(src);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	src->priv = xp;
	src->live = true;
	lib_msg[0] = '\0';
	xp->xch = xl.xc_open(&quiet_logger, &quiet_logger, 0);
	if (!xp->xch) {
		rc = vmet_errf(err, VMET_EUNSUPPORTED, "Xen not available: cannot open the hypervisor "
			       "interface (/dev/xen/privcmd: run in dom0, as root): %s",
			       lib_msg[0] ? lib_msg : strerror(errno));
		goto fail;
	}
	xp->fmem = xl.fm_open(&quiet_logger, 0);
	if (!xp->fmem) {
		rc = vmet_errf(err, VMET_EUNSUPPORTED, "Xen not available: cannot open the foreign "
			       "memory interface: %s", lib_msg[0] ? lib_msg : strerror(errno));
		goto fail;
	}
	if (name) {
		rc = find_by_name(name, &domid, err);
		if (rc)
			goto fail;
	}
	xp->domid = domid;
	rc = domain_info(xp, &info, err);
	if (rc)
		goto fail;
	if (info.flags & XEN_DOMINF_dying) {
		rc = vmet_errf(err, VMET_EINVAL, "Xen domain %u is dying", domid);
		goto fail;
	}
	xp->pv = !(info.flags & XEN_DOMINF_hvm_guest);
	/* Pause first, so that the registers and the memory are one moment. */
	if (opts && opts->pause) {
		rc = xen_pause(src, true, err);
		if (rc)
			goto fail;
	}
	rc = xp->pv ? vcpus_pv(src, &info, err) : vcpus_hvm(src, &info, err);
	if (!rc)
		rc = xp->pv ? ranges_pv(src, &ranges, &nranges, how, sizeof(how), err)
			    : ranges_hvm(src, &ranges, &nranges, how, sizeof(how), err);
	if (!rc)
		rc = phys_set_ranges(src, ranges, nranges, err);
	if (rc)
		goto fail;
	if (asprintf(&src->description, "live Xen domain %u%s%s%s (%s, %" PRIu64 " pages; %s)",
		     domid, name ? " '" : "", name ? name : "", name ? "'" : "",
		     xp->pv ? "PV: machine addresses" : "HVM/PVH: guest-physical",
		     (uint64_t)info.tot_pages, how) < 0)
		src->description = NULL;
	*out = src;
	return 0;
fail:
	phys_close(src);
	return rc;
}

#else /* VMET_NO_XEN_HEADERS */

int xen_open(const char *spec, const struct xen_opts *opts,
	     struct phys_source **out, struct vmet_err *err)
{
	uint32_t domid;
	const char *name;
	int rc = xen_parse_target(spec, &domid, &name, err);

	if (rc < 0)
		return rc;
	return vmet_errf(err, VMET_EUNSUPPORTED, "Xen not available: this vmet was built "
			 "without Xen's headers (Debian package libxen-dev)");
}

#endif
