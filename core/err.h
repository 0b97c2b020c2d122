/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Errors that name what failed.
 *
 * Every fallible vmet function takes a `struct vmet_err *` (may be NULL when
 * the caller only wants the code) and returns 0 on success or a negative
 * VMET_E* code.  The message is written once, by the code that knows the
 * detail (stage, level, table address, file offset...); callers may prefix
 * context with vmet_err_prefix() as the error travels up.
 */
#ifndef VMET_CORE_ERR_H
#define VMET_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum vmet_errcode {
	VMET_OK = 0,
	VMET_EINVAL = -1,	/* bad argument or usage */
	VMET_EIO = -2,		/* read/open failed on the host side */
	VMET_EFORMAT = -3,	/* malformed file or structure */
	VMET_ENOMEM = -4,
	VMET_EHOLE = -5,	/* physical address not backed by the source */
	VMET_ENOTPRESENT = -6,	/* page-table entry not present */
	VMET_ERESERVED = -7,	/* reserved bits set in an entry */
	VMET_EMISCONFIG = -8,	/* EPT misconfiguration */
	VMET_ENONCANON = -9,	/* non-canonical virtual address */
	VMET_ELOOP = -10,	/* cycle in guest data */
	VMET_ELIMIT = -11,	/* a bound was hit (list length, size cap) */
	VMET_ENOTFOUND = -12,	/* symbol/profile/kernel not found */
	VMET_EUNSUPPORTED = -13,
	VMET_EINTR = -14,	/* interrupted by a signal */
	VMET_EMISMATCH = -15,	/* two sources of a fact disagree */
};

#define VMET_ERR_MSG_MAX 512

struct vmet_err {
	int code;
	char msg[VMET_ERR_MSG_MAX];
};

/* Record code and message; returns code so callers can `return vmet_errf(...)`. */
int vmet_errf(struct vmet_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vmet_verrf(struct vmet_err *err, int code, const char *fmt, va_list ap);

/* Prepend "ctx: " to an existing message; returns err->code (or code if err is NULL). */
int vmet_err_prefix(struct vmet_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void vmet_err_clear(struct vmet_err *err);

/* Short name of a code ("not present", "reserved bits"...). */
const char *vmet_strerror(int code);

#endif
