/*
 * test_ops.c — tests of the f32 row operations (kern/ops.h): each SIMD128 version against its
 * scalar reference, and the exp-based ones against double-precision truth too. Natively (no
 * SIMD128) the same checks run on the entry points, which are then the references.
 *
 * Inputs: random rows of awkward lengths (1, 3, 4, 5, 17, 64, 512, 2051) at float offsets 0-3
 * (so vector loads are unaligned), in place where the forward pass calls them in place, and edge
 * values (exp at -104, -88, 0, 88, 89, +-inf, NaN; softmax of equal values and of -inf entries).
 * Tolerances, in units in the last place of the expected float (ulp distance: how many floats
 * lie between), or exact:
 *   add, axpy, dot, rope_apply      bit-identical (the same float operations)
 *   rmsnorm                         <= 1 ulp (double sums in another order; normally identical)
 *   exp (vector)                    <= 2 ulp from exact over the whole float range, subnormal
 *                                   results included; exact specials
 *   softmax, swiglu                 <= 4 ulp from the reference
 *   geglu                           SIMD128 <= 4 ulp from exact; the reference within 4 ulp
 *                                   plus its own cancellation error in 1 + tanhf(z),
 *                                   2^-23 |g u|, of exact, and SIMD128 within that of it
 * Runs natively and as WASM under Node; prints the largest error met per operation.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_rng.h"
#include "kern/ops.h"

#ifdef __wasm_simd128__
#define FAST(op) sm_kern_##op##_simd128
#define FAST_NAME "simd128"
#define EXP_FAST sm_kern_exp_f32_simd128
#else
#define EXP_FAST sm_kern_exp_f32_ref
#define FAST(op) sm_kern_##op
#define FAST_NAME "entry point (= ref)"
#endif

/* ---- helpers ------------------------------------------------------------------------------- */

static void fill(float *x, int n, float sigma) {
    for (int i = 0; i < n; i++) x[i] = sigma * rng_normal();
}

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Floats between a and b (0: same value, -0 == +0); both NaN count 0; NaN against a number, and
 * infinities of other values, count as huge. */
static double ulp_dist(float a, float b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0.0 : 1e30;
    if (a == b) return 0.0;
    if (isinf(a) || isinf(b)) return 1e30;
    const int64_t ia = bits(a) & 0x80000000u ? -(int64_t)(bits(a) & 0x7fffffffu) : bits(a);
    const int64_t ib = bits(b) & 0x80000000u ? -(int64_t)(bits(b) & 0x7fffffffu) : bits(b);
    return (double)llabs(ia - ib);
}

/* The spacing of floats at the magnitude of t (exact value): 2^(e - 23), at least 2^-149. */
static double ulp_of(double t) {
    if (t == 0.0) return 0x1p-149;
    int e;
    frexp(t, &e); /* |t| in [2^(e-1), 2^e) */
    return fmax(ldexp(1.0, e - 1 - 23), 0x1p-149);
}

/* y's error from the exact t, in ulps of t. At the overflow threshold +-inf counts as +-2^128
 * (the next float after FLT_MAX were the exponent range wider), so an infinity where t rounds
 * to FLT_MAX is 1 ulp off, not infinitely. */
static double ulp_err(float y, double t) {
    if (isnan(t) || isnan(y)) return isnan(t) && isnan(y) ? 0.0 : 1e30;
    if (isinf((float)t) && (float)t == y) return 0.0;
    const double yv = isinf(y) ? copysign(0x1p128, y) : y;
    return fabs(yv - t) / ulp_of(fmin(fabs(t), FLT_MAX));
}

static const int k_lens[] = {1, 3, 4, 5, 17, 64, 512, 2051};
enum { N_LENS = sizeof k_lens / sizeof k_lens[0], MAX_N = 2051, PAD = 8 };

/* largest errors met, for the report */
static double g_max_exp, g_max_exp_ref, g_max_rms, g_max_soft, g_max_swi, g_max_swi_true,
    g_max_geg, g_max_geg_true;

/* ---- exp ----------------------------------------------------------------------------------- */

static double exp_err_max(void (*f)(float *, const float *, int), const float *x, int n) {
    float *y = malloc(sizeof(float) * (size_t)n);
    f(y, x, n);
    double m = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, ulp_err(y[i], exp((double)x[i])));
    free(y);
    return m;
}

static void test_exp(void) {
    enum { N = 1 << 20 };
    float *x = malloc(sizeof(float) * N);
    /* every 4096th float bit pattern, shifted: the whole range, NaNs and infinities included */
    for (int i = 0; i < N; i++) x[i] = from_bits((uint32_t)i * 4096u + 1234u);
    double e = exp_err_max(EXP_FAST, x, N);
    CHECK(e <= 2.0);
    g_max_exp = fmax(g_max_exp, e);
    /* evenly spaced over the range where e^x is a nonzero finite float, and a dense look at the
     * subnormal results and the overflow threshold */
    for (int i = 0; i < N; i++) x[i] = -104.0f + 193.0f * (float)i / N;
    e = exp_err_max(EXP_FAST, x, N);
    CHECK(e <= 2.0);
    g_max_exp = fmax(g_max_exp, e);
    for (int i = 0; i < N; i++) x[i] = i < N / 2 ? -104.0f + 17.0f * (float)i / (N / 2)
                                                 : 88.5f + 0.5f * (float)(i - N / 2) / (N / 2);
    e = exp_err_max(EXP_FAST, x, N);
    CHECK(e <= 2.0);
    g_max_exp = fmax(g_max_exp, e);
    g_max_exp_ref = fmax(g_max_exp_ref, exp_err_max(sm_kern_exp_f32_ref, x, N));
    CHECK(g_max_exp_ref <= 1.0);
    free(x);

    /* edges, each at every position of a vector and in the tail */
    const float edge[] = {-104.0f, -88.0f, 0.0f,      88.0f,     89.0f,     -INFINITY,
                          INFINITY, NAN,   -0.0f,     -150.0f,   -1e30f,    100.0f,
                          1e30f,   1e-30f, -103.97f,  88.7228f,  88.72284f, -87.33655f};
    enum { N_EDGE = sizeof edge / sizeof edge[0] };
    float in[N_EDGE + 3], out[N_EDGE + 3];
    for (int sh = 0; sh < 4; sh++) {
        for (int i = 0; i < N_EDGE + 3; i++) in[i] = 1.0f;
        memcpy(in + sh, edge, sizeof edge);
        EXP_FAST(out, in, N_EDGE + 3);
        for (int i = 0; i < N_EDGE; i++) {
            const float xi = edge[i], yi = out[sh + i];
            if (isnan(xi)) CHECK(isnan(yi));
            else if (xi == -INFINITY || xi <= -104.0f) CHECK(yi == 0.0f && !signbit(yi));
            else if (xi == INFINITY || xi >= 89.0f) CHECK(yi == INFINITY);
            else if (xi == 0.0f) CHECK(yi == 1.0f);
            else CHECK(ulp_err(yi, exp((double)xi)) <= 2.0);
        }
    }
}

/* ---- rmsnorm ------------------------------------------------------------------------------- */

static void test_rmsnorm(void) {
    static float x[MAX_N + PAD], w[MAX_N + PAD], a[MAX_N + PAD], b[MAX_N + PAD];
    for (int li = 0; li < N_LENS; li++) {
        for (int off = 0; off < 4; off++) {
            const int n = k_lens[li];
            float *xo = x + off, *wo = w + (3 - off), *ao = a + off, *bo = b + off;
            fill(xo, n, powf(2.0f, (float)(int)(rng_u32() % 16) - 8.0f));
            fill(wo, n, 1.0f);
            const float eps = off & 1 ? 1e-6f : 1e-5f;
            sm_kern_rmsnorm_ref(ao, xo, wo, n, eps);
            FAST(rmsnorm)(bo, xo, wo, n, eps);
            double m = 0.0;
            for (int i = 0; i < n; i++) m = fmax(m, ulp_dist(ao[i], bo[i]));
            CHECK(m <= 1.0);
            g_max_rms = fmax(g_max_rms, m);
            /* in place, as for q/k norms; and the entry point */
            memcpy(bo, xo, sizeof(float) * (size_t)n);
            FAST(rmsnorm)(bo, bo, wo, n, eps);
            m = 0.0;
            for (int i = 0; i < n; i++) m = fmax(m, ulp_dist(ao[i], bo[i]));
            CHECK(m <= 1.0);
            sm_kern_rmsnorm(ao, xo, wo, n, eps);
            FAST(rmsnorm)(bo, xo, wo, n, eps);
            CHECK(memcmp(ao, bo, sizeof(float) * (size_t)n) == 0);
        }
    }
}

/* ---- softmax ------------------------------------------------------------------------------- */

/* Largest ulp distance of FAST(softmax) from the reference on a copy of x[n]. */
static double softmax_diff(const float *x, int n, int off) {
    static float a[MAX_N + PAD], b[MAX_N + PAD];
    float *ao = a + off, *bo = b + (3 - off);
    memcpy(ao, x, sizeof(float) * (size_t)n);
    memcpy(bo, x, sizeof(float) * (size_t)n);
    sm_kern_softmax_ref(ao, n);
    FAST(softmax)(bo, n);
    double m = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, ulp_dist(ao[i], bo[i]));
    return m;
}

static void test_softmax(void) {
    static float x[MAX_N + PAD];
    const float sigmas[] = {1.0f, 8.0f, 40.0f};
    for (int li = 0; li < N_LENS; li++) {
        for (int off = 0; off < 4; off++) {
            const int n = k_lens[li];
            fill(x, n, sigmas[(li + off) % 3]);
            const double m = softmax_diff(x, n, off);
            CHECK(m <= 4.0);
            g_max_soft = fmax(g_max_soft, m);
        }
    }
    /* equal values: exactly 1/n's float, both */
    for (int li = 0; li < N_LENS; li++) {
        const int n = k_lens[li];
        for (int i = 0; i < n; i++) x[i] = 3.25f;
        CHECK(softmax_diff(x, n, li & 3) == 0.0);
    }
    /* -inf entries (masked positions) give +0; the rest still sums to 1; results far below the
     * max are subnormal or 0 */
    for (int li = 0; li < N_LENS; li++) {
        const int n = k_lens[li];
        fill(x, n, 30.0f);
        for (int i = 0; i < n; i++)
            if (i % 3 == 1) x[i] = -INFINITY;
        if (n > 2) x[n - 1] = x[0] - 100.0f;
        float y[MAX_N];
        memcpy(y, x, sizeof(float) * (size_t)n);
        FAST(softmax)(y, n);
        int zeros_ok = 1;
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            if (x[i] == -INFINITY) zeros_ok &= y[i] == 0.0f;
            sum += y[i];
        }
        CHECK(zeros_ok);
        CHECK_NEAR(sum, 1.0, 1e-6);
        CHECK(softmax_diff(x, n, 1) <= 4.0);
    }
    /* all -inf (nothing to attend to) and a NaN entry: NaN everywhere, as the reference */
    for (int i = 0; i < 17; i++) x[i] = -INFINITY;
    CHECK(softmax_diff(x, 17, 0) == 0.0);
    float y[17];
    memcpy(y, x, sizeof y);
    FAST(softmax)(y, 17);
    CHECK(isnan(y[0]) && isnan(y[16]));
    fill(x, 17, 1.0f);
    x[6] = NAN;
    CHECK(softmax_diff(x, 17, 2) == 0.0);
}

/* ---- gated activations --------------------------------------------------------------------- */

static const float k_act_edge[] = {0.0f,   -0.0f,    88.0f,    -88.0f,     89.0f, -89.0f,
                                   104.0f, -104.0f,  INFINITY, -INFINITY,  NAN,   1e-30f,
                                   -1e30f, 1e30f,    -9.0f,    -10.5f,     20.0f, -87.5f};
enum { N_ACT_EDGE = sizeof k_act_edge / sizeof k_act_edge[0] };

/* g = sigma * N(0,1) with the edge values sprinkled in, u = N(0,1). */
static void fill_act(float *g, float *u, int n, float sigma, int with_edges) {
    fill(g, n, sigma);
    fill(u, n, 1.0f);
    if (with_edges)
        for (int i = 0; i < n; i += 3) g[i] = k_act_edge[(i / 3) % N_ACT_EDGE];
}

static void test_swiglu(void) {
    static float g[MAX_N + PAD], u[MAX_N + PAD], a[MAX_N + PAD], b[MAX_N + PAD];
    for (int li = 0; li < N_LENS; li++) {
        for (int off = 0; off < 4; off++) {
            const int n = k_lens[li];
            float *go = g + off, *uo = u + 1, *ao = a + (3 - off), *bo = b + off;
            fill_act(go, uo, n, off < 2 ? 3.0f : 30.0f, off & 1);
            sm_kern_swiglu_ref(ao, go, uo, n);
            FAST(swiglu)(bo, go, uo, n);
            double m = 0.0, mt = 0.0;
            for (int i = 0; i < n; i++) {
                m = fmax(m, ulp_dist(ao[i], bo[i]));
                /* exact: g u / (1 + e^-g), tiny results (below 2^-120) as 0 */
                const double t = (double)go[i] * uo[i] / (1.0 + exp(-(double)go[i]));
                if (isfinite(t) && fabs(t) > 0x1p-120) mt = fmax(mt, ulp_err(bo[i], t));
            }
            CHECK(m <= 4.0);
            CHECK(mt <= 4.0);
            g_max_swi = fmax(g_max_swi, m);
            g_max_swi_true = fmax(g_max_swi_true, mt);
            /* in place, as the forward pass calls it */
            memcpy(bo, go, sizeof(float) * (size_t)n);
            FAST(swiglu)(bo, bo, uo, n);
            m = 0.0;
            for (int i = 0; i < n; i++) m = fmax(m, ulp_dist(ao[i], bo[i]));
            CHECK(m <= 4.0);
        }
    }
}

static void test_geglu(void) {
    static float g[MAX_N + PAD], u[MAX_N + PAD], a[MAX_N + PAD], b[MAX_N + PAD];
    const float k = 0.7978845608028654f;
    for (int li = 0; li < N_LENS; li++) {
        for (int off = 0; off < 4; off++) {
            const int n = k_lens[li];
            float *go = g + off, *uo = u + 2, *ao = a + (3 - off), *bo = b + off;
            fill_act(go, uo, n, off < 2 ? 2.0f : 12.0f, off & 1);
            sm_kern_geglu_ref(ao, go, uo, n);
            FAST(geglu)(bo, go, uo, n);
            double m = 0.0, mt = 0.0;
            int ok = 1;
            for (int i = 0; i < n; i++) {
                const float x = go[i];
                /* exact from the float z both compute: g u / (1 + e^(-2z)) */
                const float z = k * (x + 0.044715f * x * x * x);
                const double t = (double)x * uo[i] / (1.0 + exp(-2.0 * (double)z));
                if (isnan(ao[i]) || isnan(bo[i]) || !isfinite(t)) {
                    ok &= ulp_dist(ao[i], bo[i]) == 0.0;
                    continue;
                }
                const double floor_abs = 0x1p-120, ref_err = 0x1p-23 * fabs((double)x * uo[i]);
                const double bound = 4.0 * ulp_of(t) + ref_err + floor_abs;
                ok &= fabs((double)ao[i] - t) <= bound && fabs((double)bo[i] - ao[i]) <= bound;
                if (fabs(t) > floor_abs) mt = fmax(mt, ulp_err(bo[i], t));
                /* in units of 2^-24 |g u|: the scale of the reference's own error */
                if (ref_err > 0.0) m = fmax(m, fabs((double)bo[i] - ao[i]) / (ref_err / 2.0));
            }
            CHECK(ok);
#ifdef __wasm_simd128__
            CHECK(mt <= 4.0); /* the reference is not this close: see ref_err */
#endif
            g_max_geg = fmax(g_max_geg, m);
            g_max_geg_true = fmax(g_max_geg_true, mt);
        }
    }
}

/* ---- bit-identical ones -------------------------------------------------------------------- */

static void test_add_axpy_dot(void) {
    static float x[MAX_N + PAD], y[MAX_N + PAD], a[MAX_N + PAD], b[MAX_N + PAD];
    for (int li = 0; li < N_LENS; li++) {
        for (int off = 0; off < 4; off++) {
            const int n = k_lens[li];
            float *xo = x + off, *yo = y + (off + 1) % 4, *ao = a + off, *bo = b + (3 - off);
            fill(xo, n, 2.0f);
            fill(yo, n, 5.0f);
            const size_t sz = sizeof(float) * (size_t)n;
            memcpy(ao, yo, sz);
            memcpy(bo, yo, sz);
            sm_kern_add_ref(ao, xo, n);
            FAST(add)(bo, xo, n);
            CHECK(memcmp(ao, bo, sz) == 0);
            const float alpha = rng_normal();
            memcpy(ao, yo, sz);
            memcpy(bo, yo, sz);
            sm_kern_axpy_ref(ao, alpha, xo, n);
            FAST(axpy)(bo, alpha, xo, n);
            CHECK(memcmp(ao, bo, sz) == 0);
            const float d0 = sm_kern_dot_f32_ref(xo, yo, n), d1 = FAST(dot_f32)(xo, yo, n);
            CHECK(bits(d0) == bits(d1));
            CHECK(bits(sm_kern_dot_f32(xo, yo, n)) == bits(d1));
        }
    }
}

static void test_rope(void) {
    const int n_rots[] = {2, 4, 6, 8, 10, 14, 34, 64, 128};
    static float cs[64][2];
    static float x[128 + 16], a[128 + 16], b[128 + 16];
    for (size_t ri = 0; ri < sizeof n_rots / sizeof n_rots[0]; ri++) {
        for (int mode = SM_ROPE_NORM; mode <= SM_ROPE_NEOX; mode++) {
            for (int off = 0; off < 4; off++) {
                const int n_rot = n_rots[ri];
                const int pos = (int)(rng_u32() % 4096);
                sm_kern_rope_angles(cs, n_rot, pos, 10000.0f, 1.0f, NULL);
                /* the pass rotates the first n_rot dims of a wider head: the rest stays */
                const int hd = n_rot + 2 * off;
                fill(x, hd, 3.0f);
                float *ao = a + off, *bo = b + (3 - off);
                const size_t sz = sizeof(float) * (size_t)hd;
                memcpy(ao, x, sz);
                memcpy(bo, x, sz);
                sm_kern_rope_apply_ref(ao, n_rot, (const float(*)[2])cs, (sm_rope_mode)mode);
                FAST(rope_apply)(bo, n_rot, (const float(*)[2])cs, (sm_rope_mode)mode);
                CHECK(memcmp(ao, bo, sz) == 0);
                /* and a rotation it does: by pos = 0 nothing moves */
                if (off == 0) {
                    sm_kern_rope_angles(cs, n_rot, 0, 10000.0f, 1.0f, NULL);
                    memcpy(bo, x, sz);
                    FAST(rope_apply)(bo, n_rot, (const float(*)[2])cs, (sm_rope_mode)mode);
                    CHECK(memcmp(bo, x, sz) == 0);
                }
            }
        }
    }
}

int main(void) {
    test_exp();
    test_rmsnorm();
    test_softmax();
    test_swiglu();
    test_geglu();
    test_add_axpy_dot();
    test_rope();
    printf("max errors (%s): exp %.3g ulp from exact (libm expf %.3g); rmsnorm %.3g ulp; "
           "softmax %.3g ulp; swiglu %.3g ulp (%.3g from exact); geglu %.3g * 2^-24 |g u| from ref "
           "(%.3g ulp from exact)\n",
           FAST_NAME, g_max_exp, g_max_exp_ref, g_max_rms, g_max_soft, g_max_swi, g_max_swi_true,
           g_max_geg, g_max_geg_true);
    return sm_check_report("test_ops");
}
