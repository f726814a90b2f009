/*
 * piece.c — from token ids back to text: sm_token_to_piece and the streaming sm_detokenizer.
 *
 * A token's bytes follow llama.cpp's llama_vocab::impl::token_to_piece (src/llama-vocab.cpp):
 * CONTROL and UNKNOWN tokens are "" unless SM_DETOK_RENDER_SPECIAL, USER_DEFINED ones are their
 * text as is, BYTE tokens ("<0xNN>") the byte, NORMAL ones their text with U+2581 as a space
 * (SPM, WPM), or mapped back through GPT-2's byte-to-unicode table (BPE), or as is (CHAR);
 * UNDEFINED and UNUSED tokens are "". The detokenizer mirrors llama.cpp's detokenize in dropping
 * one leading space of the first token when add_space_prefix is set, but not its
 * clean_up_tokenization_spaces pass (it rewrites text, so the stream would not be the pieces).
 * Its output is always well-formed UTF-8, decoded as the WHATWG Encoding standard's TextDecoder
 * does: each ill-formed "maximal subpart" (Unicode 3.9) becomes one U+FFFD, a well-formed but
 * unfinished sequence at the end is held back until a later token completes or breaks it, and
 * flush turns a still-unfinished one into one U+FFFD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tokenizer.h"

static const char k_replacement[3] = {'\xEF', '\xBF', '\xBD'}; /* U+FFFD */

size_t sm_tok_utf8_scan(const uint8_t *s, size_t n, sm_utf8_kind *kind) {
    const uint8_t b = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* the range of the second byte; later ones are 80..BF */
    *kind = SM_UTF8_CHAR;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) { /* E0: no overlongs; ED: no surrogates */
        need = 2;
        lo = b == 0xE0 ? 0xA0 : 0x80;
        hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) { /* F0: no overlongs; F4: nothing past U+10FFFF */
        need = 3;
        lo = b == 0xF0 ? 0x90 : 0x80;
        hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
        *kind = SM_UTF8_INVALID; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n) {
            *kind = SM_UTF8_INCOMPLETE;
            return i;
        }
        if (s[i] < lo || s[i] > hi) {
            *kind = SM_UTF8_INVALID; /* s[i] is not part of it: it starts the next unit */
            return i;
        }
        lo = 0x80, hi = 0xBF;
    }
    return need + 1;
}

/* Output that counts everything and writes what fits (like snprintf without the NUL). */
typedef struct writer {
    char *buf;
    size_t cap, n;
} writer;

static void put(writer *w, const void *p, size_t k) {
    if (w->n < w->cap) memcpy(w->buf + w->n, p, k < w->cap - w->n ? k : w->cap - w->n);
    w->n += k;
}

/* The code point of a well-formed character of `len` bytes. */
static uint32_t decode(const uint8_t *s, size_t len) {
    static const uint8_t lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++) cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

/* GPT-2's bytes_to_unicode, reversed: printable bytes stand for themselves; the other 68 bytes,
 * in increasing order, were moved to U+0100..U+0143. Returns -1 for any other code point. */
static int gpt2_byte(uint32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp < 0x100 || cp >= 0x100 + 68) return -1;
    const uint32_t k = cp - 0x100;
    if (k < 33) return (int)k;                 /* 0x00..0x20 */
    if (k < 33 + 34) return (int)(0x7F + k - 33); /* 0x7F..0xA0 */
    return 0xAD;
}

/* llama.cpp's llama_decode_text: a character outside the table comes out as
 * "[UNK_BYTE_0x<its UTF-8 in hex><the whole token text>]". */
static void put_bpe(writer *w, sm_gguf_str text) {
    const uint8_t *s = (const uint8_t *)text.ptr;
    size_t i = 0;
    while (i < text.len) {
        sm_utf8_kind kind;
        size_t len = sm_tok_utf8_scan(s + i, (size_t)text.len - i, &kind);
        if (kind != SM_UTF8_CHAR) len = 1;
        const uint32_t cp = kind == SM_UTF8_CHAR ? decode(s + i, len) : 0xFFFD;
        const int b = gpt2_byte(cp);
        if (b >= 0) {
            const char c = (char)b;
            put(w, &c, 1);
        } else {
            char hex[16];
            put(w, "[UNK_BYTE_0x", 12);
            const uint8_t *u = kind == SM_UTF8_CHAR ? s + i : (const uint8_t *)k_replacement;
            for (size_t j = 0; j < (kind == SM_UTF8_CHAR ? len : 3); j++) {
                snprintf(hex, sizeof hex, "%02x", u[j]);
                put(w, hex, 2);
            }
            put(w, text.ptr, (size_t)text.len);
            put(w, "]", 1);
        }
        i += len;
    }
}

static void put_unescaped(writer *w, sm_gguf_str text) {
    size_t i = 0, from = 0;
    for (; i + 3 <= text.len; i++) {
        if (memcmp(text.ptr + i, "\xE2\x96\x81", 3) == 0) {
            put(w, text.ptr + from, i - from);
            put(w, " ", 1);
            from = i + 3;
            i += 2;
        }
    }
    put(w, text.ptr + from, (size_t)text.len - from);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void render(const sm_tokenizer *t, int32_t id, uint32_t flags, writer *w) {
    const sm_gguf_str text = t->text[id];
    switch (t->type[id]) {
    case SM_TT_CONTROL:
    case SM_TT_UNKNOWN:
        if (flags & SM_DETOK_RENDER_SPECIAL) put(w, text.ptr, (size_t)text.len);
        break;
    case SM_TT_USER_DEFINED: put(w, text.ptr, (size_t)text.len); break;
    case SM_TT_NORMAL:
        if (t->kind == SM_VOCAB_BPE) put_bpe(w, text);
        else if (t->kind == SM_VOCAB_CHAR) put(w, text.ptr, (size_t)text.len);
        else put_unescaped(w, text);
        break;
    case SM_TT_BYTE: {
        const int hi = text.len == 6 ? hex_digit(text.ptr[3]) : -1;
        const int lo = text.len == 6 ? hex_digit(text.ptr[4]) : -1;
        if (hi >= 0 && lo >= 0 && memcmp(text.ptr, "<0x", 3) == 0 && text.ptr[5] == '>') {
            const char c = (char)(hi * 16 + lo);
            put(w, &c, 1);
        } else {
            put(w, text.ptr, (size_t)text.len); /* not "<0xNN>": a one-byte text, say */
        }
        break;
    }
    default: break; /* UNDEFINED, UNUSED */
    }
}

sm_status sm_token_to_piece(const sm_tokenizer *tok, int32_t id, uint32_t flags, char *buf,
                            size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!tok || !n_out || (!buf && cap) || id < 0 || id >= tok->n_tokens ||
        (flags & ~(uint32_t)SM_DETOK_RENDER_SPECIAL))
        return SM_ERR_INVALID_ARG;
    writer w = {buf, cap, 0};
    render(tok, id, flags, &w);
    *n_out = w.n;
    return SM_OK;
}

/* ---- streaming ----------------------------------------------------------------------------- */

struct sm_detokenizer {
    const sm_tokenizer *tok;
    uint32_t flags;
    bool strip_space; /* the next token is the first: drop one leading ' ' (add_space_prefix) */
    uint8_t held[4];  /* a well-formed but unfinished UTF-8 sequence (at most 3 bytes) */
    size_t n_held;
    char *scratch; /* held bytes + the new piece */
    size_t cap_scratch;
};

/* Decodes in[0..n) into well-formed UTF-8 (writing what fits into w); returns the bytes
 * consumed: all of them, or, unless `final`, all but an unfinished sequence at the end. */
static size_t sanitize(const uint8_t *in, size_t n, bool final, writer *w) {
    size_t i = 0;
    while (i < n) {
        sm_utf8_kind kind;
        const size_t len = sm_tok_utf8_scan(in + i, n - i, &kind);
        if (kind == SM_UTF8_INCOMPLETE && !final) break;
        if (kind == SM_UTF8_CHAR) put(w, in + i, len);
        else put(w, k_replacement, 3);
        i += len;
    }
    return i;
}

sm_status sm_detokenizer_new(const sm_tokenizer *tok, uint32_t flags, sm_detokenizer **out) {
    if (out) *out = NULL;
    const uint32_t known = SM_DETOK_RENDER_SPECIAL | SM_DETOK_CONTINUATION;
    if (!tok || !out || (flags & ~known)) return SM_ERR_INVALID_ARG;
    sm_detokenizer *d = calloc(1, sizeof *d);
    if (!d) return SM_ERR_NOMEM;
    d->tok = tok;
    d->flags = flags;
    /* a continuation (generated text after a prompt) keeps its first space: it is real text */
    d->strip_space = tok->add_space_prefix && !(flags & SM_DETOK_CONTINUATION);
    d->cap_scratch = 64; /* never NULL, so the piece's place in it is always a valid pointer */
    d->scratch = malloc(d->cap_scratch);
    if (!d->scratch) {
        free(d);
        return SM_ERR_NOMEM;
    }
    *out = d;
    return SM_OK;
}

void sm_detokenizer_free(sm_detokenizer *d) {
    if (!d) return;
    free(d->scratch);
    free(d);
}

sm_status sm_detokenizer_push(sm_detokenizer *d, int32_t id, char *buf, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!d || !n_out || (!buf && cap) || id < 0 || id >= d->tok->n_tokens)
        return SM_ERR_INVALID_ARG;
    writer count = {NULL, 0, 0};
    render(d->tok, id, d->flags, &count);
    const size_t need = d->n_held + count.n;
    if (need > d->cap_scratch) {
        char *p = realloc(d->scratch, need);
        if (!p) return SM_ERR_NOMEM;
        d->scratch = p;
        d->cap_scratch = need;
    }
    if (d->n_held) memcpy(d->scratch, d->held, d->n_held);
    writer piece = {d->scratch + d->n_held, count.n, 0};
    render(d->tok, id, d->flags, &piece);
    size_t total = need;
    if (d->strip_space && count.n > 0 && d->scratch[d->n_held] == ' ') { /* n_held is 0 here */
        memmove(d->scratch, d->scratch + 1, --total);
    }
    writer dry = {NULL, 0, 0};
    sanitize((const uint8_t *)d->scratch, total, false, &dry);
    *n_out = dry.n;
    if (dry.n > cap) return SM_OK; /* nothing consumed: the caller retries with more room */
    writer w = {buf, cap, 0};
    const size_t used = sanitize((const uint8_t *)d->scratch, total, false, &w);
    d->n_held = total - used;
    if (d->n_held) memcpy(d->held, d->scratch + used, d->n_held);
    d->strip_space = false;
    return SM_OK;
}

sm_status sm_detokenizer_flush(sm_detokenizer *d, char *buf, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!d || !n_out || (!buf && cap)) return SM_ERR_INVALID_ARG;
    writer dry = {NULL, 0, 0};
    sanitize(d->held, d->n_held, true, &dry);
    *n_out = dry.n;
    if (dry.n > cap) return SM_OK;
    writer w = {buf, cap, 0};
    sanitize(d->held, d->n_held, true, &w);
    d->n_held = 0;
    return SM_OK;
}
