/*
 * wpm.c — WordPiece ("bert" vocabularies), as llama.cpp's llm_tokenizer_wpm does it.
 *
 * Preprocessing (BERT's BasicTokenizer, llama.cpp's variant): decode UTF-8 (a malformed byte
 * becomes U+FFFD, see unicode.h), map each code point to the first code point of its canonical decomposition
 * (this is how accents are stripped: é -> e), drop control and format characters, NUL, U+FFFD and
 * combining marks, lowercase, and split into words at whitespace; punctuation, ASCII symbols and
 * CJK ideographs are words of their own. Then each word, prefixed with U+2581 (llama.cpp's
 * converted vocabularies mark word-initial pieces with it; continuations carry no "##"), is cut
 * greedily into the longest pieces in the vocabulary, left to right. A word with any part that
 * matches nothing becomes [UNK] as a whole.
 * Not here: [CLS]/[SEP] (tokenize.c adds them for SM_TOKENIZE_ADD_SPECIAL) and special-token text.
 * Data: wpm_tables.inc, generated from Unicode 15 by tools/unicode/gen_wpm_tables.c.
 */
#include <stdlib.h>
#include <string.h>

#include "tok/tokenizer.h"
#include "tok/unicode.h"

#include "tok/wpm_tables.inc"

static int wpm_class(uint32_t c) {
    if (c < 0x80) return wpm_ascii_class[c];
    size_t lo = 0, hi = WPM_N_CLASS_RANGES; /* last range whose start <= c */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (wpm_class_start[mid] <= c) lo = mid;
        else hi = mid;
    }
    return wpm_class_kind[lo];
}

static uint32_t wpm_lower(uint32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
    size_t lo = 0, hi = WPM_N_LOWER_RUNS; /* runs[lo].start <= c < runs[hi].start */
    if (c < wpm_lower_runs[0].start) return c;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (wpm_lower_runs[mid].start <= c) lo = mid;
        else hi = mid;
    }
    const struct wpm_lower_run *r = &wpm_lower_runs[lo];
    uint32_t k = c - r->start;
    if (k % r->stride || k / r->stride >= r->count) return c;
    return (uint32_t)((int32_t)c + r->delta);
}

static uint32_t wpm_nfd(uint32_t c) {
    if (c < 0xC0) return c;
    size_t lo = 0, hi = WPM_N_NFD_RANGES; /* ranges[lo].first <= c < ranges[hi].first */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (wpm_nfd_ranges[mid].first <= c) lo = mid;
        else hi = mid;
    }
    return c <= wpm_nfd_ranges[lo].last && c >= wpm_nfd_ranges[lo].first ? wpm_nfd_ranges[lo].nfd : c;
}

/* A word under construction: "\u2581" followed by its characters' bytes. */
typedef struct wpm_word {
    uint8_t *b;
    size_t len, cap;
} wpm_word;

#define WPM_PREFIX_LEN 3 /* U+2581 in UTF-8 */

static sm_status wpm_word_put(wpm_word *w, uint32_t c) {
    if (w->cap - w->len < 4) {
        size_t cap = w->cap * 2;
        uint8_t *b = realloc(w->b, cap);
        if (!b) return SM_ERR_NOMEM;
        w->b = b, w->cap = cap;
    }
    w->len += sm_utf8_encode(c, (char *)w->b + w->len);
    return SM_OK;
}

/* Greedy longest-match-first over the word; all or nothing: a word with an unmatched part is
 * [UNK] alone (llama.cpp drops the pieces it found and pushes the unknown token). */
static void wpm_emit_word(const sm_tokenizer *t, const wpm_word *w, size_t max_len,
                          sm_tok_out *out) {
    if (w->len <= WPM_PREFIX_LEN) return;
    const int32_t n0 = out->n;
    const char *s = (const char *)w->b;
    size_t i = 0;
    while (i < w->len) {
        size_t j = w->len - i < max_len ? w->len : i + max_len;
        int32_t id = -1;
        for (; j > i; j--)
            if ((id = sm_strmap_get(&t->by_text, s + i, j - i)) >= 0) break;
        if (id < 0) {
            out->n = n0;
            break;
        }
        sm_tok_push(out, id);
        i = j;
    }
    if (out->n == n0 && t->unk >= 0) sm_tok_push(out, t->unk);
}

sm_status sm_tok_wpm(const sm_tokenizer *t, const char *text, size_t n, sm_tok_out *out) {
    /* tokenizer.ggml.normalizer.{lowercase,strip_accents}: llama.cpp's defaults (true, true) */
    const bool lowercase = true, strip_accents = true;
    if (n == 0) return SM_OK;
    wpm_word w = {malloc(64), WPM_PREFIX_LEN, 64};
    if (!w.b) return SM_ERR_NOMEM;
    memcpy(w.b, "\xE2\x96\x81", WPM_PREFIX_LEN);
    const size_t max_len = t->max_token_len ? t->max_token_len : 1;
    sm_status st = SM_OK;
    for (size_t i = 0; i < n && st == SM_OK;) {
        /* llama.cpp's lenient decoding: a malformed byte is U+FFFD (dropped below) */
        uint32_t c = sm_utf8_decode(text, n, &i);
        if (strip_accents) c = wpm_nfd(c);
        int k = wpm_class(c);
        if (k == WPM_SPACE) {
            wpm_emit_word(t, &w, max_len, out);
            w.len = WPM_PREFIX_LEN;
            continue;
        }
        if (c == 0 || c == SM_UNICODE_REPLACEMENT || k == WPM_CONTROL) continue;
        if (strip_accents && k == WPM_MARK) continue;
        uint32_t lc = lowercase ? wpm_lower(c) : c;
        if (k == WPM_SPLIT) { /* a word of its own */
            wpm_emit_word(t, &w, max_len, out);
            w.len = WPM_PREFIX_LEN;
            st = wpm_word_put(&w, lc);
            if (st == SM_OK) wpm_emit_word(t, &w, max_len, out);
            w.len = WPM_PREFIX_LEN;
            continue;
        }
        st = wpm_word_put(&w, lc);
    }
    if (st == SM_OK) wpm_emit_word(t, &w, max_len, out);
    free(w.b);
    return st;
}
