// protocol.js — the messages between the client (SmallMind, SmallMindModel) and the engine host,
// imported by both sides of the worker boundary, and the port adapters for each transport.
//
// Client → host
//   {t: 'call', id, op, args}         op: 'init' | 'load' | 'generate' | 'tokenize' | 'detokenize' | 'dispose'
//   {t: 'abort', id}                  stop call `id` (a load or a generation)
//   {t: 'credit', id, n}              the client consumed n events of generation `id`
//   {t: 'chunk', id, part, data}      bytes of a pushed model source (data is transferred)
//   {t: 'chunk-end', id, part}        that source is complete
//   {t: 'chunk-error', id, error}     the client could not read its source
// Host → client
//   {t: 'result', id, value} | {t: 'error', id, error}   the call's outcome (error: errors.toWire)
//   {t: 'event', id, event}           progress {type: 'progress', loaded, total} or {type: 'piece', text}
//   {t: 'ack', id, bytes}             pushed bytes consumed (the client keeps <= PUSH_WINDOW in flight)

/** Bytes of pushed model data the client may have in flight. */
export const PUSH_WINDOW = 32 * 2 ** 20;
/** Size of the pieces the client cuts in-memory sources into. */
export const PUSH_CHUNK = 4 * 2 ** 20;
/** Generation events the host may send before the client grants more. */
export const INITIAL_CREDIT = 64;

/**
 * @typedef {object} Port
 * @property {(msg: any, transfer?: Transferable[]) => void} post
 * @property {(fn: (msg: any) => void) => void} listen
 * @property {() => void} [close]
 */

/** A Web Worker, or a Worker's `self`. @param {any} target @returns {Port} */
export function webPort(target) {
  return {
    post: (msg, transfer) => target.postMessage(msg, transfer ?? []),
    listen: (fn) => target.addEventListener('message', (/** @type {MessageEvent} */ e) => fn(e.data)),
  };
}

/** Node's worker_threads Worker or parentPort. @param {any} target @returns {Port} */
export function nodePort(target) {
  return {
    post: (msg, transfer) => target.postMessage(msg, transfer ?? []),
    listen: (fn) => target.on('message', fn),
  };
}

/**
 * Two connected ports in one thread (workerd, or `worker: false`): messages are delivered
 * asynchronously, in order, without copying.
 * @returns {[Port, Port]}
 */
export function inProcessPorts() {
  /** @type {((msg: any) => void)[][]} */
  const listeners = [[], []];
  /** @param {number} from @returns {Port} */
  const make = (from) => ({
    post: (msg) => { queueMicrotask(() => { for (const fn of listeners[1 - from]) fn(msg); }); },
    listen: (fn) => { listeners[from].push(fn); },
    close: () => { listeners[from].length = 0; },
  });
  return [make(0), make(1)];
}
