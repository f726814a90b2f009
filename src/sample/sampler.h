/*
 * sampler.h — the sampler chain: choosing the next token from logits with penalties, logit bias,
 * top-k, top-p, min-p and temperature. Internal.
 *
 * Order and math follow llama.cpp's common sampler chain (src/llama-sampling.cpp, common/
 * sampling.cpp): logit bias, penalties (repeat/frequency/presence over the last penalty_last_n
 * accepted tokens), top-k, top-p, min-p, temperature, then one draw from the softmax with the
 * SplitMix64 RNG of sample.h. Temperature 0 is greedy: the argmax after bias and penalties.
 * Not here: DRY, typical-p, XTC, mirostat, grammars. The token sequence for a given seed is our
 * own (the RNG differs from llama.cpp's), but it is the same on every platform: ties are broken
 * by a total order (logit descending, id ascending) and exp is computed with basic IEEE operations
 * only, never the platform's libm.
 *
 * Dimension legend: n_vocab = number of logits (and valid token ids 0..n_vocab-1).
 */
#ifndef SM_SAMPLE_SAMPLER_H
#define SM_SAMPLE_SAMPLER_H

#include <stdint.h>

#include "sm.h"

/*
 * Options. A zeroed struct is not the neutral setting: use sm_sampler_params_default(), which
 * disables every stage except temperature 1. Neutral values of each stage:
 *   temperature     0 = greedy; > 0 divides the logits before the draw
 *   top_k           0 = off; else keep the k best
 *   top_p           1 = off; else the smallest best-first set with cumulative probability >= top_p
 *   min_p           0 = off; else keep tokens with p >= min_p * p_max
 *   repeat_penalty  1 = off; > 0; logit > 0 is divided by it, logit <= 0 multiplied
 *   frequency_penalty, presence_penalty  0 = off; logit -= count * frequency + (count > 0) * presence
 *   penalty_last_n  0 = penalties off; the window of accepted tokens the counts are taken over
 *   bias_ids/bias_values/n_bias  logit[bias_ids[i]] += bias_values[i] (duplicates add); a value may
 *                   be -INFINITY to ban a token; the arrays are copied by sm_sampler_new
 */
typedef struct sm_sampler_params {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
    float repeat_penalty;
    float frequency_penalty;
    float presence_penalty;
    int32_t penalty_last_n;
    uint64_t seed;
    const int32_t *bias_ids;  /* [n_bias] */
    const float *bias_values; /* [n_bias] */
    int32_t n_bias;
} sm_sampler_params;

typedef struct sm_sampler sm_sampler;

/* Returns the neutral options (see above) with temperature 1 and seed 0. */
sm_sampler_params sm_sampler_params_default(void);

/*
 * Validates every option and allocates all scratch up front (two [n_vocab] candidate arrays, a
 * [n_vocab] bias table, a [n_vocab] count table and a [penalty_last_n] ring). On success the
 * caller owns *out and frees it with sm_sampler_free (also a [n_vocab] double weight array); the params' bias arrays are copied and may
 * be freed at once. Errors: SM_ERR_INVALID_ARG naming the option (NULL pointer, n_vocab < 1,
 * temperature < 0 or NaN, top_k < 0, top_p or min_p outside [0, 1], repeat_penalty <= 0,
 * non-finite penalties, penalty_last_n < 0, n_bias < 0, a bias id outside [0, n_vocab), a NaN or
 * +inf bias value); SM_ERR_NOMEM. On failure *out is NULL.
 */
sm_status sm_sampler_new(int32_t n_vocab, const sm_sampler_params *p, sm_sampler **out,
                         sm_error *err);

/* Frees the sampler and everything it allocated; NULL is a no-op. */
void sm_sampler_free(sm_sampler *s);

/*
 * Records a token (prompt or generated) in the penalty window; the oldest leaves once more than
 * penalty_last_n are recorded. Ids outside [0, n_vocab) are ignored (callers validate ids).
 * Never allocates.
 */
void sm_sampler_accept(sm_sampler *s, int32_t tok);

/*
 * Returns the next token for `logits` [n_vocab], which the sampler reads and never modifies or
 * keeps. Advances the RNG once per call unless temperature is 0. Never allocates.
 */
int32_t sm_sampler_sample(sm_sampler *s, const float *logits);

/*
 * Runs the chain up to (not including) the draw and writes the survivors to ids/values [n_vocab],
 * caller-owned: ids and their logits after bias and penalties, before temperature; best first when
 * top-k or top-p sorted them, else in id order. Returns their count (1 when temperature is 0: the
 * greedy token). For tests and future logprobs; does not touch the RNG. Never allocates.
 */
int32_t sm_sampler_candidates(sm_sampler *s, const float *logits, int32_t *ids, float *values);

/* Forgets every accepted token and reseeds the RNG with the params' seed. Never allocates. */
void sm_sampler_reset(sm_sampler *s);

#endif
