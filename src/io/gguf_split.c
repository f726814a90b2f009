/*
 * gguf_split.c — a model cut by llama.cpp's gguf-split into parts, read as one (gguf.h).
 *
 * gguf-split (llama.cpp tools/gguf-split) writes `<name>-0000k-of-0000n.gguf`: every part is a
 * whole GGUF file with its own tensor infos and data section, and the keys split.no (UINT16, the
 * 0-based part index), split.count (UINT16, n) and split.tensors.count (INT32, tensors in all
 * parts); all other metadata is only in part 0. This file checks that the parts belong together
 * and in this order, and merges their tensor tables; it reads no tensor data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/gguf.h"
#include "util/error.h"

enum { SPLIT_SHOW_MAX = 64 };

/* Prefixes err's message with the part ("part 2 of 3: ") when there are several. */
static sm_status in_part(sm_error *err, sm_status st, int32_t i, int32_t n) {
    if (err && n > 1) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        msg[sizeof msg - 1] = '\0';
        sm_err(err, st, "part %d of %d: %s", (int)i + 1, (int)n, msg);
    }
    return st;
}

/* Reads an optional split key as an unsigned integer: false when absent; a present key of another
 * type, or out of range, is an error. */
static sm_status split_key(const sm_gguf *g, const char *key, uint32_t max, bool *found,
                           uint32_t *out, sm_error *err) {
    *found = sm_gguf_find(g, key) != NULL;
    if (!*found) return SM_OK;
    if (!sm_gguf_get_u32(g, key, out) || *out > max) {
        return sm_err(err, SM_ERR_FORMAT, "key '%s' must be an integer in 0..%u (type %s)", key,
                      (unsigned)max, sm_gguf_vtype_name(sm_gguf_find(g, key)->type));
    }
    return SM_OK;
}

/* Checks part i's split.no and split.count against its place among n parts. */
static sm_status check_part_keys(const sm_gguf *g, int32_t i, int32_t n, sm_error *err) {
    bool has_no, has_count, has_tensors;
    uint32_t no = 0, count = 1, n_tensors = 0;
    sm_status st = split_key(g, "split.no", UINT16_MAX, &has_no, &no, err);
    if (st == SM_OK) st = split_key(g, "split.count", UINT16_MAX, &has_count, &count, err);
    if (st == SM_OK)
        st = split_key(g, "split.tensors.count", INT32_MAX, &has_tensors, &n_tensors, err);
    if (st != SM_OK) return st;
    if (n == 1 && ((has_count && count != 1) || (has_no && no != 0))) {
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "this file is part %u of a model split into %u files (split.no %u, "
                      "split.count %u): load all %u parts together", no + 1, count, no, count,
                      count);
    }
    if (n == 1) return SM_OK;
    if (!has_no || !has_count) {
        return sm_err(err, SM_ERR_FORMAT, "missing key '%s': not a part of a split model",
                      has_no ? "split.count" : "split.no");
    }
    if (count != (uint32_t)n) {
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "split.count is %u but %d parts were given", count, (int)n);
    }
    if (no != (uint32_t)i) {
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "split.no is %u (part %u), expected %d: pass the parts in order", no, no + 1,
                      (int)i);
    }
    if (i == 0 && !has_tensors)
        return sm_err(err, SM_ERR_FORMAT, "missing key 'split.tensors.count'");
    return SM_OK;
}

/* A tensor name and the part it is in, for the uniqueness check across parts. */
typedef struct part_name {
    sm_gguf_str name;
    int32_t part;
} part_name;

static int cmp_part_names(const void *a, const void *b) {
    const part_name *x = (const part_name *)a, *y = (const part_name *)b;
    if (x->name.len != y->name.len) return x->name.len < y->name.len ? -1 : 1;
    int c = memcmp(x->name.ptr, y->name.ptr, (size_t)x->name.len);
    if (c != 0) return c;
    return (x->part > y->part) - (x->part < y->part);
}

/* Each part's names are unique already (the parser checks); this finds a name in two parts. */
static sm_status check_unique_across(const sm_gguf *g, int32_t n_parts, const int32_t *part_of,
                                     sm_error *err) {
    if (g->n_tensors < 2) return SM_OK;
    part_name *names = calloc((size_t)g->n_tensors, sizeof *names);
    if (!names) return sm_err(err, SM_ERR_NOMEM, "out of memory checking tensor names");
    for (uint64_t k = 0; k < g->n_tensors; k++)
        names[k] = (part_name){g->tensors[k].name, part_of[k]};
    qsort(names, (size_t)g->n_tensors, sizeof *names, cmp_part_names);
    sm_status st = SM_OK;
    for (uint64_t k = 1; k < g->n_tensors && st == SM_OK; k++) {
        const part_name *a = &names[k - 1], *b = &names[k];
        if (a->name.len == b->name.len &&
            memcmp(a->name.ptr, b->name.ptr, (size_t)a->name.len) == 0) {
            char shown[SPLIT_SHOW_MAX];
            st = sm_err(err, SM_ERR_CORRUPT, "tensor '%s' is in part %d and in part %d of %d",
                        sm_gguf_str_show(shown, sizeof shown, a->name), (int)a->part + 1,
                        (int)b->part + 1, (int)n_parts);
        }
    }
    free(names);
    return st;
}

/* split.tensors.count, when part 0 has it, must be the number of tensors the parts hold. */
static sm_status check_total(const sm_gguf *g0, uint64_t total, int32_t n_parts, sm_error *err) {
    int32_t want = 0;
    if (!sm_gguf_get_i32(g0, "split.tensors.count", &want)) return SM_OK;
    if (want >= 0 && (uint64_t)want == total) return SM_OK;
    return sm_err(err, SM_ERR_CORRUPT, "split.tensors.count is %d but the %s %llu tensors", want,
                  n_parts > 1 ? "parts hold" : "file holds", (unsigned long long)total);
}

/* Moves part 0's key/values into *out and concatenates every part's tensor infos. */
static sm_status merge(sm_gguf *p, int32_t n_parts, sm_gguf *out, sm_error *err) {
    uint64_t total = 0;
    for (int32_t i = 0; i < n_parts; i++) {
        if (p[i].n_tensors > UINT64_MAX - total)
            return sm_err(err, SM_ERR_FORMAT, "the parts' tensor counts overflow 64 bits");
        total += p[i].n_tensors;
    }
    if (total > SIZE_MAX / sizeof(sm_gguf_tensor)) {
        return sm_err(err, SM_ERR_NOMEM, "out of memory for %llu tensors",
                      (unsigned long long)total);
    }
    *out = p[0];
    out->n_tensors = total;
    out->tensors = total ? calloc((size_t)total, sizeof *out->tensors) : NULL;
    int32_t *part_of = total ? calloc((size_t)total, sizeof *part_of) : NULL;
    if (total && (!out->tensors || !part_of)) {
        free(out->tensors);
        free(part_of);
        memset(out, 0, sizeof *out);
        return sm_err(err, SM_ERR_NOMEM, "out of memory for %llu tensors",
                      (unsigned long long)total);
    }
    uint64_t k = 0;
    for (int32_t i = 0; i < n_parts; i++) {
        for (uint64_t j = 0; j < p[i].n_tensors; j++, k++) {
            out->tensors[k] = p[i].tensors[j];
            part_of[k] = i;
        }
    }
    /* a name in two parts is the likelier cause of a wrong total: check it first */
    sm_status st = check_unique_across(out, n_parts, part_of, err);
    if (st == SM_OK) st = check_total(&p[0], total, n_parts, err);
    free(part_of);
    if (st != SM_OK) {
        free(out->tensors);
        memset(out, 0, sizeof *out);
        return st;
    }
    free(p[0].tensors); /* part 0's key/values now belong to *out */
    memset(&p[0], 0, sizeof p[0]);
    return SM_OK;
}

sm_status sm_gguf_parse_parts(const void *const *parts, const size_t *sizes, int32_t n_parts,
                              sm_gguf *out, sm_error *err) {
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "sm_gguf_parse_parts: out is NULL");
    memset(out, 0, sizeof *out);
    if (!parts || !sizes || n_parts < 1) {
        return sm_err(err, SM_ERR_INVALID_ARG, "sm_gguf_parse_parts: %s",
                      n_parts < 1 ? "n_parts must be at least 1" : "parts or sizes is NULL");
    }
    if (n_parts == 1) {
        sm_status st = sm_gguf_parse(parts[0], sizes[0], out, err);
        if (st == SM_OK) st = check_part_keys(out, 0, 1, err);
        if (st == SM_OK) st = check_total(out, out->n_tensors, 1, err);
        if (st != SM_OK) sm_gguf_free(out);
        return st;
    }
    sm_gguf *p = calloc((size_t)n_parts, sizeof *p);
    if (!p) return sm_err(err, SM_ERR_NOMEM, "out of memory for %d parts", (int)n_parts);
    sm_status st = SM_OK;
    for (int32_t i = 0; i < n_parts && st == SM_OK; i++) {
        if (!parts[i] && sizes[i] > 0) st = sm_err(err, SM_ERR_INVALID_ARG, "data is NULL");
        if (st == SM_OK) st = sm_gguf_parse(parts[i], sizes[i], &p[i], err);
        if (st == SM_OK) st = check_part_keys(&p[i], i, n_parts, err);
        if (st != SM_OK) in_part(err, st, i, n_parts);
    }
    if (st == SM_OK) st = merge(p, n_parts, out, err);
    for (int32_t i = 0; i < n_parts; i++) sm_gguf_free(&p[i]);
    free(p);
    return st;
}
