// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guarded reads of kernel memory: every pointer taken from the guest is
 * checked to be a canonical kernel address before it is followed, and every
 * failure names what was being read and where.
 */
#include "os/linux/linux.h"

#include <inttypes.h>
#include <string.h>

bool linux_kaddr_ok(const struct linux_kernel *k, uint64_t va)
{
	/* The kernel half starts where the sign-extended top bit does. */
	if (k->mode == PAGING_5LEVEL)
		return va >= 0xff00000000000000ull;
	return va >= 0xffff800000000000ull;
}

int linux_read(struct linux_kernel *k, uint64_t va, void *buf, size_t len,
	       const char *what, struct vmet_err *err)
{
	int rc;

	if (!linux_kaddr_ok(k, va) || va + len < va)
		return vmet_errf(err, VMET_ENONCANON, "%s: 0x%" PRIx64
				 " is not a kernel address", what, va);
	rc = aspace_read(k->kas, va, buf, len, err);
	if (rc)
		return vmet_err_prefix(err, rc, "%s at 0x%" PRIx64, what, va);
	return 0;
}

int linux_read_u64(struct linux_kernel *k, uint64_t va, uint64_t *val,
		   const char *what, struct vmet_err *err)
{
	return linux_read(k, va, val, sizeof(*val), what, err);
}

int linux_read_u32(struct linux_kernel *k, uint64_t va, uint32_t *val,
		   const char *what, struct vmet_err *err)
{
	return linux_read(k, va, val, sizeof(*val), what, err);
}

int linux_read_ptr(struct linux_kernel *k, uint64_t va, uint64_t *val, bool null_ok,
		   const char *what, struct vmet_err *err)
{
	int rc = linux_read_u64(k, va, val, what, err);

	if (rc)
		return rc;
	if (!*val && null_ok)
		return 0;
	if (!linux_kaddr_ok(k, *val))
		return vmet_errf(err, VMET_ENONCANON, "%s at 0x%" PRIx64 " holds 0x%" PRIx64
				 ", not a kernel address", what, va, *val);
	return 0;
}

int linux_virt_to_phys(struct linux_kernel *k, uint64_t va, uint64_t *pa,
		       struct vmet_err *err)
{
	struct xlate x;
	int rc;

	if (!linux_kaddr_ok(k, va))
		return vmet_errf(err, VMET_ENONCANON, "0x%" PRIx64 " is not a kernel address", va);
	rc = aspace_xlate(k->kas, va, &x, err);
	if (rc)
		return rc;
	*pa = x.out;
	return 0;
}
