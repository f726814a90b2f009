/*
 * gemm_lab.c — kernel lab for prompt processing: W[n_rows, n] (quantized) times a batch of n_tok
 * activation rows (already in the weight type's vec_dot_type), as numbered versions beside the
 * scalar reference, each validated against it and then timed (llm.c dev/ style).
 *
 *   ref  sm_kern_vec_dot_*_ref for every (row, token) pair: the truth
 *   v0   the SIMD128 vec_dot for every pair, row blocks of 16 × all tokens (the decode kernel
 *        reused for prefill: what matmul.c did before tiles)
 *   v1   the SIMD128 gemm tiles (src/kern), bit-identical to v0: 1 row x 8 tokens, each weight
 *        block unpacked and widened once per tile, the tokens in a loop of 4 per pass that stays
 *        a loop in the WASM (V8 loads every operand of a basic block first, and 8 unrolled tokens
 *        spilled). Q4_0/Q8_0 went from 17-19 to 21-26 GMAC/s with that loop; the K-quants (1 row
 *        x 4 unrolled tokens before, activations widened per row) from 12-14 to 19-20 for
 *        Q4_K/Q5_K, Q6_K 17-19 both.
 *   v2   Q4_0/Q8_0 only, a different float order: each block's integer sum is reduced to one
 *        number per token (4 tokens transposed into one vector), so the scale multiply and the
 *        float add are done once per 4 tokens. 0-10% faster than v1 here, and 10x more exact, but
 *        not bit-identical to the vec_dot/gemv, which would have to change order with it.
 *   v3   relaxed build only (-DSM_RELAXED_SIMD, rewritten by tools/wasm/relaxed-simd.mjs): the plain
 *        SIMD128 gemm of Q4_K/Q6_K beside the relaxed one, which the traits give as v1.
 *   Args: [n_tok=64] [n=2048] [n_rows=512] (TinyLlama's FFN: 128 5632 2048, 128 2048 5632).
 *
 * Build and run: bash bench/kernels/run.sh (WASM SIMD128 under Node). Prints one JSON line per
 * type with GMAC/s per version and max normalized error against ref.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasm_simd128.h>

#include "kern/quant.h"
#include "kern/quant_ref.h"
#include "kern/quant_simd128.h"
#include "kern/simd128.h"
#include "kern/types.h"

#include "lab.h"

/* ---- v2: tiles whose float work is shared by 4 tokens --------------------------------------- */

/* Per token, the block's 4 i32 lanes; then [sum A, sum B, sum C, sum D] by a transposing add. */
static inline v128_t v2_hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* tokens per pass of the token loop (-DV2_SPLIT=0: all 8 unrolled, the spilling form) */
#ifndef V2_SPLIT
#define V2_SPLIT 4
#endif
enum { V2_CHUNK = 16, V2_TILE = 8, V2_ROWS = 16 };
typedef struct v2_chunk {
    v128_t q[V2_CHUNK][V2_TILE][4]; /* block-major: a block's 8 tokens are adjacent */
    v128_t d[V2_CHUNK][V2_TILE / 4];
} v2_chunk;

static inline v128_t v2_tok(const v128_t w[4], const v128_t x[4]) {
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], x[0]), wasm_i32x4_dot_i16x8(w[1], x[1])),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], x[2]), wasm_i32x4_dot_i16x8(w[3], x[3])));
}

static inline __attribute__((always_inline)) void v2_gemm(int64_t n, const uint8_t *w, size_t w_stride, int n_rows,
                                                          const uint8_t *x, size_t x_stride, int n_tok, float *y,
                                                          int64_t ldy, int q4, size_t a_bytes) {
    const int64_t nb = n / 32;
    v2_chunk c;
    v128_t acc[V2_ROWS][2];
    for (int t0 = 0; t0 < n_tok; t0 += V2_TILE) { /* lab: n_tok is a multiple of 8 */
        const uint8_t *xt = x + (size_t)t0 * x_stride;
        for (int r0 = 0; r0 < n_rows; r0 += V2_ROWS) {
            const int nr = n_rows - r0 < V2_ROWS ? n_rows - r0 : V2_ROWS;
            for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
            for (int64_t j0 = 0; j0 < nb; j0 += V2_CHUNK) {
                const int nbc = nb - j0 < V2_CHUNK ? (int)(nb - j0) : V2_CHUNK;
                for (int j = 0; j < nbc; j++) {
                    float ds[V2_TILE];
                    for (int t = 0; t < V2_TILE; t++) {
                        const uint8_t *b = xt + (size_t)t * x_stride + (size_t)(j0 + j) * 34;
                        const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
                        c.q[j][t][0] = wasm_i16x8_extend_low_i8x16(x0);
                        c.q[j][t][1] = wasm_i16x8_extend_high_i8x16(x0);
                        c.q[j][t][2] = wasm_i16x8_extend_low_i8x16(x1);
                        c.q[j][t][3] = wasm_i16x8_extend_high_i8x16(x1);
                        ds[t] = sm_kern_load_scale(b);
                    }
                    c.d[j][0] = wasm_v128_load(ds), c.d[j][1] = wasm_v128_load(ds + 4);
                }
                for (int r = 0; r < nr; r++) {
                    const uint8_t *a = w + (size_t)(r0 + r) * w_stride + (size_t)j0 * a_bytes;
                    v128_t acc0 = acc[r][0], acc1 = acc[r][1];
                    for (int j = 0; j < nbc; j++, a += a_bytes) {
                        v128_t lo, hi;
                        if (q4) {
                            const v128_t q = wasm_v128_load(a + 2), eight = wasm_i8x16_splat(8);
                            lo = wasm_i8x16_sub(wasm_v128_and(q, wasm_i8x16_splat(15)), eight);
                            hi = wasm_i8x16_sub(sm_kern_u8x16_shr(q, 4), eight);
                        } else {
                            lo = wasm_v128_load(a + 2), hi = wasm_v128_load(a + 18);
                        }
                        const v128_t wq[4] = {wasm_i16x8_extend_low_i8x16(lo), wasm_i16x8_extend_high_i8x16(lo),
                                              wasm_i16x8_extend_low_i8x16(hi), wasm_i16x8_extend_high_i8x16(hi)};
                        const v128_t dw = wasm_f32x4_splat(sm_kern_load_scale(a));
                        v128_t s0, s1;
                        if (V2_SPLIT) {
                            v128_t st[V2_TILE];
#pragma clang loop unroll(disable)
                            for (int t = 0; t < V2_TILE; t += V2_SPLIT)
                                for (int u = 0; u < V2_SPLIT; u++) st[t + u] = v2_tok(wq, c.q[j][t + u]);
                            s0 = v2_hsum4(st[0], st[1], st[2], st[3]);
                            s1 = v2_hsum4(st[4], st[5], st[6], st[7]);
                        } else {
                            s0 = v2_hsum4(v2_tok(wq, c.q[j][0]), v2_tok(wq, c.q[j][1]),
                                          v2_tok(wq, c.q[j][2]), v2_tok(wq, c.q[j][3]));
                            s1 = v2_hsum4(v2_tok(wq, c.q[j][4]), v2_tok(wq, c.q[j][5]),
                                          v2_tok(wq, c.q[j][6]), v2_tok(wq, c.q[j][7]));
                        }
                        acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s0), wasm_f32x4_mul(dw, c.d[j][0])));
                        acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s1), wasm_f32x4_mul(dw, c.d[j][1])));
                    }
                    acc[r][0] = acc0, acc[r][1] = acc1;
                }
            }
            for (int r = 0; r < nr; r++) {
                float o[8];
                wasm_v128_store(o, acc[r][0]), wasm_v128_store(o + 4, acc[r][1]);
                for (int t = 0; t < V2_TILE; t++) y[(t0 + t) * ldy + r0 + r] = o[t];
            }
        }
    }
}

static void v2_gemm_q4_0(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                         int n_tok, float *y, int64_t ldy) {
    v2_gemm(n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy, 1, 18);
}
static void v2_gemm_q8_0(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                         int n_tok, float *y, int64_t ldy) {
    v2_gemm(n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy, 0, 34);
}



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
        problem p = {.type = types[ti], .n = argc > 2 ? atoi(argv[2]) : 2048, .n_rows = argc > 3 ? atoi(argv[3]) : 512, .n_tok = n_tok};
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
        for (int v = 0; v < 4; v++) {
            if (v == 1 && !tr->gemm) continue;
            sm_gemm_fn g2 = p.type == SM_TYPE_Q4_0 ? v2_gemm_q4_0 : p.type == SM_TYPE_Q8_0 ? v2_gemm_q8_0 : NULL;
            if (v == 2 && (!g2 || p.n_tok % V2_TILE)) continue;
            sm_gemm_fn g3 = NULL; /* relaxed build: the plain SIMD128 gemm beside the relaxed one (v1) */
#ifdef SM_RELAXED_SIMD
            g3 = p.type == SM_TYPE_Q4_K ? sm_kern_gemm_q4_K_simd128 : p.type == SM_TYPE_Q6_K ? sm_kern_gemm_q6_K_simd128 : NULL;
#endif
            if (v == 3 && !g3) continue;
            double best = 1e30;
            for (int rep = 0; rep < 15; rep++) {
                const double t0 = lab_now_s();
                if (v == 0) run_pairs(&p, tr->vec_dot, y);
                else run_gemm(&p, v == 1 ? tr->gemm : v == 2 ? g2 : g3, y);
                best = fmin(best, lab_now_s() - t0);
            }
            printf(",\"v%d_gmac_s\":%.2f,\"v%d_err\":%.2e", v, macs / best * 1e-9, v, max_err(y, yr, ny));
        }
        printf("}\n");
        free(p.w), free(p.x), free(row), free(yr), free(y);
    }
    return 0;
}
