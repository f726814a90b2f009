/*
 * tokenizer.h — the tokenizer object built from a GGUF file's tokenizer.* metadata. Internal.
 *
 * One struct serves every algorithm (SentencePiece-style "llama", byte-level BPE "gpt2",
 * WordPiece "bert", and a character-level tokenizer); the algorithm files (spm.c, bpe.c, wpm.c,
 * char.c) each implement one sm_tok_<algo>() over a fragment of plain text. tokenize.c does what
 * is common: BOS/EOS, splitting the input at special-token text when asked, dispatch.
 * Token texts are views into the GGUF buffer (no copies); the buffer must outlive the tokenizer.
 * Behaviour follows llama.cpp's llama-vocab.cpp (the reference our tests compare against).
 */
#ifndef SM_TOK_TOKENIZER_H
#define SM_TOK_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/gguf.h"
#include "sm.h"
#include "tok/strmap.h"

typedef enum sm_vocab_kind {
    SM_VOCAB_SPM = 0,  /* tokenizer.ggml.model = "llama" */
    SM_VOCAB_BPE = 1,  /* "gpt2" */
    SM_VOCAB_WPM = 2,  /* "bert" */
    SM_VOCAB_CHAR = 3, /* character-level: one token per UTF-8 character ("char") */
    SM_VOCAB_KIND_COUNT
} sm_vocab_kind;

/* tokenizer.ggml.token_type values (GGUF / llama.cpp numbering). */
typedef enum sm_token_type {
    SM_TT_UNDEFINED = 0,
    SM_TT_NORMAL = 1,
    SM_TT_UNKNOWN = 2,
    SM_TT_CONTROL = 3,
    SM_TT_USER_DEFINED = 4,
    SM_TT_UNUSED = 5,
    SM_TT_BYTE = 6
} sm_token_type;

/* BPE pre-tokenizers (tokenizer.ggml.pre), as llama.cpp names them. */
typedef enum sm_pretok {
    SM_PRETOK_DEFAULT = 0, /* "default", a missing key, and unknown values (with a warning) */
    SM_PRETOK_LLAMA3,      /* "llama-bpe", "llama3" */
    SM_PRETOK_QWEN2,
    SM_PRETOK_SMOLLM,
    SM_PRETOK_STARCODER,
    SM_PRETOK_FALCON,
    SM_PRETOK_DEEPSEEK_CODER,
    SM_PRETOK_DEEPSEEK_LLM,
    SM_PRETOK_MPT,
    SM_PRETOK_REFACT,
    SM_PRETOK_GPT4O,
    SM_PRETOK_PHI2,        /* "phi-2" and "gpt-2": llama.cpp's GPT2 type, the GPT-2 regex alone */
    SM_PRETOK_COUNT
} sm_pretok;

struct sm_tokenizer {
    sm_vocab_kind kind;
    sm_pretok pre;
    int32_t n_tokens;
    sm_gguf_str *text;       /* [n_tokens] token texts, views into the file */
    float *scores;           /* [n_tokens] (SPM merge priority), NULL when the file has none */
    uint8_t *type;           /* [n_tokens] sm_token_type */
    sm_strmap by_text;       /* token text -> id */
    sm_pairmap merges;       /* BPE: (left id, right id) -> merge rank; empty for other kinds */
    int32_t bos, eos, eot, eom, unk, pad, sep, cls, mask, linefeed; /* -1 when absent */
    bool add_bos, add_eos, add_space_prefix, remove_extra_whitespaces;
    bool lowercase, strip_accents; /* WordPiece normalizer (tokenizer.ggml.normalizer.*) */
    int32_t byte_token[256]; /* SPM/CHAR byte fallback: id of "<0xNN>", else of the byte's own
                                one-byte text, or -1 */
    int32_t *special;        /* ids of CONTROL, USER_DEFINED and UNKNOWN tokens with non-empty text,
                                longest text first (ties: lower id first), as llama.cpp's cache */
    int32_t n_special;
    bool add_sep;            /* WPM: SM_TOKENIZE_ADD_SPECIAL also appends `sep` */
    bool ignore_merges;      /* BPE (llama3-style pre): a pre-token that is a whole token is kept */
    uint32_t max_token_len;  /* longest token text in bytes (WPM's longest-match bound) */
    uint8_t *strip;          /* [n_tokens] SM_TOK_LSTRIP/RSTRIP bits; NULL when no token has any */
    int32_t *eog;            /* [n_eog] end-of-generation ids (eos, eot, eom, and known texts) */
    int32_t n_eog;
    char warning[128];       /* e.g. an unknown pre-tokenizer that fell back to the default */
    sm_gguf own_gguf;        /* parsed file when loaded alone (vocab-only); zeroed otherwise */
};

/* sm_tokenizer.strip bits: splitting at this special token also drops whitespace on that side. */
enum { SM_TOK_LSTRIP = 1, SM_TOK_RSTRIP = 2 };

/* Growing output of token ids: writes up to `cap`, counts everything in `n`. */
typedef struct sm_tok_out {
    int32_t *ids;
    int32_t cap;
    int32_t n;
} sm_tok_out;

static inline void sm_tok_push(sm_tok_out *o, int32_t id) {
    if (o->n < o->cap) o->ids[o->n] = id;
    o->n++;
}

/* Builds a tokenizer from parsed GGUF metadata (the model's file, or a vocab-only file). Checks
 * everything it reads: array lengths agree, ids in range, merges name existing tokens, the
 * tokenizer.ggml.model value is known. On failure frees what it built; err names the problem. */
sm_status sm_tokenizer_init(sm_tokenizer *t, const sm_gguf *g, sm_error *err);

/* Frees what sm_tokenizer_init allocated (not the struct). */
void sm_tokenizer_release(sm_tokenizer *t);

/* What sm_tok_utf8_scan found at the start of a byte string. */
typedef enum sm_utf8_kind {
    SM_UTF8_CHAR = 0,       /* a well-formed character of the returned length */
    SM_UTF8_INCOMPLETE = 1, /* a well-formed prefix cut off by the end of the bytes */
    SM_UTF8_INVALID = 2     /* an ill-formed "maximal subpart" (Unicode 3.9; WHATWG): one U+FFFD */
} sm_utf8_kind;

/* Classifies the bytes at s[0..n) (n >= 1) and returns how many belong to that unit (>= 1). */
size_t sm_tok_utf8_scan(const uint8_t *s, size_t n, sm_utf8_kind *kind);

/* True when `id` ends generation (the eog list). */
bool sm_tok_is_eog(const sm_tokenizer *t, int32_t id);

/* One algorithm over one fragment of plain text (no special-token text is parsed in it).
 * `first` is true for a fragment at the start of the input or right after a special token: SPM
 * then prefixes a space when add_space_prefix is set (llama.cpp's is_prev_special rule). */
sm_status sm_tok_spm(const sm_tokenizer *t, const char *s, size_t n, bool first, sm_tok_out *out);
sm_status sm_tok_bpe(const sm_tokenizer *t, const char *s, size_t n, sm_tok_out *out);
sm_status sm_tok_wpm(const sm_tokenizer *t, const char *s, size_t n, sm_tok_out *out);
sm_status sm_tok_char(const sm_tokenizer *t, const char *s, size_t n, sm_tok_out *out);

#endif
