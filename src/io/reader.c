/*
 * reader.c — the bounded little-endian cursor declared in reader.h.
 *
 * All checks compare a need against `size - pos` (which cannot underflow, since pos <= size), never
 * `pos + need` against size, so huge lengths read from a file cannot wrap around. Not a parser.
 */
#include "io/reader.h"

#include <string.h>

#include "util/error.h"

void sm_reader_init(sm_reader *r, const void *data, size_t size) {
    r->base = (const uint8_t *)data;
    r->size = data ? size : 0;
    r->pos = 0;
}

size_t sm_reader_remaining(const sm_reader *r) {
    return r->size - r->pos;
}

/* Checks that `n` bytes are left; the message says what wanted them and where. */
static sm_status need(const sm_reader *r, uint64_t n, const char *what, sm_error *err) {
    size_t left = sm_reader_remaining(r);
    if (n > (uint64_t)left) {
        return sm_err(err, SM_ERR_FORMAT,
                      "truncated: %s needs %llu bytes at offset %zu but only %zu remain",
                      what ? what : "value", (unsigned long long)n, r->pos, left);
    }
    return SM_OK;
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
    sm_status st = need(r, 1, what, err);
    if (st == SM_OK) *out = (uint8_t)take_le(r, 1);
    return st;
}

sm_status sm_reader_u16(sm_reader *r, uint16_t *out, const char *what, sm_error *err) {
    sm_status st = need(r, 2, what, err);
    if (st == SM_OK) *out = (uint16_t)take_le(r, 2);
    return st;
}

sm_status sm_reader_u32(sm_reader *r, uint32_t *out, const char *what, sm_error *err) {
    sm_status st = need(r, 4, what, err);
    if (st == SM_OK) *out = (uint32_t)take_le(r, 4);
    return st;
}

sm_status sm_reader_u64(sm_reader *r, uint64_t *out, const char *what, sm_error *err) {
    sm_status st = need(r, 8, what, err);
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
    sm_status st = need(r, n, what, err);
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
        r->pos = start;
        return sm_err(err, SM_ERR_FORMAT,
                      "%s: string length %llu runs past the end at offset %zu (%zu bytes remain)",
                      what ? what : "string", (unsigned long long)n, start, r->size - start - 8);
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
    uint64_t room = (uint64_t)sm_reader_remaining(r) / (min_item_bytes ? min_item_bytes : 1);
    if (n > room) {
        r->pos = start;
        return sm_err(err, SM_ERR_FORMAT,
                      "%s %llu at offset %zu is impossible: the %zu bytes left hold at most %llu",
                      what ? what : "count", (unsigned long long)n, start,
                      sm_reader_remaining(r) - 8, (unsigned long long)room);
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
