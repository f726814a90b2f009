/*
 * dispatch.c — the type traits tables: block layout and kernels of every tensor type (types.h).
 *
 * Two designated-initializer tables indexed by GGUF type id: the scalar references, and the
 * kernels this build runs, which take the SIMD128 version of a kernel where one exists when
 * compiled for WASM SIMD (quant_simd128.h), else the reference. A type this build does not know
 * has an empty row (name NULL) and is reported as unsupported. Not the kernels themselves.
 */
#include "kern/quant.h"
#include "kern/quant_ref.h"
#include "kern/quant_simd128.h"
#include "kern/types.h"

/* The layout columns of a row, shared by both tables. */
#define SM_LAYOUT(type_name, block, bytes, dot_type)                                               \
    .name = (type_name), .block_size = (block), .type_size = (int32_t)(bytes),                     \
    .vec_dot_type = (dot_type)

/* The active table's choice for one kernel: the SIMD128 version when this build has it. */
#ifdef __wasm_simd128__
#define SM_FAST(simd128, ref) simd128
#else
#define SM_FAST(simd128, ref) ref
#endif

/* A gemv or gemm: the relaxed-SIMD version in the relaxed build variant (relaxed_simd.h), else
 * SM_FAST's choice (a SIMD128 kernel, or none in the reference build). */
#if defined(__wasm_simd128__) && defined(SM_RELAXED_SIMD)
#define SM_RELAXED(relaxed, simd128) relaxed
#else
#define SM_RELAXED(relaxed, simd128) SM_FAST(simd128, NULL)
#endif

static const sm_type_traits k_ref[SM_TYPE_COUNT] = {
    [SM_TYPE_F32] = {SM_LAYOUT("F32", 1, sizeof(float), SM_TYPE_F32),
                     .to_float = sm_kern_to_float_f32_ref,
                     .from_float = sm_kern_from_float_f32_ref,
                     .vec_dot = sm_kern_vec_dot_f32_ref},
    [SM_TYPE_F16] = {SM_LAYOUT("F16", 1, sizeof(uint16_t), SM_TYPE_F16),
                     .to_float = sm_kern_to_float_f16_ref,
                     .from_float = sm_kern_from_float_f16_ref,
                     .vec_dot = sm_kern_vec_dot_f16_ref},
    [SM_TYPE_BF16] = {SM_LAYOUT("BF16", 1, sizeof(uint16_t), SM_TYPE_BF16),
                      .to_float = sm_kern_to_float_bf16_ref,
                      .from_float = sm_kern_from_float_bf16_ref,
                      .vec_dot = sm_kern_vec_dot_bf16_ref},
    [SM_TYPE_Q4_0] = {SM_LAYOUT("Q4_0", SM_QK4_0, sizeof(sm_block_q4_0), SM_TYPE_Q8_0),
                      .to_float = sm_kern_to_float_q4_0_ref,
                      .vec_dot = sm_kern_vec_dot_q4_0_ref},
    [SM_TYPE_Q4_1] = {SM_LAYOUT("Q4_1", SM_QK4_1, sizeof(sm_block_q4_1), SM_TYPE_Q8_1),
                      .to_float = sm_kern_to_float_q4_1_ref,
                      .vec_dot = sm_kern_vec_dot_q4_1_ref},
    [SM_TYPE_Q5_0] = {SM_LAYOUT("Q5_0", SM_QK5_0, sizeof(sm_block_q5_0), SM_TYPE_Q8_0),
                      .to_float = sm_kern_to_float_q5_0_ref,
                      .vec_dot = sm_kern_vec_dot_q5_0_ref},
    [SM_TYPE_Q5_1] = {SM_LAYOUT("Q5_1", SM_QK5_1, sizeof(sm_block_q5_1), SM_TYPE_Q8_1),
                      .to_float = sm_kern_to_float_q5_1_ref,
                      .vec_dot = sm_kern_vec_dot_q5_1_ref},
    [SM_TYPE_Q8_0] = {SM_LAYOUT("Q8_0", SM_QK8_0, sizeof(sm_block_q8_0), SM_TYPE_Q8_0),
                      .to_float = sm_kern_to_float_q8_0_ref,
                      .from_float = sm_kern_quantize_row_q8_0_ref,
                      .vec_dot = sm_kern_vec_dot_q8_0_ref},
    [SM_TYPE_Q8_1] = {SM_LAYOUT("Q8_1", SM_QK8_1, sizeof(sm_block_q8_1), SM_TYPE_Q8_1),
                      .to_float = sm_kern_to_float_q8_1_ref,
                      .from_float = sm_kern_quantize_row_q8_1_ref},
    [SM_TYPE_Q2_K] = {SM_LAYOUT("Q2_K", SM_QK_K, sizeof(sm_block_q2_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q2_K_ref,
                      .vec_dot = sm_kern_vec_dot_q2_K_ref},
    [SM_TYPE_Q3_K] = {SM_LAYOUT("Q3_K", SM_QK_K, sizeof(sm_block_q3_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q3_K_ref,
                      .vec_dot = sm_kern_vec_dot_q3_K_ref},
    [SM_TYPE_Q4_K] = {SM_LAYOUT("Q4_K", SM_QK_K, sizeof(sm_block_q4_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q4_K_ref,
                      .vec_dot = sm_kern_vec_dot_q4_K_ref},
    [SM_TYPE_Q5_K] = {SM_LAYOUT("Q5_K", SM_QK_K, sizeof(sm_block_q5_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q5_K_ref,
                      .vec_dot = sm_kern_vec_dot_q5_K_ref},
    [SM_TYPE_Q6_K] = {SM_LAYOUT("Q6_K", SM_QK_K, sizeof(sm_block_q6_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q6_K_ref,
                      .vec_dot = sm_kern_vec_dot_q6_K_ref},
    [SM_TYPE_Q8_K] = {SM_LAYOUT("Q8_K", SM_QK_K, sizeof(sm_block_q8_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q8_K_ref,
                      .from_float = sm_kern_quantize_row_q8_K_ref},
};

static const sm_type_traits k_active[SM_TYPE_COUNT] = {
    [SM_TYPE_F32] = {SM_LAYOUT("F32", 1, sizeof(float), SM_TYPE_F32),
                     .to_float = sm_kern_to_float_f32_ref,
                     .from_float = sm_kern_from_float_f32_ref,
                     .vec_dot = SM_FAST(sm_kern_vec_dot_f32_simd128, sm_kern_vec_dot_f32_ref)},
    [SM_TYPE_F16] = {SM_LAYOUT("F16", 1, sizeof(uint16_t), SM_TYPE_F16),
                     .to_float = SM_FAST(sm_kern_to_float_f16_simd128, sm_kern_to_float_f16_ref),
                     .from_float = sm_kern_from_float_f16_ref,
                     .vec_dot = SM_FAST(sm_kern_vec_dot_f16_simd128, sm_kern_vec_dot_f16_ref)},
    [SM_TYPE_BF16] = {SM_LAYOUT("BF16", 1, sizeof(uint16_t), SM_TYPE_BF16),
                      .to_float = SM_FAST(sm_kern_to_float_bf16_simd128,
                                          sm_kern_to_float_bf16_ref),
                      .from_float = sm_kern_from_float_bf16_ref,
                      .vec_dot = SM_FAST(sm_kern_vec_dot_bf16_simd128, sm_kern_vec_dot_bf16_ref)},
    [SM_TYPE_Q4_0] = {SM_LAYOUT("Q4_0", SM_QK4_0, sizeof(sm_block_q4_0), SM_TYPE_Q8_0),
                      .to_float = SM_FAST(sm_kern_to_float_q4_0_simd128,
                                          sm_kern_to_float_q4_0_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q4_0_simd128, sm_kern_vec_dot_q4_0_ref),
                      .gemm = SM_FAST(sm_kern_gemm_q4_0_simd128, NULL),
                      .gemv = SM_RELAXED(sm_kern_gemv_q4_0_relaxed, sm_kern_gemv_q4_0_simd128)},
    [SM_TYPE_Q4_1] = {SM_LAYOUT("Q4_1", SM_QK4_1, sizeof(sm_block_q4_1), SM_TYPE_Q8_1),
                      .to_float = SM_FAST(sm_kern_to_float_q4_1_simd128,
                                          sm_kern_to_float_q4_1_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q4_1_simd128, sm_kern_vec_dot_q4_1_ref)},
    [SM_TYPE_Q5_0] = {SM_LAYOUT("Q5_0", SM_QK5_0, sizeof(sm_block_q5_0), SM_TYPE_Q8_0),
                      .to_float = SM_FAST(sm_kern_to_float_q5_0_simd128,
                                          sm_kern_to_float_q5_0_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q5_0_simd128, sm_kern_vec_dot_q5_0_ref)},
    [SM_TYPE_Q5_1] = {SM_LAYOUT("Q5_1", SM_QK5_1, sizeof(sm_block_q5_1), SM_TYPE_Q8_1),
                      .to_float = SM_FAST(sm_kern_to_float_q5_1_simd128,
                                          sm_kern_to_float_q5_1_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q5_1_simd128, sm_kern_vec_dot_q5_1_ref)},
    [SM_TYPE_Q8_0] = {SM_LAYOUT("Q8_0", SM_QK8_0, sizeof(sm_block_q8_0), SM_TYPE_Q8_0),
                      .to_float = SM_FAST(sm_kern_to_float_q8_0_simd128,
                                          sm_kern_to_float_q8_0_ref),
                      .from_float = SM_FAST(sm_kern_quantize_row_q8_0_simd128,
                                            sm_kern_quantize_row_q8_0_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q8_0_simd128, sm_kern_vec_dot_q8_0_ref),
                      .gemm = SM_FAST(sm_kern_gemm_q8_0_simd128, NULL),
                      .gemv = SM_FAST(sm_kern_gemv_q8_0_simd128, NULL)},
    [SM_TYPE_Q8_1] = {SM_LAYOUT("Q8_1", SM_QK8_1, sizeof(sm_block_q8_1), SM_TYPE_Q8_1),
                      .to_float = sm_kern_to_float_q8_1_ref,
                      .from_float = SM_FAST(sm_kern_quantize_row_q8_1_simd128,
                                            sm_kern_quantize_row_q8_1_ref)},
    [SM_TYPE_Q2_K] = {SM_LAYOUT("Q2_K", SM_QK_K, sizeof(sm_block_q2_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q2_K_ref,
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q2_K_simd128, sm_kern_vec_dot_q2_K_ref)},
    [SM_TYPE_Q3_K] = {SM_LAYOUT("Q3_K", SM_QK_K, sizeof(sm_block_q3_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q3_K_ref,
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q3_K_simd128, sm_kern_vec_dot_q3_K_ref)},
    [SM_TYPE_Q4_K] = {SM_LAYOUT("Q4_K", SM_QK_K, sizeof(sm_block_q4_K), SM_TYPE_Q8_K),
                      .to_float = SM_FAST(sm_kern_to_float_q4_K_simd128,
                                          sm_kern_to_float_q4_K_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q4_K_simd128, sm_kern_vec_dot_q4_K_ref),
                      .gemm = SM_RELAXED(sm_kern_gemm_q4_K_relaxed, sm_kern_gemm_q4_K_simd128),
                      .gemv = SM_RELAXED(sm_kern_gemv_q4_K_relaxed, sm_kern_gemv_q4_K_simd128)},
    [SM_TYPE_Q5_K] = {SM_LAYOUT("Q5_K", SM_QK_K, sizeof(sm_block_q5_K), SM_TYPE_Q8_K),
                      .to_float = SM_FAST(sm_kern_to_float_q5_K_simd128,
                                          sm_kern_to_float_q5_K_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q5_K_simd128, sm_kern_vec_dot_q5_K_ref),
                      .gemm = SM_FAST(sm_kern_gemm_q5_K_simd128, NULL),
                      .gemv = SM_RELAXED(sm_kern_gemv_q5_K_relaxed, sm_kern_gemv_q5_K_simd128)},
    [SM_TYPE_Q6_K] = {SM_LAYOUT("Q6_K", SM_QK_K, sizeof(sm_block_q6_K), SM_TYPE_Q8_K),
                      .to_float = SM_FAST(sm_kern_to_float_q6_K_simd128,
                                          sm_kern_to_float_q6_K_ref),
                      .vec_dot = SM_FAST(sm_kern_vec_dot_q6_K_simd128, sm_kern_vec_dot_q6_K_ref),
                      .gemm = SM_RELAXED(sm_kern_gemm_q6_K_relaxed, sm_kern_gemm_q6_K_simd128),
                      .gemv = SM_RELAXED(sm_kern_gemv_q6_K_relaxed, sm_kern_gemv_q6_K_simd128)},
    [SM_TYPE_Q8_K] = {SM_LAYOUT("Q8_K", SM_QK_K, sizeof(sm_block_q8_K), SM_TYPE_Q8_K),
                      .to_float = sm_kern_to_float_q8_K_ref,
                      .from_float = SM_FAST(sm_kern_quantize_row_q8_K_simd128,
                                            sm_kern_quantize_row_q8_K_ref)},
};

static const sm_from_float_fn k_quantizer_ref[SM_TYPE_COUNT] = {
    [SM_TYPE_F32] = sm_kern_from_float_f32_ref,
    [SM_TYPE_F16] = sm_kern_from_float_f16_ref,
    [SM_TYPE_BF16] = sm_kern_from_float_bf16_ref,
    [SM_TYPE_Q4_0] = sm_kern_quantize_row_q4_0_ref,
    [SM_TYPE_Q4_1] = sm_kern_quantize_row_q4_1_ref,
    [SM_TYPE_Q5_0] = sm_kern_quantize_row_q5_0_ref,
    [SM_TYPE_Q5_1] = sm_kern_quantize_row_q5_1_ref,
    [SM_TYPE_Q8_0] = sm_kern_quantize_row_q8_0_ref,
    [SM_TYPE_Q8_1] = sm_kern_quantize_row_q8_1_ref,
    [SM_TYPE_Q2_K] = sm_kern_quantize_row_q2_K_ref,
    [SM_TYPE_Q3_K] = sm_kern_quantize_row_q3_K_ref,
    [SM_TYPE_Q4_K] = sm_kern_quantize_row_q4_K_ref,
    [SM_TYPE_Q5_K] = sm_kern_quantize_row_q5_K_ref,
    [SM_TYPE_Q6_K] = sm_kern_quantize_row_q6_K_ref,
    [SM_TYPE_Q8_K] = sm_kern_quantize_row_q8_K_ref,
};

static const sm_type_traits *lookup(const sm_type_traits *table, int32_t type) {
    if (type < 0 || type >= SM_TYPE_COUNT || !table[type].name) return NULL;
    return &table[type];
}

const sm_type_traits *sm_kern_traits(int32_t type) { return lookup(k_active, type); }

const sm_type_traits *sm_kern_traits_ref(int32_t type) { return lookup(k_ref, type); }

sm_from_float_fn sm_kern_quantizer_ref(int32_t type) {
    if (type < 0 || type >= SM_TYPE_COUNT) return NULL;
    return k_quantizer_ref[type];
}

size_t sm_kern_row_size(int32_t type, int64_t n) {
    const sm_type_traits *t = sm_kern_traits_ref(type);
    if (!t || n < 0 || n % t->block_size != 0) return 0;
    const uint64_t blocks = (uint64_t)(n / t->block_size);
    if (blocks > SIZE_MAX / (uint64_t)t->type_size) return 0;
    return (size_t)blocks * (size_t)t->type_size;
}
