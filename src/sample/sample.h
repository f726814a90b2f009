/*
 * sample.h — choosing the next token from logits. Internal.
 *
 * Greedy decoding, plain temperature sampling and the seeded RNG. The full sampler chain
 * (penalties, bias, top-k/p, min-p) is sampler.h, which uses this RNG.
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
/* The next 64 random bits. */
uint64_t sm_rng_next(sm_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double sm_rng_uniform_f64(sm_rng *rng);
/* Uniform in [0, 1). */
float sm_rng_uniform(sm_rng *rng);

/* Samples from softmax(logits / temperature); temperature <= 0 means argmax. `scratch` is [n]. */
int32_t sm_sample_temperature(const float *logits, int32_t n, float temperature, sm_rng *rng,
                              float *scratch);

#endif
