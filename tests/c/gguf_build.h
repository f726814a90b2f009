/*
 * gguf_build.h — a header-only, in-memory GGUF file builder for the C tests (not part of the engine).
 *
 * gguf_builder collects key/values of every GGUF value type and tensors (name, ggml type id, dims,
 * bytes), then gb_finish() lays the file out as ggml/docs/gguf.md says: header, key/values, tensor
 * infos, padding to the alignment, tensor data at aligned offsets. The last tensor's data ends the
 * file (no trailing padding), so every shorter prefix of a built file is malformed.
 *
 * gb_llama_build() writes a complete tiny random `llama` model with F32 weights, with llama.cpp's
 * key and tensor names (as src/model/load.c reads them), plus hooks that break it in one place:
 * leave out a key or a tensor, change a tensor's shape or type, add keys, edit weights.
 * gb_split() cuts a built file into parts as llama.cpp's gguf-split does.
 * All functions are `static inline` so a test that uses only some of them compiles without
 * warnings. Failure to allocate exits the test with status 2.
 */
#ifndef SM_TEST_GGUF_BUILD_H
#define SM_TEST_GGUF_BUILD_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/gguf.h"
#include "kern/types.h"

/* ---- a growable little-endian byte buffer ---------------------------------------------------- */

typedef struct gb_buf {
    uint8_t *p;
    size_t n, cap;
} gb_buf;

static inline void *gb_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "gguf_build: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return q;
}

static inline void gb_put(gb_buf *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        b->p = gb_xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, x, n);
    b->n += n;
}

static inline void gb_put_le(gb_buf *b, uint64_t v, unsigned n) {
    uint8_t t[8];
    for (unsigned i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    gb_put(b, t, n);
}

static inline void gb_put_u8(gb_buf *b, uint8_t v) { gb_put_le(b, v, 1); }
static inline void gb_put_u16(gb_buf *b, uint16_t v) { gb_put_le(b, v, 2); }
static inline void gb_put_u32(gb_buf *b, uint32_t v) { gb_put_le(b, v, 4); }
static inline void gb_put_u64(gb_buf *b, uint64_t v) { gb_put_le(b, v, 8); }
static inline void gb_put_f32(gb_buf *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    gb_put_u32(b, u);
}
static inline void gb_put_f64(gb_buf *b, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    gb_put_u64(b, u);
}
static inline void gb_put_str(gb_buf *b, const char *s) {
    gb_put_u64(b, strlen(s));
    gb_put(b, s, strlen(s));
}

/* ---- the builder ------------------------------------------------------------------------------ */

typedef struct gb_tensor {
    char name[96];
    int32_t type;           /* ggml type id, written as is (may be one the engine rejects) */
    uint32_t n_dims;
    uint64_t ne[4];         /* ne[0] innermost; unused dims 1 */
    uint8_t *data;          /* [n_bytes], owned */
    size_t n_bytes;
} gb_tensor;

typedef struct gguf_builder {
    uint32_t version;       /* 3 unless changed before gb_finish */
    uint32_t alignment;     /* 32, or what gb_kv_alignment set */
    gb_buf kv;              /* the serialized key/value section */
    uint64_t n_kv;
    gb_tensor *tensors;     /* [n_tensors] in file order */
    size_t n_tensors, cap_tensors;
} gguf_builder;

static inline void gb_init(gguf_builder *b) {
    memset(b, 0, sizeof *b);
    b->version = 3;
    b->alignment = 32;
}

static inline void gb_free(gguf_builder *b) {
    for (size_t i = 0; i < b->n_tensors; i++) free(b->tensors[i].data);
    free(b->tensors);
    free(b->kv.p);
    memset(b, 0, sizeof *b);
}

static inline void gb_key(gguf_builder *b, const char *key, sm_gguf_vtype t) {
    gb_put_str(&b->kv, key);
    gb_put_u32(&b->kv, (uint32_t)t);
    b->n_kv++;
}

static inline void gb_kv_u8(gguf_builder *b, const char *k, uint8_t v) { gb_key(b, k, SM_GGUF_UINT8); gb_put_le(&b->kv, v, 1); }
static inline void gb_kv_i8(gguf_builder *b, const char *k, int8_t v) { gb_key(b, k, SM_GGUF_INT8); gb_put_le(&b->kv, (uint8_t)v, 1); }
static inline void gb_kv_u16(gguf_builder *b, const char *k, uint16_t v) { gb_key(b, k, SM_GGUF_UINT16); gb_put_le(&b->kv, v, 2); }
static inline void gb_kv_i16(gguf_builder *b, const char *k, int16_t v) { gb_key(b, k, SM_GGUF_INT16); gb_put_le(&b->kv, (uint16_t)v, 2); }
static inline void gb_kv_u32(gguf_builder *b, const char *k, uint32_t v) { gb_key(b, k, SM_GGUF_UINT32); gb_put_le(&b->kv, v, 4); }
static inline void gb_kv_i32(gguf_builder *b, const char *k, int32_t v) { gb_key(b, k, SM_GGUF_INT32); gb_put_le(&b->kv, (uint32_t)v, 4); }
static inline void gb_kv_u64(gguf_builder *b, const char *k, uint64_t v) { gb_key(b, k, SM_GGUF_UINT64); gb_put_le(&b->kv, v, 8); }
static inline void gb_kv_i64(gguf_builder *b, const char *k, int64_t v) { gb_key(b, k, SM_GGUF_INT64); gb_put_le(&b->kv, (uint64_t)v, 8); }
static inline void gb_kv_f32(gguf_builder *b, const char *k, float v) { gb_key(b, k, SM_GGUF_FLOAT32); gb_put_f32(&b->kv, v); }
static inline void gb_kv_f64(gguf_builder *b, const char *k, double v) { gb_key(b, k, SM_GGUF_FLOAT64); gb_put_f64(&b->kv, v); }
static inline void gb_kv_bool(gguf_builder *b, const char *k, bool v) { gb_key(b, k, SM_GGUF_BOOL); gb_put_u8(&b->kv, v ? 1 : 0); }
static inline void gb_kv_str(gguf_builder *b, const char *k, const char *v) { gb_key(b, k, SM_GGUF_STRING); gb_put_str(&b->kv, v); }

/* An array of n fixed-size elements of `elem` type; `le` holds them packed little-endian. */
static inline void gb_kv_arr(gguf_builder *b, const char *k, sm_gguf_vtype elem, uint64_t n,
                             const void *le, size_t n_bytes) {
    gb_key(b, k, SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, (uint32_t)elem);
    gb_put_u64(&b->kv, n);
    gb_put(&b->kv, le, n_bytes);
}

static inline void gb_kv_arr_i32(gguf_builder *b, const char *k, const int32_t *v, uint64_t n) {
    gb_key(b, k, SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_INT32);
    gb_put_u64(&b->kv, n);
    for (uint64_t i = 0; i < n; i++) gb_put_u32(&b->kv, (uint32_t)v[i]);
}

static inline void gb_kv_arr_f32(gguf_builder *b, const char *k, const float *v, uint64_t n) {
    gb_key(b, k, SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_FLOAT32);
    gb_put_u64(&b->kv, n);
    for (uint64_t i = 0; i < n; i++) gb_put_f32(&b->kv, v[i]);
}

static inline void gb_kv_arr_str(gguf_builder *b, const char *k, const char *const *v, uint64_t n) {
    gb_key(b, k, SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_STRING);
    gb_put_u64(&b->kv, n);
    for (uint64_t i = 0; i < n; i++) gb_put_str(&b->kv, v[i]);
}

/* general.alignment (UINT32) and the layout gb_finish uses; `a` should be a power of two. */
static inline void gb_kv_alignment(gguf_builder *b, uint32_t a) {
    gb_kv_u32(b, "general.alignment", a);
    b->alignment = a;
}

/* Bytes of a tensor of `type` and shape ne[0..n_dims), or 0 when the engine cannot size it
 * (unknown type id, or ne[0] not a multiple of the block size). */
static inline size_t gb_tensor_bytes(int32_t type, uint32_t n_dims, const int64_t *ne) {
    size_t row = sm_kern_row_size(type, ne[0]);
    for (uint32_t d = 1; d < n_dims; d++) row *= (size_t)ne[d];
    return row;
}

/* Adds a tensor with a copy of `data` (NULL = zeros). n_bytes 0 = computed from type and shape
 * (for a type the engine cannot size, 4 bytes per element). Returns the tensor's data copy. */
static inline uint8_t *gb_tensor_add(gguf_builder *b, const char *name, int32_t type,
                                     uint32_t n_dims, const int64_t *ne, const void *data,
                                     size_t n_bytes) {
    if (b->n_tensors == b->cap_tensors) {
        b->cap_tensors = b->cap_tensors ? 2 * b->cap_tensors : 16;
        b->tensors = gb_xrealloc(b->tensors, b->cap_tensors * sizeof *b->tensors);
    }
    gb_tensor *t = &b->tensors[b->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = n_dims;
    size_t n_elem = 1;
    for (uint32_t d = 0; d < 4; d++) {
        t->ne[d] = d < n_dims ? (uint64_t)ne[d] : 1;
        n_elem *= (size_t)t->ne[d];
    }
    if (n_bytes == 0) n_bytes = gb_tensor_bytes(type, n_dims, ne);
    if (n_bytes == 0) n_bytes = n_elem * 4;
    t->n_bytes = n_bytes;
    t->data = gb_xrealloc(NULL, n_bytes);
    if (data) memcpy(t->data, data, n_bytes);
    else memset(t->data, 0, n_bytes);
    return t->data;
}

static inline float *gb_tensor_f32(gguf_builder *b, const char *name, uint32_t n_dims,
                                   const int64_t *ne, const float *data) {
    return (float *)(void *)gb_tensor_add(b, name, SM_TYPE_F32, n_dims, ne, data, 0);
}

static inline uint64_t gb_align(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Lays out the file. Returns a malloc'd buffer of exactly *size bytes (the caller frees it); the
 * builder stays usable (add more and finish again) until gb_free. */
static inline uint8_t *gb_finish(gguf_builder *b, size_t *size) {
    const uint64_t a = b->alignment ? b->alignment : 32;
    gb_buf f = {0};
    gb_put(&f, "GGUF", 4);
    gb_put_u32(&f, b->version);
    gb_put_u64(&f, b->n_tensors);
    gb_put_u64(&f, b->n_kv);
    gb_put(&f, b->kv.p, b->kv.n);
    uint64_t off = 0;
    for (size_t i = 0; i < b->n_tensors; i++) {
        const gb_tensor *t = &b->tensors[i];
        gb_put_str(&f, t->name);
        gb_put_u32(&f, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) gb_put_u64(&f, t->ne[d]);
        gb_put_u32(&f, (uint32_t)t->type);
        gb_put_u64(&f, off);
        off = gb_align(off + t->n_bytes, a);
    }
    if (b->n_tensors) {
        while (f.n % a) gb_put_u8(&f, 0);
    }
    for (size_t i = 0; i < b->n_tensors; i++) {
        gb_put(&f, b->tensors[i].data, b->tensors[i].n_bytes);
        if (i + 1 < b->n_tensors) {
            while (f.n % a) gb_put_u8(&f, 0);
        }
    }
    /* shrink to the exact size so ASan sees any read past the end */
    *size = f.n;
    uint8_t *out = gb_xrealloc(NULL, f.n);
    memcpy(out, f.p, f.n);
    free(f.p);
    return out;
}

/* ---- a vocabulary ------------------------------------------------------------------------------ */

/* What gb_kv_vocab writes: a SentencePiece ("llama") vocabulary of n_tokens tokens ("<unk>",
 * "<s>", "</s>", then "t3", "t4", ...) and, when not NULL, tokenizer.chat_template. */
typedef struct gb_vocab {
    int32_t n_tokens;          /* >= 3, at most the model's n_vocab */
    const char *chat_template;
} gb_vocab;

/* A gb_llama.extra_kvs hook: ctx points to a gb_vocab. */
static inline void gb_kv_vocab(gguf_builder *b, void *ctx) {
    const gb_vocab *v = (const gb_vocab *)ctx;
    const uint64_t n = (uint64_t)v->n_tokens;
    gb_kv_str(b, "tokenizer.ggml.model", "llama");
    gb_key(b, "tokenizer.ggml.tokens", SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_STRING);
    gb_put_u64(&b->kv, n);
    for (uint64_t i = 0; i < n; i++) {
        char text[24];
        static const char *const head[3] = {"<unk>", "<s>", "</s>"};
        snprintf(text, sizeof text, "%s", i < 3 ? head[i] : "");
        if (i >= 3) snprintf(text, sizeof text, "t%llu", (unsigned long long)i);
        gb_put_str(&b->kv, text);
    }
    gb_key(b, "tokenizer.ggml.scores", SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_FLOAT32);
    gb_put_u64(&b->kv, n);
    for (uint64_t i = 0; i < n; i++) gb_put_f32(&b->kv, -(float)i);
    gb_key(b, "tokenizer.ggml.token_type", SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_INT32);
    gb_put_u64(&b->kv, n);
    for (uint64_t i = 0; i < n; i++) gb_put_u32(&b->kv, i == 0 ? 2u : i < 3 ? 3u : 1u);
    if (v->chat_template) gb_kv_str(b, "tokenizer.chat_template", v->chat_template);
}

/* ---- splitting a file as llama.cpp's gguf-split does ------------------------------------------ */

/* How gb_split cuts a file; the overrides make parts that do not belong together. */
typedef struct gb_split_spec {
    int n_parts;
    const size_t *first;       /* [n_parts + 1]: part k holds tensors [first[k], first[k + 1]) of
                                  the file's table; NULL = an even share */
    const int32_t *split_no;   /* [n_parts] values of split.no written; NULL = the index */
    int32_t split_count;       /* value of split.count written; 0 = n_parts */
    int32_t tensors_delta;     /* added to the split.tensors.count written */
    bool omit_tensors_count;   /* leave split.tensors.count out of every part */
    int64_t dup_tensor;        /* >= 0: this tensor is also written into the last part */
} gb_split_spec;

static inline gb_split_spec gb_split_default(int n_parts) {
    return (gb_split_spec){.n_parts = n_parts, .dup_tensor = -1};
}

/* Adds a copy of a tensor parsed from another file. */
static inline void gb_add_parsed(gguf_builder *b, const sm_gguf_tensor *t) {
    char name[96];
    snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
    gb_tensor_add(b, name, t->type, t->n_dims, t->ne, t->data, (size_t)t->n_bytes);
}

/* Cuts a GGUF file into spec->n_parts GGUF files: part 0 keeps every key/value of the file, every
 * part gets split.no (UINT16), split.count (UINT16) and split.tensors.count (INT32) and its share
 * of the tensors with their own data section. Writes malloc'd parts[k] of sizes[k] bytes (the
 * caller frees them). Returns false when the file does not parse or holds no tensors. */
static inline bool gb_split(const uint8_t *file, size_t size, const gb_split_spec *spec,
                            uint8_t **parts, size_t *sizes) {
    sm_gguf g;
    if (sm_gguf_parse(file, size, &g, NULL) != SM_OK) return false;
    if (g.n_tensors == 0) {
        sm_gguf_free(&g);
        return false;
    }
    const int n = spec->n_parts;
    /* the key/value section lies between the 24-byte header and the first tensor info */
    const size_t kv_end = (size_t)((const uint8_t *)g.tensors[0].name.ptr - 8 - file);
    for (int k = 0; k < n; k++) {
        gguf_builder b;
        gb_init(&b);
        if (k == 0) {
            gb_put(&b.kv, file + 24, kv_end - 24);
            b.n_kv = g.n_kv;
            b.alignment = g.alignment;
        }
        gb_kv_u16(&b, "split.no", (uint16_t)(spec->split_no ? spec->split_no[k] : k));
        gb_kv_u16(&b, "split.count", (uint16_t)(spec->split_count ? spec->split_count : n));
        if (!spec->omit_tensors_count)
            gb_kv_i32(&b, "split.tensors.count", (int32_t)g.n_tensors + spec->tensors_delta);
        const size_t n_t = (size_t)g.n_tensors;
        const size_t lo = spec->first ? spec->first[k] : n_t * (size_t)k / (size_t)n;
        const size_t hi = spec->first ? spec->first[k + 1] : n_t * (size_t)(k + 1) / (size_t)n;
        for (size_t i = lo; i < hi; i++) gb_add_parsed(&b, &g.tensors[i]);
        if (k == n - 1 && spec->dup_tensor >= 0) gb_add_parsed(&b, &g.tensors[spec->dup_tensor]);
        parts[k] = gb_finish(&b, &sizes[k]);
        gb_free(&b);
    }
    sm_gguf_free(&g);
    return true;
}

/* ---- deterministic random numbers (SplitMix64) ------------------------------------------------ */

static inline uint64_t gb_rand_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static inline float gb_rand_sym(uint64_t *state) {
    return (float)((double)(gb_rand_u64(state) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

/* ---- a tiny random llama model ---------------------------------------------------------------- */

/* Called on every F32 tensor before it is written: data [ne[1]][ne[0]] (rows of ne[0]). */
typedef void (*gb_edit_fn)(const char *name, float *data, const int64_t ne[4], void *ctx);
typedef void (*gb_extra_fn)(gguf_builder *b, void *ctx);

typedef struct gb_llama {
    const char *arch;           /* general.architecture and the key prefix; NULL = "llama" */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx_train;
    int32_t n_rot;              /* <arch>.rope.dimension_count; 0 = head size (n_embd / n_head) */
    float rope_base;            /* 0 = 10000 */
    float norm_eps;             /* 0 = 1e-5 */
    int32_t bos, eos;           /* token ids; < 0 = leave the key out */
    bool untied;                /* write output.weight (else the embeddings are tied) */
    bool rope_freqs;            /* write rope_freqs.weight [n_rot / 2], values in [1, 4] */
    bool no_hparam_kv_extras;   /* leave out head_count_kv, rope.dimension_count, eps, freq_base */
    uint64_t seed;              /* a weight depends only on the seed and the tensor's name */
    /* hooks that break the model in one place */
    const char *omit_key;       /* leave this exact key out */
    const char *omit_tensor;    /* leave this exact tensor out */
    const char *reshape_tensor; /* write this tensor with reshape_ne[0..reshape_n_dims) */
    uint32_t reshape_n_dims;
    int64_t reshape_ne[4];
    const char *retype_tensor;  /* write this tensor with ggml type id `retype` (zero bytes) */
    int32_t retype;
    gb_extra_fn extra_kvs;      /* adds keys after the standard ones */
    gb_edit_fn edit;            /* edits F32 weights */
    void *ctx;                  /* passed to the two callbacks */
} gb_llama;

/* A small valid model: 32 tokens, width 32, 2 layers, 4 query heads over 2 kv heads, FFN 64,
 * untied output, bos 1, eos 2. */
static inline gb_llama gb_llama_default(void) {
    return (gb_llama){.n_vocab = 32, .n_embd = 32, .n_layer = 2, .n_head = 4, .n_head_kv = 2,
                      .n_ff = 64, .n_ctx_train = 64, .bos = 1, .eos = 2, .untied = true, .seed = 1};
}

static inline bool gb_streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static inline void gbl_key_u32(gguf_builder *b, const gb_llama *s, const char *suffix, int32_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", s->arch ? s->arch : "llama", suffix);
    if (!gb_streq(key, s->omit_key)) gb_kv_u32(b, key, (uint32_t)v);
}

static inline void gbl_key_f32(gguf_builder *b, const gb_llama *s, const char *suffix, float v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", s->arch ? s->arch : "llama", suffix);
    if (!gb_streq(key, s->omit_key)) gb_kv_f32(b, key, v);
}

/* FNV-1a of a string. */
static inline uint64_t gb_hash(const char *str) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *str; str++) h = (h ^ (unsigned char)*str) * 0x100000001B3ull;
    return h;
}

typedef enum gb_init_kind { GB_MATRIX, GB_EMBED, GB_NORM, GB_FREQS } gb_init_kind;

/* Adds one weight (F32 random, or as the hooks say). ne1 == 0: a 1-D tensor. */
static inline void gbl_tensor(gguf_builder *b, const gb_llama *s, const char *name,
                              int64_t ne0, int64_t ne1, gb_init_kind kind, bool write) {
    int64_t ne[4] = {ne0, ne1 ? ne1 : 1, 1, 1};
    uint32_t n_dims = ne1 ? 2 : 1;
    if (!write || gb_streq(name, s->omit_tensor)) return;
    if (gb_streq(name, s->reshape_tensor)) {
        n_dims = s->reshape_n_dims;
        for (int d = 0; d < 4; d++) ne[d] = d < (int)n_dims ? s->reshape_ne[d] : 1;
    }
    if (gb_streq(name, s->retype_tensor)) {
        gb_tensor_add(b, name, s->retype, n_dims, ne, NULL, 0);
        return;
    }
    float *w = gb_tensor_f32(b, name, n_dims, ne, NULL);
    const int64_t n = ne[0] * ne[1] * ne[2] * ne[3];
    const float amp = kind == GB_MATRIX ? (float)sqrt(3.0 / (double)ne[0]) : 1.0f;
    uint64_t st = s->seed * 0x2545F4914F6CDD1Dull ^ gb_hash(name); /* same name, same values */
    for (int64_t i = 0; i < n; i++) {
        const float r = gb_rand_sym(&st);
        switch (kind) {
        case GB_MATRIX: w[i] = amp * r; break;
        case GB_EMBED: w[i] = r; break;
        case GB_NORM: w[i] = 1.0f + 0.25f * r; break;
        case GB_FREQS: w[i] = 2.5f + 1.5f * r; break;
        }
    }
    if (s->edit) s->edit(name, w, ne, s->ctx);
}

/* Builds the model file; returns a malloc'd buffer of *size bytes (the caller frees it). */
static inline uint8_t *gb_llama_build(const gb_llama *s, size_t *size) {
    gguf_builder b;
    gb_init(&b);
    const char *arch = s->arch ? s->arch : "llama";
    const int32_t head_dim = s->n_head > 0 ? s->n_embd / s->n_head : 0;
    const int32_t n_rot = s->n_rot ? s->n_rot : head_dim;
    const int64_t n_q = (int64_t)s->n_head * head_dim, n_kv = (int64_t)s->n_head_kv * head_dim;
    if (!gb_streq("general.architecture", s->omit_key)) gb_kv_str(&b, "general.architecture", arch);
    if (!gb_streq("general.name", s->omit_key)) gb_kv_str(&b, "general.name", "tiny-test");
    gbl_key_u32(&b, s, "context_length", s->n_ctx_train);
    gbl_key_u32(&b, s, "embedding_length", s->n_embd);
    gbl_key_u32(&b, s, "block_count", s->n_layer);
    gbl_key_u32(&b, s, "feed_forward_length", s->n_ff);
    gbl_key_u32(&b, s, "attention.head_count", s->n_head);
    if (!s->no_hparam_kv_extras) {
        gbl_key_u32(&b, s, "attention.head_count_kv", s->n_head_kv);
        gbl_key_u32(&b, s, "rope.dimension_count", n_rot);
        gbl_key_f32(&b, s, "attention.layer_norm_rms_epsilon", s->norm_eps > 0 ? s->norm_eps : 1e-5f);
        gbl_key_f32(&b, s, "rope.freq_base", s->rope_base > 0 ? s->rope_base : 10000.0f);
    }
    if (s->bos >= 0 && !gb_streq("tokenizer.ggml.bos_token_id", s->omit_key))
        gb_kv_u32(&b, "tokenizer.ggml.bos_token_id", (uint32_t)s->bos);
    if (s->eos >= 0 && !gb_streq("tokenizer.ggml.eos_token_id", s->omit_key))
        gb_kv_u32(&b, "tokenizer.ggml.eos_token_id", (uint32_t)s->eos);
    if (s->extra_kvs) s->extra_kvs(&b, s->ctx);

    char name[96];
    gbl_tensor(&b, s, "token_embd.weight", s->n_embd, s->n_vocab, GB_EMBED, true);
    gbl_tensor(&b, s, "rope_freqs.weight", n_rot / 2, 0, GB_FREQS, s->rope_freqs);
    gbl_tensor(&b, s, "output_norm.weight", s->n_embd, 0, GB_NORM, true);
    gbl_tensor(&b, s, "output.weight", s->n_embd, s->n_vocab, GB_EMBED, s->untied);
    for (int32_t il = 0; il < s->n_layer; il++) {
        static const struct { const char *fmt; int in, out; gb_init_kind kind; } lt[] = {
            /* in/out: 0 = n_embd, 1 = n_q, 2 = n_kv, 3 = n_ff, -1 = (1-D) */
            {"blk.%d.attn_norm.weight", 0, -1, GB_NORM},  {"blk.%d.attn_q.weight", 0, 1, GB_MATRIX},
            {"blk.%d.attn_k.weight", 0, 2, GB_MATRIX},    {"blk.%d.attn_v.weight", 0, 2, GB_MATRIX},
            {"blk.%d.attn_output.weight", 1, 0, GB_MATRIX}, {"blk.%d.ffn_norm.weight", 0, -1, GB_NORM},
            {"blk.%d.ffn_gate.weight", 0, 3, GB_MATRIX},  {"blk.%d.ffn_up.weight", 0, 3, GB_MATRIX},
            {"blk.%d.ffn_down.weight", 3, 0, GB_MATRIX},
        };
        const int64_t dim[4] = {s->n_embd, n_q, n_kv, s->n_ff};
        for (size_t k = 0; k < sizeof lt / sizeof lt[0]; k++) {
            snprintf(name, sizeof name, lt[k].fmt, (int)il);
            gbl_tensor(&b, s, name, dim[lt[k].in], lt[k].out < 0 ? 0 : dim[lt[k].out],
                       lt[k].kind, true);
        }
    }
    uint8_t *file = gb_finish(&b, size);
    gb_free(&b);
    return file;
}

#endif
