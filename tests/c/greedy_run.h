/*
 * greedy_run.h — a fingerprint of everything a model computes, for tests that load the same model
 * two ways (split parts, SMND) and must get bit-identical results: the logits after a fixed prompt
 * and after each of n_steps greedy steps, plus the tokens. Header-only, for tests.
 */
#ifndef SM_TEST_GREEDY_RUN_H
#define SM_TEST_GREEDY_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sm.h"

/* logits: (1 + n_steps) * n_vocab floats; toks: n_steps ids. kv_type as in sm_session_params. */
static inline bool sm_test_greedy_run(sm_model *m, int32_t n_vocab, int32_t kv_type, int n_steps,
                                      float *logits, int32_t *toks) {
    sm_session_params p = sm_session_default_params();
    p.n_ctx = 32;
    p.ignore_eos = 1;
    p.kv_type = kv_type;
    sm_session *s = NULL;
    if (sm_session_new(m, &p, &s, NULL) != SM_OK) return false;
    const int32_t prompt[] = {1, 5, 9, 3, 30, 7};
    bool ok = sm_session_decode(s, prompt, 6) == SM_OK;
    for (int i = 0; ok && i <= n_steps; i++) {
        memcpy(logits + (size_t)i * (size_t)n_vocab, sm_session_logits(s),
               (size_t)n_vocab * sizeof(float));
        if (i < n_steps) ok = sm_session_step(s, &toks[i]) == SM_OK;
    }
    sm_session_free(s);
    return ok;
}

#endif
