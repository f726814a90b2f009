/*
 * unicode.h — the Unicode facts the byte-level BPE tokenizer needs. Internal.
 *
 * UTF-8 decoding as llama.cpp's unicode_cpt_from_utf8 does it (lenient: overlong forms and
 * surrogates decode; a byte that starts no complete sequence becomes U+FFFD and is skipped alone),
 * one general category and a White_Space bit per code point (llama.cpp's unicode_cpt_flags,
 * generated into unicode_data.c by tools/gen-unicode-tables.mjs), and GPT-2's byte <-> code point
 * alphabet (openai/gpt-2 encoder.py bytes_to_unicode). Not a normalizer and not a case mapper:
 * nothing here needs more than ASCII case (see pretok.c).
 */
#ifndef SM_TOK_UNICODE_H
#define SM_TOK_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General category, collapsed the way llama.cpp's \p{..} classes see it. */
typedef enum sm_ucat {
    SM_UCAT_UNDEFINED = 0, /* unassigned (Cn), and anything above U+10FFFF */
    SM_UCAT_NUMBER = 1,    /* Nd Nl No */
    SM_UCAT_LETTER = 2,    /* Lu Ll Lt Lm Lo */
    SM_UCAT_SEPARATOR = 3, /* Zs Zl Zp */
    SM_UCAT_MARK = 4,      /* Mn Mc Me */
    SM_UCAT_PUNCT = 5,     /* Pc Pd Ps Pe Pi Pf Po */
    SM_UCAT_SYMBOL = 6,    /* Sm Sc Sk So */
    SM_UCAT_CONTROL = 7    /* Cc Cf Cs Co */
} sm_ucat;

#define SM_UFLAG_CAT 0x07u /* mask of the sm_ucat in a flags byte */
/* White_Space: 9-D, 20, 85, A0, 1680, 2000-200A, 2028, 2029, 202F, 205F, 3000 */
#define SM_UFLAG_WS 0x08u

#define SM_UNICODE_MAX 0x10FFFFu
#define SM_UNICODE_REPLACEMENT 0xFFFDu

/* Generated tables (unicode_data.c). */
#define SM_UNICODE_FLAT_LIMIT 0x800u
extern const uint8_t sm_unicode_flat[SM_UNICODE_FLAT_LIMIT]; /* flags of U+0000..U+07FF */
extern const uint32_t sm_unicode_runs[];  /* [sm_unicode_n_runs] (start << 8) | flags, sorted */
extern const uint32_t sm_unicode_n_runs;

/* Flags (sm_ucat | SM_UFLAG_WS) of any value; above U+10FFFF: SM_UCAT_UNDEFINED. */
uint8_t sm_unicode_flags_slow(uint32_t cpt);

static inline uint8_t sm_unicode_flags(uint32_t cpt) {
    return cpt < SM_UNICODE_FLAT_LIMIT ? sm_unicode_flat[cpt] : sm_unicode_flags_slow(cpt);
}

static inline sm_ucat sm_unicode_cat(uint32_t cpt) {
    return (sm_ucat)(sm_unicode_flags(cpt) & SM_UFLAG_CAT);
}

static inline bool sm_unicode_is_ws(uint32_t cpt) {
    return (sm_unicode_flags(cpt) & SM_UFLAG_WS) != 0;
}

/* Decodes the character at s[*pos] (requires *pos < n) and advances *pos past it. A byte that
 * does not start a complete sequence yields U+FFFD and advances by one, as llama.cpp does. Unlike
 * llama.cpp, a 4-byte form above U+10FFFF also counts as invalid (llama.cpp throws on it later). */
uint32_t sm_utf8_decode(const char *s, size_t n, size_t *pos);

/* Writes the UTF-8 form of cpt (<= U+10FFFF; surrogates are encoded as-is) to out, returns 1..4. */
size_t sm_utf8_encode(uint32_t cpt, char out[4]);

/* Sequence length announced by a lead byte, 1 for continuation and invalid bytes (llama.cpp's
 * unicode_len_utf8: callers clamp it to the bytes left). */
static inline size_t sm_utf8_len(uint8_t lead) {
    static const uint8_t k_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return k_len[lead >> 4];
}

/* GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * for U+0100..U+0143 in byte order. Token texts of "gpt2" vocabularies are written in it. */
uint32_t sm_unicode_byte_to_cpt(uint8_t byte);

/* The byte a code point of that alphabet stands for, or -1 when it is not in the alphabet. */
int32_t sm_unicode_cpt_to_byte(uint32_t cpt);

/* UTF-8 of sm_unicode_byte_to_cpt(byte) written to out; returns 1 or 2. */
size_t sm_unicode_byte_encode(uint8_t byte, char out[2]);

#endif
