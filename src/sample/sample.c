/*
 * sample.c — greedy and temperature sampling; SplitMix64 (Steele, Lea & Flood 2014) as the RNG.
 */
#include "sample/sample.h"

#include <math.h>

int32_t sm_sample_argmax(const float *logits, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

void sm_rng_seed(sm_rng *rng, uint64_t seed) { rng->state = seed; }

uint64_t sm_rng_next(sm_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float sm_rng_uniform(sm_rng *rng) { return (float)(sm_rng_next(rng) >> 40) / (float)(1ull << 24); }

double sm_rng_uniform_f64(sm_rng *rng) {
    return (double)(sm_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

int32_t sm_sample_temperature(const float *logits, int32_t n, float temperature, sm_rng *rng,
                              float *scratch) {
    if (!(temperature > 0.0f)) return sm_sample_argmax(logits, n);
    const float max = logits[sm_sample_argmax(logits, n)];
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += scratch[i] = expf((logits[i] - max) / temperature);
    double r = sm_rng_uniform(rng) * sum;
    for (int32_t i = 0; i < n; i++) {
        r -= scratch[i];
        if (r < 0.0) return i;
    }
    return n - 1; /* rounding left r >= 0: the last token closes the distribution */
}
