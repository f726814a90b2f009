/*
 * test_bpe.c — the byte-level BPE side of the tokenizers: UTF-8 decoding, code point flags, GPT-2's
 * byte alphabet, every pre-tokenizer family on tricky inputs, and BPE merging on a tiny vocabulary.
 *
 * The expected pre-token splits were produced by running llama.cpp's regexes for each family the
 * way its unicode_regex_split does (std::regex over collapsed text, and its gpt2/llama3 fast
 * paths), so they pin llama.cpp's behaviour, not ours. Whole-vocabulary checks against llama.cpp's
 * own vectors are in test_tok_vectors.c.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tok/pretok.h"
#include "tok/tokenizer.h"
#include "tok/unicode.h"

/* ---- UTF-8 ---------------------------------------------------------------------------------- */

typedef struct utf8_case {
    const char *bytes;
    size_t n;
    uint32_t cpts[6]; /* what decoding yields, in order; ends at the first 0xFFFFFFFF */
} utf8_case;

#define END 0xFFFFFFFFu

static const utf8_case k_utf8[] = {
    {"A", 1, {'A', END}},
    {"\xC3\xA9", 2, {0xE9, END}},
    {"\xE4\xB8\xAD", 3, {0x4E2D, END}},
    {"\xF0\x9F\x98\x80", 4, {0x1F600, END}},
    {"\x80", 1, {0xFFFD, END}},                        /* lone continuation byte */
    {"\xE4\xB8", 2, {0xFFFD, 0xFFFD, END}},            /* cut short: one U+FFFD per byte */
    {"\xE4" "A", 2, {0xFFFD, 'A', END}},               /* broken sequence: the next byte survives */
    {"\xC0\x80", 2, {0x0000, END}},                    /* overlong: llama.cpp decodes it */
    {"\xED\xA0\x80", 3, {0xD800, END}},                /* surrogate: decoded as-is */
    {"\xF4\x90\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, END}}, /* above U+10FFFF */
    {"\xF8\x88\x80\x80\x80", 5, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, END}},
    {"\xFF" "a", 2, {0xFFFD, 'a', END}},
};

static void test_utf8(void) {
    for (size_t k = 0; k < sizeof(k_utf8) / sizeof(k_utf8[0]); k++) {
        const utf8_case *c = &k_utf8[k];
        size_t pos = 0, i = 0;
        while (pos < c->n && i < 6) CHECK_EQ(sm_utf8_decode(c->bytes, c->n, &pos), c->cpts[i++]);
        CHECK_EQ(pos, c->n);
        CHECK_EQ(i < 6 ? c->cpts[i] : END, END);
    }
    /* encode then decode gives the code point back, across every length boundary */
    static const uint32_t cpts[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
    static const size_t lens[] = {1, 1, 2, 2, 3, 3, 4, 4};
    for (size_t k = 0; k < sizeof(cpts) / sizeof(cpts[0]); k++) {
        char buf[4];
        size_t n = sm_utf8_encode(cpts[k], buf), pos = 0;
        CHECK_EQ(n, lens[k]);
        CHECK_EQ(sm_utf8_decode(buf, n, &pos), cpts[k]);
        CHECK_EQ(pos, n);
        CHECK_EQ(sm_utf8_len((uint8_t)buf[0]), n);
    }
}

/* ---- code point flags ----------------------------------------------------------------------- */

static void test_flags(void) {
    static const struct {
        uint32_t cpt;
        sm_ucat cat;
        bool ws;
    } k[] = {
        {'a', SM_UCAT_LETTER, false},     {'Z', SM_UCAT_LETTER, false},
        {'5', SM_UCAT_NUMBER, false},     {' ', SM_UCAT_SEPARATOR, true},
        {'\n', SM_UCAT_CONTROL, true},    {'\t', SM_UCAT_CONTROL, true},
        {0x1C, SM_UCAT_CONTROL, false},   {'.', SM_UCAT_PUNCT, false},
        {'$', SM_UCAT_SYMBOL, false},     {'~', SM_UCAT_SYMBOL, false},
        {0x85, SM_UCAT_CONTROL, true},    {0xA0, SM_UCAT_SEPARATOR, true},
        {0xAD, SM_UCAT_CONTROL, false},   {0xBD, SM_UCAT_NUMBER, false},
        {0x301, SM_UCAT_MARK, false},     {0x378, SM_UCAT_UNDEFINED, false},
        {0x663, SM_UCAT_NUMBER, false},   {0x2003, SM_UCAT_SEPARATOR, true},
        {0x200B, SM_UCAT_CONTROL, false}, {0x2019, SM_UCAT_PUNCT, false},
        {0x3000, SM_UCAT_SEPARATOR, true}, {0x4E2D, SM_UCAT_LETTER, false},
        {0xE000, SM_UCAT_CONTROL, false}, {0xFFFD, SM_UCAT_SYMBOL, false},
        {0x1F600, SM_UCAT_SYMBOL, false}, {0x10FFFF, SM_UCAT_UNDEFINED, false},
        {0x110000, SM_UCAT_UNDEFINED, false},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        CHECK_EQ(sm_unicode_cat(k[i].cpt), k[i].cat);
        CHECK_EQ(sm_unicode_is_ws(k[i].cpt), k[i].ws);
    }
    /* the runs are sorted, start at 0, and agree with the flat table where both apply */
    CHECK_EQ(sm_unicode_runs[0] >> 8, 0);
    int unsorted = 0;
    for (uint32_t i = 1; i < sm_unicode_n_runs; i++) {
        unsorted += sm_unicode_runs[i] <= sm_unicode_runs[i - 1];
    }
    CHECK_EQ(unsorted, 0);
    int disagree = 0;
    for (uint32_t c = 0; c < SM_UNICODE_FLAT_LIMIT; c++) {
        disagree += sm_unicode_flat[c] != sm_unicode_flags_slow(c);
    }
    CHECK_EQ(disagree, 0);
}

/* ---- GPT-2 byte alphabet -------------------------------------------------------------------- */

static void test_byte_alphabet(void) {
    CHECK_EQ(sm_unicode_byte_to_cpt('A'), 'A');
    CHECK_EQ(sm_unicode_byte_to_cpt(' '), 0x120); /* "Ġ" */
    CHECK_EQ(sm_unicode_byte_to_cpt('\n'), 0x10A); /* "Ċ" */
    CHECK_EQ(sm_unicode_byte_to_cpt(0x00), 0x100);
    CHECK_EQ(sm_unicode_byte_to_cpt(0x7F), 0x121);
    CHECK_EQ(sm_unicode_byte_to_cpt(0xA0), 0x142);
    CHECK_EQ(sm_unicode_byte_to_cpt(0xAD), 0x143);
    CHECK_EQ(sm_unicode_byte_to_cpt(0xFF), 0xFF);
    CHECK_EQ(sm_unicode_cpt_to_byte(' '), -1); /* a space is not a letter of the alphabet */
    CHECK_EQ(sm_unicode_cpt_to_byte(0x144), -1);
    bool seen[0x144] = {false};
    int bad = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t c = sm_unicode_byte_to_cpt((uint8_t)b);
        char buf[4], enc[2];
        size_t n = sm_unicode_byte_encode((uint8_t)b, enc);
        bad += c >= 0x144 || seen[c] || sm_unicode_cpt_to_byte(c) != b;
        bad += n != sm_utf8_encode(c, buf) || memcmp(buf, enc, n) != 0;
        if (c < 0x144) seen[c] = true;
    }
    CHECK_EQ(bad, 0);
}

/* ---- pre-tokenizers ------------------------------------------------------------------------- */

typedef struct split_case {
    sm_pretok kind;
    const char *text;
    const char *words[40]; /* ends with NULL */
} split_case;

static const split_case k_splits[] = {
    {SM_PRETOK_PHI2, "I've been 'told he's there, 'RE you sure? We'Ve a'lL 'd",
     {"I", "'ve", " been", " '", "told", " he", "'s", " there", ",", " '", "RE", " you", " sure",
      "?", " We", "'", "Ve", " a", "'", "lL", " '", "d", NULL}},
    {SM_PRETOK_PHI2, "  Hello\012\012  world  \011\012 ",
     {" ", " Hello", "\012\012 ", " world", "  \011\012 ", NULL}},
    {SM_PRETOK_PHI2, "3 33 333 1234567 x\011\011y",
     {"3", " 33", " 333", " 1234567", " x", "\011", "\011", "y", NULL}},
    {SM_PRETOK_PHI2,
     "\360\237\232\200 (normal) "
     "\360\237\230\266\342\200\215\360\237\214\253\357\270\217 \342\234\205!!",
     {"\360\237\232\200", " (", "normal", ")",
      " \360\237\230\266\342\200\215\360\237\214\253\357\270\217", " \342\234\205!!", NULL}},
    {SM_PRETOK_DEFAULT, " (x) Hello, world! 3333333 a$+<=>^~|`b",
     {" ", "(", "x", ")", " Hello", ",", " world", "!", " ", "333", "333", "3", " a", "$+<=>^~|",
      "`", "b", NULL}},
    {SM_PRETOK_LLAMA3, "I've been 'told he's there, 'RE you sure? We'Ve a'lL 'd",
     {"I", "'ve", " been", " '", "told", " he", "'s", " there", ",", " '", "RE", " you", " sure",
      "?", " We", "'Ve", " a", "'lL", " '", "d", NULL}},
    {SM_PRETOK_LLAMA3, "3 33 333 3333 1234567 x12",
     {"3", " ", "33", " ", "333", " ", "333", "3", " ", "123", "456", "7", " x", "12", NULL}},
    {SM_PRETOK_LLAMA3, "a\015\012b \015\012\015\012 c  \012  d   ",
     {"a", "\015\012", "b", " \015\012\015\012", " c", "  \012", " ", " d", "   ", NULL}},
    {SM_PRETOK_LLAMA3,
     "\344\275\240\345\245\275 apple\345\267\245\344\275\2341314151\345\244\251\357\275\236",
     {"\344\275\240\345\245\275", " apple\345\267\245\344\275\234", "131", "415", "1",
      "\345\244\251", "\357\275\236", NULL}},
    {SM_PRETOK_QWEN2, "3 33 3333 x12 I'M",
     {"3", " ", "3", "3", " ", "3", "3", "3", "3", " x", "1", "2", " I", "'M", NULL}},
    {SM_PRETOK_STARCODER, "w048 7tuijk dsdfhu 333",
     {"w", "0", "4", "8", " ", "7", "tuijk", " dsdfhu", " ", "3", "3", "3", NULL}},
    {SM_PRETOK_FALCON, "3333333 a$+<=>^~|`b \302\2751234",
     {"333", "333", "3", " a", "$+<=>^~|`", "b", " \302\275", "123", "4", NULL}},
    {SM_PRETOK_DEEPSEEK_CODER,
     "Hello, world!\012\344\275\240\345\245\275 apple\345\267\245\344\275\2341314 \355\225\234",
     {"Hello", ",", " world", "!", "\012", "\344\275\240\345\245\275", " apple",
      "\345\267\245\344\275\234", "1", "3", "1", "4", " ", "\355\225\234", NULL}},
    {SM_PRETOK_DEEPSEEK_LLM,
     "\316\251mega \357\275\232\357\274\201 x  "
     "\344\270\255\346\226\207 12 \342\200\230hi\342\200\231  ",
     {"\316\251", "mega", " \357\275\232", "\357\274\201", " x", "  ", "\344\270\255\346\226\207",
      " ", "12", " ", "\342\200\230", "hi", "\342\200\231", "  ", NULL}},
    {SM_PRETOK_GPT4O,
     "\303\200BC HELLOworld a\303\200B CAN'T don't \303\234n\303\257c\303\266d\303\251's",
     {"\303\200", "BC", " HELLOworld", " a\303\200", "B", " CAN'T", " don't",
      " \303\234n\303\257c\303\266d\303\251's", NULL}},
    {SM_PRETOK_GPT4O, "1234567 !!//\012\012 x  \011 y",
     {"123", "456", "7", " !!//\012\012", " x", "  \011", " y", NULL}},
    /* invalid UTF-8 becomes U+FFFD in the words, as llama.cpp rebuilds them from code points */
    {SM_PRETOK_PHI2, "a\377b\342\202 \200", {"a", "\357\277\275", "b", "\357\277\275\357\277\275",
                                             " \357\277\275", NULL}},
    {SM_PRETOK_LLAMA3, "", {NULL}},
};

/* Splits `text` and compares with `words`; returns whether they match. */
static bool split_matches(sm_pretok kind, const char *text, size_t n, const char *const *words,
                          sm_pretok_words *w) {
    if (sm_pretok_split(kind, text, n, w) != SM_OK) return false;
    size_t start = 0, i = 0;
    for (; i < w->n_words; i++) {
        if (!words[i]) return false;
        size_t len = strlen(words[i]);
        if (w->end[i] - start != len || memcmp(w->text + start, words[i], len) != 0) return false;
        start = w->end[i];
    }
    return words[i] == NULL && start == w->n_text;
}

static void test_splits(void) {
    sm_pretok_words w = {0};
    for (size_t k = 0; k < sizeof(k_splits) / sizeof(k_splits[0]); k++) {
        const split_case *c = &k_splits[k];
        bool ok = split_matches(c->kind, c->text, strlen(c->text), c->words, &w);
        if (!ok) fprintf(stderr, "split case %zu (%s) differs\n", k, sm_pretok_name(c->kind));
        CHECK(ok);
    }
    /* families that share llama.cpp's regex list split alike */
    static const sm_pretok twins[][2] = {{SM_PRETOK_SMOLLM, SM_PRETOK_STARCODER},
                                         {SM_PRETOK_REFACT, SM_PRETOK_STARCODER},
                                         {SM_PRETOK_MPT, SM_PRETOK_PHI2}};
    for (size_t t = 0; t < sizeof(twins) / sizeof(twins[0]); t++) {
        for (size_t k = 0; k < sizeof(k_splits) / sizeof(k_splits[0]); k++) {
            if (k_splits[k].kind != twins[t][1]) continue;
            CHECK(split_matches(twins[t][0], k_splits[k].text, strlen(k_splits[k].text),
                                k_splits[k].words, &w));
        }
    }
    /* long runs: one word for 100k letters, whitespace split before the last space */
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    CHECK_EQ(sm_pretok_split(SM_PRETOK_PHI2, big, n, &w), SM_OK);
    CHECK_EQ(w.n_words, 1);
    memset(big, ' ', n - 1);
    big[n - 1] = 'x';
    CHECK_EQ(sm_pretok_split(SM_PRETOK_DEEPSEEK_LLM, big, n, &w), SM_OK);
    CHECK_EQ(w.n_words, 2);
    CHECK_EQ(sm_pretok_split(SM_PRETOK_LLAMA3, big, n, &w), SM_OK);
    CHECK_EQ(w.n_words, 2);
    CHECK_EQ(w.end[0], n - 2);
    free(big);
    /* an overlong NUL comes out as the real one, as llama.cpp re-encodes it */
    CHECK_EQ(sm_pretok_split(SM_PRETOK_PHI2, "\300\200", 2, &w), SM_OK);
    CHECK(w.n_text == 1 && w.text[0] == '\0' && w.n_words == 1);
    CHECK_EQ(sm_pretok_split(SM_PRETOK_COUNT, "a", 1, &w), SM_ERR_INVALID_ARG);
    sm_pretok_words_free(&w);
    sm_pretok_words_free(NULL);
}

static void test_names(void) {
    for (int k = 0; k < SM_PRETOK_COUNT; k++) {
        const char *name = sm_pretok_name((sm_pretok)k);
        sm_pretok back;
        CHECK(strcmp(name, "?") != 0);
        CHECK(sm_pretok_from_name(name, strlen(name), &back));
        CHECK_EQ(back, k);
    }
    sm_pretok p;
    CHECK(sm_pretok_from_name("gpt-2", 5, &p) && p == SM_PRETOK_PHI2);
    CHECK(sm_pretok_from_name("phi-2", 5, &p) && p == SM_PRETOK_PHI2);
    CHECK(sm_pretok_from_name("llama3", 6, &p) && p == SM_PRETOK_LLAMA3);
    CHECK(!sm_pretok_from_name("gpt-2x", 6, &p));
    CHECK(!sm_pretok_from_name("gpt-", 4, &p));
    CHECK(sm_pretok_ignore_merges(SM_PRETOK_LLAMA3));
    CHECK(!sm_pretok_ignore_merges(SM_PRETOK_QWEN2));
    CHECK(!sm_pretok_ignore_merges(SM_PRETOK_COUNT));
    CHECK_EQ(strcmp(sm_pretok_name(SM_PRETOK_COUNT), "?"), 0);
}

/* ---- BPE merging on a tiny vocabulary ------------------------------------------------------- */

/* Token texts in the byte alphabet ("\304\240" is "Ġ", a space) and merges by rank. */
static const char *const k_vocab[] = {"a", "b", "c", "\304\240", "ab", "bc", "abc", "aa",
                                      "\304\240a", "bb", "abcabc"};
enum { T_A, T_B, T_C, T_SP, T_AB, T_BC, T_ABC, T_AA, T_SPA, T_BB, T_ABCABC, N_VOCAB };
static const int32_t k_merges[][2] = {
    {T_A, T_B},   /* 0: ab */
    {T_B, T_C},   /* 1: bc */
    {T_AB, T_C},  /* 2: abc */
    {T_A, T_A},   /* 3: aa */
    {T_SP, T_A},  /* 4: Ġa */
    {T_C, T_C},   /* 5: "cc", not a token: merged symbols fall back to single bytes */
};

static void make_tokenizer(sm_tokenizer *t, bool ignore_merges) {
    memset(t, 0, sizeof(*t));
    t->kind = SM_VOCAB_BPE;
    t->pre = SM_PRETOK_PHI2;
    t->n_tokens = N_VOCAB;
    t->ignore_merges = ignore_merges;
    sm_strmap_init(&t->by_text, N_VOCAB);
    for (int i = 0; i < N_VOCAB; i++) {
        sm_strmap_put(&t->by_text, k_vocab[i], (uint32_t)strlen(k_vocab[i]), i);
    }
    int n = (int)(sizeof(k_merges) / sizeof(k_merges[0]));
    sm_pairmap_init(&t->merges, (uint32_t)n);
    for (int r = 0; r < n; r++) sm_pairmap_put(&t->merges, k_merges[r][0], k_merges[r][1], r);
}

static bool tokenizes_to(const sm_tokenizer *t, const char *text, const int32_t *want, int n_want) {
    int32_t ids[64];
    sm_tok_out out = {ids, 64, 0};
    if (sm_tok_bpe(t, text, strlen(text), &out) != SM_OK || out.n != n_want) return false;
    return memcmp(ids, want, (size_t)n_want * sizeof(*ids)) == 0;
}

static void test_bpe_merges(void) {
    sm_tokenizer t;
    make_tokenizer(&t, false);
    CHECK(tokenizes_to(&t, "abc", (const int32_t[]){T_ABC}, 1));     /* ab (0) before bc (1) */
    CHECK(tokenizes_to(&t, "bca", (const int32_t[]){T_BC, T_A}, 2));
    CHECK(tokenizes_to(&t, "aaa", (const int32_t[]){T_AA, T_A}, 2));  /* ties: leftmost first */
    CHECK(tokenizes_to(&t, "aaaa", (const int32_t[]){T_AA, T_AA}, 2));
    CHECK(tokenizes_to(&t, "aab", (const int32_t[]){T_A, T_AB}, 2));  /* ab outranks aa */
    CHECK(tokenizes_to(&t, " a b", (const int32_t[]){T_SPA, T_SP, T_B}, 3));
    CHECK(tokenizes_to(&t, "cc", (const int32_t[]){T_C, T_C}, 2));    /* "cc" has no token */
    CHECK(tokenizes_to(&t, "xa", (const int32_t[]){T_A}, 1));         /* "x" has none either */
    CHECK(tokenizes_to(&t, "abcabc", (const int32_t[]){T_ABC, T_ABC}, 2));
    CHECK(tokenizes_to(&t, "", (const int32_t[]){0}, 0));
    /* ignore_merges keeps a word that is a whole token, and only then */
    sm_tokenizer_release(&t);
    make_tokenizer(&t, true);
    CHECK(tokenizes_to(&t, "abcabc", (const int32_t[]){T_ABCABC}, 1));
    CHECK(tokenizes_to(&t, "aab", (const int32_t[]){T_A, T_AB}, 2));
    sm_tokenizer_release(&t);
    /* more words than the memo threshold, repeated: the memo must give what merging gives */
    make_tokenizer(&t, false);
    char text[2048] = "";
    int32_t want[512];
    int n = 0;
    for (int i = 0; i < 200; i++) {
        strcat(text, i % 2 ? "abc" : " aab");
        if (i % 2) want[n++] = T_ABC;
        else want[n++] = T_SPA, want[n++] = T_AB;
    }
    int32_t ids[512];
    sm_tok_out out = {ids, 512, 0};
    CHECK_EQ(sm_tok_bpe(&t, text, strlen(text), &out), SM_OK);
    CHECK_EQ(out.n, n);
    CHECK(memcmp(ids, want, (size_t)n * sizeof(*ids)) == 0);
    out = (sm_tok_out){ids, 3, 0}; /* a short buffer still counts everything */
    CHECK_EQ(sm_tok_bpe(&t, text, strlen(text), &out), SM_OK);
    CHECK_EQ(out.n, n);
    sm_tokenizer_release(&t);
}

int main(void) {
    test_utf8();
    test_flags();
    test_byte_alphabet();
    test_splits();
    test_names();
    test_bpe_merges();
    return sm_check_report("test_bpe");
}
