/*
 * gguf.h — a GGUF v2/v3 reader over a memory buffer. Internal.
 *
 * Follows the GGUF specification (ggml/docs/gguf.md): magic "GGUF", version, tensor count,
 * metadata key/value count, the key/value pairs, the tensor infos, padding to general.alignment,
 * then tensor data. Nothing is copied: keys, strings and tensor data are views into the buffer,
 * which must outlive the parsed file. Every offset, size and count is checked against the buffer
 * before use; a malformed file gets SM_ERR_FORMAT / SM_ERR_VERSION / SM_ERR_UNSUPPORTED and a
 * message naming what is wrong and at which byte offset.
 */
#ifndef SM_IO_GGUF_H
#define SM_IO_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm.h"

#define SM_GGUF_MAX_DIMS 4

typedef enum sm_gguf_vtype {
    SM_GGUF_UINT8 = 0,
    SM_GGUF_INT8 = 1,
    SM_GGUF_UINT16 = 2,
    SM_GGUF_INT16 = 3,
    SM_GGUF_UINT32 = 4,
    SM_GGUF_INT32 = 5,
    SM_GGUF_FLOAT32 = 6,
    SM_GGUF_BOOL = 7,
    SM_GGUF_STRING = 8,
    SM_GGUF_ARRAY = 9,
    SM_GGUF_UINT64 = 10,
    SM_GGUF_INT64 = 11,
    SM_GGUF_FLOAT64 = 12,
    SM_GGUF_VTYPE_COUNT = 13
} sm_gguf_vtype;

/* A string view into the file: not NUL-terminated. */
typedef struct sm_gguf_str {
    const char *ptr;
    uint64_t len;
} sm_gguf_str;

/* An array value: `n` elements of `type`, starting at `data` in the file. For STRING and ARRAY
 * elements (variable size) use sm_gguf_array_iter; for fixed-size elements data is packed
 * little-endian and may be unaligned (read with memcpy). */
typedef struct sm_gguf_array {
    sm_gguf_vtype type;
    uint64_t n;
    const uint8_t *data;
    uint64_t n_bytes; /* bytes the elements span in the file */
} sm_gguf_array;

typedef struct sm_gguf_kv {
    sm_gguf_str key;
    sm_gguf_vtype type;
    union {
        uint64_t u64;  /* UINT8/16/32/64, BOOL (0/1) widened */
        int64_t i64;   /* INT8/16/32/64 widened */
        double f64;    /* FLOAT32/64 widened */
        sm_gguf_str str;
        sm_gguf_array arr;
    } v;
} sm_gguf_kv;

typedef struct sm_gguf_tensor {
    sm_gguf_str name;
    int32_t type;                      /* ggml type id (see kern/types.h); may be one we can't run */
    uint32_t n_dims;
    int64_t ne[SM_GGUF_MAX_DIMS];      /* elements per dim, ne[0] innermost; unused dims are 1 */
    uint64_t offset;                   /* relative to the start of the data section */
    const uint8_t *data;               /* absolute: base of data section + offset */
    uint64_t n_bytes;                  /* checked to lie within the buffer */
} sm_gguf_tensor;

typedef struct sm_gguf {
    uint32_t version;                  /* 2 or 3 */
    uint64_t n_kv;
    sm_gguf_kv *kv;                    /* [n_kv], owned */
    uint64_t n_tensors;
    sm_gguf_tensor *tensors;           /* [n_tensors], owned */
    uint32_t alignment;                /* general.alignment or 32 */
    uint64_t data_offset;              /* start of the tensor data section in the buffer */
    uint32_t smnd_version;             /* 0 for GGUF; an SMND file's version (io/smnd.h) */
    void *owned;                       /* NULL for GGUF; SMND: the decoded metadata that keys,
                                          strings and arrays point into, freed by sm_gguf_free */
} sm_gguf;

/* Parses `size` bytes at `data`. Borrowed: `data` must outlive *out. On success *out holds owned
 * arrays freed by sm_gguf_free; on failure *out is zeroed and err says what and where. Tensor
 * types unknown to this build are accepted here only if their size can be computed; otherwise the
 * error is SM_ERR_UNSUPPORTED naming the tensor. */
sm_status sm_gguf_parse(const void *data, size_t size, sm_gguf *out, sm_error *err);

/* What sm_gguf_parse_prefix learned about the file from its prefix. */
typedef struct sm_gguf_prefix {
    uint64_t need;       /* 0: the header is complete. Else a prefix length (> the prefix, <= the
                            file size when known) that lets the walk go further: the least length
                            the header can have given what has been read, so it never decreases as
                            the prefix grows */
    uint64_t header_end; /* when complete: end of the last tensor info (bytes the header took) */
    uint64_t n_kv;       /* key/value pairs the header claims; 0 before the counts are read */
    uint64_t n_tensors;  /* tensor infos the header claims; 0 before the counts are read */
    bool kv_done;        /* every key/value pair has been read (lookups of absent keys are final) */
} sm_gguf_prefix;

/*
 * Parses the first `size` bytes of a file of `file_size` bytes (0 = unknown) as far as they go,
 * never reading past `size`. Returns an error only for what the bytes present already prove wrong
 * (bad magic, version, types, counts or ranges the file cannot hold). Otherwise SM_OK, and *out
 * owns arrays to free with sm_gguf_free:
 *  - pre->need == 0: the whole header was inside; *out is as sm_gguf_parse gives it, except that
 *    tensor ranges were checked against file_size (unknown: only against 2^64) and a tensor whose
 *    data is not wholly inside the prefix has data == NULL;
 *  - pre->need > 0: the prefix ends inside the header; out->kv[0..n_kv) and
 *    out->tensors[0..n_tensors) hold the pairs and tensor infos read so far (fewer than pre->n_kv
 *    and pre->n_tensors, tensor data still NULL), and general.alignment is not applied yet.
 * Over the whole file (size == file_size) this accepts exactly what sm_gguf_parse accepts.
 */
sm_status sm_gguf_parse_prefix(const void *data, size_t size, uint64_t file_size, sm_gguf *out,
                               sm_gguf_prefix *pre, sm_error *err);

/*
 * Parses the parts of a model that llama.cpp's gguf-split cut into `n_parts` GGUF files (or one
 * whole file: n_parts == 1) and merges them into one *out: the key/values of part 0 (where
 * gguf-split keeps all metadata), then the tensors of every part in order, each a view into its
 * own part. Borrowed: every part must outlive *out. Checks each part's split.no (its index) and
 * split.count (n_parts), that split.tensors.count matches the tensors found and that no tensor name
 * repeats across parts; messages name the part ("part 2 of 3: ..."). A file without split.* keys
 * is a whole model; with n_parts == 1 it reads exactly as sm_gguf_parse. out->data_offset and
 * out->alignment are part 0's.
 */
sm_status sm_gguf_parse_parts(const void *const *parts, const size_t *sizes, int32_t n_parts,
                              sm_gguf *out, sm_error *err);

/* Frees what sm_gguf_parse allocated and zeroes *g. NULL-safe. */
void sm_gguf_free(sm_gguf *g);

/* Lookup by exact key / tensor name (C string). NULL when absent. */
const sm_gguf_kv *sm_gguf_find(const sm_gguf *g, const char *key);
const sm_gguf_tensor *sm_gguf_find_tensor(const sm_gguf *g, const char *name);

/* Typed getters: return true and set *out when the key exists with a compatible type (any integer
 * type in range for the integer getters; FLOAT32/64 for get_f32; STRING for get_str). */
bool sm_gguf_get_u32(const sm_gguf *g, const char *key, uint32_t *out);
bool sm_gguf_get_i32(const sm_gguf *g, const char *key, int32_t *out);
bool sm_gguf_get_f32(const sm_gguf *g, const char *key, float *out);
bool sm_gguf_get_str(const sm_gguf *g, const char *key, sm_gguf_str *out);
bool sm_gguf_get_arr(const sm_gguf *g, const char *key, sm_gguf_array *out);
/* BOOL only. */
bool sm_gguf_get_bool(const sm_gguf *g, const char *key, bool *out);

/* A static name for a value type ("UINT32"), "?" when out of range; for messages. */
const char *sm_gguf_vtype_name(sm_gguf_vtype type);

/* Copies a name from the file into buf (cap >= 8) for a message: printable ASCII kept, other
 * bytes shown as '?', long names cut with "...", so a hostile name can neither flood nor garble
 * the message. Returns buf. */
const char *sm_gguf_str_show(char *buf, size_t cap, sm_gguf_str s);

/* Compares a view with a C string. */
bool sm_gguf_str_eq(sm_gguf_str s, const char *c);

/* Walks the elements of an array in order (needed for STRING and nested ARRAY elements, whose
 * sizes vary). The parser validated the whole array, so the walk cannot run off the buffer. */
typedef struct sm_gguf_array_iter {
    sm_gguf_array arr;
    uint64_t index;
    const uint8_t *pos;
} sm_gguf_array_iter;

void sm_gguf_array_iter_init(sm_gguf_array_iter *it, const sm_gguf_array *arr);
/* Advances; returns false at the end. For STRING elements sets *str; for ARRAY elements sets
 * *sub; for fixed-size elements sets *elem to the element's bytes. Unused outputs may be NULL. */
bool sm_gguf_array_iter_next(sm_gguf_array_iter *it, sm_gguf_str *str, sm_gguf_array *sub,
                             const uint8_t **elem);

#endif
