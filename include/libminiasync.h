/* SPDX-License-Identifier: BSD-3-Clause */
/* libminiasync: futures, virtual data movers and a runtime (API of miniasync 0.2.1). */

#ifndef LIBMINIASYNC_H
#define LIBMINIASYNC_H 1

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libminiasync/future.h"
#include "libminiasync/vdm.h"
#include "libminiasync/data_mover_threads.h"
#include "libminiasync/data_mover_sync.h"
#include "libminiasync/runtime.h"

#endif /* LIBMINIASYNC_H */
