/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-thread "last error" text behind pmemstream_errormsg() and pmemblk_errormsg().
 * Each library links its own copy, so the two libraries keep separate messages.
 */

#ifndef PMEMKIT_COMMON_ERRMSG_H
#define PMEMKIT_COMMON_ERRMSG_H

#define ERRMSG_MAX 256

/* Formats the message and sets errno to err; returns nothing so callers pick their own value. */
void errmsg_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like errmsg_set, with ": strerror(err)" appended. */
void errmsg_set_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *errmsg_get(void);

#endif
