// errors.js — the error type every SmallMind call throws, with `code` mapped from the C sm_status.

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

export class SmallMindError extends Error {
  /**
   * @param {string} message readable text naming what is wrong and where
   * @param {number} status the C engine's sm_status value (negative)
   */
  constructor(message, status) {
    super(message);
    this.name = status === -6 ? 'AbortError' : 'SmallMindError';
    /** @type {string} e.g. 'SM_ERR_FORMAT' */
    this.code = STATUS_NAMES[status] ?? 'SM_ERR_UNKNOWN';
    /** @type {number} */
    this.status = status;
  }
}
