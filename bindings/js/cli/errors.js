// cli/errors.js — exit codes and the one line an error becomes on stderr.
//
// Every failure ends as `smallmind: <one line>` and an exit code; no stack trace unless
// SMALLMIND_DEBUG=1. Usage mistakes (unknown flag, bad value, missing argument) exit 2, anything the
// model, a file or the engine did exits 1, an interrupt (Ctrl+C) exits 130.

export const EXIT = Object.freeze({
  OK: 0,
  /** runtime failure: unreadable or bad model/data file, engine error, unhealthy model */
  ERROR: 1,
  /** the command line itself is wrong */
  USAGE: 2,
  /** `health`: the model runs but something is off (slow forward pass, warnings) */
  DEGRADED: 3,
  /** Ctrl+C (128 + SIGINT) */
  INTERRUPTED: 130,
});

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure that already says all there is to say (no error code prefix): exit code 1 unless given. */
export class CliError extends Error {
  /** @param {string} message @param {number} [exitCode] */
  constructor(message, exitCode = EXIT.ERROR) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** @param {unknown} e @returns {number} the exit code for an error */
export function exitCodeOf(e) {
  const x = /** @type {any} */ (e);
  if (x instanceof UsageError) return EXIT.USAGE;
  if (x instanceof CliError) return x.exitCode;
  if (x?.name === 'AbortError') return EXIT.INTERRUPTED;
  return EXIT.ERROR;
}

/**
 * The error as one line: `CODE: message` for engine errors (SmallMindError's code, e.g.
 * SM_ERR_FORMAT), the message alone otherwise, whitespace runs (newlines) folded to spaces.
 * @param {unknown} e
 */
export function errorLine(e) {
  const x = /** @type {any} */ (e);
  if (x?.name === 'AbortError') return 'interrupted';
  let msg = typeof x?.message === 'string' && x.message ? x.message : String(e);
  const code = typeof x?.code === 'string' && x.code.startsWith('SM_') ? x.code : '';
  if (code && !msg.includes(code)) msg = `${code}: ${msg}`;
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}

/** Writes `smallmind: <line>` (and the stack with SMALLMIND_DEBUG=1). @param {unknown} e */
export function reportError(e) {
  process.stderr.write(`smallmind: ${errorLine(e)}\n`);
  if (process.env.SMALLMIND_DEBUG === '1' && /** @type {any} */ (e)?.stack) process.stderr.write(`${/** @type {any} */ (e).stack}\n`);
}
