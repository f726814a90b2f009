/*
 * sampler.c — the sampler chain of sampler.h: one small function per stage, run in llama.cpp's
 * common order (bias, penalties, top-k, top-p, min-p, temperature + draw).
 *
 * Candidates are (logit, id) pairs compared by a total order (logit descending, id ascending), so
 * no result depends on how a sort treats equal keys. Sorting is a binary heap popped only as far
 * as a stage needs (k for top-k, up to the top-p mass for top-p): no qsort (glibc's may allocate)
 * and no full sort of the vocabulary unless top-p needs it. Probabilities use det_exp(), built
 * from IEEE-exact operations, so the same seed gives the same tokens natively and in WASM.
 */
#include "sample/sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sample/sample.h"
#include "util/error.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would change det_exp's bits per target */
#endif

typedef struct sm_cand {
    float logit;
    int32_t id;
} sm_cand;

struct sm_sampler {
    int32_t n_vocab;
    sm_sampler_params p; /* bias pointers cleared: the table below holds the biases */
    sm_rng rng;
    float *bias;         /* [n_vocab] added to the logits; NULL when n_bias == 0 */
    int32_t *count;      /* [n_vocab] occurrences in the window; NULL when penalties are off */
    int32_t *ring;       /* [penalty_last_n] the window, oldest at ring_head once full */
    int32_t ring_head, ring_len;
    sm_cand *cand;       /* [n_vocab] working candidates (a heap while sorting) */
    sm_cand *sorted;     /* [n_vocab] candidates popped from the heap, best first */
    double *weight;      /* [n_vocab] unnormalized probabilities of the draw */
};

/* ---- helpers ---------------------------------------------------------------------------------- */

/* e^x for x <= 0 (larger x is clamped) with only +, *, floor and ldexp: the same bits everywhere.
 * Range reduction x = k ln2 + r, |r| <= ln2/2, then a degree-13 Taylor polynomial (error < 1e-16).
 * x > -745 keeps k >= -1075. */
static double det_exp(double x) {
    if (!(x > -745.0)) return 0.0; /* also NaN (from -inf - -inf): weight 0 */
    if (x > 0.0) x = 0.0;
    const double k = floor(x * 1.4426950408889634 + 0.5);
    const double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0; /* 1/13! */
    static const double inv_fact[13] = {
        1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
        1.0 / 5040.0,      1.0 / 720.0,      1.0 / 120.0,     1.0 / 24.0,     1.0 / 6.0,
        1.0 / 2.0,         1.0,              1.0};
    for (int i = 0; i < 13; i++) p = p * r + inv_fact[i];
    /* times 2^k, k in [-1075, 0], built from bits (libm's ldexp is slow); two exact steps keep
     * the exponent field normal, so only the last multiply may round (into a subnormal) */
    const int64_t half = (int64_t)k / 2;
    const uint64_t b1 = (uint64_t)(half + 1023) << 52, b2 = (uint64_t)((int64_t)k - half + 1023) << 52;
    double s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return p * s1 * s2;
}

/* The total order: a ranks before b. */
static bool better(sm_cand a, sm_cand b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

static void sift_down(sm_cand *h, int32_t n, int32_t i) {
    for (;;) {
        int32_t best = i;
        const int32_t l = 2 * i + 1, r = l + 1;
        if (l < n && better(h[l], h[best])) best = l;
        if (r < n && better(h[r], h[best])) best = r;
        if (best == i) return;
        const sm_cand t = h[i];
        h[i] = h[best];
        h[best] = t;
        i = best;
    }
}

static void heap_build(sm_cand *h, int32_t n) {
    for (int32_t i = n / 2 - 1; i >= 0; i--) sift_down(h, n, i);
}

/* Removes and returns the best of heap h[*n]. */
static sm_cand heap_pop(sm_cand *h, int32_t *n) {
    const sm_cand top = h[0];
    h[0] = h[--*n];
    sift_down(h, *n, 0);
    return top;
}

static float max_logit(const sm_cand *c, int32_t n) {
    float m = c[0].logit;
    for (int32_t i = 1; i < n; i++)
        if (c[i].logit > m) m = c[i].logit;
    return m;
}

/* ---- stages ----------------------------------------------------------------------------------- */

/* Bias then penalties (llama.cpp's order), as the candidates [n_vocab] in id order. */
static void stage_fill(const sm_sampler *s, const float *logits, sm_cand *c) {
    const sm_sampler_params *p = &s->p;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        float l = logits[i];
        if (s->bias) l += s->bias[i];
        const int32_t cnt = s->count ? s->count[i] : 0;
        if (cnt > 0) {
            /* dividing a negative logit would make the token likelier: multiply it instead */
            l = l <= 0.0f ? l * p->repeat_penalty : l / p->repeat_penalty;
            l -= (float)cnt * p->frequency_penalty + p->presence_penalty;
        }
        c[i] = (sm_cand){l, i};
    }
}

/* Greedy: the best candidate by the total order (the lowest id among equal maxima). */
static sm_cand stage_argmax(const sm_cand *c, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (better(c[i], c[best])) best = i;
    return c[best];
}

/* Top-k from the heap h[*n]: pops the k best into out, best first. Returns k. */
static int32_t stage_top_k(sm_cand *h, int32_t *n, int32_t k, sm_cand *out) {
    for (int32_t i = 0; i < k; i++) out[i] = heap_pop(h, n);
    return k;
}

/* Top-p over sorted c[n]: the shortest prefix whose probability reaches top_p (at least 1). */
static int32_t stage_top_p_sorted(const sm_cand *c, int32_t n, float top_p) {
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += det_exp((double)c[i].logit - c[0].logit);
    const double target = (double)top_p * sum;
    double cum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        cum += det_exp((double)c[i].logit - c[0].logit);
        if (cum >= target) return i + 1;
    }
    return n;
}

/* Top-p over the heap h[*n] (unsorted beyond the root): pops into out only as far as the
 * probability mass reaches top_p, so a small nucleus never sorts the whole vocabulary. */
static int32_t stage_top_p_heap(sm_cand *h, int32_t *n, float top_p, sm_cand *out) {
    const double max = h[0].logit;
    double sum = 0.0;
    for (int32_t i = 0; i < *n; i++) sum += det_exp((double)h[i].logit - max);
    const double target = (double)top_p * sum;
    double cum = 0.0;
    int32_t m = 0;
    while (*n > 0) {
        out[m] = heap_pop(h, n);
        cum += det_exp((double)out[m++].logit - max);
        if (cum >= target) break;
    }
    return m;
}

/* Min-p over c[n]: keeps, in order, tokens with p >= min_p * p_max, i.e. e^(l - max) >= min_p. */
static int32_t stage_min_p(sm_cand *c, int32_t n, float min_p) {
    const double max = max_logit(c, n);
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (det_exp((double)c[i].logit - max) >= (double)min_p) c[m++] = c[i];
    return m; /* >= 1: the maximum always passes (min_p <= 1) */
}

/* Temperature and the draw: one uniform against the cumulative softmax(l / T) over c[n];
 * w [n] is scratch. */
static int32_t stage_draw(const sm_cand *c, int32_t n, float temperature, sm_rng *rng, double *w) {
    const double max = max_logit(c, n), t = temperature;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += w[i] = det_exp(((double)c[i].logit - max) / t);
    double r = sm_rng_uniform_f64(rng) * sum;
    int32_t last = 0; /* the last candidate with weight: rounding may leave r >= 0 at the end */
    for (int32_t i = 0; i < n; i++) {
        if (w[i] <= 0.0) continue;
        last = i;
        r -= w[i];
        if (r < 0.0) return c[i].id;
    }
    return c[last].id;
}

/* ---- the chain -------------------------------------------------------------------------------- */

sm_sampler_params sm_sampler_params_default(void) {
    return (sm_sampler_params){.temperature = 1.0f, .top_p = 1.0f, .repeat_penalty = 1.0f};
}

static sm_status validate(int32_t n_vocab, const sm_sampler_params *p, sm_error *err) {
    if (n_vocab < 1) return sm_err(err, SM_ERR_INVALID_ARG, "sampler: n_vocab %d < 1", n_vocab);
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: temperature %g must be finite and >= 0",
                      (double)p->temperature);
    if (p->top_k < 0)
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: top_k %d < 0", p->top_k);
    if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: top_p %g outside [0, 1]", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: min_p %g outside [0, 1]", (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: repeat_penalty %g must be finite and > 0",
                      (double)p->repeat_penalty);
    if (!isfinite(p->frequency_penalty))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: frequency_penalty must be finite");
    if (!isfinite(p->presence_penalty))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: presence_penalty must be finite");
    if (p->penalty_last_n < 0)
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: penalty_last_n %d < 0", p->penalty_last_n);
    if (p->n_bias < 0) return sm_err(err, SM_ERR_INVALID_ARG, "sampler: n_bias %d < 0", p->n_bias);
    if (p->n_bias > 0 && (!p->bias_ids || !p->bias_values))
        return sm_err(err, SM_ERR_INVALID_ARG, "sampler: n_bias %d with NULL bias_ids/bias_values",
                      p->n_bias);
    for (int32_t i = 0; i < p->n_bias; i++) {
        if (p->bias_ids[i] < 0 || p->bias_ids[i] >= n_vocab)
            return sm_err(err, SM_ERR_INVALID_ARG, "sampler: bias_ids[%d] = %d outside [0, %d)", i,
                          p->bias_ids[i], n_vocab);
        const float v = p->bias_values[i];
        if (isnan(v) || (isinf(v) && v > 0.0f))
            return sm_err(err, SM_ERR_INVALID_ARG,
                          "sampler: bias_values[%d] must be a number or -infinity", i);
    }
    return SM_OK;
}

sm_status sm_sampler_new(int32_t n_vocab, const sm_sampler_params *p, sm_sampler **out,
                         sm_error *err) {
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "sampler: out is NULL");
    *out = NULL;
    if (!p) return sm_err(err, SM_ERR_INVALID_ARG, "sampler: params is NULL");
    const sm_status st = validate(n_vocab, p, err);
    if (st != SM_OK) return st;

    sm_sampler *s = calloc(1, sizeof *s);
    if (!s) return sm_err(err, SM_ERR_NOMEM, "sampler: out of memory");
    s->n_vocab = n_vocab;
    s->p = *p;
    s->p.bias_ids = NULL;
    s->p.bias_values = NULL;
    const size_t n = (size_t)n_vocab;
    s->cand = malloc(n * sizeof *s->cand);
    s->sorted = malloc(n * sizeof *s->sorted);
    s->weight = malloc(n * sizeof *s->weight);
    bool ok = s->cand && s->sorted && s->weight;
    if (ok && p->n_bias > 0) {
        ok = (s->bias = calloc(n, sizeof *s->bias)) != NULL;
        for (int32_t i = 0; ok && i < p->n_bias; i++) s->bias[p->bias_ids[i]] += p->bias_values[i];
    }
    const bool penalties = p->penalty_last_n > 0 &&
                           (p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f ||
                            p->presence_penalty != 0.0f);
    if (ok && penalties) {
        s->count = calloc(n, sizeof *s->count);
        s->ring = malloc((size_t)p->penalty_last_n * sizeof *s->ring);
        ok = s->count && s->ring;
    }
    if (!ok) {
        sm_sampler_free(s);
        return sm_err(err, SM_ERR_NOMEM, "sampler: out of memory for n_vocab %d", n_vocab);
    }
    sm_rng_seed(&s->rng, p->seed);
    *out = s;
    return SM_OK;
}

void sm_sampler_free(sm_sampler *s) {
    if (!s) return;
    free(s->cand);
    free(s->sorted);
    free(s->weight);
    free(s->bias);
    free(s->count);
    free(s->ring);
    free(s);
}

void sm_sampler_accept(sm_sampler *s, int32_t tok) {
    if (!s || !s->count || tok < 0 || tok >= s->n_vocab) return;
    const int32_t cap = s->p.penalty_last_n;
    if (s->ring_len == cap) { /* full: the oldest leaves the window */
        s->count[s->ring[s->ring_head]]--;
        s->ring[s->ring_head] = tok;
        s->ring_head = (s->ring_head + 1) % cap;
    } else {
        s->ring[(s->ring_head + s->ring_len) % cap] = tok;
        s->ring_len++;
    }
    s->count[tok]++;
}

void sm_sampler_reset(sm_sampler *s) {
    if (!s) return;
    for (int32_t i = 0; s->count && i < s->ring_len; i++)
        s->count[s->ring[(s->ring_head + i) % s->p.penalty_last_n]] = 0;
    s->ring_head = s->ring_len = 0;
    sm_rng_seed(&s->rng, s->p.seed);
}

/* Runs every stage before the draw; returns the surviving candidates and their count in *n. */
static const sm_cand *run_chain(sm_sampler *s, const float *logits, int32_t *n_out) {
    const sm_sampler_params *p = &s->p;
    sm_cand *c = s->cand;
    int32_t n = s->n_vocab;
    stage_fill(s, logits, c);
    if (p->temperature == 0.0f) { /* greedy; truncation always keeps the argmax */
        s->sorted[0] = stage_argmax(c, n);
        *n_out = 1;
        return s->sorted;
    }
    const bool top_k = p->top_k > 0 && p->top_k < n, top_p = p->top_p < 1.0f;
    if (top_k || top_p) {
        int32_t n_heap = n;
        heap_build(c, n_heap);
        if (top_k) {
            n = stage_top_k(c, &n_heap, p->top_k, s->sorted);
            if (top_p) n = stage_top_p_sorted(s->sorted, n, p->top_p);
        } else {
            n = stage_top_p_heap(c, &n_heap, p->top_p, s->sorted);
        }
        c = s->sorted;
    }
    if (p->min_p > 0.0f) n = stage_min_p(c, n, p->min_p);
    *n_out = n;
    return c;
}

int32_t sm_sampler_sample(sm_sampler *s, const float *logits) {
    int32_t n;
    const sm_cand *c = run_chain(s, logits, &n);
    if (s->p.temperature == 0.0f) return c[0].id;
    return stage_draw(c, n, s->p.temperature, &s->rng, s->weight);
}

int32_t sm_sampler_candidates(sm_sampler *s, const float *logits, int32_t *ids, float *values) {
    int32_t n;
    const sm_cand *c = run_chain(s, logits, &n);
    for (int32_t i = 0; i < n; i++) {
        ids[i] = c[i].id;
        values[i] = c[i].logit;
    }
    return n;
}
