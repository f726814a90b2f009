/*
 * smnd.h — the SMND checkpoint reader (smnd.c), its metadata JSON parser (smnd_json.c) and the
 * JSON emitter behind sm_smnd_from_gguf (smnd_emit.c). Internal; the writer is public (sm.h).
 *
 * Follows docs/SMND.md. An SMND file is read into the same sm_gguf table a GGUF file gives: the
 * metadata's [key, type, value] triples become key/values whose strings and arrays are laid out as
 * GGUF's payloads in one owned allocation (sm_gguf.owned), and tensors are views into the caller's
 * buffer. So the model loader and the tokenizer read both formats with the same code.
 */
#ifndef SM_IO_SMND_H
#define SM_IO_SMND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/gguf.h"
#include "sm.h"

enum {
    SM_SMND_HEADER_BYTES = 20, /* magic, version, reserved, metadata length */
    SM_SMND_ALIGN = 32,        /* tensor data starts at a multiple of this in the file */
    SM_SMND_MAX_NAME = 1024,   /* bytes in a tensor name */
    SM_SMND_MAX_KEY = 65535,   /* bytes in a metadata key */
    SM_SMND_MIN_RECORD = 34    /* the smallest tensor record: bounds tensor_count */
};

/* True when the first bytes are SMND's: "SMND" with at most one byte different (a damaged SMND file
 * is reported as such, not as "not a GGUF file"), or, for fewer than 4 bytes, a prefix of "SMND".
 * GGUF's magic differs from SMND's in every byte, so no GGUF file is taken for SMND. */
bool sm_smnd_sniff(const void *data, size_t size);

/* Parses a whole SMND file. Borrowed: `data` must outlive *out (tensors are views into it). On
 * success *out owns its tables and decoded metadata (sm_gguf_free), out->smnd_version is the
 * file's version and out->data_offset where the first tensor record starts. On failure *out is
 * zeroed and err says what and where (docs/SMND.md §4). Nothing is accepted until every CRC has
 * matched. */
sm_status sm_smnd_parse(const void *data, size_t size, sm_gguf *out, sm_error *err);

/* The first `size` bytes of an SMND file of `file_size` bytes (0 = unknown), as
 * sm_gguf_parse_prefix for GGUF: errors only for what the bytes prove wrong; SM_OK with pre->need >
 * 0 until the metadata and its CRC are in, then pre->need == 0, out->kv the key/values,
 * pre->n_tensors = tensor_count, pre->header_end = out->data_offset = 24 + metadata length. Tensor
 * records are not read. */
sm_status sm_smnd_parse_prefix(const void *data, size_t size, uint64_t file_size, sm_gguf *out,
                               sm_gguf_prefix *pre, sm_error *err);

/* sm_smnd_parse when sm_smnd_sniff says SMND, else sm_gguf_parse. */
sm_status sm_smnd_or_gguf_parse(const void *data, size_t size, sm_gguf *out, sm_error *err);

/* What the metadata JSON says besides its key/values. */
typedef struct sm_smnd_meta {
    uint64_t tensor_count;
    bool needs_v2; /* a key starts with "tokenizer." or "optim." */
} sm_smnd_meta;

/* Parses `len` bytes of metadata JSON (docs/SMND.md §3) into out->kv / out->n_kv with their
 * decoded strings and arrays in out->owned (out is zeroed first; free with sm_gguf_free). With
 * version 1 the §3.2 rules apply. Errors are SM_ERR_FORMAT (or SM_ERR_NOMEM) naming the member or
 * key and the byte offset in the JSON. */
sm_status sm_smnd_meta_parse(const char *json, size_t len, uint32_t version, sm_gguf *out,
                             sm_smnd_meta *meta, sm_error *err);

/* Writes the metadata JSON object of a GGUF's key/values: {"kv":[...]} plus, when `provenance`
 * (a JSON object's text, prov_len bytes) is given, "provenance". No "tensor_count": the writer adds
 * it. On success *json is a malloc'd NUL-terminated string of *len bytes the caller frees. Arrays
 * of arrays: SM_ERR_UNSUPPORTED naming the key. */
sm_status sm_smnd_meta_from_gguf(const sm_gguf *g, const char *provenance, size_t prov_len,
                                 char **json, size_t *len, sm_error *err);

#endif
