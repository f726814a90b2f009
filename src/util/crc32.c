/*
 * crc32.c — CRC-32 as zlib's crc32() and IEEE 802.3 define it: polynomial 0x04C11DB7 used
 * reflected (0xEDB88320), initial value and final xor 0xFFFFFFFF, so a running value starts at 0.
 *
 * Slicing-by-16 (Intel's slicing-by-8 idea, 16 bytes per step): 16 tables of 256 entries, where
 * table k maps a byte to the CRC of that byte followed by k zero bytes, let one step fold 16 input
 * bytes with 16 independent lookups. Input is assembled byte by byte (no unaligned or host-order
 * loads; compilers merge them into word loads). The tables are built once, on first use.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "sm.h"

enum { CRC_SLICES = 16 };

static uint32_t crc_tables[CRC_SLICES][256];
static atomic_int crc_state; /* 0: not built, 1: being built, 2: ready */

static void build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        crc_tables[0][i] = c;
    }
    for (int k = 1; k < CRC_SLICES; k++) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = crc_tables[k - 1][i];
            crc_tables[k][i] = (c >> 8) ^ crc_tables[0][c & 0xFFu];
        }
    }
}

/* Builds the tables on first use; a thread arriving while another builds waits (microseconds). */
static void ensure_tables(void) {
    if (atomic_load_explicit(&crc_state, memory_order_acquire) == 2) return;
    int expected = 0;
    if (atomic_compare_exchange_strong(&crc_state, &expected, 1)) {
        build_tables();
        atomic_store_explicit(&crc_state, 2, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&crc_state, memory_order_acquire) != 2) {
    }
}

static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One table row per input byte of the step: byte j of 16 goes through table 15 - j. */
#define CRC_WORD(w, k)                                                                             \
    (crc_tables[(k) + 3][(w) & 0xFFu] ^ crc_tables[(k) + 2][((w) >> 8) & 0xFFu] ^                  \
     crc_tables[(k) + 1][((w) >> 16) & 0xFFu] ^ crc_tables[(k)][(w) >> 24])

uint32_t sm_crc32(uint32_t crc, const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    if (!p || len == 0) return crc;
    ensure_tables();
    uint32_t c = ~crc;
    for (; len >= CRC_SLICES; len -= CRC_SLICES, p += CRC_SLICES) {
        const uint32_t a = c ^ le32(p), b = le32(p + 4), d = le32(p + 8), e = le32(p + 12);
        c = CRC_WORD(a, 12) ^ CRC_WORD(b, 8) ^ CRC_WORD(d, 4) ^ CRC_WORD(e, 0);
    }
    for (; len > 0; len--, p++) c = (c >> 8) ^ crc_tables[0][(c ^ *p) & 0xFFu];
    return ~c;
}
