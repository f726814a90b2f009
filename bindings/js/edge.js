// edge.js — the `smallmind/edge` entry point, for runtimes that cannot start Workers or compile
// WebAssembly at run time (Cloudflare workerd, other edge functions). The engine runs in the
// caller's thread on the single-thread build; its Emscripten loader is imported statically so a
// bundler includes it, and the compiled .wasm comes from the platform's module import:
//
//   import wasmModule from 'smallmind/wasm/smallmind-simd.wasm';
//   import { SmallMind } from 'smallmind/edge';
//   const model = await SmallMind.load(bytesOrUrl, { wasmModule });

import createSmallMind from './wasm/smallmind-simd.mjs';
import { loadWith, modelCache } from './smallmind.js';
import { env } from './env.js';

/**
 * @param {import('./sources.js').ModelSource | import('./sources.js').ModelSource[]} source
 * @param {import('./smallmind.js').LoadOptions} [options] wasmModule is required where WASM
 *   cannot be compiled from bytes
 */
function load(source, options = {}) {
  return loadWith(source, { ...options, worker: false, threads: 1 }, { wasmFactory: createSmallMind });
}

export const SmallMind = Object.freeze({ load, cache: modelCache, env });
export { SmallMindModel } from './smallmind.js';
export { SmallMindError, AbortError, TimeoutError, LoadError } from './errors.js';
