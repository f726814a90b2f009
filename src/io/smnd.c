/*
 * smnd.c — the SMND reader: header, metadata CRC, then every tensor record (docs/SMND.md §2, §4),
 * into the sm_gguf table the model loader binds. Not the metadata parser (smnd_json.c) and not the
 * writer (smnd_write.c).
 *
 * Each record is located from its own length fields, checked against the bytes that remain, then
 * its CRC is compared before any field is interpreted: a damaged file is reported as corrupt,
 * naming the tensor, not as a strange type or shape. Tensors are views into the caller's buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/reader.h"
#include "io/smnd.h"
#include "kern/types.h"
#include "util/error.h"

enum { SMND_VERSION_MAX = SM_SMND_VERSION, SHOW_MAX = 72 };

bool sm_smnd_sniff(const void *data, size_t size) {
    const uint8_t *p = data;
    if (!p || size == 0) return false;
    if (size < 4) return memcmp(p, "SMND", size) == 0;
    int same = 0;
    for (int i = 0; i < 4; i++) same += p[i] == (uint8_t) "SMND"[i];
    return same >= 3;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* What the fixed header and the metadata say. */
typedef struct smnd_head {
    uint32_t version;
    uint32_t meta_len;
    uint64_t records_at; /* 24 + meta_len */
} smnd_head;

/* Checks magic, version and reserved bytes in the first min(size, 16) bytes; with fewer than 20
 * bytes, *need says how many to come back with. */
static sm_status check_head(const uint8_t *p, size_t size, uint64_t file_size, smnd_head *h,
                            uint64_t *need, sm_error *err) {
    *need = 0;
    const size_t have = size < 4 ? size : 4;
    if (memcmp(p, "SMND", have) != 0) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "corrupt SMND file: magic at offset 0 is "
                      "%02x %02x %02x %02x, not 'SMND'",
                      p[0], size > 1 ? p[1] : 0, size > 2 ? p[2] : 0, size > 3 ? p[3] : 0);
    }
    if (size >= 8) {
        h->version = le32(p + 4);
        if (h->version == 0)
            return sm_err(err, SM_ERR_CORRUPT, "corrupt SMND file: version 0 at offset 4");
        if (h->version > SMND_VERSION_MAX) {
            return sm_err(err, SM_ERR_VERSION,
                          "SMND version %u needs a newer SmallMind: this build "
                          "reads versions 1 to %d",
                          h->version, SMND_VERSION_MAX);
        }
    }
    for (size_t i = 8; i < 16 && i < size; i++) {
        if (p[i] != 0)
            return sm_err(err, SM_ERR_CORRUPT,
                          "corrupt SMND file: reserved byte at offset %zu "
                          "is 0x%02x, not 0",
                          i, p[i]);
    }
    if (size < SM_SMND_HEADER_BYTES) {
        if (file_size != UINT64_MAX && file_size < SM_SMND_HEADER_BYTES) {
            return sm_err(err, SM_ERR_CORRUPT,
                          "truncated SMND file: %llu bytes, shorter than its "
                          "%d-byte header",
                          (unsigned long long)file_size, SM_SMND_HEADER_BYTES);
        }
        *need = SM_SMND_HEADER_BYTES;
        return SM_OK;
    }
    h->meta_len = le32(p + 16);
    h->records_at = 24 + (uint64_t)h->meta_len;
    if (file_size != UINT64_MAX && h->records_at > file_size) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "truncated SMND file: the metadata (%u bytes at offset "
                      "20) and its CRC need %llu bytes, the file has %llu",
                      h->meta_len, (unsigned long long)h->records_at,
                      (unsigned long long)file_size);
    }
    if (h->records_at > size) *need = h->records_at;
    return SM_OK;
}

/* With the whole metadata in: its CRC, then the JSON. */
static sm_status read_meta(const uint8_t *p, const smnd_head *h, uint64_t file_size, sm_gguf *g,
                           sm_smnd_meta *meta, sm_error *err) {
    const uint32_t stored = le32(p + 20 + h->meta_len);
    const uint32_t crc = sm_crc32(0, p + 16, 4 + (size_t)h->meta_len);
    if (crc != stored) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "corrupt SMND file: the metadata's CRC-32 is %08x, the "
                      "file says %08x",
                      crc, stored);
    }
    sm_status st = sm_smnd_meta_parse((const char *)p + 20, h->meta_len, h->version, g, meta, err);
    if (st) return st;
    g->smnd_version = h->version;
    g->data_offset = h->records_at;
    g->alignment = SM_SMND_ALIGN;
    if (file_size != UINT64_MAX &&
        meta->tensor_count > (file_size - h->records_at) / SM_SMND_MIN_RECORD) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "truncated SMND file: %llu tensors cannot fit in the "
                      "%llu bytes after the metadata",
                      (unsigned long long)meta->tensor_count,
                      (unsigned long long)(file_size - h->records_at));
    }
    return SM_OK;
}

/* Bytes of a tensor of this type and shape; 0 with a message when the type is unknown or the
 * shape does not fit it. Every block size divides 256, as in gguf.c. */
static sm_status shape_bytes(sm_gguf_tensor *t, const char *what, sm_error *err) {
    const size_t span = sm_kern_row_size(t->type, 256);
    if (span == 0)
        return sm_err(err, SM_ERR_UNSUPPORTED,
                      "%s has tensor type %d, which this build does not know", what, (int)t->type);
    uint64_t rows = 1;
    for (uint32_t d = 1; d < t->n_dims; d++) {
        if (t->ne[d] < 1 || (uint64_t)t->ne[d] > UINT64_MAX / rows)
            return sm_err(err, SM_ERR_FORMAT, "%s: bad shape", what);
        rows *= (uint64_t)t->ne[d];
    }
    const uint64_t ne0 = (uint64_t)t->ne[0], q = ne0 / 256, rem = ne0 % 256;
    const size_t tail = rem ? sm_kern_row_size(t->type, (int64_t)rem) : 0;
    if (ne0 < 1 || (rem && tail == 0))
        return sm_err(err, SM_ERR_FORMAT,
                      "%s: a row of %llu elements does not fit its type's blocks", what,
                      (unsigned long long)ne0);
    if (q > (UINT64_MAX - tail) / span || q * span + tail > UINT64_MAX / rows)
        return sm_err(err, SM_ERR_FORMAT, "%s: data size overflows 64 bits", what);
    t->n_bytes = (q * span + tail) * rows;
    return SM_OK;
}

/* Reads record i at r->pos into *t. */
static sm_status read_record(sm_reader *r, uint32_t version, uint64_t i, uint64_t n,
                             sm_gguf_tensor *t, sm_error *err) {
    const uint8_t *p = r->base;
    const size_t at = r->pos, left = r->size - r->pos;
    char name[SHOW_MAX], what[SHOW_MAX + 48];
    snprintf(what, sizeof what, "tensor %llu of %llu", (unsigned long long)i,
             (unsigned long long)n);
    if (left < 4) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "truncated SMND file: %s is missing (the file ends at "
                      "offset %zu)",
                      what, r->size);
    }
    const uint32_t name_len = le32(p + at);
    if (name_len == 0 || name_len > SM_SMND_MAX_NAME) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "corrupt SMND file: %s: name length %u at offset %zu is "
                      "not 1..%d",
                      what, name_len, at, SM_SMND_MAX_NAME);
    }
    t->name = (sm_gguf_str){.ptr = (const char *)p + at + 4, .len = name_len};
    if (left >= 4 + (size_t)name_len) {
        snprintf(what, sizeof what, "tensor %llu of %llu '%s'", (unsigned long long)i,
                 (unsigned long long)n, sm_gguf_str_show(name, sizeof name, t->name));
    }
    size_t pos = at + 4 + name_len;
    if (left < 4 + (size_t)name_len + 8) goto truncated;
    const uint32_t type = le32(p + pos), rank = le32(p + pos + 4);
    pos += 8;
    if (rank < 1 || rank > SM_GGUF_MAX_DIMS) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "corrupt SMND file: %s: rank %u at offset %zu is not "
                      "1..%d",
                      what, rank, pos - 4, SM_GGUF_MAX_DIMS);
    }
    if (r->size - pos < 8 * (size_t)rank + 8) goto truncated;
    for (uint32_t d = 0; d < SM_GGUF_MAX_DIMS; d++) {
        const uint64_t ne = d < rank ? le64(p + pos + 8 * d) : 1;
        t->ne[d] = ne > (uint64_t)INT64_MAX ? -1 : (int64_t)ne;
    }
    pos += 8 * (size_t)rank;
    const uint64_t data_len = le64(p + pos);
    pos += 8;
    const size_t pad = (SM_SMND_ALIGN - pos % SM_SMND_ALIGN) % SM_SMND_ALIGN;
    if (r->size - pos < pad || data_len > r->size - pos - pad || r->size - pos - pad - data_len < 4)
        goto truncated;
    const size_t data_at = pos + pad, end = data_at + (size_t)data_len;
    const uint32_t crc = sm_crc32(0, p + at, end - at), stored = le32(p + end);
    if (crc != stored) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "corrupt SMND file: %s: CRC-32 of its record (offset %zu) "
                      "is %08x, the file says %08x",
                      what, at, crc, stored);
    }
    r->pos = end + 4;
    /* the CRC matched: what the fields say is what the writer meant */
    t->type = (int32_t)type;
    t->n_dims = rank;
    t->offset = data_at;
    t->data = p + data_at;
    for (size_t k = pos; k < data_at; k++)
        if (p[k] != 0)
            return sm_err(err, SM_ERR_FORMAT, "%s: padding byte at offset %zu is not 0", what, k);
    if (type > INT32_MAX)
        return sm_err(err, SM_ERR_UNSUPPORTED,
                      "%s has tensor type %u, which this build does not know", what, type);
    if (t->ne[0] < 1 || t->ne[1] < 1 || t->ne[2] < 1 || t->ne[3] < 1)
        return sm_err(err, SM_ERR_FORMAT, "%s: a dimension is 0 or above 2^63", what);
    sm_status st = shape_bytes(t, what, err);
    if (st) return st;
    if (t->n_bytes != data_len) {
        return sm_err(err, SM_ERR_FORMAT,
                      "%s: its shape and type need %llu bytes, the record says "
                      "%llu",
                      what, (unsigned long long)t->n_bytes, (unsigned long long)data_len);
    }
    if (version == 1 && type != SM_TYPE_F32)
        return sm_err(err, SM_ERR_FORMAT, "%s: SMND version 1 holds F32 tensors only (type %u)",
                      what, type);
    if (version == 1 && t->name.len >= 6 && memcmp(t->name.ptr, "optim.", 6) == 0)
        return sm_err(err, SM_ERR_FORMAT, "%s: optimizer state needs SMND version 2", what);
    return SM_OK;
truncated:
    return sm_err(err, SM_ERR_CORRUPT,
                  "truncated SMND file: %s (record at offset %zu) runs past "
                  "the end of the file (%zu bytes)",
                  what, at, r->size);
}

static int cmp_names(const void *a, const void *b) {
    const sm_gguf_str *x = (const sm_gguf_str *)a, *y = (const sm_gguf_str *)b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return memcmp(x->ptr, y->ptr, (size_t)x->len);
}

static sm_status check_unique_names(const sm_gguf *g, sm_error *err) {
    if (g->n_tensors < 2) return SM_OK;
    sm_gguf_str *names = malloc((size_t)g->n_tensors * sizeof *names);
    if (!names) return sm_err(err, SM_ERR_NOMEM, "out of memory checking tensor names");
    for (uint64_t i = 0; i < g->n_tensors; i++) names[i] = g->tensors[i].name;
    qsort(names, (size_t)g->n_tensors, sizeof *names, cmp_names);
    sm_status st = SM_OK;
    for (uint64_t i = 1; i < g->n_tensors && st == SM_OK; i++) {
        if (cmp_names(&names[i - 1], &names[i]) == 0) {
            char name[SHOW_MAX];
            st = sm_err(err, SM_ERR_FORMAT, "SMND file: duplicate tensor '%s'",
                        sm_gguf_str_show(name, sizeof name, names[i]));
        }
    }
    free(names);
    return st;
}

static sm_status read_records(const uint8_t *p, size_t size, const smnd_head *h, uint64_t n,
                              sm_gguf *g, sm_error *err) {
    if (n > 0 && !(g->tensors = calloc((size_t)n, sizeof *g->tensors)))
        return sm_err(err, SM_ERR_NOMEM, "out of memory for %llu tensors", (unsigned long long)n);
    sm_reader r;
    sm_reader_init(&r, p, size);
    r.pos = (size_t)h->records_at;
    for (uint64_t i = 0; i < n; i++) {
        sm_status st = read_record(&r, h->version, i, n, &g->tensors[i], err);
        if (st) return st;
        g->n_tensors = i + 1;
    }
    if (r.pos != size) {
        return sm_err(err, SM_ERR_CORRUPT,
                      "corrupt SMND file: %zu bytes follow the last of its "
                      "%llu tensors (offset %zu)",
                      size - r.pos, (unsigned long long)n, r.pos);
    }
    return check_unique_names(g, err);
}

sm_status sm_smnd_parse(const void *data, size_t size, sm_gguf *out, sm_error *err) {
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "sm_smnd_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data || size == 0) return sm_err(err, SM_ERR_CORRUPT, "truncated SMND file: 0 bytes");
    const uint8_t *p = data;
    smnd_head h = {0};
    uint64_t need;
    sm_smnd_meta meta;
    sm_status st = check_head(p, size, size, &h, &need, err);
    if (st == SM_OK && need)
        st = sm_err(err, SM_ERR_CORRUPT, "truncated SMND file: %zu bytes", size);
    if (st == SM_OK) st = read_meta(p, &h, size, out, &meta, err);
    if (st == SM_OK) st = read_records(p, size, &h, meta.tensor_count, out, err);
    if (st != SM_OK) sm_gguf_free(out);
    return st;
}

sm_status sm_smnd_parse_prefix(const void *data, size_t size, uint64_t file_size, sm_gguf *out,
                               sm_gguf_prefix *pre, sm_error *err) {
    sm_err_clear(err);
    if (!out || !pre) return sm_err(err, SM_ERR_INVALID_ARG, "sm_smnd_parse_prefix: out is NULL");
    memset(out, 0, sizeof *out);
    memset(pre, 0, sizeof *pre);
    if (!data && size > 0)
        return sm_err(err, SM_ERR_INVALID_ARG, "sm_smnd_parse_prefix: data is NULL");
    const uint64_t fs = file_size ? file_size : UINT64_MAX;
    if (fs < size)
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "sm_smnd_parse_prefix: the prefix is longer than the file");
    smnd_head h = {0};
    uint64_t need = 4;
    sm_smnd_meta meta;
    sm_status st = size ? check_head(data, size, fs, &h, &need, err) : SM_OK;
    if (st != SM_OK) return st;
    if (need) {
        pre->need = need;
        return SM_OK;
    }
    st = read_meta(data, &h, fs, out, &meta, err);
    if (st != SM_OK) {
        sm_gguf_free(out);
        return st;
    }
    pre->header_end = h.records_at;
    pre->n_kv = out->n_kv;
    pre->n_tensors = meta.tensor_count;
    pre->kv_done = true;
    return SM_OK;
}

sm_status sm_smnd_or_gguf_parse(const void *data, size_t size, sm_gguf *out, sm_error *err) {
    return sm_smnd_sniff(data, size) ? sm_smnd_parse(data, size, out, err)
                                     : sm_gguf_parse(data, size, out, err);
}
