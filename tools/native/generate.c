/*
 * generate.c — the native driver: `smallmind-native generate` with the same flags and JSON as the
 * JS command line, so native and WASM builds can be compared token for token and logit for logit.
 *
 *   smallmind-native generate --model FILE --prompt-tokens 1,2,3 [--max-tokens N] [--threads N]
 *                    [--temperature T] [--seed S] [--ignore-eos] [--ctx N] [--batch N]
 *                    [--logits-out FILE]   (raw f32 logits of every step, n_vocab per step)
 *                    [--kv-type f16|f32]   (KV cache elements; default f16)
 *
 * This is a development tool: it reads the whole file into an aligned buffer and calls the
 * memory loader, the same path the WASM build takes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm.h"

typedef struct options {
    const char *model, *prompt, *logits_out;
    int max_tokens, threads, n_ctx, n_batch, ignore_eos, kv_type;
    float temperature;
    unsigned long long seed;
} options;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_args(int argc, char **argv, options *o) {
    *o = (options){.max_tokens = 32, .threads = 1, .seed = 0x5EED};
    if (argc < 2 || strcmp(argv[1], "generate") != 0) return -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--ignore-eos")) { o->ignore_eos = 1; continue; }
        if (!strcmp(a, "--json")) continue; /* JSON is the only output format */
        if (!v) return -1;
        i++;
        if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--prompt-tokens")) o->prompt = v;
        else if (!strcmp(a, "--logits-out")) o->logits_out = v;
        else if (!strcmp(a, "--max-tokens")) o->max_tokens = atoi(v);
        else if (!strcmp(a, "--threads")) o->threads = atoi(v);
        else if (!strcmp(a, "--ctx")) o->n_ctx = atoi(v);
        else if (!strcmp(a, "--batch")) o->n_batch = atoi(v);
        else if (!strcmp(a, "--temperature")) o->temperature = strtof(v, NULL);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--kv-type")) o->kv_type = !strcmp(v, "f32") ? SM_KV_F32 : !strcmp(v, "f16") ? SM_KV_F16 : -1;
        else return -1;
    }
    return o->model && o->prompt ? 0 : -1;
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = aligned_alloc(64, ((size_t)n + 63) / 64 * 64))) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
            *size = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static int parse_tokens(const char *s, int32_t *toks, int max) {
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) return -1;
        toks[n++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static int run(const options *o, sm_model *model) {
    static int32_t prompt[65536];
    int n_prompt = parse_tokens(o->prompt, prompt, 65536);
    if (n_prompt <= 0) { fprintf(stderr, "error: --prompt-tokens must be a comma-separated list of ids\n"); return 2; }
    sm_session_params p = sm_session_default_params();
    p.n_threads = o->threads; p.n_ctx = o->n_ctx; p.n_batch = o->n_batch;
    p.temperature = o->temperature; p.seed = o->seed; p.ignore_eos = o->ignore_eos;
    p.kv_type = o->kv_type;
    sm_session *s = NULL;
    sm_error err;
    if (sm_session_new(model, &p, &s, &err) != SM_OK) { fprintf(stderr, "error: %s\n", err.msg); return 1; }
    sm_model_info info;
    sm_model_get_info(model, &info);
    FILE *lf = o->logits_out ? fopen(o->logits_out, "wb") : NULL;
    double t0 = now_ms();
    sm_status st = sm_session_decode(s, prompt, n_prompt);
    double t1 = now_ms();
    int32_t *out = malloc(sizeof(int32_t) * (size_t)(o->max_tokens > 0 ? o->max_tokens : 1));
    int n_out = 0;
    while (st == SM_OK && n_out < o->max_tokens) {
        if (lf) fwrite(sm_session_logits(s), sizeof(float), (size_t)info.n_vocab, lf);
        int32_t tok;
        st = sm_session_step(s, &tok);
        if (st == SM_OK) out[n_out++] = tok;
    }
    double t2 = now_ms();
    if (lf) fclose(lf);
    if (st < 0) { fprintf(stderr, "error: %s: %s\n", sm_status_name(st), sm_session_last_error(s)); return 1; }
    printf("{\"prompt_tokens\":[");
    for (int i = 0; i < n_prompt; i++) printf("%s%d", i ? "," : "", prompt[i]);
    printf("],\"tokens\":[");
    for (int i = 0; i < n_out; i++) printf("%s%d", i ? "," : "", out[i]);
    printf("],\"threads\":%d,\"engine\":\"native %s\",\"prefill_ms\":%.3f,\"decode_ms\":%.3f}\n",
           o->threads, sm_version(), t1 - t0, t2 - t1);
    free(out);
    sm_session_free(s);
    return 0;
}

int main(int argc, char **argv) {
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: %s generate --model FILE --prompt-tokens 1,2,3 [--max-tokens N] "
                        "[--threads N] [--temperature T] [--seed S] [--ignore-eos] [--ctx N] "
                        "[--batch N] [--logits-out FILE] [--kv-type f16|f32]\n", argv[0]);
        return 2;
    }
    size_t size = 0;
    void *data = read_file(o.model, &size);
    if (!data) { fprintf(stderr, "error: cannot read '%s': %s\n", o.model, strerror(errno)); return 1; }
    sm_model *model = NULL;
    sm_error err;
    if (sm_model_load_from_memory(data, size, NULL, &model, &err) != SM_OK) {
        fprintf(stderr, "error: %s: %s\n", sm_status_name(err.code), err.msg);
        free(data);
        return 1;
    }
    int rc = run(&o, model);
    sm_model_free(model);
    free(data);
    return rc;
}
