/*
 * test_gguf.c — tests of the GGUF reader (src/io/gguf.c) and its cursor (src/io/reader.c).
 *
 * Files are built in memory by a small writer below (it follows ggml/docs/gguf.md; no files on
 * disk), then read back: every value type, nested arrays, getters, tensors of several types at the
 * default and a larger alignment. Robustness: every truncated prefix and every header byte set to
 * other values must parse or fail cleanly (each input sits in its own exact-size allocation, so
 * ASan sees any over-read), and each malformation has a test of its error code and message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf_build.h"
#include "io/gguf.h"
#include "io/reader.h"

/* Raw writing goes through gguf_build.h's byte buffer; the helpers below write header and key
 * fields one at a time so tests can build files the builder would refuse to make. */

static void put_key(gb_buf *b, const char *key, sm_gguf_vtype t) {
    gb_put_str(b, key);
    gb_put_u32(b, (uint32_t)t);
}
static void put_header(gb_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_put(b, "GGUF", 4);
    gb_put_u32(b, version);
    gb_put_u64(b, n_tensors);
    gb_put_u64(b, n_kv);
}
static void pad_to(gb_buf *b, size_t alignment) {
    while (b->n % alignment) gb_put_u8(b, 0);
}

typedef struct tspec {
    const char *name;
    uint32_t n_dims;
    uint64_t ne[4];
    uint32_t type;
    uint64_t n_bytes; /* what the test expects the reader to compute */
} tspec;

/* F32 [8,3]; F16 [64]; Q8_0 [64,2] = 2 blocks of 34 per row; Q4_K [256,1,2] = 1 block of 144 per
 * row; BF16 [2,3,4,5]. */
static const tspec valid_tensors[] = {
    {"token_embd.weight", 2, {8, 3}, 0, 8 * 3 * 4},
    {"output_norm.weight", 1, {64}, 1, 64 * 2},
    {"blk.0.attn_q.weight", 2, {64, 2}, 8, 2 * 34 * 2},
    {"blk.0.attn_k.weight", 3, {256, 1, 2}, 12, 144 * 2},
    {"blk.0.ffn_up.weight", 4, {2, 3, 4, 5}, 30, 2 * 3 * 4 * 5 * 2},
};
enum { N_VALID_TENSORS = sizeof valid_tensors / sizeof valid_tensors[0], N_VALID_KV = 21 };

static uint64_t aligned(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Byte i of tensor k's data, so reads can be checked against where they came from. */
static uint8_t pattern(size_t k, uint64_t i) { return (uint8_t)(k * 31 + i * 7 + 1); }

/* Writes every value type; with alignment != 0 also general.alignment. Returns the kv count. */
static uint64_t put_all_kvs(gb_buf *b, uint32_t alignment) {
    put_key(b, "general.architecture", SM_GGUF_STRING); gb_put_str(b, "llama");
    put_key(b, "t.u8", SM_GGUF_UINT8); gb_put_u8(b, 200);
    put_key(b, "t.i8", SM_GGUF_INT8); gb_put_u8(b, (uint8_t)-100);
    put_key(b, "t.u16", SM_GGUF_UINT16); gb_put_u16(b, 60000);
    put_key(b, "t.i16", SM_GGUF_INT16); gb_put_u16(b, (uint16_t)-30000);
    put_key(b, "t.u32", SM_GGUF_UINT32); gb_put_u32(b, 4000000000u);
    put_key(b, "t.i32", SM_GGUF_INT32); gb_put_u32(b, (uint32_t)-2000000000);
    put_key(b, "t.f32", SM_GGUF_FLOAT32); gb_put_f32(b, 1.5f);
    put_key(b, "t.true", SM_GGUF_BOOL); gb_put_u8(b, 1);
    put_key(b, "t.false", SM_GGUF_BOOL); gb_put_u8(b, 0);
    put_key(b, "t.str", SM_GGUF_STRING); gb_put_str(b, "hello, world");
    put_key(b, "t.empty", SM_GGUF_STRING); gb_put_str(b, "");
    put_key(b, "t.u64", SM_GGUF_UINT64); gb_put_u64(b, 0xFEDCBA9876543210ull);
    put_key(b, "t.i64", SM_GGUF_INT64); gb_put_u64(b, (uint64_t)INT64_MIN);
    put_key(b, "t.f64", SM_GGUF_FLOAT64); gb_put_f64(b, -2.25e300);
    put_key(b, "t.arr_i32", SM_GGUF_ARRAY); gb_put_u32(b, SM_GGUF_INT32); gb_put_u64(b, 3);
    gb_put_u32(b, 1); gb_put_u32(b, (uint32_t)-2); gb_put_u32(b, 3);
    put_key(b, "t.arr_str", SM_GGUF_ARRAY); gb_put_u32(b, SM_GGUF_STRING); gb_put_u64(b, 4);
    gb_put_str(b, "a"); gb_put_str(b, "bc"); gb_put_str(b, ""); gb_put_str(b, "def");
    put_key(b, "t.arr_bool", SM_GGUF_ARRAY); gb_put_u32(b, SM_GGUF_BOOL); gb_put_u64(b, 3);
    gb_put_u8(b, 1); gb_put_u8(b, 0); gb_put_u8(b, 1);
    put_key(b, "t.arr_f64", SM_GGUF_ARRAY); gb_put_u32(b, SM_GGUF_FLOAT64); gb_put_u64(b, 2);
    gb_put_f64(b, 0.5); gb_put_f64(b, -1.0);
    put_key(b, "t.arr_empty", SM_GGUF_ARRAY); gb_put_u32(b, SM_GGUF_UINT64); gb_put_u64(b, 0);
    /* [[u8 1, 2], [str "x", "yz"], [[i16 -7]], [] of f32] */
    put_key(b, "t.nested", SM_GGUF_ARRAY); gb_put_u32(b, SM_GGUF_ARRAY); gb_put_u64(b, 4);
    gb_put_u32(b, SM_GGUF_UINT8); gb_put_u64(b, 2); gb_put_u8(b, 1); gb_put_u8(b, 2);
    gb_put_u32(b, SM_GGUF_STRING); gb_put_u64(b, 2); gb_put_str(b, "x"); gb_put_str(b, "yz");
    gb_put_u32(b, SM_GGUF_ARRAY); gb_put_u64(b, 1);
    gb_put_u32(b, SM_GGUF_INT16); gb_put_u64(b, 1); gb_put_u16(b, (uint16_t)-7);
    gb_put_u32(b, SM_GGUF_FLOAT32); gb_put_u64(b, 0);
    if (alignment == 0) return N_VALID_KV;
    put_key(b, "general.alignment", SM_GGUF_UINT32); gb_put_u32(b, alignment);
    return N_VALID_KV + 1;
}

/* A complete valid file. alignment 0 = no general.alignment key (default 32). The last tensor's
 * data ends the file, so every shorter prefix must fail. *meta_end = end of the tensor infos. */
static void build_valid(gb_buf *b, uint32_t version, uint32_t alignment, size_t *meta_end) {
    uint64_t a = alignment ? alignment : 32;
    put_header(b, version, N_VALID_TENSORS, 0);
    uint64_t n_kv = put_all_kvs(b, alignment);
    for (int i = 0; i < 8; i++) b->p[16 + i] = (uint8_t)(n_kv >> (8 * i)); /* patch the count */
    uint64_t off = 0;
    for (size_t k = 0; k < N_VALID_TENSORS; k++) {
        const tspec *t = &valid_tensors[k];
        gb_put_str(b, t->name);
        gb_put_u32(b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) gb_put_u64(b, t->ne[d]);
        gb_put_u32(b, t->type);
        gb_put_u64(b, off);
        off = aligned(off + t->n_bytes, a);
    }
    *meta_end = b->n;
    pad_to(b, (size_t)a);
    for (size_t k = 0; k < N_VALID_TENSORS; k++) {
        for (uint64_t i = 0; i < valid_tensors[k].n_bytes; i++) gb_put_u8(b, pattern(k, i));
        if (k + 1 < N_VALID_TENSORS) pad_to(b, (size_t)a);
    }
}

/* ---- walking a parsed file (also what the robustness loops do on success) --------------------- */

static uint64_t walk_array(const sm_gguf_array *arr, unsigned *sum) {
    sm_gguf_array_iter it;
    sm_gguf_str s;
    sm_gguf_array sub;
    const uint8_t *e;
    uint64_t n = 0;
    sm_gguf_array_iter_init(&it, arr);
    while (sm_gguf_array_iter_next(&it, &s, &sub, &e)) {
        n++;
        if (arr->type == SM_GGUF_STRING) {
            for (uint64_t i = 0; i < s.len; i++) *sum += (unsigned char)s.ptr[i];
        } else if (arr->type == SM_GGUF_ARRAY) {
            walk_array(&sub, sum);
        } else {
            *sum += e[0];
        }
    }
    return n;
}

/* Touches everything a parsed file points at; returns false if an array walk came up short. */
static bool walk_all(const sm_gguf *g) {
    unsigned sum = 0;
    bool ok = true;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const sm_gguf_kv *kv = &g->kv[i];
        sum += (unsigned char)kv->key.ptr[kv->key.len - 1];
        if (kv->type == SM_GGUF_ARRAY && walk_array(&kv->v.arr, &sum) != kv->v.arr.n) ok = false;
        if (kv->type == SM_GGUF_STRING && kv->v.str.len) sum += (unsigned char)kv->v.str.ptr[0];
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sm_gguf_tensor *t = &g->tensors[i];
        sum += t->data[0] + t->data[t->n_bytes - 1];
    }
    (void)sum;
    return ok;
}

/* Parses a private exact-size copy of `len` bytes, so ASan flags any read past the end. */
static sm_status parse_copy(const uint8_t *p, size_t len, sm_gguf *g, sm_error *e) {
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, p, len);
    sm_status st = sm_gguf_parse(copy, len, g, e);
    bool zeroed = g->kv == NULL && g->tensors == NULL && g->n_kv == 0 && g->n_tensors == 0;
    if (st == SM_OK) CHECK(walk_all(g));
    else if (!zeroed || e->msg[0] == '\0' || st >= 0) CHECK(!"failed parse left state or no message");
    sm_gguf_free(g);
    free(copy);
    return st;
}

static bool has(const sm_error *e, const char *needle) {
    if (strstr(e->msg, needle)) return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", e->msg, needle);
    return false;
}

/* ---- reading back ----------------------------------------------------------------------------- */

static uint64_t le(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void test_scalars(const sm_gguf *g) {
    const sm_gguf_kv *kv;
    sm_gguf_str s;
    uint32_t u;
    int32_t i;
    float f;
    bool b;
    CHECK(sm_gguf_get_str(g, "general.architecture", &s) && sm_gguf_str_eq(s, "llama"));
    CHECK((kv = sm_gguf_find(g, "t.u8")) && kv->type == SM_GGUF_UINT8 && kv->v.u64 == 200);
    CHECK((kv = sm_gguf_find(g, "t.i8")) && kv->type == SM_GGUF_INT8 && kv->v.i64 == -100);
    CHECK((kv = sm_gguf_find(g, "t.u16")) && kv->v.u64 == 60000);
    CHECK((kv = sm_gguf_find(g, "t.i16")) && kv->v.i64 == -30000);
    CHECK((kv = sm_gguf_find(g, "t.u32")) && kv->v.u64 == 4000000000u);
    CHECK((kv = sm_gguf_find(g, "t.i32")) && kv->v.i64 == -2000000000);
    CHECK((kv = sm_gguf_find(g, "t.f32")) && kv->type == SM_GGUF_FLOAT32 && kv->v.f64 == 1.5);
    CHECK((kv = sm_gguf_find(g, "t.u64")) && kv->v.u64 == 0xFEDCBA9876543210ull);
    CHECK((kv = sm_gguf_find(g, "t.i64")) && kv->v.i64 == INT64_MIN);
    CHECK((kv = sm_gguf_find(g, "t.f64")) && kv->v.f64 == -2.25e300);
    CHECK(sm_gguf_get_str(g, "t.str", &s) && sm_gguf_str_eq(s, "hello, world"));
    CHECK(sm_gguf_get_str(g, "t.empty", &s) && s.len == 0 && sm_gguf_str_eq(s, ""));
    CHECK(!sm_gguf_str_eq(s, "x"));
    CHECK(sm_gguf_get_bool(g, "t.true", &b) && b);
    CHECK(sm_gguf_get_bool(g, "t.false", &b) && !b);

    /* integer getters take any integer type whose value fits */
    CHECK(sm_gguf_get_u32(g, "t.u8", &u) && u == 200);
    CHECK(sm_gguf_get_u32(g, "t.u32", &u) && u == 4000000000u);
    CHECK(!sm_gguf_get_u32(g, "t.i8", &u));   /* negative */
    CHECK(!sm_gguf_get_u32(g, "t.u64", &u));  /* too big */
    CHECK(!sm_gguf_get_u32(g, "t.true", &u)); /* bool is not an integer */
    CHECK(!sm_gguf_get_u32(g, "t.f32", &u));
    CHECK(sm_gguf_get_i32(g, "t.i32", &i) && i == -2000000000);
    CHECK(sm_gguf_get_i32(g, "t.i16", &i) && i == -30000);
    CHECK(sm_gguf_get_i32(g, "t.u16", &i) && i == 60000);
    CHECK(!sm_gguf_get_i32(g, "t.u32", &i));  /* 4e9 > INT32_MAX */
    CHECK(!sm_gguf_get_i32(g, "t.i64", &i));
    CHECK(sm_gguf_get_f32(g, "t.f32", &f) && f == 1.5f);
    CHECK(!sm_gguf_get_f32(g, "t.f64", &f));  /* -2.25e300 is beyond float */
    CHECK(!sm_gguf_get_f32(g, "t.u8", &f));
    CHECK(!sm_gguf_get_str(g, "t.u8", &s));
    CHECK(!sm_gguf_get_bool(g, "t.u8", &b));
    CHECK(!sm_gguf_get_u32(g, "no.such.key", &u));
    CHECK(sm_gguf_find(g, "no.such.key") == NULL);
    CHECK(sm_gguf_find(g, "t.u") == NULL); /* prefix of a key is not a match */
    CHECK(sm_gguf_find(NULL, "t.u8") == NULL && sm_gguf_find(g, NULL) == NULL);
    CHECK(strcmp(sm_gguf_vtype_name(SM_GGUF_UINT32), "UINT32") == 0);
    CHECK(strcmp(sm_gguf_vtype_name((sm_gguf_vtype)99), "?") == 0);
}

static void test_arrays(const sm_gguf *g) {
    sm_gguf_array a, sub, sub2;
    sm_gguf_array_iter it, it2;
    sm_gguf_str s;
    const uint8_t *e;
    CHECK(!sm_gguf_get_arr(g, "t.u8", &a));
    CHECK(sm_gguf_get_arr(g, "t.arr_i32", &a) && a.type == SM_GGUF_INT32 && a.n == 3 &&
          a.n_bytes == 12);
    CHECK(sm_reader_as_i64(le(a.data + 4, 4), 32) == -2);
    sm_gguf_array_iter_init(&it, &a);
    int64_t want_i[] = {1, -2, 3}, k = 0;
    while (sm_gguf_array_iter_next(&it, NULL, NULL, &e)) {
        CHECK_EQ(sm_reader_as_i64(le(e, 4), 32), want_i[k]);
        k++;
    }
    CHECK_EQ(k, 3);
    CHECK(!sm_gguf_array_iter_next(&it, NULL, NULL, &e)); /* stays ended */

    CHECK(sm_gguf_get_arr(g, "t.arr_str", &a) && a.type == SM_GGUF_STRING && a.n == 4);
    const char *want_s[] = {"a", "bc", "", "def"};
    sm_gguf_array_iter_init(&it, &a);
    for (k = 0; sm_gguf_array_iter_next(&it, &s, NULL, NULL); k++) CHECK(sm_gguf_str_eq(s, want_s[k]));
    CHECK_EQ(k, 4);
    CHECK_EQ(a.n_bytes, 4 * 8 + 1 + 2 + 0 + 3);

    CHECK(sm_gguf_get_arr(g, "t.arr_bool", &a) && a.type == SM_GGUF_BOOL && a.n == 3);
    CHECK(a.data[0] == 1 && a.data[1] == 0 && a.data[2] == 1);
    CHECK(sm_gguf_get_arr(g, "t.arr_f64", &a) && a.n == 2);
    double d;
    uint64_t bits = le(a.data + 8, 8);
    memcpy(&d, &bits, 8);
    CHECK(d == -1.0);
    CHECK(sm_gguf_get_arr(g, "t.arr_empty", &a) && a.n == 0 && a.n_bytes == 0);
    sm_gguf_array_iter_init(&it, &a);
    CHECK(!sm_gguf_array_iter_next(&it, NULL, NULL, NULL));

    /* [[u8 1, 2], [str "x", "yz"], [[i16 -7]], [] of f32] */
    CHECK(sm_gguf_get_arr(g, "t.nested", &a) && a.type == SM_GGUF_ARRAY && a.n == 4);
    sm_gguf_array_iter_init(&it, &a);
    CHECK(sm_gguf_array_iter_next(&it, NULL, &sub, NULL));
    CHECK(sub.type == SM_GGUF_UINT8 && sub.n == 2 && sub.data[0] == 1 && sub.data[1] == 2);
    CHECK(sm_gguf_array_iter_next(&it, NULL, &sub, NULL));
    CHECK(sub.type == SM_GGUF_STRING && sub.n == 2);
    sm_gguf_array_iter_init(&it2, &sub);
    CHECK(sm_gguf_array_iter_next(&it2, &s, NULL, NULL) && sm_gguf_str_eq(s, "x"));
    CHECK(sm_gguf_array_iter_next(&it2, &s, NULL, NULL) && sm_gguf_str_eq(s, "yz"));
    CHECK(!sm_gguf_array_iter_next(&it2, &s, NULL, NULL));
    CHECK(sm_gguf_array_iter_next(&it, NULL, &sub, NULL));
    CHECK(sub.type == SM_GGUF_ARRAY && sub.n == 1);
    sm_gguf_array_iter_init(&it2, &sub);
    CHECK(sm_gguf_array_iter_next(&it2, NULL, &sub2, NULL));
    CHECK(sub2.type == SM_GGUF_INT16 && sub2.n == 1 && sm_reader_as_i64(le(sub2.data, 2), 16) == -7);
    CHECK(sm_gguf_array_iter_next(&it, NULL, &sub, NULL));
    CHECK(sub.type == SM_GGUF_FLOAT32 && sub.n == 0);
    CHECK(!sm_gguf_array_iter_next(&it, NULL, &sub, NULL));
    CHECK_EQ(a.n_bytes, (12 + 2) + (12 + 9 + 10) + (12 + 12 + 2) + 12);
}

static void test_tensors(const sm_gguf *g, uint32_t alignment, size_t size) {
    CHECK_EQ(g->n_tensors, N_VALID_TENSORS);
    CHECK_EQ(g->alignment, alignment);
    CHECK_EQ(g->data_offset % alignment, 0);
    for (size_t k = 0; k < N_VALID_TENSORS; k++) {
        const tspec *w = &valid_tensors[k];
        const sm_gguf_tensor *t = sm_gguf_find_tensor(g, w->name);
        CHECK(t == &g->tensors[k]);
        if (!t) continue;
        CHECK_EQ(t->type, w->type);
        CHECK_EQ(t->n_dims, w->n_dims);
        for (uint32_t d = 0; d < 4; d++) CHECK_EQ(t->ne[d], d < w->n_dims ? w->ne[d] : 1);
        CHECK_EQ(t->n_bytes, w->n_bytes);
        CHECK_EQ(t->offset % alignment, 0);
        CHECK(t->data[0] == pattern(k, 0) && t->data[t->n_bytes - 1] == pattern(k, w->n_bytes - 1));
    }
    const sm_gguf_tensor *last = &g->tensors[N_VALID_TENSORS - 1];
    CHECK_EQ(g->data_offset + last->offset + last->n_bytes, size);
    CHECK(sm_gguf_find_tensor(g, "token_embd") == NULL);
    CHECK(sm_gguf_find_tensor(NULL, "x") == NULL);
}

static void test_valid(uint32_t version, uint32_t alignment) {
    gb_buf b = {0};
    size_t meta_end;
    sm_gguf g;
    sm_error e;
    build_valid(&b, version, alignment, &meta_end);
    sm_status st = sm_gguf_parse(b.p, b.n, &g, &e);
    CHECK_EQ(st, SM_OK);
    if (st != SM_OK) fprintf(stderr, "  %s\n", e.msg);
    if (st == SM_OK) {
        CHECK_EQ(g.version, version);
        CHECK_EQ(g.n_kv, alignment ? N_VALID_KV + 1 : N_VALID_KV);
        CHECK_EQ(g.data_offset, aligned(meta_end, alignment ? alignment : 32));
        CHECK_EQ(e.code, SM_OK);
        test_scalars(&g);
        test_arrays(&g);
        test_tensors(&g, alignment ? alignment : 32, b.n);
        CHECK(walk_all(&g));
    }
    sm_gguf_free(&g);
    CHECK(g.kv == NULL && g.tensors == NULL && g.n_kv == 0);
    sm_gguf_free(&g); /* twice is harmless */
    sm_gguf_free(NULL);
    free(b.p);
}

/* ---- robustness ------------------------------------------------------------------------------- */

static void test_truncations(uint32_t alignment) {
    gb_buf b = {0};
    size_t meta_end;
    sm_gguf g;
    sm_error e;
    int n_ok = 0;
    build_valid(&b, 3, alignment, &meta_end);
    for (size_t len = 0; len < b.n; len++) {
        if (parse_copy(b.p, len, &g, &e) == SM_OK) n_ok++;
    }
    CHECK_EQ(n_ok, 0);
    CHECK_EQ(parse_copy(b.p, b.n, &g, &e), SM_OK);
    free(b.p);
}

static void test_mutations(uint32_t alignment) {
    static const int values[] = {-1 /* xor 0xFF */, 0x00, 0x7F, 0x80};
    gb_buf b = {0};
    size_t meta_end;
    sm_gguf g;
    sm_error e;
    int n_err = 0, n_runs = 0;
    build_valid(&b, 3, alignment, &meta_end);
    uint8_t *m = malloc(b.n);
    for (size_t pos = 0; pos < meta_end; pos++) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            memcpy(m, b.p, b.n);
            m[pos] = values[v] < 0 ? (uint8_t)(m[pos] ^ 0xFF) : (uint8_t)values[v];
            if (parse_copy(m, b.n, &g, &e) != SM_OK) n_err++;
            n_runs++;
        }
    }
    CHECK(n_err > 0 && n_err < n_runs); /* some mutations (values, padding) still parse */
    free(m);
    free(b.p);
}

/* ---- specific errors -------------------------------------------------------------------------- */

static sm_status parse_buf(const gb_buf *b, sm_error *e) {
    sm_gguf g;
    return parse_copy(b->p, b->n, &g, e);
}

static void test_header_errors(void) {
    gb_buf b = {0};
    sm_error e;
    sm_gguf g;

    gb_put(&b, "GGUX", 4); gb_put_u32(&b, 3); gb_put_u64(&b, 0); gb_put_u64(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "magic") && has(&e, "offset 0"));

    b.n = 0; put_header(&b, 1, 0, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_VERSION);
    CHECK(has(&e, "version 1"));
    b.n = 0; put_header(&b, 4, 0, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_VERSION);
    CHECK(has(&e, "version 4"));
    b.n = 0; put_header(&b, 0x03000000u, 0, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_VERSION);
    CHECK(has(&e, "big-endian"));

    b.n = 0; put_header(&b, 3, 0, 0); b.n = 10;
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "truncated") && has(&e, "tensor count") && has(&e, "offset 8"));
    CHECK_EQ(parse_copy(b.p, 3, &g, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "magic"));
    CHECK_EQ(sm_gguf_parse(NULL, 0, &g, &e), SM_ERR_FORMAT); /* empty: truncated magic */

    /* counts far beyond what the file could hold fail before any allocation */
    b.n = 0; put_header(&b, 3, 0, (uint64_t)1 << 60); while (b.n < 100) gb_put_u8(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "key/value count 1152921504606846976 at offset 16"));
    b.n = 0; put_header(&b, 3, (uint64_t)1 << 60, 0); while (b.n < 100) gb_put_u8(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor count"));
    b.n = 0; put_header(&b, 3, UINT64_MAX, UINT64_MAX);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    b.n = 0; put_header(&b, 3, 2, 3); while (b.n < 24 + 3 * 13 + 2 * 32 - 1) gb_put_u8(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT); /* each fits alone, not both */
    CHECK(has(&e, "cannot both fit"));

    /* a file without tensors may end without padding, as llama.cpp's vocab files do */
    b.n = 0; put_header(&b, 2, 0, 1); put_key(&b, "a", SM_GGUF_UINT8); gb_put_u8(&b, 7);
    CHECK_EQ(sm_gguf_parse(b.p, b.n, &g, &e), SM_OK);
    CHECK_EQ(g.data_offset, b.n);
    CHECK_EQ(g.version, 2);
    sm_gguf_free(&g);

    CHECK_EQ(sm_gguf_parse(b.p, b.n, NULL, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_gguf_parse(NULL, 5, &g, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_gguf_parse(b.p, b.n, &g, NULL), SM_OK); /* err is optional */
    sm_gguf_free(&g);
    free(b.p);
}

static void test_kv_errors(void) {
    gb_buf b = {0};
    sm_error e;

    /* key length past the end; key at offset 24 */
    put_header(&b, 3, 0, 1); gb_put_u64(&b, 1000); gb_put(&b, "abcdefghijklmnop", 16);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "string length 1000") && has(&e, "past the end at offset 24"));

    /* string value length past the end; the value starts at 24 + 8 + 3 + 4 = 39 */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.s", SM_GGUF_STRING);
    gb_put_u64(&b, 0xFFFFFFFFFFFFFFF0ull); gb_put(&b, "xyz", 3);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "key 'k.s'") && has(&e, "string length") && has(&e, "past the end at offset 39"));

    /* array length past the end, fixed and string elements; count at 39 + 4 = 43 */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.a", SM_GGUF_ARRAY);
    gb_put_u32(&b, SM_GGUF_UINT32); gb_put_u64(&b, 5); gb_put_u32(&b, 1); gb_put_u32(&b, 2);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "key 'k.a'") && has(&e, "array length 5 at offset 43") && has(&e, "past the end"));
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.a", SM_GGUF_ARRAY);
    gb_put_u32(&b, SM_GGUF_STRING); gb_put_u64(&b, (uint64_t)1 << 60); gb_put_str(&b, "x");
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "array length 1152921504606846976"));
    /* a string element past the end inside an array */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.a", SM_GGUF_ARRAY);
    gb_put_u32(&b, SM_GGUF_STRING); gb_put_u64(&b, 2); gb_put_str(&b, "x"); gb_put_u64(&b, 9); gb_put(&b, "y", 1);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "key 'k.a'") && has(&e, "string length 9"));

    /* unknown value types, top level and as array elements */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.t", (sm_gguf_vtype)13); gb_put_u64(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "unknown value type 13 at offset 35"));
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.t", SM_GGUF_ARRAY); gb_put_u32(&b, 0xFFFFFFFFu);
    gb_put_u64(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "unknown value type 4294967295"));

    /* bools must be 0 or 1 */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.b", SM_GGUF_BOOL); gb_put_u8(&b, 2);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "key 'k.b'") && has(&e, "bool value 2"));
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.b", SM_GGUF_ARRAY); gb_put_u32(&b, SM_GGUF_BOOL);
    gb_put_u64(&b, 3); gb_put_u8(&b, 1); gb_put_u8(&b, 0); gb_put_u8(&b, 0x80);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "bool element 2 is 128"));

    /* duplicates and empty keys */
    b.n = 0; put_header(&b, 3, 0, 3); put_key(&b, "k.x", SM_GGUF_UINT8); gb_put_u8(&b, 1);
    put_key(&b, "k.y", SM_GGUF_UINT8); gb_put_u8(&b, 1); put_key(&b, "k.x", SM_GGUF_INT8); gb_put_u8(&b, 1);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "duplicate key 'k.x' at offset 56"));
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "", SM_GGUF_UINT8); gb_put_u8(&b, 1);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "empty key"));

    /* non-printable key bytes are not copied into messages */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k\n\x01", SM_GGUF_BOOL); gb_put_u8(&b, 9);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "key 'k?\?'")); /* "k??" */

    /* nesting beyond the limit */
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "k.deep", SM_GGUF_ARRAY);
    for (int i = 0; i < 40; i++) { gb_put_u32(&b, SM_GGUF_ARRAY); gb_put_u64(&b, 1); }
    gb_put_u32(&b, SM_GGUF_UINT8); gb_put_u64(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "nested deeper"));
    free(b.p);
}

static void test_alignment_errors(void) {
    gb_buf b = {0};
    sm_error e;
    put_header(&b, 3, 0, 1); put_key(&b, "general.alignment", SM_GGUF_UINT32); gb_put_u32(&b, 48);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "general.alignment is 48"));
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "general.alignment", SM_GGUF_UINT32); gb_put_u32(&b, 0);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    b.n = 0; put_header(&b, 3, 0, 1); put_key(&b, "general.alignment", SM_GGUF_UINT64);
    gb_put_u64(&b, 32);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "type UINT64"));
    free(b.p);
}

/* A file of one kv (general.alignment = 32) and the given tensor infos, then `data_len` bytes of
 * data after the padding. `ne` lists n_dims values. */
static void tensor_file(gb_buf *b, const char *const *names, size_t n, uint32_t n_dims,
                        const uint64_t *ne, uint32_t type, uint64_t offset, size_t data_len) {
    b->n = 0;
    put_header(b, 3, n, 1);
    put_key(b, "general.alignment", SM_GGUF_UINT32); gb_put_u32(b, 32);
    for (size_t k = 0; k < n; k++) {
        gb_put_str(b, names[k]);
        gb_put_u32(b, n_dims);
        for (uint32_t d = 0; d < n_dims; d++) gb_put_u64(b, ne[d]);
        gb_put_u32(b, type);
        gb_put_u64(b, offset + 64 * k);
    }
    pad_to(b, 32);
    for (size_t i = 0; i < data_len; i++) gb_put_u8(b, (uint8_t)i);
}

static void test_tensor_errors(void) {
    gb_buf b = {0};
    sm_error e;
    const char *one[] = {"w"}, *two[] = {"w", "v"}, *dup[] = {"w", "w"};
    uint64_t ne16[] = {16, 1}, ne33[] = {33}, ne0[] = {16, 0}, neg[] = {16, (uint64_t)-3};
    uint64_t ne5[] = {1, 1, 1, 1, 1}, big[] = {(uint64_t)1 << 32, (uint64_t)1 << 32};
    uint64_t huge[] = {(uint64_t)1 << 40}, ne256[] = {256};

    tensor_file(&b, one, 1, 2, ne16, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_OK);
    tensor_file(&b, one, 1, 2, ne16, 0, 0, 63);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor 'w'") && has(&e, "tensor data out of range"));
    tensor_file(&b, one, 1, 2, ne16, 0, 32, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor data out of range"));
    tensor_file(&b, one, 1, 2, ne16, 0, UINT64_MAX - 31, 64); /* offset + size would wrap */
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor data out of range"));
    tensor_file(&b, one, 1, 1, huge, 0, 0, 64); /* 2^42 bytes of F32 */
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor data out of range"));
    tensor_file(&b, one, 1, 2, ne16, 0, 0, 0);
    b.n -= 4; /* the padding before the data section is cut short too */
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "out of range"));

    tensor_file(&b, one, 1, 2, ne16, 0, 16, 128);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor 'w'") && has(&e, "not a multiple of the alignment 32"));

    tensor_file(&b, one, 1, 2, ne16, 99, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_UNSUPPORTED);
    CHECK(has(&e, "tensor 'w'") && has(&e, "type 99"));
    tensor_file(&b, one, 1, 2, ne16, 0xFFFFFFFFu, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_UNSUPPORTED);
    CHECK(has(&e, "type -1"));

    tensor_file(&b, one, 1, 1, ne33, 8, 0, 64); /* Q8_0 rows are whole blocks of 32 */
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor 'w'") && has(&e, "block size 32"));
    tensor_file(&b, one, 1, 1, ne256, 12, 0, 144); /* one Q4_K block */
    CHECK_EQ(parse_buf(&b, &e), SM_OK);

    tensor_file(&b, one, 1, 5, ne5, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "tensor 'w'") && has(&e, "too many dimensions"));
    tensor_file(&b, one, 1, 0, ne16, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "no dimensions"));
    tensor_file(&b, one, 1, 2, ne0, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "dimension 1 is 0"));
    tensor_file(&b, one, 1, 2, neg, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "dimension 1 is -3"));
    tensor_file(&b, one, 1, 2, big, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "element count overflows"));

    tensor_file(&b, two, 2, 2, ne16, 0, 0, 128);
    CHECK_EQ(parse_buf(&b, &e), SM_OK);
    tensor_file(&b, dup, 2, 2, ne16, 0, 0, 128);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "duplicate tensor name 'w'"));
    const char *empty[] = {""};
    tensor_file(&b, empty, 1, 2, ne16, 0, 0, 64);
    CHECK_EQ(parse_buf(&b, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "empty name"));
    free(b.p);
}

/* A tokenizer-sized array (150k strings) and many keys parse in one pass; duplicate detection on
 * many names must not be quadratic (this would take minutes if it were). */
static void test_large(void) {
    gb_buf b = {0};
    sm_gguf g;
    sm_error e;
    char key[32];
    enum { N_TOK = 150000, N_KEYS = 40000 };
    put_header(&b, 3, 0, N_KEYS + 1);
    put_key(&b, "tokenizer.ggml.tokens", SM_GGUF_ARRAY); gb_put_u32(&b, SM_GGUF_STRING);
    gb_put_u64(&b, N_TOK);
    for (int i = 0; i < N_TOK; i++) {
        snprintf(key, sizeof key, "tok%d", i);
        gb_put_str(&b, key);
    }
    for (int i = 0; i < N_KEYS; i++) {
        snprintf(key, sizeof key, "k.%d", i);
        put_key(&b, key, SM_GGUF_UINT8); gb_put_u8(&b, (uint8_t)i);
    }
    CHECK_EQ(sm_gguf_parse(b.p, b.n, &g, &e), SM_OK);
    sm_gguf_array a;
    CHECK(sm_gguf_get_arr(&g, "tokenizer.ggml.tokens", &a) && a.n == N_TOK);
    unsigned sum = 0;
    CHECK_EQ(walk_array(&a, &sum), N_TOK);
    uint32_t u;
    CHECK(sm_gguf_get_u32(&g, "k.39999", &u) && u == (uint8_t)39999);
    sm_gguf_free(&g);
    free(b.p);
}

static void test_reader(void) {
    const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    sm_reader r;
    sm_error e;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    sm_reader_init(&r, bytes, sizeof bytes);
    CHECK(sm_reader_u8(&r, &u8, "a", &e) == SM_OK && u8 == 1);
    CHECK(sm_reader_u16(&r, &u16, "b", &e) == SM_OK && u16 == 0x0302);
    CHECK(sm_reader_u32(&r, &u32, "c", &e) == SM_OK && u32 == 0x07060504u);
    CHECK_EQ(sm_reader_u64(&r, &u64, "d", &e), SM_ERR_FORMAT);
    CHECK(has(&e, "truncated: d needs 8 bytes at offset 7 but only 2 remain"));
    CHECK_EQ(r.pos, 7); /* a failed read does not move */
    CHECK_EQ(sm_reader_remaining(&r), 2);
    const uint8_t *p;
    CHECK_EQ(sm_reader_bytes(&r, UINT64_MAX, &p, "e", &e), SM_ERR_FORMAT);
    CHECK(sm_reader_bytes(&r, 2, &p, "e", &e) == SM_OK && p[1] == 9 && sm_reader_remaining(&r) == 0);

    float f;
    double d;
    const uint8_t fb[] = {0x00, 0x00, 0xc0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf};
    sm_reader_init(&r, fb, sizeof fb);
    CHECK(sm_reader_f32(&r, &f, "f", &e) == SM_OK && f == 1.5f);
    CHECK(sm_reader_f64(&r, &d, "g", &e) == SM_OK && d == -1.0);
    CHECK_EQ(sm_reader_f32(&r, &f, "f", NULL), SM_ERR_FORMAT); /* err optional */

    CHECK_EQ(sm_reader_as_i64(0xFF, 8), -1);
    CHECK_EQ(sm_reader_as_i64(0x7F, 8), 127);
    CHECK_EQ(sm_reader_as_i64(0x8000, 16), -32768);
    CHECK_EQ(sm_reader_as_i64(0xFFFFFFFFu, 32), -1);
    CHECK(sm_reader_as_i64(UINT64_MAX, 64) == -1);
    CHECK(sm_reader_as_i64((uint64_t)1 << 63, 64) == INT64_MIN);

    const uint8_t cb[] = {3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6};
    sm_reader_init(&r, cb, sizeof cb);
    CHECK_EQ(sm_reader_count(&r, 3, &u64, "widget count", &e), SM_ERR_FORMAT);
    CHECK(has(&e, "widget count 3 at offset 0"));
    CHECK_EQ(r.pos, 0);
    CHECK(sm_reader_count(&r, 2, &u64, "widget count", &e) == SM_OK && u64 == 3);
}

int main(void) {
    test_reader();
    test_valid(3, 0);
    test_valid(2, 0);
    test_valid(3, 32);
    test_valid(3, 64);
    test_valid(3, 256);
    test_truncations(0);
    test_truncations(64);
    test_mutations(0);
    test_mutations(64);
    test_header_errors();
    test_kv_errors();
    test_alignment_errors();
    test_tensor_errors();
    test_large();
    return sm_check_report("test_gguf");
}
