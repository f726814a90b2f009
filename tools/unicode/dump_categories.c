/*
 * dump_categories.c — prints the Unicode 15.1 general category of every code point, the input of
 * tools/gen-unicode-tables.mjs. A developer tool, not part of the library or the build:
 *
 *     cc -O2 tools/unicode/dump_categories.c -licuuc -o /tmp/dump_categories
 *     /tmp/dump_categories | node tools/gen-unicode-tables.mjs > src/tok/unicode_data.c
 *
 * llama.cpp's tables (scripts/gen-unicode-data.py) are Unicode 15.1, so ours must be too: a code
 * point assigned later must stay unassigned (Cn), or the pre-tokenizers split differently. The
 * categories come from ICU (libicu 72 = Unicode 15.0, Debian's libicu-dev) plus the 627
 * characters Unicode 15.1 added, all without other property changes:
 *   - 2EBF0..2EE5D  Lo  CJK Unified Ideographs Extension I (622)
 *   - 2FFC..2FFF    So  Ideographic Description Characters (4)
 *   - 31EF          So  CJK stroke HXG (1)
 * (the same list as tools/unicode/gen_wpm_tables.c). The tool refuses any ICU other than
 * Unicode 15.0, and checks the additions are unassigned there before adding them.
 *
 * Output: the format of the UCD's extracted/DerivedGeneralCategory.txt, one run per line,
 * "XXXX..YYYY ; Gc" (or "XXXX ; Gc"), every code point listed, Cn included, after one comment
 * line naming the Unicode version. That file for 15.1.0 would do as input just as well.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unicode/uchar.h>

#define MAX_CP 0x110000

static const struct { uint32_t first, last; int8_t type; } k_added_15_1[] = {
    {0x2EBF0, 0x2EE5D, U_OTHER_LETTER},
    {0x2FFC, 0x2FFF, U_OTHER_SYMBOL},
    {0x31EF, 0x31EF, U_OTHER_SYMBOL},
};
#define N_ADDED (sizeof k_added_15_1 / sizeof k_added_15_1[0])

static int8_t type_of(uint32_t c) {
    for (size_t i = 0; i < N_ADDED; i++)
        if (c >= k_added_15_1[i].first && c <= k_added_15_1[i].last) return k_added_15_1[i].type;
    return (int8_t)u_charType((UChar32)c);
}

static void print_run(uint32_t first, uint32_t last, int8_t type) {
    const char *name = u_getPropertyValueName(UCHAR_GENERAL_CATEGORY, type, U_SHORT_PROPERTY_NAME);
    if (first == last) printf("%04X ; %s\n", first, name);
    else printf("%04X..%04X ; %s\n", first, last, name);
}

int main(void) {
    UVersionInfo v;
    u_getUnicodeVersion(v);
    if (v[0] != 15 || v[1] != 0) {
        fprintf(stderr, "dump_categories: ICU %s has Unicode %d.%d, want 15.0 (libicu 72)\n",
                U_ICU_VERSION, v[0], v[1]);
        return 1;
    }
    uint32_t added = 0;
    for (size_t i = 0; i < N_ADDED; i++) {
        for (uint32_t c = k_added_15_1[i].first; c <= k_added_15_1[i].last; c++, added++) {
            if (u_charType((UChar32)c) != U_UNASSIGNED) {
                fprintf(stderr, "dump_categories: U+%04X already assigned in ICU\n", c);
                return 1;
            }
        }
    }
    if (added != 627) {
        fprintf(stderr, "dump_categories: %u additions listed, Unicode 15.1 has 627\n", added);
        return 1;
    }
    printf("# Unicode 15.1 general categories: ICU %s (Unicode 15.0) plus the %u characters 15.1 "
           "added (tools/unicode/dump_categories.c)\n", U_ICU_VERSION, added);
    uint32_t first = 0;
    int8_t type = type_of(0);
    for (uint32_t c = 1; c < MAX_CP; c++) {
        int8_t t = type_of(c);
        if (t == type) continue;
        print_run(first, c - 1, type);
        first = c, type = t;
    }
    print_run(first, MAX_CP - 1, type);
    return 0;
}
