/*
 * quant_simd128.h — the WASM SIMD128 kernels. Internal.
 *
 * Same signatures and contracts as their _ref twins in quant_ref.h, which they are tested against
 * (tests/c/test_kern.c): to_float and the Q8 activation quantizers give the reference's exact
 * bytes; dots differ only by float summation order. Defined only when compiled with -msimd128
 * (__wasm_simd128__); dispatch.c references them only then. Files: float_simd128.c,
 * quant_simd128_legacy.c, quant_simd128_k.c.
 */
#ifndef SM_KERN_QUANT_SIMD128_H
#define SM_KERN_QUANT_SIMD128_H

#include <stddef.h>
#include <stdint.h>

/* float_simd128.c */
void sm_kern_to_float_f16_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_bf16_simd128(const void *x, float *y, int64_t n);
float sm_kern_vec_dot_f32_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_f16_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_bf16_simd128(int64_t n, const void *w, const void *x);

/* quant_simd128_legacy.c */
void sm_kern_to_float_q4_0_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_q4_1_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_q5_0_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_q5_1_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_q8_0_simd128(const void *x, float *y, int64_t n);
void sm_kern_quantize_row_q8_0_simd128(const float *x, void *y, int64_t n);
void sm_kern_quantize_row_q8_1_simd128(const float *x, void *y, int64_t n);
float sm_kern_vec_dot_q4_0_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q4_1_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q5_0_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q5_1_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q8_0_simd128(int64_t n, const void *w, const void *x);

/* one activation row against many weight rows, bit-identical to vec_dot (types.h: sm_gemv_fn) */
void sm_kern_gemv_q4_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q8_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q4_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q5_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q6_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
#ifdef SM_RELAXED_SIMD
/* the same gemvs with the relaxed i8 dot (relaxed_simd.h): the relaxed build variant's */
void sm_kern_gemv_q4_0_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q4_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q5_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemv_q6_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, float *y);
void sm_kern_gemm_q4_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);
void sm_kern_gemm_q6_K_relaxed(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);
#endif
/* tiles of dots, bit-identical to the vec_dot of the same file (types.h: sm_gemm_fn) */
void sm_kern_gemm_q4_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);
void sm_kern_gemm_q8_0_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);
void sm_kern_gemm_q4_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);
void sm_kern_gemm_q5_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);
void sm_kern_gemm_q6_K_simd128(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_tok, float *y, int64_t ldy);

/* quant_simd128_k.c */
void sm_kern_to_float_q4_K_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_q5_K_simd128(const void *x, float *y, int64_t n);
void sm_kern_to_float_q6_K_simd128(const void *x, float *y, int64_t n);
void sm_kern_quantize_row_q8_K_simd128(const float *x, void *y, int64_t n);
float sm_kern_vec_dot_q2_K_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q3_K_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q4_K_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q5_K_simd128(int64_t n, const void *w, const void *x);
float sm_kern_vec_dot_q6_K_simd128(int64_t n, const void *w, const void *x);

#endif
