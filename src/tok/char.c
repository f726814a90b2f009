/*
 * char.c — the character-level tokenizer (tokenizer.ggml.model = "char"), our own format for
 * small models trained here: the vocabulary is a list of characters, and text maps to one token
 * per UTF-8 character whose text is that character. Nothing is normalized, no space is added.
 *
 * A character missing from the vocabulary becomes its bytes' byte tokens ("<0xNN>", or a
 * one-byte token text) when the vocabulary has one for each of its bytes, since that loses
 * nothing; otherwise `unk`; otherwise it is dropped. Ill-formed UTF-8 is taken one byte at a time
 * by the same rule. Not here: special tokens, BOS/EOS (tokenize.c).
 */
#include "tok/tokenizer.h"

static void emit_unknown(const sm_tokenizer *t, const uint8_t *c, size_t len, sm_tok_out *out) {
    bool all_bytes = true;
    for (size_t i = 0; i < len; i++) all_bytes = all_bytes && t->byte_token[c[i]] >= 0;
    if (all_bytes) {
        for (size_t i = 0; i < len; i++) sm_tok_push(out, t->byte_token[c[i]]);
    } else if (t->unk >= 0) {
        sm_tok_push(out, t->unk);
    }
}

sm_status sm_tok_char(const sm_tokenizer *t, const char *s, size_t n, sm_tok_out *out) {
    const uint8_t *p = (const uint8_t *)s;
    size_t off = 0;
    while (off < n) {
        sm_utf8_kind kind;
        size_t len = sm_tok_utf8_scan(p + off, n - off, &kind);
        if (kind != SM_UTF8_CHAR) len = 1;
        const int32_t id = sm_strmap_get(&t->by_text, s + off, len);
        if (id >= 0) sm_tok_push(out, id);
        else emit_unknown(t, p + off, len, out);
        off += len;
    }
    return SM_OK;
}
