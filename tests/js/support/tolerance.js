// tolerance.js — how far SmallMind's logits may be from llama.cpp's (or native from WASM), per
// weight type, as max |ours - ref| / rms(ref) over a logit vector.
//
// Why these tolerances (relative to the logits' RMS; the random models have logit RMS ≈ 8):
// both engines convert activations before each weight matmul as llama.cpp's CPU backend does
// (Q8_0/Q8_1 per 32, Q8_K per 256, F16, BF16), so logits agree to float rounding (~1e-6) until
// one activation lands on the other side of a rounding boundary in one engine. That moves one
// value by one step of its type — 1/127 of its block's max for Q8, 2^-11 for F16, 2^-8 for BF16 —
// and the change persists through the KV cache and is amplified by the remaining layers (gain ≈ 3
// per block) and the output head (gain 8), more where the weights are coarser (K-quants with
// 2-6 bit codes). `node bench/parity-sweep.mjs` (30 runs per type: 10 seeds × 3 shapes,
// 64 steps) measured the worst case: F32 2.8e-5, F16 4.7e-3,
// BF16 3.8e-2, Q8_0/Q4_x/Q5_x ≤ 0.107, K-quants ≤ 0.20. Tolerances are about twice that. A
// kernel bug (wrong scale, nibble order or block) gives errors of order 1 or more: the
// discrimination test at the end of tests/js/parity.test.js proves the check fails then.

/** Max |ours - ref| / rms(ref) allowed per weight type. */
export const TOLERANCE = Object.freeze({
  F32: 1e-4,
  F16: 1e-2,
  BF16: 8e-2,
  Q8_0: 0.2, Q4_0: 0.2, Q4_1: 0.2, Q5_0: 0.2, Q5_1: 0.2,
  Q2_K: 0.4, Q3_K: 0.4, Q4_K: 0.4, Q5_K: 0.4, Q6_K: 0.4, Q4_K_M: 0.4,
});
