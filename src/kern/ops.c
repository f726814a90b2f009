/*
 * ops.c — the entry points of the f32 row operations (ops.h) the forward pass calls: each runs
 * the SIMD128 version when compiled with -msimd128, else the scalar reference (ops_ref.c). Also
 * the rotary angles, computed once per token in double (not worth a SIMD version).
 */
#include <math.h>

#include "kern/ops.h"

#ifdef __wasm_simd128__
#define SM_FAST(simd128, ref) simd128
#else
#define SM_FAST(simd128, ref) ref
#endif

void sm_kern_rmsnorm(float *y, const float *x, const float *w, int n, float eps) {
    SM_FAST(sm_kern_rmsnorm_simd128, sm_kern_rmsnorm_ref)(y, x, w, n, eps);
}

void sm_kern_softmax(float *x, int n) {
    SM_FAST(sm_kern_softmax_simd128, sm_kern_softmax_ref)(x, n);
}

void sm_kern_swiglu(float *h, const float *g, const float *u, int n) {
    SM_FAST(sm_kern_swiglu_simd128, sm_kern_swiglu_ref)(h, g, u, n);
}

void sm_kern_geglu(float *h, const float *g, const float *u, int n) {
    SM_FAST(sm_kern_geglu_simd128, sm_kern_geglu_ref)(h, g, u, n);
}

void sm_kern_add(float *y, const float *x, int n) {
    SM_FAST(sm_kern_add_simd128, sm_kern_add_ref)(y, x, n);
}

float sm_kern_dot_f32(const float *a, const float *b, int n) {
    return SM_FAST(sm_kern_dot_f32_simd128, sm_kern_dot_f32_ref)(a, b, n);
}

void sm_kern_axpy(float *y, float a, const float *x, int n) {
    SM_FAST(sm_kern_axpy_simd128, sm_kern_axpy_ref)(y, a, x, n);
}

void sm_kern_rope_apply(float *x, int n_rot, const float (*cs)[2], sm_rope_mode mode) {
    SM_FAST(sm_kern_rope_apply_simd128, sm_kern_rope_apply_ref)(x, n_rot, cs, mode);
}

void sm_kern_rope_angles(float (*cs)[2], int n_rot, int pos, float base, float freq_scale,
                         const float *factors) {
    for (int i = 0; i < n_rot / 2; i++) {
        double theta = (double)pos * freq_scale * pow(base, -2.0 * i / n_rot);
        if (factors) theta /= factors[i];
        cs[i][0] = (float)cos(theta);
        cs[i][1] = (float)sin(theta);
    }
}
