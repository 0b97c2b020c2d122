/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live Xen domains as physical-memory sources, from a Xen control domain
 * (dom0):
 *
 *   xen:DOMID      a domain by number
 *   xen:NAME       a domain by its name (looked up in xenstore)
 *
 * Frames are mapped read-only through libxenforeignmemory, the vCPU
 * registers come from libxenctrl (origin: xen), --pause is
 * xc_domain_pause/unpause.  Both libraries are loaded at run time with
 * dlopen, so that one vmet binary runs where Xen is absent and says
 * "Xen not available: <reason>" only when asked for a xen: source.
 *
 * What "physical" means depends on the kind of domain:
 *   HVM and PVH   guest-physical (Xen's p2m is hidden behind the foreign
 *                 map); the address space is 0 .. the domain's highest
 *                 frame (xc_domain_maximum_gpfn), and the frames Xen has
 *                 populated are found by asking it to map each one.
 *   PV            machine addresses: a PV guest's CR3 and page-table
 *                 entries hold machine frame numbers, and the foreign map
 *                 of a PV domain takes machine frames, so the walker runs
 *                 unchanged over machine memory (the host's RAM map from
 *                 xc_get_machine_memory_map); a frame the domain does not
 *                 own reads as a hole.  64-bit PV guests only.
 */
#ifndef VMET_LIVE_XEN_H
#define VMET_LIVE_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/phys.h"

struct xen_opts {
	bool pause;	/* pause the domain while vmet reads (unpaused on close,
			 * on exit and on SIGINT/SIGTERM/SIGHUP/SIGQUIT) */
};

/* True when spec names a Xen domain ("xen:..."). */
bool xen_spec_match(const char *spec);

int xen_open(const char *spec, const struct xen_opts *opts,
	     struct phys_source **out, struct vmet_err *err);

/*
 * The target of a xen: spec: a domain number (fits domid_t, below
 * DOMID_FIRST_RESERVED = 0x7ff0) or a name.  Returns 1 with *domid set for a
 * number, 0 for a name (*name points into spec), VMET_EINVAL when empty.
 */
int xen_parse_target(const char *spec, uint32_t *domid, const char **name,
		     struct vmet_err *err);

#endif
