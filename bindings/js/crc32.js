// crc32.js — CRC-32 (IEEE 802.3, reflected; zlib's crc32) for checking cached model bytes.
//
// The engine exports a faster one (sm_crc32, slicing-by-8 in WASM); this table version is the
// fallback for a build without it and the reference the tests compare that one against.

/** @type {Uint32Array | null} */
let table = null;

function makeTable() {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/**
 * Continues a running CRC-32 (start with 0) over `bytes`.
 * @param {number} crc @param {Uint8Array} bytes @returns {number} unsigned 32-bit
 */
export function crc32(crc, bytes) {
  const t = (table ??= makeTable());
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
