/*
 * smnd_write.c — the SMND writer (sm_smnd_writer_* in sm.h) and sm_smnd_from_gguf.
 *
 * Follows docs/SMND.md §2. The whole description — metadata, every tensor's name, type and shape —
 * is given up front and validated with the reader's own parser and rules, so the header (which
 * holds the version) can be written first and the data then streams through in any piece sizes.
 * The writer frames and checksums; it never buffers tensor data and does no I/O itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/smnd.h"
#include "kern/types.h"
#include "util/error.h"

typedef struct wtensor {
    char *name;
    uint32_t name_len;
    int32_t type;
    uint32_t n_dims;
    uint64_t ne[SM_GGUF_MAX_DIMS];
    uint64_t n_bytes;
} wtensor;

struct sm_smnd_writer {
    sm_write_fn write;
    void *user;
    uint32_t version;
    wtensor *t; /* [n] */
    size_t n;
    size_t cur;    /* the tensor whose data comes next */
    uint64_t done; /* bytes of t[cur] written */
    uint32_t crc;  /* running CRC-32 of t[cur]'s record */
    uint64_t pos;  /* bytes given to the sink */
    uint64_t file_size;
    sm_status failed; /* first error; every later call returns it */
    sm_error e;
};

/* Bytes before a record's data: name length, name, type, rank, shape, data length, padding. */
static uint64_t record_head(const wtensor *t, uint64_t pos) {
    const uint64_t fields = 4 + (uint64_t)t->name_len + 8 + 8 * (uint64_t)t->n_dims + 8;
    return fields + (SM_SMND_ALIGN - (pos + fields) % SM_SMND_ALIGN) % SM_SMND_ALIGN;
}

static sm_status emit(sm_smnd_writer *w, const void *data, size_t len) {
    if (w->failed) return w->failed;
    sm_status st = w->write(w->user, data, len);
    if (st != SM_OK) {
        w->failed = sm_err(&w->e, st < 0 ? st : SM_ERR_INVALID_ARG,
                           "SMND writer: the sink failed "
                           "at byte %llu (%s)",
                           (unsigned long long)w->pos, sm_status_name(st));
        return w->failed;
    }
    w->pos += len;
    return SM_OK;
}

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Sends t[w->cur]'s record head and starts its CRC. */
static sm_status begin_record(sm_smnd_writer *w) {
    const wtensor *t = &w->t[w->cur];
    uint8_t head[4 + SM_SMND_MAX_NAME + 8 + 8 * SM_GGUF_MAX_DIMS + 8 + SM_SMND_ALIGN];
    const size_t len = (size_t)record_head(t, w->pos);
    memset(head, 0, len);
    size_t at = 0;
    put_le(head, t->name_len, 4);
    memcpy(head + 4, t->name, t->name_len);
    at = 4 + t->name_len;
    put_le(head + at, (uint32_t)t->type, 4);
    put_le(head + at + 4, t->n_dims, 4);
    at += 8;
    for (uint32_t d = 0; d < t->n_dims; d++, at += 8) put_le(head + at, t->ne[d], 8);
    put_le(head + at, t->n_bytes, 8);
    w->crc = sm_crc32(0, head, len);
    w->done = 0;
    return emit(w, head, len);
}

static int cmp_names(const void *a, const void *b) {
    const wtensor *x = *(const wtensor *const *)a, *y = *(const wtensor *const *)b;
    if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

/* Tensor names must be unique (sorted, as a table may be large). */
static sm_status check_unique(const sm_smnd_writer *w, sm_error *err) {
    if (w->n < 2) return SM_OK;
    const wtensor **order = malloc(w->n * sizeof *order);
    if (!order) return sm_err(err, SM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < w->n; i++) order[i] = &w->t[i];
    qsort(order, w->n, sizeof *order, cmp_names);
    sm_status st = SM_OK;
    for (size_t i = 1; i < w->n && st == SM_OK; i++) {
        if (cmp_names(&order[i - 1], &order[i]) == 0) {
            sm_gguf_str name = {order[i]->name, order[i]->name_len};
            char show[72];
            st = sm_err(err, SM_ERR_INVALID_ARG, "duplicate tensor name '%s'",
                        sm_gguf_str_show(show, sizeof show, name));
        }
    }
    free(order);
    return st;
}

/* Copies and checks the tensor table; *needs_v2 when a type or name needs version 2. */
static sm_status take_tensors(sm_smnd_writer *w, const sm_smnd_tensor *ts, size_t n, bool *needs_v2,
                              sm_error *err) {
    if (n && !(w->t = calloc(n, sizeof *w->t))) return sm_err(err, SM_ERR_NOMEM, "out of memory");
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        const sm_smnd_tensor *s = &ts[i];
        wtensor *t = &w->t[i];
        const char *end = s->name ? memchr(s->name, 0, SM_SMND_MAX_NAME + 1) : NULL;
        if (!end || end == s->name)
            return sm_err(err, SM_ERR_INVALID_ARG, "tensor %zu: the name must be 1..%d bytes", i,
                          SM_SMND_MAX_NAME);
        t->name_len = (uint32_t)(end - s->name);
        if (!(t->name = malloc(t->name_len))) return sm_err(err, SM_ERR_NOMEM, "out of memory");
        memcpy(t->name, s->name, t->name_len);
        if (!sm_kern_traits_ref(s->type))
            return sm_err(err, SM_ERR_UNSUPPORTED, "tensor '%s': unknown type %d", s->name,
                          (int)s->type);
        if (s->n_dims < 1 || s->n_dims > SM_GGUF_MAX_DIMS)
            return sm_err(err, SM_ERR_INVALID_ARG, "tensor '%s': n_dims %d is not 1..4", s->name,
                          (int)s->n_dims);
        t->type = s->type;
        t->n_dims = (uint32_t)s->n_dims;
        uint64_t rows = 1;
        for (uint32_t d = 0; d < SM_GGUF_MAX_DIMS; d++) {
            t->ne[d] = d < t->n_dims ? (uint64_t)s->ne[d] : 1;
            if (d < t->n_dims && s->ne[d] < 1)
                return sm_err(err, SM_ERR_INVALID_ARG, "tensor '%s': ne[%u] is %lld", s->name, d,
                              (long long)s->ne[d]);
            if (d > 0 && t->ne[d] > UINT64_MAX / rows)
                return sm_err(err, SM_ERR_INVALID_ARG, "tensor '%s': too many elements", s->name);
            if (d > 0) rows *= t->ne[d];
        }
        const sm_type_traits *tr = sm_kern_traits_ref(s->type);
        if (t->ne[0] % (uint64_t)tr->block_size)
            return sm_err(err, SM_ERR_INVALID_ARG,
                          "tensor '%s': a row of %llu elements is not a whole "
                          "number of %s blocks (%d)",
                          s->name, (unsigned long long)t->ne[0], tr->name, tr->block_size);
        const uint64_t row = t->ne[0] / (uint64_t)tr->block_size * (uint64_t)tr->type_size;
        if (row > UINT64_MAX / 2 / rows)
            return sm_err(err, SM_ERR_INVALID_ARG, "tensor '%s': too large", s->name);
        t->n_bytes = row * rows;
        *needs_v2 |= s->type != SM_TYPE_F32 || strncmp(s->name, "optim.", 6) == 0;
    }
    return check_unique(w, err);
}

/* The document written: the caller's object with "tensor_count" first. *json is malloc'd. */
static sm_status compose(const char *meta, size_t len, size_t n, char **json, size_t *json_len,
                         sm_error *err) {
    size_t at = 0;
    while (at < len &&
           (meta[at] == ' ' || meta[at] == '\t' || meta[at] == '\n' || meta[at] == '\r'))
        at++;
    if (at >= len || meta[at] != '{')
        return sm_err(err, SM_ERR_INVALID_ARG, "SMND metadata must be a JSON object");
    size_t rest = at + 1;
    while (rest < len &&
           (meta[rest] == ' ' || meta[rest] == '\t' || meta[rest] == '\n' || meta[rest] == '\r'))
        rest++;
    char head[48];
    const int k = snprintf(head, sizeof head, "{\"tensor_count\":%zu%s", n,
                           rest < len && meta[rest] == '}' ? "" : ",");
    if (len - rest > SIZE_MAX - (size_t)k - 1 || !(*json = malloc((size_t)k + (len - rest) + 1)))
        return sm_err(err, SM_ERR_NOMEM, "out of memory for the SMND metadata");
    memcpy(*json, head, (size_t)k);
    memcpy(*json + k, meta + rest, len - rest);
    *json_len = (size_t)k + (len - rest);
    (*json)[*json_len] = '\0';
    return SM_OK;
}

/* Validates the document with the reader's parser; *needs_v2 when its keys need version 2. */
static sm_status check_meta(const char *json, size_t len, bool *needs_v2, sm_error *err) {
    sm_gguf g;
    sm_smnd_meta meta;
    if (len > UINT32_MAX) return sm_err(err, SM_ERR_INVALID_ARG, "SMND metadata over 4 GiB");
    sm_status st = sm_smnd_meta_parse(json, len, 2, &g, &meta, err);
    sm_gguf_free(&g);
    if (st == SM_ERR_FORMAT) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        return sm_err(err, SM_ERR_INVALID_ARG, "%s", msg);
    }
    *needs_v2 |= meta.needs_v2;
    return st;
}

static sm_status start(sm_smnd_writer *w, const char *json, size_t len) {
    uint8_t head[SM_SMND_HEADER_BYTES] = {'S', 'M', 'N', 'D'};
    uint8_t crc[4];
    put_le(head + 4, w->version, 4);
    put_le(head + 16, len, 4);
    put_le(crc, sm_crc32(sm_crc32(0, head + 16, 4), json, len), 4);
    sm_status st = emit(w, head, sizeof head);
    if (st == SM_OK) st = emit(w, json, len);
    if (st == SM_OK) st = emit(w, crc, 4);
    if (st == SM_OK && w->n > 0) st = begin_record(w);
    return st;
}

sm_status sm_smnd_writer_new(uint32_t version, const char *meta_json, size_t meta_len,
                             const sm_smnd_tensor *tensors, size_t n_tensors, sm_write_fn write,
                             void *user, sm_smnd_writer **out, sm_error *err) {
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "out must not be NULL");
    *out = NULL;
    if (!write || (!meta_json && meta_len) || (!tensors && n_tensors) || n_tensors > UINT32_MAX)
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "sm_smnd_writer_new: NULL write, metadata or tensors");
    if (version > SM_SMND_VERSION)
        return sm_err(err, SM_ERR_INVALID_ARG, "SMND version %u: this build writes 1 to %d",
                      version, SM_SMND_VERSION);
    sm_smnd_writer *w = calloc(1, sizeof *w);
    if (!w) return sm_err(err, SM_ERR_NOMEM, "out of memory");
    w->write = write;
    w->user = user;
    bool needs_v2 = false;
    char *json = NULL;
    size_t json_len = 0;
    sm_status st = take_tensors(w, tensors, n_tensors, &needs_v2, err);
    if (st == SM_OK) st = compose(meta_json, meta_len, n_tensors, &json, &json_len, err);
    if (st == SM_OK) st = check_meta(json, json_len, &needs_v2, err);
    if (st == SM_OK && version == 1 && needs_v2)
        st = sm_err(err, SM_ERR_INVALID_ARG,
                    "SMND version 1 holds F32 tensors without tokenizer "
                    "or optimizer state; this content needs version 2");
    if (st == SM_OK) {
        w->version = version ? version : needs_v2 ? 2 : 1;
        uint64_t pos = 24 + (uint64_t)json_len;
        for (size_t i = 0; i < w->n; i++) pos += record_head(&w->t[i], pos) + w->t[i].n_bytes + 4;
        w->file_size = pos;
        st = start(w, json, json_len);
        if (st != SM_OK && err) *err = w->e;
    }
    free(json);
    if (st != SM_OK) {
        sm_smnd_writer_free(w);
        return st;
    }
    *out = w;
    return SM_OK;
}

uint32_t sm_smnd_writer_version(const sm_smnd_writer *w) { return w ? w->version : 0; }

uint64_t sm_smnd_writer_file_size(const sm_smnd_writer *w) { return w ? w->file_size : 0; }

sm_status sm_smnd_writer_write(sm_smnd_writer *w, const void *data, size_t len) {
    if (!w) return SM_ERR_INVALID_ARG;
    if (w->failed) return w->failed;
    if (len && !data) return w->failed = sm_err(&w->e, SM_ERR_INVALID_ARG, "data is NULL");
    const uint8_t *p = data;
    while (len > 0) {
        if (w->cur >= w->n) {
            return w->failed = sm_err(&w->e, SM_ERR_INVALID_ARG,
                                      "SMND writer: %zu bytes past the "
                                      "end of the last tensor",
                                      len);
        }
        wtensor *t = &w->t[w->cur];
        const uint64_t left = t->n_bytes - w->done;
        const size_t take = left < len ? (size_t)left : len;
        w->crc = sm_crc32(w->crc, p, take);
        sm_status st = emit(w, p, take);
        if (st) return st;
        w->done += take;
        p += take;
        len -= take;
        if (w->done < t->n_bytes) break;
        uint8_t crc[4];
        put_le(crc, w->crc, 4);
        if ((st = emit(w, crc, 4))) return st;
        if (++w->cur < w->n && (st = begin_record(w))) return st;
    }
    return SM_OK;
}

sm_status sm_smnd_writer_finish(sm_smnd_writer *w) {
    if (!w) return SM_ERR_INVALID_ARG;
    if (w->failed) return w->failed;
    if (w->cur < w->n) {
        const wtensor *t = &w->t[w->cur];
        sm_gguf_str name = {t->name, t->name_len};
        char show[72];
        return w->failed = sm_err(&w->e, SM_ERR_INVALID_ARG,
                                  "SMND writer: tensor %zu '%s' has "
                                  "%llu of its %llu bytes",
                                  w->cur, sm_gguf_str_show(show, sizeof show, name),
                                  (unsigned long long)w->done, (unsigned long long)t->n_bytes);
    }
    if (w->pos != w->file_size)
        return w->failed = sm_err(&w->e, SM_ERR_INVALID_ARG, "SMND writer: internal size mismatch");
    return SM_OK;
}

const char *sm_smnd_writer_last_error(const sm_smnd_writer *w) { return w ? w->e.msg : ""; }

void sm_smnd_writer_free(sm_smnd_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free(w->t[i].name);
    free(w->t);
    free(w);
}

/* ---- GGUF → SMND
 * --------------------------------------------------------------------------------- */

static sm_status convert(const sm_gguf *g, uint32_t version, const char *prov, size_t prov_len,
                         sm_write_fn write, void *user, sm_error *err) {
    char *json = NULL, *names = NULL;
    size_t json_len = 0, names_len = 0;
    sm_smnd_tensor *ts = g->n_tensors ? calloc((size_t)g->n_tensors, sizeof *ts) : NULL;
    for (uint64_t i = 0; i < g->n_tensors; i++) names_len += (size_t)g->tensors[i].name.len + 1;
    names = malloc(names_len ? names_len : 1);
    if ((g->n_tensors && !ts) || !names) {
        free(ts);
        free(names);
        return sm_err(err, SM_ERR_NOMEM, "out of memory converting to SMND");
    }
    char *at = names;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sm_gguf_tensor *t = &g->tensors[i];
        memcpy(at, t->name.ptr, (size_t)t->name.len);
        at[t->name.len] = '\0';
        ts[i] = (sm_smnd_tensor){.name = at, .type = t->type, .n_dims = (int32_t)t->n_dims};
        memcpy(ts[i].ne, t->ne, sizeof t->ne);
        at += t->name.len + 1;
    }
    sm_smnd_writer *w = NULL;
    sm_status st = sm_smnd_meta_from_gguf(g, prov, prov_len, &json, &json_len, err);
    if (st == SM_OK)
        st = sm_smnd_writer_new(version, json, json_len, ts, (size_t)g->n_tensors, write, user, &w,
                                err);
    for (uint64_t i = 0; st == SM_OK && i < g->n_tensors; i++)
        st = sm_smnd_writer_write(w, g->tensors[i].data, (size_t)g->tensors[i].n_bytes);
    if (st == SM_OK) st = sm_smnd_writer_finish(w);
    if (st != SM_OK && w && err) *err = w->e;
    sm_smnd_writer_free(w);
    free(json);
    free(names);
    free(ts);
    return st;
}

sm_status sm_smnd_from_gguf(const void *gguf, size_t size, uint32_t version, const char *provenance,
                            size_t prov_len, sm_write_fn write, void *user, sm_error *err) {
    sm_gguf g;
    sm_status st = sm_gguf_parse(gguf, size, &g, err);
    if (st != SM_OK) return st;
    uint32_t count = 1;
    if (sm_gguf_find(&g, "split.count") &&
        (!sm_gguf_get_u32(&g, "split.count", &count) || count != 1)) {
        sm_gguf_free(&g);
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "this GGUF is one part of a split model: merge the "
                      "parts (llama.cpp's gguf-split --merge) before converting");
    }
    st = convert(&g, version, provenance, provenance ? prov_len : 0, write, user, err);
    sm_gguf_free(&g);
    return st;
}
