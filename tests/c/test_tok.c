/*
 * test_tok.c — unit tests of the tokenizer core: the hash maps, loading (every corrupt-metadata
 * case gets its own error), SentencePiece BPE on a hand-made vocabulary, special-token splitting,
 * the character-level tokenizer, token pieces and the streaming detokenizer, and round trips on
 * the shared llama.cpp vocabularies (skipped when ../shared/vocab is absent).
 *
 * Round-trip rule: for a tokenizer that keeps every byte (SPM with byte fallback, CHAR with byte
 * tokens), streaming detokenize(tokenize(s)) equals s with each ill-formed UTF-8 "maximal
 * subpart" replaced by one U+FFFD (WHATWG TextDecoder); for valid UTF-8 that is s itself. Texts
 * containing U+2581 are excluded: SentencePiece reads it as a space.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "gguf_build.h"
#include "sm.h"
#include "tok/tokenizer.h"

/* ---- building vocabularies ------------------------------------------------------------------ */

typedef void (*extra_fn)(gguf_builder *b);

typedef struct vspec {
    const char *model;          /* NULL: leave tokenizer.ggml.model out */
    const char *const *tokens;  /* NULL: leave the list out */
    int n_tokens;
    const float *scores;        /* NULL: no scores */
    int n_scores;
    const int32_t *types;       /* NULL: no token types */
    int n_types;
    const char *const *merges;  /* NULL: no merges */
    int n_merges;
    const char *pre, *name;
    extra_fn extra;
} vspec;

static uint8_t *build(const vspec *s, size_t *size) {
    gguf_builder b;
    gb_init(&b);
    gb_kv_str(&b, "general.architecture", "llama");
    if (s->name) gb_kv_str(&b, "general.name", s->name);
    if (s->model) gb_kv_str(&b, "tokenizer.ggml.model", s->model);
    if (s->pre) gb_kv_str(&b, "tokenizer.ggml.pre", s->pre);
    if (s->tokens) gb_kv_arr_str(&b, "tokenizer.ggml.tokens", s->tokens, (uint64_t)s->n_tokens);
    if (s->scores) gb_kv_arr_f32(&b, "tokenizer.ggml.scores", s->scores, (uint64_t)s->n_scores);
    if (s->types) gb_kv_arr_i32(&b, "tokenizer.ggml.token_type", s->types, (uint64_t)s->n_types);
    if (s->merges) gb_kv_arr_str(&b, "tokenizer.ggml.merges", s->merges, (uint64_t)s->n_merges);
    if (s->extra) s->extra(&b);
    uint8_t *file = gb_finish(&b, size);
    gb_free(&b);
    return file;
}

/* The hand-made SPM vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0xNN>, then the pieces below. */
enum { T_SPACE = 259, T_A, T_B, T_C, T_X, T_AB, T_BC, T_ABC, T_SA, T_AA, T_USER, SPM_N };
static char spm_names[SPM_N][16];
static const char *spm_tokens[SPM_N];
static float spm_scores[SPM_N];
static int32_t spm_types[SPM_N];

static void init_spm_vocab(void) {
    static const struct { const char *text; float score; int32_t type; } rest[] = {
        {"\xE2\x96\x81", -1.0f, 1}, {"a", -2.0f, 1}, {"b", -2.0f, 1}, {"c", -2.0f, 1},
        {"x", -3.0f, 1}, {"ab", -1.5f, 1}, {"bc", -1.0f, 1}, {"abc", -0.5f, 1},
        {"\xE2\x96\x81" "a", -0.8f, 1}, {"aa", -1.2f, 1}, {"<|user|>", 0.0f, 4},
    };
    const char *head[3] = {"<unk>", "<s>", "</s>"};
    const int32_t head_type[3] = {2, 3, 3};
    for (int i = 0; i < SPM_N; i++) {
        if (i < 3) snprintf(spm_names[i], 16, "%s", head[i]), spm_types[i] = head_type[i];
        else if (i < 259) snprintf(spm_names[i], 16, "<0x%02X>", i - 3), spm_types[i] = 6;
        else {
            snprintf(spm_names[i], 16, "%s", rest[i - 259].text);
            spm_types[i] = rest[i - 259].type;
        }
        spm_scores[i] = i >= 259 ? rest[i - 259].score : 0.0f;
        spm_tokens[i] = spm_names[i];
    }
}

static vspec spm_spec(void) {
    return (vspec){"llama", spm_tokens, SPM_N, spm_scores, SPM_N, spm_types, SPM_N, NULL, 0,
                   "default", "tiny-spm", NULL};
}

/* Loads a spec; returns the status and keeps the message in *err. */
static sm_status load(const vspec *s, sm_tokenizer **tok, uint8_t **file, sm_error *err) {
    size_t size = 0;
    *file = build(s, &size);
    memset(err, 0, sizeof *err);
    return sm_tokenizer_load_from_memory(*file, size, tok, err);
}

/* Expects a load to fail with `code` and a message containing `needle`. */
static void expect_fail(const vspec *s, sm_status code, const char *needle, int line) {
    sm_tokenizer *tok = (sm_tokenizer *)1;
    uint8_t *file;
    sm_error err;
    const sm_status st = load(s, &tok, &file, &err);
    if (st != code || tok != NULL || !strstr(err.msg, needle)) {
        fprintf(stderr, "line %d: want %s containing '%s', got %s '%s'\n", line,
                sm_status_name(code), needle, sm_status_name(st), err.msg);
    }
    CHECK_EQ(st, code);
    CHECK(tok == NULL);
    CHECK(strstr(err.msg, needle) != NULL);
    sm_tokenizer_free(tok);
    free(file);
}
#define EXPECT_FAIL(spec, code, needle) expect_fail(&(spec), code, needle, __LINE__)

/* Tokenizes and compares with the expected ids. */
static void expect_ids(const sm_tokenizer *tok, const char *text, uint32_t flags,
                       const int32_t *want, int n_want, int line) {
    int32_t got[64];
    int32_t n = -1;
    const sm_status st = sm_tokenize(tok, text, strlen(text), flags, got, 64, &n);
    bool ok = st == SM_OK && n == n_want;
    for (int i = 0; ok && i < n; i++) ok = got[i] == want[i];
    if (!ok) {
        fprintf(stderr, "line %d: '%s' want", line, text);
        for (int i = 0; i < n_want; i++) fprintf(stderr, " %d", want[i]);
        fprintf(stderr, ", got (%s)", sm_status_name(st));
        for (int i = 0; i < n && i < 64; i++) fprintf(stderr, " %d", got[i]);
        fprintf(stderr, "\n");
    }
    CHECK(ok);
}
#define EXPECT_IDS(tok, text, flags, ...)                                                      \
    do {                                                                                       \
        const int32_t want_[] = {__VA_ARGS__};                                                 \
        expect_ids(tok, text, flags, want_, (int)(sizeof want_ / sizeof want_[0]), __LINE__); \
    } while (0)

/* ---- maps ----------------------------------------------------------------------------------- */

static void test_maps(void) {
    sm_strmap m;
    CHECK_EQ(sm_strmap_init(&m, 1000), SM_OK);
    char keys[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        CHECK_EQ(sm_strmap_put(&m, keys[i], (uint32_t)strlen(keys[i]), i), SM_OK);
    }
    CHECK_EQ(sm_strmap_put(&m, "k7", 2, 99), SM_DONE); /* first value kept */
    CHECK_EQ(sm_strmap_get(&m, "k7", 2), 7);
    CHECK_EQ(sm_strmap_get(&m, "k999", 4), 999);
    CHECK_EQ(sm_strmap_get(&m, "k99", 2), 9); /* the key is a view: only its first 2 bytes */
    CHECK_EQ(sm_strmap_get(&m, "k1000", 5), -1);
    CHECK_EQ(sm_strmap_get(&m, "", 0), -1);
    CHECK_EQ(sm_strmap_get(&m, NULL, 0), -1);
    sm_strmap_free(&m);
    sm_strmap_free(&m); /* twice is harmless */

    sm_pairmap p;
    CHECK_EQ(sm_pairmap_init(&p, 3), SM_OK);
    CHECK_EQ(sm_pairmap_put(&p, 1, 2, 10), SM_OK);
    CHECK_EQ(sm_pairmap_put(&p, 2, 1, 11), SM_OK);
    CHECK_EQ(sm_pairmap_put(&p, 0, 0, 12), SM_OK);
    CHECK_EQ(sm_pairmap_put(&p, 1, 2, 13), SM_DONE);
    CHECK_EQ(sm_pairmap_get(&p, 1, 2), 10);
    CHECK_EQ(sm_pairmap_get(&p, 2, 1), 11);
    CHECK_EQ(sm_pairmap_get(&p, 0, 0), 12);
    CHECK_EQ(sm_pairmap_get(&p, 0, 1), -1);
    CHECK_EQ(sm_pairmap_get(&p, -1, 0), -1);
    CHECK_EQ(sm_pairmap_put(&p, -1, 0, 1), SM_ERR_INVALID_ARG);
    /* a table of capacity 8 holding 8 entries is full: the 9th put fails instead of looping */
    for (int i = 3; i < 8; i++) CHECK_EQ(sm_pairmap_put(&p, 100 + i, 0, i), SM_OK);
    CHECK_EQ(sm_pairmap_put(&p, 999, 0, 0), SM_ERR_NOMEM);
    CHECK_EQ(sm_pairmap_get(&p, 999, 0), -1);
    sm_pairmap_free(&p);
}

/* ---- loading: every corrupt case has its own error ------------------------------------------ */

static void kv_scores_str(gguf_builder *b) {
    const char *v[3] = {"1", "2", "3"};
    gb_kv_arr_str(b, "tokenizer.ggml.scores", v, 3);
}
static void kv_bos_big(gguf_builder *b) { gb_kv_u32(b, "tokenizer.ggml.bos_token_id", 3); }
static void kv_eos_neg(gguf_builder *b) { gb_kv_i32(b, "tokenizer.ggml.eos_token_id", -1); }
static void kv_unk_str(gguf_builder *b) { gb_kv_str(b, "tokenizer.ggml.unknown_token_id", "0"); }
static void kv_pad_big(gguf_builder *b) {
    gb_kv_u64(b, "tokenizer.ggml.padding_token_id", 1ull << 40);
}
static void kv_add_bos_u8(gguf_builder *b) { gb_kv_u8(b, "tokenizer.ggml.add_bos_token", 1); }
static void kv_add_bos(gguf_builder *b) { gb_kv_bool(b, "tokenizer.ggml.add_bos_token", true); }
static void kv_model_u32(gguf_builder *b) { gb_kv_u32(b, "tokenizer.ggml.model", 1); }
static void kv_tokens_i32(gguf_builder *b) {
    const int32_t v[3] = {1, 2, 3};
    gb_kv_arr_i32(b, "tokenizer.ggml.tokens", v, 3);
}

static void test_load_errors(void) {
    static const char *const tok3[] = {"a", "b", "c"};
    static const char *const dup[] = {"a", "b", "a"};
    static const float sc2[] = {0, 0};
    static const int32_t ty2[] = {1, 1};
    static const char *const m_ok[] = {"a b"};
    static const char *const m_missing[] = {"a zz"};
    static const char *const m_nospace[] = {"ab"};
    const vspec base = {"llama", tok3, 3, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL};
    vspec s;

    s = base, s.model = NULL;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "tokenizer.ggml.model");
    s = base, s.model = NULL, s.extra = kv_model_u32;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "must be a string");
    s = base, s.model = "none";
    EXPECT_FAIL(s, SM_ERR_UNSUPPORTED, "'none'");
    s = base, s.model = "t5";
    EXPECT_FAIL(s, SM_ERR_UNSUPPORTED, "'t5'");
    s = base, s.tokens = NULL;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "missing key 'tokenizer.ggml.tokens'");
    s = base, s.tokens = NULL, s.extra = kv_tokens_i32;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "array of strings");
    s = base, s.n_tokens = 0;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "is empty");
    s = base, s.tokens = dup;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "duplicate token 'a' at ids 0 and 2");
    s = base, s.scores = sc2, s.n_scores = 2;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.scores' has 2 entries but there are 3 tokens");
    s = base, s.extra = kv_scores_str;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.scores' must be an array of FLOAT32 or INT32");
    s = base, s.types = ty2, s.n_types = 2;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.token_type' has 2 entries");
    s = base, s.model = "char", s.extra = kv_bos_big;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.bos_token_id' = 3 is out of range (3 tokens)");
    s = base, s.extra = kv_eos_neg;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.eos_token_id' = -1 is out of range");
    s = base, s.extra = kv_pad_big;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.padding_token_id' = 1099511627776 is out");
    s = base, s.extra = kv_unk_str;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "unknown_token_id' must be an integer, found STRING");
    s = base, s.extra = kv_add_bos_u8;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "'tokenizer.ggml.add_bos_token' must be BOOL, found UINT8");
    s = base, s.model = "char", s.extra = kv_add_bos;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "add_bos_token is true, but tokenizer.ggml.bos_token_id is not");
    s = base, s.model = "gpt2", s.pre = "gpt-2";
    EXPECT_FAIL(s, SM_ERR_FORMAT, "BPE tokenizer without 'tokenizer.ggml.merges'");
    s = base, s.model = "gpt2", s.pre = "gpt-2", s.merges = m_missing, s.n_merges = 1;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "merge 0 names a missing token 'zz'");
    s = base, s.model = "gpt2", s.pre = "gpt-2", s.merges = m_nospace, s.n_merges = 1;
    EXPECT_FAIL(s, SM_ERR_FORMAT, "merge 0 'ab' has no space");

    /* truncated files fail in the GGUF reader, whatever the prefix */
    size_t size = 0;
    s = base, s.model = "gpt2", s.pre = "no-such-pre", s.merges = m_ok, s.n_merges = 1;
    uint8_t *file = build(&s, &size);
    sm_tokenizer *tok = NULL;
    sm_error err;
    for (size_t n = 0; n < size; n += 7) {
        CHECK(sm_tokenizer_load_from_memory(file, n, &tok, &err) < 0);
        CHECK(tok == NULL);
    }
    /* an unknown pre-tokenizer falls back to the default with a warning */
    CHECK_EQ(sm_tokenizer_load_from_memory(file, size, &tok, &err), SM_OK);
    sm_tokenizer_info info;
    CHECK_EQ(sm_tokenizer_get_info(tok, &info), SM_OK);
    CHECK(strcmp(info.kind, "gpt2") == 0);
    CHECK(strcmp(info.pre, "default") == 0);
    CHECK(strstr(info.warning, "unknown pre-tokenizer 'no-such-pre'") != NULL);
    CHECK_EQ(sm_pairmap_get(&tok->merges, 0, 1), 0);
    CHECK_EQ(sm_tokenizer_get_info(NULL, &info), SM_ERR_INVALID_ARG);
    sm_tokenizer_free(tok);
    CHECK_EQ(sm_tokenizer_load_from_memory(NULL, 0, &tok, &err), SM_ERR_INVALID_ARG);
    CHECK(tok == NULL);
    sm_tokenizer_free(NULL);
    free(file);
}

/* Defaults per kind, merges split at the first space after the first byte, text-based fix-ups. */
static void test_load_semantics(void) {
    static const char *const bpe[] = {"a", " ", "  a", "<|endoftext|>", "\xC4\xA0"};
    static const int32_t bpe_types[] = {1, 1, 1, 1, 1};
    static const char *const merges[] = {"  a", "\xC4\xA0 a"}; /* (" ", "a"), ("Ġ", "a") */
    vspec s = {"gpt2", bpe, 5, NULL, 0, bpe_types, 5, merges, 2, "gpt-2", NULL, NULL};
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (tok) {
        CHECK_EQ(sm_pairmap_get(&tok->merges, 1, 0), 0);
        CHECK_EQ(sm_pairmap_get(&tok->merges, 4, 0), 1);
        CHECK_EQ(tok->bos, -1); /* llama.cpp's BPE default 11 is past this vocabulary */
        CHECK_EQ(tok->eot, 3);  /* found by its text, and made CONTROL */
        CHECK_EQ(tok->type[3], SM_TT_CONTROL);
        CHECK(sm_tok_is_eog(tok, 3));
        CHECK(!sm_tok_is_eog(tok, 0));
        CHECK(!tok->add_bos && !tok->add_space_prefix);
        CHECK_EQ(tok->n_special, 1);
    }
    sm_tokenizer_free(tok);
    free(file);

    init_spm_vocab();
    s = spm_spec();
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (tok) {
        sm_tokenizer_info info;
        CHECK_EQ(sm_tokenizer_get_info(tok, &info), SM_OK);
        CHECK(strcmp(info.kind, "llama") == 0);
        CHECK_EQ(info.n_tokens, SPM_N);
        CHECK_EQ(info.bos, 1);
        CHECK_EQ(info.eos, 2);
        CHECK_EQ(info.unk, 0);
        CHECK_EQ(info.add_bos, 1);
        CHECK_EQ(info.add_eos, 0);
        CHECK(tok->add_space_prefix);
        CHECK_EQ(tok->byte_token[0xC3], 3 + 0xC3);
        CHECK_EQ(tok->linefeed, 3 + '\n');
        /* specials: longest first, CONTROL + USER_DEFINED + UNKNOWN */
        CHECK_EQ(tok->n_special, 4);
        CHECK_EQ(tok->special[0], T_USER);
        CHECK_EQ(tok->special[1], 0); /* "<unk>" 5 bytes */
        CHECK_EQ(tok->special[2], 2); /* "</s>" 4 */
        CHECK_EQ(tok->special[3], 1); /* "<s>" 3 */
        CHECK(tok->strip == NULL);
    }
    sm_tokenizer_free(tok);
    free(file);
}

/* ---- SentencePiece BPE ---------------------------------------------------------------------- */

static void no_prefix(gguf_builder *b) { gb_kv_bool(b, "tokenizer.ggml.add_space_prefix", false); }

static void test_spm(void) {
    init_spm_vocab();
    vspec s = spm_spec();
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    const uint32_t ADD = SM_TOKENIZE_ADD_SPECIAL, PARSE = SM_TOKENIZE_PARSE_SPECIAL;
    EXPECT_IDS(tok, "a", 0, T_SA);                  /* "▁a" */
    EXPECT_IDS(tok, "a", ADD, 1, T_SA);             /* BOS */
    EXPECT_IDS(tok, "ab", 0, T_SA, T_B);            /* "▁a" (-0.8) beats "ab" (-1.5) */
    EXPECT_IDS(tok, " a", 0, T_SPACE, T_SA);        /* "▁▁a": the left pair wins the tie */
    EXPECT_IDS(tok, "\xC3\xA9", 0, T_SPACE, 3 + 0xC3, 3 + 0xA9); /* byte fallback */
    int32_t ids[4], n = -1;
    CHECK_EQ(sm_tokenize(tok, "", 0, 0, ids, 4, &n), SM_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(sm_tokenize(tok, "", 0, ADD, ids, 4, &n), SM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(ids[0], 1);
    /* specials: CONTROL only with PARSE_SPECIAL; USER_DEFINED always; space prefix after each */
    EXPECT_IDS(tok, "a<s>a", PARSE, T_SA, 1, T_SA);
    EXPECT_IDS(tok, "a<s>a", 0, T_SA, 3 + '<', 3 + 's', 3 + '>', T_A);
    EXPECT_IDS(tok, "a<|user|>a", 0, T_SA, T_USER, T_SA);
    EXPECT_IDS(tok, "<|user|><|user|>", 0, T_USER, T_USER);
    EXPECT_IDS(tok, "<unk></s>", PARSE, 0, 2);
    /* too small a buffer: the count, and the ids that fit */
    ids[1] = -7;
    CHECK_EQ(sm_tokenize(tok, "a<s>a", 5, PARSE, ids, 1, &n), SM_OK);
    CHECK_EQ(n, 3);
    CHECK_EQ(ids[0], T_SA);
    CHECK_EQ(ids[1], -7);
    CHECK_EQ(sm_tokenize(tok, "a", 1, 0, NULL, 0, &n), SM_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(sm_tokenize(tok, "a", 1, 1u << 7, ids, 4, &n), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_tokenize(tok, NULL, 1, 0, ids, 4, &n), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_tokenize(tok, "a", 1, 0, ids, -1, &n), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_tokenize(NULL, "a", 1, 0, ids, 4, &n), SM_ERR_INVALID_ARG);
    sm_tokenizer_free(tok);
    free(file);

    s.extra = no_prefix;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    EXPECT_IDS(tok, "abc", 0, T_ABC);         /* bc (-1.0) first, then a+bc = abc (-0.5) */
    EXPECT_IDS(tok, "abcab", 0, T_ABC, T_AB); /* the stale a+b pair is skipped */
    EXPECT_IDS(tok, "aaa", 0, T_AA, T_A);     /* equal scores: leftmost first */
    EXPECT_IDS(tok, "aaaa", 0, T_AA, T_AA);
    EXPECT_IDS(tok, "xab", 0, T_X, T_AB);
    EXPECT_IDS(tok, " ", 0, T_SPACE);
    sm_tokenizer_free(tok);
    free(file);
}

/* A vocabulary without byte tokens falls back to unk; an SPM vocabulary without "<0x0A>" uses
 * the raw byte "\n" for the byte. */
static void test_spm_unk(void) {
    static const char *const t[] = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "\n"};
    static const int32_t ty[] = {2, 3, 3, 1, 1, 1};
    vspec s = {"llama", t, 6, NULL, 0, ty, 6, NULL, 0, NULL, NULL, NULL};
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    EXPECT_IDS(tok, "a\xC3\xA9", 0, 3, 4, 0, 0);
    EXPECT_IDS(tok, "\n", 0, 3, 5);
    CHECK_EQ(tok->linefeed, 5);
    sm_tokenizer_free(tok);
    free(file);
}

/* lstrip/rstrip come from model-name rules: Phi-3's special tokens eat the whitespace after
 * them, except <unk>, <s> and <|endoftext|>. */
static void test_strip(void) {
    init_spm_vocab();
    vspec s = spm_spec();
    s.name = "Phi3-test";
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    CHECK(tok->strip != NULL);
    if (tok->strip) {
        CHECK_EQ(tok->strip[T_USER], SM_TOK_RSTRIP);
        CHECK_EQ(tok->strip[1], 0);
        CHECK_EQ(tok->strip[2], SM_TOK_RSTRIP);
    }
    EXPECT_IDS(tok, "a<|user|> \n\ta", 0, T_SA, T_USER, T_SA);
    EXPECT_IDS(tok, "a <|user|>", 0, T_SA, T_SPACE, T_USER); /* no lstrip */
    EXPECT_IDS(tok, "<s> a", SM_TOKENIZE_PARSE_SPECIAL, 1, T_SPACE, T_SA);
    EXPECT_IDS(tok, "<|user|>   ", 0, T_USER);
    sm_tokenizer_free(tok);
    free(file);
}

/* ---- the character-level tokenizer ---------------------------------------------------------- */

static void test_char(void) {
    static const char *const t[] = {"<unk>", "a",  "b", "\xC3\xA9", "\xF0\x9F\xA6\x99",
                                    " ",     "<eos>"};
    static const int32_t ty[] = {2, 1, 1, 1, 1, 1, 3};
    vspec s = {"char", t, 7, NULL, 0, ty, 7, NULL, 0, NULL, "tiny-char", NULL};
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    EXPECT_IDS(tok, "ab \xC3\xA9\xF0\x9F\xA6\x99", 0, 1, 2, 5, 3, 4);
    EXPECT_IDS(tok, "azb", 0, 1, 0, 2);                /* unknown: unk */
    EXPECT_IDS(tok, "a\xC3", 0, 1, 0);                 /* ill-formed: a byte at a time */
    EXPECT_IDS(tok, "a<eos>", SM_TOKENIZE_PARSE_SPECIAL, 1, 6);
    EXPECT_IDS(tok, "a", SM_TOKENIZE_ADD_SPECIAL, 1);  /* char adds nothing by default */
    CHECK_EQ(tok->eos, -1);
    CHECK(sm_tok_is_eog(tok, 6)); /* "<eos>" is an end-of-generation text */
    char buf[16];
    size_t n = 0;
    CHECK_EQ(sm_token_to_piece(tok, 5, 0, buf, sizeof buf, &n), SM_OK);
    CHECK(n == 1 && buf[0] == ' ');
    sm_tokenizer_free(tok);
    free(file);

    /* with byte tokens, an unknown character keeps its bytes */
    static const char *const tb[] = {"<unk>", "a", "<0x7A>", "<0xC3>", "<0xA8>"};
    static const int32_t tyb[] = {2, 1, 6, 6, 6};
    vspec sb = {"char", tb, 5, NULL, 0, tyb, 5, NULL, 0, NULL, NULL, NULL};
    CHECK_EQ(load(&sb, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    EXPECT_IDS(tok, "az\xC3\xA8q", 0, 1, 2, 3, 4, 0);
    sm_tokenizer_free(tok);
    free(file);
}

/* ---- pieces and the streaming detokenizer --------------------------------------------------- */

static bool piece_is(const sm_tokenizer *tok, int32_t id, uint32_t flags, const char *want) {
    char buf[64];
    size_t n = 99;
    if (sm_token_to_piece(tok, id, flags, buf, sizeof buf, &n) != SM_OK) return false;
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

/* Pushes ids one by one (with a fresh detokenizer), then flushes; returns the text (static). */
static const char *stream(const sm_tokenizer *tok, const int32_t *ids, int n, uint32_t flags) {
    static char out[256];
    size_t len = 0, k = 0;
    sm_detokenizer *d = NULL;
    CHECK_EQ(sm_detokenizer_new(tok, flags, &d), SM_OK);
    for (int i = 0; d && i <= n; i++) {
        char tmp[64];
        if (i < n) CHECK_EQ(sm_detokenizer_push(d, ids[i], tmp, sizeof tmp, &k), SM_OK);
        else CHECK_EQ(sm_detokenizer_flush(d, tmp, sizeof tmp, &k), SM_OK);
        if (k <= sizeof tmp && len + k < sizeof out) memcpy(out + len, tmp, k), len += k;
    }
    out[len] = '\0';
    sm_detokenizer_free(d);
    return out;
}

static void test_pieces(void) {
    init_spm_vocab();
    vspec s = spm_spec();
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    CHECK(piece_is(tok, T_SA, 0, " a"));
    CHECK(piece_is(tok, 1, 0, ""));
    CHECK(piece_is(tok, 1, SM_DETOK_RENDER_SPECIAL, "<s>"));
    CHECK(piece_is(tok, 0, 0, ""));                    /* UNKNOWN renders like CONTROL */
    CHECK(piece_is(tok, T_USER, 0, "<|user|>"));
    CHECK(piece_is(tok, 3 + 'A', 0, "A"));
    char buf[4] = "zzz";
    size_t n = 0;
    CHECK_EQ(sm_token_to_piece(tok, T_ABC, 0, buf, 2, &n), SM_OK); /* truncated like snprintf */
    CHECK(n == 3 && memcmp(buf, "abz", 3) == 0);
    CHECK_EQ(sm_token_to_piece(tok, SPM_N, 0, buf, 4, &n), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_token_to_piece(tok, -1, 0, buf, 4, &n), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_token_to_piece(tok, 1, 1u << 5, buf, 4, &n), SM_ERR_INVALID_ARG);

    /* the first token loses one leading space (add_space_prefix), later ones keep theirs */
    const int32_t hello[] = {T_SA, T_SA, T_SPACE};
    CHECK(strcmp(stream(tok, hello, 3, 0), "a a ") == 0);
    /* generated text after a prompt keeps its first space */
    CHECK(strcmp(stream(tok, hello, 3, SM_DETOK_CONTINUATION), " a a ") == 0);
    const int32_t bos_first[] = {1, T_SA}; /* BOS takes the strip, as in llama.cpp */
    CHECK(strcmp(stream(tok, bos_first, 2, 0), " a") == 0);
    CHECK(strcmp(stream(tok, bos_first, 2, SM_DETOK_RENDER_SPECIAL), "<s> a") == 0);
    /* a character split over byte tokens comes out whole, once complete */
    const int32_t llama[] = {3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99, T_A};
    CHECK(strcmp(stream(tok, llama, 5, 0), "\xF0\x9F\xA6\x99" "a") == 0);
    sm_detokenizer *d = NULL;
    CHECK_EQ(sm_detokenizer_new(tok, 0, &d), SM_OK);
    if (d) {
        char out[16];
        for (int i = 0; i < 3; i++) {
            CHECK_EQ(sm_detokenizer_push(d, llama[i], out, sizeof out, &n), SM_OK);
            CHECK_EQ(n, 0);
        }
        CHECK_EQ(sm_detokenizer_push(d, llama[3], out, 2, &n), SM_OK); /* too small: kept */
        CHECK_EQ(n, 4);
        CHECK_EQ(sm_detokenizer_push(d, llama[3], out, 4, &n), SM_OK);
        CHECK(n == 4 && memcmp(out, "\xF0\x9F\xA6\x99", 4) == 0);
        CHECK_EQ(sm_detokenizer_push(d, SPM_N, out, 4, &n), SM_ERR_INVALID_ARG);
        sm_detokenizer_free(d);
    }
    sm_detokenizer_free(NULL);
    /* ill-formed bytes: one U+FFFD per maximal subpart (WHATWG) */
    const int32_t bad1[] = {3 + 0xE2, T_A};              /* E2 then 'a' */
    CHECK(strcmp(stream(tok, bad1, 2, 0), "\xEF\xBF\xBD" "a") == 0);
    const int32_t bad2[] = {T_A, 3 + 0xE2, 3 + 0x82};    /* unfinished at the end: flush */
    CHECK(strcmp(stream(tok, bad2, 3, 0), "a\xEF\xBF\xBD") == 0);
    const int32_t bad3[] = {3 + 0xC0, 3 + 0xAF};         /* overlong: two subparts */
    CHECK(strcmp(stream(tok, bad3, 2, 0), "\xEF\xBF\xBD\xEF\xBF\xBD") == 0);
    const int32_t bad4[] = {3 + 0xED, 3 + 0xA0, 3 + 0x80}; /* a surrogate: three */
    CHECK(strcmp(stream(tok, bad4, 3, 0), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") == 0);
    const int32_t bad5[] = {3 + 0xF0, 3 + 0x9F, 3 + 0xFF}; /* F0 9F is one subpart, FF another */
    CHECK(strcmp(stream(tok, bad5, 3, 0), "\xEF\xBF\xBD\xEF\xBF\xBD") == 0);
    sm_tokenizer_free(tok);
    free(file);
}

/* GPT-2 byte-level pieces: the reverse of bytes_to_unicode. */
static void test_bpe_pieces(void) {
    static const char *const t[] = {("\xC4\xA0" "a"), "\xC4\x8A", "\xC3\xA9", "\xC5\x83",
                                    "\xE2\x82\xAC", "<|endoftext|>", "\xC4\xA0", "a"};
    static const int32_t ty[] = {1, 1, 1, 1, 1, 3, 1, 1};
    static const char *const merges[] = {"\xC4\xA0 a"};
    vspec s = {"gpt2", t, 8, NULL, 0, ty, 8, merges, 1, "gpt-2", NULL, NULL};
    sm_tokenizer *tok = NULL;
    uint8_t *file;
    sm_error err;
    CHECK_EQ(load(&s, &tok, &file, &err), SM_OK);
    if (!tok) {
        free(file);
        return;
    }
    CHECK(piece_is(tok, 0, 0, " a"));      /* U+0120 -> 0x20 */
    CHECK(piece_is(tok, 1, 0, "\n"));      /* U+010A -> 0x0A */
    CHECK(piece_is(tok, 2, 0, "\xE9"));    /* U+00E9 stands for itself: one byte */
    CHECK(piece_is(tok, 3, 0, "\xAD"));    /* U+0143, the last moved byte */
    CHECK(piece_is(tok, 4, 0, "[UNK_BYTE_0xe282ac\xE2\x82\xAC]")); /* not in the table */
    CHECK(piece_is(tok, 5, 0, ""));
    sm_tokenizer_free(tok);
    free(file);
}

/* ---- shared vocabularies: round trips and speed --------------------------------------------- */

static char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) free(buf), buf = NULL;
    fclose(f);
    if (buf) *size = (size_t)n;
    return buf;
}

/* Streams ids through a detokenizer into a growing buffer; returns it (malloc'd), *len set. */
static char *detok_all(const sm_tokenizer *tok, const int32_t *ids, int32_t n, size_t *len) {
    size_t cap = 1024, k = 0;
    char *out = malloc(cap);
    sm_detokenizer *d = NULL;
    *len = 0;
    if (!out || sm_detokenizer_new(tok, 0, &d) != SM_OK) return out;
    for (int32_t i = 0; i <= n; i++) {
        sm_status st;
        for (;;) {
            st = i < n ? sm_detokenizer_push(d, ids[i], out + *len, cap - *len, &k)
                       : sm_detokenizer_flush(d, out + *len, cap - *len, &k);
            if (st != SM_OK || k <= cap - *len) break;
            out = realloc(out, cap = 2 * cap + k);
        }
        if (st == SM_OK) *len += k;
    }
    sm_detokenizer_free(d);
    return out;
}

typedef struct case_ {
    const char *in, *out; /* out NULL: same as in */
} case_;

static const case_ k_corpus[] = {
    {"Hello world", NULL},
    {" Hello  world ", NULL},
    {"   ", NULL},
    {"\n\n\t \r\n    x\t\t", NULL},
    {"", NULL},
    /* Cyrillic */
    {"\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE \xD0\xBD\xD0\xB0 \xD0\x91\xD1\x8A\xD0\xBB", NULL},
    {"\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8" "apple\xE5\xB7\xA5\xE4\xBD\x9C", NULL}, /* CJK */
    {"\xEC\x95\x88\xEB\x85\x95 \xCE\xB1\xCE\xB2\xCE\xB3", NULL},       /* Hangul, Greek */
    {"\xE1\x9E\x80\xE1\x9E\xB6\xE1\x9E\x93\xE1\x9F\x8B", NULL},        /* Khmer */
    {"e\xCC\x81t\xC3\xA9 na\xC3\xAFve", NULL},                        /* combining mark */
    /* emoji, one a ZWJ sequence */
    {"\xF0\x9F\x9A\x80 \xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F", NULL},
    {"\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xE0\xA4\xA8\xE0\xA4\xAE", NULL}, /* Arabic, Hindi */
    {"<s> not special </s> <|user|>", NULL}, {"3333333 w048 7tuijk", NULL},
    {"a\xFF" "b", "a\xEF\xBF\xBD" "b"},                 /* invalid byte */
    {"x\xE2\x82", "x\xEF\xBF\xBD"},                     /* cut short at the end */
    {"\xC0\xAF" "z", "\xEF\xBF\xBD\xEF\xBF\xBD" "z"},   /* overlong */
    {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* surrogate */
};

static bool g_require_shared; /* --require-shared: a missing ../shared fails instead of skipping */

static void round_trip(const char *name, bool byte_exact) {
    char path[256];
    size_t size = 0;
    snprintf(path, sizeof path, "../shared/vocab/%s", name);
    char *file = read_all(path, &size);
    if (!file) {
        printf("test_tok: %s round trip on %s (not found)\n",
               g_require_shared ? "FAILED:" : "SKIPPED", path);
        CHECK(!g_require_shared);
        return;
    }
    sm_tokenizer *tok = NULL;
    sm_error err;
    CHECK_EQ(sm_tokenizer_load_from_memory(file, size, &tok, &err), SM_OK);
    for (size_t c = 0; tok && c < sizeof k_corpus / sizeof k_corpus[0]; c++) {
        const char *in = k_corpus[c].in, *want = k_corpus[c].out ? k_corpus[c].out : in;
        if (!byte_exact && k_corpus[c].out) continue;
        int32_t ids[512], n = 0;
        CHECK_EQ(sm_tokenize(tok, in, strlen(in), 0, ids, 512, &n), SM_OK);
        size_t len = 0;
        char *out = detok_all(tok, ids, n < 512 ? n : 512, &len);
        const bool ok = out && len == strlen(want) && memcmp(out, want, len) == 0;
        if (!ok) fprintf(stderr, "round trip on %s failed for corpus entry %zu\n", name, c);
        CHECK(ok);
        free(out);
    }
    sm_tokenizer_free(tok);
    free(file);
}

/* 1 MB inputs must take O(n log n): a long run of one letter is the worst case for a quadratic
 * merge loop. Prints the time; fails only when absurdly slow. */
static void spm_speed(void) {
    size_t size = 0;
    char *file = read_all("../shared/vocab/ggml-vocab-llama-spm.gguf", &size);
    if (!file) return;
    sm_tokenizer *tok = NULL;
    sm_error err;
    CHECK_EQ(sm_tokenizer_load_from_memory(file, size, &tok, &err), SM_OK);
    const size_t n = 1 << 20;
    char *text = malloc(n);
    int32_t *ids = malloc(n * 3 * sizeof *ids);
    for (int pass = 0; tok && text && ids && pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) text[i] = pass ? 'a' : k_corpus[0].in[i % 11];
        int32_t n_ids = 0;
        const clock_t t0 = clock();
        CHECK_EQ(sm_tokenize(tok, text, n, 0, ids, (int32_t)(n * 3), &n_ids), SM_OK);
        const double sec = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("test_tok: 1 MiB of %s -> %d tokens in %.3f s\n", pass ? "'a'" : "text", n_ids, sec);
        CHECK(sec < 20.0);
        size_t len = 0;
        char *back = detok_all(tok, ids, n_ids, &len);
        CHECK(back && len == n && memcmp(back, text, n) == 0);
        free(back);
    }
    free(ids);
    free(text);
    sm_tokenizer_free(tok);
    free(file);
}

int main(int argc, char **argv) {
    g_require_shared = argc > 1 && strcmp(argv[1], "--require-shared") == 0;
    test_maps();
    test_load_errors();
    test_load_semantics();
    test_spm();
    test_spm_unk();
    test_strip();
    test_char();
    test_pieces();
    test_bpe_pieces();
    round_trip("ggml-vocab-llama-spm.gguf", true);
    round_trip("ggml-vocab-phi-3.gguf", true);
    /* byte-level BPE keeps valid UTF-8 (its pre-tokenizer turns each ill-formed byte into its
     * own U+FFFD first, so invalid input is not compared); WordPiece normalizes: no round trip */
    round_trip("ggml-vocab-gpt-2.gguf", false);
    round_trip("ggml-vocab-starcoder.gguf", false);
    round_trip("ggml-vocab-falcon.gguf", false);
    round_trip("ggml-vocab-deepseek-coder.gguf", false);
    spm_speed();
    return sm_check_report("test_tok");
}
