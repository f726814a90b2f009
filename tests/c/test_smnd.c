/*
 * test_smnd.c — the SMND reader and writer (src/io/smnd*.c, docs/SMND.md) at the format level.
 *
 * GGUF → SMND keeps every key/value (type, value, order) and every tensor (name, type, shape,
 * bytes), with tensor data at 32-byte offsets; the writer streams in any piece sizes to the same
 * bytes; every truncated prefix and every flipped byte of a file fails cleanly (corruption inside a
 * record names the tensor); newer versions fail naming the version; version rules hold both ways;
 * writer misuse is refused; the header probe walks an SMND download. Model-level checks (logits,
 * tokenizer) are in test_smnd_model.c, the JSON parser's cases in test_smnd_json.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/smnd.h"
#include "kern/quant_ref.h"
#include "smnd_test.h"

/* Keys of every value type, awkward strings included, beside a small llama model. */
static void add_every_type(gguf_builder *b, void *ctx) {
    gb_kv_vocab(b, ctx);
    gb_kv_u8(b, "t.u8", 250);
    gb_kv_i8(b, "t.i8", -128);
    gb_kv_u16(b, "t.u16", 65535);
    gb_kv_i16(b, "t.i16", -32768);
    gb_kv_i32(b, "t.i32", INT32_MIN);
    gb_kv_u64(b, "t.u64.big", UINT64_MAX);
    gb_kv_u64(b, "t.u64.small", 12345);
    gb_kv_i64(b, "t.i64.big", INT64_MIN);
    gb_kv_i64(b, "t.i64.small", -7);
    gb_kv_f32(b, "t.f32.nan", NAN);
    gb_kv_f32(b, "t.f32.inf", -INFINITY);
    gb_kv_f32(b, "t.f32.negzero", -0.0f);
    gb_kv_f32(b, "t.f32.tiny", 1.4e-45f);
    gb_kv_f32(b, "t.f32.pi", 3.14159274f);
    gb_kv_f64(b, "t.f64", 0.1);
    gb_kv_f64(b, "t.f64.max", 1.7976931348623157e308);
    gb_kv_bool(b, "t.bool", true);
    gb_kv_str(b, "t.str.empty", "");
    gb_kv_str(b, "t.str.escapes", "quote\" backslash\\ nl\n tab\t ctl\x01 del\x7f é 🦙");
    gb_key(b, "t.str.invalid", SM_GGUF_STRING);
    gb_put_u64(&b->kv, 3);
    gb_put(&b->kv, "\xff\xc0\x80", 3);
    const uint8_t bytes[5] = {0, 1, 127, 128, 255};
    gb_kv_arr(b, "t.u8s", SM_GGUF_UINT8, 5, bytes, 5);
    gb_kv_arr(b, "t.bools", SM_GGUF_BOOL, 2, bytes, 2);
    gb_kv_arr(b, "t.empty", SM_GGUF_INT64, 0, NULL, 0);
    const double d[2] = {-1.5, 1e300};
    gb_kv_arr(b, "t.f64s", SM_GGUF_FLOAT64, 2, d, 16);
    const char *const strs[4] = {"", "a\"b", "\xe2\x96\x81the", "x"};
    gb_kv_arr_str(b, "t.strs", strs, 4);
    gb_key(b, "t.strs.invalid", SM_GGUF_ARRAY);
    gb_put_u32(&b->kv, SM_GGUF_STRING);
    gb_put_u64(&b->kv, 2);
    gb_put_str(&b->kv, "ok");
    gb_put_u64(&b->kv, 1);
    gb_put(&b->kv, "\x80", 1);
}

static gb_vocab k_vocab = {32, "{{ bos_token }}"};

static uint8_t *build_gguf(size_t *size, bool every_type) {
    gb_llama s = gb_llama_default();
    s.extra_kvs = every_type ? add_every_type : gb_kv_vocab;
    s.ctx = &k_vocab;
    s.rope_freqs = true;
    return gb_llama_build(&s, size);
}

/* A model with one layer and width 16: small enough to flip every byte of. */
static uint8_t *build_small(size_t *size, bool vocab) {
    static gb_vocab v = {16, NULL};
    gb_llama s = gb_llama_default();
    s.n_vocab = 16, s.n_embd = 16, s.n_layer = 1, s.n_head = 2, s.n_head_kv = 1, s.n_ff = 32;
    if (vocab)
        s.extra_kvs = gb_kv_vocab, s.ctx = &v;
    else
        s.bos = s.eos = -1; /* no tokenizer.* key at all: version 1 content */
    return gb_llama_build(&s, size);
}

static bool same_kv(const sm_gguf_kv *a, const sm_gguf_kv *b) {
    if (a->key.len != b->key.len || memcmp(a->key.ptr, b->key.ptr, (size_t)a->key.len) ||
        a->type != b->type)
        return false;
    switch (a->type) {
    case SM_GGUF_STRING:
        return a->v.str.len == b->v.str.len &&
               memcmp(a->v.str.ptr, b->v.str.ptr, (size_t)a->v.str.len) == 0;
    case SM_GGUF_ARRAY:
        return a->v.arr.type == b->v.arr.type && a->v.arr.n == b->v.arr.n &&
               a->v.arr.n_bytes == b->v.arr.n_bytes &&
               (a->v.arr.n_bytes == 0 ||
                memcmp(a->v.arr.data, b->v.arr.data, (size_t)a->v.arr.n_bytes) == 0);
    case SM_GGUF_FLOAT32:
    case SM_GGUF_FLOAT64:
        return memcmp(&a->v.f64, &b->v.f64, sizeof(double)) == 0 ||
               (isnan(a->v.f64) && isnan(b->v.f64));
    default: return a->v.u64 == b->v.u64;
    }
}

static void test_round_trip(void) {
    size_t gsize, ssize;
    uint8_t *gguf = build_gguf(&gsize, true);
    sm_status st;
    sm_error e;
    uint8_t *smnd = smnd_from_gguf_mem(gguf, gsize, 0, &ssize, &st, &e);
    CHECK_EQ(st, SM_OK);
    sm_gguf a, b;
    CHECK_EQ(sm_gguf_parse(gguf, gsize, &a, NULL), SM_OK);
    CHECK_EQ(sm_smnd_parse(smnd, ssize, &b, &e), SM_OK);
    CHECK_EQ(b.smnd_version, 2); /* a tokenizer: version 2 */
    CHECK_EQ(a.n_kv, b.n_kv);
    for (uint64_t i = 0; i < a.n_kv && i < b.n_kv; i++) {
        if (!same_kv(&a.kv[i], &b.kv[i])) {
            CHECK(false);
            fprintf(stderr, "  key %llu '%.*s' differs\n", (unsigned long long)i,
                    (int)a.kv[i].key.len, a.kv[i].key.ptr);
        }
    }
    CHECK_EQ(a.n_tensors, b.n_tensors);
    for (uint64_t i = 0; i < a.n_tensors && i < b.n_tensors; i++) {
        const sm_gguf_tensor *x = &a.tensors[i], *y = &b.tensors[i];
        CHECK(x->name.len == y->name.len &&
              memcmp(x->name.ptr, y->name.ptr, (size_t)x->name.len) == 0);
        CHECK(x->type == y->type && x->n_dims == y->n_dims &&
              memcmp(x->ne, y->ne, sizeof x->ne) == 0);
        CHECK(x->n_bytes == y->n_bytes && memcmp(x->data, y->data, (size_t)x->n_bytes) == 0);
        CHECK_EQ((y->data - smnd) % SM_SMND_ALIGN, 0);
    }
    /* the string array is GGUF-shaped: the iterator walks it */
    sm_gguf_array arr;
    CHECK(sm_gguf_get_arr(&b, "t.strs", &arr));
    sm_gguf_array_iter it;
    sm_gguf_str s;
    sm_gguf_array_iter_init(&it, &arr);
    int n = 0;
    while (sm_gguf_array_iter_next(&it, &s, NULL, NULL)) n++;
    CHECK_EQ(n, 4);
    sm_gguf_free(&a);
    sm_gguf_free(&b);
    /* the same conversion twice gives the same bytes */
    size_t ssize2;
    uint8_t *again = smnd_from_gguf_mem(gguf, gsize, 0, &ssize2, &st, &e);
    CHECK(again && ssize2 == ssize && memcmp(again, smnd, ssize) == 0);
    free(again);
    free(smnd);
    free(gguf);
}

/* Data through the writer in pieces of `piece` bytes gives the one-shot file. */
static void test_streaming(void) {
    size_t gsize, ssize;
    uint8_t *gguf = build_small(&gsize, false);
    sm_status st;
    uint8_t *whole = smnd_from_gguf_mem(gguf, gsize, 0, &ssize, &st, NULL);
    CHECK_EQ(st, SM_OK);
    CHECK_EQ(whole[4], 1); /* F32, no tokenizer: version 1 */
    sm_gguf g, meta_only;
    CHECK_EQ(sm_gguf_parse(gguf, gsize, &g, NULL), SM_OK);
    char *json = NULL;
    size_t json_len = 0;
    CHECK_EQ(sm_smnd_meta_from_gguf(&g, "{\"tool\":\"test\"}", 15, &json, &json_len, NULL), SM_OK);
    sm_smnd_tensor ts[16];
    char names[16][96];
    size_t total = 0;
    for (uint64_t i = 0; i < g.n_tensors && i < 16; i++) {
        snprintf(names[i], sizeof names[i], "%.*s", (int)g.tensors[i].name.len,
                 g.tensors[i].name.ptr);
        ts[i] = (sm_smnd_tensor){
            .name = names[i], .type = g.tensors[i].type, .n_dims = (int32_t)g.tensors[i].n_dims};
        memcpy(ts[i].ne, g.tensors[i].ne, sizeof ts[i].ne);
        total += (size_t)g.tensors[i].n_bytes;
    }
    uint8_t *data = malloc(total);
    size_t at = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        memcpy(data + at, g.tensors[i].data, (size_t)g.tensors[i].n_bytes);
        at += (size_t)g.tensors[i].n_bytes;
    }
    static const size_t pieces[] = {1, 3, 7, 64, 1000, 100000};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        mem_sink sink = {0};
        sm_smnd_writer *w = NULL;
        CHECK_EQ(sm_smnd_writer_new(0, json, json_len, ts, (size_t)g.n_tensors, mem_write, &sink,
                                    &w, NULL),
                 SM_OK);
        CHECK_EQ(sm_smnd_writer_version(w), 1);
        CHECK_EQ(sm_smnd_writer_file_size(w), ssize);
        for (size_t off = 0; off < total; off += pieces[k]) {
            const size_t len = total - off < pieces[k] ? total - off : pieces[k];
            CHECK_EQ(sm_smnd_writer_write(w, data + off, len), SM_OK);
        }
        CHECK_EQ(sm_smnd_writer_finish(w), SM_OK);
        CHECK(sink.b.n == ssize && memcmp(sink.b.p, whole, ssize) == 0);
        /* more data than the tensors hold */
        CHECK_EQ(sm_smnd_writer_write(w, data, 1), SM_ERR_INVALID_ARG);
        sm_smnd_writer_free(w);
        free(sink.b.p);
    }
    /* explicit version 2 of F32 content reads back as version 2 */
    {
        mem_sink sink = {0};
        sm_smnd_writer *w = NULL;
        CHECK_EQ(sm_smnd_writer_new(2, json, json_len, ts, (size_t)g.n_tensors, mem_write, &sink,
                                    &w, NULL),
                 SM_OK);
        CHECK_EQ(sm_smnd_writer_write(w, data, total), SM_OK);
        CHECK_EQ(sm_smnd_writer_finish(w), SM_OK);
        CHECK_EQ(sm_smnd_parse(sink.b.p, sink.b.n, &meta_only, NULL), SM_OK);
        CHECK_EQ(meta_only.smnd_version, 2);
        sm_gguf_free(&meta_only);
        sm_smnd_writer_free(w);
        free(sink.b.p);
    }
    /* finishing early names the tensor; a failing sink stops the writer */
    {
        mem_sink sink = {0};
        sm_smnd_writer *w = NULL;
        CHECK_EQ(sm_smnd_writer_new(0, json, json_len, ts, (size_t)g.n_tensors, mem_write, &sink,
                                    &w, NULL),
                 SM_OK);
        CHECK_EQ(sm_smnd_writer_write(w, data, (size_t)g.tensors[0].n_bytes + 5), SM_OK);
        CHECK_EQ(sm_smnd_writer_finish(w), SM_ERR_INVALID_ARG);
        CHECK(strstr(sm_smnd_writer_last_error(w), names[1]) != NULL);
        sm_smnd_writer_free(w);
        free(sink.b.p);
        mem_sink failing = {.fail_after = 24 + json_len + 300};
        CHECK_EQ(sm_smnd_writer_new(0, json, json_len, ts, (size_t)g.n_tensors, mem_write, &failing,
                                    &w, NULL),
                 SM_OK);
        CHECK_EQ(sm_smnd_writer_write(w, data, total), SM_ERR_NOMEM);
        CHECK_EQ(sm_smnd_writer_write(w, data, 1), SM_ERR_NOMEM);
        CHECK_EQ(sm_smnd_writer_finish(w), SM_ERR_NOMEM);
        sm_smnd_writer_free(w);
        free(failing.b.p);
    }
    free(data);
    free(json);
    sm_gguf_free(&g);
    free(whole);
    free(gguf);
}

static void expect_new_fails(const char *what, uint32_t version, const char *json,
                             const sm_smnd_tensor *ts, size_t n, sm_status code,
                             const char *needle) {
    mem_sink sink = {0};
    sm_smnd_writer *w = (sm_smnd_writer *)&sink;
    sm_error e;
    sm_status st =
        sm_smnd_writer_new(version, json, json ? strlen(json) : 0, ts, n, mem_write, &sink, &w, &e);
    if (st != code) fprintf(stderr, "  %s: status %d, expected %d (%s)\n", what, st, code, e.msg);
    CHECK_EQ(st, code);
    CHECK(w == NULL);
    CHECK_EQ(sink.b.n, 0); /* nothing written before everything was checked */
    if (needle) CHECK(msg_has(&e, needle));
    free(sink.b.p);
}

static void test_writer_refuses(void) {
    const char *kv = "{\"kv\":[[\"general.architecture\",\"str\",\"llama\"]]}";
    const char *tok = "{\"kv\":[[\"tokenizer.ggml.model\",\"str\",\"llama\"]]}";
    sm_smnd_tensor f32 = {"a", SM_TYPE_F32, 2, {4, 2, 0, 0}};
    sm_smnd_tensor q8 = {"q", SM_TYPE_Q8_0, 2, {32, 2, 0, 0}};
    sm_smnd_tensor two[2] = {f32, f32};
    sm_smnd_tensor bad_dims = {"a", SM_TYPE_F32, 5, {1, 1, 1, 1}};
    sm_smnd_tensor zero = {"a", SM_TYPE_F32, 2, {4, 0, 0, 0}};
    sm_smnd_tensor odd_row = {"q", SM_TYPE_Q8_0, 1, {33, 0, 0, 0}};
    sm_smnd_tensor unknown = {"u", 77, 1, {4, 0, 0, 0}};
    sm_smnd_tensor noname = {"", SM_TYPE_F32, 1, {4, 0, 0, 0}};
    sm_smnd_tensor optim = {"optim.m.a", SM_TYPE_F32, 1, {4, 0, 0, 0}};
    expect_new_fails("v1 with Q8_0", 1, kv, &q8, 1, SM_ERR_INVALID_ARG, "version 2");
    expect_new_fails("v1 with tokenizer", 1, tok, &f32, 1, SM_ERR_INVALID_ARG, "version 2");
    expect_new_fails("v1 with optimizer", 1, kv, &optim, 1, SM_ERR_INVALID_ARG, "version 2");
    expect_new_fails("v3", 3, kv, &f32, 1, SM_ERR_INVALID_ARG, "version 3");
    expect_new_fails("duplicate", 0, kv, two, 2, SM_ERR_INVALID_ARG, "duplicate tensor name 'a'");
    expect_new_fails("rank 5", 0, kv, &bad_dims, 1, SM_ERR_INVALID_ARG, "n_dims");
    expect_new_fails("zero dim", 0, kv, &zero, 1, SM_ERR_INVALID_ARG, "ne[1]");
    expect_new_fails("row vs block", 0, kv, &odd_row, 1, SM_ERR_INVALID_ARG, "block");
    expect_new_fails("unknown type", 0, kv, &unknown, 1, SM_ERR_UNSUPPORTED, "77");
    expect_new_fails("empty name", 0, kv, &noname, 1, SM_ERR_INVALID_ARG, "name");
    expect_new_fails("not an object", 0, "[1]", &f32, 1, SM_ERR_INVALID_ARG, "object");
    expect_new_fails("no kv", 0, "{}", &f32, 1, SM_ERR_INVALID_ARG, "kv");
    expect_new_fails("own tensor_count", 0, "{\"tensor_count\":1,\"kv\":[]}", &f32, 1,
                     SM_ERR_INVALID_ARG, "twice");
    expect_new_fails("bad json", 0, "{\"kv\":[[\"a\",\"u8\",256]]}", &f32, 1, SM_ERR_INVALID_ARG,
                     "out of range");
    expect_new_fails("NULL sink", 0, NULL, NULL, 0, SM_ERR_INVALID_ARG, NULL);
    /* an empty model is a valid file */
    mem_sink sink = {0};
    sm_smnd_writer *w = NULL;
    CHECK_EQ(sm_smnd_writer_new(0, " { \"kv\" : [ ] } ", 16, NULL, 0, mem_write, &sink, &w, NULL),
             SM_OK);
    CHECK_EQ(sm_smnd_writer_finish(w), SM_OK);
    sm_gguf g;
    CHECK_EQ(sm_smnd_parse(sink.b.p, sink.b.n, &g, NULL), SM_OK);
    CHECK_EQ(g.n_kv + g.n_tensors, 0);
    sm_gguf_free(&g);
    sm_smnd_writer_free(w);
    sm_smnd_writer_free(NULL);
    free(sink.b.p);
}

/* Parses a copy of exactly `len` bytes (so ASan catches reads past the end). */
static sm_status parse_copy(const uint8_t *p, size_t len, sm_error *e) {
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, p, len);
    sm_gguf g;
    sm_status st = sm_smnd_parse(len ? copy : NULL, len, &g, e);
    if (st == SM_OK) sm_gguf_free(&g);
    free(copy);
    return st;
}

/* Offset where record i starts, from the file's own fields. */
static size_t record_at(const uint8_t *f, size_t i) {
    size_t pos = 24 + (size_t)(f[16] | f[17] << 8 | f[18] << 16 | (uint32_t)f[19] << 24);
    for (size_t k = 0; k < i; k++) {
        uint32_t name_len, rank;
        memcpy(&name_len, f + pos, 4);
        size_t at = pos + 4 + name_len;
        memcpy(&rank, f + at + 4, 4);
        at += 8 + 8 * rank;
        uint64_t d;
        memcpy(&d, f + at, 8);
        at += 8;
        at += (32 - at % 32) % 32;
        pos = at + (size_t)d + 4;
    }
    return pos;
}

static void test_damage(void) {
    size_t gsize, ssize;
    uint8_t *gguf = build_small(&gsize, true);
    sm_status st;
    sm_error e;
    uint8_t *f = smnd_from_gguf_mem(gguf, gsize, 0, &ssize, &st, &e);
    CHECK_EQ(parse_copy(f, ssize, &e), SM_OK);
    const size_t first = record_at(f, 0);
    /* every truncated prefix: corrupt, never a crash; inside a record the tensor is named */
    int bad_code = 0, unnamed = 0;
    for (size_t len = 0; len < ssize; len++) {
        st = parse_copy(f, len, &e);
        if (st != SM_ERR_CORRUPT) bad_code++;
        if (len >= first && !strstr(e.msg, "tensor")) unnamed++;
    }
    CHECK_EQ(bad_code, 0);
    CHECK_EQ(unnamed, 0);
    /* a byte added at the end */
    uint8_t *longer = malloc(ssize + 1);
    memcpy(longer, f, ssize);
    longer[ssize] = 0;
    CHECK_EQ(parse_copy(longer, ssize + 1, &e), SM_ERR_CORRUPT);
    CHECK(msg_has(&e, "1 bytes follow the last"));
    free(longer);
    /* every flipped byte fails; past the header the status is CORRUPT and names the part */
    int accepted = 0, wrong = 0;
    for (size_t i = 0; i < ssize; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            f[i] ^= (uint8_t)(1u << bit);
            st = parse_copy(f, ssize, &e);
            f[i] ^= (uint8_t)(1u << bit);
            if (st == SM_OK) accepted++;
            if (i >= 16 && (st != SM_ERR_CORRUPT ||
                            !(i < first ? strstr(e.msg, "metadata") : strstr(e.msg, "tensor")))) {
                if (wrong++ < 5) fprintf(stderr, "  flip at %zu: %d %s\n", i, st, e.msg);
            }
        }
    }
    CHECK_EQ(accepted, 0);
    CHECK_EQ(wrong, 0);
    /* a flipped data byte: the CRC error names the tensor */
    const size_t r2 = record_at(f, 2), r3 = record_at(f, 3);
    char name[64];
    uint32_t name_len;
    memcpy(&name_len, f + r2, 4);
    snprintf(name, sizeof name, "'%.*s'", (int)name_len, (const char *)f + r2 + 4);
    f[r3 - 6] ^= 0x40;
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_CORRUPT);
    CHECK(msg_has(&e, "CRC-32") && msg_has(&e, name) && msg_has(&e, "tensor 2 of"));
    f[r3 - 6] ^= 0x40;
    /* header fields */
    f[0] = 'X';
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_CORRUPT);
    CHECK(msg_has(&e, "magic"));
    CHECK(sm_smnd_sniff(f, ssize));
    f[0] = 'S';
    f[9] = 1;
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_CORRUPT);
    CHECK(msg_has(&e, "reserved"));
    f[9] = 0;
    f[4] = 3;
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_VERSION);
    CHECK(msg_has(&e, "version 3") && msg_has(&e, "1 to 2"));
    f[4] = 200, f[5] = 1; /* 456 */
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_VERSION);
    CHECK(msg_has(&e, "version 456"));
    f[4] = 0, f[5] = 0;
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_CORRUPT);
    /* a version 2 file (it has a tokenizer) relabelled version 1: the v1 rules refuse it */
    f[4] = 1;
    CHECK_EQ(parse_copy(f, ssize, &e), SM_ERR_FORMAT);
    CHECK(msg_has(&e, "version 2"));
    f[4] = 2;
    CHECK_EQ(parse_copy(f, ssize, &e), SM_OK);
    /* the GGUF magic is never taken for SMND, nor SMND for GGUF */
    CHECK(!sm_smnd_sniff("GGUF", 4) && !sm_smnd_sniff("SMGG", 4) && sm_smnd_sniff("SM", 2));
    CHECK(!sm_smnd_sniff("SX", 2) && !sm_smnd_sniff(NULL, 0));
    free(f);
    free(gguf);
}

/* The header probe over every prefix of an SMND download. */
static void test_probe(void) {
    size_t gsize, ssize;
    uint8_t *gguf = build_small(&gsize, true);
    sm_status st;
    sm_error e;
    uint8_t *f = smnd_from_gguf_mem(gguf, gsize, 0, &ssize, &st, &e);
    const size_t first = record_at(f, 0);
    for (int known = 0; known < 2; known++) {
        uint64_t last_need = 0;
        int errors = 0, shrank = 0, complete_early = 0;
        for (size_t len = 0; len <= ssize; len++) {
            sm_model_probe p;
            st = sm_model_probe_header(f, len, known ? ssize : 0, &p, &e);
            if (st != SM_OK) {
                if (errors++ < 3) fprintf(stderr, "  probe %zu: %s\n", len, e.msg);
                continue;
            }
            if (!p.complete) {
                if (p.bytes_needed < last_need || p.bytes_needed <= len) shrank++;
                last_need = p.bytes_needed;
                if (len >= first) complete_early++;
                continue;
            }
            if (len < first || p.bytes_needed != first || p.header_bytes != first) complete_early++;
            CHECK(strcmp(p.arch, "llama") == 0 && p.n_tensors == 12 && p.split_count == 1);
        }
        CHECK_EQ(errors, 0);
        CHECK_EQ(shrank, 0);
        CHECK_EQ(complete_early, 0);
    }
    sm_model_probe p;
    f[4] = 9;
    CHECK_EQ(sm_model_probe_header(f, 8, 0, &p, &e), SM_ERR_VERSION);
    f[4] = 2;
    CHECK_EQ(sm_model_probe_header(f, first, first + 10, &p, &e),
             SM_ERR_CORRUPT);                                           /* tensors cannot fit */
    CHECK_EQ(sm_model_probe_header(f, 20, 30, &p, &e), SM_ERR_CORRUPT); /* metadata cannot fit */
    f[30] ^= 1;
    CHECK_EQ(sm_model_probe_header(f, first, 0, &p, &e), SM_ERR_CORRUPT);
    CHECK(msg_has(&e, "metadata"));
    f[30] ^= 1;
    free(f);
    free(gguf);
}

static void test_type_convert(void) {
    float x[512];
    for (int i = 0; i < 512; i++) x[i] = sinf((float)i * 0.37f) * (1.0f + (float)(i % 7));
    uint8_t q[2 * 1024], ref[2 * 1024];
    CHECK_EQ(sm_type_bytes(SM_TYPE_Q8_0, 512), 16 * 34);
    CHECK_EQ(sm_type_bytes(SM_TYPE_Q4_K, 512), 2 * 144);
    CHECK_EQ(sm_type_bytes(SM_TYPE_Q4_K, 100), 0);
    CHECK_EQ(sm_type_bytes(99, 32), 0);
    CHECK(strcmp(sm_type_name(SM_TYPE_Q6_K), "Q6_K") == 0 && sm_type_name(99) == NULL);
    CHECK_EQ(sm_type_convert(SM_TYPE_F32, x, SM_TYPE_Q8_0, q, 512), SM_OK);
    sm_kern_quantizer_ref(SM_TYPE_Q8_0)(x, ref, 512); /* the reference quantizer's bytes */
    CHECK(memcmp(q, ref, 16 * 34) == 0);
    /* F16 → Q4_K / Q6_K → F32 stays close */
    uint16_t h[512];
    float back[512];
    CHECK_EQ(sm_type_convert(SM_TYPE_F32, x, SM_TYPE_F16, h, 512), SM_OK);
    static const int32_t types[] = {SM_TYPE_Q4_0, SM_TYPE_Q8_0, SM_TYPE_Q4_K, SM_TYPE_Q6_K};
    static const float tol[] = {0.9f, 0.06f, 0.6f, 0.15f};
    for (int k = 0; k < 4; k++) {
        CHECK_EQ(sm_type_convert(SM_TYPE_F16, h, types[k], q, 512), SM_OK);
        CHECK_EQ(sm_type_convert(types[k], q, SM_TYPE_F32, back, 512), SM_OK);
        float worst = 0;
        for (int i = 0; i < 512; i++) worst = fmaxf(worst, fabsf(back[i] - x[i]));
        if (!(worst < tol[k]))
            fprintf(stderr, "  %s: worst error %g\n", sm_type_name(types[k]), (double)worst);
        CHECK(worst < tol[k]);
    }
    CHECK_EQ(sm_type_convert(SM_TYPE_F32, x, SM_TYPE_F32, back, 512), SM_OK);
    CHECK(memcmp(back, x, sizeof x) == 0);
    CHECK_EQ(sm_type_convert(SM_TYPE_F32, x, SM_TYPE_Q4_K, q, 100), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_type_convert(SM_TYPE_F32, x, 99, q, 32), SM_ERR_UNSUPPORTED);
    CHECK_EQ(sm_type_convert(SM_TYPE_F32, NULL, SM_TYPE_Q8_0, q, 32), SM_ERR_INVALID_ARG);
}

int main(void) {
    test_round_trip();
    test_streaming();
    test_writer_refuses();
    test_damage();
    test_probe();
    test_type_convert();
    return sm_check_report("test_smnd");
}
