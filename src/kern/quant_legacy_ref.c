/*
 * quant_legacy_ref.c — reference kernels of the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0 and Q8_1: dequantize, quantize (round to nearest) and dot with the Q8 activation type.
 *
 * Follows ggml-quants.c's formulas so quantized activations and dot products match llama.cpp:
 * a block's integer dot product is exact, then scaled by the two fp16 scales in float. Not the
 * fast path (quant_simd128_legacy.c). Blocks are memcpy'd to locals: GGUF data is unaligned.
 */
#include <math.h>
#include <string.h>

#include "kern/fp16.h"
#include "kern/quant.h"
#include "kern/quant_ref.h"

/* The x of largest |x| in x[0..n) (the first one on ties), and that |x|. */
static float signed_absmax(const float *x, int n, float *amax_out) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    *amax_out = amax;
    return max;
}

static void min_max(const float *x, int n, float *min, float *max) {
    *min = x[0];
    *max = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < *min) *min = x[j];
        if (x[j] > *max) *max = x[j];
    }
}

/* v truncated toward zero and clamped to [0, hi]; NaN gives 0. */
static int trunc_clamp(float v, int hi) {
    if (!(v > 0.0f)) return 0;
    if (v >= (float)hi) return hi;
    return (int)v;
}

/* round(v) half away from zero, clamped to [-127, 127] (NaN gives -127, never UB). */
static int round_q8(float v) {
    return (int)roundf(fminf(fmaxf(v, -127.0f), 127.0f));
}

static uint16_t fp16(float f) { return sm_kern_f32_to_fp16(f); }

/* ---- dequantize ---------------------------------------------------------------------------- */

// y[32b + j] = d * (q - 8)
void sm_kern_to_float_q4_0_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK4_0; i++, y += SM_QK4_0) {
        sm_block_q4_0 b;
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        const float d = sm_kern_fp16_to_f32(b.d);
        for (int j = 0; j < SM_QK4_0 / 2; j++) {
            y[j] = (float)((b.qs[j] & 15) - 8) * d;
            y[j + SM_QK4_0 / 2] = (float)((b.qs[j] >> 4) - 8) * d;
        }
    }
}

// y[32b + j] = d * q + m
void sm_kern_to_float_q4_1_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK4_1; i++, y += SM_QK4_1) {
        sm_block_q4_1 b;
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        const float d = sm_kern_fp16_to_f32(b.d), m = sm_kern_fp16_to_f32(b.m);
        for (int j = 0; j < SM_QK4_1 / 2; j++) {
            y[j] = (float)(b.qs[j] & 15) * d + m;
            y[j + SM_QK4_1 / 2] = (float)(b.qs[j] >> 4) * d + m;
        }
    }
}

/* The two 5-bit values of byte j of a Q5 block: element j (low nibble) and j + 16 (high). */
static void q5_pair(const uint8_t *qs, uint32_t qh, int j, int *lo, int *hi) {
    *lo = (qs[j] & 15) | (int)(((qh >> j) & 1u) << 4);
    *hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
}

// y[32b + j] = d * (q - 16)
void sm_kern_to_float_q5_0_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK5_0; i++, y += SM_QK5_0) {
        sm_block_q5_0 b;
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        const float d = sm_kern_fp16_to_f32(b.d);
        uint32_t qh;
        memcpy(&qh, b.qh, sizeof qh);
        for (int j = 0; j < SM_QK5_0 / 2; j++) {
            int lo, hi;
            q5_pair(b.qs, qh, j, &lo, &hi);
            y[j] = (float)(lo - 16) * d;
            y[j + SM_QK5_0 / 2] = (float)(hi - 16) * d;
        }
    }
}

// y[32b + j] = d * q + m
void sm_kern_to_float_q5_1_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK5_1; i++, y += SM_QK5_1) {
        sm_block_q5_1 b;
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        const float d = sm_kern_fp16_to_f32(b.d), m = sm_kern_fp16_to_f32(b.m);
        uint32_t qh;
        memcpy(&qh, b.qh, sizeof qh);
        for (int j = 0; j < SM_QK5_1 / 2; j++) {
            int lo, hi;
            q5_pair(b.qs, qh, j, &lo, &hi);
            y[j] = (float)lo * d + m;
            y[j + SM_QK5_1 / 2] = (float)hi * d + m;
        }
    }
}

// y[32b + j] = d * q
void sm_kern_to_float_q8_0_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_0; i++, y += SM_QK8_0) {
        sm_block_q8_0 b;
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        const float d = sm_kern_fp16_to_f32(b.d);
        for (int j = 0; j < SM_QK8_0; j++) y[j] = (float)b.qs[j] * d;
    }
}

// y[32b + j] = d * q
void sm_kern_to_float_q8_1_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_1; i++, y += SM_QK8_1) {
        sm_block_q8_1 b;
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        const float d = sm_kern_fp16_to_f32(b.d);
        for (int j = 0; j < SM_QK8_1; j++) y[j] = (float)b.qs[j] * d;
    }
}

/* ---- quantize ------------------------------------------------------------------------------ */

// d = max / -8 (max = the x of largest |x|), q = clamp(trunc(x / d + 8.5), 0, 15)
void sm_kern_quantize_row_q4_0_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK4_0; i++, x += SM_QK4_0) {
        float amax;
        const float d = signed_absmax(x, SM_QK4_0, &amax) / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        sm_block_q4_0 b;
        b.d = fp16(d);
        for (int j = 0; j < SM_QK4_0 / 2; j++) {
            const int lo = trunc_clamp(x[j] * id + 8.5f, 15);
            const int hi = trunc_clamp(x[j + SM_QK4_0 / 2] * id + 8.5f, 15);
            b.qs[j] = (uint8_t)(lo | hi << 4);
        }
        memcpy((uint8_t *)y + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

// d = (max - min) / 15, m = min, q = clamp(trunc((x - min) / d + 0.5), 0, 15)
void sm_kern_quantize_row_q4_1_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK4_1; i++, x += SM_QK4_1) {
        float min, max;
        min_max(x, SM_QK4_1, &min, &max);
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        sm_block_q4_1 b;
        b.d = fp16(d);
        b.m = fp16(min);
        for (int j = 0; j < SM_QK4_1 / 2; j++) {
            const int lo = trunc_clamp((x[j] - min) * id + 0.5f, 15);
            const int hi = trunc_clamp((x[j + SM_QK4_1 / 2] - min) * id + 0.5f, 15);
            b.qs[j] = (uint8_t)(lo | hi << 4);
        }
        memcpy((uint8_t *)y + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

/* Packs 32 5-bit values: low nibbles pairwise into qs, fifth bits into the uint32 qh. */
static void q5_pack(const int *q, uint8_t *qs, uint8_t qh_out[4]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 15) | (q[j + 16] & 15) << 4);
        qh |= (uint32_t)((q[j] >> 4) & 1) << j;
        qh |= (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    memcpy(qh_out, &qh, sizeof qh);
}

// d = max / -16, q = clamp(trunc(x / d + 16.5), 0, 31)
void sm_kern_quantize_row_q5_0_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK5_0; i++, x += SM_QK5_0) {
        float amax;
        const float d = signed_absmax(x, SM_QK5_0, &amax) / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int q[SM_QK5_0];
        for (int j = 0; j < SM_QK5_0; j++) q[j] = trunc_clamp(x[j] * id + 16.5f, 31);
        sm_block_q5_0 b;
        b.d = fp16(d);
        q5_pack(q, b.qs, b.qh);
        memcpy((uint8_t *)y + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

// d = (max - min) / 31, m = min, q = clamp(trunc((x - min) / d + 0.5), 0, 31)
void sm_kern_quantize_row_q5_1_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK5_1; i++, x += SM_QK5_1) {
        float min, max;
        min_max(x, SM_QK5_1, &min, &max);
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int q[SM_QK5_1];
        for (int j = 0; j < SM_QK5_1; j++) q[j] = trunc_clamp((x[j] - min) * id + 0.5f, 31);
        sm_block_q5_1 b;
        b.d = fp16(d);
        b.m = fp16(min);
        q5_pack(q, b.qs, b.qh);
        memcpy((uint8_t *)y + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

// d = amax / 127, q = round(x / d)
void sm_kern_quantize_row_q8_0_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_0; i++, x += SM_QK8_0) {
        float amax;
        signed_absmax(x, SM_QK8_0, &amax);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        sm_block_q8_0 b;
        b.d = fp16(d);
        for (int j = 0; j < SM_QK8_0; j++) b.qs[j] = (int8_t)round_q8(x[j] * id);
        memcpy((uint8_t *)y + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

// d = amax / 127, q = round(x / d), s = d * sum(q)
void sm_kern_quantize_row_q8_1_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK8_1; i++, x += SM_QK8_1) {
        float amax;
        signed_absmax(x, SM_QK8_1, &amax);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        sm_block_q8_1 b;
        int sum = 0;
        for (int j = 0; j < SM_QK8_1; j++) {
            b.qs[j] = (int8_t)round_q8(x[j] * id);
            sum += b.qs[j];
        }
        b.d = fp16(d);
        b.s = fp16((float)sum * d);
        memcpy((uint8_t *)y + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

/* ---- dot products -------------------------------------------------------------------------- */

// s = sum_b d_w d_x sum_j (q_w - 8) q_x      (Q4_0 · Q8_0)
float sm_kern_vec_dot_q4_0_ref(int64_t n, const void *w, const void *x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SM_QK4_0; i++) {
        sm_block_q4_0 a;
        sm_block_q8_0 b;
        memcpy(&a, (const uint8_t *)w + i * (int64_t)sizeof a, sizeof a);
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        int sumi = 0;
        for (int j = 0; j < SM_QK4_0 / 2; j++)
            sumi += ((a.qs[j] & 15) - 8) * b.qs[j] + ((a.qs[j] >> 4) - 8) * b.qs[j + 16];
        sum += (float)sumi * sm_kern_fp16_to_f32(a.d) * sm_kern_fp16_to_f32(b.d);
    }
    return sum;
}

// s = sum_b (d_w d_x sum_j q_w q_x + m_w s_x)      (Q4_1 · Q8_1)
float sm_kern_vec_dot_q4_1_ref(int64_t n, const void *w, const void *x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SM_QK4_1; i++) {
        sm_block_q4_1 a;
        sm_block_q8_1 b;
        memcpy(&a, (const uint8_t *)w + i * (int64_t)sizeof a, sizeof a);
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        int sumi = 0;
        for (int j = 0; j < SM_QK4_1 / 2; j++)
            sumi += (a.qs[j] & 15) * b.qs[j] + (a.qs[j] >> 4) * b.qs[j + 16];
        sum += sm_kern_fp16_to_f32(a.d) * sm_kern_fp16_to_f32(b.d) * (float)sumi +
               sm_kern_fp16_to_f32(a.m) * sm_kern_fp16_to_f32(b.s);
    }
    return sum;
}

// s = sum_b d_w d_x sum_j (q_w - 16) q_x      (Q5_0 · Q8_0)
float sm_kern_vec_dot_q5_0_ref(int64_t n, const void *w, const void *x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SM_QK5_0; i++) {
        sm_block_q5_0 a;
        sm_block_q8_0 b;
        memcpy(&a, (const uint8_t *)w + i * (int64_t)sizeof a, sizeof a);
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        uint32_t qh;
        memcpy(&qh, a.qh, sizeof qh);
        int sumi = 0;
        for (int j = 0; j < SM_QK5_0 / 2; j++) {
            int lo, hi;
            q5_pair(a.qs, qh, j, &lo, &hi);
            sumi += (lo - 16) * b.qs[j] + (hi - 16) * b.qs[j + 16];
        }
        sum += (float)sumi * sm_kern_fp16_to_f32(a.d) * sm_kern_fp16_to_f32(b.d);
    }
    return sum;
}

// s = sum_b (d_w d_x sum_j q_w q_x + m_w s_x)      (Q5_1 · Q8_1)
float sm_kern_vec_dot_q5_1_ref(int64_t n, const void *w, const void *x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SM_QK5_1; i++) {
        sm_block_q5_1 a;
        sm_block_q8_1 b;
        memcpy(&a, (const uint8_t *)w + i * (int64_t)sizeof a, sizeof a);
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        uint32_t qh;
        memcpy(&qh, a.qh, sizeof qh);
        int sumi = 0;
        for (int j = 0; j < SM_QK5_1 / 2; j++) {
            int lo, hi;
            q5_pair(a.qs, qh, j, &lo, &hi);
            sumi += lo * b.qs[j] + hi * b.qs[j + 16];
        }
        sum += sm_kern_fp16_to_f32(a.d) * sm_kern_fp16_to_f32(b.d) * (float)sumi +
               sm_kern_fp16_to_f32(a.m) * sm_kern_fp16_to_f32(b.s);
    }
    return sum;
}

// s = sum_b d_w d_x sum_j q_w q_x      (Q8_0 · Q8_0)
float sm_kern_vec_dot_q8_0_ref(int64_t n, const void *w, const void *x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SM_QK8_0; i++) {
        sm_block_q8_0 a, b;
        memcpy(&a, (const uint8_t *)w + i * (int64_t)sizeof a, sizeof a);
        memcpy(&b, (const uint8_t *)x + i * (int64_t)sizeof b, sizeof b);
        int sumi = 0;
        for (int j = 0; j < SM_QK8_0; j++) sumi += a.qs[j] * b.qs[j];
        sum += (float)sumi * (sm_kern_fp16_to_f32(a.d) * sm_kern_fp16_to_f32(b.d));
    }
    return sum;
}
