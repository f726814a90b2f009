// cli/progress.js — progress on stderr for model loads, conversions and evaluations.
//
// On a terminal: one bar redrawn in place (at most ~12 times a second) and erased when done, so
// stdout stays clean for the command's output. Not on a terminal: nothing, unless
// SMALLMIND_PROGRESS=1 asks for plain lines (one per 10%, for logs); SMALLMIND_PROGRESS=0 turns the
// bar off on a terminal too.

import { formatBytes } from './format.js';

/** @returns {'bar' | 'lines' | 'off'} */
function progressMode() {
  const setting = process.env.SMALLMIND_PROGRESS;
  if (setting === '0') return 'off';
  if (process.stderr.isTTY) return 'bar';
  return setting === '1' ? 'lines' : 'off';
}

export class Progress {
  /**
   * @param {string} label e.g. 'loading model.gguf'
   * @param {{unit?: 'bytes' | 'items', noun?: string}} [opts] items: counted things (noun: 'windows')
   */
  constructor(label, opts = {}) {
    this.label = label;
    this.unit = opts.unit ?? 'bytes';
    this.noun = opts.noun ?? '';
    this.mode = progressMode();
    this.t0 = performance.now();
    this.lastDraw = -Infinity;
    this.lastDecile = -1;
    this.drawn = false;
    this.spin = 0;
  }

  /**
   * @param {number} done bytes or items so far
   * @param {number | null} total null when unknown
   */
  update(done, total) {
    if (this.mode === 'off') return;
    if (this.mode === 'lines') {
      const decile = total ? Math.floor((10 * done) / total) : -1;
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        process.stderr.write(`smallmind: ${this.label}: ${this.amount(done, total)}\n`);
      }
      return;
    }
    const now = performance.now();
    if (now - this.lastDraw < 80 && !(total && done >= total)) return;
    this.lastDraw = now;
    const cols = Math.max(40, Math.min(process.stderr.columns || 80, 120));
    const amount = this.amount(done, total);
    const rate = this.unit === 'bytes' && now - this.t0 > 300 ? `  ${formatBytes(done / ((now - this.t0) / 1e3))}/s` : '';
    let line;
    if (total) {
      const frac = Math.max(0, Math.min(1, done / total));
      const pct = `${Math.floor(frac * 100)}%`.padStart(4);
      const room = cols - this.label.length - amount.length - rate.length - pct.length - 8;
      const width = Math.max(10, Math.min(30, room));
      const full = Math.round(frac * width);
      line = `${this.label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${pct}  ${amount}${rate}`;
    } else {
      line = `${this.label} ${'|/-\\'[this.spin++ % 4]} ${amount}${rate}`;
    }
    process.stderr.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the bar (terminal), or writes the final line (plain lines). */
  done() {
    if (this.mode === 'bar' && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }

  /** @param {number} done @param {number | null} total */
  amount(done, total) {
    if (!done && !total) return '';
    if (this.unit === 'bytes') return total ? `${formatBytes(done)} / ${formatBytes(total)}` : formatBytes(done);
    return `${done}${total ? ` / ${total}` : ''}${this.noun ? ` ${this.noun}` : ''}`;
  }
}
