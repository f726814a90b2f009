/*
 * spm.c — SentencePiece-style BPE over token scores (tokenizer.ggml.model = "llama").
 *
 * The algorithm of llama.cpp's llm_tokenizer_spm (src/llama-vocab.cpp), which reproduces
 * SentencePiece's BPE mode: spaces become U+2581 (with one prepended when asked), the text is
 * cut into UTF-8 characters, and the adjacent pair whose joined text is a token with the highest
 * score is merged, again and again (ties: the leftmost pair). A priority queue of candidate pairs
 * makes it O(n log n); a popped pair whose sides changed since it was queued is stale and
 * skipped. A final piece that is not a token comes out as its bytes' <0xNN> tokens (byte
 * fallback), or `unk` for a byte without one (llama.cpp would throw there); a byte with neither
 * is dropped. Not here: special tokens, BOS/EOS (tokenize.c).
 */
#include <stdlib.h>
#include <string.h>

#include "tok/tokenizer.h"

/* A run of the escaped text [off, off + n); n == 0 once merged into its left neighbour. */
typedef struct sym {
    int32_t prev, next; /* -1 at the ends of the chain */
    uint32_t off, n;
} sym;

typedef struct bigram {
    float score;
    int32_t left, right;
    uint32_t size; /* bytes of the joined text when queued: detects stale entries */
} bigram;

typedef struct spm_state {
    const sm_tokenizer *t;
    const char *text; /* escaped */
    sym *syms;
    bigram *heap;
    size_t n_heap, cap_heap;
} spm_state;

/* Byte length of the UTF-8 sequence a lead byte announces, from its top 4 bits (llama.cpp's
 * unicode_len_utf8: a stray continuation byte counts as 1, an invalid lead as what it claims). */
static uint32_t utf8_len(uint8_t c) {
    static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len[c >> 4];
}

/* The queue's order: higher score first, then the leftmost pair. */
static bool before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(spm_state *s, bigram b) {
    if (s->n_heap == s->cap_heap) {
        const size_t cap = s->cap_heap ? 2 * s->cap_heap : 64;
        bigram *h = realloc(s->heap, cap * sizeof *h);
        if (!h) return false;
        s->heap = h;
        s->cap_heap = cap;
    }
    size_t i = s->n_heap++;
    while (i > 0 && before(&b, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = b;
    return true;
}

static bigram heap_pop(spm_state *s) {
    const bigram top = s->heap[0];
    const bigram last = s->heap[--s->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n_heap) break;
        if (c + 1 < s->n_heap && before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->n_heap) s->heap[i] = last;
    return top;
}

/* Queues the pair (left, right) if their joined text is a token. */
static bool try_add(spm_state *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return true;
    const sym *l = &s->syms[left], *r = &s->syms[right];
    const uint32_t size = l->n + r->n; /* adjacent runs: the joined text is contiguous */
    if (size > s->t->max_token_len) return true;
    const int32_t id = sm_strmap_get(&s->t->by_text, s->text + l->off, size);
    if (id < 0) return true;
    const float score = s->t->scores ? s->t->scores[id] : 0.0f;
    return heap_push(s, (bigram){score, left, right, size});
}

static void emit(const spm_state *s, const sym *y, sm_tok_out *out) {
    const sm_tokenizer *t = s->t;
    const int32_t id = sm_strmap_get(&t->by_text, s->text + y->off, y->n);
    if (id >= 0) {
        sm_tok_push(out, id);
        return;
    }
    for (uint32_t i = 0; i < y->n; i++) {
        const int32_t b = t->byte_token[(uint8_t)s->text[y->off + i]];
        if (b >= 0) sm_tok_push(out, b);
        else if (t->unk >= 0) sm_tok_push(out, t->unk);
    }
}

/* Copies the fragment with ' ' -> U+2581 and the optional leading space; *n_out = its length. */
static char *escape(const char *s, size_t n, bool prefix, size_t *n_out) {
    size_t m = prefix ? 3 : 0;
    for (size_t i = 0; i < n; i++) m += s[i] == ' ' ? 3 : 1;
    char *e = malloc(m ? m : 1);
    if (!e) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n + prefix; i++) {
        const char c = prefix ? (i == 0 ? ' ' : s[i - 1]) : s[i];
        if (c == ' ') {
            memcpy(e + k, "\xE2\x96\x81", 3);
            k += 3;
        } else {
            e[k++] = c;
        }
    }
    *n_out = m;
    return e;
}

static bool merge_all(spm_state *s, int32_t n_sym) {
    for (int32_t i = 1; i < n_sym; i++) {
        if (!try_add(s, i - 1, i)) return false;
    }
    while (s->n_heap) {
        const bigram b = heap_pop(s);
        sym *l = &s->syms[b.left], *r = &s->syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s->syms[r->next].prev = b.left;
        if (!try_add(s, l->prev, b.left) || !try_add(s, b.left, l->next)) return false;
    }
    return true;
}

sm_status sm_tok_spm(const sm_tokenizer *t, const char *s, size_t n, bool first, sm_tok_out *out) {
    size_t m = 0;
    spm_state st = {.t = t};
    char *text = escape(s, n, first && t->add_space_prefix, &m);
    if (!text) return SM_ERR_NOMEM;
    if (m == 0 || m > INT32_MAX) {
        free(text);
        return m == 0 ? SM_OK : SM_ERR_INVALID_ARG;
    }
    st.text = text;
    st.syms = malloc(m * sizeof *st.syms); /* at most one symbol per byte */
    bool ok = st.syms != NULL;
    int32_t n_sym = 0;
    for (size_t off = 0; ok && off < m; n_sym++) {
        uint32_t len = utf8_len((uint8_t)text[off]);
        if (len > m - off) len = (uint32_t)(m - off);
        st.syms[n_sym] = (sym){n_sym - 1, off + len == m ? -1 : n_sym + 1, (uint32_t)off, len};
        off += len;
    }
    if (ok) ok = merge_all(&st, n_sym);
    for (int32_t i = 0; ok && i != -1; i = st.syms[i].next) emit(&st, &st.syms[i], out);
    free(st.heap);
    free(st.syms);
    free(text);
    return ok ? SM_OK : SM_ERR_NOMEM;
}
