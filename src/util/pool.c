/*
 * pool.c — the thread pool: workers sleep on a condition variable between regions.
 *
 * A region is published by bumping `generation`; each worker runs its share and the last one to
 * finish signals the caller. Mutex + condvar (not spinning) keeps idle sessions free of CPU use;
 * a region costs a few microseconds, small against a matmul over a weight matrix.
 */
#include "util/pool.h"

#include <stdlib.h>

#include "util/error.h"

#if defined(SM_NO_THREADS) || (defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__))
#define SM_POOL_THREADS 0
#else
#define SM_POOL_THREADS 1
#include <pthread.h>
#endif

#define SM_POOL_MAX_THREADS 64

#if SM_POOL_THREADS

struct sm_pool {
    int n_threads;
    pthread_t threads[SM_POOL_MAX_THREADS];
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;   /* workers wait here for a new generation */
    pthread_cond_t done_cv;   /* the caller waits here for n_pending == 0 */
    unsigned generation;
    int n_pending;
    int stop;
    sm_pool_fn fn;
    void *ctx;
};

typedef struct pool_worker_arg {
    sm_pool *pool;
    int ith;
} pool_worker_arg;


static void *pool_worker(void *arg) {
    sm_pool *pool = ((pool_worker_arg *)arg)->pool;
    int ith = ((pool_worker_arg *)arg)->ith;
    free(arg);
    unsigned seen = 0;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->stop && pool->generation == seen) pthread_cond_wait(&pool->work_cv, &pool->mu);
        if (pool->stop) break;
        seen = pool->generation;
        sm_pool_fn fn = pool->fn;
        void *ctx = pool->ctx;
        pthread_mutex_unlock(&pool->mu);
        fn(ctx, ith, pool->n_threads);
        pthread_mutex_lock(&pool->mu);
        if (--pool->n_pending == 0) pthread_cond_signal(&pool->done_cv);
    }
    pthread_mutex_unlock(&pool->mu);
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
    for (int i = 1; i < n_threads; i++) {
        pool_worker_arg *arg = malloc(sizeof *arg);
        if (!arg || (arg->pool = pool, arg->ith = i,
                     pthread_create(&pool->threads[i], NULL, pool_worker, arg) != 0)) {
            free(arg);
            pool->n_threads = i; /* run with the threads we got; report failure to the caller */
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
    pool->stop = 1;
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
    pthread_mutex_lock(&pool->mu);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_pending = pool->n_threads - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->mu);
    fn(ctx, 0, pool->n_threads);
    pthread_mutex_lock(&pool->mu);
    while (pool->n_pending > 0) pthread_cond_wait(&pool->done_cv, &pool->mu);
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
