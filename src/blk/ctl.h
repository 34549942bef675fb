/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CTL namespace of libpmemblk: a few global boolean knobs, settable through
 * pmemblk_ctl_set() or, at library load, through PMEMBLK_CONF / PMEMBLK_CONF_FILE.
 */

#ifndef PMEMBLK_CTL_H
#define PMEMBLK_CTL_H

#include <stdbool.h>

bool ctl_fallocate_at_create(void);
bool ctl_cow_at_open(void);
bool ctl_sds_at_create(void);
bool ctl_prefault_at_create(void);
bool ctl_prefault_at_open(void);

enum ctl_query_type { CTL_QUERY_GET, CTL_QUERY_SET, CTL_QUERY_EXEC };

/* 0, or -1 with errno EINVAL and a message */
int ctl_query(enum ctl_query_type type, const char *name, void *arg);

#endif
