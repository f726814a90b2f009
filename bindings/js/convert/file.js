// file.js — the converters' byte I/O: random-access reads from a file or from bytes in memory, and
// an output that appears under its name only when complete (temporary sibling + rename; removed
// on failure), as gguf-writer.js writes GGUF. Not a parser.

import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

/**
 * Random-access input.
 * @typedef {object} Input
 * @property {string} name   the path, or '<bytes>'
 * @property {number} size
 * @property {(pos: number, len: number) => Promise<Uint8Array>} read  exactly len bytes at pos
 *   (fewer only at the end of the input)
 * @property {() => Promise<void>} close
 */

/**
 * @param {string | Uint8Array} src a path or the bytes themselves
 * @returns {Promise<Input>}
 */
export async function openInput(src) {
  if (src instanceof Uint8Array) {
    return {
      name: '<bytes>',
      size: src.length,
      read: async (pos, len) => src.subarray(Math.min(pos, src.length), Math.min(pos + len, src.length)),
      close: async () => {},
    };
  }
  const fh = await open(src, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error(`${src} is a directory, not a model file`), { code: 'EISDIR' });
    return {
      name: src,
      size: st.size,
      read: async (pos, len) => {
        const n = Math.max(0, Math.min(len, st.size - pos));
        const buf = new Uint8Array(n);
        let done = 0;
        while (done < n) {
          const { bytesRead } = await fh.read(buf, done, n - done, pos + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === n ? buf : buf.subarray(0, done);
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/**
 * An output file written at increasing offsets, renamed into place by commit().
 */
export class AtomicOutput {
  /** @param {string} path */
  constructor(path) {
    this.path = path;
    this.tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    /** @type {import('node:fs/promises').FileHandle | null} */
    this.fh = null;
    this.pos = 0;
  }

  async open() {
    this.fh = await open(this.tmp, 'wx');
    return this;
  }

  /** @param {Uint8Array} b */
  async write(b) {
    let done = 0;
    const fh = /** @type {import('node:fs/promises').FileHandle} */ (this.fh);
    while (done < b.length) {
      const { bytesWritten } = await fh.write(b, done, b.length - done, this.pos + done);
      done += bytesWritten;
    }
    this.pos += b.length;
  }

  async commit() {
    const fh = /** @type {import('node:fs/promises').FileHandle} */ (this.fh);
    await fh.sync();
    await fh.close();
    this.fh = null;
    await rename(this.tmp, this.path);
  }

  /** Removes the temporary file (after a failure). Never throws. */
  async discard() {
    if (this.fh) await this.fh.close().catch(() => {});
    this.fh = null;
    await unlink(this.tmp).catch(() => {});
  }
}
