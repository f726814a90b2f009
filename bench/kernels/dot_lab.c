/*
 * dot_lab.c — kernel lab for decoding: one activation row (Q8_0) times a Q4_0 / Q8_0 weight
 * matrix, as numbered versions of the block loop beside the scalar reference, each validated
 * against it and timed on a matrix that fits the cache (instruction-bound) and one that does not
 * (what decoding sees: every weight streamed from memory once per token).
 *
 *   ref  sm_kern_vec_dot_*_ref
 *   v0   one block per step: exact i32x4 sums, two scalar fp16 scale conversions and an
 *        f32 convert + multiply + add per block (the kernel before this lab)
 *   v1   four blocks per step: each block's i32x4 reduced to one lane, the four block sums
 *        scaled together by d_w * d_x converted from fp16 four at a time (one convert, two
 *        multiplies and one add per four blocks)
 *   v2   v1 with i16x8.extmul products summed in i16 (exact: |q4 * x| <= 8 * 127, four per lane)
 *        and one i32x4.extadd_pairwise per block instead of widening both operands for dot_i16x8
 *   v3   (Q4_0) a whole matrix-vector product per call: the activation row widened to i16 and
 *        its scales converted once, then v0's per-block float operations on every row (equal to
 *        v0 bit for bit)
 *   v4   (Q4_0) v3 with extmul products on i8 activations
 *   v5   (Q4_0) the engine's gemv as it is (sm_kern_gemv_q4_0_simd128; since the fourth session
 *        it reads v8's table, so v5 and v8 now differ only in where the table lives)
 *   v6   (Q4_0) v5 with the nibble offset folded into the activations (zero-extended weights, no
 *        subtraction) and the weight scales converted four blocks at a time in SIMD
 *   v7   (Q4_0) v6 over two rows per pass, sharing the activation loads
 *   v8   (Q4_0) v5 with each weight block's scale read from a 65536-entry half -> float table
 *   v9   (Q4_0) the relaxed build's gemv (i8 dot product) in a relaxed build of this lab (built
 *        with -DSM_RELAXED_SIMD, then tools/wasm/relaxed-simd.mjs), else v5 again
 *   v10  (Q4_0) the reference's float order: each block's lanes summed to one integer, then
 *        acc += (float)isum * (d_w * d_x); four rows per pass of the block loop, reduced together
 *        (a transposing add) and scaled as one f32x4. Equal to that reference bit for bit.
 *   v11  (Q4_0) v10 with the four rows read one after another: each row's block integers and
 *        scales go to buffers, then one float pass reduces four rows at a time
 *   v12  (Q4_0) v11 with the relaxed i8 dot on unpermuted lanes (relaxed build), else v11 again
 *
 * Seventh session (2026-12-07, v10-v12: would one integer per block, which lets a gemm share its
 * float work among four tokens (gemm_lab v2), cost decoding anything?). node dot_lab.cjs 3, two
 * runs: in cache v8 14.0-18.4 GMAC/s, v10 14.5-21.2, v11 10.9-18.9; from memory v8 15.7-17.8,
 * v10 9.0-9.6, v11 16.6-18.3. Four rows read block by block are four interleaved streams, and
 * from memory that halves the speed; one row at a time does not. In Chromium (relaxed build of
 * this lab, browser-run.mjs dot_lab_rx.js 3, two runs, first passes left out) from memory v8
 * 13.3-14.4, v11 14.5-16.1, but the relaxed v12 18.7-20.0 against v9's 23.0-24.8 (in cache 20.3-22.1
 * against 24.6-25.5). The Q4_0 kernels therefore keep f32 lanes: in the relaxed build, which
 * decodes Q4_0 in browsers, one integer per block costs a sixth of the gemv. (Q8_0 was tried in
 * the engine the same way, v11's shape: from memory under Node 12.8-16.0 GMAC/s against 16.3-20.6,
 * and TinyLlama Q8_0 decoding fell from 15.3-15.9 to 9.4-11.7 tok/s on one thread; not kept.)
 *
 * Fourth session (2026-12-06, evening; bash bench/kernels/run.sh 64 dot, three passes, with the
 * engine's gemv as it was before): v5 15.4-15.9 GMAC/s in cache and 15.3-15.7 from memory, v8 16.7-17.7 and 16.7-17.5, bit-identical.
 * V8's code for v5's block loop (node --print-wasm-code --no-liftoff on a --profiling-funcs
 * build) is about 58 instructions, 14 of them and two branches for the scalar fp16 conversion of
 * the scale; v8 is the engine's gemv since (sm_kern_fp16_table). v6's SIMD conversion of four
 * scales at a time had not paid off: gathering the four scales from 18-byte strides costs as much.
 * Chromium, relaxed build of this lab (emcc ... -DSM_RELAXED_SIMD --profiling-funcs
 * -sENVIRONMENT=web -o dot_lab_rx.js, node tools/wasm/relaxed-simd.mjs on its .wasm, then node
 * bench/kernels/browser-run.mjs dot_lab_rx.js 3), after the engine took the table: v5 14.0-14.7,
 * v8 14.2-14.6, v9 (relaxed gemv) 23.6-25.3 GMAC/s, all bit-identical to v0.
 *
 * Third session (2026-12-06, node dot_lab.cjs 3): v5 8.4-13.7 GMAC/s, v6 8.7-13.3, v7 8.5-13.4,
 * all bit-identical to v0: about 12 fewer instructions per block bought nothing measurable, so
 * the decode loop stays v5. (Zen 5 already retires that loop at a high rate; fewer operations per
 * multiply-add, not fewer scalar ones, would be needed: the relaxed build's i8 dot.)
 *
 * Measured 2026-12-06, first session (node build-lab/dot_lab.cjs 3, three passes, every pass the
 * same order): Q4_0 v0 11.1-11.4 GMAC/s, v1 6.8-9.2, v2 8.9-9.7, v3 7.7-8.8, v4 6.0-8.3; Q8_0 v0
 * 11.3-12.5, v1 8.7-9.5, v2 9.8-10.7, so v0 stayed the decode kernel then.
 * Second session, a fresh build of this file, two passes of each size, four runs: under Node 20
 * Q4_0 v0 10.5-11.8, v3 12.6-14.7 (v1 8.2-9.2, v2 8.3-10.0, v4 11.4-12.7; one run in a slow phase
 * of the machine left out: v0 6.0-7.0, v3 7.7); in Chromium 156 (the same lab built with
 * -sENVIRONMENT=web, run on a page) v0 5.0-8.1, v3 6.2-11.3 (the low ends in the first, warm-up
 * pass; 7.5-8.1 and 10.2-11.3 after it). The first session's
 * v3 figures were not reproduced (a slow phase of the machine during that pass, or the stale
 * build it ran); v3 became the decode kernels' shape (gemv in quant_simd128_legacy.c and
 * quant_simd128_k.c), which smallmind bench confirmed end to end: TinyLlama Q4_0 decode 8.9 ->
 * 11.9 tok/s (medians of six interleaved rounds, 1 thread).
 *
 * Build and run: bash bench/kernels/run.sh (WASM SIMD128 under Node). Prints one JSON line per
 * type and size with GMAC/s per version and max normalized error against ref.
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
#ifdef SM_RELAXED_SIMD
#include "kern/relaxed_simd.h"
#endif


/* ---- v1 / v2 building blocks ----------------------------------------------------------------- */

/* Four fp16 values (zero-extended into i32 lanes) as f32, exactly, including subnormals,
 * infinities and NaNs. */
static inline v128_t fp16x4_to_f32(v128_t h) {
    const v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    const v128_t em = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
    const v128_t finite = wasm_f32x4_mul(em, wasm_f32x4_splat(0x1p112f));
    const v128_t special = wasm_i32x4_gt(em, wasm_i32x4_splat(0x7bffffff)); /* exponent 31 */
    const v128_t infnan = wasm_v128_or(em, wasm_i32x4_splat(0x7f800000));
    return wasm_v128_or(wasm_v128_bitselect(infnan, finite, special), sign);
}

/* The fp16 scales at p, p + stride, p + 2 stride, p + 3 stride as f32x4. */
static inline v128_t load_scales4(const uint8_t *p, size_t stride) {
    v128_t v = wasm_i32x4_splat(0);
    v = wasm_v128_load16_lane(p, v, 0);
    v = wasm_v128_load16_lane(p + stride, v, 1);
    v = wasm_v128_load16_lane(p + 2 * stride, v, 2);
    v = wasm_v128_load16_lane(p + 3 * stride, v, 3);
    return fp16x4_to_f32(wasm_u32x4_extend_low_u16x8(v));
}

/* [sum(a), sum(b), sum(c), sum(d)] of four i32x4. */
static inline v128_t reduce4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5),
                                     wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 1, 4, 5),
                                     wasm_i32x4_shuffle(c, d, 2, 3, 6, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6),
                          wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
}

enum { Q4B = 18, Q8B = 34 };

static inline v128_t q4_isum_dot(const uint8_t *a, const uint8_t *b) {
    const v128_t q = wasm_v128_load(a + 2);
    const v128_t eight = wasm_i8x16_splat(8);
    const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, wasm_i8x16_splat(15)), eight);
    const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
    return wasm_i32x4_add(sm_kern_dot_i8x16(lo, wasm_v128_load(b + 2)),
                          sm_kern_dot_i8x16(hi, wasm_v128_load(b + 18)));
}

static inline v128_t q4_isum_extmul(const uint8_t *a, const uint8_t *b) {
    const v128_t q = wasm_v128_load(a + 2);
    const v128_t eight = wasm_i8x16_splat(8);
    const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, wasm_i8x16_splat(15)), eight);
    const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
    const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
    const v128_t p = wasm_i16x8_add(
        wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(lo, x0), wasm_i16x8_extmul_high_i8x16(lo, x0)),
        wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(hi, x1), wasm_i16x8_extmul_high_i8x16(hi, x1)));
    return wasm_i32x4_extadd_pairwise_i16x8(p);
}

static inline v128_t q8_isum_dot(const uint8_t *a, const uint8_t *b) {
    return wasm_i32x4_add(sm_kern_dot_i8x16(wasm_v128_load(a + 2), wasm_v128_load(b + 2)),
                          sm_kern_dot_i8x16(wasm_v128_load(a + 18), wasm_v128_load(b + 18)));
}

/* |w * x| <= 128 * 127, two per i16 lane fit */
static inline v128_t q8_isum_extmul(const uint8_t *a, const uint8_t *b) {
    const v128_t w0 = wasm_v128_load(a + 2), w1 = wasm_v128_load(a + 18);
    const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
    const v128_t p0 = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(w0, x0), wasm_i16x8_extmul_high_i8x16(w0, x0));
    const v128_t p1 = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(w1, x1), wasm_i16x8_extmul_high_i8x16(w1, x1));
    return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(p0), wasm_i32x4_extadd_pairwise_i16x8(p1));
}

#define DOT4(name, WB, isum)                                                                       \
    static float name(int64_t n, const void *w, const void *x) {                                   \
        const uint8_t *a = w, *b = x;                                                              \
        const int64_t nb = n / 32;                                                                 \
        v128_t acc = wasm_f32x4_splat(0.0f);                                                       \
        int64_t i = 0;                                                                             \
        for (; i + 4 <= nb; i += 4, a += 4 * (WB), b += 4 * Q8B) {                                 \
            const v128_t s = reduce4_i32(isum(a, b), isum(a + (WB), b + Q8B),                      \
                                         isum(a + 2 * (WB), b + 2 * Q8B),                          \
                                         isum(a + 3 * (WB), b + 3 * Q8B));                         \
            const v128_t d = wasm_f32x4_mul(load_scales4(a, (WB)), load_scales4(b, Q8B));          \
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), d));             \
        }                                                                                          \
        float tail = 0.0f;                                                                         \
        for (; i < nb; i++, a += (WB), b += Q8B)                                                   \
            tail += (float)sm_kern_hsum_i32x4(isum(a, b)) * sm_kern_load_scale(a) *                \
                    sm_kern_load_scale(b);                                                         \
        return sm_kern_hsum_f32x4(acc) + tail;                                                     \
    }

DOT4(q4_v1, Q4B, q4_isum_dot)
DOT4(q4_v2, Q4B, q4_isum_extmul)
DOT4(q8_v1, Q8B, q8_isum_dot)
DOT4(q8_v2, Q8B, q8_isum_extmul)

/* v3: a whole matrix-vector product per call. The activation row is widened to i16 and its
 * scales converted to f32 once, then every row runs v0's per-block float operations (so the
 * result equals v0 bit for bit) on four i16x8 loads instead of two loads and four widenings, and
 * one scalar scale conversion instead of two. */
typedef struct xw_block {
    v128_t q[4];
} xw_block;

/* x's nb Q8_0 blocks widened to i16 (xw) and their scales as f32 (dx). */
static void widen_x(const uint8_t *x, int64_t nb, xw_block *xw, float *dx) {
    for (int64_t j = 0; j < nb; j++) {
        const uint8_t *b = x + j * Q8B;
        const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
        xw[j].q[0] = wasm_i16x8_extend_low_i8x16(x0), xw[j].q[1] = wasm_i16x8_extend_high_i8x16(x0);
        xw[j].q[2] = wasm_i16x8_extend_low_i8x16(x1), xw[j].q[3] = wasm_i16x8_extend_high_i8x16(x1);
        dx[j] = sm_kern_load_scale(b);
    }
}

/* The exact i32x4 sums of a block's weights lo (elements 0-15), hi (16-31) times a widened xb. */
static inline v128_t isum_widened(v128_t lo, v128_t hi, const xw_block *xb) {
    return wasm_i32x4_add(
        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(lo), xb->q[0]),
                       wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(lo), xb->q[1])),
        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(hi), xb->q[2]),
                       wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(hi), xb->q[3])));
}

__attribute__((noinline)) static void gemv_q4_v3(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x,
                       float *y) {
    const int64_t nb = n / 32;
    xw_block *xw = malloc(nb * sizeof *xw);
    float *dx = malloc(nb * sizeof *dx);
    widen_x(x, nb, xw, dx);
    const v128_t eight = wasm_i8x16_splat(8), m4 = wasm_i8x16_splat(15);
    for (int r = 0; r < rows; r++) {
        const uint8_t *a = w + (size_t)r * w_row;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int64_t j = 0; j < nb; j++, a += Q4B) {
            const v128_t q = wasm_v128_load(a + 2);
            const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, m4), eight);
            const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
            acc = sm_kern_acc_scaled(acc, isum_widened(lo, hi, &xw[j]), sm_kern_load_scale(a) * dx[j]);
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
    free(xw), free(dx);
}

/* v4: v3 with extmul products (x kept as i8, weights as i8): exact, |q4 * x| <= 8 * 127 */
__attribute__((noinline)) static void gemv_q4_v4(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x,
                       float *y) {
    const int64_t nb = n / 32;
    float *dx = malloc(nb * sizeof *dx);
    for (int64_t j = 0; j < nb; j++) dx[j] = sm_kern_load_scale(x + j * Q8B);
    const v128_t eight = wasm_i8x16_splat(8), m4 = wasm_i8x16_splat(15);
    for (int r = 0; r < rows; r++) {
        const uint8_t *a = w + (size_t)r * w_row, *b = x;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int64_t j = 0; j < nb; j++, a += Q4B, b += Q8B) {
            const v128_t q = wasm_v128_load(a + 2);
            const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, m4), eight);
            const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
            const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
            const v128_t p = wasm_i16x8_add(
                wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(lo, x0), wasm_i16x8_extmul_high_i8x16(lo, x0)),
                wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(hi, x1), wasm_i16x8_extmul_high_i8x16(hi, x1)));
            acc = sm_kern_acc_scaled(acc, wasm_i32x4_extadd_pairwise_i16x8(p), sm_kern_load_scale(a) * dx[j]);
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
    free(dx);
}

/* ---- v5 / v6 / v7 -------------------------------------------------------------------------- */

/* v5 is the engine's gemv (sm_kern_gemv_q4_0_simd128). v6: v5 with the nibbles' offset of 8
 * folded into the activations (sum (q - 8) x = sum q x - 8 sum x, lane for lane, exact), so the
 * weights are zero-extended without a subtraction, and the weight scales converted four blocks at
 * a time in SIMD (fp16x4_to_f32 is exact, d_w * d_x the same multiply): bit-identical to v5.
 * v7: v6 over two rows per pass, sharing the activation loads. */
typedef struct xw6_block {
    v128_t q[4];
    v128_t neg8; /* -8 times the lanes' activation pair sums */
} xw6_block;

static xw6_block *widen_x6(const uint8_t *x, int64_t nb, float **dx_out) {
    xw6_block *xw = malloc(nb * sizeof *xw);
    float *dx = malloc((nb + 3) * sizeof *dx);
    const v128_t m8 = wasm_i16x8_splat(-8);
    for (int64_t j = 0; j < nb; j++) {
        const uint8_t *b = x + j * Q8B;
        const v128_t x0 = wasm_v128_load(b + 2), x1 = wasm_v128_load(b + 18);
        xw[j].q[0] = wasm_i16x8_extend_low_i8x16(x0), xw[j].q[1] = wasm_i16x8_extend_high_i8x16(x0);
        xw[j].q[2] = wasm_i16x8_extend_low_i8x16(x1), xw[j].q[3] = wasm_i16x8_extend_high_i8x16(x1);
        xw[j].neg8 = wasm_i32x4_add(
            wasm_i32x4_add(wasm_i32x4_dot_i16x8(xw[j].q[0], m8), wasm_i32x4_dot_i16x8(xw[j].q[1], m8)),
            wasm_i32x4_add(wasm_i32x4_dot_i16x8(xw[j].q[2], m8), wasm_i32x4_dot_i16x8(xw[j].q[3], m8)));
        dx[j] = sm_kern_load_scale(b);
    }
    *dx_out = dx;
    return xw;
}

/* The four fp16 scales of blocks j .. j+3 of a Q4_0 row at a, as f32 lanes. */
static inline v128_t scales4_q4(const uint8_t *a) {
    v128_t h = wasm_i32x4_splat(0);
    h = wasm_v128_load16_lane(a, h, 0);
    h = wasm_v128_load16_lane(a + Q4B, h, 2);
    h = wasm_v128_load16_lane(a + 2 * Q4B, h, 4);
    h = wasm_v128_load16_lane(a + 3 * Q4B, h, 6);
    return fp16x4_to_f32(h);
}

static inline v128_t isum6(v128_t q, const xw6_block *xb) {
    const v128_t m4 = wasm_i8x16_splat(15);
    const v128_t lo = wasm_v128_and(q, m4), hi = sm_kern_u8x16_shr(q, 4);
    return wasm_i32x4_add(
        wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(lo), xb->q[0]),
                                      wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(lo), xb->q[1])),
                       wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(hi), xb->q[2]),
                                      wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(hi), xb->q[3]))),
        xb->neg8);
}

#define SPLAT_LANE(v, k) wasm_i32x4_shuffle(v, v, k, k, k, k)

__attribute__((noinline)) static void gemv_q4_v6(int64_t n, const uint8_t *w, size_t w_row, int rows,
                                                 const uint8_t *x, float *y) {
    const int64_t nb = n / 32, nb4 = nb & ~3;
    float *dx;
    xw6_block *xw = widen_x6(x, nb, &dx);
    for (int r = 0; r < rows; r++) {
        const uint8_t *a = w + (size_t)r * w_row;
        v128_t acc = wasm_f32x4_splat(0.0f);
        int64_t j = 0;
        for (; j < nb4; j += 4, a += 4 * Q4B) {
            const v128_t d = wasm_f32x4_mul(scales4_q4(a), wasm_v128_load(dx + j));
            for (int k = 0; k < 4; k++) {
                const v128_t s = isum6(wasm_v128_load(a + k * Q4B + 2), &xw[j + k]);
                const v128_t dk = k == 0 ? SPLAT_LANE(d, 0) : k == 1 ? SPLAT_LANE(d, 1) : k == 2 ? SPLAT_LANE(d, 2) : SPLAT_LANE(d, 3);
                acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), dk));
            }
        }
        for (; j < nb; j++, a += Q4B)
            acc = sm_kern_acc_scaled(acc, isum6(wasm_v128_load(a + 2), &xw[j]), sm_kern_load_scale(a) * dx[j]);
        y[r] = sm_kern_hsum_f32x4(acc);
    }
    free(xw), free(dx);
}

__attribute__((noinline)) static void gemv_q4_v7(int64_t n, const uint8_t *w, size_t w_row, int rows,
                                                 const uint8_t *x, float *y) {
    const int64_t nb = n / 32, nb4 = nb & ~3;
    float *dx;
    xw6_block *xw = widen_x6(x, nb, &dx);
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
        const uint8_t *a = w + (size_t)r * w_row, *a2 = a + w_row;
        v128_t acc = wasm_f32x4_splat(0.0f), acc2 = acc;
        int64_t j = 0;
        for (; j < nb4; j += 4, a += 4 * Q4B, a2 += 4 * Q4B) {
            const v128_t dxj = wasm_v128_load(dx + j);
            const v128_t d = wasm_f32x4_mul(scales4_q4(a), dxj), d2 = wasm_f32x4_mul(scales4_q4(a2), dxj);
            for (int k = 0; k < 4; k++) {
                const v128_t s = isum6(wasm_v128_load(a + k * Q4B + 2), &xw[j + k]);
                const v128_t s2 = isum6(wasm_v128_load(a2 + k * Q4B + 2), &xw[j + k]);
                const v128_t dk = k == 0 ? SPLAT_LANE(d, 0) : k == 1 ? SPLAT_LANE(d, 1) : k == 2 ? SPLAT_LANE(d, 2) : SPLAT_LANE(d, 3);
                const v128_t dk2 = k == 0 ? SPLAT_LANE(d2, 0) : k == 1 ? SPLAT_LANE(d2, 1) : k == 2 ? SPLAT_LANE(d2, 2) : SPLAT_LANE(d2, 3);
                acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), dk));
                acc2 = wasm_f32x4_add(acc2, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s2), dk2));
            }
        }
        for (; j < nb; j++, a += Q4B, a2 += Q4B) {
            acc = sm_kern_acc_scaled(acc, isum6(wasm_v128_load(a + 2), &xw[j]), sm_kern_load_scale(a) * dx[j]);
            acc2 = sm_kern_acc_scaled(acc2, isum6(wasm_v128_load(a2 + 2), &xw[j]), sm_kern_load_scale(a2) * dx[j]);
        }
        y[r] = sm_kern_hsum_f32x4(acc), y[r + 1] = sm_kern_hsum_f32x4(acc2);
    }
    if (r < rows) gemv_q4_v6(n, w + (size_t)r * w_row, w_row, rows - r, x, y + r);
    free(xw), free(dx);
}

static void gemv_q4_v5(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x, float *y) {
    sm_kern_gemv_q4_0_simd128(n, w, w_row, rows, x, y);
}

/* v8: v5 with the weight scales read from a 65536-entry fp16 -> f32 table (256 KiB, filled once
 * with sm_kern_fp16_to_f32, so exact: bit-identical) instead of converted per block. */
static float f16_table[65536];

static void fill_f16_table(void) {
    for (uint32_t h = 0; h < 65536; h++) f16_table[h] = sm_kern_fp16_to_f32((uint16_t)h);
}

static void gemv_q4_v8(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x, float *y) {
    const int64_t nb = n / 32;
    xw_block xw[2048 / 32];
    float dx[2048 / 32];
    widen_x(x, nb, xw, dx);
    const v128_t eight = wasm_i8x16_splat(8), m4 = wasm_i8x16_splat(15);
    for (int r = 0; r < rows; r++) {
        const uint8_t *a = w + (size_t)r * w_row;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int64_t j = 0; j < nb; j++, a += Q4B) {
            const v128_t q = wasm_v128_load(a + 2);
            const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, m4), eight);
            const v128_t hi = wasm_i8x16_sub(sm_kern_u8x16_shr(q, 4), eight);
            acc = sm_kern_acc_scaled(acc, isum_widened(lo, hi, &xw[j]), f16_table[sm_kern_load_u16(a)] * dx[j]);
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
}

/* v9: relaxed build only (-DSM_RELAXED_SIMD, rewritten by tools/wasm/relaxed-simd.mjs): the
 * engine's relaxed Q4_0 gemv (i8 dot product); elsewhere the same as v5. */
static void gemv_q4_v9(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x, float *y) {
#ifdef SM_RELAXED_SIMD
    sm_kern_gemv_q4_0_relaxed(n, w, w_row, rows, x, y);
#else
    sm_kern_gemv_q4_0_simd128(n, w, w_row, rows, x, y);
#endif
}

/* ---- v10-v12: the reference's float order (one integer per block) ----------------------------
 * Each block's integer lanes summed to one integer, then acc += (float)isum * (d_w * d_x) per row:
 * the scalar reference's operations, so these equal sm_kern_vec_dot_q4_0_ref bit for bit (once
 * the reference multiplies d_w * d_x first) and would let a gemm share its float work among four
 * tokens (gemm_lab v2). */

/* [sum of a's lanes, of b's, of c's, of d's] */
static inline v128_t hsum4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* -8 sum(x) of every activation block */
static void neg8_sums(const uint8_t *x, int64_t nb, int32_t *neg8) {
    for (int64_t j = 0; j < nb; j++) {
        int32_t t = 0;
        for (int i = 0; i < 32; i++) t += (int8_t)x[j * Q8B + 2 + i];
        neg8[j] = -8 * t;
    }
}

/* Exact i32 lanes of sum q x, q the unsigned nibbles, x widened (xw_block of v3). */
static inline v128_t v10_nibble_dot(const uint8_t *a, const xw_block *xb) {
    const v128_t q = wasm_v128_load(a + 2);
    const v128_t lo = wasm_v128_and(q, wasm_i8x16_splat(15)), hi = sm_kern_u8x16_shr(q, 4);
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(lo), xb->q[0]),
                                         wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(lo), xb->q[1])),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(hi), xb->q[2]),
                                         wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(hi), xb->q[3])));
}

/* v10: four rows per pass of the block loop, their block integers reduced together (hsum4_i32) and
 * scaled as one f32x4 (rows % 4 == 0 here). The four rows are four interleaved read streams. */
static void gemv_q4_v10(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x, float *y) {
    const int64_t nb = n / 32;
    xw_block *xw = malloc(nb * sizeof *xw);
    float *dx = malloc(nb * sizeof *dx);
    int32_t *neg8 = malloc(nb * sizeof *neg8);
    widen_x(x, nb, xw, dx);
    neg8_sums(x, nb, neg8);
    const float *half = sm_kern_fp16_table();
    for (int r = 0; r < rows; r += 4) {
        const uint8_t *a = w + (size_t)r * w_row;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int64_t j = 0; j < nb; j++, a += Q4B) {
            const v128_t isum = wasm_i32x4_add(
                hsum4_i32(v10_nibble_dot(a, &xw[j]), v10_nibble_dot(a + w_row, &xw[j]),
                          v10_nibble_dot(a + 2 * w_row, &xw[j]), v10_nibble_dot(a + 3 * w_row, &xw[j])),
                wasm_i32x4_splat(neg8[j]));
            const v128_t dw = wasm_f32x4_make(half[sm_kern_load_u16(a)], half[sm_kern_load_u16(a + w_row)],
                                              half[sm_kern_load_u16(a + 2 * w_row)],
                                              half[sm_kern_load_u16(a + 3 * w_row)]);
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum),
                                                     wasm_f32x4_mul(dw, wasm_f32x4_splat(dx[j]))));
        }
        wasm_v128_store(y + r, acc);
    }
    free(xw), free(dx), free(neg8);
}

/* v11's float pass: four rows' totals from their block integers isum, offsets neg8, scales d. */
static void float_pass4(int64_t nb, const v128_t (*isum)[4], const float (*d)[4], const int32_t *neg8,
                        float *y4) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int64_t j = 0; j < nb; j++) {
        const v128_t s = wasm_i32x4_add(hsum4_i32(isum[j][0], isum[j][1], isum[j][2], isum[j][3]),
                                        wasm_i32x4_splat(neg8[j]));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_v128_load(d[j])));
    }
    wasm_v128_store(y4, acc);
}

/* v11: the four rows read one after another (one stream): each row's block integers (i32x4, not yet
 * reduced) and scales d_w * d_x go to buffers, then one float pass reduces and scales four rows
 * at a time as v10 does. */
static void gemv_q4_v11(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x, float *y) {
    const int64_t nb = n / 32;
    xw_block *xw = malloc(nb * sizeof *xw);
    float *dx = malloc(nb * sizeof *dx);
    int32_t *neg8 = malloc(nb * sizeof *neg8);
    v128_t(*isum)[4] = malloc(nb * sizeof *isum);
    float(*d)[4] = aligned_alloc(16, nb * sizeof *d);
    widen_x(x, nb, xw, dx);
    neg8_sums(x, nb, neg8);
    const float *half = sm_kern_fp16_table();
    for (int r = 0; r < rows; r += 4) {
        for (int k = 0; k < 4; k++) {
            const uint8_t *a = w + (size_t)(r + k) * w_row;
            for (int64_t j = 0; j < nb; j++, a += Q4B) {
                isum[j][k] = v10_nibble_dot(a, &xw[j]);
                d[j][k] = half[sm_kern_load_u16(a)] * dx[j];
            }
        }
        float_pass4(nb, isum, d, neg8, y + r);
    }
    free(xw), free(dx), free(neg8), free(isum), free(d);
}

/* v12: relaxed build only: v11 with the relaxed i8 dot on unpermuted lanes (the block's integer
 * does not depend on the lane order); elsewhere v11 again. */
static void gemv_q4_v12(int64_t n, const uint8_t *w, size_t w_row, int rows, const uint8_t *x, float *y) {
#ifdef SM_RELAXED_SIMD
    const int64_t nb = n / 32;
    v128_t *xl = malloc(nb * sizeof *xl), *xh = malloc(nb * sizeof *xh);
    float *dx = malloc(nb * sizeof *dx);
    int32_t *neg8 = malloc(nb * sizeof *neg8);
    v128_t(*isum)[4] = malloc(nb * sizeof *isum);
    float(*d)[4] = aligned_alloc(16, nb * sizeof *d);
    for (int64_t j = 0; j < nb; j++) {
        xl[j] = wasm_v128_load(x + j * Q8B + 2), xh[j] = wasm_v128_load(x + j * Q8B + 18);
        dx[j] = sm_kern_load_scale(x + j * Q8B);
    }
    neg8_sums(x, nb, neg8);
    const float *half = sm_kern_fp16_table();
    const v128_t m4 = wasm_i8x16_splat(15), zero = wasm_i32x4_splat(0);
    for (int r = 0; r < rows; r += 4) {
        for (int k = 0; k < 4; k++) {
            const uint8_t *a = w + (size_t)(r + k) * w_row;
            for (int64_t j = 0; j < nb; j++, a += Q4B) {
                const v128_t q = wasm_v128_load(a + 2);
                isum[j][k] = sm_relaxed_dot_i8x16_i7x16_add_s(
                    xl[j], wasm_v128_and(q, m4), sm_relaxed_dot_i8x16_i7x16_add_s(xh[j], sm_kern_u8x16_shr(q, 4), zero));
                d[j][k] = half[sm_kern_load_u16(a)] * dx[j];
            }
        }
        float_pass4(nb, isum, d, neg8, y + r);
    }
    free(xl), free(xh), free(dx), free(neg8), free(isum), free(d);
#else
    gemv_q4_v11(n, w, w_row, rows, x, y);
#endif
}

/* ---- harness --------------------------------------------------------------------------------- */

static double max_err(const float *a, const float *ref, size_t n) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - ref[i])), m = fmax(m, fabs(ref[i]));
    return m > 0 ? e / m : e;
}

/* The reference's operations with d_w * d_x multiplied first: what v10-v12 must equal. */
static float vec_dot_q4_exact(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    float sum = 0.0f;
    for (int64_t j = 0; j < n / 32; j++, a += Q4B, b += Q8B) {
        int32_t isum = 0;
        for (int i = 0; i < 16; i++)
            isum += ((a[2 + i] & 15) - 8) * (int8_t)b[2 + i] + ((a[2 + i] >> 4) - 8) * (int8_t)b[18 + i];
        sum += (float)isum * (sm_kern_load_scale(a) * sm_kern_load_scale(b));
    }
    return sum;
}

static void matvec(sm_vec_dot_fn dot, int64_t n, int rows, const uint8_t *w, size_t w_row,
                   const uint8_t *x, float *y) {
    for (int r = 0; r < rows; r++) y[r] = dot(n, w + (size_t)r * w_row, x);
}

int main(int argc, char **argv) {
    const int passes = argc > 1 ? atoi(argv[1]) : 2; /* the first pass also warms V8's tiers up */
    fill_f16_table();
    const int32_t types[] = {SM_TYPE_Q4_0, SM_TYPE_Q8_0};
    const sm_vec_dot_fn versions[2][3] = {{sm_kern_vec_dot_q4_0_simd128, q4_v1, q4_v2},
                                          {sm_kern_vec_dot_q8_0_simd128, q8_v1, q8_v2}};
    const int64_t n = 2048;
    const int row_counts[] = {256, 32768}; /* ~0.3-0.6 MB (cache) and ~38-70 MB (memory) */
    for (int pass = 0; pass < passes; pass++)
    for (size_t ti = 0; ti < 2; ti++)
        for (size_t si = 0; si < 2; si++) {
            const int32_t type = types[ti];
            const int rows = row_counts[si];
            const sm_type_traits *rt = sm_kern_traits_ref(type);
            const size_t w_row = sm_kern_row_size(type, n), x_row = sm_kern_row_size(SM_TYPE_Q8_0, n);
            uint8_t *w = malloc(w_row * rows), *x = malloc(x_row);
            float *row = malloc(n * sizeof *row);
            for (int r = 0; r < rows; r++) {
                for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
                sm_kern_quantizer_ref(type)(row, w + (size_t)r * w_row, n);
            }
            for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
            sm_kern_quantize_row_q8_0_ref(row, x, n);
            float *yr = malloc(rows * sizeof *yr), *y = malloc(rows * sizeof *y);
            matvec(rt->vec_dot, n, rows, w, w_row, x, yr);
            printf("{\"pass\":%d,\"type\":\"%s\",\"rows\":%d,\"mb\":%.1f", pass, rt->name, rows, w_row * rows / 1048576.0);
            const int reps = rows > 1000 ? 5 : 200;
            for (int v = 0; v < 3; v++) {
                double best = 1e30;
                for (int k = 0; k < 3; k++) {
                    const double t0 = lab_now_s();
                    for (int rep = 0; rep < reps; rep++) matvec(versions[ti][v], n, rows, w, w_row, x, y);
                    best = fmin(best, (lab_now_s() - t0) / reps);
                }
                printf(",\"v%d_gmac_s\":%.2f,\"v%d_err\":%.1e", v, (double)n * rows / best * 1e-9, v,
                       max_err(y, yr, rows));
            }
            if (type == SM_TYPE_Q4_0) {
                float *y0 = malloc(rows * sizeof *y0);
                matvec(versions[ti][0], n, rows, w, w_row, x, y0);
                for (int v = 3; v < 10; v++) {
                    typedef void (*gemv_t)(int64_t, const uint8_t *, size_t, int, const uint8_t *, float *);
                    const gemv_t g[] = {gemv_q4_v3, gemv_q4_v4, gemv_q4_v5, gemv_q4_v6, gemv_q4_v7, gemv_q4_v8, gemv_q4_v9};
                    double best = 1e30;
                    for (int k = 0; k < 3; k++) {
                        const double t0 = lab_now_s();
                        for (int rep = 0; rep < reps; rep++)
                            g[v - 3](n, w, w_row, rows, x, y);
                        best = fmin(best, (lab_now_s() - t0) / reps);
                    }
                    printf(",\"v%d_gmac_s\":%.2f,\"v%d_eq_v0\":%d", v, (double)n * rows / best * 1e-9, v,
                           !memcmp(y, y0, rows * sizeof *y));
                }
                matvec(vec_dot_q4_exact, n, rows, w, w_row, x, y0);
                for (int v = 10; v < 13; v++) {
                    typedef void (*gemv_t)(int64_t, const uint8_t *, size_t, int, const uint8_t *, float *);
                    const gemv_t g[] = {gemv_q4_v10, gemv_q4_v11, gemv_q4_v12};
                    double best = 1e30;
                    for (int k = 0; k < 3; k++) {
                        const double t0 = lab_now_s();
                        for (int rep = 0; rep < reps; rep++) g[v - 10](n, w, w_row, rows, x, y);
                        best = fmin(best, (lab_now_s() - t0) / reps);
                    }
                    printf(",\"v%d_gmac_s\":%.2f,\"v%d_eq_exact_ref\":%d", v, (double)n * rows / best * 1e-9, v,
                           !memcmp(y, y0, rows * sizeof *y));
                }
                free(y0);
            }
            printf("}\n");
            free(w), free(x), free(row), free(yr), free(y);
        }
    return 0;
}
