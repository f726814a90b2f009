// env.js — what the JavaScript runtime can do, detected once, in one place.
//
// Node, Deno and Bun all provide node:* modules and a `process.versions.node`; Deno and Bun are
// told apart by their globals. Cloudflare's workerd says so in navigator.userAgent and has no
// Workers, so the engine runs in-process there. Shared memory (the threaded WASM build) needs
// SharedArrayBuffer, which browsers only give to cross-origin-isolated pages (COOP + COEP).

const g = /** @type {any} */ (globalThis);

/**
 * @typedef {object} RuntimeEnv
 * @property {'node' | 'deno' | 'bun' | 'browser' | 'workerd' | 'unknown'} runtime
 * @property {boolean} nodeApis node:fs, node:worker_threads … are importable
 * @property {boolean} browserLike a Window or a dedicated Worker global
 * @property {boolean} sharedMemory SharedArrayBuffer usable with WebAssembly threads
 * @property {boolean} wasmThreads the threaded build can start its pthread workers here. Not in
 *   Deno: Emscripten 3.1.6's pthread worker script is CommonJS, and Deno's worker_threads runs it as
 *   an ES module
 * @property {boolean} workers the engine can run in a Worker (Web Worker or worker_threads)
 * @property {number} hardwareConcurrency logical CPUs (1 when unknown)
 */

/** @returns {RuntimeEnv} */
function detect() {
  const isDeno = typeof g.Deno?.version?.deno === 'string';
  const isBun = typeof g.Bun !== 'undefined';
  const nodeApis = typeof g.process?.versions?.node === 'string';
  const isWorkerd = g.navigator?.userAgent === 'Cloudflare-Workers';
  const browserLike = !nodeApis && !isWorkerd && (typeof g.window === 'object' || typeof g.importScripts === 'function'
    || (typeof g.WorkerGlobalScope === 'function' && g instanceof g.WorkerGlobalScope));
  /** @type {RuntimeEnv['runtime']} */
  const runtime = isDeno ? 'deno' : isBun ? 'bun' : nodeApis ? 'node' : isWorkerd ? 'workerd' : browserLike ? 'browser' : 'unknown';
  const sab = typeof g.SharedArrayBuffer === 'function';
  // browsers hide SharedArrayBuffer's use with WASM threads unless cross-origin isolated
  const sharedMemory = sab && (runtime === 'browser' ? g.crossOriginIsolated === true : runtime !== 'workerd');
  const wasmThreads = sharedMemory && runtime !== 'deno';
  const workers = runtime !== 'workerd' && (nodeApis || typeof g.Worker === 'function');
  const hardwareConcurrency = Number(g.navigator?.hardwareConcurrency) || 1;
  return { runtime, nodeApis, browserLike, sharedMemory, wasmThreads, workers, hardwareConcurrency };
}

/** @type {Readonly<RuntimeEnv>} */
export const env = Object.freeze(detect());

/** Logical CPUs; Node 20 has no navigator.hardwareConcurrency, so ask node:os there. */
export async function cpuCount() {
  if (env.hardwareConcurrency > 1 || !env.nodeApis) return env.hardwareConcurrency;
  const os = await import('node:os');
  return os.availableParallelism?.() ?? os.cpus().length ?? 1;
}
