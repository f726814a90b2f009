// stop-strings.js — finds stop strings in streamed text that arrives in arbitrary pieces.
//
// Text that could still turn into a stop string is held back until the next piece decides it, so
// a stop string split across tokens is caught and never emitted, and nothing else is delayed
// longer than that. Matching is on the decoded text (UTF-16 code units), exact and case-sensitive.

export class StopMatcher {
  /** @param {readonly string[]} stops non-empty strings */
  constructor(stops) {
    this.stops = stops.filter((s) => s.length > 0);
    this.held = '';
  }

  /**
   * Adds decoded text.
   * @param {string} text
   * @returns {{emit: string, stopped: string | null}} text safe to emit now; `stopped` is the
   *   stop string found (everything from it on is dropped)
   */
  push(text) {
    const buf = this.held + text;
    if (!this.stops.length) return { emit: buf, stopped: (this.held = '', null) };
    let first = -1;
    /** @type {string | null} */
    let which = null;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (first < 0 || i < first)) { first = i; which = s; }
    }
    if (which !== null) {
      this.held = '';
      return { emit: buf.slice(0, first), stopped: which };
    }
    const keep = this.longestPartial(buf);
    this.held = buf.slice(buf.length - keep);
    return { emit: buf.slice(0, buf.length - keep), stopped: null };
  }

  /** The stream ended: held text was not a stop string after all. @returns {string} */
  flush() {
    const h = this.held;
    this.held = '';
    return h;
  }

  /** @param {string} buf @returns {number} length of the longest suffix of buf that begins some stop string */
  longestPartial(buf) {
    let best = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, buf.length); k > best; k--) {
        if (buf.endsWith(s.slice(0, k))) { best = k; break; }
      }
    }
    return best;
  }
}
