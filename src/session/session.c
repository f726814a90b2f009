/*
 * session.c — a conversation over a model: context bookkeeping, decode/step, cancellation.
 *
 * The session owns a forward state (KV cache + scratch, allocated up front), a thread pool, the
 * logits of the last position and a sampler. decode() splits its tokens into n_batch chunks and
 * is all-or-nothing: on error or cancellation n_past returns to where it was.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/forward.h"
#include "model/model.h"
#include "sample/sampler.h"
#include "tok/tokenizer.h"
#include "util/error.h"
#include "util/pool.h"

struct sm_session {
    sm_model *model;
    sm_session_params params;
    sm_fwd fwd;
    sm_pool *pool;
    int32_t n_past;
    float *logits;      /* [n_vocab] of the last decoded position */
    int32_t *history;   /* [n_ctx] the tokens in the context, to rebuild penalty windows on rewind */
    int has_logits;
    sm_sampler *sampler;
    atomic_int cancel;
    sm_error error;
};

sm_session_params sm_session_default_params(void) {
    return (sm_session_params){.n_ctx = 0, .n_batch = 64, .n_threads = 1, .temperature = 0.0f,
                               .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .repeat_penalty = 1.0f,
                               .frequency_penalty = 0.0f, .presence_penalty = 0.0f,
                               .penalty_last_n = 64, .seed = 0x5EED, .ignore_eos = 0,
                               .kv_type = SM_KV_F16};
}

/* Fills in the defaults a zero field stands for. */
static sm_status resolve_params(const sm_model *model, const sm_session_params *params,
                                sm_session_params *p, sm_error *err) {
    *p = params ? *params : sm_session_default_params();
    if (p->n_ctx < 0 || p->n_batch < 0 || p->n_threads < 0 || p->min_parallel_work < 0)
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "n_ctx, n_batch, n_threads and min_parallel_work must not be negative");
    if (p->n_ctx == 0) p->n_ctx = model->hp.n_ctx_train < 4096 ? model->hp.n_ctx_train : 4096;
    if (p->n_batch == 0) p->n_batch = 64;
    if (p->n_batch > p->n_ctx) p->n_batch = p->n_ctx;
    if (p->n_threads == 0) p->n_threads = 1;
    if (p->kv_type == SM_KV_DEFAULT) p->kv_type = SM_KV_F16;
    if (p->kv_type != SM_KV_F16 && p->kv_type != SM_KV_F32)
        return sm_err(err, SM_ERR_INVALID_ARG, "kv_type must be SM_KV_F16 (%d) or SM_KV_F32 (%d), got %d",
                      SM_KV_F16, SM_KV_F32, p->kv_type);
    return SM_OK;
}

/* The tensor type of a resolved kv_type. */
static int32_t kv_tensor_type(int32_t kv_type) { return kv_type == SM_KV_F32 ? SM_TYPE_F32 : SM_TYPE_F16; }

/* The estimate for parameters already resolved (no zero-means-default fields left). */
static void estimate_resolved(const sm_model *model, const sm_session_params *p, sm_memory_estimate *out) {
    *out = (sm_memory_estimate){.weights = model->weight_bytes};
    sm_fwd_bytes(&model->hp, p->n_ctx, p->n_batch, p->n_threads, kv_tensor_type(p->kv_type),
                 &out->kv_cache, &out->scratch);
    /* logits, the sampler's candidates (~28 bytes a token) and the token history */
    out->scratch += (uint64_t)model->hp.n_vocab * (sizeof(float) + 28) + (uint64_t)p->n_ctx * sizeof(int32_t);
    out->total = out->weights + out->kv_cache + out->scratch;
}

sm_status sm_model_estimate_memory(const sm_model *model, const sm_session_params *params,
                                   sm_memory_estimate *out) {
    if (!model || !out) return SM_ERR_INVALID_ARG;
    sm_session_params p;
    sm_status st = resolve_params(model, params, &p, NULL);
    if (st == SM_OK) estimate_resolved(model, &p, out);
    return st;
}

/* Refuses, before any allocation, a session that cannot fit the budget or the address space. */
static sm_status check_budget(const sm_model *model, const sm_session_params *p, sm_error *err) {
    sm_memory_estimate est;
    estimate_resolved(model, p, &est);
    const uint64_t address_space = sizeof(size_t) < 8 ? (uint64_t)1 << 32 : UINT64_MAX;
    const uint64_t limit = p->memory_budget && p->memory_budget < address_space ? p->memory_budget : address_space;
    if (est.total > limit)
        return sm_err(err, SM_ERR_NOMEM,
                      "a %d-token session needs %llu MiB (weights %llu, KV cache %llu, scratch %llu), "
                      "over the %s of %llu MiB", p->n_ctx, (unsigned long long)(est.total >> 20),
                      (unsigned long long)(est.weights >> 20), (unsigned long long)(est.kv_cache >> 20),
                      (unsigned long long)(est.scratch >> 20),
                      limit == p->memory_budget ? "memory budget" : "address space",
                      (unsigned long long)(limit >> 20));
    return SM_OK;
}

static sm_status new_sampler(const sm_model *model, const sm_session_params *p, sm_sampler **out,
                             sm_error *err) {
    sm_sampler_params sp = sm_sampler_params_default();
    sp.temperature = p->temperature;
    sp.top_k = p->top_k;
    sp.top_p = p->top_p;
    sp.min_p = p->min_p;
    sp.repeat_penalty = p->repeat_penalty;
    sp.frequency_penalty = p->frequency_penalty;
    sp.presence_penalty = p->presence_penalty;
    sp.penalty_last_n = p->penalty_last_n;
    sp.seed = p->seed;
    sp.bias_ids = p->bias_ids;
    sp.bias_values = p->bias_values;
    sp.n_bias = p->n_bias;
    return sm_sampler_new(model->hp.n_vocab, &sp, out, err);
}

/* The caller's bias arrays are copied into the sampler; the session keeps no pointer to them. */
static void forget_bias(sm_session_params *p) {
    p->bias_ids = NULL;
    p->bias_values = NULL;
    p->n_bias = 0;
}

sm_status sm_session_new(sm_model *model, const sm_session_params *params, sm_session **out,
                         sm_error *err) {
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "out must not be NULL");
    *out = NULL;
    if (!model) return sm_err(err, SM_ERR_INVALID_ARG, "model must not be NULL");
    sm_session_params p;
    sm_status st = resolve_params(model, params, &p, err);
    if (st == SM_OK) st = check_budget(model, &p, err);
    if (st != SM_OK) return st;
    sm_session *s = calloc(1, sizeof *s);
    if (!s) return sm_err(err, SM_ERR_NOMEM, "out of memory allocating a session");
    s->model = model;
    s->params = p;
    forget_bias(&s->params);
    atomic_init(&s->cancel, 0);
    /* the sampler first: it validates the sampling options before anything large is allocated */
    st = new_sampler(model, &p, &s->sampler, err);
    if (st == SM_OK)
        st = sm_fwd_init(&s->fwd, model, p.n_ctx, p.n_batch, p.n_threads, kv_tensor_type(p.kv_type), err);
    if (st == SM_OK && p.min_parallel_work > 0) s->fwd.min_parallel_work = p.min_parallel_work;
    if (st == SM_OK) st = sm_pool_new(p.n_threads, &s->pool, err);
    if (st == SM_OK) {
        s->logits = malloc((size_t)model->hp.n_vocab * sizeof(float));
        s->history = malloc((size_t)p.n_ctx * sizeof(int32_t));
        if (!s->logits || !s->history) st = sm_err(err, SM_ERR_NOMEM, "out of memory for logits");
    }
    if (st != SM_OK) {
        sm_fwd_free(&s->fwd);
        sm_pool_free(s->pool);
        free(s->logits);
        free(s->history);
        sm_sampler_free(s->sampler);
        free(s);
        return st;
    }
    atomic_fetch_add(&model->n_sessions, 1);
    *out = s;
    return SM_OK;
}

void sm_session_free(sm_session *s) {
    if (!s) return;
    sm_fwd_free(&s->fwd);
    sm_pool_free(s->pool);
    free(s->logits);
    free(s->history);
    sm_sampler_free(s->sampler);
    atomic_fetch_sub(&s->model->n_sessions, 1);
    free(s);
}

static sm_status fail(sm_session *s, sm_status code, const char *msg) {
    return sm_err(&s->error, code, "%s", msg);
}

sm_status sm_session_decode(sm_session *s, const int32_t *tokens, int32_t n) {
    if (!s) return SM_ERR_INVALID_ARG;
    sm_err_clear(&s->error);
    atomic_store(&s->cancel, 0);
    if (n < 0 || (n > 0 && !tokens)) return fail(s, SM_ERR_INVALID_ARG, "tokens must not be NULL");
    if (n == 0) return SM_OK;
    const int32_t n_vocab = s->model->hp.n_vocab;
    for (int32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            return sm_err(&s->error, SM_ERR_INVALID_ARG, "token %d at index %d is outside the vocabulary [0, %d)",
                          tokens[i], i, n_vocab);
    if (n > s->params.n_ctx - s->n_past)
        return sm_err(&s->error, SM_ERR_CONTEXT_FULL, "%d tokens do not fit: %d of %d context positions are used",
                      n, s->n_past, s->params.n_ctx);
    const int32_t start = s->n_past;
    const int had_logits = s->has_logits; /* logits are only written when the last chunk completes */
    for (int32_t done = 0; done < n;) {
        const int32_t chunk = n - done < s->params.n_batch ? n - done : s->params.n_batch;
        const int last = done + chunk == n;
        sm_status st = sm_fwd_run(&s->fwd, s->model, s->pool, tokens + done, chunk, s->n_past,
                                  last ? s->logits : NULL, &s->cancel);
        if (st != SM_OK) {
            s->n_past = start;
            s->has_logits = had_logits;
            return fail(s, st, st == SM_ERR_CANCELLED ? "cancelled" : "forward pass failed");
        }
        s->n_past += chunk;
        done += chunk;
    }
    for (int32_t i = 0; i < n; i++) {
        s->history[start + i] = tokens[i];
        sm_sampler_accept(s->sampler, tokens[i]); /* penalties see the prompt too, as in llama.cpp */
    }
    s->has_logits = 1;
    return SM_OK;
}

sm_status sm_session_step(sm_session *s, int32_t *tok_out) {
    if (!s || !tok_out) return SM_ERR_INVALID_ARG;
    if (!s->has_logits) return fail(s, SM_ERR_INVALID_ARG, "decode a prompt before calling step");
    const sm_model *m = s->model;
    const int32_t tok = sm_sampler_sample(s->sampler, s->logits);
    const bool end = tok == m->eos_token || tok == m->eot_token ||
                     (m->tokenizer && sm_tok_is_eog(m->tokenizer, tok));
    if (!s->params.ignore_eos && end) return SM_DONE;
    if (s->n_past >= s->params.n_ctx) return SM_DONE;
    sm_status st = sm_session_decode(s, &tok, 1);
    if (st != SM_OK) return st;
    *tok_out = tok;
    return SM_OK;
}

const float *sm_session_logits(const sm_session *s) { return s && s->has_logits ? s->logits : NULL; }

int32_t sm_session_n_past(const sm_session *s) { return s ? s->n_past : 0; }

sm_status sm_session_rewind(sm_session *s, int32_t n_keep) {
    if (!s || n_keep < 0 || n_keep > s->n_past) return SM_ERR_INVALID_ARG;
    s->n_past = n_keep;
    s->has_logits = 0; /* the logits belonged to a position that may be gone */
    /* the penalty window is rebuilt from the tokens that remain (the RNG restarts from the seed) */
    sm_sampler_reset(s->sampler);
    for (int32_t i = 0; i < n_keep; i++) sm_sampler_accept(s->sampler, s->history[i]);
    return SM_OK;
}

sm_status sm_session_set_sampling(sm_session *s, const sm_session_params *params) {
    if (!s) return SM_ERR_INVALID_ARG;
    if (!params) return fail(s, SM_ERR_INVALID_ARG, "params must not be NULL");
    sm_sampler *next = NULL;
    sm_error e;
    sm_status st = new_sampler(s->model, params, &next, &e);
    if (st != SM_OK) return fail(s, st, e.msg);
    sm_sampler_free(s->sampler);
    s->sampler = next;
    sm_session_params *p = &s->params;
    p->temperature = params->temperature;
    p->top_k = params->top_k;
    p->top_p = params->top_p;
    p->min_p = params->min_p;
    p->repeat_penalty = params->repeat_penalty;
    p->frequency_penalty = params->frequency_penalty;
    p->presence_penalty = params->presence_penalty;
    p->penalty_last_n = params->penalty_last_n;
    p->seed = params->seed;
    p->ignore_eos = params->ignore_eos;
    for (int32_t i = 0; i < s->n_past; i++) sm_sampler_accept(s->sampler, s->history[i]);
    return SM_OK;
}

void sm_session_cancel(sm_session *s) {
    if (s) atomic_store(&s->cancel, 1);
}

const char *sm_session_last_error(const sm_session *s) { return s ? s->error.msg : ""; }
