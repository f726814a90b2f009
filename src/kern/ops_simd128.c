/*
 * ops_simd128.c — WASM SIMD128 versions of the f32 row operations (ops.h) and the vector exp they
 * share. Same contracts as ops_ref.c, the truth they are tested against (tests/c/test_ops.c):
 *  - add, axpy, rope_apply: the reference's float operations, lane-wise: bit-identical;
 *  - dot: the reference's four partial sums are the four lanes of one accumulator: bit-identical;
 *  - rmsnorm, softmax: sums in f64x2 lanes, as the reference sums in double (order differs only);
 *  - softmax, swiglu, geglu: exp_f32x4 below (<= 2 ulp) where the reference calls libm.
 * Whole vectors first; a tail of fewer than 4 elements goes through the same vector code on a
 * zero-padded copy, so every element gets the same exp. Compiled to nothing without -msimd128.
 */
#ifdef __wasm_simd128__

#include <math.h>
#include <string.h>

#include "kern/ops.h"
#include "kern/simd128.h"

/* ---- exp ----------------------------------------------------------------------------------- */

/* e^x lane-wise, over the whole float range (subnormal results included) within 2 ulp of exact;
 * x < -150 and -inf give +0, x > 100 and +inf give +inf, NaN gives NaN.
 * x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2 (Cody-Waite: ln2 = hi + lo with a 9-bit hi,
 * so n * hi is exact for |n| < 2^15); e^r = 1 + r + r^2 q(r), q of degree 4 interpolating
 * (e^r - 1 - r) / r^2 at Chebyshev nodes of [-ln2/2, ln2/2] (0.16 ulp from e^r before rounding).
 * 2^n is applied as 2^(n >> 1) then 2^(n - (n >> 1)), both normal floats for |n| <= 217: the
 * first product is exact, so an overflowing or subnormal result is rounded once, like libm's.
 * The clamp keeps |n| <= 217; pmax/pmin pass a NaN x through (their first operand), and then
 * r, hence the result, is NaN whatever bits the scale got. */
static inline v128_t exp_f32x4(v128_t x) {
    const v128_t magic = wasm_f32x4_splat(12582912.0f); /* 1.5 * 2^23: rounds to an integer */
    x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-150.0f));
    x = wasm_f32x4_pmin(x, wasm_f32x4_splat(100.0f));
    const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(0x1.715476p+0f)), magic);
    const v128_t n = wasm_i32x4_sub(t, magic); /* round(x / ln2) in the low bits */
    const v128_t nf = wasm_f32x4_sub(t, magic);
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(nf, wasm_f32x4_splat(0x1.63p-1f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(nf, wasm_f32x4_splat(-0x1.bd0106p-13f)));
    v128_t q = wasm_f32x4_splat(0x1.6d10fcp-10f);
    q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0x1.120b62p-7f));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0x1.55551ap-5f));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0x1.5554dep-3f));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0.5f));
    const v128_t p = wasm_f32x4_add(
        wasm_f32x4_splat(1.0f), wasm_f32x4_add(r, wasm_f32x4_mul(wasm_f32x4_mul(r, r), q)));
    const v128_t n1 = wasm_i32x4_shr(n, 1), n2 = wasm_i32x4_sub(n, n1);
    const v128_t bias = wasm_i32x4_splat(127);
    const v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, bias), 23);
    const v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, bias), 23);
    return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

/* silu(g) * u = g / (1 + e^-g) * u, the reference's operations with exp_f32x4 for expf. */
static inline v128_t swiglu_f32x4(v128_t g, v128_t u) {
    const v128_t e = exp_f32x4(wasm_f32x4_neg(g));
    return wasm_f32x4_mul(wasm_f32x4_div(g, wasm_f32x4_add(wasm_f32x4_splat(1.0f), e)), u);
}

/* gelu(a) * u in the reference's tanh form, a/2 (1 + tanh z) = a / (1 + e^(-2z)) (the same
 * function: 1 + tanh z = 2 / (1 + e^(-2z))), with z = sqrt(2/pi) (a + 0.044715 a^3) computed by
 * the reference's float operations. This form has no cancellation where tanh z is near -1, so
 * it is the more accurate of the two for negative a. */
static inline v128_t geglu_f32x4(v128_t a, v128_t u) {
    const v128_t c = wasm_f32x4_splat(0.044715f), k = wasm_f32x4_splat(0.7978845608028654f);
    const v128_t a3 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(c, a), a), a);
    const v128_t z = wasm_f32x4_mul(k, wasm_f32x4_add(a, a3));
    const v128_t e = exp_f32x4(wasm_f32x4_mul(z, wasm_f32x4_splat(-2.0f)));
    return wasm_f32x4_mul(wasm_f32x4_div(a, wasm_f32x4_add(wasm_f32x4_splat(1.0f), e)), u);
}

// y[i] = e^x[i]
void sm_kern_exp_f32_simd128(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, exp_f32x4(wasm_v128_load(x + i)));
    if (i < n) {
        float b[4] = {0};
        memcpy(b, x + i, sizeof(float) * (size_t)(n - i));
        wasm_v128_store(b, exp_f32x4(wasm_v128_load(b)));
        memcpy(y + i, b, sizeof(float) * (size_t)(n - i));
    }
}

// h[i] = silu(g[i]) * u[i]
void sm_kern_swiglu_simd128(float *h, const float *g, const float *u, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(h + i, swiglu_f32x4(wasm_v128_load(g + i), wasm_v128_load(u + i)));
    if (i < n) {
        float bg[4] = {0}, bu[4] = {0};
        memcpy(bg, g + i, sizeof(float) * (size_t)(n - i));
        memcpy(bu, u + i, sizeof(float) * (size_t)(n - i));
        wasm_v128_store(bg, swiglu_f32x4(wasm_v128_load(bg), wasm_v128_load(bu)));
        memcpy(h + i, bg, sizeof(float) * (size_t)(n - i));
    }
}

// h[i] = gelu(g[i]) * u[i]
void sm_kern_geglu_simd128(float *h, const float *g, const float *u, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(h + i, geglu_f32x4(wasm_v128_load(g + i), wasm_v128_load(u + i)));
    if (i < n) {
        float bg[4] = {0}, bu[4] = {0};
        memcpy(bg, g + i, sizeof(float) * (size_t)(n - i));
        memcpy(bu, u + i, sizeof(float) * (size_t)(n - i));
        wasm_v128_store(bg, geglu_f32x4(wasm_v128_load(bg), wasm_v128_load(bu)));
        memcpy(h + i, bg, sizeof(float) * (size_t)(n - i));
    }
}

/* ---- sums ---------------------------------------------------------------------------------- */

/* acc + (double)v[0..1]^2 and + (double)v[2..3]^2 in f64x2 lanes: squares of floats are exact in
 * double, as in the reference's `(double)x[i] * x[i]`. */
static inline void add_squares_f64(v128_t v, v128_t *lo, v128_t *hi) {
    const v128_t a = wasm_f64x2_promote_low_f32x4(v);
    const v128_t b = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3));
    *lo = wasm_f64x2_add(*lo, wasm_f64x2_mul(a, a));
    *hi = wasm_f64x2_add(*hi, wasm_f64x2_mul(b, b));
}

static inline double hsum_f64x2(v128_t v) {
    return wasm_f64x2_extract_lane(v, 0) + wasm_f64x2_extract_lane(v, 1);
}

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]
void sm_kern_rmsnorm_simd128(float *y, const float *x, const float *w, int n, float eps) {
    v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        add_squares_f64(wasm_v128_load(x + i), &a0, &a1);
        add_squares_f64(wasm_v128_load(x + i + 4), &a2, &a3);
    }
    for (; i + 4 <= n; i += 4) add_squares_f64(wasm_v128_load(x + i), &a0, &a1);
    double ss = hsum_f64x2(wasm_f64x2_add(wasm_f64x2_add(a0, a1), wasm_f64x2_add(a2, a3)));
    for (; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = (float)(1.0 / sqrt(ss / n + eps));
    const v128_t s = wasm_f32x4_splat(scale);
    for (i = 0; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(x + i), s),
                                              wasm_v128_load(w + i)));
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}

// x[i] = e^(x[i] - max) / sum_j e^(x[j] - max)
void sm_kern_softmax_simd128(float *x, int n) {
    /* pmax(m, v) = m < v ? v : m keeps m for a NaN v, as the reference's max does */
    v128_t mv = wasm_f32x4_splat(-INFINITY);
    int i = 0;
    for (; i + 4 <= n; i += 4) mv = wasm_f32x4_pmax(mv, wasm_v128_load(x + i));
    float max = sm_kern_hmax_f32x4(mv);
    for (; i < n; i++) max = x[i] > max ? x[i] : max;

    const v128_t m = wasm_f32x4_splat(max);
    v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0;
    for (i = 0; i + 4 <= n; i += 4) {
        const v128_t e = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + i), m));
        wasm_v128_store(x + i, e);
        s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(e));
        s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 2, 3)));
    }
    double sum = hsum_f64x2(wasm_f64x2_add(s0, s1));
    if (i < n) {
        float b[4] = {0};
        memcpy(b, x + i, sizeof(float) * (size_t)(n - i));
        wasm_v128_store(b, exp_f32x4(wasm_f32x4_sub(wasm_v128_load(b), m)));
        for (int k = 0; k < n - i; k++) {
            x[i + k] = b[k];
            sum += b[k];
        }
    }
    const float inv = (float)(1.0 / sum);
    const v128_t iv = wasm_f32x4_splat(inv);
    for (i = 0; i + 4 <= n; i += 4)
        wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), iv));
    for (; i < n; i++) x[i] *= inv;
}

// returns sum_i a[i] b[i]: lane k sums the elements i = k mod 4, as the reference's s0..s3
float sm_kern_dot_f32_simd128(const float *a, const float *b, int n) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    float s0 = wasm_f32x4_extract_lane(acc, 0);
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + wasm_f32x4_extract_lane(acc, 1)) +
           (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
}

/* ---- element-wise -------------------------------------------------------------------------- */

// y[i] += x[i]
void sm_kern_add_simd128(float *y, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_v128_load(x + i)));
        wasm_v128_store(y + i + 4,
                        wasm_f32x4_add(wasm_v128_load(y + i + 4), wasm_v128_load(x + i + 4)));
    }
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

// y[i] += a x[i]
void sm_kern_axpy_simd128(float *y, float a, const float *x, int n) {
    const v128_t av = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i),
                                              wasm_f32x4_mul(av, wasm_v128_load(x + i))));
    for (; i < n; i++) y[i] += a * x[i];
}

/* ---- rotary embeddings --------------------------------------------------------------------- */

/* (a, b) -> (a c - b s, a s + b c) for pair i, the reference's products and sums: a c + b (-s)
 * and b c + a s round the same as a c - b s and a s + b c. */

/* Adjacent pairs: x = [a0 b0 a1 b1] with cs = [c0 s0 c1 s1]; out = x * [c0 c0 c1 c1] +
 * [b0 a0 b1 a1] * [-s0 s0 -s1 s1]. */
static void rope_norm(float *x, int half, const float (*cs)[2]) {
    const v128_t neg_even = wasm_i32x4_make((int32_t)0x80000000, 0, (int32_t)0x80000000, 0);
    int i = 0;
    for (; i + 2 <= half; i += 2) {
        const v128_t v = wasm_v128_load(x + 2 * i), t = wasm_v128_load(&cs[i][0]);
        const v128_t c = wasm_i32x4_shuffle(t, t, 0, 0, 2, 2);
        const v128_t s = wasm_v128_xor(wasm_i32x4_shuffle(t, t, 1, 1, 3, 3), neg_even);
        const v128_t sw = wasm_i32x4_shuffle(v, v, 1, 0, 3, 2);
        wasm_v128_store(x + 2 * i, wasm_f32x4_add(wasm_f32x4_mul(v, c), wasm_f32x4_mul(sw, s)));
    }
    for (; i < half; i++) {
        const float a = x[2 * i], b = x[2 * i + 1], c = cs[i][0], s = cs[i][1];
        x[2 * i] = a * c - b * s;
        x[2 * i + 1] = a * s + b * c;
    }
}

/* Halves: a = x[i..i+4), b = x[half+i..half+i+4), cos and sin de-interleaved from cs[i..i+4). */
static void rope_neox(float *x, int half, const float (*cs)[2]) {
    float *y = x + half;
    int i = 0;
    for (; i + 4 <= half; i += 4) {
        const v128_t t0 = wasm_v128_load(&cs[i][0]), t1 = wasm_v128_load(&cs[i + 2][0]);
        const v128_t c = wasm_i32x4_shuffle(t0, t1, 0, 2, 4, 6);
        const v128_t s = wasm_i32x4_shuffle(t0, t1, 1, 3, 5, 7);
        const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(y + i);
        wasm_v128_store(x + i, wasm_f32x4_sub(wasm_f32x4_mul(a, c), wasm_f32x4_mul(b, s)));
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_f32x4_mul(a, s), wasm_f32x4_mul(b, c)));
    }
    for (; i < half; i++) {
        const float a = x[i], b = y[i], c = cs[i][0], s = cs[i][1];
        x[i] = a * c - b * s;
        y[i] = a * s + b * c;
    }
}

// rotates the first n_rot dims of x by the angles cs[n_rot/2]
void sm_kern_rope_apply_simd128(float *x, int n_rot, const float (*cs)[2], sm_rope_mode mode) {
    if (mode == SM_ROPE_NORM) rope_norm(x, n_rot / 2, cs);
    else rope_neox(x, n_rot / 2, cs);
}

#else
typedef int sm_kern_ops_simd128_unused; /* ISO C forbids an empty translation unit */
#endif
