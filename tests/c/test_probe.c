/*
 * test_probe.c — tests of sm_model_probe_header: early answers from the first bytes of a download
 * (src/model/load.c over the prefix walk of src/io/gguf.c).
 *
 * Every prefix of valid files (whole files and gguf-split parts, file size known and unknown) is
 * probed from an exact-size copy (so ASan sees any read past it): never an error, bytes_needed
 * beyond the prefix, within the file and never decreasing, completion exactly where the tensor
 * table ends, with the facts the full parser reads. A download loop that probes again only once
 * bytes_needed have arrived finishes in a few calls. Early errors: bytes that are not GGUF (HTML,
 * a Git LFS pointer, JSON, gzip, text) say what they look like, in the full loader too; an
 * unsupported architecture fails as soon as its key has arrived; unrunnable tensor types; a file
 * too short for its tensors. Mutated headers: errors and completion, once reached, persist as the
 * prefix grows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf_build.h"
#include "kern/types.h"
#include "sm.h"

static bool has(const sm_error *e, const char *needle) {
    if (strstr(e->msg, needle)) return true;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", e->msg, needle);
    return false;
}

/* Probes the first len bytes from a private exact-size copy. */
static sm_status probe(const uint8_t *file, size_t len, uint64_t file_size, sm_model_probe *p,
                       sm_error *e) {
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len) memcpy(copy, file, len);
    memset(p, 0xA5, sizeof *p); /* must be overwritten */
    sm_status st = sm_model_probe_header(copy, len, file_size, p, e);
    free(copy);
    return st;
}

/* End of the tensor table: where a whole header ends, computed from the parsed file. */
static uint64_t table_end(const uint8_t *file, size_t size, sm_gguf *g) {
    if (sm_gguf_parse(file, size, g, NULL) != SM_OK) return 0;
    if (g->n_tensors == 0) return 0;
    const sm_gguf_tensor *t = &g->tensors[g->n_tensors - 1];
    return (uint64_t)((const uint8_t *)t->name.ptr - file) + t->name.len + 4 + 8 * t->n_dims + 4 +
           8;
}

/* Probes every prefix of a valid file, with its size known and unknown. */
static void check_every_prefix(const char *what, const uint8_t *file, size_t size,
                               const char *arch, int32_t split_no, int32_t split_count) {
    sm_gguf g;
    const uint64_t end = table_end(file, size, &g);
    CHECK(end > 0 && end < size);
    for (int known = 0; known < 2; known++) {
        const uint64_t fs = known ? size : 0;
        uint64_t prev_need = 0;
        int bad = 0, n_complete = 0;
        size_t first_complete = 0;
        for (size_t len = 0; len <= size; len++) {
            sm_model_probe p;
            sm_error e;
            sm_status st = probe(file, len, fs, &p, &e);
            if (st != SM_OK) {
                if (bad++ < 3) fprintf(stderr, "  %s: len %zu: %s\n", what, len, e.msg);
                continue;
            }
            if (!p.complete) {
                bool ok = p.bytes_needed > len && p.bytes_needed >= prev_need &&
                          (!known || p.bytes_needed <= size) && n_complete == 0 &&
                          p.header_bytes == 0 && (len < end);
                if (!ok && bad++ < 3)
                    fprintf(stderr, "  %s: len %zu: need %llu (prev %llu)\n", what, len,
                            (unsigned long long)p.bytes_needed, (unsigned long long)prev_need);
                prev_need = p.bytes_needed;
                if (p.bytes_needed > end) bad++; /* a lower bound of the header's end */
                if (p.arch[0] && strcmp(p.arch, arch) != 0) bad++;
                continue;
            }
            if (n_complete++ == 0) first_complete = len;
            bool ok = p.bytes_needed == end && p.header_bytes == g.data_offset &&
                      strcmp(p.arch, arch) == 0 && p.split_no == split_no &&
                      p.split_count == split_count && p.n_tensors == g.n_tensors &&
                      p.n_kv == g.n_kv;
            if (!ok && bad++ < 3) fprintf(stderr, "  %s: len %zu: wrong facts\n", what, len);
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(first_complete, end);
        CHECK_EQ(n_complete, size - end + 1);
    }
    sm_gguf_free(&g);
}

static gb_llama small_model(void) {
    gb_llama s = gb_llama_default();
    s.n_vocab = 8, s.n_embd = 8, s.n_layer = 1, s.n_head = 2, s.n_head_kv = 1, s.n_ff = 16;
    s.n_ctx_train = 16, s.rope_freqs = true;
    return s;
}

static void test_every_prefix(void) {
    static gb_vocab vocab = {8, "{% for m in messages %}{{ m.content }}{% endfor %}"};
    gb_llama s = small_model();
    s.extra_kvs = gb_kv_vocab;
    s.ctx = &vocab;
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    check_every_prefix("whole file", file, size, "llama", 0, 1);

    /* the parts of the same model: metadata only in part 0 */
    uint8_t *parts[3];
    size_t sizes[3];
    gb_split_spec spec = gb_split_default(3);
    CHECK(gb_split(file, size, &spec, parts, sizes));
    check_every_prefix("part 1 of 3", parts[0], sizes[0], "llama", 0, 3);
    check_every_prefix("part 2 of 3", parts[1], sizes[1], "", 1, 3);
    check_every_prefix("part 3 of 3", parts[2], sizes[2], "", 2, 3);
    for (int k = 0; k < 3; k++) free(parts[k]);
    free(file);

    /* a larger alignment: the data section starts later than the table ends */
    s = small_model();
    s.extra_kvs = NULL;
    file = gb_llama_build(&s, &size);
    sm_model_probe p;
    sm_error e;
    CHECK_EQ(probe(file, size, size, &p, &e), SM_OK);
    CHECK(p.complete == 1 && p.header_bytes % 32 == 0 && p.header_bytes >= p.bytes_needed);
    free(file);
}

/* A download that probes again only once bytes_needed have arrived. Returns the probe count. */
static int download_loop(const uint8_t *file, size_t size, uint64_t fs, sm_model_probe *p) {
    size_t have = 0;
    int calls = 0;
    sm_error e;
    for (;;) {
        calls++;
        if (probe(file, have, fs, p, &e) != SM_OK) {
            fprintf(stderr, "  download loop: %s\n", e.msg);
            return -1;
        }
        if (p->complete || p->bytes_needed > size || calls > 1000) return calls;
        have = (size_t)p->bytes_needed;
    }
}

static void test_download_loop(void) {
    /* a real-sized vocabulary: most of a small model's header is its token strings */
    static gb_vocab vocab = {4096, "{{ bos_token }}"};
    gb_llama s = gb_llama_default();
    s.n_vocab = 4096;
    s.extra_kvs = gb_kv_vocab;
    s.ctx = &vocab;
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    sm_gguf g;
    const uint64_t end = table_end(file, size, &g);
    sm_gguf_free(&g);
    for (int known = 0; known < 2; known++) {
        sm_model_probe p;
        int calls = download_loop(file, size, known ? size : 0, &p);
        printf("test_probe: header of %llu bytes (4096 tokens) complete after %d probes\n",
               (unsigned long long)end, calls);
        CHECK(calls > 0 && calls <= 40);
        CHECK(p.complete == 1 && p.bytes_needed == end);
    }
    free(file);
}

/* ---- early errors ---------------------------------------------------------------------------- */

/* Every byte of a message is printable ASCII (file bytes quoted in it included). */
static bool printable_msg(const char *m) {
    for (; *m; m++)
        if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f) return false;
    return true;
}

typedef struct not_gguf_case {
    const char *bytes;
    size_t len;
    const char *needle1, *needle2;
} not_gguf_case;

static void test_not_gguf(void) {
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
    static const char st[] = "\x40\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{}}";
    static const not_gguf_case cases[] = {
        {"<!DOCTYPE html>\n<html lang=\"en\"><head><title>Sign in</title>", 0,
         "it starts with '<!DOCTYPE html>'", "an HTML page, not a model"},
        {"\xEF\xBB\xBF\r\n  <html><body>404</body></html>", 0, "'<html><body>404", "HTML page"},
        {"version https://git-lfs.github.com/spec/v1\noid sha256:4d2c\nsize 123\n", 0,
         "'version https://git-lfs.github.com/spec/v1'", "Git LFS pointer"},
        {"{\"error\":\"Repository not found\"}", 0, "'{\"error\":\"Repository not found\"}'",
         "JSON"},
        {"Entry not found", 0, "it starts with 'Entry not found'", "text, not a model"},
        {gz, sizeof gz - 1, "gzip", "1f 8b 08 00"},
        {st, sizeof st - 1, "safetensors", NULL},
        {"PK\x03\x04\x14\x00\x00\x00", 8, "ZIP archive", NULL},
        {"tjgg\x01\x00\x00\x00", 8, "pre-GGUF ggjt", NULL},
        {"\x01\x02\x03\x04\x05\x06\x07\x08", 8, "magic at offset 0 is 01 02 03 04, not 'GGUF'",
         NULL},
        {"Plain text with a \x01 control byte, then more", 0, "magic at offset 0 is", NULL},
        {"GGXF", 4, "magic at offset 0 is 47 47 58 46", NULL},
        {"<", 1, "not a GGUF file", "3c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const not_gguf_case *c = &cases[i];
        const size_t len = c->len ? c->len : strlen(c->bytes);
        sm_model_probe p;
        sm_error e, le;
        CHECK_EQ(probe((const uint8_t *)c->bytes, len, 0, &p, &e), SM_ERR_FORMAT);
        CHECK(has(&e, "not a GGUF file"));
        CHECK(has(&e, c->needle1));
        if (c->needle2) CHECK(has(&e, c->needle2));
        CHECK(printable_msg(e.msg));
        CHECK(p.complete == 0 && p.bytes_needed == 0);
        /* the full loader says the same (a 1-byte file is too short to be anything else) */
        uint8_t *copy = malloc(len);
        memcpy(copy, c->bytes, len);
        sm_model *m = NULL;
        CHECK_EQ(sm_model_load_from_memory(copy, len, NULL, &m, &le), SM_ERR_FORMAT);
        CHECK(strcmp(e.msg, le.msg) == 0);
        free(copy);
    }
    /* the start of a GGUF file is not an error yet */
    sm_model_probe p;
    sm_error e;
    CHECK_EQ(probe((const uint8_t *)"GGU", 3, 0, &p, &e), SM_OK);
    CHECK(p.complete == 0 && p.bytes_needed == 4);
    CHECK_EQ(probe((const uint8_t *)"GGUF", 4, 0, &p, &e), SM_OK);
    CHECK(p.complete == 0 && p.bytes_needed == 8);
    CHECK_EQ(probe((const uint8_t *)"GGUF\x01\x00\x00\x00", 8, 0, &p, &e), SM_ERR_VERSION);
    CHECK_EQ(probe(NULL, 0, 0, &p, &e), SM_OK);
    CHECK(p.complete == 0 && p.bytes_needed == 4);
}

/* Offset just past general.architecture, the first key gb_llama_build writes. */
static size_t arch_key_end(const char *arch) {
    return 24 + 8 + strlen("general.architecture") + 4 + 8 + strlen(arch);
}

static void add_arch_u32(gguf_builder *b, void *ctx) {
    (void)ctx;
    gb_kv_u32(b, "general.architecture", 7);
}

static void test_arch(void) {
    gb_llama s = small_model();
    s.arch = "mamba";
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    const size_t at = arch_key_end("mamba");
    for (int known = 0; known < 2; known++) {
        sm_model_probe p;
        sm_error e;
        CHECK_EQ(probe(file, at - 1, known ? size : 0, &p, &e), SM_OK);
        CHECK(p.complete == 0 && p.bytes_needed >= at);
        /* decided from the key alone: the rest of the header has not arrived */
        CHECK_EQ(probe(file, at, known ? size : 0, &p, &e), SM_ERR_UNSUPPORTED);
        CHECK(has(&e, "architecture 'mamba' is not supported") && has(&e, "llama"));
        CHECK_EQ(probe(file, size, size, &p, &e), SM_ERR_UNSUPPORTED);
    }
    free(file);

    s = small_model();
    file = gb_llama_build(&s, &size);
    sm_model_probe p;
    sm_error e;
    CHECK_EQ(probe(file, arch_key_end("llama"), size, &p, &e), SM_OK);
    CHECK(p.complete == 0 && strcmp(p.arch, "llama") == 0);
    free(file);

    /* no architecture: known missing only once every key has arrived */
    s = small_model();
    s.omit_key = "general.architecture";
    file = gb_llama_build(&s, &size);
    CHECK_EQ(probe(file, 100, size, &p, &e), SM_OK);
    CHECK(p.complete == 0);
    CHECK_EQ(probe(file, size, size, &p, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "missing required key 'general.architecture'"));
    free(file);

    s.extra_kvs = add_arch_u32;
    file = gb_llama_build(&s, &size);
    CHECK_EQ(probe(file, size, size, &p, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "general.architecture") && has(&e, "UINT32"));
    free(file);

    /* a required hyper-parameter is checked once the metadata is complete */
    s = small_model();
    s.omit_key = "llama.embedding_length";
    file = gb_llama_build(&s, &size);
    CHECK_EQ(probe(file, size, size, &p, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "missing required key 'llama.embedding_length'"));
    free(file);
}

/* Offset just past the info of the tensor called `name` in a file. */
static size_t info_end(const uint8_t *file, size_t size, const char *name) {
    sm_gguf g;
    size_t end = 0;
    const sm_gguf_tensor *t = NULL;
    if (sm_gguf_parse(file, size, &g, NULL) == SM_OK && (t = sm_gguf_find_tensor(&g, name))) {
        end = (size_t)((const uint8_t *)t->name.ptr - file) + (size_t)t->name.len + 4 +
              8 * t->n_dims + 4 + 8;
    }
    sm_gguf_free(&g);
    return end;
}

static void test_tensor_types(void) {
    gb_llama s = gb_llama_default();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size); /* the same header layout, for the offsets */
    const size_t at = info_end(file, size, "output_norm.weight"); /* the info before */
    CHECK(at > 0);
    free(file);
    s.retype_tensor = "output.weight", s.retype = 1000; /* a type id this build does not know */
    file = gb_llama_build(&s, &size);
    sm_model_probe p;
    sm_error e;
    CHECK_EQ(probe(file, at, size, &p, &e), SM_OK);
    CHECK_EQ(p.complete, 0);
    /* decided once the type field has arrived, before the rest of the table */
    const size_t type_end = at + 8 + strlen("output.weight") + 4 + 2 * 8 + 4;
    CHECK_EQ(probe(file, type_end - 1, size, &p, &e), SM_OK);
    CHECK_EQ(probe(file, type_end, size, &p, &e), SM_ERR_UNSUPPORTED);
    CHECK(has(&e, "tensor 'output.weight'") && has(&e, "unknown tensor type 1000"));
    free(file);

    /* a weight in an activation-only type: only binding knows it is a weight, so the loader
     * refuses it, not the probe */
    s.retype = SM_TYPE_Q8_1; /* rows of 32: one whole Q8_1 block */
    file = gb_llama_build(&s, &size);
    CHECK_EQ(probe(file, size, size, &p, &e), SM_OK);
    CHECK_EQ(p.complete, 1);
    sm_model *m = NULL;
    CHECK_EQ(sm_model_load_from_memory(file, size, NULL, &m, &e), SM_ERR_UNSUPPORTED);
    CHECK(has(&e, "output.weight") && has(&e, "Q8_1"));
    free(file);

    s.retype = SM_TYPE_Q8_0;
    file = gb_llama_build(&s, &size);
    CHECK_EQ(probe(file, size, size, &p, &e), SM_OK);
    CHECK_EQ(p.complete, 1);
    free(file);
}

static void test_truncated(void) {
    gb_llama s = small_model();
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    sm_gguf g;
    const size_t end = (size_t)table_end(file, size, &g);
    const sm_gguf_tensor *last = &g.tensors[g.n_tensors - 1];
    char name[96];
    snprintf(name, sizeof name, "%.*s", (int)last->name.len, last->name.ptr);
    sm_model_probe p;
    sm_error e;
    /* the header has arrived; the server said the file is one byte shorter than the tensors */
    CHECK_EQ(probe(file, end, size - 1, &p, &e), SM_ERR_FORMAT);
    char want[192];
    snprintf(want, sizeof want, "truncated: tensor '%s' ends at byte %zu but the file has %zu",
             name, size, size - 1);
    CHECK(has(&e, want));
    CHECK_EQ(probe(file, end, size, &p, &e), SM_OK);
    CHECK_EQ(p.complete, 1);
    CHECK_EQ(probe(file, end, 0, &p, &e), SM_OK); /* unknown size: cannot tell yet */
    CHECK_EQ(p.complete, 1);
    /* a file too small even for the header's counts */
    CHECK_EQ(probe(file, 24, 100, &p, &e), SM_ERR_FORMAT);
    CHECK(has(&e, "impossible") || has(&e, "cannot both fit"));
    /* the loader, given the truncated file itself, refuses it too */
    sm_model *m = NULL;
    CHECK_EQ(sm_model_load_from_memory(file, size - 1, NULL, &m, &e), SM_ERR_FORMAT);
    CHECK(has(&e, name));
    sm_gguf_free(&g);
    free(file);
}

static void test_args(void) {
    sm_model_probe p;
    sm_error e;
    CHECK_EQ(sm_model_probe_header("GGUF", 4, 0, NULL, &e), SM_ERR_INVALID_ARG);
    CHECK_EQ(sm_model_probe_header(NULL, 4, 0, &p, &e), SM_ERR_INVALID_ARG);
    CHECK(e.msg[0] != '\0');
    CHECK_EQ(sm_model_probe_header("GGUF", 4, 3, &p, &e), SM_ERR_INVALID_ARG); /* prefix > file */
    CHECK_EQ(sm_model_probe_header("GGUF", 4, 0, &p, NULL), SM_OK);            /* err optional */
}

/* Random header mutations: at growing prefixes, once an error or completion is reached it stays,
 * bytes_needed only grows, and a complete probe of the whole file means the parser accepts it. */
static void test_mutations(void) {
    static gb_vocab vocab = {8, "x"};
    gb_llama s = small_model();
    s.extra_kvs = gb_kv_vocab;
    s.ctx = &vocab;
    size_t size;
    uint8_t *file = gb_llama_build(&s, &size);
    sm_gguf g;
    const size_t end = (size_t)table_end(file, size, &g);
    sm_gguf_free(&g);
    uint8_t *m = malloc(size);
    uint64_t rng = 99;
    int bad = 0, n_err = 0, n_complete = 0;
    for (int run = 0; run < 400; run++) {
        memcpy(m, file, size);
        const int n_flips = 1 + (int)(gb_rand_u64(&rng) % 3);
        for (int k = 0; k < n_flips; k++)
            m[gb_rand_u64(&rng) % end] ^= (uint8_t)(1 + gb_rand_u64(&rng) % 255);
        const uint64_t fs = run % 2 ? size : 0;
        uint64_t prev = 0;
        int state = 0; /* 0 incomplete, 1 complete, 2 error */
        for (size_t len = 0; len <= size; len += 1 + (size_t)(gb_rand_u64(&rng) % 97)) {
            sm_model_probe p;
            sm_error e;
            sm_status st = probe(m, len, fs, &p, &e);
            int now = st != SM_OK ? 2 : p.complete ? 1 : 0;
            if (now < state || (now == 1 && state == 2) || (now == 2 && state == 1)) bad++;
            if (now == 0 && (p.bytes_needed <= len || p.bytes_needed < prev)) bad++;
            if (now == 2 && (e.code != st || e.msg[0] == '\0' || !printable_msg(e.msg))) bad++;
            if (now == 0) prev = p.bytes_needed;
            state = now;
        }
        sm_model_probe p;
        sm_error e;
        sm_status st = probe(m, size, size, &p, &e);
        if (st == SM_OK && p.complete) {
            n_complete++;
            sm_gguf mg;
            if (sm_gguf_parse(m, size, &mg, NULL) != SM_OK) bad++;
            sm_gguf_free(&mg);
        } else if (st != SM_OK) {
            n_err++;
        } else {
            bad++; /* the whole file is there: complete or an error */
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(n_err > 0 && n_complete > 0);
    printf("test_probe: mutations: %d complete, %d rejected\n", n_complete, n_err);
    free(m);
    free(file);
}

int main(void) {
    test_every_prefix();
    test_download_loop();
    test_not_gguf();
    test_arch();
    test_tensor_types();
    test_truncated();
    test_args();
    test_mutations();
    return sm_check_report("test_probe");
}
