/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPU registers from QEMU's monitor (`info registers -a`): the helper
 * record of a QEMU host.  Parsing is separate from QMP so it can be tested
 * on captured text.
 */
#ifndef VMET_LIVE_QEMU_REGS_H
#define VMET_LIVE_QEMU_REGS_H

#include "core/err.h"
#include "core/vcpu.h"

struct qmp;

/*
 * Parse the text of `info registers [-a]` into one record per "CPU#N"
 * block (layer 0, guest 0, vcpu N, origin HELPER, time now).  A block that
 * lacks CR0, CR3, CR4 or EFER is an error naming the CPU and the register.
 */
int qemu_parse_registers(const char *text, struct vcpu_set *out, struct vmet_err *err);

/* Ask a live QEMU for every vCPU's registers. */
int qemu_read_registers(struct qmp *q, struct vcpu_set *out, struct vmet_err *err);

#endif
