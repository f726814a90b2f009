/*
 * float_simd128.c — WASM SIMD128 kernels of the float types: F16/BF16 to f32, and F32/F16/BF16
 * dot products. Same contracts as float_ref.c (the truth they are tested against).
 *
 * Conversions are bit-exact with fp16.h. Dots accumulate in f32 lanes (the reference uses
 * double), so they differ from it by float rounding only. Loops do 8 or 16 elements at a time
 * and leave the tail to a scalar loop. Compiled to nothing without -msimd128.
 */
#ifdef __wasm_simd128__

#include "kern/quant_simd128.h"
#include "kern/simd128.h"

static uint16_t load_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h;
}

// y[i] = half(x[i])
void sm_kern_to_float_f16_simd128(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t lo, hi;
        sm_kern_halves_to_f32(wasm_v128_load(p + 2 * i), &lo, &hi);
        wasm_v128_store(y + i, lo);
        wasm_v128_store(y + i + 4, hi);
    }
    for (; i < n; i++) y[i] = sm_kern_fp16_to_f32(load_u16(p + 2 * i));
}

// y[i] = bf16(x[i])
void sm_kern_to_float_bf16_simd128(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v128_t h = wasm_v128_load(p + 2 * i);
        wasm_v128_store(y + i, wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(h), 16));
        wasm_v128_store(y + i + 4, wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(h), 16));
    }
    for (; i < n; i++) y[i] = sm_kern_bf16_to_f32(load_u16(p + 2 * i));
}

// s = sum_i w[i] * x[i], f32 · f32
float sm_kern_vec_dot_f32_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc[4] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f),
                     wasm_f32x4_splat(0.0f)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 4; k++)
            acc[k] = wasm_f32x4_add(acc[k], wasm_f32x4_mul(wasm_v128_load(a + 4 * (i + 4 * k)),
                                                           wasm_v128_load(b + 4 * (i + 4 * k))));
    float sum = sm_kern_hsum_f32x4(
        wasm_f32x4_add(wasm_f32x4_add(acc[0], acc[1]), wasm_f32x4_add(acc[2], acc[3])));
    for (; i < n; i++) sum += sm_kern_load_f32(a + 4 * i) * sm_kern_load_f32(b + 4 * i);
    return sum;
}

// s = sum_i w[i] * x[i], f16 · f16
float sm_kern_vec_dot_f16_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = wasm_f32x4_splat(0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t a0, a1, b0, b1;
        sm_kern_halves_to_f32(wasm_v128_load(a + 2 * i), &a0, &a1);
        sm_kern_halves_to_f32(wasm_v128_load(b + 2 * i), &b0, &b1);
        acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(a0, b0));
        acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(a1, b1));
    }
    float sum = sm_kern_hsum_f32x4(wasm_f32x4_add(acc0, acc1));
    for (; i < n; i++)
        sum += sm_kern_fp16_to_f32(load_u16(a + 2 * i)) * sm_kern_fp16_to_f32(load_u16(b + 2 * i));
    return sum;
}

// s = sum_i w[i] * x[i], bf16 · bf16
float sm_kern_vec_dot_bf16_simd128(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = wasm_f32x4_splat(0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v128_t ha = wasm_v128_load(a + 2 * i), hb = wasm_v128_load(b + 2 * i);
        acc0 = wasm_f32x4_add(acc0,
                              wasm_f32x4_mul(wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(ha), 16),
                                             wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(hb), 16)));
        acc1 = wasm_f32x4_add(acc1,
                              wasm_f32x4_mul(wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(ha), 16),
                                             wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(hb), 16)));
    }
    float sum = sm_kern_hsum_f32x4(wasm_f32x4_add(acc0, acc1));
    for (; i < n; i++)
        sum += sm_kern_bf16_to_f32(load_u16(a + 2 * i)) * sm_kern_bf16_to_f32(load_u16(b + 2 * i));
    return sum;
}

#else
typedef int sm_kern_float_simd128_unused; /* ISO C forbids an empty translation unit */
#endif
