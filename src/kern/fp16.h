/*
 * fp16.h — IEEE binary16 (half) and bfloat16 <-> binary32 conversions, scalar. Internal.
 *
 * half: IEEE 754-2008 binary16; subnormals kept, inf and NaN preserved (a NaN stays a NaN, made
 * quiet on the way down), float -> half rounds to nearest, ties to even; overflow gives inf.
 * bf16: the top half of a float; float -> bf16 rounds to nearest even and forces NaNs quiet
 * without flushing subnormals, as ggml's conversion does. Not vectorized: SIMD files do their own.
 */
#ifndef SM_KERN_FP16_H
#define SM_KERN_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t sm_kern_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float sm_kern_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* f = half(h), exactly. */
static inline float sm_kern_fp16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return sm_kern_bits_f32(sign | 0x7f800000u | mant << 13);
    if (exp != 0) return sm_kern_bits_f32(sign | (exp + 112) << 23 | mant << 13);
    /* zero or subnormal: mant * 2^-24 is exact in binary32 */
    const float f = (float)mant * 0x1p-24f;
    return sign ? -f : f;
}

/* h = half nearest to f (ties to even). */
static inline uint16_t sm_kern_f32_to_fp16(float f) {
    const uint32_t x = sm_kern_f32_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x1ffu));
    if (ax >= 0x38800000u) { /* |f| >= 2^-14: normal half, or overflow to inf */
        if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
        const uint32_t rem = ax & 0x1fffu;
        uint32_t r = (ax >> 13) - (112u << 10);
        if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++; /* a carry bumps the exponent */
        return (uint16_t)(sign | r);
    }
    const uint32_t e = ax >> 23;
    if (e < 102) return (uint16_t)sign; /* below 2^-25: rounds to zero */
    /* subnormal half: value in units of 2^-24 is mant >> (126 - e), rounded to even */
    const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t s = 126 - e;
    const uint32_t half = 1u << (s - 1);
    const uint32_t rem = mant & ((1u << s) - 1);
    uint32_t r = mant >> s;
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

static inline float sm_kern_bf16_to_f32(uint16_t h) {
    return sm_kern_bits_f32((uint32_t)h << 16);
}

static inline uint16_t sm_kern_f32_to_bf16(float f) {
    const uint32_t x = sm_kern_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* Reads the bits of a little-endian fp16 at any alignment. */
static inline uint16_t sm_kern_load_u16(const void *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h;
}

/* Reads a little-endian fp16 at any alignment. */
static inline float sm_kern_load_fp16(const void *p) {
    return sm_kern_fp16_to_f32(sm_kern_load_u16(p));
}

/* All 65536 halves as floats (sm_kern_fp16_to_f32 of each, so exact), filled on the first call
 * (thread-safe). A decode loop that converts a weight block's scale per block reads it here: one
 * load instead of a dozen scalar operations (fp16_table.c). */
const float *sm_kern_fp16_table(void);

#endif
