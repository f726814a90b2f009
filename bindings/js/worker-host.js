// worker-host.js — the engine side of the worker boundary: owns one WASM engine and at most one
// model, and answers the client's calls (protocol.js). Runs in a Web Worker, a worker_threads
// Worker, or in the caller's thread where there are no workers (workerd).
//
// Calls run one at a time in arrival order except abort/credit/chunk messages, which act at once:
// the client already queues generations, and loading happens before anything else.

import { Engine } from './engine.js';
import { loadWasm } from './wasm-loader.js';
import { env } from './env.js';
import { AbortError, LoadError, SmallMindError, SM_ERR_INVALID_ARG, toWire } from './errors.js';
import { INITIAL_CREDIT } from './protocol.js';
import { ModelFile, heapU8 } from './model-loader.js';
import { openUrl, openPath, PushSource } from './host-sources.js';
import { runGeneration } from './generation.js';
import { evaluateText, healthCheck } from './evaluate.js';
import { describeModel } from './model-info.js';
import { modelMetaString } from './gguf-meta.js';
import { chatVocab } from './chat-tokens.js';

/** @typedef {import('./protocol.js').Port} Port */
/** @typedef {import('./host-sources.js').SourceSpec} SourceSpec */
/** @typedef {import('./host-sources.js').OpenSource} OpenSource */

const PROGRESS_STEP = 2 ** 20;

/**
 * @param {Port} port
 * @param {{inWorker?: boolean}} [opts] inWorker: false when serving in the caller's own thread
 */
export function serveEngine(port, opts = {}) {
  const inWorker = opts.inWorker ?? true;
  /** @type {Engine | null} */
  let engine = null;
  /** @type {import('./engine.js').Model | null} */
  let model = null;
  let threads = 1;
  /** @type {Record<string, any>} */
  let loadFacts = {};
  /** @type {Map<number, import('./generation.js').Conversation>} sessions kept between calls */
  const convs = new Map();
  /** per running call: its abort controller, pushed sources, generation credit */
  /** @type {Map<number, {ac: AbortController, push: Map<number, PushSource>, credit: number, wake: (() => void) | null}>} */
  const calls = new Map();

  /** @param {number} id */
  const callState = (id) => {
    let c = calls.get(id);
    if (!c) calls.set(id, (c = { ac: new AbortController(), push: new Map(), credit: INITIAL_CREDIT, wake: null }));
    return c;
  };

  /** @type {Record<string, (args: any, id: number) => Promise<any>>} */
  const ops = {
    async init(args) {
      const mod = await loadWasm({ variant: args.variant, relaxedSimd: args.relaxedSimd, assetsBase: args.assetsBase,
        wasmModule: args.wasmModule, wasmFactory: args.wasmFactory });
      engine = new Engine(mod);
      engine.variant = args.variant;
      threads = args.threads;
      return { version: engine.version, variant: args.variant, threads };
    },

    async load(args, id) {
      if (!engine) throw new SmallMindError('the engine is not initialised', SM_ERR_INVALID_ARG);
      if (model) throw new SmallMindError('this engine already holds a model', SM_ERR_INVALID_ARG);
      const st = callState(id);
      const { files, cache } = await fetchParts(engine, args, id, st);
      try {
        model = engine.loadModelFromWasm(files);
      } catch (e) {
        await cache.abortAll();
        throw asLoadError(e);
      }
      // engines before has_chat_template in their info JSON: look anyway
      const chatTemplate = /** @type {any} */ (model.info).has_chat_template !== false ? modelMetaString(engine.mod, model.handle, files[0], 'tokenizer.chat_template') : null;
      loadFacts = { fileBytes: files.reduce((s, f) => s + f.size, 0), cache: await cache.commitAll(files), inWorker, chatTemplate };
      return describeModel(model, engine, threads, loadFacts, env.runtime);
    },

    async generate(args, id) {
      if (!model) throw new SmallMindError('no model is loaded', SM_ERR_INVALID_ARG);
      const st = callState(id);
      await prepareThreads(args.sid !== undefined && convs.has(args.sid) ? 0 : 1);
      const conv = args.sid === undefined ? undefined : conversation(model, args.sid, args.session ?? {});
      return runGeneration({
        model, prompt: args.prompt, options: args.options, threads, signal: st.ac.signal, conv,
        emit: async (text) => {
          port.post({ t: 'event', id, event: { type: 'piece', text } });
          st.credit--;
          while (st.credit <= 0 && !st.ac.signal.aborted) await new Promise((r) => { st.wake = () => { st.wake = null; r(undefined); }; });
        },
      });
    },

    async evaluate(args, id) {
      if (!model) throw new SmallMindError('no model is loaded', SM_ERR_INVALID_ARG);
      const st = callState(id);
      await prepareThreads(1);
      return evaluateText({ model, input: args.input, options: args.options, threads, signal: st.ac.signal,
        onProgress: (done, total) => port.post({ t: 'event', id, event: { type: 'progress', loaded: done, total } }) });
    },

    async health(args) {
      await prepareThreads(1);
      return healthCheck(model, threads, args);
    },

    async estimate(args) {
      if (!model) throw new SmallMindError('no model is loaded', SM_ERR_INVALID_ARG);
      const nCtx = args.contextSize ?? Math.min(model.info.n_ctx_train, 4096);
      const e = model.estimateMemory({ nCtx, nBatch: args.batchSize, threads });
      return { weights: e.weights, kvCache: e.kv_cache, scratch: e.scratch, total: e.total, contextSize: nCtx };
    },

    /** inspect(): the file's metadata and tensor table (engine.js Model.inspect) */
    async inspect() {
      if (!model) throw new SmallMindError('no model is loaded', SM_ERR_INVALID_ARG);
      return model.inspect();
    },

    async tokenize(args) {
      const tok = requireTokenizer();
      return Array.from(tok.tokenize(args.text, { addSpecial: args.addSpecial, parseSpecial: args.parseSpecial }));
    },

    async detokenize(args) {
      return requireTokenizer().detokenize(args.tokens, { renderSpecial: args.renderSpecial });
    },

    /** chat(): which texts are single tokens, and the BOS/EOS texts (chat-tokens.js) */
    async chatVocab(args) {
      return chatVocab(requireTokenizer(), args.texts);
    },

    async 'session-reset'(args) {
      const c = convs.get(args.sid);
      if (c) { c.session.rewind(0); c.tokens.length = 0; }
      return true;
    },

    async 'session-close'(args) {
      convs.get(args.sid)?.session.free();
      return convs.delete(args.sid);
    },

    async memory() {
      return { wasmBytes: engine ? heapU8(engine.mod).length : 0, heapUsed: engine?.mod._sm_js_heap_used?.() ?? null, sessions: convs.size,
        cachedTokens: [...convs.values()].reduce((n, c) => n + c.tokens.length, 0) };
    },

    async dispose() {
      for (const c of convs.values()) c.session.free();
      convs.clear();
      model?.free();
      model = null;
      engine?.dispose();
      engine = null;
      return true;
    },
  };

  /**
   * The conversation `sid`, made on its first generation with the session's own context size and
   * KV type (its sampling options are set per call).
   * @param {import('./engine.js').Model} m @param {number} sid @param {{contextSize?: number, kvType?: 'f16' | 'f32'}} o
   * @returns {import('./generation.js').Conversation}
   */
  function conversation(m, sid, o) {
    let c = convs.get(sid);
    if (!c) {
      const nCtx = o.contextSize ?? Math.min(m.info.n_ctx_train, 4096);
      c = { session: m.createSession({ nCtx, threads, kvType: o.kvType }), tokens: [], nCtx };
      convs.set(sid, c);
    }
    return c;
  }

  /**
   * Starts the pthread workers that the live sessions plus `newSessions` more will use: a
   * session's thread pool is made inside a synchronous call, where a browser cannot start a Worker
   * (post.js smPrepareThreads).
   * @param {number} newSessions
   */
  async function prepareThreads(newSessions) {
    if (threads <= 1 || !engine?.mod.smPrepareThreads) return;
    await engine.mod.smPrepareThreads((convs.size + newSessions) * (threads - 1));
  }

  function requireTokenizer() {
    if (!model) throw new SmallMindError('no model is loaded', SM_ERR_INVALID_ARG);
    const tok = model.tokenizer;
    if (!tok) throw new SmallMindError('this model file has no tokenizer (no tokenizer.* metadata)', SM_ERR_INVALID_ARG);
    return tok;
  }

  /**
   * Brings every part of the model into WASM memory, from the cache when it holds a verified
   * copy, else from its source (writing the cache on the way when asked).
   * @param {Engine} eng @param {{sources: SourceSpec[], cache: boolean | 'reload'}} args @param {number} id
   * @param {ReturnType<typeof callState>} st
   */
  async function fetchParts(eng, args, id, st) {
    const signal = st.ac.signal;
    const cache = await openCacheFor(args.cache);
    /** @type {{ptr: number, size: number, crc32: number, key?: string}[]} */
    const files = [];
    /** @type {(number | null)[]} */
    const sizes = args.sources.map(() => null);
    const done = args.sources.map(() => 0);
    let lastSent = -Infinity;
    /** @param {boolean} [force] */
    const progress = (force) => {
      const loaded = done.reduce((a, b) => a + b, 0);
      if (loaded === lastSent || (!force && loaded - lastSent < PROGRESS_STEP)) return;
      lastSent = loaded;
      const total = sizes.every((s) => s !== null) ? sizes.reduce((a, b) => /** @type {number} */ (a) + /** @type {number} */ (b), 0) : null;
      port.post({ t: 'event', id, event: { type: 'progress', loaded, total } });
    };
    try {
      for (let i = 0; i < args.sources.length; i++) {
        const spec = args.sources[i];
        const key = spec.kind === 'url' ? spec.url : undefined;
        const fromCache = key && cache.enabled && args.cache !== 'reload' ? await cache.read(eng, key, i, (n, size) => { sizes[i] = size; done[i] = n; progress(); }) : null;
        if (signal.aborted) throw new AbortError('the model load was aborted');
        if (fromCache) {
          files.push({ ...fromCache, key });
          continue;
        }
        const src = await openSource(spec, id, i, st);
        sizes[i] = src.size;
        const file = new ModelFile(eng.mod, { name: src.name, size: src.size, hash: cache.enabled && !!key });
        const writer = key ? await cache.writer(key, src.size) : null;
        try {
          for await (const chunk of src.chunks) {
            if (signal.aborted) throw new AbortError('the model load was aborted');
            file.push(chunk);
            if (writer) await writer.write(chunk);
            done[i] += chunk.length;
            progress();
          }
          if (signal.aborted) throw new AbortError('the model load was aborted');
          files.push({ ...file.finish(), key });
        } catch (e) {
          file.free();
          await writer?.abort();
          throw e;
        }
      }
      progress(true);
      return { files, cache };
    } catch (e) {
      for (const f of files) eng.mod._sm_js_free(f.ptr);
      await cache.abortAll();
      throw e;
    }
  }

  /** @param {SourceSpec} spec @param {number} id @param {number} part @param {ReturnType<typeof callState>} st @returns {Promise<OpenSource>} */
  async function openSource(spec, id, part, st) {
    if (spec.kind === 'url') return openUrl(spec.url, spec.headers, st.ac.signal);
    if (spec.kind === 'path') return openPath(spec.path, st.ac.signal);
    if (spec.kind === 'push') {
      const ps = new PushSource(spec.name, spec.size, (bytes) => port.post({ t: 'ack', id, bytes }));
      st.push.set(part, ps);
      port.post({ t: 'event', id, event: { type: 'pull', part } });
      return ps.open();
    }
    throw new LoadError(`unknown source kind '${/** @type {any} */ (spec).kind}'`, 'bad-source');
  }

  /** @param {any} msg */
  async function onCall(msg) {
    const { id, op, args } = msg;
    try {
      const fn = ops[op];
      if (!fn) throw new SmallMindError(`unknown operation '${op}'`, SM_ERR_INVALID_ARG);
      const value = await fn(args ?? {}, id);
      port.post({ t: 'result', id, value });
    } catch (e) {
      port.post({ t: 'error', id, error: toWire(e) });
    } finally {
      calls.delete(id);
    }
  }

  /** @type {Promise<void>} */
  let queue = Promise.resolve();
  port.listen((msg) => {
    switch (msg?.t) {
      case 'call':
        callState(msg.id);
        queue = queue.then(() => onCall(msg));
        break;
      case 'abort': {
        const c = calls.get(msg.id);
        if (c) {
          c.ac.abort();
          c.wake?.();
          for (const p of c.push.values()) p.fail(new AbortError('the model load was aborted'));
        }
        break;
      }
      case 'credit': {
        const c = calls.get(msg.id);
        if (c) { c.credit += msg.n; c.wake?.(); }
        break;
      }
      case 'chunk': calls.get(msg.id)?.push.get(msg.part)?.feed(msg.data); break;
      case 'chunk-end': calls.get(msg.id)?.push.get(msg.part)?.feed(null); break;
      case 'chunk-error': {
        const c = calls.get(msg.id);
        for (const p of c?.push.values() ?? []) p.fail(new LoadError(msg.error?.message ?? 'the source could not be read', 'bad-source'));
        break;
      }
      default: break;
    }
  });
}

/** Engine errors during load become LoadErrors with a reason. @param {unknown} e */
function asLoadError(e) {
  if (e instanceof LoadError || !(e instanceof SmallMindError)) return e;
  const reason = e.status === -4 ? 'unsupported' : e.status === -2 ? 'out-of-memory' : 'format';
  return new LoadError(e.message, reason, { status: e.status, cause: e });
}

/**
 * The model cache as the loader sees it: a no-op outside browsers or when not asked for.
 * @param {boolean | 'reload' | undefined} wanted
 */
async function openCacheFor(wanted) {
  /** @type {any} */
  let store = null;
  /** @type {Record<string, any>} */
  const status = { enabled: false };
  if (wanted) {
    try {
      const { openModelCache } = await import('./cache.js');
      store = await openModelCache();
      status.enabled = !!store;
      if (!store) status.reason = 'no IndexedDB in this runtime';
    } catch (e) {
      status.reason = `the cache could not be opened: ${/** @type {Error} */ (e).message}`;
    }
  } else {
    status.reason = 'not requested';
  }
  /** @type {Map<string, any>} */
  const writers = new Map();
  return {
    enabled: status.enabled,
    /**
     * A verified cached copy, in WASM memory, or null (miss, or a damaged entry, which is deleted).
     * @param {Engine} eng @param {string} key @param {number} _part @param {(loaded: number, size: number) => void} onBytes
     */
    async read(eng, key, _part, onBytes) {
      /** @type {any} */
      let hit = null;
      try {
        hit = await store.lookup(key);
      } catch (e) {
        // an unreadable cache is not a failed load: download instead, and say so
        status.error = toWire(e);
      }
      if (!hit) return null;
      const file = new ModelFile(eng.mod, { name: key, size: hit.size, hash: true });
      try {
        let n = 0;
        for await (const chunk of store.read(key)) {
          file.push(chunk);
          n += chunk.length;
          onBytes(n, hit.size);
        }
        const out = file.finish();
        if (out.crc32 !== hit.crc32) throw new Error(`checksum mismatch (${out.crc32} != ${hit.crc32})`);
        status.hit = true;
        return out;
      } catch (e) {
        file.free();
        status.discarded = `the cached copy of ${key} was damaged and was deleted: ${/** @type {Error} */ (e).message}`;
        await store.delete(key).catch(() => {});
        return null;
      }
    },
    /** @param {string} key @param {number | null} size */
    async writer(key, size) {
      if (!store) return null;
      try {
        const w = await store.beginWrite(key, { size: size ?? undefined });
        const guarded = {
          failed: false,
          /** @param {Uint8Array} chunk */
          async write(chunk) {
            if (guarded.failed) return;
            try { await w.write(chunk); } catch (e) { await guarded.fail(e); }
          },
          async abort() { writers.delete(key); await w.abort().catch(() => {}); },
          /** @param {unknown} e */
          async fail(e) {
            // a full disk must not fail the load: the model still runs, it just is not stored
            guarded.failed = true;
            status.error = toWire(e);
            await guarded.abort();
          },
          w,
        };
        writers.set(key, guarded);
        return guarded;
      } catch (e) {
        status.error = toWire(e);
        return null;
      }
    },
    async abortAll() {
      for (const w of [...writers.values()]) await w.abort();
    },
    /** @param {{size: number, crc32: number, key?: string}[]} files */
    async commitAll(files) {
      for (const f of files) {
        const w = f.key ? writers.get(f.key) : null;
        if (!w || w.failed) continue;
        try {
          await w.w.commit({ size: f.size, crc32: f.crc32, meta: {} });
          status.stored = true;
        } catch (e) {
          status.error = toWire(e);
          await w.abort();
        }
        writers.delete(/** @type {string} */ (f.key));
      }
      return status;
    },
  };
}
