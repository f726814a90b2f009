/*
 * pool.h — a fixed thread pool that runs one parallel region at a time. Internal.
 *
 * sm_pool_run(pool, fn, ctx) calls fn(ctx, 0, nth) on the caller's thread and fn(ctx, ith, nth) on
 * each worker ith in [1, nth) that arrives before the caller's call has returned, and returns when
 * all calls made have returned. So a region's work must be claimed from shared counters (atomics
 * in ctx), never split into fixed shares by ith: any subset of the threads, the caller alone
 * included, must complete it. ith only names per-thread scratch. Which thread computes an item
 * must not change its result, so results never depend on the thread count. Under Emscripten with
 * -pthread the workers are Web Workers; without thread support the pool degrades to nth = 1.
 */
#ifndef SM_UTIL_POOL_H
#define SM_UTIL_POOL_H

#include "sm.h"

typedef struct sm_pool sm_pool;
typedef void (*sm_pool_fn)(void *ctx, int ith, int nth);

/* Starts n_threads - 1 workers (n_threads <= 1: none). On success *out owns the pool. */
sm_status sm_pool_new(int n_threads, sm_pool **out, sm_error *err);

/* Stops and joins the workers, frees the pool. NULL is a no-op. */
void sm_pool_free(sm_pool *pool);

/* Number of threads that take part in a region (>= 1). NULL pool: 1. */
int sm_pool_n_threads(const sm_pool *pool);

/* Runs fn on the caller and the workers that join in time (above); NULL pool runs fn(ctx, 0, 1)
 * on the caller. Not reentrant. */
void sm_pool_run(sm_pool *pool, sm_pool_fn fn, void *ctx);

#endif
