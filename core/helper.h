/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hypervisor-helper record stream: how a host hypervisor tells vmet
 * what it saw a vCPU load, independently of anything the guest or a guest
 * hypervisor keeps in memory.
 *
 * One record per line, whitespace-separated KEY=VALUE fields, numbers in
 * hex with 0x or decimal; '#' starts a comment line.  Keys:
 *   vcpu      vCPU index (default 0)
 *   cr3       required: the CR3 the vCPU had loaded
 *   cr0 cr4 efer rip   the rest of its paging state, when known
 *   s2type    none | ept | npt; s2root  EPTP or nCR3, when the host knows it
 *   time      nanoseconds since the epoch when it was seen
 * Unknown keys are ignored (a feeder may add its own, e.g. sample=3).  The
 * QEMU connector produces the same records from its monitor; tests and
 * other hosts hand a file to --helper.
 */
#ifndef VMET_CORE_HELPER_H
#define VMET_CORE_HELPER_H

#include <stddef.h>

#include "core/err.h"
#include "core/vcpu.h"

#define HELPER_MAX_RECORDS 65536
#define HELPER_MAX_LINE 4096

/* Parse a stream; records are appended to out as layer 0, origin helper. */
int helper_records_parse(const char *text, size_t len, const char *origin_name,
			 struct vcpu_set *out, struct vmet_err *err);
int helper_records_load(const char *path, struct vcpu_set *out, struct vmet_err *err);

#endif
