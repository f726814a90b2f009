/*
 * warmup.c — see warmup.h.
 *
 * Why: WebAssembly engines first run a baseline compile of every function and optimize the ones
 * that get hot, in the background; a call that is already running keeps the baseline code. The
 * matrix kernels are few, long-running calls, so the first prompt after loading a model ran a
 * good part of its kernels unoptimized: TinyLlama's 128-token prefill under Node 20 was 20-30%
 * slower the first time than the second (smallmind bench --repeat 1 against --repeat 2); 20
 * calls on tiny inputs when the module loaded fixed that under Node. Zero-filled blocks are valid
 * for every type (zero scales).
 *
 * Chromium's V8 needs many more calls before it optimizes a function: with 20 rounds its first
 * 128-token TinyLlama Q8_0 prefill (SmallMind.load, 1 thread) still ran at 13-16 tok/s against
 * 19-20 for the next ones, with 600 at 16-17, with 2000 at 19 like the next. 2000 rounds of all
 * 13 types take 20-50 ms under Node, so a loaded model warms up only its own weight types
 * (sm_kern_warmup_types through sm_js_model_warmup, from the JS Model constructor). sm_kern_warmup
 * (every type) is what test_kern runs under the sanitizers.
 */
#include "kern/warmup.h"

#include <string.h>

#include "kern/types.h"

enum { WARM_N = 256, WARM_ROWS = 4, WARM_TOK = 4 };

void sm_kern_warmup_types(const int32_t *types, int n, int rounds) {
    /* room for the widest rows (F32: 4 bytes per element), on the stack: loads may run it at once
     * in several threads */
    _Alignas(16) unsigned char w[WARM_ROWS * WARM_N * 4], x[WARM_TOK * WARM_N * 4];
    float y[WARM_TOK * WARM_ROWS], xf[WARM_N];
    memset(w, 0, sizeof w);
    memset(x, 0, sizeof x);
    memset(xf, 0, sizeof xf);
    for (int i = 0; i < n; i++) {
        const sm_type_traits *t = sm_kern_traits(types[i]);
        if (!t || !t->vec_dot) continue;
        const sm_type_traits *xt = sm_kern_traits(t->vec_dot_type);
        const size_t w_row = sm_kern_row_size(types[i], WARM_N);
        const size_t x_row = sm_kern_row_size(t->vec_dot_type, WARM_N);
        for (int r = 0; r < rounds; r++) {
            if (xt && xt->from_float) xt->from_float(xf, x, WARM_N);
            if (t->gemv) t->gemv(WARM_N, w, w_row, WARM_ROWS, x, y);
            if (t->gemm) t->gemm(WARM_N, w, w_row, WARM_ROWS, x, x_row, WARM_TOK, y, WARM_ROWS);
            y[0] += t->vec_dot(WARM_N, w, x);
        }
    }
}

void sm_kern_warmup(int rounds) {
    static const int32_t types[] = {SM_TYPE_Q4_0, SM_TYPE_Q4_1, SM_TYPE_Q5_0, SM_TYPE_Q5_1,
                                    SM_TYPE_Q8_0, SM_TYPE_Q2_K, SM_TYPE_Q3_K, SM_TYPE_Q4_K,
                                    SM_TYPE_Q5_K, SM_TYPE_Q6_K, SM_TYPE_F16, SM_TYPE_BF16,
                                    SM_TYPE_F32};
    sm_kern_warmup_types(types, (int)(sizeof types / sizeof types[0]), rounds);
}
