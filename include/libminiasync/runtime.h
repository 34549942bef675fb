/* SPDX-License-Identifier: BSD-3-Clause */
/* A runtime polls futures to completion in the calling thread, sleeping while nothing moves. */

#ifndef RUNTIME_H
#define RUNTIME_H 1

#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

struct runtime;

struct runtime *runtime_new(void);
void runtime_delete(struct runtime *runtime);

void runtime_wait_multiple(struct runtime *runtime, struct future *futs[], size_t nfuts);

void runtime_wait(struct runtime *runtime, struct future *fut);

#ifdef __cplusplus
}
#endif

#endif /* RUNTIME_H */
