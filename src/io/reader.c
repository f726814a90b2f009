/*
 * reader.c — the bounded little-endian cursor declared in reader.h.
 *
 * All checks compare a need against `size - pos` (which cannot underflow, since pos <= size), never
 * `pos + need` against size, so huge lengths read from a file cannot wrap around. Over a prefix, a
 * need that fits in `file_size - pos` is "not arrived yet" (`want`) rather than malformed. Not a
 * parser.
 */
#include "io/reader.h"

#include <string.h>

#include "util/error.h"

void sm_reader_init(sm_reader *r, const void *data, size_t size) {
    sm_reader_init_prefix(r, data, size, data ? (uint64_t)size : 0);
}

void sm_reader_init_prefix(sm_reader *r, const void *data, size_t size, uint64_t file_size) {
    r->base = (const uint8_t *)data;
    r->size = data ? size : 0;
    r->pos = 0;
    r->file_size = file_size < (uint64_t)r->size ? (uint64_t)r->size : file_size;
    r->want = 0;
}

size_t sm_reader_remaining(const sm_reader *r) {
    return r->size - r->pos;
}

uint64_t sm_reader_file_left(const sm_reader *r) {
    return r->file_size - (uint64_t)r->pos; /* pos <= size <= file_size */
}

sm_status sm_reader_need(sm_reader *r, uint64_t n, const char *what, sm_error *err) {
    if (n <= (uint64_t)sm_reader_remaining(r)) return SM_OK;
    uint64_t file_left = sm_reader_file_left(r);
    if (n <= file_left) {
        r->want = (uint64_t)r->pos + n; /* <= file_size: cannot wrap */
        return sm_err(err, SM_ERR_FORMAT,
                      "incomplete: %s needs %llu bytes at offset %zu but only %zu have arrived",
                      what ? what : "value", (unsigned long long)n, r->pos,
                      sm_reader_remaining(r));
    }
    return sm_err(err, SM_ERR_FORMAT,
                  "truncated: %s needs %llu bytes at offset %zu but only %llu remain",
                  what ? what : "value", (unsigned long long)n, r->pos,
                  (unsigned long long)file_left);
}

void sm_reader_want_more(sm_reader *r, uint64_t item_start, uint64_t item_min, uint64_t after_min) {
    if (r->want == 0) return;
    uint64_t w = r->want;
    uint64_t floor = item_start > UINT64_MAX - item_min ? UINT64_MAX : item_start + item_min;
    if (w < floor) w = floor;
    w = w > UINT64_MAX - after_min ? UINT64_MAX : w + after_min;
    r->want = w < r->file_size ? w : r->file_size;
}

/* Assembles n <= 8 little-endian bytes at the cursor and moves past them (caller checked). */
static uint64_t take_le(sm_reader *r, unsigned n) {
    const uint8_t *p = r->base + r->pos;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8u * i);
    r->pos += n;
    return v;
}

sm_status sm_reader_u8(sm_reader *r, uint8_t *out, const char *what, sm_error *err) {
    sm_status st = sm_reader_need(r, 1, what, err);
    if (st == SM_OK) *out = (uint8_t)take_le(r, 1);
    return st;
}

sm_status sm_reader_u16(sm_reader *r, uint16_t *out, const char *what, sm_error *err) {
    sm_status st = sm_reader_need(r, 2, what, err);
    if (st == SM_OK) *out = (uint16_t)take_le(r, 2);
    return st;
}

sm_status sm_reader_u32(sm_reader *r, uint32_t *out, const char *what, sm_error *err) {
    sm_status st = sm_reader_need(r, 4, what, err);
    if (st == SM_OK) *out = (uint32_t)take_le(r, 4);
    return st;
}

sm_status sm_reader_u64(sm_reader *r, uint64_t *out, const char *what, sm_error *err) {
    sm_status st = sm_reader_need(r, 8, what, err);
    if (st == SM_OK) *out = take_le(r, 8);
    return st;
}

sm_status sm_reader_f32(sm_reader *r, float *out, const char *what, sm_error *err) {
    uint32_t bits;
    sm_status st = sm_reader_u32(r, &bits, what, err);
    if (st == SM_OK) memcpy(out, &bits, sizeof *out); /* IEEE-754 binary32, as the formats say */
    return st;
}

sm_status sm_reader_f64(sm_reader *r, double *out, const char *what, sm_error *err) {
    uint64_t bits;
    sm_status st = sm_reader_u64(r, &bits, what, err);
    if (st == SM_OK) memcpy(out, &bits, sizeof *out);
    return st;
}

sm_status sm_reader_bytes(sm_reader *r, uint64_t n, const uint8_t **out, const char *what,
                          sm_error *err) {
    sm_status st = sm_reader_need(r, n, what, err);
    if (st == SM_OK) {
        *out = r->base + r->pos;
        r->pos += (size_t)n; /* n <= remaining, so it fits in size_t */
    }
    return st;
}

sm_status sm_reader_str(sm_reader *r, const char **ptr, uint64_t *len, const char *what,
                        sm_error *err) {
    size_t start = r->pos;
    uint64_t n;
    sm_status st = sm_reader_u64(r, &n, what, err);
    if (st != SM_OK) return st;
    if (n > (uint64_t)sm_reader_remaining(r)) {
        uint64_t file_left = sm_reader_file_left(r);
        size_t body = r->pos;
        r->pos = start;
        if (n <= file_left) {
            r->want = (uint64_t)body + n; /* <= file_size */
            return sm_err(err, SM_ERR_FORMAT,
                          "incomplete: %s: string of %llu bytes at offset %zu runs past the %zu "
                          "bytes that have arrived",
                          what ? what : "string", (unsigned long long)n, start, r->size);
        }
        return sm_err(err, SM_ERR_FORMAT,
                      "%s: string length %llu runs past the end at offset %zu (%llu bytes remain)",
                      what ? what : "string", (unsigned long long)n, start,
                      (unsigned long long)file_left);
    }
    *ptr = (const char *)(r->base + r->pos);
    *len = n;
    r->pos += (size_t)n;
    return SM_OK;
}

sm_status sm_reader_count(sm_reader *r, uint64_t min_item_bytes, uint64_t *out, const char *what,
                          sm_error *err) {
    size_t start = r->pos;
    uint64_t n;
    sm_status st = sm_reader_u64(r, &n, what, err);
    if (st != SM_OK) return st;
    uint64_t file_left = sm_reader_file_left(r);
    uint64_t room = file_left / (min_item_bytes ? min_item_bytes : 1);
    if (n > room) {
        r->pos = start;
        return sm_err(err, SM_ERR_FORMAT,
                      "%s %llu at offset %zu is impossible: the %llu bytes left hold at most %llu",
                      what ? what : "count", (unsigned long long)n, start,
                      (unsigned long long)file_left, (unsigned long long)room);
    }
    *out = n;
    return SM_OK;
}

int64_t sm_reader_as_i64(uint64_t u, unsigned bits) {
    if (bits == 0) return 0;
    if (bits >= 64) {
        if (u <= (uint64_t)INT64_MAX) return (int64_t)u;
        return -(int64_t)(~u) - 1; /* ~u <= INT64_MAX here */
    }
    uint64_t sign = (uint64_t)1 << (bits - 1);
    u &= (sign << 1) - 1;
    if (u & sign) return -(int64_t)((sign << 1) - u);
    return (int64_t)u;
}
