/*
 * gemv_k_lab.c — kernel lab for decoding K-quant rows: one Q8_K activation row against a Q4_K
 * weight matrix, as numbered versions beside the scalar reference, each validated against it and
 * timed on a matrix that fits the cache and one that does not.
 *
 *   v0   sm_kern_gemv_q4_K_simd128 as it was: the activation row widened to i16 once per call, the
 *        weights' nibbles split as bytes and widened (i8x16 shift and mask, four extends per 32
 *        weights), one i32 multiply by the group scale per 16 weights
 *   v1   the nibbles split in i16 lanes straight from the loaded bytes (the even bytes' nibbles
 *        by mask, the odd bytes' by a 16-bit shift), against the activations widened once per
 *        call into their even and odd elements; one i32 multiply per 32-weight group; the block's
 *        i32 lanes summed to one exact integer before the float scale
 *
 * Build and run: bash bench/kernels/run.sh 64 gemv_k
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern/quant_ref.h"
#include "kern/quant_simd128.h"
#include "kern/simd128.h"
#include "kern/types.h"

#include "lab.h"

enum { QK = 256, Q8K_SIZE = 4 + 256 + 32, Q4K_SIZE = 144 };

typedef void (*gemv_fn)(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, float *y);

static int32_t q4k_scales(const uint8_t *packed, const uint8_t *xb, uint8_t sc[8]) {
    uint32_t u[3], v[4];
    memcpy(u, packed, sizeof u);
    v[0] = u[0] & 0x3f3f3f3fu;
    v[1] = (u[2] & 0x0f0f0f0fu) | ((u[0] >> 6) & 0x03030303u) << 4;
    v[2] = u[1] & 0x3f3f3f3fu;
    v[3] = ((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] >> 6) & 0x03030303u) << 4;
    uint8_t m[8];
    memcpy(sc, v, 8);
    memcpy(m, v + 2, 8);
    int16_t bsums[16];
    memcpy(bsums, xb + 4 + 256, sizeof bsums);
    int32_t msum = 0;
    for (int g = 0; g < 8; g++) msum += m[g] * (bsums[2 * g] + bsums[2 * g + 1]);
    return msum;
}

/* The activation row as i16: per 16 elements, [even elements] then [odd elements]. */
static void split_q8_K_row(const uint8_t *x, int64_t nb, v128_t *xs) {
    for (int64_t i = 0; i < nb; i++, x += Q8K_SIZE, xs += QK / 8) {
        for (int k = 0; k < QK / 16; k++) {
            const v128_t v = wasm_v128_load(x + 4 + 16 * k);
            xs[2 * k] = wasm_i16x8_shr(wasm_i16x8_shl(v, 8), 8);
            xs[2 * k + 1] = wasm_i16x8_shr(v, 8);
        }
    }
}

static void gemv_q4_K_v1(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, float *y) {
    const int64_t nb = n / QK;
    static v128_t xs[16384 / 8];
    split_q8_K_row(x, nb, xs);
    const v128_t m4 = wasm_i16x8_splat(15);
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f, mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xs + i * (QK / 8);
            uint8_t sc[8];
            const int32_t msum = q4k_scales(a + 4, b, sc);
            mins += sm_kern_load_f32(b) * sm_kern_load_fp16(a + 2) * (float)msum;
            v128_t isum = wasm_i32x4_splat(0);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + 16 + 32 * j);
                const v128_t q1 = wasm_v128_load(a + 16 + 32 * j + 16);
                const v128_t *xl = xb + 8 * j, *xh = xb + 8 * j + 4;
                v128_t lo = wasm_i32x4_dot_i16x8(wasm_v128_and(q0, m4), xl[0]);
                lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q0, 8), m4), xl[1]));
                lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_v128_and(q1, m4), xl[2]));
                lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q1, 8), m4), xl[3]));
                v128_t hi = wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q0, 4), m4), xh[0]);
                hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(q0, 12), xh[1]));
                hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q1, 4), m4), xh[2]));
                hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(q1, 12), xh[3]));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_splat(sc[2 * j])));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(hi, wasm_i32x4_splat(sc[2 * j + 1])));
            }
            acc += sm_kern_load_f32(b) * sm_kern_load_fp16(a) * (float)sm_kern_hsum_i32x4(isum);
        }
        y[r] = acc - mins;
    }
}

static void gemv_q4_K_v2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, float *y) {
    const int64_t nb = n / QK;
    static v128_t xs[16384 / 8];
    split_q8_K_row(x, nb, xs);
    const v128_t m4 = wasm_i16x8_splat(15);
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f); float mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xs + i * (QK / 8);
            uint8_t sc[8];
            const int32_t msum = q4k_scales(a + 4, b, sc);
            mins += sm_kern_load_f32(b) * sm_kern_load_fp16(a + 2) * (float)msum;
            v128_t isum = wasm_i32x4_splat(0);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + 16 + 32 * j);
                const v128_t q1 = wasm_v128_load(a + 16 + 32 * j + 16);
                const v128_t *xl = xb + 8 * j, *xh = xb + 8 * j + 4;
                v128_t lo = wasm_i32x4_dot_i16x8(wasm_v128_and(q0, m4), xl[0]);
                lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q0, 8), m4), xl[1]));
                lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_v128_and(q1, m4), xl[2]));
                lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q1, 8), m4), xl[3]));
                v128_t hi = wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q0, 4), m4), xh[0]);
                hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(q0, 12), xh[1]));
                hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(q1, 4), m4), xh[2]));
                hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(q1, 12), xh[3]));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_splat(sc[2 * j])));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(hi, wasm_i32x4_splat(sc[2 * j + 1])));
            }
            acc = sm_kern_acc_scaled(acc, isum, sm_kern_load_f32(b) * sm_kern_load_fp16(a));
        }
        y[r] = sm_kern_hsum_f32x4(acc) - mins;
    }
}

static void gemv_q4_K_v3(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, float *y) {
    const int64_t nb = n / QK;
    static v128_t xs[16384 / 8];
    split_q8_K_row(x, nb, xs);
    const v128_t m4 = wasm_i16x8_splat(15);
    for (int r = 0; r < n_rows; r++) {
        float acc = 0.0f, mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xs + i * (QK / 8);
            uint8_t sc[8];
            const int32_t msum = q4k_scales(a + 4, b, sc);
            mins += sm_kern_load_f32(b) * sm_kern_load_fp16(a + 2) * (float)msum;
            v128_t isum = wasm_i32x4_splat(0);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + 16 + 32 * j);
                const v128_t q1 = wasm_v128_load(a + 16 + 32 * j + 16);
                const v128_t *xl = xb + 8 * j, *xh = xb + 8 * j + 4;
                const v128_t l0 = wasm_v128_and(q0, m4), l1 = wasm_v128_and(wasm_u16x8_shr(q0, 8), m4);
                const v128_t l2 = wasm_v128_and(q1, m4), l3 = wasm_v128_and(wasm_u16x8_shr(q1, 8), m4);
                const v128_t h0 = wasm_v128_and(wasm_u16x8_shr(q0, 4), m4), h1 = wasm_u16x8_shr(q0, 12);
                const v128_t h2 = wasm_v128_and(wasm_u16x8_shr(q1, 4), m4), h3 = wasm_u16x8_shr(q1, 12);
                const v128_t lo = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(l0, xl[0]), wasm_i32x4_dot_i16x8(l1, xl[1])),
                                                 wasm_i32x4_add(wasm_i32x4_dot_i16x8(l2, xl[2]), wasm_i32x4_dot_i16x8(l3, xl[3])));
                const v128_t hi = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(h0, xh[0]), wasm_i32x4_dot_i16x8(h1, xh[1])),
                                                 wasm_i32x4_add(wasm_i32x4_dot_i16x8(h2, xh[2]), wasm_i32x4_dot_i16x8(h3, xh[3])));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_splat(sc[2 * j])));
                isum = wasm_i32x4_add(isum, wasm_i32x4_mul(hi, wasm_i32x4_splat(sc[2 * j + 1])));
            }
            acc += sm_kern_load_f32(b) * sm_kern_load_fp16(a) * (float)sm_kern_hsum_i32x4(isum);
        }
        y[r] = acc - mins;
    }
}


/* ---- Q6_K ---------------------------------------------------------------------------------- */

static inline v128_t mac16w(v128_t isum, v128_t q, const v128_t *xw, int scale) {
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(q), xw[0]),
                                      wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(q), xw[1]));
    return wasm_i32x4_add(isum, wasm_i32x4_mul(dot, wasm_i32x4_splat(scale)));
}

static void widen_row(const uint8_t *x, int64_t nb, v128_t *xw) {
    for (int64_t i = 0; i < nb; i++, x += Q8K_SIZE, xw += QK / 8)
        for (int k = 0; k < QK / 16; k++) {
            const v128_t v = wasm_v128_load(x + 4 + 16 * k);
            xw[2 * k] = wasm_i16x8_extend_low_i8x16(v);
            xw[2 * k + 1] = wasm_i16x8_extend_high_i8x16(v);
        }
}

/* v1: the 6-bit values put together with 16-bit shifts whose cross-byte bits the masks drop
 * (each output byte still depends only on the same input byte). */
static void gemv_q6_K_v1(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, float *y) {
    const int64_t nb = n / QK;
    static v128_t xw[16384 / 8];
    widen_row(x, nb, xw);
    const v128_t m4 = wasm_i8x16_splat(15), m30 = wasm_i8x16_splat(0x30), off = wasm_i8x16_splat(32);
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += 210) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xw + i * (QK / 8);
            const int8_t *sc = (const int8_t *)(a + 192);
            v128_t isum = wasm_i32x4_splat(0);
            for (int hk = 0; hk < 4; hk++) {
                const int h = hk / 2, k = hk % 2, g = 8 * h + k;
                const v128_t *xq = xb + (128 * h + 16 * k) / 8;
                const v128_t l0 = wasm_v128_load(a + 64 * h + 16 * k), l1 = wasm_v128_load(a + 64 * h + 16 * k + 32);
                const v128_t hb = wasm_v128_load(a + 128 + 32 * h + 16 * k);
                const v128_t q0 = wasm_v128_or(wasm_v128_and(l0, m4), wasm_v128_and(wasm_i16x8_shl(hb, 4), m30));
                const v128_t q1 = wasm_v128_or(wasm_v128_and(l1, m4), wasm_v128_and(wasm_i16x8_shl(hb, 2), m30));
                const v128_t q2 = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l0, 4), m4), wasm_v128_and(hb, m30));
                const v128_t q3 = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l1, 4), m4),
                                               wasm_v128_and(wasm_u16x8_shr(hb, 2), m30));
                isum = mac16w(isum, wasm_i8x16_sub(q0, off), xq, sc[g]);
                isum = mac16w(isum, wasm_i8x16_sub(q1, off), xq + 4, sc[g + 2]);
                isum = mac16w(isum, wasm_i8x16_sub(q2, off), xq + 8, sc[g + 4]);
                isum = mac16w(isum, wasm_i8x16_sub(q3, off), xq + 12, sc[g + 6]);
            }
            acc = sm_kern_acc_scaled(acc, isum, sm_kern_load_f32(b) * sm_kern_load_scale(a + 208));
        }
        y[r] = sm_kern_hsum_f32x4(acc);
    }
}


/* v4: v0 with the high nibbles taken by a 16-bit shift and the mask (V8 has no byte shift on
 * x64: i8x16.shr_u is a 16-bit shift plus a mask it builds each time). v5: v4 with one i32
 * multiply per 32-weight group (the two 16-weight dots of a group added first). */
static void gemv_q4_K_v45(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, float *y, int merge) {
    const int64_t nb = n / QK;
    static v128_t xw[16384 / 8];
    widen_row(x, nb, xw);
    const v128_t m4 = wasm_i8x16_splat(15);
    for (int r = 0; r < n_rows; r++) {
        v128_t acc = wasm_f32x4_splat(0.0f);
        float mins = 0.0f;
        const uint8_t *a = (const uint8_t *)w + r * w_stride;
        for (int64_t i = 0; i < nb; i++, a += Q4K_SIZE) {
            const uint8_t *b = (const uint8_t *)x + i * Q8K_SIZE;
            const v128_t *xb = xw + i * (QK / 8);
            uint8_t sc[8];
            const int32_t msum = q4k_scales(a + 4, b, sc);
            mins += sm_kern_load_f32(b) * (sm_kern_load_fp16(a + 2) * (float)msum);
            v128_t isum = wasm_i32x4_splat(0);
            for (int j = 0; j < 4; j++) {
                const v128_t q0 = wasm_v128_load(a + 16 + 32 * j);
                const v128_t q1 = wasm_v128_load(a + 16 + 32 * j + 16);
                const v128_t *xq = xb + 8 * j;
                const v128_t l0 = wasm_v128_and(q0, m4), l1 = wasm_v128_and(q1, m4);
                const v128_t h0 = wasm_v128_and(wasm_u16x8_shr(q0, 4), m4), h1 = wasm_v128_and(wasm_u16x8_shr(q1, 4), m4);
                if (merge) {
                    const v128_t lo = wasm_i32x4_add(
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(l0), xq[0]),
                                       wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(l0), xq[1])),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(l1), xq[2]),
                                       wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(l1), xq[3])));
                    const v128_t hi = wasm_i32x4_add(
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(h0), xq[4]),
                                       wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(h0), xq[5])),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_u16x8_extend_low_u8x16(h1), xq[6]),
                                       wasm_i32x4_dot_i16x8(wasm_u16x8_extend_high_u8x16(h1), xq[7])));
                    isum = wasm_i32x4_add(isum, wasm_i32x4_mul(lo, wasm_i32x4_splat(sc[2 * j])));
                    isum = wasm_i32x4_add(isum, wasm_i32x4_mul(hi, wasm_i32x4_splat(sc[2 * j + 1])));
                } else {
                    isum = mac16w(isum, l0, xq, sc[2 * j]);
                    isum = mac16w(isum, l1, xq + 2, sc[2 * j]);
                    isum = mac16w(isum, h0, xq + 4, sc[2 * j + 1]);
                    isum = mac16w(isum, h1, xq + 6, sc[2 * j + 1]);
                }
            }
            const float d = sm_kern_load_f32(b) * sm_kern_load_fp16(a);
            acc = sm_kern_acc_scaled(acc, isum, d);
        }
        y[r] = sm_kern_hsum_f32x4(acc) - mins;
    }
}
static void gemv_q4_K_v4(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) { gemv_q4_K_v45(n, w, s, nr, x, y, 0); }
static void gemv_q4_K_v5(int64_t n, const void *w, size_t s, int nr, const void *x, float *y) { gemv_q4_K_v45(n, w, s, nr, x, y, 1); }

static float max_err(const float *y, const float *yr, int rows) {
    float scale = 0.0f, err = 0.0f;
    for (int r = 0; r < rows; r++) scale = fmaxf(scale, fabsf(yr[r]));
    for (int r = 0; r < rows; r++) err = fmaxf(err, fabsf(y[r] - yr[r]) / (scale + 1e-30f));
    return err;
}

static void run(int pass, int32_t type, int64_t n, int rows, const gemv_fn *versions, int n_versions) {
    const size_t w_row = sm_kern_row_size(type, n), x_row = sm_kern_row_size(SM_TYPE_Q8_K, n);
    uint8_t *w = malloc(w_row * rows), *x = malloc(x_row);
    float *row = malloc(n * sizeof *row);
    for (int r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
        sm_kern_quantizer_ref(type)(row, w + (size_t)r * w_row, n);
    }
    for (int64_t i = 0; i < n; i++) row[i] = lab_rnd();
    sm_kern_quantize_row_q8_K_ref(row, x, n);
    float *yr = malloc(rows * sizeof *yr), *y = malloc(rows * sizeof *y);
    for (int r = 0; r < rows; r++) yr[r] = sm_kern_traits_ref(type)->vec_dot(n, w + (size_t)r * w_row, x);
    printf("{\"pass\":%d,\"type\":\"%s\",\"n\":%d,\"rows\":%d,\"mb\":%.1f", pass, sm_kern_traits_ref(type)->name, (int)n,
           rows, w_row * rows / 1048576.0);
    const int reps = rows > 10000 ? 3 : rows > 1000 ? 20 : 400;
    for (int v = 0; v < n_versions; v++) {
        double best = 1e30;
        for (int k = 0; k < 3; k++) {
            const double t0 = lab_now_s();
            for (int rep = 0; rep < reps; rep++) versions[v](n, w, w_row, rows, x, y);
            best = fmin(best, (lab_now_s() - t0) / reps);
        }
        printf(",\"v%d_gmac_s\":%.2f,\"v%d_err\":%.1e", v, (double)n * rows / best * 1e-9, v,
               max_err(y, yr, rows));
    }
    printf("}\n");
    free(w), free(x), free(row), free(yr), free(y);
}

int main(int argc, char **argv) {
    const int passes = argc > 1 ? atoi(argv[1]) : 2;
    const int row_counts[2] = {5632, 65536};
    const gemv_fn q4[] = {sm_kern_gemv_q4_K_simd128, gemv_q4_K_v1, gemv_q4_K_v2, gemv_q4_K_v3, gemv_q4_K_v4, gemv_q4_K_v5};
    const gemv_fn q6[] = {sm_kern_gemv_q6_K_simd128, gemv_q6_K_v1};
    for (int pass = 0; pass < passes; pass++)
        for (int si = 0; si < 2; si++) {
            run(pass, SM_TYPE_Q4_K, 2048, row_counts[si], q4, sizeof q4 / sizeof q4[0]);
            run(pass, SM_TYPE_Q6_K, 2048, row_counts[si], q6, sizeof q6 / sizeof q6[0]);
            run(pass, SM_TYPE_Q6_K, 5632, 2048, q6, sizeof q6 / sizeof q6[0]);
        }
    return 0;
}
