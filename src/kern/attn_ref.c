/*
 * attn_ref.c — reference attention loops for F32 and F16 KV caches (attn.h), and the dispatch
 * table of the kernels this build runs.
 *
 * Sums are accumulated in double, so these are the accurate answer the SIMD128 versions are
 * measured against. F16 elements are read with fp16.h's exact conversion and written rounded to
 * nearest even (as ggml's cache copy does). Cache buffers are our own, aligned allocations.
 */
#include <string.h>

#include "kern/attn.h"
#include "kern/fp16.h"
#include "kern/types.h"

static float load_f16(const void *base, size_t i) {
    uint16_t h;
    memcpy(&h, (const uint8_t *)base + 2 * i, sizeof h);
    return sm_kern_fp16_to_f32(h);
}

static float load_f32(const void *base, size_t i) {
    float f;
    memcpy(&f, (const uint8_t *)base + 4 * i, sizeof f);
    return f;
}

// s[j] = scale * q · K[j]
void sm_kern_attn_scores_f32_ref(float *s, const float *q, const void *k, size_t stride, int n_pos,
                                 int n, float scale) {
    for (int j = 0; j < n_pos; j++) {
        double acc = 0.0;
        for (int i = 0; i < n; i++) acc += (double)q[i] * load_f32(k, (size_t)j * stride + (size_t)i);
        s[j] = (float)acc * scale;
    }
}

void sm_kern_attn_scores_f16_ref(float *s, const float *q, const void *k, size_t stride, int n_pos,
                                 int n, float scale) {
    for (int j = 0; j < n_pos; j++) {
        double acc = 0.0;
        for (int i = 0; i < n; i++) acc += (double)q[i] * load_f16(k, (size_t)j * stride + (size_t)i);
        s[j] = (float)acc * scale;
    }
}

// out[i] = sum_j p[j] V[j][i]
void sm_kern_attn_mix_f32_ref(float *out, const float *p, const void *v, size_t stride, int n_pos,
                              int n) {
    for (int i = 0; i < n; i++) {
        double acc = 0.0;
        for (int j = 0; j < n_pos; j++) acc += (double)p[j] * load_f32(v, (size_t)j * stride + (size_t)i);
        out[i] = (float)acc;
    }
}

void sm_kern_attn_mix_f16_ref(float *out, const float *p, const void *v, size_t stride, int n_pos,
                              int n) {
    for (int i = 0; i < n; i++) {
        double acc = 0.0;
        for (int j = 0; j < n_pos; j++) acc += (double)p[j] * load_f16(v, (size_t)j * stride + (size_t)i);
        out[i] = (float)acc;
    }
}

void sm_kern_attn_store_f32_ref(void *dst, const float *x, int n) {
    memcpy(dst, x, (size_t)n * sizeof(float));
}

void sm_kern_attn_store_f16_ref(void *dst, const float *x, int n) {
    uint8_t *p = dst;
    for (int i = 0; i < n; i++) {
        const uint16_t h = sm_kern_f32_to_fp16(x[i]);
        memcpy(p + 2 * i, &h, sizeof h);
    }
}

/* ---- dispatch ------------------------------------------------------------------------------ */

#ifdef __wasm_simd128__
#define SM_FAST(simd128, ref) simd128
#else
#define SM_FAST(simd128, ref) ref
#endif

static const sm_attn_kernels k_ref[2] = {
    {SM_TYPE_F32, sizeof(float), sm_kern_attn_scores_f32_ref, sm_kern_attn_mix_f32_ref,
     sm_kern_attn_store_f32_ref},
    {SM_TYPE_F16, sizeof(uint16_t), sm_kern_attn_scores_f16_ref, sm_kern_attn_mix_f16_ref,
     sm_kern_attn_store_f16_ref},
};

static const sm_attn_kernels k_active[2] = {
    {SM_TYPE_F32, sizeof(float),
     SM_FAST(sm_kern_attn_scores_f32_simd128, sm_kern_attn_scores_f32_ref),
     SM_FAST(sm_kern_attn_mix_f32_simd128, sm_kern_attn_mix_f32_ref), sm_kern_attn_store_f32_ref},
    {SM_TYPE_F16, sizeof(uint16_t),
     SM_FAST(sm_kern_attn_scores_f16_simd128, sm_kern_attn_scores_f16_ref),
     SM_FAST(sm_kern_attn_mix_f16_simd128, sm_kern_attn_mix_f16_ref), sm_kern_attn_store_f16_ref},
};

const sm_attn_kernels *sm_kern_attn(int32_t type) {
    return type == SM_TYPE_F32 ? &k_active[0] : type == SM_TYPE_F16 ? &k_active[1] : NULL;
}

const sm_attn_kernels *sm_kern_attn_ref(int32_t type) {
    return type == SM_TYPE_F32 ? &k_ref[0] : type == SM_TYPE_F16 ? &k_ref[1] : NULL;
}
