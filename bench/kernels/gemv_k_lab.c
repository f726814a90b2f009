/*
 * gemv_k_lab.c — kernel lab for decoding K-quant rows: one Q8_K activation row against a Q4_K or
 * Q6_K weight matrix, as numbered versions beside the scalar reference. Each version is validated
 * against the reference (max error relative to the largest output) and timed in GMAC/s. The sizes
 * are TinyLlama's shapes (n = 2048, and n = 5632 for ffn_down), plus 65536 rows that do not fit
 * the L3 cache. Weights come either at unit scale or at 1/64 of it ("small"), which makes the
 * fp16 super-block scales subnormal, as they often are in real files:
 *   - Q6_K: d = max|w| / 4096, so max|w| < 0.25 suffices;
 *   - Q4_K: d = max|w| / 945.
 *
 * Q4_K
 *   v0  the gemv before this lab. The high nibbles come from wasm_u8x16_shr; V8 compiles it on x64
 *       to a 16-bit shift and a mask it builds at every use (a move, a broadcast and an and).
 *   v1  sm_kern_gemv_q4_K_simd128: v0 with sm_kern_u8x16_shr (a 16-bit shift and a constant mask).
 *   v2  v1 with one i32 multiply per 32-weight group: the two 16-weight dots are added first.
 *   v3  The nibbles are split in i16 lanes straight from the loaded bytes (the even bytes' by mask,
 *       the odd bytes' by a 16-bit shift). The activations are widened once into their even and
 *       odd elements. The block's i32 lanes are summed to one integer before the float scale, so
 *       the lane order is free.
 *   v4  v3 with per-lane float accumulation.
 *   v5  relaxed build: sm_kern_gemv_q4_K_relaxed (elsewhere v1 again).
 *   v6  relaxed build: the relaxed gemv as it was before v5's shape (both operands permuted into
 *       the SIMD128 kernel's lane order, a byte array of scales, the mins term in scalar code),
 *       with its block start in vectors.
 *   v7  relaxed build: v5's block loop without the block start (no mins, unit scales). Not a
 *       kernel (its error is large): the ceiling of what a cheaper block start can give.
 * Q6_K
 *   v0  the gemv before this lab: the 6-bit values by byte shifts, and d through one multiply by
 *       2^112 (sm_kern_load_scale), which makes a subnormal half a subnormal float operand.
 *   v1  sm_kern_gemv_q6_K_simd128: 16-bit shifts whose cross-byte bits the masks drop, and
 *       sm_kern_load_scale_k, which never has a subnormal operand.
 *   v2  relaxed build: sm_kern_gemv_q6_K_relaxed (elsewhere v1 again).
 * Q5_K
 *   v0  sm_kern_gemv_q5_K_simd128.
 *   v1  relaxed build: sm_kern_gemv_q5_K_relaxed (elsewhere v0 again).
 *
 * Measured 2026-12-06 (third session), Node 20, GMAC/s. First, the earlier version of this lab
 * (v0 against the byte-shift change alone, three passes):
 *   - Q4_K: v0 13.3-14.7, v1 14.5-15.7.
 *   - Q6_K: v0 10.1-10.6, v1 11.6-12.5.
 * Then this file, three passes in a slow phase of the machine (pass 0; passes 1-2 ran at about
 * half that speed with the same ranking):
 *   - Q4_K, unit, 5632 rows: v0 7.8 (warm-up), v1 13.3, v2 13.8, v3 9.8, v4 9.9.
 *   - Q4_K, unit, 65536 rows: v0 12.0, v1 13.2, v2 13.2.
 *   - Q6_K, unit, n = 5632: v0 7.7, v1 8.9.
 *   - Q6_K, small, n = 5632: v0 4.9, v1 9.0 (passes 1-2: 4.2 / 7.4 and 4.0 / 6.6).
 *   - Q6_K, small, 65536 rows: v0 4.3, v1 7.1.
 * What that shows:
 *   - The even/odd split (v3, v4) is slower than v0. V8 widens bytes in one instruction anyway, so
 *     the split saves nothing.
 *   - Merging the multiplies (v2) is within noise of v1.
 * In the engine, TinyLlama Q4_K_M spent as long in the Q6_K gemv as in the Q4_K one for 0.47x the
 * MACs (node --cpu-prof on smallmind bench). Its ffn_down, attn_v and output are Q6_K, with
 * subnormal d from the generator's realistic magnitudes. That was the subnormal multiply, which the
 * "small" rows show.
 * Fourth session, evening (v1 is the engine's gemv, so the builds were compared: this lab built in
 * the tree before and after a change, run alternately six times, pass 0, best of the six):
 *   - d and dmin from the half table (sm_kern_fp16_table) instead of sm_kern_load_scale_k:
 *     Q4_K 13.4-14.1 -> 15.3-16.1 (medians +12%); Q6_K 11.9-12.1 -> 11.9-12.3 (neutral). Kept.
 *   - Each 32-weight group's scale applied to two group sums at once (packed into i16 halves,
 *     one dot_i16x8 against a (scale, scale) pair vector) instead of an i32 multiply and a splat
 *     per group: Q4_K 16.1-16.8 -> 14.9-15.6, Q6_K 12.4-12.8 -> 11.6-11.8. Fewer instructions,
 *     but slower under V8; not kept (nor in the relaxed gemvs, where Chromium A/B runs were
 *     within the machine's noise).
 * Sixth session (2026-12-06, night), relaxed build of this lab in Chromium (see "Relaxed build"
 * below), two passes each, GMAC/s:
 *   - With the relaxed gemvs as they were (lane-permuted operands): Q4_K v5 18.4-20.8 against the
 *     plain v1 15.1-16.2; v6 21.6-24.0; v7 29.1-32.6. The block start, not the dot, held the
 *     relaxed Q4_K gemv back. A version of v6 without any permutation, summing each block's lanes
 *     to one integer, ran 27.8-30.6, near v7.
 *   - The engine then took that shape (k_acc_block: every Q4_K/Q5_K/Q6_K kernel sums a block's
 *     lanes to one integer, so lane order is free): Q4_K v5 26.6-30.1 (v6 21.6-24.0 in the same
 *     run), Q6_K v2 13.4-13.9 -> 14.1-15.5.
 *   - The relaxed Q6_K gemv's 16 scales as four i32x4 (one sign extension per block, then one
 *     shuffle per group instead of a byte load, a move and a broadcast), its four slices unrolled:
 *     this lab built before and after, run alternately twice each: Q6_K v2 best 15.2 -> 18.0-19.3
 *     (v2 / v1 1.36-1.40 -> 1.65-1.80).
 *   - A relaxed Q5_K gemv in the Q4_K one's shape (new; Q5_K had only the SIMD128 one), n = 2048,
 *     5632 rows, two passes: v0 8.7-10.4, v1 14.8-18.2.
 *   - Under Node (plain build, this lab built before and after, run alternately four times, best):
 *     Q4_K v1 16.3 -> 15.4, Q6_K v1 12.6 -> 12.0; the machine's noise in those runs was larger.
 *     An unrolled plain gemv with vector scales (the shape of v5) ran 11 under Node: V8 11.3 loads
 *     every operand of the unrolled block up front and spills; the plain gemv keeps its j loop.
 *
 * Build and run: bash bench/kernels/run.sh 64 gemv_k
 * Relaxed build: emcc as in run.sh plus -DSM_RELAXED_SIMD --profiling-funcs -sENVIRONMENT=web,
 * then node tools/wasm/relaxed-simd.mjs on its .wasm, then node bench/kernels/browser-run.mjs.
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

enum { QK = 256, Q8K_SIZE = 4 + 256 + 32, Q4K_SIZE = 144, Q6K_SIZE = 210, MAX_N = 16384 };

typedef void (*gemv_fn)(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                        float *y);

/* ---- shared ---------------------------------------------------------------------------------- */

/* The activation row widened to i16, as the engine's gemvs do once per call. */
static void widen_row(const uint8_t *x, int64_t nb, v128_t *xw) {
    for (int64_t i = 0; i < nb; i++, x += Q8K_SIZE, xw += QK / 8)
        for (int k = 0; k < QK / 16; k++) {
            const v128_t v = wasm_v128_load(x + 4 + 16 * k);
            xw[2 * k] = wasm_i16x8_extend_low_i8x16(v);
            xw[2 * k + 1] = wasm_i16x8_extend_high_i8x16(v);
        }
}

/* isum + scale * (16 bytes q times 16 widened x). */
static inline v128_t mac16(v128_t isum, v128_t q, const v128_t *xw, int scale) {
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(q), xw[0]),
                                      wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(q), xw[1]));
    return wasm_i32x4_add(isum, wasm_i32x4_mul(dot, wasm_i32x4_splat(scale)));
}

/* A Q4_K block's 8 scales and its mins term sum_g m[g] * sum(x in g). */
static int32_t q4k_scales(const uint8_t *packed, const uint8_t *xb, uint8_t sc[8]) {
    uint32_t u[3], v[4];
    memcpy(u, packed, sizeof u);
    v[0] = u[0] & 0x3f3f3f3fu;
    v[1] = (u[2] & 0x0f0f0f0fu) | ((u[0] >> 6) & 0x03030303u) << 4;
    v[2] = u[1] & 0x3f3f3f3fu;
    v[3] = ((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] >> 6) & 0x03030303u) << 4;
    uint8_t m[8];
    memcpy(sc, v, 8);
    memcpy(m, v + 2, 8);
    int16_t bsums[16];
    memcpy(bsums, xb + 4 + 256, sizeof bsums);
    int32_t msum = 0;
    for (int g = 0; g < 8; g++) msum += m[g] * (bsums[2 * g] + bsums[2 * g + 1]);
    return msum;
}

/* ---- Q4_K ------------------------------------------------------------------------------------ */

/* A Q4_K block's scales into sc, and its mins term d_x * dmin * sum_g m[g] * sum(x in g) with the
 * engine's float operations. */
static float q4k_block_start(const uint8_t *a, const uint8_t *b, uint8_t sc[8]) {
    return sm_kern_load_f32(b) * sm_kern_load_fp16(a + 2) * (float)q4k_scales(a + 4, b, sc);
}

/* v0 (byte shift = 0) and v2 (merged multiplies = 1) */
static inline __attribute__((always_inline)) void gemv_q4_K_shape(int64_t n, const void *w,
                                                                  size_t w_stride, int n_rows,
                                                                  const void *x, float *y,
                                                                  int merged) {
    const int64_t nb = n / QK;
    v128_t xw[MAX_N / 8];
    widen_row(x, nb, xw);
    const v128_t m4 = wasm_i8x16_splat(15);
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        float mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xw + i * (QK / 8);
            uint8_t sc[8];
            mins += q4k_block_start(a, b, sc);
            v128_t isum = wasm_i32x4_splat(0);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + 16 + 32 * j);
                const v128_t q1 = wasm_v128_load(a + 16 + 32 * j + 16);
                const v128_t *xq = xb + 8 * j;
                if (merged) {
                    const v128_t l0 = wasm_v128_and(q0, m4), l1 = wasm_v128_and(q1, m4);
                    const v128_t h0 = sm_kern_u8x16_shr(q0, 4), h1 = sm_kern_u8x16_shr(q1, 4);
#define DOT16(q, xv)                                                                               \
    wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(q), (xv)[0]),                 \
                   wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(q), (xv)[1]))
                    const v128_t lo = wasm_i32x4_add(DOT16(l0, xq), DOT16(l1, xq + 2));
                    const v128_t hi = wasm_i32x4_add(DOT16(h0, xq + 4), DOT16(h1, xq + 6));
#undef DOT16
                    isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_splat(sc[2 * j])));
                    isum = wasm_i32x4_add(isum, wasm_i32x4_mul(hi, wasm_i32x4_splat(sc[2 * j + 1])));
                } else {
                    isum = mac16(isum, wasm_v128_and(q0, m4), xq, sc[2 * j]);
                    isum = mac16(isum, wasm_v128_and(q1, m4), xq + 2, sc[2 * j]);
                    isum = mac16(isum, wasm_u8x16_shr(q0, 4), xq + 4, sc[2 * j + 1]);
                    isum = mac16(isum, wasm_u8x16_shr(q1, 4), xq + 6, sc[2 * j + 1]);
                }
            }
            acc = sm_kern_acc_scaled(acc, isum, sm_kern_load_f32(b) * sm_kern_load_fp16(a));
        }
        y[r] = sm_kern_hsum_f32x4(acc) - mins;
    }
}

static void gemv_q4_K_v0(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    gemv_q4_K_shape(n, w, s, nr, x, y, 0);
}

static void gemv_q4_K_v2(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    gemv_q4_K_shape(n, w, s, nr, x, y, 1);
}

/* The activation row as i16: per 16 elements, [even elements] then [odd elements]. */
static void split_row(const uint8_t *x, int64_t nb, v128_t *xs) {
    for (int64_t i = 0; i < nb; i++, x += Q8K_SIZE, xs += QK / 8)
        for (int k = 0; k < QK / 16; k++) {
            const v128_t v = wasm_v128_load(x + 4 + 16 * k);
            xs[2 * k] = wasm_i16x8_shr(wasm_i16x8_shl(v, 8), 8);
            xs[2 * k + 1] = wasm_i16x8_shr(v, 8);
        }
}

/* v3 (one integer per block = 1) and v4 (per-lane float = 0) */
static inline __attribute__((always_inline)) void gemv_q4_K_split(int64_t n, const void *w,
                                                                  size_t w_stride, int n_rows,
                                                                  const void *x, float *y,
                                                                  int block_integer) {
    const int64_t nb = n / QK;
    v128_t xs[MAX_N / 8];
    split_row(x, nb, xs);
    const v128_t m4 = wasm_i16x8_splat(15);
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        float accs = 0.0f, mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xs + i * (QK / 8);
            uint8_t sc[8];
            mins += q4k_block_start(a, b, sc);
            v128_t isum = wasm_i32x4_splat(0);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + 16 + 32 * j);
                const v128_t q1 = wasm_v128_load(a + 16 + 32 * j + 16);
                const v128_t *xl = xb + 8 * j, *xh = xb + 8 * j + 4;
#define D(v, xv) wasm_i32x4_dot_i16x8((v), (xv))
                const v128_t lo = wasm_i32x4_add(
                    wasm_i32x4_add(D(wasm_v128_and(q0, m4), xl[0]),
                                   D(wasm_v128_and(wasm_u16x8_shr(q0, 8), m4), xl[1])),
                    wasm_i32x4_add(D(wasm_v128_and(q1, m4), xl[2]),
                                   D(wasm_v128_and(wasm_u16x8_shr(q1, 8), m4), xl[3])));
                const v128_t hi = wasm_i32x4_add(
                    wasm_i32x4_add(D(wasm_v128_and(wasm_u16x8_shr(q0, 4), m4), xh[0]),
                                   D(wasm_u16x8_shr(q0, 12), xh[1])),
                    wasm_i32x4_add(D(wasm_v128_and(wasm_u16x8_shr(q1, 4), m4), xh[2]),
                                   D(wasm_u16x8_shr(q1, 12), xh[3])));
#undef D
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_splat(sc[2 * j])));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(hi, wasm_i32x4_splat(sc[2 * j + 1])));
            }
            const float d = sm_kern_load_f32(b) * sm_kern_load_fp16(a);
            if (block_integer) accs += d * (float)sm_kern_hsum_i32x4(isum);
            else acc = sm_kern_acc_scaled(acc, isum, d);
        }
        y[r] = (block_integer ? accs : sm_kern_hsum_f32x4(acc)) - mins;
    }
}

static void gemv_q4_K_v3(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    gemv_q4_K_split(n, w, s, nr, x, y, 1);
}

static void gemv_q4_K_v4(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    gemv_q4_K_split(n, w, s, nr, x, y, 0);
}

/* ---- Q6_K ------------------------------------------------------------------------------------ */

static void gemv_q6_K_v0(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         float *y) {
    const int64_t nb = n / QK;
    v128_t xw[MAX_N / 8];
    widen_row(x, nb, xw);
    const v128_t m4 = wasm_i8x16_splat(15), m2 = wasm_i8x16_splat(3), off = wasm_i8x16_splat(32);
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q6K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xw + i * (QK / 8);
            const int8_t *sc = (const int8_t *)(a + 192);
            v128_t isum = wasm_i32x4_splat(0);
            for (int hk = 0; hk < 4; hk++) {
                const int h = hk / 2, k = hk % 2, g = 8 * h + k;
                const v128_t *xq = xb + (128 * h + 16 * k) / 8;
                const v128_t l0 = wasm_v128_load(a + 64 * h + 16 * k);
                const v128_t l1 = wasm_v128_load(a + 64 * h + 16 * k + 32);
                const v128_t hb = wasm_v128_load(a + 128 + 32 * h + 16 * k);
                const v128_t q0 = wasm_v128_or(wasm_v128_and(l0, m4),
                                               wasm_i8x16_shl(wasm_v128_and(hb, m2), 4));
                const v128_t q1 = wasm_v128_or(
                    wasm_v128_and(l1, m4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hb, 2), m2), 4));
                const v128_t q2 = wasm_v128_or(
                    wasm_u8x16_shr(l0, 4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hb, 4), m2), 4));
                const v128_t q3 =
                    wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_i8x16_shl(wasm_u8x16_shr(hb, 6), 4));
                isum = mac16(isum, wasm_i8x16_sub(q0, off), xq, sc[g]);
                isum = mac16(isum, wasm_i8x16_sub(q1, off), xq + 4, sc[g + 2]);
                isum = mac16(isum, wasm_i8x16_sub(q2, off), xq + 8, sc[g + 4]);
                isum = mac16(isum, wasm_i8x16_sub(q3, off), xq + 12, sc[g + 6]);
            }
            acc = sm_kern_acc_scaled(acc, isum,
                                     sm_kern_load_f32(b) * sm_kern_load_scale(a + 208));
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
}

/* ---- relaxed build (-DSM_RELAXED_SIMD, rewritten by tools/wasm/relaxed-simd.mjs) ------------ */

#ifdef SM_RELAXED_SIMD
#include "kern/relaxed_simd.h"
#define RDOT sm_relaxed_dot_i8x16_i7x16_add_s

/* Q4_K v5 / Q6_K v2: the engine's relaxed gemvs. */
static void gemv_q4_K_v5(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    sm_kern_gemv_q4_K_relaxed(n, w, s, nr, x, y);
}
static void gemv_q6_K_v2(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    sm_kern_gemv_q6_K_relaxed(n, w, s, nr, x, y);
}
static void gemv_q5_K_v1(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) {
    sm_kern_gemv_q5_K_relaxed(n, w, s, nr, x, y);
}

/* The activation row for v6: qs in relaxed order, each block's 8 group sums (bsum pairs) as i16x8,
 * and its scale. */
typedef struct rx_row {
    v128_t q[MAX_N / 16];
    v128_t gsum[MAX_N / QK];
    float dx[MAX_N / QK];
} rx_row;

static void rx_prepare(const uint8_t *x, int64_t nb, rx_row *xr) {
    for (int64_t i = 0; i < nb; i++, x += Q8K_SIZE) {
        for (int g = 0; g < QK / 16; g++)
            xr->q[16 * i + g] = sm_relaxed_lane_order(wasm_v128_load(x + 4 + 16 * g));
        const v128_t b0 = wasm_v128_load(x + 4 + 256), b1 = wasm_v128_load(x + 4 + 256 + 16);
        xr->gsum[i] = wasm_i16x8_narrow_i32x4(wasm_i32x4_extadd_pairwise_i16x8(b0),
                                              wasm_i32x4_extadd_pairwise_i16x8(b1));
        xr->dx[i] = sm_kern_load_f32(x);
    }
}

/* v6: the relaxed gemv before this change (weights and activations in relaxed lane order) with the
 * block start in vectors: the mins term by one dot_i16x8 against the row's group
 * sums, the scales splat from i32 lanes (one shuffle each) instead of a byte array. */
static void gemv_q4_K_v6(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         float *y) {
    const int64_t nb = n / QK;
    static rx_row xr;
    rx_prepare(x, nb, &xr);
    const v128_t m4 = wasm_i8x16_splat(15), zero = wasm_i32x4_splat(0);
    const float *half = sm_kern_fp16_table();
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        float mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            uint32_t u[3];
            memcpy(u, a + 4, sizeof u);
            const v128_t sm = wasm_i32x4_make(
                (int32_t)(u[0] & 0x3f3f3f3fu),
                (int32_t)((u[2] & 0x0f0f0f0fu) | ((u[0] >> 6) & 0x03030303u) << 4),
                (int32_t)(u[1] & 0x3f3f3f3fu),
                (int32_t)(((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] >> 6) & 0x03030303u) << 4));
            const int32_t msum = sm_kern_hsum_i32x4(
                wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(sm), xr.gsum[i]));
            mins += xr.dx[i] * half[sm_kern_load_u16(a + 2)] * (float)msum;
            const v128_t sc16 = wasm_u16x8_extend_low_u8x16(sm);
            const v128_t sca = wasm_u32x4_extend_low_u16x8(sc16), scb = wasm_u32x4_extend_high_u16x8(sc16);
            const v128_t *xb = xr.q + i * (QK / 16);
            v128_t isum = zero;
#define GROUP(j, scv, k)                                                                           \
    do {                                                                                           \
        const v128_t q0 = sm_relaxed_lane_order(wasm_v128_load(a + 16 + 32 * (j)));              \
        const v128_t q1 = sm_relaxed_lane_order(wasm_v128_load(a + 16 + 32 * (j) + 16));         \
        const v128_t *xq = xb + 4 * (j);                                                           \
        const v128_t lo = RDOT(xq[1], wasm_v128_and(q1, m4), RDOT(xq[0], wasm_v128_and(q0, m4), zero)); \
        const v128_t hi =                                                                          \
            RDOT(xq[3], sm_kern_u8x16_shr(q1, 4), RDOT(xq[2], sm_kern_u8x16_shr(q0, 4), zero));    \
        isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_shuffle(scv, scv, k, k, k, k))); \
        isum = wasm_i32x4_add(isum, wasm_i32x4_mul(                                                \
                                        hi, wasm_i32x4_shuffle(scv, scv, k + 1, k + 1, k + 1, k + 1))); \
    } while (0)
            GROUP(0, sca, 0);
            GROUP(1, sca, 2);
            GROUP(2, scb, 0);
            GROUP(3, scb, 2);
#undef GROUP
            acc = sm_kern_acc_scaled(acc, isum, xr.dx[i] * half[sm_kern_load_u16(a)]);
        }
        y[r] = sm_kern_hsum_f32x4(acc) - mins;
    }
}

/* v7: the block loop without its start (no mins, unit scales): not a kernel, the upper bound of
 * what a cheaper block start can give (its error is large). */
static void gemv_q4_K_v7(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         float *y) {
    const int64_t nb = n / QK;
    static rx_row xr;
    rx_prepare(x, nb, &xr);
    const v128_t m4 = wasm_i8x16_splat(15), zero = wasm_i32x4_splat(0);
    const float *half = sm_kern_fp16_table();
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const v128_t *xb = xr.q + i * (QK / 16);
            v128_t isum = zero;
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = sm_relaxed_lane_order(wasm_v128_load(a + 16 + 32 * j));
                const v128_t q1 = sm_relaxed_lane_order(wasm_v128_load(a + 16 + 32 * j + 16));
                const v128_t *xq = xb + 4 * j;
                isum = RDOT(xq[1], wasm_v128_and(q1, m4), RDOT(xq[0], wasm_v128_and(q0, m4), isum));
                isum = RDOT(xq[3], sm_kern_u8x16_shr(q1, 4), RDOT(xq[2], sm_kern_u8x16_shr(q0, 4), isum));
            }
            acc = sm_kern_acc_scaled(acc, isum, xr.dx[i] * half[sm_kern_load_u16(a)]);
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
}
#undef RDOT
#else
#define gemv_q4_K_v5 sm_kern_gemv_q4_K_simd128
#define gemv_q4_K_v6 sm_kern_gemv_q4_K_simd128
#define gemv_q4_K_v7 sm_kern_gemv_q4_K_simd128
#define gemv_q6_K_v2 sm_kern_gemv_q6_K_simd128
#define gemv_q5_K_v1 sm_kern_gemv_q5_K_simd128
#endif

/* ---- driver ---------------------------------------------------------------------------------- */

static float max_err(const float *y, const float *yr, int rows) {
    float scale = 0.0f, err = 0.0f;
    for (int r = 0; r < rows; r++) scale = fmaxf(scale, fabsf(yr[r]));
    for (int r = 0; r < rows; r++) err = fmaxf(err, fabsf(y[r] - yr[r]) / (scale + 1e-30f));
    return err;
}

static void run(int pass, int32_t type, int64_t n, int rows, float w_scale, const gemv_fn *versions,
                int n_versions) {
    const size_t w_row = sm_kern_row_size(type, n), x_row = sm_kern_row_size(SM_TYPE_Q8_K, n);
    uint8_t *w = malloc(w_row * rows), *x = malloc(x_row);
    float *row = malloc(n * sizeof *row);
    for (int r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) row[i] = lab_rnd() * w_scale;
        sm_kern_quantizer_ref(type)(row, w + (size_t)r * w_row, n);
    }
    for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
    sm_kern_quantize_row_q8_K_ref(row, x, n);
    float *yr = malloc(rows * sizeof *yr), *y = malloc(rows * sizeof *y);
    for (int r = 0; r < rows; r++)
        yr[r] = sm_kern_traits_ref(type)->vec_dot(n, w + (size_t)r * w_row, x);
    printf("{\"pass\":%d,\"type\":\"%s\",\"weights\":\"%s\",\"n\":%d,\"rows\":%d,\"mb\":%.1f", pass,
           sm_kern_traits_ref(type)->name, w_scale < 1.0f ? "small" : "unit", (int)n, rows,
           w_row * rows / 1048576.0);
    const int reps = rows > 10000 ? 3 : 20;
    for (int v = 0; v < n_versions; v++) {
        double best = 1e30;
        for (int k = 0; k < 3; k++) {
            const double t0 = lab_now_s();
            for (int rep = 0; rep < reps; rep++) versions[v](n, w, w_row, rows, x, y);
            best = fmin(best, (lab_now_s() - t0) / reps);
        }
        printf(",\"v%d_gmac_s\":%.2f,\"v%d_err\":%.1e", v, (double)n * rows / best * 1e-9, v,
               max_err(y, yr, rows));
    }
    printf("}\n");
    free(w), free(x), free(row), free(yr), free(y);
}

int main(int argc, char **argv) {
    const int passes = argc > 1 ? atoi(argv[1]) : 2;
    const gemv_fn q4[] = {gemv_q4_K_v0, sm_kern_gemv_q4_K_simd128, gemv_q4_K_v2, gemv_q4_K_v3,
                          gemv_q4_K_v4, gemv_q4_K_v5, gemv_q4_K_v6, gemv_q4_K_v7};
    const gemv_fn q6[] = {gemv_q6_K_v0, sm_kern_gemv_q6_K_simd128, gemv_q6_K_v2};
    const gemv_fn q5[] = {sm_kern_gemv_q5_K_simd128, gemv_q5_K_v1};
    const int n4 = sizeof q4 / sizeof q4[0], n6 = sizeof q6 / sizeof q6[0], n5 = 2;
    for (int pass = 0; pass < passes; pass++) {
        run(pass, SM_TYPE_Q4_K, 2048, 5632, 1.0f, q4, n4);
        run(pass, SM_TYPE_Q4_K, 2048, 5632, 1.0f / 64, q4, n4);
        run(pass, SM_TYPE_Q4_K, 2048, 65536, 1.0f, q4, n4);
        run(pass, SM_TYPE_Q5_K, 2048, 5632, 1.0f, q5, n5);
        run(pass, SM_TYPE_Q6_K, 2048, 5632, 1.0f, q6, n6);
        run(pass, SM_TYPE_Q6_K, 5632, 2048, 1.0f, q6, n6);
        run(pass, SM_TYPE_Q6_K, 5632, 2048, 1.0f / 64, q6, n6);
        run(pass, SM_TYPE_Q6_K, 2048, 65536, 1.0f / 64, q6, n6);
    }
    return 0;
}
