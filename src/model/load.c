/*
 * load.c — sm_model_load_from_parts/_memory: GGUF (one file or gguf-split parts) or SMND →
 * hyper-parameters → weights bound by role; sm_model_probe_header, the same checks on the first
 * bytes of a download.
 *
 * Keys follow llama.cpp's GGUF conventions ("<arch>.embedding_length", ...). Every tensor the
 * architecture needs must exist with exactly the expected shape and a type this build can run;
 * otherwise the load fails naming the tensor. Extra tensors are ignored. The probe runs what needs
 * no tensor data: architecture, hyper-parameters, tensor types (ranges are the GGUF reader's).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/smnd.h"
#include "kern/types.h"
#include "model/model.h"
#include "tok/tokenizer.h"
#include "util/error.h"

/* Reads "<arch>.<suffix>" as a positive int32; `required` decides whether absence is an error. */
static sm_status get_arch_i32(const sm_gguf *g, const sm_arch *a, const char *suffix, bool required,
                              int32_t *out, sm_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", a->name, suffix);
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    if (!kv) {
        if (required) return sm_err(err, SM_ERR_FORMAT, "missing required key '%s'", key);
        return SM_OK;
    }
    if (!sm_gguf_get_i32(g, key, out))
        return sm_err(err, SM_ERR_FORMAT, "key '%s' must be an integer in int32 range", key);
    if (*out <= 0) return sm_err(err, SM_ERR_FORMAT, "key '%s' must be positive, got %d", key, *out);
    return SM_OK;
}

static void get_arch_f32(const sm_gguf *g, const sm_arch *a, const char *suffix, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", a->name, suffix);
    sm_gguf_get_f32(g, key, out);
}

static sm_status read_rope_scaling(const sm_gguf *g, const sm_arch *a, sm_hparams *hp,
                                   sm_error *err) {
    char key[128];
    sm_gguf_str type = {0};
    snprintf(key, sizeof key, "%s.rope.scaling.type", a->name);
    bool has_type = sm_gguf_get_str(g, key, &type);
    float factor = 0.0f;
    get_arch_f32(g, a, "rope.scaling.factor", &factor);
    hp->rope_scale = 1.0f;
    /* LongRoPE (Phi-3): the scaling lives in rope_factors_long/short tensors */
    if (!has_type || sm_gguf_str_eq(type, "none") || sm_gguf_str_eq(type, "longrope") ||
        sm_gguf_str_eq(type, "su"))
        return SM_OK;
    if (!sm_gguf_str_eq(type, "linear"))
        return sm_err(err, SM_ERR_UNSUPPORTED, "rope scaling type '%.*s' is not supported",
                      (int)(type.len > 32 ? 32 : type.len), type.ptr);
    if (!(factor > 0.0f) || !isfinite(factor))
        return sm_err(err, SM_ERR_FORMAT, "linear rope scaling needs a positive '%s.rope.scaling.factor'",
                      a->name);
    hp->rope_scale = 1.0f / factor;
    return SM_OK;
}

/* Keys only some families set: soft-capping and sliding windows (Gemma 2), LongRoPE's original
 * context and attention factor (Phi-3). Absent keys leave the feature off. */
static sm_status read_extras(const sm_gguf *g, const sm_arch *a, sm_hparams *hp, sm_error *err) {
    hp->rope_attn_factor = 1.0f;
    get_arch_f32(g, a, "rope.scaling.attn_factor", &hp->rope_attn_factor);
    get_arch_f32(g, a, "attn_logit_softcapping", &hp->attn_softcap);
    get_arch_f32(g, a, "final_logit_softcapping", &hp->final_softcap);
    sm_status st = get_arch_i32(g, a, "rope.scaling.original_context_length", false, &hp->n_ctx_orig, err);
    if (st == SM_OK && a->swa_even_layers)
        st = get_arch_i32(g, a, "attention.sliding_window", false, &hp->n_swa, err);
    if (st != SM_OK) return st;
    if (!(hp->rope_attn_factor > 0.0f) || !(hp->attn_softcap >= 0.0f) || !(hp->final_softcap >= 0.0f))
        return sm_err(err, SM_ERR_FORMAT, "rope attn_factor must be positive and soft-capping values "
                      "not negative");
    return read_rope_scaling(g, a, hp, err);
}

/* The row for general.architecture; *out NULL (and SM_OK) when the key is absent. */
static sm_status find_arch(const sm_gguf *g, const sm_arch **out, sm_error *err) {
    *out = NULL;
    const sm_gguf_kv *kv = sm_gguf_find(g, "general.architecture");
    if (!kv) return SM_OK;
    if (kv->type != SM_GGUF_STRING) {
        return sm_err(err, SM_ERR_FORMAT, "key 'general.architecture' has type %s; must be STRING",
                      sm_gguf_vtype_name(kv->type));
    }
    if ((*out = sm_arch_find(kv->v.str)) != NULL) return SM_OK;
    char name[64], names[128];
    return sm_err(err, SM_ERR_UNSUPPORTED, "architecture '%s' is not supported (supported: %s)",
                  sm_gguf_str_show(name, sizeof name, kv->v.str),
                  sm_arch_supported_list(names, sizeof names));
}

static sm_status read_hparams(const sm_gguf *g, const sm_arch *a, sm_hparams *hp, sm_error *err) {
    sm_status st;
    memset(hp, 0, sizeof *hp);
    if ((st = get_arch_i32(g, a, "context_length", true, &hp->n_ctx_train, err)) ||
        (st = get_arch_i32(g, a, "embedding_length", true, &hp->n_embd, err)) ||
        (st = get_arch_i32(g, a, "block_count", true, &hp->n_layer, err)) ||
        (st = get_arch_i32(g, a, "feed_forward_length", true, &hp->n_ff, err)) ||
        (st = get_arch_i32(g, a, "attention.head_count", true, &hp->n_head, err)))
        return st;
    hp->n_head_kv = hp->n_head;
    if ((st = get_arch_i32(g, a, "attention.head_count_kv", false, &hp->n_head_kv, err))) return st;
    if (hp->n_head % hp->n_head_kv != 0)
        return sm_err(err, SM_ERR_FORMAT, "head_count %d is not a multiple of head_count_kv %d",
                      hp->n_head, hp->n_head_kv);
    /* head size: attention.key_length when the file gives it (head size != n_embd / n_head) */
    hp->head_dim = 0;
    if ((st = get_arch_i32(g, a, "attention.key_length", false, &hp->head_dim, err))) return st;
    if (hp->head_dim == 0) {
        if (hp->n_embd % hp->n_head != 0)
            return sm_err(err, SM_ERR_FORMAT, "embedding_length %d is not divisible into %d heads",
                          hp->n_embd, hp->n_head);
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    int32_t v_len = hp->head_dim;
    if ((st = get_arch_i32(g, a, "attention.value_length", false, &v_len, err))) return st;
    if (v_len != hp->head_dim)
        return sm_err(err, SM_ERR_UNSUPPORTED, "value_length %d differs from key_length %d", v_len,
                      hp->head_dim);
    hp->n_rot = hp->head_dim;
    if ((st = get_arch_i32(g, a, "rope.dimension_count", false, &hp->n_rot, err))) return st;
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0)
        return sm_err(err, SM_ERR_FORMAT, "rope.dimension_count %d must be even and <= head size %d",
                      hp->n_rot, hp->head_dim);
    hp->norm_eps = 1e-5f;
    get_arch_f32(g, a, "attention.layer_norm_rms_epsilon", &hp->norm_eps);
    hp->rope_base = 10000.0f;
    get_arch_f32(g, a, "rope.freq_base", &hp->rope_base);
    if (!(hp->norm_eps >= 0.0f) || !(hp->rope_base > 0.0f))
        return sm_err(err, SM_ERR_FORMAT, "layer_norm_rms_epsilon and rope.freq_base must be positive");
    return read_extras(g, a, hp, err);
}

/* Binds a 2-D weight named `name` that must have shape [n_in, n_out]. */
static sm_status bind_matrix(sm_model *m, const char *name, int64_t n_in, int64_t n_out,
                             sm_weight *w, sm_error *err) {
    const sm_gguf_tensor *t = sm_gguf_find_tensor(&m->gguf, name);
    if (!t) return sm_err(err, SM_ERR_FORMAT, "missing tensor '%s'", name);
    if (t->n_dims > 2 || t->ne[0] != n_in || t->ne[1] != n_out)
        return sm_err(err, SM_ERR_FORMAT,
                      "tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]", name,
                      (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                      (long long)t->ne[3], (long long)n_in, (long long)n_out);
    const sm_type_traits *tr = sm_kern_traits(t->type);
    if (!tr || !tr->vec_dot || !tr->to_float)
        return sm_err(err, SM_ERR_UNSUPPORTED, "tensor '%s' has type %s (id %d), which this build cannot run",
                      name, tr ? tr->name : "unknown", t->type);
    *w = (sm_weight){.data = t->data, .traits = tr, .type = t->type, .n_in = n_in, .n_out = n_out,
                     .row_bytes = sm_kern_row_size(t->type, n_in)};
    return SM_OK;
}

/* Converts a 1-D tensor of n elements to f32 at *next (advanced), pointing *out at it. */
static sm_status bind_vector(sm_model *m, const char *name, int64_t n, float **next,
                             const float **out, sm_error *err) {
    const sm_gguf_tensor *t = sm_gguf_find_tensor(&m->gguf, name);
    if (!t) return sm_err(err, SM_ERR_FORMAT, "missing tensor '%s'", name);
    if (t->n_dims != 1 || t->ne[0] != n)
        return sm_err(err, SM_ERR_FORMAT, "tensor '%s' has %u dims and %lld elements, expected [%lld]",
                      name, t->n_dims, (long long)t->ne[0], (long long)n);
    const sm_type_traits *tr = sm_kern_traits(t->type);
    if (!tr || !tr->to_float)
        return sm_err(err, SM_ERR_UNSUPPORTED, "tensor '%s' has type id %d, which this build cannot read",
                      name, t->type);
    tr->to_float(t->data, *next, n);
    *out = *next;
    *next += n;
    return SM_OK;
}

/* The size a dimension kind takes for this model. */
static int64_t dim_size(const sm_hparams *hp, sm_dim d) {
    const int64_t n_q = (int64_t)hp->n_head * hp->head_dim, n_kv = (int64_t)hp->n_head_kv * hp->head_dim;
    switch (d) {
    case SM_DIM_NONE: return 1;
    case SM_DIM_EMBD: return hp->n_embd;
    case SM_DIM_Q: return n_q;
    case SM_DIM_KV: return n_kv;
    case SM_DIM_QKV: return n_q + 2 * n_kv;
    case SM_DIM_FF: return hp->n_ff;
    case SM_DIM_FF2: return 2 * (int64_t)hp->n_ff;
    case SM_DIM_HEAD: return hp->head_dim;
    }
    return 0;
}

/* Binds every tensor role of layer il that the architecture has: matrices as views, vectors as
 * f32 copies at *next (NULL next: matrices only, vectors are bound in a second pass). */
static sm_status bind_layer(sm_model *m, int il, float **next, sm_error *err) {
    char name[96];
    for (int r = 0; r < SM_LT_COUNT; r++) {
        if (!m->arch->layer_tensor[r]) continue;
        const sm_layer_tensor_info *ti = sm_arch_layer_tensor((sm_layer_tensor)r);
        const bool is_vector = ti->ne1 == SM_DIM_NONE;
        if (is_vector != (next != NULL)) continue;
        snprintf(name, sizeof name, ti->name, il);
        if (m->arch->layer_optional[r] && !sm_gguf_find_tensor(&m->gguf, name)) continue;
        char *field = (char *)&m->layers[il] + ti->field;
        sm_status st = is_vector
            ? bind_vector(m, name, dim_size(&m->hp, ti->ne0), next, (const float **)(void *)field, err)
            : bind_matrix(m, name, dim_size(&m->hp, ti->ne0), dim_size(&m->hp, ti->ne1),
                          (sm_weight *)(void *)field, err);
        if (st) return st;
    }
    return SM_OK;
}

/* Floats the owned vectors need: every 1-D layer tensor, the output norm, RoPE factor tables. */
static size_t vector_floats(const sm_model *m, int n_freq_tables) {
    size_t per_layer = 0;
    for (int r = 0; r < SM_LT_COUNT; r++) {
        const sm_layer_tensor_info *ti = sm_arch_layer_tensor((sm_layer_tensor)r);
        if (m->arch->layer_tensor[r] && ti->ne1 == SM_DIM_NONE) per_layer += (size_t)dim_size(&m->hp, ti->ne0);
    }
    return per_layer * (size_t)m->hp.n_layer + (size_t)m->hp.n_embd +
           (size_t)n_freq_tables * (size_t)(m->hp.n_rot / 2);
}

/* RoPE frequency divisors: Llama 3's rope_freqs, or Phi-3's LongRoPE short/long pair (short up
 * to the original context, long beyond; the session picks by its context length). */
static sm_status bind_rope_factors(sm_model *m, float **next, sm_error *err) {
    const int n = m->hp.n_rot / 2;
    sm_status st = SM_OK;
    if (sm_gguf_find_tensor(&m->gguf, "rope_freqs.weight"))
        st = bind_vector(m, "rope_freqs.weight", n, next, &m->rope_freqs, err);
    else if (sm_gguf_find_tensor(&m->gguf, "rope_factors_short.weight"))
        st = bind_vector(m, "rope_factors_short.weight", n, next, &m->rope_freqs, err);
    if (st == SM_OK && sm_gguf_find_tensor(&m->gguf, "rope_factors_long.weight"))
        st = bind_vector(m, "rope_factors_long.weight", n, next, &m->rope_freqs_long, err);
    return st;
}

/* Binds every weight. Sizes allocated here come from hyper-parameters, which are only trusted
 * once the file's matrices have confirmed them: a file claiming 2^30 layers must fail on the
 * tensor count, not on a huge allocation. */
static sm_status bind_weights(sm_model *m, sm_error *err) {
    sm_hparams *hp = &m->hp;
    uint64_t per_layer = 0;
    for (int r = 0; r < SM_LT_COUNT; r++)
        per_layer += m->arch->layer_tensor[r] && !m->arch->layer_optional[r];
    if ((uint64_t)hp->n_layer * per_layer > m->gguf.n_tensors)
        return sm_err(err, SM_ERR_FORMAT, "block_count %d needs at least %llu tensors, the file has %llu",
                      hp->n_layer, (unsigned long long)(hp->n_layer * per_layer),
                      (unsigned long long)m->gguf.n_tensors);
    const sm_gguf_tensor *emb = sm_gguf_find_tensor(&m->gguf, "token_embd.weight");
    if (!emb) return sm_err(err, SM_ERR_FORMAT, "missing tensor 'token_embd.weight'");
    if (emb->ne[1] <= 0 || emb->ne[1] > INT32_MAX)
        return sm_err(err, SM_ERR_FORMAT, "tensor 'token_embd.weight' has an invalid vocabulary size");
    hp->n_vocab = (int32_t)emb->ne[1];
    sm_status st = bind_matrix(m, "token_embd.weight", hp->n_embd, hp->n_vocab, &m->tok_embd, err);
    if (st) return st;
    if (sm_gguf_find_tensor(&m->gguf, "output.weight")) {
        if ((st = bind_matrix(m, "output.weight", hp->n_embd, hp->n_vocab, &m->output, err))) return st;
    } else {
        m->output = m->tok_embd; /* tied embeddings */
    }
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return sm_err(err, SM_ERR_NOMEM, "out of memory binding weights");
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = bind_layer(m, il, NULL, err))) return st;
    const int n_tables = (sm_gguf_find_tensor(&m->gguf, "rope_freqs.weight") != NULL) +
                         (sm_gguf_find_tensor(&m->gguf, "rope_factors_short.weight") != NULL) +
                         (sm_gguf_find_tensor(&m->gguf, "rope_factors_long.weight") != NULL);
    m->vectors = malloc(vector_floats(m, n_tables) * sizeof(float));
    if (!m->vectors) return sm_err(err, SM_ERR_NOMEM, "out of memory binding weights");
    float *next = m->vectors;
    if ((st = bind_vector(m, "output_norm.weight", hp->n_embd, &next, &m->output_norm, err))) return st;
    if ((st = bind_rope_factors(m, &next, err))) return st;
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = bind_layer(m, il, &next, err))) return st;
    return SM_OK;
}

static void read_vocab_facts(sm_model *m) {
    const sm_gguf *g = &m->gguf;
    m->bos_token = m->eos_token = m->eot_token = -1;
    int32_t id;
    if (sm_gguf_get_i32(g, "tokenizer.ggml.bos_token_id", &id) && id >= 0 && id < m->hp.n_vocab) m->bos_token = id;
    if (sm_gguf_get_i32(g, "tokenizer.ggml.eos_token_id", &id) && id >= 0 && id < m->hp.n_vocab) m->eos_token = id;
    if (sm_gguf_get_i32(g, "tokenizer.ggml.eot_token_id", &id) && id >= 0 && id < m->hp.n_vocab) m->eot_token = id;
    sm_gguf_str name;
    if (sm_gguf_get_str(g, "general.name", &name)) {
        size_t n = name.len < sizeof m->name - 1 ? (size_t)name.len : sizeof m->name - 1;
        memcpy(m->name, name.ptr, n);
        m->name[n] = '\0';
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sm_gguf_tensor *t = &g->tensors[i];
        m->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        m->weight_bytes += t->n_bytes;
    }
}

/* A model file's tokenizer is optional (test models may have none), but when tokenizer.ggml.model
 * is present it must be valid and agree with the embedding table. */
static sm_status load_tokenizer(sm_model *m, sm_error *err) {
    if (!sm_gguf_find(&m->gguf, "tokenizer.ggml.model")) return SM_OK;
    m->tokenizer = calloc(1, sizeof *m->tokenizer);
    if (!m->tokenizer) return sm_err(err, SM_ERR_NOMEM, "out of memory for the tokenizer");
    sm_status st = sm_tokenizer_init(m->tokenizer, &m->gguf, err);
    if (st != SM_OK) {
        free(m->tokenizer);
        m->tokenizer = NULL;
        return st;
    }
    if (m->tokenizer->n_tokens > m->hp.n_vocab)
        return sm_err(err, SM_ERR_CORRUPT, "the tokenizer has %d tokens but token_embd.weight has %d rows",
                      m->tokenizer->n_tokens, m->hp.n_vocab);
    return SM_OK;
}

const sm_tokenizer *sm_model_tokenizer(const sm_model *m) { return m ? m->tokenizer : NULL; }

sm_model_params sm_model_default_params(void) { return (sm_model_params){0}; }

/* Tensors and bytes per weight type, for sm_model_get_file_info. */
static void count_weight_types(sm_model *m) {
    sm_weight_type_info *by_type = m->weight_types;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
        const sm_gguf_tensor *t = &m->gguf.tensors[i];
        if (t->type < 0 || t->type >= SM_TYPE_COUNT) continue; /* the reader sized it: cannot be */
        by_type[t->type].n_tensors++;
        by_type[t->type].n_bytes += t->n_bytes; /* the sum is within the parts' bytes */
    }
    int32_t n = 0;
    for (int32_t type = 0; type < SM_TYPE_COUNT; type++) {
        if (by_type[type].n_tensors == 0) continue;
        const sm_type_traits *tr = sm_kern_traits_ref(type);
        by_type[n] = by_type[type];
        by_type[n].type = type;
        by_type[n].name = tr ? tr->name : "?";
        n++;
    }
    for (int32_t k = n; k < SM_TYPE_COUNT; k++) by_type[k] = (sm_weight_type_info){0};
    m->n_weight_types = n;
}

/* An SMND file (docs/SMND.md) becomes the same table a GGUF gives; SMND files are never split. */
static sm_status parse_file(const void *const *parts, const size_t *sizes, int32_t n_parts,
                            sm_gguf *g, sm_error *err) {
    for (int32_t i = 0; i < n_parts; i++) {
        if (!sm_smnd_sniff(parts[i], sizes[i])) continue;
        if (n_parts == 1) return sm_smnd_parse(parts[0], sizes[0], g, err);
        return sm_err(err, SM_ERR_INVALID_ARG, "part %d of %d is an SMND file; SMND models are "
                      "single files, not split parts", (int)i + 1, (int)n_parts);
    }
    return sm_gguf_parse_parts(parts, sizes, n_parts, g, err);
}

sm_status sm_model_load_from_parts(const void *const *parts, const size_t *sizes, int32_t n_parts,
                                   const sm_model_params *params, sm_model **out, sm_error *err) {
    (void)params;
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "out must not be NULL");
    *out = NULL;
    if (!parts || !sizes || n_parts < 1)
        return sm_err(err, SM_ERR_INVALID_ARG, "parts and sizes must not be NULL, n_parts >= 1");
    uint64_t file_bytes = 0;
    for (int32_t i = 0; i < n_parts; i++) {
        if (!parts[i] && sizes[i]) {
            if (n_parts == 1)
                return sm_err(err, SM_ERR_INVALID_ARG, "data is NULL but size is %zu", sizes[i]);
            return sm_err(err, SM_ERR_INVALID_ARG, "part %d of %d is NULL but its size is %zu",
                          (int)i + 1, (int)n_parts, sizes[i]);
        }
        file_bytes = (uint64_t)sizes[i] > UINT64_MAX - file_bytes ? UINT64_MAX
                                                                   : file_bytes + sizes[i];
    }
    sm_model *m = calloc(1, sizeof *m);
    if (!m) return sm_err(err, SM_ERR_NOMEM, "out of memory allocating the model");
    m->file_bytes = file_bytes;
    m->n_parts = n_parts;
    sm_status st = parse_file(parts, sizes, n_parts, &m->gguf, err);
    if (st == SM_OK) st = find_arch(&m->gguf, &m->arch, err);
    if (st == SM_OK && !m->arch)
        st = sm_err(err, SM_ERR_FORMAT, "missing required key 'general.architecture'");
    if (st == SM_OK) st = read_hparams(&m->gguf, m->arch, &m->hp, err);
    if (st == SM_OK) st = bind_weights(m, err);
    if (st == SM_OK) st = load_tokenizer(m, err);
    if (st != SM_OK) {
        atomic_init(&m->n_sessions, 0);
        sm_model_free(m);
        return st;
    }
    read_vocab_facts(m);
    count_weight_types(m);
    atomic_init(&m->n_sessions, 0);
    *out = m;
    return SM_OK;
}

sm_status sm_model_load_from_memory(const void *data, size_t size, const sm_model_params *params,
                                    sm_model **out, sm_error *err) {
    const void *parts[1] = {data};
    const size_t sizes[1] = {size};
    return sm_model_load_from_parts(parts, sizes, 1, params, out, err);
}

sm_status sm_model_free(sm_model *m) {
    if (!m) return SM_OK;
    if (atomic_load(&m->n_sessions) > 0) return SM_ERR_BUSY;
    if (m->tokenizer) sm_tokenizer_release(m->tokenizer);
    free(m->tokenizer);
    sm_gguf_free(&m->gguf);
    free(m->layers);
    free(m->vectors);
    free(m);
    return SM_OK;
}

sm_status sm_model_get_info(const sm_model *m, sm_model_info *info) {
    if (!m || !info) return SM_ERR_INVALID_ARG;
    *info = (sm_model_info){
        .arch = m->arch->name, .name = m->name, .n_vocab = m->hp.n_vocab,
        .n_ctx_train = m->hp.n_ctx_train, .n_embd = m->hp.n_embd, .n_layer = m->hp.n_layer,
        .n_head = m->hp.n_head, .n_head_kv = m->hp.n_head_kv, .n_ff = m->hp.n_ff,
        .bos_token = m->bos_token, .eos_token = m->eos_token, .n_params = m->n_params,
        .weight_bytes = m->weight_bytes,
    };
    return SM_OK;
}

sm_status sm_model_get_file_info(const sm_model *m, sm_model_file_info *info) {
    if (!m || !info) return SM_ERR_INVALID_ARG;
    sm_tokenizer_info ti;
    const bool has_tok = m->tokenizer && sm_tokenizer_get_info(m->tokenizer, &ti) == SM_OK;
    *info = (sm_model_file_info){
        .file_bytes = m->file_bytes, .n_parts = m->n_parts, .n_tensors = m->gguf.n_tensors,
        .tokenizer_kind = has_tok ? ti.kind : "",
        .has_chat_template = sm_gguf_get_str(&m->gguf, "tokenizer.chat_template", NULL),
        .n_weight_types = m->n_weight_types, .weight_types = m->weight_types,
    };
    return SM_OK;
}

sm_status sm_model_meta_str(const sm_model *m, const char *key, const char **out, size_t *len) {
    if (out) *out = NULL;
    if (len) *len = 0;
    sm_gguf_str s;
    if (!m || !key || !out || !len || !sm_gguf_get_str(&m->gguf, key, &s))
        return SM_ERR_INVALID_ARG;
    *out = s.ptr;
    *len = (size_t)s.len; /* a view into a buffer of size_t bytes */
    return SM_OK;
}

/* ---- probing a download ---------------------------------------------------------------------- */

/* Reads split.no / split.count when present (as in the loader: integers up to 65535). */
static sm_status probe_split(const sm_gguf *g, bool kv_done, sm_model_probe *out, sm_error *err) {
    static const char *const keys[2] = {"split.count", "split.no"};
    int32_t *fields[2] = {&out->split_count, &out->split_no};
    for (int k = 0; k < 2; k++) {
        uint32_t v = 0;
        if (!sm_gguf_find(g, keys[k])) continue;
        if (!sm_gguf_get_u32(g, keys[k], &v) || v > UINT16_MAX || (k == 0 && v == 0))
            return sm_err(err, SM_ERR_FORMAT, "key '%s' must be an integer in %d..65535", keys[k],
                          k == 0 ? 1 : 0);
        *fields[k] = (int32_t)v;
    }
    if (out->split_count == 0 && kv_done) out->split_count = 1;
    if (out->split_count > 0 && out->split_no >= out->split_count) {
        return sm_err(err, SM_ERR_FORMAT, "split.no %d is not below split.count %d",
                      out->split_no, out->split_count);
    }
    return SM_OK;
}

/* The model-level checks over what the prefix held. Tensor types need none: the reader already
 * refused every type this build does not know, as each tensor info arrived. Which tensors are
 * weights (and so need a dot-product kernel) only binding can tell, so a weight stored in an
 * activation-only type (Q8_1, Q8_K: no converter writes them) is left to the loader; the probe
 * never refuses a file the loader accepts. */
static sm_status probe_check(const sm_gguf *g, const sm_gguf_prefix *pre, sm_model_probe *out,
                             sm_error *err) {
    out->n_kv = pre->n_kv;
    out->n_tensors = pre->n_tensors;
    const sm_arch *arch = NULL;
    sm_status st = probe_split(g, pre->kv_done, out, err);
    if (st == SM_OK) st = find_arch(g, &arch, err);
    if (st != SM_OK) return st;
    if (arch) snprintf(out->arch, sizeof out->arch, "%s", arch->name);
    /* gguf-split keeps the metadata in part 0 only */
    if (!arch && pre->kv_done && out->split_no == 0)
        return sm_err(err, SM_ERR_FORMAT, "missing required key 'general.architecture'");
    if (pre->need > 0) {
        out->bytes_needed = pre->need;
        return SM_OK;
    }
    sm_hparams hp;
    if (arch && (st = read_hparams(g, arch, &hp, err)) != SM_OK) return st;
    out->complete = 1;
    out->bytes_needed = pre->header_end;
    out->header_bytes = g->data_offset;
    return SM_OK;
}

sm_status sm_model_probe_header(const void *prefix, size_t prefix_len, uint64_t file_size,
                                sm_model_probe *out, sm_error *err) {
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "out must not be NULL");
    memset(out, 0, sizeof *out);
    sm_gguf g;
    sm_gguf_prefix pre;
    sm_status st = sm_smnd_sniff(prefix, prefix_len)
                       ? sm_smnd_parse_prefix(prefix, prefix_len, file_size, &g, &pre, err)
                       : sm_gguf_parse_prefix(prefix, prefix_len, file_size, &g, &pre, err);
    if (st != SM_OK) return st;
    st = probe_check(&g, &pre, out, err);
    sm_gguf_free(&g);
    return st;
}
