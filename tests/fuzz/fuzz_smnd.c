/*
 * fuzz_smnd.c — libFuzzer target for the SMND reader, its JSON metadata parser, the writer and the
 * loader over SMND (src/io/smnd*.c, docs/SMND.md).
 *
 * CRCs would stop random bytes at the first check, so the input is used three ways by its first
 * byte: '{' — the bytes are metadata JSON: parsed as version 1 and 2; what parses is written back
 * by the emitter and must parse to the same key/values. "GGUF" — converted to SMND with
 * sm_smnd_from_gguf; the result must parse, keep every tensor's bytes, and load exactly when the
 * GGUF loads. Anything else — an SMND file, parsed as is, then again with every CRC it frames
 * repaired, so the fuzzer reaches the metadata, the records and the model loader. Traps when a
 * contract breaks: an error without a printable message, a tensor outside the buffer or not
 * 32-byte aligned, a probe that refuses a file the loader accepts, a round trip that changes.
 * Build: cmake -DSM_FUZZ=ON with clang.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/smnd.h"
#include "sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect(int cond) {
    if (!cond) __builtin_trap();
}

/* An error has a message; the SMND reader's and writer's are printable ASCII (names from the file
 * are shown sanitized). Messages of the layers above (a tokenizer naming an unknown model) are
 * theirs to word. */
static void expect_error(sm_status st, const sm_error *e, int printable) {
    if (st == SM_OK) return;
    expect(st < 0 && e->code == st && e->msg[0] != '\0');
    for (const char *m = e->msg; printable && *m; m++)
        expect((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

static int same_value(const sm_gguf_kv *a, const sm_gguf_kv *b) {
    if (a->type != b->type || a->key.len != b->key.len ||
        memcmp(a->key.ptr, b->key.ptr, (size_t)a->key.len))
        return 0;
    if (a->type == SM_GGUF_STRING)
        return a->v.str.len == b->v.str.len &&
               !memcmp(a->v.str.ptr, b->v.str.ptr, (size_t)a->v.str.len);
    if (a->type == SM_GGUF_ARRAY)
        return a->v.arr.type == b->v.arr.type && a->v.arr.n == b->v.arr.n &&
               a->v.arr.n_bytes == b->v.arr.n_bytes &&
               (!a->v.arr.n_bytes ||
                !memcmp(a->v.arr.data, b->v.arr.data, (size_t)a->v.arr.n_bytes));
    if (a->type == SM_GGUF_FLOAT32 || a->type == SM_GGUF_FLOAT64)
        return (isnan(a->v.f64) && isnan(b->v.f64)) ||
               !memcmp(&a->v.f64, &b->v.f64, sizeof(double));
    return a->v.u64 == b->v.u64;
}

static void json_mode(const uint8_t *data, size_t size) {
    for (uint32_t version = 1; version <= 2; version++) {
        sm_gguf g;
        sm_smnd_meta meta;
        sm_error e;
        sm_status st = sm_smnd_meta_parse((const char *)data, size, version, &g, &meta, &e);
        expect_error(st, &e, 1);
        if (st != SM_OK) continue;
        char *json = NULL;
        size_t len = 0;
        if (sm_smnd_meta_from_gguf(&g, NULL, 0, &json, &len, &e) == SM_OK) {
            /* the emitter leaves "tensor_count" to the writer: put it in by hand */
            const size_t n = len + 32;
            char *doc = malloc(n);
            int k = snprintf(doc, n, "{\"tensor_count\":%llu,%s",
                             (unsigned long long)meta.tensor_count, json + 1);
            sm_gguf h;
            sm_smnd_meta meta2;
            expect(sm_smnd_meta_parse(doc, (size_t)k, 2, &h, &meta2, &e) == SM_OK);
            expect(h.n_kv == g.n_kv && meta2.tensor_count == meta.tensor_count);
            for (uint64_t i = 0; i < g.n_kv; i++) expect(same_value(&g.kv[i], &h.kv[i]));
            sm_gguf_free(&h);
            free(doc);
        }
        free(json);
        sm_gguf_free(&g);
    }
}

typedef struct sink {
    uint8_t *p;
    size_t n, cap;
} sink;

static sm_status put(void *user, const void *d, size_t len) {
    sink *s = user;
    if (s->n + len > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->n + len) cap *= 2;
        uint8_t *q = realloc(s->p, cap);
        if (!q) return SM_ERR_NOMEM;
        s->p = q, s->cap = cap;
    }
    memcpy(s->p + s->n, d, len);
    s->n += len;
    return SM_OK;
}

/* Parses, loads and probes an SMND file in a buffer of exactly its size. */
static void check_file(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    if (size) memcpy(buf, data, size);
    sm_gguf g;
    sm_error e;
    sm_status st = sm_smnd_parse(buf, size, &g, &e);
    expect_error(st, &e, 1);
    if (st == SM_OK) {
        for (uint64_t i = 0; i < g.n_tensors; i++) {
            const sm_gguf_tensor *t = &g.tensors[i];
            expect(t->data >= buf && t->n_bytes <= size &&
                   (size_t)(t->data - buf) <= size - t->n_bytes);
            expect((size_t)(t->data - buf) % SM_SMND_ALIGN == 0);
        }
        sm_gguf_free(&g);
    }
    sm_model *m = NULL;
    st = sm_model_load_from_memory(buf, size, NULL, &m, &e);
    expect_error(st, &e, 0);
    if (st == SM_OK) {
        sm_model_probe p;
        expect(sm_model_probe_header(buf, size, size, &p, &e) == SM_OK && p.complete);
        sm_model_free(m);
    }
    sm_tokenizer *t = NULL;
    if (sm_tokenizer_load_from_memory(buf, size, &t, &e) == SM_OK) sm_tokenizer_free(t);
    free(buf);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Writes the CRC every part of the file frames, as far as the framing goes. */
static void repair(uint8_t *f, size_t size) {
    if (size < 24) return;
    const uint64_t meta = le32(f + 16);
    if (24 + meta > size) return;
    put32(f + 20 + meta, sm_crc32(0, f + 16, 4 + (size_t)meta));
    size_t pos = 24 + (size_t)meta;
    while (size - pos >= 4) {
        const size_t at = pos;
        const uint32_t name_len = le32(f + pos);
        if (name_len == 0 || name_len > SM_SMND_MAX_NAME || size - pos < 4 + (size_t)name_len + 8)
            return;
        pos += 4 + name_len;
        const uint32_t rank = le32(f + pos + 4);
        pos += 8;
        if (rank < 1 || rank > 4 || size - pos < 8 * (size_t)rank + 8) return;
        pos += 8 * rank;
        uint64_t d = (uint64_t)le32(f + pos) | (uint64_t)le32(f + pos + 4) << 32;
        pos += 8;
        pos += (32 - pos % 32) % 32;
        if (pos > size || d > size - pos || size - pos - d < 4) return;
        pos += (size_t)d;
        put32(f + pos, sm_crc32(0, f + at, pos - at));
        pos += 4;
    }
}

static void gguf_mode(const uint8_t *data, size_t size) {
    sink s = {0};
    sm_error e;
    sm_status st = sm_smnd_from_gguf(data, size, 0, "{}", 2, put, &s, &e);
    expect_error(st, &e, 0); /* GGUF parser messages are gguf.c's */
    if (st == SM_OK) {
        sm_gguf a, b;
        expect(sm_gguf_parse(data, size, &a, NULL) == SM_OK);
        expect(sm_smnd_parse(s.p, s.n, &b, &e) == SM_OK);
        expect(a.n_kv == b.n_kv && a.n_tensors == b.n_tensors);
        for (uint64_t i = 0; i < a.n_kv; i++) expect(same_value(&a.kv[i], &b.kv[i]));
        for (uint64_t i = 0; i < a.n_tensors; i++)
            expect(a.tensors[i].n_bytes == b.tensors[i].n_bytes &&
                   !memcmp(a.tensors[i].data, b.tensors[i].data, (size_t)a.tensors[i].n_bytes));
        sm_gguf_free(&a);
        sm_gguf_free(&b);
        sm_model *ma = NULL, *mb = NULL;
        const sm_status la = sm_model_load_from_memory(data, size, NULL, &ma, NULL);
        const sm_status lb = sm_model_load_from_memory(s.p, s.n, NULL, &mb, NULL);
        expect((la == SM_OK) == (lb == SM_OK));
        sm_model_free(ma);
        sm_model_free(mb);
        check_file(s.p, s.n);
    }
    free(s.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0 && data[0] == '{') {
        json_mode(data, size);
    } else if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        gguf_mode(data, size);
    } else {
        check_file(data, size);
        uint8_t *f = malloc(size ? size : 1);
        if (size) memcpy(f, data, size);
        repair(f, size);
        check_file(f, size);
        free(f);
    }
    return 0;
}
