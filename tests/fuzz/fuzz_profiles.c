// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the profile loaders: the first byte picks which one reads the rest
 * as its input: the vmet profile text format, a Volatility ISF (JSON), or a
 * BTF blob (then every struct vmet wants is flattened out of it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/btf.h"
#include "profiles/isf.h"
#include "profiles/profile.h"
#include "profiles/wanted.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	struct btf *b = NULL;
	char *copy;

	if (size < 1 || size > (8u << 20))
		return 0;
	copy = malloc(size);	/* the parsers take their own NUL-less copy */
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		if (!profile_parse(copy, size - 1, "fuzz", &p, NULL))
			profile_free(p);
		break;
	case 1:
		if (!profile_from_isf(copy, size - 1, "fuzz", NULL, &p, NULL))
			profile_free(p);
		break;
	case 2:
		if (!btf_parse(copy, size - 1, &b, NULL)) {
			p = profile_new();
			for (size_t i = 0; p && i < wanted_nstructs; i++)
				btf_add_struct(b, wanted_structs[i].name, p, NULL);
			profile_free(p);
			btf_free(b);
		}
		break;
	}
	free(copy);
	return 0;
}
