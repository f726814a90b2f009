/*
 * test_kern.c — tests of the tensor-type kernels: fp16.h conversions, quant.h layouts, the scalar
 * references (*_ref.c) and the dispatch tables, including the active (SIMD128 under WASM) table
 * against the reference by normalized error.
 *
 * Not a test of ggml parity by itself: layouts and formulas were checked against ggml's
 * ggml-common.h / ggml-quants.c; here the references are checked for self-consistency (the dot
 * of two rows equals the dot of their dequantizations), quantizers for closeness, and every
 * faster kernel against its reference. Runs natively and as WASM under Node.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_rng.h"
#include "kern/attn.h"
#include "kern/fp16.h"
#include "kern/matmul.h"
#include "kern/quant.h"
#include "kern/quant_ref.h"
#include "kern/types.h"
#include "kern/warmup.h"
#ifdef __wasm_simd128__
#include "kern/simd128.h"
#endif

/* ---- helpers ------------------------------------------------------------------------------- */

/* A row of activations/weights: Gaussian, with a random overall scale and a few outliers, the
 * shape real rows have. */
static void fill_row(float *x, int64_t n) {
    const float scale = powf(2.0f, (float)(int)(rng_u32() % 12) - 6.0f);
    for (int64_t i = 0; i < n; i++) x[i] = scale * rng_normal();
    for (int k = 0; k < 3 && n > 0; k++) x[rng_u32() % (uint64_t)n] *= 8.0f;
}

static int is_half_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }

static const int32_t k_types[] = {
    SM_TYPE_F32,  SM_TYPE_F16,  SM_TYPE_BF16, SM_TYPE_Q4_0, SM_TYPE_Q4_1,
    SM_TYPE_Q5_0, SM_TYPE_Q5_1, SM_TYPE_Q8_0, SM_TYPE_Q8_1, SM_TYPE_Q2_K,
    SM_TYPE_Q3_K, SM_TYPE_Q4_K, SM_TYPE_Q5_K, SM_TYPE_Q6_K, SM_TYPE_Q8_K,
};
enum { N_TYPES = sizeof k_types / sizeof k_types[0] };

/* ggml's numbers: elements per block, bytes per block, vec_dot type, fp16 field offsets. */
typedef struct {
    int32_t type;
    const char *name;
    int32_t block_size, type_size, vec_dot_type;
    int fp16_off[2], n_fp16;
    double max_nrmse; /* quantize -> dequantize error bound on fill_row() data */
} type_case;

static const type_case k_cases[] = {
    {SM_TYPE_F32, "F32", 1, 4, SM_TYPE_F32, {0, 0}, 0, 0.0},
    {SM_TYPE_F16, "F16", 1, 2, SM_TYPE_F16, {0, 0}, 0, 0.0003},
    {SM_TYPE_BF16, "BF16", 1, 2, SM_TYPE_BF16, {0, 0}, 0, 0.0025},
    {SM_TYPE_Q4_0, "Q4_0", 32, 18, SM_TYPE_Q8_0, {0, 0}, 1, 0.13},
    {SM_TYPE_Q4_1, "Q4_1", 32, 20, SM_TYPE_Q8_1, {0, 2}, 2, 0.10},
    {SM_TYPE_Q5_0, "Q5_0", 32, 22, SM_TYPE_Q8_0, {0, 0}, 1, 0.065},
    {SM_TYPE_Q5_1, "Q5_1", 32, 24, SM_TYPE_Q8_1, {0, 2}, 2, 0.05},
    {SM_TYPE_Q8_0, "Q8_0", 32, 34, SM_TYPE_Q8_0, {0, 0}, 1, 0.008},
    {SM_TYPE_Q8_1, "Q8_1", 32, 36, SM_TYPE_Q8_1, {0, 2}, 2, 0.008},
    {SM_TYPE_Q2_K, "Q2_K", 256, 84, SM_TYPE_Q8_K, {80, 82}, 2, 0.42},
    {SM_TYPE_Q3_K, "Q3_K", 256, 110, SM_TYPE_Q8_K, {108, 0}, 1, 0.21},
    {SM_TYPE_Q4_K, "Q4_K", 256, 144, SM_TYPE_Q8_K, {0, 2}, 2, 0.105},
    {SM_TYPE_Q5_K, "Q5_K", 256, 176, SM_TYPE_Q8_K, {0, 2}, 2, 0.052},
    {SM_TYPE_Q6_K, "Q6_K", 256, 210, SM_TYPE_Q8_K, {208, 0}, 1, 0.027},
    {SM_TYPE_Q8_K, "Q8_K", 256, 292, SM_TYPE_Q8_K, {0, 0}, 0, 0.015},
};

static const type_case *case_of(int32_t type) {
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        if (k_cases[i].type == type) return &k_cases[i];
    return NULL;
}

static int is_float_type(int32_t t) {
    return t == SM_TYPE_F32 || t == SM_TYPE_F16 || t == SM_TYPE_BF16;
}

/* n bytes of random blocks of `type` whose fp16 scales are sane (finite, 2^-12 .. 2^-2), the way
 * real files look but with every other bit pattern allowed. Float types get converted Gaussians. */
static void random_blocks(int32_t type, void *dst, int64_t n_elem) {
    const sm_type_traits *t = sm_kern_traits_ref(type);
    const type_case *c = case_of(type);
    const size_t bytes = sm_kern_row_size(type, n_elem);
    if (is_float_type(type)) {
        float *tmp = malloc((size_t)n_elem * sizeof *tmp);
        fill_row(tmp, n_elem);
        t->from_float(tmp, dst, n_elem);
        free(tmp);
        return;
    }
    uint8_t *p = dst;
    for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)rng_u32();
    for (int64_t b = 0; b < n_elem / t->block_size; b++) {
        uint8_t *blk = p + (size_t)b * (size_t)t->type_size;
        for (int k = 0; k < c->n_fp16; k++) {
            const float mag =
                (0.5f + 0.5f * rng_uniform()) * powf(2.0f, -(float)(rng_u32() % 11) - 2);
            const uint16_t h = sm_kern_f32_to_fp16((rng_u32() & 1) ? -mag : mag);
            memcpy(blk + c->fp16_off[k], &h, sizeof h);
        }
    }
}

/* ---- fp16 / bf16 --------------------------------------------------------------------------- */

static void test_fp16_exhaustive(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        const float f = sm_kern_fp16_to_f32((uint16_t)h);
        const uint16_t back = sm_kern_f32_to_fp16(f);
        if (is_half_nan((uint16_t)h))
            bad += !(isnan(f) && is_half_nan(back) && (back >> 15) == (h >> 15));
        else
            bad += back != h;
    }
    CHECK_EQ(bad, 0);
    bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        const float f = sm_kern_bf16_to_f32((uint16_t)h);
        const uint16_t back = sm_kern_f32_to_bf16(f);
        if ((h & 0x7f80u) == 0x7f80u && (h & 0x7fu))
            bad += !(isnan(f) && (back & 0x7fu) && (back & 0x40u));
        else
            bad += back != h;
    }
    CHECK_EQ(bad, 0);
}

/* The decode loops' half -> float table holds sm_kern_fp16_to_f32 of every half, bit for bit
 * (NaN payloads too), and the same table on every call. */
static void test_fp16_table(void) {
    const float *t = sm_kern_fp16_table();
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        const float want = sm_kern_fp16_to_f32((uint16_t)h);
        bad += memcmp(&t[h], &want, sizeof want) != 0;
    }
    CHECK_EQ(bad, 0);
    CHECK(sm_kern_fp16_table() == t);
}

static void test_fp16_values(void) {
    CHECK(sm_kern_fp16_to_f32(0x0001) == 0x1p-24f);
    CHECK(sm_kern_fp16_to_f32(0x03ff) == 1023.0f * 0x1p-24f);
    CHECK(sm_kern_fp16_to_f32(0x0400) == 0x1p-14f);
    CHECK(sm_kern_fp16_to_f32(0x3c00) == 1.0f);
    CHECK(sm_kern_fp16_to_f32(0xc000) == -2.0f);
    CHECK(sm_kern_fp16_to_f32(0x7bff) == 65504.0f);
    CHECK(isinf(sm_kern_fp16_to_f32(0x7c00)) && sm_kern_fp16_to_f32(0x7c00) > 0);
    CHECK(isinf(sm_kern_fp16_to_f32(0xfc00)) && sm_kern_fp16_to_f32(0xfc00) < 0);
    CHECK(isnan(sm_kern_fp16_to_f32(0x7e00)) && isnan(sm_kern_fp16_to_f32(0x7c01)));
    CHECK(sm_kern_fp16_to_f32(0x8000) == 0.0f && signbit(sm_kern_fp16_to_f32(0x8000)));

    CHECK_EQ(sm_kern_f32_to_fp16(0.0f), 0x0000);
    CHECK_EQ(sm_kern_f32_to_fp16(-0.0f), 0x8000);
    CHECK_EQ(sm_kern_f32_to_fp16(1.0f), 0x3c00);
    CHECK_EQ(sm_kern_f32_to_fp16(65504.0f), 0x7bff);
    CHECK_EQ(sm_kern_f32_to_fp16(65519.99f), 0x7bff);
    CHECK_EQ(sm_kern_f32_to_fp16(65520.0f), 0x7c00); /* tie with 65536 rounds to even: inf */
    CHECK_EQ(sm_kern_f32_to_fp16(1e9f), 0x7c00);
    CHECK_EQ(sm_kern_f32_to_fp16(-1e9f), 0xfc00);
    CHECK_EQ(sm_kern_f32_to_fp16(INFINITY), 0x7c00);
    CHECK_EQ(sm_kern_f32_to_fp16(-INFINITY), 0xfc00);
    CHECK(is_half_nan(sm_kern_f32_to_fp16(NAN)));
    CHECK(is_half_nan(sm_kern_f32_to_fp16(sm_kern_bits_f32(0x7f800001u)))); /* payload below fp16 */
    CHECK_EQ(sm_kern_f32_to_fp16(0x1p-24f), 0x0001);
    CHECK_EQ(sm_kern_f32_to_fp16(0x1p-25f), 0x0000);                      /* tie: to even 0 */
    CHECK_EQ(sm_kern_f32_to_fp16(nextafterf(0x1p-25f, 1.0f)), 0x0001);
    CHECK_EQ(sm_kern_f32_to_fp16(3.0f * 0x1p-25f), 0x0002);               /* 1.5 ulp -> 2 */
    CHECK_EQ(sm_kern_f32_to_fp16(5.0f * 0x1p-25f), 0x0002);               /* 2.5 ulp -> 2 */
    CHECK_EQ(sm_kern_f32_to_fp16(1e-10f), 0x0000);
    CHECK_EQ(sm_kern_f32_to_fp16(1023.75f * 0x1p-24f), 0x0400);           /* up into normals */
    CHECK_EQ(sm_kern_f32_to_fp16(1.0f + 0x1p-11f), 0x3c00);               /* tie: to even */
    CHECK_EQ(sm_kern_f32_to_fp16(1.0f + 3.0f * 0x1p-11f), 0x3c02);
    CHECK_EQ(sm_kern_f32_to_fp16(nextafterf(1.0f + 0x1p-11f, 2.0f)), 0x3c01);
    CHECK_EQ(sm_kern_f32_to_fp16(2.0f - 0x1p-11f), 0x4000);               /* tie carries into exp */

    CHECK_EQ(sm_kern_f32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ(sm_kern_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80); /* tie: to even */
    CHECK_EQ(sm_kern_f32_to_bf16(1.0f + 3.0f * 0x1p-8f), 0x3f82);
    CHECK_EQ(sm_kern_f32_to_bf16(nextafterf(1.0f + 0x1p-8f, 2.0f)), 0x3f81);
    CHECK_EQ(sm_kern_f32_to_bf16(-2.0f), 0xc000);
    CHECK_EQ(sm_kern_f32_to_bf16(3.4028235e38f), 0x7f80); /* rounds up to inf */
    CHECK_EQ(sm_kern_f32_to_bf16(INFINITY), 0x7f80);
    CHECK_EQ(sm_kern_f32_to_bf16(NAN) & 0x7fc0, 0x7fc0);
    CHECK_EQ(sm_kern_f32_to_bf16(sm_kern_bits_f32(0x7f800001u)), 0x7fc0); /* forced quiet */
    CHECK_EQ(sm_kern_f32_to_bf16(1e-40f), (uint16_t)((sm_kern_f32_bits(1e-40f) + 0x7fff) >> 16));
    CHECK(sm_kern_bf16_to_f32(0x3f80) == 1.0f && sm_kern_bf16_to_f32(0xc000) == -2.0f);
}

/* Random floats round to the nearest half, ties to the even one. */
static void test_fp16_rounding(void) {
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        /* exponents 2^-27 .. 2^15: subnormal, normal and near-overflow halves */
        const uint32_t bits = (rng_u32() & 0x807fffffu) | (uint32_t)(100 + rng_u32() % 43) << 23;
        const float f = sm_kern_bits_f32(i % 7 ? bits : bits & 0xffffe000u); /* some exact ties */
        if (fabsf(f) >= 65504.0f) continue;
        const uint16_t h = sm_kern_f32_to_fp16(f);
        const double err = fabs((double)f - sm_kern_fp16_to_f32(h));
        for (int k = -1; k <= 1; k += 2) {
            if ((h & 0x7fff) == 0 && k < 0) continue;
            const double e2 = fabs((double)f - sm_kern_fp16_to_f32((uint16_t)(h + k)));
            if (e2 < err || (e2 == err && (h & 1))) bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

/* ---- layouts and tables -------------------------------------------------------------------- */

static void test_layouts(void) {
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const type_case *c = &k_cases[i];
        const sm_type_traits *r = sm_kern_traits_ref(c->type), *a = sm_kern_traits(c->type);
        CHECK(r != NULL && a != NULL);
        if (!r || !a) continue;
        CHECK(strcmp(r->name, c->name) == 0 && strcmp(a->name, c->name) == 0);
        CHECK_EQ(r->block_size, c->block_size);
        CHECK_EQ(r->type_size, c->type_size);
        CHECK_EQ(r->vec_dot_type, c->vec_dot_type);
        CHECK(a->block_size == r->block_size && a->type_size == r->type_size &&
              a->vec_dot_type == r->vec_dot_type);
        CHECK(r->to_float != NULL && a->to_float != NULL);
        CHECK(sm_kern_quantizer_ref(c->type) != NULL);
        const int is_activation = c->vec_dot_type == c->type;
        CHECK(is_activation == (r->from_float != NULL) && is_activation == (a->from_float != NULL));
        const int is_weight = c->type != SM_TYPE_Q8_1 && c->type != SM_TYPE_Q8_K;
        CHECK(is_weight == (r->vec_dot != NULL) && is_weight == (a->vec_dot != NULL));
        const sm_type_traits *dt = sm_kern_traits_ref(r->vec_dot_type);
        CHECK(dt != NULL && dt->from_float != NULL);
        CHECK_EQ(sm_kern_row_size(c->type, 4096), (size_t)(4096 / c->block_size * c->type_size));
        CHECK_EQ(sm_kern_row_size(c->type, 0), 0);
        if (c->block_size > 1) CHECK_EQ(sm_kern_row_size(c->type, c->block_size + 1), 0);
        CHECK_EQ(sm_kern_row_size(c->type, -c->block_size), 0);
    }
    const int32_t unknown[] = {-1, 4, 5, 16, 29, 31, 1000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(sm_kern_traits(unknown[i]) == NULL && sm_kern_traits_ref(unknown[i]) == NULL);
        CHECK_EQ(sm_kern_row_size(unknown[i], 256), 0);
        CHECK(sm_kern_quantizer_ref(unknown[i]) == NULL);
    }
    CHECK_EQ(sm_kern_row_size(SM_TYPE_F32, INT64_MAX), 0); /* bytes overflow size_t */
    CHECK_EQ(sm_kern_row_size(SM_TYPE_Q4_0, 64), 36);
}

/* The bit unpacking helpers against the word-wise formulation ggml uses (kmask shuffles). */
static void test_scale_unpack(void) {
    int bad = 0;
    for (int it = 0; it < 2000; it++) {
        uint8_t s[12];
        for (int k = 0; k < 12; k++) s[k] = (uint8_t)rng_u32();
        uint32_t a[4], u[4];
        memcpy(a, s, 12);
        /* Q3_K: four words of four 6-bit (+32) scales */
        const uint32_t tmp = a[2];
        u[0] = (a[0] & 0x0f0f0f0fu) | ((tmp >> 0) & 0x03030303u) << 4;
        u[1] = (a[1] & 0x0f0f0f0fu) | ((tmp >> 2) & 0x03030303u) << 4;
        u[2] = ((a[0] >> 4) & 0x0f0f0f0fu) | ((tmp >> 4) & 0x03030303u) << 4;
        u[3] = ((a[1] >> 4) & 0x0f0f0f0fu) | ((tmp >> 6) & 0x03030303u) << 4;
        for (int g = 0; g < 16; g++)
            bad += sm_kern_q3k_scale(g, s) != (int)((u[g / 4] >> (8 * (g % 4))) & 0xff) - 32;
        /* Q4_K: words 0-1 hold the 8 scales, words 2-3 the 8 mins */
        u[0] = a[0] & 0x3f3f3f3fu;
        u[1] = (a[2] & 0x0f0f0f0fu) | ((a[0] >> 6) & 0x03030303u) << 4;
        u[2] = a[1] & 0x3f3f3f3fu;
        u[3] = ((a[2] >> 4) & 0x0f0f0f0fu) | ((a[1] >> 6) & 0x03030303u) << 4;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            sm_kern_q4k_scale_min(j, s, &sc, &m);
            bad += sc != (int)((u[j / 4] >> (8 * (j % 4))) & 0xff);
            bad += m != (int)((u[2 + j / 4] >> (8 * (j % 4))) & 0xff);
        }
    }
    CHECK_EQ(bad, 0);
}

/* Hand-built blocks with known values: field order and nibble order as ggml writes them. */
static void test_known_blocks(void) {
    float y[256];
    uint8_t q40[18] = {0x00, 0x3c}; /* d = 1 */
    q40[2] = 0x9f;                  /* element 0: 15 - 8 = 7, element 16: 9 - 8 = 1 */
    q40[17] = 0x08;                 /* element 15: 0, element 31: -8 */
    sm_kern_traits_ref(SM_TYPE_Q4_0)->to_float(q40, y, 32);
    CHECK(y[0] == 7.0f && y[16] == 1.0f && y[15] == 0.0f && y[31] == -8.0f && y[1] == -8.0f);

    uint8_t q50[22] = {0x00, 0x40, 0x01, 0x00, 0x01, 0x80}; /* d = 2; bits 0, 16, 31 of qh */
    sm_kern_traits_ref(SM_TYPE_Q5_0)->to_float(q50, y, 32);
    CHECK(y[0] == 0.0f && y[16] == 0.0f && y[31] == 0.0f && y[1] == -32.0f);

    sm_block_q6_K b6;
    memset(&b6, 0, sizeof b6);
    b6.d = 0x3c00; /* 1 */
    for (int g = 0; g < 16; g++) b6.scales[g] = (int8_t)(g + 1);
    b6.ql[0] = 0x21;  /* element 0 low nibble 1, element 64 low nibble 2 */
    b6.qh[0] = 0xe4;  /* fields 0,1,2,3 = 0,1,2,3 -> elements 0, 32, 64, 96 */
    b6.ql[32] = 0x43; /* element 32: 3, element 96: 4 */
    sm_kern_traits_ref(SM_TYPE_Q6_K)->to_float(&b6, y, 256);
    CHECK(y[0] == 1.0f * (1 - 32) && y[32] == 3.0f * (3 + 16 - 32));
    CHECK(y[64] == 5.0f * (2 + 32 - 32) && y[96] == 7.0f * (4 + 48 - 32));
    CHECK(y[128] == 9.0f * -32.0f);
}

/* ---- quantizers ---------------------------------------------------------------------------- */

static double nrmse(const float *a, const float *b, int64_t n) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

static void test_quantize_roundtrip(void) {
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    uint8_t *q = malloc(N * 8);
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const type_case *c = &k_cases[i];
        const sm_type_traits *t = sm_kern_traits_ref(c->type);
        const sm_from_float_fn quantize = sm_kern_quantizer_ref(c->type);
        double worst = 0.0;
        for (int trial = 0; trial < 8; trial++) {
            fill_row(x, N);
            quantize(x, q, N);
            t->to_float(q, y, N);
            const double e = nrmse(x, y, N);
            if (e > worst) worst = e;
        }
        if (getenv("SM_TEST_VERBOSE") || worst > c->max_nrmse)
            fprintf(stderr, "%s: quantize nrmse %g\n", c->name, worst);
        CHECK(worst <= c->max_nrmse);
        /* zeros give zeros; constant rows stay finite and close */
        memset(x, 0, N * sizeof *x);
        quantize(x, q, N);
        t->to_float(q, y, N);
        int bad = 0;
        for (int k = 0; k < N; k++) bad += y[k] != 0.0f;
        for (int k = 0; k < N; k++) x[k] = k % 512 < 256 ? 0.75f : -0.25f;
        quantize(x, q, N);
        t->to_float(q, y, N);
        for (int k = 0; k < N; k++) bad += !(fabsf(y[k] - x[k]) <= 0.1f);
        CHECK_EQ(bad, 0);
    }
    free(x);
    free(y);
    free(q);
}

/* ---- reference dots against dequantized dots ----------------------------------------------- */

/* Bound for |vec_dot - exact dot of the dequantized rows|: float rounding, plus for Q8_1 the
 * fp16-rounded block sum s that Q4_1/Q5_1 use for their min term. */
static double dot_tolerance(int32_t type, const float *wf, const float *xf, const void *w,
                            int64_t n) {
    double mag = 0.0;
    for (int64_t i = 0; i < n; i++) mag += fabs((double)wf[i] * xf[i]);
    double tol = 2e-6 * mag + 1e-30;
    if (type == SM_TYPE_Q4_1 || type == SM_TYPE_Q5_1) {
        const int32_t bytes = sm_kern_traits_ref(type)->type_size;
        for (int64_t b = 0; b < n / 32; b++) {
            double xs = 0.0;
            for (int k = 0; k < 32; k++) xs += xf[32 * b + k];
            tol += 2e-3 * fabs(sm_kern_load_fp16((const uint8_t *)w + b * bytes + 2) * xs);
        }
    }
    return tol;
}

static void test_vec_dot_ref(void) {
    enum { N = 2048 };
    float *x = malloc(N * sizeof *x), *wf = malloc(N * sizeof *wf), *xf = malloc(N * sizeof *xf);
    uint8_t *w = malloc(N * 8), *xq = malloc(N * 8);
    for (int i = 0; i < N_TYPES; i++) {
        const sm_type_traits *t = sm_kern_traits_ref(k_types[i]);
        if (!t->vec_dot) continue;
        const sm_type_traits *dt = sm_kern_traits_ref(t->vec_dot_type);
        int bad = 0;
        for (int trial = 0; trial < 40; trial++) {
            const int64_t bs = t->block_size;
            const int64_t n = bs == 1 ? 1 + (int64_t)(rng_u32() % N)
                                      : bs * (1 + (int64_t)(rng_u32() % (uint32_t)(N / bs)));
            if (trial % 2) {
                random_blocks(k_types[i], w, n);
            } else {
                fill_row(x, n);
                sm_kern_quantizer_ref(k_types[i])(x, w, n);
            }
            fill_row(x, n);
            dt->from_float(x, xq, n);
            t->to_float(w, wf, n);
            dt->to_float(xq, xf, n);
            double exact = 0.0;
            for (int64_t k = 0; k < n; k++) exact += (double)wf[k] * xf[k];
            const double got = t->vec_dot(n, w, xq);
            const double tol = dot_tolerance(k_types[i], wf, xf, w, n);
            if (!(fabs(got - exact) <= tol)) {
                if (!bad) fprintf(stderr, "%s: n=%lld dot %.9g vs %.9g (tol %g)\n", t->name,
                                  (long long)n, got, exact, tol);
                bad++;
            }
        }
        CHECK_EQ(bad, 0);
    }
    free(x);
    free(wf);
    free(xf);
    free(w);
    free(xq);
}

/* ---- active kernels against the references ------------------------------------------------- */

static void test_active_vs_ref(void) {
    enum { N = 8192 + 16, PAD = 64 };
    float *x = malloc(N * sizeof *x), *ya = malloc(N * sizeof *ya), *yr = malloc(N * sizeof *yr);
    float *wf = malloc(N * sizeof *wf), *xf = malloc(N * sizeof *xf);
    uint8_t *wbuf = malloc(N * 8 + PAD), *xbuf = malloc(N * 8 + PAD), *xbuf2 = malloc(N * 8 + PAD);
    const int64_t lengths[] = {256, 512, 768, 4096, 8192};
    for (int i = 0; i < N_TYPES; i++) {
        const int32_t type = k_types[i];
        const sm_type_traits *r = sm_kern_traits_ref(type), *a = sm_kern_traits(type);
        const sm_type_traits *dr = sm_kern_traits_ref(r->vec_dot_type);
        double worst_dot = 0.0, worst_tf = 0.0, worst_ff = 0.0;
        int ff_mismatch = 0;
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            for (int trial = 0; trial < 12; trial++) {
                const int64_t n = lengths[li] + (r->block_size < 32 ? trial : 0);
                /* odd offsets: GGUF blocks are not aligned */
                uint8_t *w = wbuf + (trial % 3), *xq = xbuf + (trial % 4), *xq2 = xbuf2 + 1;
                if (trial % 2) random_blocks(type, w, n);
                else {
                    fill_row(x, n);
                    sm_kern_quantizer_ref(type)(x, w, n);
                }
                /* to_float */
                a->to_float(w, ya, n);
                r->to_float(w, yr, n);
                double amax = 0.0, dmax = 0.0;
                for (int64_t k = 0; k < n; k++) {
                    amax = fmax(amax, fabs(yr[k]));
                    dmax = fmax(dmax, fabs((double)ya[k] - yr[k]));
                }
                worst_tf = fmax(worst_tf, amax > 0 ? dmax / amax : dmax);
                /* from_float of the activation type: same bytes, same dequantized values */
                fill_row(x, n);
                if (r->from_float) {
                    a->from_float(x, xq2, n);
                    r->from_float(x, xq, n);
                    ff_mismatch += memcmp(xq, xq2, sm_kern_row_size(type, n)) != 0;
                    a->to_float(xq2, ya, n);
                    r->to_float(xq, yr, n);
                    worst_ff = fmax(worst_ff, nrmse(yr, ya, n));
                }
                if (!r->vec_dot) continue;
                /* vec_dot, normalized by sum |w_i x_i| */
                dr->from_float(x, xq, n);
                const double dot_r = r->vec_dot(n, w, xq), dot_a = a->vec_dot(n, w, xq);
                r->to_float(w, wf, n);
                dr->to_float(xq, xf, n);
                double mag = 1e-30;
                for (int64_t k = 0; k < n; k++) mag += fabs((double)wf[k] * xf[k]);
                worst_dot = fmax(worst_dot, fabs(dot_a - dot_r) / mag);
            }
        }
        if (getenv("SM_TEST_VERBOSE") || worst_dot > 2e-6 || worst_tf > 1e-6 || worst_ff > 1e-6 ||
            ff_mismatch)
            fprintf(stderr, "%s: active vs ref: dot %g to_float %g from_float %g (%d differ)\n",
                    r->name, worst_dot, worst_tf, worst_ff, ff_mismatch);
        CHECK(worst_dot <= 2e-6);
        CHECK(worst_tf <= 1e-6);
        CHECK(worst_ff <= 1e-6);
        CHECK_EQ(ff_mismatch, 0);
    }
#ifdef __wasm_simd128__
    /* this build must actually run SIMD kernels, or the comparison above proves nothing */
    CHECK(sm_kern_traits(SM_TYPE_Q4_0)->vec_dot != sm_kern_traits_ref(SM_TYPE_Q4_0)->vec_dot);
    CHECK(sm_kern_traits(SM_TYPE_Q6_K)->vec_dot != sm_kern_traits_ref(SM_TYPE_Q6_K)->vec_dot);
    CHECK(sm_kern_traits(SM_TYPE_Q8_K)->from_float != sm_kern_traits_ref(SM_TYPE_Q8_K)->from_float);
#endif
    free(x);
    free(ya);
    free(yr);
    free(wf);
    free(xf);
    free(wbuf);
    free(xbuf);
    free(xbuf2);
}

/* Activation quantizers on rows that take their rarer paths: zeros, signed zeros, the largest
 * |x| reached with both signs (the first one wins), a lone value, large and small magnitudes. */
static void test_from_float_edges(void) {
    enum { N = 512 };
    float x[N];
    uint8_t qa[N * sizeof(float)], qr[N * sizeof(float)];
    for (int i = 0; i < N_TYPES; i++) {
        const sm_type_traits *r = sm_kern_traits_ref(k_types[i]), *a = sm_kern_traits(k_types[i]);
        if (!r->from_float) continue;
        int bad = 0;
        for (int kind = 0; kind < 10; kind++) {
            for (int k = 0; k < N; k++) {
                const float g = 0.01f * rng_normal();
                x[k] = kind == 0 ? 0.0f : kind == 1 || kind == 4 ? -0.0f : g;
                if (kind == 5) x[k] *= 1e30f;
                if (kind == 6) x[k] *= 1e-30f;
                if (kind == 7) x[k] = (float)(k % 64) - 31.5f; /* exact .5 ties */
            }
            if (kind == 2) {
                x[7] = -3.0f, x[200] = 3.0f, x[300] = 3.0f, x[301] = -3.0f;
            } else if (kind == 3) {
                x[9] = 3.0f, x[100] = -3.0f, x[270] = -2.5f, x[271] = 2.5f;
            } else if (kind == 4) {
                x[33] = -1.0f, x[300] = 2.0f;
            } else if (kind >= 8) {
                /* scale exactly 1 per block (a 127 in each): x / d hits .5 ties and their
                 * neighbours, where half-away-from-zero and half-to-even rounding differ */
                for (int k = 0; k < N; k++) {
                    const float t = (float)(k % 254) * 0.5f - 63.0f;
                    x[k] = k % 3 == 0 ? t : nextafterf(t, k % 3 == 1 ? 1e9f : -1e9f);
                    if (kind == 9) x[k] = -x[k];
                }
                for (int k = 0; k < N; k += 32) x[k] = 127.0f;
            }
            a->from_float(x, qa, N);
            r->from_float(x, qr, N);
            bad += memcmp(qa, qr, sm_kern_row_size(k_types[i], N)) != 0;
        }
        if (bad) fprintf(stderr, "%s: from_float edge rows differ: %d\n", r->name, bad);
        CHECK_EQ(bad, 0);
    }
}

/* Every half and bf16 bit pattern (subnormals, inf, NaN payloads) through the active to_float. */
static void test_half_patterns(void) {
    uint16_t *h = malloc(65536 * sizeof *h);
    float *ya = malloc(65536 * sizeof *ya), *yr = malloc(65536 * sizeof *yr);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    const int32_t types[] = {SM_TYPE_F16, SM_TYPE_BF16};
    for (int t = 0; t < 2; t++) {
        sm_kern_traits(types[t])->to_float(h, ya, 65536);
        sm_kern_traits_ref(types[t])->to_float(h, yr, 65536);
        CHECK(memcmp(ya, yr, 65536 * sizeof *ya) == 0);
    }
    free(h);
    free(ya);
    free(yr);
}

/* ---- attention loops over F32 / F16 KV caches (attn.h) ----------------------------------------- */

/* The active loops against the references, by error normalized by sum |term|; the F16 references
 * against the F32 ones on the same (f16-rounded) values, which must agree exactly; the F16 store
 * against fp16.h. Head sizes include ones that leave a scalar tail; rows are strided as in a
 * cache with several KV heads. */
static void test_attn_kernels(void) {
    enum { MAX_POS = 70, MAX_N = 136, STRIDE = 3 * MAX_N };
    float *kf = malloc(MAX_POS * STRIDE * sizeof *kf), *q = malloc(MAX_N * sizeof *q);
    float *p = malloc(MAX_POS * sizeof *p), *sa = malloc(MAX_POS * sizeof *sa);
    float *sr = malloc(MAX_POS * sizeof *sr), *s32 = malloc(MAX_POS * sizeof *s32);
    float *oa = malloc(MAX_N * sizeof *oa), *orf = malloc(MAX_N * sizeof *orf);
    float *o32 = malloc(MAX_N * sizeof *o32);
    uint16_t *kh = malloc(MAX_POS * STRIDE * sizeof *kh);
    const int sizes[] = {64, 128, 80, 16, 8, 4, 13, 136};
    const sm_attn_kernels *r16 = sm_kern_attn_ref(SM_TYPE_F16), *r32 = sm_kern_attn_ref(SM_TYPE_F32);
    CHECK(sm_kern_attn(SM_TYPE_Q8_0) == NULL && sm_kern_attn_ref(SM_TYPE_BF16) == NULL);
    CHECK_EQ(r16->elt_size, 2);
    CHECK_EQ(r32->elt_size, 4);
    double worst[2][2] = {{0}}; /* [type][scores, mix] */
    int exact_bad = 0, store_bad = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (int trial = 0; trial < 6; trial++) {
            const int n = sizes[si], n_pos = 1 + (int)(rng_u32() % MAX_POS);
            const size_t stride = trial % 2 ? (size_t)n : STRIDE;
            fill_row(q, n);
            for (int j = 0; j < n_pos; j++) fill_row(kf + (size_t)j * stride, n);
            float psum = 0.0f;
            for (int j = 0; j < n_pos; j++) psum += p[j] = rng_uniform();
            for (int j = 0; j < n_pos; j++) p[j] /= psum;
            /* the F16 cache: stored through the kernel, then kf rounded to the same values */
            for (int j = 0; j < n_pos; j++) {
                r16->store(kh + (size_t)j * stride, kf + (size_t)j * stride, n);
                for (int i = 0; i < n; i++) {
                    const size_t at = (size_t)j * stride + (size_t)i;
                    store_bad += kh[at] != sm_kern_f32_to_fp16(kf[at]);
                    kf[at] = sm_kern_fp16_to_f32(kh[at]);
                }
            }
            const float scale = 0.125f;
            r32->scores(s32, q, kf, stride, n_pos, n, scale);
            r32->mix(o32, p, kf, stride, n_pos, n);
            r16->scores(sr, q, kh, stride, n_pos, n, scale);
            r16->mix(orf, p, kh, stride, n_pos, n);
            exact_bad += memcmp(sr, s32, (size_t)n_pos * sizeof *sr) != 0;
            exact_bad += memcmp(orf, o32, (size_t)n * sizeof *orf) != 0;
            for (int ty = 0; ty < 2; ty++) {
                const sm_attn_kernels *a = sm_kern_attn(ty ? SM_TYPE_F16 : SM_TYPE_F32);
                const void *cache = ty ? (const void *)kh : (const void *)kf;
                a->scores(sa, q, cache, stride, n_pos, n, scale);
                a->mix(oa, p, cache, stride, n_pos, n);
                for (int j = 0; j < n_pos; j++) {
                    double mag = 1e-30;
                    for (int i = 0; i < n; i++) mag += fabs((double)q[i] * kf[(size_t)j * stride + i]);
                    worst[ty][0] = fmax(worst[ty][0], fabs((double)sa[j] - s32[j]) / (mag * scale));
                }
                for (int i = 0; i < n; i++) {
                    double mag = 1e-30;
                    for (int j = 0; j < n_pos; j++) mag += fabs((double)p[j] * kf[(size_t)j * stride + i]);
                    worst[ty][1] = fmax(worst[ty][1], fabs((double)oa[i] - o32[i]) / mag);
                }
            }
        }
    }
    if (getenv("SM_TEST_VERBOSE") || worst[0][0] > 2e-6 || worst[0][1] > 2e-6 || worst[1][0] > 2e-6 ||
        worst[1][1] > 2e-6)
        fprintf(stderr, "attn: active vs ref: f32 scores %g mix %g, f16 scores %g mix %g\n",
                worst[0][0], worst[0][1], worst[1][0], worst[1][1]);
    CHECK(worst[0][0] <= 2e-6 && worst[0][1] <= 2e-6);
    CHECK(worst[1][0] <= 2e-6 && worst[1][1] <= 2e-6);
    CHECK_EQ(exact_bad, 0);
    CHECK_EQ(store_bad, 0);
    /* special values pass through the F16 loops as through fp16.h: inf and NaN propagate */
    uint16_t special[16];
    for (int i = 0; i < 16; i++) special[i] = sm_kern_f32_to_fp16(1.0f);
    special[3] = 0x7c00; /* +inf */
    float ones[16], out[16];
    for (int i = 0; i < 16; i++) ones[i] = 1.0f;
    sm_kern_attn(SM_TYPE_F16)->scores(out, ones, special, 16, 1, 16, 1.0f);
    CHECK(isinf(out[0]) && out[0] > 0);
    special[3] = 0x7e00; /* NaN */
    sm_kern_attn(SM_TYPE_F16)->mix(out, ones, special, 16, 1, 16);
    CHECK(isnan(out[3]) && out[2] == 1.0f);
#ifdef __wasm_simd128__
    CHECK(sm_kern_attn(SM_TYPE_F16)->scores != r16->scores);
    CHECK(sm_kern_attn(SM_TYPE_F32)->mix != r32->mix);
#endif
    free(kf), free(q), free(p), free(sa), free(sr), free(s32), free(oa), free(orf), free(o32), free(kh);
}

/* Tiled matmul kernels (gemm) against their own type's vec_dot, which they must equal bit for bit
 * on every (row, token) pair whatever the tile shape: rows and tokens in counts that leave partial
 * tiles, unaligned strided rows. Also: the SIMD build really has them for Q4_0, Q8_0, Q4_K,
 * Q5_K and Q6_K. */
static void test_gemm(void) {
    enum { N = 1248, MAX_ROWS = 17, MAX_TOK = 9 };
    float *x = malloc(N * sizeof *x), *y = malloc(MAX_ROWS * MAX_TOK * 3 * sizeof *y);
    int checked = 0;
    for (int i = 0; i < N_TYPES; i++) {
        const sm_type_traits *a = sm_kern_traits(k_types[i]);
        if (!a->gemm) continue;
        const sm_type_traits *dt = sm_kern_traits(a->vec_dot_type);
        const int64_t n = k_types[i] >= SM_TYPE_Q2_K && k_types[i] <= SM_TYPE_Q8_K ? 768 : 1248; /* legacy: 39 blocks, two 16-block chunks and a rest */
        const size_t w_stride = sm_kern_row_size(k_types[i], n) + 3, x_stride = sm_kern_row_size(a->vec_dot_type, n) + 5;
        uint8_t *w = malloc(w_stride * MAX_ROWS + 1), *xq = malloc(x_stride * MAX_TOK + 1);
        int bad = 0;
        for (int r = 0; r < MAX_ROWS; r++) {
            if (r % 2) random_blocks(k_types[i], w + 1 + r * w_stride, n);
            else {
                fill_row(x, n);
                sm_kern_quantizer_ref(k_types[i])(x, w + 1 + r * w_stride, n);
            }
        }
        for (int t = 0; t < MAX_TOK; t++) {
            fill_row(x, n);
            dt->from_float(x, xq + 1 + t * x_stride, n);
        }
        for (int n_rows = 1; n_rows <= MAX_ROWS; n_rows += 4) { /* 17: past a 16-row group */
            for (int n_tok = 1; n_tok <= MAX_TOK; n_tok++) {
                const int64_t ldy = n_rows + 2;
                a->gemm(n, w + 1, w_stride, n_rows, xq + 1, x_stride, n_tok, y, ldy);
                for (int t = 0; t < n_tok; t++)
                    for (int r = 0; r < n_rows; r++) {
                        const float want = a->vec_dot(n, w + 1 + r * w_stride, xq + 1 + t * x_stride);
                        bad += memcmp(&want, &y[t * ldy + r], sizeof want) != 0;
                    }
            }
        }
        if (bad) fprintf(stderr, "%s: gemm differs from vec_dot on %d pairs\n", a->name, bad);
        CHECK_EQ(bad, 0);
        checked++;
        free(w);
        free(xq);
    }
#ifdef __wasm_simd128__
    CHECK_EQ(checked, 5);
#else
    CHECK_EQ(checked, 0); /* the reference build loops over vec_dot */
#endif
    free(x);
    free(y);
}

/* Decoding kernels (gemv) against their own type's vec_dot, bit for bit: row lengths from one block
 * to SM_GEMV_MAX_N, unaligned strided rows, and through sm_kern_matmul_rows, which must also give
 * the vec_dot's results for a row longer than SM_GEMV_MAX_N (where it skips the gemv). Also: the
 * SIMD build really has them for Q4_0, Q8_0, Q4_K, Q5_K and Q6_K. */
static void test_gemv(void) {
    enum { MAX_ROWS = 19 };
    const int64_t legacy_lens[] = {32, 288, 1248, SM_GEMV_MAX_N, SM_GEMV_MAX_N + 64};
    const int64_t k_lens[] = {256, 768, 2816, SM_GEMV_MAX_N, SM_GEMV_MAX_N + 256};
    float *x = malloc((SM_GEMV_MAX_N + 256) * sizeof *x), y[MAX_ROWS], ym[MAX_ROWS];
    int checked = 0;
    for (int i = 0; i < N_TYPES; i++) {
        const sm_type_traits *a = sm_kern_traits(k_types[i]);
        if (!a->gemv) continue;
        const sm_type_traits *dt = sm_kern_traits(a->vec_dot_type);
        int bad = 0, bad_matmul = 0;
        const int k_quant = k_types[i] >= SM_TYPE_Q2_K && k_types[i] <= SM_TYPE_Q8_K;
        for (size_t li = 0; li < 5; li++) {
            const int64_t n = k_quant ? k_lens[li] : legacy_lens[li];
            const size_t w_stride = sm_kern_row_size(k_types[i], n) + 3;
            uint8_t *w = malloc(w_stride * MAX_ROWS + 1), *xq = malloc(sm_kern_row_size(a->vec_dot_type, n) + 1);
            for (int r = 0; r < MAX_ROWS; r++) {
                if (r % 2) random_blocks(k_types[i], w + 1 + r * w_stride, n);
                else {
                    fill_row(x, n);
                    sm_kern_quantizer_ref(k_types[i])(x, w + 1 + r * w_stride, n);
                }
            }
            fill_row(x, n);
            dt->from_float(x, xq + 1, n);
            if (n <= SM_GEMV_MAX_N) a->gemv(n, w + 1, w_stride, MAX_ROWS, xq + 1, y);
            const sm_weight wt = {.data = w + 1, .traits = a, .type = k_types[i], .n_in = n,
                                  .n_out = MAX_ROWS, .row_bytes = w_stride};
            sm_kern_matmul_rows(&wt, xq + 1, 1, ym, MAX_ROWS, 0, MAX_ROWS);
            for (int r = 0; r < MAX_ROWS; r++) {
                const float want = a->vec_dot(n, w + 1 + r * w_stride, xq + 1);
                if (n <= SM_GEMV_MAX_N) bad += memcmp(&want, &y[r], sizeof want) != 0;
                bad_matmul += memcmp(&want, &ym[r], sizeof want) != 0;
            }
            free(w);
            free(xq);
        }
        if (bad || bad_matmul)
            fprintf(stderr, "%s: gemv differs from vec_dot on %d rows (matmul: %d)\n", a->name, bad, bad_matmul);
        CHECK_EQ(bad, 0);
        CHECK_EQ(bad_matmul, 0);
        checked++;
    }
#ifdef __wasm_simd128__
    CHECK_EQ(checked, 5);
#else
    CHECK_EQ(checked, 0); /* the reference build loops over vec_dot */
#endif
    free(x);
}

#ifdef __wasm_simd128__
/* Every half bit pattern through the shift-based SIMD conversion the attention loops use. */
static void test_halves_shift(void) {
    int bad = 0;
    for (uint32_t i = 0; i < 65536; i += 8) {
        uint16_t h[8];
        float f[8];
        for (int k = 0; k < 8; k++) h[k] = (uint16_t)(i + (uint32_t)k);
        v128_t lo, hi;
        sm_kern_halves_to_f32_shift(wasm_v128_load(h), &lo, &hi);
        wasm_v128_store(f, lo);
        wasm_v128_store(f + 4, hi);
        for (int k = 0; k < 8; k++) {
            const float r = sm_kern_fp16_to_f32(h[k]);
            bad += memcmp(&f[k], &r, sizeof r) != 0;
        }
    }
    CHECK_EQ(bad, 0);
}

/* Every half bit pattern through the block-scale loads of the dot kernels (the K-quants' avoids
 * subnormal float operands), unaligned, bit for bit against the general conversion. */
static void test_load_scale(void) {
    int bad = 0;
    uint8_t buf[3];
    for (uint32_t i = 0; i < 65536; i++) {
        buf[1] = (uint8_t)i, buf[2] = (uint8_t)(i >> 8);
        const float got = sm_kern_load_scale_k(buf + 1), want = sm_kern_fp16_to_f32((uint16_t)i);
        const float got_fast = sm_kern_load_scale(buf + 1);
        bad += memcmp(&got, &want, sizeof got) != 0;
        bad += memcmp(&got_fast, &want, sizeof got) != 0;
    }
    CHECK_EQ(bad, 0);
}
#endif

int main(void) {
    test_fp16_exhaustive();
    test_fp16_values();
    test_fp16_table();
    test_fp16_rounding();
    test_layouts();
    test_scale_unpack();
    test_known_blocks();
    test_quantize_roundtrip();
    test_vec_dot_ref();
    test_active_vs_ref();
    test_from_float_edges();
    test_half_patterns();
    test_attn_kernels();
    test_gemm();
    test_gemv();
    sm_kern_warmup(2); /* every kernel on zero blocks: the sanitizers and the checks above watch */
#ifdef __wasm_simd128__
    test_halves_shift();
    test_load_scale();
#endif
    return sm_check_report("test_kern");
}
