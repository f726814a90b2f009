/*
 * fuzz_model_load.c — libFuzzer target for the whole load path: GGUF parse, architecture lookup,
 * hyper-parameters, weight binding and shape checks (src/model/load.c). A load either succeeds or
 * fails with an error code and a message; it never crashes or reads outside the input. On
 * success the model's facts are read and the model freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size aligned copy, so ASan sees any read past the end */
    uint8_t *buf = aligned_alloc(64, size ? (size + 63) / 64 * 64 : 64);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sm_model *m = NULL;
    sm_error err;
    sm_status st = sm_model_load_from_memory(buf, size, NULL, &m, &err);
    if (st == SM_OK) {
        sm_model_info info;
        if (sm_model_get_info(m, &info) != SM_OK || info.n_vocab <= 0) __builtin_trap();
        if (sm_model_free(m) != SM_OK) __builtin_trap();
    } else if (m != NULL || err.code != st || err.msg[0] == '\0') {
        __builtin_trap(); /* a failure must leave no model and say why */
    }
    free(buf);
    return 0;
}
