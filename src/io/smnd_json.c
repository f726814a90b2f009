/*
 * smnd_json.c — the SMND metadata parser: a small JSON reader for exactly the document
 * docs/SMND.md §3 describes, producing GGUF-shaped key/values (io/smnd.h).
 *
 * Not a general JSON library: it builds no tree. It walks the text twice with the same code: the
 * first pass validates everything and counts the key/values and the bytes their decoded keys,
 * strings and arrays take; the second fills one exactly sized allocation (the arena), so the views
 * handed out never move. Strings are checked as UTF-8 and decoded; \u escapes may not leave a
 * surrogate alone. Numeric arrays are base64 of GGUF's packed little-endian payload; string arrays
 * are stored as GGUF lays them out (u64 length + bytes), so sm_gguf_array_iter walks them.
 * Bounded: nesting depth 32 (inside members it ignores), no recursion elsewhere, every count and
 * size limited by the input's length.
 */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/smnd.h"
#include "util/error.h"

enum { JSON_MAX_DEPTH = 32, JSON_MAX_NUMBER = 127, SHOW = 64 };

typedef struct jp {
    const uint8_t *s;
    size_t n, pos;
    uint32_t version;
    bool fill;      /* second pass: write the arena and the key/value table */
    uint8_t *arena; /* [arena_cap] in the second pass */
    uint64_t arena_cap, arena_len;
    sm_gguf_kv *kv; /* [n_kv] in the second pass */
    uint64_t n_kv;
    sm_smnd_meta meta;
    char ctx[SHOW + 32]; /* "kv[3] 'llama.block_count'": where the walk is, for messages */
    sm_error *err;
} jp;

static sm_status jerr(jp *p, const char *fmt, ...) SM_PRINTF(2, 3);

static sm_status jerr(jp *p, const char *fmt, ...) {
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sm_err(p->err, SM_ERR_FORMAT, "SMND metadata: %s%s%s at byte %zu of the JSON", p->ctx,
                  p->ctx[0] ? ": " : "", what, p->pos);
}

static void skip_ws(jp *p) {
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
}

static int peek(jp *p) {
    skip_ws(p);
    return p->pos < p->n ? p->s[p->pos] : -1;
}

static sm_status expect(jp *p, char c) {
    if (peek(p) != (unsigned char)c) return jerr(p, "expected '%c'", c);
    p->pos++;
    return SM_OK;
}

/* Appends decoded bytes to the arena (counted in the first pass, written in the second). */
static sm_status put(jp *p, const void *b, size_t n) {
    if (p->fill) {
        if (n > p->arena_cap - p->arena_len) return jerr(p, "internal: arena overrun");
        if (n) memcpy(p->arena + p->arena_len, b, n);
    }
    p->arena_len += n;
    return SM_OK;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid (overlong forms,
 * surrogates, past U+10FFFF, truncated). */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    const uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0)
        len = 2;
    else if (c < 0xF0)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c < 0xF5)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

static int hex4(const uint8_t *s) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = s[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes a \uXXXX escape (a surrogate pair when it is one) starting at the backslash; writes the
 * UTF-8 bytes to out and returns their count, 0 on error. */
static size_t unicode_escape(jp *p, uint8_t out[4]) {
    if (p->n - p->pos < 6) return 0;
    int cp = hex4(p->s + p->pos + 2);
    if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return 0;
    p->pos += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->n - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') return 0;
        const int lo = hex4(p->s + p->pos + 2);
        if (lo < 0xDC00 || lo > 0xDFFF) return 0;
        p->pos += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp < 0x80) return out[0] = (uint8_t)cp, 1;
    if (cp < 0x800)
        return out[0] = (uint8_t)(0xC0 | cp >> 6), out[1] = (uint8_t)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 63));
        out[2] = (uint8_t)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 63));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 63));
    out[3] = (uint8_t)(0x80 | (cp & 63));
    return 4;
}

/* A decoded string's destination: the arena (store), and/or the first `cap` bytes into `copy`. */
typedef struct str_out {
    bool store;
    char *copy;
    size_t cap;
    uint64_t len; /* decoded length */
} str_out;

static sm_status emit(jp *p, str_out *o, const uint8_t *b, size_t n) {
    if (o->copy && o->len < o->cap) {
        size_t k = n < o->cap - o->len ? n : (size_t)(o->cap - o->len);
        memcpy(o->copy + o->len, b, k);
    }
    o->len += n;
    return o->store ? put(p, b, n) : SM_OK;
}

/* Reads the JSON string at the cursor (after optional whitespace), validating and decoding it. */
static sm_status read_string(jp *p, str_out *o) {
    sm_status st = expect(p, '"');
    o->len = 0;
    while (st == SM_OK) {
        size_t run = p->pos;
        while (run < p->n && p->s[run] >= 0x20 && p->s[run] < 0x80 && p->s[run] != '"' &&
               p->s[run] != '\\')
            run++;
        if (run > p->pos) {
            st = emit(p, o, p->s + p->pos, run - p->pos);
            p->pos = run;
            continue;
        }
        if (p->pos >= p->n) return jerr(p, "unterminated string");
        const uint8_t c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return SM_OK;
        }
        if (c < 0x20) return jerr(p, "control byte 0x%02x in a string (must be escaped)", c);
        if (c >= 0x80) {
            size_t len = utf8_seq(p->s + p->pos, p->n - p->pos);
            if (!len) return jerr(p, "invalid UTF-8 in a string");
            st = emit(p, o, p->s + p->pos, len);
            p->pos += len;
            continue;
        }
        /* a backslash */
        if (p->n - p->pos < 2) return jerr(p, "unterminated escape");
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *e = memchr(from, p->s[p->pos + 1], sizeof from - 1);
        uint8_t buf[4];
        size_t k = 1;
        if (e) {
            buf[0] = (uint8_t)to[e - from];
            p->pos += 2;
        } else if (p->s[p->pos + 1] == 'u') {
            if (!(k = unicode_escape(p, buf)))
                return jerr(p, "bad \\u escape (or a lone surrogate)");
        } else {
            return jerr(p, "unknown escape '\\%c'",
                        p->s[p->pos + 1] >= 0x20 && p->s[p->pos + 1] < 0x7f ? p->s[p->pos + 1]
                                                                            : '?');
        }
        st = emit(p, o, buf, k);
    }
    return st;
}

/* Scans a number's span at the cursor, checking JSON's grammar; *is_int when it has neither a
 * fraction nor an exponent. */
static sm_status scan_number(jp *p, size_t *start, size_t *len, bool *is_int) {
    skip_ws(p);
    size_t i = p->pos;
    const uint8_t *s = p->s;
    *is_int = true;
    if (i < p->n && s[i] == '-') i++;
    if (i < p->n && s[i] == '0')
        i++;
    else if (i < p->n && s[i] >= '1' && s[i] <= '9')
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    else
        return jerr(p, "expected a number");
    if (i < p->n && s[i] == '.') {
        *is_int = false;
        if (++i >= p->n || s[i] < '0' || s[i] > '9') return jerr(p, "bad number");
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        *is_int = false;
        if (++i < p->n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') return jerr(p, "bad number");
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    *start = p->pos;
    *len = i - p->pos;
    if (*len > JSON_MAX_NUMBER) return jerr(p, "number longer than %d characters", JSON_MAX_NUMBER);
    p->pos = i;
    return SM_OK;
}

/* An integer from digits (optionally signed) as magnitude + sign; false on overflow of 64 bits. */
static bool digits_u64(const uint8_t *s, size_t n, uint64_t *mag, bool *neg) {
    *neg = n > 0 && s[0] == '-';
    *mag = 0;
    for (size_t i = *neg; i < n; i++) {
        const uint64_t d = (uint64_t)(s[i] - '0');
        if (*mag > (UINT64_MAX - d) / 10) return false;
        *mag = *mag * 10 + d;
    }
    return true;
}

/* Reads an integer of a type: a JSON integer, or (allow_str: 64-bit types) a string of digits. */
static sm_status read_int(jp *p, bool is_signed, uint64_t max, bool allow_str, uint64_t *u,
                          int64_t *i) {
    size_t start, len;
    bool is_int = true;
    char digits[24];
    const uint8_t *src;
    sm_status st;
    if (allow_str && peek(p) == '"') {
        str_out o = {.copy = digits, .cap = sizeof digits};
        if ((st = read_string(p, &o))) return st;
        bool ok = o.len > 0 && o.len < sizeof digits;
        for (size_t k = 0; ok && k < o.len; k++)
            ok =
                (digits[k] >= '0' && digits[k] <= '9') || (k == 0 && digits[k] == '-' && o.len > 1);
        if (!ok) return jerr(p, "expected an integer or a string of decimal digits");
        src = (const uint8_t *)digits;
        len = (size_t)o.len;
    } else {
        if ((st = scan_number(p, &start, &len, &is_int))) return st;
        if (!is_int) return jerr(p, "expected an integer, not a fraction or exponent");
        src = p->s + start;
    }
    uint64_t mag;
    bool neg;
    if (!digits_u64(src, len, &mag, &neg)) return jerr(p, "integer out of range");
    if (!is_signed) {
        if ((neg && mag != 0) || mag > max) return jerr(p, "integer out of range");
        *u = mag;
        return SM_OK;
    }
    const uint64_t lim = neg ? max + 1 : max; /* max = 2^(bits-1) - 1 */
    if (mag > lim) return jerr(p, "integer out of range");
    *i = neg ? (mag == 0 ? 0 : -(int64_t)(mag - 1) - 1) : (int64_t)mag;
    return SM_OK;
}

/* A float: a JSON number rounded to the type, or "NaN" / "Infinity" / "-Infinity". */
static sm_status read_float(jp *p, bool is_f32, double *out) {
    sm_status st;
    if (peek(p) == '"') {
        char word[12];
        str_out o = {.copy = word, .cap = sizeof word - 1};
        if ((st = read_string(p, &o))) return st;
        word[o.len < sizeof word - 1 ? o.len : sizeof word - 1] = '\0';
        if (o.len == 3 && strcmp(word, "NaN") == 0)
            *out = NAN;
        else if (o.len == 8 && strcmp(word, "Infinity") == 0)
            *out = INFINITY;
        else if (o.len == 9 && strcmp(word, "-Infinity") == 0)
            *out = -INFINITY;
        else
            return jerr(p, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
        return SM_OK;
    }
    size_t start, len;
    bool is_int;
    if ((st = scan_number(p, &start, &len, &is_int))) return st;
    char buf[JSON_MAX_NUMBER + 1];
    memcpy(buf, p->s + start, len);
    buf[len] = '\0';
    /* strtod reads the locale's decimal point; JSON's is always '.' */
    const char point = localeconv()->decimal_point[0];
    if (point != '.' && point != '\0') {
        char *dot = strchr(buf, '.');
        if (dot) *dot = point;
    }
    char *end = NULL;
    const double v = is_f32 ? (double)strtof(buf, &end) : strtod(buf, &end);
    if (end != buf + len) return jerr(p, "unreadable number");
    if (isinf(v)) return jerr(p, "number out of range for %s", is_f32 ? "f32" : "f64");
    *out = v;
    return SM_OK;
}

static int b64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes a base64 JSON string (RFC 4648, padded, canonical) into the arena; *n_bytes = its
 * decoded length. */
static sm_status read_base64(jp *p, uint64_t *n_bytes) {
    sm_status st = expect(p, '"');
    if (st) return st;
    const uint8_t *q = memchr(p->s + p->pos, '"', p->n - p->pos);
    if (!q) return jerr(p, "unterminated string");
    const size_t len = (size_t)(q - (p->s + p->pos));
    if (len % 4) return jerr(p, "base64 length %zu is not a multiple of 4", len);
    *n_bytes = 0;
    for (size_t i = 0; i < len; i += 4) {
        const uint8_t *c = p->s + p->pos + i;
        const int pad = i + 4 == len ? (c[3] == '=') + (c[2] == '=' && c[3] == '=') : 0;
        int v[4] = {b64_value(c[0]), b64_value(c[1]), pad == 2 ? 0 : b64_value(c[2]),
                    pad ? 0 : b64_value(c[3])};
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) return p->pos += i, jerr(p, "not base64");
        if ((pad == 2 && (v[1] & 15)) || (pad == 1 && (v[2] & 3)))
            return p->pos += i, jerr(p, "non-canonical base64 padding");
        const uint8_t out[3] = {(uint8_t)(v[0] << 2 | v[1] >> 4),
                                (uint8_t)((v[1] & 15) << 4 | v[2] >> 2),
                                (uint8_t)((v[2] & 3) << 6 | v[3])};
        if ((st = put(p, out, (size_t)(3 - pad)))) return st;
        *n_bytes += (uint64_t)(3 - pad);
    }
    p->pos += len + 1;
    return SM_OK;
}

/* A GGUF string value: a JSON string, or {"base64": "..."} for bytes that are not UTF-8. Stored in
 * the arena (after an 8-byte length when `prefixed`, as elements of a string array are). */
static sm_status read_gguf_string(jp *p, bool prefixed, uint64_t *off, uint64_t *len) {
    sm_status st;
    const uint64_t len_at = p->arena_len;
    if (prefixed && (st = put(p, "\0\0\0\0\0\0\0\0", 8))) return st;
    *off = p->arena_len;
    if (peek(p) == '{') {
        char name[8];
        str_out o = {.copy = name, .cap = sizeof name};
        p->pos++;
        if ((st = read_string(p, &o))) return st;
        if (o.len != 6 || memcmp(name, "base64", 6) != 0)
            return jerr(p, "expected {\"base64\": ...}");
        if ((st = expect(p, ':')) || (st = read_base64(p, len)) || (st = expect(p, '}'))) return st;
    } else {
        str_out o = {.store = true};
        if ((st = read_string(p, &o))) return st;
        *len = o.len;
    }
    if (prefixed && p->fill)
        for (int b = 0; b < 8; b++) p->arena[len_at + (uint64_t)b] = (uint8_t)(*len >> (8 * b));
    return SM_OK;
}

static sm_status skip_value(jp *p, int depth) {
    if (depth > JSON_MAX_DEPTH) return jerr(p, "nested deeper than %d", JSON_MAX_DEPTH);
    const int c = peek(p);
    sm_status st = SM_OK;
    if (c == '{' || c == '[') {
        const char close = c == '{' ? '}' : ']';
        p->pos++;
        if (peek(p) == close) return p->pos++, SM_OK;
        for (;;) {
            if (c == '{') {
                str_out o = {0};
                if ((st = read_string(p, &o)) || (st = expect(p, ':'))) return st;
            }
            if ((st = skip_value(p, depth + 1))) return st;
            if (peek(p) == ',') {
                p->pos++;
                continue;
            }
            return expect(p, close);
        }
    }
    if (c == '"') {
        str_out o = {0};
        return read_string(p, &o);
    }
    static const char *const words[3] = {"true", "false", "null"};
    for (int w = 0; w < 3; w++) {
        const size_t k = strlen(words[w]);
        if (p->n - p->pos >= k && memcmp(p->s + p->pos, words[w], k) == 0)
            return p->pos += k, SM_OK;
    }
    size_t start, len;
    bool is_int;
    return scan_number(p, &start, &len, &is_int);
}

/* ---- key/values ---------------------------------------------------------------------------------
 */

/* The SMND type names, indexed by GGUF value type (STRING's is "str", ARRAY has none). */
static const char *const k_type_names[SM_GGUF_VTYPE_COUNT] = {
    [SM_GGUF_UINT8] = "u8",    [SM_GGUF_INT8] = "i8",    [SM_GGUF_UINT16] = "u16",
    [SM_GGUF_INT16] = "i16",   [SM_GGUF_UINT32] = "u32", [SM_GGUF_INT32] = "i32",
    [SM_GGUF_FLOAT32] = "f32", [SM_GGUF_BOOL] = "bool",  [SM_GGUF_STRING] = "str",
    [SM_GGUF_UINT64] = "u64",  [SM_GGUF_INT64] = "i64",  [SM_GGUF_FLOAT64] = "f64",
};

static const uint8_t k_elem_size[SM_GGUF_VTYPE_COUNT] = {
    [SM_GGUF_UINT8] = 1,  [SM_GGUF_INT8] = 1,  [SM_GGUF_UINT16] = 2,  [SM_GGUF_INT16] = 2,
    [SM_GGUF_UINT32] = 4, [SM_GGUF_INT32] = 4, [SM_GGUF_FLOAT32] = 4, [SM_GGUF_BOOL] = 1,
    [SM_GGUF_UINT64] = 8, [SM_GGUF_INT64] = 8, [SM_GGUF_FLOAT64] = 8,
};

/* "u32" → UINT32, "str[]" → STRING with *is_array; false when unknown. */
static bool type_from_name(const char *name, size_t len, sm_gguf_vtype *t, bool *is_array) {
    *is_array = len > 2 && name[len - 2] == '[' && name[len - 1] == ']';
    const size_t base = *is_array ? len - 2 : len;
    for (int i = 0; i < SM_GGUF_VTYPE_COUNT; i++) {
        if (k_type_names[i] && strlen(k_type_names[i]) == base &&
            memcmp(k_type_names[i], name, base) == 0) {
            *t = (sm_gguf_vtype)i;
            return true;
        }
    }
    return false;
}

static sm_status read_scalar(jp *p, sm_gguf_vtype t, sm_gguf_kv *kv) {
    static const uint64_t umax[SM_GGUF_VTYPE_COUNT] = {
        [SM_GGUF_UINT8] = UINT8_MAX,   [SM_GGUF_UINT16] = UINT16_MAX, [SM_GGUF_UINT32] = UINT32_MAX,
        [SM_GGUF_UINT64] = UINT64_MAX, [SM_GGUF_INT8] = INT8_MAX,     [SM_GGUF_INT16] = INT16_MAX,
        [SM_GGUF_INT32] = INT32_MAX,   [SM_GGUF_INT64] = INT64_MAX};
    const bool wide = t == SM_GGUF_UINT64 || t == SM_GGUF_INT64;
    switch (t) {
    case SM_GGUF_UINT8:
    case SM_GGUF_UINT16:
    case SM_GGUF_UINT32:
    case SM_GGUF_UINT64: return read_int(p, false, umax[t], wide, &kv->v.u64, NULL);
    case SM_GGUF_INT8:
    case SM_GGUF_INT16:
    case SM_GGUF_INT32:
    case SM_GGUF_INT64: return read_int(p, true, umax[t], wide, NULL, &kv->v.i64);
    case SM_GGUF_FLOAT32:
    case SM_GGUF_FLOAT64: return read_float(p, t == SM_GGUF_FLOAT32, &kv->v.f64);
    case SM_GGUF_BOOL: {
        const int c = peek(p);
        const size_t k = c == 't' ? 4 : 5;
        if ((c == 't' || c == 'f') && p->n - p->pos >= k &&
            memcmp(p->s + p->pos, c == 't' ? "true" : "false", k) == 0) {
            kv->v.u64 = c == 't';
            p->pos += k;
            return SM_OK;
        }
        return jerr(p, "expected true or false");
    }
    default: {
        uint64_t off = 0, len = 0;
        sm_status st = read_gguf_string(p, false, &off, &len);
        kv->v.str = (sm_gguf_str){.ptr = p->fill ? (const char *)p->arena + off : NULL, .len = len};
        return st;
    }
    }
}

static sm_status read_array(jp *p, sm_gguf_vtype t, sm_gguf_kv *kv) {
    const uint64_t off = p->arena_len;
    uint64_t n = 0, n_bytes = 0;
    sm_status st;
    if (t == SM_GGUF_STRING) {
        if ((st = expect(p, '['))) return st;
        if (peek(p) == ']')
            p->pos++;
        else
            for (;;) {
                uint64_t s_off, s_len;
                if ((st = read_gguf_string(p, true, &s_off, &s_len))) return st;
                n++;
                if (peek(p) == ',') {
                    p->pos++;
                    continue;
                }
                if ((st = expect(p, ']'))) return st;
                break;
            }
        n_bytes = p->arena_len - off;
    } else {
        if ((st = read_base64(p, &n_bytes))) return st;
        if (n_bytes % k_elem_size[t])
            return jerr(p, "%llu bytes of base64 data are not a whole number of %s elements",
                        (unsigned long long)n_bytes, k_type_names[t]);
        n = n_bytes / k_elem_size[t];
        if (t == SM_GGUF_BOOL && p->fill)
            for (uint64_t k = 0; k < n; k++)
                if (p->arena[off + k] > 1)
                    return jerr(p, "bool[] element %llu is not 0 or 1", (unsigned long long)k);
    }
    kv->v.arr = (sm_gguf_array){
        .type = t, .n = n, .n_bytes = n_bytes, .data = p->fill ? p->arena + off : NULL};
    return SM_OK;
}

/* Copies a name for messages: printable ASCII kept, other bytes '?', cut with "...". */
static void show(char *dst, size_t cap, const char *src, uint64_t len, uint64_t avail) {
    size_t k = 0;
    for (uint64_t i = 0; i < len && i < avail && k + 4 < cap; i++)
        dst[k++] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    if (k < len) memcpy(dst + k, "...", 3), k += 3;
    dst[k] = '\0';
}

static bool has_prefix(const char *s, uint64_t len, const char *prefix) {
    const size_t k = strlen(prefix);
    return len >= k && memcmp(s, prefix, k) == 0;
}

/* One [key, type, value] triple. */
static sm_status read_kv(jp *p) {
    sm_gguf_kv kv = {0};
    char key[SHOW], name[SHOW], type[8];
    const uint64_t key_off = p->arena_len;
    str_out ko = {.store = true, .copy = key, .cap = sizeof key};
    sm_status st = expect(p, '[');
    if (st == SM_OK) st = read_string(p, &ko);
    if (st) return st;
    show(name, sizeof name, key, ko.len, sizeof key);
    snprintf(p->ctx, sizeof p->ctx, "kv[%llu] '%s'", (unsigned long long)p->n_kv, name);
    if (ko.len == 0 || ko.len > SM_SMND_MAX_KEY)
        return jerr(p, "key length must be 1..%d", SM_SMND_MAX_KEY);
    const bool v2_key = has_prefix(key, ko.len, "tokenizer.") || has_prefix(key, ko.len, "optim.");
    if (v2_key && p->version == 1)
        return jerr(p, "tokenizer.* and optim.* keys need SMND version 2");
    p->meta.needs_v2 |= v2_key;
    str_out to = {.copy = type, .cap = sizeof type};
    if ((st = expect(p, ',')) || (st = read_string(p, &to)) || (st = expect(p, ','))) return st;
    bool is_array;
    if (to.len >= sizeof type || !type_from_name(type, (size_t)to.len, &kv.type, &is_array)) {
        show(name, sizeof name, type, to.len, sizeof type);
        return jerr(p, "unknown type '%s'", name);
    }
    st = is_array ? read_array(p, kv.type, &kv) : read_scalar(p, kv.type, &kv);
    if (st == SM_OK) st = expect(p, ']');
    if (st) return st;
    if (is_array) kv.type = SM_GGUF_ARRAY;
    if (p->fill) {
        kv.key = (sm_gguf_str){.ptr = (const char *)p->arena + key_off, .len = ko.len};
        p->kv[p->n_kv] = kv;
    }
    p->n_kv++;
    p->ctx[0] = '\0';
    return SM_OK;
}

static sm_status read_kv_list(jp *p) {
    sm_status st = expect(p, '[');
    if (st || peek(p) == ']') return st ? st : (p->pos++, SM_OK);
    for (;;) {
        if ((st = read_kv(p))) return st;
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        return expect(p, ']');
    }
}

/* One walk over the whole document. */
static sm_status walk(jp *p) {
    bool seen[3] = {false, false, false};
    static const char *const known[3] = {"tensor_count", "kv", "provenance"};
    sm_status st = expect(p, '{');
    if (st == SM_OK && peek(p) == '}')
        p->pos++;
    else
        while (st == SM_OK) {
            char name[16];
            str_out o = {.copy = name, .cap = sizeof name};
            if ((st = read_string(p, &o)) || (st = expect(p, ':'))) return st;
            int which = -1;
            for (int k = 0; k < 3; k++)
                if (o.len == strlen(known[k]) && memcmp(name, known[k], (size_t)o.len) == 0)
                    which = k;
            if (which >= 0 && seen[which])
                return jerr(p, "member '%s' appears twice", known[which]);
            if (which >= 0) seen[which] = true;
            if (which == 0) {
                uint64_t tc = 0;
                st = read_int(p, false, UINT32_MAX, false, &tc, NULL);
                p->meta.tensor_count = tc;
            } else if (which == 1) {
                st = read_kv_list(p);
            } else {
                if (which == 2 && peek(p) != '{') return jerr(p, "'provenance' must be an object");
                st = skip_value(p, 1);
            }
            if (st == SM_OK && peek(p) == ',') {
                p->pos++;
                continue;
            }
            if (st == SM_OK) st = expect(p, '}');
            break;
        }
    if (st) return st;
    if (peek(p) != -1) return jerr(p, "unexpected bytes after the JSON object");
    if (!seen[0] || !seen[1])
        return jerr(p, "missing member '%s'", seen[0] ? "kv" : "tensor_count");
    return SM_OK;
}

static int cmp_keys(const void *a, const void *b) {
    const sm_gguf_str *x = (const sm_gguf_str *)a, *y = (const sm_gguf_str *)b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return memcmp(x->ptr, y->ptr, (size_t)x->len);
}

static sm_status check_unique_keys(jp *p) {
    if (p->n_kv < 2) return SM_OK;
    sm_gguf_str *keys = malloc((size_t)p->n_kv * sizeof *keys);
    if (!keys) return sm_err(p->err, SM_ERR_NOMEM, "out of memory checking SMND metadata keys");
    for (uint64_t i = 0; i < p->n_kv; i++) keys[i] = p->kv[i].key;
    qsort(keys, (size_t)p->n_kv, sizeof *keys, cmp_keys);
    sm_status st = SM_OK;
    for (uint64_t i = 1; i < p->n_kv && st == SM_OK; i++) {
        if (cmp_keys(&keys[i - 1], &keys[i]) == 0) {
            char name[SHOW];
            show(name, sizeof name, keys[i].ptr, keys[i].len, keys[i].len);
            st = sm_err(p->err, SM_ERR_FORMAT, "SMND metadata: duplicate key '%s'", name);
        }
    }
    free(keys);
    return st;
}

sm_status sm_smnd_meta_parse(const char *json, size_t len, uint32_t version, sm_gguf *out,
                             sm_smnd_meta *meta, sm_error *err) {
    if (!out || !meta || (!json && len))
        return sm_err(err, SM_ERR_INVALID_ARG, "sm_smnd_meta_parse: NULL argument");
    memset(out, 0, sizeof *out);
    memset(meta, 0, sizeof *meta);
    jp p = {.s = (const uint8_t *)json, .n = len, .version = version, .err = err};
    sm_status st = walk(&p);
    if (st) return st;
    /* the second pass: the same walk over exactly sized storage */
    const uint64_t n_kv = p.n_kv, arena_len = p.arena_len;
    if (n_kv > SIZE_MAX / sizeof(sm_gguf_kv) || arena_len > SIZE_MAX)
        return sm_err(err, SM_ERR_NOMEM, "SMND metadata too large for this address space");
    p = (jp){.s = (const uint8_t *)json,
             .n = len,
             .version = version,
             .err = err,
             .fill = true,
             .arena_cap = arena_len};
    p.kv = n_kv ? calloc((size_t)n_kv, sizeof *p.kv) : NULL;
    p.arena = malloc(arena_len ? (size_t)arena_len : 1);
    if ((n_kv && !p.kv) || !p.arena) {
        free(p.kv);
        free(p.arena);
        return sm_err(err, SM_ERR_NOMEM, "out of memory for %llu bytes of SMND metadata",
                      (unsigned long long)arena_len);
    }
    st = walk(&p);
    if (st == SM_OK && (p.n_kv != n_kv || p.arena_len != arena_len))
        st = sm_err(err, SM_ERR_FORMAT, "SMND metadata: internal: passes disagree");
    if (st == SM_OK) st = check_unique_keys(&p);
    if (st) {
        free(p.kv);
        free(p.arena);
        return st;
    }
    out->kv = p.kv;
    out->n_kv = n_kv;
    out->owned = p.arena;
    out->alignment = SM_SMND_ALIGN;
    *meta = p.meta;
    return SM_OK;
}
