/*
 * test_model.c — tests of model loading (src/model/load.c) through the public API.
 *
 * Models are tiny random llama files built in memory by gguf_build.h. A valid model loads and
 * reports its shapes; tied and untied output both work; each way a file can be wrong (a missing
 * key or tensor, a wrong shape or type, bad hyper-parameters, an unsupported architecture or RoPE
 * scaling) fails with its specific code and a message naming the culprit. Robustness: every
 * truncated prefix of a valid model fails cleanly at load, and byte mutations across the file
 * either load (and then decode without harm) or fail cleanly; run under ASan/UBSan in CI.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf_build.h"
#include "kern/types.h"
#include "sm.h"

static bool has(const sm_error *e, const char *needle) {
    if (strstr(e->msg, needle)) return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", e->msg, needle);
    return false;
}

/* A loaded model and the file it borrows. */
typedef struct loaded {
    uint8_t *file;
    size_t size;
    sm_model *m;
    sm_status st;
    sm_error err;
} loaded;

static loaded load(const gb_llama *spec) {
    loaded l = {0};
    l.file = gb_llama_build(spec, &l.size);
    l.m = (sm_model *)(uintptr_t)1; /* must be overwritten, also on failure */
    l.st = sm_model_load_from_memory(l.file, l.size, NULL, &l.m, &l.err);
    return l;
}

static void unload(loaded *l) {
    CHECK_EQ(sm_model_free(l->m), SM_OK);
    free(l->file);
    memset(l, 0, sizeof *l);
}

/* Loads `spec`, expects failure with `code` and a message containing needle1 and needle2 (either
 * may be NULL). `what` labels the case in failure output. */
static void expect_fail(const char *what, const gb_llama *spec, sm_status code, const char *needle1,
                        const char *needle2) {
    loaded l = load(spec);
    if (l.st != code) fprintf(stderr, "  case '%s': got %s: %s\n", what, sm_status_name(l.st), l.err.msg);
    CHECK_EQ(l.st, code);
    CHECK_EQ(l.err.code, code);
    CHECK(l.m == NULL);
    if (needle1) CHECK(has(&l.err, needle1));
    if (needle2) CHECK(has(&l.err, needle2));
    if (l.st == SM_OK) sm_model_free(l.m);
    free(l.file);
}

static void expect_ok(const char *what, const gb_llama *spec) {
    loaded l = load(spec);
    if (l.st != SM_OK) fprintf(stderr, "  case '%s': got %s: %s\n", what, sm_status_name(l.st), l.err.msg);
    CHECK_EQ(l.st, SM_OK);
    if (l.st == SM_OK) unload(&l);
    else free(l.file);
}

/* Weight elements of a model built from `s` (every tensor is counted, as sm_model_info does). */
static uint64_t count_params(const gb_llama *s) {
    const uint64_t hd = (uint64_t)(s->n_embd / s->n_head), n_q = s->n_head * hd, n_kv = s->n_head_kv * hd;
    const uint64_t e = (uint64_t)s->n_embd, f = (uint64_t)s->n_ff, v = (uint64_t)s->n_vocab;
    const uint64_t per_layer = 2 * e + e * n_q + 2 * e * n_kv + n_q * e + 3 * e * f;
    const uint64_t n_rot = s->n_rot ? (uint64_t)s->n_rot : hd;
    return e * v + e + (s->untied ? e * v : 0) + (s->rope_freqs ? n_rot / 2 : 0) +
           (uint64_t)s->n_layer * per_layer;
}

/* ---- valid models ----------------------------------------------------------------------------- */

static void add_extras(gguf_builder *b, void *ctx) {
    (void)ctx;
    const int64_t ne[2] = {3, 5};
    gb_tensor_add(b, "extra.weight", SM_TYPE_F16, 2, ne, NULL, 0);
    gb_kv_str(b, "llama.some.future.key", "x");
}

static void test_valid(void) {
    gb_llama s = gb_llama_default();
    loaded l = load(&s);
    CHECK_EQ(l.st, SM_OK);
    CHECK_EQ(l.err.code, SM_OK);
    CHECK(l.err.msg[0] == '\0');
    if (l.st != SM_OK) {
        fprintf(stderr, "  %s\n", l.err.msg);
        free(l.file);
        return;
    }
    sm_model_info info;
    memset(&info, 0xAB, sizeof info);
    CHECK_EQ(sm_model_get_info(l.m, &info), SM_OK);
    CHECK(info.arch && strcmp(info.arch, "llama") == 0);
    CHECK(info.name && strcmp(info.name, "tiny-test") == 0);
    CHECK_EQ(info.n_vocab, 32);
    CHECK_EQ(info.n_ctx_train, 64);
    CHECK_EQ(info.n_embd, 32);
    CHECK_EQ(info.n_layer, 2);
    CHECK_EQ(info.n_head, 4);
    CHECK_EQ(info.n_head_kv, 2);
    CHECK_EQ(info.n_ff, 64);
    CHECK_EQ(info.bos_token, 1);
    CHECK_EQ(info.eos_token, 2);
    CHECK_EQ(info.n_params, count_params(&s));
    CHECK_EQ(info.weight_bytes, 4 * count_params(&s));
    CHECK_EQ(sm_model_get_info(NULL, &info), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_get_info(l.m, NULL), SM_ERR_INVALID_ARG);
    unload(&l);

    /* explicit default params and no error struct work too */
    l.file = gb_llama_build(&s, &l.size);
    sm_model_params mp = sm_model_default_params();
    CHECK_EQ(sm_model_load_from_memory(l.file, l.size, &mp, &l.m, NULL), SM_OK);
    unload(&l);

    /* other shapes: no GQA, one layer, odd vocabulary, no bos/eos, no general.name */
    s = gb_llama_default();
    s.n_vocab = 37, s.n_embd = 24, s.n_layer = 1, s.n_head = 3, s.n_head_kv = 3, s.n_ff = 40;
    s.bos = -1, s.eos = -1, s.omit_key = "general.name", s.rope_freqs = true;
    l = load(&s);
    CHECK_EQ(l.st, SM_OK);
    if (l.st == SM_OK) {
        CHECK_EQ(sm_model_get_info(l.m, &info), SM_OK);
        CHECK_EQ(info.n_vocab, 37);
        CHECK_EQ(info.n_embd, 24);
        CHECK_EQ(info.n_layer, 1);
        CHECK_EQ(info.n_head, 3);
        CHECK_EQ(info.n_head_kv, 3);
        CHECK_EQ(info.n_ff, 40);
        CHECK_EQ(info.bos_token, -1);
        CHECK_EQ(info.eos_token, -1);
        CHECK(info.name && info.name[0] == '\0');
        CHECK_EQ(info.n_params, count_params(&s));
        unload(&l);
    } else {
        free(l.file);
    }

    /* optional keys may be absent: head_count_kv defaults to head_count, the rest to defaults */
    s = gb_llama_default();
    s.n_head_kv = s.n_head;
    s.no_hparam_kv_extras = true;
    l = load(&s);
    CHECK_EQ(l.st, SM_OK);
    if (l.st == SM_OK) {
        CHECK_EQ(sm_model_get_info(l.m, &info), SM_OK);
        CHECK_EQ(info.n_head_kv, info.n_head);
        unload(&l);
    } else {
        free(l.file);
    }

    /* supported non-F32 weight types load (their bytes are zero here) */
    static const int32_t ok_types[] = {SM_TYPE_F16, SM_TYPE_BF16, SM_TYPE_Q8_0, SM_TYPE_Q4_0};
    for (size_t i = 0; i < sizeof ok_types / sizeof ok_types[0]; i++) {
        s = gb_llama_default();
        s.retype_tensor = "blk.1.attn_q.weight";
        s.retype = ok_types[i];
        expect_ok("supported weight type", &s);
    }
    /* extra tensors and keys are ignored */
    s = gb_llama_default();
    s.extra_kvs = add_extras;
    expect_ok("extra tensor", &s);
}

/* Logits after decoding a fixed prompt, copied into out[n_vocab]. */
static bool decode_logits(sm_model *m, float *out, int32_t n_vocab) {
    sm_session_params p = sm_session_default_params();
    p.n_ctx = 16;
    sm_session *s = NULL;
    if (sm_session_new(m, &p, &s, NULL) != SM_OK) return false;
    const int32_t toks[] = {1, 5, 9, 3, 30};
    bool ok = sm_session_decode(s, toks, 5) == SM_OK && sm_session_logits(s);
    if (ok) memcpy(out, sm_session_logits(s), (size_t)n_vocab * sizeof(float));
    sm_session_free(s);
    return ok;
}

typedef struct tie_ctx {
    float embd[32 * 32];
} tie_ctx;

/* Copies token_embd into output.weight, so an untied model computes what the tied one does. */
static void copy_embd(const char *name, float *data, const int64_t ne[4], void *ctx) {
    tie_ctx *t = ctx;
    const size_t n = (size_t)(ne[0] * ne[1]);
    if (n != 32 * 32) return;
    if (strcmp(name, "token_embd.weight") == 0) memcpy(t->embd, data, sizeof t->embd);
    if (strcmp(name, "output.weight") == 0) memcpy(data, t->embd, sizeof t->embd);
}

static void test_tied(void) {
    static tie_ctx tc;
    gb_llama s = gb_llama_default();
    s.untied = false;
    loaded tied = load(&s);
    CHECK_EQ(tied.st, SM_OK);
    s.untied = true;
    s.edit = copy_embd;
    s.ctx = &tc;
    loaded copy = load(&s);
    CHECK_EQ(copy.st, SM_OK);
    s.edit = NULL;
    loaded untied = load(&s); /* same seed: output.weight is its own random matrix */
    CHECK_EQ(untied.st, SM_OK);
    if (tied.st || copy.st || untied.st) return;

    sm_model_info it, ic;
    CHECK_EQ(sm_model_get_info(tied.m, &it), SM_OK);
    CHECK_EQ(sm_model_get_info(copy.m, &ic), SM_OK);
    CHECK_EQ(ic.n_params - it.n_params, 32 * 32);
    static float lt[32], lc[32], lu[32];
    CHECK(decode_logits(tied.m, lt, 32));
    CHECK(decode_logits(copy.m, lc, 32));
    CHECK(decode_logits(untied.m, lu, 32));
    CHECK(memcmp(lt, lc, sizeof lt) == 0); /* tied output == untied with the same matrix */
    CHECK(memcmp(lt, lu, sizeof lt) != 0);
    bool finite = true;
    for (int i = 0; i < 32; i++) finite = finite && isfinite(lt[i]) && isfinite(lu[i]);
    CHECK(finite);
    unload(&tied);
    unload(&copy);
    unload(&untied);
}

/* ---- malformed models: code and message ------------------------------------------------------- */

static void add_key_as_string(gguf_builder *b, void *ctx) { gb_kv_str(b, (const char *)ctx, "32"); }
static void add_block_count_negative(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_i32(b, "llama.block_count", -1);
}
static void add_block_count(gguf_builder *b, void *ctx) {
    gb_kv_u32(b, "llama.block_count", (uint32_t)*(const int32_t *)ctx);
}
static void add_arch_as_u32(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_u32(b, "general.architecture", 7);
}
static void add_rope_yarn(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_str(b, "llama.rope.scaling.type", "yarn");
    gb_kv_f32(b, "llama.rope.scaling.factor", 4.0f);
}
static void add_rope_linear(gguf_builder *b, void *ctx) {
    gb_kv_str(b, "llama.rope.scaling.type", "linear");
    if (ctx) gb_kv_f32(b, "llama.rope.scaling.factor", *(const float *)ctx);
}
static void add_rope_none(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_str(b, "llama.rope.scaling.type", "none");
}
static void add_value_length(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_u32(b, "llama.attention.key_length", 8);
    gb_kv_u32(b, "llama.attention.value_length", 4);
}

static void test_arch_and_keys(void) {
    gb_llama s = gb_llama_default();
    s.omit_key = "general.architecture";
    expect_fail("no architecture", &s, SM_ERR_FORMAT, "general.architecture", NULL);

    s = gb_llama_default();
    s.omit_key = "general.architecture";
    s.extra_kvs = add_arch_as_u32;
    expect_fail("architecture not a string", &s, SM_ERR_FORMAT, "general.architecture", NULL);

    s = gb_llama_default();
    s.arch = "mamba";
    expect_fail("mamba", &s, SM_ERR_UNSUPPORTED, "mamba", NULL);

    static const char *const required[] = {
        "llama.context_length", "llama.embedding_length", "llama.block_count",
        "llama.feed_forward_length", "llama.attention.head_count",
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        s = gb_llama_default();
        s.omit_key = required[i];
        expect_fail(required[i], &s, SM_ERR_FORMAT, required[i], "missing");
        /* present with the wrong type */
        s.extra_kvs = add_key_as_string;
        s.ctx = (void *)(uintptr_t)required[i];
        expect_fail(required[i], &s, SM_ERR_FORMAT, required[i], "integer");
    }
    s = gb_llama_default();
    s.omit_key = "llama.block_count";
    s.extra_kvs = add_block_count_negative;
    expect_fail("negative block_count", &s, SM_ERR_FORMAT, "llama.block_count", "positive");

    /* a block_count beyond the file's tensors fails before anything is sized by it */
    s = gb_llama_default();
    s.omit_key = "llama.block_count";
    s.extra_kvs = add_block_count;
    static int32_t n_blocks;
    s.ctx = &n_blocks;
    n_blocks = 2130706434;
    expect_fail("huge block_count", &s, SM_ERR_FORMAT, "block_count 2130706434", NULL);
    n_blocks = 1000;
    expect_fail("block_count 1000", &s, SM_ERR_FORMAT, "block_count 1000", NULL);
    n_blocks = 3; /* one layer more than the file has */
    expect_fail("block_count 3", &s, SM_ERR_FORMAT, "block_count 3", NULL);
    n_blocks = 1; /* fewer layers than the file has: the extra ones are ignored */
    expect_ok("block_count 1", &s);

    /* 4 query heads cannot share 3 kv heads */
    s = gb_llama_default();
    s.n_head = 4, s.n_head_kv = 3;
    expect_fail("head_count % head_count_kv", &s, SM_ERR_FORMAT, "head_count 4", "head_count_kv 3");
    s.n_head_kv = 8;
    expect_fail("head_count_kv > head_count", &s, SM_ERR_FORMAT, "head_count_kv 8", NULL);

    /* RoPE: odd or too wide dimension_count, scaling types */
    s = gb_llama_default(); /* head size 8 */
    s.n_rot = 7;
    expect_fail("odd n_rot", &s, SM_ERR_FORMAT, "rope.dimension_count 7", NULL);
    s.n_rot = 10;
    expect_fail("n_rot > head size", &s, SM_ERR_FORMAT, "rope.dimension_count 10", "8");
    s.n_rot = 4; /* partial rotation is fine */
    expect_ok("n_rot 4", &s);

    s = gb_llama_default();
    s.extra_kvs = add_rope_yarn;
    expect_fail("yarn", &s, SM_ERR_UNSUPPORTED, "yarn", NULL);
    static float factor = 2.0f;
    s.extra_kvs = add_rope_linear;
    s.ctx = &factor;
    expect_ok("linear rope scaling", &s);
    s.ctx = NULL;
    expect_fail("linear without factor", &s, SM_ERR_FORMAT, "rope.scaling.factor", NULL);
    s.extra_kvs = add_rope_none;
    expect_ok("rope scaling none", &s);

    s = gb_llama_default();
    s.extra_kvs = add_value_length;
    expect_fail("value_length", &s, SM_ERR_UNSUPPORTED, "value_length 4", NULL);
}

static void test_tensors(void) {
    static const char *const names[] = {
        "token_embd.weight",        "output_norm.weight",       "output.weight",
        "rope_freqs.weight",        "blk.1.attn_norm.weight",   "blk.1.attn_q.weight",
        "blk.1.attn_k.weight",      "blk.1.attn_v.weight",      "blk.1.attn_output.weight",
        "blk.1.ffn_norm.weight",    "blk.1.ffn_gate.weight",    "blk.1.ffn_up.weight",
        "blk.1.ffn_down.weight",    "blk.0.attn_q.weight",
    };
    gb_llama s;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        s = gb_llama_default();
        s.rope_freqs = true;
        s.omit_tensor = names[i];
        if (strcmp(names[i], "output.weight") == 0 || strcmp(names[i], "rope_freqs.weight") == 0)
            expect_ok(names[i], &s); /* optional: tied output, no frequency factors */
        else
            expect_fail(names[i], &s, SM_ERR_FORMAT, names[i], "missing");
    }

    /* wrong shapes: default model, n_embd 32, n_q 32, n_kv 16, n_ff 64, n_vocab 32 */
    s = gb_llama_default();
    s.reshape_tensor = "blk.0.attn_k.weight", s.reshape_n_dims = 2;
    s.reshape_ne[0] = 32, s.reshape_ne[1] = 24;
    expect_fail("attn_k [32,24]", &s, SM_ERR_FORMAT, "'blk.0.attn_k.weight' has shape [32, 24", "expected [32, 16]");
    s.reshape_ne[0] = 16, s.reshape_ne[1] = 32; /* transposed */
    expect_fail("attn_k transposed", &s, SM_ERR_FORMAT, "blk.0.attn_k.weight", "expected [32, 16]");
    s.reshape_n_dims = 3, s.reshape_ne[0] = 32, s.reshape_ne[1] = 16, s.reshape_ne[2] = 2;
    expect_fail("attn_k 3-D", &s, SM_ERR_FORMAT, "[32, 16, 2, 1]", "expected [32, 16]");
    s.reshape_tensor = "blk.1.ffn_down.weight", s.reshape_n_dims = 2;
    s.reshape_ne[0] = 32, s.reshape_ne[1] = 64;
    expect_fail("ffn_down transposed", &s, SM_ERR_FORMAT, "blk.1.ffn_down.weight", "expected [64, 32]");
    s.reshape_tensor = "token_embd.weight", s.reshape_ne[0] = 31, s.reshape_ne[1] = 32;
    expect_fail("token_embd width", &s, SM_ERR_FORMAT, "token_embd.weight", "[31, 32");
    s.reshape_tensor = "output.weight", s.reshape_ne[0] = 32, s.reshape_ne[1] = 31;
    expect_fail("output vocab", &s, SM_ERR_FORMAT, "output.weight", "expected [32, 32]");
    s.reshape_tensor = "output_norm.weight", s.reshape_n_dims = 1, s.reshape_ne[0] = 33;
    expect_fail("output_norm length", &s, SM_ERR_FORMAT, "output_norm.weight", "33");
    s.reshape_tensor = "blk.0.ffn_norm.weight", s.reshape_n_dims = 2;
    s.reshape_ne[0] = 32, s.reshape_ne[1] = 1;
    expect_fail("ffn_norm 2-D", &s, SM_ERR_FORMAT, "blk.0.ffn_norm.weight", "2 dims");

    /* rope_freqs must hold n_rot / 2 = 4 factors */
    s = gb_llama_default();
    s.rope_freqs = true;
    s.reshape_tensor = "rope_freqs.weight", s.reshape_n_dims = 1, s.reshape_ne[0] = 5;
    expect_fail("rope_freqs length", &s, SM_ERR_FORMAT, "rope_freqs.weight", "expected [4]");
    s.reshape_ne[0] = 8;
    expect_fail("rope_freqs length 8", &s, SM_ERR_FORMAT, "rope_freqs.weight", "8");
    s.reshape_ne[0] = 4;
    expect_ok("rope_freqs length 4", &s);
}

static void test_types(void) {
    /* Q8_1 and Q8_K exist only as activation types: the kernels can read them, not dot them */
    const sm_type_traits *q81 = sm_kern_traits(SM_TYPE_Q8_1), *q8k = sm_kern_traits(SM_TYPE_Q8_K);
    CHECK(q81 && q81->vec_dot == NULL && strcmp(q81->name, "Q8_1") == 0);
    CHECK(q8k && q8k->vec_dot == NULL && strcmp(q8k->name, "Q8_K") == 0);

    gb_llama s = gb_llama_default();
    s.retype_tensor = "blk.0.attn_q.weight", s.retype = SM_TYPE_Q8_1;
    expect_fail("Q8_1 weight", &s, SM_ERR_UNSUPPORTED, "blk.0.attn_q.weight", "Q8_1");
    s = gb_llama_default();
    s.n_ff = 256;
    s.retype_tensor = "blk.1.ffn_down.weight", s.retype = SM_TYPE_Q8_K;
    expect_fail("Q8_K weight", &s, SM_ERR_UNSUPPORTED, "blk.1.ffn_down.weight", "Q8_K");
    s.retype_tensor = "token_embd.weight", s.retype = SM_TYPE_Q8_1;
    expect_fail("Q8_1 embeddings", &s, SM_ERR_UNSUPPORTED, "token_embd.weight", "Q8_1");

    /* ids the GGUF layer cannot size fail in the parser, naming the tensor */
    s = gb_llama_default();
    s.retype_tensor = "blk.0.attn_v.weight", s.retype = 4; /* the removed Q4_2 */
    expect_fail("type id 4", &s, SM_ERR_UNSUPPORTED, "blk.0.attn_v.weight", "unknown tensor type 4");
    s.retype = 1000;
    expect_fail("type id 1000", &s, SM_ERR_UNSUPPORTED, "blk.0.attn_v.weight", "1000");
    s.retype = -1;
    expect_fail("type id -1", &s, SM_ERR_UNSUPPORTED, "blk.0.attn_v.weight", NULL);
    /* a quantized type whose block does not divide the row */
    s = gb_llama_default();
    s.retype_tensor = "blk.0.attn_v.weight", s.retype = SM_TYPE_Q4_K; /* block 256 > row 32 */
    expect_fail("Q4_K row 32", &s, SM_ERR_FORMAT, "blk.0.attn_v.weight", "block size");
}

/* ---- API contract ----------------------------------------------------------------------------- */

static void test_args_and_free(void) {
    gb_llama s = gb_llama_default();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    sm_model *m = (sm_model *)(uintptr_t)1;
    sm_error e;
    CHECK_EQ(sm_model_load_from_memory(NULL, size, NULL, &m, &e), SM_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK_EQ(e.code, SM_ERR_INVALID_ARG);
    CHECK(e.msg[0] != '\0');
    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, NULL, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_load_from_memory(NULL, size, NULL, NULL, NULL), SM_ERR_INVALID_ARG);
    m = (sm_model *)(uintptr_t)1;
    sm_status st = sm_model_load_from_memory(NULL, 0, NULL, &m, &e); /* empty: not a GGUF file */
    CHECK(st < 0 && m == NULL && e.msg[0] != '\0');
    CHECK_EQ(sm_model_load_from_memory(file, size - 1, NULL, &m, NULL), SM_ERR_FORMAT); /* err optional */
    CHECK(m == NULL);
    CHECK_EQ(sm_model_free(NULL), SM_OK);

    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, &m, &e), SM_OK);
    sm_session *s1 = NULL, *s2 = NULL;
    CHECK_EQ(sm_session_new(m, NULL, &s1, &e), SM_OK);
    CHECK_EQ(sm_session_new(m, NULL, &s2, &e), SM_OK);
    CHECK_EQ(sm_model_free(m), SM_ERR_BUSY);
    sm_session_free(s1);
    CHECK_EQ(sm_model_free(m), SM_ERR_BUSY);
    const int32_t toks[] = {1, 2, 3};
    CHECK_EQ(sm_session_decode(s2, toks, 3), SM_OK); /* the model survived the refused frees */
    sm_session_free(s2);
    CHECK_EQ(sm_model_free(m), SM_OK);
    CHECK(strcmp(sm_status_name(SM_ERR_BUSY), "SM_ERR_BUSY") == 0);
    free(file);
}

/* ---- robustness ------------------------------------------------------------------------------- */

/* Loads a private exact-size copy; on success also runs a short session over the model, so any
 * view or shape the loader let through is exercised. Returns the load status. */
static sm_status load_copy(const uint8_t *p, size_t len, bool *clean) {
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, p, len);
    sm_model *m = (sm_model *)(uintptr_t)1;
    sm_error e;
    memset(&e, 0, sizeof e);
    sm_status st = sm_model_load_from_memory(copy, len, NULL, &m, &e);
    if (st != SM_OK) {
        if (!(st < 0 && m == NULL && e.code == st && e.msg[0] != '\0')) *clean = false;
    } else {
        sm_model_info info;
        sm_session_params sp = sm_session_default_params();
        sp.n_ctx = 8;
        sm_session *s = NULL;
        if (m == NULL || sm_model_get_info(m, &info) != SM_OK) *clean = false;
        if (m && sm_session_new(m, &sp, &s, NULL) == SM_OK) {
            int32_t toks[3] = {0, (info.n_vocab - 1) / 2, info.n_vocab - 1}, t;
            if (sm_session_decode(s, toks, 3) != SM_OK) *clean = false;
            for (int i = 0; i < 2; i++) (void)sm_session_step(s, &t);
            sm_session_free(s);
        }
        if (sm_model_free(m) != SM_OK) *clean = false;
    }
    free(copy);
    return st;
}

static gb_llama small_spec(void) {
    gb_llama s = gb_llama_default();
    s.n_vocab = 8, s.n_embd = 8, s.n_layer = 1, s.n_head = 2, s.n_head_kv = 1, s.n_ff = 16;
    s.n_ctx_train = 16, s.rope_freqs = true;
    return s;
}

static void test_truncations(void) {
    gb_llama s = small_spec();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    bool clean = true;
    int n_ok = 0;
    for (size_t len = 0; len < size; len++)
        if (load_copy(file, len, &clean) == SM_OK) n_ok++;
    CHECK_EQ(n_ok, 0);
    CHECK(clean);
    CHECK_EQ(load_copy(file, size, &clean), SM_OK);
    CHECK(clean);
    free(file);
}

/* End of the metadata (key/values and tensor infos) of a file whose data section starts at
 * `data_off`: the hyper-parameters live before it. */
static size_t data_offset(const uint8_t *file, size_t size) {
    sm_gguf g;
    size_t off = 0;
    if (sm_gguf_parse(file, size, &g, NULL) == SM_OK) off = (size_t)g.data_offset;
    sm_gguf_free(&g);
    return off;
}

static void test_mutations(void) {
    gb_llama s = small_spec();
    s.n_layer = 2;
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    uint8_t *m = malloc(size);
    const size_t meta = data_offset(file, size);
    CHECK(meta > 0 && meta < size);
    bool clean = true;
    int n_ok = 0, n_err = 0;
    /* every metadata byte (counts, keys, values, tensor infos) set to a few telling values */
    static const int values[] = {-1 /* xor 0xFF */, 0x00, 0x01, 0x7F, 0x80};
    for (size_t pos = 0; pos < meta; pos++) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            memcpy(m, file, size);
            m[pos] = values[v] < 0 ? (uint8_t)(m[pos] ^ 0xFF) : (uint8_t)values[v];
            if (load_copy(m, size, &clean) == SM_OK) n_ok++;
            else n_err++;
        }
    }
    /* random single and multiple byte flips across the whole file */
    uint64_t rng = 12345;
    for (int run = 0; run < 3000; run++) {
        memcpy(m, file, size);
        const int n_flips = 1 + (int)(gb_rand_u64(&rng) % 3);
        for (int k = 0; k < n_flips; k++) {
            const size_t pos = (size_t)(gb_rand_u64(&rng) % size);
            m[pos] ^= (uint8_t)(1 + gb_rand_u64(&rng) % 255);
        }
        if (load_copy(m, size, &clean) == SM_OK) n_ok++;
        else n_err++;
    }
    CHECK(clean);
    CHECK(n_ok > 0 && n_err > 0);
    printf("test_model: mutations: %d loaded, %d rejected\n", n_ok, n_err);
    free(m);
    free(file);
}

int main(void) {
    test_valid();
    test_tied();
    test_arch_and_keys();
    test_tensors();
    test_types();
    test_args_and_free();
    test_truncations();
    test_mutations();
    return sm_check_report("test_model");
}
