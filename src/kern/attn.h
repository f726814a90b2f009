/*
 * attn.h — the attention inner loops over a KV cache row range, per cache element type. Internal.
 *
 * Dimension legend: n = head_dim (elements of one head's key or value), n_pos = cached positions
 * looked at, stride = elements from one cached position to the next (n_head_kv * head_dim).
 * A cache holds F32 (exact) or F16 (half the memory; llama.cpp's default) elements; queries,
 * scores and outputs are f32. Each kernel loops over positions itself so the per-position work
 * (8 elements at a time for a 64-wide head) is not an indirect call each. The scalar `_ref`
 * kernels are the truth; the SIMD128 ones (attn_simd128.c) are tested against them
 * (tests/c/test_kern.c) and differ by float summation order only.
 */
#ifndef SM_KERN_ATTN_H
#define SM_KERN_ATTN_H

#include <stddef.h>
#include <stdint.h>

/* s[j] = scale * sum_i q[i] * K[j][i] for j < n_pos; K[j] starts at element j * stride of k. */
typedef void (*sm_attn_scores_fn)(float *s, const float *q, const void *k, size_t stride,
                                  int n_pos, int n, float scale);
/* out[i] = sum_j p[j] * V[j][i] for i < n; V[j] starts at element j * stride of v. */
typedef void (*sm_attn_mix_fn)(float *out, const float *p, const void *v, size_t stride,
                               int n_pos, int n);
/* dst[i] = x[i] converted to the cache type (F16: nearest even; overflow gives inf). */
typedef void (*sm_attn_store_fn)(void *dst, const float *x, int n);

typedef struct sm_attn_kernels {
    int32_t type;        /* SM_TYPE_F32 or SM_TYPE_F16 (types.h numbering) */
    size_t elt_size;     /* bytes per cache element */
    sm_attn_scores_fn scores;
    sm_attn_mix_fn mix;
    sm_attn_store_fn store;
} sm_attn_kernels;

/* The kernels this build runs for a cache of `type` (SIMD128 when compiled with it); NULL for a
 * type no cache can have. */
const sm_attn_kernels *sm_kern_attn(int32_t type);

/* The scalar references. */
const sm_attn_kernels *sm_kern_attn_ref(int32_t type);

/* attn_ref.c */
void sm_kern_attn_scores_f32_ref(float *s, const float *q, const void *k, size_t stride, int n_pos,
                                 int n, float scale);
void sm_kern_attn_scores_f16_ref(float *s, const float *q, const void *k, size_t stride, int n_pos,
                                 int n, float scale);
void sm_kern_attn_mix_f32_ref(float *out, const float *p, const void *v, size_t stride, int n_pos,
                              int n);
void sm_kern_attn_mix_f16_ref(float *out, const float *p, const void *v, size_t stride, int n_pos,
                              int n);
void sm_kern_attn_store_f32_ref(void *dst, const float *x, int n);
void sm_kern_attn_store_f16_ref(void *dst, const float *x, int n);

/* attn_simd128.c (only when compiled with -msimd128) */
void sm_kern_attn_scores_f32_simd128(float *s, const float *q, const void *k, size_t stride,
                                     int n_pos, int n, float scale);
void sm_kern_attn_scores_f16_simd128(float *s, const float *q, const void *k, size_t stride,
                                     int n_pos, int n, float scale);
void sm_kern_attn_mix_f32_simd128(float *out, const float *p, const void *v, size_t stride,
                                  int n_pos, int n);
void sm_kern_attn_mix_f16_simd128(float *out, const float *p, const void *v, size_t stride,
                                  int n_pos, int n);

#endif
