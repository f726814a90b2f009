/*
 * convert.c — the public tensor-type helpers: names, sizes, and conversion between types
 * (sm_type_name, sm_type_bytes, sm_type_convert in sm.h), for converters and re-quantization.
 *
 * Conversion goes through float32 with the scalar reference kernels only (dispatch.c's `_ref`
 * table and quantizers), never the SIMD ones, so a native and a WASM build write the same bytes.
 * The K-quant quantizers are round-to-nearest (quant_k_quantize_ref.c), not ggml's search.
 */
#include <string.h>

#include "kern/quant_ref.h"
#include "kern/types.h"
#include "sm.h"

enum { CHUNK = 4096 }; /* elements per step: a multiple of every block size (1, 32, 256) */

const char *sm_type_name(int32_t type) {
    const sm_type_traits *t = sm_kern_traits_ref(type);
    return t ? t->name : NULL;
}

size_t sm_type_bytes(int32_t type, int64_t n) {
    if (n < 0) return 0;
    const sm_type_traits *t = sm_kern_traits_ref(type);
    if (!t || n % t->block_size) return 0;
    return sm_kern_row_size(type, n);
}

sm_status sm_type_convert(int32_t src_type, const void *src, int32_t dst_type, void *dst,
                          int64_t n) {
    const sm_type_traits *s = sm_kern_traits_ref(src_type), *d = sm_kern_traits_ref(dst_type);
    if (!s || !d) return SM_ERR_UNSUPPORTED;
    if (n < 0 || n % s->block_size || n % d->block_size || (n && (!src || !dst)))
        return SM_ERR_INVALID_ARG;
    if (src_type == dst_type) {
        const size_t bytes = sm_kern_row_size(src_type, n);
        if (bytes) memmove(dst, src, bytes);
        return SM_OK;
    }
    sm_from_float_fn quantize = sm_kern_quantizer_ref(dst_type);
    if (!s->to_float || !quantize) return SM_ERR_UNSUPPORTED;
    float tmp[CHUNK];
    const uint8_t *in = src;
    uint8_t *out = dst;
    for (int64_t i = 0; i < n; i += CHUNK) {
        const int64_t k = n - i < CHUNK ? n - i : CHUNK;
        s->to_float(in, tmp, k);
        quantize(tmp, out, k);
        in += (size_t)(k / s->block_size) * (size_t)s->type_size;
        out += (size_t)(k / d->block_size) * (size_t)d->type_size;
    }
    return SM_OK;
}
