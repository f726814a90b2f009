/*
 * test_session.c — tests of sessions (src/session/session.c) and the forward pass they drive
 * (src/model/forward.c), through the public API, on tiny random llama models from gguf_build.h.
 *
 * Semantics: default parameters, decode/step bookkeeping, argument and vocabulary errors, a full
 * context, end-of-generation tokens, rewind. Invariances we promise: logits do not depend on the
 * batch size (to rounding) nor on the thread count (bit for bit); seeded sampling is reproducible.
 * Cancellation from another thread rolls a long decode back (native only: the WASM test build has
 * no threads). Finally the logits are checked against an independent double-precision forward pass
 * written here with plain loops (embedding, RMSNorm, RoPE, GQA causal attention, SwiGLU, output).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef __EMSCRIPTEN__
#include <pthread.h>
#include <stdatomic.h>
#endif

#include "check.h"
#include "gguf_build.h"
#include "io/gguf.h"
#include "kern/types.h"
#include "sm.h"

/* A model and the file it borrows. */
typedef struct tmodel {
    uint8_t *file;
    size_t size;
    sm_model *m;
    int32_t n_vocab;
} tmodel;

static tmodel make_model(const gb_llama *spec) {
    tmodel t = {0};
    sm_error e;
    t.file = gb_llama_build(spec, &t.size);
    if (sm_model_load_from_memory(t.file, t.size, NULL, &t.m, &e) != SM_OK) {
        fprintf(stderr, "test_session: model does not load: %s\n", e.msg);
        exit(2);
    }
    t.n_vocab = spec->n_vocab;
    return t;
}

static void free_model(tmodel *t) {
    CHECK_EQ(sm_model_free(t->m), SM_OK);
    free(t->file);
}

static sm_session *new_session(const tmodel *t, int32_t n_ctx, int32_t n_batch, int32_t n_threads) {
    sm_session_params p = sm_session_default_params();
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.n_threads = n_threads;
    sm_session *s = NULL;
    sm_error e;
    if (sm_session_new(t->m, &p, &s, &e) != SM_OK) {
        fprintf(stderr, "test_session: no session: %s\n", e.msg);
        exit(2);
    }
    return s;
}

/* The default tiny model without an eos token, so greedy runs are never cut short. */
static gb_llama no_eos_spec(void) {
    gb_llama s = gb_llama_default();
    s.eos = -1;
    return s;
}

/* A deterministic prompt of n ids below n_vocab. */
static void prompt(int32_t *toks, int n, int32_t n_vocab, uint32_t salt) {
    for (int i = 0; i < n; i++) toks[i] = (int32_t)((i * 7u + salt * 13u + 3u) % (uint32_t)n_vocab);
}

static bool all_finite(const float *x, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return false;
    return true;
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* max |a - b| / max |b| */
/* max |a - b| over max |b|; a non-finite a[i] makes it infinite (fmax alone would drop a NaN). */
static double rel_diff(const float *a, const float *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num = isfinite(a[i]) ? fmax(num, fabs((double)a[i] - b[i])) : INFINITY;
        den = fmax(den, fabs((double)b[i]));
    }
    return den > 0 ? num / den : num;
}

/* rel_diff against a double-precision reference. */
static double rel_diff_ref(const float *a, const double *ref, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num = isfinite(a[i]) ? fmax(num, fabs(a[i] - ref[i])) : INFINITY;
        den = fmax(den, fabs(ref[i]));
    }
    return den > 0 ? num / den : num;
}

/* ---- semantics -------------------------------------------------------------------------------- */

static void test_defaults_and_args(void) {
    sm_session_params p = sm_session_default_params();
    CHECK_EQ(p.n_ctx, 0);
    CHECK(p.n_batch == 0 || p.n_batch == 64);
    CHECK(p.n_threads == 0 || p.n_threads == 1);
    CHECK(p.temperature == 0.0f);
    CHECK_EQ(p.ignore_eos, 0);

    gb_llama spec = gb_llama_default(); /* n_ctx_train 64 */
    tmodel t = make_model(&spec);
    sm_session *s = (sm_session *)(uintptr_t)1;
    sm_error e;
    CHECK_EQ(sm_session_new(NULL, NULL, &s, &e), SM_ERR_INVALID_ARG);
    CHECK(s == NULL && e.code == SM_ERR_INVALID_ARG && e.msg[0] != '\0');
    CHECK_EQ(sm_session_new(t.m, NULL, NULL, &e), SM_ERR_INVALID_ARG);
    p.n_ctx = -1;
    s = (sm_session *)(uintptr_t)1;
    CHECK_EQ(sm_session_new(t.m, &p, &s, &e), SM_ERR_INVALID_ARG);
    CHECK(s == NULL);
    p = sm_session_default_params();
    p.n_threads = -2;
    CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_ERR_INVALID_ARG);
    p = sm_session_default_params();
    p.min_parallel_work = -1;
    CHECK_EQ(sm_session_new(t.m, &p, &s, &e), SM_ERR_INVALID_ARG);
    CHECK(strstr(e.msg, "min_parallel_work") != NULL);

    /* NULL params: the context is min(n_ctx_train, 4096) = 64 */
    CHECK_EQ(sm_session_new(t.m, NULL, &s, &e), SM_OK);
    CHECK_EQ(e.code, SM_OK);
    int32_t toks[65];
    prompt(toks, 65, t.n_vocab, 1);
    CHECK_EQ(sm_session_decode(s, toks, 65), SM_ERR_CONTEXT_FULL);
    CHECK_EQ(sm_session_n_past(s), 0);
    CHECK_EQ(sm_session_decode(s, toks, 64), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 64);
    CHECK_EQ(sm_session_decode(s, toks, 1), SM_ERR_CONTEXT_FULL);
    sm_session_free(s);

    /* the NULL-safe corners */
    sm_session_free(NULL);
    sm_session_cancel(NULL);
    int32_t tok = 0;
    CHECK_EQ(sm_session_decode(NULL, toks, 1), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_step(NULL, &tok), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_rewind(NULL, 0), SM_ERR_INVALID_ARG);
    CHECK(sm_session_logits(NULL) == NULL);
    CHECK_EQ(sm_session_n_past(NULL), 0);
    CHECK(sm_session_last_error(NULL) != NULL);
    free_model(&t);
}

static void test_decode_step(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    sm_session *s = new_session(&t, 32, 0, 1);
    int32_t tok = -7, toks[4];
    prompt(toks, 4, t.n_vocab, 2);

    CHECK(sm_session_logits(s) == NULL); /* before the first decode */
    CHECK_EQ(sm_session_n_past(s), 0);
    CHECK_EQ(sm_session_step(s, &tok), SM_ERR_INVALID_ARG);
    CHECK_EQ(tok, -7);
    CHECK(sm_session_last_error(s)[0] != '\0');
    CHECK_EQ(sm_session_decode(s, toks, 0), SM_OK); /* empty decode: nothing happens */
    CHECK(sm_session_logits(s) == NULL);
    CHECK_EQ(sm_session_decode(s, NULL, 2), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_decode(s, toks, -1), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_n_past(s), 0);

    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    CHECK(sm_session_last_error(s)[0] == '\0');
    CHECK_EQ(sm_session_n_past(s), 4);
    const float *l = sm_session_logits(s);
    CHECK(l != NULL && all_finite(l, t.n_vocab));
    CHECK_EQ(sm_session_step(s, NULL), SM_ERR_INVALID_ARG);
    for (int i = 0; i < 5; i++) {
        const int32_t want = argmax(sm_session_logits(s), t.n_vocab); /* greedy */
        tok = -7;
        CHECK_EQ(sm_session_step(s, &tok), SM_OK);
        CHECK_EQ(tok, want);
        CHECK_EQ(sm_session_n_past(s), 5 + i);
    }
    /* logits still change from position to position */
    CHECK(sm_session_logits(s) && all_finite(sm_session_logits(s), t.n_vocab));
    sm_session_free(s);
    free_model(&t);
}

static void test_bad_tokens(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    sm_session *s = new_session(&t, 16, 0, 1);
    int32_t toks[3] = {1, 2, 3};
    float before[32];
    CHECK_EQ(sm_session_decode(s, toks, 3), SM_OK);
    memcpy(before, sm_session_logits(s), sizeof before);
    const int32_t bad[][3] = {{1, 32, 3}, {-1, 2, 3}, {1, 2, INT32_MAX}, {INT32_MIN, 0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(sm_session_decode(s, bad[i], 3), SM_ERR_INVALID_ARG);
        CHECK_EQ(sm_session_n_past(s), 3);
        CHECK(strstr(sm_session_last_error(s), "vocabulary") != NULL);
        CHECK(sm_session_logits(s) && memcmp(sm_session_logits(s), before, sizeof before) == 0);
    }
    /* the session is still usable and the bad calls left no trace in the cache */
    CHECK_EQ(sm_session_decode(s, toks, 3), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 6);
    sm_session *ref = new_session(&t, 16, 0, 1);
    CHECK_EQ(sm_session_decode(ref, toks, 3), SM_OK);
    CHECK_EQ(sm_session_decode(ref, toks, 3), SM_OK);
    CHECK(memcmp(sm_session_logits(s), sm_session_logits(ref), sizeof before) == 0);
    sm_session_free(ref);
    sm_session_free(s);
    free_model(&t);
}

static void test_context_full(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    sm_session *s = new_session(&t, 8, 64, 1); /* n_batch above n_ctx is clamped */
    int32_t toks[8], tok = -7;
    float before[32];
    prompt(toks, 8, t.n_vocab, 3);
    CHECK_EQ(sm_session_decode(s, toks, 5), SM_OK);
    memcpy(before, sm_session_logits(s), sizeof before);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_ERR_CONTEXT_FULL);
    CHECK_EQ(sm_session_n_past(s), 5); /* nothing appended */
    CHECK(strstr(sm_session_last_error(s), "fit") != NULL);
    CHECK(sm_session_logits(s) && memcmp(sm_session_logits(s), before, sizeof before) == 0);
    CHECK_EQ(sm_session_step(s, &tok), SM_OK); /* 6 */
    CHECK_EQ(sm_session_step(s, &tok), SM_OK); /* 7 */
    CHECK_EQ(sm_session_step(s, &tok), SM_OK); /* 8: the context is now full */
    CHECK_EQ(sm_session_n_past(s), 8);
    tok = -7;
    CHECK_EQ(sm_session_step(s, &tok), SM_DONE);
    CHECK_EQ(tok, -7);
    CHECK_EQ(sm_session_n_past(s), 8);
    CHECK_EQ(sm_session_decode(s, toks, 1), SM_ERR_CONTEXT_FULL);
    CHECK_EQ(sm_session_n_past(s), 8);
    /* rewinding makes room again */
    CHECK_EQ(sm_session_rewind(s, 6), SM_OK);
    CHECK_EQ(sm_session_decode(s, toks, 2), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 8);
    sm_session_free(s);
    free_model(&t);
}

/* Makes the last hidden state carry a constant, dominant dimension 0 that only `eos_row`'s output
 * row reads, so greedy decoding always picks that token: token_embd[:, 0] = 20, no block writes
 * dimension 0 (attn_output and ffn_down row 0 zero), output.weight[:, 0] = 10 at the row, else 0. */
static void edit_eos(const char *name, float *data, const int64_t ne[4], void *ctx) {
    const int32_t row = *(const int32_t *)ctx;
    const int64_t n_in = ne[0], n_out = ne[1];
    if (strcmp(name, "token_embd.weight") == 0) {
        for (int64_t r = 0; r < n_out; r++) data[r * n_in] = 20.0f;
    } else if (strstr(name, "attn_output.weight") || strstr(name, "ffn_down.weight")) {
        for (int64_t i = 0; i < n_in; i++) data[i] = 0.0f;
    } else if (strcmp(name, "output.weight") == 0) {
        for (int64_t r = 0; r < n_out; r++) data[r * n_in] = r == row ? 10.0f : 0.0f;
    }
}

static void add_eot(gguf_builder *b, void *ctx) {
    gb_kv_u32(b, "tokenizer.ggml.eot_token_id", (uint32_t)*(const int32_t *)ctx);
}

static void test_eos(void) {
    static int32_t row = 2;
    gb_llama spec = gb_llama_default(); /* eos 2 */
    spec.edit = edit_eos;
    spec.ctx = &row;
    tmodel t = make_model(&spec);
    int32_t toks[4], tok = -7;
    prompt(toks, 4, t.n_vocab, 4);

    sm_session *s = new_session(&t, 16, 0, 1);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    CHECK_EQ(argmax(sm_session_logits(s), t.n_vocab), 2);
    CHECK_EQ(sm_session_step(s, &tok), SM_DONE);
    CHECK_EQ(tok, -7);
    CHECK_EQ(sm_session_n_past(s), 4);
    CHECK_EQ(sm_session_step(s, &tok), SM_DONE); /* stays done */
    sm_session_free(s);

    sm_session_params p = sm_session_default_params();
    p.n_ctx = 16;
    p.ignore_eos = 1;
    CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_OK);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    for (int i = 0; i < 3; i++) {
        tok = -7;
        CHECK_EQ(sm_session_step(s, &tok), SM_OK);
        CHECK_EQ(tok, 2);
        CHECK_EQ(sm_session_n_past(s), 5 + i);
    }
    sm_session_free(s);
    free_model(&t);

    /* an end-of-turn token ends generation too */
    spec.eos = 5;
    spec.extra_kvs = add_eot;
    t = make_model(&spec);
    s = new_session(&t, 16, 0, 1);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    CHECK_EQ(sm_session_step(s, &tok), SM_DONE);
    sm_session_free(s);
    free_model(&t);

    /* a model that names no eos never stops on its own: it runs to the end of the context */
    spec = gb_llama_default();
    spec.eos = -1;
    spec.edit = edit_eos;
    spec.ctx = &row;
    t = make_model(&spec);
    s = new_session(&t, 8, 0, 1);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    int n_steps = 0;
    while (sm_session_step(s, &tok) == SM_OK && n_steps < 100) n_steps++;
    CHECK_EQ(n_steps, 4);
    CHECK_EQ(sm_session_n_past(s), 8);
    sm_session_free(s);
    free_model(&t);
}

static void test_rewind(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    sm_session *s = new_session(&t, 32, 0, 1);
    int32_t toks[10], gen1[5], gen2[5], tok;
    float first[32];
    prompt(toks, 10, t.n_vocab, 5);
    CHECK_EQ(sm_session_decode(s, toks, 10), SM_OK);
    memcpy(first, sm_session_logits(s), sizeof first);
    for (int i = 0; i < 5; i++) CHECK_EQ(sm_session_step(s, &gen1[i]), SM_OK);

    CHECK_EQ(sm_session_rewind(s, 16), SM_ERR_INVALID_ARG); /* beyond n_past */
    CHECK_EQ(sm_session_rewind(s, -1), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_n_past(s), 15);
    CHECK_EQ(sm_session_rewind(s, 0), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 0);
    CHECK(sm_session_logits(s) == NULL);
    CHECK_EQ(sm_session_step(s, &tok), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_decode(s, toks, 10), SM_OK);
    CHECK(memcmp(sm_session_logits(s), first, sizeof first) == 0); /* bit-identical */
    for (int i = 0; i < 5; i++) CHECK_EQ(sm_session_step(s, &gen2[i]), SM_OK);
    CHECK(memcmp(gen1, gen2, sizeof gen1) == 0);

    /* keep a prefix, re-decode the rest (in a different split) */
    CHECK_EQ(sm_session_rewind(s, 4), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 4);
    CHECK_EQ(sm_session_decode(s, toks + 4, 6), SM_OK);
    CHECK(rel_diff(sm_session_logits(s), first, 32) <= 1e-5);
    CHECK_EQ(sm_session_rewind(s, 10), SM_OK); /* n_keep == n_past: nothing forgotten */
    CHECK_EQ(sm_session_n_past(s), 10);
    sm_session_free(s);
    free_model(&t);
}

/* ---- invariances ------------------------------------------------------------------------------ */

static void test_batching(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    int32_t toks[20];
    prompt(toks, 20, t.n_vocab, 6);
    static const int32_t batches[] = {64, 1, 7, 20, 19};
    float ref[32];
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        sm_session *s = new_session(&t, 32, batches[i], 1);
        CHECK_EQ(sm_session_decode(s, toks, 20), SM_OK);
        CHECK_EQ(sm_session_n_past(s), 20);
        if (i == 0) memcpy(ref, sm_session_logits(s), sizeof ref);
        const double d = rel_diff(sm_session_logits(s), ref, 32);
        if (d > 1e-5) fprintf(stderr, "  n_batch %d: relative difference %g\n", batches[i], d);
        CHECK(d <= 1e-5);
        sm_session_free(s);
    }
    /* token by token through decode(…, 1) is batching too */
    sm_session *s = new_session(&t, 32, 64, 1);
    for (int i = 0; i < 20; i++) CHECK_EQ(sm_session_decode(s, toks + i, 1), SM_OK);
    CHECK(rel_diff(sm_session_logits(s), ref, 32) <= 1e-5);
    sm_session_free(s);
    free_model(&t);
}

/* mixed: one layer's Wk in another type (Q8_0, zero weights) than Wq and Wv (F32), so the three
 * projections split into three conversions and parallel regions instead of one of each */
static void test_threads_of(bool mixed) {
    gb_llama spec = no_eos_spec();
    spec.n_vocab = 50, spec.n_ff = 96; /* row counts that do not split evenly */
    if (mixed) spec.retype_tensor = "blk.0.attn_k.weight", spec.retype = SM_TYPE_Q8_0;
    tmodel t = make_model(&spec);
    int32_t toks[20];
    prompt(toks, 20, t.n_vocab, 7);
    float ref_prompt[50], ref_end[50];
    int32_t ref_gen[8];
    for (int32_t n_threads = 1; n_threads <= 3; n_threads++) {
        for (int temp = 0; temp < 2; temp++) {
            sm_session_params p = sm_session_default_params();
            p.n_ctx = 32, p.n_batch = 7, p.n_threads = n_threads;
            p.min_parallel_work = 1; /* this model's steps are all small: split them anyway */
            p.temperature = temp ? 0.8f : 0.0f, p.seed = 99;
            sm_session *s = NULL;
            CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_OK);
            CHECK_EQ(sm_session_decode(s, toks, 20), SM_OK);
            float got_prompt[50];
            int32_t gen[8];
            memcpy(got_prompt, sm_session_logits(s), sizeof got_prompt);
            for (int i = 0; i < 8; i++) CHECK_EQ(sm_session_step(s, &gen[i]), SM_OK);
            if (n_threads == 1 && temp == 0) {
                memcpy(ref_prompt, got_prompt, sizeof ref_prompt);
                memcpy(ref_end, sm_session_logits(s), sizeof ref_end);
                memcpy(ref_gen, gen, sizeof ref_gen);
            } else if (temp == 0) {
                CHECK(memcmp(got_prompt, ref_prompt, sizeof ref_prompt) == 0);
                CHECK(memcmp(sm_session_logits(s), ref_end, sizeof ref_end) == 0);
                CHECK(memcmp(gen, ref_gen, sizeof ref_gen) == 0);
            } else {
                static int32_t ref_sampled[8]; /* set on the first thread count of each call */
                if (n_threads == 1) memcpy(ref_sampled, gen, sizeof gen);
                else CHECK(memcmp(gen, ref_sampled, sizeof gen) == 0);
            }
            sm_session_free(s);
        }
    }
    free_model(&t);
}

static void test_threads(void) {
    test_threads_of(false);
    test_threads_of(true);
}

static void generate(const tmodel *t, float temperature, uint64_t seed, int32_t *out, int n) {
    sm_session_params p = sm_session_default_params();
    p.n_ctx = 64, p.temperature = temperature, p.seed = seed;
    sm_session *s = NULL;
    int32_t toks[4];
    prompt(toks, 4, t->n_vocab, 8);
    CHECK_EQ(sm_session_new(t->m, &p, &s, NULL), SM_OK);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    for (int i = 0; i < n; i++) {
        out[i] = -1;
        if (sm_session_step(s, &out[i]) != SM_OK) break;
    }
    sm_session_free(s);
}

static void test_sampling(void) {
    gb_llama spec = gb_llama_default();
    spec.eos = -1; /* no early stop */
    tmodel t = make_model(&spec);
    int32_t a[24], b[24], c[24], g[24];
    generate(&t, 1.5f, 42, a, 24);
    generate(&t, 1.5f, 42, b, 24);
    generate(&t, 1.5f, 43, c, 24);
    generate(&t, 0.0f, 42, g, 24);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    CHECK(memcmp(a, g, sizeof a) != 0); /* sampling is not greedy */
    bool in_range = true;
    for (int i = 0; i < 24; i++) in_range = in_range && a[i] >= 0 && a[i] < t.n_vocab;
    CHECK(in_range);
    free_model(&t);
}

/* Logit bias bans and forces tokens; set_sampling changes the options mid-conversation without
 * touching the context, and a rejected change keeps the old sampler. */
static void test_bias_and_set_sampling(void) {
    gb_llama spec = gb_llama_default();
    spec.eos = -1;
    tmodel t = make_model(&spec);
    int32_t toks[4], greedy[8], tok = -1;
    prompt(toks, 4, t.n_vocab, 8);
    generate(&t, 0.0f, 1, greedy, 8);

    /* ban the greedy first pick: the first token changes */
    sm_session_params p = sm_session_default_params();
    p.n_ctx = 64;
    const int32_t ban_id[1] = {greedy[0]};
    const float ban_val[1] = {-INFINITY};
    p.bias_ids = ban_id, p.bias_values = ban_val, p.n_bias = 1;
    sm_session *s = NULL;
    CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_OK);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    CHECK_EQ(sm_session_step(s, &tok), SM_OK);
    CHECK(tok != greedy[0]);
    sm_session_free(s);

    /* greedy session, then a bias forcing token 3 set mid-way: the context is kept (n_past) and
     * every following pick is 3 */
    s = new_session(&t, 64, 64, 1);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    CHECK_EQ(sm_session_step(s, &tok), SM_OK);
    CHECK_EQ(tok, greedy[0]);
    const int32_t force_id[1] = {3};
    const float force_val[1] = {1e4f};
    sm_session_params q = sm_session_default_params();
    q.bias_ids = force_id, q.bias_values = force_val, q.n_bias = 1;
    CHECK_EQ(sm_session_set_sampling(s, &q), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 5);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(sm_session_step(s, &tok), SM_OK);
        CHECK_EQ(tok, 3);
    }
    /* a bad option is refused and the forcing sampler stays */
    sm_session_params bad = sm_session_default_params();
    bad.top_p = 1.5f;
    CHECK_EQ(sm_session_set_sampling(s, &bad), SM_ERR_INVALID_ARG);
    CHECK(strstr(sm_session_last_error(s), "top_p") != NULL);
    CHECK_EQ(sm_session_step(s, &tok), SM_OK);
    CHECK_EQ(tok, 3);
    /* back to greedy: same as a fresh greedy session given the same context */
    sm_session_params g = sm_session_default_params();
    CHECK_EQ(sm_session_set_sampling(s, &g), SM_OK);
    CHECK_EQ(sm_session_set_sampling(NULL, &g), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_session_set_sampling(s, NULL), SM_ERR_INVALID_ARG);
    sm_session_free(s);
    free_model(&t);
}

/* ---- cancellation ----------------------------------------------------------------------------- */

#ifndef __EMSCRIPTEN__
typedef struct decode_job {
    sm_session *s;
    const int32_t *toks;
    int32_t n;
    sm_status st;
    atomic_int done;
} decode_job;

static void *decode_thread(void *arg) {
    decode_job *j = arg;
    j->st = sm_session_decode(j->s, j->toks, j->n);
    atomic_store(&j->done, 1);
    return NULL;
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void test_cancel_threaded(void) {
    gb_llama spec = gb_llama_default();
    spec.n_vocab = 64, spec.n_embd = 256, spec.n_layer = 4, spec.n_head = 8, spec.n_head_kv = 4;
    spec.n_ff = 512, spec.n_ctx_train = 1024;
    tmodel t = make_model(&spec);
    sm_session *s = new_session(&t, 1024, 64, 2);
    static int32_t toks[512];
    prompt(toks, 512, t.n_vocab, 9);
    CHECK_EQ(sm_session_decode(s, toks, 3), SM_OK);

    decode_job job = {.s = s, .toks = toks, .n = 512, .st = SM_OK};
    atomic_init(&job.done, 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, decode_thread, &job), 0);
    sleep_us(2000); /* let it get going */
    /* keep asking: a cancel that lands before decode starts is cleared by it, by contract */
    while (!atomic_load(&job.done)) {
        sm_session_cancel(s);
        sleep_us(100);
    }
    pthread_join(th, NULL);
    CHECK_EQ(job.st, SM_ERR_CANCELLED);
    CHECK_EQ(sm_session_n_past(s), 3); /* rolled back */
    CHECK(strstr(sm_session_last_error(s), "cancel") != NULL);

    /* a later decode works, and sees a cache the cancelled run did not spoil */
    CHECK_EQ(sm_session_decode(s, toks + 3, 8), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 11);
    sm_session *ref = new_session(&t, 1024, 64, 2);
    CHECK_EQ(sm_session_decode(ref, toks, 3), SM_OK);
    CHECK_EQ(sm_session_decode(ref, toks + 3, 8), SM_OK);
    CHECK(memcmp(sm_session_logits(s), sm_session_logits(ref), 64 * sizeof(float)) == 0);
    sm_session_free(ref);
    sm_session_free(s);
    free_model(&t);
}
#endif

static void test_cancel(void) {
    /* a cancel with nothing running is cleared by the next call */
    gb_llama spec = gb_llama_default();
    tmodel t = make_model(&spec);
    sm_session *s = new_session(&t, 16, 0, 1);
    int32_t toks[4], tok;
    prompt(toks, 4, t.n_vocab, 10);
    sm_session_cancel(s);
    CHECK_EQ(sm_session_decode(s, toks, 4), SM_OK);
    sm_session_cancel(s);
    CHECK_EQ(sm_session_step(s, &tok), SM_OK);
    CHECK_EQ(sm_session_n_past(s), 5);
    sm_session_free(s);
    free_model(&t);
#ifdef __EMSCRIPTEN__
    printf("test_session: note: cancellation from another thread skipped (no pthreads in this build)\n");
#else
    test_cancel_threaded();
#endif
}

/* ---- the forward pass against an independent reference --------------------------------------- */

/* Tensor `name` of the file as doubles; NULL when absent. The caller frees. */
static double *ref_weight(const sm_gguf *g, const char *name, size_t n) {
    const sm_gguf_tensor *t = sm_gguf_find_tensor(g, name);
    if (!t) return NULL;
    if (t->type != 0 || t->n_bytes != n * sizeof(float)) {
        fprintf(stderr, "test_session: tensor %s is not F32 [%zu]\n", name, n);
        exit(2);
    }
    double *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        float f;
        memcpy(&f, t->data + i * sizeof f, sizeof f);
        out[i] = f;
    }
    return out;
}

/* y[o] = sum_i W[o][i] x[i], W stored as GGUF [n_in, n_out]: rows of n_in. */
static void ref_matvec(const double *w, const double *x, double *y, int n_in, int n_out) {
    for (int o = 0; o < n_out; o++) {
        double acc = 0;
        for (int i = 0; i < n_in; i++) acc += w[(size_t)o * n_in + i] * x[i];
        y[o] = acc;
    }
}

static void ref_rmsnorm(const double *x, const double *w, double *y, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    const double r = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = x[i] * r * w[i];
}

/* Rotates adjacent pairs (x[2i], x[2i+1]), i < n_rot/2, by pos * base^(-2i/n_rot) / freqs[i]. */
static void ref_rope(double *x, int n_rot, int pos, double base, const double *freqs) {
    for (int i = 0; i < n_rot / 2; i++) {
        double theta = pos * pow(base, -2.0 * i / n_rot);
        if (freqs) theta /= freqs[i];
        const double c = cos(theta), s = sin(theta), a = x[2 * i], b = x[2 * i + 1];
        x[2 * i] = a * c - b * s;
        x[2 * i + 1] = a * s + b * c;
    }
}

/* The logits of the last of toks[0..n_tok), computed from the file in double precision. */
static void ref_forward(const uint8_t *file, size_t size, const gb_llama *sp, const int32_t *toks,
                        int n_tok, double *logits) {
    sm_gguf g;
    if (sm_gguf_parse(file, size, &g, NULL) != SM_OK) exit(2);
    const int E = sp->n_embd, H = sp->n_head, KV = sp->n_head_kv, hd = E / H, F = sp->n_ff;
    const int V = sp->n_vocab, n_q = H * hd, n_kv = KV * hd, R = sp->n_rot ? sp->n_rot : hd;
    const double eps = sp->norm_eps > 0 ? sp->norm_eps : 1e-5f; /* the file stores f32 */
    const double base = sp->rope_base > 0 ? sp->rope_base : 10000.0f;
    double *x = calloc((size_t)n_tok * E, sizeof *x), *xn = malloc(E * sizeof *xn);
    double *q = malloc((size_t)n_tok * n_q * sizeof *q), *k = malloc((size_t)n_tok * n_kv * sizeof *k);
    double *v = malloc((size_t)n_tok * n_kv * sizeof *v), *att = malloc(n_q * sizeof *att);
    double *o = malloc(E * sizeof *o), *gate = malloc(F * sizeof *gate), *up = malloc(F * sizeof *up);
    double *sc = malloc(n_tok * sizeof *sc);
    double *emb = ref_weight(&g, "token_embd.weight", (size_t)V * E);
    double *freqs = ref_weight(&g, "rope_freqs.weight", (size_t)R / 2);
    for (int t = 0; t < n_tok; t++) memcpy(x + (size_t)t * E, emb + (size_t)toks[t] * E, E * sizeof *x);
    char name[64];
#define W(suffix, n) (snprintf(name, sizeof name, "blk.%d." suffix, l), ref_weight(&g, name, (n)))
    for (int l = 0; l < sp->n_layer; l++) {
        double *an = W("attn_norm.weight", E), *wq = W("attn_q.weight", (size_t)n_q * E);
        double *wk = W("attn_k.weight", (size_t)n_kv * E), *wv = W("attn_v.weight", (size_t)n_kv * E);
        double *wo = W("attn_output.weight", (size_t)E * n_q), *fn = W("ffn_norm.weight", E);
        double *wg = W("ffn_gate.weight", (size_t)F * E), *wu = W("ffn_up.weight", (size_t)F * E);
        double *wd = W("ffn_down.weight", (size_t)E * F);
        for (int t = 0; t < n_tok; t++) {
            ref_rmsnorm(x + (size_t)t * E, an, xn, E, eps);
            ref_matvec(wq, xn, q + (size_t)t * n_q, E, n_q);
            ref_matvec(wk, xn, k + (size_t)t * n_kv, E, n_kv);
            ref_matvec(wv, xn, v + (size_t)t * n_kv, E, n_kv);
            for (int h = 0; h < H; h++) ref_rope(q + (size_t)t * n_q + h * hd, R, t, base, freqs);
            for (int h = 0; h < KV; h++) ref_rope(k + (size_t)t * n_kv + h * hd, R, t, base, freqs);
        }
        for (int t = 0; t < n_tok; t++) {
            for (int h = 0; h < H; h++) {
                const int kvh = h / (H / KV);
                const double *qh = q + (size_t)t * n_q + h * hd;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) { /* causal */
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += qh[i] * k[(size_t)j * n_kv + kvh * hd + i];
                    sc[j] = d / sqrt((double)hd);
                    mx = fmax(mx, sc[j]);
                }
                for (int j = 0; j <= t; j++) sum += sc[j] = exp(sc[j] - mx);
                for (int i = 0; i < hd; i++) {
                    double acc = 0;
                    for (int j = 0; j <= t; j++) acc += sc[j] / sum * v[(size_t)j * n_kv + kvh * hd + i];
                    att[h * hd + i] = acc;
                }
            }
            double *xt = x + (size_t)t * E;
            ref_matvec(wo, att, o, n_q, E);
            for (int i = 0; i < E; i++) xt[i] += o[i];
            ref_rmsnorm(xt, fn, xn, E, eps);
            ref_matvec(wg, xn, gate, E, F);
            ref_matvec(wu, xn, up, E, F);
            for (int i = 0; i < F; i++) gate[i] = gate[i] / (1.0 + exp(-gate[i])) * up[i];
            ref_matvec(wd, gate, o, F, E);
            for (int i = 0; i < E; i++) xt[i] += o[i];
        }
        free(an), free(wq), free(wk), free(wv), free(wo), free(fn), free(wg), free(wu), free(wd);
    }
#undef W
    double *on = ref_weight(&g, "output_norm.weight", E);
    double *out = ref_weight(&g, "output.weight", (size_t)V * E);
    ref_rmsnorm(x + (size_t)(n_tok - 1) * E, on, xn, E, eps);
    ref_matvec(out ? out : emb, xn, logits, E, V);
    free(on), free(out), free(emb), free(freqs);
    free(x), free(xn), free(q), free(k), free(v), free(att), free(o), free(gate), free(up), free(sc);
    sm_gguf_free(&g);
}

/* The default F16 cache rounds each cached key and value to 11 significant bits (relative 2^-12),
 * so the logits move by about that much times the layers' gain: these models show up to 3.6e-4
 * of the largest logit (SM_TEST_VERBOSE=1 prints it); the bound is about 3x that. */
static void check_reference_f16(const tmodel *t, const int32_t *toks, int n_tok, const double *ref,
                                const char *what) {
    sm_session *s = new_session(t, 16, 0, 1); /* default params: F16 cache */
    CHECK_EQ(sm_session_decode(s, toks, n_tok), SM_OK);
    const double rel = rel_diff_ref(sm_session_logits(s), ref, t->n_vocab);
    if (getenv("SM_TEST_VERBOSE") || !(rel <= 1e-3))
        fprintf(stderr, "  reference '%s', F16 KV cache: relative difference %g\n", what, rel);
    CHECK(rel <= 1e-3);
    sm_session_free(s);
}

static void check_reference(const char *what, const gb_llama *spec, int n_tok) {
    tmodel t = make_model(spec);
    int32_t toks[16];
    prompt(toks, n_tok, t.n_vocab, 11);
    double ref[64];
    ref_forward(t.file, t.size, spec, toks, n_tok, ref);
    check_reference_f16(&t, toks, n_tok, ref, what);
    sm_session_params p = sm_session_default_params();
    p.n_ctx = 16;
    p.kv_type = SM_KV_F32; /* exact cache: only float rounding separates us from the reference */
    sm_session *s = NULL;
    CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_OK);
    CHECK_EQ(sm_session_decode(s, toks, n_tok), SM_OK);
    double spread = 0;
    for (int i = 0; i < t.n_vocab; i++) spread = fmax(spread, fabs(ref[i] - ref[0]));
    const double rel = rel_diff_ref(sm_session_logits(s), ref, t.n_vocab);
    if (getenv("SM_TEST_VERBOSE") || !(rel <= 1e-4)) fprintf(stderr, "  reference '%s': relative difference %g\n", what, rel);
    CHECK(rel <= 1e-4);
    CHECK(spread > 0.1); /* the logits are not degenerate */
    sm_session_free(s);
    free_model(&t);
}

static void test_reference(void) {
    /* one layer; GQA 4 over 2; frequency factors; a non-default base and epsilon */
    gb_llama spec = gb_llama_default();
    spec.n_layer = 1, spec.rope_freqs = true, spec.rope_base = 100.0f, spec.norm_eps = 1e-4f;
    spec.seed = 3;
    check_reference("1 layer", &spec, 3);
    /* longer prompt: RoPE angles and attention over more positions */
    check_reference("1 layer, 12 tokens", &spec, 12);
    /* two layers, partial rotation, one kv head, tied output */
    spec = gb_llama_default();
    spec.n_head_kv = 1, spec.n_rot = 4, spec.untied = false, spec.seed = 4, spec.rope_base = 50.0f;
    check_reference("2 layers, n_rot 4, MQA, tied", &spec, 5);
    /* no GQA, head size 16 */
    spec = gb_llama_default();
    spec.n_head = 2, spec.n_head_kv = 2, spec.n_vocab = 40, spec.n_ff = 48, spec.seed = 5;
    check_reference("2 heads of 16", &spec, 7);
}

/* Q8_0 round trip of a weight, row by row (rows of ne[0]). */
static void q8_0_round_trip(float *w, const int64_t ne[4]) {
    const sm_type_traits *tr = sm_kern_traits(SM_TYPE_Q8_0);
    uint8_t row[64 * 34];
    CHECK(ne[0] <= 64 * 32 && ne[0] % 32 == 0);
    for (int64_t r = 0; r < ne[1]; r++) {
        tr->from_float(w + r * ne[0], row, ne[0]);
        tr->to_float(row, w + r * ne[0], ne[0]);
    }
}

static void round_trip_wk(const char *name, float *w, const int64_t ne[4], void *ctx) {
    if (strcmp(name, (const char *)ctx) == 0) q8_0_round_trip(w, ne);
}

/* A layer whose Wk is Q8_0 between F32 Wq and Wv: the three projections take two activation
 * conversions (F32, Q8_0, F32 again) and three parallel regions. Against the double-precision
 * reference over the same weights (Wk as its Q8_0 values) only the Q8_0 rounding of Wk's input
 * separates them; an input converted for the wrong type, or a projection left out, moves the
 * logits by far more. */
static void test_mixed_types_reference(void) {
    static const char wk[] = "blk.0.attn_k.weight";
    gb_llama spec = gb_llama_default();
    spec.n_layer = 1, spec.seed = 6, spec.edit = round_trip_wk, spec.ctx = (void *)wk;
    size_t ref_size;
    uint8_t *ref_file = gb_llama_build(&spec, &ref_size); /* F32, Wk already Q8_0-exact */
    /* the same model with Wk stored as Q8_0: quantizing its Q8_0-exact values gives them back */
    gb_llama mixed = spec;
    mixed.retype_tensor = wk, mixed.retype = SM_TYPE_Q8_0;
    tmodel t = make_model(&mixed);
    sm_gguf g_ref, g_mixed;
    CHECK_EQ(sm_gguf_parse(ref_file, ref_size, &g_ref, NULL), SM_OK);
    CHECK_EQ(sm_gguf_parse(t.file, t.size, &g_mixed, NULL), SM_OK);
    const sm_gguf_tensor *src = sm_gguf_find_tensor(&g_ref, wk), *dst = sm_gguf_find_tensor(&g_mixed, wk);
    CHECK(src && dst && dst->type == SM_TYPE_Q8_0);
    const int64_t n = (int64_t)(src->n_bytes / sizeof(float));
    sm_kern_traits(SM_TYPE_Q8_0)->from_float((const float *)(const void *)src->data, (void *)dst->data, n);
    int32_t toks[6];
    prompt(toks, 6, t.n_vocab, 12);
    double ref[64];
    ref_forward(ref_file, ref_size, &spec, toks, 6, ref);
    for (int32_t n_threads = 1; n_threads <= 2; n_threads++) {
        sm_session_params p = sm_session_default_params();
        p.n_ctx = 16, p.kv_type = SM_KV_F32, p.n_threads = n_threads, p.min_parallel_work = 1;
        sm_session *s = NULL;
        CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_OK);
        CHECK_EQ(sm_session_decode(s, toks, 6), SM_OK);
        const double rel = rel_diff_ref(sm_session_logits(s), ref, t.n_vocab);
        if (getenv("SM_TEST_VERBOSE") || !(rel <= 1e-2))
            fprintf(stderr, "  reference 'Q8_0 Wk between F32', %d threads: relative difference %g\n",
                    n_threads, rel);
        CHECK(rel <= 1e-2);
        sm_session_free(s);
    }
    sm_gguf_free(&g_ref), sm_gguf_free(&g_mixed);
    free(ref_file);
    free_model(&t);
}

/* Memory estimates match the formula of what a session allocates, and budgets are enforced before
 * anything is allocated. */
static void test_memory_budget(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    sm_session_params p = sm_session_default_params();
    p.n_ctx = 64;
    p.n_batch = 8;
    p.kv_type = SM_KV_F32;
    sm_memory_estimate est;
    CHECK_EQ(sm_model_estimate_memory(t.m, &p, &est), SM_OK);
    sm_model_info info;
    sm_model_get_info(t.m, &info);
    const uint64_t kv_dim = (uint64_t)info.n_head_kv * (uint64_t)(info.n_embd / info.n_head);
    CHECK_EQ(est.kv_cache, 2ull * (uint64_t)info.n_layer * 64 * kv_dim * sizeof(float));
    CHECK_EQ(est.weights, info.weight_bytes);
    CHECK(est.scratch > 0);
    CHECK_EQ(est.total, est.weights + est.kv_cache + est.scratch);
    p.n_ctx = 128; /* twice the context, twice the KV cache */
    sm_memory_estimate est2;
    CHECK_EQ(sm_model_estimate_memory(t.m, &p, &est2), SM_OK);
    CHECK_EQ(est2.kv_cache, 2 * est.kv_cache);
    CHECK_EQ(sm_model_estimate_memory(NULL, &p, &est2), SM_ERR_INVALID_ARG);

    sm_session *s = NULL;
    sm_error e;
    p.memory_budget = est2.total - 1;
    CHECK_EQ(sm_session_new(t.m, &p, &s, &e), SM_ERR_NOMEM);
    CHECK(s == NULL && strstr(e.msg, "memory budget") != NULL);
    p.memory_budget = est2.total;
    CHECK_EQ(sm_session_new(t.m, &p, &s, &e), SM_OK);
    sm_session_free(s);
    s = NULL;
    /* a context whose KV cache overflows the address space is refused, not wrapped */
    p.memory_budget = 0;
    p.n_ctx = INT32_MAX;
    if (sizeof(size_t) < 8) {
        CHECK_EQ(sm_session_new(t.m, &p, &s, &e), SM_ERR_NOMEM);
        CHECK(s == NULL && strstr(e.msg, "address space") != NULL);
    }
    free_model(&t);
}

/* The KV cache type: F16 by default at half the bytes of F32; anything else is refused. */
static void test_kv_type(void) {
    gb_llama spec = no_eos_spec();
    tmodel t = make_model(&spec);
    sm_session_params p = sm_session_default_params();
    CHECK_EQ(p.kv_type, SM_KV_F16);
    p.n_ctx = 64;
    sm_memory_estimate e16, e32, e0;
    CHECK_EQ(sm_model_estimate_memory(t.m, &p, &e16), SM_OK);
    p.kv_type = SM_KV_DEFAULT;
    CHECK_EQ(sm_model_estimate_memory(t.m, &p, &e0), SM_OK);
    p.kv_type = SM_KV_F32;
    CHECK_EQ(sm_model_estimate_memory(t.m, &p, &e32), SM_OK);
    CHECK_EQ(e32.kv_cache, 2 * e16.kv_cache);
    CHECK_EQ(e0.kv_cache, e16.kv_cache);
    CHECK_EQ(e32.scratch, e16.scratch);
    sm_session *s = NULL;
    sm_error e;
    for (int32_t bad = -1; bad <= 7; bad += 4) { /* -1, 3, 7 */
        p.kv_type = bad;
        CHECK_EQ(sm_session_new(t.m, &p, &s, &e), SM_ERR_INVALID_ARG);
        CHECK(s == NULL && strstr(e.msg, "kv_type") != NULL);
        CHECK_EQ(sm_model_estimate_memory(t.m, &p, &e0), SM_ERR_INVALID_ARG);
    }
    /* both caches give the same greedy tokens on this model, logits within F16 rounding */
    int32_t toks[12], gen[2][6];
    float first[2][64];
    prompt(toks, 12, t.n_vocab, 9);
    for (int k = 0; k < 2; k++) {
        p = sm_session_default_params();
        p.n_ctx = 32, p.n_batch = 5, p.kv_type = k ? SM_KV_F32 : SM_KV_F16;
        CHECK_EQ(sm_session_new(t.m, &p, &s, NULL), SM_OK);
        CHECK_EQ(sm_session_decode(s, toks, 12), SM_OK);
        memcpy(first[k], sm_session_logits(s), (size_t)t.n_vocab * sizeof(float));
        for (int i = 0; i < 6; i++) CHECK_EQ(sm_session_step(s, &gen[k][i]), SM_OK);
        sm_session_free(s);
    }
    const double d = rel_diff(first[0], first[1], t.n_vocab);
    if (getenv("SM_TEST_VERBOSE") || d > 1e-3) fprintf(stderr, "  F16 vs F32 cache: relative difference %g\n", d);
    CHECK(d <= 1e-3 && d > 0.0); /* > 0: the F16 cache is really in use */
    CHECK(memcmp(gen[0], gen[1], sizeof gen[0]) == 0);
    free_model(&t);
}

int main(void) {
    test_defaults_and_args();
    test_kv_type();
    test_memory_budget();
    test_decode_step();
    test_bad_tokens();
    test_context_full();
    test_eos();
    test_rewind();
    test_batching();
    test_threads();
    test_sampling();
    test_bias_and_set_sampling();
    test_cancel();
    test_reference();
    test_mixed_types_reference();
    return sm_check_report("test_session");
}
