// errors.js — the errors SmallMind throws, and how they cross the worker boundary.
//
// SmallMindError carries `code` (the C engine's sm_status name, e.g. 'SM_ERR_FORMAT') and `status`
// (its number). Three conditions get their own `name`, because callers branch on them:
//   AbortError    the caller's AbortSignal fired (or a cancel reached the engine)
//   TimeoutError  a generation ran past its maxDurationMs
//   LoadError     a model could not be loaded; `reason` says why in one word a program can test
// Errors are plain objects on the wire (structured clone drops subclasses); fromWire rebuilds them.

/** @type {Readonly<Record<number, string>>} */
export const STATUS_NAMES = Object.freeze({
  0: 'SM_OK',
  1: 'SM_DONE',
  [-1]: 'SM_ERR_INVALID_ARG',
  [-2]: 'SM_ERR_NOMEM',
  [-3]: 'SM_ERR_FORMAT',
  [-4]: 'SM_ERR_UNSUPPORTED',
  [-5]: 'SM_ERR_CONTEXT_FULL',
  [-6]: 'SM_ERR_CANCELLED',
  [-7]: 'SM_ERR_BUSY',
  [-8]: 'SM_ERR_VERSION',
  [-9]: 'SM_ERR_CORRUPT',
});

export const SM_ERR_INVALID_ARG = -1;
export const SM_ERR_NOMEM = -2;
export const SM_ERR_FORMAT = -3;
export const SM_ERR_UNSUPPORTED = -4;
export const SM_ERR_CONTEXT_FULL = -5;
export const SM_ERR_CANCELLED = -6;
export const SM_ERR_BUSY = -7;

export class SmallMindError extends Error {
  /**
   * @param {string} message readable text naming what is wrong and where
   * @param {number} status the C engine's sm_status value (negative)
   * @param {{cause?: unknown}} [opts]
   */
  constructor(message, status, opts) {
    super(message, opts);
    this.name = status === SM_ERR_CANCELLED ? 'AbortError' : 'SmallMindError';
    /** @type {string} e.g. 'SM_ERR_FORMAT' */
    this.code = STATUS_NAMES[status] ?? 'SM_ERR_UNKNOWN';
    /** @type {number} */
    this.status = status;
  }
}

/** The caller's AbortSignal fired. `name === 'AbortError'`, like fetch's. */
export class AbortError extends SmallMindError {
  /** @param {string} [message] @param {{cause?: unknown}} [opts] */
  constructor(message = 'the operation was aborted', opts) {
    super(message, SM_ERR_CANCELLED, opts);
    this.name = 'AbortError';
  }
}

/** A generation ran past its maxDurationMs. Distinct from AbortError: nobody asked it to stop. */
export class TimeoutError extends SmallMindError {
  /** @param {string} message */
  constructor(message) {
    super(message, SM_ERR_CANCELLED);
    this.name = 'TimeoutError';
    this.code = 'SM_ERR_TIMEOUT';
  }
}

/**
 * @typedef {'http' | 'network' | 'not-gguf' | 'truncated' | 'too-large' | 'unsupported' | 'format'
 *   | 'out-of-memory' | 'not-found' | 'bad-source' | 'cache'} LoadFailure
 */

/** A model could not be loaded. `reason` is one of LoadFailure; `httpStatus` is set for 'http'. */
export class LoadError extends SmallMindError {
  /**
   * @param {string} message @param {LoadFailure} reason
   * @param {{status?: number, httpStatus?: number, cause?: unknown}} [opts]
   */
  constructor(message, reason, opts = {}) {
    super(message, opts.status ?? SM_ERR_FORMAT, { cause: opts.cause });
    this.name = 'LoadError';
    /** @type {LoadFailure} */
    this.reason = reason;
    if (opts.httpStatus !== undefined) this.httpStatus = opts.httpStatus;
  }
}

/** Is this the AbortError of an aborted signal or fetch (ours or the platform's)? @param {unknown} e */
export function isAbortError(e) {
  return !!e && typeof e === 'object' && /** @type {any} */ (e).name === 'AbortError';
}

/**
 * An error as a structured-clone-safe object.
 * @param {unknown} e
 * @returns {{name: string, message: string, code?: string, status?: number, reason?: string, httpStatus?: number, stack?: string}}
 */
export function toWire(e) {
  if (e && typeof e === 'object') {
    const x = /** @type {any} */ (e);
    return { name: String(x.name ?? 'Error'), message: String(x.message ?? x), code: x.code, status: x.status,
      reason: x.reason, httpStatus: x.httpStatus, stack: x.stack };
  }
  return { name: 'Error', message: String(e) };
}

/** Rebuilds the error classes above from toWire's object. @param {ReturnType<typeof toWire>} w */
export function fromWire(w) {
  /** @type {Error} */
  let e;
  if (w.name === 'AbortError') e = new AbortError(w.message);
  else if (w.name === 'TimeoutError') e = new TimeoutError(w.message);
  else if (w.name === 'LoadError') {
    e = new LoadError(w.message, /** @type {LoadFailure} */ (w.reason ?? 'format'), { status: w.status, httpStatus: w.httpStatus });
  } else if (w.status !== undefined && w.status < 0) {
    e = new SmallMindError(w.message, w.status);
    if (w.name && w.name !== 'SmallMindError') e.name = w.name;
  } else if (w.name === 'TypeError') e = new TypeError(w.message);
  else if (w.name === 'RangeError') e = new RangeError(w.message);
  else {
    e = new Error(w.message);
    e.name = w.name;
    if (w.code) /** @type {any} */ (e).code = w.code;
  }
  return e;
}
