// crc.js — CRC-32 (zlib's) for the converters: Node's native zlib.crc32 where the runtime has it
// (Node >= 20.15), else the package's table version (../crc32.js). Same values either way.

import * as zlib from 'node:zlib';
import { crc32 as crc32Table } from '../crc32.js';

const native = /** @type {any} */ (zlib).crc32;

/**
 * Continues a running CRC-32 (start with 0) over `bytes`.
 * @param {number} crc @param {Uint8Array} bytes @returns {number} unsigned 32-bit
 */
export function zlibCrc32(crc, bytes) {
  return typeof native === 'function' ? native(bytes, crc) >>> 0 : crc32Table(crc, bytes);
}
