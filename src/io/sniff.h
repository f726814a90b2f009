/*
 * sniff.h — names what a buffer that is not a GGUF file looks like, for error messages. Internal.
 *
 * A model URL that answers with a login page, a Git LFS pointer or a safetensors checkpoint is a
 * common mistake, and "magic is 3c 21 44 4f" does not tell the user so. This is a table of
 * well-known file starts, not a file-type detector: it only words messages and decides nothing.
 */
#ifndef SM_IO_SNIFF_H
#define SM_IO_SNIFF_H

#include <stddef.h>
#include <stdint.h>

/* Writes a phrase about the first `n` bytes at `p` into buf (cap bytes, always NUL-terminated):
 * "it starts with '<!DOCTYPE html>' (an HTML page, not a model)", "gzip-compressed data
 * (decompress it first)", or "" when nothing is recognised. Reads at most 64 bytes; copies only
 * printable ASCII from the input. Returns buf. */
const char *sm_sniff_describe(const uint8_t *p, size_t n, char *buf, size_t cap);

#endif
