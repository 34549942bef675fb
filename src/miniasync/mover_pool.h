/* SPDX-License-Identifier: BSD-3-Clause */
/* Capacity of each mover's operation pool: in-flight futures per mover. */

#ifndef MINIASYNC_MOVER_POOL_H
#define MINIASYNC_MOVER_POOL_H

#define MOVER_POOL_CAPACITY (64 * 1024)

#endif
