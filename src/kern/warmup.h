/*
 * warmup.h — running the matrix kernels once on small buffers so the JIT optimizes them early.
 * Internal.
 */
#ifndef SM_KERN_WARMUP_H
#define SM_KERN_WARMUP_H

#include <stdint.h>

/* Calls every weight type's gemv, gemm, vec_dot and its activations' quantizer `rounds` times on
 * small zero-filled buffers (no allocation; the stack holds them). */
void sm_kern_warmup(int rounds);

/* The same for the n listed types only (others, and types without kernels, are skipped): a
 * loaded model's weight types, before its first prompt (see warmup.c). */
void sm_kern_warmup_types(const int32_t *types, int n, int rounds);

#endif
