/*
 * arch.c — the architecture rows and llama.cpp's GGUF tensor names and shapes.
 * Names follow llama.cpp's gguf-py constants (MODEL_TENSOR names); which tensors each family has
 * follows its published GGUF files (Llama/SmolLM/TinyLlama/Mistral, Qwen2/2.5, Qwen3, Phi-3/3.5,
 * Gemma 2).
 */
#include "model/arch.h"

#include <stdio.h>

#include "model/model.h"

#define LT(n, a, b, f) {.name = (n), .ne0 = (a), .ne1 = (b), .field = offsetof(sm_layer, f)}

static const sm_layer_tensor_info layer_tensors[SM_LT_COUNT] = {
    [SM_LT_ATTN_NORM] = LT("blk.%d.attn_norm.weight", SM_DIM_EMBD, SM_DIM_NONE, attn_norm),
    [SM_LT_ATTN_Q] = LT("blk.%d.attn_q.weight", SM_DIM_EMBD, SM_DIM_Q, wq),
    [SM_LT_ATTN_K] = LT("blk.%d.attn_k.weight", SM_DIM_EMBD, SM_DIM_KV, wk),
    [SM_LT_ATTN_V] = LT("blk.%d.attn_v.weight", SM_DIM_EMBD, SM_DIM_KV, wv),
    [SM_LT_ATTN_QKV] = LT("blk.%d.attn_qkv.weight", SM_DIM_EMBD, SM_DIM_QKV, wqkv),
    [SM_LT_ATTN_OUT] = LT("blk.%d.attn_output.weight", SM_DIM_Q, SM_DIM_EMBD, wo),
    [SM_LT_ATTN_Q_BIAS] = LT("blk.%d.attn_q.bias", SM_DIM_Q, SM_DIM_NONE, bq),
    [SM_LT_ATTN_K_BIAS] = LT("blk.%d.attn_k.bias", SM_DIM_KV, SM_DIM_NONE, bk),
    [SM_LT_ATTN_V_BIAS] = LT("blk.%d.attn_v.bias", SM_DIM_KV, SM_DIM_NONE, bv),
    [SM_LT_ATTN_Q_NORM] = LT("blk.%d.attn_q_norm.weight", SM_DIM_HEAD, SM_DIM_NONE, q_norm),
    [SM_LT_ATTN_K_NORM] = LT("blk.%d.attn_k_norm.weight", SM_DIM_HEAD, SM_DIM_NONE, k_norm),
    [SM_LT_ATTN_POST_NORM] = LT("blk.%d.post_attention_norm.weight", SM_DIM_EMBD, SM_DIM_NONE, attn_post_norm),
    [SM_LT_FFN_NORM] = LT("blk.%d.ffn_norm.weight", SM_DIM_EMBD, SM_DIM_NONE, ffn_norm),
    [SM_LT_FFN_GATE] = LT("blk.%d.ffn_gate.weight", SM_DIM_EMBD, SM_DIM_FF, w_gate),
    [SM_LT_FFN_UP] = LT("blk.%d.ffn_up.weight", SM_DIM_EMBD, SM_DIM_FF, w_up),
    [SM_LT_FFN_GATE_UP] = LT("blk.%d.ffn_up.weight", SM_DIM_EMBD, SM_DIM_FF2, w_gate_up),
    [SM_LT_FFN_DOWN] = LT("blk.%d.ffn_down.weight", SM_DIM_FF, SM_DIM_EMBD, w_down),
    [SM_LT_FFN_POST_NORM] = LT("blk.%d.post_ffw_norm.weight", SM_DIM_EMBD, SM_DIM_NONE, ffn_post_norm),
};

/* the llama block: separate Q/K/V, SwiGLU with separate gate and up */
#define LLAMA_TENSORS                                                                              \
    [SM_LT_ATTN_NORM] = true, [SM_LT_ATTN_Q] = true, [SM_LT_ATTN_K] = true, [SM_LT_ATTN_V] = true, \
    [SM_LT_ATTN_OUT] = true, [SM_LT_FFN_NORM] = true, [SM_LT_FFN_GATE] = true,                     \
    [SM_LT_FFN_UP] = true, [SM_LT_FFN_DOWN] = true

static const sm_arch arch_table[SM_ARCH_COUNT] = {
    [SM_ARCH_LLAMA] = {.id = SM_ARCH_LLAMA, .name = "llama", .rope_mode = SM_ROPE_NORM,
                       .layer_tensor = {LLAMA_TENSORS}},
    [SM_ARCH_QWEN2] = {.id = SM_ARCH_QWEN2, .name = "qwen2", .rope_mode = SM_ROPE_NEOX,
                       .layer_tensor = {LLAMA_TENSORS, [SM_LT_ATTN_Q_BIAS] = true,
                                        [SM_LT_ATTN_K_BIAS] = true, [SM_LT_ATTN_V_BIAS] = true},
                       .layer_optional = {[SM_LT_ATTN_Q_BIAS] = true, [SM_LT_ATTN_K_BIAS] = true,
                                          [SM_LT_ATTN_V_BIAS] = true}},
    [SM_ARCH_QWEN3] = {.id = SM_ARCH_QWEN3, .name = "qwen3", .rope_mode = SM_ROPE_NEOX,
                       .layer_tensor = {LLAMA_TENSORS, [SM_LT_ATTN_Q_NORM] = true,
                                        [SM_LT_ATTN_K_NORM] = true}},
    [SM_ARCH_PHI3] = {.id = SM_ARCH_PHI3, .name = "phi3", .rope_mode = SM_ROPE_NEOX,
                      .layer_tensor = {[SM_LT_ATTN_NORM] = true, [SM_LT_ATTN_QKV] = true,
                                       [SM_LT_ATTN_OUT] = true, [SM_LT_FFN_NORM] = true,
                                       [SM_LT_FFN_GATE_UP] = true, [SM_LT_FFN_DOWN] = true}},
    [SM_ARCH_GEMMA2] = {.id = SM_ARCH_GEMMA2, .name = "gemma2", .rope_mode = SM_ROPE_NEOX,
                        .ffn_act = SM_FFN_GELU, .scale_embd = true, .swa_even_layers = true,
                        .layer_tensor = {LLAMA_TENSORS, [SM_LT_ATTN_POST_NORM] = true,
                                         [SM_LT_FFN_POST_NORM] = true}},
};

const sm_arch *sm_arch_find(sm_gguf_str name) {
    for (int i = 0; i < SM_ARCH_COUNT; i++)
        if (sm_gguf_str_eq(name, arch_table[i].name)) return &arch_table[i];
    return NULL;
}

const char *sm_arch_supported_list(char *buf, size_t cap) {
    size_t n = 0;
    if (cap) buf[0] = '\0';
    for (int i = 0; i < SM_ARCH_COUNT && n < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", arch_table[i].name);
        if (w < 0) break;
        n += (size_t)w;
    }
    return buf;
}

const sm_layer_tensor_info *sm_arch_layer_tensor(sm_layer_tensor t) { return &layer_tensors[t]; }
