/*
 * ops.h — f32 element-wise and row operations of the forward pass. Internal.
 *
 * Dimension legend: n = row length; activations are row-major [n_tok][n] f32.
 * A small share of the work next to the matmuls. Each operation has a scalar reference
 * (`_ref`, ops_ref.c: the truth) and a WASM SIMD128 version (`_simd128`, ops_simd128.c), tested
 * against each other in tests/c/test_ops.c; the unsuffixed entry points (ops.c) run the SIMD128
 * version when compiled with -msimd128, else the reference. Pointers need no alignment.
 */
#ifndef SM_KERN_OPS_H
#define SM_KERN_OPS_H

#include <stdint.h>

/* y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (x, y: [n]; y may alias x) */
void sm_kern_rmsnorm(float *y, const float *x, const float *w, int n, float eps);

/* x[i] = softmax(x)[i] over n elements, max-subtracted. */
void sm_kern_softmax(float *x, int n);

/* h[i] = silu(g[i]) * u[i]  (SwiGLU);  silu(a) = a / (1 + exp(-a)) */
void sm_kern_swiglu(float *h, const float *g, const float *u, int n);

/* h[i] = gelu(g[i]) * u[i]  (GeGLU), gelu in its tanh form:
 * gelu(a) = a/2 · (1 + tanh(sqrt(2/pi) · (a + 0.044715 a^3))) */
void sm_kern_geglu(float *h, const float *g, const float *u, int n);

/* y[i] += x[i] */
void sm_kern_add(float *y, const float *x, int n);

/* returns sum_i a[i] * b[i] over n f32 elements */
float sm_kern_dot_f32(const float *a, const float *b, int n);

/* y[i] += a * x[i] */
void sm_kern_axpy(float *y, float a, const float *x, int n);

/* How a head's dimensions are paired for rotation. */
typedef enum sm_rope_mode {
    SM_ROPE_NORM = 0, /* adjacent pairs (x[2i], x[2i+1]): llama.cpp's "llama" layout */
    SM_ROPE_NEOX = 1  /* halves (x[i], x[i + n_rot/2]): GPT-NeoX, qwen2, phi3, gemma */
} sm_rope_mode;

/* Rotation angles of one position, as cos/sin pairs cs[i] = {cos a_i, sin a_i}, i < n_rot/2:
 * a_i = pos * freq_scale * base^(-2i/n_rot) / factors[i]   (factors may be NULL = all 1).
 * Computed once per token and shared by every head. */
void sm_kern_rope_angles(float (*cs)[2], int n_rot, int pos, float base, float freq_scale,
                         const float *factors);

/* Rotates the first n_rot dims of one head x[head_dim] by the angles from sm_kern_rope_angles. */
void sm_kern_rope_apply(float *x, int n_rot, const float (*cs)[2], sm_rope_mode mode);

/* ---- the versions behind the entry points -------------------------------------------------- */

/* ops_ref.c: plain loops with libm (expf, tanhf); sums of squares and of exps in double. */
void sm_kern_rmsnorm_ref(float *y, const float *x, const float *w, int n, float eps);
void sm_kern_softmax_ref(float *x, int n);
void sm_kern_swiglu_ref(float *h, const float *g, const float *u, int n);
void sm_kern_geglu_ref(float *h, const float *g, const float *u, int n);
void sm_kern_add_ref(float *y, const float *x, int n);
float sm_kern_dot_f32_ref(const float *a, const float *b, int n);
void sm_kern_axpy_ref(float *y, float a, const float *x, int n);
void sm_kern_rope_apply_ref(float *x, int n_rot, const float (*cs)[2], sm_rope_mode mode);
/* y[i] = exp(x[i]): libm's expf, what the exp-based SIMD128 versions are measured against. */
void sm_kern_exp_f32_ref(float *y, const float *x, int n);

/* ops_simd128.c (only when compiled with -msimd128). add, axpy, dot and rope_apply are
 * bit-identical to the reference; rmsnorm differs by double summation order only; softmax,
 * swiglu and geglu by their vector exp (<= 2 ulp; see ops_simd128.c). */
void sm_kern_rmsnorm_simd128(float *y, const float *x, const float *w, int n, float eps);
void sm_kern_softmax_simd128(float *x, int n);
void sm_kern_swiglu_simd128(float *h, const float *g, const float *u, int n);
void sm_kern_geglu_simd128(float *h, const float *g, const float *u, int n);
void sm_kern_add_simd128(float *y, const float *x, int n);
float sm_kern_dot_f32_simd128(const float *a, const float *b, int n);
void sm_kern_axpy_simd128(float *y, float a, const float *x, int n);
void sm_kern_rope_apply_simd128(float *x, int n_rot, const float (*cs)[2], sm_rope_mode mode);
/* y[i] = exp(x[i]) by the vector exp the SIMD128 versions use (exposed for tests and the lab). */
void sm_kern_exp_f32_simd128(float *y, const float *x, int n);

#endif
