/*
 * pretok.h — byte-level BPE pre-tokenizers: split text into the words BPE merges within. Internal.
 *
 * One splitter per tokenizer.ggml.pre family, reproducing what llama.cpp's llm_tokenizer_bpe does
 * for it (its regex list, run through unicode_regex_split: the hand-written gpt2/llama3 fast paths,
 * and std::regex over "collapsed" text for the rest) without a regex engine. Not the merging
 * (bpe.c) and not special-token splitting (tokenize.c).
 */
#ifndef SM_TOK_PRETOK_H
#define SM_TOK_PRETOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm.h"
#include "tok/tokenizer.h"

/* Words of a text, as byte ranges of `text`: word i is text[end[i-1] .. end[i]) (end[-1] = 0). */
typedef struct sm_pretok_words {
    char *text;      /* [n_text] the input re-encoded from its code points, as llama.cpp rebuilds
                        it: equal to the input when that is valid UTF-8; a byte starting no complete
                        sequence became U+FFFD (3 bytes), an overlong form its shortest one */
    size_t n_text;
    uint32_t *end;   /* [n_words] increasing, the last is n_text */
    size_t n_words;
    uint32_t *cpt;   /* scratch: [n_cpt] code points */
    uint8_t *flags;  /* scratch: [n_cpt] sm_unicode_flags */
    uint32_t *tmp;   /* scratch: [n_cpt + 1] */
    size_t cap;      /* code points the arrays have room for */
    size_t cap_text; /* bytes text has room for */
} sm_pretok_words;

/* Longest input accepted (bytes): offsets are 32-bit and text may grow 3x on invalid bytes. */
#define SM_PRETOK_MAX_BYTES ((size_t)1 << 30)

/* Splits s[0..n) the way family `kind` does. *w may be zeroed or reused from an earlier call (its
 * buffers grow as needed); release it with sm_pretok_words_free. SM_ERR_NOMEM, or
 * SM_ERR_INVALID_ARG when n > SM_PRETOK_MAX_BYTES or kind is out of range (SM_ERR_UNSUPPORTED for
 * a kind this file has no row for). */
sm_status sm_pretok_split(sm_pretok kind, const char *s, size_t n, sm_pretok_words *w);

/* Frees the buffers and zeroes *w. NULL-safe. */
void sm_pretok_words_free(sm_pretok_words *w);

/* True when a whole word that is itself a token is emitted as that token before any merging
 * (llama.cpp's ignore_merges, set for the Llama 3 family). */
bool sm_pretok_ignore_merges(sm_pretok kind);

/* The family's canonical tokenizer.ggml.pre name; "?" when out of range. */
const char *sm_pretok_name(sm_pretok kind);

/* The family a tokenizer.ggml.pre value names (llama.cpp's names and aliases); false when unknown
 * (llama.cpp then refuses the file; the caller may fall back to SM_PRETOK_DEFAULT). */
bool sm_pretok_from_name(const char *name, size_t len, sm_pretok *out);

#endif
