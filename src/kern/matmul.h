/*
 * matmul.h — weight matrix times a batch of activation rows. Internal.
 *
 * Dimension legend: n_in = weight row length (GGUF ne[0]), n_out = rows (ne[1]), n_tok = batch.
 * Weights stay in their stored (quantized) type; activations are first converted to the weight
 * type's vec_dot_type (sm_kern_convert_rows), then threads take runs of output rows (forward.c)
 * and compute them for every token (a weight row is reused across the batch while in cache).
 */
#ifndef SM_KERN_MATMUL_H
#define SM_KERN_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "kern/types.h"

/* A 2-D weight view into the model file. */
typedef struct sm_weight {
    const uint8_t *data;            /* [n_out] rows of row_bytes each */
    const sm_type_traits *traits;   /* kernels for the stored type */
    int32_t type;
    int64_t n_in, n_out;
    size_t row_bytes;
} sm_weight;

/* xq[t] = convert(x[t]) to `type` for t in [t0, t1).
 * x: [n_tok][n] f32; xq: [n_tok] rows of sm_kern_row_size(type, n) bytes. */
void sm_kern_convert_rows(int32_t type, const float *x, void *xq, int64_t n, int t0, int t1);

/* y[t][o] = W[o,:] @ x[t,:] for o in [lo, hi), t in [0, n_tok), in blocks of SM_MATMUL_ROW_BLOCK
 * rows. xq: activations already converted to W's vec_dot_type; y: [n_tok][ldy] f32. A row's result
 * does not depend on which call computes it, so threads may take rows in any order. */
enum { SM_MATMUL_ROW_BLOCK = 16 };
void sm_kern_matmul_rows(const sm_weight *w, const void *xq, int n_tok, float *y, int64_t ldy,
                         int64_t lo, int64_t hi);

#endif
