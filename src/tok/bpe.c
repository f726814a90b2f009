/*
 * bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2"): sm_tok_bpe over one fragment of text.
 *
 * Follows llama.cpp's llm_tokenizer_bpe_session: pre-tokenize (pretok.c), write each word's bytes
 * in GPT-2's byte alphabet (unicode.c), keep a word that is a whole token when the family ignores
 * merges, else start from one symbol per byte and repeatedly merge the adjacent pair with the
 * lowest merge rank (leftmost first on ties) until no pair has a rank. A final symbol that is not
 * a token comes out as the tokens of its single bytes, those that exist (llama.cpp's fallback).
 * Not special-token handling and not BOS/EOS (tokenize.c). Reference: Sennrich et al. 2016,
 * "Neural Machine Translation of Rare Words with Subword Units"; openai/gpt-2 encoder.py.
 */
#include <stdlib.h>
#include <string.h>

#include "tok/pretok.h"
#include "tok/tokenizer.h"
#include "tok/unicode.h"

/* A run of merged bytes of the word, as text in the byte alphabet: enc[start .. start + n). */
typedef struct sm_bpe_sym {
    uint32_t start, n;  /* n == 0: merged into its left neighbour */
    int32_t prev, next; /* neighbours still alive, -1 at the ends */
    int32_t id;         /* token of the text, or -1 */
} sm_bpe_sym;

/* A candidate merge of sym[left] and sym[right] as they were when queued; stale once either
 * changed length (symbols only grow, so equal lengths mean equal texts). */
typedef struct sm_bpe_pair {
    int32_t rank;
    int32_t left, right;
    uint32_t n_left, n_right;
} sm_bpe_pair;

/* A word already tokenized in this call: text[off .. off + len) -> ids[first .. first + n_ids).
 * Words repeat a lot in real text, and a word's tokens depend on nothing but its bytes. */
typedef struct sm_bpe_memo {
    uint32_t off, len; /* len == 0: empty slot */
    uint32_t first, n_ids;
} sm_bpe_memo;

#define SM_BPE_MEMO_MIN_WORDS 64u      /* shorter fragments are not worth a table */
#define SM_BPE_MEMO_MAX_SLOTS (1u << 17) /* 2 MiB; a full memo stops learning, not working */

/* Per-call scratch, grown to the longest word seen. */
typedef struct sm_bpe_work {
    char *enc;            /* [2 * cap] the word in the byte alphabet */
    sm_bpe_sym *sym;      /* [cap] */
    sm_bpe_pair *heap;    /* [2 * cap] min-heap by (rank, left) */
    uint32_t n_heap;
    size_t cap;           /* bytes of the longest word it has room for */
    int32_t byte_id[256]; /* token of each byte's one-character text; -2 until looked up */
    sm_bpe_memo *memo;    /* [memo_mask + 1], open addressing; NULL: no memo in this call */
    uint32_t memo_mask, n_memo;
    int32_t *ids;         /* [n_ids] ids of memoized words, then of the word at hand */
    uint32_t n_ids, cap_ids;
} sm_bpe_work;

static sm_status work_grow(sm_bpe_work *w, size_t n) {
    if (n <= w->cap) return SM_OK;
    size_t cap = n < 64 ? 64 : n;
    char *enc = realloc(w->enc, 2 * cap);
    if (enc) w->enc = enc;
    sm_bpe_sym *sym = realloc(w->sym, cap * sizeof(*sym));
    if (sym) w->sym = sym;
    /* n - 1 pairs to start; a pop that merges queues at most two (net +1), and there are at most
     * n - 1 merges, so the heap never holds more than 2n pairs */
    sm_bpe_pair *heap = realloc(w->heap, 2 * cap * sizeof(*heap));
    if (heap) w->heap = heap;
    if (!enc || !sym || !heap) return SM_ERR_NOMEM;
    w->cap = cap;
    return SM_OK;
}

static bool pair_less(const sm_bpe_pair *a, const sm_bpe_pair *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(sm_bpe_work *w, sm_bpe_pair p) {
    uint32_t i = w->n_heap++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!pair_less(&p, &w->heap[parent])) break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = p;
}

static sm_bpe_pair heap_pop(sm_bpe_work *w) {
    sm_bpe_pair top = w->heap[0], last = w->heap[--w->n_heap];
    uint32_t i = 0, n = w->n_heap;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_less(&w->heap[c + 1], &w->heap[c])) c++;
        if (!pair_less(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n > 0) w->heap[i] = last;
    return top;
}

/* Queues the merge of `left` and `right` if the vocabulary has one. */
static void try_pair(const sm_tokenizer *t, sm_bpe_work *w, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const sm_bpe_sym *l = &w->sym[left], *r = &w->sym[right];
    if (l->id < 0 || r->id < 0) return;
    int32_t rank = sm_pairmap_get(&t->merges, l->id, r->id);
    if (rank < 0) return;
    heap_push(w, (sm_bpe_pair){rank, left, right, l->n, r->n});
}

static void merge_all(const sm_tokenizer *t, sm_bpe_work *w) {
    while (w->n_heap > 0) {
        sm_bpe_pair p = heap_pop(w);
        sm_bpe_sym *l = &w->sym[p.left], *r = &w->sym[p.right];
        if (l->n != p.n_left || r->n != p.n_right) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) w->sym[r->next].prev = p.left;
        l->id = sm_strmap_get(&t->by_text, w->enc + l->start, l->n);
        try_pair(t, w, l->prev, p.left);
        try_pair(t, w, p.left, l->next);
    }
}

static sm_status ids_push(sm_bpe_work *w, int32_t id) {
    if (w->n_ids == w->cap_ids) {
        uint32_t cap = w->cap_ids ? 2 * w->cap_ids : 256;
        int32_t *ids = cap > w->cap_ids ? realloc(w->ids, (size_t)cap * sizeof(*ids)) : NULL;
        if (!ids) return SM_ERR_NOMEM;
        w->ids = ids;
        w->cap_ids = cap;
    }
    w->ids[w->n_ids++] = id;
    return SM_OK;
}

/* Appends the final symbols' tokens to w->ids. */
static sm_status emit(const sm_tokenizer *t, sm_bpe_work *w) {
    sm_status st = SM_OK;
    for (int32_t i = 0; i >= 0 && st == SM_OK; i = w->sym[i].next) {
        const sm_bpe_sym *s = &w->sym[i];
        if (s->id >= 0) {
            st = ids_push(w, s->id);
            continue;
        }
        for (uint32_t k = 0; k < s->n && st == SM_OK; k++) {
            int32_t id = sm_strmap_get(&t->by_text, w->enc + s->start + k, 1);
            if (id >= 0) st = ids_push(w, id);
        }
    }
    return st;
}

/* Tokenizes one pre-tokenized word (n >= 1 bytes), appending its ids to w->ids. */
static sm_status bpe_word(const sm_tokenizer *t, sm_bpe_work *w, const char *s, size_t n) {
    if (work_grow(w, n) != SM_OK) return SM_ERR_NOMEM;
    uint32_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        uint32_t len = (uint32_t)sm_unicode_byte_encode(b, w->enc + at);
        if (w->byte_id[b] == -2) w->byte_id[b] = sm_strmap_get(&t->by_text, w->enc + at, len);
        w->sym[i] = (sm_bpe_sym){at, len, (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1,
                                 w->byte_id[b]};
        at += len;
    }
    if (t->ignore_merges) {
        int32_t id = sm_strmap_get(&t->by_text, w->enc, at);
        if (id >= 0) return ids_push(w, id);
    }
    w->n_heap = 0;
    for (size_t i = 1; i < n; i++) try_pair(t, w, (int32_t)i - 1, (int32_t)i);
    merge_all(t, w);
    return emit(t, w);
}

/* FNV-1a (32-bit). */
static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* The memo slot of word text[off .. off + len): its entry, or the empty slot it would take. */
static sm_bpe_memo *memo_find(const sm_bpe_work *w, const char *text, uint32_t off, uint32_t len) {
    uint32_t i = hash_bytes(text + off, len) & w->memo_mask;
    for (;; i = (i + 1) & w->memo_mask) { /* never full: it stops learning at half capacity */
        sm_bpe_memo *m = &w->memo[i];
        if (m->len == 0 || (m->len == len && memcmp(text + m->off, text + off, len) == 0)) return m;
    }
}

static void memo_init(sm_bpe_work *w, size_t n_words) {
    if (n_words < SM_BPE_MEMO_MIN_WORDS) return;
    uint32_t slots = 1024;
    while (slots < SM_BPE_MEMO_MAX_SLOTS && slots < 2 * n_words) slots *= 2;
    w->memo = calloc(slots, sizeof(*w->memo)); /* without it we are only slower */
    w->memo_mask = slots - 1;
}

/* Tokenizes word text[off .. off + len) into out, through the memo when there is one. */
static sm_status word_to_out(const sm_tokenizer *t, sm_bpe_work *w, const char *text, uint32_t off,
                             uint32_t len, sm_tok_out *out) {
    sm_bpe_memo *m = w->memo ? memo_find(w, text, off, len) : NULL;
    if (m && m->len) {
        for (uint32_t k = 0; k < m->n_ids; k++) sm_tok_push(out, w->ids[m->first + k]);
        return SM_OK;
    }
    uint32_t first = w->n_ids;
    sm_status st = bpe_word(t, w, text + off, len);
    if (st != SM_OK) return st;
    for (uint32_t k = first; k < w->n_ids; k++) sm_tok_push(out, w->ids[k]);
    if (m && w->n_memo < (w->memo_mask + 1) / 2) {
        *m = (sm_bpe_memo){off, len, first, w->n_ids - first};
        w->n_memo++;
    } else {
        w->n_ids = first;
    }
    return SM_OK;
}

sm_status sm_tok_bpe(const sm_tokenizer *t, const char *s, size_t n, sm_tok_out *out) {
    sm_pretok_words words = {0};
    sm_bpe_work work = {0};
    for (int i = 0; i < 256; i++) work.byte_id[i] = -2;
    sm_status st = sm_pretok_split(t->pre, s, n, &words);
    if (st == SM_OK) memo_init(&work, words.n_words);
    for (uint32_t i = 0, start = 0; st == SM_OK && i < words.n_words; start = words.end[i++]) {
        st = word_to_out(t, &work, words.text, start, words.end[i] - start, out);
    }
    free(work.enc);
    free(work.sym);
    free(work.heap);
    free(work.memo);
    free(work.ids);
    sm_pretok_words_free(&words);
    return st;
}
