/*
 * matmul.c — quantized-weight matrix multiplication over a token batch (see matmul.h).
 * Blocks of output rows are visited in the outer loop so a weight row is read from memory once
 * per batch rather than once per token: that is what makes batched prompt processing pay off.
 * Types with a gemm kernel (types.h) process a batch in tiles of rows x tokens, unpacking each
 * weight block once per tile; it equals the vec_dot loop bit for bit, so prefill and token-by-token
 * decoding give identical logits and the thread count still does not matter. Types with a gemv
 * kernel decode (one token) through it: the activation row is unpacked once per call, not per row.
 */
#include "kern/matmul.h"

void sm_kern_convert_rows(int32_t type, const float *x, void *xq, int64_t n, int t0, int t1) {
    const sm_type_traits *tr = sm_kern_traits(type);
    const size_t row = sm_kern_row_size(type, n);
    for (int64_t t = t0; t < t1; t++) tr->from_float(x + t * n, (uint8_t *)xq + t * row, n);
}

void sm_kern_matmul_rows(const sm_weight *w, const void *xq, int n_tok, float *y, int64_t ldy,
                         int64_t lo, int64_t hi) {
    const sm_vec_dot_fn dot = w->traits->vec_dot;
    const sm_gemm_fn gemm = w->traits->gemm;
    const size_t xq_row = sm_kern_row_size(w->traits->vec_dot_type, w->n_in);
    if (n_tok == 1 && w->traits->gemv && w->n_in <= SM_GEMV_MAX_N && hi > lo) {
        /* decoding: the activation row unpacked once for all the rows (bit-identical too) */
        w->traits->gemv(w->n_in, w->data + (size_t)lo * w->row_bytes, w->row_bytes, (int)(hi - lo),
                        xq, y + lo);
        return;
    }
    for (int64_t r0 = lo; r0 < hi; r0 += SM_MATMUL_ROW_BLOCK) {
        const int64_t r1 = r0 + SM_MATMUL_ROW_BLOCK < hi ? r0 + SM_MATMUL_ROW_BLOCK : hi;
        if (gemm && n_tok > 1) { /* tiles: bit-identical to the vec_dot loop below */
            gemm(w->n_in, w->data + (size_t)r0 * w->row_bytes, w->row_bytes, (int)(r1 - r0), xq,
                 xq_row, n_tok, y + r0, ldy);
            continue;
        }
        for (int t = 0; t < n_tok; t++) {
            const uint8_t *xt = (const uint8_t *)xq + (size_t)t * xq_row;
            float *yt = y + (int64_t)t * ldy;
            for (int64_t r = r0; r < r1; r++)
                yt[r] = dot(w->n_in, w->data + (size_t)r * w->row_bytes, xt);
        }
    }
}
