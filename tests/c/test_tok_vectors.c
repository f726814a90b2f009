/*
 * test_tok_vectors.c — llama.cpp's tokenizer test vectors: every .gguf file in ../shared/vocab,
 * with its .inp/.out files, must tokenize exactly as llama.cpp's tests/test-tokenizer-0.cpp says.
 *
 * Framing, as test-tokenizer-0 reads it: the .inp file is the inputs, each followed by
 * "\n__ggml_vocab_test__\n" (split on that separator; a last piece after the final separator
 * counts only if non-empty); the .out file has one line per input of space-separated ids
 * (surrounding whitespace ignored). Inputs are tokenized with add_special = false and
 * parse_special = false, as test-tokenizer-0 does. Paths are relative to the repository root
 * (the tests' working directory). Without the directory the test passes with a SKIPPED line,
 * unless run with --require-shared (CI), when it fails.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sm.h"

#define VOCAB_DIR "../shared/vocab/"
#define SEP "\n__ggml_vocab_test__\n"

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) free(buf);
            buf = p;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0'; /* n < cap: the buffer grows as soon as it is full */
    if (buf) *size = n;
    return buf;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints an input with non-printable bytes escaped, cut to 60 bytes. */
static void print_escaped(const char *s, size_t n) {
    for (size_t i = 0; i < n && i < 60; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') putchar(c);
        else printf("\\x%02X", c);
    }
    if (n > 60) printf("...");
}

/* Parses one .out line into ids; returns the count. */
static int parse_ids(const char *line, size_t n, int32_t *ids, int cap) {
    int k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (line[i] == ' ' || line[i] == '\r' || line[i] == '\t')) i++;
        if (i >= n) break;
        long v = 0;
        while (i < n && line[i] >= '0' && line[i] <= '9') v = v * 10 + (line[i++] - '0');
        if (k < cap) ids[k] = (int32_t)v;
        k++;
        while (i < n && line[i] != ' ') i++;
    }
    return k;
}

/* Tokenizes every input of one vocab file; returns how many matched, *total = how many. */
static int run_file(const char *name, int *total) {
    char path[512];
    size_t n_gguf = 0, n_inp = 0, n_out = 0;
    snprintf(path, sizeof path, VOCAB_DIR "%s", name);
    char *gguf = read_file(path, &n_gguf);
    snprintf(path, sizeof path, VOCAB_DIR "%s.inp", name);
    char *inp = read_file(path, &n_inp);
    snprintf(path, sizeof path, VOCAB_DIR "%s.out", name);
    char *out = read_file(path, &n_out);
    sm_tokenizer *tok = NULL;
    sm_error err = {0};
    int match = 0, shown = 0;
    *total = 0;
    CHECK(gguf && inp && out);
    if (gguf && inp && out)
        CHECK_EQ(sm_tokenizer_load_from_memory(gguf, n_gguf, &tok, &err), SM_OK);
    if (!tok) {
        printf("%s: cannot load: %s\n", name, err.msg);
        *total = 1;
        goto done;
    }
    enum { CAP = 4096 };
    static int32_t want[CAP], got[CAP];
    size_t pos = 0, line = 0;
    const size_t sep_len = strlen(SEP);
    while (pos < n_inp) {
        const char *next = strstr(inp + pos, SEP); /* inputs hold no NUL bytes */
        const size_t len = next ? (size_t)(next - (inp + pos)) : n_inp - pos;
        const size_t line_end = line < n_out ? line + strcspn(out + line, "\n") : n_out;
        const int n_want = parse_ids(out + line, line_end - line, want, CAP);
        line = line_end < n_out ? line_end + 1 : n_out;
        int32_t n_got = 0;
        const sm_status st = sm_tokenize(tok, inp + pos, len, 0, got, CAP, &n_got);
        bool ok = st == SM_OK && n_got == n_want && n_got <= CAP;
        for (int i = 0; ok && i < n_got; i++) ok = got[i] == want[i];
        match += ok;
        (*total)++;
        if (!ok && shown++ < 3) {
            printf("  %s: '", name);
            print_escaped(inp + pos, len);
            printf("'\n    want:");
            for (int i = 0; i < n_want && i < 24; i++) printf(" %d", want[i]);
            printf("\n    got: ");
            for (int i = 0; i < n_got && i < 24; i++) printf(" %d", got[i]);
            printf("\n");
        }
        if (!next) break;
        pos = (size_t)(next - inp) + sep_len;
    }
    CHECK(line >= n_out || strspn(out + line, " \r\n") == n_out - line); /* no extra lines */
done:
    sm_tokenizer_free(tok);
    free(gguf);
    free(inp);
    free(out);
    return match;
}

int main(int argc, char **argv) {
    const bool require = argc > 1 && strcmp(argv[1], "--require-shared") == 0;
    DIR *dir = opendir(VOCAB_DIR);
    if (!dir) {
        printf("test_tok_vectors: %s %s not found\n", require ? "FAILED:" : "SKIPPED:", VOCAB_DIR);
        return require ? 1 : 0;
    }
    char *names[64];
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL && n < 64;) {
        const size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".gguf") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        int total = 0;
        const int match = run_file(names[i], &total);
        printf("%s: %d/%d vectors match\n", names[i], match, total);
        CHECK_EQ(match, total);
        free(names[i]);
    }
    return sm_check_report("test_tok_vectors");
}
