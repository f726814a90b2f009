/*
 * gguf.c — the GGUF v2/v3 reader declared in gguf.h.
 *
 * Follows ggml/docs/gguf.md (v2 and v3 share one little-endian layout; v1's 32-bit counts and
 * big-endian v3 files are refused). One forward walk validates header, key/values and tensor infos
 * as it goes: arrays, nested ones too, are walked element by element, so the cost is O(file bytes)
 * however many strings a tokenizer holds, and every count is bounded by the bytes left before
 * anything is allocated. Then tensors are placed in the data section. It interprets no key except
 * general.alignment and never reads tensor data.
 *
 * The same walk runs over a prefix of a file still downloading (sm_gguf_parse_prefix): the reader
 * tells a read that runs past the prefix from one that runs past the file, each level of nesting
 * raises the reader's `want` to the least length its remaining items could take, and the walk
 * stops there with what it has read. Counts are bounded by the file; the tables they size grow
 * with the entries actually parsed, so a hostile prefix allocates in proportion to its own bytes.
 */
#include "io/gguf.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/reader.h"
#include "io/sniff.h"
#include "kern/types.h"
#include "util/error.h"

enum {
    GGUF_DEFAULT_ALIGNMENT = 32,
    GGUF_MAX_NESTING = 16,        /* arrays of arrays: bounds recursion on hostile input */
    GGUF_MIN_KV_BYTES = 8 + 4 + 1, /* empty key length, value type, 1-byte value */
    GGUF_MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8, /* name length, n_dims, one ne, type, offset */
    GGUF_ARRAY_HEADER_BYTES = 4 + 8, /* element type, element count */
    GGUF_SHOW_MAX = 64            /* longest name quoted in a message */
};

/* Bytes of one fixed-size value; 0 for STRING and ARRAY, whose size varies. */
static const uint8_t gguf_vtype_size[SM_GGUF_VTYPE_COUNT] = {
    [SM_GGUF_UINT8] = 1,  [SM_GGUF_INT8] = 1,    [SM_GGUF_UINT16] = 2,  [SM_GGUF_INT16] = 2,
    [SM_GGUF_UINT32] = 4, [SM_GGUF_INT32] = 4,   [SM_GGUF_FLOAT32] = 4, [SM_GGUF_BOOL] = 1,
    [SM_GGUF_STRING] = 0, [SM_GGUF_ARRAY] = 0,   [SM_GGUF_UINT64] = 8,  [SM_GGUF_INT64] = 8,
    [SM_GGUF_FLOAT64] = 8,
};

static const char *const gguf_vtype_names[SM_GGUF_VTYPE_COUNT] = {
    [SM_GGUF_UINT8] = "UINT8",     [SM_GGUF_INT8] = "INT8",       [SM_GGUF_UINT16] = "UINT16",
    [SM_GGUF_INT16] = "INT16",     [SM_GGUF_UINT32] = "UINT32",   [SM_GGUF_INT32] = "INT32",
    [SM_GGUF_FLOAT32] = "FLOAT32", [SM_GGUF_BOOL] = "BOOL",       [SM_GGUF_STRING] = "STRING",
    [SM_GGUF_ARRAY] = "ARRAY",     [SM_GGUF_UINT64] = "UINT64",   [SM_GGUF_INT64] = "INT64",
    [SM_GGUF_FLOAT64] = "FLOAT64",
};

const char *sm_gguf_vtype_name(sm_gguf_vtype type) {
    if ((unsigned)type >= SM_GGUF_VTYPE_COUNT) return "?";
    return gguf_vtype_names[type];
}

const char *sm_gguf_str_show(char *buf, size_t cap, sm_gguf_str s) {
    size_t n = 0;
    if (cap < 8) {
        if (cap) buf[0] = '\0';
        return buf;
    }
    for (uint64_t i = 0; i < s.len && n + 4 < cap; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < s.len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* Least bytes one element of `type` takes inside an array: its size, or the prefix of a string
 * (length) or of an array (type and count). Never 0, so it can bound a count. */
static uint64_t min_elem_bytes(sm_gguf_vtype type) {
    if (type == SM_GGUF_STRING) return 8;
    if (type == SM_GGUF_ARRAY) return GGUF_ARRAY_HEADER_BYTES;
    return gguf_vtype_size[type];
}

static sm_status read_vtype(sm_reader *r, sm_gguf_vtype *out, const char *what, sm_error *err) {
    size_t at = r->pos;
    uint32_t t;
    sm_status st = sm_reader_u32(r, &t, what, err);
    if (st != SM_OK) return st;
    if (t >= SM_GGUF_VTYPE_COUNT) {
        r->pos = at;
        return sm_err(err, SM_ERR_FORMAT, "%s: unknown value type %u at offset %zu", what, t, at);
    }
    *out = (sm_gguf_vtype)t;
    return SM_OK;
}

/* Reads an array (element type, count, elements) and checks every element: string lengths, bools,
 * nested arrays. Shared by the parser and the iterator, so the iterator walks exactly what the
 * parser accepted. `what` names the key for messages. */
static sm_status read_array(sm_reader *r, unsigned depth, sm_gguf_array *out, const char *what,
                            sm_error *err) {
    size_t at = r->pos;
    if (depth > GGUF_MAX_NESTING) {
        return sm_err(err, SM_ERR_FORMAT, "%s: arrays nested deeper than %d at offset %zu", what,
                      GGUF_MAX_NESTING, at);
    }
    sm_gguf_vtype type = SM_GGUF_UINT8;
    uint64_t n = 0;
    sm_status st = read_vtype(r, &type, what, err);
    if (st == SM_OK) st = sm_reader_u64(r, &n, what, err);
    if (st != SM_OK) {
        r->pos = at;
        return st;
    }
    const uint64_t min_elem = min_elem_bytes(type), room = sm_reader_file_left(r) / min_elem;
    if (n > room) {
        st = sm_err(err, SM_ERR_FORMAT,
                    "%s: array length %llu at offset %zu runs past the end (%llu bytes remain, "
                    "room for at most %llu %s elements)",
                    what, (unsigned long long)n, at + 4,
                    (unsigned long long)sm_reader_file_left(r), (unsigned long long)room,
                    gguf_vtype_names[type]);
        r->pos = at;
        return st;
    }
    out->type = type;
    out->n = n;
    out->data = r->base + r->pos;
    size_t start = r->pos;
    if (type == SM_GGUF_STRING || type == SM_GGUF_ARRAY) {
        for (uint64_t i = 0; i < n && st == SM_OK; i++) {
            size_t elem_at = r->pos;
            sm_gguf_str s;
            sm_gguf_array sub;
            st = type == SM_GGUF_STRING ? sm_reader_str(r, &s.ptr, &s.len, what, err)
                                        : read_array(r, depth + 1, &sub, what, err);
            /* (n - i - 1) * min_elem <= n * min_elem <= the file's bytes: no overflow */
            if (st != SM_OK) sm_reader_want_more(r, elem_at, min_elem, (n - i - 1) * min_elem);
        }
    } else {
        /* n <= room = file bytes left / size, so the product does not overflow; once the buffer
         * holds it, it fits in size_t */
        st = sm_reader_need(r, n * gguf_vtype_size[type], what, err);
        size_t n_bytes = st == SM_OK ? (size_t)n * gguf_vtype_size[type] : 0;
        for (size_t i = 0; type == SM_GGUF_BOOL && i < n_bytes && st == SM_OK; i++) {
            if (r->base[start + i] > 1) {
                st = sm_err(err, SM_ERR_FORMAT,
                            "%s: bool element %zu is %u at offset %zu; must be 0 or 1", what, i,
                            (unsigned)r->base[start + i], start + i);
            }
        }
        if (st == SM_OK) r->pos += n_bytes;
    }
    if (st != SM_OK) {
        r->pos = at;
        return st;
    }
    out->n_bytes = (uint64_t)(r->pos - start);
    return SM_OK;
}

/* Reads the value of kv->type into kv->v, widening scalars as gguf.h says. */
static sm_status read_value(sm_reader *r, sm_gguf_kv *kv, const char *what, sm_error *err) {
    size_t at = r->pos;
    sm_gguf_vtype t = kv->type;
    if (t == SM_GGUF_STRING) return sm_reader_str(r, &kv->v.str.ptr, &kv->v.str.len, what, err);
    if (t == SM_GGUF_ARRAY) return read_array(r, 0, &kv->v.arr, what, err);

    uint64_t raw = 0;
    const uint8_t *p;
    unsigned size = gguf_vtype_size[t];
    sm_status st = sm_reader_bytes(r, size, &p, what, err);
    if (st != SM_OK) return st;
    for (unsigned i = 0; i < size; i++) raw |= (uint64_t)p[i] << (8u * i);

    switch (t) {
    case SM_GGUF_INT8: case SM_GGUF_INT16: case SM_GGUF_INT32: case SM_GGUF_INT64:
        kv->v.i64 = sm_reader_as_i64(raw, 8u * size);
        break;
    case SM_GGUF_FLOAT32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof f);
        kv->v.f64 = (double)f;
        break;
    }
    case SM_GGUF_FLOAT64:
        memcpy(&kv->v.f64, &raw, sizeof kv->v.f64);
        break;
    case SM_GGUF_BOOL:
        if (raw > 1) {
            r->pos = at;
            return sm_err(err, SM_ERR_FORMAT, "%s: bool value %u at offset %zu; must be 0 or 1",
                          what, (unsigned)raw, at);
        }
        kv->v.u64 = raw;
        break;
    default: /* unsigned integers */
        kv->v.u64 = raw;
        break;
    }
    return SM_OK;
}

static sm_status parse_kv(sm_reader *r, uint64_t index, sm_gguf_kv *kv, sm_error *err) {
    char what[GGUF_SHOW_MAX + 32], name[GGUF_SHOW_MAX];
    size_t at = r->pos;
    snprintf(what, sizeof what, "key of key/value pair %llu", (unsigned long long)index);
    sm_status st = sm_reader_str(r, &kv->key.ptr, &kv->key.len, what, err);
    if (st != SM_OK) return st;
    if (kv->key.len == 0) {
        return sm_err(err, SM_ERR_FORMAT, "key/value pair %llu: empty key at offset %zu",
                      (unsigned long long)index, at);
    }
    snprintf(what, sizeof what, "key '%s'", sm_gguf_str_show(name, sizeof name, kv->key));
    st = read_vtype(r, &kv->type, what, err);
    if (st == SM_OK) st = read_value(r, kv, what, err);
    return st;
}

/* Orders views by length, then bytes, then position in the file (so of two equal names the later
 * one sorts second and is the one reported). */
static int cmp_views(const void *a, const void *b) {
    const sm_gguf_str *x = (const sm_gguf_str *)a, *y = (const sm_gguf_str *)b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    int c = memcmp(x->ptr, y->ptr, (size_t)x->len);
    if (c != 0) return c;
    return (x->ptr > y->ptr) - (x->ptr < y->ptr);
}

/* Sorting rather than pairwise comparison keeps hostile files with many names O(n log n).
 * `names` is scratch: it is reordered. */
static sm_status check_unique(sm_gguf_str *names, size_t n, const uint8_t *base, const char *kind,
                              sm_error *err) {
    char name[GGUF_SHOW_MAX];
    if (n < 2) return SM_OK;
    qsort(names, n, sizeof *names, cmp_views);
    for (size_t i = 1; i < n; i++) {
        if (names[i].len == names[i - 1].len &&
            memcmp(names[i].ptr, names[i - 1].ptr, (size_t)names[i].len) == 0) {
            size_t off = (size_t)((const uint8_t *)names[i].ptr - base);
            return sm_err(err, SM_ERR_FORMAT, "duplicate %s '%s' at offset %zu", kind,
                          sm_gguf_str_show(name, sizeof name, names[i]), off - 8);
        }
    }
    return SM_OK;
}

/* calloc of n elements, n from the file (already bounded by the bytes left). Returns NULL with
 * *st = SM_OK for n == 0, NULL with *st = SM_ERR_NOMEM on failure. */
static void *alloc_zeroed(uint64_t n, size_t elem, const char *what, sm_status *st,
                          sm_error *err) {
    void *p = NULL;
    *st = SM_OK;
    if (n == 0) return NULL;
    if (n > SIZE_MAX / elem || !(p = calloc((size_t)n, elem))) {
        *st = sm_err(err, SM_ERR_NOMEM, "out of memory for %llu %s", (unsigned long long)n, what);
    }
    return p;
}

/* Makes room for `need` of the `n` entries the header claims in *arr (*cap entries so far). The
 * first call asks for what the buffer can hold (all n for a whole file, bounded by the file);
 * over a prefix the array then doubles as entries are parsed, so it stays in proportion to the
 * prefix's bytes however many entries a hostile header claims. */
static void *reserve(void *arr, uint64_t *cap, uint64_t need, uint64_t n, size_t elem,
                     const char *what, sm_status *st, sm_error *err) {
    *st = SM_OK;
    if (need <= *cap) return arr;
    uint64_t c = *cap ? *cap : need;
    while (c < need) c = c > UINT64_MAX / 2 ? need : 2 * c;
    if (c > n) c = n;
    void *p = NULL;
    if (c > SIZE_MAX / elem || !(p = realloc(arr, (size_t)c * elem))) {
        *st = sm_err(err, SM_ERR_NOMEM, "out of memory for %llu %s", (unsigned long long)c, what);
        return arr; /* still owned by the caller */
    }
    *cap = c;
    return p;
}

/* The header's claims: what the rest of the walk must find. */
typedef struct gguf_counts {
    uint64_t n_kv, n_tensors;
} gguf_counts;

/* The magic is wrong (in the bytes there are, even fewer than 4): say what the file looks like. */
static sm_status not_gguf(const sm_reader *r, sm_error *err) {
    char hex[16] = "", what[160];
    size_t n = r->size < 4 ? r->size : 4, w = 0;
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(hex + w, sizeof hex - w, "%s%02x", i ? " " : "", r->base[i]);
    if (sm_sniff_describe(r->base, r->size, what, sizeof what)[0]) {
        return sm_err(err, SM_ERR_FORMAT,
                      "not a GGUF file: %s; the magic at offset 0 is %s, not 'GGUF'", what, hex);
    }
    return sm_err(err, SM_ERR_FORMAT, "not a GGUF file: magic at offset 0 is %s, not 'GGUF'", hex);
}

static sm_status parse_header(sm_reader *r, sm_gguf *g, gguf_counts *c, sm_error *err) {
    const size_t have = sm_reader_remaining(r) < 4 ? sm_reader_remaining(r) : 4;
    if (have > 0 && memcmp(r->base, "GGUF", have) != 0) return not_gguf(r, err);
    const uint8_t *magic;
    sm_status st = sm_reader_bytes(r, 4, &magic, "magic", err);
    if (st != SM_OK) return st;
    uint32_t v;
    st = sm_reader_u32(r, &v, "version", err);
    if (st != SM_OK) return st;
    uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    if (v != 2 && v != 3) {
        const char *why = v == 1 ? " (v1 used 32-bit counts)"
                          : (swapped == 2 || swapped == 3) ? " (a big-endian file?)" : "";
        return sm_err(err, SM_ERR_VERSION,
                      "GGUF version %u at offset 4 is not supported%s; this build reads 2 and 3",
                      v, why);
    }
    g->version = v;
    /* each tensor info and each key/value pair takes a minimum number of bytes, so both counts
     * are checked against what follows before anything is allocated or walked */
    st = sm_reader_count(r, GGUF_MIN_TENSOR_INFO_BYTES, &c->n_tensors, "tensor count", err);
    if (st == SM_OK) st = sm_reader_count(r, GGUF_MIN_KV_BYTES, &c->n_kv, "key/value count", err);
    if (st != SM_OK) return st;
    uint64_t left = sm_reader_file_left(r) - c->n_kv * GGUF_MIN_KV_BYTES;
    if (c->n_tensors > left / GGUF_MIN_TENSOR_INFO_BYTES) {
        return sm_err(err, SM_ERR_FORMAT,
                      "tensor count %llu and key/value count %llu at offset 8 cannot both fit in "
                      "the %llu bytes that follow",
                      (unsigned long long)c->n_tensors, (unsigned long long)c->n_kv,
                      (unsigned long long)sm_reader_file_left(r));
    }
    return SM_OK;
}

/* g->n_kv counts the pairs read so far, so a walk stopped by the end of a prefix leaves a table
 * that lookups can use. */
static sm_status parse_kvs(sm_reader *r, sm_gguf *g, const gguf_counts *c, sm_error *err) {
    /* the header checked n_kv * MIN_KV + n_tensors * MIN_TENSOR_INFO against the file's bytes */
    const uint64_t infos_min = c->n_tensors * GGUF_MIN_TENSOR_INFO_BYTES;
    uint64_t cap = 0, fits = sm_reader_remaining(r) / GGUF_MIN_KV_BYTES;
    sm_status st = SM_OK;
    for (uint64_t i = 0; i < c->n_kv && st == SM_OK; i++) {
        size_t at = r->pos;
        g->kv = reserve(g->kv, &cap, i ? i + 1 : (fits < c->n_kv ? fits + 1 : c->n_kv), c->n_kv,
                        sizeof *g->kv, "key/value pairs", &st, err);
        if (st != SM_OK) return st;
        memset(&g->kv[i], 0, sizeof g->kv[i]);
        st = parse_kv(r, i, &g->kv[i], err);
        if (st == SM_OK) {
            g->n_kv = i + 1;
        } else {
            sm_reader_want_more(r, at, GGUF_MIN_KV_BYTES, (c->n_kv - i - 1) * GGUF_MIN_KV_BYTES);
            sm_reader_want_more(r, 0, 0, infos_min);
        }
    }
    if (st != SM_OK || g->n_kv < 2) return st;

    sm_gguf_str *keys = alloc_zeroed(g->n_kv, sizeof *keys, "key views", &st, err);
    if (st != SM_OK) return st;
    for (uint64_t i = 0; i < g->n_kv; i++) keys[i] = g->kv[i].key;
    st = check_unique(keys, (size_t)g->n_kv, r->base, "key", err);
    free(keys);
    return st;
}

static sm_status read_alignment(sm_gguf *g, sm_error *err) {
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const sm_gguf_kv *kv = sm_gguf_find(g, "general.alignment");
    if (!kv) return SM_OK;
    if (kv->type != SM_GGUF_UINT32) {
        return sm_err(err, SM_ERR_FORMAT, "general.alignment has type %s; must be UINT32",
                      gguf_vtype_names[kv->type]);
    }
    uint64_t a = kv->v.u64;
    if (a == 0 || (a & (a - 1)) != 0) {
        return sm_err(err, SM_ERR_FORMAT,
                      "general.alignment is %llu; must be a nonzero power of two",
                      (unsigned long long)a);
    }
    g->alignment = (uint32_t)a;
    return SM_OK;
}

/* Smallest n (a divisor of 256) that `type` accepts: its block size, for messages. */
static int64_t block_size_of(int32_t type) {
    for (int64_t n = 1; n <= 256; n *= 2) {
        if (sm_kern_row_size(type, n) != 0) return n;
    }
    return 0;
}

/* Bytes of the tensor's data. Every ggml block size (1, 32, or 256 = QK_K) divides 256, so ne[0] =
 * q*256 + rem splits a row into q spans of 256 elements and a tail of rem: the kernel table is only
 * asked about n <= 256 (its size_t arithmetic cannot overflow, even on wasm32) and the products are
 * checked here in 64 bits. */
static sm_status tensor_bytes(sm_gguf_tensor *t, const char *what, sm_error *err) {
    size_t span = sm_kern_row_size(t->type, 256);
    if (span == 0) {
        return sm_err(err, SM_ERR_UNSUPPORTED, "%s: unknown tensor type %d", what, (int)t->type);
    }
    uint64_t ne0 = (uint64_t)t->ne[0], q = ne0 / 256, rem = ne0 % 256;
    size_t tail = rem ? sm_kern_row_size(t->type, (int64_t)rem) : 0;
    if (rem && tail == 0) {
        return sm_err(err, SM_ERR_FORMAT,
                      "%s: row of %lld elements is not a multiple of the block size %lld of "
                      "type %d",
                      what, (long long)t->ne[0], (long long)block_size_of(t->type), (int)t->type);
    }
    /* ne[1..3] multiply to at most the element count, which was checked against INT64_MAX */
    uint64_t rows = (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
    if (q > (UINT64_MAX - tail) / span || q * span + tail > UINT64_MAX / rows) {
        return sm_err(err, SM_ERR_FORMAT, "%s: tensor data size overflows 64 bits", what);
    }
    t->n_bytes = (q * span + tail) * rows;
    return SM_OK;
}

static sm_status read_dims(sm_reader *r, sm_gguf_tensor *t, const char *what, sm_error *err) {
    size_t at = r->pos;
    sm_status st = sm_reader_u32(r, &t->n_dims, what, err);
    if (st != SM_OK) return st;
    if (t->n_dims == 0 || t->n_dims > SM_GGUF_MAX_DIMS) {
        return sm_err(err, SM_ERR_FORMAT, "%s: %s (%u) at offset %zu; must be 1..%d", what,
                      t->n_dims ? "too many dimensions" : "no dimensions", t->n_dims, at,
                      SM_GGUF_MAX_DIMS);
    }
    int64_t n_elem = 1;
    for (uint32_t i = 0; i < SM_GGUF_MAX_DIMS; i++) {
        uint64_t ne = 1;
        at = r->pos;
        if (i < t->n_dims && (st = sm_reader_u64(r, &ne, what, err)) != SM_OK) return st;
        if (ne == 0 || ne > (uint64_t)INT64_MAX) {
            return sm_err(err, SM_ERR_FORMAT, "%s: dimension %u is %lld at offset %zu; must be >= 1",
                          what, i, (long long)sm_reader_as_i64(ne, 64), at);
        }
        t->ne[i] = (int64_t)ne;
        if (t->ne[i] > INT64_MAX / n_elem) {
            return sm_err(err, SM_ERR_FORMAT,
                          "%s: element count overflows (%lld x %lld x %lld x %lld)", what,
                          (long long)t->ne[0], (long long)(i > 0 ? t->ne[1] : 1),
                          (long long)(i > 1 ? t->ne[2] : 1), (long long)(i > 2 ? t->ne[3] : 1));
        }
        n_elem *= t->ne[i];
    }
    return SM_OK;
}

static sm_status parse_tensor_info(sm_reader *r, uint64_t index, sm_gguf_tensor *t,
                                   sm_error *err) {
    char what[GGUF_SHOW_MAX + 32], name[GGUF_SHOW_MAX];
    size_t at = r->pos;
    snprintf(what, sizeof what, "name of tensor %llu", (unsigned long long)index);
    sm_status st = sm_reader_str(r, &t->name.ptr, &t->name.len, what, err);
    if (st != SM_OK) return st;
    if (t->name.len == 0) {
        return sm_err(err, SM_ERR_FORMAT, "tensor %llu: empty name at offset %zu",
                      (unsigned long long)index, at);
    }
    snprintf(what, sizeof what, "tensor '%s'", sm_gguf_str_show(name, sizeof name, t->name));
    st = read_dims(r, t, what, err);
    if (st != SM_OK) return st;
    uint32_t type;
    st = sm_reader_u32(r, &type, what, err);
    if (st != SM_OK) return st;
    t->type = (int32_t)sm_reader_as_i64(type, 32);
    st = tensor_bytes(t, what, err); /* before the offset: over a prefix, a type is refused early */
    return st == SM_OK ? sm_reader_u64(r, &t->offset, what, err) : st;
}

/* g->n_tensors counts the infos read so far, as parse_kvs does for pairs. */
static sm_status parse_tensor_infos(sm_reader *r, sm_gguf *g, const gguf_counts *c,
                                    sm_error *err) {
    /* the header bound counted the key/values' minimum size; now their real size is known */
    const uint64_t n = c->n_tensors;
    if (n > sm_reader_file_left(r) / GGUF_MIN_TENSOR_INFO_BYTES) {
        return sm_err(err, SM_ERR_FORMAT,
                      "tensor count %llu (offset 8) does not fit in the %llu bytes left for tensor "
                      "infos at offset %zu",
                      (unsigned long long)n, (unsigned long long)sm_reader_file_left(r), r->pos);
    }
    uint64_t cap = 0, fits = sm_reader_remaining(r) / GGUF_MIN_TENSOR_INFO_BYTES;
    sm_status st = SM_OK;
    for (uint64_t i = 0; i < n && st == SM_OK; i++) {
        size_t at = r->pos;
        g->tensors = reserve(g->tensors, &cap, i ? i + 1 : (fits < n ? fits + 1 : n), n,
                             sizeof *g->tensors, "tensor infos", &st, err);
        if (st != SM_OK) return st;
        memset(&g->tensors[i], 0, sizeof g->tensors[i]);
        st = parse_tensor_info(r, i, &g->tensors[i], err);
        if (st == SM_OK) g->n_tensors = i + 1;
        else sm_reader_want_more(r, at, GGUF_MIN_TENSOR_INFO_BYTES,
                                 (n - i - 1) * GGUF_MIN_TENSOR_INFO_BYTES);
    }
    if (st != SM_OK || g->n_tensors < 2) return st;

    sm_gguf_str *names = alloc_zeroed(g->n_tensors, sizeof *names, "tensor name views", &st, err);
    if (st != SM_OK) return st;
    for (uint64_t i = 0; i < g->n_tensors; i++) names[i] = g->tensors[i].name;
    st = check_unique(names, (size_t)g->n_tensors, r->base, "tensor name", err);
    free(names);
    return st;
}

/* A tensor whose data runs past the end of the file. The loader's wording names the data section;
 * a probe of a download in progress words it as a truncation, with absolute byte positions. */
static sm_status out_of_range(const sm_reader *r, const sm_gguf_tensor *t, uint64_t start,
                              uint64_t avail, bool probe, sm_error *err) {
    char name[GGUF_SHOW_MAX];
    sm_gguf_str_show(name, sizeof name, t->name);
    uint64_t end = start + t->offset; /* may wrap: only printed when it does not */
    bool fits_u64 = t->offset <= UINT64_MAX - start && t->n_bytes <= UINT64_MAX - end;
    if (probe && fits_u64) {
        return sm_err(err, SM_ERR_FORMAT,
                      "truncated: tensor '%s' ends at byte %llu but the file has %llu", name,
                      (unsigned long long)(end + t->n_bytes), (unsigned long long)r->file_size);
    }
    return sm_err(err, SM_ERR_FORMAT,
                  "tensor '%s': tensor data out of range: %llu bytes at data offset %llu (file "
                  "offset %llu), but the data section holds %llu bytes",
                  name, (unsigned long long)t->n_bytes, (unsigned long long)t->offset,
                  (unsigned long long)end, (unsigned long long)avail);
}

/* The data section starts at the first multiple of the alignment after the tensor infos. A file
 * without tensors may end before that (ggml accepts it); data_offset is then the file size. Ranges
 * are checked against the whole file; over a prefix, a tensor not (wholly) in it gets data NULL. */
static sm_status place_tensors(const sm_reader *r, sm_gguf *g, bool probe, sm_error *err) {
    char name[GGUF_SHOW_MAX];
    uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
    uint64_t start = (uint64_t)r->pos + pad;
    if (start > r->file_size) {
        if (g->n_tensors > 0 && probe) {
            return sm_err(err, SM_ERR_FORMAT,
                          "truncated: the tensor data would start at byte %llu but the file has "
                          "%llu", (unsigned long long)start, (unsigned long long)r->file_size);
        }
        if (g->n_tensors > 0) {
            return sm_err(err, SM_ERR_FORMAT,
                          "tensor data out of range: the data section would start at offset "
                          "%llu, past the end of the %zu-byte buffer",
                          (unsigned long long)start, r->size);
        }
        start = r->file_size;
    }
    g->data_offset = start;
    uint64_t avail = r->file_size - start;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        sm_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0) {
            return sm_err(err, SM_ERR_FORMAT,
                          "tensor '%s': data offset %llu is not a multiple of the alignment %u",
                          sm_gguf_str_show(name, sizeof name, t->name),
                          (unsigned long long)t->offset, g->alignment);
        }
        if (t->offset > avail || t->n_bytes > avail - t->offset)
            return out_of_range(r, t, start, avail, probe, err);
        /* start + offset + n_bytes <= file_size: no wrap */
        uint64_t end = start + t->offset + t->n_bytes;
        t->data = end <= (uint64_t)r->size ? r->base + (size_t)(start + t->offset) : NULL;
    }
    return SM_OK;
}

/* The walk shared by sm_gguf_parse and sm_gguf_parse_prefix. */
static sm_status parse_reader(sm_reader *r, bool probe, sm_gguf *out, sm_gguf_prefix *pre,
                              sm_error *err) {
    sm_gguf g;
    memset(&g, 0, sizeof g);
    g.alignment = GGUF_DEFAULT_ALIGNMENT;
    gguf_counts c = {0, 0};
    sm_gguf_prefix p;
    memset(&p, 0, sizeof p);
    sm_status st = parse_header(r, &g, &c, err);
    if (st == SM_OK) st = parse_kvs(r, &g, &c, err);
    p.kv_done = st == SM_OK;
    if (st == SM_OK) st = read_alignment(&g, err);
    if (st == SM_OK) st = parse_tensor_infos(r, &g, &c, err);
    if (st == SM_OK) {
        p.header_end = r->pos;
        st = place_tensors(r, &g, probe, err);
    }
    p.n_kv = c.n_kv;
    p.n_tensors = c.n_tensors;
    if (st != SM_OK && r->want != 0) { /* the prefix ended: not an error */
        p.need = r->want;
        p.header_end = 0;
        st = SM_OK;
        sm_err_clear(err);
    }
    if (st != SM_OK) {
        sm_gguf_free(&g);
        return st;
    }
    *out = g;
    if (pre) *pre = p;
    return SM_OK;
}

sm_status sm_gguf_parse(const void *data, size_t size, sm_gguf *out, sm_error *err) {
    sm_err_clear(err);
    if (!out) return sm_err(err, SM_ERR_INVALID_ARG, "sm_gguf_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data && size > 0) return sm_err(err, SM_ERR_INVALID_ARG, "sm_gguf_parse: data is NULL");
    sm_reader r;
    sm_reader_init(&r, data, size);
    return parse_reader(&r, false, out, NULL, err);
}

sm_status sm_gguf_parse_prefix(const void *data, size_t size, uint64_t file_size, sm_gguf *out,
                               sm_gguf_prefix *pre, sm_error *err) {
    sm_err_clear(err);
    if (!out || !pre) return sm_err(err, SM_ERR_INVALID_ARG, "sm_gguf_parse_prefix: out is NULL");
    memset(out, 0, sizeof *out);
    memset(pre, 0, sizeof *pre);
    if (!data && size > 0)
        return sm_err(err, SM_ERR_INVALID_ARG, "sm_gguf_parse_prefix: data is NULL");
    if (file_size != 0 && file_size < (uint64_t)size) {
        return sm_err(err, SM_ERR_INVALID_ARG,
                      "sm_gguf_parse_prefix: the prefix (%zu bytes) is longer than the file (%llu)",
                      size, (unsigned long long)file_size);
    }
    sm_reader r;
    sm_reader_init_prefix(&r, data, size, file_size ? file_size : UINT64_MAX);
    return parse_reader(&r, true, out, pre, err);
}

void sm_gguf_free(sm_gguf *g) {
    if (!g) return;
    free(g->kv);
    free(g->tensors);
    free(g->owned);
    memset(g, 0, sizeof *g);
}

bool sm_gguf_str_eq(sm_gguf_str s, const char *c) {
    if (!c) return false;
    size_t n = strlen(c);
    return s.len == (uint64_t)n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

const sm_gguf_kv *sm_gguf_find(const sm_gguf *g, const char *key) {
    if (!g || !key) return NULL;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (sm_gguf_str_eq(g->kv[i].key, key)) return &g->kv[i];
    }
    return NULL;
}

const sm_gguf_tensor *sm_gguf_find_tensor(const sm_gguf *g, const char *name) {
    if (!g || !name) return NULL;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (sm_gguf_str_eq(g->tensors[i].name, name)) return &g->tensors[i];
    }
    return NULL;
}

/* An integer value as a signed/unsigned pair so range checks need no casts of unknown sign. */
static bool kv_integer(const sm_gguf_kv *kv, bool *is_signed, uint64_t *u, int64_t *i) {
    if (!kv) return false;
    switch (kv->type) {
    case SM_GGUF_UINT8: case SM_GGUF_UINT16: case SM_GGUF_UINT32: case SM_GGUF_UINT64:
        *is_signed = false;
        *u = kv->v.u64;
        return true;
    case SM_GGUF_INT8: case SM_GGUF_INT16: case SM_GGUF_INT32: case SM_GGUF_INT64:
        *is_signed = true;
        *i = kv->v.i64;
        return true;
    default:
        return false;
    }
}

bool sm_gguf_get_u32(const sm_gguf *g, const char *key, uint32_t *out) {
    bool is_signed = false;
    uint64_t u = 0;
    int64_t i = 0;
    if (!kv_integer(sm_gguf_find(g, key), &is_signed, &u, &i)) return false;
    if (is_signed) {
        if (i < 0 || i > (int64_t)UINT32_MAX) return false;
        u = (uint64_t)i;
    } else if (u > UINT32_MAX) {
        return false;
    }
    if (out) *out = (uint32_t)u;
    return true;
}

bool sm_gguf_get_i32(const sm_gguf *g, const char *key, int32_t *out) {
    bool is_signed = false;
    uint64_t u = 0;
    int64_t i = 0;
    if (!kv_integer(sm_gguf_find(g, key), &is_signed, &u, &i)) return false;
    if (!is_signed) {
        if (u > (uint64_t)INT32_MAX) return false;
        i = (int64_t)u;
    } else if (i < INT32_MIN || i > INT32_MAX) {
        return false;
    }
    if (out) *out = (int32_t)i;
    return true;
}

bool sm_gguf_get_f32(const sm_gguf *g, const char *key, float *out) {
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    if (!kv || (kv->type != SM_GGUF_FLOAT32 && kv->type != SM_GGUF_FLOAT64)) return false;
    double d = kv->v.f64;
    /* converting a finite double beyond float's range is undefined behaviour in C */
    if (!isinf(d) && (d > (double)FLT_MAX || d < -(double)FLT_MAX)) return false;
    if (out) *out = (float)d;
    return true;
}

bool sm_gguf_get_bool(const sm_gguf *g, const char *key, bool *out) {
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    if (!kv || kv->type != SM_GGUF_BOOL) return false;
    if (out) *out = kv->v.u64 != 0;
    return true;
}

bool sm_gguf_get_str(const sm_gguf *g, const char *key, sm_gguf_str *out) {
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    if (!kv || kv->type != SM_GGUF_STRING) return false;
    if (out) *out = kv->v.str;
    return true;
}

bool sm_gguf_get_arr(const sm_gguf *g, const char *key, sm_gguf_array *out) {
    const sm_gguf_kv *kv = sm_gguf_find(g, key);
    if (!kv || kv->type != SM_GGUF_ARRAY) return false;
    if (out) *out = kv->v.arr;
    return true;
}

void sm_gguf_array_iter_init(sm_gguf_array_iter *it, const sm_gguf_array *arr) {
    it->arr = *arr;
    it->index = 0;
    it->pos = arr->data;
}

/* Each step re-checks its element against the array's own span with the parser's code, so even an
 * array not produced by the parser cannot walk the iterator off its bytes: it just ends early. */
bool sm_gguf_array_iter_next(sm_gguf_array_iter *it, sm_gguf_str *str, sm_gguf_array *sub,
                             const uint8_t **elem) {
    if (it->index >= it->arr.n || !it->pos || (unsigned)it->arr.type >= SM_GGUF_VTYPE_COUNT) {
        return false;
    }
    size_t used = (size_t)(it->pos - it->arr.data);
    sm_reader r;
    sm_reader_init(&r, it->pos, (size_t)it->arr.n_bytes - used);
    sm_status st;
    if (it->arr.type == SM_GGUF_STRING) {
        sm_gguf_str s = {NULL, 0};
        st = sm_reader_str(&r, &s.ptr, &s.len, "string", NULL);
        if (st == SM_OK && str) *str = s;
    } else if (it->arr.type == SM_GGUF_ARRAY) {
        sm_gguf_array a;
        st = read_array(&r, 0, &a, "array", NULL);
        if (st == SM_OK && sub) *sub = a;
    } else {
        const uint8_t *p = NULL;
        st = sm_reader_bytes(&r, gguf_vtype_size[it->arr.type], &p, "element", NULL);
        if (st == SM_OK && elem) *elem = p;
    }
    if (st != SM_OK) {
        it->index = it->arr.n;
        return false;
    }
    it->pos += r.pos;
    it->index++;
    return true;
}
