/*
 * test_smnd_json.c — the SMND metadata parser (src/io/smnd_json.c, docs/SMND.md §3) on hand-written
 * documents: every value type and its encodings read back exactly; JSON's escapes, surrogate pairs
 * and UTF-8 rules; each malformed or out-of-spec document fails with SM_ERR_FORMAT and a message
 * naming the problem; the version 1 rules; the bounds (nesting, number length).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/smnd.h"
#include "smnd_test.h"

static sm_status parse(const char *json, uint32_t version, sm_gguf *g, sm_smnd_meta *m,
                       sm_error *e) {
    /* an exact-size copy, so ASan sees any read past the end */
    const size_t n = strlen(json);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, json, n);
    sm_status st = sm_smnd_meta_parse(copy, n, version, g, m, e);
    free(copy);
    return st;
}

#define DOC(kv) "{\"tensor_count\":0,\"kv\":[" kv "]}"

static void test_values(void) {
    const char *json =
        "{ \"provenance\" : {\"a\": [1, {\"b\": null}, true, false, -0.5e3, \"x\\u00e9\"]},\n"
        "  \"future_member\": [[[]]],\n"
        "  \"kv\": [\n"
        "   [\"u8\", \"u8\", 255], [\"i8\", \"i8\", -128], [\"u16\", \"u16\", 65535],\n"
        "   [\"i16\", \"i16\", -32768], [\"u32\", \"u32\", 4294967295], [\"i32\", \"i32\", "
        "-2147483648],\n"
        "   [\"u64\", \"u64\", \"18446744073709551615\"], [\"u64n\", \"u64\", 9007199254740993],\n"
        "   [\"i64\", \"i64\", \"-9223372036854775808\"], [\"i64n\", \"i64\", -5],\n"
        "   [\"f32\", \"f32\", 0.000009999999747378752], [\"f32e\", \"f32\", 1e-45],\n"
        "   [\"nan\", \"f32\", \"NaN\"], [\"inf\", \"f64\", \"-Infinity\"], [\"nz\", \"f32\", "
        "-0],\n"
        "   [\"f64\", \"f64\", 0.1], [\"t\", \"bool\", true], [\"f\", \"bool\", false],\n"
        "   [\"s\", \"str\", \"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\ud83e\\udd99\xe2\x96\x81\"],\n"
        "   [\"raw\", \"str\", {\"base64\": \"/8CA\"}], [\"e\", \"str\", \"\"],\n"
        "   [\"f32s\", \"f32[]\", \"AACAPwAAAMA=\"], [\"u8s\", \"u8[]\", \"AQID\"], [\"none\", "
        "\"i64[]\", \"\"],\n"
        "   [\"bools\", \"bool[]\", \"AQA=\"], [\"strs\", \"str[]\", [\"x\", {\"base64\": "
        "\"gA==\"}, \"\"]],\n"
        "   [\"nostrs\", \"str[]\", []], [\"tokenizer.ggml.model\", \"str\", \"llama\"]\n"
        "  ],\n"
        "  \"tensor_count\": 4294967295 }\n";
    sm_gguf g;
    sm_smnd_meta m;
    sm_error e;
    CHECK_EQ(parse(json, 2, &g, &m, &e), SM_OK);
    if (e.code) fprintf(stderr, "  %s\n", e.msg);
    CHECK_EQ(m.tensor_count, 4294967295u);
    CHECK(m.needs_v2);
    CHECK_EQ(g.n_kv, 28);
    const sm_gguf_kv *kv;
    uint32_t u;
    int32_t i;
    float f;
    CHECK(sm_gguf_get_u32(&g, "u8", &u) && u == 255);
    CHECK(sm_gguf_get_i32(&g, "i8", &i) && i == -128);
    CHECK(sm_gguf_get_u32(&g, "u32", &u) && u == 4294967295u);
    CHECK(sm_gguf_get_i32(&g, "i32", &i) && i == INT32_MIN);
    CHECK((kv = sm_gguf_find(&g, "u64")) && kv->type == SM_GGUF_UINT64 && kv->v.u64 == UINT64_MAX);
    CHECK((kv = sm_gguf_find(&g, "u64n")) && kv->v.u64 == 9007199254740993ull);
    CHECK((kv = sm_gguf_find(&g, "i64")) && kv->type == SM_GGUF_INT64 && kv->v.i64 == INT64_MIN);
    CHECK((kv = sm_gguf_find(&g, "i64n")) && kv->v.i64 == -5);
    CHECK(sm_gguf_get_f32(&g, "f32", &f) && f == 1e-5f);
    CHECK(sm_gguf_get_f32(&g, "f32e", &f) && f > 0 && f == 1e-45f);
    CHECK((kv = sm_gguf_find(&g, "nan")) && isnan(kv->v.f64));
    CHECK((kv = sm_gguf_find(&g, "inf")) && kv->type == SM_GGUF_FLOAT64 && isinf(kv->v.f64) &&
          kv->v.f64 < 0);
    CHECK((kv = sm_gguf_find(&g, "nz")) && kv->v.f64 == 0 && signbit(kv->v.f64));
    CHECK((kv = sm_gguf_find(&g, "f64")) && kv->v.f64 == 0.1);
    bool b;
    CHECK(sm_gguf_get_bool(&g, "t", &b) && b);
    CHECK(sm_gguf_get_bool(&g, "f", &b) && !b);
    sm_gguf_str s;
    CHECK(sm_gguf_get_str(&g, "s", &s) && s.len == 17 &&
          memcmp(s.ptr, "a\"\\/\b\f\n\r\t\0\xf0\x9f\xa6\x99\xe2\x96\x81", 17) == 0);
    CHECK(sm_gguf_get_str(&g, "raw", &s) && s.len == 3 && memcmp(s.ptr, "\xff\xc0\x80", 3) == 0);
    CHECK(sm_gguf_get_str(&g, "e", &s) && s.len == 0);
    sm_gguf_array a;
    CHECK(sm_gguf_get_arr(&g, "f32s", &a) && a.type == SM_GGUF_FLOAT32 && a.n == 2);
    float fs[2];
    memcpy(fs, a.data, 8);
    CHECK(fs[0] == 1.0f && fs[1] == -2.0f);
    CHECK(sm_gguf_get_arr(&g, "u8s", &a) && a.n == 3 && a.data[2] == 3);
    CHECK(sm_gguf_get_arr(&g, "none", &a) && a.type == SM_GGUF_INT64 && a.n == 0);
    CHECK(sm_gguf_get_arr(&g, "bools", &a) && a.type == SM_GGUF_BOOL && a.n == 2);
    CHECK(sm_gguf_get_arr(&g, "strs", &a) && a.type == SM_GGUF_STRING && a.n == 3);
    sm_gguf_array_iter it;
    sm_gguf_array_iter_init(&it, &a);
    CHECK(sm_gguf_array_iter_next(&it, &s, NULL, NULL) && s.len == 1 && s.ptr[0] == 'x');
    CHECK(sm_gguf_array_iter_next(&it, &s, NULL, NULL) && s.len == 1 && (uint8_t)s.ptr[0] == 0x80);
    CHECK(sm_gguf_array_iter_next(&it, &s, NULL, NULL) && s.len == 0);
    CHECK(!sm_gguf_array_iter_next(&it, &s, NULL, NULL));
    CHECK(sm_gguf_get_arr(&g, "nostrs", &a) && a.n == 0);
    CHECK(strcmp(g.kv[0].key.ptr, "u8") != 0 || g.kv[0].key.len == 2);
    sm_gguf_free(&g);
    /* the smallest document */
    CHECK_EQ(parse("{\"kv\":[],\"tensor_count\":0}", 1, &g, &m, &e), SM_OK);
    CHECK(!m.needs_v2 && g.n_kv == 0);
    sm_gguf_free(&g);
}

typedef struct bad_case {
    const char *json;
    const char *needle;
} bad_case;

static void test_bad(void) {
    static const bad_case cases[] = {
        {"", "expected '{'"},
        {"[]", "expected '{'"},
        {"{\"kv\":[]}", "missing member 'tensor_count'"},
        {"{\"tensor_count\":0}", "missing member 'kv'"},
        {"{\"tensor_count\":0,\"kv\":[],\"kv\":[]}", "'kv' appears twice"},
        {"{\"tensor_count\":0,\"kv\":[]} x", "after the JSON object"},
        {"{\"tensor_count\":0,\"kv\":[],}", "expected '\"'"},
        {"{\"tensor_count\":-1,\"kv\":[]}", "out of range"},
        {"{\"tensor_count\":4294967296,\"kv\":[]}", "out of range"},
        {"{\"tensor_count\":1.0,\"kv\":[]}", "not a fraction"},
        {"{\"tensor_count\":01,\"kv\":[]}", "expected '}'"},
        {"{\"tensor_count\":0,\"kv\":[],\"provenance\":[]}", "must be an object"},
        {"{\"tensor_count\":0,\"kv\":{}}", "expected '['"},
        {DOC("[\"a\",\"u8\",256]"), "kv[0] 'a': integer out of range"},
        {DOC("[\"a\",\"i8\",-129]"), "out of range"},
        {DOC("[\"a\",\"u32\",-0]"), NULL},
        {DOC("[\"a\",\"u64\",\"18446744073709551616\"]"), "out of range"},
        {DOC("[\"a\",\"u64\",\"-1\"]"), "out of range"},
        {DOC("[\"a\",\"u64\",\"1x\"]"), "decimal digits"},
        {DOC("[\"a\",\"u32\",\"1\"]"), "expected a number"},
        {DOC("[\"a\",\"i64\",\"9223372036854775808\"]"), "out of range"},
        {DOC("[\"a\",\"f32\",1e39]"), "out of range for f32"},
        {DOC("[\"a\",\"f32\",\"nan\"]"), "NaN"},
        {DOC("[\"a\",\"f32\",.5]"), "expected a number"},
        {DOC("[\"a\",\"f32\",1.]"), "bad number"},
        {DOC("[\"a\",\"f32\",1e]"), "bad number"},
        {DOC("[\"a\",\"f32\",1"
             "00000000000000000000000000000000000000000000000000000000000000000000000000000"
             "000000000000000000000000000000000000000000000000000000000000]"),
         "longer than 127"},
        {DOC("[\"a\",\"bool\",1]"), "true or false"},
        {DOC("[\"a\",\"bool\",tru]"), "true or false"},
        {DOC("[\"a\",\"str\",\"\x01\"]"), "control byte"},
        {DOC("[\"a\",\"str\",\"\xff\"]"), "invalid UTF-8"},
        {DOC("[\"a\",\"str\",\"\xc0\x80\"]"), "invalid UTF-8"},
        {DOC("[\"a\",\"str\",\"\xed\xa0\x80\"]"), "invalid UTF-8"},
        {DOC("[\"a\",\"str\",\"\xf4\x90\x80\x80\"]"), "invalid UTF-8"},
        {DOC("[\"a\",\"str\",\"\xe2\x96\"]"), "invalid UTF-8"},
        {DOC("[\"a\",\"str\",\"\\ud800\"]"), "lone surrogate"},
        {DOC("[\"a\",\"str\",\"\\udc00\"]"), "lone surrogate"},
        {DOC("[\"a\",\"str\",\"\\ud800\\u0041\"]"), "lone surrogate"},
        {DOC("[\"a\",\"str\",\"\\u00g0\"]"), "\\u escape"},
        {DOC("[\"a\",\"str\",\"\\x\"]"), "unknown escape"},
        {DOC("[\"a\",\"str\",\"abc"), "unterminated"},
        {DOC("[\"a\",\"str\",{\"b64\":\"\"}]"), "base64"},
        {DOC("[\"a\",\"str\",{\"base64\":\"A\"}]"), "multiple of 4"},
        {DOC("[\"a\",\"str\",{\"base64\":\"AB==\"}]"), "non-canonical"},
        {DOC("[\"a\",\"str\",{\"base64\":\"A===\"}]"), "not base64"},
        {DOC("[\"a\",\"str\",{\"base64\":\"AA=A\"}]"), "not base64"},
        {DOC("[\"a\",\"str\",{\"base64\":\"AA==AAAA\"}]"), "not base64"},
        {DOC("[\"a\",\"u32[]\",\"AAA=\"]"), "whole number of u32"},
        {DOC("[\"a\",\"bool[]\",\"Ag==\"]"), "not 0 or 1"},
        {DOC("[\"a\",\"str[]\",[1]]"), "expected '\"'"},
        {DOC("[\"a\",\"str[]\",\"x\"]"), "expected '['"},
        {DOC("[\"a\",\"arr\",[]]"), "unknown type 'arr'"},
        {DOC("[\"a\",\"u32[][]\",\"\"]"), "unknown type"},
        {DOC("[\"a\",\"U32\",1]"), "unknown type"},
        {DOC("[\"\",\"u32\",1]"), "key length"},
        {DOC("[\"a\",\"u32\",1,2]"), "expected ']'"},
        {DOC("[\"a\",\"u32\"]"), "expected ','"},
        {DOC("[\"a\",\"u32\",1],[\"a\",\"u8\",1]"), "duplicate key 'a'"},
        {"{\"tensor_count\":0,\"kv\":[],\"x\":"
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
         "deeper than 32"},
        {"{\"tensor_count\":0,\"kv\":[],\"x\":nul}", "expected a number"},
        {"{\"tensor_count\":0,\"kv\":[],\"x\":{1:2}}", "expected '\"'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sm_gguf g;
        sm_smnd_meta m;
        sm_error e;
        const sm_status st = parse(cases[k].json, 2, &g, &m, &e);
        if (!cases[k].needle) {
            CHECK_EQ(st, SM_OK); /* -0 is 0 */
            sm_gguf_free(&g);
            continue;
        }
        if (st != SM_ERR_FORMAT)
            fprintf(stderr, "  case %zu: status %d (%s)\n", k, st, cases[k].json);
        CHECK_EQ(st, SM_ERR_FORMAT);
        CHECK(msg_has(&e, cases[k].needle));
        CHECK(g.kv == NULL && g.owned == NULL);
    }
}

static void test_version_rules(void) {
    sm_gguf g;
    sm_smnd_meta m;
    sm_error e;
    CHECK_EQ(parse(DOC("[\"tokenizer.ggml.model\",\"str\",\"llama\"]"), 1, &g, &m, &e),
             SM_ERR_FORMAT);
    CHECK(msg_has(&e, "need SMND version 2"));
    CHECK_EQ(parse(DOC("[\"optim.step\",\"u64\",3]"), 1, &g, &m, &e), SM_ERR_FORMAT);
    CHECK_EQ(parse(DOC("[\"optim.step\",\"u64\",3]"), 2, &g, &m, &e), SM_OK);
    CHECK(m.needs_v2);
    sm_gguf_free(&g);
    CHECK_EQ(
        parse(DOC("[\"tokenizer\",\"u64\",3],[\"general.tokenizer.x\",\"u8\",1]"), 1, &g, &m, &e),
        SM_OK);
    CHECK(!m.needs_v2);
    sm_gguf_free(&g);
}

/* A long vocabulary-sized document: many keys and array elements stay exact. */
static void test_large(void) {
    gb_buf b = {0};
    const char *head = "{\"tensor_count\":0,\"kv\":[[\"tokenizer.ggml.tokens\",\"str[]\",[";
    gb_put(&b, head, strlen(head));
    for (int i = 0; i < 20000; i++) {
        char t[32];
        int n = snprintf(t, sizeof t, "%s\"t%d\\n\"", i ? "," : "", i);
        gb_put(&b, t, (size_t)n);
    }
    gb_put(&b, "]]", 2);
    for (int i = 0; i < 3000; i++) {
        char t[64];
        int n = snprintf(t, sizeof t, ",[\"k%d\",\"i32\",%d]", i, -i);
        gb_put(&b, t, (size_t)n);
    }
    gb_put(&b, "]}", 3);
    sm_gguf g;
    sm_smnd_meta m;
    sm_error e;
    CHECK_EQ(parse((const char *)b.p, 2, &g, &m, &e), SM_OK);
    CHECK_EQ(g.n_kv, 3001);
    sm_gguf_array a;
    CHECK(sm_gguf_get_arr(&g, "tokenizer.ggml.tokens", &a) && a.n == 20000);
    sm_gguf_array_iter it;
    sm_gguf_str s;
    sm_gguf_array_iter_init(&it, &a);
    int bad = 0;
    for (int i = 0; sm_gguf_array_iter_next(&it, &s, NULL, NULL); i++) {
        char t[32];
        int n = snprintf(t, sizeof t, "t%d\n", i);
        bad += s.len != (uint64_t)n || memcmp(s.ptr, t, (size_t)n) != 0;
    }
    CHECK_EQ(bad, 0);
    int32_t v;
    CHECK(sm_gguf_get_i32(&g, "k2999", &v) && v == -2999);
    sm_gguf_free(&g);
    free(b.p);
}

int main(void) {
    test_values();
    test_bad();
    test_version_rules();
    test_large();
    return sm_check_report("test_smnd_json");
}
