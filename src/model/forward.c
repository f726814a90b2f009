/*
 * forward.c — the llama-family forward pass (Touvron et al. 2023): embedding, then per layer
 *   x += Wo · attn(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))     n = RMSNorm, causal GQA attention
 *   x += Wdown · (silu(Wgate·n(x)) ⊙ Wup·n(x))               SwiGLU FFN
 * and finally logits = Wout · n(x) for the last token. Every matmul covers the whole batch, so a
 * prompt is processed as matrix-matrix products. Parallel regions split rows (matmuls: runs taken
 * from a shared counter) or (token, head) pairs (attention: fixed ranges); either way the results
 * do not depend on the thread count.
 */
#include "model/forward.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern/ops.h"
#include "util/error.h"

/* Every buffer of a forward state, by index, so sizing (also used for memory estimates before
 * anything is allocated) and allocation share one formula. */
enum {
    FB_K_CACHE, FB_V_CACHE, FB_X, FB_XB, FB_Q, FB_K, FB_V, FB_GATE, FB_UP, FB_OUT, FB_WIDE,
    FB_SCORES, FB_ROPE, FB_XQ, FB_COUNT
};

static void fwd_sizes(const sm_hparams *hp, int32_t n_ctx, int32_t n_batch, int32_t n_threads,
                      int32_t kv_type, uint64_t bytes[FB_COUNT]) {
    const uint64_t q = (uint64_t)hp->n_head * hp->head_dim, kv = (uint64_t)hp->n_head_kv * hp->head_dim;
    const uint64_t embd = (uint64_t)hp->n_embd, ff = (uint64_t)hp->n_ff, b = (uint64_t)n_batch, f = sizeof(float);
    const uint64_t elt = kv_type == SM_TYPE_F16 ? sizeof(uint16_t) : sizeof(float);
    const uint64_t cache = (uint64_t)hp->n_layer * (uint64_t)n_ctx * kv * elt;
    bytes[FB_K_CACHE] = bytes[FB_V_CACHE] = cache;
    bytes[FB_X] = bytes[FB_OUT] = b * embd * f;
    bytes[FB_XB] = b * (embd > q ? embd : q) * f;
    bytes[FB_Q] = b * q * f;
    bytes[FB_K] = bytes[FB_V] = b * kv * f;
    bytes[FB_GATE] = bytes[FB_UP] = b * ff * f;
    /* fused projections (Phi-3's attn_qkv and gate+up) land here before they are split */
    bytes[FB_WIDE] = b * (q + 2 * kv > 2 * ff ? q + 2 * kv : 2 * ff) * f;
    bytes[FB_SCORES] = (uint64_t)(n_threads < 1 ? 1 : n_threads) * (uint64_t)n_ctx * f;
    bytes[FB_ROPE] = b * (uint64_t)(hp->n_rot / 2) * 2 * f;
    /* F32 is the widest vec_dot_type (4 bytes per element), so this fits every conversion */
    const uint64_t widest = (embd > q ? embd : q) > ff ? (embd > q ? embd : q) : ff;
    bytes[FB_XQ] = b * widest * f;
}

void sm_fwd_bytes(const sm_hparams *hp, int32_t n_ctx, int32_t n_batch, int32_t n_threads,
                  int32_t kv_type, uint64_t *kv_cache, uint64_t *scratch) {
    uint64_t bytes[FB_COUNT];
    fwd_sizes(hp, n_ctx, n_batch, n_threads, kv_type, bytes);
    *kv_cache = bytes[FB_K_CACHE] + bytes[FB_V_CACHE];
    *scratch = 0;
    for (int i = FB_X; i < FB_COUNT; i++) *scratch += bytes[i];
}

sm_status sm_fwd_init(sm_fwd *f, const sm_model *m, int32_t n_ctx, int32_t n_batch,
                      int32_t n_threads, int32_t kv_type, sm_error *err) {
    memset(f, 0, sizeof *f);
    f->kv = sm_kern_attn(kv_type);
    if (!f->kv) return sm_err(err, SM_ERR_INVALID_ARG, "unsupported KV cache type %d", kv_type);
    f->n_ctx = n_ctx;
    f->n_batch = n_batch;
    f->n_threads = n_threads < 1 ? 1 : n_threads;
    f->min_parallel_work = SM_FWD_MIN_PARALLEL_WORK;
    uint64_t bytes[FB_COUNT];
    fwd_sizes(&m->hp, n_ctx, n_batch, f->n_threads, kv_type, bytes);
    void **slot[FB_COUNT] = {
        [FB_K_CACHE] = &f->k_cache,          [FB_V_CACHE] = &f->v_cache,
        [FB_X] = (void **)&f->x,             [FB_XB] = (void **)&f->xb,
        [FB_Q] = (void **)&f->q,             [FB_K] = (void **)&f->k,
        [FB_V] = (void **)&f->v,             [FB_GATE] = (void **)&f->gate,
        [FB_UP] = (void **)&f->up,           [FB_OUT] = (void **)&f->out,
        [FB_WIDE] = (void **)&f->wide,       [FB_SCORES] = (void **)&f->scores,
        [FB_ROPE] = (void **)&f->rope,       [FB_XQ] = (void **)&f->xq,
    };
    for (int i = 0; i < FB_COUNT; i++) {
        /* sizes are 64-bit so a 32-bit (WASM) size_t cannot wrap them into a small allocation */
        if (bytes[i] > SIZE_MAX || !(*slot[i] = malloc(bytes[i] ? (size_t)bytes[i] : 1))) {
            sm_fwd_free(f);
            return sm_err(err, SM_ERR_NOMEM, "out of memory for a %d-token context (KV cache %llu MiB)",
                          n_ctx, (unsigned long long)((bytes[FB_K_CACHE] * 2) >> 20));
        }
    }
    return SM_OK;
}

void sm_fwd_free(sm_fwd *f) {
    if (!f) return;
    free(f->k_cache), free(f->v_cache), free(f->x), free(f->xb), free(f->q), free(f->k);
    free(f->v), free(f->gate), free(f->up), free(f->out), free(f->wide), free(f->scores), free(f->rope), free(f->xq);
    memset(f, 0, sizeof *f);
}

/* ---- parallel regions ---------------------------------------------------------------------- */

/* Every region claims its work from counters in its task (pool.h): the threads that turn up share
 * it, and the caller alone can finish it. */

typedef struct convert_task {
    int32_t type;
    const float *x;
    void *xq;
    int64_t n;
    int n_tok;
    atomic_int next_tok; /* the first token no thread has taken yet */
} convert_task;

static void convert_worker(void *ctx, int ith, int nth) {
    (void)ith, (void)nth;
    convert_task *t = ctx;
    for (int tok; (tok = atomic_fetch_add(&t->next_tok, 1)) < t->n_tok;)
        sm_kern_convert_rows(t->type, t->x, t->xq, t->n, tok, tok + 1);
}

/* Weights that share their input and its conversion run as one region (Wq, Wk and Wv; Wgate and
 * Wup): the threads meet once at its end rather than after each weight. */
enum { MATMUL_MAX_FUSED = 3 };

typedef struct matmul_task {
    const void *xq;
    int n_tok, n_w;
    const sm_weight *w[MATMUL_MAX_FUSED];
    float *y[MATMUL_MAX_FUSED];
    atomic_llong next_row[MATMUL_MAX_FUSED]; /* per weight, the first row no thread has taken yet */
} matmul_task;

/* Takes the next run of rows [*lo, return value) of a weight with n_out rows, or returns 0 when
 * none is left. Threads take runs from a shared counter rather than fixed halves: on a busy
 * machine (a browser tab, a shared VM) one thread is often descheduled for a while, and with fixed
 * shares the others would wait for it at the end of the region. A run is a quarter of a thread's
 * share of the rows still untaken (whole 16-row blocks), so runs start long, which the hardware
 * prefetcher needs at decode time (fixed 16-row runs decoded a third slower), and shrink towards
 * the end, so the threads finish within about one 16-row block of each other. Which thread
 * computes a row does not change its result. */
static int64_t take_rows(atomic_llong *next_row, int64_t n_out, int nth, int64_t *lo) {
    long long at = atomic_load_explicit(next_row, memory_order_relaxed);
    for (;;) {
        if (at >= n_out) return 0;
        int64_t run = (n_out - at + 4 * nth - 1) / (4 * nth);
        run = (run + SM_MATMUL_ROW_BLOCK - 1) / SM_MATMUL_ROW_BLOCK * SM_MATMUL_ROW_BLOCK;
        const int64_t hi = at + run < n_out ? at + run : n_out;
        if (atomic_compare_exchange_weak(next_row, &at, (long long)hi)) {
            *lo = at;
            return hi;
        }
    }
}

static void matmul_worker(void *ctx, int ith, int nth) {
    (void)ith;
    matmul_task *t = ctx;
    for (int i = 0; i < t->n_w; i++) {
        const sm_weight *w = t->w[i];
        int64_t lo, hi;
        while ((hi = take_rows(&t->next_row[i], w->n_out, nth, &lo)) > 0)
            sm_kern_matmul_rows(w, t->xq, t->n_tok, t->y[i], w->n_out, lo, hi);
    }
}

/* Regions with less work than f->min_parallel_work (multiply-adds, or element operations for
 * conversions; default 2^18) run on the calling thread alone: handing a region to the other
 * threads and waiting for the last of them costs microseconds (an Atomics.notify/wait round trip
 * in browsers, more when the cores are shared with the browser's own processes), more than the
 * work in the small matmuls of a 15M-parameter model or the conversion of one token's activations.
 * Which thread computes a result does not change it, so this does not affect determinism. */
static void run_region(const sm_fwd *f, sm_pool *pool, sm_pool_fn fn, void *ctx, int64_t work) {
    if (work < f->min_parallel_work) fn(ctx, 0, 1);
    else sm_pool_run(pool, fn, ctx);
}

/* y[t] = W · x[t] for each of n weights sharing the input x: [n_tok][n_in]. Consecutive weights
 * with the same vec_dot_type share one conversion of x and one parallel region. */
static void matmul_many(sm_fwd *f, sm_pool *pool, const float *x, int n_tok, const sm_weight *const *w,
                        float *const *y, int n) {
    int32_t converted = -1;
    for (int i = 0; i < n;) {
        const sm_type vt = w[i]->traits->vec_dot_type;
        if ((int32_t)vt != converted) {
            convert_task ct = {.type = vt, .x = x, .xq = f->xq, .n = w[i]->n_in, .n_tok = n_tok};
            atomic_init(&ct.next_tok, 0);
            /* a conversion costs a few operations per element; threads split it by token */
            run_region(f, pool, convert_worker, &ct, n_tok > 1 ? 4 * (int64_t)n_tok * w[i]->n_in : 0);
            converted = (int32_t)vt;
        }
        matmul_task mt = {.xq = f->xq, .n_tok = n_tok};
        int64_t work = 0;
        for (; i < n && mt.n_w < MATMUL_MAX_FUSED && w[i]->traits->vec_dot_type == vt; i++, mt.n_w++) {
            mt.w[mt.n_w] = w[i];
            mt.y[mt.n_w] = y[i];
            atomic_init(&mt.next_row[mt.n_w], 0);
            work += (int64_t)n_tok * w[i]->n_in * w[i]->n_out;
        }
        run_region(f, pool, matmul_worker, &mt, work);
    }
}

static void matmul_one(sm_fwd *f, sm_pool *pool, const float *x, int n_tok, const sm_weight *w, float *y) {
    matmul_many(f, pool, x, n_tok, &w, &y, 1);
}

typedef struct attn_task {
    sm_fwd *f;
    const sm_hparams *hp;
    int layer, n_tok;
    int32_t pos0;
    int32_t n_swa; /* sliding window of this layer; 0 = attend to every earlier position */
    atomic_int next_item; /* the first (token, head) pair no thread has taken yet */
} attn_task;

/* out[t][h] = softmax(cap(q[t][h] · K[j0..pos_t][kvh] / sqrt(head_dim))) · V[j0..pos_t][kvh]
 * for the (t, h) pairs in this thread's share; written into f->xb as [n_tok][n_q].
 * j0 = 0, or pos_t - n_swa + 1 in a sliding-window layer; cap(s) = c·tanh(s/c) when soft-capped.
 * The cache's kernels (attn.h) do the loops over positions, vectorized over the head dimension. */
static void attn_worker(void *ctx, int ith, int nth) {
    attn_task *a = ctx;
    const sm_hparams *hp = a->hp;
    sm_fwd *f = a->f;
    const sm_attn_kernels *kv = f->kv;
    const int hd = hp->head_dim, n_kv = hp->n_head_kv * hd, n_q = hp->n_head * hd;
    const int group = hp->n_head / hp->n_head_kv;
    const float scale = 1.0f / sqrtf((float)hd), cap = hp->attn_softcap;
    const size_t layer_at = (size_t)a->layer * f->n_ctx * n_kv * kv->elt_size;
    const uint8_t *kc = (const uint8_t *)f->k_cache + layer_at;
    const uint8_t *vc = (const uint8_t *)f->v_cache + layer_at;
    float *sc = f->scores + (size_t)ith * f->n_ctx; /* this thread's scratch */
    (void)nth;
    for (int item; (item = atomic_fetch_add(&a->next_item, 1)) < a->n_tok * hp->n_head;) {
        const int t = (int)(item / hp->n_head), h = (int)(item % hp->n_head), kvh = h / group;
        const int pos = a->pos0 + t; /* causal: positions j0..pos */
        const int j0 = a->n_swa > 0 && pos - a->n_swa + 1 > 0 ? pos - a->n_swa + 1 : 0;
        const int n_seen = pos - j0 + 1;
        const float *qh = f->q + (size_t)t * n_q + (size_t)h * hd;
        const size_t at = ((size_t)j0 * n_kv + (size_t)kvh * hd) * kv->elt_size;
        kv->scores(sc, qh, kc + at, (size_t)n_kv, n_seen, hd, scale);
        if (cap > 0.0f)
            for (int j = 0; j < n_seen; j++) sc[j] = cap * tanhf(sc[j] / cap);
        sm_kern_softmax(sc, n_seen);
        kv->mix(f->xb + (size_t)t * n_q + (size_t)h * hd, sc, vc + at, (size_t)n_kv, n_seen, hd);
    }
}

/* ---- the pass ------------------------------------------------------------------------------ */

static void embed(const sm_model *m, const int32_t *tokens, int n_tok, float *x) {
    const sm_weight *e = &m->tok_embd;
    for (int t = 0; t < n_tok; t++)
        e->traits->to_float(e->data + (size_t)tokens[t] * e->row_bytes, x + (size_t)t * e->n_in, e->n_in);
    if (m->arch->scale_embd) { /* Gemma: embeddings times sqrt(n_embd) */
        const float g = sqrtf((float)e->n_in);
        for (int64_t i = 0; i < (int64_t)n_tok * e->n_in; i++) x[i] *= g;
    }
}

/* y[t][:] += b for each of n_tok rows of width n (b may be NULL). */
static void add_bias(float *y, const float *b, int n_tok, int64_t n) {
    if (!b) return;
    for (int t = 0; t < n_tok; t++) sm_kern_add(y + (size_t)t * n, b, (int)n);
}

/* Copies columns [c0, c0 + n) of rows of width `width` into dense rows of width n. */
static void split_cols(float *dst, const float *src, int n_tok, int64_t width, int64_t c0, int64_t n) {
    for (int t = 0; t < n_tok; t++) memcpy(dst + (size_t)t * n, src + (size_t)t * width + c0, (size_t)n * sizeof(float));
}

static void rmsnorm_rows(float *y, const float *x, const float *w, int n_tok, int n, float eps) {
    for (int t = 0; t < n_tok; t++) sm_kern_rmsnorm(y + (size_t)t * n, x + (size_t)t * n, w, n, eps);
}

/* Normalizes (Qwen3) and rotates q and k of every token and head, then appends k and v to the
 * layer's cache. */
static void rope_and_store(sm_fwd *f, const sm_model *m, int layer, int n_tok, int32_t pos0) {
    const sm_hparams *hp = &m->hp;
    const sm_layer *L = &m->layers[layer];
    const int hd = hp->head_dim, n_kv = hp->n_head_kv * hd, n_q = hp->n_head * hd, half = hp->n_rot / 2;
    for (int t = 0; t < n_tok; t++) {
        const float(*cs)[2] = (const float(*)[2])f->rope + (size_t)t * half;
        for (int h = 0; h < hp->n_head; h++) {
            float *qh = f->q + (size_t)t * n_q + (size_t)h * hd;
            if (L->q_norm) sm_kern_rmsnorm(qh, qh, L->q_norm, hd, hp->norm_eps);
            sm_kern_rope_apply(qh, hp->n_rot, cs, m->arch->rope_mode);
        }
        for (int h = 0; h < hp->n_head_kv; h++) {
            float *kh = f->k + (size_t)t * n_kv + (size_t)h * hd;
            if (L->k_norm) sm_kern_rmsnorm(kh, kh, L->k_norm, hd, hp->norm_eps);
            sm_kern_rope_apply(kh, hp->n_rot, cs, m->arch->rope_mode);
        }
    }
    const size_t at = ((size_t)layer * f->n_ctx + (size_t)pos0) * n_kv * f->kv->elt_size;
    f->kv->store((uint8_t *)f->k_cache + at, f->k, n_tok * n_kv);
    f->kv->store((uint8_t *)f->v_cache + at, f->v, n_tok * n_kv);
}

/* q, k, v of the batch from the normed input in f->xb: three matmuls, or one fused matmul split
 * by columns (Phi-3); then the biases (Qwen2). */
static void project_qkv(sm_fwd *f, const sm_model *m, sm_pool *pool, const sm_layer *L, int n_tok) {
    const sm_hparams *hp = &m->hp;
    const int64_t n_q = (int64_t)hp->n_head * hp->head_dim, n_kv = (int64_t)hp->n_head_kv * hp->head_dim;
    if (L->wqkv.data) {
        matmul_one(f, pool, f->xb, n_tok, &L->wqkv, f->wide);
        split_cols(f->q, f->wide, n_tok, n_q + 2 * n_kv, 0, n_q);
        split_cols(f->k, f->wide, n_tok, n_q + 2 * n_kv, n_q, n_kv);
        split_cols(f->v, f->wide, n_tok, n_q + 2 * n_kv, n_q + n_kv, n_kv);
    } else {
        const sm_weight *w[3] = {&L->wq, &L->wk, &L->wv};
        float *const y[3] = {f->q, f->k, f->v};
        matmul_many(f, pool, f->xb, n_tok, w, y, 3);
    }
    add_bias(f->q, L->bq, n_tok, n_q);
    add_bias(f->k, L->bk, n_tok, n_kv);
    add_bias(f->v, L->bv, n_tok, n_kv);
}

/* f->gate = act(gate) * up from the normed input in f->xb: two matmuls, or one fused matmul
 * whose first n_ff columns are the gate (Phi-3). */
static void project_ffn(sm_fwd *f, const sm_model *m, sm_pool *pool, const sm_layer *L, int n_tok) {
    const int64_t n_ff = m->hp.n_ff;
    if (L->w_gate_up.data) {
        matmul_one(f, pool, f->xb, n_tok, &L->w_gate_up, f->wide);
        split_cols(f->gate, f->wide, n_tok, 2 * n_ff, 0, n_ff);
        split_cols(f->up, f->wide, n_tok, 2 * n_ff, n_ff, n_ff);
    } else {
        const sm_weight *w[2] = {&L->w_gate, &L->w_up};
        float *const y[2] = {f->gate, f->up};
        matmul_many(f, pool, f->xb, n_tok, w, y, 2);
    }
    if (m->arch->ffn_act == SM_FFN_GELU) sm_kern_geglu(f->gate, f->gate, f->up, (int)(n_tok * n_ff));
    else sm_kern_swiglu(f->gate, f->gate, f->up, (int)(n_tok * n_ff));
}

/* x += norm_post(out) (Gemma 2's post-norms), or x += out. */
static void residual_add(float *x, float *out, const float *post_norm, int n_tok, int n, float eps) {
    if (post_norm) rmsnorm_rows(out, out, post_norm, n_tok, n, eps);
    sm_kern_add(x, out, n_tok * n);
}

static void layer_forward(sm_fwd *f, const sm_model *m, sm_pool *pool, int il, int n_tok, int32_t pos0) {
    const sm_hparams *hp = &m->hp;
    const sm_layer *L = &m->layers[il];
    const int n_embd = hp->n_embd;
    /* attention block */
    rmsnorm_rows(f->xb, f->x, L->attn_norm, n_tok, n_embd, hp->norm_eps);
    project_qkv(f, m, pool, L, n_tok);
    rope_and_store(f, m, il, n_tok, pos0);
    /* Gemma 2 slides a window over even layers (llama.cpp's SWA pattern 2) */
    const int32_t n_swa = m->arch->swa_even_layers && il % 2 == 0 ? hp->n_swa : 0;
    attn_task at = {.f = f, .hp = hp, .layer = il, .n_tok = n_tok, .pos0 = pos0, .n_swa = n_swa};
    atomic_init(&at.next_item, 0);
    /* scores and mixing: two multiply-adds per head dimension and visible position */
    run_region(f, pool, attn_worker, &at,
               2 * (int64_t)n_tok * hp->n_head * hp->head_dim * (pos0 + n_tok));
    matmul_one(f, pool, f->xb, n_tok, &L->wo, f->out);
    residual_add(f->x, f->out, L->attn_post_norm, n_tok, n_embd, hp->norm_eps);
    /* feed-forward block */
    rmsnorm_rows(f->xb, f->x, L->ffn_norm, n_tok, n_embd, hp->norm_eps);
    project_ffn(f, m, pool, L, n_tok);
    matmul_one(f, pool, f->gate, n_tok, &L->w_down, f->out);
    residual_add(f->x, f->out, L->ffn_post_norm, n_tok, n_embd, hp->norm_eps);
}

sm_status sm_fwd_run(sm_fwd *f, const sm_model *m, sm_pool *pool, const int32_t *tokens, int n_tok,
                     int32_t pos0, float *logits, const atomic_int *cancel) {
    const sm_hparams *hp = &m->hp;
    if (n_tok <= 0 || n_tok > f->n_batch || pos0 < 0 || pos0 + n_tok > f->n_ctx) return SM_ERR_INVALID_ARG;
    embed(m, tokens, n_tok, f->x);
    /* LongRoPE: the long factor set once the context exceeds the original training context */
    const float *factors = m->rope_freqs_long && f->n_ctx > hp->n_ctx_orig ? m->rope_freqs_long : m->rope_freqs;
    const int half = hp->n_rot / 2;
    for (int t = 0; t < n_tok; t++) {
        float(*cs)[2] = f->rope + (size_t)t * half;
        sm_kern_rope_angles(cs, hp->n_rot, pos0 + t, hp->rope_base, hp->rope_scale, factors);
        if (hp->rope_attn_factor != 1.0f)
            for (int i = 0; i < half; i++) cs[i][0] *= hp->rope_attn_factor, cs[i][1] *= hp->rope_attn_factor;
    }
    for (int il = 0; il < hp->n_layer; il++) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed)) return SM_ERR_CANCELLED;
        layer_forward(f, m, pool, il, n_tok, pos0);
    }
    if (logits) {
        const float *last = f->x + (size_t)(n_tok - 1) * hp->n_embd;
        sm_kern_rmsnorm(f->xb, last, m->output_norm, hp->n_embd, hp->norm_eps);
        matmul_one(f, pool, f->xb, 1, &m->output, logits);
        const float cap = hp->final_softcap;
        if (cap > 0.0f)
            for (int32_t i = 0; i < hp->n_vocab; i++) logits[i] = cap * tanhf(logits[i] / cap);
    }
    return SM_OK;
}
