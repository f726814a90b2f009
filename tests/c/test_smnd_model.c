/*
 * test_smnd_model.c — SMND files through the model loader (src/model/load.c over src/io/smnd.c):
 * a model converted from GGUF gives bit-identical logits and greedy tokens for F32, F16, BF16,
 * Q4_0, Q8_0, Q4_K and Q6_K weights; the tokenizer, the metadata strings and the file facts are the
 * same; a vocab-only SMND file loads as a tokenizer; damaged files fail to load, and binding errors
 * read as they do for GGUF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "greedy_run.h"
#include "io/smnd.h"
#include "smnd_test.h"

enum { N_STEPS = 6 };

static gb_vocab k_vocab = {32, "{% for m in messages %}{{ m.content }}{% endfor %}"};

/* The shared fingerprint (greedy_run.h) with this file's step count and KV type. */
static bool run(sm_model *m, int32_t n_vocab, float *logits, int32_t *toks) {
    return sm_test_greedy_run(m, n_vocab, SM_KV_F32, N_STEPS, logits, toks);
}

static void same_model(const char *what, const uint8_t *gguf, size_t gsize) {
    size_t ssize;
    sm_status st;
    sm_error e;
    uint8_t *smnd = smnd_from_gguf_mem(gguf, gsize, 0, &ssize, &st, &e);
    CHECK_EQ(st, SM_OK);
    if (!smnd) return;
    sm_model *a = NULL, *b = NULL;
    CHECK_EQ(sm_model_load_from_memory(gguf, gsize, NULL, &a, &e), SM_OK);
    CHECK_EQ(sm_model_load_from_memory(smnd, ssize, NULL, &b, &e), SM_OK);
    if (e.code) fprintf(stderr, "  %s: %s\n", what, e.msg);
    if (!a || !b) goto done;
    sm_model_info ia, ib;
    sm_model_get_info(a, &ia);
    sm_model_get_info(b, &ib);
    CHECK(ia.n_vocab == ib.n_vocab && ia.n_layer == ib.n_layer && ia.n_params == ib.n_params &&
          ia.weight_bytes == ib.weight_bytes && ia.bos_token == ib.bos_token &&
          strcmp(ia.name, ib.name) == 0);
    const size_t n = (size_t)(N_STEPS + 1) * (size_t)ia.n_vocab;
    float *la = malloc(n * sizeof *la), *lb = malloc(n * sizeof *lb);
    int32_t ta[N_STEPS], tb[N_STEPS];
    CHECK(run(a, ia.n_vocab, la, ta) && run(b, ib.n_vocab, lb, tb));
    const bool same = memcmp(la, lb, n * sizeof *la) == 0 && memcmp(ta, tb, sizeof ta) == 0;
    if (!same) fprintf(stderr, "  %s: logits or tokens differ\n", what);
    CHECK(same);
    free(la);
    free(lb);
    sm_model_file_info fa, fb;
    sm_model_get_file_info(a, &fa);
    sm_model_get_file_info(b, &fb);
    CHECK(fa.n_tensors == fb.n_tensors && fa.n_weight_types == fb.n_weight_types &&
          strcmp(fa.tokenizer_kind, fb.tokenizer_kind) == 0 &&
          fa.has_chat_template == fb.has_chat_template);
    CHECK_EQ(fb.file_bytes, ssize);
    for (int32_t k = 0; k < fa.n_weight_types && k < fb.n_weight_types; k++)
        CHECK(fa.weight_types[k].type == fb.weight_types[k].type &&
              fa.weight_types[k].n_bytes == fb.weight_types[k].n_bytes);
    const char *sa, *sb;
    size_t na, nb;
    CHECK_EQ(sm_model_meta_str(b, "tokenizer.chat_template", &sb, &nb), SM_OK);
    CHECK_EQ(sm_model_meta_str(a, "tokenizer.chat_template", &sa, &na), SM_OK);
    CHECK(na == nb && memcmp(sa, sb, na) == 0);
    /* the tokenizer splits text the same way */
    const char *text = "t5 t9 hello <s> t31";
    int32_t xa[64], xb[64], ca = 0, cb = 0;
    CHECK_EQ(sm_tokenize(sm_model_tokenizer(a), text, strlen(text), SM_TOKENIZE_ADD_SPECIAL, xa, 64,
                         &ca),
             SM_OK);
    CHECK_EQ(sm_tokenize(sm_model_tokenizer(b), text, strlen(text), SM_TOKENIZE_ADD_SPECIAL, xb, 64,
                         &cb),
             SM_OK);
    CHECK(ca == cb && ca > 0 && memcmp(xa, xb, (size_t)ca * sizeof *xa) == 0);
done:
    sm_model_free(a);
    sm_model_free(b);
    free(smnd);
}

static void test_types(void) {
    gb_llama s = gb_llama_default();
    s.extra_kvs = gb_kv_vocab;
    s.ctx = &k_vocab;
    s.rope_freqs = true;
    size_t gsize;
    uint8_t *f32 = gb_llama_build(&s, &gsize);
    same_model("F32", f32, gsize);
    static const int32_t types[] = {SM_TYPE_F16, SM_TYPE_BF16, SM_TYPE_Q4_0, SM_TYPE_Q8_0};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        size_t qsize;
        uint8_t *q = gguf_retype(f32, gsize, types[k], &qsize);
        CHECK(q != NULL);
        if (q) same_model(sm_type_name(types[k]), q, qsize);
        free(q);
    }
    free(f32);
    /* K-quants need rows of 256 */
    s.n_embd = 256, s.n_ff = 256, s.n_head = 4, s.n_head_kv = 2, s.n_layer = 1;
    uint8_t *wide = gb_llama_build(&s, &gsize);
    static const int32_t ktypes[] = {SM_TYPE_Q4_K, SM_TYPE_Q6_K};
    for (size_t k = 0; k < 2; k++) {
        size_t qsize;
        uint8_t *q = gguf_retype(wide, gsize, ktypes[k], &qsize);
        CHECK(q != NULL);
        if (q) same_model(sm_type_name(ktypes[k]), q, qsize);
        free(q);
    }
    free(wide);
}

/* A vocab-only SMND file loads as a tokenizer; a model without its tensors fails like GGUF does. */
static void test_tokenizer_and_errors(void) {
    gguf_builder b;
    gb_init(&b);
    gb_kv_vocab(&b, &k_vocab);
    size_t gsize, ssize = 0;
    uint8_t *gguf = gb_finish(&b, &gsize);
    gb_free(&b);
    sm_status st;
    sm_error e;
    uint8_t *smnd = smnd_from_gguf_mem(gguf, gsize, 0, &ssize, &st, &e);
    CHECK_EQ(st, SM_OK);
    sm_tokenizer *ta = NULL, *tb = NULL;
    CHECK_EQ(sm_tokenizer_load_from_memory(gguf, gsize, &ta, &e), SM_OK);
    CHECK_EQ(sm_tokenizer_load_from_memory(smnd, ssize, &tb, &e), SM_OK);
    sm_tokenizer_info ia, ib;
    CHECK(ta && tb && sm_tokenizer_get_info(ta, &ia) == SM_OK &&
          sm_tokenizer_get_info(tb, &ib) == SM_OK);
    if (ta && tb)
        CHECK(ia.n_tokens == ib.n_tokens && strcmp(ia.kind, ib.kind) == 0 && ia.bos == ib.bos);
    sm_tokenizer_free(ta);
    sm_tokenizer_free(tb);
    /* a tokenizer file is no model: the loader says what is missing, as for GGUF */
    sm_model *m = NULL;
    sm_error eg;
    CHECK_EQ(sm_model_load_from_memory(gguf, gsize, NULL, &m, &eg), SM_ERR_FORMAT);
    CHECK_EQ(sm_model_load_from_memory(smnd, ssize, NULL, &m, &e), SM_ERR_FORMAT);
    CHECK(strcmp(e.msg, eg.msg) == 0);
    /* damaged: corrupt, naming the metadata; SMND parts cannot be split parts */
    smnd[40] ^= 4;
    CHECK_EQ(sm_model_load_from_memory(smnd, ssize, NULL, &m, &e), SM_ERR_CORRUPT);
    CHECK(msg_has(&e, "metadata") && m == NULL);
    CHECK_EQ(sm_tokenizer_load_from_memory(smnd, ssize, &ta, &e), SM_ERR_CORRUPT);
    smnd[40] ^= 4;
    const void *parts[2] = {gguf, smnd};
    const size_t sizes[2] = {gsize, ssize};
    CHECK_EQ(sm_model_load_from_parts(parts, sizes, 2, NULL, &m, &e), SM_ERR_INVALID_ARG);
    CHECK(msg_has(&e, "part 2 of 2 is an SMND file"));
    /* the GGUF path is untouched: bytes that are neither still say what they look like */
    CHECK_EQ(sm_model_load_from_memory("<!DOCTYPE html><html>", 21, NULL, &m, &e), SM_ERR_FORMAT);
    CHECK(msg_has(&e, "not a GGUF file"));
    free(smnd);
    free(gguf);
}

int main(void) {
    test_types();
    test_tokenizer_and_errors();
    return sm_check_report("test_smnd_model");
}
