// compare.js — the step-by-step comparison of two greedy runs used by the parity and
// native-vs-WASM tests (rules in tests/js/parity.test.js's header). `ref` is the trusted run.

import assert from 'node:assert/strict';

import { top2Gap } from './llama-ref.js';
import { relMaxDiff } from './engine-run.js';

/** @param {ArrayLike<number>} a @param {ArrayLike<number>} b */
function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Compares two greedy runs under the rules above. By default the comparison ends at the first
 * (near-tie) divergence, after which the two runs' contexts differ. With forced (ours was fed the
 * reference's tokens: engine-run.js's opts.forced), the contexts never differ, so it goes on to
 * the last step: every step's logits are compared and every token mismatch must be a near-tie.
 * @param {{tokens: number[], logits: Float32Array[]}} ours
 * @param {{tokens: number[], logits: Float32Array[]}} ref
 * @param {number} tol
 * @param {{forced?: boolean}} [opts]
 * @returns {{compared: number, diverged: boolean, mismatched: number, maxRel: number}} mismatched:
 *   the steps whose tokens differ (near-ties)
 */
export function compareRuns(ours, ref, tol, opts = {}) {
  let maxRel = 0, diverged = false, mismatched = 0;
  if (opts.forced) assert.equal(ours.logits.length, ref.tokens.length, 'a forced run has a step per reference token');
  for (let i = 0; i < ref.tokens.length; i++) {
    const rel = relMaxDiff(ours.logits[i], ref.logits[i]);
    maxRel = Math.max(maxRel, rel);
    assert.ok(rel <= tol, `step ${i}: logits differ by ${rel.toExponential(2)} of their RMS (tolerance ${tol})`);
    if (ours.tokens[i] !== ref.tokens[i]) {
      const gap = top2Gap(ref.logits[i]), limit = 2 * maxAbsDiff(ours.logits[i], ref.logits[i]);
      assert.ok(gap < limit, `step ${i}: token ${ours.tokens[i]} vs the reference's ${ref.tokens[i]}, ` +
        `but the reference's top-2 gap ${gap.toFixed(4)} is not a near-tie (limit ${limit.toFixed(4)})`);
      diverged = true;
      mismatched++;
      if (!opts.forced) return { compared: i + 1, diverged, mismatched, maxRel };
    }
  }
  return { compared: ref.tokens.length, diverged, mismatched, maxRel };
}

