/*
 * quant_simd128_k.c — WASM SIMD128 kernels of the K-quants: Q2_K..Q6_K dot with Q8_K, Q4_K/Q5_K/
 * Q6_K dequantize, and the Q8_K activation quantizer.
 *
 * Same contracts as quant_k_ref.c, the truth they are tested against. The bit unpacking follows
 * quant.h 16 elements per vector; each group's integer dot is exact (i8 -> i16, dot_i16x8) and is
 * multiplied by its integer scale in i32 lanes, so a block's sum is the reference's integer sum;
 * only the final float scaling and summation order differ. Q4_K, Q5_K and Q6_K sum each block's
 * i32 lanes to one integer before its float scale (k_acc_block): then which lane holds which
 * products is free, so the relaxed kernels take weights and activations in their natural order. Scales are unpacked 16 at a time
 * (Q3_K, in SIMD) or word-wise (Q4_K/Q5_K), mins terms come from Q8_K's bsums, and the 2- and
 * 3-bit fields are peeled off with constant shifts (variable ones are slow under V8).
 */
#ifdef __wasm_simd128__

#include "kern/quant.h"
#include "kern/quant_simd128.h"
#include "kern/simd128.h"
#include "kern/types.h"

enum {
    Q8K_QS = offsetof(sm_block_q8_K, qs),
    Q8K_BSUMS = offsetof(sm_block_q8_K, bsums),
    Q2K_QS = offsetof(sm_block_q2_K, qs),
    Q2K_D = offsetof(sm_block_q2_K, d),
    Q2K_DMIN = offsetof(sm_block_q2_K, dmin),
    Q3K_QS = offsetof(sm_block_q3_K, qs),
    Q3K_SCALES = offsetof(sm_block_q3_K, scales),
    Q3K_D = offsetof(sm_block_q3_K, d),
    Q4K_DMIN = offsetof(sm_block_q4_K, dmin),
    Q4K_SCALES = offsetof(sm_block_q4_K, scales),
    Q4K_QS = offsetof(sm_block_q4_K, qs),
    Q5K_DMIN = offsetof(sm_block_q5_K, dmin),
    Q5K_SCALES = offsetof(sm_block_q5_K, scales),
    Q5K_QH = offsetof(sm_block_q5_K, qh),
    Q5K_QS = offsetof(sm_block_q5_K, qs),
    Q6K_QH = offsetof(sm_block_q6_K, qh),
    Q6K_SCALES = offsetof(sm_block_q6_K, scales),
    Q6K_D = offsetof(sm_block_q6_K, d),
};

/* isum += scale * sum(q * x) over 16 elements, in i32 lanes. */
static v128_t mac_group(v128_t isum, v128_t q, const uint8_t *xqs, int scale) {
    const v128_t dot = sm_kern_dot_i8x16(q, wasm_v128_load(xqs));
    return wasm_i32x4_add(isum, wasm_i32x4_mul(dot, wasm_i32x4_splat(scale)));
}

/* The 8 scales of a Q4_K/Q5_K block, and its mins term sum_g m[g] * sum(x in g). Word-wise
 * unpacking (four 6-bit fields per uint32), equal to sm_kern_q4k_scale_min (test_kern checks). */
/* A Q4_K/Q5_K block's 12 packed bytes as 8 6-bit scales (v[0..1], one per byte) and 8 mins
 * (v[2..3]). */
static inline void q45_unpack(const uint8_t *packed, uint32_t v[4]) {
    uint32_t u[3];
    memcpy(u, packed, sizeof u);
    v[0] = u[0] & 0x3f3f3f3fu;                                             /* scales 0-3 */
    v[1] = (u[2] & 0x0f0f0f0fu) | ((u[0] >> 6) & 0x03030303u) << 4;        /* scales 4-7 */
    v[2] = u[1] & 0x3f3f3f3fu;                                             /* mins 0-3 */
    v[3] = ((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] >> 6) & 0x03030303u) << 4; /* mins 4-7 */
}

static int32_t q45_scales(const uint8_t *packed, const uint8_t *xb, uint8_t sc[8]) {
    uint32_t v[4];
    q45_unpack(packed, v);
    uint8_t m[8];
    memcpy(sc, v, 8);
    memcpy(m, v + 2, 8);
    int16_t bsums[16];
    memcpy(bsums, xb + Q8K_BSUMS, sizeof bsums);
    int32_t msum = 0;
    for (int g = 0; g < 8; g++) msum += m[g] * (bsums[2 * g] + bsums[2 * g + 1]);
    return msum;
}

/* acc + one block's term of a Q4_K/Q5_K/Q6_K dot: its i32 lanes summed to one exact integer
 * (|sum| < 2^28), then scaled by d = d_x d_w. Every kernel of these types (vec_dot, gemv, gemm,
 * plain and relaxed) accumulates with this, block after block, so they agree bit for bit whatever
 * lanes their integer sums land in. */
static inline float k_acc_block(float acc, v128_t isum, float d) {
    return acc + (float)sm_kern_hsum_i32x4(isum) * d;
}

/* A Q8_K block's 8 sums of 32 elements (bsums[2g] + bsums[2g + 1]; |bsum| <= 16 * 127, so a pair
 * fits i16) as i16x8. */
static inline v128_t q8_K_bsum_pairs(const uint8_t *b) {
    return wasm_i16x8_narrow_i32x4(wasm_i32x4_extadd_pairwise_i16x8(wasm_v128_load(b + Q8K_BSUMS)),
                                   wasm_i32x4_extadd_pairwise_i16x8(wasm_v128_load(b + Q8K_BSUMS + 16)));
}

/* A Q4_K/Q5_K block's 8 scales (bytes 0-7) and 8 mins (bytes 8-15) in one vector. */
static inline v128_t q45_scales_mins(const uint8_t *packed) {
    uint32_t v[4];
    q45_unpack(packed, v);
    return wasm_i32x4_make((int32_t)v[0], (int32_t)v[1], (int32_t)v[2], (int32_t)v[3]);
}

/* The mins term sum_g m[g] * sum(x in g) of a block, from q45_scales_mins and q8_K_bsum_pairs: the
 * same integer as q45_scales'. */
static inline int32_t q45_msum(v128_t scales_mins, v128_t bsum_pairs) {
    return sm_kern_hsum_i32x4(
        wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(scales_mins), bsum_pairs));
}

/* Lane k of v in all four lanes (one shuffle: the gemvs' per-group scale). */
#define K_LANE(v, k) wasm_i32x4_shuffle((v), (v), (k), (k), (k), (k))

// Q8_K: d = max / -127 (max = the x of largest |x|, first on ties), q = nearest_even(x / d)
void sm_kern_quantize_row_q8_K_simd128(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        uint8_t *b = (uint8_t *)y + i * (int64_t)sizeof(sm_block_q8_K);
        v128_t vmax = wasm_v128_load(x), vmin = vmax;
        for (int k = 1; k < SM_QK_K / 4; k++) {
            vmax = wasm_f32x4_pmax(vmax, wasm_v128_load(x + 4 * k));
            vmin = wasm_f32x4_pmin(vmin, wasm_v128_load(x + 4 * k));
        }
        const float hi = sm_kern_hmax_f32x4(vmax), lo = sm_kern_hmin_f32x4(vmin);
        if (hi == 0.0f && lo == 0.0f) {
            memset(b, 0, sizeof(sm_block_q8_K));
            continue;
        }
        float max = hi > -lo ? hi : lo;
        if (hi == -lo) /* both signs reach amax: the reference keeps the first one */
            for (int e = 0; e < SM_QK_K; e++)
                if (x[e] == hi || x[e] == lo) {
                    max = x[e];
                    break;
                }
        const float iscale = -127.0f / max;
        const v128_t vs = wasm_f32x4_splat(iscale), top = wasm_i32x4_splat(127);
        int16_t bsums[SM_QK_K / 16];
        for (int g = 0; g < SM_QK_K / 16; g++) {
            const float *xg = x + 16 * g;
            const v128_t q0 =
                wasm_i32x4_min(sm_kern_nearest_i32x4(wasm_f32x4_mul(vs, wasm_v128_load(xg))), top);
            const v128_t q1 = wasm_i32x4_min(
                sm_kern_nearest_i32x4(wasm_f32x4_mul(vs, wasm_v128_load(xg + 4))), top);
            const v128_t q2 = wasm_i32x4_min(
                sm_kern_nearest_i32x4(wasm_f32x4_mul(vs, wasm_v128_load(xg + 8))), top);
            const v128_t q3 = wasm_i32x4_min(
                sm_kern_nearest_i32x4(wasm_f32x4_mul(vs, wasm_v128_load(xg + 12))), top);
            wasm_v128_store(b + Q8K_QS + 16 * g,
                            wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q0, q1),
                                                    wasm_i16x8_narrow_i32x4(q2, q3)));
            bsums[g] = (int16_t)sm_kern_hsum_i32x4(
                wasm_i32x4_add(wasm_i32x4_add(q0, q1), wasm_i32x4_add(q2, q3)));
        }
        memcpy(b + Q8K_BSUMS, bsums, sizeof bsums);
        const float d = 1.0f / iscale;
        memcpy(b, &d, sizeof d);
    }
}

// s = sum_b d_x (d_w sum_g sc[g] sum q_w q_x - dmin_w sum_g m[g] bsum[g])      (Q2_K · Q8_K)
float sm_kern_vec_dot_q2_K_simd128(int64_t n, const void *w, const void *x) {
    const v128_t three = wasm_i8x16_splat(3);
    v128_t acc = wasm_f32x4_splat(0.0f);
    float mins = 0.0f;
    for (int64_t i = 0; i < n / SM_QK_K; i++) {
        const uint8_t *a = (const uint8_t *)w + i * (int64_t)sizeof(sm_block_q2_K);
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
        const float dx = sm_kern_load_f32(b);
        /* mins: high nibbles of the 16 scale bytes dotted with the 16 bsums */
        const v128_t m = sm_kern_u8x16_shr(wasm_v128_load(a), 4);
        const v128_t msum = wasm_i32x4_add(
            wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(m), wasm_v128_load(b + Q8K_BSUMS)),
            wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(m),
                                 wasm_v128_load(b + Q8K_BSUMS + 16)));
        mins += dx * sm_kern_load_scale_k(a + Q2K_DMIN) * (float)sm_kern_hsum_i32x4(msum);
        v128_t isum = wasm_i32x4_splat(0);
        for (int h = 0; h < 2; h++) {
            /* shifted down 2 bits per j, so the shifts stay constant */
            v128_t q0 = wasm_v128_load(a + Q2K_QS + 32 * h);
            v128_t q1 = wasm_v128_load(a + Q2K_QS + 32 * h + 16);
            for (int j = 0; j < 4; j++) {
                const int g = 8 * h + 2 * j;
                const uint8_t *xq = b + Q8K_QS + 128 * h + 32 * j;
                isum = mac_group(isum, wasm_v128_and(q0, three), xq, a[g] & 15);
                isum = mac_group(isum, wasm_v128_and(q1, three), xq + 16, a[g + 1] & 15);
                q0 = sm_kern_u8x16_shr(q0, 2);
                q1 = sm_kern_u8x16_shr(q1, 2);
            }
        }
        const float d = dx * sm_kern_load_scale_k(a + Q2K_D);
        acc = sm_kern_acc_scaled(acc, isum, d);
    }
    return sm_kern_hsum_f32x4(acc) - mins;
}

/* The 16 signed Q3_K scales (sm_kern_q3k_scale, all at once): low nibbles from bytes 0-7, top two
 * bits from the four 2-bit fields of bytes 8-11. Reads exactly the 12 scale bytes. */
static void q3_scales(const uint8_t *s, int8_t sc[16]) {
    const v128_t m4 = wasm_i8x16_splat(15), m2 = wasm_i8x16_splat(3);
    const v128_t lo8 = wasm_v128_load64_zero(s), h = wasm_v128_load32_zero(s + 8);
    const v128_t low = wasm_i8x16_shuffle(wasm_v128_and(lo8, m4), sm_kern_u8x16_shr(lo8, 4), 0, 1, 2,
                                          3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    const v128_t h01 =
        wasm_i8x16_shuffle(wasm_v128_and(h, m2), wasm_v128_and(sm_kern_u8x16_shr(h, 2), m2), 0, 1, 2,
                           3, 16, 17, 18, 19, 0, 0, 0, 0, 0, 0, 0, 0);
    const v128_t h23 =
        wasm_i8x16_shuffle(wasm_v128_and(sm_kern_u8x16_shr(h, 4), m2), sm_kern_u8x16_shr(h, 6), 0, 1, 2,
                           3, 16, 17, 18, 19, 0, 0, 0, 0, 0, 0, 0, 0);
    const v128_t high =
        wasm_i8x16_shuffle(h01, h23, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    wasm_v128_store(
        sc, wasm_i8x16_sub(wasm_v128_or(low, sm_kern_i8x16_shl(high, 4)), wasm_i8x16_splat(32)));
}

// s = sum_b d_x d_w sum_g (sc[g] - 32) sum q_w q_x      (Q3_K · Q8_K)
float sm_kern_vec_dot_q3_K_simd128(int64_t n, const void *w, const void *x) {
    const v128_t three = wasm_i8x16_splat(3), four = wasm_i8x16_splat(4);
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int64_t i = 0; i < n / SM_QK_K; i++) {
        const uint8_t *a = (const uint8_t *)w + i * (int64_t)sizeof(sm_block_q3_K);
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
        int8_t sc[16];
        q3_scales(a + Q3K_SCALES, sc);
        /* hmask bit 4h + j belongs to step (h, j): shifted down one bit per step */
        v128_t hm0 = wasm_v128_load(a), hm1 = wasm_v128_load(a + 16);
        v128_t isum = wasm_i32x4_splat(0);
        for (int h = 0; h < 2; h++) {
            v128_t q0 = wasm_v128_load(a + Q3K_QS + 32 * h);
            v128_t q1 = wasm_v128_load(a + Q3K_QS + 32 * h + 16);
            for (int j = 0; j < 4; j++) {
                const int g = 8 * h + 2 * j;
                const uint8_t *xq = b + Q8K_QS + 128 * h + 32 * j;
                /* (low | hbit << 2) - 4: low - 4 where the high bit is clear */
                const v128_t v0 = wasm_v128_or(wasm_v128_and(q0, three),
                                               wasm_v128_and(sm_kern_i8x16_shl(hm0, 2), four));
                const v128_t v1 = wasm_v128_or(wasm_v128_and(q1, three),
                                               wasm_v128_and(sm_kern_i8x16_shl(hm1, 2), four));
                isum = mac_group(isum, wasm_i8x16_sub(v0, four), xq, sc[g]);
                isum = mac_group(isum, wasm_i8x16_sub(v1, four), xq + 16, sc[g + 1]);
                q0 = sm_kern_u8x16_shr(q0, 2);
                q1 = sm_kern_u8x16_shr(q1, 2);
                hm0 = sm_kern_u8x16_shr(hm0, 1);
                hm1 = sm_kern_u8x16_shr(hm1, 1);
            }
        }
        const float d = sm_kern_load_f32(b) * sm_kern_load_scale_k(a + Q3K_D);
        acc = sm_kern_acc_scaled(acc, isum, d);
    }
    return sm_kern_hsum_f32x4(acc);
}

// s = sum_b d_x (d_w sum_g sc[g] sum q_w q_x - dmin_w sum_g m[g] sum x_g)      (Q4_K · Q8_K)
float sm_kern_vec_dot_q4_K_simd128(int64_t n, const void *w, const void *x) {
    const v128_t m4 = wasm_i8x16_splat(15);
    float acc = 0.0f, mins = 0.0f;
    for (int64_t i = 0; i < n / SM_QK_K; i++) {
        const uint8_t *a = (const uint8_t *)w + i * (int64_t)sizeof(sm_block_q4_K);
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
        const float dx = sm_kern_load_f32(b);
        uint8_t sc[8];
        const int32_t msum = q45_scales(a + Q4K_SCALES, b, sc);
        mins += dx * sm_kern_load_scale_k(a + Q4K_DMIN) * (float)msum;
        v128_t isum = wasm_i32x4_splat(0);
        for (int j = 0; j < 4; j++) {
            const v128_t q0 = wasm_v128_load(a + Q4K_QS + 32 * j);
            const v128_t q1 = wasm_v128_load(a + Q4K_QS + 32 * j + 16);
            const uint8_t *xq = b + Q8K_QS + 64 * j;
            isum = mac_group(isum, wasm_v128_and(q0, m4), xq, sc[2 * j]);
            isum = mac_group(isum, wasm_v128_and(q1, m4), xq + 16, sc[2 * j]);
            isum = mac_group(isum, sm_kern_u8x16_shr(q0, 4), xq + 32, sc[2 * j + 1]);
            isum = mac_group(isum, sm_kern_u8x16_shr(q1, 4), xq + 48, sc[2 * j + 1]);
        }
        acc = k_acc_block(acc, isum, dx * sm_kern_load_scale_k(a));
    }
    return acc - mins;
}

/* Q5_K's 32 values of 64-element chunk j: lo (elements 0-31) and hi (32-63) for 16 lanes each
 * call, from qs bytes q and qh bytes h already shifted down by 2j (bits 0 and 1 are chunk j's). */
static inline void q5_chunk(v128_t q, v128_t h, v128_t *lo, v128_t *hi) {
    const v128_t x10 = wasm_i8x16_splat(0x10);
    *lo = wasm_v128_or(wasm_v128_and(q, wasm_i8x16_splat(15)),
                       wasm_v128_and(sm_kern_i8x16_shl(h, 4), x10));
    *hi = wasm_v128_or(sm_kern_u8x16_shr(q, 4), wasm_v128_and(sm_kern_i8x16_shl(h, 3), x10));
}

// s = sum_b d_x (d_w sum_g sc[g] sum q_w q_x - dmin_w sum_g m[g] sum x_g)      (Q5_K · Q8_K)
float sm_kern_vec_dot_q5_K_simd128(int64_t n, const void *w, const void *x) {
    float acc = 0.0f, mins = 0.0f;
    for (int64_t i = 0; i < n / SM_QK_K; i++) {
        const uint8_t *a = (const uint8_t *)w + i * (int64_t)sizeof(sm_block_q5_K);
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
        const float dx = sm_kern_load_f32(b);
        uint8_t sc[8];
        const int32_t msum = q45_scales(a + Q5K_SCALES, b, sc);
        mins += dx * sm_kern_load_scale_k(a + Q5K_DMIN) * (float)msum;
        v128_t h0 = wasm_v128_load(a + Q5K_QH), h1 = wasm_v128_load(a + Q5K_QH + 16);
        v128_t isum = wasm_i32x4_splat(0);
        for (int j = 0; j < 4; j++) {
            const uint8_t *xq = b + Q8K_QS + 64 * j;
            v128_t lo0, hi0, lo1, hi1;
            q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j), h0, &lo0, &hi0);
            q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j + 16), h1, &lo1, &hi1);
            isum = mac_group(isum, lo0, xq, sc[2 * j]);
            isum = mac_group(isum, lo1, xq + 16, sc[2 * j]);
            isum = mac_group(isum, hi0, xq + 32, sc[2 * j + 1]);
            isum = mac_group(isum, hi1, xq + 48, sc[2 * j + 1]);
            h0 = sm_kern_u8x16_shr(h0, 2);
            h1 = sm_kern_u8x16_shr(h1, 2);
        }
        acc = k_acc_block(acc, isum, dx * sm_kern_load_scale_k(a));
    }
    return acc - mins;
}

/* The four unsigned 6-bit vectors (0..63) of Q6_K elements 128h + 16k + {0, 32, 64, 96} + l, l < 16,
 * from the bytes ql + 64h + 16k (l0), ql + 64h + 16k + 32 (l1) and qh + 32h + 16k (h). Byte-wise,
 * so permuted inputs give equally permuted outputs. */
static inline void q6_unpack_u(v128_t l0, v128_t l1, v128_t h, v128_t *q0, v128_t *q1, v128_t *q2,
                               v128_t *q3) {
    /* 16-bit shifts: every bit they carry across a byte boundary falls outside the masks. */
    const v128_t m4 = wasm_i8x16_splat(15), m30 = wasm_i8x16_splat(0x30);
    *q0 = wasm_v128_or(wasm_v128_and(l0, m4), wasm_v128_and(wasm_i16x8_shl(h, 4), m30));
    *q1 = wasm_v128_or(wasm_v128_and(l1, m4), wasm_v128_and(wasm_i16x8_shl(h, 2), m30));
    *q2 = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l0, 4), m4), wasm_v128_and(h, m30));
    *q3 = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l1, 4), m4),
                       wasm_v128_and(wasm_u16x8_shr(h, 2), m30));
}

/* The four 6-bit (minus 32) vectors of Q6_K elements 128h + 16k + {0, 32, 64, 96} + l, l < 16,
 * given ql + 64h + 16k and qh + 32h + 16k. */
static inline void q6_unpack(const uint8_t *ql, const uint8_t *qh, v128_t *q0, v128_t *q1,
                             v128_t *q2, v128_t *q3) {
    const v128_t off = wasm_i8x16_splat(32);
    q6_unpack_u(wasm_v128_load(ql), wasm_v128_load(ql + 32), wasm_v128_load(qh), q0, q1, q2, q3);
    *q0 = wasm_i8x16_sub(*q0, off);
    *q1 = wasm_i8x16_sub(*q1, off);
    *q2 = wasm_i8x16_sub(*q2, off);
    *q3 = wasm_i8x16_sub(*q3, off);
}

// s = sum_b d_x d_w sum_g sc[g] sum (q_w - 32) q_x      (Q6_K · Q8_K)
float sm_kern_vec_dot_q6_K_simd128(int64_t n, const void *w, const void *x) {
    float acc = 0.0f;
    for (int64_t i = 0; i < n / SM_QK_K; i++) {
        const uint8_t *a = (const uint8_t *)w + i * (int64_t)sizeof(sm_block_q6_K);
        const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
        const int8_t *sc = (const int8_t *)(a + Q6K_SCALES);
        v128_t isum = wasm_i32x4_splat(0);
        for (int hk = 0; hk < 4; hk++) { /* half h = hk / 2, 16-lane slice k = hk % 2 */
            const int h = hk / 2, k = hk % 2, g = 8 * h + k;
            const uint8_t *xq = b + Q8K_QS + 128 * h + 16 * k;
            v128_t q0, q1, q2, q3;
            q6_unpack(a + 64 * h + 16 * k, a + Q6K_QH + 32 * h + 16 * k, &q0, &q1, &q2, &q3);
            isum = mac_group(isum, q0, xq, sc[g]);
            isum = mac_group(isum, q1, xq + 32, sc[g + 2]);
            isum = mac_group(isum, q2, xq + 64, sc[g + 4]);
            isum = mac_group(isum, q3, xq + 96, sc[g + 6]);
        }
        acc = k_acc_block(acc, isum, sm_kern_load_f32(b) * sm_kern_load_scale_k(a + Q6K_D));
    }
    return acc;
}

/* ---- dequantize ---------------------------------------------------------------------------- */

/* y[0..32) = dl * q - ml for 32 bytes of q, as two 16-lane halves. */
static void store_group32(float *y, v128_t q0, v128_t q1, float dl, float ml) {
    const v128_t vd = wasm_f32x4_splat(dl), vm = wasm_f32x4_splat(ml);
    sm_kern_store_i8x16_f32_sub(y, q0, vd, vm);
    sm_kern_store_i8x16_f32_sub(y + 16, q1, vd, vm);
}

// y[e] = (d * sc[g]) * q[e] - dmin * m[g]      (Q4_K)
void sm_kern_to_float_q4_K_simd128(const void *x, float *y, int64_t n) {
    const v128_t m4 = wasm_i8x16_splat(15);
    for (int64_t i = 0; i < n / SM_QK_K; i++, y += SM_QK_K) {
        const uint8_t *a = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q4_K);
        const float d = sm_kern_load_scale_k(a), dmin = sm_kern_load_scale_k(a + Q4K_DMIN);
        for (int j = 0; j < 4; j++) {
            int sc0, m0, sc1, m1;
            sm_kern_q4k_scale_min(2 * j, a + Q4K_SCALES, &sc0, &m0);
            sm_kern_q4k_scale_min(2 * j + 1, a + Q4K_SCALES, &sc1, &m1);
            const v128_t q0 = wasm_v128_load(a + Q4K_QS + 32 * j);
            const v128_t q1 = wasm_v128_load(a + Q4K_QS + 32 * j + 16);
            store_group32(y + 64 * j, wasm_v128_and(q0, m4), wasm_v128_and(q1, m4), d * (float)sc0,
                          dmin * (float)m0);
            store_group32(y + 64 * j + 32, sm_kern_u8x16_shr(q0, 4), sm_kern_u8x16_shr(q1, 4),
                          d * (float)sc1, dmin * (float)m1);
        }
    }
}

// y[e] = (d * sc[g]) * q[e] - dmin * m[g]      (Q5_K)
void sm_kern_to_float_q5_K_simd128(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, y += SM_QK_K) {
        const uint8_t *a = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q5_K);
        const float d = sm_kern_load_scale_k(a), dmin = sm_kern_load_scale_k(a + Q5K_DMIN);
        v128_t h0 = wasm_v128_load(a + Q5K_QH), h1 = wasm_v128_load(a + Q5K_QH + 16);
        for (int j = 0; j < 4; j++) {
            int sc0, m0, sc1, m1;
            sm_kern_q4k_scale_min(2 * j, a + Q5K_SCALES, &sc0, &m0);
            sm_kern_q4k_scale_min(2 * j + 1, a + Q5K_SCALES, &sc1, &m1);
            v128_t lo0, hi0, lo1, hi1;
            q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j), h0, &lo0, &hi0);
            q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j + 16), h1, &lo1, &hi1);
            store_group32(y + 64 * j, lo0, lo1, d * (float)sc0, dmin * (float)m0);
            store_group32(y + 64 * j + 32, hi0, hi1, d * (float)sc1, dmin * (float)m1);
            h0 = sm_kern_u8x16_shr(h0, 2);
            h1 = sm_kern_u8x16_shr(h1, 2);
        }
    }
}

// y[e] = (d * sc[g]) * (q[e] - 32)      (Q6_K)
void sm_kern_to_float_q6_K_simd128(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, y += SM_QK_K) {
        const uint8_t *a = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q6_K);
        const int8_t *sc = (const int8_t *)(a + Q6K_SCALES);
        const float d = sm_kern_load_scale_k(a + Q6K_D);
        for (int h = 0; h < 2; h++) {
            for (int k = 0; k < 2; k++) {
                const int g = 8 * h + k;
                float *yk = y + 128 * h + 16 * k;
                v128_t q0, q1, q2, q3;
                q6_unpack(a + 64 * h + 16 * k, a + Q6K_QH + 32 * h + 16 * k, &q0, &q1, &q2, &q3);
                sm_kern_store_i8x16_f32(yk, q0, wasm_f32x4_splat(d * (float)sc[g]));
                sm_kern_store_i8x16_f32(yk + 32, q1, wasm_f32x4_splat(d * (float)sc[g + 2]));
                sm_kern_store_i8x16_f32(yk + 64, q2, wasm_f32x4_splat(d * (float)sc[g + 4]));
                sm_kern_store_i8x16_f32(yk + 96, q3, wasm_f32x4_splat(d * (float)sc[g + 6]));
            }
        }
    }
}

/* ---- tiles of dots (prefill) --------------------------------------------------------------- */

static inline void widen32(v128_t a, v128_t b, v128_t w[4]) {
    w[0] = wasm_i16x8_extend_low_i8x16(a), w[1] = wasm_i16x8_extend_high_i8x16(a);
    w[2] = wasm_i16x8_extend_low_i8x16(b), w[3] = wasm_i16x8_extend_high_i8x16(b);
}

/* 32 weights (lo: elements 0-15, hi: 16-31, bytes) widened to four i16x8 and multiplied by their
 * group's scale: each i16 product is exact (|q sc| <= 31 * 63 for Q5_K), and so is every i32 lane
 * of dot32_i16 on them, the lanes of mac_group's scale * dot, so the block sums are the vec_dot's
 * lane for lane. */
static inline void widen32_scaled(v128_t lo, v128_t hi, int scale, v128_t w[4]) {
    const v128_t s = wasm_i16x8_splat((int16_t)scale);
    widen32(lo, hi, w);
    for (int k = 0; k < 4; k++) w[k] = wasm_i16x8_mul(w[k], s);
}

/* 16 weights (one Q6_K group) widened to two i16x8 and multiplied by the group's scale
 * (|(q - 32) sc| <= 32 * 128 fits i16), so each dot_i16x8 lane is scale * mac_group's lane. */
static inline void widen16_scaled(v128_t q, int scale, v128_t w[2]) {
    const v128_t s = wasm_i16x8_splat((int16_t)scale);
    w[0] = wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(q), s);
    w[1] = wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(q), s);
}

/* Every row of a tile of nt tokens starting at t0: CALL with a (the row), yr (its first output)
 * and NT, the tile width as a constant, so an always_inline row kernel is instantiated per width. */
#define K_TILE_ROWS(CALL, w, w_stride, n_rows, y, ldy)                                             \
    for (int r = 0; r < (n_rows); r++) {                                                           \
        const uint8_t *a = (const uint8_t *)(w) + (size_t)r * (w_stride);                          \
        float *yr = (y) + t0 * (ldy) + r;                                                          \
        switch (nt) {                                                                              \
        case 4: { enum { NT = 4 }; CALL; break; }                                                  \
        case 3: { enum { NT = 3 }; CALL; break; }                                                  \
        case 2: { enum { NT = 2 }; CALL; break; }                                                  \
        default: { enum { NT = 1 }; CALL; break; }                                                 \
        }                                                                                          \
    }

/* The Q8_K row x (nb blocks) widened to i16, 32 vectors per block (elements 8v to 8v + 7), done
 * once per gemv call (and once per prefill chunk and token): the block loops then widen only the
 * weights. */
static void widen_q8_K_row(const uint8_t *x, int64_t nb, v128_t *xw) {
    for (int64_t i = 0; i < nb; i++, x += sizeof(sm_block_q8_K), xw += SM_QK_K / 8) {
        for (int k = 0; k < SM_QK_K / 16; k++) {
            const v128_t v = wasm_v128_load(x + Q8K_QS + 16 * k);
            xw[2 * k] = wasm_i16x8_extend_low_i8x16(v);
            xw[2 * k + 1] = wasm_i16x8_extend_high_i8x16(v);
        }
    }
}

/* The K-quant gemms (Q4_K, Q5_K, Q6_K) in the shape of the Q4_0/Q8_0 ones: tiles of K_TILE
 * tokens and K_ROWS rows, the tile's Q8_K activations widened to i16 once per chunk of K_CHUNK
 * super-blocks for all the rows, each row's weights unpacked, widened and multiplied by their
 * group scales once per tile, and the tokens in a loop of K_TOKENS_PER_PASS per pass that stays a
 * loop in the WASM (V8 loads every operand of a basic block up front; see gemm_legacy). Each
 * (row, token) result is bit-identical to the type's vec_dot: the integer lanes hold the same
 * exact sums, and the float operations are the vec_dot's, in its order. */
enum { K_TILE = 8, K_CHUNK = 2, K_ROWS = 16, K_TOKENS_PER_PASS = 4 };

typedef struct k_chunk {
    v128_t q[K_CHUNK][K_TILE][SM_QK_K / 8]; /* token t's elements 8v .. 8v+7 of block s, in i16 */
    v128_t bsum2[K_CHUNK][K_TILE];           /* bsums[2g] + bsums[2g + 1], g < 8, in i16 */
    float d[K_CHUNK][K_TILE];
} k_chunk;

static void k_widen_chunk(const uint8_t *x, size_t x_stride, int n_tok, int nbc, k_chunk *c) {
    for (int s = 0; s < nbc; s++)
        for (int t = 0; t < n_tok; t++) {
            const uint8_t *b = x + (size_t)t * x_stride + (size_t)s * sizeof(sm_block_q8_K);
            widen_q8_K_row(b, 1, c->q[s][t]);
            c->bsum2[s][t] = q8_K_bsum_pairs(b);
            c->d[s][t] = sm_kern_load_f32(b);
        }
}

/* isum[t] += the i32 lanes of four widened weight vectors w times token t's x vectors v0, v0 + 1,
 * v0 + gap and v0 + gap + 1 (gap 2: 32 consecutive weights; 4: Q6_K's two groups 32 apart), for
 * t < n_tok. */
static inline __attribute__((always_inline)) void k_tokens(const v128_t w[4], int gap,
                                                            const k_chunk *c, int s, int v0,
                                                            int n_tok, v128_t *isum) {
#define K_DOT(t)                                                                                   \
    wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], c->q[s][t][v0]),                      \
                                  wasm_i32x4_dot_i16x8(w[1], c->q[s][t][v0 + 1])),                 \
                   wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], c->q[s][t][v0 + gap]),                \
                                  wasm_i32x4_dot_i16x8(w[3], c->q[s][t][v0 + gap + 1])))
    int t = 0;
#pragma clang loop unroll(disable)
    for (; t + K_TOKENS_PER_PASS <= n_tok; t += K_TOKENS_PER_PASS)
        for (int u = t; u < t + K_TOKENS_PER_PASS; u++) isum[u] = wasm_i32x4_add(isum[u], K_DOT(u));
#pragma clang loop unroll(disable)
    for (; t < n_tok; t++) isum[t] = wasm_i32x4_add(isum[t], K_DOT(t));
#undef K_DOT
}

/* Q4_K/Q5_K: the block's 8 scales into sc, and each token's mins term into mins[t] with the
 * vec_dot's float operations (its msum is the same exact integer, from one dot of the 8 mins
 * with the token's bsum pairs). */
static inline __attribute__((always_inline)) void k_scales_mins(const uint8_t *packed, float dmin,
                                                                 const k_chunk *c, int s,
                                                                 int n_tok, float *mins,
                                                                 uint8_t sc[8]) {
    const v128_t sm = q45_scales_mins(packed);
    memcpy(sc, &sm, 8);
    for (int t = 0; t < n_tok; t++)
        mins[t] += c->d[s][t] * dmin * (float)q45_msum(sm, c->bsum2[s][t]);
}

/* One Q4_K row's chunk of nbc blocks against the tile (sm_kern_vec_dot_q4_K_simd128 per pair). */
static inline __attribute__((always_inline)) void q4_K_row_tile(const uint8_t *a, int nbc,
                                                                 const k_chunk *c, int n_tok,
                                                                 float *acc, float *mins) {
    const v128_t m4 = wasm_i8x16_splat(15);
    for (int s = 0; s < nbc; s++, a += sizeof(sm_block_q4_K)) {
        uint8_t sc[8];
        k_scales_mins(a + Q4K_SCALES, sm_kern_load_scale_k(a + Q4K_DMIN), c, s, n_tok, mins, sc);
        v128_t isum[K_TILE];
        for (int t = 0; t < n_tok; t++) isum[t] = wasm_i32x4_splat(0);
        for (int j = 0; j < 4; j++) {
            const v128_t q0 = wasm_v128_load(a + Q4K_QS + 32 * j);
            const v128_t q1 = wasm_v128_load(a + Q4K_QS + 32 * j + 16);
            v128_t w[4];
            widen32_scaled(wasm_v128_and(q0, m4), wasm_v128_and(q1, m4), sc[2 * j], w);
            k_tokens(w, 2, c, s, 8 * j, n_tok, isum);
            widen32_scaled(sm_kern_u8x16_shr(q0, 4), sm_kern_u8x16_shr(q1, 4), sc[2 * j + 1], w);
            k_tokens(w, 2, c, s, 8 * j + 4, n_tok, isum);
        }
        const float dw = sm_kern_load_scale_k(a);
        for (int t = 0; t < n_tok; t++) acc[t] = k_acc_block(acc[t], isum[t], c->d[s][t] * dw);
    }
}

/* One Q5_K row's chunk of nbc blocks against the tile (sm_kern_vec_dot_q5_K_simd128 per pair). */
static inline __attribute__((always_inline)) void q5_K_row_tile(const uint8_t *a, int nbc,
                                                                 const k_chunk *c, int n_tok,
                                                                 float *acc, float *mins) {
    for (int s = 0; s < nbc; s++, a += sizeof(sm_block_q5_K)) {
        uint8_t sc[8];
        k_scales_mins(a + Q5K_SCALES, sm_kern_load_scale_k(a + Q5K_DMIN), c, s, n_tok, mins, sc);
        v128_t isum[K_TILE];
        for (int t = 0; t < n_tok; t++) isum[t] = wasm_i32x4_splat(0);
        v128_t h0 = wasm_v128_load(a + Q5K_QH), h1 = wasm_v128_load(a + Q5K_QH + 16);
        for (int j = 0; j < 4; j++) {
            v128_t lo0, hi0, lo1, hi1, w[4];
            q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j), h0, &lo0, &hi0);
            q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j + 16), h1, &lo1, &hi1);
            widen32_scaled(lo0, lo1, sc[2 * j], w);
            k_tokens(w, 2, c, s, 8 * j, n_tok, isum);
            widen32_scaled(hi0, hi1, sc[2 * j + 1], w);
            k_tokens(w, 2, c, s, 8 * j + 4, n_tok, isum);
            h0 = sm_kern_u8x16_shr(h0, 2);
            h1 = sm_kern_u8x16_shr(h1, 2);
        }
        const float dw = sm_kern_load_scale_k(a);
        for (int t = 0; t < n_tok; t++) acc[t] = k_acc_block(acc[t], isum[t], c->d[s][t] * dw);
    }
}

/* One Q6_K row's chunk of nbc blocks against the tile (sm_kern_vec_dot_q6_K_simd128 per pair; no
 * mins term, mins stays 0). */
static inline __attribute__((always_inline)) void q6_K_row_tile(const uint8_t *a, int nbc,
                                                                 const k_chunk *c, int n_tok,
                                                                 float *acc, float *mins) {
    (void)mins;
    for (int s = 0; s < nbc; s++, a += sizeof(sm_block_q6_K)) {
        const int8_t *sc = (const int8_t *)(a + Q6K_SCALES);
        v128_t isum[K_TILE];
        for (int t = 0; t < n_tok; t++) isum[t] = wasm_i32x4_splat(0);
        for (int hk = 0; hk < 4; hk++) { /* half h = hk / 2, 16-lane slice k = hk % 2 */
            const int h = hk / 2, k = hk % 2, g = 8 * h + k, v0 = 16 * h + 2 * k;
            v128_t q[4], w[4];
            q6_unpack(a + 64 * h + 16 * k, a + Q6K_QH + 32 * h + 16 * k, &q[0], &q[1], &q[2], &q[3]);
            for (int i = 0; i < 4; i += 2) { /* elements 128h + 16k + 32i + l: x vectors v0 + 4i */
                widen16_scaled(q[i], sc[g + 2 * i], w);
                widen16_scaled(q[i + 1], sc[g + 2 * i + 2], w + 2);
                k_tokens(w, 4, c, s, v0 + 4 * i, n_tok, isum);
            }
        }
        const float dw = sm_kern_load_scale_k(a + Q6K_D);
        for (int t = 0; t < n_tok; t++) acc[t] = k_acc_block(acc[t], isum[t], c->d[s][t] * dw);
    }
}

/* The tile loop: token tiles of K_TILE (then the rest), groups of K_ROWS rows, chunks of K_CHUNK
 * blocks; row_fn(a, nbc, chunk, n_tok, acc, mins) gets a constant n_tok for full tiles. */
#define K_GEMM(row_fn, a_bytes, n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy)                \
    do {                                                                                           \
        const int64_t nb_ = (n) / SM_QK_K;                                                         \
        k_chunk c_;                                                                                \
        float acc_[K_ROWS][K_TILE];                                                                \
        float mins_[K_ROWS][K_TILE];                                                               \
        for (int t0 = 0; t0 < (n_tok); t0 += K_TILE) {                                             \
            const int nt = (n_tok) - t0 < K_TILE ? (n_tok) - t0 : K_TILE;                          \
            const uint8_t *xt = (const uint8_t *)(x) + (size_t)t0 * (x_stride);                    \
            for (int r0 = 0; r0 < (n_rows); r0 += K_ROWS) {                                        \
                const int nr = (n_rows) - r0 < K_ROWS ? (n_rows) - r0 : K_ROWS;                    \
                for (int r = 0; r < nr; r++)                                                       \
                    for (int t = 0; t < nt; t++)                                                   \
                        acc_[r][t] = 0.0f, mins_[r][t] = 0.0f;                                     \
                for (int64_t s0 = 0; s0 < nb_; s0 += K_CHUNK) {                                    \
                    const int nbc = nb_ - s0 < K_CHUNK ? (int)(nb_ - s0) : K_CHUNK;                \
                    k_widen_chunk(xt + (size_t)s0 * sizeof(sm_block_q8_K), x_stride, nt, nbc, &c_); \
                    for (int r = 0; r < nr; r++) {                                                 \
                        const uint8_t *a = (const uint8_t *)(w) + (size_t)(r0 + r) * (w_stride) +  \
                                           (size_t)s0 * (a_bytes);                                 \
                        if (nt == K_TILE) row_fn(a, nbc, &c_, K_TILE, acc_[r], mins_[r]);          \
                        else row_fn(a, nbc, &c_, nt, acc_[r], mins_[r]);                           \
                    }                                                                              \
                }                                                                                  \
                for (int r = 0; r < nr; r++)                                                       \
                    for (int t = 0; t < nt; t++)                                                   \
                        (y)[(t0 + t) * (ldy) + r0 + r] = acc_[r][t] - mins_[r][t];             \
            }                                                                                      \
        }                                                                                          \
    } while (0)

// y[t][r] = W[r] · x[t], Q4_K · Q8_K, bit-identical to sm_kern_vec_dot_q4_K_simd128
void sm_kern_gemm_q4_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    K_GEMM(q4_K_row_tile, sizeof(sm_block_q4_K), n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy);
}

// y[t][r] = W[r] · x[t], Q5_K · Q8_K, bit-identical to sm_kern_vec_dot_q5_K_simd128
void sm_kern_gemm_q5_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    K_GEMM(q5_K_row_tile, sizeof(sm_block_q5_K), n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy);
}

// y[t][r] = W[r] · x[t], Q6_K · Q8_K, bit-identical to sm_kern_vec_dot_q6_K_simd128 (y = hsum - 0)
void sm_kern_gemm_q6_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    K_GEMM(q6_K_row_tile, sizeof(sm_block_q6_K), n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy);
}

/* ---- decode: one activation row against many weight rows ----------------------------------- */

/* mac_group with the 16 activations already widened (xw: two i16x8) and the scale in all lanes. */
static inline v128_t mac_group_widened(v128_t isum, v128_t q, const v128_t *xw, v128_t scale) {
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(q), xw[0]),
                                      wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(q), xw[1]));
    return wasm_i32x4_add(isum, wasm_i32x4_mul(dot, scale));
}

/* A Q4_K/Q5_K block's start in a tile of n_tok tokens: each token's mins term joins mins[t] with
 * the vec_dot's float operations, isum[t] starts at zero, and sc gets the block's 8 scales.
 * dmin: the block's fp16 dmin as a float. */
static inline __attribute__((always_inline)) void q45_tile_block_start(
    const uint8_t *a, float dmin, size_t scales_off, const uint8_t *b, size_t x_stride,
    int n_tok, float *mins, v128_t *isum, uint8_t sc[8]) {
    for (int t = 0; t < n_tok; t++) {
        const uint8_t *bt = b + (size_t)t * x_stride;
        const int32_t msum = q45_scales(a + scales_off, bt, sc);
        mins[t] += sm_kern_load_f32(bt) * dmin * (float)msum;
        isum[t] = wasm_i32x4_splat(0);
    }
}

/* The unpacked activation row of a K-quant gemv (on the stack: SM_GEMV_MAX_N elements). */
typedef struct k_row16 {
    v128_t q[SM_GEMV_MAX_N / 8];
} k_row16;

// y[r] = W[r] · x, Q4_K · Q8_K, bit-identical to sm_kern_vec_dot_q4_K_simd128
void sm_kern_gemv_q4_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    const int64_t nb = n / SM_QK_K;
    k_row16 xw;
    widen_q8_K_row(x, nb, xw.q);
    const v128_t m4 = wasm_i8x16_splat(15);
    const float *half = sm_kern_fp16_table(); /* the weights' fp16 scales */
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f, mins = 0.0f;
        for (int64_t i = 0; i < nb; i++) {
            const uint8_t *a = (const uint8_t *)w + r * w_stride + i * (int64_t)sizeof(sm_block_q4_K);
            const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
            const v128_t *xb = xw.q + i * (SM_QK_K / 8);
            uint8_t sc[8];
            v128_t isum;
            q45_tile_block_start(a, half[sm_kern_load_u16(a + Q4K_DMIN)], Q4K_SCALES, b, 0, 1, &mins, &isum, sc);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + Q4K_QS + 32 * j);
                const v128_t q1 = wasm_v128_load(a + Q4K_QS + 32 * j + 16);
                const v128_t *xq = xb + 8 * j;
                const v128_t slo = wasm_i32x4_splat(sc[2 * j]), shi = wasm_i32x4_splat(sc[2 * j + 1]);
                isum = mac_group_widened(isum, wasm_v128_and(q0, m4), xq, slo);
                isum = mac_group_widened(isum, wasm_v128_and(q1, m4), xq + 2, slo);
                isum = mac_group_widened(isum, sm_kern_u8x16_shr(q0, 4), xq + 4, shi);
                isum = mac_group_widened(isum, sm_kern_u8x16_shr(q1, 4), xq + 6, shi);
            }
            acc = k_acc_block(acc, isum, sm_kern_load_f32(b) * half[sm_kern_load_u16(a)]);
        }
        y[r] = acc - mins;
    }
}

// y[r] = W[r] · x, Q5_K · Q8_K, bit-identical to sm_kern_vec_dot_q5_K_simd128
void sm_kern_gemv_q5_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    const int64_t nb = n / SM_QK_K;
    k_row16 xw;
    widen_q8_K_row(x, nb, xw.q);
    const float *half = sm_kern_fp16_table(); /* the weights' fp16 scales */
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f, mins = 0.0f;
        for (int64_t i = 0; i < nb; i++) {
            const uint8_t *a = (const uint8_t *)w + r * w_stride + i * (int64_t)sizeof(sm_block_q5_K);
            const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
            const v128_t *xb = xw.q + i * (SM_QK_K / 8);
            uint8_t sc[8];
            v128_t isum;
            q45_tile_block_start(a, half[sm_kern_load_u16(a + Q5K_DMIN)], Q5K_SCALES, b, 0, 1, &mins, &isum, sc);
            v128_t h0 = wasm_v128_load(a + Q5K_QH), h1 = wasm_v128_load(a + Q5K_QH + 16);
            for (int j = 0; j < 4; j++) {
                const v128_t *xq = xb + 8 * j;
                v128_t lo0, hi0, lo1, hi1;
                q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j), h0, &lo0, &hi0);
                q5_chunk(wasm_v128_load(a + Q5K_QS + 32 * j + 16), h1, &lo1, &hi1);
                const v128_t slo = wasm_i32x4_splat(sc[2 * j]), shi = wasm_i32x4_splat(sc[2 * j + 1]);
                isum = mac_group_widened(isum, lo0, xq, slo);
                isum = mac_group_widened(isum, lo1, xq + 2, slo);
                isum = mac_group_widened(isum, hi0, xq + 4, shi);
                isum = mac_group_widened(isum, hi1, xq + 6, shi);
                h0 = sm_kern_u8x16_shr(h0, 2);
                h1 = sm_kern_u8x16_shr(h1, 2);
            }
            acc = k_acc_block(acc, isum, sm_kern_load_f32(b) * half[sm_kern_load_u16(a)]);
        }
        y[r] = acc - mins;
    }
}

// y[r] = W[r] · x, Q6_K · Q8_K, bit-identical to sm_kern_vec_dot_q6_K_simd128
void sm_kern_gemv_q6_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    const int64_t nb = n / SM_QK_K;
    k_row16 xw;
    widen_q8_K_row(x, nb, xw.q);
    const float *half = sm_kern_fp16_table(); /* the weights' fp16 scales */
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f;
        for (int64_t i = 0; i < nb; i++) {
            const uint8_t *a = (const uint8_t *)w + r * w_stride + i * (int64_t)sizeof(sm_block_q6_K);
            const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
            const v128_t *xb = xw.q + i * (SM_QK_K / 8);
            const int8_t *sc = (const int8_t *)(a + Q6K_SCALES);
            v128_t isum = wasm_i32x4_splat(0);
            for (int hk = 0; hk < 4; hk++) { /* as in the vec_dot */
                const int h = hk / 2, k = hk % 2, g = 8 * h + k;
                const v128_t *xq = xb + (128 * h + 16 * k) / 8;
                v128_t q0, q1, q2, q3;
                q6_unpack(a + 64 * h + 16 * k, a + Q6K_QH + 32 * h + 16 * k, &q0, &q1, &q2, &q3);
                isum = mac_group_widened(isum, q0, xq, wasm_i32x4_splat(sc[g]));
                isum = mac_group_widened(isum, q1, xq + 4, wasm_i32x4_splat(sc[g + 2]));
                isum = mac_group_widened(isum, q2, xq + 8, wasm_i32x4_splat(sc[g + 4]));
                isum = mac_group_widened(isum, q3, xq + 12, wasm_i32x4_splat(sc[g + 6]));
            }
            acc = k_acc_block(acc, isum, sm_kern_load_f32(b) * half[sm_kern_load_u16(a + Q6K_D)]);
        }
        y[r] = acc;
    }
}

#ifdef SM_RELAXED_SIMD
#include "kern/relaxed_simd.h"

#define RDOT sm_relaxed_dot_i8x16_i7x16_add_s

/* The relaxed kernels read the Q8_K activations' qs where they are, in natural order: with one
 * integer per block (k_acc_block) their lanes need not match the SIMD128 kernels'. */

/* -32 sum(x) per lane of each 16-group of the Q8_K row x (nb blocks): Q6_K's offset, subtracted
 * through the dot's accumulator (the instruction takes the 6-bit values unsigned). */
static void neg32_q8_K_row(const uint8_t *x, int64_t nb, v128_t *neg32) {
    const v128_t off = wasm_i8x16_splat(32), zero = wasm_i32x4_splat(0);
    for (int64_t i = 0; i < nb; i++, x += sizeof(sm_block_q8_K))
        for (int g = 0; g < SM_QK_K / 16; g++)
            *neg32++ = wasm_i32x4_sub(zero, RDOT(wasm_v128_load(x + Q8K_QS + 16 * g), off, zero));
}

/* One Q8_K row's neg32 terms (on the stack: SM_GEMV_MAX_N elements). */
typedef struct k_row_neg32 {
    v128_t q[SM_GEMV_MAX_N / 16];
} k_row_neg32;

/* What the relaxed Q4_K/Q5_K gemvs keep of their activation row per block besides the qs: the bsum
 * pairs and d. */
typedef struct k_row_blocks {
    v128_t bsum_pairs[SM_GEMV_MAX_N / SM_QK_K];
    float d[SM_GEMV_MAX_N / SM_QK_K];
} k_row_blocks;

static void k_row_blocks_of(const uint8_t *x, int64_t nb, k_row_blocks *rb) {
    for (int64_t i = 0; i < nb; i++, x += sizeof(sm_block_q8_K)) {
        rb->bsum_pairs[i] = q8_K_bsum_pairs(x);
        rb->d[i] = sm_kern_load_f32(x);
    }
}

/* The start of a Q4_K/Q5_K block in the relaxed gemvs: mins += its mins term (the vec_dot's float
 * operations), and its 8 scales as i32 lanes, scales 0-3 in *sc_lo and 4-7 in *sc_hi. */
static inline __attribute__((always_inline)) void q45_gemv_block_start(
    const uint8_t *packed, float dmin, const k_row_blocks *rb, int64_t i, float *mins,
    v128_t *sc_lo, v128_t *sc_hi) {
    const v128_t sm = q45_scales_mins(packed);
    *mins += rb->d[i] * dmin * (float)q45_msum(sm, rb->bsum_pairs[i]);
    const v128_t sc16 = wasm_u16x8_extend_low_u8x16(sm);
    *sc_lo = wasm_u32x4_extend_low_u16x8(sc16);
    *sc_hi = wasm_u32x4_extend_high_u16x8(sc16);
}

/* isum + 64 weights of a Q4_K/Q5_K block times their 64 activation bytes at xv (Q8_K qs):
 * elements 0-15 and 16-31 (l0, l1) with scale slo, 32-47 and 48-63 (h0, h1) with scale shi;
 * weights in 0..31. */
static inline v128_t rdot_group64(v128_t isum, const uint8_t *xv, v128_t l0, v128_t l1, v128_t h0,
                                  v128_t h1, v128_t slo, v128_t shi) {
    const v128_t zero = wasm_i32x4_splat(0);
    const v128_t lo = RDOT(wasm_v128_load(xv + 16), l1, RDOT(wasm_v128_load(xv), l0, zero));
    const v128_t hi = RDOT(wasm_v128_load(xv + 48), h1, RDOT(wasm_v128_load(xv + 32), h0, zero));
    return wasm_i32x4_add(isum, wasm_i32x4_add(wasm_i32x4_mul(lo, slo), wasm_i32x4_mul(hi, shi)));
}

/* The relaxed Q4_K (q5 = 0) and Q5_K (q5 = 1) gemvs: the same block set-up and dots, only the
 * weights' unpacking differs (Q5_K's fifth bits come from qh, shifted down 2 per 64 weights). */
static inline __attribute__((always_inline)) void gemv_q45_relaxed(int64_t n, const void *w,
                                                                   size_t w_stride, int n_rows,
                                                                   const void *x, float *y, int q5) {
    const int64_t nb = n / SM_QK_K;
    const size_t block = q5 ? sizeof(sm_block_q5_K) : sizeof(sm_block_q4_K);
    const size_t qs = q5 ? Q5K_QS : Q4K_QS, scales = q5 ? Q5K_SCALES : Q4K_SCALES;
    const size_t dmin = q5 ? Q5K_DMIN : Q4K_DMIN;
    k_row_blocks rb;
    k_row_blocks_of(x, nb, &rb);
    const v128_t m4 = wasm_i8x16_splat(15), zero = wasm_i32x4_splat(0);
    const float *half = sm_kern_fp16_table(); /* the weights' fp16 scales */
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f, mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += block) {
            const uint8_t *xb = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K) + Q8K_QS;
            v128_t s0, s1;
            q45_gemv_block_start(a + scales, half[sm_kern_load_u16(a + dmin)], &rb, i, &mins, &s0, &s1);
            v128_t h0 = zero, h1 = zero;
            if (q5) h0 = wasm_v128_load(a + Q5K_QH), h1 = wasm_v128_load(a + Q5K_QH + 16);
            v128_t isum = zero;
#define Q45_GROUPS(j, sv, k)                                                                       \
    do {                                                                                           \
        const v128_t q0 = wasm_v128_load(a + qs + 32 * (j)), q1 = wasm_v128_load(a + qs + 32 * (j) + 16); \
        v128_t l0, l1, g0, g1; /* elements 0-15, 16-31 (scale k) and 32-47, 48-63 (scale k + 1) */ \
        if (q5) {                                                                                  \
            q5_chunk(q0, h0, &l0, &g0);                                                            \
            q5_chunk(q1, h1, &l1, &g1);                                                            \
            h0 = sm_kern_u8x16_shr(h0, 2);                                                         \
            h1 = sm_kern_u8x16_shr(h1, 2);                                                         \
        } else {                                                                                   \
            l0 = wasm_v128_and(q0, m4), l1 = wasm_v128_and(q1, m4);                                \
            g0 = sm_kern_u8x16_shr(q0, 4), g1 = sm_kern_u8x16_shr(q1, 4);                          \
        }                                                                                          \
        isum = rdot_group64(isum, xb + 64 * (j), l0, l1, g0, g1, K_LANE(sv, k), K_LANE(sv, (k) + 1)); \
    } while (0)
            Q45_GROUPS(0, s0, 0);
            Q45_GROUPS(1, s0, 2);
            Q45_GROUPS(2, s1, 0);
            Q45_GROUPS(3, s1, 2);
#undef Q45_GROUPS
            acc = k_acc_block(acc, isum, rb.d[i] * half[sm_kern_load_u16(a)]);
        }
        y[r] = acc - mins;
    }
}

// y[r] = W[r] · x, Q4_K · Q8_K with the relaxed i8 dot, bit-identical to the SIMD128 vec_dot: each
// block's integer sum is the same (k_acc_block), so are the float operations
void sm_kern_gemv_q4_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    gemv_q45_relaxed(n, w, w_stride, n_rows, x, y, 0);
}

// y[r] = W[r] · x, Q5_K · Q8_K with the relaxed i8 dot, bit-identical to the SIMD128 vec_dot (as
// the Q4_K one: its 5-bit values are the instruction's 7-bit operand)
void sm_kern_gemv_q5_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    gemv_q45_relaxed(n, w, w_stride, n_rows, x, y, 1);
}

// y[r] = W[r] · x, Q6_K · Q8_K with the relaxed i8 dot, bit-identical to the SIMD128 vec_dot:
// sum (q - 32) x = sum q x - 32 sum x, exactly, and each block's integer sum is the same
void sm_kern_gemv_q6_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y) {
    const int64_t nb = n / SM_QK_K;
    k_row_neg32 neg32;
    neg32_q8_K_row(x, nb, neg32.q);
    const float *half = sm_kern_fp16_table(); /* the weights' fp16 scales */
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f;
        for (int64_t i = 0; i < nb; i++) {
            const uint8_t *a = (const uint8_t *)w + r * w_stride + i * (int64_t)sizeof(sm_block_q6_K);
            const uint8_t *b = (const uint8_t *)x + i * (int64_t)sizeof(sm_block_q8_K);
            const uint8_t *xb = b + Q8K_QS; /* x's 16-group g at xb + 16g */
            const v128_t *cb = neg32.q + i * (SM_QK_K / 16);
            /* the 16 signed scales as i32 lanes: group g is lane g % 4 of sc[g / 4] */
            const v128_t sc8 = wasm_v128_load(a + Q6K_SCALES);
            const v128_t lo16 = wasm_i16x8_extend_low_i8x16(sc8), hi16 = wasm_i16x8_extend_high_i8x16(sc8);
            const v128_t sc[4] = {wasm_i32x4_extend_low_i16x8(lo16), wasm_i32x4_extend_high_i16x8(lo16),
                                  wasm_i32x4_extend_low_i16x8(hi16), wasm_i32x4_extend_high_i16x8(hi16)};
            v128_t isum = wasm_i32x4_splat(0);
            /* as in the vec_dot: half h, 16-lane slice k, groups g = 8h + k + {0, 2, 4, 6}, which
             * are also the 16-groups of x at bytes 128h + 16k + {0, 32, 64, 96} */
#define Q6K_SLICE(h, k)                                                                            \
    do {                                                                                           \
        const int g = 8 * (h) + (k);                                                               \
        const uint8_t *ql = a + 64 * (h) + 16 * (k), *qh = a + Q6K_QH + 32 * (h) + 16 * (k);       \
        v128_t u0, u1, u2, u3;                                                                     \
        q6_unpack_u(wasm_v128_load(ql), wasm_v128_load(ql + 32), wasm_v128_load(qh), &u0, &u1,     \
                    &u2, &u3);                                                                     \
        const v128_t d0 = RDOT(wasm_v128_load(xb + 16 * g), u0, cb[g]);                           \
        const v128_t d1 = RDOT(wasm_v128_load(xb + 16 * (g + 2)), u1, cb[g + 2]);                  \
        const v128_t d2 = RDOT(wasm_v128_load(xb + 16 * (g + 4)), u2, cb[g + 4]);                  \
        const v128_t d3 = RDOT(wasm_v128_load(xb + 16 * (g + 6)), u3, cb[g + 6]);                  \
        isum = wasm_i32x4_add(isum, wasm_i32x4_mul(d0, K_LANE(sc[2 * (h)], k)));                   \
        isum = wasm_i32x4_add(isum, wasm_i32x4_mul(d1, K_LANE(sc[2 * (h)], (k) + 2)));             \
        isum = wasm_i32x4_add(isum, wasm_i32x4_mul(d2, K_LANE(sc[2 * (h) + 1], k)));               \
        isum = wasm_i32x4_add(isum, wasm_i32x4_mul(d3, K_LANE(sc[2 * (h) + 1], (k) + 2)));         \
    } while (0)
            Q6K_SLICE(0, 0);
            Q6K_SLICE(0, 1);
            Q6K_SLICE(1, 0);
            Q6K_SLICE(1, 1);
#undef Q6K_SLICE
            acc = k_acc_block(acc, isum, sm_kern_load_f32(b) * half[sm_kern_load_u16(a + Q6K_D)]);
        }
        y[r] = acc;
    }
}

/* Prefill tiles with the relaxed dot: tokens in tiles of up to 4, every row against a tile (Q6_K
 * makes the tile's neg32 terms first, on the stack; its rows longer than SM_GEMV_MAX_N take the
 * SIMD128 gemm). Each (row, token) result is bit-identical to the vec_dot, as in the gemvs above. */
enum { K_RELAXED_TILE = 4 };

/* The neg32 terms of a Q6_K tile's activation rows. */
typedef struct k_tile_neg32 {
    k_row_neg32 neg32[K_RELAXED_TILE];
} k_tile_neg32;

/* One Q4_K row against n_tok (1-4) Q8_K activation rows x. */
static inline __attribute__((always_inline)) void q4_K_row_relaxed(int64_t nb, const uint8_t *a,
                                                                   const uint8_t *x, size_t x_stride,
                                                                   const k_tile_neg32 *xt,
                                                                   int n_tok, float *y, int64_t ldy) {
    (void)xt;
    const v128_t m4 = wasm_i8x16_splat(15);
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f}, mins[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t i = 0; i < nb; i++, a += sizeof(sm_block_q4_K)) {
        const uint8_t *b = x + i * (int64_t)sizeof(sm_block_q8_K);
        uint8_t sc[8];
        v128_t isum[4];
        const float dw = sm_kern_load_scale_k(a);
        q45_tile_block_start(a, sm_kern_load_scale_k(a + Q4K_DMIN), Q4K_SCALES, b, x_stride, n_tok, mins, isum, sc);
        for (int j = 0; j < 4; j++) {
            const v128_t q0 = wasm_v128_load(a + Q4K_QS + 32 * j);
            const v128_t q1 = wasm_v128_load(a + Q4K_QS + 32 * j + 16);
            const v128_t l0 = wasm_v128_and(q0, m4), l1 = wasm_v128_and(q1, m4);
            const v128_t h0 = sm_kern_u8x16_shr(q0, 4), h1 = sm_kern_u8x16_shr(q1, 4);
            const v128_t s_lo = wasm_i32x4_splat(sc[2 * j]), s_hi = wasm_i32x4_splat(sc[2 * j + 1]);
            for (int t = 0; t < n_tok; t++) {
                isum[t] = rdot_group64(isum[t], b + (size_t)t * x_stride + Q8K_QS + 64 * j, l0, l1,
                                       h0, h1, s_lo, s_hi);
            }
        }
        for (int t = 0; t < n_tok; t++) {
            const float d = sm_kern_load_f32(b + (size_t)t * x_stride) * dw;
            acc[t] = k_acc_block(acc[t], isum[t], d);
        }
    }
    for (int t = 0; t < n_tok; t++) y[t * ldy] = acc[t] - mins[t];
}

/* One Q6_K row against n_tok (1-4) Q8_K activation rows x and their -32 sum(x) terms xt. */
static inline __attribute__((always_inline)) void q6_K_row_relaxed(int64_t nb, const uint8_t *a,
                                                                   const uint8_t *x, size_t x_stride,
                                                                   const k_tile_neg32 *xt,
                                                                   int n_tok, float *y, int64_t ldy) {
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t i = 0; i < nb; i++, a += sizeof(sm_block_q6_K)) {
        const uint8_t *b = x + i * (int64_t)sizeof(sm_block_q8_K);
        const int8_t *sc = (const int8_t *)(a + Q6K_SCALES);
        v128_t isum[4];
        for (int t = 0; t < n_tok; t++) isum[t] = wasm_i32x4_splat(0);
        for (int hk = 0; hk < 4; hk++) {
            const int h = hk / 2, k = hk % 2, g = 8 * h + k;
            const uint8_t *ql = a + 64 * h + 16 * k, *qh = a + Q6K_QH + 32 * h + 16 * k;
            v128_t u[4];
            q6_unpack_u(wasm_v128_load(ql), wasm_v128_load(ql + 32), wasm_v128_load(qh), &u[0], &u[1],
                        &u[2], &u[3]);
            for (int m = 0; m < 4; m++) {
                const v128_t s = wasm_i32x4_splat(sc[g + 2 * m]);
                const int64_t gx = i * (SM_QK_K / 16) + g + 2 * m; /* x's 16-group */
                for (int t = 0; t < n_tok; t++) {
                    const uint8_t *xg = x + (size_t)t * x_stride + i * (int64_t)sizeof(sm_block_q8_K) +
                                        Q8K_QS + 16 * (g + 2 * m);
                    const v128_t dot = RDOT(wasm_v128_load(xg), u[m], xt->neg32[t].q[gx]);
                    isum[t] = wasm_i32x4_add(isum[t], wasm_i32x4_mul(dot, s));
                }
            }
        }
        const float dw = sm_kern_load_scale_k(a + Q6K_D);
        for (int t = 0; t < n_tok; t++) {
            const float d = sm_kern_load_f32(b + (size_t)t * x_stride) * dw;
            acc[t] = k_acc_block(acc[t], isum[t], d);
        }
    }
    for (int t = 0; t < n_tok; t++) y[t * ldy] = acc[t];
}

/* The tile loop of the relaxed K-quant gemms (see K_GEMM_TILES); q6 first makes each tile's -32
 * sum(x) terms. */
#define K_RELAXED_TILES(row_fn, q6, n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy)           \
    do {                                                                                           \
        const int64_t nb_ = (n) / SM_QK_K;                                                         \
        k_tile_neg32 tile_;                                                                        \
        for (int t0 = 0; t0 < (n_tok); t0 += K_RELAXED_TILE) {                                     \
            const int nt = (n_tok) - t0 < K_RELAXED_TILE ? (n_tok) - t0 : K_RELAXED_TILE;          \
            const uint8_t *xt = (const uint8_t *)(x) + (size_t)t0 * (x_stride);                    \
            for (int t = 0; (q6) && t < nt; t++)                                                   \
                neg32_q8_K_row(xt + (size_t)t * (x_stride), nb_, tile_.neg32[t].q);                \
            K_TILE_ROWS(row_fn(nb_, a, xt, x_stride, &tile_, NT, yr, ldy), w, w_stride, n_rows, y, \
                        ldy);                                                                      \
        }                                                                                          \
    } while (0)

// y[t][r] = W[r] · x[t], Q4_K · Q8_K with the relaxed i8 dot, bit-identical to the vec_dot
void sm_kern_gemm_q4_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    K_RELAXED_TILES(q4_K_row_relaxed, 0, n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy);
}

// y[t][r] = W[r] · x[t], Q6_K · Q8_K with the relaxed i8 dot, bit-identical to the vec_dot
void sm_kern_gemm_q6_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy) {
    if (n > SM_GEMV_MAX_N) {
        sm_kern_gemm_q6_K_simd128(n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy);
        return;
    }
    K_RELAXED_TILES(q6_K_row_relaxed, 1, n, w, w_stride, n_rows, x, x_stride, n_tok, y, ldy);
}

#undef RDOT
#endif /* SM_RELAXED_SIMD */

#else
typedef int sm_kern_quant_simd128_k_unused; /* ISO C forbids an empty translation unit */
#endif
