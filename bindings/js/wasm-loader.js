// wasm-loader.js — instantiates one of the engine's WASM builds in any JS runtime.
//
// Emscripten's generated loader would fetch its .wasm by path, which fails in Node 18+ for file
// paths, and workerd forbids compiling WASM from bytes at run time; so we always hand it either a
// compiled WebAssembly.Module (instantiateWasm hook) or the bytes (wasmBinary).
// Variants: 'simd' (single thread + SIMD128) and 'mt' (pthreads + SIMD128; needs SharedArrayBuffer),
// each also built with relaxed SIMD (smallmind-<variant>-relaxed.*: the i8 dot product, see
// src/kern/relaxed_simd.h), which is taken where the runtime runs it (relaxedSimdSupported()).
// Assets (the .mjs loaders, .wasm files, the pthread and engine worker scripts) live in one
// directory, `assetsBase`, by default ./wasm/ beside this file: a bundled app copies that directory
// next to its bundle and everything resolves the same way (new URL(…, import.meta.url)).

import { env } from './env.js';

/** @param {string | URL | undefined} base @returns {URL} the assets directory, ending in '/' */
export function assetsDir(base) {
  // a runtime without import.meta.url (some edge runtimes) must give assetsBase, or wasmFactory
  if (base === undefined) return new URL('./wasm/', import.meta.url ?? 'file:///smallmind-assets/');
  const u = new URL(String(base), /** @type {any} */ (globalThis).location?.href ?? import.meta.url);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

// (module (func (param v128 v128 v128) (result v128)
//   local.get 0 local.get 1 local.get 2 i32x4.relaxed_dot_i8x16_i7x16_add_s))
const RELAXED_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1,
  0x7b, 3, 2, 1, 0, 10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x93, 0x02, 0x0b]);
/** @type {boolean | undefined} */
let relaxedSupported;

/**
 * Does this runtime run the relaxed-SIMD builds? It must validate the instruction they use; and
 * not be Node before 22, whose V8 only has it behind --experimental-wasm-relaxed-simd, a pre-release
 * implementation: a kernel lab module that Chromium ran exactly got wrong sums from Node 20 with
 * that flag (2026-12-06).
 * @returns {boolean}
 */
export function relaxedSimdSupported() {
  if (relaxedSupported === undefined) {
    const node = /** @type {any} */ (globalThis).process?.versions?.node;
    const oldNode = env.runtime === 'node' && typeof node === 'string' && Number(node.split('.')[0]) < 22;
    try {
      relaxedSupported = !oldNode && WebAssembly.validate(RELAXED_PROBE);
    } catch {
      relaxedSupported = false;
    }
  }
  return relaxedSupported;
}

/**
 * Whether a load uses the relaxed build: as asked, else where supported, unless the caller hands
 * over its own module, file or factory (those are the plain builds unless it says otherwise).
 * @param {{relaxedSimd?: boolean, wasmUrl?: unknown, wasmModule?: unknown, wasmFactory?: unknown}} opts
 */
export function useRelaxedSimd(opts) {
  const own = opts.wasmUrl || opts.wasmModule || opts.wasmFactory;
  if (opts.relaxedSimd === true && !own && !relaxedSimdSupported()) {
    throw new TypeError('this runtime cannot run the relaxed-SIMD build (relaxedSimd: true); leave the option out to pick the build automatically');
  }
  return opts.relaxedSimd ?? (!own && relaxedSimdSupported());
}

/** @param {'simd' | 'mt'} variant */
function checkVariant(variant) {
  if (variant !== 'simd' && variant !== 'mt') throw new TypeError(`unknown WASM variant '${variant}' (use 'simd' or 'mt')`);
}

/**
 * The bytes of a variant's .wasm file.
 * @param {URL} url
 * @returns {Promise<Uint8Array>}
 */
async function readWasmBytes(url) {
  if (url.protocol === 'file:' && env.nodeApis) {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(url);
    } catch (e) {
      throw new Error(`SmallMind's WASM build is missing (${url.pathname}); run 'npm run build' first`, { cause: e });
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch SmallMind's WASM build ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Compiles a variant once; the WebAssembly.Module can be posted to Workers, so every engine
 * worker of the page or process instantiates the same compiled code.
 * @param {{variant?: 'simd' | 'mt', relaxedSimd?: boolean, assetsBase?: string | URL, wasmUrl?: string | URL}} [opts]
 * @returns {Promise<WebAssembly.Module>}
 */
export async function compileWasm(opts = {}) {
  const variant = opts.variant ?? 'simd';
  checkVariant(variant);
  const base = `smallmind-${variant}${useRelaxedSimd(opts) ? '-relaxed' : ''}`;
  const url = opts.wasmUrl ? new URL(String(opts.wasmUrl)) : new URL(`${base}.wasm`, assetsDir(opts.assetsBase));
  return WebAssembly.compile(/** @type {BufferSource} */ (await readWasmBytes(url)));
}

/**
 * @param {{variant?: 'simd' | 'mt', relaxedSimd?: boolean, wasmUrl?: string | URL, assetsBase?: string | URL,
 *   wasmModule?: WebAssembly.Module, wasmFactory?: Function}} [opts] wasmModule: an already
 *   compiled module (required in workerd, where it comes from a module import); wasmUrl: the
 *   .wasm file itself; wasmFactory: the variant's Emscripten factory, statically imported (edge.js);
 *   relaxedSimd: the relaxed build (default: where supported, unless one of those three is given;
 *   a given module or file must then be that build, since its loader script is picked by it)
 * @returns {Promise<any>} the Emscripten module; its smRelaxedSimd says which build it is
 */
export async function loadWasm(opts = {}) {
  const variant = opts.variant ?? 'simd';
  checkVariant(variant);
  const dir = assetsDir(opts.assetsBase);
  const relaxed = useRelaxedSimd(opts);
  const base = `smallmind-${variant}${relaxed ? '-relaxed' : ''}`;
  const jsUrl = new URL(`${base}.mjs`, dir);
  const module = opts.wasmModule;
  const wasmBinary = module ? undefined : await readWasmBytes(opts.wasmUrl ? new URL(String(opts.wasmUrl)) : new URL(`${base}.wasm`, dir));
  const factory = opts.wasmFactory ?? (await import(/* @vite-ignore */ jsUrl.href)).default;
  const toPath = env.nodeApis && dir.protocol === 'file:' ? (await import('node:url')).fileURLToPath : null;
  /** @type {Record<string, unknown>} */
  const config = {
    // worker scripts of the threaded build live beside the loader; Node's Worker wants a path
    locateFile: (/** @type {string} */ name) => {
      const url = new URL(name, dir);
      return toPath ? toPath(url) : url.href;
    },
    print: () => {},
    printErr: (/** @type {string} */ s) => {
      if (env.nodeApis) /** @type {any} */ (globalThis).process.stderr.write(`[smallmind] ${s}\n`);
      else console.warn(`[smallmind] ${s}`);
    },
  };
  if (module) {
    config.instantiateWasm = (/** @type {WebAssembly.Imports} */ imports, /** @type {Function} */ receive) => {
      WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module));
      return {};
    };
  } else {
    config.wasmBinary = wasmBinary;
  }
  // the threaded build's workers import the loader by URL; a bundled app must not change it
  if (variant === 'mt') config.mainScriptUrlOrBlob = jsUrl.href;
  const mod = await factory(config);
  mod.smRelaxedSimd = relaxed;
  // the kernels are warmed up per model, for its weight types, when it loads (engine.js Model)
  return mod;
}
