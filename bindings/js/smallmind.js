// smallmind.js — the public API: SmallMind.load(source, options) → SmallMindModel, whose
// generate() streams text pieces as an async iterator.
//
//   const model = await SmallMind.load(url, { onProgress, signal, threads, cache: true });
//   for await (const piece of model.generate('Once upon a time', { maxTokens: 64 })) out += piece;
//   const { text, metrics } = await model.complete('…', { maxTokens: 32 });
//
// Each model has its own engine host (a Worker where the runtime has them). Calls to one model are
// queued in call order; a generation is never interleaved with another.

import { env, cpuCount } from './env.js';
import { AbortError, SmallMindError, SM_ERR_INVALID_ARG, SM_ERR_BUSY, isAbortError } from './errors.js';
import { EngineClient } from './client.js';
import { resolveSources } from './sources.js';
import { checkGenerateOptions, checkLoadOptions } from './options.js';
import { checkMessages, checkChatTemplate } from './chat-messages.js';

/** @typedef {import('./sources.js').ModelSource} ModelSource */
/** @typedef {import('./model-info.js').ModelInfo} ModelInfo */
/** @typedef {import('./options.js').GenerateOptions} GenerateOptions */
/** @typedef {import('./generation.js').GenerationMetrics} GenerationMetrics */
/** @typedef {import('./chat-messages.js').ChatMessage} ChatMessage */
/** @typedef {GenerateOptions & {chatTemplate?: string}} ChatOptions */

/**
 * @typedef {object} LoadOptions
 * @property {(p: {loaded: number, total: number | null}) => void} [onProgress] bytes so far
 * @property {AbortSignal} [signal] aborting stops the download and frees everything
 * @property {number} [threads] engine threads; > 1 needs SharedArrayBuffer (cross-origin
 *   isolated pages, Node, Bun; not Deno yet). Default: min(4, CPUs) where available, else 1
 * @property {boolean | 'reload'} [cache] browsers: keep the download in IndexedDB and reuse it
 *   offline ('reload': download again and replace the entry)
 * @property {boolean} [worker] false: run the engine in this thread (default: a Worker)
 * @property {string | URL} [assetsBase] where the .wasm and worker files are (default: ./wasm/ beside this module)
 * @property {WebAssembly.Module} [wasmModule] a compiled smallmind-simd.wasm (workerd, where WASM cannot be compiled at run time)
 * @property {Record<string, string>} [headers] sent with URL downloads (e.g. Authorization)
 */

/**
 * @param {ModelSource | ModelSource[]} source
 * @param {LoadOptions} [options]
 * @returns {Promise<SmallMindModel>}
 */
function load(source, options = {}) {
  return loadWith(source, options, {});
}

/**
 * load() with settings an entry point fixes rather than the caller (edge.js).
 * @param {ModelSource | ModelSource[]} source @param {LoadOptions} options
 * @param {{wasmFactory?: Function}} internal
 * @returns {Promise<SmallMindModel>}
 */
export async function loadWith(source, options, internal) {
  const o = checkLoadOptions(options);
  const signal = o.signal;
  if (signal?.aborted) throw new AbortError('the model load was aborted before it started');
  const cpus = await cpuCount();
  let threads = o.threads ?? (env.wasmThreads ? Math.max(1, Math.min(4, cpus)) : 1);
  // no SharedArrayBuffer (a page that is not cross-origin isolated), or no pthread workers (Deno):
  // the single-thread build; info().engine.threads says so
  if (threads > 1 && !env.wasmThreads) threads = 1;
  const variant = threads > 1 ? 'mt' : 'simd';
  const sources = await resolveSources(source, { headers: o.headers, signal });
  /** @type {() => void} */
  let onAbort = () => {};
  const aborted = new Promise((_, reject) => {
    onAbort = () => reject(new AbortError('the model load was aborted'));
    // the signal may have fired during the awaits above: 'abort' events do not replay
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const starting = EngineClient.start({ variant, threads, assetsBase: o.assetsBase, wasmModule: o.wasmModule,
    relaxedSimd: o.relaxedSimd, worker: o.worker, wasmFactory: internal.wasmFactory }, signal);
  starting.catch(() => {});
  try {
    const c = /** @type {EngineClient} */ (await Promise.race([starting, aborted]));
    const window = { inFlight: 0, wake: /** @type {(() => void) | null} */ (null) };
    const call = c.call('load', { sources: sources.specs, cache: o.cache ?? false }, {
      onEvent: (ev) => {
        if (ev.type === 'progress') o.onProgress?.({ loaded: ev.loaded, total: ev.total });
        else if (ev.type === 'pull') {
          const chunks = sources.pushers.get(ev.part);
          if (chunks) c.pump(call.id, ev.part, chunks(), window, signal);
        }
      },
      onAck: (bytes) => { window.inFlight -= bytes; window.wake?.(); },
    });
    signal?.addEventListener('abort', () => c.send({ t: 'abort', id: call.id }), { once: true });
    const info = await Promise.race([call.promise, aborted]);
    signal?.removeEventListener('abort', onAbort);
    return new SmallMindModel(c, Object.freeze(info));
  } catch (e) {
    signal?.removeEventListener('abort', onAbort);
    // the worker may still be starting (an abort won the race): end it whenever it is up
    starting.then((c) => c.terminate(), () => {});
    if (signal?.aborted && !isAbortError(e)) throw new AbortError('the model load was aborted', { cause: e });
    throw e;
  }
}

export class SmallMindModel {
  /** @param {EngineClient} client @param {ModelInfo} info */
  constructor(client, info) {
    this.client = client;
    this.infoValue = info;
    /** @type {Promise<unknown>} the last queued call: generations run one after another */
    this.tail = Promise.resolve();
    this.disposed = false;
    /** @type {Set<GenerationStream>} */
    this.streams = new Set();
    /** @type {{ids: Record<string, number>, bos: string | null, eos: string | null, known: boolean} | null} chat(): vocabulary facts */
    this.vocabCache = null;
  }

  /** @returns {ModelInfo} */
  info() {
    return this.infoValue;
  }

  checkLive() {
    if (this.disposed) throw new SmallMindError('this model was disposed; load it again to use it', SM_ERR_INVALID_ARG);
  }

  /**
   * @template T @param {() => Promise<T>} fn @returns {Promise<T>} fn's result, after every earlier call
   */
  enqueue(fn) {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Streams the continuation of `prompt` as text pieces. Breaking out of the loop stops it.
   * @param {string | ArrayLike<number>} prompt text (tokenized with the model's tokenizer; BOS added
   *   and special-token text parsed by default) or token ids, fed as given
   * @param {GenerateOptions} [options]
   * @returns {AsyncIterableIterator<string> & {metrics: Promise<GenerationMetrics>}}
   */
  generate(prompt, options = {}) {
    this.checkLive();
    const { wire, signal, onMetrics } = checkGenerateOptions(options);
    const p = checkPrompt(prompt);
    const stream = new GenerationStream(this, p, wire, signal, onMetrics);
    this.streams.add(stream);
    return stream;
  }

  /**
   * Streams the assistant's reply to a conversation, like generate(). The prompt is the model's
   * own chat template (tokenizer.chat_template) or, for a file without one, a built-in format
   * chosen from the vocabulary, name and architecture; `chatTemplate` overrides either (a Jinja
   * template or 'llama3', 'llama2', 'phi3', 'chatml', 'mistral', 'gemma'). Special-token text in
   * the template is parsed; in message contents it stays text. The generation also ends at the
   * template's end-of-turn token (unless ignoreEos).
   * @param {ChatMessage[]} messages
   * @param {ChatOptions} [options] generate()'s options (but addSpecial, parseSpecial) and chatTemplate
   * @returns {AsyncIterableIterator<string> & {metrics: Promise<GenerationMetrics>}}
   */
  chat(messages, options = {}) {
    this.checkLive();
    const { msgs, template, wire, signal, onMetrics } = this.checkChat(messages, options, []);
    const stream = new GenerationStream(this, this.chatPrompt(msgs, template, wire), wire, signal, onMetrics);
    this.streams.add(stream);
    return stream;
  }

  /**
   * A chat call's arguments, checked: the messages, the template, generate()'s options (never
   * addSpecial/parseSpecial, which the template decides, nor `also`), and a tokenizer to chat with.
   * @param {ChatMessage[]} messages @param {ChatOptions} options @param {string[]} also
   */
  checkChat(messages, options, also) {
    const msgs = checkMessages(messages);
    if (options === null || typeof options !== 'object') throw new TypeError('chat options must be an object');
    const { chatTemplate, ...rest } = options;
    const template = checkChatTemplate(chatTemplate);
    for (const name of ['addSpecial', 'parseSpecial', ...also]) {
      if (/** @type {any} */ (rest)[name] !== undefined) throw new TypeError(`option '${name}' does not apply to chat(): the chat template decides the special tokens, and a session fixes contextSize and kvType`);
    }
    const { wire, signal, onMetrics } = checkGenerateOptions(rest);
    if (!this.infoValue.tokenizer) {
      throw new SmallMindError('this model file has no tokenizer (no tokenizer.* metadata), so it cannot chat; use generate() with token ids', SM_ERR_INVALID_ARG);
    }
    return { msgs, template, wire, signal, onMetrics };
  }

  /**
   * The prompt of a chat, rendered when the call's turn in the queue comes (the Jinja engine loads
   * on the first chat).
   * @param {ChatMessage[]} msgs @param {string | undefined} template @param {Record<string, any>} wire
   * @returns {PromptSource}
   */
  chatPrompt(msgs, template, wire) {
    const info = this.infoValue;
    return async () => {
      const { prepareChat } = await import('./chat.js');
      const { prompt, options: o } = await prepareChat({ messages: msgs, chatTemplate: template, info, options: wire,
        vocab: (texts) => this.chatVocab(texts) });
      return { prompt, options: o };
    };
  }

  /**
   * A session: a conversation that keeps its KV cache between calls, so each turn only processes
   * what is new (the longest common prefix of the new prompt and the tokens already in the cache
   * is reused). Sessions share the model's weights; each adds its KV cache. One call at a time:
   * a second call while one runs is refused (SM_ERR_BUSY), where model.generate() would queue.
   * @param {{name?: string, contextSize?: number, kvType?: 'f16' | 'f32', contextShift?: boolean}} [opts]
   *   contextShift: when a chat outgrows the context, drop the oldest turns (system messages are
   *   kept) instead of failing
   * @returns {SmallMindSession}
   */
  createSession(opts = {}) {
    this.checkLive();
    if (opts === null || typeof opts !== 'object') throw new TypeError('session options must be an object');
    for (const k of Object.keys(opts)) {
      if (!['name', 'contextSize', 'kvType', 'contextShift'].includes(k)) throw new TypeError(`unknown session option '${k}'`);
    }
    const { wire } = checkGenerateOptions({ contextSize: opts.contextSize, kvType: opts.kvType });
    if (opts.name !== undefined && typeof opts.name !== 'string') throw new TypeError("session option 'name' must be a string");
    if (opts.contextShift !== undefined && typeof opts.contextShift !== 'boolean') throw new TypeError("session option 'contextShift' must be true or false");
    this.sessionCount = (this.sessionCount ?? 0) + 1;
    return new SmallMindSession(this, this.sessionCount, opts.name ?? `session-${this.sessionCount}`,
      { contextSize: wire.contextSize, kvType: wire.kvType }, !!opts.contextShift);
  }

  /**
   * Memory: the WASM memory size (it never shrinks), the bytes allocated in it now (model file,
   * sessions' KV caches and scratch), and the sessions holding KV caches.
   * @returns {Promise<{wasmBytes: number, heapUsed: number, sessions: number, cachedTokens: number}>}
   */
  async memoryUsage() {
    this.checkLive();
    return this.enqueue(() => this.client.call('memory', {}).promise);
  }

  /**
   * Which texts are single tokens of the vocabulary, and the BOS/EOS texts; cached. Called from
   * a queued call (it does not queue itself).
   * @param {string[]} texts
   * @returns {Promise<{ids: Record<string, number>, bos: string | null, eos: string | null}>}
   */
  async chatVocab(texts) {
    const c = (this.vocabCache ??= { ids: {}, bos: null, eos: null, known: false });
    const need = texts.filter((t) => !Object.hasOwn(c.ids, t));
    if (need.length || !c.known) {
      const r = await this.client.call('chatVocab', { texts: need }).promise;
      need.forEach((t, i) => { c.ids[t] = r.ids[i]; });
      c.bos = r.bos;
      c.eos = r.eos;
      c.known = true;
    }
    return { ids: c.ids, bos: c.bos, eos: c.eos };
  }

  /**
   * The whole continuation at once.
   * @param {string | ArrayLike<number>} prompt @param {GenerateOptions} [options]
   * @returns {Promise<{text: string, metrics: GenerationMetrics}>}
   */
  async complete(prompt, options = {}) {
    const stream = this.generate(prompt, options);
    let text = '';
    for await (const piece of stream) text += piece;
    return { text, metrics: await stream.metrics };
  }

  /**
   * @param {string} text
   * @param {{addSpecial?: boolean, parseSpecial?: boolean}} [opts] both off by default
   * @returns {Promise<number[]>}
   */
  async tokenize(text, opts = {}) {
    this.checkLive();
    if (typeof text !== 'string') throw new TypeError('tokenize() takes a string');
    return this.enqueue(() => this.client.call('tokenize', { text, addSpecial: !!opts.addSpecial, parseSpecial: !!opts.parseSpecial }).promise);
  }

  /**
   * @param {ArrayLike<number>} tokens @param {{renderSpecial?: boolean}} [opts]
   * @returns {Promise<string>}
   */
  async detokenize(tokens, opts = {}) {
    this.checkLive();
    const ids = checkPrompt(tokens);
    if (typeof ids === 'string') throw new TypeError('detokenize() takes an array of token ids');
    return this.enqueue(() => this.client.call('detokenize', { tokens: ids, renderSpecial: !!opts.renderSpecial }).promise);
  }

  /**
   * Cross-entropy and perplexity of `text` under the model, over sliding windows (each token after
   * the first is scored once, with up to contextSize - stride tokens of history).
   * @param {string | ArrayLike<number>} text text (BOS added as the model asks) or token ids
   * @param {{contextSize?: number, stride?: number, addSpecial?: boolean, signal?: AbortSignal,
   *   onProgress?: (p: {done: number, total: number}) => void}} [opts] contextSize: window length
   *   (default min(training context, 512)); stride: how far windows advance (default half of it)
   * @returns {Promise<import('./evaluate.js').EvaluationResult>}
   */
  async evaluate(text, opts = {}) {
    this.checkLive();
    const input = checkPrompt(text);
    for (const k of Object.keys(opts)) {
      if (!['contextSize', 'stride', 'addSpecial', 'signal', 'onProgress'].includes(k)) throw new TypeError(`unknown evaluate option '${k}'`);
    }
    const { wire } = checkGenerateOptions({ contextSize: opts.contextSize, addSpecial: opts.addSpecial });
    if (opts.stride !== undefined && !(Number.isInteger(opts.stride) && opts.stride >= 1)) throw new RangeError(`option 'stride' must be an integer >= 1, got ${opts.stride}`);
    if (opts.signal?.aborted) throw new AbortError('the evaluation was aborted before it started');
    return this.enqueue(async () => {
      const call = this.client.call('evaluate', { input, options: { ...wire, stride: opts.stride } }, {
        onEvent: (ev) => { if (ev.type === 'progress') opts.onProgress?.({ done: ev.loaded, total: ev.total }); },
      });
      const onAbort = () => this.client.send({ t: 'abort', id: call.id });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await call.promise;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /**
   * Runs one short forward pass and reports: weights bound, tokenizer present, logits finite and
   * not all equal, the time it took.
   * @param {{maxForwardMs?: number}} [opts] a forward pass slower than this is 'degraded' (default 5000)
   * @returns {Promise<{status: 'healthy' | 'degraded' | 'unhealthy', checks: {name: string, status: 'pass' | 'warn' | 'fail', message: string, ms?: number}[], ms: number}>}
   */
  async health(opts = {}) {
    this.checkLive();
    if (opts.maxForwardMs !== undefined && !(opts.maxForwardMs > 0)) throw new RangeError("option 'maxForwardMs' must be a positive number");
    return this.enqueue(() => this.client.call('health', { maxForwardMs: opts.maxForwardMs }).promise);
  }

  /**
   * Bytes a generation with these settings needs in WASM memory: the weights (the file's tensor
   * data), the KV cache and the scratch buffers. Computed, not measured; nothing is allocated.
   * @param {{contextSize?: number, batchSize?: number}} [opts] as in generate()
   * @returns {Promise<{weights: number, kvCache: number, scratch: number, total: number, contextSize: number}>}
   */
  async estimateMemory(opts = {}) {
    this.checkLive();
    const { wire } = checkGenerateOptions({ contextSize: opts.contextSize, batchSize: opts.batchSize });
    return this.enqueue(() => this.client.call('estimate', wire).promise);
  }

  /**
   * The model file's header: every metadata key in file order (arrays as element type, length and
   * first 16 elements) and the tensor table (name, type, shape, bytes, offset).
   * @returns {Promise<import('./engine.js').ModelInspection>}
   */
  async inspect() {
    this.checkLive();
    return this.enqueue(() => this.client.call('inspect', {}).promise);
  }

  /** Stops running generations, frees the model and ends its worker. Safe to call twice. */
  async dispose() {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.streams) s.cancel();
    const bye = this.client.call('dispose', {}).promise.catch(() => {});
    // a worker stuck in a long forward pass is terminated anyway after a short grace period
    await Promise.race([bye, new Promise((r) => setTimeout(r, 200))]);
    this.client.terminate();
  }
}

/** @param {unknown} prompt @returns {string | number[]} */
function checkPrompt(prompt) {
  if (typeof prompt === 'string') return prompt;
  if (prompt && typeof prompt === 'object' && typeof (/** @type {any} */ (prompt)).length === 'number') {
    const ids = Array.from(/** @type {ArrayLike<number>} */ (prompt));
    if (ids.some((t) => !Number.isInteger(t) || t < 0 || t > 2 ** 31 - 1)) throw new TypeError('token ids must be non-negative integers');
    return ids;
  }
  throw new TypeError(`a prompt is a string or an array of token ids, got ${prompt === null ? 'null' : typeof prompt}`);
}

/**
 * @typedef {string | number[] | {parts: {text: string, special: boolean}[]}} WirePrompt
 * @typedef {() => Promise<{prompt: WirePrompt, options: Record<string, any>}>} PromptSource
 */

/**
 * A conversation that keeps its KV cache between calls (SmallMindModel.createSession).
 */
export class SmallMindSession {
  /**
   * @param {SmallMindModel} model @param {number} sid @param {string} name
   * @param {{contextSize?: number, kvType?: 'f16' | 'f32'}} settings @param {boolean} contextShift
   */
  constructor(model, sid, name, settings, contextShift) {
    this.model = model;
    this.sid = sid;
    this.name = name;
    this.settings = settings;
    this.contextShift = contextShift;
    /** @type {GenerationStream | null} */
    this.active = null;
    this.disposed = false;
  }

  checkIdle() {
    if (this.disposed) throw new SmallMindError(`session '${this.name}' was disposed`, SM_ERR_INVALID_ARG);
    this.model.checkLive();
    if (this.active && !this.active.finished) {
      throw new SmallMindError(`session '${this.name}' is busy with another generation; wait for it to end (or use another session)`, SM_ERR_BUSY);
    }
  }

  /** @param {GenerationStream} stream */
  track(stream) {
    this.active = stream;
    this.model.streams.add(stream);
    stream.done.finally(() => { if (this.active === stream) this.active = null; });
    return stream;
  }

  /**
   * Continues the session's text: `prompt` is the whole text (or ids) so far; what the cache
   * already holds is not processed again.
   * @param {string | ArrayLike<number>} prompt @param {GenerateOptions} [options]
   * @returns {AsyncIterableIterator<string> & {metrics: Promise<GenerationMetrics>}}
   */
  generate(prompt, options = {}) {
    this.checkIdle();
    const { wire, signal, onMetrics } = checkGenerateOptions(options);
    if (wire.contextSize !== undefined || wire.kvType !== undefined) throw new TypeError('contextSize and kvType are set when the session is created');
    return this.track(new GenerationStream(this.model, checkPrompt(prompt), wire, signal, onMetrics, { sid: this.sid, session: this.settings }));
  }

  /**
   * The assistant's reply to `messages` (the whole conversation so far), as model.chat(); the
   * rendered prompt's common prefix with the cache is reused.
   * @param {ChatMessage[]} messages @param {ChatOptions} [options]
   * @returns {AsyncIterableIterator<string> & {metrics: Promise<GenerationMetrics>}}
   */
  chat(messages, options = {}) {
    this.checkIdle();
    const checked = this.model.checkChat(messages, options, ['contextSize', 'kvType']);
    const { template, wire, signal, onMetrics } = checked;
    let msgs = checked.msgs;
    const shift = this.contextShift ? () => {
      const next = dropOldestTurn(msgs);
      if (!next) return null;
      msgs = next;
      return this.model.chatPrompt(msgs, template, wire);
    } : undefined;
    return this.track(new GenerationStream(this.model, this.model.chatPrompt(msgs, template, wire), wire, signal, onMetrics,
      { sid: this.sid, session: this.settings, shift }));
  }

  /** Empties the KV cache (the next call starts from nothing). */
  async reset() {
    this.checkIdle();
    await this.model.enqueue(() => this.model.client.call('session-reset', { sid: this.sid }).promise);
  }

  /** Frees the session's KV cache. Safe to call twice. */
  async dispose() {
    if (this.disposed || this.model.disposed) { this.disposed = true; return; }
    this.active?.cancel();
    this.disposed = true;
    await this.model.enqueue(() => this.model.client.call('session-close', { sid: this.sid }).promise);
  }
}

/**
 * The conversation without its oldest turn: system messages stay, the first other message goes
 * (and the reply after it, so turns stay paired); null when only the last message would be left.
 * @param {ChatMessage[]} msgs @returns {ChatMessage[] | null}
 */
export function dropOldestTurn(msgs) {
  const first = msgs.findIndex((m) => m.role !== 'system');
  if (first < 0 || first >= msgs.length - 1) return null;
  let n = 1;
  if (msgs[first].role === 'user' && msgs[first + 1]?.role === 'assistant' && first + 2 < msgs.length) n = 2;
  return [...msgs.slice(0, first), ...msgs.slice(first + n)];
}

/**
 * One generate() or chat() call: an async iterator over pieces the engine host streams, with
 * credit-based flow control (the host sends at most protocol.js's INITIAL_CREDIT pieces ahead of
 * the reader).
 * @implements {AsyncIterableIterator<string>}
 */
class GenerationStream {
  /**
   * @param {SmallMindModel} model @param {WirePrompt | PromptSource} prompt a prompt, or a function
   *   that makes one (and the options) when the call's turn comes
   * @param {Record<string, any>} options
   * @param {AbortSignal | undefined} signal @param {Function | undefined} onMetrics
   * @param {{sid?: number, session?: Record<string, any>, shift?: () => PromptSource | null}} [extra]
   *   sid/session: run in that session; shift: when the prompt does not fit, a shorter one (or null)
   */
  constructor(model, prompt, options, signal, onMetrics, extra = {}) {
    this.model = model;
    /** @type {string[]} */
    this.buffer = [];
    this.consumed = 0;
    this.finished = false;
    /** @type {Error | null} */
    this.error = null;
    /** @type {(() => void) | null} */
    this.wake = null;
    /** @type {number | null} */
    this.callId = null;
    this.cancelled = false;
    /** @type {(m: GenerationMetrics) => void} */
    let setMetrics = () => {};
    /** @type {(e: Error) => void} */
    let failMetrics = () => {};
    /** @type {Promise<GenerationMetrics>} resolves when the generation ends normally */
    this.metrics = new Promise((res, rej) => { setMetrics = res; failMetrics = rej; });
    this.metrics.catch(() => {});
    const onAbort = () => this.abort(new AbortError('the generation was aborted'));
    if (signal?.aborted) {
      this.finish(new AbortError('the generation was aborted before it started'));
      this.done = Promise.resolve();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.done = model.enqueue(async () => {
      for (let source = prompt; ;) {
        const again = await this.run(source, options, extra, signal, onAbort, setMetrics, failMetrics, onMetrics);
        if (!again) return;
        source = again;
      }
    });
  }

  /**
   * One attempt. @returns {Promise<PromptSource | null>} a shorter prompt to try (context shift)
   * @param {WirePrompt | PromptSource} prompt @param {Record<string, any>} options
   * @param {{sid?: number, session?: Record<string, any>, shift?: () => PromptSource | null}} extra
   * @param {AbortSignal | undefined} signal @param {() => void} onAbort
   * @param {(m: GenerationMetrics) => void} setMetrics @param {(e: Error) => void} failMetrics
   * @param {Function | undefined} onMetrics
   */
  async run(prompt, options, extra, signal, onAbort, setMetrics, failMetrics, onMetrics) {
    const model = this.model;
    if (this.finished) return null;
    let wirePrompt = prompt;
    let wireOptions = options;
    if (typeof prompt === 'function') {
      try {
        ({ prompt: wirePrompt, options: wireOptions } = await prompt());
      } catch (e) {
        failMetrics(/** @type {Error} */ (e));
        this.finish(/** @type {Error} */ (e));
        signal?.removeEventListener('abort', onAbort);
        model.streams.delete(this);
        return null;
      }
      if (this.finished) {
        // cancelled while the prompt was being made
        failMetrics(this.error ?? new AbortError('the generation was cancelled'));
        signal?.removeEventListener('abort', onAbort);
        model.streams.delete(this);
        return null;
      }
    }
    const shorter = extra.shift;
    // a context shift needs room for the answer too
    if (shorter) wireOptions = { ...wireOptions, reserve: wireOptions.maxTokens ?? 256 };
    const call = model.client.call('generate', { prompt: wirePrompt, options: wireOptions, sid: extra.sid, session: extra.session }, {
      onEvent: (ev) => {
        // after an abort, pieces still in flight are dropped: the reader sees the AbortError next
        if (ev.type !== 'piece' || this.cancelled) return;
        this.buffer.push(ev.text);
        this.wake?.();
      },
    });
    this.callId = call.id;
    if (this.cancelled) model.client.send({ t: 'abort', id: call.id });
    /** @type {PromptSource | null} */
    let retry = null;
    try {
      const m = await call.promise;
      setMetrics(m);
      try { onMetrics?.(m); } catch { /* a throwing callback must not break the stream */ }
      this.finish(null);
    } catch (e) {
      // the prompt did not fit (nothing was generated): a context shift tries a shorter one
      retry = shorter && /** @type {any} */ (e).code === 'SM_ERR_CONTEXT_FULL' && !this.buffer.length && !this.cancelled ? shorter() : null;
      if (!retry) {
        failMetrics(/** @type {Error} */ (e));
        this.finish(/** @type {Error} */ (e));
      }
    } finally {
      if (!retry) {
        signal?.removeEventListener('abort', onAbort);
        model.streams.delete(this);
      }
    }
    return retry;
  }

  /** @param {Error | null} error */
  finish(error) {
    if (this.finished) return;
    this.finished = true;
    if (error && !this.error) this.error = error;
    this.wake?.();
  }

  /** Stops the host's loop; the iterator then ends with `reason`. @param {Error} reason */
  abort(reason) {
    if (this.finished) return;
    this.error = reason;
    this.buffer = []; // pieces generated ahead of the reader (up to INITIAL_CREDIT) are not read after an abort
    this.cancel();
  }

  cancel() {
    this.cancelled = true;
    if (this.callId !== null) this.model.client.send({ t: 'abort', id: this.callId });
    else this.finish(this.error ?? new AbortError('the generation was cancelled'));
  }

  /** @returns {Promise<IteratorResult<string>>} */
  async next() {
    for (;;) {
      if (this.buffer.length) {
        const text = /** @type {string} */ (this.buffer.shift());
        // grant credit in batches: one message per 16 pieces read
        if (++this.consumed % 16 === 0 && this.callId !== null && !this.finished) this.model.client.send({ t: 'credit', id: this.callId, n: 16 });
        return { value: text, done: false };
      }
      if (this.finished) {
        if (this.error) {
          const e = this.error;
          this.error = null;
          this.buffer = [];
          throw e;
        }
        return { value: undefined, done: true };
      }
      await new Promise((r) => { this.wake = () => { this.wake = null; r(undefined); }; });
    }
  }

  /** Called by `break` / `return` in a for-await loop: stops the generation and waits until its
   * engine state is freed. @returns {Promise<IteratorResult<string>>} */
  async return() {
    if (!this.finished) {
      this.cancelled = true;
      if (this.callId !== null) this.model.client.send({ t: 'abort', id: this.callId });
      this.error = null;
      await this.done;
      this.error = null;
    }
    this.buffer = [];
    return { value: undefined, done: true };
  }

  /** @param {unknown} e @returns {Promise<IteratorResult<string>>} */
  async throw(e) {
    await this.return();
    throw e;
  }

  [Symbol.asyncIterator]() { return this; }
}

/** Models kept in this browser's cache (IndexedDB). Empty, and no-ops, where there is none. */
const cache = {
  /** @returns {Promise<{url: string, size: number, storedAt: number}[]>} */
  list: () => withCache([], async (c) => (await c.list()).map((/** @type {any} */ e) => ({ url: e.key, size: e.size, storedAt: e.storedAt }))),
  /** @param {string | URL} url @returns {Promise<boolean>} whether an entry was deleted */
  delete: (url) => withCache(false, (c) => c.delete(new URL(String(url), /** @type {any} */ (globalThis).location?.href).href)),
  /** @returns {Promise<void>} */
  clear: () => withCache(undefined, (c) => c.clear()),
};

/**
 * Runs `fn` on a cache connection and closes it after (an open connection would block a
 * later database upgrade).
 * @template T @param {T} none the answer where there is no cache @param {(c: any) => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withCache(none, fn) {
  if (env.runtime !== 'browser') return none;
  const { openModelCache } = await import('./cache.js');
  const c = await openModelCache();
  if (!c) return none;
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export const SmallMind = Object.freeze({ load, cache, env });

export { cache as modelCache };
