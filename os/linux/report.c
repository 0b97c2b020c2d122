// SPDX-License-Identifier: GPL-2.0-or-later
/* Problems met while listing: kept, counted, never fatal on their own. */
#include "os/linux/linux.h"

#include <stdarg.h>
#include <stdio.h>

static void vadd(struct linux_report *r, const char *prefix, const char *fmt, va_list ap)
{
	char *m;
	int n;

	if (!r)
		return;
	/* Count every problem even when the message is not kept, so the
	 * summary can say how many were left out. */
	if (r->n++ >= LINUX_REPORT_KEEP)
		return;
	m = r->msg[r->n - 1];
	n = snprintf(m, LINUX_REPORT_MSG, "%s", prefix ? prefix : "");
	if (n < 0 || n >= LINUX_REPORT_MSG)
		return;
	vsnprintf(m + n, LINUX_REPORT_MSG - (size_t)n, fmt, ap);
}

void linux_report_add(struct linux_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(r, NULL, fmt, ap);
	va_end(ap);
}

void linux_report_err(struct linux_report *r, const struct vmet_err *err,
		      const char *fmt, ...)
{
	char prefix[LINUX_REPORT_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	linux_report_add(r, "%s: %s", prefix, err && err->msg[0] ? err->msg : "unknown error");
}
