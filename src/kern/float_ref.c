/*
 * float_ref.c — reference kernels of the float types F32, F16 and BF16.
 *
 * Conversions are fp16.h's (IEEE half, ggml's bf16 rounding). Dots accumulate in double, as
 * ggml's scalar ggml_vec_dot_f16/_bf16/_f32 do (ggml_float), so they are the accurate answer the
 * SIMD versions are measured against. Rows may have any alignment, hence the memcpy loads.
 */
#include <string.h>

#include "kern/fp16.h"
#include "kern/quant_ref.h"

static uint16_t load_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h;
}

static float load_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

// y[i] = x[i]
void sm_kern_to_float_f32_ref(const void *x, float *y, int64_t n) {
    memmove(y, x, (size_t)n * sizeof(float));
}

// y[i] = half(x[i])
void sm_kern_to_float_f16_ref(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    for (int64_t i = 0; i < n; i++) y[i] = sm_kern_fp16_to_f32(load_u16(p + 2 * i));
}

// y[i] = bf16(x[i])
void sm_kern_to_float_bf16_ref(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    for (int64_t i = 0; i < n; i++) y[i] = sm_kern_bf16_to_f32(load_u16(p + 2 * i));
}

// y[i] = x[i]
void sm_kern_from_float_f32_ref(const float *x, void *y, int64_t n) {
    memmove(y, x, (size_t)n * sizeof(float));
}

// y[i] = to_half(x[i]), nearest even
void sm_kern_from_float_f16_ref(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) {
        const uint16_t h = sm_kern_f32_to_fp16(x[i]);
        memcpy(p + 2 * i, &h, sizeof h);
    }
}

// y[i] = to_bf16(x[i]), nearest even
void sm_kern_from_float_bf16_ref(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) {
        const uint16_t h = sm_kern_f32_to_bf16(x[i]);
        memcpy(p + 2 * i, &h, sizeof h);
    }
}

// s = sum_i w[i] * x[i], f32 · f32
float sm_kern_vec_dot_f32_ref(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(load_f32(a + 4 * i) * load_f32(b + 4 * i));
    return (float)sum;
}

// s = sum_i w[i] * x[i], f16 · f16
float sm_kern_vec_dot_f16_ref(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(sm_kern_fp16_to_f32(load_u16(a + 2 * i)) *
                        sm_kern_fp16_to_f32(load_u16(b + 2 * i)));
    return (float)sum;
}

// s = sum_i w[i] * x[i], bf16 · bf16
float sm_kern_vec_dot_bf16_ref(int64_t n, const void *w, const void *x) {
    const uint8_t *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(sm_kern_bf16_to_f32(load_u16(a + 2 * i)) *
                        sm_kern_bf16_to_f32(load_u16(b + 2 * i)));
    return (float)sum;
}
