/*
 * fuzz_probe.c — libFuzzer target for sm_model_probe_header over every prefix of the input.
 *
 * Each prefix is copied to the end of a buffer of the input's size, so ASan reports any read past
 * prefix_len. With the file size known and unknown, it traps when the probe breaks its contract:
 * an error without a message, or with bytes that are not printable ASCII; bytes_needed not beyond
 * the prefix, past a known file size, or smaller than at a shorter prefix; an error or a complete
 * header at one prefix but not at a longer one; the whole file (size known) still incomplete;
 * a complete probe of a file the GGUF parser refuses, or a failed probe of a file the model
 * loader accepts. Longer inputs probe a stride of prefixes (every prefix up to 256 bytes with the
 * size known, 64 with it unknown) to bound the quadratic cost.
 * Build: cmake -DSM_FUZZ=ON with clang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/gguf.h"
#include "sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void expect(int cond) {
    if (!cond) __builtin_trap();
}

static int printable(const char *m) {
    for (; *m; m++)
        if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f) return 0;
    return 1;
}

/* Probes about n_probes growing prefixes; returns the state at the whole file: 0 incomplete,
 * 1 complete, 2 error. */
static int walk(const uint8_t *data, size_t size, uint8_t *buf, uint64_t file_size,
                size_t n_probes) {
    const size_t step = size <= n_probes ? 1 : size / n_probes + 1;
    uint64_t prev_need = 0;
    int state = 0;
    for (size_t len = 0;; len += step) {
        if (len > size) len = size;
        uint8_t *at = buf + (size - len); /* the prefix ends where the allocation does */
        if (len) memcpy(at, data, len);
        sm_model_probe p;
        sm_error err;
        sm_status st = sm_model_probe_header(len ? at : NULL, len, file_size, &p, &err);
        int now = st != SM_OK ? 2 : p.complete ? 1 : 0;
        expect(now >= state && !(state == 1 && now == 2)); /* errors and completion persist */
        if (now == 2) expect(st < 0 && err.code == st && err.msg[0] != '\0' && printable(err.msg));
        if (now == 1) expect(p.bytes_needed <= len && p.header_bytes >= p.bytes_needed);
        if (now == 0) {
            expect(p.bytes_needed > len && p.bytes_needed >= prev_need);
            expect(file_size == 0 || p.bytes_needed <= file_size);
            prev_need = p.bytes_needed;
        }
        state = now;
        if (len == size) break;
    }
    return state;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    const int known = walk(data, size, buf, size, 256);
    walk(data, size, buf, 0, 64);
    if (size > 0) expect(known != 0); /* with the whole file the answer is final */

    memcpy(buf, data, size);
    sm_gguf g;
    const sm_status parsed = sm_gguf_parse(buf, size, &g, NULL);
    sm_gguf_free(&g);
    if (known == 1) expect(parsed == SM_OK);
    sm_model *m = NULL;
    if (parsed == SM_OK && sm_model_load_from_memory(buf, size, NULL, &m, NULL) == SM_OK) {
        expect(known == 1); /* the probe never refuses what the loader accepts */
        sm_model_free(m);
    }
    free(buf);
    return 0;
}
