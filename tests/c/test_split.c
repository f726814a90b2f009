/*
 * test_split.c — models loaded from gguf-split parts, and the facts a model gives about its file
 * (sm_model_load_from_parts, sm_model_get_file_info, sm_model_meta_str in src/model/load.c over
 * src/io/gguf_split.c).
 *
 * Parts are cut by gguf_build.h's gb_split as llama.cpp's gguf-split does (metadata in part 0,
 * split.no / split.count / split.tensors.count in every part). The same model loaded as one file
 * and as parts (also with a tensor-less part 0) gives bit-identical logits and tokens through a
 * session. Parts that do not belong together fail naming the part: a lone part, wrong order,
 * wrong count, a tensor in two parts, a wrong total, a part that is not split at all, a truncated
 * part. File facts: weight types with tensor counts and bytes, file size, tokenizer kind, chat
 * template; metadata strings as views into the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "greedy_run.h"
#include "gguf_build.h"
#include "kern/types.h"
#include "sm.h"

static bool has(const sm_error *e, const char *needle) {
    if (strstr(e->msg, needle)) return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", e->msg, needle);
    return false;
}

enum { MAX_PARTS = 4, N_STEPS = 8 };

/* A model file cut into parts (each its own exact-size buffer). */
typedef struct split_file {
    uint8_t *parts[MAX_PARTS];
    size_t sizes[MAX_PARTS];
    int n;
} split_file;

static split_file cut(const uint8_t *file, size_t size, const gb_split_spec *spec) {
    split_file f = {.n = spec->n_parts};
    CHECK(gb_split(file, size, spec, f.parts, f.sizes));
    return f;
}

static void free_split(split_file *f) {
    for (int k = 0; k < f->n; k++) free(f->parts[k]);
}

static sm_status load_parts(const split_file *f, int n, sm_model **m, sm_error *e) {
    const void *p[MAX_PARTS];
    for (int k = 0; k < n; k++) p[k] = f->parts[k];
    return sm_model_load_from_parts(p, f->sizes, n, NULL, m, e);
}

/* The shared fingerprint (greedy_run.h) with this file's step count and KV type. */
static bool run(sm_model *m, int32_t n_vocab, float *logits, int32_t *toks) {
    return sm_test_greedy_run(m, n_vocab, SM_KV_DEFAULT, N_STEPS, logits, toks);
}

static gb_llama model_spec(void) {
    static gb_vocab vocab = {32, "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"};
    gb_llama s = gb_llama_default();
    s.extra_kvs = gb_kv_vocab;
    s.ctx = &vocab;
    s.rope_freqs = true;
    return s;
}

static void test_same_model(void) {
    gb_llama s = model_spec();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    sm_model *whole = NULL;
    sm_error e;
    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, &whole, &e), SM_OK);
    if (!whole) {
        fprintf(stderr, "  %s\n", e.msg);
        free(file);
        return;
    }
    sm_model_info wi;
    sm_model_file_info wf;
    CHECK_EQ(sm_model_get_info(whole, &wi), SM_OK);
    CHECK_EQ(sm_model_get_file_info(whole, &wf), SM_OK);
    const size_t n_out = (size_t)(1 + N_STEPS) * (size_t)wi.n_vocab;
    float *ref = malloc(n_out * sizeof(float)), *got = malloc(n_out * sizeof(float));
    int32_t ref_toks[N_STEPS], got_toks[N_STEPS];
    CHECK(run(whole, wi.n_vocab, ref, ref_toks));

    /* three even parts; a tensor-less part 0 (gguf-split --no-tensor-first-split); 2 and 4 parts */
    sm_gguf g;
    CHECK_EQ(sm_gguf_parse(file, size, &g, NULL), SM_OK);
    const size_t n_t = (size_t)g.n_tensors;
    sm_gguf_free(&g);
    const size_t meta_only[4] = {0, 0, n_t / 2, n_t};
    const struct { int n; const size_t *first; } cuts[] = {{3, NULL}, {3, meta_only}, {2, NULL},
                                                           {4, NULL}};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        gb_split_spec spec = gb_split_default(cuts[c].n);
        spec.first = cuts[c].first;
        split_file f = cut(file, size, &spec);
        sm_model *m = NULL;
        CHECK_EQ(load_parts(&f, f.n, &m, &e), SM_OK);
        if (!m) {
            fprintf(stderr, "  cut %zu: %s\n", c, e.msg);
            free_split(&f);
            continue;
        }
        memset(got, 0, n_out * sizeof(float));
        CHECK(run(m, wi.n_vocab, got, got_toks));
        CHECK(memcmp(ref, got, n_out * sizeof(float)) == 0); /* bit for bit */
        CHECK(memcmp(ref_toks, got_toks, sizeof ref_toks) == 0);
        sm_model_info mi;
        sm_model_file_info mf;
        CHECK_EQ(sm_model_get_info(m, &mi), SM_OK);
        CHECK_EQ(sm_model_get_file_info(m, &mf), SM_OK);
        CHECK(strcmp(mi.arch, wi.arch) == 0 && strcmp(mi.name, wi.name) == 0);
        CHECK_EQ(mi.n_params, wi.n_params);
        CHECK_EQ(mi.weight_bytes, wi.weight_bytes);
        CHECK_EQ(mf.n_parts, f.n);
        uint64_t total = 0;
        for (int k = 0; k < f.n; k++) total += f.sizes[k];
        CHECK_EQ(mf.file_bytes, total);
        CHECK_EQ(mf.n_tensors, wf.n_tensors);
        CHECK(strcmp(mf.tokenizer_kind, "llama") == 0 && mf.has_chat_template == 1);
        const char *tpl = NULL;
        size_t len = 0;
        CHECK_EQ(sm_model_meta_str(m, "tokenizer.chat_template", &tpl, &len), SM_OK);
        CHECK(tpl >= (const char *)f.parts[0] && tpl + len <= (const char *)f.parts[0] + f.sizes[0]);
        CHECK_EQ(sm_model_free(m), SM_OK);
        free_split(&f);
    }

    /* a model split into one part (split.count 1) is a whole model */
    gb_split_spec one = gb_split_default(1);
    split_file f1 = cut(file, size, &one);
    sm_model *m1 = NULL;
    CHECK_EQ(sm_model_load_from_memory(f1.parts[0], f1.sizes[0], NULL, &m1, &e), SM_OK);
    if (m1) {
        CHECK(run(m1, wi.n_vocab, got, got_toks));
        CHECK(memcmp(ref, got, n_out * sizeof(float)) == 0);
        sm_model_free(m1);
    }
    free_split(&f1);

    CHECK_EQ(sm_model_free(whole), SM_OK);
    free(ref);
    free(got);
    free(file);
}

/* Loads parts (in the order given by idx, n of them) and expects `code` with both needles. */
static void expect_fail(const char *what, const split_file *f, const int *idx, int n,
                        sm_status code, const char *needle1, const char *needle2) {
    const void *p[MAX_PARTS];
    size_t sz[MAX_PARTS];
    for (int k = 0; k < n; k++) p[k] = f->parts[idx[k]], sz[k] = f->sizes[idx[k]];
    sm_model *m = (sm_model *)(uintptr_t)1;
    sm_error e;
    sm_status st = sm_model_load_from_parts(p, sz, n, NULL, &m, &e);
    if (st != code) fprintf(stderr, "  case '%s': got %s: %s\n", what, sm_status_name(st), e.msg);
    CHECK_EQ(st, code);
    CHECK_EQ(e.code, code);
    CHECK(code == SM_OK || m == NULL);
    if (needle1) CHECK(has(&e, needle1));
    if (needle2) CHECK(has(&e, needle2));
    if (st == SM_OK) sm_model_free(m);
}

static void test_mismatched_parts(void) {
    gb_llama s = model_spec();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    const int in_order[3] = {0, 1, 2}, swapped[3] = {0, 2, 1}, first[1] = {0}, second[1] = {1};

    gb_split_spec spec = gb_split_default(3);
    split_file f = cut(file, size, &spec);
    expect_fail("one part alone", &f, first, 1, SM_ERR_INVALID_ARG,
                "part 1 of a model split into 3 files", "load all 3 parts together");
    expect_fail("part 2 alone", &f, second, 1, SM_ERR_INVALID_ARG, "part 2 of a model split", NULL);
    expect_fail("out of order", &f, swapped, 3, SM_ERR_INVALID_ARG, "part 2 of 3: split.no is 2",
                "in order");
    expect_fail("two of three", &f, in_order, 2, SM_ERR_INVALID_ARG,
                "part 1 of 2: split.count is 3 but 2 parts were given", NULL);
    /* a truncated part names the part and the tensor */
    f.sizes[2] -= 1;
    expect_fail("truncated part", &f, in_order, 3, SM_ERR_FORMAT, "part 3 of 3: tensor '",
                "out of range");
    f.sizes[2] += 1;
    expect_fail("in order", &f, in_order, 3, SM_OK, NULL, NULL);
    free_split(&f);

    spec = gb_split_default(3);
    spec.dup_tensor = 0; /* token_embd.weight again in the last part */
    f = cut(file, size, &spec);
    expect_fail("tensor in two parts", &f, in_order, 3, SM_ERR_CORRUPT,
                "tensor 'token_embd.weight' is in part 1 and in part 3 of 3", NULL);
    free_split(&f);

    spec = gb_split_default(3);
    spec.tensors_delta = 1;
    f = cut(file, size, &spec);
    expect_fail("tensor total", &f, in_order, 3, SM_ERR_CORRUPT, "split.tensors.count is", NULL);
    free_split(&f);

    spec = gb_split_default(3);
    spec.omit_tensors_count = true;
    f = cut(file, size, &spec);
    expect_fail("no tensor total", &f, in_order, 3, SM_ERR_FORMAT,
                "part 1 of 3: missing key 'split.tensors.count'", NULL);
    free_split(&f);

    static const int32_t dup_no[3] = {0, 1, 1};
    spec = gb_split_default(3);
    spec.split_no = dup_no;
    f = cut(file, size, &spec);
    expect_fail("same part twice", &f, in_order, 3, SM_ERR_INVALID_ARG,
                "part 3 of 3: split.no is 1", NULL);
    free_split(&f);

    /* whole files are not parts */
    split_file plain = {.parts = {file, file}, .sizes = {size, size}, .n = 2};
    const int twice[2] = {0, 1};
    expect_fail("whole files", &plain, twice, 2, SM_ERR_FORMAT,
                "part 1 of 2: missing key 'split.no'", NULL);
    free(file);
}

static void add_split_no_str(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_str(b, "split.no", "0");
}

static void test_args(void) {
    gb_llama s = gb_llama_default();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    const void *p[2] = {file, NULL};
    const size_t sz[2] = {size, 10};
    sm_model *m = (sm_model *)(uintptr_t)1;
    sm_error e;
    CHECK_EQ(sm_model_load_from_parts(p, sz, 0, NULL, &m, &e), SM_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK_EQ(sm_model_load_from_parts(NULL, sz, 1, NULL, &m, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_load_from_parts(p, NULL, 1, NULL, &m, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_load_from_parts(p, sz, 1, NULL, NULL, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_load_from_parts(p, sz, 2, NULL, &m, &e), SM_ERR_INVALID_ARG);
    CHECK(has(&e, "part 2 of 2 is NULL"));
    CHECK_EQ(sm_model_load_from_parts(p, sz, 1, NULL, &m, NULL), SM_OK); /* err optional */
    sm_model_free(m);
    free(file);

    s.extra_kvs = add_split_no_str;
    file = gb_llama_build(&s, &size);
    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, &m, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "'split.no' must be an integer"));
    free(file);
}

/* ---- file facts ---------------------------------------------------------------------------- */

static void test_file_info(void) {
    gb_llama s = gb_llama_default(); /* F32, untied, no tokenizer */
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    sm_model *m = NULL;
    sm_error e;
    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, &m, &e), SM_OK);
    sm_model_file_info fi;
    sm_model_info mi;
    CHECK_EQ(sm_model_get_file_info(m, &fi), SM_OK);
    CHECK_EQ(sm_model_get_info(m, &mi), SM_OK);
    CHECK_EQ(fi.file_bytes, size);
    CHECK_EQ(fi.n_parts, 1);
    CHECK_EQ(fi.n_tensors, 3 + 9 * 2);
    CHECK(strcmp(fi.tokenizer_kind, "") == 0);
    CHECK_EQ(fi.has_chat_template, 0);
    CHECK_EQ(fi.n_weight_types, 1);
    CHECK(strcmp(fi.weight_types[0].name, "F32") == 0 && fi.weight_types[0].type == SM_TYPE_F32);
    CHECK_EQ(fi.weight_types[0].n_tensors, fi.n_tensors);
    CHECK_EQ(fi.weight_types[0].n_bytes, mi.weight_bytes);
    CHECK_EQ(sm_model_get_file_info(NULL, &fi), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_get_file_info(m, NULL), SM_ERR_INVALID_ARG);

    /* metadata strings: views into the file, not NUL-terminated */
    const char *v = (const char *)1;
    size_t len = 99;
    CHECK_EQ(sm_model_meta_str(m, "general.name", &v, &len), SM_OK);
    CHECK(len == 9 && memcmp(v, "tiny-test", 9) == 0);
    CHECK(v >= (const char *)file && v + len <= (const char *)file + size);
    CHECK_EQ(sm_model_meta_str(m, "general.architecture", &v, &len), SM_OK);
    CHECK(len == 5 && memcmp(v, "llama", 5) == 0);
    CHECK_EQ(sm_model_meta_str(m, "tokenizer.chat_template", &v, &len), SM_ERR_INVALID_ARG);
    CHECK(v == NULL && len == 0);
    CHECK_EQ(sm_model_meta_str(m, "llama.block_count", &v, &len), SM_ERR_INVALID_ARG); /* UINT32 */
    CHECK_EQ(sm_model_meta_str(m, NULL, &v, &len), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_meta_str(NULL, "general.name", &v, &len), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_meta_str(m, "general.name", NULL, &len), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_meta_str(m, "general.name", &v, NULL), SM_ERR_INVALID_ARG);
    sm_model_free(m);
    free(file);

    /* mixed weight types, a tokenizer and a chat template */
    static gb_vocab vocab = {32, "{{ messages }}"};
    s = gb_llama_default();
    s.extra_kvs = gb_kv_vocab;
    s.ctx = &vocab;
    s.retype_tensor = "blk.1.attn_q.weight", s.retype = SM_TYPE_Q8_0;
    s.reshape_tensor = NULL;
    file = gb_llama_build(&s, &size);
    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, &m, &e), SM_OK);
    if (!m) {
        fprintf(stderr, "  %s\n", e.msg);
        free(file);
        return;
    }
    CHECK_EQ(sm_model_get_file_info(m, &fi), SM_OK);
    CHECK_EQ(sm_model_get_info(m, &mi), SM_OK);
    CHECK(strcmp(fi.tokenizer_kind, "llama") == 0);
    CHECK_EQ(fi.has_chat_template, 1);
    CHECK_EQ(fi.n_weight_types, 2);
    if (fi.n_weight_types == 2) {
        const sm_weight_type_info *f32 = &fi.weight_types[0], *q8 = &fi.weight_types[1];
        CHECK(strcmp(f32->name, "F32") == 0 && strcmp(q8->name, "Q8_0") == 0);
        CHECK_EQ(q8->type, SM_TYPE_Q8_0);
        CHECK_EQ(q8->n_tensors, 1);
        CHECK_EQ(q8->n_bytes, 32 * 34); /* 32 rows of one 34-byte block */
        CHECK_EQ(f32->n_tensors + q8->n_tensors, fi.n_tensors);
        CHECK_EQ(f32->n_bytes + q8->n_bytes, mi.weight_bytes);
    }
    CHECK_EQ(sm_model_meta_str(m, "tokenizer.chat_template", &v, &len), SM_OK);
    CHECK(len == strlen(vocab.chat_template) && memcmp(v, vocab.chat_template, len) == 0);
    CHECK_EQ(sm_model_meta_str(m, "tokenizer.ggml.model", &v, &len), SM_OK);
    CHECK(len == 5 && memcmp(v, "llama", 5) == 0);
    sm_model_free(m);
    free(file);
}

int main(void) {
    test_same_model();
    test_mismatched_parts();
    test_args();
    test_file_info();
    return sm_check_report("test_split");
}
