/*
 * quant_k_ref.c — reference kernels of the K-quants Q2_K..Q6_K (256-element super-blocks with
 * per-group scales) and of their activation type Q8_K: dequantize, and dot with Q8_K.
 *
 * Each block is first unpacked into plain integers (one q per element, one scale/min per group),
 * so the bit layouts of quant.h live in one unpack function per type and both kernels share it.
 * The dot follows ggml-quants.c: an exact integer sum of scale * sum(q_w * q_x) per block, the
 * mins folded in through Q8_K's bsums, then times d_w * d_x in float. Not the weight quantizers
 * (quant_k_quantize_ref.c) and not fast (quant_simd128_k.c).
 */
#include <string.h>

#include "kern/fp16.h"
#include "kern/quant.h"
#include "kern/quant_ref.h"

/* One K-quant block as integers. Q2_K/Q3_K/Q6_K have 16 groups of 16, Q4_K/Q5_K 8 groups of 32;
 * the element is d * sc[g] * q[e] - dmin * m[g]. */
typedef struct {
    float d, dmin;
    int n_group;
    int sc[16], m[16];
    int8_t q[SM_QK_K];
} kblock;

static void unpack_q2_K(const uint8_t *p, kblock *k) {
    sm_block_q2_K b;
    memcpy(&b, p, sizeof b);
    k->d = sm_kern_fp16_to_f32(b.d);
    k->dmin = sm_kern_fp16_to_f32(b.dmin);
    k->n_group = 16;
    for (int g = 0; g < 16; g++) {
        k->sc[g] = b.scales[g] & 15;
        k->m[g] = b.scales[g] >> 4;
    }
    for (int e = 0; e < SM_QK_K; e++) {
        const int h = e / 128, j = (e % 128) / 32, l = e % 32;
        k->q[e] = (int8_t)((b.qs[32 * h + l] >> (2 * j)) & 3);
    }
}

static void unpack_q3_K(const uint8_t *p, kblock *k) {
    sm_block_q3_K b;
    memcpy(&b, p, sizeof b);
    k->d = sm_kern_fp16_to_f32(b.d);
    k->dmin = 0.0f;
    k->n_group = 16;
    for (int g = 0; g < 16; g++) {
        k->sc[g] = sm_kern_q3k_scale(g, b.scales);
        k->m[g] = 0;
    }
    for (int e = 0; e < SM_QK_K; e++) {
        const int h = e / 128, j = (e % 128) / 32, l = e % 32;
        const int low = (b.qs[32 * h + l] >> (2 * j)) & 3;
        const int high = (b.hmask[l] >> (e / 32)) & 1;
        k->q[e] = (int8_t)(low - (high ? 0 : 4));
    }
}

static void unpack_q4_K(const uint8_t *p, kblock *k) {
    sm_block_q4_K b;
    memcpy(&b, p, sizeof b);
    k->d = sm_kern_fp16_to_f32(b.d);
    k->dmin = sm_kern_fp16_to_f32(b.dmin);
    k->n_group = 8;
    for (int g = 0; g < 8; g++) sm_kern_q4k_scale_min(g, b.scales, &k->sc[g], &k->m[g]);
    for (int j = 0; j < 4; j++) {
        for (int l = 0; l < 32; l++) {
            k->q[64 * j + l] = (int8_t)(b.qs[32 * j + l] & 15);
            k->q[64 * j + 32 + l] = (int8_t)(b.qs[32 * j + l] >> 4);
        }
    }
}

static void unpack_q5_K(const uint8_t *p, kblock *k) {
    sm_block_q5_K b;
    memcpy(&b, p, sizeof b);
    k->d = sm_kern_fp16_to_f32(b.d);
    k->dmin = sm_kern_fp16_to_f32(b.dmin);
    k->n_group = 8;
    for (int g = 0; g < 8; g++) sm_kern_q4k_scale_min(g, b.scales, &k->sc[g], &k->m[g]);
    for (int j = 0; j < 4; j++) {
        for (int l = 0; l < 32; l++) {
            const int h_lo = (b.qh[l] >> (2 * j)) & 1, h_hi = (b.qh[l] >> (2 * j + 1)) & 1;
            k->q[64 * j + l] = (int8_t)((b.qs[32 * j + l] & 15) | h_lo << 4);
            k->q[64 * j + 32 + l] = (int8_t)((b.qs[32 * j + l] >> 4) | h_hi << 4);
        }
    }
}

static void unpack_q6_K(const uint8_t *p, kblock *k) {
    sm_block_q6_K b;
    memcpy(&b, p, sizeof b);
    k->d = sm_kern_fp16_to_f32(b.d);
    k->dmin = 0.0f;
    k->n_group = 16;
    for (int g = 0; g < 16; g++) {
        k->sc[g] = b.scales[g];
        k->m[g] = 0;
    }
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b.ql + 64 * h, *qh = b.qh + 32 * h;
        int8_t *q = k->q + 128 * h;
        for (int l = 0; l < 32; l++) {
            q[l] = (int8_t)(((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32);
            q[l + 32] = (int8_t)(((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32);
            q[l + 64] = (int8_t)(((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32);
            q[l + 96] = (int8_t)(((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32);
        }
    }
}

typedef void (*unpack_fn)(const uint8_t *p, kblock *k);

// y[e] = (d * sc[g]) * q[e] - dmin * m[g]
static void to_float_k(unpack_fn unpack, size_t block_bytes, const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, y += SM_QK_K) {
        kblock k;
        unpack((const uint8_t *)x + (size_t)i * block_bytes, &k);
        const int group = SM_QK_K / k.n_group;
        for (int g = 0; g < k.n_group; g++) {
            const float dl = k.d * (float)k.sc[g], ml = k.dmin * (float)k.m[g];
            for (int l = 0; l < group; l++) y[g * group + l] = dl * (float)k.q[g * group + l] - ml;
        }
    }
}

// s = sum_b d_x (d_w sum_g sc[g] sum_e q_w q_x - dmin_w sum_g m[g] sum_e q_x)
static float vec_dot_k(unpack_fn unpack, size_t block_bytes, int64_t n, const void *w,
                       const void *x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SM_QK_K; i++) {
        kblock k;
        sm_block_q8_K b;
        unpack((const uint8_t *)w + (size_t)i * block_bytes, &k);
        memcpy(&b, (const uint8_t *)x + (size_t)i * sizeof b, sizeof b);
        const int group = SM_QK_K / k.n_group;
        int32_t isum = 0, msum = 0;
        for (int g = 0; g < k.n_group; g++) {
            int32_t dot = 0;
            for (int l = 0; l < group; l++) dot += k.q[g * group + l] * b.qs[g * group + l];
            isum += k.sc[g] * dot;
            /* group sums of x come precomputed in 16-element bsums */
            int32_t xsum = 0;
            for (int s = g * group / 16; s < (g + 1) * group / 16; s++) xsum += b.bsums[s];
            msum += k.m[g] * xsum;
        }
        sum += k.d * b.d * (float)isum - k.dmin * b.d * (float)msum;
    }
    return sum;
}

void sm_kern_to_float_q2_K_ref(const void *x, float *y, int64_t n) {
    to_float_k(unpack_q2_K, sizeof(sm_block_q2_K), x, y, n);
}
void sm_kern_to_float_q3_K_ref(const void *x, float *y, int64_t n) {
    to_float_k(unpack_q3_K, sizeof(sm_block_q3_K), x, y, n);
}
void sm_kern_to_float_q4_K_ref(const void *x, float *y, int64_t n) {
    to_float_k(unpack_q4_K, sizeof(sm_block_q4_K), x, y, n);
}
void sm_kern_to_float_q5_K_ref(const void *x, float *y, int64_t n) {
    to_float_k(unpack_q5_K, sizeof(sm_block_q5_K), x, y, n);
}
void sm_kern_to_float_q6_K_ref(const void *x, float *y, int64_t n) {
    to_float_k(unpack_q6_K, sizeof(sm_block_q6_K), x, y, n);
}

float sm_kern_vec_dot_q2_K_ref(int64_t n, const void *w, const void *x) {
    return vec_dot_k(unpack_q2_K, sizeof(sm_block_q2_K), n, w, x);
}
float sm_kern_vec_dot_q3_K_ref(int64_t n, const void *w, const void *x) {
    return vec_dot_k(unpack_q3_K, sizeof(sm_block_q3_K), n, w, x);
}
float sm_kern_vec_dot_q4_K_ref(int64_t n, const void *w, const void *x) {
    return vec_dot_k(unpack_q4_K, sizeof(sm_block_q4_K), n, w, x);
}
float sm_kern_vec_dot_q5_K_ref(int64_t n, const void *w, const void *x) {
    return vec_dot_k(unpack_q5_K, sizeof(sm_block_q5_K), n, w, x);
}
float sm_kern_vec_dot_q6_K_ref(int64_t n, const void *w, const void *x) {
    return vec_dot_k(unpack_q6_K, sizeof(sm_block_q6_K), n, w, x);
}

// y[e] = d * q[e]
void sm_kern_to_float_q8_K_ref(const void *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, y += SM_QK_K) {
        sm_block_q8_K b;
        memcpy(&b, (const uint8_t *)x + (size_t)i * sizeof b, sizeof b);
        for (int e = 0; e < SM_QK_K; e++) y[e] = b.d * (float)b.qs[e];
    }
}

// d = max / -127 (max = the x of largest |x|), q = min(127, nearest_even(x / d)), bsums
void sm_kern_quantize_row_q8_K_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        sm_block_q8_K b;
        memset(&b, 0, sizeof b);
        float amax = 0.0f, max = 0.0f;
        for (int e = 0; e < SM_QK_K; e++) {
            const float ax = x[e] < 0.0f ? -x[e] : x[e];
            if (ax > amax) {
                amax = ax;
                max = x[e];
            }
        }
        if (amax != 0.0f) {
            const float iscale = -127.0f / max;
            for (int e = 0; e < SM_QK_K; e++) {
                const int v = sm_kern_nearest_int(iscale * x[e]);
                b.qs[e] = (int8_t)(v < 127 ? v : 127);
            }
            for (int g = 0; g < SM_QK_K / 16; g++) {
                int s = 0;
                for (int l = 0; l < 16; l++) s += b.qs[16 * g + l];
                b.bsums[g] = (int16_t)s;
            }
            b.d = 1.0f / iscale;
        }
        memcpy((uint8_t *)y + (size_t)i * sizeof b, &b, sizeof b);
    }
}
