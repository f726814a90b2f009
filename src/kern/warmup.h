/*
 * warmup.h — running the matrix kernels once on small buffers so the JIT optimizes them early.
 * Internal.
 */
#ifndef SM_KERN_WARMUP_H
#define SM_KERN_WARMUP_H

/* Calls every weight type's gemv, gemm, vec_dot and its activations' quantizer `rounds` times on
 * small zero-filled buffers (no allocation; the stack holds them). */
void sm_kern_warmup(int rounds);

#endif
