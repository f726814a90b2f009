/*
 * model.h — a loaded model: hyper-parameters and weight views bound by architecture. Internal.
 *
 * Dimension legend (used across src/model and src/session):
 *   n_embd   model width              n_vocab  vocabulary size
 *   n_head   query heads              n_head_kv key/value heads (GQA: n_head % n_head_kv == 0)
 *   head_dim per-head width           n_rot    dims of a head that RoPE rotates (<= head_dim)
 *   n_ff     FFN hidden width         n_layer  transformer blocks
 * Weights are views into the caller's file buffer; only 1-D vectors (norm weights, RoPE factors)
 * are converted to owned f32 copies, which are tiny.
 */
#ifndef SM_MODEL_MODEL_H
#define SM_MODEL_MODEL_H

#include <stdatomic.h>

#include "io/gguf.h"
#include "kern/matmul.h"
#include "kern/types.h"
#include "model/arch.h"
#include "sm.h"

typedef struct sm_hparams {
    int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_rot, n_ff;
    float norm_eps;      /* RMSNorm epsilon */
    float rope_base;     /* rope.freq_base */
    float rope_scale;    /* position multiplier: 1 / rope.scaling.factor for linear scaling */
    float rope_attn_factor; /* multiplies cos/sin (LongRoPE's attention factor); 1 = none */
    int32_t n_ctx_orig;  /* rope.scaling.original_context_length: picks LongRoPE's factor set */
    float attn_softcap;  /* attention scores -> c * tanh(s / c); 0 = off (Gemma 2) */
    float final_softcap; /* logits -> c * tanh(l / c); 0 = off (Gemma 2) */
    int32_t n_swa;       /* sliding window on the layers the arch names; 0 = full attention */
} sm_hparams;

/* Shapes use n_q = n_head * head_dim and n_kv = n_head_kv * head_dim. A layer has either
 * wq/wk/wv or the fused wqkv, and either w_gate/w_up or the fused w_gate_up; optional vectors
 * are NULL when the architecture has none. */
typedef struct sm_layer {
    const float *attn_norm;   /* [n_embd] */
    sm_weight wq;             /* [n_q, n_embd] (n_out, n_in) */
    sm_weight wk;             /* [n_kv, n_embd] */
    sm_weight wv;             /* [n_kv, n_embd] */
    sm_weight wqkv;           /* [n_q + 2 n_kv, n_embd]: rows of Q, then K, then V (Phi-3) */
    const float *bq, *bk, *bv; /* [n_q], [n_kv], [n_kv] biases (Qwen2) */
    const float *q_norm, *k_norm; /* [head_dim] per-head RMSNorm of Q and K (Qwen3) */
    sm_weight wo;             /* [n_embd, n_q] */
    const float *attn_post_norm; /* [n_embd] norm of the attention output (Gemma 2) */
    const float *ffn_norm;    /* [n_embd] */
    sm_weight w_gate;         /* [n_ff, n_embd] */
    sm_weight w_up;           /* [n_ff, n_embd] */
    sm_weight w_gate_up;      /* [2 n_ff, n_embd]: gate rows, then up rows (Phi-3) */
    sm_weight w_down;         /* [n_embd, n_ff] */
    const float *ffn_post_norm; /* [n_embd] (Gemma 2) */
} sm_layer;

struct sm_model {
    sm_gguf gguf;             /* parsed file: views into the caller's buffer */
    const sm_arch *arch;
    sm_hparams hp;
    sm_weight tok_embd;       /* [n_vocab, n_embd]: rows are embeddings */
    const float *output_norm; /* [n_embd] */
    sm_weight output;         /* [n_vocab, n_embd]; the same view as tok_embd when tied */
    const float *rope_freqs;  /* [n_rot / 2] divisors of RoPE frequencies, or NULL */
    const float *rope_freqs_long; /* [n_rot / 2] LongRoPE divisors past n_ctx_orig, or NULL */
    sm_layer *layers;         /* [n_layer] */
    float *vectors;           /* owned f32 storage behind the 1-D pointers above */
    struct sm_tokenizer *tokenizer; /* built from the file's tokenizer.* metadata; NULL without it */
    int32_t bos_token, eos_token, eot_token;
    char name[128];
    uint64_t n_params, weight_bytes;
    uint64_t file_bytes;      /* the file's size, or the sum of its parts' */
    int32_t n_parts;          /* 1, or the parts of a gguf-split model */
    int32_t n_weight_types;
    sm_weight_type_info weight_types[SM_TYPE_COUNT]; /* [n_weight_types] by ascending type id */
    atomic_int n_sessions;    /* sm_model_free refuses while > 0 */
};

#endif
