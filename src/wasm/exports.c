/*
 * exports.c — the WebAssembly boundary: EMSCRIPTEN_KEEPALIVE shims that marshal, nothing more.
 *
 * JS passes plain numbers and pointers into WASM memory. Constructors return a handle (0 on
 * failure) and leave the error in a per-module slot read with sm_js_error_code/_msg; JS turns it
 * into an exception. Model facts cross as a JSON string so the JS side needs no struct offsets.
 * Calls that fill a caller's buffer return the length needed (JS retries with a bigger buffer when
 * that exceeds what it passed) or a negative sm_status.
 */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"
#include "kern/warmup.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

/* Prototypes: these are exported to JS only, not declared in sm.h. */
void *sm_js_alloc(size_t size);
void sm_js_free(void *p);
double sm_js_heap_used(void);
void sm_js_model_warmup(const sm_model *m, int32_t rounds);
int32_t sm_js_error_code(void);
const char *sm_js_error_msg(void);
sm_model *sm_js_model_load(const void *data, size_t size);
const char *sm_js_model_info(const sm_model *m);
const char *sm_js_model_estimate(const sm_model *m, int32_t n_ctx, int32_t n_batch, int32_t n_threads);
sm_session *sm_js_session_new(sm_model *m, const double *opts, int32_t n_opts, const int32_t *bias_ids,
                              const float *bias_values, int32_t n_bias);
int32_t sm_js_session_set_sampling(sm_session *s, const double *opts, int32_t n_opts,
                                   const int32_t *bias_ids, const float *bias_values, int32_t n_bias);
sm_tokenizer *sm_js_tokenizer_load(const void *data, size_t size);
const char *sm_js_tokenizer_info(const sm_tokenizer *tok);
int32_t sm_js_tokenize(const sm_tokenizer *tok, const char *text, size_t len, uint32_t flags,
                       int32_t *out, int32_t n_max);
int32_t sm_js_token_to_piece(const sm_tokenizer *tok, int32_t id, uint32_t flags, char *buf,
                             size_t cap);
sm_detokenizer *sm_js_detokenizer_new(const sm_tokenizer *tok, uint32_t flags);
int32_t sm_js_detokenizer_push(sm_detokenizer *d, int32_t id, char *buf, size_t cap);
int32_t sm_js_detokenizer_flush(sm_detokenizer *d, char *buf, size_t cap);
const char *sm_js_model_probe(const void *prefix, size_t len, double file_size);
sm_model *sm_js_model_load_parts(const void *const *parts, const size_t *sizes, int32_t n_parts);
double sm_js_crc32(uint32_t crc, const void *data, size_t len);
const char *sm_js_model_meta_str(const sm_model *m, const char *key, size_t *len_out);

static sm_error last_error;

/* Model bytes are handed over as one block aligned for every tensor type (GGUF aligns to 32). */
EMSCRIPTEN_KEEPALIVE void *sm_js_alloc(size_t size) {
    return aligned_alloc(64, (size + 63) / 64 * 64);
}

EMSCRIPTEN_KEEPALIVE void sm_js_free(void *p) { free(p); }

/* Bytes the allocator has handed out and not taken back: what sessions and models really hold,
 * unlike the WASM memory size, which only grows. */
EMSCRIPTEN_KEEPALIVE double sm_js_heap_used(void) { return (double)mallinfo().uordblks; }

/* The kernels of a loaded model's weight types run `rounds` times on tiny buffers so the engine's
 * JIT optimizes them before the first prompt (kern/warmup.c). */
EMSCRIPTEN_KEEPALIVE void sm_js_model_warmup(const sm_model *m, int32_t rounds) {
    sm_model_file_info fi;
    if (sm_model_get_file_info(m, &fi) != SM_OK) return;
    int32_t types[64];
    int n = 0;
    for (int32_t i = 0; i < fi.n_weight_types && n < 64; i++) types[n++] = fi.weight_types[i].type;
    sm_kern_warmup_types(types, n, rounds);
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_error_code(void) { return last_error.code; }

EMSCRIPTEN_KEEPALIVE const char *sm_js_error_msg(void) { return last_error.msg; }

EMSCRIPTEN_KEEPALIVE sm_model *sm_js_model_load(const void *data, size_t size) {
    sm_model *m = NULL;
    sm_model_load_from_memory(data, size, NULL, &m, &last_error);
    return m;
}

/* The memory a session with these parameters would need, as JSON (bytes). */
EMSCRIPTEN_KEEPALIVE const char *sm_js_model_estimate(const sm_model *m, int32_t n_ctx, int32_t n_batch,
                                                      int32_t n_threads) {
    static char json[256];
    sm_session_params p = sm_session_default_params();
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.n_threads = n_threads;
    sm_memory_estimate e;
    if (sm_model_estimate_memory(m, &p, &e) != SM_OK) return "{}";
    snprintf(json, sizeof json, "{\"weights\":%llu,\"kv_cache\":%llu,\"scratch\":%llu,\"total\":%llu}",
             (unsigned long long)e.weights, (unsigned long long)e.kv_cache,
             (unsigned long long)e.scratch, (unsigned long long)e.total);
    return json;
}

/* Appends the file facts to a model's JSON at dst[at] and closes the object: file_bytes, n_parts,
 * n_tensors, weight_types {"Q4_K": {"tensors": N, "bytes": N}, ...}, tokenizer_kind ("llama",
 * "gpt2", "bert", "char", or null without a tokenizer), has_chat_template. Names are the engine's
 * own static strings, so they need no escaping. */
static void model_file_json(const sm_model *m, char *dst, size_t at, size_t cap) {
    sm_model_file_info fi;
    if (at >= cap || sm_model_get_file_info(m, &fi) != SM_OK) return;
    at += (size_t)snprintf(dst + at, cap - at,
                           ",\"file_bytes\":%llu,\"n_parts\":%d,\"n_tensors\":%llu,"
                           "\"weight_types\":{",
                           (unsigned long long)fi.file_bytes, fi.n_parts,
                           (unsigned long long)fi.n_tensors);
    for (int32_t i = 0; i < fi.n_weight_types && at < cap; i++) {
        const sm_weight_type_info *w = &fi.weight_types[i];
        at += (size_t)snprintf(dst + at, cap - at, "%s\"%s\":{\"tensors\":%llu,\"bytes\":%llu}",
                               i ? "," : "", w->name, (unsigned long long)w->n_tensors,
                               (unsigned long long)w->n_bytes);
    }
    if (at >= cap) return;
    snprintf(dst + at, cap - at, "},\"tokenizer_kind\":%s%s%s,\"has_chat_template\":%s}",
             fi.tokenizer_kind[0] ? "\"" : "", fi.tokenizer_kind[0] ? fi.tokenizer_kind : "null",
             fi.tokenizer_kind[0] ? "\"" : "", fi.has_chat_template ? "true" : "false");
}

EMSCRIPTEN_KEEPALIVE const char *sm_js_model_info(const sm_model *m) {
    static char json[4096];
    sm_model_info info;
    if (sm_model_get_info(m, &info) != SM_OK) return "{}";
    /* general.name is file data: keep only printable ASCII other than quotes and backslashes */
    char name[128];
    size_t j = 0;
    for (const char *c = info.name; *c && j < sizeof name - 1; c++)
        if (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\') name[j++] = *c;
    name[j] = '\0';
    snprintf(json, sizeof json,
             "{\"arch\":\"%s\",\"name\":\"%s\",\"n_vocab\":%d,\"n_ctx_train\":%d,\"n_embd\":%d,"
             "\"n_layer\":%d,\"n_head\":%d,\"n_head_kv\":%d,\"n_ff\":%d,\"bos_token\":%d,"
             "\"eos_token\":%d,\"n_params\":%llu,\"weight_bytes\":%llu}",
             info.arch, name, info.n_vocab, info.n_ctx_train, info.n_embd, info.n_layer, info.n_head,
             info.n_head_kv, info.n_ff, info.bos_token, info.eos_token,
             (unsigned long long)info.n_params, (unsigned long long)info.weight_bytes);
    model_file_json(m, json, strlen(json) - 1, sizeof json); /* in place of the final } */
    return json;
}

/* Session options cross as one array of numbers in this order (bindings/js/engine.js writes it);
 * NaN means "the default". */
enum {
    JS_OPT_N_CTX, JS_OPT_N_BATCH, JS_OPT_N_THREADS, JS_OPT_TEMPERATURE, JS_OPT_SEED, JS_OPT_IGNORE_EOS,
    JS_OPT_TOP_K, JS_OPT_TOP_P, JS_OPT_MIN_P, JS_OPT_REPEAT_PENALTY, JS_OPT_FREQUENCY_PENALTY,
    JS_OPT_PRESENCE_PENALTY, JS_OPT_PENALTY_LAST_N, JS_OPT_MEMORY_BUDGET,
    JS_OPT_KV_TYPE, /* SM_KV_F16 (1) or SM_KV_F32 (2) */
    JS_OPT_MIN_PARALLEL_WORK,
    JS_OPT_COUNT
};

/* Converts without undefined behaviour (WASM traps on out-of-range float-to-int conversions): a
 * value outside int32 becomes -1, which the session rejects as a negative size. */
static int32_t js_i32(double v) { return v >= -2147483648.0 && v <= 2147483647.0 ? (int32_t)v : -1; }

/* Unsigned 64-bit from JS: negatives become 1 (no budget fits), huge values saturate. */
static uint64_t js_u64(double v) { return v < 0 ? 1 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v; }

/* Session parameters from JS's number array and logit bias arrays (bias_ids/bias_values in WASM
 * memory, [n_bias] each; the session copies them). */
static sm_session_params params_from_js(const double *opts, int32_t n_opts, const int32_t *bias_ids,
                                        const float *bias_values, int32_t n_bias) {
    sm_session_params p = sm_session_default_params();
    double v[JS_OPT_COUNT];
    for (int i = 0; i < JS_OPT_COUNT; i++) v[i] = i < n_opts ? opts[i] : NAN;
#define JS_SET(field, idx, conv) if (!isnan(v[idx])) p.field = conv(v[idx])
    JS_SET(n_ctx, JS_OPT_N_CTX, js_i32);
    JS_SET(n_batch, JS_OPT_N_BATCH, js_i32);
    JS_SET(n_threads, JS_OPT_N_THREADS, js_i32);
    JS_SET(temperature, JS_OPT_TEMPERATURE, (float));
    JS_SET(seed, JS_OPT_SEED, js_u64);
    JS_SET(ignore_eos, JS_OPT_IGNORE_EOS, js_i32);
    JS_SET(top_k, JS_OPT_TOP_K, js_i32);
    JS_SET(top_p, JS_OPT_TOP_P, (float));
    JS_SET(min_p, JS_OPT_MIN_P, (float));
    JS_SET(repeat_penalty, JS_OPT_REPEAT_PENALTY, (float));
    JS_SET(frequency_penalty, JS_OPT_FREQUENCY_PENALTY, (float));
    JS_SET(presence_penalty, JS_OPT_PRESENCE_PENALTY, (float));
    JS_SET(penalty_last_n, JS_OPT_PENALTY_LAST_N, js_i32);
    JS_SET(memory_budget, JS_OPT_MEMORY_BUDGET, js_u64);
    JS_SET(kv_type, JS_OPT_KV_TYPE, js_i32);
    JS_SET(min_parallel_work, JS_OPT_MIN_PARALLEL_WORK, js_i32);
#undef JS_SET
    p.bias_ids = bias_ids;
    p.bias_values = bias_values;
    p.n_bias = n_bias;
    return p;
}

EMSCRIPTEN_KEEPALIVE sm_session *sm_js_session_new(sm_model *m, const double *opts, int32_t n_opts,
                                                   const int32_t *bias_ids, const float *bias_values,
                                                   int32_t n_bias) {
    sm_session_params p = params_from_js(opts, n_opts, bias_ids, bias_values, n_bias);
    sm_session *s = NULL;
    sm_session_new(m, &p, &s, &last_error);
    return s;
}

/* sm_session_set_sampling from the same arrays; the error text is in sm_session_last_error. */
EMSCRIPTEN_KEEPALIVE int32_t sm_js_session_set_sampling(sm_session *s, const double *opts, int32_t n_opts,
                                                        const int32_t *bias_ids, const float *bias_values,
                                                        int32_t n_bias) {
    sm_session_params p = params_from_js(opts, n_opts, bias_ids, bias_values, n_bias);
    return sm_session_set_sampling(s, &p);
}

/* Tokenizers. The file bytes must outlive the tokenizer (token texts are views into them). */
EMSCRIPTEN_KEEPALIVE sm_tokenizer *sm_js_tokenizer_load(const void *data, size_t size) {
    sm_tokenizer *t = NULL;
    sm_tokenizer_load_from_memory(data, size, &t, &last_error);
    return t;
}

/* Appends `s` as a JSON string body (quotes and backslashes escaped, control bytes as \u00XX). */
static size_t json_str(char *dst, size_t at, size_t cap, const char *s) {
    for (; s && *s && at + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') dst[at++] = '\\', dst[at++] = (char)c;
        else if (c < 0x20) at += (size_t)snprintf(dst + at, cap - at, "\\u%04x", c);
        else dst[at++] = (char)c;
    }
    dst[at] = '\0';
    return at;
}

EMSCRIPTEN_KEEPALIVE const char *sm_js_tokenizer_info(const sm_tokenizer *tok) {
    static char json[1024];
    char kind[64], pre[128], warning[512];
    sm_tokenizer_info i;
    if (sm_tokenizer_get_info(tok, &i) != SM_OK) return "{}";
    json_str(kind, 0, sizeof kind, i.kind);
    json_str(pre, 0, sizeof pre, i.pre);
    json_str(warning, 0, sizeof warning, i.warning);
    snprintf(json, sizeof json,
             "{\"kind\":\"%s\",\"pre\":\"%s\",\"warning\":\"%s\",\"n_tokens\":%d,\"bos\":%d,"
             "\"eos\":%d,\"eot\":%d,\"unk\":%d,\"pad\":%d,\"sep\":%d,\"add_bos\":%s,"
             "\"add_eos\":%s}",
             kind, pre, warning, i.n_tokens, i.bos, i.eos, i.eot, i.unk, i.pad, i.sep,
             i.add_bos ? "true" : "false", i.add_eos ? "true" : "false");
    return json;
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_tokenize(const sm_tokenizer *tok, const char *text, size_t len,
                                            uint32_t flags, int32_t *out, int32_t n_max) {
    int32_t n = 0;
    sm_status st = sm_tokenize(tok, text, len, flags, out, n_max, &n);
    return st < 0 ? st : n;
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_token_to_piece(const sm_tokenizer *tok, int32_t id,
                                                  uint32_t flags, char *buf, size_t cap) {
    size_t n = 0;
    sm_status st = sm_token_to_piece(tok, id, flags, buf, cap, &n);
    return st < 0 ? st : (int32_t)n;
}

EMSCRIPTEN_KEEPALIVE sm_detokenizer *sm_js_detokenizer_new(const sm_tokenizer *tok,
                                                           uint32_t flags) {
    sm_detokenizer *d = NULL;
    sm_status st = sm_detokenizer_new(tok, flags, &d);
    if (st != SM_OK) {
        last_error.code = st;
        snprintf(last_error.msg, sizeof last_error.msg, "cannot create a detokenizer: %s",
                 sm_status_name(st));
    }
    return d;
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_detokenizer_push(sm_detokenizer *d, int32_t id, char *buf,
                                                    size_t cap) {
    size_t n = 0;
    sm_status st = sm_detokenizer_push(d, id, buf, cap, &n);
    return st < 0 ? st : (int32_t)n;
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_detokenizer_flush(sm_detokenizer *d, char *buf, size_t cap) {
    size_t n = 0;
    sm_status st = sm_detokenizer_flush(d, buf, cap, &n);
    return st < 0 ? st : (int32_t)n;
}

/* ---- streaming downloads, split models, checksums, metadata --------------------------------- */

/* The header probe of a download's first `len` bytes (file_size 0, negative or NaN: unknown) as
 * JSON: {"complete":bool,"bytes_needed":N,"header_bytes":N,"arch":"...","split_count":N,
 * "split_no":N,"n_kv":N,"n_tensors":N}; on an error returns 0 (NULL) and leaves it in the error
 * slot, like the constructors. The string is static: read it before the next call. */
EMSCRIPTEN_KEEPALIVE const char *sm_js_model_probe(const void *prefix, size_t len,
                                                   double file_size) {
    static char json[512];
    /* converted without undefined behaviour: NaN and out-of-range values fail both tests */
    const uint64_t fs =
        file_size >= 1.0 && file_size < 18446744073709551616.0 ? (uint64_t)file_size : 0;
    sm_model_probe p;
    if (sm_model_probe_header(prefix, len, fs, &p, &last_error) != SM_OK) return NULL;
    char arch[2 * sizeof p.arch];
    json_str(arch, 0, sizeof arch, p.arch);
    snprintf(json, sizeof json,
             "{\"complete\":%s,\"bytes_needed\":%llu,\"header_bytes\":%llu,\"arch\":\"%s\","
             "\"split_count\":%d,\"split_no\":%d,\"n_kv\":%llu,\"n_tensors\":%llu}",
             p.complete ? "true" : "false", (unsigned long long)p.bytes_needed,
             (unsigned long long)p.header_bytes, arch, p.split_count, p.split_no,
             (unsigned long long)p.n_kv, (unsigned long long)p.n_tensors);
    return json;
}

/* A gguf-split model: `parts` and `sizes` are arrays of n_parts pointers and byte counts in WASM
 * memory (u32 each in wasm32), parts in order. The parts must outlive the model. 0 on failure. */
EMSCRIPTEN_KEEPALIVE sm_model *sm_js_model_load_parts(const void *const *parts,
                                                      const size_t *sizes, int32_t n_parts) {
    sm_model *m = NULL;
    sm_model_load_from_parts(parts, sizes, n_parts, NULL, &m, &last_error);
    return m;
}

/* zlib's crc32 continuing `crc` (pass 0 to start). Returned as a double so JS sees the unsigned
 * value (a u32 result would arrive as a negative i32). */
EMSCRIPTEN_KEEPALIVE double sm_js_crc32(uint32_t crc, const void *data, size_t len) {
    return (double)sm_crc32(crc, data, len);
}

/* A metadata string (NUL-terminated key): returns a pointer to its UTF-8 bytes inside the model
 * file (not NUL-terminated) and writes their count to *len_out (a u32 in wasm32); returns 0 (and
 * *len_out = 0) when the metadata has no string under that key. */
EMSCRIPTEN_KEEPALIVE const char *sm_js_model_meta_str(const sm_model *m, const char *key,
                                                      size_t *len_out) {
    const char *p = NULL;
    size_t n = 0;
    sm_model_meta_str(m, key, &p, &n);
    if (len_out) *len_out = n;
    return p;
}

/* ---- inspection: the whole metadata and tensor table ------------------------------------------ */

#include <stdarg.h>

#include "model/model.h" /* the parsed GGUF behind a model (m->gguf); read-only here */

const char *sm_js_model_inspect(const sm_model *m);

/* A growable string for JSON of unbounded size; on allocation failure `ok` drops to 0. */
typedef struct js_buf {
    char *p;
    size_t len, cap;
    int ok;
} js_buf;

static void jb_reserve(js_buf *b, size_t extra) {
    if (!b->ok || b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->ok = 0;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void jb_printf(js_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jb_printf(js_buf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof tmp) n = (int)sizeof tmp - 1; /* only short numbers are printed */
    jb_reserve(b, (size_t)n);
    if (!b->ok) return;
    memcpy(b->p + b->len, tmp, (size_t)n);
    b->len += (size_t)n;
    b->p[b->len] = '\0';
}

/* A JSON string of at most `max` bytes of s (bytes as the file has them; quotes, backslashes and
 * control bytes escaped). Sets *cut when s was longer. */
static void jb_str(js_buf *b, sm_gguf_str s, uint64_t max, int *cut) {
    uint64_t n = s.len < max ? s.len : max;
    if (cut) *cut = s.len > max;
    jb_reserve(b, (size_t)n * 6 + 2);
    if (!b->ok) return;
    char *d = b->p + b->len;
    *d++ = '"';
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') *d++ = '\\', *d++ = (char)c;
        else if (c < 0x20) d += snprintf(d, 7, "\\u%04x", c);
        else *d++ = (char)c;
    }
    *d++ = '"';
    *d = '\0';
    b->len = (size_t)(d - b->p);
}

static void jb_cstr(js_buf *b, const char *s) { jb_str(b, (sm_gguf_str){s, strlen(s)}, UINT64_MAX, NULL); }

/* One fixed-size element (or scalar widened by the reader) as a JSON value. */
static void jb_scalar(js_buf *b, sm_gguf_vtype t, const uint8_t *e) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
    uint64_t u64; int64_t i64; double f64;
    switch (t) {
    case SM_GGUF_UINT8: memcpy(&u8, e, 1); jb_printf(b, "%u", u8); return;
    case SM_GGUF_INT8: memcpy(&i8, e, 1); jb_printf(b, "%d", i8); return;
    case SM_GGUF_UINT16: memcpy(&u16, e, 2); jb_printf(b, "%u", u16); return;
    case SM_GGUF_INT16: memcpy(&i16, e, 2); jb_printf(b, "%d", i16); return;
    case SM_GGUF_UINT32: memcpy(&u32, e, 4); jb_printf(b, "%u", u32); return;
    case SM_GGUF_INT32: memcpy(&i32, e, 4); jb_printf(b, "%d", i32); return;
    case SM_GGUF_UINT64: memcpy(&u64, e, 8); jb_printf(b, "%llu", (unsigned long long)u64); return;
    case SM_GGUF_INT64: memcpy(&i64, e, 8); jb_printf(b, "%lld", (long long)i64); return;
    case SM_GGUF_BOOL: jb_printf(b, "%s", e[0] ? "true" : "false"); return;
    case SM_GGUF_FLOAT32: memcpy(&f32, e, 4); f64 = f32; break;
    case SM_GGUF_FLOAT64: memcpy(&f64, e, 8); break;
    default: jb_printf(b, "null"); return;
    }
    if (isfinite(f64)) jb_printf(b, "%.9g", f64);
    else jb_printf(b, "null");
}

#define JS_INSPECT_STR_MAX 65536u /* bytes of a string value (chat templates fit) */
#define JS_INSPECT_ARR_HEAD 16u   /* elements shown of an array */
#define JS_INSPECT_ELEM_MAX 256u  /* bytes of a string inside an array */

static void jb_array(js_buf *b, const sm_gguf_array *a, int depth) {
    jb_printf(b, "{\"element_type\":\"%s\",\"length\":%llu,\"head\":[", sm_gguf_vtype_name(a->type),
              (unsigned long long)a->n);
    sm_gguf_array_iter it;
    sm_gguf_array_iter_init(&it, a);
    sm_gguf_str s;
    sm_gguf_array sub;
    const uint8_t *e = NULL;
    for (uint32_t i = 0; i < JS_INSPECT_ARR_HEAD && sm_gguf_array_iter_next(&it, &s, &sub, &e); i++) {
        if (i) jb_printf(b, ",");
        if (a->type == SM_GGUF_STRING) jb_str(b, s, JS_INSPECT_ELEM_MAX, NULL);
        else if (a->type == SM_GGUF_ARRAY) {
            if (depth < 4) jb_array(b, &sub, depth + 1);
            else jb_printf(b, "null");
        } else jb_scalar(b, a->type, e);
    }
    jb_printf(b, "]}");
}

/* The model file's GGUF header as JSON, in file order:
 *   {"version":3,"alignment":32,"data_offset":N,"n_parts":1,
 *    "metadata":[{"key":"...","type":"UINT32","value":...}, ...
 *                {"key":"...","type":"STRING","value":"...","truncated":true}   (over 64 KiB)
 *                {"key":"...","type":"ARRAY","value":{"element_type":"STRING","length":N,
 *                                                     "head":[first 16 elements]}}],
 *    "tensors":[{"name":"...","type":"Q4_K","shape":[ne0,ne1,...],"bytes":N,"offset":N}, ...]}
 * Floats that are not finite are null. The string is malloc'd: free it with sm_js_free. NULL when
 * m is NULL or memory runs out. */
EMSCRIPTEN_KEEPALIVE const char *sm_js_model_inspect(const sm_model *m) {
    if (!m) return NULL;
    const sm_gguf *g = &m->gguf;
    js_buf b = {NULL, 0, 0, 1};
    /* an SMND file (docs/SMND.md): its own version; data_offset is where its tensor records start */
    jb_printf(&b, "{\"format\":\"%s\",\"version\":%u,\"alignment\":%u,\"data_offset\":%llu,\"n_parts\":%d,"
              "\"metadata\":[", g->smnd_version ? "smnd" : "gguf", g->smnd_version ? g->smnd_version : g->version,
              g->alignment, (unsigned long long)g->data_offset, m->n_parts);
    for (uint64_t i = 0; i < g->n_kv && b.ok; i++) {
        const sm_gguf_kv *kv = &g->kv[i];
        jb_printf(&b, "%s{\"key\":", i ? "," : "");
        jb_str(&b, kv->key, JS_INSPECT_ELEM_MAX, NULL);
        jb_printf(&b, ",\"type\":\"%s\",\"value\":", sm_gguf_vtype_name(kv->type));
        int cut = 0;
        switch (kv->type) {
        case SM_GGUF_STRING: jb_str(&b, kv->v.str, JS_INSPECT_STR_MAX, &cut); break;
        case SM_GGUF_ARRAY: jb_array(&b, &kv->v.arr, 0); break;
        case SM_GGUF_BOOL: jb_printf(&b, "%s", kv->v.u64 ? "true" : "false"); break;
        case SM_GGUF_UINT8: case SM_GGUF_UINT16: case SM_GGUF_UINT32: case SM_GGUF_UINT64:
            jb_printf(&b, "%llu", (unsigned long long)kv->v.u64);
            break;
        case SM_GGUF_INT8: case SM_GGUF_INT16: case SM_GGUF_INT32: case SM_GGUF_INT64:
            jb_printf(&b, "%lld", (long long)kv->v.i64);
            break;
        case SM_GGUF_FLOAT32: case SM_GGUF_FLOAT64:
            if (isfinite(kv->v.f64)) jb_printf(&b, "%.9g", kv->v.f64);
            else jb_printf(&b, "null");
            break;
        default: jb_printf(&b, "null"); break;
        }
        jb_printf(&b, "%s}", cut ? ",\"truncated\":true" : "");
    }
    jb_printf(&b, "],\"tensors\":[");
    for (uint64_t i = 0; i < g->n_tensors && b.ok; i++) {
        const sm_gguf_tensor *t = &g->tensors[i];
        const sm_type_traits *tr = sm_kern_traits_ref(t->type);
        jb_printf(&b, "%s{\"name\":", i ? "," : "");
        jb_str(&b, t->name, JS_INSPECT_ELEM_MAX, NULL);
        jb_printf(&b, ",\"type\":");
        if (tr) jb_cstr(&b, tr->name);
        else jb_printf(&b, "\"type %d\"", t->type);
        jb_printf(&b, ",\"shape\":[");
        for (uint32_t d = 0; d < t->n_dims && d < SM_GGUF_MAX_DIMS; d++)
            jb_printf(&b, "%s%lld", d ? "," : "", (long long)t->ne[d]);
        jb_printf(&b, "],\"bytes\":%llu,\"offset\":%llu}", (unsigned long long)t->n_bytes,
                  (unsigned long long)t->offset);
    }
    jb_printf(&b, "]}");
    if (!b.ok) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- SMND writer and tensor types, for the converters (bindings/js/convert) ----------------- */

/* A writer whose sink collects the bytes of one call for JS to copy out: after
 * sm_js_smnd_writer_new, _write or _finish, sm_js_smnd_writer_out gives exactly the bytes that call
 * produced (the next call starts the buffer again). */
typedef struct js_smnd {
    sm_smnd_writer *w;
    uint8_t *out;
    size_t len, cap;
} js_smnd;

js_smnd *sm_js_smnd_writer_new(uint32_t version, const char *meta, size_t meta_len,
                               const char *names, const double *desc, int32_t n);
int32_t sm_js_smnd_writer_write(js_smnd *h, const void *data, size_t len);
int32_t sm_js_smnd_writer_finish(js_smnd *h);
const uint8_t *sm_js_smnd_writer_out(const js_smnd *h, size_t *len_out);
double sm_js_smnd_writer_info(const js_smnd *h, int32_t what);
const char *sm_js_smnd_writer_error(const js_smnd *h);
void sm_js_smnd_writer_free(js_smnd *h);
int32_t sm_js_type_convert(int32_t src_type, const void *src, int32_t dst_type, void *dst, double n);

static sm_status js_smnd_put(void *user, const void *data, size_t len) {
    js_smnd *h = user;
    if (len > h->cap - h->len) {
        size_t cap = h->cap ? h->cap : 65536;
        while (cap - h->len < len) {
            if (cap > SIZE_MAX / 2) return SM_ERR_NOMEM;
            cap *= 2;
        }
        uint8_t *p = realloc(h->out, cap);
        if (!p) return SM_ERR_NOMEM;
        h->out = p;
        h->cap = cap;
    }
    memcpy(h->out + h->len, data, len);
    h->len += len;
    return SM_OK;
}

/* A shape entry from JS: an integer in 1..2^53, else -1 (which the writer refuses). */
static int64_t js_dim(double v) { return v >= 1.0 && v <= 9007199254740992.0 && v == floor(v) ? (int64_t)v : -1; }

/* `names`: n NUL-terminated tensor names back to back; `desc`: n rows of 6 numbers (type, n_dims,
 * ne[0..3]). Returns 0 (error in the error slot) on failure. */
EMSCRIPTEN_KEEPALIVE js_smnd *sm_js_smnd_writer_new(uint32_t version, const char *meta, size_t meta_len,
                                                    const char *names, const double *desc, int32_t n) {
    js_smnd *h = calloc(1, sizeof *h);
    sm_smnd_tensor *ts = n > 0 ? calloc((size_t)n, sizeof *ts) : NULL;
    if (!h || (n > 0 && !ts) || n < 0) {
        free(h);
        free(ts);
        last_error.code = SM_ERR_NOMEM;
        snprintf(last_error.msg, sizeof last_error.msg, "out of memory for an SMND writer");
        return NULL;
    }
    for (int32_t i = 0; i < n; i++, names += strlen(names) + 1) {
        const double *d = desc + 6 * (size_t)i;
        ts[i] = (sm_smnd_tensor){.name = names, .type = js_i32(d[0]), .n_dims = js_i32(d[1]),
                                 .ne = {js_dim(d[2]), js_dim(d[3]), js_dim(d[4]), js_dim(d[5])}};
    }
    sm_status st = sm_smnd_writer_new(version, meta, meta_len, ts, (size_t)n, js_smnd_put, h, &h->w,
                                      &last_error);
    free(ts);
    if (st != SM_OK) {
        free(h->out);
        free(h);
        return NULL;
    }
    return h;
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_smnd_writer_write(js_smnd *h, const void *data, size_t len) {
    h->len = 0;
    return sm_smnd_writer_write(h->w, data, len);
}

EMSCRIPTEN_KEEPALIVE int32_t sm_js_smnd_writer_finish(js_smnd *h) {
    h->len = 0;
    return sm_smnd_writer_finish(h->w);
}

EMSCRIPTEN_KEEPALIVE const uint8_t *sm_js_smnd_writer_out(const js_smnd *h, size_t *len_out) {
    *len_out = h->len;
    return h->out;
}

/* what: 0 = the version being written, 1 = the finished file's size in bytes. */
EMSCRIPTEN_KEEPALIVE double sm_js_smnd_writer_info(const js_smnd *h, int32_t what) {
    return what == 0 ? (double)sm_smnd_writer_version(h->w) : (double)sm_smnd_writer_file_size(h->w);
}

EMSCRIPTEN_KEEPALIVE const char *sm_js_smnd_writer_error(const js_smnd *h) {
    return sm_smnd_writer_last_error(h->w);
}

EMSCRIPTEN_KEEPALIVE void sm_js_smnd_writer_free(js_smnd *h) {
    if (!h) return;
    sm_smnd_writer_free(h->w);
    free(h->out);
    free(h);
}

/* sm_type_convert with the element count as a double (JS numbers). */
EMSCRIPTEN_KEEPALIVE int32_t sm_js_type_convert(int32_t src_type, const void *src, int32_t dst_type,
                                                void *dst, double n) {
    if (!(n >= 0 && n <= 9007199254740992.0)) return SM_ERR_INVALID_ARG;
    return sm_type_convert(src_type, src, dst_type, dst, (int64_t)n);
}
