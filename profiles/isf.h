/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Importing a Volatility 3 symbol table (ISF: the JSON that dwarf2json
 * writes, "intermediate symbol format") as a vmet profile.
 *
 * What is read:
 * - symbols.linux_banner.constant_data (base64 of the banner bytes): the
 *   banner; an ISF without it cannot be matched to a guest and is refused;
 * - symbols.NAME.address for the wanted symbols;
 * - user_types.NAME {size, fields {NAME {offset, type}}} for the wanted
 *   structs.  Anonymous members (dwarf2json names them unnamed_field_X,
 *   "anonymous": true, type {kind struct|union, name unnamed_Y}) are
 *   flattened into the parent like the DWARF builder does.  Bit-fields
 *   (type kind "bitfield", bit_position, bit_length, type) become byte +
 *   bit offset.  Member sizes come from base_types, user_types, enums and
 *   array counts;
 * - arch from base_types.pointer.size (8: x86_64, 4: i386); paging 4 on
 *   x86_64, unknown (none) on i386, where CR4 decides.
 *
 * ISF has no typedef names (kuid_t is an unnamed struct there), so such
 * structs are absent from an imported profile.
 */
#ifndef VMET_PROFILES_ISF_H
#define VMET_PROFILES_ISF_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "profiles/profile.h"

#define ISF_MAX_FILE ((size_t)1 << 30)
#define ISF_MAX_NEST 16		/* anonymous member in anonymous member in ... */
#define ISF_MAX_TYPE_DEPTH 32	/* array of array of ... */

/*
 * Convert ISF JSON text (modified in place by the parser) into a profile.
 * origin names the input in errors; notes (a wanted struct the ISF lacks)
 * go to log when not NULL.  The result has passed profile_finish().
 */
int profile_from_isf(char *json, size_t len, const char *origin, FILE *log,
		     struct profile **out, struct vmet_err *err);
int profile_from_isf_file(const char *path, FILE *log, struct profile **out,
			  struct vmet_err *err);

#endif
