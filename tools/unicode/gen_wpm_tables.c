/*
 * gen_wpm_tables.c — writes src/tok/wpm_tables.inc, the Unicode data WordPiece preprocessing needs
 * (src/tok/wpm.c). A developer tool, not part of the library or the build:
 *
 *     cc -O2 tools/unicode/gen_wpm_tables.c -licuuc -o /tmp/gen_wpm_tables
 *     /tmp/gen_wpm_tables > src/tok/wpm_tables.inc
 *
 * Follows llama.cpp's scripts/gen-unicode-data.py (the tables its WPM tokenizer reads) but keeps
 * only what WordPiece uses, from ICU (libicu 72 = Unicode 15.0):
 *   - a class per code point: whitespace (the White_Space list), control (Cc Cf Co Cs), mark
 *     (Mn Mc Me), split (P*, ASCII S*, and the CJK ranges BERT splits on), or plain;
 *   - simple lowercase mappings (UnicodeData field 13), as runs;
 *   - the first code point of each canonical decomposition (NFD), as ranges.
 * llama.cpp's data is Unicode 15.1, whose 627 additions (2EBF0..2EE5D Lo, 2FFC..2FFF So, 31EF So)
 * are all class "plain" with no case or decomposition: the same as unassigned code points here.
 */
#include <stdint.h>
#include <stdio.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#define MAX_CP 0x110000

enum { PLAIN = 0, SPACE = 1, CONTROL = 2, MARK = 3, SPLIT = 4 };

static int is_white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* BERT's "Chinese character" ranges, as llama.cpp has them (0x2B920 rather than 0x2B820, as in
 * Hugging Face's Rust code). */
static int is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int class_of(uint32_t c) {
    if (is_white_space(c)) return SPACE;
    switch (u_charType((UChar32)c)) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_PRIVATE_USE_CHAR: case U_SURROGATE:
        return CONTROL;
    case U_NON_SPACING_MARK: case U_ENCLOSING_MARK: case U_COMBINING_SPACING_MARK:
        return MARK;
    case U_DASH_PUNCTUATION: case U_START_PUNCTUATION: case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION: case U_OTHER_PUNCTUATION: case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
        return SPLIT;
    case U_MATH_SYMBOL: case U_CURRENCY_SYMBOL: case U_MODIFIER_SYMBOL: case U_OTHER_SYMBOL:
        return c < 0x7F ? SPLIT : PLAIN;
    default:
        return is_cjk(c) ? SPLIT : PLAIN;
    }
}

static uint32_t nfd_first(const UNormalizer2 *nfd, uint32_t c) {
    UChar buf[32];
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = unorm2_getDecomposition(nfd, (UChar32)c, buf, 32, &err);
    if (U_FAILURE(err) || n <= 0) return c;
    UChar32 first;
    int32_t i = 0;
    U16_NEXT(buf, i, n, first);
    return (uint32_t)first;
}

static void classes(void) {
    int n = 0, prev = -1;
    printf("/* [start of range] -> class; a range runs to the next start. */\n");
    printf("static const uint32_t wpm_class_start[] = {");
    for (uint32_t c = 0; c < MAX_CP; c++) {
        int k = class_of(c);
        if (k == prev) continue;
        printf("%s0x%X,", n % 10 ? " " : "\n    ", c);
        prev = k;
        n++;
    }
    printf("\n};\nstatic const uint8_t wpm_class_kind[] = {");
    n = 0, prev = -1;
    for (uint32_t c = 0; c < MAX_CP; c++) {
        int k = class_of(c);
        if (k == prev) continue;
        printf("%s%d,", n % 32 ? " " : "\n    ", k);
        prev = k;
        n++;
    }
    printf("\n};\n#define WPM_N_CLASS_RANGES %d\n\n", n);
    printf("/* The same classes for ASCII, looked up directly. */\n");
    printf("static const uint8_t wpm_ascii_class[128] = {");
    for (uint32_t c = 0; c < 128; c++) printf("%s%d,", c % 32 ? " " : "\n    ", class_of(c));
    printf("\n};\n\n");
}

/* Runs of code points start, start+stride, ... (count of them) whose lowercase is cp + delta. */
static void lowercase(void) {
    uint32_t from[4096], n = 0;
    int32_t delta[4096];
    for (uint32_t c = 0; c < MAX_CP; c++) {
        uint32_t l = (uint32_t)u_tolower((UChar32)c);
        if (l != c) from[n] = c, delta[n] = (int32_t)l - (int32_t)c, n++;
    }
    printf("/* Simple lowercase: {start, count, stride, delta}: start + k*stride (k < count) maps\n"
           " * to itself + delta. */\n");
    printf("static const struct wpm_lower_run { uint32_t start; uint16_t count, stride; int32_t "
           "delta; } wpm_lower_runs[] = {");
    uint32_t i = 0, runs = 0;
    while (i < n) {
        uint32_t count = 1, stride = 0;
        if (i + 1 < n && delta[i + 1] == delta[i] && from[i + 1] - from[i] <= 2) {
            stride = from[i + 1] - from[i];
            while (i + count < n && delta[i + count] == delta[i] &&
                   from[i + count] == from[i] + count * stride)
                count++;
        }
        printf("%s{0x%X, %u, %u, %d},", runs % 4 ? " " : "\n    ", from[i], count,
               stride ? stride : 1, delta[i]);
        runs++;
        i += count;
    }
    printf("\n};\n#define WPM_N_LOWER_RUNS %u\n\n", runs);
}

static void decompositions(void) {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *nfd = unorm2_getNFDInstance(&err);
    if (U_FAILURE(err)) return;
    printf("/* First code point of the canonical decomposition: {first, last, nfd} ranges. */\n");
    printf("static const struct wpm_nfd_range { uint32_t first, last, nfd; } wpm_nfd_ranges[] = {");
    uint32_t n = 0, start = 0, last = 0, val = 0;
    int open = 0;
    for (uint32_t c = 0; c < MAX_CP; c++) {
        uint32_t d = nfd_first(nfd, c);
        if (d == c) continue;
        if (open && c == last + 1 && d == val) {
            last = c;
            continue;
        }
        if (open) printf("%s{0x%X, 0x%X, 0x%X},", n++ % 4 ? " " : "\n    ", start, last, val);
        start = last = c, val = d, open = 1;
    }
    if (open) printf("%s{0x%X, 0x%X, 0x%X},", n++ % 4 ? " " : "\n    ", start, last, val);
    printf("\n};\n#define WPM_N_NFD_RANGES %u\n", n);
}

int main(void) {
    printf("/* wpm_tables.inc — generated by tools/unicode/gen_wpm_tables.c (ICU %s, Unicode %s);\n"
           " * do not edit. Included by wpm.c only. */\n\n", U_ICU_VERSION, U_UNICODE_VERSION);
    printf("enum { WPM_PLAIN = 0, WPM_SPACE = 1, WPM_CONTROL = 2, WPM_MARK = 3, WPM_SPLIT = 4 };"
           "\n\n");
    classes();
    lowercase();
    decompositions();
    return 0;
}
