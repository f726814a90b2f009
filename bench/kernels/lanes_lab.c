/*
 * lanes_lab.c — kernel lab for a Q4_0 summation order in which tokens, not blocks, share a
 * vector: each block's exact integer dot is reduced to one number, and the float total of a
 * (row, token) pair is the sequential sum over blocks of S_b * (d_w * d_x). A decode dot computes
 * it one block at a time in scalar floats; a prefill tile puts four tokens' S_b in one i32x4
 * (one convert, two multiplies, one add per four pairs) and stays bit-identical to it.
 *
 *   dot v0   sm_kern_vec_dot_q4_0_simd128 (block sums in four f32 lanes, horizontal sum at the end)
 *   dot v3   per block: i32 horizontal sum, then scalar convert, multiply, add
 *   gemm v1  sm_kern_gemm_q4_0_simd128 (1 row x 8 tokens, bit-identical to dot v0)
 *   gemm v2  token lanes: 1 row x 8 tokens as two i32x4 of token sums per block, bit-identical
 *            to dot v3
 *
 * Measured 2026-12-06 (node build-lab/lanes.cjs 4): gemm v1 13.3-15.4 GMAC/s, v2 10.8-12.0; dot v0
 * 5.9-7.2, v3 5.4-6.0 (this lab's token-outer loop order; dot_lab's row-major order gives v0 ~11).
 * Both halves of the scheme were slower, the shuffles of the four-way reduction costing more under
 * V8 than the converts and multiplies they save, so the engine keeps block lanes.
 *
 * Build and run: bash bench/kernels/run.sh. One JSON line per pass: GMAC/s and whether each
 * gemm equals its dot bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern/quant_ref.h"
#include "kern/quant_simd128.h"
#include "kern/simd128.h"
#include "kern/types.h"

#include "lab.h"


enum { Q4B = 18, Q8B = 34, CHUNK = 16, TILE = 8 };

static inline void q4_unpack(const uint8_t *a, v128_t w[4]) {
    const v128_t q = wasm_v128_load(a + 2), eight = wasm_i8x16_splat(8);
    const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, wasm_i8x16_splat(15)), eight);
    const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
    w[0] = wasm_i16x8_extend_low_i8x16(lo), w[1] = wasm_i16x8_extend_high_i8x16(lo);
    w[2] = wasm_i16x8_extend_low_i8x16(hi), w[3] = wasm_i16x8_extend_high_i8x16(hi);
}

static inline v128_t isum16(const v128_t w[4], const v128_t *x) {
    return wasm_i32x4_add(
        wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], x[0]), wasm_i32x4_dot_i16x8(w[1], x[1])),
        wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], x[2]), wasm_i32x4_dot_i16x8(w[3], x[3])));
}

/* dot v3 */
static float dot_v3(int64_t n, const void *wv, const void *xv) {
    const uint8_t *a = wv, *b = xv;
    float acc = 0.0f;
    for (int64_t i = 0; i < n / 32; i++, a += Q4B, b += Q8B) {
        const v128_t q = wasm_v128_load(a + 2), eight = wasm_i8x16_splat(8);
        const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, wasm_i8x16_splat(15)), eight);
        const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
        const int32_t s = sm_kern_hsum_i32x4(
            wasm_i32x4_add(sm_kern_dot_i8x16(lo, wasm_v128_load(b + 2)),
                           sm_kern_dot_i8x16(hi, wasm_v128_load(b + 18))));
        const float d = sm_kern_load_scale(a) * sm_kern_load_scale(b);
        acc = acc + (float)s * d;
    }
    return acc;
}

/* [sum(a), sum(b), sum(c), sum(d)] */
static inline v128_t reduce4(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5),
                                     wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5),
                                     wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6),
                          wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

typedef struct chunk {
    v128_t q[CHUNK][TILE][4]; /* block-major: the tile's tokens of one block are adjacent */
    float d[CHUNK][TILE];
} chunk;

/* gemm v2: n_tok a multiple of 8 (lab only) */
static void gemm_v2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                    size_t x_stride, int n_tok, float *y, int64_t ldy) {
    const int64_t nb = n / 32;
    chunk c;
    v128_t acc[16][2];
    for (int t0 = 0; t0 < n_tok; t0 += TILE) {
        for (int r = 0; r < n_rows; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
        for (int64_t j0 = 0; j0 < nb; j0 += CHUNK) {
            const int nbc = nb - j0 < CHUNK ? (int)(nb - j0) : CHUNK;
            for (int j = 0; j < nbc; j++)
                for (int t = 0; t < TILE; t++) {
                    const uint8_t *b = (const uint8_t *)x + (size_t)(t0 + t) * x_stride + (size_t)(j0 + j) * Q8B;
                    const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
                    c.q[j][t][0] = wasm_i16x8_extend_low_i8x16(x0);
                    c.q[j][t][1] = wasm_i16x8_extend_high_i8x16(x0);
                    c.q[j][t][2] = wasm_i16x8_extend_low_i8x16(x1);
                    c.q[j][t][3] = wasm_i16x8_extend_high_i8x16(x1);
                    c.d[j][t] = sm_kern_load_scale(b);
                }
            for (int r = 0; r < n_rows; r++) {
                const uint8_t *a = (const uint8_t *)w + (size_t)r * w_stride + (size_t)j0 * Q4B;
                v128_t a0 = acc[r][0], a1 = acc[r][1];
                for (int j = 0; j < nbc; j++, a += Q4B) {
                    v128_t wq[4];
                    q4_unpack(a, wq);
                    const v128_t dw = wasm_f32x4_splat(sm_kern_load_scale(a));
                    const v128_t s0 = reduce4(isum16(wq, c.q[j][0]), isum16(wq, c.q[j][1]),
                                              isum16(wq, c.q[j][2]), isum16(wq, c.q[j][3]));
                    const v128_t s1 = reduce4(isum16(wq, c.q[j][4]), isum16(wq, c.q[j][5]),
                                              isum16(wq, c.q[j][6]), isum16(wq, c.q[j][7]));
                    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s0),
                                                           wasm_f32x4_mul(dw, wasm_v128_load(&c.d[j][0]))));
                    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s1),
                                                           wasm_f32x4_mul(dw, wasm_v128_load(&c.d[j][4]))));
                }
                acc[r][0] = a0, acc[r][1] = a1;
            }
        }
        for (int r = 0; r < n_rows; r++) {
            float l[8];
            wasm_v128_store(l, acc[r][0]);
            wasm_v128_store(l + 4, acc[r][1]);
            for (int t = 0; t < TILE; t++) y[(t0 + t) * ldy + r] = l[t];
        }
    }
}

int main(int argc, char **argv) {
    lab_rng_state = 0x9e3779b97f4a7c15ull;
    const int passes = argc > 1 ? atoi(argv[1]) : 3;
    const int64_t n = 2048;
    const int rows = 512, n_tok = 64;
    const size_t w_row = sm_kern_row_size(SM_TYPE_Q4_0, n), x_row = sm_kern_row_size(SM_TYPE_Q8_0, n);
    uint8_t *w = malloc(w_row * rows), *x = malloc(x_row * n_tok);
    float *row = malloc(n * sizeof *row);
    for (int r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
        sm_kern_quantize_row_q4_0_ref(row, w + (size_t)r * w_row, n);
    }
    for (int t = 0; t < n_tok; t++) {
        for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
        sm_kern_quantize_row_q8_0_ref(row, x + (size_t)t * x_row, n);
    }
    const size_t ny = (size_t)rows * n_tok;
    float *y0 = malloc(ny * 4), *y1 = malloc(ny * 4), *y2 = malloc(ny * 4), *y3 = malloc(ny * 4);
    for (int pass = 0; pass < passes; pass++) {
        double best[4] = {1e30, 1e30, 1e30, 1e30};
        for (int k = 0; k < 10; k++) {
            double t0 = lab_now_s();
            for (int t = 0; t < n_tok; t++)
                for (int r = 0; r < rows; r++)
                    y0[t * rows + r] = sm_kern_vec_dot_q4_0_simd128(n, w + r * w_row, x + t * x_row);
            best[0] = fmin(best[0], lab_now_s() - t0);
            t0 = lab_now_s();
            for (int t = 0; t < n_tok; t++)
                for (int r = 0; r < rows; r++) y3[t * rows + r] = dot_v3(n, w + r * w_row, x + t * x_row);
            best[3] = fmin(best[3], lab_now_s() - t0);
            t0 = lab_now_s();
            for (int r0 = 0; r0 < rows; r0 += 16)
                sm_kern_gemm_q4_0_simd128(n, w + r0 * w_row, w_row, 16, x, x_row, n_tok, y1 + r0, rows);
            best[1] = fmin(best[1], lab_now_s() - t0);
            t0 = lab_now_s();
            for (int r0 = 0; r0 < rows; r0 += 16)
                gemm_v2(n, w + r0 * w_row, w_row, 16, x, x_row, n_tok, y2 + r0, rows);
            best[2] = fmin(best[2], lab_now_s() - t0);
        }
        const double macs = (double)n * rows * n_tok * 1e-9;
        printf("{\"pass\":%d,\"dot_v0\":%.2f,\"dot_v3\":%.2f,\"gemm_v1\":%.2f,\"gemm_v2\":%.2f,"
               "\"v1_eq_v0\":%d,\"v2_eq_v3\":%d}\n",
               pass, macs / best[0], macs / best[3], macs / best[1], macs / best[2],
               !memcmp(y0, y1, ny * 4), !memcmp(y2, y3, ny * 4));
    }
    return 0;
}
