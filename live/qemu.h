/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live QEMU guests as physical-memory sources.
 *
 *   qemu:RAMFILE[,qmp=SOCKET]     the guest's RAM backing file
 *                                 (memory-backend-file, share=on)
 *   qemu-pid:PID[,qmp=SOCKET]     QEMU's own address space, read through
 *                                 /proc/PID/mem (RAM found via /proc/PID/maps)
 *
 * With a QMP socket the memory map comes from QEMU (`info mtree -f`: which
 * guest-physical ranges are RAM and where they sit in the RAM block), the
 * vCPU records from `info registers -a` (origin: helper), and pause/resume
 * from stop/cont.  Without one, RAMFILE offsets are taken as guest-physical
 * addresses, which holds for q35/pc machines below the 32-bit PCI hole.
 * Memory is only ever read.
 */
#ifndef VMET_LIVE_QEMU_H
#define VMET_LIVE_QEMU_H

#include <stdbool.h>

#include "core/phys.h"

struct qemu_opts {
	bool pause;		/* stop the guest while vmet reads (resumed on close) */
	int qmp_timeout_ms;
	/*
	 * How many times to sample the vCPU registers (distinct CR3s kept).
	 * While a nested guest runs, the monitor shows the nested guest's
	 * registers, and otherwise the host VM's: several samples taken while
	 * the machine runs catch both.  0 = 1.
	 */
	unsigned samples;
};

/* True when spec names a live QEMU source. */
bool qemu_spec_match(const char *spec);

int qemu_open(const char *spec, const struct qemu_opts *opts,
	      struct phys_source **out, struct vmet_err *err);

/* Parse `info mtree -f` text: RAM ranges of the address space "memory". */
struct qemu_ram_range {
	uint64_t gpa_start, gpa_end;	/* [start, end) */
	uint64_t block_offset;		/* offset in the RAM block */
	char block[64];			/* RAM block name */
};
int qemu_parse_mtree(const char *text, struct qemu_ram_range **out, size_t *n,
		     struct vmet_err *err);

#endif
