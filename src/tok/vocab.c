/*
 * vocab.c — builds an sm_tokenizer from a GGUF file's tokenizer.* metadata, and the public
 * load/free/info functions of a stand-alone tokenizer.
 *
 * Follows llama.cpp's llama_vocab::impl::load (src/llama-vocab.cpp) for what the keys mean and
 * for the per-kind defaults (special ids, add_bos, add_space_prefix, ...), so files tokenize as
 * llama.cpp tokenizes them. Where llama.cpp warns and carries on with a corrupt value we refuse
 * the file instead (an id out of range, arrays of different lengths, a merge naming a missing
 * token, a duplicate token text), naming the key. Not here: the algorithms (spm.c, bpe.c, wpm.c,
 * char.c), splitting input at special tokens (tokenize.c), rendering tokens (piece.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/smnd.h"
#include "tok/pretok.h"
#include "tok/tokenizer.h"
#include "util/error.h"

/* Per-kind defaults, as llama.cpp sets them before reading the optional keys (-1 = none). */
typedef struct kind_row {
    const char *model; /* tokenizer.ggml.model */
    int32_t bos, eos, unk, sep, pad, cls, mask;
    bool add_bos, add_eos, add_sep, add_space_prefix;
} kind_row;

static const kind_row k_kinds[SM_VOCAB_KIND_COUNT] = {
    [SM_VOCAB_SPM] = {"llama", 1, 2, 0, -1, -1, -1, -1, true, false, false, true},
    [SM_VOCAB_BPE] = {"gpt2", 11, 11, -1, -1, -1, -1, -1, false, false, false, false},
    [SM_VOCAB_WPM] = {"bert", 101, -1, 100, 102, 0, 101, 103, true, false, true, false},
    [SM_VOCAB_CHAR] = {"char", -1, -1, -1, -1, -1, -1, -1, false, false, false, false},
};

/* tokenizer.ggml.pre values for which llama.cpp adds BOS by default (the Llama 3 family). */
static const char *const k_pre_add_bos[] = {
    "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
    "tekken", "chameleon",
};

/* Token texts llama.cpp treats as special whatever the file's token_type says. */
static const char *const k_eot_texts[] = { /* auto-detected eot when the file names none */
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]",
    "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>", /* DeepSeek */
    "<end_of_utterance>",
};
static const char *const k_eog_texts[] = { /* end generation; made CONTROL */
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>", "[e~[",
};
static const char *const k_user_defined_texts[] = { /* always rendered (gpt-oss) */
    "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>",
};

static int32_t find_text(const sm_tokenizer *t, const char *s) {
    return sm_strmap_get(&t->by_text, s, strlen(s));
}

static int clip_len(uint64_t n) { return n > 64 ? 64 : (int)n; } /* for %.*s in messages */

/* ---- the token list, scores and types ------------------------------------------------------ */

static sm_status read_tokens(sm_tokenizer *t, const sm_gguf *g, sm_error *err) {
    static const char *key = "tokenizer.ggml.tokens";
    sm_gguf_array a;
    if (!sm_gguf_find(g, key)) return sm_err(err, SM_ERR_FORMAT, "missing key '%s'", key);
    if (!sm_gguf_get_arr(g, key, &a) || a.type != SM_GGUF_STRING)
        return sm_err(err, SM_ERR_FORMAT, "'%s' must be an array of strings", key);
    if (a.n == 0) return sm_err(err, SM_ERR_FORMAT, "'%s' is empty", key);
    if (a.n > (uint64_t)INT32_MAX / 4)
        return sm_err(err, SM_ERR_FORMAT, "'%s' has %llu tokens, more than this build supports",
                      key, (unsigned long long)a.n);
    t->n_tokens = (int32_t)a.n;
    t->text = calloc(a.n, sizeof *t->text);
    t->type = malloc(a.n);
    if (!t->text || !t->type || sm_strmap_init(&t->by_text, (uint32_t)a.n) != SM_OK)
        return sm_err(err, SM_ERR_NOMEM, "out of memory for %llu tokens", (unsigned long long)a.n);
    sm_gguf_array_iter it;
    sm_gguf_array_iter_init(&it, &a);
    for (int32_t i = 0; i < t->n_tokens; i++) {
        sm_gguf_str s;
        if (!sm_gguf_array_iter_next(&it, &s, NULL, NULL) || s.len > UINT32_MAX)
            return sm_err(err, SM_ERR_FORMAT, "'%s': token %d is unreadable", key, i);
        t->text[i] = s;
        t->type[i] = SM_TT_NORMAL;
        if (s.len > t->max_token_len) t->max_token_len = (uint32_t)s.len;
        if (s.len == 0) continue; /* llama.cpp renames it "[EMPTY_<id>]"; it can never match */
        sm_status st = sm_strmap_put(&t->by_text, s.ptr, (uint32_t)s.len, i);
        if (st == SM_DONE)
            return sm_err(err, SM_ERR_FORMAT, "'%s': duplicate token '%.*s' at ids %d and %d", key,
                          clip_len(s.len), s.ptr, sm_strmap_get(&t->by_text, s.ptr, s.len), i);
        if (st != SM_OK) return sm_err(err, SM_ERR_NOMEM, "out of memory for the token map");
    }
    return SM_OK;
}

/* A fixed-size array that must have one element per token, of one of two element types. */
static sm_status per_token_array(const sm_tokenizer *t, const sm_gguf *g, const char *key,
                                 sm_gguf_vtype t1, sm_gguf_vtype t2, sm_gguf_array *a,
                                 sm_error *err) {
    if (!sm_gguf_get_arr(g, key, a) || (a->type != t1 && a->type != t2))
        return sm_err(err, SM_ERR_FORMAT, "'%s' must be an array of %s", key,
                      t1 == t2 ? sm_gguf_vtype_name(t1) : "FLOAT32 or INT32");
    if (a->n != (uint64_t)t->n_tokens)
        return sm_err(err, SM_ERR_FORMAT, "'%s' has %llu entries but there are %d tokens", key,
                      (unsigned long long)a->n, t->n_tokens);
    if (a->n_bytes < a->n * 4) return sm_err(err, SM_ERR_FORMAT, "'%s' is truncated", key);
    return SM_OK;
}

static sm_status read_scores_and_types(sm_tokenizer *t, const sm_gguf *g, sm_error *err) {
    sm_gguf_array a;
    sm_status st;
    if (sm_gguf_find(g, "tokenizer.ggml.scores")) {
        st = per_token_array(t, g, "tokenizer.ggml.scores", SM_GGUF_FLOAT32, SM_GGUF_INT32, &a,
                             err);
        if (st != SM_OK) return st;
        t->scores = malloc((size_t)t->n_tokens * sizeof *t->scores);
        if (!t->scores) return sm_err(err, SM_ERR_NOMEM, "out of memory for scores");
        for (int32_t i = 0; i < t->n_tokens; i++) {
            uint32_t u;
            memcpy(&u, a.data + 4 * (size_t)i, 4);
            if (a.type == SM_GGUF_FLOAT32) memcpy(&t->scores[i], &u, 4);
            else t->scores[i] = (float)(int32_t)u;
        }
    }
    if (sm_gguf_find(g, "tokenizer.ggml.token_type")) {
        st = per_token_array(t, g, "tokenizer.ggml.token_type", SM_GGUF_INT32, SM_GGUF_INT32, &a,
                             err);
        if (st != SM_OK) return st;
        for (int32_t i = 0; i < t->n_tokens; i++) {
            int32_t v;
            memcpy(&v, a.data + 4 * (size_t)i, 4);
            /* llama.cpp reads unknown values as UNDEFINED */
            t->type[i] = (uint8_t)(v >= SM_TT_UNDEFINED && v <= SM_TT_BYTE ? v : SM_TT_UNDEFINED);
        }
    }
    return SM_OK;
}

/* ---- kind, pre-tokenizer, merges ----------------------------------------------------------- */

static sm_status read_kind(sm_tokenizer *t, const sm_gguf *g, sm_error *err) {
    static const char *key = "tokenizer.ggml.model";
    sm_gguf_str s;
    if (!sm_gguf_find(g, key)) return sm_err(err, SM_ERR_FORMAT, "missing key '%s'", key);
    if (!sm_gguf_get_str(g, key, &s))
        return sm_err(err, SM_ERR_FORMAT, "'%s' must be a string", key);
    for (int k = 0; k < SM_VOCAB_KIND_COUNT; k++) {
        if (sm_gguf_str_eq(s, k_kinds[k].model)) {
            t->kind = (sm_vocab_kind)k;
            return SM_OK;
        }
    }
    return sm_err(err, SM_ERR_UNSUPPORTED, "tokenizer model '%.*s' is not supported (%s)",
                  clip_len(s.len), s.ptr,
                  "supported: llama, gpt2, bert, char");
}

/* Only BPE files have a pre-tokenizer (names and families are pretok.c's); an unknown or missing
 * one falls back to the default with a warning (llama.cpp of today refuses unknown names;
 * earlier versions fell back like this). */
static void read_pre(sm_tokenizer *t, const sm_gguf *g) {
    sm_gguf_str s;
    t->pre = SM_PRETOK_DEFAULT;
    if (t->kind != SM_VOCAB_BPE) return;
    if (!sm_gguf_get_str(g, "tokenizer.ggml.pre", &s)) {
        snprintf(t->warning, sizeof t->warning, "missing tokenizer.ggml.pre, using 'default'");
        return;
    }
    if (!sm_pretok_from_name(s.ptr, (size_t)s.len, &t->pre)) {
        t->pre = SM_PRETOK_DEFAULT;
        snprintf(t->warning, sizeof t->warning, "unknown pre-tokenizer '%.*s', using 'default'",
                 clip_len(s.len), s.ptr);
        return;
    }
    t->ignore_merges = sm_pretok_ignore_merges(t->pre);
    for (size_t i = 0; i < sizeof k_pre_add_bos / sizeof k_pre_add_bos[0]; i++) {
        if (sm_gguf_str_eq(s, k_pre_add_bos[i])) t->add_bos = true;
    }
}

/* tokenizer.ggml.merges: "left right", split at the first space after the first byte (as
 * llama.cpp does, so a left side may itself be a space); rank = position in the list. */
static sm_status read_merges(sm_tokenizer *t, const sm_gguf *g, sm_error *err) {
    static const char *key = "tokenizer.ggml.merges";
    sm_gguf_array a;
    if (!sm_gguf_find(g, key)) return sm_err(err, SM_ERR_FORMAT, "BPE tokenizer without '%s'", key);
    if (!sm_gguf_get_arr(g, key, &a) || a.type != SM_GGUF_STRING)
        return sm_err(err, SM_ERR_FORMAT, "'%s' must be an array of strings", key);
    if (a.n > (uint64_t)INT32_MAX / 4)
        return sm_err(err, SM_ERR_FORMAT, "'%s' has too many entries", key);
    if (sm_pairmap_init(&t->merges, (uint32_t)a.n) != SM_OK)
        return sm_err(err, SM_ERR_NOMEM, "out of memory for %llu merges", (unsigned long long)a.n);
    sm_gguf_array_iter it;
    sm_gguf_array_iter_init(&it, &a);
    for (int32_t rank = 0; rank < (int32_t)a.n; rank++) {
        sm_gguf_str s;
        if (!sm_gguf_array_iter_next(&it, &s, NULL, NULL))
            return sm_err(err, SM_ERR_FORMAT, "'%s': merge %d is unreadable", key, rank);
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', (size_t)s.len - 1) : NULL;
        if (!sp)
            return sm_err(err, SM_ERR_FORMAT, "'%s': merge %d '%.*s' has no space", key, rank,
                          clip_len(s.len), s.ptr);
        const size_t nl = (size_t)(sp - s.ptr), nr = (size_t)s.len - nl - 1;
        const int32_t l = sm_strmap_get(&t->by_text, s.ptr, nl);
        const int32_t r = sm_strmap_get(&t->by_text, sp + 1, nr);
        if (l < 0 || r < 0)
            return sm_err(err, SM_ERR_FORMAT, "'%s': merge %d names a missing token '%.*s'", key,
                          rank, l < 0 ? clip_len(nl) : clip_len(nr), l < 0 ? s.ptr : sp + 1);
        if (sm_pairmap_put(&t->merges, l, r, rank) < 0)
            return sm_err(err, SM_ERR_NOMEM, "out of memory for merges");
    }
    return SM_OK;
}

/* ---- flags and special ids ----------------------------------------------------------------- */

static sm_status opt_bool(const sm_gguf *g, const char *key, bool *out, sm_error *err) {
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    if (kv && !sm_gguf_get_bool(g, key, out))
        return sm_err(err, SM_ERR_FORMAT, "'%s' must be BOOL, found %s", key,
                      sm_gguf_vtype_name(kv->type));
    return SM_OK;
}

static bool is_integer_type(sm_gguf_vtype v) {
    return v <= SM_GGUF_INT32 || v == SM_GGUF_UINT64 || v == SM_GGUF_INT64;
}

/* An id from the file must name a token; llama.cpp warns and keeps its default, we refuse. */
static sm_status opt_id(const sm_tokenizer *t, const sm_gguf *g, const char *key, int32_t *id,
                        sm_error *err) {
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    uint32_t v;
    if (!kv) return SM_OK;
    if (!is_integer_type(kv->type))
        return sm_err(err, SM_ERR_FORMAT, "'%s' must be an integer, found %s", key,
                      sm_gguf_vtype_name(kv->type));
    if (!sm_gguf_get_u32(g, key, &v) || v >= (uint32_t)t->n_tokens) {
        const bool neg = kv->type == SM_GGUF_INT8 || kv->type == SM_GGUF_INT16 ||
                         kv->type == SM_GGUF_INT32 || kv->type == SM_GGUF_INT64;
        return sm_err(err, SM_ERR_FORMAT, "'%s' = %lld is out of range (%d tokens)", key,
                      neg ? (long long)kv->v.i64 : (long long)kv->v.u64, t->n_tokens);
    }
    *id = (int32_t)v;
    return SM_OK;
}

static sm_status read_flags_and_ids(sm_tokenizer *t, const sm_gguf *g, sm_error *err) {
    const kind_row *k = &k_kinds[t->kind];
    int32_t *const ids[] = {&t->bos, &t->eos, &t->unk, &t->sep, &t->pad, &t->cls, &t->mask};
    const int32_t defs[] = {k->bos, k->eos, k->unk, k->sep, k->pad, k->cls, k->mask};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        *ids[i] = defs[i] < t->n_tokens ? defs[i] : -1; /* a default past the vocab: none */
    static const struct { const char *key; size_t off; } keys[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(sm_tokenizer, bos)},
        {"tokenizer.ggml.eos_token_id", offsetof(sm_tokenizer, eos)},
        {"tokenizer.ggml.eot_token_id", offsetof(sm_tokenizer, eot)},
        {"tokenizer.ggml.eom_token_id", offsetof(sm_tokenizer, eom)},
        {"tokenizer.ggml.unknown_token_id", offsetof(sm_tokenizer, unk)},
        {"tokenizer.ggml.seperator_token_id", offsetof(sm_tokenizer, sep)}, /* sic: the key */
        {"tokenizer.ggml.padding_token_id", offsetof(sm_tokenizer, pad)},
        {"tokenizer.ggml.cls_token_id", offsetof(sm_tokenizer, cls)},
        {"tokenizer.ggml.mask_token_id", offsetof(sm_tokenizer, mask)},
    };
    sm_status st;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        st = opt_id(t, g, keys[i].key, (int32_t *)(void *)((char *)t + keys[i].off), err);
        if (st != SM_OK) return st;
    }
    static const struct { const char *key; size_t off; } flags[] = {
        {"tokenizer.ggml.add_space_prefix", offsetof(sm_tokenizer, add_space_prefix)},
        {"tokenizer.ggml.remove_extra_whitespaces",
         offsetof(sm_tokenizer, remove_extra_whitespaces)},
        {"tokenizer.ggml.add_bos_token", offsetof(sm_tokenizer, add_bos)},
        {"tokenizer.ggml.add_eos_token", offsetof(sm_tokenizer, add_eos)},
        {"tokenizer.ggml.add_sep_token", offsetof(sm_tokenizer, add_sep)},
        {"tokenizer.ggml.normalizer.lowercase", offsetof(sm_tokenizer, lowercase)},
        {"tokenizer.ggml.normalizer.strip_accents", offsetof(sm_tokenizer, strip_accents)},
    };
    /* llama.cpp: both default to true, and strip_accents follows lowercase unless given */
    t->lowercase = true;
    const bool has_strip = sm_gguf_find(g, "tokenizer.ggml.normalizer.strip_accents") != NULL;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        st = opt_bool(g, flags[i].key, (bool *)(void *)((char *)t + flags[i].off), err);
        if (st != SM_OK) return st;
    }
    if (!has_strip) t->strip_accents = t->lowercase;
    static const struct { const char *what, *id_key; } need[] = {
        {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id"},
        {"tokenizer.ggml.add_eos_token", "tokenizer.ggml.eos_token_id"},
        {"tokenizer.ggml.add_sep_token", "tokenizer.ggml.seperator_token_id"},
    };
    const bool on[] = {t->add_bos && t->bos < 0, t->add_eos && t->eos < 0,
                       t->add_sep && t->sep < 0};
    for (size_t i = 0; i < 3; i++) {
        if (on[i])
            return sm_err(err, SM_ERR_FORMAT, "%s is true, but %s is not set", need[i].what,
                          need[i].id_key);
    }
    return SM_OK;
}

/* ---- derived tables ------------------------------------------------------------------------ */

/* SPM/CHAR byte fallback: "<0xNN>" (upper-case hex, as llama.cpp spells it), else the byte as a
 * one-byte token text, else none. */
static void build_byte_tokens(sm_tokenizer *t) {
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        const char name[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
        const char raw = (char)b;
        int32_t id = -1;
        if (t->kind == SM_VOCAB_SPM || t->kind == SM_VOCAB_CHAR) {
            id = sm_strmap_get(&t->by_text, name, sizeof name);
            if (id < 0) id = sm_strmap_get(&t->by_text, &raw, 1);
        }
        t->byte_token[b] = id;
    }
}

static sm_status add_eog(sm_tokenizer *t, int32_t id) {
    if (id < 0 || sm_tok_is_eog(t, id)) return SM_OK;
    int32_t *p = realloc(t->eog, (size_t)(t->n_eog + 1) * sizeof *p);
    if (!p) return SM_ERR_NOMEM;
    t->eog = p;
    t->eog[t->n_eog++] = id;
    return SM_OK;
}

/* llama.cpp's text-based fix-ups: an eot/eom found by its text when the file names none, and
 * tokens with end-of-generation texts made CONTROL; then the eog list. When several eot texts
 * exist llama.cpp's pick depends on hash order; we take the first of k_eot_texts. */
static sm_status apply_text_rules(sm_tokenizer *t) {
    int32_t id;
    for (size_t i = 0; t->eot < 0 && i < sizeof k_eot_texts / sizeof k_eot_texts[0]; i++) {
        if ((id = find_text(t, k_eot_texts[i])) >= 0) t->type[t->eot = id] = SM_TT_CONTROL;
    }
    if (t->eom < 0 && (id = find_text(t, "<|eom_id|>")) >= 0) t->type[t->eom = id] = SM_TT_CONTROL;
    for (size_t i = 0; i < sizeof k_eog_texts / sizeof k_eog_texts[0]; i++) {
        if ((id = find_text(t, k_eog_texts[i])) < 0) continue;
        t->type[id] = SM_TT_CONTROL;
        if (add_eog(t, id) != SM_OK) return SM_ERR_NOMEM;
    }
    for (size_t i = 0; i < sizeof k_user_defined_texts / sizeof k_user_defined_texts[0]; i++) {
        if ((id = find_text(t, k_user_defined_texts[i])) >= 0) t->type[id] = SM_TT_USER_DEFINED;
    }
    if (add_eog(t, t->eos) || add_eog(t, t->eot) || add_eog(t, t->eom)) return SM_ERR_NOMEM;
    return SM_OK;
}

typedef struct len_id {
    uint64_t len;
    int32_t id;
} len_id;

static int cmp_longest_first(const void *pa, const void *pb) {
    const len_id *a = pa, *b = pb;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The texts tokenize.c looks for: CONTROL, USER_DEFINED and UNKNOWN tokens, longest first so a
 * longer text wins over its own prefix. llama.cpp's std::sort leaves equal lengths in no set
 * order; ours is by id. */
static sm_status build_special_list(sm_tokenizer *t) {
    len_id *v = malloc((size_t)t->n_tokens * sizeof *v);
    if (!v) return SM_ERR_NOMEM;
    int32_t n = 0;
    for (int32_t i = 0; i < t->n_tokens; i++) {
        const uint8_t ty = t->type[i];
        if ((ty == SM_TT_CONTROL || ty == SM_TT_USER_DEFINED || ty == SM_TT_UNKNOWN) &&
            t->text[i].len > 0)
            v[n++] = (len_id){t->text[i].len, i};
    }
    qsort(v, (size_t)n, sizeof *v, cmp_longest_first);
    t->special = malloc((size_t)(n ? n : 1) * sizeof *t->special);
    if (!t->special) {
        free(v);
        return SM_ERR_NOMEM;
    }
    for (int32_t i = 0; i < n; i++) t->special[i] = v[i].id;
    t->n_special = n;
    free(v);
    return SM_OK;
}

/* Case-insensitive substring test for general.name. */
static bool name_contains(sm_gguf_str s, const char *needle) {
    const size_t n = strlen(needle);
    for (uint64_t i = 0; n <= s.len && i <= s.len - n; i++) {
        size_t j = 0;
        while (j < n) {
            char c = s.ptr[i + j];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != needle[j]) break;
            j++;
        }
        if (j == n) return true;
    }
    return false;
}

static sm_status set_strip(sm_tokenizer *t, int32_t id, uint8_t bits, bool on) {
    if (id < 0) return SM_OK;
    if (!t->strip && !(t->strip = calloc((size_t)t->n_tokens, 1))) return SM_ERR_NOMEM;
    t->strip[id] = (uint8_t)(on ? t->strip[id] | bits : t->strip[id] & ~bits);
    return SM_OK;
}

/* lstrip/rstrip are not in GGUF files: llama.cpp sets them by model name, and so do we. Phi-3:
 * every special token eats the whitespace after it, except <unk>, <s> and <|endoftext|>. BERT
 * variants whose mask token eats the whitespace before it. */
static sm_status apply_strip_rules(sm_tokenizer *t, const sm_gguf *g) {
    sm_gguf_str name = {"", 0}, pre = {"", 0}, arch = {"", 0};
    sm_gguf_get_str(g, "general.name", &name);
    sm_gguf_get_str(g, "tokenizer.ggml.pre", &pre);
    sm_gguf_get_str(g, "general.architecture", &arch);
    sm_status st = SM_OK;
    if (name_contains(pre, "jina-v2-de") || name_contains(pre, "jina-v2-es") ||
        name_contains(pre, "jina-v2-code") || name_contains(arch, "nomic-bert-moe") ||
        name_contains(arch, "jina-bert-v3")) {
        st = set_strip(t, find_text(t, "<mask>"), SM_TOK_LSTRIP, true);
    } else if (name_contains(name, "phi-3") || name_contains(name, "phi3")) {
        for (int32_t i = 0; i < t->n_special && st == SM_OK; i++)
            st = set_strip(t, t->special[i], SM_TOK_RSTRIP, true);
        if (st == SM_OK) st = set_strip(t, find_text(t, "</s>"), SM_TOK_RSTRIP, true);
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (size_t i = 0; i < 3 && st == SM_OK; i++)
            st = set_strip(t, find_text(t, keep[i]), SM_TOK_RSTRIP, false);
    } else if (name_contains(name, "modern-bert")) {
        st = set_strip(t, find_text(t, "[MASK]"), SM_TOK_LSTRIP, true);
    }
    return st;
}

/* The newline token: SPM's byte token for '\n'; BPE's tokenization of "\n"; WPM's pad (as
 * llama.cpp); CHAR's "\n" token or byte token. */
static sm_status find_linefeed(sm_tokenizer *t) {
    switch (t->kind) {
    case SM_VOCAB_SPM: t->linefeed = t->byte_token['\n'] >= 0 ? t->byte_token['\n'] : t->pad; break;
    case SM_VOCAB_WPM: t->linefeed = t->pad; break;
    case SM_VOCAB_CHAR:
        t->linefeed = find_text(t, "\n");
        if (t->linefeed < 0) t->linefeed = t->byte_token['\n'];
        break;
    default: {
        int32_t ids[8], n = 0;
        sm_status st = sm_tokenize(t, "\n", 1, 0, ids, 8, &n);
        if (st == SM_ERR_NOMEM) return st;
        t->linefeed = st == SM_OK && n > 0 ? ids[0] : t->pad;
        break;
    }
    }
    return SM_OK;
}

/* ---- construction -------------------------------------------------------------------------- */

sm_status sm_tokenizer_init(sm_tokenizer *t, const sm_gguf *g, sm_error *err) {
    if (!t || !g) return sm_err(err, SM_ERR_INVALID_ARG, "sm_tokenizer_init: NULL argument");
    memset(t, 0, sizeof *t);
    t->bos = t->eos = t->eot = t->eom = t->unk = t->pad = t->sep = t->cls = t->mask = -1;
    t->linefeed = -1;
    sm_status st = read_kind(t, g, err);
    if (st == SM_OK) {
        const kind_row *k = &k_kinds[t->kind];
        t->add_bos = k->add_bos;
        t->add_eos = k->add_eos;
        t->add_sep = k->add_sep;
        t->add_space_prefix = k->add_space_prefix;
        read_pre(t, g);
        st = read_tokens(t, g, err);
    }
    if (st == SM_OK) st = read_scores_and_types(t, g, err);
    if (st == SM_OK && t->kind == SM_VOCAB_BPE) st = read_merges(t, g, err);
    if (st == SM_OK) st = read_flags_and_ids(t, g, err);
    if (st == SM_OK && t->kind == SM_VOCAB_CHAR && t->unk < 0) {
        /* our own format has no default ids: its unk is the first UNKNOWN-type token, if any */
        for (int32_t i = 0; i < t->n_tokens && t->unk < 0; i++) {
            if (t->type[i] == SM_TT_UNKNOWN) t->unk = i;
        }
    }
    if (st == SM_OK) {
        build_byte_tokens(t);
        if (apply_text_rules(t) != SM_OK || build_special_list(t) != SM_OK ||
            apply_strip_rules(t, g) != SM_OK || find_linefeed(t) != SM_OK)
            st = sm_err(err, SM_ERR_NOMEM, "out of memory building the tokenizer");
    }
    if (st != SM_OK) sm_tokenizer_release(t);
    return st;
}

void sm_tokenizer_release(sm_tokenizer *t) {
    if (!t) return;
    free(t->text);
    free(t->scores);
    free(t->type);
    sm_strmap_free(&t->by_text);
    sm_pairmap_free(&t->merges);
    free(t->special);
    free(t->strip);
    free(t->eog);
    sm_gguf_free(&t->own_gguf);
    memset(t, 0, sizeof *t);
}

bool sm_tok_is_eog(const sm_tokenizer *t, int32_t id) {
    for (int32_t i = 0; t && i < t->n_eog; i++) {
        if (t->eog[i] == id) return true;
    }
    return false;
}

/* ---- public API ---------------------------------------------------------------------------- */

sm_status sm_tokenizer_load_from_memory(const void *data, size_t size, sm_tokenizer **out,
                                        sm_error *err) {
    if (out) *out = NULL;
    if (!data || !out)
        return sm_err(err, SM_ERR_INVALID_ARG, "sm_tokenizer_load_from_memory: NULL argument");
    sm_tokenizer *t = malloc(sizeof *t);
    if (!t) return sm_err(err, SM_ERR_NOMEM, "out of memory for a tokenizer");
    sm_gguf g;
    sm_status st = sm_smnd_or_gguf_parse(data, size, &g, err);
    if (st != SM_OK) {
        free(t);
        return st;
    }
    st = sm_tokenizer_init(t, &g, err);
    if (st != SM_OK) {
        sm_gguf_free(&g);
        free(t);
        return st;
    }
    t->own_gguf = g; /* token texts point into `data` (GGUF) or g.owned (SMND), not into g itself:
                        moving g is safe */
    *out = t;
    return SM_OK;
}

void sm_tokenizer_free(sm_tokenizer *tok) {
    if (!tok) return;
    sm_tokenizer_release(tok);
    free(tok);
}

sm_status sm_tokenizer_get_info(const sm_tokenizer *tok, sm_tokenizer_info *info) {
    if (!tok || !info) return SM_ERR_INVALID_ARG;
    memset(info, 0, sizeof *info);
    info->kind = k_kinds[tok->kind].model;
    info->pre = tok->kind == SM_VOCAB_BPE ? sm_pretok_name(tok->pre) : "default";
    info->warning = tok->warning;
    info->n_tokens = tok->n_tokens;
    info->bos = tok->bos;
    info->eos = tok->eos;
    info->eot = tok->eot;
    info->unk = tok->unk;
    info->pad = tok->pad;
    info->sep = tok->sep;
    info->add_bos = tok->add_bos;
    info->add_eos = tok->add_eos;
    return SM_OK;
}
