/*
 * forward.h — the transformer forward pass over a batch of tokens, with its KV cache. Internal.
 *
 * One sm_fwd holds everything a pass writes: the KV cache and the activation scratch for up to
 * n_batch tokens, all allocated by sm_fwd_init so a pass never allocates. Dimension legend in
 * model/model.h; n_q = n_head * head_dim, n_kv = n_head_kv * head_dim.
 */
#ifndef SM_MODEL_FORWARD_H
#define SM_MODEL_FORWARD_H

#include <stdatomic.h>

#include "kern/attn.h"
#include "model/model.h"
#include "util/pool.h"

typedef struct sm_fwd {
    int32_t n_ctx, n_batch;
    void *k_cache;      /* [n_layer][n_ctx][n_kv] kv->type (F16 or F32), rotated keys */
    void *v_cache;      /* [n_layer][n_ctx][n_kv] kv->type */
    const sm_attn_kernels *kv; /* the cache's element type and its attention loops */
    float *x;           /* [n_batch][n_embd] residual stream */
    float *xb;          /* [n_batch][max(n_embd, n_q)] normed input, then attention output */
    float *q;           /* [n_batch][n_q] */
    float *k, *v;       /* [n_batch][n_kv] */
    float *gate, *up;   /* [n_batch][n_ff]; gate then holds SwiGLU(gate, up) */
    float *out;         /* [n_batch][n_embd] output of a block before it joins the residual */
    float *wide;        /* [n_batch][max(n_q + 2 n_kv, 2 n_ff)] fused projections before the split */
    float *scores;      /* [n_threads][n_ctx] attention weights, one row per thread */
    float (*rope)[2];   /* [n_batch][n_rot / 2] cos/sin per token */
    void *xq;           /* [n_batch] activation rows converted to a vec_dot_type */
    int32_t n_threads;
    int64_t min_parallel_work; /* regions with less work run on the caller (sm_session_params) */
} sm_fwd;

/* sm_fwd.min_parallel_work unless the session asks otherwise (see forward.c run_region) */
enum { SM_FWD_MIN_PARALLEL_WORK = 1 << 18 };

/* Allocates the cache (elements of kv_type: SM_TYPE_F16 or SM_TYPE_F32) and scratch. On failure
 * frees what it took and sets err. */
sm_status sm_fwd_init(sm_fwd *f, const sm_model *m, int32_t n_ctx, int32_t n_batch,
                      int32_t n_threads, int32_t kv_type, sm_error *err);

/* Bytes sm_fwd_init would allocate: the KV cache, and everything else (scratch). */
void sm_fwd_bytes(const sm_hparams *hp, int32_t n_ctx, int32_t n_batch, int32_t n_threads,
                  int32_t kv_type, uint64_t *kv_cache, uint64_t *scratch);

/* Frees the buffers and zeroes *f. NULL-safe. */
void sm_fwd_free(sm_fwd *f);

/*
 * Runs tokens[0..n_tok) at positions pos0.. (n_tok <= n_batch, pos0 + n_tok <= n_ctx) and, when
 * `logits` is non-NULL, writes the last token's logits [n_vocab]. Keys and values of these
 * positions are stored in the cache. Returns SM_ERR_CANCELLED if *cancel is set between layers.
 */
sm_status sm_fwd_run(sm_fwd *f, const sm_model *m, sm_pool *pool, const int32_t *tokens, int n_tok,
                     int32_t pos0, float *logits, const atomic_int *cancel);

#endif
