/*
 * arch.c — the architecture rows and llama.cpp's GGUF tensor names.
 * Names follow llama.cpp's gguf-py constants (tensor_mapping / MODEL_TENSOR names).
 */
#include "model/arch.h"

static const char *const layer_tensor_names[SM_LT_COUNT] = {
    [SM_LT_ATTN_NORM] = "blk.%d.attn_norm.weight",
    [SM_LT_ATTN_Q] = "blk.%d.attn_q.weight",
    [SM_LT_ATTN_K] = "blk.%d.attn_k.weight",
    [SM_LT_ATTN_V] = "blk.%d.attn_v.weight",
    [SM_LT_ATTN_OUT] = "blk.%d.attn_output.weight",
    [SM_LT_FFN_NORM] = "blk.%d.ffn_norm.weight",
    [SM_LT_FFN_GATE] = "blk.%d.ffn_gate.weight",
    [SM_LT_FFN_UP] = "blk.%d.ffn_up.weight",
    [SM_LT_FFN_DOWN] = "blk.%d.ffn_down.weight",
};

#define SM_ALL_LLAMA_TENSORS                                                                  \
    {[SM_LT_ATTN_NORM] = true, [SM_LT_ATTN_Q] = true, [SM_LT_ATTN_K] = true,                   \
     [SM_LT_ATTN_V] = true, [SM_LT_ATTN_OUT] = true, [SM_LT_FFN_NORM] = true,                 \
     [SM_LT_FFN_GATE] = true, [SM_LT_FFN_UP] = true, [SM_LT_FFN_DOWN] = true}

static const sm_arch arch_table[SM_ARCH_COUNT] = {
    [SM_ARCH_LLAMA] = {
        .id = SM_ARCH_LLAMA,
        .name = "llama",
        .rope_mode = SM_ROPE_NORM,
        .has_layer_tensor = SM_ALL_LLAMA_TENSORS,
    },
};

const sm_arch *sm_arch_find(sm_gguf_str name) {
    for (int i = 0; i < SM_ARCH_COUNT; i++)
        if (sm_gguf_str_eq(name, arch_table[i].name)) return &arch_table[i];
    return NULL;
}

const char *sm_arch_layer_tensor_name(sm_layer_tensor t) { return layer_tensor_names[t]; }
