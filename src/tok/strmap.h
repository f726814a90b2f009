/*
 * strmap.h — two small open-addressing hash maps for tokenizers. Internal.
 *
 * sm_strmap maps a byte string (a view, not copied) to an int32 id; sm_pairmap maps a pair of
 * int32 ids to an int32 value (BPE merge ranks). Both are built once at load time with a fixed
 * capacity (power of two, at least 2x the entries) and are read-only afterwards, so lookups need
 * no locking. FNV-1a hashing; linear probing.
 */
#ifndef SM_TOK_STRMAP_H
#define SM_TOK_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "sm.h"

typedef struct sm_strmap_slot {
    const char *key; /* NULL = empty */
    uint32_t len;
    int32_t value;
} sm_strmap_slot;

typedef struct sm_strmap {
    sm_strmap_slot *slots;
    uint32_t mask; /* capacity - 1 */
} sm_strmap;

/* Allocates room for n entries. */
sm_status sm_strmap_init(sm_strmap *m, uint32_t n);
void sm_strmap_free(sm_strmap *m);
/* Inserts key -> value; if the key is present, keeps the first value and returns SM_DONE. */
sm_status sm_strmap_put(sm_strmap *m, const char *key, uint32_t len, int32_t value);
/* Returns the value, or -1 when absent. */
int32_t sm_strmap_get(const sm_strmap *m, const char *key, size_t len);

typedef struct sm_pairmap_slot {
    int32_t a, b; /* a == -1: empty */
    int32_t value;
} sm_pairmap_slot;

typedef struct sm_pairmap {
    sm_pairmap_slot *slots;
    uint32_t mask;
} sm_pairmap;

sm_status sm_pairmap_init(sm_pairmap *m, uint32_t n);
void sm_pairmap_free(sm_pairmap *m);
/* Inserts (a, b) -> value; keeps the first value for a repeated pair and returns SM_DONE. */
sm_status sm_pairmap_put(sm_pairmap *m, int32_t a, int32_t b, int32_t value);
/* Returns the value, or -1 when absent. */
int32_t sm_pairmap_get(const sm_pairmap *m, int32_t a, int32_t b);

#endif
