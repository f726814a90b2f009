/*
 * tokenize.c — sm_tokenize: what every tokenizer kind shares. Splits the input at special-token
 * texts, hands each plain-text fragment to the kind's algorithm, adds BOS/EOS/SEP.
 *
 * Follows llama.cpp's llama_vocab::impl::tokenize and tokenizer_st_partition
 * (src/llama-vocab.cpp): special tokens are taken longest text first, each one splitting every
 * remaining text fragment at all its non-overlapping occurrences, leftmost first. Without
 * SM_TOKENIZE_PARSE_SPECIAL, CONTROL and UNKNOWN texts stay plain text but USER_DEFINED ones are
 * still split out (as Hugging Face's tokenizers do with added tokens). A token's lstrip/rstrip
 * attribute drops the ASCII whitespace before/after it. Not here: any algorithm (spm.c, ...).
 */
#include <stdlib.h>
#include <string.h>

#include "tok/tokenizer.h"

/* A piece of the input: text [off, off + len), or the special token `id` (>= 0). */
typedef struct frag {
    size_t off, len;
    int32_t id;
} frag;

typedef struct frag_list {
    frag *v;
    size_t n, cap;
} frag_list;

static bool frag_push(frag_list *l, size_t off, size_t len, int32_t id) {
    if (l->n == l->cap) {
        const size_t cap = l->cap ? 2 * l->cap : 16;
        frag *v = realloc(l->v, cap * sizeof *v);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (frag){off, len, id};
    return true;
}

/* First occurrence of p[0..m) in s[from..to), or SIZE_MAX. */
static size_t find(const char *s, size_t from, size_t to, const char *p, size_t m) {
    while (from < to && m <= to - from) {
        const char *hit = memchr(s + from, p[0], to - from - m + 1);
        if (!hit) return SIZE_MAX;
        const size_t at = (size_t)(hit - s);
        if (memcmp(hit, p, m) == 0) return at;
        from = at + 1;
    }
    return SIZE_MAX;
}

/* isspace() in the C locale, which llama.cpp's strip uses. */
static bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Splits text fragment f at every occurrence of special token `id`, appending to `out`.
 * Returns -1 on allocation failure, else whether anything matched. */
static int split_fragment(const sm_tokenizer *t, const char *text, frag f, int32_t id,
                          frag_list *out) {
    const char *p = t->text[id].ptr;
    const size_t m = (size_t)t->text[id].len;
    const uint8_t strip = t->strip ? t->strip[id] : 0;
    size_t off = f.off;
    const size_t end = f.off + f.len;
    bool matched = false;
    for (;;) {
        const size_t at = find(text, off, end, p, m);
        if (at == SIZE_MAX) {
            if (end > off && !frag_push(out, off, end - off, -1)) return -1;
            break;
        }
        matched = true;
        size_t left = at - off;
        if (strip & SM_TOK_LSTRIP) {
            while (left > 0 && is_ascii_space(text[off + left - 1])) left--;
        }
        if (left > 0 && !frag_push(out, off, left, -1)) return -1;
        if (!frag_push(out, 0, 0, id)) return -1;
        off = at + m;
        if (strip & SM_TOK_RSTRIP) {
            while (off < end && is_ascii_space(text[off])) off++;
        }
    }
    return matched;
}

/* One pass of special token `id` over the list. The list is copied only once a match shows up,
 * so a pass that finds nothing costs a search and no copy. */
static bool partition_one(const sm_tokenizer *t, const char *text, int32_t id, frag_list *l,
                          frag_list *tmp) {
    bool copying = false;
    tmp->n = 0;
    for (size_t i = 0; i < l->n; i++) {
        const frag f = l->v[i];
        if (f.id >= 0 || (!copying && find(text, f.off, f.off + f.len, t->text[id].ptr,
                                           (size_t)t->text[id].len) == SIZE_MAX)) {
            if (copying && !frag_push(tmp, f.off, f.len, f.id)) return false;
            continue;
        }
        if (!copying) {
            for (size_t j = 0; j < i; j++) {
                if (!frag_push(tmp, l->v[j].off, l->v[j].len, l->v[j].id)) return false;
            }
            copying = true;
        }
        if (split_fragment(t, text, f, id, tmp) < 0) return false;
    }
    if (copying) {
        frag_list swap = *l;
        *l = *tmp;
        *tmp = swap;
    }
    return true;
}

static bool partition(const sm_tokenizer *t, const char *text, size_t len, bool parse_special,
                      frag_list *l) {
    frag_list tmp = {0};
    bool ok = len == 0 || frag_push(l, 0, len, -1);
    for (int32_t k = 0; ok && k < t->n_special; k++) {
        const int32_t id = t->special[k];
        const uint8_t ty = t->type[id];
        if (!parse_special && (ty == SM_TT_CONTROL || ty == SM_TT_UNKNOWN)) continue;
        ok = partition_one(t, text, id, l, &tmp);
    }
    free(tmp.v);
    return ok;
}

static sm_status run_algorithm(const sm_tokenizer *t, const char *s, size_t n, bool first,
                               sm_tok_out *o) {
    switch (t->kind) {
    case SM_VOCAB_SPM: return sm_tok_spm(t, s, n, first, o);
    case SM_VOCAB_BPE: return sm_tok_bpe(t, s, n, o);
    case SM_VOCAB_WPM: return sm_tok_wpm(t, s, n, o);
    case SM_VOCAB_CHAR: return sm_tok_char(t, s, n, o);
    default: return SM_ERR_UNSUPPORTED;
    }
}

sm_status sm_tokenize(const sm_tokenizer *tok, const char *text, size_t len, uint32_t flags,
                      int32_t *toks, int32_t n_max, int32_t *n_out) {
    if (n_out) *n_out = 0;
    if (!tok || !n_out || (!text && len) || (!toks && n_max > 0) || n_max < 0)
        return SM_ERR_INVALID_ARG;
    if (flags & ~(uint32_t)(SM_TOKENIZE_ADD_SPECIAL | SM_TOKENIZE_PARSE_SPECIAL))
        return SM_ERR_INVALID_ARG;
    /* every byte yields at most 3 ids (a space as the 3 byte tokens of U+2581), so counts fit */
    if (len > (size_t)(INT32_MAX / 4)) return SM_ERR_INVALID_ARG;
    const bool add = flags & SM_TOKENIZE_ADD_SPECIAL;
    frag_list l = {0};
    if (!partition(tok, text, len, flags & SM_TOKENIZE_PARSE_SPECIAL, &l)) {
        free(l.v);
        return SM_ERR_NOMEM;
    }
    sm_tok_out o = {toks, n_max, 0};
    sm_status st = SM_OK;
    if (add && tok->add_bos) sm_tok_push(&o, tok->bos);
    bool prev_special = true; /* SPM: the space prefix goes on the first text and after specials */
    for (size_t i = 0; i < l.n && st == SM_OK; i++) {
        if (l.v[i].id >= 0) {
            sm_tok_push(&o, l.v[i].id);
            prev_special = true;
        } else {
            st = run_algorithm(tok, text + l.v[i].off, l.v[i].len, prev_special, &o);
            prev_special = false;
        }
    }
    free(l.v);
    if (st != SM_OK) return st;
    if (add && tok->add_eos) sm_tok_push(&o, tok->eos);
    if (add && tok->add_sep && tok->kind == SM_VOCAB_WPM) sm_tok_push(&o, tok->sep);
    *n_out = o.n;
    return SM_OK;
}
