/*
 * attn_simd128.c — WASM SIMD128 attention loops over F32 and F16 KV caches (attn.h), vectorized
 * over the head dimension. Same contracts as attn_ref.c, the truth they are tested against; they
 * differ from it by float summation order only (f32 lanes instead of double).
 *
 * scores: two cached positions per pass share the query loads. mix: up to 16 output dims are
 * held in registers while every position's row slice is added in, so the output is written once.
 * Whole vectors first, then a scalar tail for head sizes that are not a multiple of 4 (or 8).
 */
#ifdef __wasm_simd128__

#include "kern/attn.h"
#include "kern/simd128.h"

static uint16_t load_u16(const uint16_t *p) { return *p; }

/* ---- F32 cache ----------------------------------------------------------------------------- */

// s[j] = scale * q · K[j]
void sm_kern_attn_scores_f32_simd128(float *s, const float *q, const void *k, size_t stride,
                                     int n_pos, int n, float scale) {
    const float *kf = k;
    const int n4 = n & ~3;
    int j = 0;
    for (; j + 2 <= n_pos; j += 2) {
        const float *k0 = kf + (size_t)j * stride, *k1 = k0 + stride;
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
        for (int i = 0; i < n4; i += 4) {
            const v128_t qv = wasm_v128_load(q + i);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(qv, wasm_v128_load(k0 + i)));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(qv, wasm_v128_load(k1 + i)));
        }
        float t0 = sm_kern_hsum_f32x4(a0), t1 = sm_kern_hsum_f32x4(a1);
        for (int i = n4; i < n; i++) t0 += q[i] * k0[i], t1 += q[i] * k1[i];
        s[j] = t0 * scale;
        s[j + 1] = t1 * scale;
    }
    for (; j < n_pos; j++) {
        const float *k0 = kf + (size_t)j * stride;
        v128_t a0 = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < n4; i += 4)
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(q + i), wasm_v128_load(k0 + i)));
        float t0 = sm_kern_hsum_f32x4(a0);
        for (int i = n4; i < n; i++) t0 += q[i] * k0[i];
        s[j] = t0 * scale;
    }
}

// out[i] = sum_j p[j] V[j][i]
void sm_kern_attn_mix_f32_simd128(float *out, const float *p, const void *v, size_t stride,
                                  int n_pos, int n) {
    const float *vf = v;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        const float *row = vf + i;
        for (int j = 0; j < n_pos; j++, row += stride) {
            const v128_t pj = wasm_f32x4_splat(p[j]);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(pj, wasm_v128_load(row)));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(pj, wasm_v128_load(row + 4)));
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(pj, wasm_v128_load(row + 8)));
            a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(pj, wasm_v128_load(row + 12)));
        }
        wasm_v128_store(out + i, a0);
        wasm_v128_store(out + i + 4, a1);
        wasm_v128_store(out + i + 8, a2);
        wasm_v128_store(out + i + 12, a3);
    }
    for (; i + 4 <= n; i += 4) {
        v128_t a0 = wasm_f32x4_splat(0.0f);
        const float *row = vf + i;
        for (int j = 0; j < n_pos; j++, row += stride)
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(p[j]), wasm_v128_load(row)));
        wasm_v128_store(out + i, a0);
    }
    for (; i < n; i++) {
        float a = 0.0f;
        for (int j = 0; j < n_pos; j++) a += p[j] * vf[(size_t)j * stride + (size_t)i];
        out[i] = a;
    }
}

/* ---- F16 cache ----------------------------------------------------------------------------- */

/* acc + q[0..8) * half(h[0..8)) */
static inline v128_t fma_halves8(v128_t acc, const float *q, const uint16_t *h) {
    v128_t lo, hi;
    sm_kern_halves_to_f32_shift(wasm_v128_load(h), &lo, &hi);
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(q), lo));
    return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(q + 4), hi));
}

// s[j] = scale * q · K[j]
void sm_kern_attn_scores_f16_simd128(float *s, const float *q, const void *k, size_t stride,
                                     int n_pos, int n, float scale) {
    const uint16_t *kh = k;
    const int n8 = n & ~7;
    for (int j = 0; j < n_pos; j++) {
        const uint16_t *k0 = kh + (size_t)j * stride;
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
        int i = 0;
        for (; i + 16 <= n8; i += 16) {
            a0 = fma_halves8(a0, q + i, k0 + i);
            a1 = fma_halves8(a1, q + i + 8, k0 + i + 8);
        }
        if (i < n8) a0 = fma_halves8(a0, q + i, k0 + i);
        float t = sm_kern_hsum_f32x4(wasm_f32x4_add(a0, a1));
        for (i = n8; i < n; i++) t += q[i] * sm_kern_fp16_to_f32(load_u16(k0 + i));
        s[j] = t * scale;
    }
}

// out[i] = sum_j p[j] V[j][i]
void sm_kern_attn_mix_f16_simd128(float *out, const float *p, const void *v, size_t stride,
                                  int n_pos, int n) {
    const uint16_t *vh = v;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        const uint16_t *row = vh + i;
        for (int j = 0; j < n_pos; j++, row += stride) {
            const v128_t pj = wasm_f32x4_splat(p[j]);
            v128_t x0, x1, x2, x3;
            sm_kern_halves_to_f32_shift(wasm_v128_load(row), &x0, &x1);
            sm_kern_halves_to_f32_shift(wasm_v128_load(row + 8), &x2, &x3);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(pj, x0));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(pj, x1));
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(pj, x2));
            a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(pj, x3));
        }
        wasm_v128_store(out + i, a0);
        wasm_v128_store(out + i + 4, a1);
        wasm_v128_store(out + i + 8, a2);
        wasm_v128_store(out + i + 12, a3);
    }
    for (; i + 8 <= n; i += 8) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
        const uint16_t *row = vh + i;
        for (int j = 0; j < n_pos; j++, row += stride) {
            const v128_t pj = wasm_f32x4_splat(p[j]);
            v128_t x0, x1;
            sm_kern_halves_to_f32_shift(wasm_v128_load(row), &x0, &x1);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(pj, x0));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(pj, x1));
        }
        wasm_v128_store(out + i, a0);
        wasm_v128_store(out + i + 4, a1);
    }
    for (; i < n; i++) {
        float a = 0.0f;
        for (int j = 0; j < n_pos; j++)
            a += p[j] * sm_kern_fp16_to_f32(load_u16(vh + (size_t)j * stride + (size_t)i));
        out[i] = a;
    }
}

#else
typedef int sm_kern_attn_simd128_unused; /* ISO C forbids an empty translation unit */
#endif
