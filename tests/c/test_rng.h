/*
 * test_rng.h — the seeded random values the kernel tests draw (xorshift64*): repeatable across
 * runs and platforms, so a failure reproduces. One generator per test program.
 */
#ifndef SM_TEST_RNG_H
#define SM_TEST_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static inline uint32_t rng_u32(void) { /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 0x2545f4914f6cdd1dull) >> 32);
}

static inline float rng_uniform(void) { return (float)(rng_u32() >> 8) * 0x1p-24f; } /* [0, 1) */

static inline float rng_normal(void) {
    const float u = rng_uniform() + 0x1p-25f, v = rng_uniform();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

#endif
