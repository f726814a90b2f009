/*
 * quant_ref.h — the scalar reference kernels of every tensor type. Internal.
 *
 * These are the truth: SIMD versions (quant_simd128.h) have the same signatures and are tested
 * against them. Signatures are types.h's sm_to_float_fn / sm_from_float_fn / sm_vec_dot_fn; n is
 * a multiple of the type's block size and block pointers may have any alignment. The math follows
 * ggml (ggml-quants.c): integer products per block, scaled by the block's fp16 scales.
 * vec_dot_<w> takes x in w's vec_dot_type: Q4_0/Q5_0/Q8_0 -> Q8_0, Q4_1/Q5_1 -> Q8_1,
 * K-quants -> Q8_K, F32/F16/BF16 -> themselves.
 */
#ifndef SM_KERN_QUANT_REF_H
#define SM_KERN_QUANT_REF_H

#include <stdint.h>
#include <string.h>

#include "kern/types.h"

/* float_ref.c */
void sm_kern_to_float_f32_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_f16_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_bf16_ref(const void *x, float *y, int64_t n);
void sm_kern_from_float_f32_ref(const float *x, void *y, int64_t n);
void sm_kern_from_float_f16_ref(const float *x, void *y, int64_t n);
void sm_kern_from_float_bf16_ref(const float *x, void *y, int64_t n);
float sm_kern_vec_dot_f32_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_f16_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_bf16_ref(int64_t n, const void *w, const void *x);

/* quant_legacy_ref.c */
void sm_kern_to_float_q4_0_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q4_1_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q5_0_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q5_1_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q8_0_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q8_1_ref(const void *x, float *y, int64_t n);
void sm_kern_quantize_row_q4_0_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q4_1_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q5_0_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q5_1_ref(const float *x, void *y, int64_t n);
/* Q8_0: d = amax / 127, q = round(x / d) (half away from zero). Also the activation quantizer. */
void sm_kern_quantize_row_q8_0_ref(const float *x, void *y, int64_t n);
/* Q8_1: as Q8_0, plus s = d * sum(q). */
void sm_kern_quantize_row_q8_1_ref(const float *x, void *y, int64_t n);
float sm_kern_vec_dot_q4_0_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q4_1_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q5_0_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q5_1_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q8_0_ref(int64_t n, const void *w, const void *x);

/* quant_k_ref.c */
void sm_kern_to_float_q2_K_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q3_K_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q4_K_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q5_K_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q6_K_ref(const void *x, float *y, int64_t n);
void sm_kern_to_float_q8_K_ref(const void *x, float *y, int64_t n);
/* Q8_K: max = the x of largest |x| (first one), d = max / -127, q = nearest-even(x / d). */
void sm_kern_quantize_row_q8_K_ref(const float *x, void *y, int64_t n);
float sm_kern_vec_dot_q2_K_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q3_K_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q4_K_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q5_K_ref(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q6_K_ref(int64_t n, const void *w, const void *x);

/* quant_k_quantize_ref.c: round-to-nearest weight quantizers (valid blocks, not ggml's
 * error-minimizing search), for tests and converters. */
void sm_kern_quantize_row_q2_K_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q3_K_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q4_K_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q5_K_ref(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q6_K_ref(const float *x, void *y, int64_t n);

/* dispatch.c: the reference quantizer of any supported type (F32/F16/BF16 convert); NULL when
 * the type is unknown. */
sm_from_float_fn sm_kern_quantizer_ref(int32_t type);

/* Shared by the reference files: round half to even, exact for |f| < 2^22 (ggml's nearest_int). */
static inline int sm_kern_nearest_int(float f) {
    const float v = f + 12582912.0f; /* 1.5 * 2^23: the sum's low mantissa bits hold round(f) */
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

#endif
