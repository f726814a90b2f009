/*
 * ops_lab.c — kernel lab for the f32 row operations (kern/ops.h): each scalar reference beside
 * its SIMD128 version, at the sizes the forward pass gives them (a 2048-wide row; softmax also
 * over 512 attention scores; rope over 16 heads of 128), validated against each other, then
 * timed (best of 5 runs of enough calls to take ~10 ms each).
 *
 *   ref   sm_kern_*_ref (ops_ref.c): plain loops with libm, as emcc -O3 vectorizes them or not
 *   v1    sm_kern_*_simd128 (ops_simd128.c): the production version
 *   v0    rmsnorm only: v1 with the sum of squares in f32x4 lanes instead of f64x2, to price
 *         the double sums that keep v1 within 1 ulp of the reference
 *
 * Build and run (WASM SIMD128 under Node; only the ops sources are needed):
 *   export NODE_PATH=/usr/share/nodejs
 *   emcc -O3 -msimd128 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc src/kern/ops.c \
 *     src/kern/ops_ref.c src/kern/ops_simd128.c bench/kernels/ops_lab.c -sENVIRONMENT=node \
 *     -sWASM_ASYNC_COMPILATION=0 -o build-lab/ops_lab.cjs && node build-lab/ops_lab.cjs
 * Prints one JSON line per operation: ns per call and per element, speedup, and the largest
 * difference from the reference in ulps.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kern/ops.h"
#include "kern/simd128.h"

#include "lab.h"

enum { N = 2048, N_SOFT = 512, HEAD = 128, N_HEADS = N / HEAD };


/* inputs (never written) and outputs */
static float g_x[N], g_w[N], g_u[N], g_y[N], g_scores[N];
static float g_cs[HEAD / 2][2];
static volatile float g_sink;

/* ---- v0: rmsnorm with f32 sums ------------------------------------------------------------- */

static void rmsnorm_v0(float *y, const float *x, const float *w, int n, float eps) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const v128_t p = wasm_v128_load(x + i), q = wasm_v128_load(x + i + 4);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(p, p));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(q, q));
    }
    float ss = sm_kern_hsum_f32x4(wasm_f32x4_add(a0, a1));
    for (; i < n; i++) ss += x[i] * x[i];
    const float scale = 1.0f / sqrtf(ss / (float)n + eps);
    const v128_t s = wasm_f32x4_splat(scale);
    for (i = 0; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(x + i), s),
                                              wasm_v128_load(w + i)));
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}

/* ---- one call of each version (writes g_y) ------------------------------------------------- */

static void rms_ref(void) { sm_kern_rmsnorm_ref(g_y, g_x, g_w, N, 1e-5f); }
static void rms_v1(void) { sm_kern_rmsnorm_simd128(g_y, g_x, g_w, N, 1e-5f); }
static void rms_v0(void) { rmsnorm_v0(g_y, g_x, g_w, N, 1e-5f); }
/* softmax is in place: start from the same scores every call (the copy is timed for both) */
static void soft512_ref(void) {
    memcpy(g_y, g_scores, sizeof(float) * N_SOFT);
    sm_kern_softmax_ref(g_y, N_SOFT);
}
static void soft512_v1(void) {
    memcpy(g_y, g_scores, sizeof(float) * N_SOFT);
    sm_kern_softmax_simd128(g_y, N_SOFT);
}
static void soft_ref(void) { memcpy(g_y, g_scores, sizeof g_y); sm_kern_softmax_ref(g_y, N); }
static void soft_v1(void) { memcpy(g_y, g_scores, sizeof g_y); sm_kern_softmax_simd128(g_y, N); }
static void swi_ref(void) { sm_kern_swiglu_ref(g_y, g_x, g_u, N); }
static void swi_v1(void) { sm_kern_swiglu_simd128(g_y, g_x, g_u, N); }
static void geg_ref(void) { sm_kern_geglu_ref(g_y, g_x, g_u, N); }
static void geg_v1(void) { sm_kern_geglu_simd128(g_y, g_x, g_u, N); }
static void exp_ref(void) { sm_kern_exp_f32_ref(g_y, g_scores, N); }
static void exp_v1(void) { sm_kern_exp_f32_simd128(g_y, g_scores, N); }
/* add, axpy, rope: in place on g_y, which stays bounded (x is small, rotations keep norms) */
static void add_ref(void) { sm_kern_add_ref(g_y, g_x, N); }
static void add_v1(void) { sm_kern_add_simd128(g_y, g_x, N); }
static void axpy_ref(void) { sm_kern_axpy_ref(g_y, 1e-3f, g_x, N); }
static void axpy_v1(void) { sm_kern_axpy_simd128(g_y, 1e-3f, g_x, N); }
static void dot_ref(void) { g_sink = sm_kern_dot_f32_ref(g_x, g_u, N); }
static void dot_v1(void) { g_sink = sm_kern_dot_f32_simd128(g_x, g_u, N); }
static void rope_norm_ref(void) {
    for (int h = 0; h < N_HEADS; h++)
        sm_kern_rope_apply_ref(g_y + h * HEAD, HEAD, (const float(*)[2])g_cs, SM_ROPE_NORM);
}
static void rope_norm_v1(void) {
    for (int h = 0; h < N_HEADS; h++)
        sm_kern_rope_apply_simd128(g_y + h * HEAD, HEAD, (const float(*)[2])g_cs, SM_ROPE_NORM);
}
static void rope_neox_ref(void) {
    for (int h = 0; h < N_HEADS; h++)
        sm_kern_rope_apply_ref(g_y + h * HEAD, HEAD, (const float(*)[2])g_cs, SM_ROPE_NEOX);
}
static void rope_neox_v1(void) {
    for (int h = 0; h < N_HEADS; h++)
        sm_kern_rope_apply_simd128(g_y + h * HEAD, HEAD, (const float(*)[2])g_cs, SM_ROPE_NEOX);
}

/* ---- validation and timing ----------------------------------------------------------------- */

static int64_t ordered(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u & 0x80000000u ? -(int64_t)(u & 0x7fffffffu) : (int64_t)u;
}

/* Runs f once from the same starting g_y as ref and returns the largest ulp distance of the
 * first n outputs (or of g_sink for dot). */
static double max_ulps(void (*ref)(void), void (*f)(void), int n) {
    static float start[N], out[N];
    memcpy(start, g_y, sizeof start);
    ref();
    memcpy(out, g_y, sizeof out);
    const float s_ref = g_sink;
    memcpy(g_y, start, sizeof start);
    f();
    double m = fabs((double)(ordered(s_ref) - ordered(g_sink)));
    for (int i = 0; i < n; i++) {
        const double d = fabs((double)(ordered(out[i]) - ordered(g_y[i])));
        m = d > m ? d : m;
    }
    memcpy(g_y, start, sizeof start);
    return m;
}

/* Best seconds per call over 5 runs of enough calls for ~10 ms. */
static double time_call(void (*f)(void)) {
    int reps = 1;
    for (;;) {
        const double t0 = lab_now_s();
        for (int r = 0; r < reps; r++) f();
        if (lab_now_s() - t0 > 0.01) break;
        reps *= 2;
    }
    double best = 1e30;
    for (int k = 0; k < 5; k++) {
        const double t0 = lab_now_s();
        for (int r = 0; r < reps; r++) f();
        const double t = (lab_now_s() - t0) / reps;
        best = t < best ? t : best;
    }
    return best;
}

typedef struct lab_op {
    const char *name;
    int n;
    void (*ref)(void), (*v1)(void), (*v0)(void);
} lab_op;

int main(void) {
    for (int i = 0; i < N; i++) {
        g_x[i] = 4.0f * lab_rnd();
        g_w[i] = 1.0f + 0.2f * lab_rnd();
        g_u[i] = lab_rnd();
        g_y[i] = lab_rnd();
        g_scores[i] = 10.0f * lab_rnd();
    }
    sm_kern_rope_angles(g_cs, HEAD, 123, 10000.0f, 1.0f, NULL);
    const lab_op ops[] = {
        {"rmsnorm", N, rms_ref, rms_v1, rms_v0},
        {"softmax", N_SOFT, soft512_ref, soft512_v1, NULL},
        {"softmax", N, soft_ref, soft_v1, NULL},
        {"exp", N, exp_ref, exp_v1, NULL},
        {"swiglu", N, swi_ref, swi_v1, NULL},
        {"geglu", N, geg_ref, geg_v1, NULL},
        {"add", N, add_ref, add_v1, NULL},
        {"axpy", N, axpy_ref, axpy_v1, NULL},
        {"dot_f32", N, dot_ref, dot_v1, NULL},
        {"rope_norm", N, rope_norm_ref, rope_norm_v1, NULL},
        {"rope_neox", N, rope_neox_ref, rope_neox_v1, NULL},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const lab_op *o = &ops[k];
        const double e1 = max_ulps(o->ref, o->v1, o->n);
        const double tr = time_call(o->ref), t1 = time_call(o->v1);
        printf("{\"op\":\"%s\",\"n\":%d,\"ref_ns\":%.0f,\"v1_ns\":%.0f,\"v1_speedup\":%.2f,"
               "\"v1_ns_per_elt\":%.3f,\"v1_max_ulps\":%.0f",
               o->name, o->n, tr * 1e9, t1 * 1e9, tr / t1, t1 * 1e9 / o->n, e1);
        if (o->v0) {
            const double e0 = max_ulps(o->ref, o->v0, o->n), t0 = time_call(o->v0);
            printf(",\"v0_ns\":%.0f,\"v0_speedup\":%.2f,\"v0_max_ulps\":%.0f", t0 * 1e9, tr / t0,
                   e0);
        }
        printf("}\n");
    }
    return 0;
}
