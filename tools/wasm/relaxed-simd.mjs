// relaxed-simd.mjs — turns calls to marker functions into relaxed-SIMD instructions in a linked
// WASM module.
//
// Why: Debian's clang 14 has no builtin for i32x4.relaxed_dot_i8x16_i7x16_add_s (it came in a
// later LLVM), but V8 (Chromium, Node >= 22) lowers that one instruction to pmaddubsw + pmaddwd
// (or vpdpbusd), where SIMD128 needs two widenings per operand and two i32x4.dot_i16x8. So the C
// kernels call an exported, non-inlined marker function whose body computes the same lanes in
// plain SIMD128, and this tool replaces every `call marker` in the code section with the
// instruction. The marker's body stays (unused), so the module's function indices do not move.
// Without the rewrite the module is still correct, just slower: the marker computes exactly what
// the instruction does for the operands the kernels give it (second operand in 0..127).
//
// Usage: node tools/wasm/relaxed-simd.mjs IN.wasm OUT.wasm   (IN may equal OUT; written atomically)
// Also a module: rewriteRelaxed(bytes) -> { bytes, replaced }.
import fs from 'node:fs';

/** Marker export name -> the bytes of the instruction that replaces a call to it. */
export const RELAXED_MARKERS = {
  // 0xfd 0x113: i32x4.relaxed_dot_i8x16_i7x16_add_s (a: i8x16, b: i7x16, c: i32x4) -> i32x4
  sm_relaxed_dot_i8x16_i7x16_add_s: [0xfd, 0x93, 0x02],
};

class Reader {
  /** @param {Uint8Array} bytes @param {number} pos @param {number} end */
  constructor(bytes, pos, end) { this.b = bytes; this.pos = pos; this.end = end; }
  byte() {
    if (this.pos >= this.end) throw new Error(`WASM: unexpected end of data at byte ${this.pos}`);
    return this.b[this.pos++];
  }
  u32() { // unsigned LEB128, at most 5 bytes
    let result = 0, shift = 0;
    for (let i = 0; i < 5; i++) {
      const x = this.byte();
      result += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return result;
      shift += 7;
    }
    throw new Error(`WASM: LEB128 longer than 5 bytes at byte ${this.pos}`);
  }
  sleb(maxBytes) { // signed LEB128: only its length matters here
    for (let i = 0; i < maxBytes; i++) if (!(this.byte() & 0x80)) return;
    throw new Error(`WASM: signed LEB128 longer than ${maxBytes} bytes at byte ${this.pos}`);
  }
  skip(n) {
    if (this.pos + n > this.end) throw new Error(`WASM: unexpected end of data at byte ${this.pos}`);
    this.pos += n;
  }
  name() {
    const n = this.u32();
    this.skip(n);
    return new TextDecoder().decode(this.b.subarray(this.pos - n, this.pos));
  }
}

/** @param {number} v */
function uleb(v) {
  const out = [];
  do {
    let x = v % 128;
    v = Math.floor(v / 128);
    if (v) x |= 0x80;
    out.push(x);
  } while (v);
  return out;
}

const memarg = (r) => { r.u32(); r.u32(); };

function blockType(r) {
  const t = r.b[r.pos];
  if (t === 0x40 || (t >= 0x6f && t <= 0x7f)) r.pos++;
  else r.sleb(5); // type index as s33
}

/** Skips the immediates of the instruction whose opcode byte was just read. Throws on any
 * opcode it does not know, so an unexpected module fails the build instead of being corrupted. */
function skipImmediates(r, op) {
  switch (op) {
    case 0x02: case 0x03: case 0x04: case 0x06: return blockType(r); // block loop if try
    case 0x07: case 0x08: case 0x09: case 0x18: // catch throw rethrow delegate
    case 0x0c: case 0x0d: case 0x10: case 0x12: // br br_if call return_call
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0xd2:
      return void r.u32();
    case 0x0e: { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); return; } // br_table
    case 0x11: case 0x13: r.u32(); r.u32(); return; // call_indirect type table
    case 0x1c: { const n = r.u32(); r.skip(n); return; } // select t*
    case 0x3f: case 0x40: return void r.u32(); // memory.size/grow memory index
    case 0x41: return r.sleb(5);
    case 0x42: return r.sleb(10);
    case 0x43: return r.skip(4);
    case 0x44: return r.skip(8);
    case 0xd0: return r.skip(1); // ref.null t
    case 0xfc: return prefixFC(r, r.u32());
    case 0xfd: return prefixFD(r, r.u32());
    case 0xfe: return prefixFE(r, r.u32());
  }
  if (op >= 0x28 && op <= 0x3e) return memarg(r);
  const plain = op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0b || op === 0x0f ||
    op === 0x19 || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1;
  if (!plain) throw new Error(`WASM: unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
}

function prefixFC(r, sub) {
  if (sub <= 7) return; // saturating truncations
  switch (sub) {
    case 8: r.u32(); r.u32(); return; // memory.init data memory
    case 9: case 13: case 15: case 16: case 17: return void r.u32();
    case 10: case 12: case 14: r.u32(); r.u32(); return; // memory.copy, table.init, table.copy
    case 11: return void r.u32(); // memory.fill
  }
  throw new Error(`WASM: unknown 0xfc opcode ${sub} at byte ${r.pos}`);
}

function prefixFD(r, sub) {
  if (sub <= 11 || sub === 92 || sub === 93) return memarg(r); // loads, stores, load*_zero
  if (sub === 12 || sub === 13) return r.skip(16); // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return r.skip(1); // extract/replace lane
  if (sub >= 84 && sub <= 91) { memarg(r); r.skip(1); return; } // lane loads/stores
  if (sub <= 0x113) return; // every other SIMD128 and relaxed-SIMD opcode has no immediate
  throw new Error(`WASM: unknown 0xfd opcode ${sub} at byte ${r.pos}`);
}

function prefixFE(r, sub) {
  if (sub === 0x03) return r.skip(1); // atomic.fence
  if (sub <= 0x4e) return memarg(r);
  throw new Error(`WASM: unknown 0xfe opcode ${sub} at byte ${r.pos}`);
}

/** Function indices of the markers, found by name in the "name" section (link with
 * --profiling-funcs: emscripten minifies export names, but not this section), or failing that
 * among the exports: Map<index, replacement bytes>. */
function findMarkers(bytes, sections) {
  const markers = new Map();
  const add = (name, index) => {
    const bare = name.replace(/^_/, '');
    if (Object.hasOwn(RELAXED_MARKERS, bare)) markers.set(index, RELAXED_MARKERS[bare]);
  };
  for (const s of sections) {
    if (s.id !== 0) continue;
    const r = new Reader(bytes, s.start, s.end);
    if (r.name() !== 'name') continue;
    while (r.pos < s.end) {
      const sub = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (sub === 1) {
        for (let n = r.u32(); n > 0; n--) { const index = r.u32(); add(r.name(), index); }
      }
      r.pos = end;
    }
  }
  const exp = sections.find((s) => s.id === 7);
  if (markers.size === 0 && exp) {
    const r = new Reader(bytes, exp.start, exp.end);
    for (let n = r.u32(); n > 0; n--) {
      const name = r.name();
      const kind = r.byte();
      const index = r.u32();
      if (kind === 0) add(name, index);
    }
  }
  return markers;
}

/** Is this the "name" custom section (dropped from the output: release builds carry none)? */
function isNameSection(bytes, s) {
  if (s.id !== 0) return false;
  const r = new Reader(bytes, s.start, s.end);
  return r.name() === 'name';
}

/** Re-encodes one function body, replacing marker calls. */
function rewriteBody(bytes, start, end, markers, counter) {
  const r = new Reader(bytes, start, end);
  for (let n = r.u32(); n > 0; n--) { r.u32(); r.byte(); } // locals
  const out = [bytes.subarray(start, r.pos)];
  let copied = r.pos;
  while (r.pos < end) {
    const at = r.pos;
    const op = r.byte();
    if (op === 0x10) {
      const callee = r.u32();
      const repl = markers.get(callee);
      if (repl) {
        out.push(bytes.subarray(copied, at), Uint8Array.from(repl));
        copied = r.pos;
        counter.n++;
      }
      continue;
    }
    skipImmediates(r, op);
  }
  out.push(bytes.subarray(copied, end));
  return concat(out);
}

function concat(parts) {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** @param {Uint8Array} bytes a WASM module @returns {{bytes: Uint8Array, replaced: number}} */
export function rewriteRelaxed(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a WASM module (bad magic)');
  }
  const sections = [];
  const r = new Reader(bytes, 8, bytes.length);
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    sections.push({ id, headerStart, start, end: start + size });
  }
  const markers = findMarkers(bytes, sections);
  if (markers.size === 0) throw new Error(`no marker function (${Object.keys(RELAXED_MARKERS).join(', ')}) in the module`);
  const counter = { n: 0 };
  const parts = [bytes.subarray(0, 8)];
  for (const s of sections) {
    if (isNameSection(bytes, s)) continue;
    if (s.id !== 10) { parts.push(bytes.subarray(s.headerStart, s.end)); continue; }
    const cr = new Reader(bytes, s.start, s.end);
    const count = cr.u32();
    const bodies = [Uint8Array.from(uleb(count))];
    for (let i = 0; i < count; i++) {
      const size = cr.u32();
      const bodyStart = cr.pos;
      cr.skip(size);
      const body = rewriteBody(bytes, bodyStart, bodyStart + size, markers, counter);
      bodies.push(Uint8Array.from(uleb(body.length)), body);
    }
    if (cr.pos !== s.end) throw new Error('WASM: code section has trailing bytes');
    const payload = concat(bodies);
    parts.push(Uint8Array.from([10, ...uleb(payload.length)]), payload);
  }
  return { bytes: concat(parts), replaced: counter.n };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node tools/wasm/relaxed-simd.mjs IN.wasm OUT.wasm');
    process.exit(2);
  }
  const { bytes, replaced } = rewriteRelaxed(new Uint8Array(fs.readFileSync(input)));
  if (replaced === 0) {
    console.error(`${input}: the marker is exported but never called; nothing to rewrite`);
    process.exit(1);
  }
  const tmp = `${output}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, output);
  console.log(`${output}: ${replaced} marker call(s) -> relaxed SIMD`);
}
