/*
 * types.h — tensor element types and the dispatch table of their kernels. Internal.
 *
 * Type ids are GGUF's (ggml's) numbering, so a GGUF tensor's type field indexes this table
 * directly. Quantized types store blocks of `block_size` elements in `type_size` bytes (layouts
 * in quant.h). A weight row is dotted with an activation row that was first converted to the
 * weight type's `vec_dot_type` (Q8_0, Q8_1, Q8_K, F16, BF16 or F32), as llama.cpp's CPU backend
 * does, so integer SIMD can do the work and results stay close to llama.cpp's.
 */
#ifndef SM_KERN_TYPES_H
#define SM_KERN_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum sm_type {
    SM_TYPE_F32 = 0,
    SM_TYPE_F16 = 1,
    SM_TYPE_Q4_0 = 2,
    SM_TYPE_Q4_1 = 3,
    SM_TYPE_Q5_0 = 6,
    SM_TYPE_Q5_1 = 7,
    SM_TYPE_Q8_0 = 8,
    SM_TYPE_Q8_1 = 9,
    SM_TYPE_Q2_K = 10,
    SM_TYPE_Q3_K = 11,
    SM_TYPE_Q4_K = 12,
    SM_TYPE_Q5_K = 13,
    SM_TYPE_Q6_K = 14,
    SM_TYPE_Q8_K = 15,
    SM_TYPE_BF16 = 30,
    SM_TYPE_COUNT = 31 /* table size; ids in between are types this build does not know */
} sm_type;

/* y[0..n) = dequantize(x); n is a multiple of the block size. */
typedef void (*sm_to_float_fn)(const void *x, float *y, int64_t n);
/* y = quantize(x[0..n)); n is a multiple of the block size. Used for activations. */
typedef void (*sm_from_float_fn)(const float *x, void *y, int64_t n);
/* returns sum_i dequant(w)[i] * dequant(x)[i] over n elements; x is in the vec_dot_type. */
typedef float (*sm_vec_dot_fn)(int64_t n, const void *w, const void *x);

/* A tile of dots: y[t * ldy + r] = vec_dot(n, w + r * w_stride, x + t * x_stride) for r < n_rows,
 * t < n_tok (strides in bytes), equal bit for bit to the type's vec_dot on every pair, so a
 * prompt processed in tiles gives exactly what token-by-token decoding gives. Each weight block
 * is unpacked once for several tokens. */
typedef void (*sm_gemm_fn)(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                           size_t x_stride, int n_tok, float *y, int64_t ldy);

/* One activation row against many weight rows (decoding): y[r] = vec_dot(n, w + r * w_stride, x)
 * for r < n_rows, equal bit for bit to the type's vec_dot. The activation row is unpacked once per
 * call (widened to i16, scales converted) instead of once per weight row. Only for
 * n <= SM_GEMV_MAX_N (the unpacked row lives on the stack); longer rows use the vec_dot loop. */
enum { SM_GEMV_MAX_N = 16384 };
typedef void (*sm_gemv_fn)(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                           float *y);

typedef struct sm_type_traits {
    const char *name;          /* "Q4_K", as GGUF tools print it */
    int32_t block_size;        /* elements per block (1 for F32/F16/BF16) */
    int32_t type_size;         /* bytes per block */
    sm_type vec_dot_type;      /* activations are converted to this before vec_dot */
    sm_to_float_fn to_float;   /* NULL when the type cannot be dequantized */
    sm_from_float_fn from_float; /* set for types used as a vec_dot_type (and F32/F16/BF16) */
    sm_vec_dot_fn vec_dot;     /* set for types usable as weights */
    sm_gemm_fn gemm;           /* optional (NULL: matmul loops over vec_dot) */
    sm_gemv_fn gemv;           /* optional, for one token (NULL: the vec_dot loop) */
} sm_type_traits;

/* The kernels this build runs (SIMD128 where compiled with it, else the scalar reference).
 * Returns NULL for an id this build does not support. */
const sm_type_traits *sm_kern_traits(int32_t type);

/* The scalar reference kernels: the truth that the SIMD versions are tested against. */
const sm_type_traits *sm_kern_traits_ref(int32_t type);

/* Bytes needed for a row of n elements of `type`; 0 when n is not a multiple of the block size or
 * the type is unknown. */
size_t sm_kern_row_size(int32_t type, int64_t n);

#endif
