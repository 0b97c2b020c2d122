/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Little-endian loads from byte buffers (guest memory, file headers).
 * memcpy keeps them free of alignment and aliasing assumptions; vmet reads
 * x86 guests on x86 hosts, so no byte swap is needed.
 */
#ifndef VMET_CORE_BYTES_H
#define VMET_CORE_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t le16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

#endif
