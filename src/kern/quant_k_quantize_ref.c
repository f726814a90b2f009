/*
 * quant_k_quantize_ref.c — reference weight quantizers for Q2_K, Q3_K, Q4_K, Q5_K and Q6_K.
 *
 * Plain round-to-nearest: each group gets the scale (and min) that spans its range, the group
 * scales are themselves quantized against the block's fp16 super-scale, and every element is
 * rounded with the scale it will actually be decoded with. The bit packing is the inverse of
 * quant.h's layouts. Not ggml's error-minimizing search (make_qkx2_quants, imatrix weighting):
 * blocks are valid and close, not optimal. Input must be finite.
 */
#include <math.h>
#include <string.h>

#include "kern/fp16.h"
#include "kern/quant.h"
#include "kern/quant_ref.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* nearest_int(v / d) clamped to [lo, hi]; 0 clamped when d is 0. */
static int quant_div(float v, float d, int lo, int hi) {
    if (d == 0.0f) return clampi(0, lo, hi);
    const float r = v / d;
    if (!(r > (float)lo)) return lo; /* also catches NaN */
    if (r >= (float)hi) return hi;
    return clampi(sm_kern_nearest_int(r), lo, hi);
}

/* Asymmetric group: x ~ scale * q - min with q in [0, nmax], min >= 0 (zero stays exact-ish). */
static void group_range(const float *x, int n, int nmax, float *scale, float *min) {
    float lo = 0.0f, hi = x[0];
    for (int i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    if (hi < lo) hi = lo;
    *scale = (hi - lo) / (float)nmax;
    *min = -lo;
}

/* Symmetric group: the scale that maps the x of largest |x| to -nmax. */
static float group_signed_scale(const float *x, int n, int nmax) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    return max / (float)-nmax;
}

/* Largest of v[0..n) (all >= 0). */
static float max_of(const float *v, int n) {
    float m = 0.0f;
    for (int i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* The v of largest |v|. */
static float signed_max_of(const float *v, int n) {
    float m = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(v[i]) > fabsf(m)) m = v[i];
    return m;
}

// Q2_K: 16 groups of 16; x ~ d * sc[g] * q - dmin * m[g], q 2-bit, sc and m 4-bit
void sm_kern_quantize_row_q2_K_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        float scale[16], min[16];
        for (int g = 0; g < 16; g++) group_range(x + 16 * g, 16, 3, &scale[g], &min[g]);
        sm_block_q2_K b;
        memset(&b, 0, sizeof b);
        b.d = sm_kern_f32_to_fp16(max_of(scale, 16) / 15.0f);
        b.dmin = sm_kern_f32_to_fp16(max_of(min, 16) / 15.0f);
        const float d = sm_kern_fp16_to_f32(b.d), dmin = sm_kern_fp16_to_f32(b.dmin);
        for (int g = 0; g < 16; g++) {
            const int sc = quant_div(scale[g], d, 0, 15), m = quant_div(min[g], dmin, 0, 15);
            b.scales[g] = (uint8_t)(sc | m << 4);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            for (int l = 0; l < 16; l++) {
                const int e = 16 * g + l, h = e / 128, j = (e % 128) / 32;
                const int q = quant_div(x[e] + ml, dl, 0, 3);
                b.qs[32 * h + e % 32] |= (uint8_t)(q << (2 * j));
            }
        }
        memcpy((uint8_t *)y + (size_t)i * sizeof b, &b, sizeof b);
    }
}

// Q3_K: 16 groups of 16; x ~ d * (sc[g] - 32) * q, q in [-4, 3], sc 6-bit
void sm_kern_quantize_row_q3_K_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        float scale[16];
        for (int g = 0; g < 16; g++) scale[g] = group_signed_scale(x + 16 * g, 16, 4);
        sm_block_q3_K b;
        memset(&b, 0, sizeof b);
        b.d = sm_kern_f32_to_fp16(signed_max_of(scale, 16) / -32.0f);
        const float d = sm_kern_fp16_to_f32(b.d);
        for (int g = 0; g < 16; g++) {
            const int sc = quant_div(scale[g], d, -32, 31);
            const unsigned s = (unsigned)(sc + 32);
            b.scales[g % 8] |= (uint8_t)((s & 15) << (4 * (g / 8)));
            b.scales[8 + g % 4] |= (uint8_t)((s >> 4) << (2 * (g / 4)));
            const float dl = d * (float)sc;
            for (int l = 0; l < 16; l++) {
                const int e = 16 * g + l, h = e / 128, j = (e % 128) / 32;
                const int q = quant_div(x[e], dl, -4, 3) + 4; /* 0..7: bit 2 goes to hmask */
                b.qs[32 * h + e % 32] |= (uint8_t)((q & 3) << (2 * j));
                b.hmask[e % 32] |= (uint8_t)((q >> 2) << (e / 32));
            }
        }
        memcpy((uint8_t *)y + (size_t)i * sizeof b, &b, sizeof b);
    }
}

/* Q4_K / Q5_K: 8 groups of 32 with 6-bit scales and mins; returns q[256] in [0, nmax]. */
static void quantize_q45_K(const float *x, int nmax, uint16_t *d16, uint16_t *dmin16,
                           uint8_t scales[SM_K_SCALE_SIZE], uint8_t q[SM_QK_K]) {
    float scale[8], min[8];
    int sc[8], m[8];
    for (int g = 0; g < 8; g++) group_range(x + 32 * g, 32, nmax, &scale[g], &min[g]);
    *d16 = sm_kern_f32_to_fp16(max_of(scale, 8) / 63.0f);
    *dmin16 = sm_kern_f32_to_fp16(max_of(min, 8) / 63.0f);
    const float d = sm_kern_fp16_to_f32(*d16), dmin = sm_kern_fp16_to_f32(*dmin16);
    for (int g = 0; g < 8; g++) {
        sc[g] = quant_div(scale[g], d, 0, 63);
        m[g] = quant_div(min[g], dmin, 0, 63);
        const float dl = d * (float)sc[g], ml = dmin * (float)m[g];
        for (int l = 0; l < 32; l++)
            q[32 * g + l] = (uint8_t)quant_div(x[32 * g + l] + ml, dl, 0, nmax);
    }
    memset(scales, 0, SM_K_SCALE_SIZE);
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)sc[j];
        scales[j + 4] = (uint8_t)m[j];
    }
    for (int j = 4; j < 8; j++) {
        scales[j + 4] = (uint8_t)((sc[j] & 15) | (m[j] & 15) << 4);
        scales[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
        scales[j] |= (uint8_t)((m[j] >> 4) << 6);
    }
}

// Q4_K: 8 groups of 32; x ~ d * sc[g] * q - dmin * m[g], q 4-bit, sc and m 6-bit
void sm_kern_quantize_row_q4_K_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        sm_block_q4_K b;
        uint8_t q[SM_QK_K];
        quantize_q45_K(x, 15, &b.d, &b.dmin, b.scales, q);
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                b.qs[32 * j + l] = (uint8_t)(q[64 * j + l] | q[64 * j + 32 + l] << 4);
        memcpy((uint8_t *)y + (size_t)i * sizeof b, &b, sizeof b);
    }
}

// Q5_K: 8 groups of 32; x ~ d * sc[g] * q - dmin * m[g], q 5-bit, sc and m 6-bit
void sm_kern_quantize_row_q5_K_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        sm_block_q5_K b;
        uint8_t q[SM_QK_K];
        quantize_q45_K(x, 31, &b.d, &b.dmin, b.scales, q);
        memset(b.qh, 0, sizeof b.qh);
        for (int j = 0; j < 4; j++) {
            for (int l = 0; l < 32; l++) {
                const int lo = q[64 * j + l], hi = q[64 * j + 32 + l];
                b.qs[32 * j + l] = (uint8_t)((lo & 15) | (hi & 15) << 4);
                b.qh[l] |= (uint8_t)((lo >> 4) << (2 * j) | (hi >> 4) << (2 * j + 1));
            }
        }
        memcpy((uint8_t *)y + (size_t)i * sizeof b, &b, sizeof b);
    }
}

// Q6_K: 16 groups of 16; x ~ d * sc[g] * q, q in [-32, 31], sc int8
void sm_kern_quantize_row_q6_K_ref(const float *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n / SM_QK_K; i++, x += SM_QK_K) {
        float scale[16];
        uint8_t q[SM_QK_K];
        for (int g = 0; g < 16; g++) scale[g] = group_signed_scale(x + 16 * g, 16, 32);
        sm_block_q6_K b;
        memset(&b, 0, sizeof b);
        b.d = sm_kern_f32_to_fp16(signed_max_of(scale, 16) / -128.0f);
        const float d = sm_kern_fp16_to_f32(b.d);
        for (int g = 0; g < 16; g++) {
            const int sc = quant_div(scale[g], d, -128, 127);
            b.scales[g] = (int8_t)sc;
            const float dl = d * (float)sc;
            for (int l = 0; l < 16; l++)
                q[16 * g + l] = (uint8_t)(quant_div(x[16 * g + l], dl, -32, 31) + 32);
        }
        for (int h = 0; h < 2; h++) {
            const uint8_t *qq = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                b.ql[64 * h + l] = (uint8_t)((qq[l] & 15) | (qq[l + 64] & 15) << 4);
                b.ql[64 * h + l + 32] = (uint8_t)((qq[l + 32] & 15) | (qq[l + 96] & 15) << 4);
                b.qh[32 * h + l] = (uint8_t)(qq[l] >> 4 | (qq[l + 32] >> 4) << 2 |
                                             (qq[l + 64] >> 4) << 4 | (qq[l + 96] >> 4) << 6);
            }
        }
        memcpy((uint8_t *)y + (size_t)i * sizeof b, &b, sizeof b);
    }
}
