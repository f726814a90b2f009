/*
 * gemm_lab.c — kernel lab for prompt processing: W[n_rows, n] (quantized) times a batch of n_tok
 * activation rows (already in the weight type's vec_dot_type), as numbered versions beside the
 * scalar reference, each validated against it and then timed (llm.c dev/ style).
 *
 *   ref  sm_kern_vec_dot_*_ref for every (row, token) pair: the truth
 *   v0   the SIMD128 vec_dot for every pair, row blocks of 16 × all tokens (the decode kernel
 *        reused for prefill: what matmul.c did before tiles)
 *   v1   the SIMD128 gemm tiles (src/kern: 1 row × 4 tokens, each weight block unpacked and
 *        widened once per 4 tokens), bit-identical to v0
 *
 * Build and run: bash bench/kernels/run.sh (WASM SIMD128 under Node). Prints one JSON line per
 * type with GMAC/s per version and max normalized error against ref.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern/quant_ref.h"
#include "kern/types.h"

#include "lab.h"


typedef struct problem {
    int32_t type;
    int64_t n;
    int n_rows, n_tok;
    uint8_t *w, *x;
    size_t w_row, x_row;
} problem;

static void run_pairs(const problem *p, sm_vec_dot_fn dot, float *y) {
    for (int r0 = 0; r0 < p->n_rows; r0 += 16)
        for (int t = 0; t < p->n_tok; t++)
            for (int r = r0; r < r0 + 16 && r < p->n_rows; r++)
                y[(size_t)t * p->n_rows + r] = dot(p->n, p->w + (size_t)r * p->w_row, p->x + (size_t)t * p->x_row);
}

static void run_gemm(const problem *p, sm_gemm_fn gemm, float *y) {
    for (int r0 = 0; r0 < p->n_rows; r0 += 16) {
        const int nr = p->n_rows - r0 < 16 ? p->n_rows - r0 : 16;
        gemm(p->n, p->w + (size_t)r0 * p->w_row, p->w_row, nr, p->x, p->x_row, p->n_tok, y + r0, p->n_rows);
    }
}

static double max_err(const float *a, const float *ref, size_t n) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - ref[i])), m = fmax(m, fabs(ref[i]));
    return m > 0 ? e / m : e;
}

int main(int argc, char **argv) {
    const int32_t types[] = {SM_TYPE_Q4_0, SM_TYPE_Q8_0, SM_TYPE_Q4_K, SM_TYPE_Q5_K, SM_TYPE_Q6_K};
    const int n_tok = argc > 1 ? atoi(argv[1]) : 64;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        problem p = {.type = types[ti], .n = 2048, .n_rows = 512, .n_tok = n_tok};
        const sm_type_traits *tr = sm_kern_traits(p.type), *rt = sm_kern_traits_ref(p.type);
        const sm_type_traits *xt = sm_kern_traits(tr->vec_dot_type);
        p.w_row = sm_kern_row_size(p.type, p.n);
        p.x_row = sm_kern_row_size(tr->vec_dot_type, p.n);
        p.w = malloc(p.w_row * p.n_rows);
        p.x = malloc(p.x_row * p.n_tok);
        float *row = malloc(p.n * sizeof *row);
        for (int r = 0; r < p.n_rows; r++) {
            for (int64_t i = 0; i < p.n; i++) row[i] = lab_rnd();
            sm_kern_quantizer_ref(p.type)(row, p.w + (size_t)r * p.w_row, p.n);
        }
        for (int t = 0; t < p.n_tok; t++) {
            for (int64_t i = 0; i < p.n; i++) row[i] = lab_rnd();
            xt->from_float(row, p.x + (size_t)t * p.x_row, p.n);
        }
        const size_t ny = (size_t)p.n_rows * p.n_tok;
        float *yr = malloc(ny * sizeof *yr), *y = malloc(ny * sizeof *y);
        run_pairs(&p, rt->vec_dot, yr);
        const double macs = (double)p.n * p.n_rows * p.n_tok;
        printf("{\"type\":\"%s\",\"n\":%lld,\"rows\":%d,\"tokens\":%d", tr->name, (long long)p.n, p.n_rows, p.n_tok);
        for (int v = 0; v < 2; v++) {
            if (v == 1 && !tr->gemm) continue;
            double best = 1e30;
            for (int rep = 0; rep < 15; rep++) {
                const double t0 = lab_now_s();
                if (v == 0) run_pairs(&p, tr->vec_dot, y);
                else run_gemm(&p, tr->gemm, y);
                best = fmin(best, lab_now_s() - t0);
            }
            printf(",\"v%d_gmac_s\":%.2f,\"v%d_err\":%.2e", v, macs / best * 1e-9, v, max_err(y, yr, ny));
        }
        printf("}\n");
        free(p.w), free(p.x), free(row), free(yr), free(y);
    }
    return 0;
}
