/*
 * unicode.c — UTF-8 coding, code point flags and GPT-2's byte alphabet (see unicode.h).
 *
 * Decoding copies llama.cpp's leniency on purpose: the tokenizers we compare against see
 * "\xC0\x80" as U+0000 and a lone continuation byte as U+FFFD, so we must too. Not a validator.
 * Specs: RFC 3629 (UTF-8 forms), openai/gpt-2 encoder.py bytes_to_unicode.
 */
#include "tok/unicode.h"

uint8_t sm_unicode_flags_slow(uint32_t cpt) {
    if (cpt > SM_UNICODE_MAX) return SM_UCAT_UNDEFINED;
    /* last run whose start is <= cpt; runs[0] starts at 0 so one always exists */
    uint32_t key = (cpt << 8) | 0xFFu, lo = 0, hi = sm_unicode_n_runs;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sm_unicode_runs[mid] <= key) lo = mid;
        else hi = mid;
    }
    return (uint8_t)(sm_unicode_runs[lo] & 0xFFu);
}

static bool is_cont(const char *s, size_t n, size_t i) {
    return i < n && ((uint8_t)s[i] & 0xC0u) == 0x80u;
}

uint32_t sm_utf8_decode(const char *s, size_t n, size_t *pos) {
    size_t i = *pos;
    uint32_t b0 = (uint8_t)s[i];
    uint32_t cpt;
    size_t len;
    if (b0 < 0x80u) {
        *pos = i + 1;
        return b0;
    }
    /* the lead byte's high bits give the length; 10xxxxxx and 11111xxx start nothing */
    if ((b0 & 0xE0u) == 0xC0u) len = 2, cpt = b0 & 0x1Fu;
    else if ((b0 & 0xF0u) == 0xE0u) len = 3, cpt = b0 & 0x0Fu;
    else if ((b0 & 0xF8u) == 0xF0u) len = 4, cpt = b0 & 0x07u;
    else len = 0, cpt = 0;
    for (size_t k = 1; k < len; k++) {
        if (!is_cont(s, n, i + k)) {
            len = 0;
            break;
        }
        cpt = (cpt << 6) | ((uint8_t)s[i + k] & 0x3Fu);
    }
    if (len == 0 || cpt > SM_UNICODE_MAX) {
        *pos = i + 1;
        return SM_UNICODE_REPLACEMENT;
    }
    *pos = i + len;
    return cpt;
}

size_t sm_utf8_encode(uint32_t cpt, char out[4]) {
    if (cpt < 0x80u) {
        out[0] = (char)cpt;
        return 1;
    }
    if (cpt < 0x800u) {
        out[0] = (char)(0xC0u | (cpt >> 6));
        out[1] = (char)(0x80u | (cpt & 0x3Fu));
        return 2;
    }
    if (cpt < 0x10000u) {
        out[0] = (char)(0xE0u | (cpt >> 12));
        out[1] = (char)(0x80u | ((cpt >> 6) & 0x3Fu));
        out[2] = (char)(0x80u | (cpt & 0x3Fu));
        return 3;
    }
    out[0] = (char)(0xF0u | ((cpt >> 18) & 0x07u));
    out[1] = (char)(0x80u | ((cpt >> 12) & 0x3Fu));
    out[2] = (char)(0x80u | ((cpt >> 6) & 0x3Fu));
    out[3] = (char)(0x80u | (cpt & 0x3Fu));
    return 4;
}

/* Bytes that stand for themselves: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. The rest (0x00..0x20,
 * 0x7F..0xA0, 0xAD) are numbered from U+0100 in byte order: 33 + 34 + 1 = 68 of them. */
static bool byte_is_printable(uint32_t b) {
    return (b >= 0x21u && b <= 0x7Eu) || (b >= 0xA1u && b <= 0xACu) || (b >= 0xAEu && b <= 0xFFu);
}

uint32_t sm_unicode_byte_to_cpt(uint8_t byte) {
    uint32_t b = byte;
    if (byte_is_printable(b)) return b;
    if (b <= 0x20u) return 0x100u + b;
    if (b <= 0xA0u) return 0x100u + 33u + (b - 0x7Fu);
    return 0x100u + 67u; /* 0xAD */
}

int32_t sm_unicode_cpt_to_byte(uint32_t cpt) {
    if (cpt <= 0xFFu) return byte_is_printable(cpt) ? (int32_t)cpt : -1;
    if (cpt < 0x100u + 33u) return (int32_t)(cpt - 0x100u);
    if (cpt < 0x100u + 67u) return (int32_t)(cpt - 0x100u - 33u + 0x7Fu);
    if (cpt == 0x100u + 67u) return 0xAD;
    return -1;
}

size_t sm_unicode_byte_encode(uint8_t byte, char out[2]) {
    uint32_t cpt = sm_unicode_byte_to_cpt(byte); /* <= U+0143: one or two bytes */
    if (cpt < 0x80u) {
        out[0] = (char)cpt;
        return 1;
    }
    out[0] = (char)(0xC0u | (cpt >> 6));
    out[1] = (char)(0x80u | (cpt & 0x3Fu));
    return 2;
}
