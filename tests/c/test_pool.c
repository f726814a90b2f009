/*
 * test_pool.c — the thread pool (src/util/pool.c): every region's work is done exactly once, by
 * the caller and whichever workers arrive in time, and a region's context (in the engine, on the
 * caller's stack, gone when sm_pool_run returns) is never touched after that. The regions here are
 * tiny, so workers often arrive after the caller has done everything; the caller sometimes sleeps
 * between regions (workers go to sleep and must be woken), and a worker sometimes stalls inside
 * its first item (the caller must wait for a worker that is running). Every region's context stays
 * allocated but is marked finished when sm_pool_run returns, so a late call on it is counted, and
 * all of them are checked at the end.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "util/pool.h"

enum { N_ITEMS = 8, N_REGIONS = 20000 };

typedef struct region {
    atomic_int next;          /* the first item no thread has taken */
    atomic_int hits[N_ITEMS]; /* how often each item was done */
    atomic_int bad_ith;       /* calls with ith outside [0, nth) or nth != the pool's, and
                                 calls or items after the region was over */
    int nth_expected;
    int stall_worker;         /* a worker sleeps this many microseconds in its first item */
    unsigned magic;           /* cleared when the region is over: a late call sees it */
} region;

#define REGION_MAGIC 0x5eed5eedu

static void sleep_us(long us) {
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void region_fn(void *ctx, int ith, int nth) {
    region *r = ctx;
    if (r->magic != REGION_MAGIC || ith < 0 || ith >= nth || nth != r->nth_expected)
        atomic_fetch_add(&r->bad_ith, 1);
    int first = 1;
    for (int item; (item = atomic_fetch_add(&r->next, 1)) < N_ITEMS; first = 0) {
        if (first && ith != 0 && r->stall_worker) sleep_us(r->stall_worker);
        if (r->magic != REGION_MAGIC) atomic_fetch_add(&r->bad_ith, 1); /* the caller left */
        atomic_fetch_add(&r->hits[item], 1);
    }
}

/* Runs N_REGIONS regions on a pool of n threads; returns how many regions went wrong. */
static int run_regions(int n_threads) {
    sm_pool *pool = NULL;
    sm_error err;
    memset(&err, 0, sizeof err);
    if (sm_pool_new(n_threads, &pool, &err) != SM_OK) {
        fprintf(stderr, "sm_pool_new(%d) failed: %s\n", n_threads, err.msg);
        return N_REGIONS;
    }
    const int nth = sm_pool_n_threads(pool);
    region *rs = calloc(N_REGIONS, sizeof *rs);
    if (!rs) {
        sm_pool_free(pool);
        return N_REGIONS;
    }
    for (int k = 0; k < N_REGIONS; k++) {
        region *r = &rs[k];
        atomic_init(&r->next, 0);
        for (int i = 0; i < N_ITEMS; i++) atomic_init(&r->hits[i], 0);
        atomic_init(&r->bad_ith, 0);
        r->nth_expected = nth;
        r->stall_worker = k % 97 == 0 ? 300 : 0;
        r->magic = REGION_MAGIC;
        if (k % 1009 == 0) sleep_us(2000); /* workers may stop spinning and sleep */
        sm_pool_run(pool, region_fn, r);
        r->magic = 0;
    }
    sm_pool_free(pool); /* joins the workers: no call can still be running */
    int bad = 0;
    for (int k = 0; k < N_REGIONS; k++) {
        int wrong = atomic_load(&rs[k].bad_ith) != 0;
        for (int i = 0; i < N_ITEMS; i++) wrong |= atomic_load(&rs[k].hits[i]) != 1;
        bad += wrong;
    }
    free(rs);
    return bad;
}

int main(void) {
    for (int n = 1; n <= 4; n++) {
        const int bad = run_regions(n);
        if (bad) fprintf(stderr, "%d threads: %d of %d regions went wrong\n", n, bad, N_REGIONS);
        CHECK_EQ(bad, 0);
    }
    /* the NULL pool runs on the caller */
    region r;
    atomic_init(&r.next, 0);
    for (int i = 0; i < N_ITEMS; i++) atomic_init(&r.hits[i], 0);
    atomic_init(&r.bad_ith, 0);
    r.nth_expected = 1, r.stall_worker = 0, r.magic = REGION_MAGIC;
    sm_pool_run(NULL, region_fn, &r);
    int all_once = 1;
    for (int i = 0; i < N_ITEMS; i++) all_once &= atomic_load(&r.hits[i]) == 1;
    CHECK(all_once);
    CHECK_EQ(atomic_load(&r.bad_ith), 0);
    return sm_check_report("test_pool");
}
