// cli/interrupt.js — Ctrl+C for commands that can stop cleanly.
//
// interruptSignal() installs one SIGINT handler and returns an AbortSignal: the first Ctrl+C aborts
// it (the running load, generation or evaluation stops, the command exits 130 with
// `smallmind: interrupted`); a second one exits 130 at once. Commands that never call it keep
// Node's default (the process ends on the first Ctrl+C, which shells report as 130 too).

import { EXIT } from './errors.js';

/** @type {AbortController | null} */
let controller = null;

/** @returns {AbortSignal} */
export function interruptSignal() {
  if (!controller) {
    const ac = new AbortController();
    controller = ac;
    process.on('SIGINT', () => {
      if (ac.signal.aborted) process.exit(EXIT.INTERRUPTED);
      ac.abort();
    });
  }
  return controller.signal;
}
