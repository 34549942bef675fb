/* SPDX-License-Identifier: BSD-3-Clause */

#include "common/errmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[ERRMSG_MAX];

static void format_message(const char *fmt, va_list ap)
{
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
}

void errmsg_set(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_message(fmt, ap);
	va_end(ap);
	errno = err;
}

void errmsg_set_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_message(fmt, ap);
	va_end(ap);

	size_t used = strlen(last_message);
	char reason[128];
	/* GNU strerror_r may return a static string instead of filling the buffer */
	const char *text = strerror_r(err, reason, sizeof(reason));
	snprintf(last_message + used, sizeof(last_message) - used, ": %s", text);
	errno = err;
}

const char *errmsg_get(void)
{
	return last_message;
}
