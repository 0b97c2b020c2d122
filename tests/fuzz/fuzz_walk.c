// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the address-space stack: an attacker controls every byte of guest
 * memory, every root, every mode.  Input layout:
 *   [0..8)   CR3          [8]      stage-1 mode (0-4)
 *   [9]      stage 2: 0 none, 1 EPT, 2 NPT-4, 3 NPT-5
 *   [10..18) EPTP / nCR3  [18..146) 16 addresses to translate and read
 *   [146..)  physical memory (at most 2 MiB)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/buf_source.h"
#include "core/stack.h"

#define HDR 146


static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phys_source src = { .ops = &buf_source_ops, .format = "fuzz" };
	struct buf_src bs;
	struct phys_range r;
	struct stack_spec spec = { 0 };
	struct aspace *top;
	struct xlate_trace *t;

	if (size <= HDR || size - HDR > (2u << 20))
		return 0;
	bs.p = data + HDR;
	bs.n = size - HDR;
	r.start = 0;
	r.end = bs.n;
	src.ranges = &r;
	src.nranges = 1;
	src.priv = &bs;
	spec.stage1 = true;
	spec.cr3 = u64(data);
	spec.mode = (enum paging_mode)(data[8] % 5);
	switch (data[9] % 4) {
	case 1:
		spec.nlevels = 1;
		spec.level[0] = (struct stack_level){ STAGE2_EPT, u64(data + 10), 0 };
		break;
	case 2:
	case 3:
		spec.nlevels = 1;
		spec.level[0] = (struct stack_level){ STAGE2_NPT, u64(data + 10),
						      data[9] % 4 == 3 ? PAGING_5LEVEL : PAGING_4LEVEL };
		break;
	}
	if (aspace_stack_build(&src, &spec, &top, NULL))
		return 0;
	t = malloc(sizeof(*t));
	for (int i = 0; i < 16; i++) {
		uint64_t a = u64(data + 18 + 8 * i), pa;
		uint8_t out[64];
		char s[32];

		t->n = 0;
		t->truncated = false;
		aspace_xlate_full(top, a, &pa, t, NULL);
		aspace_read(top, a, out, sizeof(out), NULL);
		aspace_read_str(top, a, s, sizeof(s), NULL, NULL);
		/* The trace can never be longer than the deepest walk. */
		if (t->n > 35 || t->truncated)
			abort();
	}
	free(t);
	aspace_free_stack(top);
	return 0;
}
