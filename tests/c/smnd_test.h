/*
 * smnd_test.h — helpers shared by the SMND tests (header-only, not part of the engine): a memory
 * sink for sm_smnd_writer, GGUF → SMND in memory, and a GGUF re-typed tensor by tensor (to make
 * F16 / Q8_0 / Q4_K ... models from gguf_build.h's F32 ones).
 */
#ifndef SM_TEST_SMND_TEST_H
#define SM_TEST_SMND_TEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_build.h"
#include "io/gguf.h"
#include "sm.h"

/* Collects a writer's output; fails with SM_ERR_NOMEM once `fail_after` bytes were taken (when
 * nonzero), to test sink errors. */
typedef struct mem_sink {
    gb_buf b;
    size_t fail_after;
    int calls;
} mem_sink;

static inline sm_status mem_write(void *user, const void *data, size_t len) {
    mem_sink *s = user;
    s->calls++;
    if (s->fail_after && s->b.n + len > s->fail_after) return SM_ERR_NOMEM;
    gb_put(&s->b, data, len);
    return SM_OK;
}

/* GGUF bytes → SMND bytes (malloc'd, exact size; NULL on failure with *st and err set). */
static inline uint8_t *smnd_from_gguf_mem(const uint8_t *gguf, size_t size, uint32_t version,
                                          size_t *out_size, sm_status *st, sm_error *err) {
    mem_sink s = {0};
    *st = sm_smnd_from_gguf(gguf, size, version, "{\"tool\":\"test\"}", 15, mem_write, &s, err);
    if (*st != SM_OK) {
        free(s.b.p);
        return NULL;
    }
    uint8_t *out = gb_xrealloc(NULL, s.b.n); /* exact size, so ASan sees reads past the end */
    memcpy(out, s.b.p, s.b.n);
    free(s.b.p);
    *out_size = s.b.n;
    return out;
}

/* A copy of a GGUF whose 2-D tensors are converted to `type` (1-D ones stay as they are): the
 * key/value section is copied byte for byte. Returns NULL when the file does not parse. */
static inline uint8_t *gguf_retype(const uint8_t *file, size_t size, int32_t type,
                                   size_t *out_size) {
    sm_gguf g;
    if (sm_gguf_parse(file, size, &g, NULL) != SM_OK || g.n_tensors == 0) return NULL;
    gguf_builder b;
    gb_init(&b);
    const size_t kv_end = (size_t)((const uint8_t *)g.tensors[0].name.ptr - file) - 8;
    gb_put(&b.kv, file + 24, kv_end - 24);
    b.n_kv = g.n_kv;
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const sm_gguf_tensor *t = &g.tensors[i];
        char name[96];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        const int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        const bool convert = t->n_dims == 2 && sm_type_bytes(type, t->ne[0]) != 0;
        const int32_t to = convert ? type : t->type;
        uint8_t *dst = gb_tensor_add(&b, name, to, t->n_dims, t->ne, NULL, sm_type_bytes(to, n));
        sm_type_convert(t->type, t->data, to, dst, n);
    }
    uint8_t *out = gb_finish(&b, out_size);
    gb_free(&b);
    sm_gguf_free(&g);
    return out;
}

static inline bool msg_has(const sm_error *e, const char *needle) {
    if (strstr(e->msg, needle)) return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", e->msg, needle);
    return false;
}

#endif
