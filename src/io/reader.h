/*
 * reader.h — a bounded little-endian cursor over a byte buffer. Internal.
 *
 * Every read checks the bytes it needs against what is left (no pointer arithmetic past the end,
 * no overflow in the check) and, on failure, fills an sm_error naming what was being read and the
 * byte offset where it starts; the cursor then stays where it was. Reads assemble values byte by
 * byte, so they never load unaligned words and do not depend on the host's byte order. It is not a
 * parser: formats (gguf.c, smnd.c) decide what to read and what the values mean.
 *
 * A cursor may also run over a prefix of a longer file (a download in progress): a read that only
 * fails because the rest of the file has not arrived yet sets `want` to a prefix length that lets
 * it succeed, while one that could not fit even in the whole file is an ordinary format error.
 */
#ifndef SM_IO_READER_H
#define SM_IO_READER_H

#include <stddef.h>
#include <stdint.h>

#include "sm.h"

typedef struct sm_reader {
    const uint8_t *base; /* start of the buffer; offsets in messages are relative to it */
    size_t size;         /* bytes in the buffer */
    size_t pos;          /* next byte to read, 0 <= pos <= size */
    uint64_t file_size;  /* bytes of the file the buffer begins: == size, or more for a prefix
                            (UINT64_MAX when unknown) */
    uint64_t want;       /* 0, or after a read failed only for lack of prefix bytes: a buffer length
                            (> size, <= file_size) with which it would succeed */
} sm_reader;

/* Starts a cursor at offset 0 of `size` bytes at `data` (borrowed; NULL only with size 0). */
void sm_reader_init(sm_reader *r, const void *data, size_t size);

/* Starts a cursor over the first `size` bytes of a file of `file_size` bytes (UINT64_MAX when
 * unknown; a value below `size` is taken as `size`). */
void sm_reader_init_prefix(sm_reader *r, const void *data, size_t size, uint64_t file_size);

/* Bytes left after the cursor in the buffer. */
size_t sm_reader_remaining(const sm_reader *r);

/* Bytes left after the cursor in the whole file (== sm_reader_remaining unless over a prefix). */
uint64_t sm_reader_file_left(const sm_reader *r);

/* Checks that `n` bytes follow the cursor in the buffer, without moving it: SM_ERR_FORMAT naming
 * `what` when they do not (setting `want` when they would fit in the file). Counts bounded only by
 * the file must pass this before anything is allocated by them. */
sm_status sm_reader_need(sm_reader *r, uint64_t n, const char *what, sm_error *err);

/* After a failure that set `want` inside an item that began at offset `item_start`, takes at
 * least `item_min` bytes and is followed by at least `after_min` more bytes of the file: raises
 * `want` to max(want, item_start + item_min) + after_min (saturating, at most file_size). Applied
 * at every level of nesting this keeps `want` a lower bound of where the structure ends that never
 * decreases as the prefix grows. No-op when `want` is 0. */
void sm_reader_want_more(sm_reader *r, uint64_t item_start, uint64_t item_min, uint64_t after_min);

/* Fixed-size little-endian reads. `what` names the field for the message ("tensor count"); on
 * failure SM_ERR_FORMAT and the cursor does not move. `err` may be NULL. */
sm_status sm_reader_u8(sm_reader *r, uint8_t *out, const char *what, sm_error *err);
sm_status sm_reader_u16(sm_reader *r, uint16_t *out, const char *what, sm_error *err);
sm_status sm_reader_u32(sm_reader *r, uint32_t *out, const char *what, sm_error *err);
sm_status sm_reader_u64(sm_reader *r, uint64_t *out, const char *what, sm_error *err);
sm_status sm_reader_f32(sm_reader *r, float *out, const char *what, sm_error *err);
sm_status sm_reader_f64(sm_reader *r, double *out, const char *what, sm_error *err);

/* Returns a view of the next `n` bytes in *out and moves past them. */
sm_status sm_reader_bytes(sm_reader *r, uint64_t n, const uint8_t **out, const char *what,
                          sm_error *err);

/* Reads a u64 length and returns a view of that many following bytes (not NUL-terminated). A
 * length past the end fails with "string length N ... past the end at offset O". */
sm_status sm_reader_str(sm_reader *r, const char **ptr, uint64_t *len, const char *what,
                        sm_error *err);

/* Reads a u64 count of items that each take at least `min_item_bytes` (> 0) bytes in what
 * follows, and fails before anything is allocated when the rest of the file cannot hold them (for
 * a prefix cursor, also call sm_reader_need before allocating by the count). */
sm_status sm_reader_count(sm_reader *r, uint64_t min_item_bytes, uint64_t *out, const char *what,
                          sm_error *err);

/* Sign-extends the low `bits` (8, 16, 32 or 64) of `u` as two's complement (a plain cast to a
 * signed type is implementation-defined for values past its maximum). */
int64_t sm_reader_as_i64(uint64_t u, unsigned bits);

#endif
