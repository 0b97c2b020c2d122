// SPDX-License-Identifier: GPL-2.0-or-later
/* Recognise a source spec and hand it to the reader that understands it. */
#include "formats/source.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int source_open(const char *spec, const struct source_opts *opts,
		struct phys_source **out, struct vmet_err *err)
{
	const char *memmap = opts ? opts->memmap : NULL;
	const char *format = opts ? opts->format : NULL;

	if (!spec || !*spec)
		return vmet_errf(err, VMET_EINVAL, "no source given");
	if (format && strcmp(format, "raw"))
		return vmet_errf(err, VMET_EUNSUPPORTED, "source format '%s' is not supported", format);
	return raw_open(spec, memmap, out, err);
}
