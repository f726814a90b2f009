/*
 * sm.h — the public C API of SmallMind, an LLM inference engine for WebAssembly and native hosts.
 *
 * This is the only public header. It is C11 and usable from C++. The engine does no I/O: it runs
 * over bytes the host hands it (sm_model_load_from_memory) and returns status codes, never exits,
 * aborts or prints. The generation loop reads like SQLite's prepare/step:
 *
 *     sm_session_decode(s, prompt, n_prompt);          // batched prompt processing
 *     while (sm_session_step(s, &tok) == SM_OK) emit(tok);
 *
 * Ownership: every function states who owns what in one sentence. `_free(NULL)` is a no-op.
 */
#ifndef SM_H
#define SM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SM_VERSION_MAJOR 0
#define SM_VERSION_MINOR 1
#define SM_VERSION_PATCH 0

/* Status codes. Values > 0 are progress, not errors (like SQLITE_DONE); values < 0 are errors. */
typedef enum sm_status {
    SM_OK = 0,
    SM_DONE = 1,                /* generation reached an end-of-generation token or a limit */
    SM_ERR_INVALID_ARG = -1,    /* a caller passed a NULL, an out-of-range value or a bad combination */
    SM_ERR_NOMEM = -2,          /* an allocation failed */
    SM_ERR_FORMAT = -3,         /* the file is malformed: bad magic, truncated, out-of-range offsets */
    SM_ERR_UNSUPPORTED = -4,    /* well-formed but not supported: architecture, tensor type, version */
    SM_ERR_CONTEXT_FULL = -5,   /* the session's context window has no room for more tokens */
    SM_ERR_CANCELLED = -6,      /* sm_session_cancel() stopped the running call */
    SM_ERR_BUSY = -7,           /* the object still has live children (a model with sessions) */
    SM_ERR_VERSION = -8,        /* the file's format version is not one this build reads */
    SM_ERR_CORRUPT = -9         /* the file is well-formed but its contents contradict each other */
} sm_status;

/* A status plus a readable message naming what is wrong and where. */
typedef struct sm_error {
    sm_status code;
    char msg[256];
} sm_error;

/* Returns a static, NUL-terminated name for a status code ("SM_ERR_FORMAT"). Never NULL. */
const char *sm_status_name(sm_status code);

/* Returns the library version as "MAJOR.MINOR.PATCH" plus build features ("simd128 threads"). Static. */
const char *sm_version(void);

/*
 * CRC-32 as zlib's crc32() computes it (IEEE 802.3 polynomial, reflected): continues the running
 * value `crc` (0 to start) over `len` bytes at `data`, so crc32(crc32(0, a), b) == crc32(0, a + b).
 * Returns `crc` unchanged when len is 0 (data may then be NULL). Reads only; thread-safe.
 */
uint32_t sm_crc32(uint32_t crc, const void *data, size_t len);

/* ------------------------------------------------------------------------------------------- */
/* Models                                                                                       */
/* ------------------------------------------------------------------------------------------- */

typedef struct sm_model sm_model; /* immutable after load; shared by sessions */

typedef struct sm_model_params {
    int32_t reserved; /* no options yet; always start from sm_model_default_params() */
} sm_model_params;

/* Returns the default model parameters. */
sm_model_params sm_model_default_params(void);

/*
 * Parses a GGUF file held in memory and binds its tensors to an architecture.
 * Borrowed: `data` must stay alive and unchanged until sm_model_free(); weights are views into it,
 * so it should be aligned to at least 32 bytes. `params` may be NULL for defaults. On success *out
 * owns a new model; on failure *out is NULL and `err` (optional) says what is wrong and where.
 */
sm_status sm_model_load_from_memory(const void *data, size_t size, const sm_model_params *params,
                                    sm_model **out, sm_error *err);

/*
 * Loads a model that llama.cpp's gguf-split cut into `n_parts` GGUF files
 * ("name-00001-of-00003.gguf", ...), given as `parts[i]` of `sizes[i]` bytes in order;
 * sm_model_load_from_memory is the case n_parts == 1. Borrowed: every part must stay alive and
 * unchanged until sm_model_free(); weights are views into them (each aligned to at least 32
 * bytes). Metadata comes from part 0. Fails, naming the part ("part 2 of 3: ..."), when a part's
 * split.count is not n_parts (or a single file is one part of a split model: SM_ERR_INVALID_ARG),
 * its split.no is not its index (parts out of order: SM_ERR_INVALID_ARG), a tensor name is in two
 * parts or split.tensors.count differs from the tensors found (SM_ERR_CORRUPT). On success *out
 * owns a new model; on failure *out is NULL and `err` (optional) says what is wrong and where.
 */
sm_status sm_model_load_from_parts(const void *const *parts, const size_t *sizes, int32_t n_parts,
                                   const sm_model_params *params, sm_model **out, sm_error *err);

/* What the first bytes of a model file say, before the rest has arrived (sm_model_probe_header). */
typedef struct sm_model_probe {
    int32_t complete;      /* 1: the whole header is inside the prefix and describes a model (or a
                              part of one) this build can load */
    uint64_t bytes_needed; /* complete == 0: a prefix length worth probing again at: more than
                              prefix_len, at most file_size when known, never decreasing as the
                              prefix grows (the least the header can take given what was read).
                              complete == 1: the bytes the header took */
    uint64_t header_bytes; /* complete == 1: the offset where tensor data begins; else 0 */
    char arch[32];         /* general.architecture once read (always a supported one), else "" */
    int32_t split_count;   /* split.count; 1 for a whole (unsplit) file; 0 while not known yet */
    int32_t split_no;      /* split.no, this file's 0-based part index; 0 when absent */
    uint64_t n_kv;         /* key/value pairs in the header; 0 before its first 24 bytes */
    uint64_t n_tensors;    /* tensors in this file's header; 0 before its first 24 bytes */
} sm_model_probe;

/*
 * Looks at the first `prefix_len` bytes of a GGUF model file of `file_size` bytes (0 = unknown)
 * while it downloads, to fail early. Reads only the prefix; keeps nothing. Returns:
 *  - SM_OK, complete == 0: the header (key/values and tensor table) is not all in yet; probe
 *    again once bytes_needed bytes have arrived;
 *  - SM_OK, complete == 1: general.architecture is supported and its required hyper-parameters
 *    are present (for a whole file or part 0 of a split model), every tensor's type is one this
 *    build knows and, when file_size is known, every tensor's data lies inside the file;
 *  - SM_ERR_FORMAT for bytes that are not a GGUF file (the message says what they look like: an
 *    HTML page, a Git LFS pointer, ...), a malformed header, or a file_size too small for the
 *    tensor data ("truncated: tensor 'x' ends at byte N but the file has M");
 *  - SM_ERR_UNSUPPORTED naming the architecture (decided as soon as general.architecture has
 *    arrived) or a tensor's type (as soon as its info has); SM_ERR_VERSION for a GGUF version this
 *    build does not read.
 * It never refuses a file sm_model_load_from_memory accepts. What needs binding is the loader's:
 * tensor shapes, and weights stored in activation-only types (Q8_1, Q8_K; no converter writes them). With file_size unknown, bytes_needed can
 * exceed the real file when the header is corrupt: probe again with the size once it is known.
 * `prefix` may be NULL only when prefix_len is 0; *out is zeroed first and filled as far as known.
 */
sm_status sm_model_probe_header(const void *prefix, size_t prefix_len, uint64_t file_size,
                                sm_model_probe *out, sm_error *err);

/* Frees the model. NULL is a no-op. Returns SM_ERR_BUSY (and frees nothing) while sessions live. */
sm_status sm_model_free(sm_model *model);

/* Shape and vocabulary facts of a loaded model. The model keeps ownership of returned strings. */
typedef struct sm_model_info {
    const char *arch;       /* "llama", ... */
    const char *name;       /* general.name, or "" */
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t n_ff;
    int32_t bos_token;      /* -1 when the file names none */
    int32_t eos_token;      /* -1 when the file names none */
    uint64_t n_params;      /* total weight elements */
    uint64_t weight_bytes;  /* bytes of tensor data, as stored (quantized) */
} sm_model_info;

/* Fills *info. Returns SM_ERR_INVALID_ARG when either pointer is NULL. */
sm_status sm_model_get_info(const sm_model *model, sm_model_info *info);

/* Tensors and bytes of one weight type in a model's file(s). */
typedef struct sm_weight_type_info {
    const char *name;    /* "Q4_K", "F32", ... as GGUF tools print it; static */
    int32_t type;        /* GGUF (ggml) type id */
    uint64_t n_tensors;  /* tensors of this type (every tensor in the file, used or not) */
    uint64_t n_bytes;    /* their data, as stored */
} sm_weight_type_info;

/* Facts about the file(s) a model was loaded from. The model keeps ownership of all pointers. */
typedef struct sm_model_file_info {
    uint64_t file_bytes;        /* size of the file, or of all parts together */
    int32_t n_parts;            /* 1, or the parts of a split model */
    uint64_t n_tensors;         /* in all parts */
    const char *tokenizer_kind; /* "llama", "gpt2", "bert", "char" (as sm_tokenizer_info.kind);
                                   "" when the file has no tokenizer */
    int32_t has_chat_template;  /* 1 when tokenizer.chat_template is a string in the metadata */
    int32_t n_weight_types;     /* entries in weight_types */
    const sm_weight_type_info *weight_types; /* [n_weight_types], ascending type id */
} sm_model_file_info;

/* Fills *info. Returns SM_ERR_INVALID_ARG when either pointer is NULL. */
sm_status sm_model_get_file_info(const sm_model *model, sm_model_file_info *info);

/*
 * A string from the model's metadata (part 0's for a split model), e.g. "tokenizer.chat_template"
 * or "general.license": sets *out to a view into the file bytes (not NUL-terminated, valid while
 * the model lives) and *len to its length in bytes (UTF-8 as the file stores it). Returns
 * SM_ERR_INVALID_ARG, with *out = NULL and *len = 0, when a pointer is NULL or the metadata has no
 * string under `key` (absent, or a value of another type).
 */
sm_status sm_model_meta_str(const sm_model *model, const char *key, const char **out, size_t *len);

/* ------------------------------------------------------------------------------------------- */
/* Sessions                                                                                     */
/* ------------------------------------------------------------------------------------------- */

typedef struct sm_session sm_session; /* KV cache + sampler + decode state; one per conversation */

typedef struct sm_session_params {
    int32_t n_ctx;       /* context window in tokens; 0 = min(model's n_ctx_train, 4096) */
    int32_t n_batch;     /* tokens per forward batch during prompt processing; 0 = 64 */
    int32_t n_threads;   /* worker threads; 0 or 1 = run on the caller's thread */
    float temperature;   /* 0 = greedy (argmax after penalties); must not be negative */
    int32_t top_k;       /* keep the k most likely tokens; 0 = off */
    float top_p;         /* keep the smallest set with probability >= top_p; 1 = off */
    float min_p;         /* keep tokens with p >= min_p * p_max; 0 = off */
    float repeat_penalty;    /* divide positive / multiply negative logits of recent tokens; 1 = off */
    float frequency_penalty; /* subtract count * this for recent tokens; 0 = off */
    float presence_penalty;  /* subtract this once for tokens seen recently; 0 = off */
    int32_t penalty_last_n;  /* how many recent tokens (prompt included) the penalties look at */
    uint64_t seed;       /* sampler seed: same model, tokens, options and seed give the same tokens */
    int32_t ignore_eos;  /* nonzero: end-of-generation tokens do not end sm_session_step() */
    uint64_t memory_budget; /* bytes the model's weights plus this session may use; 0 = only the
                               address space (4 GiB in WASM). Checked before allocating. */
    int32_t kv_type;     /* element type of the KV cache: SM_KV_F16 (half the memory, llama.cpp's
                            default) or SM_KV_F32 (exact); 0 = SM_KV_F16 */
    const int32_t *bias_ids;   /* [n_bias] logit bias: logit[bias_ids[i]] += bias_values[i] before */
    const float *bias_values;  /* [n_bias] the other samplers (-INFINITY bans a token). Copied by */
    int32_t n_bias;            /* sm_session_new / sm_session_set_sampling; 0 = none */
    int32_t min_parallel_work; /* a step of the forward pass with fewer multiply-adds than this
                                  runs on the calling thread alone (handing it over costs more);
                                  0 = the default, 262144; 1 = every step uses all threads */
} sm_session_params;

/* KV cache element types (sm_session_params.kv_type). */
enum { SM_KV_DEFAULT = 0, SM_KV_F16 = 1, SM_KV_F32 = 2 };

/* Returns the default session parameters. */
sm_session_params sm_session_default_params(void);

/* What a session with these parameters would need, before anything is allocated. */
typedef struct sm_memory_estimate {
    uint64_t weights;   /* tensor data as stored in the file (held by the caller's buffer) */
    uint64_t kv_cache;  /* keys and values for n_ctx positions */
    uint64_t scratch;   /* activations for one n_batch batch, logits, sampler */
    uint64_t total;     /* the sum */
} sm_memory_estimate;

/* Fills *out for a session over `model` with `params` (NULL: defaults). */
sm_status sm_model_estimate_memory(const sm_model *model, const sm_session_params *params,
                                   sm_memory_estimate *out);

/*
 * Creates a session over `model`, allocating its KV cache and scratch buffers up front (decode never
 * allocates). `params` may be NULL. The model must outlive the session. On success *out owns a new
 * session; on failure *out is NULL and `err` (optional) says why.
 */
sm_status sm_session_new(sm_model *model, const sm_session_params *params, sm_session **out,
                         sm_error *err);

/* Frees the session and its buffers. NULL is a no-op. */
void sm_session_free(sm_session *session);

/*
 * Appends `n` tokens to the context and runs them through the model as batches, leaving the logits
 * of the last token available. Returns SM_ERR_CONTEXT_FULL (nothing appended) when they do not fit,
 * SM_ERR_INVALID_ARG for an id outside the vocabulary, SM_ERR_CANCELLED when cancelled. On any
 * error the session is as it was before the call: same context length, same logits.
 */
sm_status sm_session_decode(sm_session *session, const int32_t *tokens, int32_t n);

/*
 * Picks the next token from the current logits, writes it to *tok_out and feeds it back so the
 * logits of the following position are ready. Returns SM_OK with a token, or SM_DONE (no token) when
 * the pick is an end-of-generation token or the context is full.
 */
sm_status sm_session_step(sm_session *session, int32_t *tok_out);

/* The logits of the last decoded position, [n_vocab] f32, owned by the session and valid until the
 * next decode/step; NULL before the first decode. */
const float *sm_session_logits(const sm_session *session);

/* Number of tokens currently in the context. */
int32_t sm_session_n_past(const sm_session *session);

/* Forgets every token after the first `n_keep` (0 clears the context). */
sm_status sm_session_rewind(sm_session *session, int32_t n_keep);

/* Replaces the session's sampling options (temperature, top_k, top_p, min_p, the penalties and
 * penalty_last_n, seed, ignore_eos, logit bias) and keeps its context: a conversation can change
 * them between turns without losing its KV cache. The other fields of `params` are ignored. The
 * penalty window is rebuilt from the tokens in the context and the RNG restarts from the seed.
 * SM_ERR_INVALID_ARG on a bad option (the session keeps its old sampler; the message is in
 * sm_session_last_error). */
sm_status sm_session_set_sampling(sm_session *session, const sm_session_params *params);

/* Asks the running decode/step to stop; safe from any thread. The running call returns
 * SM_ERR_CANCELLED and the flag clears when the next call starts. */
void sm_session_cancel(sm_session *session);

/* The session's last error message ("" when none). Owned by the session. */
const char *sm_session_last_error(const sm_session *session);

/* ------------------------------------------------------------------------------------------- */
/* Tokenizers                                                                                   */
/* ------------------------------------------------------------------------------------------- */

typedef struct sm_tokenizer sm_tokenizer; /* immutable after load; safe to share across threads */

/*
 * Builds a tokenizer from a GGUF file's tokenizer.* metadata alone; the file may hold no tensors
 * (a vocab-only file). Borrowed: `data` must outlive the tokenizer (token texts are views into it).
 * On success *out owns a new tokenizer, freed with sm_tokenizer_free; on failure *out is NULL and
 * `err` (optional) names the problem (unknown tokenizer.ggml.model, arrays of different lengths,
 * ids out of range, merges naming missing tokens).
 */
sm_status sm_tokenizer_load_from_memory(const void *data, size_t size, sm_tokenizer **out,
                                        sm_error *err);

/* Frees a tokenizer from sm_tokenizer_load_from_memory. NULL is a no-op. Never pass the one that
 * sm_model_tokenizer returns: the model owns that. */
void sm_tokenizer_free(sm_tokenizer *tok);

/* The model's tokenizer, owned by the model; NULL when its file has no tokenizer metadata. */
const sm_tokenizer *sm_model_tokenizer(const sm_model *model);

/* Facts about a tokenizer. Ids are -1 when the file names none. */
typedef struct sm_tokenizer_info {
    const char *kind;     /* "llama" (SentencePiece), "gpt2" (byte-level BPE), "bert", "char" */
    const char *pre;      /* BPE pre-tokenizer name in use ("default", "llama-bpe", ...) */
    const char *warning;  /* "" or e.g. why an unknown pre-tokenizer fell back to the default */
    int32_t n_tokens;
    int32_t bos, eos, eot, unk, pad, sep;
    int32_t add_bos, add_eos; /* what SM_TOKENIZE_ADD_SPECIAL adds */
} sm_tokenizer_info;

sm_status sm_tokenizer_get_info(const sm_tokenizer *tok, sm_tokenizer_info *info);

enum {
    SM_TOKENIZE_ADD_SPECIAL = 1u << 0,   /* add BOS/EOS as the tokenizer's metadata asks */
    SM_TOKENIZE_PARSE_SPECIAL = 1u << 1  /* turn control/user-defined token text ("<|im_start|>")
                                            into its id; off for untrusted text */
};

/*
 * Splits `len` bytes of UTF-8 text into token ids. Writes at most n_max ids to `toks` and sets
 * *n_out to the number the text needs (like snprintf: when *n_out > n_max, call again with a
 * bigger buffer). Invalid UTF-8 is never rejected: SentencePiece vocabularies fall back to byte
 * tokens, byte-level BPE and WordPiece read each invalid byte as U+FFFD (as llama.cpp does).
 */
sm_status sm_tokenize(const sm_tokenizer *tok, const char *text, size_t len, uint32_t flags,
                      int32_t *toks, int32_t n_max, int32_t *n_out);

enum {
    SM_DETOK_RENDER_SPECIAL = 1u << 0, /* render control tokens' text (default: they render as "") */
    SM_DETOK_CONTINUATION = 1u << 1    /* the stream continues earlier text (generation after a
                                          prompt): keep the first token's leading space, which a
                                          SentencePiece detokenizer otherwise drops */
};

/*
 * The bytes token `id` stands for in decoded text (SentencePiece's U+2581 as a space, byte
 * tokens as their byte, byte-level BPE mapped back to bytes). Writes at most `cap` bytes to `buf`
 * and sets *n_out to the length (like snprintf). The bytes may be part of a UTF-8 character.
 */
sm_status sm_token_to_piece(const sm_tokenizer *tok, int32_t id, uint32_t flags, char *buf,
                            size_t cap, size_t *n_out);

/* A streaming detokenizer: feed ids one by one, get text that is always whole UTF-8 characters.
 * A partial multi-byte sequence is held back until a later token completes it. */
typedef struct sm_detokenizer sm_detokenizer;

/* `tok` must outlive the detokenizer. flags: SM_DETOK_*. On success *out owns a new object. */
sm_status sm_detokenizer_new(const sm_tokenizer *tok, uint32_t flags, sm_detokenizer **out);
void sm_detokenizer_free(sm_detokenizer *d);

/* Adds one token; writes the text that became complete (possibly none) to buf, *n_out = its
 * length (if *n_out > cap nothing is consumed: call again with a bigger buffer). */
sm_status sm_detokenizer_push(sm_detokenizer *d, int32_t id, char *buf, size_t cap, size_t *n_out);

/* Ends the stream: a held-back sequence that never became a character comes out as one U+FFFD
 * (as a browser's TextDecoder does). */
sm_status sm_detokenizer_flush(sm_detokenizer *d, char *buf, size_t cap, size_t *n_out);

/* ------------------------------------------------------------------------------------------- */
/* SMND checkpoints and tensor types                                                            */
/* ------------------------------------------------------------------------------------------- */

/*
 * SMND is SmallMind's own model file (docs/SMND.md): the header "SMND", a version, a JSON
 * description (GGUF's key/values, typed) and the tensors (GGUF's names and ggml's types), with a
 * CRC-32 after the metadata and after each tensor. sm_model_load_from_memory,
 * sm_model_probe_header and sm_tokenizer_load_from_memory accept an SMND file wherever they accept
 * a GGUF (an SMND model is one file, never split parts; its tensors are views into the buffer as
 * with GGUF). Nothing is loaded unless every CRC matches. SMND errors: SM_ERR_CORRUPT for a bad
 * magic, a CRC mismatch, truncation or trailing bytes (the message names the tensor, or the
 * metadata); SM_ERR_VERSION for a version newer than SM_SMND_VERSION (the message names the version
 * the file needs); SM_ERR_FORMAT for metadata that breaks the specification; SM_ERR_UNSUPPORTED for
 * a tensor type this build does not know. The probe of an SMND prefix completes once the metadata
 * is in (tensor records are spread through the file, so their types are checked by the loader).
 */
#define SM_SMND_VERSION 2 /* the newest SMND version this build reads and writes */

/* A byte sink: called with each consecutive piece of output; returns SM_OK or an error that stops
 * the writer (which then returns it from every later call). `data` is valid only during the call. */
typedef sm_status (*sm_write_fn)(void *user, const void *data, size_t len);

/* A tensor as an SMND writer is told about it before its data arrives. */
typedef struct sm_smnd_tensor {
    const char *name;  /* NUL-terminated, 1..1024 bytes, unique (llama.cpp's tensor names) */
    int32_t type;      /* ggml type id (0 = F32, 1 = F16, 8 = Q8_0, 12 = Q4_K, ...) */
    int32_t n_dims;    /* 1..4 */
    int64_t ne[4];     /* elements per dimension, ne[0] innermost (GGUF's order); ne[0] a multiple
                          of the type's block size; entries past n_dims are ignored */
} sm_smnd_tensor;

typedef struct sm_smnd_writer sm_smnd_writer; /* streams one SMND file to a sink */

/*
 * Starts an SMND file of `n_tensors` tensors described by `tensors` (copied: the array and the
 * names may be freed after this call). `meta_json` is `meta_len` bytes of a JSON object with a "kv"
 * member and optionally "provenance" (docs/SMND.md §3) but no "tensor_count", which the writer
 * adds. `version` is 1, 2, or 0 for the lowest version that holds the content (1 when every tensor
 * is F32 and no key or tensor name starts with "tokenizer." or "optim."). Everything is validated
 * first with the reader's own checks, so a writer never produces a file the reader refuses:
 * SM_ERR_INVALID_ARG (bad JSON, names, shapes, a version that cannot hold the content) or
 * SM_ERR_UNSUPPORTED (an unknown type). Then the header and the metadata go to `write(user, ...)`
 * at once. On success *out owns a new writer (sm_smnd_writer_free); on failure *out is NULL.
 */
sm_status sm_smnd_writer_new(uint32_t version, const char *meta_json, size_t meta_len,
                             const sm_smnd_tensor *tensors, size_t n_tensors, sm_write_fn write,
                             void *user, sm_smnd_writer **out, sm_error *err);

/* The version being written (1 or 2) and the exact size the finished file will have. */
uint32_t sm_smnd_writer_version(const sm_smnd_writer *w);
uint64_t sm_smnd_writer_file_size(const sm_smnd_writer *w);

/*
 * Appends `len` bytes of tensor data: the tensors' data back to back in the order given to
 * sm_smnd_writer_new, in pieces of any size (a piece may span tensors). The writer adds the record
 * headers, padding and CRCs. Reads `data` during the call only. Returns SM_ERR_INVALID_ARG past the
 * last tensor's end, or the sink's error.
 */
sm_status sm_smnd_writer_write(sm_smnd_writer *w, const void *data, size_t len);

/* Checks that every tensor's data was written (SM_ERR_INVALID_ARG naming the first incomplete
 * tensor otherwise). The file is complete once this returns SM_OK. */
sm_status sm_smnd_writer_finish(sm_smnd_writer *w);

/* The writer's last error message ("" when none). Owned by the writer. */
const char *sm_smnd_writer_last_error(const sm_smnd_writer *w);

/* Frees the writer (whether finished or not). NULL is a no-op. */
void sm_smnd_writer_free(sm_smnd_writer *w);

/*
 * Converts a whole GGUF file in memory to SMND: the same key/values in the same order and types,
 * the same tensors in the same order, bytes unchanged. `version` as for sm_smnd_writer_new;
 * `provenance` is an optional JSON object's text (NULL: none). Output goes to `write(user, ...)`.
 * Reads `gguf` only. Fails as sm_gguf parsing does, or with SM_ERR_UNSUPPORTED for an array of
 * arrays (which SMND cannot hold).
 */
sm_status sm_smnd_from_gguf(const void *gguf, size_t size, uint32_t version,
                            const char *provenance, size_t prov_len, sm_write_fn write, void *user,
                            sm_error *err);

/* The name of a ggml tensor type ("Q4_K"), or NULL when this build does not know it. Static. */
const char *sm_type_name(int32_t type);

/* Bytes of `n` elements of `type`; 0 when the type is unknown or n is not a whole number of its
 * blocks (32 or 256 elements for quantized types). */
size_t sm_type_bytes(int32_t type, int64_t n);

/*
 * Converts `n` elements from `src_type` to `dst_type` (e.g. F32 or F16 to Q8_0, Q4_0, Q4_K, Q6_K)
 * through float32 with the scalar reference kernels, so every build gives the same bytes. The same
 * type is copied unchanged. n must be a whole number of blocks of both types. Reads src, writes
 * sm_type_bytes(dst_type, n) bytes at dst. Returns SM_ERR_UNSUPPORTED when either type cannot be
 * converted (no dequantizer or quantizer), SM_ERR_INVALID_ARG for NULL pointers or a bad n.
 */
sm_status sm_type_convert(int32_t src_type, const void *src, int32_t dst_type, void *dst, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* SM_H */
