/*
 * membw.c — the machine's read bandwidth, the ceiling of decoding (every weight is read once per
 * token): threads stream disjoint halves of a buffer far larger than the caches and sum it.
 * Native C on purpose (the hardware's limit, not a runtime's). Prints {"threads":N,"gb_s":X}
 * for N = 1 .. argv[1]. Built and run by bench/compare.mjs.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BYTES = 512 << 20, REPS = 5 };
static uint64_t *buf;

typedef struct job { size_t lo, hi; uint64_t sum; } job;

static void *reader(void *arg) {
    job *j = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = j->lo; i + 4 <= j->hi; i += 4) s0 += buf[i], s1 += buf[i + 1], s2 += buf[i + 2], s3 += buf[i + 3];
    j->sum = s0 + s1 + s2 + s3;
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const int max_threads = argc > 1 ? atoi(argv[1]) : 2;
    const size_t n = BYTES / sizeof(uint64_t);
    buf = malloc(BYTES);
    if (!buf) return 1;
    for (size_t i = 0; i < n; i++) buf[i] = i;
    uint64_t sink = 0;
    for (int nt = 1; nt <= max_threads && nt <= 16; nt++) {
        double best = 1e30;
        for (int r = 0; r < REPS; r++) {
            pthread_t th[16];
            job jobs[16];
            const double t0 = now_s();
            for (int t = 0; t < nt; t++) {
                jobs[t] = (job){.lo = n * t / nt, .hi = n * (t + 1) / nt};
                pthread_create(&th[t], NULL, reader, &jobs[t]);
            }
            for (int t = 0; t < nt; t++) pthread_join(th[t], NULL), sink += jobs[t].sum;
            const double dt = now_s() - t0;
            if (dt < best) best = dt;
        }
        printf("{\"threads\":%d,\"gb_s\":%.2f}\n", nt, BYTES / best * 1e-9);
    }
    return sink == 42 ? 2 : 0;
}
