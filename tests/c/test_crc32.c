/*
 * test_crc32.c — tests of sm_crc32 (src/util/crc32.c), natively and as WASM.
 *
 * Check values are zlib's (zlib.crc32 in Python, `crc32` of the standard CRC catalogue: "123456789"
 * -> 0xCBF43926). The sliced loop is compared with a bit-at-a-time reference on every length up to
 * a few blocks and every start alignment; a running value continued over random splits equals the
 * one-shot value. Prints the throughput, for information only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "sm.h"

/* The definition, one bit at a time (no tables): the reference for the sliced code. */
static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_vectors(void) {
    CHECK_EQ(sm_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ(sm_crc32(0, "", 0), 0);
    CHECK_EQ(sm_crc32(0, NULL, 0), 0);
    CHECK_EQ(sm_crc32(0x12345678u, NULL, 0), 0x12345678u); /* len 0 leaves a running value */
    CHECK_EQ(sm_crc32(0, "a", 1), 0xE8B7BE43u);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CHECK_EQ(sm_crc32(0, fox, strlen(fox)), 0x414FA339u);

    const size_t n = (size_t)1 << 20;
    uint8_t *buf = calloc(n, 1);
    CHECK(buf != NULL);
    if (!buf) return;
    CHECK_EQ(sm_crc32(0, buf, n), 0xA738EA1Cu); /* 1 MiB of zeros */
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)i;
    CHECK_EQ(sm_crc32(0, buf, n), 0x04D0E435u); /* bytes 0..255, 4096 times */
    free(buf);
}

static void test_against_bitwise(void) {
    enum { MAX_LEN = 300, PAD = 16 };
    static uint8_t buf[MAX_LEN + PAD];
    uint64_t s = 7;
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rng_next(&s);
    int bad = 0;
    for (size_t off = 0; off < PAD; off++) {
        for (size_t len = 0; len <= MAX_LEN; len++) {
            const uint32_t seed = (uint32_t)rng_next(&s);
            if (sm_crc32(seed, buf + off, len) != crc32_bitwise(seed, buf + off, len)) bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

static void test_incremental(void) {
    enum { N = 100000 };
    uint8_t *buf = malloc(N);
    CHECK(buf != NULL);
    if (!buf) return;
    uint64_t s = 42;
    for (size_t i = 0; i < N; i++) buf[i] = (uint8_t)rng_next(&s);
    const uint32_t whole = sm_crc32(0, buf, N);
    CHECK_EQ(whole, crc32_bitwise(0, buf, N));
    int bad = 0;
    for (int run = 0; run < 200; run++) {
        uint32_t c = 0;
        size_t at = 0;
        while (at < N) {
            /* pieces from 0 bytes to a few KiB, so every alignment and tail length occurs */
            size_t piece = (size_t)(rng_next(&s) % (run % 2 ? 40 : 5000));
            if (piece > N - at) piece = N - at;
            c = sm_crc32(c, buf + at, piece);
            at += piece;
        }
        if (c != whole) bad++;
    }
    CHECK_EQ(bad, 0);
    free(buf);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report_speed(void) {
    const size_t n = (size_t)32 << 20;
    uint8_t *buf = malloc(n);
    if (!buf) return;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 131u);
    double t0 = now_s();
    uint32_t c = sm_crc32(0, buf, n);
    double dt = now_s() - t0;
    printf("test_crc32: %.0f MB/s over 32 MiB (crc %08x)\n", dt > 0 ? (double)n / dt / 1e6 : 0.0,
           (unsigned)c);
    free(buf);
}

int main(void) {
    test_vectors();
    test_against_bitwise();
    test_incremental();
    report_speed();
    return sm_check_report("test_crc32");
}
