/*
 * smnd_emit.c — writes the SMND metadata JSON of a GGUF's key/values (docs/SMND.md §3.1), for
 * sm_smnd_from_gguf. Not a general JSON writer: it knows the [key, type, value] triples only.
 *
 * Floats are printed with enough digits to read back to the same bits (%.9g for f32, %.17g for
 * f64); integers past ±2^53 as strings; strings that are not valid UTF-8 as {"base64": ...};
 * numeric arrays as base64 of their packed little-endian payload, which is GGUF's own bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/smnd.h"
#include "util/error.h"

typedef struct ebuf {
    char *p;
    size_t n, cap;
    bool oom;
} ebuf;

static void put(ebuf *b, const void *s, size_t n) {
    if (b->oom || n == 0) return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void puts_(ebuf *b, const char *s) { put(b, s, strlen(s)); }

static void base64(ebuf *b, const uint8_t *s, uint64_t n) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    put(b, "\"", 1);
    for (uint64_t i = 0; i < n; i += 3) {
        const uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
                           (i + 2 < n ? s[i + 2] : 0);
        char q[4] = {abc[v >> 18], abc[(v >> 12) & 63], i + 1 < n ? abc[(v >> 6) & 63] : '=',
                     i + 2 < n ? abc[v & 63] : '='};
        put(b, q, 4);
    }
    put(b, "\"", 1);
}

/* Same rules as the parser's (smnd_json.c): no overlong forms, surrogates or values past U+10FFFF.
 */
static bool valid_utf8(const uint8_t *s, uint64_t n) {
    for (uint64_t i = 0; i < n;) {
        const uint8_t c = s[i];
        uint64_t len;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c < 0xC2) return false;
        if (c < 0xE0)
            len = 2;
        else if (c < 0xF0)
            len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c < 0xF5)
            len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return false;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return false;
        for (uint64_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
        i += len;
    }
    return true;
}

static void string(ebuf *b, const char *s, uint64_t n) {
    const uint8_t *u = (const uint8_t *)s;
    if (n == 0) {
        puts_(b, "\"\"");
        return;
    }
    if (!valid_utf8(u, n)) {
        puts_(b, "{\"base64\":");
        base64(b, u, n);
        put(b, "}", 1);
        return;
    }
    put(b, "\"", 1);
    uint64_t run = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') continue;
        put(b, s + run, (size_t)(i - run));
        char esc[8];
        if (u[i] == '"' || u[i] == '\\')
            snprintf(esc, sizeof esc, "\\%c", u[i]);
        else
            snprintf(esc, sizeof esc, "\\u%04x", u[i]);
        puts_(b, esc);
        run = i + 1;
    }
    put(b, s + run, (size_t)(n - run));
    put(b, "\"", 1);
}

/* A float with `digits` significant digits; the decimal point is '.' whatever the locale. */
static void number(ebuf *b, double v, int digits) {
    char s[40];
    if (isnan(v))
        snprintf(s, sizeof s, "\"NaN\"");
    else if (isinf(v))
        snprintf(s, sizeof s, "%s", v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        snprintf(s, sizeof s, "%.*g", digits, v);
    for (char *c = s; *c; c++)
        if (*c == ',') *c = '.';
    puts_(b, s);
}

static const char *const k_names[SM_GGUF_VTYPE_COUNT] = {
    [SM_GGUF_UINT8] = "u8",    [SM_GGUF_INT8] = "i8",    [SM_GGUF_UINT16] = "u16",
    [SM_GGUF_INT16] = "i16",   [SM_GGUF_UINT32] = "u32", [SM_GGUF_INT32] = "i32",
    [SM_GGUF_FLOAT32] = "f32", [SM_GGUF_BOOL] = "bool",  [SM_GGUF_STRING] = "str",
    [SM_GGUF_UINT64] = "u64",  [SM_GGUF_INT64] = "i64",  [SM_GGUF_FLOAT64] = "f64",
};

static void scalar(ebuf *b, const sm_gguf_kv *kv) {
    char s[32];
    const uint64_t exact = 1ull << 53;
    switch (kv->type) {
    case SM_GGUF_BOOL: puts_(b, kv->v.u64 ? "true" : "false"); return;
    case SM_GGUF_FLOAT32: number(b, kv->v.f64, 9); return;
    case SM_GGUF_FLOAT64: number(b, kv->v.f64, 17); return;
    case SM_GGUF_STRING: string(b, kv->v.str.ptr, kv->v.str.len); return;
    case SM_GGUF_INT8:
    case SM_GGUF_INT16:
    case SM_GGUF_INT32:
    case SM_GGUF_INT64: {
        const bool quote = kv->v.i64 > (int64_t)exact || kv->v.i64 < -(int64_t)exact;
        snprintf(s, sizeof s, quote ? "\"%lld\"" : "%lld", (long long)kv->v.i64);
        break;
    }
    default:
        snprintf(s, sizeof s, kv->v.u64 > exact ? "\"%llu\"" : "%llu",
                 (unsigned long long)kv->v.u64);
    }
    puts_(b, s);
}

static sm_status value(ebuf *b, const sm_gguf_kv *kv, const char *key, sm_error *err) {
    if (kv->type != SM_GGUF_ARRAY) {
        put(b, "\"", 1);
        puts_(b, k_names[kv->type]);
        puts_(b, "\",");
        scalar(b, kv);
        return SM_OK;
    }
    const sm_gguf_array *a = &kv->v.arr;
    if (a->type == SM_GGUF_ARRAY || a->type >= SM_GGUF_VTYPE_COUNT)
        return sm_err(err, SM_ERR_UNSUPPORTED,
                      "key '%s' is an array of arrays, which SMND cannot hold", key);
    put(b, "\"", 1);
    puts_(b, k_names[a->type]);
    puts_(b, "[]\",");
    if (a->type != SM_GGUF_STRING) {
        base64(b, a->data, a->n_bytes);
        return SM_OK;
    }
    sm_gguf_array_iter it;
    sm_gguf_str s;
    sm_gguf_array_iter_init(&it, a);
    put(b, "[", 1);
    for (uint64_t i = 0; sm_gguf_array_iter_next(&it, &s, NULL, NULL); i++) {
        if (i) put(b, ",", 1);
        string(b, s.ptr, s.len);
    }
    put(b, "]", 1);
    return SM_OK;
}

sm_status sm_smnd_meta_from_gguf(const sm_gguf *g, const char *provenance, size_t prov_len,
                                 char **json, size_t *len, sm_error *err) {
    if (!g || !json || !len)
        return sm_err(err, SM_ERR_INVALID_ARG, "sm_smnd_meta_from_gguf: NULL argument");
    *json = NULL;
    *len = 0;
    ebuf b = {0};
    puts_(&b, "{\"kv\":[");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const sm_gguf_kv *kv = &g->kv[i];
        char key[72];
        sm_gguf_str_show(key, sizeof key, kv->key);
        if (!valid_utf8((const uint8_t *)kv->key.ptr, kv->key.len)) {
            free(b.p);
            return sm_err(err, SM_ERR_UNSUPPORTED,
                          "key '%s' is not valid UTF-8, which SMND keys must be", key);
        }
        puts_(&b, i ? ",\n[" : "\n[");
        string(&b, kv->key.ptr, kv->key.len);
        put(&b, ",", 1);
        sm_status st = value(&b, kv, key, err);
        if (st) {
            free(b.p);
            return st;
        }
        put(&b, "]", 1);
    }
    puts_(&b, g->n_kv ? "\n]" : "]");
    if (provenance && prov_len) {
        puts_(&b, ",\n\"provenance\":");
        put(&b, provenance, prov_len);
    }
    puts_(&b, "}\n");
    put(&b, "", 1);
    if (b.oom) {
        free(b.p);
        return sm_err(err, SM_ERR_NOMEM, "out of memory writing SMND metadata");
    }
    *json = b.p;
    *len = b.n - 1;
    return SM_OK;
}
