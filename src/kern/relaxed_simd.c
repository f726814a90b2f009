/*
 * relaxed_simd.c — the marker function of the relaxed build variant (relaxed_simd.h): a plain
 * implementation of i32x4.relaxed_dot_i8x16_i7x16_add_s for operands b in 0..127, whose calls the
 * post-link rewrite turns into the instruction.
 */
#if defined(__wasm_simd128__) && defined(SM_RELAXED_SIMD)

#include <stdint.h>
#include <string.h>

#include "kern/relaxed_simd.h"

/* noinline keeps LLVM from inlining it; the loop keeps Binaryen from inlining it as "lightweight".
 * Either would hide calls from the rewrite (which then fails the build: no call found). */
__attribute__((noinline)) v128_t sm_relaxed_dot_i8x16_i7x16_add_s(v128_t a, v128_t b, v128_t c) {
    int8_t av[16], bv[16];
    int32_t cv[4];
    memcpy(av, &a, sizeof av);
    memcpy(bv, &b, sizeof bv);
    memcpy(cv, &c, sizeof cv);
#pragma clang loop unroll(disable) vectorize(disable)
    for (int k = 0; k < 4; k++) {
        for (int j = 0; j < 4; j++) cv[k] += av[4 * k + j] * bv[4 * k + j];
    }
    v128_t r;
    memcpy(&r, cv, sizeof r);
    return r;
}

#else
typedef int sm_kern_relaxed_simd_unused; /* ISO C forbids an empty translation unit */
#endif
