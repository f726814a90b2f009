/*
 * sniff.c — the table of well-known file starts behind sm_sniff_describe (sniff.h).
 *
 * Text kinds (HTML, XML, JSON, Git LFS pointers) match case-insensitively after leading
 * whitespace and a UTF-8 byte-order mark, as servers send them; binary kinds match their magic at
 * offset 0. Magic numbers are the formats' own (gzip RFC 1952, Zstandard RFC 8878, ZIP APPNOTE,
 * ggml's pre-GGUF 'ggml'/'ggmf'/'ggjt' words stored little-endian, safetensors' u64 header length
 * followed by JSON).
 */
#include "io/sniff.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { SNIFF_MAX_BYTES = 64, SNIFF_QUOTE_MAX = 48 };

typedef struct sniff_kind {
    const char *start; /* text kinds: lower case */
    size_t len;
    bool text;
    const char *what;
} sniff_kind;

#define KIND(s, text, what) {(s), sizeof(s) - 1, (text), (what)}

static const sniff_kind kinds[] = {
    KIND("<!doctype html", true, "an HTML page, not a model"),
    KIND("<html", true, "an HTML page, not a model"),
    KIND("<?xml", true, "an XML document (a server's error page?), not a model"),
    KIND("version https://git-lfs", true,
         "a Git LFS pointer, not the model: download the file it points to"),
    KIND("{", true, "JSON (a server's error message?), not a model"),
    KIND("\x1f\x8b", false, "gzip-compressed data (decompress it first)"),
    KIND("\x28\xb5\x2f\xfd", false, "Zstandard-compressed data (decompress it first)"),
    KIND("PK\x03\x04", false, "a ZIP archive (a PyTorch checkpoint?), not a GGUF model"),
    KIND("lmgg", false, "a pre-GGUF ggml file: convert it to GGUF with llama.cpp"),
    KIND("fmgg", false, "a pre-GGUF ggmf file: convert it to GGUF with llama.cpp"),
    KIND("tjgg", false, "a pre-GGUF ggjt file: convert it to GGUF with llama.cpp"),
};

static bool printable(uint8_t c) { return c >= 0x20 && c < 0x7f; }
static bool space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

static bool starts_with(const uint8_t *p, size_t n, const sniff_kind *k) {
    if (n < k->len) return false;
    for (size_t i = 0; i < k->len; i++) {
        uint8_t c = k->text ? lower(p[i]) : p[i];
        if (c != (uint8_t)k->start[i]) return false;
    }
    return true;
}

/* Text: every byte seen is printable ASCII, whitespace or part of a UTF-8 sequence. */
static bool looks_like_text(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!printable(p[i]) && !space(p[i]) && p[i] < 0x80) return false;
    return n >= 4;
}

/* The leading printable ASCII of p (spaces kept, other whitespace ends it), cut with "...". */
static void quote(const uint8_t *p, size_t n, char *q, size_t cap) {
    size_t k = 0;
    while (k < n && k < SNIFF_QUOTE_MAX && k + 4 < cap && printable(p[k])) {
        q[k] = (char)p[k];
        k++;
    }
    if (k < n && k == SNIFF_QUOTE_MAX && printable(p[k]) && k + 4 <= cap) {
        memcpy(q + k, "...", 3);
        k += 3;
    }
    q[k] = '\0';
}

const char *sm_sniff_describe(const uint8_t *p, size_t n, char *buf, size_t cap) {
    if (!buf || cap == 0) return buf;
    buf[0] = '\0';
    if (!p || n == 0) return buf;
    if (n > SNIFF_MAX_BYTES) n = SNIFF_MAX_BYTES;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (!kinds[k].text && starts_with(p, n, &kinds[k])) {
            snprintf(buf, cap, "%s", kinds[k].what);
            return buf;
        }
    }
    if (n >= 10 && p[8] == '{' && p[9] == '"' && p[5] == 0 && p[6] == 0 && p[7] == 0) {
        snprintf(buf, cap, "a safetensors checkpoint, not GGUF: convert it with llama.cpp");
        return buf;
    }
    size_t skip = n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
    while (skip < n && space(p[skip])) skip++;
    char q[SNIFF_QUOTE_MAX + 4];
    quote(p + skip, n - skip, q, sizeof q);
    if (q[0] == '\0') return buf;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (kinds[k].text && starts_with(p + skip, n - skip, &kinds[k])) {
            snprintf(buf, cap, "it starts with '%s' (%s)", q, kinds[k].what);
            return buf;
        }
    }
    if (looks_like_text(p, n)) snprintf(buf, cap, "it starts with '%s' (text, not a model)", q);
    return buf;
}
