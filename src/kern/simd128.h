/*
 * simd128.h — small WASM SIMD128 building blocks shared by the *_simd128.c kernels. Internal.
 *
 * Only for files compiled with -msimd128 (include it inside their #ifdef __wasm_simd128__).
 * wasm_v128_load/store accept any alignment, so blocks inside GGUF data are read in place.
 * Integer dots widen i8 to i16 and use i32x4.dot_i16x8 (exact: |a*b| <= 2^14, pairs fit i32).
 */
#ifndef SM_KERN_SIMD128_H
#define SM_KERN_SIMD128_H

#include <string.h>
#include <wasm_simd128.h>

#include "kern/fp16.h"

/* Byte-wise shifts by a constant n, as a 16-bit shift and a mask that drops the bits crossing
 * into the neighbouring byte: the same bytes as wasm_u8x16_shr / wasm_i8x16_shl. x64 has no
 * byte shift, and V8 compiles those two to a 16-bit shift plus a mask it builds anew at every
 * use (a move, a broadcast and an and); here the mask is a constant clang can share and fold
 * into a following and. The kernels use these everywhere (bench/kernels/gemv_k_lab.c: Q4_K and
 * Q6_K decoding 8-18% faster in GMAC/s under Node 20). */
static inline __attribute__((always_inline)) v128_t sm_kern_u8x16_shr(v128_t v, int n) {
    return wasm_v128_and(wasm_u16x8_shr(v, n), wasm_i8x16_splat((int8_t)(0xff >> n)));
}

static inline __attribute__((always_inline)) v128_t sm_kern_i8x16_shl(v128_t v, int n) {
    return wasm_v128_and(wasm_i16x8_shl(v, n), wasm_i8x16_splat((int8_t)((0xff << n) & 0xff)));
}

/* Four i32 partial sums of a[i] * b[i] over 16 signed bytes. */
static inline v128_t sm_kern_dot_i8x16(v128_t a, v128_t b) {
    const v128_t lo =
        wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_low_i8x16(b));
    const v128_t hi =
        wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_extend_high_i8x16(b));
    return wasm_i32x4_add(lo, hi);
}

/* acc + (float)isum * d, lane-wise: how a block's exact integer sums join the float total. */
static inline v128_t sm_kern_acc_scaled(v128_t acc, v128_t isum, float d) {
    return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), wasm_f32x4_splat(d)));
}

static inline float sm_kern_hsum_f32x4(v128_t v) {
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

static inline int32_t sm_kern_hsum_i32x4(v128_t v) {
    v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_i32x4_extract_lane(v, 0);
}

/* Horizontal max / min with pmax / pmin (one x86 instruction each under V8, where f32x4.max
 * needs a NaN- and signed-zero-fixing sequence); inputs are assumed not NaN. */
static inline float sm_kern_hmax_f32x4(v128_t v) {
    v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

static inline float sm_kern_hmin_f32x4(v128_t v) {
    v = wasm_f32x4_pmin(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_pmin(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

/* (float)v for i32 lanes with |v| < 2^22, exactly: the bits of 1.5 * 2^23 + v, minus 1.5 * 2^23.
 * A plain f32x4.convert of lanes LLVM knows were widened from 8 or 16 bits gets scalarized by
 * the LLVM 14 WASM backend (16 extract/convert/replace per vector); this stays SIMD. */
static inline v128_t sm_kern_small_i32_to_f32(v128_t v) {
    return wasm_f32x4_sub(wasm_i32x4_add(v, wasm_i32x4_splat(0x4b400000)),
                          wasm_f32x4_splat(12582912.0f));
}

/* Round to nearest, ties to even, and convert to i32, for lanes with |v| < 2^22: adding 1.5 * 2^23
 * leaves round(v) in the low mantissa bits (ggml's nearest_int, lane-wise). Cheaper under V8 than
 * f32x4.nearest + i32x4.trunc_sat_f32x4, and bit-identical to sm_kern_nearest_int. */
static inline v128_t sm_kern_nearest_i32x4(v128_t v) {
    return wasm_i32x4_sub(wasm_f32x4_add(v, wasm_f32x4_splat(12582912.0f)),
                          wasm_i32x4_splat(0x4b400000));
}

/* The 16 signed bytes of q as four f32x4 (lanes 0-3, 4-7, 8-11, 12-15). */
static inline void sm_kern_i8x16_to_f32(v128_t q, v128_t f[4]) {
    const v128_t lo = wasm_i16x8_extend_low_i8x16(q), hi = wasm_i16x8_extend_high_i8x16(q);
    f[0] = sm_kern_small_i32_to_f32(wasm_i32x4_extend_low_i16x8(lo));
    f[1] = sm_kern_small_i32_to_f32(wasm_i32x4_extend_high_i16x8(lo));
    f[2] = sm_kern_small_i32_to_f32(wasm_i32x4_extend_low_i16x8(hi));
    f[3] = sm_kern_small_i32_to_f32(wasm_i32x4_extend_high_i16x8(hi));
}

/* y[0..16) = (float)q[i] * scale for 16 signed bytes q: the scalar kernels' operations, so the
 * results are bit-identical to theirs. */
static inline void sm_kern_store_i8x16_f32(float *y, v128_t q, v128_t scale) {
    v128_t f[4];
    sm_kern_i8x16_to_f32(q, f);
    for (int k = 0; k < 4; k++) wasm_v128_store(y + 4 * k, wasm_f32x4_mul(f[k], scale));
}

/* y[0..16) = (float)q[i] * scale + offset (the Q4_1/Q5_1 order). */
static inline void sm_kern_store_i8x16_f32_add(float *y, v128_t q, v128_t scale, v128_t offset) {
    v128_t f[4];
    sm_kern_i8x16_to_f32(q, f);
    for (int k = 0; k < 4; k++)
        wasm_v128_store(y + 4 * k, wasm_f32x4_add(wasm_f32x4_mul(f[k], scale), offset));
}

/* y[0..16) = scale * (float)q[i] - offset (the K-quant order: dl * q - ml). */
static inline void sm_kern_store_i8x16_f32_sub(float *y, v128_t q, v128_t scale, v128_t offset) {
    v128_t f[4];
    sm_kern_i8x16_to_f32(q, f);
    for (int k = 0; k < 4; k++)
        wasm_v128_store(y + 4 * k, wasm_f32x4_sub(wasm_f32x4_mul(scale, f[k]), offset));
}

/* Eight halves to floats (lo: lanes 0-3, hi: 4-7), exactly as sm_kern_fp16_to_f32. Computed in
 * 16-bit lanes: the top half of a normal float is sign | (exponent + 112) << 7 | mantissa >> 3,
 * its bottom half mantissa << 13; inf/NaN rebias once more. A subnormal half is em * 2^-24, made
 * exactly as (0.5 + em * 2^-24) - 0.5 from the bits 0x3f00:em. No int->float conversion (LLVM
 * scalarizes it for 16-bit inputs) and no subnormal float operands (slow on some CPUs). */
static inline void sm_kern_halves_to_f32(v128_t h, v128_t *lo, v128_t *hi) {
    const v128_t sign16 = wasm_v128_and(h, wasm_i16x8_splat((int16_t)0x8000));
    const v128_t em = wasm_v128_and(h, wasm_i16x8_splat(0x7fff));
    const v128_t rebias = wasm_i16x8_splat(112 << 7);
    v128_t top = wasm_i16x8_add(wasm_u16x8_shr(em, 3), rebias);
    top = wasm_i16x8_add(top, wasm_v128_and(wasm_i16x8_gt(em, wasm_i16x8_splat(0x7bff)), rebias));
    top = wasm_v128_or(top, sign16);
    const v128_t bottom = wasm_i16x8_shl(h, 13);
    const v128_t magic = wasm_i16x8_splat(0x3f00), half = wasm_f32x4_splat(0.5f);
    const v128_t sub_lo =
        wasm_f32x4_sub(wasm_i16x8_shuffle(em, magic, 0, 8, 1, 9, 2, 10, 3, 11), half);
    const v128_t sub_hi =
        wasm_f32x4_sub(wasm_i16x8_shuffle(em, magic, 4, 12, 5, 13, 6, 14, 7, 15), half);
    const v128_t is_sub = wasm_i16x8_lt(em, wasm_i16x8_splat(0x400));
    const v128_t sign_lo = wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(sign16), 16);
    const v128_t sign_hi = wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(sign16), 16);
    *lo = wasm_v128_bitselect(wasm_v128_or(sub_lo, sign_lo),
                              wasm_i16x8_shuffle(bottom, top, 0, 8, 1, 9, 2, 10, 3, 11),
                              wasm_i32x4_extend_low_i16x8(is_sub));
    *hi = wasm_v128_bitselect(wasm_v128_or(sub_hi, sign_hi),
                              wasm_i16x8_shuffle(bottom, top, 4, 12, 5, 13, 6, 14, 7, 15),
                              wasm_i32x4_extend_high_i16x8(is_sub));
}

/* Eight halves to floats, exactly as sm_kern_fp16_to_f32 (lo: lanes 0-3, hi: 4-7), in fewer
 * operations than sm_kern_halves_to_f32: each half goes to the top of an i32 lane, an arithmetic
 * shift right by 3 puts exponent and mantissa where a float has them (the sign stays at bit 31;
 * its smeared copies are masked off), which reads as half(h) * 2^-112 — subnormal halves become
 * float subnormals, so this holds for them too — and one multiply by 2^112 rebiases. Exponent-31
 * halves (inf, NaN: payload kept) get the float exponent 255 or-ed in. Costs a subnormal float
 * operand for subnormal halves only. */
static inline void sm_kern_halves_to_f32_shift(v128_t h, v128_t *lo, v128_t *hi) {
    const v128_t zero = wasm_i32x4_splat(0), mask = wasm_i32x4_splat((int32_t)0x8fffe000u);
    const v128_t k = wasm_f32x4_splat(0x1p112f), inf = wasm_i32x4_splat(0x7f800000);
    const v128_t e = wasm_i16x8_splat(0x7c00);
    const v128_t special = wasm_i16x8_eq(wasm_v128_and(h, e), e);
    const v128_t l = wasm_i16x8_shuffle(zero, h, 0, 8, 1, 9, 2, 10, 3, 11);
    const v128_t u = wasm_i16x8_shuffle(zero, h, 4, 12, 5, 13, 6, 14, 7, 15);
    const v128_t sl = wasm_i16x8_shuffle(zero, special, 0, 8, 1, 9, 2, 10, 3, 11);
    const v128_t su = wasm_i16x8_shuffle(zero, special, 4, 12, 5, 13, 6, 14, 7, 15);
    *lo = wasm_v128_or(wasm_f32x4_mul(wasm_v128_and(wasm_i32x4_shr(l, 3), mask), k),
                       wasm_v128_and(sl, inf));
    *hi = wasm_v128_or(wasm_f32x4_mul(wasm_v128_and(wasm_i32x4_shr(u, 3), mask), k),
                       wasm_v128_and(su, inf));
}

/* A K-quant block's fp16 scale at any alignment, exactly as sm_kern_load_fp16, branching only for
 * Inf/NaN. A normal half gets its exponent rebiased by an integer add; a subnormal one (exponent 0,
 * mantissa m) is read as the normal float 2^-14 + m 2^-24 and 2^-14 subtracted, which is exact. No
 * float operand is ever subnormal: x64 takes a microcode assist for each one, and Q6_K files
 * routinely have subnormal super-block scales (d = max|w| / 4096). Through sm_kern_load_scale
 * (2^112 times the subnormal float) Q6_K decoding ran at half Q4_K's speed per weight. */
static inline float sm_kern_load_scale_k(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    const uint32_t exp = h & 0x7c00u, em = (uint32_t)(h & 0x7fffu) << 13;
    if (exp == 0x7c00u) return sm_kern_fp16_to_f32(h);
    const float normal = sm_kern_bits_f32(em + (112u << 23));
    const float subnormal = sm_kern_bits_f32(em + (113u << 23)) - 0x1p-14f;
    const float f = exp ? normal : subnormal;
    return sm_kern_bits_f32(sm_kern_f32_bits(f) | (uint32_t)(h & 0x8000u) << 16);
}

/* The legacy types' block-scale load (Q4_0, Q8_0, ...), exactly as sm_kern_load_fp16 but cheaper:
 * at two conversions per 32-weight block the general one cost as much as the block's SIMD work,
 * and sm_kern_load_scale_k's extra operations slowed Q4_0 decoding by a quarter. One float
 * multiply by 2^112 rebiases the exponent of every finite half. A subnormal half becomes a
 * subnormal float operand, exact but slow on x64 (a microcode assist); those types' scales
 * (d = max|w| / 8 or / 127) are subnormal only in blocks whose largest weight is below about
 * 0.0005 (Q4_0) or 0.008 (Q8_0). Inf/NaN go the general way. */
static inline float sm_kern_load_scale(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    if ((h & 0x7c00u) == 0x7c00u) return sm_kern_fp16_to_f32(h);
    const uint32_t bits =
        sm_kern_f32_bits(sm_kern_bits_f32((uint32_t)(h & 0x7fffu) << 13) * 0x1p112f);
    return sm_kern_bits_f32(bits | (uint32_t)(h & 0x8000u) << 16);
}

static inline float sm_kern_load_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

#endif
