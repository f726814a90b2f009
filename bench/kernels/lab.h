/*
 * lab.h — what every kernel lab shares: a seeded generator of test values and a monotonic clock.
 * Header-only (each lab is one translation unit built by run.sh).
 */
#ifndef SM_BENCH_LAB_H
#define SM_BENCH_LAB_H

#include <stdint.h>
#include <time.h>

static uint64_t lab_rng_state = 0x243f6a8885a308d3ull;

/* Uniform in [-1, 1), from a 64-bit LCG (labs need repeatable data, not quality). */
static inline float lab_rnd(void) {
    lab_rng_state = lab_rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lab_rng_state >> 40) & 0xffffff) * 0x1p-24f * 2.0f - 1.0f;
}

static inline double lab_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
