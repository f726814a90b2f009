/*
 * fuzz_tokenize.c — libFuzzer target for the tokenizers (src/tok): sm_tokenize under every flag
 * combination, sm_token_to_piece, and the streaming detokenizer, over small vocabularies built in
 * memory (tests/c/gguf_build.h). Input byte 0 picks the vocabulary: SentencePiece ("llama"),
 * byte-level BPE ("gpt2") with each pre-tokenizer, WordPiece ("bert") or "char"; the rest is the
 * text. Nothing may crash or read outside the input, and these must hold:
 *   - the count is the same with a too-small buffer (snprintf contract) as with a big one, and the
 *     ids written are the same prefix; every id names a token;
 *   - token_to_piece's length does not depend on the buffer;
 *   - the detokenizer's output is well-formed UTF-8, and equals the pieces joined whenever those
 *     are well-formed (less the one leading space it drops when add_space_prefix is set, unless
 *     SM_DETOK_CONTINUATION);
 *   - byte-level BPE loses nothing: without special tokens, the pieces of well-formed UTF-8 text
 *     join back to exactly the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../c/gguf_build.h"
#include "sm.h"
#include "tok/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_BYTE = 6 };

/* A vocabulary under construction: texts, types, scores. */
typedef struct vocab {
    char *text[700];
    int32_t type[700];
    float score[700];
    int n;
} vocab;

/* Appends a token unless its text is already there (the loader refuses duplicates). */
static void add(vocab *v, const char *s, int type, float score) {
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->text[i], s) == 0) return;
    CHECK(v->n < (int)(sizeof v->text / sizeof v->text[0]));
    const size_t n = strlen(s) + 1;
    v->text[v->n] = malloc(n);
    CHECK(v->text[v->n]);
    memcpy(v->text[v->n], s, n);
    v->type[v->n] = type;
    v->score[v->n] = score;
    v->n++;
}

static void vocab_free(vocab *v) {
    for (int i = 0; i < v->n; i++) free(v->text[i]);
}

/* Words the merge-based vocabularies know, in the order their merges/scores prefer them. */
static const char *const k_words[] = {"th", "he", "the", "in", "an", "er", "on", "at", "ing",
                                      "and", "hello", "wor", "ld", "world", "12", "123", "é", "你好"};
#define N_WORDS (sizeof k_words / sizeof k_words[0])

static uint8_t *build_spm(size_t *size) {
    vocab v = {0};
    add(&v, "<unk>", TT_UNKNOWN, 0);
    add(&v, "<s>", TT_CONTROL, 0);
    add(&v, "</s>", TT_CONTROL, 0);
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        add(&v, name, TT_BYTE, 0);
    }
    const char *chars = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ.,!?'0123";
    add(&v, "\xE2\x96\x81", TT_NORMAL, -1);
    for (const char *c = chars; *c; c++) {
        char s[2] = {*c, 0};
        if (*c != ' ') add(&v, s, TT_NORMAL, -2);
    }
    for (size_t i = 0; i < N_WORDS; i++) {
        char s[32];
        add(&v, k_words[i], TT_NORMAL, -3.0f - (float)i);
        snprintf(s, sizeof s, "\xE2\x96\x81%s", k_words[i]);
        add(&v, s, TT_NORMAL, -3.5f - (float)i);
    }
    add(&v, "\xE2\x96\x81\xE2\x96\x81", TT_NORMAL, -4);
    add(&v, "<|im_start|>", TT_USER, 0);
    gguf_builder b;
    gb_init(&b);
    gb_kv_str(&b, "general.architecture", "llama");
    gb_kv_str(&b, "tokenizer.ggml.model", "llama");
    gb_kv_arr_str(&b, "tokenizer.ggml.tokens", (const char *const *)v.text, (uint64_t)v.n);
    gb_kv_arr_f32(&b, "tokenizer.ggml.scores", v.score, (uint64_t)v.n);
    gb_kv_arr_i32(&b, "tokenizer.ggml.token_type", v.type, (uint64_t)v.n);
    gb_kv_u32(&b, "tokenizer.ggml.unknown_token_id", 0);
    gb_kv_u32(&b, "tokenizer.ggml.bos_token_id", 1);
    gb_kv_u32(&b, "tokenizer.ggml.eos_token_id", 2);
    gb_kv_bool(&b, "tokenizer.ggml.add_eos_token", true);
    uint8_t *file = gb_finish(&b, size);
    gb_free(&b);
    vocab_free(&v);
    return file;
}

/* GPT-2's byte alphabet: printable Latin-1 stands for itself, the other bytes for U+0100.. */
static void byte_char(int byte, char out[3]) {
    static int map[256];
    static bool ready;
    if (!ready) {
        int n = 0;
        for (int c = 0; c < 256; c++) {
            const bool printable =
                (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
            map[c] = printable ? c : 256 + n++;
        }
        ready = true;
    }
    const int cp = map[byte];
    if (cp < 0x80) out[0] = (char)cp, out[1] = 0;
    else out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
}

/* The byte-level spelling of a UTF-8 string (a leading space becomes "Ġ"). */
static void byte_spell(const char *s, char *out) {
    out[0] = 0;
    for (; *s; s++) {
        char c[3];
        byte_char((uint8_t)*s, c);
        strcat(out, c);
    }
}

static uint8_t *build_bpe(const char *pre, size_t *size) {
    vocab v = {0};
    static char merges[400][64];
    const char *merge_ptr[400];
    int n_merges = 0;
    for (int b = 0; b < 256; b++) {
        char c[3];
        byte_char(b, c);
        add(&v, c, TT_NORMAL, 0);
    }
    /* every word and " word" as a chain of merges, prefix by prefix: (w[..k-1]) + (w[k-1]) */
    for (int sp = 0; sp < 2; sp++) {
        for (size_t i = 0; i < N_WORDS; i++) {
            char word[32];
            snprintf(word, sizeof word, "%s%s", sp ? " " : "", k_words[i]);
            for (size_t k = 2; k <= strlen(word); k++) {
                char prefix[32], last[2] = {word[k - 1], 0}, whole[96], left[96], right[8];
                memcpy(prefix, word, k - 1);
                prefix[k - 1] = 0;
                byte_spell(prefix, left);
                byte_spell(last, right);
                snprintf(whole, sizeof whole, "%s%s", left, right);
                const int before = v.n;
                add(&v, whole, TT_NORMAL, 0);
                if (v.n == before) continue; /* that prefix is a token already */
                CHECK(n_merges < 400);
                snprintf(merges[n_merges], sizeof merges[0], "%s %s", left, right);
                merge_ptr[n_merges] = merges[n_merges];
                n_merges++;
            }
        }
    }
    add(&v, "<|endoftext|>", TT_CONTROL, 0);
    add(&v, "<|im_start|>", TT_USER, 0);
    gguf_builder b;
    gb_init(&b);
    gb_kv_str(&b, "general.architecture", "gpt2");
    gb_kv_str(&b, "tokenizer.ggml.model", "gpt2");
    gb_kv_str(&b, "tokenizer.ggml.pre", pre);
    gb_kv_arr_str(&b, "tokenizer.ggml.tokens", (const char *const *)v.text, (uint64_t)v.n);
    gb_kv_arr_i32(&b, "tokenizer.ggml.token_type", v.type, (uint64_t)v.n);
    gb_kv_arr_str(&b, "tokenizer.ggml.merges", merge_ptr, (uint64_t)n_merges);
    gb_kv_u32(&b, "tokenizer.ggml.bos_token_id", (uint32_t)v.n - 2);
    gb_kv_u32(&b, "tokenizer.ggml.eos_token_id", (uint32_t)v.n - 2);
    uint8_t *file = gb_finish(&b, size);
    gb_free(&b);
    vocab_free(&v);
    return file;
}

static uint8_t *build_wpm(size_t *size) {
    vocab v = {0};
    const char *special[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) add(&v, special[i], TT_CONTROL, 0);
    const char *chars[] = {"a", "b", "c", "d", "e", "h", "i", "l", "n", "o", "r", "s", "t", "w",
                           "1", "2", ".", ",", "!", "?", "'", "(", ")", "é", "你", "好", "ß"};
    for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
        char s[16];
        snprintf(s, sizeof s, "\xE2\x96\x81%s", chars[i]);
        add(&v, chars[i], TT_NORMAL, 0);
        add(&v, s, TT_NORMAL, 0);
    }
    for (size_t i = 0; i < N_WORDS; i++) {
        char s[32];
        snprintf(s, sizeof s, "\xE2\x96\x81%s", k_words[i]);
        add(&v, s, TT_NORMAL, 0);
        if (i % 2) add(&v, k_words[i], TT_NORMAL, 0);
    }
    gguf_builder b;
    gb_init(&b);
    gb_kv_str(&b, "general.architecture", "bert");
    gb_kv_str(&b, "tokenizer.ggml.model", "bert");
    gb_kv_arr_str(&b, "tokenizer.ggml.tokens", (const char *const *)v.text, (uint64_t)v.n);
    gb_kv_arr_i32(&b, "tokenizer.ggml.token_type", v.type, (uint64_t)v.n);
    gb_kv_u32(&b, "tokenizer.ggml.padding_token_id", 0);
    gb_kv_u32(&b, "tokenizer.ggml.unknown_token_id", 1);
    gb_kv_u32(&b, "tokenizer.ggml.cls_token_id", 2);
    gb_kv_u32(&b, "tokenizer.ggml.bos_token_id", 2);
    gb_kv_u32(&b, "tokenizer.ggml.seperator_token_id", 3);
    gb_kv_u32(&b, "tokenizer.ggml.mask_token_id", 4);
    uint8_t *file = gb_finish(&b, size);
    gb_free(&b);
    vocab_free(&v);
    return file;
}

static uint8_t *build_char(bool bytes, size_t *size) {
    vocab v = {0};
    add(&v, "<unk>", TT_UNKNOWN, 0);
    add(&v, "<eos>", TT_CONTROL, 0);
    for (int c = 0x20; c < 0x7F; c++) {
        char s[2] = {(char)c, 0};
        add(&v, s, TT_NORMAL, 0);
    }
    add(&v, "\n", TT_NORMAL, 0);
    add(&v, "é", TT_NORMAL, 0);
    add(&v, "\xF0\x9F\xA6\x99", TT_NORMAL, 0); /* U+1F999 */
    for (int b = 0; bytes && b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        add(&v, name, TT_BYTE, 0);
    }
    gguf_builder b;
    gb_init(&b);
    gb_kv_str(&b, "general.architecture", "llama");
    gb_kv_str(&b, "tokenizer.ggml.model", "char");
    gb_kv_arr_str(&b, "tokenizer.ggml.tokens", (const char *const *)v.text, (uint64_t)v.n);
    gb_kv_arr_i32(&b, "tokenizer.ggml.token_type", v.type, (uint64_t)v.n);
    gb_kv_u32(&b, "tokenizer.ggml.unknown_token_id", 0);
    gb_kv_u32(&b, "tokenizer.ggml.eos_token_id", 1);
    uint8_t *file = gb_finish(&b, size);
    gb_free(&b);
    vocab_free(&v);
    return file;
}

static const char *const k_pres[] = {
    "default", "llama-bpe", "qwen2", "smollm", "starcoder", "falcon", "deepseek-coder",
    "deepseek-llm", "mpt", "refact", "gpt-4o", "phi-2", "gpt-2", "no-such-pre-tokenizer",
};
#define N_PRES (sizeof k_pres / sizeof k_pres[0])
#define N_VOCABS (N_PRES + 4)

typedef struct built {
    uint8_t *file; /* must outlive the tokenizer */
    sm_tokenizer *tok;
    bool bpe;
} built;

/* Vocabulary `which`, built on first use and kept for the whole run. */
static const built *get_vocab(unsigned which) {
    static built cache[N_VOCABS];
    built *b = &cache[which];
    if (b->tok) return b;
    size_t size = 0;
    if (which < N_PRES) b->file = build_bpe(k_pres[which], &size), b->bpe = true;
    else if (which == N_PRES) b->file = build_spm(&size);
    else if (which == N_PRES + 1) b->file = build_wpm(&size);
    else b->file = build_char(which == N_PRES + 2, &size);
    sm_error err;
    if (sm_tokenizer_load_from_memory(b->file, size, &b->tok, &err) != SM_OK) {
        fprintf(stderr, "fuzz_tokenize: built-in vocabulary %u does not load: %s\n", which,
                err.msg);
        __builtin_trap();
    }
    return b;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values above U+10FFFF). */
static bool utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        const uint8_t c = s[i];
        const size_t len = c < 0x80 ? 1
                           : (c & 0xE0) == 0xC0 ? 2
                           : (c & 0xF0) == 0xE0 ? 3
                           : (c & 0xF8) == 0xF0 ? 4
                                                : 0;
        if (!len || len > n - i) return false;
        uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/* A growing byte buffer for joined pieces and decoder output. */
typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        CHECK(b->p);
    }
    if (n) memcpy(b->p + b->n, x, n);
    b->n += n;
}

/* Pieces joined; each piece's length is checked against a one-byte buffer first. */
static void join_pieces(const sm_tokenizer *t, const int32_t *ids, int32_t n, uint32_t flags,
                        bytes *out) {
    char small[1], buf[512];
    for (int32_t i = 0; i < n; i++) {
        size_t n1 = 0, n2 = 0;
        CHECK(sm_token_to_piece(t, ids[i], flags, small, sizeof small, &n1) == SM_OK);
        CHECK(sm_token_to_piece(t, ids[i], flags, buf, sizeof buf, &n2) == SM_OK);
        CHECK(n1 == n2 && n2 <= sizeof buf);
        if (n2 == 1) CHECK(small[0] == buf[0]);
        put(out, buf, n2);
    }
}

/* The streaming detokenizer, with a tiny buffer first each time (nothing may be consumed then). */
static void stream(const sm_tokenizer *t, const int32_t *ids, int32_t n, uint32_t flags,
                   bytes *out) {
    sm_detokenizer *d = NULL;
    CHECK(sm_detokenizer_new(t, flags, &d) == SM_OK && d);
    char tiny[2], buf[1024];
    for (int32_t i = 0; i <= n; i++) {
        size_t got = 0;
        const bool end = i == n;
        sm_status st = end ? sm_detokenizer_flush(d, tiny, sizeof tiny, &got)
                           : sm_detokenizer_push(d, ids[i], tiny, sizeof tiny, &got);
        CHECK(st == SM_OK);
        if (got > sizeof tiny) {
            CHECK(got <= sizeof buf);
            size_t again = 0;
            st = end ? sm_detokenizer_flush(d, buf, sizeof buf, &again)
                     : sm_detokenizer_push(d, ids[i], buf, sizeof buf, &again);
            CHECK(st == SM_OK && again == got);
            put(out, buf, got);
        } else {
            put(out, tiny, got);
        }
    }
    sm_detokenizer_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const built *v = get_vocab(data[0] % N_VOCABS);
    const sm_tokenizer *t = v->tok;
    sm_tokenizer_info info;
    CHECK(sm_tokenizer_get_info(t, &info) == SM_OK && info.n_tokens > 0);
    /* an exact-size copy, so ASan sees any read past the end of the text */
    const size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    CHECK(text);
    memcpy(text, data + 1, len);
    for (uint32_t flags = 0; flags < 4; flags++) {
        int32_t probe[2], n = -1, n2 = -1;
        CHECK(sm_tokenize(t, text, len, flags, probe, 2, &n) == SM_OK && n >= 0);
        int32_t *ids = malloc(sizeof *ids * (size_t)(n ? n : 1));
        CHECK(ids);
        CHECK(sm_tokenize(t, text, len, flags, ids, n, &n2) == SM_OK && n2 == n);
        for (int32_t i = 0; i < n; i++) CHECK(ids[i] >= 0 && ids[i] < info.n_tokens);
        for (int32_t i = 0; i < n && i < 2; i++) CHECK(probe[i] == ids[i]);
        /* dflags: SM_DETOK_RENDER_SPECIAL (pieces too) and SM_DETOK_CONTINUATION (stream only) */
        for (uint32_t dflags = 0; dflags < 4; dflags++) {
            const uint32_t pflags = dflags & SM_DETOK_RENDER_SPECIAL;
            bytes joined = {0}, streamed = {0};
            join_pieces(t, ids, n, pflags, &joined);
            stream(t, ids, n, dflags, &streamed);
            CHECK(utf8_ok(streamed.p, streamed.n));
            if (utf8_ok(joined.p, joined.n)) {
                char first[512];
                size_t n_first = 0;
                if (n > 0) sm_token_to_piece(t, ids[0], pflags, first, sizeof first, &n_first);
                const size_t skip = t->add_space_prefix && !(dflags & SM_DETOK_CONTINUATION) &&
                                    n_first > 0 && first[0] == ' ';
                CHECK(joined.n - skip == streamed.n);
                CHECK(!streamed.n || !memcmp(joined.p + skip, streamed.p, streamed.n));
            }
            /* byte-level BPE is lossless: plain text comes back byte for byte */
            if (v->bpe && flags == 0 && pflags && utf8_ok((const uint8_t *)text, len))
                CHECK(joined.n == len && (!len || !memcmp(joined.p, text, len)));
            free(joined.p);
            free(streamed.p);
        }
        free(ids);
    }
    free(text);
    return 0;
}
