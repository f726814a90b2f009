// client.js — the caller's side of the worker boundary: starts an engine host (a Web Worker, a
// worker_threads Worker, or in-process where there are no workers), and turns protocol messages
// into promises and event callbacks. One EngineClient per loaded model.

import { env } from './env.js';
import { fromWire, SmallMindError, SM_ERR_INVALID_ARG } from './errors.js';
import { inProcessPorts, nodePort, webPort, PUSH_WINDOW } from './protocol.js';
import { assetsDir, compileWasm, useRelaxedSimd } from './wasm-loader.js';

/** @typedef {import('./protocol.js').Port} Port */

/** @type {Map<string, Promise<WebAssembly.Module | null>>} compiled once per variant and place */
const compiled = new Map();

/** @param {'simd' | 'mt'} variant @param {boolean} relaxedSimd @param {URL} dir */
function compiledModule(variant, relaxedSimd, dir) {
  const key = `${variant} ${relaxedSimd} ${dir.href}`;
  if (!compiled.has(key)) {
    // a failure here is not final: the worker then compiles (and reports) it itself
    compiled.set(key, compileWasm({ variant, relaxedSimd, assetsBase: dir }).catch(() => (compiled.delete(key), null)));
  }
  return /** @type {Promise<WebAssembly.Module | null>} */ (compiled.get(key));
}

/**
 * @typedef {object} StartOptions
 * @property {'simd' | 'mt'} variant @property {number} threads
 * @property {string | URL} [assetsBase] @property {WebAssembly.Module} [wasmModule]
 * @property {boolean} [relaxedSimd] the relaxed-SIMD build (default: wasm-loader.js useRelaxedSimd)
 * @property {boolean} [worker] false: run the engine in this thread
 * @property {Function} [wasmFactory] the Emscripten module factory, imported statically (edge.js);
 *   in-process only, since a function cannot be posted to a Worker
 */

export class EngineClient {
  /**
   * @param {StartOptions} o
   * @param {AbortSignal} [signal] ends the worker at once, even while it is still starting
   * @returns {Promise<EngineClient>}
   */
  static async start(o, signal) {
    const dir = assetsDir(o.assetsBase);
    const inProcess = o.worker === false || !env.workers;
    const wasmFactory = inProcess ? o.wasmFactory : undefined;
    // decided here (and before any worker starts: it throws for a build this runtime cannot run),
    // so that the module compiled on this side and the loader script the worker picks agree
    const relaxedSimd = useRelaxedSimd({ relaxedSimd: o.relaxedSimd, wasmModule: o.wasmModule, wasmFactory });
    /** @type {Port} */
    let port;
    /** @type {() => void} */
    let terminate;
    /** @type {((held: boolean) => void) | null} */
    let hold = null;
    /** @type {((fail: (e: Error) => void) => void)} */
    let onCrash;
    if (inProcess) {
      const [a, b] = inProcessPorts();
      const { serveEngine } = await import('./worker-host.js');
      serveEngine(b, { inWorker: false });
      port = a;
      terminate = () => { a.close?.(); b.close?.(); };
      onCrash = () => {};
    } else if (env.runtime === 'node' || env.runtime === 'bun') {
      const { Worker } = await import('node:worker_threads');
      const w = new Worker(new URL('../../workers/node.js', import.meta.url));
      port = nodePort(w);
      terminate = () => { w.terminate(); };
      // an idle engine must not keep the process alive; a busy one must
      hold = (held) => (held ? w.ref() : w.unref());
      onCrash = (fail) => {
        w.on('error', (e) => fail(e));
        w.on('exit', (code) => fail(new Error(`the engine worker exited (code ${code})`)));
      };
    } else {
      const url = env.runtime === 'deno' ? new URL('../../workers/browser.js', import.meta.url) : new URL('smallmind-worker.mjs', dir);
      const w = new Worker(url, { type: 'module', name: 'smallmind-engine' });
      port = webPort(w);
      terminate = () => w.terminate();
      onCrash = (fail) => {
        w.addEventListener('error', (e) => { e.preventDefault?.(); fail(new Error(`the engine worker failed: ${e.message ?? 'could not start it (is its script served?)'} (${url})`)); });
        w.addEventListener('messageerror', () => fail(new Error('a message from the engine worker could not be read')));
      };
    }
    const client = new EngineClient(port, terminate, hold);
    onCrash((e) => client.crash(e));
    if (signal?.aborted) client.terminate();
    else signal?.addEventListener('abort', () => { if (!client.ready) client.terminate(); }, { once: true });
    const wasmModule = o.wasmModule ?? (inProcess ? undefined : await compiledModule(o.variant, relaxedSimd, dir));
    const args = { variant: o.variant, relaxedSimd, threads: o.threads, assetsBase: dir.href, wasmModule, wasmFactory };
    try {
      client.ready = await client.call('init', args).promise;
    } catch (e) {
      // a runtime that cannot post a WebAssembly.Module: the worker compiles it instead
      if (!wasmModule || /** @type {Error} */ (e).name !== 'DataCloneError') throw e;
      client.ready = await client.call('init', { ...args, wasmModule: undefined }).promise;
    }
    return client;
  }

  /** @param {Port} port @param {() => void} terminate @param {((held: boolean) => void) | null} hold */
  constructor(port, terminate, hold) {
    this.port = port;
    this.terminateFn = terminate;
    this.hold = hold;
    this.nextId = 1;
    /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void, onEvent?: (ev: any) => void, onAck?: (bytes: number) => void}>} */
    this.pending = new Map();
    /** @type {Error | null} */
    this.dead = null;
    /** @type {any} */
    this.ready = null;
    port.listen((msg) => this.onMessage(msg));
    hold?.(false);
  }

  /** @param {any} msg */
  onMessage(msg) {
    const p = this.pending.get(msg?.id);
    if (!p) return;
    if (msg.t === 'event') p.onEvent?.(msg.event);
    else if (msg.t === 'ack') p.onAck?.(msg.bytes);
    else if (msg.t === 'result' || msg.t === 'error') {
      this.pending.delete(msg.id);
      if (!this.pending.size) this.hold?.(false);
      if (msg.t === 'result') p.resolve(msg.value);
      else p.reject(fromWire(msg.error));
    }
  }

  /**
   * @param {string} op @param {any} args
   * @param {{onEvent?: (ev: any) => void, onAck?: (bytes: number) => void}} [hooks]
   * @returns {{id: number, promise: Promise<any>}}
   */
  call(op, args, hooks = {}) {
    const id = this.nextId++;
    if (this.dead) return { id, promise: Promise.reject(this.dead) };
    const promise = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, ...hooks }));
    this.hold?.(true);
    try {
      this.port.post({ t: 'call', id, op, args });
    } catch (e) {
      // e.g. a DataCloneError: the call never left this thread
      this.pending.get(id)?.reject(/** @type {Error} */ (e));
      this.pending.delete(id);
    }
    return { id, promise };
  }

  /** @param {any} msg @param {Transferable[]} [transfer] */
  send(msg, transfer) {
    if (!this.dead) this.port.post(msg, transfer);
  }

  /** The worker died: every pending call fails with this error. @param {Error} e */
  crash(e) {
    if (this.dead) return;
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  terminate() {
    this.crash(new SmallMindError('the model was disposed', SM_ERR_INVALID_ARG));
    this.terminateFn();
  }

  /**
   * Posts a source's chunks, keeping at most PUSH_WINDOW bytes unacknowledged.
   * @param {number} id the load call @param {number} part
   * @param {AsyncIterable<Uint8Array>} chunks @param {{inFlight: number, wake: (() => void) | null}} window
   * @param {AbortSignal | undefined} signal
   */
  async pump(id, part, chunks, window, signal) {
    try {
      for await (let chunk of chunks) {
        if (signal?.aborted || this.dead) return;
        // transfer only a buffer the chunk owns whole; anything else is copied first
        if (chunk.byteOffset !== 0 || chunk.byteLength !== chunk.buffer.byteLength || !(chunk.buffer instanceof ArrayBuffer)) chunk = chunk.slice();
        while (window.inFlight >= PUSH_WINDOW && !this.dead && !signal?.aborted) await new Promise((r) => { window.wake = () => { window.wake = null; r(undefined); }; });
        window.inFlight += chunk.length;
        this.send({ t: 'chunk', id, part, data: chunk }, [chunk.buffer]);
      }
      this.send({ t: 'chunk-end', id, part });
    } catch (e) {
      this.send({ t: 'chunk-error', id, part, error: { message: /** @type {Error} */ (e).message } });
    }
  }
}
