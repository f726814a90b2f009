/*
 * strmap.c — the tokenizers' two open-addressing hash maps (see strmap.h for the contract).
 *
 * Not a general-purpose container: no deletion and no growth. The capacity is fixed at init to a
 * power of two of at least twice the expected entries, so a probe sequence always ends at an
 * empty slot; a put into a full table fails instead of looping. Keys are FNV-1a hashed (the
 * 32-bit variant, http://www.isthe.com/chongo/tech/comp/fnv/), pairs with a multiplicative mix.
 */
#include "tok/strmap.h"

#include <stdlib.h>
#include <string.h>

/* Capacity for n entries: a power of two >= 2n, at least 8; 0 when that does not fit in 32 bits. */
static uint32_t capacity_for(uint32_t n) {
    if (n > (1u << 30)) return 0;
    uint32_t cap = 8;
    while (cap < 2 * n) cap <<= 1;
    return cap;
}

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

sm_status sm_strmap_init(sm_strmap *m, uint32_t n) {
    memset(m, 0, sizeof *m);
    const uint32_t cap = capacity_for(n);
    if (cap == 0) return SM_ERR_NOMEM;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return SM_ERR_NOMEM;
    m->mask = cap - 1;
    return SM_OK;
}

void sm_strmap_free(sm_strmap *m) {
    if (!m) return;
    free(m->slots);
    memset(m, 0, sizeof *m);
}

sm_status sm_strmap_put(sm_strmap *m, const char *key, uint32_t len, int32_t value) {
    if (!m->slots || !key) return SM_ERR_INVALID_ARG;
    uint32_t i = fnv1a(key, len) & m->mask;
    for (uint32_t probes = 0; probes <= m->mask; probes++, i = (i + 1) & m->mask) {
        sm_strmap_slot *s = &m->slots[i];
        if (!s->key) {
            s->key = key;
            s->len = len;
            s->value = value;
            return SM_OK;
        }
        if (s->len == len && memcmp(s->key, key, len) == 0) return SM_DONE;
    }
    return SM_ERR_NOMEM; /* full: more puts than init promised */
}

int32_t sm_strmap_get(const sm_strmap *m, const char *key, size_t len) {
    if (!m->slots || (!key && len) || len > UINT32_MAX) return -1;
    if (!key) key = ""; /* memcmp must not see NULL, even for 0 bytes */
    uint32_t i = fnv1a(key, len) & m->mask;
    for (uint32_t probes = 0; probes <= m->mask; probes++, i = (i + 1) & m->mask) {
        const sm_strmap_slot *s = &m->slots[i];
        if (!s->key) return -1;
        if (s->len == len && memcmp(s->key, key, len) == 0) return s->value;
    }
    return -1;
}

/* Both ids feed one 64-bit word; the odd multiplier spreads it and the top bits are kept. */
static uint32_t pair_hash(int32_t a, int32_t b) {
    uint64_t x = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    x *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

sm_status sm_pairmap_init(sm_pairmap *m, uint32_t n) {
    memset(m, 0, sizeof *m);
    const uint32_t cap = capacity_for(n);
    if (cap == 0) return SM_ERR_NOMEM;
    m->slots = malloc((size_t)cap * sizeof *m->slots);
    if (!m->slots) return SM_ERR_NOMEM;
    for (uint32_t i = 0; i < cap; i++) m->slots[i] = (sm_pairmap_slot){-1, -1, -1};
    m->mask = cap - 1;
    return SM_OK;
}

void sm_pairmap_free(sm_pairmap *m) {
    if (!m) return;
    free(m->slots);
    memset(m, 0, sizeof *m);
}

sm_status sm_pairmap_put(sm_pairmap *m, int32_t a, int32_t b, int32_t value) {
    if (!m->slots || a < 0) return SM_ERR_INVALID_ARG; /* a == -1 marks an empty slot */
    uint32_t i = pair_hash(a, b) & m->mask;
    for (uint32_t probes = 0; probes <= m->mask; probes++, i = (i + 1) & m->mask) {
        sm_pairmap_slot *s = &m->slots[i];
        if (s->a == -1) {
            *s = (sm_pairmap_slot){a, b, value};
            return SM_OK;
        }
        if (s->a == a && s->b == b) return SM_DONE;
    }
    return SM_ERR_NOMEM;
}

int32_t sm_pairmap_get(const sm_pairmap *m, int32_t a, int32_t b) {
    if (!m->slots || a < 0) return -1;
    uint32_t i = pair_hash(a, b) & m->mask;
    for (uint32_t probes = 0; probes <= m->mask; probes++, i = (i + 1) & m->mask) {
        const sm_pairmap_slot *s = &m->slots[i];
        if (s->a == -1) return -1;
        if (s->a == a && s->b == b) return s->value;
    }
    return -1;
}
