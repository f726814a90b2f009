// wasm-loader.js — instantiates one of the engine's WASM builds in Node or a browser.
//
// Emscripten's generated loader would fetch its .wasm by path, which fails in Node 18+ for file
// paths; we hand it the bytes ourselves (`wasmBinary`) so the same code path runs everywhere.
// Variants: 'simd' (single thread + SIMD128) and 'mt' (pthreads + SIMD128; needs SharedArrayBuffer).

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * @param {{variant?: 'simd' | 'mt', wasmUrl?: string | URL}} [opts]
 * @returns {Promise<any>} the Emscripten module
 */
export async function loadWasm(opts = {}) {
  const variant = opts.variant ?? 'simd';
  if (variant !== 'simd' && variant !== 'mt') throw new TypeError(`unknown WASM variant '${variant}'`);
  const base = `smallmind-${variant}`;
  const jsUrl = new URL(`./wasm/${base}.mjs`, import.meta.url);
  const wasmUrl = opts.wasmUrl ? new URL(opts.wasmUrl) : new URL(`./wasm/${base}.wasm`, import.meta.url);
  let wasmBinary;
  if (isNode) {
    const { readFile } = await import('node:fs/promises');
    try {
      wasmBinary = await readFile(wasmUrl);
    } catch (e) {
      throw new Error(`SmallMind's WASM build is missing (${wasmUrl.pathname}); run 'npm run build' first`, { cause: e });
    }
  } else {
    const res = await fetch(wasmUrl);
    if (!res.ok) throw new Error(`cannot fetch ${wasmUrl}: HTTP ${res.status}`);
    wasmBinary = new Uint8Array(await res.arrayBuffer());
  }
  const { default: factory } = await import(jsUrl.href);
  const toPath = isNode ? (await import('node:url')).fileURLToPath : null;
  return factory({
    wasmBinary,
    // worker scripts of the threaded build live beside the loader; Node's Worker wants a path
    locateFile: (/** @type {string} */ name) => {
      const url = new URL(`./wasm/${name}`, import.meta.url);
      return toPath ? toPath(url) : url.href;
    },
    print: () => {},
    printErr: (/** @type {string} */ s) => { if (isNode) process.stderr.write(`[smallmind] ${s}\n`); },
  });
}
