// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int vmet_verrf(struct vmet_err *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

int vmet_errf(struct vmet_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmet_verrf(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int vmet_err_prefix(struct vmet_err *err, int code, const char *fmt, ...)
{
	char ctx[VMET_ERR_MSG_MAX], old[VMET_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* Truncation is acceptable: the innermost detail is at the end. */
	{
		size_t n = strnlen(ctx, sizeof(err->msg) - 3);

		memcpy(err->msg, ctx, n);
		memcpy(err->msg + n, ": ", 2);
		n += 2;
		size_t m = strnlen(old, sizeof(err->msg) - 1 - n);
		memcpy(err->msg + n, old, m);
		err->msg[n + m] = '\0';
	}
	if (!err->code)
		err->code = code;
	return err->code;
}

void vmet_err_clear(struct vmet_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *vmet_strerror(int code)
{
	switch (code) {
	case VMET_OK: return "success";
	case VMET_EINVAL: return "invalid argument";
	case VMET_EIO: return "I/O error";
	case VMET_EFORMAT: return "malformed input";
	case VMET_ENOMEM: return "out of memory";
	case VMET_EHOLE: return "beyond the end of memory";
	case VMET_ENOTPRESENT: return "not present";
	case VMET_ERESERVED: return "reserved bits set";
	case VMET_EMISCONFIG: return "EPT misconfiguration";
	case VMET_ENONCANON: return "non-canonical address";
	case VMET_ELOOP: return "loop";
	case VMET_ELIMIT: return "limit reached";
	case VMET_ENOTFOUND: return "not found";
	case VMET_EUNSUPPORTED: return "unsupported";
	case VMET_EINTR: return "interrupted";
	case VMET_EMISMATCH: return "mismatch";
	}
	return "unknown error";
}
