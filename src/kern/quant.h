/*
 * quant.h — block layouts of the quantized tensor types, and the bit-unpacking helpers they need.
 * Internal.
 *
 * The layouts are ggml's (ggml-common.h), byte for byte, because weights are used in place inside
 * GGUF files written by llama.cpp. Not kernels: those are in *_ref.c / *_simd128.c. fp16 fields are
 * stored as uint16_t bit patterns (fp16.h converts them); multi-byte fields are little-endian.
 * Blocks inside GGUF tensor data are only 1- or 2-byte aligned in general, so kernels never
 * dereference a block pointer: they memcpy a block (or a field) into a local first.
 */
#ifndef SM_KERN_QUANT_H
#define SM_KERN_QUANT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Elements per block. */
#define SM_QK4_0 32
#define SM_QK4_1 32
#define SM_QK5_0 32
#define SM_QK5_1 32
#define SM_QK8_0 32
#define SM_QK8_1 32
#define SM_QK_K 256      /* K-quant super-block */
#define SM_K_SCALE_SIZE 12 /* bytes of packed 6-bit scales and mins in Q3_K / Q4_K / Q5_K */

/* x[i] = d * (q[i] - 8); q[i] = qs[i] & 15 for i < 16, qs[i-16] >> 4 for i >= 16. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint8_t qs[SM_QK4_0 / 2];
} sm_block_q4_0;

/* x[i] = d * q[i] + m; nibbles as Q4_0. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint16_t m;                 /* fp16 */
    uint8_t qs[SM_QK4_1 / 2];
} sm_block_q4_1;

/* x[i] = d * ((q[i] | h[i] << 4) - 16); h[i] = bit i of the little-endian uint32 qh. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint8_t qh[4];
    uint8_t qs[SM_QK5_0 / 2];
} sm_block_q5_0;

/* x[i] = d * (q[i] | h[i] << 4) + m. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint16_t m;                 /* fp16 */
    uint8_t qh[4];
    uint8_t qs[SM_QK5_1 / 2];
} sm_block_q5_1;

/* x[i] = d * qs[i]. */
typedef struct {
    uint16_t d;                 /* fp16 */
    int8_t qs[SM_QK8_0];
} sm_block_q8_0;

/* x[i] = d * qs[i]; s = d * sum(qs) (fp16), so a Q4_1/Q5_1 dot gets the min term for free. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint16_t s;                 /* fp16 */
    int8_t qs[SM_QK8_1];
} sm_block_q8_1;

/* 16 groups of 16: x = d * (scales[g] & 15) * q - dmin * (scales[g] >> 4), q 2-bit.
 * Element 128*h + 32*j + l (h < 2, j < 4, l < 32) is (qs[32*h + l] >> 2*j) & 3, group e / 16. */
typedef struct {
    uint8_t scales[SM_QK_K / 16]; /* low nibble scale, high nibble min */
    uint8_t qs[SM_QK_K / 4];
    uint16_t d;                 /* fp16, scale of the scales */
    uint16_t dmin;              /* fp16, scale of the mins */
} sm_block_q2_K;

/* 16 groups of 16: x = d * (sc[g] - 32) * (q - (hbit ? 0 : 4)), q the 2-bit field placed as in
 * Q2_K; hbit of element e is bit e / 32 of hmask[e % 32]; sc[g] 6-bit (sm_kern_q3k_scale). */
typedef struct {
    uint8_t hmask[SM_QK_K / 8];
    uint8_t qs[SM_QK_K / 4];
    uint8_t scales[SM_K_SCALE_SIZE];
    uint16_t d;                 /* fp16 */
} sm_block_q3_K;

/* 8 groups of 32: x = d * sc[g] * q - dmin * m[g], sc/m 6-bit (sm_kern_q4k_scale_min).
 * Element 64*j + l (l < 32) is qs[32*j + l] & 15, element 64*j + 32 + l is qs[32*j + l] >> 4. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint16_t dmin;              /* fp16 */
    uint8_t scales[SM_K_SCALE_SIZE];
    uint8_t qs[SM_QK_K / 2];
} sm_block_q4_K;

/* As Q4_K with a fifth bit: element 64*j + l has bit 2*j of qh[l], 64*j + 32 + l bit 2*j + 1. */
typedef struct {
    uint16_t d;                 /* fp16 */
    uint16_t dmin;              /* fp16 */
    uint8_t scales[SM_K_SCALE_SIZE];
    uint8_t qh[SM_QK_K / 8];
    uint8_t qs[SM_QK_K / 2];
} sm_block_q5_K;

/* 16 groups of 16: x = d * scales[g] * (q - 32), q 6-bit. For half h < 2 and l < 32, the four
 * elements 128*h + l + {0, 32, 64, 96} take low nibbles of ql[64*h + l], ql[64*h + l + 32],
 * then their high nibbles, and 2-bit fields 0, 1, 2, 3 of qh[32*h + l] as bits 4-5. */
typedef struct {
    uint8_t ql[SM_QK_K / 2];
    uint8_t qh[SM_QK_K / 4];
    int8_t scales[SM_QK_K / 16];
    uint16_t d;                 /* fp16 */
} sm_block_q6_K;

/* Activations for K-quant dots: x[i] = d * qs[i]; bsums[g] = sum of qs[16g .. 16g+15]. */
typedef struct {
    float d;
    int8_t qs[SM_QK_K];
    int16_t bsums[SM_QK_K / 16];
} sm_block_q8_K;

static_assert(sizeof(uint16_t) == 2 && sizeof(float) == 4, "fp16 and f32 sizes");
static_assert(sizeof(sm_block_q4_0) == 2 + SM_QK4_0 / 2, "Q4_0 layout");
static_assert(sizeof(sm_block_q4_1) == 4 + SM_QK4_1 / 2, "Q4_1 layout");
static_assert(sizeof(sm_block_q5_0) == 2 + 4 + SM_QK5_0 / 2, "Q5_0 layout");
static_assert(sizeof(sm_block_q5_1) == 4 + 4 + SM_QK5_1 / 2, "Q5_1 layout");
static_assert(sizeof(sm_block_q8_0) == 2 + SM_QK8_0, "Q8_0 layout");
static_assert(sizeof(sm_block_q8_1) == 4 + SM_QK8_1, "Q8_1 layout");
static_assert(sizeof(sm_block_q2_K) == 4 + SM_QK_K / 16 + SM_QK_K / 4, "Q2_K layout");
static_assert(sizeof(sm_block_q3_K) == 2 + SM_QK_K / 8 + SM_QK_K / 4 + 12, "Q3_K layout");
static_assert(sizeof(sm_block_q4_K) == 4 + SM_K_SCALE_SIZE + SM_QK_K / 2, "Q4_K layout");
static_assert(sizeof(sm_block_q5_K) == 4 + SM_K_SCALE_SIZE + SM_QK_K / 8 + SM_QK_K / 2,
              "Q5_K layout");
static_assert(sizeof(sm_block_q6_K) == 2 + SM_QK_K / 16 + 3 * SM_QK_K / 4, "Q6_K layout");
static_assert(sizeof(sm_block_q8_K) == 4 + SM_QK_K + 2 * SM_QK_K / 16, "Q8_K layout");
/* Field order matters as much as size: these are the offsets ggml writes. */
static_assert(offsetof(sm_block_q5_0, qs) == 6 && offsetof(sm_block_q5_1, qs) == 8, "Q5 order");
static_assert(offsetof(sm_block_q8_1, qs) == 4, "Q8_1 order");
static_assert(offsetof(sm_block_q2_K, d) == 80 && offsetof(sm_block_q2_K, qs) == 16, "Q2_K order");
static_assert(offsetof(sm_block_q3_K, qs) == 32 && offsetof(sm_block_q3_K, d) == 108, "Q3_K order");
static_assert(offsetof(sm_block_q4_K, qs) == 16, "Q4_K order");
static_assert(offsetof(sm_block_q5_K, qh) == 16 && offsetof(sm_block_q5_K, qs) == 48, "Q5_K order");
static_assert(offsetof(sm_block_q6_K, scales) == 192 && offsetof(sm_block_q6_K, d) == 208,
              "Q6_K order");
static_assert(offsetof(sm_block_q8_K, bsums) == 260, "Q8_K order");

/* Q4_K / Q5_K: 6-bit scale and min of group j < 8. Groups 0-3 keep them in the low 6 bits of
 * bytes j and j+4; groups 4-7 keep their low 4 bits in byte j+4's nibbles and their top 2 bits in
 * the spare top bits of bytes j-4 (scale) and j (min). */
static inline void sm_kern_q4k_scale_min(int j, const uint8_t *s, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q3_K: signed scale (-32..31) of group g < 16. Low 4 bits: nibble (g / 8) of byte g % 8; top 2
 * bits: field g / 4 of byte 8 + g % 4. */
static inline int sm_kern_q3k_scale(int g, const uint8_t *s) {
    const int lo = (s[g % 8] >> (4 * (g / 8))) & 15;
    const int hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
    return (lo | hi << 4) - 32;
}

#endif
