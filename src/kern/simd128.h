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

/* Four i32 partial sums of a[i] * b[i] over 16 signed bytes. */
static inline v128_t sm_kern_dot_i8x16(v128_t a, v128_t b) {
    const v128_t lo = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a),
                                           wasm_i16x8_extend_low_i8x16(b));
    const v128_t hi = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a),
                                           wasm_i16x8_extend_high_i8x16(b));
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

static inline float sm_kern_hmax_f32x4(v128_t v) {
    v = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_max(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

static inline float sm_kern_hmin_f32x4(v128_t v) {
    v = wasm_f32x4_min(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_min(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

/* y[0..16) = (float)q[i] * scale + offset for 16 signed bytes q, in the scalar kernels' order
 * of operations, so results are bit-identical to them. */
static inline void sm_kern_store_i8x16_f32(float *y, v128_t q, v128_t scale, v128_t offset) {
    const v128_t lo = wasm_i16x8_extend_low_i8x16(q), hi = wasm_i16x8_extend_high_i8x16(q);
    const v128_t v[4] = {wasm_i32x4_extend_low_i16x8(lo), wasm_i32x4_extend_high_i16x8(lo),
                         wasm_i32x4_extend_low_i16x8(hi), wasm_i32x4_extend_high_i16x8(hi)};
    for (int k = 0; k < 4; k++)
        wasm_v128_store(y + 4 * k,
                        wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(v[k]), scale),
                                       offset));
}

/* As above with y = scale * q - offset (the K-quant order: dl * q - ml). */
static inline void sm_kern_store_i8x16_f32_sub(float *y, v128_t q, v128_t scale, v128_t offset) {
    const v128_t lo = wasm_i16x8_extend_low_i8x16(q), hi = wasm_i16x8_extend_high_i8x16(q);
    const v128_t v[4] = {wasm_i32x4_extend_low_i16x8(lo), wasm_i32x4_extend_high_i16x8(lo),
                         wasm_i32x4_extend_low_i16x8(hi), wasm_i32x4_extend_high_i16x8(hi)};
    for (int k = 0; k < 4; k++)
        wasm_v128_store(y + 4 * k,
                        wasm_f32x4_sub(wasm_f32x4_mul(scale, wasm_f32x4_convert_i32x4(v[k])),
                                       offset));
}

/* Four halves (zero-extended in i32 lanes) to floats, exactly as sm_kern_fp16_to_f32. Only bit
 * operations and one exact float subtraction: no int->float conversion (which LLVM scalarizes
 * once it sees 16-bit inputs) and no subnormal float operands (slow on some CPUs). */
static inline v128_t sm_kern_half_to_f32x4(v128_t h) {
    const v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    const v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
    const v128_t rebias = wasm_i32x4_splat(112 << 23);
    v128_t normal = wasm_i32x4_add(wasm_i32x4_shl(em, 13), rebias);
    /* inf / NaN: exponent 31 must become 255, one more rebias */
    normal = wasm_i32x4_add(normal,
                            wasm_v128_and(wasm_i32x4_gt(em, wasm_i32x4_splat(0x7bff)), rebias));
    /* subnormal: 0.5 + em * 2^-24 is exact as a float, and so is taking 0.5 away */
    const v128_t sub = wasm_f32x4_sub(wasm_v128_or(em, wasm_i32x4_splat(0x3f000000)),
                                      wasm_f32x4_splat(0.5f));
    const v128_t is_sub = wasm_i32x4_lt(em, wasm_i32x4_splat(0x0400));
    return wasm_v128_or(sign, wasm_v128_bitselect(sub, normal, is_sub));
}

/* A block's fp16 scale at any alignment, exactly as sm_kern_load_fp16 but cheaper on the common
 * path: finite halves take one float multiply (2^112 rebiases the exponent; a subnormal half
 * becomes a subnormal float operand, which is exact, only possibly slower). Inf/NaN go the
 * general way. In the hot loops of the dots, two scalar conversions per 32-element block cost
 * as much as the block's SIMD work did with the general conversion. */
static inline float sm_kern_load_scale(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    if ((h & 0x7c00u) == 0x7c00u) return sm_kern_fp16_to_f32(h);
    const uint32_t bits = sm_kern_f32_bits(sm_kern_bits_f32((uint32_t)(h & 0x7fffu) << 13) * 0x1p112f);
    return sm_kern_bits_f32(bits | (uint32_t)(h & 0x8000u) << 16);
}

static inline float sm_kern_load_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

#endif
