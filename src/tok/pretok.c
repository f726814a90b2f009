/*
 * pretok.c — the byte-level BPE pre-tokenizers (see pretok.h), one table row per family.
 *
 * llama.cpp (src/llama-vocab.cpp llm_tokenizer_bpe, src/unicode.cpp unicode_regex_split) gives each
 * family a list of regexes applied in turn, each splitting every piece the previous one produced;
 * text between matches stays a piece of its own. Two regexes (GPT-2's and Llama 3's) run through
 * hand-written matchers there; the rest run through std::regex over a "collapsed" copy of the text
 * in which every non-ASCII code point became one byte standing for its category (whitespace reads
 * as \v), so \p{L} means [A-Za-z] plus "any non-ASCII letter". We reproduce both exactly with small
 * matchers (leftmost match, first alternative that matches, greedy with ECMAScript backtracking)
 * driven by data. Not a regex engine: each matcher knows one pattern.
 */
#include "tok/pretok.h"

#include <stdlib.h>
#include <string.h>

#include "tok/unicode.h"

/* ---- character classes ---------------------------------------------------------------------- */

typedef struct sm_cp_range {
    uint32_t lo, hi; /* inclusive */
} sm_cp_range;

/* A bracket class of one of the regexes. Membership is decided on the code point as the regex saw
 * it: a non-ASCII whitespace code point reads as U+000B, so only \s (ws) can match it. */
typedef struct sm_cls {
    uint8_t cats;              /* 1 << sm_ucat for each \p{..} category in the class */
    bool ws;                   /* \s is in the class */
    const sm_cp_range *ranges; /* sorted, disjoint: explicit characters and ranges */
    uint32_t n_ranges;
} sm_cls;

#define CAT(c) (uint8_t)(1u << (c))
#define RANGES(r) (r), (uint32_t)(sizeof(r) / sizeof((r)[0]))

static const sm_cp_range k_crlf[] = {{0x0A, 0x0A}, {0x0D, 0x0D}};
static const sm_cp_range k_digit[] = {{0x30, 0x39}};
/* "$+<=>^~|" (and "`" for Falcon): the ASCII symbols "[\p{P}\$\+<=>\^~\|]" adds to \p{P}. */
static const sm_cp_range k_sym_default[] = {{0x24, 0x24}, {0x2B, 0x2B}, {0x3C, 0x3E},
                                            {0x5E, 0x5E}, {0x7C, 0x7C}, {0x7E, 0x7E}};
static const sm_cp_range k_sym_falcon[] = {{0x24, 0x24}, {0x2B, 0x2B}, {0x3C, 0x3E}, {0x5E, 0x5E},
                                           {0x60, 0x60}, {0x7C, 0x7C}, {0x7E, 0x7E}};
/* DeepSeek's "[一-龥ࠀ-一가-퟿]": U+0800..U+9FA5 and U+AC00..U+D7FF. */
static const sm_cp_range k_cjk_deepseek[] = {{0x0800, 0x9FA5}, {0xAC00, 0xD7FF}};
/* DeepSeek LLM's "[!-/:-~！-／：-～‘-‟　-。]" (U+3000 is whitespace, so it never matches). */
static const sm_cp_range k_punct_deepseek_llm[] = {{0x21, 0x2F},     {0x3A, 0x7E},
                                                   {0x2018, 0x201F}, {0x3000, 0x3002},
                                                   {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}};
/* DeepSeek LLM's explicit letter class (cased letters of an older Unicode, as its
 * tokenizer.json lists them). */
static const sm_cp_range k_letter_deepseek_llm[] = {
    {0x0041, 0x005A},   {0x0061, 0x007A},   {0x00B5, 0x00B5},   {0x00C0, 0x00D6},
    {0x00D8, 0x00F6},   {0x00F8, 0x01BA},   {0x01BC, 0x01BF},   {0x01C4, 0x0293},
    {0x0295, 0x02AF},   {0x0370, 0x0373},   {0x0376, 0x0377},   {0x037B, 0x037D},
    {0x037F, 0x037F},   {0x0386, 0x0386},   {0x0388, 0x038A},   {0x038C, 0x038C},
    {0x038E, 0x03A1},   {0x03A3, 0x03F5},   {0x03F7, 0x0481},   {0x048A, 0x052F},
    {0x0531, 0x0556},   {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static const sm_cls k_cls_crlf = {0, false, RANGES(k_crlf)};
static const sm_cls k_cls_digit = {0, false, RANGES(k_digit)};
static const sm_cls k_cls_number = {CAT(SM_UCAT_NUMBER), false, NULL, 0};
static const sm_cls k_cls_letter = {CAT(SM_UCAT_LETTER), false, NULL, 0};
static const sm_cls k_cls_punct = {CAT(SM_UCAT_PUNCT), false, NULL, 0};
static const sm_cls k_cls_punct_default = {CAT(SM_UCAT_PUNCT), false, RANGES(k_sym_default)};
static const sm_cls k_cls_punct_falcon = {CAT(SM_UCAT_PUNCT), false, RANGES(k_sym_falcon)};
static const sm_cls k_cls_cjk_deepseek = {0, false, RANGES(k_cjk_deepseek)};
static const sm_cls k_cls_letter_dsllm = {0, false, RANGES(k_letter_deepseek_llm)};
static const sm_cls k_cls_punct_dsllm = {0, false, RANGES(k_punct_deepseek_llm)};

static bool in_ranges(const sm_cls *k, uint32_t c) {
    uint32_t lo = 0, hi = k->n_ranges;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c < k->ranges[mid].lo) hi = mid;
        else if (c > k->ranges[mid].hi) lo = mid + 1;
        else return true;
    }
    return false;
}

static bool cls_has(const sm_cls *k, uint32_t c, uint8_t f) {
    if (f & SM_UFLAG_WS) {
        if (k->ws) return true;
        if (c > 0x7F) c = 0x0B, f = sm_unicode_flags(0x0B);
    }
    return (k->cats & CAT(f & SM_UFLAG_CAT)) || (k->n_ranges && in_ranges(k, c));
}

/* ---- matchers ------------------------------------------------------------------------------- */

/* One piece of text being split: code points and their flags, positions [.., end). */
typedef struct sm_seg {
    const uint32_t *cpt;
    const uint8_t *flags;
    uint32_t end;
    const bool *ascii; /* [128] the pass's class on ASCII, precomputed (most text is ASCII) */
} sm_seg;

struct sm_pass;
/* Returns the end of the match starting at pos (> pos), or pos when none starts there; then
 * *skip (preset to pos + 1) may name a later position where the next match could start. */
typedef uint32_t (*sm_match_fn)(const sm_seg *g, const struct sm_pass *p, uint32_t pos,
                                uint32_t *skip);

typedef struct sm_pass {
    sm_match_fn fn;
    const sm_cls *cls; /* for the class matchers */
    uint32_t arg;      /* for the word matchers: the digit group length */
} sm_pass;

static bool is_ws(uint8_t f) { return (f & SM_UFLAG_WS) != 0; }
static bool is_letter(uint8_t f) { return (f & SM_UFLAG_CAT) == SM_UCAT_LETTER; }
static bool is_number(uint8_t f) { return (f & SM_UFLAG_CAT) == SM_UCAT_NUMBER; }
/* [^\s\p{L}\p{N}] */
static bool is_other(uint8_t f) { return !is_ws(f) && !is_letter(f) && !is_number(f); }
static bool is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }
static uint32_t ascii_lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static uint32_t run_while(const sm_seg *g, uint32_t i, bool (*pred)(uint8_t)) {
    while (i < g->end && pred(g->flags[i])) i++;
    return i;
}

/* 's 't 're 've 'm 'll 'd at pos: the end, or 0. `fold` ignores ASCII case, as Llama 3's (?i:...)
 * and the [sS] spelling do; no non-ASCII code point lowercases to one of these letters, so the
 * Unicode lowercase llama.cpp applies gives the same answer. */
static uint32_t contraction(const sm_seg *g, uint32_t pos, bool fold) {
    if (pos + 1 >= g->end || g->cpt[pos] != '\'') return 0;
    uint32_t a = g->cpt[pos + 1], b = pos + 2 < g->end ? g->cpt[pos + 2] : 0;
    if (fold) a = ascii_lower(a), b = ascii_lower(b);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return pos + 2;
    bool two = (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l');
    if (two && pos + 2 < g->end) return pos + 3;
    return 0;
}

/* Whitespace at pos: \s*[\r\n]+ (when `newlines`) | \s+(?!\S) | \s+ ; pos + 1 when pos is not
 * whitespace (llama.cpp's fast paths then emit the code point alone). */
static uint32_t ws_tail(const sm_seg *g, uint32_t pos, bool newlines) {
    uint32_t i = pos, after_rn = 0;
    while (i < g->end && is_ws(g->flags[i])) {
        if (is_crlf(g->cpt[i])) after_rn = i + 1;
        i++;
    }
    if (newlines && after_rn) return after_rn;
    if (i - pos > 1 && i < g->end) return i - 1; /* leave the last one to prefix the next word */
    return i > pos ? i : pos + 1;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (llama.cpp's unicode_regex_split_custom_gpt2). */
static uint32_t m_gpt2(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)p, (void)skip;
    uint32_t e = contraction(g, pos, false);
    if (e) return e;
    uint32_t q = pos + (g->cpt[pos] == ' ');
    if (q < g->end) {
        uint8_t f = g->flags[q];
        if (is_letter(f)) return run_while(g, q, is_letter);
        if (is_number(f)) return run_while(g, q, is_number);
        if (is_other(f)) return run_while(g, q, is_other);
    }
    return ws_tail(g, pos, false);
}

/* Llama 3 (arg 3) and Qwen 2 (arg 1): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
 * \p{N}{1,arg}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ (llama.cpp's
 * unicode_regex_split_custom_llama3; Qwen 2's std::regex reaches the same splits). */
static uint32_t m_llama3(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)skip;
    uint32_t c = g->cpt[pos], e = contraction(g, pos, true);
    uint8_t f = g->flags[pos];
    if (e) return e;
    if (!is_crlf(c) && !is_number(f) &&
        (is_letter(f) || (pos + 1 < g->end && is_letter(g->flags[pos + 1]))))
        return run_while(g, pos + 1, is_letter);
    if (is_number(f)) {
        for (e = pos + 1; e < g->end && e - pos < p->arg && is_number(g->flags[e]);) e++;
        return e;
    }
    uint32_t q = pos + (c == ' ');
    if (q >= g->end) return q; /* a lone trailing space */
    if (is_other(g->flags[q])) {
        for (e = run_while(g, q, is_other); e < g->end && is_crlf(g->cpt[e]);) e++;
        return e;
    }
    return ws_tail(g, pos, true);
}

static bool gpt4o_upper(uint32_t c, uint8_t f) { return is_letter(f) && !(c >= 'a' && c <= 'z'); }
static bool gpt4o_lower(uint32_t c, uint8_t f) { return is_letter(f) && !(c >= 'A' && c <= 'Z'); }

/* The optional contraction after a GPT-4o word. */
static uint32_t gpt4o_word_end(const sm_seg *g, uint32_t e) {
    uint32_t c = contraction(g, e, true);
    return c ? c : e;
}

/* GPT-4o's two word alternatives, as llama.cpp writes them for std::regex over collapsed text:
 *     P?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+C?
 *   | P?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*C?
 * with P = [^\r\n\p{L}\p{N}], C = the contractions. "Upper" is a letter other than a-z, "lower" a
 * letter other than A-Z, so a non-ASCII letter is both. Returns the end or 0. */
static uint32_t gpt4o_word(const sm_seg *g, uint32_t pos) {
    uint32_t c = g->cpt[pos], s = pos, j, k;
    uint8_t f = g->flags[pos];
    if (!is_crlf(c) && !is_letter(f) && !is_number(f)) s++; /* P; without it nothing can match */
    for (j = s; j < g->end && gpt4o_upper(g->cpt[j], g->flags[j]);) j++;
    /* first alternative: the lowers start where backtracking the uppers first finds one */
    if (j < g->end && gpt4o_lower(g->cpt[j], g->flags[j])) {
        for (k = j + 1; k < g->end && gpt4o_lower(g->cpt[k], g->flags[k]);) k++;
        return gpt4o_word_end(g, k);
    }
    for (k = j; k > s; k--) {
        if (gpt4o_lower(g->cpt[k - 1], g->flags[k - 1])) return gpt4o_word_end(g, k);
    }
    /* second alternative: uppers (only A-Z here) then lowers (none can follow) */
    return j > s ? gpt4o_word_end(g, j) : 0;
}

/* GPT-4o: the word alternatives | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ |
 * \s+(?!\S) | \s+ */
static uint32_t m_gpt4o(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)p, (void)skip;
    uint32_t c = g->cpt[pos], e = gpt4o_word(g, pos);
    if (e) return e;
    if (is_number(g->flags[pos])) {
        for (e = pos + 1; e < g->end && e - pos < 3 && is_number(g->flags[e]);) e++;
        return e;
    }
    uint32_t q = pos + (c == ' ' && pos + 1 < g->end && is_other(g->flags[pos + 1]));
    if (is_other(g->flags[q])) {
        e = run_while(g, q, is_other);
        while (e < g->end && (is_crlf(g->cpt[e]) || g->cpt[e] == '/')) e++;
        return e;
    }
    return ws_tail(g, pos, true);
}

static bool seg_has(const sm_seg *g, const sm_cls *k, uint32_t i) {
    if (i >= g->end) return false;
    uint32_t c = g->cpt[i];
    return c < 128 ? g->ascii[c] : cls_has(k, c, g->flags[i]);
}

static uint32_t cls_run(const sm_seg *g, const sm_cls *k, uint32_t i) {
    while (seg_has(g, k, i)) i++;
    return i;
}

/* [X] */
static uint32_t m_one(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)skip;
    return seg_has(g, p->cls, pos) ? pos + 1 : pos;
}

/* [X]+ */
static uint32_t m_run(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)skip;
    return cls_run(g, p->cls, pos);
}

/* \s?[X]+ */
static uint32_t m_ws_run(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)skip;
    if (is_ws(g->flags[pos]) && seg_has(g, p->cls, pos + 1)) return cls_run(g, p->cls, pos + 1);
    return cls_run(g, p->cls, pos);
}

/* [X][X][X] */
static uint32_t m_triple(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    for (uint32_t i = pos; i < pos + 3; i++) {
        if (!seg_has(g, p->cls, i)) {
            *skip = i + 1; /* no match can start before a non-member */
            return pos;
        }
    }
    return pos + 3;
}

/* \s+$ */
static uint32_t m_trailing_ws(const sm_seg *g, const sm_pass *p, uint32_t pos, uint32_t *skip) {
    (void)p;
    uint32_t e = run_while(g, pos, is_ws);
    if (e > pos && e == g->end) return e;
    *skip = e + 1; /* every start inside this run ends where it ends */
    return pos;
}

/* ---- families ------------------------------------------------------------------------------- */

#define SM_PRETOK_MAX_PASSES 6

typedef struct sm_family {
    const char *name;   /* canonical tokenizer.ggml.pre */
    bool ignore_merges; /* see sm_pretok_ignore_merges */
    sm_pass passes[SM_PRETOK_MAX_PASSES]; /* in order, up to the first without a matcher */
} sm_family;

#define GPT2_PASS {m_gpt2, NULL, 0}

/* llama.cpp's regex lists per LLAMA_VOCAB_PRE_TYPE_*, in order. SM_PRETOK_PHI2 is its GPT2 type,
 * named by "gpt-2" and "phi-2" alike: the GPT-2 regex alone, a different list from "default"'s. */
static const sm_family k_families[SM_PRETOK_COUNT] = {
    [SM_PRETOK_DEFAULT] = {"default", false,
                           {{m_run, &k_cls_punct_default, 0}, GPT2_PASS,
                            {m_run, &k_cls_number, 0}, {m_triple, &k_cls_digit, 0}}},
    [SM_PRETOK_LLAMA3] = {"llama-bpe", true, {{m_llama3, NULL, 3}}},
    [SM_PRETOK_QWEN2] = {"qwen2", false, {{m_llama3, NULL, 1}}},
    [SM_PRETOK_SMOLLM] = {"smollm", false, {{m_one, &k_cls_number, 0}, GPT2_PASS}},
    [SM_PRETOK_STARCODER] = {"starcoder", false, {{m_one, &k_cls_number, 0}, GPT2_PASS}},
    [SM_PRETOK_FALCON] = {"falcon", false,
                          {{m_run, &k_cls_punct_falcon, 0}, GPT2_PASS,
                           {m_triple, &k_cls_digit, 0}}},
    [SM_PRETOK_DEEPSEEK_CODER] = {"deepseek-coder", false,
                                  {{m_one, &k_cls_crlf, 0}, {m_ws_run, &k_cls_letter, 0},
                                   {m_ws_run, &k_cls_punct, 0}, {m_run, &k_cls_cjk_deepseek, 0},
                                   {m_one, &k_cls_number, 0}}},
    [SM_PRETOK_DEEPSEEK_LLM] = {"deepseek-llm", false,
                                {{m_one, &k_cls_crlf, 0}, {m_ws_run, &k_cls_letter_dsllm, 0},
                                 {m_ws_run, &k_cls_punct_dsllm, 0}, {m_trailing_ws, NULL, 0},
                                 {m_run, &k_cls_cjk_deepseek, 0}, {m_run, &k_cls_number, 0}}},
    [SM_PRETOK_MPT] = {"mpt", false, {GPT2_PASS}},
    [SM_PRETOK_REFACT] = {"refact", false, {{m_one, &k_cls_number, 0}, GPT2_PASS}},
    [SM_PRETOK_GPT4O] = {"gpt-4o", false, {{m_gpt4o, NULL, 0}}},
    [SM_PRETOK_PHI2] = {"gpt-2", false, {GPT2_PASS}},
};

/* tokenizer.ggml.pre values llama.cpp maps to these families (the ones whose splitting is the
 * family's; flags such as add_bos that some of them also set are the loader's business). */
static const struct {
    const char *name;
    sm_pretok kind;
} k_names[] = {
    {"default", SM_PRETOK_DEFAULT},      {"llama3", SM_PRETOK_LLAMA3},
    {"llama-v3", SM_PRETOK_LLAMA3},      {"llama-bpe", SM_PRETOK_LLAMA3},
    {"falcon3", SM_PRETOK_LLAMA3},       {"falcon-h1", SM_PRETOK_LLAMA3},
    {"pixtral", SM_PRETOK_LLAMA3},       {"midm-2.0", SM_PRETOK_LLAMA3},
    {"lfm2", SM_PRETOK_LLAMA3},          {"qwen2", SM_PRETOK_QWEN2},
    {"deepseek-r1-qwen", SM_PRETOK_QWEN2}, {"megrez", SM_PRETOK_QWEN2},
    {"smollm", SM_PRETOK_SMOLLM},        {"starcoder", SM_PRETOK_STARCODER},
    {"falcon", SM_PRETOK_FALCON},        {"deepseek-coder", SM_PRETOK_DEEPSEEK_CODER},
    {"deepseek-llm", SM_PRETOK_DEEPSEEK_LLM}, {"mpt", SM_PRETOK_MPT},
    {"refact", SM_PRETOK_REFACT},        {"gpt-4o", SM_PRETOK_GPT4O},
    {"llama4", SM_PRETOK_GPT4O},         {"gpt-2", SM_PRETOK_PHI2},
    {"phi-2", SM_PRETOK_PHI2},           {"jina-es", SM_PRETOK_PHI2},
    {"jina-de", SM_PRETOK_PHI2},         {"jina-v2-es", SM_PRETOK_PHI2},
    {"jina-v2-de", SM_PRETOK_PHI2},      {"gigachat", SM_PRETOK_PHI2},
    {"exaone4", SM_PRETOK_PHI2},
};

bool sm_pretok_ignore_merges(sm_pretok kind) {
    return (unsigned)kind < SM_PRETOK_COUNT && k_families[kind].ignore_merges;
}

const char *sm_pretok_name(sm_pretok kind) {
    const char *name = (unsigned)kind < SM_PRETOK_COUNT ? k_families[kind].name : NULL;
    return name ? name : "?";
}

bool sm_pretok_from_name(const char *name, size_t len, sm_pretok *out) {
    for (size_t i = 0; i < sizeof(k_names) / sizeof(k_names[0]); i++) {
        if (strlen(k_names[i].name) == len && memcmp(k_names[i].name, name, len) == 0) {
            *out = k_names[i].kind;
            return true;
        }
    }
    return false;
}

/* ---- driver --------------------------------------------------------------------------------- */

/* Splits [a, b) like std::regex_iterator plus llama.cpp's gap handling: each match is a piece and
 * so is each stretch between matches. Writes piece ends to out (at most b - a). */
static uint32_t split_segment(const sm_pass *p, const sm_seg *whole, uint32_t a, uint32_t b,
                              uint32_t *out) {
    const sm_seg g = {whole->cpt, whole->flags, b, whole->ascii};
    uint32_t n = 0, gap = a, pos = a;
    while (pos < b) {
        uint32_t skip = pos + 1, e = p->fn(&g, p, pos, &skip);
        if (e > pos) {
            if (gap < pos) out[n++] = pos;
            out[n++] = e;
            gap = pos = e;
        } else {
            pos = skip;
        }
    }
    if (gap < b) out[n++] = b;
    return n;
}

static sm_status grow(sm_pretok_words *w, size_t n_cpt) {
    if (n_cpt <= w->cap) return SM_OK;
    size_t cap = n_cpt < 256 ? 256 : n_cpt;
    uint32_t *cpt = realloc(w->cpt, cap * sizeof(*cpt));
    if (cpt) w->cpt = cpt;
    uint8_t *flags = realloc(w->flags, cap);
    if (flags) w->flags = flags;
    uint32_t *tmp = realloc(w->tmp, (cap + 1) * sizeof(*tmp));
    if (tmp) w->tmp = tmp;
    uint32_t *end = realloc(w->end, (cap + 1) * sizeof(*end));
    if (end) w->end = end;
    if (!cpt || !flags || !tmp || !end) return SM_ERR_NOMEM;
    w->cap = cap;
    return SM_OK;
}

/* Decodes s into w->cpt / w->flags; returns the code point count. */
static uint32_t decode(const char *s, size_t n, sm_pretok_words *w, size_t *n_text) {
    uint32_t n_cpt = 0;
    size_t pos = 0, bytes = 0;
    char buf[4];
    while (pos < n) {
        uint32_t c = sm_utf8_decode(s, n, &pos);
        w->cpt[n_cpt] = c;
        w->flags[n_cpt++] = sm_unicode_flags(c);
        bytes += sm_utf8_encode(c, buf);
    }
    *n_text = bytes;
    return n_cpt;
}

/* Re-encodes the code points into w->text and turns the piece ends into byte offsets. */
static sm_status encode(sm_pretok_words *w, uint32_t n_cpt, size_t n_text) {
    if (n_text + 1 > w->cap_text) {
        char *text = realloc(w->text, n_text + 1);
        if (!text) return SM_ERR_NOMEM;
        w->text = text;
        w->cap_text = n_text + 1;
    }
    size_t at = 0, k = 0;
    for (uint32_t i = 0; i < n_cpt; i++) {
        at += sm_utf8_encode(w->cpt[i], w->text + at);
        while (k < w->n_words && w->end[k] == i + 1) w->end[k++] = (uint32_t)at;
    }
    w->n_text = at;
    return SM_OK;
}

sm_status sm_pretok_split(sm_pretok kind, const char *s, size_t n, sm_pretok_words *w) {
    if ((unsigned)kind >= SM_PRETOK_COUNT || n > SM_PRETOK_MAX_BYTES || (!s && n)) {
        return SM_ERR_INVALID_ARG;
    }
    if (!k_families[kind].name) return SM_ERR_UNSUPPORTED; /* an enum value without a row */
    w->n_words = 0;
    w->n_text = 0;
    if (grow(w, n) != SM_OK) return SM_ERR_NOMEM;
    size_t n_text;
    uint32_t n_cpt = decode(s, n, w, &n_text);
    if (n_cpt == 0) return SM_OK;

    const sm_family *fam = &k_families[kind];
    uint32_t *cur = w->end, *next = w->tmp, n_cur = 1;
    bool ascii[128];
    const sm_seg whole = {w->cpt, w->flags, n_cpt, ascii};
    cur[0] = n_cpt;
    for (uint32_t p = 0; p < SM_PRETOK_MAX_PASSES && fam->passes[p].fn; p++) {
        const sm_pass *pass = &fam->passes[p];
        for (uint32_t c = 0; c < 128; c++) {
            ascii[c] = pass->cls && cls_has(pass->cls, c, sm_unicode_flags(c));
        }
        uint32_t n_next = 0, a = 0;
        for (uint32_t i = 0; i < n_cur; i++) {
            n_next += split_segment(pass, &whole, a, cur[i], next + n_next);
            a = cur[i];
        }
        uint32_t *t = cur;
        cur = next, next = t, n_cur = n_next;
    }
    if (cur != w->end) memcpy(w->end, cur, n_cur * sizeof(*cur));
    w->n_words = n_cur;
    return encode(w, n_cpt, n_text);
}

void sm_pretok_words_free(sm_pretok_words *w) {
    if (!w) return;
    free(w->text);
    free(w->end);
    free(w->cpt);
    free(w->flags);
    free(w->tmp);
    memset(w, 0, sizeof(*w));
}
