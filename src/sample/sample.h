/*
 * sample.h — choosing the next token from logits. Internal.
 *
 * This version has greedy decoding and plain temperature sampling with a seeded RNG; the full
 * sampler chain (top-k/p, min-p, penalties) is a later addition behind the same entry point.
 */
#ifndef SM_SAMPLE_SAMPLE_H
#define SM_SAMPLE_SAMPLE_H

#include <stdint.h>

/* Returns the index of the largest logit; the lowest index wins a tie (as llama.cpp's greedy). */
int32_t sm_sample_argmax(const float *logits, int32_t n);

/* A seeded random generator (SplitMix64): reproducible across platforms. */
typedef struct sm_rng {
    uint64_t state;
} sm_rng;

void sm_rng_seed(sm_rng *rng, uint64_t seed);
/* Uniform in [0, 1). */
float sm_rng_uniform(sm_rng *rng);

/* Samples from softmax(logits / temperature); temperature <= 0 means argmax. `scratch` is [n]. */
int32_t sm_sample_temperature(const float *logits, int32_t n, float temperature, sm_rng *rng,
                              float *scratch);

#endif
