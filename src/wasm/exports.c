/*
 * exports.c — the WebAssembly boundary: EMSCRIPTEN_KEEPALIVE shims that marshal, nothing more.
 *
 * JS passes plain numbers and pointers into WASM memory. Constructors return a handle (0 on
 * failure) and leave the error in a per-module slot read with sm_js_error_code/_msg; JS turns it
 * into an exception. Model facts cross as a JSON string so the JS side needs no struct offsets.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sm.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#else
#define EMSCRIPTEN_KEEPALIVE
#endif

/* Prototypes: these are exported to JS only, not declared in sm.h. */
void *sm_js_alloc(size_t size);
void sm_js_free(void *p);
int32_t sm_js_error_code(void);
const char *sm_js_error_msg(void);
sm_model *sm_js_model_load(const void *data, size_t size);
const char *sm_js_model_info(const sm_model *m);
sm_session *sm_js_session_new(sm_model *m, int32_t n_ctx, int32_t n_batch, int32_t n_threads,
                              float temperature, double seed, int32_t ignore_eos);

static sm_error last_error;

/* Model bytes are handed over as one block aligned for every tensor type (GGUF aligns to 32). */
EMSCRIPTEN_KEEPALIVE void *sm_js_alloc(size_t size) {
    return aligned_alloc(64, (size + 63) / 64 * 64);
}

EMSCRIPTEN_KEEPALIVE void sm_js_free(void *p) { free(p); }

EMSCRIPTEN_KEEPALIVE int32_t sm_js_error_code(void) { return last_error.code; }

EMSCRIPTEN_KEEPALIVE const char *sm_js_error_msg(void) { return last_error.msg; }

EMSCRIPTEN_KEEPALIVE sm_model *sm_js_model_load(const void *data, size_t size) {
    sm_model *m = NULL;
    sm_model_load_from_memory(data, size, NULL, &m, &last_error);
    return m;
}

EMSCRIPTEN_KEEPALIVE const char *sm_js_model_info(const sm_model *m) {
    static char json[1024];
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
    return json;
}

EMSCRIPTEN_KEEPALIVE sm_session *sm_js_session_new(sm_model *m, int32_t n_ctx, int32_t n_batch,
                                                   int32_t n_threads, float temperature, double seed,
                                                   int32_t ignore_eos) {
    sm_session_params p = sm_session_default_params();
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.n_threads = n_threads;
    p.temperature = temperature;
    p.seed = (uint64_t)seed;
    p.ignore_eos = ignore_eos;
    sm_session *s = NULL;
    sm_session_new(m, &p, &s, &last_error);
    return s;
}
