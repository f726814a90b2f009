/*
 * quant_simd128_legacy.c — WASM SIMD128 kernels of the 32-element block types: Q4_0, Q4_1,
 * Q5_0, Q5_1 and Q8_0 dequantize and dot with Q8_0/Q8_1, and the Q8_0/Q8_1 activation quantizers.
 *
 * Same contracts as quant_legacy_ref.c, the truth they are tested against. Dequantization and
 * quantization reproduce the reference bit for bit (same float operations, roundf emulated);
 * dots compute each block's integer products exactly (i8 -> i16, i32x4.dot_i16x8) and sum the
 * scaled blocks in f32 lanes, so they differ from the reference by float rounding only.
 */
#ifdef __wasm_simd128__

#include "kern/quant.h"
#include "kern/quant_simd128.h"
#include "kern/simd128.h"
#include "kern/types.h"

/* Byte offsets of the fields (blocks are read in place, at any alignment). */
enum {
    Q4_0_QS = offsetof(sm_block_q4_0, qs),
    Q4_1_M = offsetof(sm_block_q4_1, m),
    Q4_1_QS = offsetof(sm_block_q4_1, qs),
    Q5_0_QH = offsetof(sm_block_q5_0, qh),
    Q5_0_QS = offsetof(sm_block_q5_0, qs),
    Q5_1_M = offsetof(sm_block_q5_1, m),
    Q5_1_QH = offsetof(sm_block_q5_1, qh),
    Q5_1_QS = offsetof(sm_block_q5_1, qs),
    Q8_0_QS = offsetof(sm_block_q8_0, qs),
    Q8_1_S = offsetof(sm_block_q8_1, s),
    Q8_1_QS = offsetof(sm_block_q8_1, qs),
    Q4_0_BYTES = sizeof(sm_block_q4_0),
    Q4_1_BYTES = sizeof(sm_block_q4_1),
    Q5_0_BYTES = sizeof(sm_block_q5_0),
    Q5_1_BYTES = sizeof(sm_block_q5_1),
    Q8_0_BYTES = sizeof(sm_block_q8_0),
    Q8_1_BYTES = sizeof(sm_block_q8_1),
};

/* The 16 low nibbles (elements 0-15) and high nibbles (16-31) of a 4-bit block, as bytes. */
static void nibbles(const uint8_t *qs, v128_t *lo, v128_t *hi) {
    const v128_t q = wasm_v128_load(qs);
    *lo = wasm_v128_and(q, wasm_i8x16_splat(15));
    *hi = sm_kern_u8x16_shr(q, 4);
}

/* The fifth bits of a Q5 block as 0x10 bytes: elements 0-15 (bits 0-15 of qh), 16-31. */
static void fifth_bits(const uint8_t *qh_bytes, v128_t *lo, v128_t *hi) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, sizeof qh);
    const v128_t v = wasm_i32x4_splat((int32_t)qh);
    const v128_t bit = wasm_u8x16_make(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
    const v128_t b_lo = wasm_i8x16_shuffle(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const v128_t b_hi = wasm_i8x16_shuffle(v, v, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const v128_t x10 = wasm_i8x16_splat(0x10);
    *lo = wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b_lo, bit), bit), x10);
    *hi = wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(b_hi, bit), bit), x10);
}

/* Exact i32x4 partial sums of a block of 32 weights (lo: 0-15, hi: 16-31) times 32 int8 x. */
static v128_t block_dot(v128_t lo, v128_t hi, const uint8_t *xqs) {
    return wasm_i32x4_add(sm_kern_dot_i8x16(lo, wasm_v128_load(xqs)),
                          sm_kern_dot_i8x16(hi, wasm_v128_load(xqs + 16)));
}

/* ---- dequantize ---------------------------------------------------------------------------- */

// y[32b + j] = d * (q - 8)
void sm_kern_to_float_q4_0_simd128(const void *x, float *y, int64_t n) {
    const v128_t eight = wasm_i8x16_splat(8);
    for (int64_t i = 0; i < n / SM_QK4_0; i++, y += SM_QK4_0) {
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q4_0);
        const v128_t d = wasm_f32x4_splat(sm_kern_load_scale(b));
        v128_t lo, hi;
        nibbles(b + Q4_0_QS, &lo, &hi);
        sm_kern_store_i8x16_f32(y, wasm_i8x16_sub(lo, eight), d);
        sm_kern_store_i8x16_f32(y + 16, wasm_i8x16_sub(hi, eight), d);
    }
}

// y[32b + j] = d * q + m
void sm_kern_to_float_q4_1_simd128(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK4_1; i++, y += SM_QK4_1) {
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q4_1);
        const v128_t d = wasm_f32x4_splat(sm_kern_load_scale(b));
        const v128_t m = wasm_f32x4_splat(sm_kern_load_scale(b + Q4_1_M));
        v128_t lo, hi;
        nibbles(b + Q4_1_QS, &lo, &hi);
        sm_kern_store_i8x16_f32_add(y, lo, d, m);
        sm_kern_store_i8x16_f32_add(y + 16, hi, d, m);
    }
}

// y[32b + j] = d * (q - 16)
void sm_kern_to_float_q5_0_simd128(const void *x, float *y, int64_t n) {
    const v128_t sixteen = wasm_i8x16_splat(16);
    for (int64_t i = 0; i < n / SM_QK5_0; i++, y += SM_QK5_0) {
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q5_0);
        const v128_t d = wasm_f32x4_splat(sm_kern_load_scale(b));
        v128_t lo, hi, h_lo, h_hi;
        nibbles(b + Q5_0_QS, &lo, &hi);
        fifth_bits(b + Q5_0_QH, &h_lo, &h_hi);
        sm_kern_store_i8x16_f32(y, wasm_i8x16_sub(wasm_v128_or(lo, h_lo), sixteen), d);
        sm_kern_store_i8x16_f32(y + 16, wasm_i8x16_sub(wasm_v128_or(hi, h_hi), sixteen), d);
    }
}

// y[32b + j] = d * q + m
void sm_kern_to_float_q5_1_simd128(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK5_1; i++, y += SM_QK5_1) {
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q5_1);
        const v128_t d = wasm_f32x4_splat(sm_kern_load_scale(b));
        const v128_t m = wasm_f32x4_splat(sm_kern_load_scale(b + Q5_1_M));
        v128_t lo, hi, h_lo, h_hi;
        nibbles(b + Q5_1_QS, &lo, &hi);
        fifth_bits(b + Q5_1_QH, &h_lo, &h_hi);
        sm_kern_store_i8x16_f32_add(y, wasm_v128_or(lo, h_lo), d, m);
        sm_kern_store_i8x16_f32_add(y + 16, wasm_v128_or(hi, h_hi), d, m);
    }
}

// y[32b + j] = d * q
void sm_kern_to_float_q8_0_simd128(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_0; i++, y += SM_QK8_0) {
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_0);
        const v128_t d = wasm_f32x4_splat(sm_kern_load_scale(b));
        sm_kern_store_i8x16_f32(y, wasm_v128_load(b + Q8_0_QS), d);
        sm_kern_store_i8x16_f32(y + 16, wasm_v128_load(b + Q8_0_QS + 16), d);
    }
}

/* ---- activation quantizers ----------------------------------------------------------------- */

/* Four lanes of roundf(clamp(x * id, +-127)) as i32. roundf (half away from zero) is
 * trunc(v + copysign(0.49999997, v)): adding the float just below 0.5 carries exactly the values
 * whose fraction is >= 0.5 over the next integer, and none below. */
static inline v128_t round_q8x4(const float *x, v128_t id) {
    const v128_t lim = wasm_f32x4_splat(127.0f);
    v128_t v = wasm_f32x4_mul(wasm_v128_load(x), id);
    v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, wasm_f32x4_neg(lim)), lim);
    const v128_t bias = wasm_v128_or(wasm_v128_and(v, wasm_i32x4_splat((int32_t)0x80000000u)),
                                     wasm_i32x4_splat(0x3effffff));
    return sm_kern_nearest_i32x4(wasm_f32x4_trunc(wasm_f32x4_add(v, bias))); /* exact integers */
}

/* One 32-element block: q = roundf(clamp(x * id, +-127)) into qs[32]; returns sum(q). Bytes
 * match the reference's. */
static int32_t quantize_q8_block(const float *x, float id, uint8_t *qs) {
    const v128_t vid = wasm_f32x4_splat(id);
    v128_t sum = wasm_i32x4_splat(0);
    for (int k = 0; k < 2; k++) {
        const float *xk = x + 16 * k;
        const v128_t q0 = round_q8x4(xk, vid), q1 = round_q8x4(xk + 4, vid);
        const v128_t q2 = round_q8x4(xk + 8, vid), q3 = round_q8x4(xk + 12, vid);
        sum = wasm_i32x4_add(sum, wasm_i32x4_add(wasm_i32x4_add(q0, q1), wasm_i32x4_add(q2, q3)));
        wasm_v128_store(qs + 16 * k, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q0, q1),
                                                             wasm_i16x8_narrow_i32x4(q2, q3)));
    }
    return sm_kern_hsum_i32x4(sum);
}

static float block_amax(const float *x) {
    v128_t m = wasm_f32x4_abs(wasm_v128_load(x));
    for (int k = 1; k < 8; k++) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(wasm_v128_load(x + 4 * k)));
    return sm_kern_hmax_f32x4(m);
}

// d = amax / 127, q = round(x / d)
void sm_kern_quantize_row_q8_0_simd128(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_0; i++, x += SM_QK8_0) {
        uint8_t *b = (uint8_t *)y + i * (int64_t)sizeof(sm_block_q8_0);
        const float d = block_amax(x) / 127.0f;
        quantize_q8_block(x, d != 0.0f ? 1.0f / d : 0.0f, b + Q8_0_QS);
        const uint16_t h = sm_kern_f32_to_fp16(d);
        memcpy(b, &h, sizeof h);
    }
}

// d = amax / 127, q = round(x / d), s = d * sum(q)
void sm_kern_quantize_row_q8_1_simd128(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_1; i++, x += SM_QK8_1) {
        uint8_t *b = (uint8_t *)y + i * (int64_t)sizeof(sm_block_q8_1);
        const float d = block_amax(x) / 127.0f;
        const int32_t sum = quantize_q8_block(x, d != 0.0f ? 1.0f / d : 0.0f, b + Q8_1_QS);
        const uint16_t h[2] = {sm_kern_f32_to_fp16(d), sm_kern_f32_to_fp16((float)sum * d)};
        memcpy(b, h, sizeof h);
    }
}

/* ---- dot products -------------------------------------------------------------------------- */

/* Exact i32x4 partial sums of one weight block times its Q8 block, per weight type. */
static v128_t isum_q4_0(const uint8_t *a, const uint8_t *b) {
    const v128_t eight = wasm_i8x16_splat(8);
    v128_t lo, hi;
    nibbles(a + Q4_0_QS, &lo, &hi);
    return block_dot(wasm_i8x16_sub(lo, eight), wasm_i8x16_sub(hi, eight), b + Q8_0_QS);
}

static v128_t isum_q4_1(const uint8_t *a, const uint8_t *b) {
    v128_t lo, hi;
    nibbles(a + Q4_1_QS, &lo, &hi);
    return block_dot(lo, hi, b + Q8_1_QS);
}

static v128_t isum_q5_0(const uint8_t *a, const uint8_t *b) {
    const v128_t sixteen = wasm_i8x16_splat(16);
    v128_t lo, hi, h_lo, h_hi;
    nibbles(a + Q5_0_QS, &lo, &hi);
    fifth_bits(a + Q5_0_QH, &h_lo, &h_hi);
    return block_dot(wasm_i8x16_sub(wasm_v128_or(lo, h_lo), sixteen),
                     wasm_i8x16_sub(wasm_v128_or(hi, h_hi), sixteen), b + Q8_0_QS);
}

static v128_t isum_q5_1(const uint8_t *a, const uint8_t *b) {
    v128_t lo, hi, h_lo, h_hi;
    nibbles(a + Q5_1_QS, &lo, &hi);
    fifth_bits(a + Q5_1_QH, &h_lo, &h_hi);
    return block_dot(wasm_v128_or(lo, h_lo), wasm_v128_or(hi, h_hi), b + Q8_1_QS);
}

static v128_t isum_q8_0(const uint8_t *a, const uint8_t *b) {
    return block_dot(wasm_v128_load(a + Q8_0_QS), wasm_v128_load(a + Q8_0_QS + 16), b + Q8_0_QS);
}

/* The dots: one block per iteration, its exact integer sums scaled by d_w * d_x into f32 lanes. */

// s = sum_b d_w d_x sum_j (q_w - 8) q_x      (Q4_0 · Q8_0)
float sm_kern_vec_dot_q4_0_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int64_t i = 0; i < n / SM_QK4_0; i++, a += Q4_0_BYTES, b += Q8_0_BYTES) {
        const float d = sm_kern_load_scale(a) * sm_kern_load_scale(b);
        acc = sm_kern_acc_scaled(acc, isum_q4_0(a, b), d);
    }
    return sm_kern_hsum_f32x4(acc);
}

// s = sum_b (d_w d_x sum_j q_w q_x + m_w s_x)      (Q4_1 · Q8_1)
float sm_kern_vec_dot_q4_1_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc = wasm_f32x4_splat(0.0f);
    float mins = 0.0f;
    for (int64_t i = 0; i < n / SM_QK4_1; i++, a += Q4_1_BYTES, b += Q8_1_BYTES) {
        const float d = sm_kern_load_scale(a) * sm_kern_load_scale(b);
        acc = sm_kern_acc_scaled(acc, isum_q4_1(a, b), d);
        mins += sm_kern_load_scale(a + Q4_1_M) * sm_kern_load_scale(b + Q8_1_S);
    }
    return sm_kern_hsum_f32x4(acc) + mins;
}

// s = sum_b d_w d_x sum_j (q_w - 16) q_x      (Q5_0 · Q8_0)
float sm_kern_vec_dot_q5_0_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int64_t i = 0; i < n / SM_QK5_0; i++, a += Q5_0_BYTES, b += Q8_0_BYTES) {
        const float d = sm_kern_load_scale(a) * sm_kern_load_scale(b);
        acc = sm_kern_acc_scaled(acc, isum_q5_0(a, b), d);
    }
    return sm_kern_hsum_f32x4(acc);
}

// s = sum_b (d_w d_x sum_j q_w q_x + m_w s_x)      (Q5_1 · Q8_1)
float sm_kern_vec_dot_q5_1_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc = wasm_f32x4_splat(0.0f);
    float mins = 0.0f;
    for (int64_t i = 0; i < n / SM_QK5_1; i++, a += Q5_1_BYTES, b += Q8_1_BYTES) {
        const float d = sm_kern_load_scale(a) * sm_kern_load_scale(b);
        acc = sm_kern_acc_scaled(acc, isum_q5_1(a, b), d);
        mins += sm_kern_load_scale(a + Q5_1_M) * sm_kern_load_scale(b + Q8_1_S);
    }
    return sm_kern_hsum_f32x4(acc) + mins;
}

// s = sum_b d_w d_x sum_j q_w q_x      (Q8_0 · Q8_0)
float sm_kern_vec_dot_q8_0_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int64_t i = 0; i < n / SM_QK8_0; i++, a += Q8_0_BYTES, b += Q8_0_BYTES) {
        const float d = sm_kern_load_scale(a) * sm_kern_load_scale(b);
        acc = sm_kern_acc_scaled(acc, isum_q8_0(a, b), d);
    }
    return sm_kern_hsum_f32x4(acc);
}

/* ---- tiles of dots (prefill and decode) ----------------------------------------------------- */

/* Tokens per tile. 8 measured faster than 4 (bench/kernels, Q4_0, same run: 22.4 vs 17.4 GMAC/s,
 * and 1.46x vs 1.29x the vec_dot loop before the token loop below); the lab rebuilds with
 * -DSM_GEMM_TILE=4 to compare. */
#ifndef SM_GEMM_TILE
#define SM_GEMM_TILE 8
#endif

/* Weight blocks per pass over a tile's activations, which are widened to i16 (and their scales
 * converted to f32) once per pass for every row rather than once per row: 16 blocks of 8 tokens
 * take 8.5 KiB of stack, and stay in L1 while the rows stream by. */
enum { CHUNK_BLOCKS = 16, MAX_TILE_ROWS = 16 };

/* A tile's activations for one chunk of blocks: 32 values as four i16x8, and d_x as f32 in all
 * four lanes (splat(d_w) * d lanes are d_w * d_x exactly, one multiply with a memory operand). */
typedef struct x_chunk {
    v128_t q[CHUNK_BLOCKS][SM_GEMM_TILE][4]; /* block-major: a pass's tokens are adjacent */
    v128_t d[CHUNK_BLOCKS][SM_GEMM_TILE];
} x_chunk;

static void widen_chunk(const uint8_t *x, size_t x_stride, int n_tok, int nbc, x_chunk *c) {
    for (int t = 0; t < n_tok; t++)
        for (int j = 0; j < nbc; j++) {
            const uint8_t *b = x + (size_t)t * x_stride + (size_t)j * Q8_0_BYTES;
            const v128_t x0 = wasm_v128_load(b + Q8_0_QS), x1 = wasm_v128_load(b + Q8_0_QS + 16);
            c->q[j][t][0] = wasm_i16x8_extend_low_i8x16(x0);
            c->q[j][t][1] = wasm_i16x8_extend_high_i8x16(x0);
            c->q[j][t][2] = wasm_i16x8_extend_low_i8x16(x1);
            c->q[j][t][3] = wasm_i16x8_extend_high_i8x16(x1);
            c->d[j][t] = wasm_f32x4_splat(sm_kern_load_scale(b));
        }
}

/* A weight block unpacked once for a tile of tokens: its 32 values as four i16x8, and d_w in
 * every lane. */
typedef struct w_block16 {
    v128_t q[4];
    v128_t d;
} w_block16;

static inline w_block16 widen_block(v128_t lo, v128_t hi, float d) {
    return (w_block16){{wasm_i16x8_extend_low_i8x16(lo), wasm_i16x8_extend_high_i8x16(lo),
                        wasm_i16x8_extend_low_i8x16(hi), wasm_i16x8_extend_high_i8x16(hi)},
                       wasm_f32x4_splat(d)};
}

static inline w_block16 unpack_q4_0(const uint8_t *a) {
    const v128_t eight = wasm_i8x16_splat(8);
    v128_t lo, hi;
    nibbles(a + Q4_0_QS, &lo, &hi);
    return widen_block(wasm_i8x16_sub(lo, eight), wasm_i8x16_sub(hi, eight), sm_kern_load_scale(a));
}

static inline w_block16 unpack_q8_0(const uint8_t *a) {
    return widen_block(wasm_v128_load(a + Q8_0_QS), wasm_v128_load(a + Q8_0_QS + 16),
                       sm_kern_load_scale(a));
}

/* acc + (the block's exact integer dot) * (d_w * d_x): the vec_dot's per-block operations (the
 * integer sums are exact in any order; the float operations are the same, in the same order). */
static inline v128_t block_acc(v128_t acc, const w_block16 *wb, const v128_t xq[4], v128_t dx) {
    const v128_t lo = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wb->q[0], xq[0]),
                                     wasm_i32x4_dot_i16x8(wb->q[1], xq[1]));
    const v128_t hi = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wb->q[2], xq[2]),
                                     wasm_i32x4_dot_i16x8(wb->q[3], xq[3]));
    return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(lo, hi)),
                                              wasm_f32x4_mul(wb->d, dx)));
}

/* Tokens per pass of the token loop below, which must stay a loop in the WASM: V8 loads every
 * operand of a basic block up front, so a block body with all 8 tokens unrolled (32 activation
 * loads) spilled most of them to the stack and ran at 17-19 GMAC/s under Node; 4 tokens per pass,
 * with the sums in memory, fit the 16 vector registers and run at 21-26 (bench/kernels/gemm_lab.c,
 * v1 before and after; docs/ARCHITECTURE.md, "Loads come first"). */
#ifndef SM_GEMM_TOKENS_PER_PASS
#define SM_GEMM_TOKENS_PER_PASS 4
#endif
enum { TOKENS_PER_PASS = SM_GEMM_TOKENS_PER_PASS };

/* One weight row's chunk of nbc blocks against n_tok (1-SM_GEMM_TILE) tokens, continuing the
 * row's running sums acc[0..n_tok); `q4` picks the weight type (a constant after inlining). */
static inline __attribute__((always_inline)) void row_chunk(const uint8_t *a, size_t a_bytes,
                                                             int q4, int nbc, const x_chunk *c,
                                                             int n_tok, v128_t *acc) {
    for (int j = 0; j < nbc; j++, a += a_bytes) {
        const w_block16 wb = q4 ? unpack_q4_0(a) : unpack_q8_0(a);
        int t = 0;
#pragma clang loop unroll(disable)
        for (; t + TOKENS_PER_PASS <= n_tok; t += TOKENS_PER_PASS)
            for (int u = t; u < t + TOKENS_PER_PASS; u++)
                acc[u] = block_acc(acc[u], &wb, c->q[j][u], c->d[j][u]);
#pragma clang loop unroll(disable)
        for (; t < n_tok; t++) acc[t] = block_acc(acc[t], &wb, c->q[j][t], c->d[j][t]);
    }
}

/* Token tiles of SM_GEMM_TILE (then the rest) and groups of up to 16 rows; for each, the blocks
 * in chunks: widen the tile's chunk of activations, then pass every row of the group over it. */
static inline __attribute__((always_inline)) void gemm_legacy(int64_t n, const void *w,
                                                               size_t w_stride, int n_rows,
                                                               const void *x, size_t x_stride,
                                                               int n_tok, float *y, int64_t ldy,
                                                               int q4, size_t a_bytes) {
    const int64_t nb = n / SM_QK8_0;
    x_chunk c;
    v128_t acc[MAX_TILE_ROWS][SM_GEMM_TILE];
    for (int t0 = 0; t0 < n_tok; t0 += SM_GEMM_TILE) {
        const int nt = n_tok - t0 < SM_GEMM_TILE ? n_tok - t0 : SM_GEMM_TILE;
        const uint8_t *xt = (const uint8_t *)x + (size_t)t0 * x_stride;
        for (int r0 = 0; r0 < n_rows; r0 += MAX_TILE_ROWS) {
            const int nr = n_rows - r0 < MAX_TILE_ROWS ? n_rows - r0 : MAX_TILE_ROWS;
            for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++) acc[r][t] = wasm_f32x4_splat(0.0f);
            for (int64_t j0 = 0; j0 < nb; j0 += CHUNK_BLOCKS) {
                const int nbc = nb - j0 < CHUNK_BLOCKS ? (int)(nb - j0) : CHUNK_BLOCKS;
                widen_chunk(xt + (size_t)j0 * Q8_0_BYTES, x_stride, nt, nbc, &c);
                for (int r = 0; r < nr; r++) {
                    const uint8_t *a = (const uint8_t *)w + (size_t)(r0 + r) * w_stride +
                                       (size_t)j0 * a_bytes;
                    if (nt == SM_GEMM_TILE) /* full tiles: a constant trip count */
                        row_chunk(a, a_bytes, q4, nbc, &c, SM_GEMM_TILE, acc[r]);
                    else
                        row_chunk(a, a_bytes, q4, nbc, &c, nt, acc[r]);
                }
            }
            for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++)
                    y[(t0 + t) * ldy + r0 + r] = sm_kern_hsum_f32x4(acc[r][t]);
        }
    }
}

// y[t][r] = W[r] · x[t], Q4_0 · Q8_0, bit-identical to sm_kern_vec_dot_q4_0_simd128
void sm_kern_gemm_q4_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    gemm_legacy(n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy, 1, Q4_0_BYTES);
}

// y[t][r] = W[r] · x[t], Q8_0 · Q8_0, bit-identical to sm_kern_vec_dot_q8_0_simd128
void sm_kern_gemm_q8_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    gemm_legacy(n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy, 0, Q8_0_BYTES);
}

/* ---- decode: one activation row against many weight rows ----------------------------------- */

/* A Q8_0 activation block's 32 values widened to i16 (elements 0-7, 8-15, 16-23, 24-31). */
typedef struct x16_block {
    v128_t q[4];
} x16_block;

/* The Q8_0 row x (nb blocks) as i16 blocks and f32 scales, done once per gemv call: the block
 * loop then widens only the weights, and converts one fp16 scale per block instead of two. */
static void widen_q8_0_row(const uint8_t *x, int64_t nb, x16_block *xw, float *dx) {
    for (int64_t j = 0; j < nb; j++, x += Q8_0_BYTES) {
        const v128_t x0 = wasm_v128_load(x + Q8_0_QS), x1 = wasm_v128_load(x + Q8_0_QS + 16);
        xw[j].q[0] = wasm_i16x8_extend_low_i8x16(x0), xw[j].q[1] = wasm_i16x8_extend_high_i8x16(x0);
        xw[j].q[2] = wasm_i16x8_extend_low_i8x16(x1), xw[j].q[3] = wasm_i16x8_extend_high_i8x16(x1);
        dx[j] = sm_kern_load_scale(x);
    }
}

/* block_dot's lanes (exact integers) for weights lo (elements 0-15), hi (16-31) and a widened
 * activation block. */
static inline v128_t block_dot_widened(v128_t lo, v128_t hi, const x16_block *xb) {
    return wasm_i32x4_add(
        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(lo), xb->q[0]),
                       wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(lo), xb->q[1])),
        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(hi), xb->q[2]),
                       wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(hi), xb->q[3])));
}

/* The gemv of Q4_0 (q4 = 1) or Q8_0 weights: per row, the vec_dot's block loop with the same
 * integer lanes and the same float operations in the same order, so each y[r] equals it. */
static inline __attribute__((always_inline)) void gemv_legacy(int64_t n, const uint8_t *w,
                                                              size_t w_stride, int n_rows,
                                                              const uint8_t *x, float *y, int q4,
                                                              size_t w_bytes) {
    const int64_t nb = n / SM_QK8_0;
    x16_block xw[SM_GEMV_MAX_N / SM_QK8_0];
    float dx[SM_GEMV_MAX_N / SM_QK8_0];
    widen_q8_0_row(x, nb, xw, dx);
    const float *half = sm_kern_fp16_table();
    const v128_t eight = wasm_i8x16_splat(8), m4 = wasm_i8x16_splat(15);
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *a = w + (size_t)r * w_stride;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int64_t j = 0; j < nb; j++, a += w_bytes) {
            v128_t lo, hi;
            if (q4) {
                const v128_t q = wasm_v128_load(a + Q4_0_QS);
                lo = wasm_i8x16_sub(wasm_v128_and(q, m4), eight);
                hi = wasm_i8x16_sub(sm_kern_u8x16_shr(q, 4), eight);
            } else {
                lo = wasm_v128_load(a + Q8_0_QS), hi = wasm_v128_load(a + Q8_0_QS + 16);
            }
            acc = sm_kern_acc_scaled(acc, block_dot_widened(lo, hi, &xw[j]),
                                     half[sm_kern_load_u16(a)] * dx[j]);
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
}

// y[r] = W[r] · x, Q4_0 · Q8_0, bit-identical to sm_kern_vec_dot_q4_0_simd128
void sm_kern_gemv_q4_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    gemv_legacy(n, w, w_stride, n_rows, x, y, 1, Q4_0_BYTES);
}

// y[r] = W[r] · x, Q8_0 · Q8_0, bit-identical to sm_kern_vec_dot_q8_0_simd128
void sm_kern_gemv_q8_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    gemv_legacy(n, w, w_stride, n_rows, x, y, 0, Q8_0_BYTES);
}

#ifdef SM_RELAXED_SIMD
#include "kern/relaxed_simd.h"

#define RDOT sm_relaxed_dot_i8x16_i7x16_add_s

/* A Q8_0 activation block for the relaxed Q4_0 gemv: both halves in relaxed lane order, -8 sum(x)
 * per lane (the instruction takes Q4_0's nibbles unsigned, so their offset of 8 is subtracted
 * here once per call), and the block's scale. */
typedef struct x_relaxed_block {
    v128_t lo, hi, neg8sum;
} x_relaxed_block;

// y[r] = W[r] · x, Q4_0 · Q8_0 with the relaxed i8 dot, bit-identical to the SIMD128 vec_dot:
// lane k sums the same products (relaxed_simd.h), sum (q - 8) x = sum q x - 8 sum x exactly
void sm_kern_gemv_q4_0_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    const int64_t nb = n / SM_QK8_0;
    x_relaxed_block xr[SM_GEMV_MAX_N / SM_QK8_0];
    float dx[SM_GEMV_MAX_N / SM_QK8_0];
    const v128_t eight = wasm_i8x16_splat(8), m4 = wasm_i8x16_splat(15), zero = wasm_i32x4_splat(0);
    const uint8_t *b = x;
    for (int64_t j = 0; j < nb; j++, b += Q8_0_BYTES) {
        xr[j].lo = sm_relaxed_lane_order(wasm_v128_load(b + Q8_0_QS));
        xr[j].hi = sm_relaxed_lane_order(wasm_v128_load(b + Q8_0_QS + 16));
        xr[j].neg8sum = wasm_i32x4_sub(zero, RDOT(xr[j].lo, eight, RDOT(xr[j].hi, eight, zero)));
        dx[j] = sm_kern_load_scale(b);
    }
    const float *half = sm_kern_fp16_table();
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *a = (const uint8_t *)w + (size_t)r * w_stride;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int64_t j = 0; j < nb; j++, a += Q4_0_BYTES) {
            const v128_t q = sm_relaxed_lane_order(wasm_v128_load(a + Q4_0_QS));
            const v128_t isum = RDOT(xr[j].lo, wasm_v128_and(q, m4),
                                     RDOT(xr[j].hi, sm_kern_u8x16_shr(q, 4), xr[j].neg8sum));
            acc = sm_kern_acc_scaled(acc, isum, half[sm_kern_load_u16(a)] * dx[j]);
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
}

#undef RDOT
#endif /* SM_RELAXED_SIMD */

#else
typedef int sm_kern_quant_simd128_legacy_unused; /* ISO C forbids an empty translation unit */
#endif
