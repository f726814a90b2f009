/*
 * fuzz_gguf.c — libFuzzer target for the GGUF reader (src/io/gguf.c).
 *
 * Parses the input; on success walks every key/value (arrays fully, nested ones too) and reads the
 * first and last byte of every tensor, so ASan catches any view the parser let point outside the
 * input. It also traps when the reader breaks its contract (a failure without a message or with
 * *out not zeroed, a success whose views leave the buffer). Not a correctness test of the values:
 * tests/c/test_gguf.c does that. Build: cmake -DSM_FUZZ=ON with clang.
 */
#include <stddef.h>
#include <stdint.h>

#include "io/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink; /* keeps the reads from being optimised away */

static void expect(int cond) {
    if (!cond) __builtin_trap();
}

static int inside(const uint8_t *p, uint64_t n, const uint8_t *data, size_t size) {
    return p >= data && (size_t)(p - data) <= size && n <= size - (size_t)(p - data);
}

static void walk_array(const sm_gguf_array *arr, const uint8_t *data, size_t size) {
    sm_gguf_array_iter it;
    sm_gguf_str s;
    sm_gguf_array sub;
    const uint8_t *elem;
    uint64_t n = 0;
    expect(inside(arr->data, arr->n_bytes, data, size));
    sm_gguf_array_iter_init(&it, arr);
    while (sm_gguf_array_iter_next(&it, &s, &sub, &elem)) {
        n++;
        if (arr->type == SM_GGUF_STRING) {
            expect(inside((const uint8_t *)s.ptr, s.len, data, size));
            if (s.len) sink += (unsigned char)s.ptr[0] + (unsigned char)s.ptr[s.len - 1];
        } else if (arr->type == SM_GGUF_ARRAY) {
            walk_array(&sub, data, size);
        } else {
            sink += elem[0];
        }
    }
    expect(n == arr->n); /* the parser validated it all, so the walk must not end early */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sm_gguf g;
    sm_error err;
    sm_status st = sm_gguf_parse(data, size, &g, &err);
    if (st != SM_OK) {
        expect(st < 0 && err.code == st && err.msg[0] != '\0');
        expect(g.kv == NULL && g.tensors == NULL && g.n_kv == 0 && g.n_tensors == 0);
        return 0;
    }
    expect(g.data_offset <= size && g.alignment != 0);
    for (uint64_t i = 0; i < g.n_kv; i++) {
        const sm_gguf_kv *kv = &g.kv[i];
        expect(kv->key.len > 0 && inside((const uint8_t *)kv->key.ptr, kv->key.len, data, size));
        sink += (unsigned char)kv->key.ptr[kv->key.len - 1];
        if (kv->type == SM_GGUF_STRING) {
            expect(inside((const uint8_t *)kv->v.str.ptr, kv->v.str.len, data, size));
        } else if (kv->type == SM_GGUF_ARRAY) {
            walk_array(&kv->v.arr, data, size);
        }
    }
    expect(sm_gguf_find(&g, "general.alignment") != NULL || g.alignment == 32);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const sm_gguf_tensor *t = &g.tensors[i];
        expect(t->n_bytes > 0 && inside(t->data, t->n_bytes, data, size));
        expect(t->offset % g.alignment == 0);
        sink += t->data[0] + t->data[t->n_bytes - 1];
    }
    expect(sm_gguf_find_tensor(&g, "") == NULL);
    sm_gguf_free(&g);
    return 0;
}
