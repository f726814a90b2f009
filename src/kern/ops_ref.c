/*
 * ops_ref.c — reference f32 row operations (ops.h): RMSNorm (Zhang & Sennrich 2019), softmax,
 * SwiGLU (Shazeer 2020), GeGLU in GELU's tanh form (Hendrycks & Gimpel 2016), rotary embeddings
 * (Su et al. 2021, RoFormer), add, axpy, dot. Plain loops with libm: the truth the SIMD128
 * versions (ops_simd128.c) are tested against. The entry points that pick one are in ops.c.
 */
#include <math.h>

#include "kern/ops.h"

void sm_kern_rmsnorm_ref(float *y, const float *x, const float *w, int n, float eps) {
    double ss = 0.0; /* double: a 4096-wide sum of squares loses bits in f32 */
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

void sm_kern_softmax_ref(float *x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void sm_kern_swiglu_ref(float *h, const float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) h[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void sm_kern_geglu_ref(float *h, const float *g, const float *u, int n) {
    const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
    for (int i = 0; i < n; i++) {
        const float a = g[i];
        h[i] = 0.5f * a * (1.0f + tanhf(k * (a + 0.044715f * a * a * a))) * u[i];
    }
}

void sm_kern_add_ref(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += x[i];
}

float sm_kern_dot_f32_ref(const float *a, const float *b, int n) {
    /* four partial sums: lets the compiler vectorize without -ffast-math */
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void sm_kern_axpy_ref(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void sm_kern_rope_apply_ref(float *x, int n_rot, const float (*cs)[2], sm_rope_mode mode) {
    const int half = n_rot / 2;
    for (int i = 0; i < half; i++) {
        const int i0 = mode == SM_ROPE_NORM ? 2 * i : i;
        const int i1 = mode == SM_ROPE_NORM ? 2 * i + 1 : i + half;
        const float a = x[i0], b = x[i1], c = cs[i][0], s = cs[i][1];
        x[i0] = a * c - b * s;
        x[i1] = a * s + b * c;
    }
}

void sm_kern_exp_f32_ref(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = expf(x[i]);
}
