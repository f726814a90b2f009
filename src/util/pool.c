/*
 * pool.c — the thread pool: a region is handed over through atomics, with a short spin before
 * anyone sleeps.
 *
 * A forward pass runs hundreds of short regions per token, so hand-over latency matters more than
 * anything: a condition-variable wake costs tens of microseconds (more for Web Workers, where it
 * is Atomics.wait/notify), which at decode time can cost more than the work. So workers spin on the
 * `generation` counter for a while before sleeping on a condvar, and the caller spins on
 * `n_active` likewise. Sleepers register in `n_sleeping` / `caller_sleeping` under the mutex; the
 * waker checks those after publishing (all seq_cst), so a wake-up is never lost: either the waker
 * sees the sleeper, or the sleeper sees the new value before it waits. Idle pools sleep, costing
 * no CPU between calls.
 *
 * The caller does not wait for workers that have not arrived. Regions share their work through
 * counters (pool.h), so when the caller's own call returns nothing is left to claim; it closes the
 * region (`closed` = its generation) and waits only for workers already inside it (`n_active`). A
 * worker counts itself in, then runs the region only if it is still open. In seq_cst order either
 * its count precedes the caller's read of `n_active` (the caller waits for it) or the close precedes
 * its check (it skips, and never touches a context that may be gone). Without this, on a machine
 * with more busy threads than cores (a browser's main thread, the engine's Worker and a pool
 * Worker on two cores) a worker descheduled before a region began held the caller for the rest of
 * the worker's time slice, every time.
 */
#include "util/pool.h"

#include <stdlib.h>

#include "util/error.h"

#if defined(SM_NO_THREADS) || (defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__))
#define SM_POOL_THREADS 0
#else
#define SM_POOL_THREADS 1
#include <pthread.h>
#include <stdatomic.h>
#endif

#define SM_POOL_MAX_THREADS 64
#define SM_POOL_SPINS 200000 /* ~0.1-1 ms of polling before sleeping */

#if SM_POOL_THREADS

struct sm_pool {
    int n_threads;
    pthread_t threads[SM_POOL_MAX_THREADS];
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;      /* workers sleep here waiting for a new generation */
    pthread_cond_t done_cv;      /* the caller sleeps here waiting for n_active == 0 */
    atomic_uint generation;      /* bumped to publish a region */
    atomic_uint closed;          /* the last generation whose caller has closed it */
    atomic_int n_active;         /* workers counted into a region (running it, or checking it) */
    atomic_int n_sleeping;       /* workers inside the work_cv wait */
    atomic_int caller_sleeping;  /* the caller is inside the done_cv wait */
    atomic_int stop;
    sm_pool_fn fn;               /* written before generation is bumped, read after */
    void *ctx;
};

typedef struct pool_worker_arg {
    sm_pool *pool;
    int ith;
} pool_worker_arg;

/* Waits until generation != seen (or stop); returns the new generation. */
static unsigned wait_for_work(sm_pool *pool, unsigned seen) {
    for (int i = 0; i < SM_POOL_SPINS; i++) {
        unsigned g = atomic_load(&pool->generation);
        if (g != seen || atomic_load(&pool->stop)) return g;
    }
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add(&pool->n_sleeping, 1);
    while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
        pthread_cond_wait(&pool->work_cv, &pool->mu);
    atomic_fetch_sub(&pool->n_sleeping, 1);
    pthread_mutex_unlock(&pool->mu);
    return atomic_load(&pool->generation);
}

static void *pool_worker(void *arg) {
    sm_pool *pool = ((pool_worker_arg *)arg)->pool;
    const int ith = ((pool_worker_arg *)arg)->ith;
    free(arg);
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_work(pool, seen);
        if (atomic_load(&pool->stop)) break;
        atomic_fetch_add(&pool->n_active, 1);
        /* open while its caller has not closed it (closed only grows, so this also skips regions
         * long gone when this worker was descheduled after reading generation) */
        if ((int)(seen - atomic_load(&pool->closed)) > 0) pool->fn(pool->ctx, ith, pool->n_threads);
        if (atomic_fetch_sub(&pool->n_active, 1) == 1 && atomic_load(&pool->caller_sleeping)) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->done_cv);
            pthread_mutex_unlock(&pool->mu);
        }
    }
    return NULL;
}

sm_status sm_pool_new(int n_threads, sm_pool **out, sm_error *err) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > SM_POOL_MAX_THREADS)
        return sm_err(err, SM_ERR_INVALID_ARG, "n_threads %d is above the limit of %d", n_threads,
                      SM_POOL_MAX_THREADS);
    sm_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return sm_err(err, SM_ERR_NOMEM, "out of memory for the thread pool");
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->work_cv, NULL);
    pthread_cond_init(&pool->done_cv, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->closed, 0);
    atomic_init(&pool->n_active, 0);
    atomic_init(&pool->n_sleeping, 0);
    atomic_init(&pool->caller_sleeping, 0);
    atomic_init(&pool->stop, 0);
    for (int i = 1; i < n_threads; i++) {
        pool_worker_arg *arg = malloc(sizeof *arg);
        if (arg) *arg = (pool_worker_arg){.pool = pool, .ith = i};
        if (!arg || pthread_create(&pool->threads[i], NULL, pool_worker, arg) != 0) {
            free(arg);
            sm_pool_free(pool);
            return sm_err(err, SM_ERR_NOMEM, "could not start worker thread %d of %d", i, n_threads);
        }
        pool->n_started = i;
    }
    *out = pool;
    return SM_OK;
}

void sm_pool_free(sm_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i <= pool->n_started; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->work_cv);
    pthread_cond_destroy(&pool->done_cv);
    free(pool);
}

int sm_pool_n_threads(const sm_pool *pool) { return pool ? pool->n_threads : 1; }

void sm_pool_run(sm_pool *pool, sm_pool_fn fn, void *ctx) {
    if (!pool || pool->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    /* no worker is inside a region here (the last call waited for them), so fn and ctx are free */
    pool->fn = fn;
    pool->ctx = ctx;
    const unsigned g = atomic_fetch_add(&pool->generation, 1) + 1; /* publishes fn and ctx */
    if (atomic_load(&pool->n_sleeping) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->work_cv);
        pthread_mutex_unlock(&pool->mu);
    }
    fn(ctx, 0, pool->n_threads);
    atomic_store(&pool->closed, g); /* nothing is left to claim: late workers skip it */
    for (int i = 0; i < SM_POOL_SPINS; i++)
        if (atomic_load(&pool->n_active) == 0) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->caller_sleeping, 1);
    while (atomic_load(&pool->n_active) > 0) pthread_cond_wait(&pool->done_cv, &pool->mu);
    atomic_store(&pool->caller_sleeping, 0);
    pthread_mutex_unlock(&pool->mu);
}

#else /* no thread support: every region runs on the caller */

struct sm_pool {
    int unused;
};

sm_status sm_pool_new(int n_threads, sm_pool **out, sm_error *err) {
    (void)n_threads;
    (void)err;
    *out = NULL; /* a NULL pool runs everything on the caller */
    return SM_OK;
}

void sm_pool_free(sm_pool *pool) { (void)pool; }

int sm_pool_n_threads(const sm_pool *pool) {
    (void)pool;
    return 1;
}

void sm_pool_run(sm_pool *pool, sm_pool_fn fn, void *ctx) {
    (void)pool;
    fn(ctx, 0, 1);
}

#endif
