/*
 * arch.h — the architecture table: what distinguishes one model family from another. Internal.
 *
 * The forward pass is one function for the whole llama family and its relatives; an architecture
 * is a row here (which per-layer tensors exist, how RoPE pairs dimensions, the FFN activation,
 * embedding scaling, extra norms) plus keys read from the file (soft-capping, sliding window).
 * Tensor names and keys are llama.cpp's GGUF conventions ("blk.%d.attn_q.weight").
 */
#ifndef SM_MODEL_ARCH_H
#define SM_MODEL_ARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "io/gguf.h"
#include "kern/ops.h"

typedef enum sm_arch_id {
    SM_ARCH_LLAMA = 0,
    SM_ARCH_QWEN2,
    SM_ARCH_QWEN3,
    SM_ARCH_PHI3,
    SM_ARCH_GEMMA2,
    SM_ARCH_COUNT
} sm_arch_id;

/* The per-layer tensors, by role. */
typedef enum sm_layer_tensor {
    SM_LT_ATTN_NORM, SM_LT_ATTN_Q, SM_LT_ATTN_K, SM_LT_ATTN_V, SM_LT_ATTN_QKV, SM_LT_ATTN_OUT,
    SM_LT_ATTN_Q_BIAS, SM_LT_ATTN_K_BIAS, SM_LT_ATTN_V_BIAS, SM_LT_ATTN_Q_NORM, SM_LT_ATTN_K_NORM,
    SM_LT_ATTN_POST_NORM, SM_LT_FFN_NORM, SM_LT_FFN_GATE, SM_LT_FFN_UP, SM_LT_FFN_GATE_UP,
    SM_LT_FFN_DOWN, SM_LT_FFN_POST_NORM,
    SM_LT_COUNT
} sm_layer_tensor;

/* A size a tensor dimension takes, resolved against the hyper-parameters at load time. */
typedef enum sm_dim {
    SM_DIM_NONE = 0, /* 1-D tensor: no second dimension */
    SM_DIM_EMBD,     /* n_embd */
    SM_DIM_Q,        /* n_head * head_dim */
    SM_DIM_KV,       /* n_head_kv * head_dim */
    SM_DIM_QKV,      /* n_head * head_dim + 2 * n_head_kv * head_dim (fused Q, K, V rows) */
    SM_DIM_FF,       /* n_ff */
    SM_DIM_FF2,      /* 2 * n_ff (fused gate and up rows) */
    SM_DIM_HEAD      /* head_dim */
} sm_dim;

typedef struct sm_layer_tensor_info {
    const char *name;  /* with one %d for the layer */
    sm_dim ne0, ne1;   /* GGUF ne[0] (row length / vector length), ne[1] (rows; NONE for vectors) */
    size_t field;      /* offsetof the sm_weight or const float * in sm_layer */
} sm_layer_tensor_info;

typedef enum sm_ffn_act {
    SM_FFN_SILU = 0, /* SwiGLU: silu(gate) * up */
    SM_FFN_GELU      /* GeGLU: gelu_tanh(gate) * up */
} sm_ffn_act;

typedef struct sm_arch {
    sm_arch_id id;
    const char *name;           /* general.architecture value, also the metadata key prefix */
    sm_rope_mode rope_mode;
    sm_ffn_act ffn_act;
    bool scale_embd;            /* embeddings times sqrt(n_embd) (Gemma) */
    bool swa_even_layers;       /* sliding-window attention on even layers when the file sets
                                   <arch>.attention.sliding_window (Gemma 2) */
    bool layer_tensor[SM_LT_COUNT]; /* which per-layer tensors this architecture has */
    bool layer_optional[SM_LT_COUNT]; /* of those, which a file may leave out (as llama.cpp allows) */
} sm_arch;

/* Returns the row for general.architecture == name, or NULL when unsupported. */
const sm_arch *sm_arch_find(sm_gguf_str name);

/* Writes the names of every supported architecture, comma-separated ("llama, qwen2, ..."), into
 * buf (truncated to cap, always NUL-terminated) for messages; returns buf. */
const char *sm_arch_supported_list(char *buf, size_t cap);

/* Shape and place of a per-layer tensor role. */
const sm_layer_tensor_info *sm_arch_layer_tensor(sm_layer_tensor t);

#endif
