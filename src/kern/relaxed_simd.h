/*
 * relaxed_simd.h — the one relaxed-SIMD instruction the relaxed build variant uses, for kernels
 * compiled with -DSM_RELAXED_SIMD (and -msimd128). Internal.
 *
 * i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c): lane k = c[k] + sum_{j<4} a[4k+j] * b[4k+j], a signed
 * bytes, b bytes in 0..127 (outside that range the result is implementation-defined, so kernels
 * only pass 4- and 6-bit weights as b). V8 lowers it to pmaddubsw + pmaddwd + paddd, or one
 * vpdpbusd, where plain SIMD128 needs four widenings and two i32x4.dot_i16x8 for 16 products.
 *
 * Debian's clang 14 has no builtin for it, so kernels call sm_relaxed_dot_i8x16_i7x16_add_s, a
 * real function computing exactly those lanes, and tools/wasm/relaxed-simd.mjs replaces every call
 * to it in the linked module with the instruction. Without that rewrite (the emulated test build)
 * the results are the same, only slower.
 *
 * Bit-identity with the SIMD128 kernels: those sum products in lanes {2k, 2k+1, 8+2k, 9+2k} of each
 * 16-byte vector (i16 widening halves, then dot_i16x8 pairs); this instruction sums lanes 4k..4k+3.
 * Permuting both operands with sm_relaxed_lane_order first makes lane k sum the same products, so
 * the i32 lanes, and everything computed from them, equal the SIMD128 kernels' bit for bit (Q4_0).
 * The K-quant kernels need no permutation: they all sum a super-block's lanes to one integer
 * before its float scale (quant_simd128_k.c, k_acc_block), so any lane order gives their results.
 */
#ifndef SM_KERN_RELAXED_SIMD_H
#define SM_KERN_RELAXED_SIMD_H

#include <wasm_simd128.h>

/* Replaced by the instruction after linking (see above); never inlined, so the calls survive. */
v128_t sm_relaxed_dot_i8x16_i7x16_add_s(v128_t a, v128_t b, v128_t c);

/* Bytes 2k, 2k+1, 8+2k, 9+2k moved to 4k..4k+3: SIMD128's dot lane k becomes relaxed lane k. */
static inline v128_t sm_relaxed_lane_order(v128_t v) {
    return wasm_i8x16_shuffle(v, v, 0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
}

#endif
