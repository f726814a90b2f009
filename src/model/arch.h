/*
 * arch.h — the architecture table: what distinguishes one model family from another. Internal.
 *
 * The forward pass is one function for the whole llama family; an architecture is a row here
 * (how RoPE pairs dimensions, which optional tensors exist, how embeddings are scaled) plus at
 * most a small function. Tensor names are llama.cpp's GGUF names ("blk.%d.attn_q.weight").
 */
#ifndef SM_MODEL_ARCH_H
#define SM_MODEL_ARCH_H

#include <stdbool.h>

#include "io/gguf.h"
#include "kern/ops.h"

typedef enum sm_arch_id {
    SM_ARCH_LLAMA = 0,
    SM_ARCH_COUNT
} sm_arch_id;

/* The per-layer weights, by role. */
typedef enum sm_layer_tensor {
    SM_LT_ATTN_NORM, SM_LT_ATTN_Q, SM_LT_ATTN_K, SM_LT_ATTN_V, SM_LT_ATTN_OUT,
    SM_LT_FFN_NORM, SM_LT_FFN_GATE, SM_LT_FFN_UP, SM_LT_FFN_DOWN,
    SM_LT_COUNT
} sm_layer_tensor;

typedef struct sm_arch {
    sm_arch_id id;
    const char *name;           /* general.architecture value, also the metadata key prefix */
    sm_rope_mode rope_mode;
    bool has_layer_tensor[SM_LT_COUNT];
} sm_arch;

/* Returns the row for general.architecture == name, or NULL when unsupported. */
const sm_arch *sm_arch_find(sm_gguf_str name);

/* The GGUF name pattern of a per-layer tensor, with one %d for the layer ("blk.%d.attn_q.weight"). */
const char *sm_arch_layer_tensor_name(sm_layer_tensor t);

#endif
