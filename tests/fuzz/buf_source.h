/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For the fuzz harnesses: the fuzzer's input as physical memory at
 * address 0 (set src->priv to a struct buf_src and src->ops to
 * &buf_source_ops).  Reads outside it fail, as a hole would.
 */
#ifndef VMET_TESTS_FUZZ_BUF_SOURCE_H
#define VMET_TESTS_FUZZ_BUF_SOURCE_H

#include <stdint.h>
#include <string.h>

#include "core/phys.h"

struct buf_src {
	const uint8_t *p;
	size_t n;
};

static inline int buf_read(struct phys_source *src, uint64_t a, void *b, size_t n,
			   struct vmet_err *e)
{
	const struct buf_src *bs = src->priv;

	if (a > bs->n || n > bs->n - a)
		return vmet_errf(e, VMET_EIO, "fuzz: read outside the buffer");
	memcpy(b, bs->p + a, n);
	return 0;
}

static const struct phys_source_ops buf_source_ops = { .read = buf_read };

#endif
