// SPDX-License-Identifier: GPL-2.0-or-later
/* Names and flag decoding for traces: what `vmet translate` prints. */
#include "core/aspace.h"

#include <stdio.h>
#include <string.h>

const char *aspace_level_name(enum aspace_kind kind, enum paging_mode mode,
			      unsigned level)
{
	static const char *const lm[] = { "?", "PT", "PD", "PDPT", "PML4", "PML5" };
	static const char *const ept[] = { "?", "EPT PT", "EPT PD", "EPT PDPT", "EPT PML4", "EPT PML5" };

	if (level > 5)
		return "?";
	if (kind == ASPACE_EPT)
		return ept[level];
	if (mode == PAGING_32)
		return level == 2 ? "PD" : level == 1 ? "PT" : "?";
	return lm[level];
}

static void append(char *buf, size_t size, size_t *len, const char *s)
{
	int n;

	if (*len >= size)
		return;
	n = snprintf(buf + *len, size - *len, "%s%s", *len ? " " : "", s);
	if (n > 0)
		*len += (size_t)n;
}

char *aspace_entry_flags(enum aspace_kind kind, unsigned level, bool leaf,
			 uint64_t e, char *buf, size_t size)
{
	size_t len = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (kind == ASPACE_EPT) {
		static const char *const mt[] = { "UC", "WC", "mt2?", "mt3?", "WT", "WP", "WB", "mt7?" };

		if (e & 1) append(buf, size, &len, "R");
		if (e & 2) append(buf, size, &len, "W");
		if (e & 4) append(buf, size, &len, "X");
		if (e & (1ull << 10)) append(buf, size, &len, "UX");
		if (e & (1ull << 8)) append(buf, size, &len, "A");
		if (leaf) {
			if (e & (1ull << 9)) append(buf, size, &len, "D");
			append(buf, size, &len, mt[(e >> 3) & 7]);
			if (e & (1ull << 6)) append(buf, size, &len, "IPAT");
			if (level > 1) append(buf, size, &len, "PS");
		}
		if (!(e & 7)) append(buf, size, &len, "not-present");
		return buf;
	}
	if (!(e & 1)) {
		append(buf, size, &len, "not-present");
		return buf;
	}
	append(buf, size, &len, "P");
	append(buf, size, &len, (e & 2) ? "RW" : "RO");
	append(buf, size, &len, (e & 4) ? "US" : "S");
	if (e & 8) append(buf, size, &len, "PWT");
	if (e & 16) append(buf, size, &len, "PCD");
	if (e & 32) append(buf, size, &len, "A");
	if (leaf && (e & 64)) append(buf, size, &len, "D");
	if (leaf && level > 1) append(buf, size, &len, "PS");
	if (leaf && (e & 256)) append(buf, size, &len, "G");
	if (e >> 63) append(buf, size, &len, "NX");
	return buf;
}
