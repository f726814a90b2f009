/*
 * test_sample.c — the sampler chain (sampler.h) and the old greedy/temperature entry points:
 * each stage on hand-made logits with exact survivors, penalty math and window, option
 * validation, greedy = argmax, top_k=1 = greedy, frequencies against the softmax over 20k seeded
 * draws, determinism, and a golden token sequence that must be the same natively and in WASM.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sample/sample.h"
#include "sample/sampler.h"

#define NV 8

static sm_sampler *make(int32_t n_vocab, sm_sampler_params p) {
    sm_sampler *s = NULL;
    sm_error err = {0};
    CHECK_EQ(sm_sampler_new(n_vocab, &p, &s, &err), SM_OK);
    return s;
}

/* The survivors' ids, sorted ascending, as a bitmask (vocabularies here are small). */
static unsigned survivors(sm_sampler *s, const float *logits) {
    int32_t ids[64];
    float vals[64];
    const int32_t n = sm_sampler_candidates(s, logits, ids, vals);
    unsigned mask = 0;
    for (int32_t i = 0; i < n; i++) mask |= 1u << ids[i];
    return mask;
}

static void test_validation(void) {
    static const struct {
        const char *name;
        sm_sampler_params p;
        int32_t n_vocab;
    } bad[] = {
        {"temperature", {.temperature = -0.5f, .top_p = 1, .repeat_penalty = 1}, NV},
        {"temperature", {.temperature = NAN, .top_p = 1, .repeat_penalty = 1}, NV},
        {"top_k", {.temperature = 1, .top_k = -1, .top_p = 1, .repeat_penalty = 1}, NV},
        {"top_p", {.temperature = 1, .top_p = 1.5f, .repeat_penalty = 1}, NV},
        {"top_p", {.temperature = 1, .top_p = -0.1f, .repeat_penalty = 1}, NV},
        {"min_p", {.temperature = 1, .top_p = 1, .min_p = 1.01f, .repeat_penalty = 1}, NV},
        {"min_p", {.temperature = 1, .top_p = 1, .min_p = -0.1f, .repeat_penalty = 1}, NV},
        {"repeat_penalty", {.temperature = 1, .top_p = 1, .repeat_penalty = 0}, NV},
        {"frequency_penalty",
         {.temperature = 1, .top_p = 1, .repeat_penalty = 1, .frequency_penalty = INFINITY}, NV},
        {"presence_penalty",
         {.temperature = 1, .top_p = 1, .repeat_penalty = 1, .presence_penalty = NAN}, NV},
        {"penalty_last_n", {.temperature = 1, .top_p = 1, .repeat_penalty = 1, .penalty_last_n = -1},
         NV},
        {"n_vocab", {.temperature = 1, .top_p = 1, .repeat_penalty = 1}, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sm_sampler *s = (sm_sampler *)1;
        sm_error err = {0};
        CHECK_EQ(sm_sampler_new(bad[i].n_vocab, &bad[i].p, &s, &err), SM_ERR_INVALID_ARG);
        CHECK(s == NULL);
        CHECK_EQ(err.code, SM_ERR_INVALID_ARG);
        CHECK(strstr(err.msg, bad[i].name) != NULL);
    }
    const int32_t ids_bad[] = {3, NV}, ids_neg[] = {-1};
    const float vals[] = {1.0f, 1.0f}, vals_pinf[] = {INFINITY}, vals_nan[] = {NAN};
    sm_sampler_params p = sm_sampler_params_default();
    sm_sampler *s = NULL;
    sm_error err = {0};
    p.bias_ids = ids_bad, p.bias_values = vals, p.n_bias = 2;
    CHECK_EQ(sm_sampler_new(NV, &p, &s, &err), SM_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "bias_ids[1]") != NULL);
    p.bias_ids = ids_neg, p.n_bias = 1;
    CHECK_EQ(sm_sampler_new(NV, &p, &s, &err), SM_ERR_INVALID_ARG);
    p.bias_ids = ids_bad, p.bias_values = vals_pinf;
    CHECK_EQ(sm_sampler_new(NV, &p, &s, &err), SM_ERR_INVALID_ARG);
    CHECK(strstr(err.msg, "bias_values[0]") != NULL);
    p.bias_values = vals_nan;
    CHECK_EQ(sm_sampler_new(NV, &p, &s, &err), SM_ERR_INVALID_ARG);
    p.bias_values = NULL;
    CHECK_EQ(sm_sampler_new(NV, &p, &s, &err), SM_ERR_INVALID_ARG);
    p = sm_sampler_params_default();
    CHECK_EQ(sm_sampler_new(NV, NULL, &s, NULL), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_sampler_new(NV, &p, NULL, NULL), SM_ERR_INVALID_ARG);
    /* the edges are valid */
    p.top_p = 0.0f, p.min_p = 1.0f, p.temperature = 0.0f;
    CHECK_EQ(sm_sampler_new(NV, &p, &s, NULL), SM_OK);
    sm_sampler_free(s);
    sm_sampler_free(NULL);
}

static void test_greedy(void) {
    sm_rng rng;
    sm_rng_seed(&rng, 7);
    sm_sampler_params p = sm_sampler_params_default();
    p.temperature = 0.0f;
    sm_sampler *g = make(100, p);
    p = sm_sampler_params_default();
    p.top_k = 1;
    p.seed = 99;
    sm_sampler *k1 = make(100, p);
    float logits[100];
    for (int trial = 0; trial < 200; trial++) {
        for (int i = 0; i < 100; i++) logits[i] = (sm_rng_uniform(&rng) - 0.5f) * 20.0f;
        const int32_t want = sm_sample_argmax(logits, 100);
        CHECK_EQ(sm_sampler_sample(g, logits), want);
        CHECK_EQ(sm_sampler_sample(k1, logits), want);
    }
    float ties[100] = {0};
    ties[1] = ties[3] = ties[4] = 3.0f;
    CHECK_EQ(sm_sampler_sample(g, ties), 1); /* the lowest id wins a tie */
    CHECK_EQ(sm_sampler_sample(k1, ties), 1);
    sm_sampler_free(g);
    sm_sampler_free(k1);
}

static void test_top_k(void) {
    const float logits[6] = {1, 5, 3, 5, 2, -1};
    sm_sampler_params p = sm_sampler_params_default();
    p.top_k = 2;
    sm_sampler *s = make(6, p);
    int32_t ids[6];
    float vals[6];
    CHECK_EQ(sm_sampler_candidates(s, logits, ids, vals), 2);
    CHECK_EQ(ids[0], 1); /* sorted best first, ties by id */
    CHECK_EQ(ids[1], 3);
    sm_sampler_free(s);
    p.top_k = 3;
    s = make(6, p);
    CHECK_EQ(survivors(s, logits), (1u << 1) | (1u << 3) | (1u << 2));
    sm_sampler_free(s);
    p.top_k = 6; /* k >= n_vocab and k = 0 keep everything */
    s = make(6, p);
    CHECK_EQ(survivors(s, logits), 0x3Fu);
    sm_sampler_free(s);
    p.top_k = 0;
    s = make(6, p);
    CHECK_EQ(survivors(s, logits), 0x3Fu);
    sm_sampler_free(s);
}

static void test_top_p(void) {
    /* probabilities 0.1, 0.4, 0.2, 0.3 */
    const float logits[4] = {logf(0.1f), logf(0.4f), logf(0.2f), logf(0.3f)};
    static const struct {
        float top_p;
        int32_t top_k;
        unsigned want;
    } cases[] = {
        {0.5f, 0, (1u << 1) | (1u << 3)},                 /* 0.4 < 0.5 <= 0.7 */
        {0.75f, 0, (1u << 1) | (1u << 3) | (1u << 2)},    /* 0.7 < 0.75 <= 0.9 */
        {0.95f, 0, 0xFu},
        {0.0f, 0, 1u << 1},                               /* at least one survives */
        {1.0f, 0, 0xFu},
        {0.6f, 2, 1u << 1 | 1u << 3},                     /* over top-k's 0.4/0.7 and 0.3/0.7 */
        {0.55f, 2, 1u << 1},                              /* 0.571 >= 0.55 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sm_sampler_params p = sm_sampler_params_default();
        p.top_p = cases[i].top_p;
        p.top_k = cases[i].top_k;
        sm_sampler *s = make(4, p);
        CHECK_EQ(survivors(s, logits), cases[i].want);
        sm_sampler_free(s);
    }
}

static void test_min_p(void) {
    /* probabilities 0.5, 0.25, 0.1, 0.15: p_max = 0.5 */
    const float logits[4] = {logf(0.5f), logf(0.25f), logf(0.1f), logf(0.15f)};
    static const struct {
        float min_p;
        unsigned want;
    } cases[] = {
        {0.25f, 1u | 1u << 1 | 1u << 3}, /* threshold 0.125 */
        {0.4f, 1u | 1u << 1},            /* threshold 0.2 */
        {0.6f, 1u},
        {1.0f, 1u},
        {0.0f, 0xFu},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sm_sampler_params p = sm_sampler_params_default();
        p.min_p = cases[i].min_p;
        sm_sampler *s = make(4, p);
        CHECK_EQ(survivors(s, logits), cases[i].want);
        sm_sampler_free(s);
    }
    /* after top-p (keeps 0, 1, 3 at 0.85) */
    sm_sampler_params p = sm_sampler_params_default();
    p.top_p = 0.8f;
    p.min_p = 0.4f;
    sm_sampler *s = make(4, p);
    CHECK_EQ(survivors(s, logits), 1u | 1u << 1);
    sm_sampler_free(s);
}

static void test_bias(void) {
    const float logits[4] = {2, 1, 0, -1};
    const int32_t ids[] = {0, 3, 3};
    const float vals[] = {-INFINITY, 1.5f, 1.0f}; /* duplicates add */
    sm_sampler_params p = sm_sampler_params_default();
    p.bias_ids = ids, p.bias_values = vals, p.n_bias = 3;
    p.temperature = 0.0f;
    sm_sampler *s = make(4, p);
    CHECK_EQ(sm_sampler_sample(s, logits), 3); /* -1 + 2.5 = 1.5 beats 1 */
    sm_sampler_free(s);
    p.temperature = 1.0f;
    s = make(4, p);
    for (int i = 0; i < 2000; i++) CHECK(sm_sampler_sample(s, logits) != 0); /* banned */
    int32_t got[4];
    float v[4];
    CHECK_EQ(sm_sampler_candidates(s, logits, got, v), 4);
    CHECK(isinf(v[0]) && v[0] < 0);
    CHECK_NEAR(v[3], 1.5, 0);
    sm_sampler_free(s);
}

static float cand_value(sm_sampler *s, const float *logits, int32_t id) {
    int32_t ids[NV];
    float vals[NV];
    const int32_t n = sm_sampler_candidates(s, logits, ids, vals);
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id) return vals[i];
    return NAN;
}

static void test_penalties(void) {
    const float logits[NV] = {2.0f, -2.0f, 1.0f, 0.5f, 0.0f, 3.0f, -1.0f, 4.0f};
    sm_sampler_params p = sm_sampler_params_default();
    p.repeat_penalty = 2.0f;
    p.penalty_last_n = 3;
    sm_sampler *s = make(NV, p);
    sm_sampler_accept(s, 0);
    sm_sampler_accept(s, 1);
    sm_sampler_accept(s, 4);
    sm_sampler_accept(s, -5);  /* ignored */
    sm_sampler_accept(s, NV);  /* ignored */
    CHECK_NEAR(cand_value(s, logits, 0), 1.0, 0);  /* positive: divided */
    CHECK_NEAR(cand_value(s, logits, 1), -4.0, 0); /* negative: multiplied */
    CHECK_NEAR(cand_value(s, logits, 4), 0.0, 0);
    CHECK_NEAR(cand_value(s, logits, 2), 1.0, 0);  /* not in the window */
    sm_sampler_accept(s, 2); /* 0 leaves the window of 3 */
    CHECK_NEAR(cand_value(s, logits, 0), 2.0, 0);
    CHECK_NEAR(cand_value(s, logits, 2), 0.5, 0);
    CHECK_NEAR(cand_value(s, logits, 1), -4.0, 0);
    sm_sampler_accept(s, 7);
    sm_sampler_accept(s, 7);
    CHECK_NEAR(cand_value(s, logits, 1), -2.0, 0);
    CHECK_NEAR(cand_value(s, logits, 7), 2.0, 0); /* once per token, whatever its count */
    sm_sampler_reset(s);
    CHECK_NEAR(cand_value(s, logits, 7), 4.0, 0);
    sm_sampler_free(s);

    p = sm_sampler_params_default();
    p.frequency_penalty = 0.25f;
    p.presence_penalty = 0.5f;
    p.penalty_last_n = 4;
    s = make(NV, p);
    for (int i = 0; i < 3; i++) sm_sampler_accept(s, 5);
    sm_sampler_accept(s, 6);
    CHECK_NEAR(cand_value(s, logits, 5), 3.0 - 0.75 - 0.5, 1e-6);
    CHECK_NEAR(cand_value(s, logits, 6), -1.0 - 0.25 - 0.5, 1e-6);
    CHECK_NEAR(cand_value(s, logits, 3), 0.5, 0);
    sm_sampler_accept(s, 3); /* evicts one 5 */
    CHECK_NEAR(cand_value(s, logits, 5), 3.0 - 0.5 - 0.5, 1e-6);
    sm_sampler_free(s);

    /* greedy picks after penalties: 7 (4.0) repeated twice with repeat 3 → 4/3 loses to 5 (3.0) */
    p = sm_sampler_params_default();
    p.temperature = 0.0f;
    p.repeat_penalty = 3.0f;
    p.penalty_last_n = 1;
    s = make(NV, p);
    CHECK_EQ(sm_sampler_sample(s, logits), 7);
    sm_sampler_accept(s, 7);
    CHECK_EQ(sm_sampler_sample(s, logits), 5);
    sm_sampler_accept(s, 5); /* 7 is older than penalty_last_n = 1 now */
    CHECK_EQ(sm_sampler_sample(s, logits), 7);
    sm_sampler_free(s);

    /* penalty_last_n = 0 disables penalties */
    p.penalty_last_n = 0;
    s = make(NV, p);
    sm_sampler_accept(s, 7);
    CHECK_EQ(sm_sampler_sample(s, logits), 7);
    sm_sampler_free(s);
}

/* Frequencies over 20k seeded draws against softmax(l / T) restricted to the survivors. */
static void check_frequencies(sm_sampler_params p, const float *logits, int32_t n,
                              const double *want) {
    enum { DRAWS = 20000 };
    sm_sampler *s = make(n, p);
    int counts[16] = {0};
    for (int i = 0; i < DRAWS; i++) {
        const int32_t t = sm_sampler_sample(s, logits);
        CHECK(t >= 0 && t < n);
        if (t >= 0 && t < n) counts[t]++;
    }
    for (int32_t i = 0; i < n; i++) {
        /* 5 standard deviations of a binomial proportion, at least 0.005 */
        const double sd = sqrt(want[i] * (1 - want[i]) / DRAWS), tol = fmax(5 * sd, 0.005);
        CHECK_NEAR((double)counts[i] / DRAWS, want[i], tol);
    }
    sm_sampler_free(s);
}

static void test_statistics(void) {
    const float logits[5] = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
    const float temps[3] = {1.0f, 0.7f, 2.0f};
    for (int t = 0; t < 3; t++) {
        double want[5], sum = 0;
        for (int i = 0; i < 5; i++) sum += want[i] = exp(logits[i] / temps[t]);
        for (int i = 0; i < 5; i++) want[i] /= sum;
        sm_sampler_params p = sm_sampler_params_default();
        p.temperature = temps[t];
        p.seed = 1234 + (uint64_t)t;
        check_frequencies(p, logits, 5, want);
    }
    /* top-k 3 renormalizes over {1, 4, 0} */
    double want[5] = {0}, sum = 0;
    const int keep[3] = {1, 4, 0};
    for (int i = 0; i < 3; i++) sum += want[keep[i]] = exp(logits[keep[i]]);
    for (int i = 0; i < 3; i++) want[keep[i]] /= sum;
    sm_sampler_params p = sm_sampler_params_default();
    p.top_k = 3;
    p.seed = 5;
    check_frequencies(p, logits, 5, want);
}

static void test_determinism(void) {
    enum { N = 200, V = 50 };
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)((i * 37) % 11) * 0.3f;
    sm_sampler_params p = sm_sampler_params_default();
    p.top_p = 0.9f;
    p.min_p = 0.05f;
    p.temperature = 0.8f;
    p.repeat_penalty = 1.1f;
    p.penalty_last_n = 16;
    p.seed = 42;
    int32_t a[N], b[N], c[N];
    sm_sampler *s = make(V, p);
    for (int i = 0; i < N; i++) sm_sampler_accept(s, a[i] = sm_sampler_sample(s, logits));
    sm_sampler_reset(s); /* reset = fresh sampler */
    for (int i = 0; i < N; i++) sm_sampler_accept(s, b[i] = sm_sampler_sample(s, logits));
    sm_sampler_free(s);
    CHECK(memcmp(a, b, sizeof a) == 0);
    s = make(V, p);
    for (int i = 0; i < N; i++) sm_sampler_accept(s, b[i] = sm_sampler_sample(s, logits));
    sm_sampler_free(s);
    CHECK(memcmp(a, b, sizeof a) == 0);
    p.seed = 43;
    s = make(V, p);
    for (int i = 0; i < N; i++) sm_sampler_accept(s, c[i] = sm_sampler_sample(s, logits));
    sm_sampler_free(s);
    CHECK(memcmp(a, c, sizeof a) != 0);

    /* golden: these exact tokens natively and in WASM (any change to the chain's math or RNG
     * shows up here; update deliberately) */
    static const int32_t golden[16] = {46, 30, 30, 5, 8, 29, 8, 43, 27, 24, 8, 5, 27, 27, 24, 8};
    int mismatch = 0;
    for (int i = 0; i < 16; i++) mismatch += a[i] != golden[i];
    CHECK_EQ(mismatch, 0);
    if (mismatch) {
        fprintf(stderr, "golden actual:");
        for (int i = 0; i < 16; i++) fprintf(stderr, " %d,", a[i]);
        fprintf(stderr, "\n");
    }
}

static void test_legacy(void) {
    const float logits[4] = {0.5f, 2.0f, 2.0f, -1.0f};
    float scratch[4];
    sm_rng rng;
    sm_rng_seed(&rng, 1);
    CHECK_EQ(sm_sample_argmax(logits, 4), 1);
    CHECK_EQ(sm_sample_temperature(logits, 4, 0.0f, &rng, scratch), 1);
    const int32_t t = sm_sample_temperature(logits, 4, 1.0f, &rng, scratch);
    CHECK(t >= 0 && t < 4);
    const double u = sm_rng_uniform_f64(&rng);
    CHECK(u >= 0.0 && u < 1.0);
}

int main(void) {
    test_validation();
    test_greedy();
    test_top_k();
    test_top_p();
    test_min_p();
    test_bias();
    test_penalties();
    test_statistics();
    test_determinism();
    test_legacy();
    return sm_check_report("test_sample");
}
