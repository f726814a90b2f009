// make-seeds.js — writes a small seed corpus for fuzz_gguf, fuzz_model_load and fuzz_probe: tiny
// but complete GGUF models in several weight types (so the fuzzer starts from files that reach
// every parser branch), a file with every metadata value type incl. nested arrays, a gguf-split
// part and an HTML page. Usage: node make-seeds.js DIR
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as G from '../../bindings/js/convert/gguf-writer.js';
import { randomLlamaContent } from '../js/support/random-model.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node make-seeds.js DIR');
await mkdir(dir, { recursive: true });

// 32-wide rows keep the files a few KiB (K-quants need 256-wide rows: too big for a seed)
const shape = { n_vocab: 8, n_embd: 32, n_layer: 1, n_head: 2, n_head_kv: 1, n_ff: 32, n_ctx: 64 };
for (const weightType of ['F32', 'F16', 'Q4_0', 'Q8_0']) {
  const { content } = randomLlamaContent({ ...shape, weightType, seed: 1 });
  await writeFile(join(dir, `seed-llama-${weightType}.gguf`), G.encodeGguf(content));
}

const values = G.encodeGguf({
  metadata: [
    ['general.architecture', 'llama'],
    ['a.u8', G.u8(1)], ['a.i8', G.i8(-1)], ['a.u16', G.u16(2)], ['a.i16', G.i16(-2)],
    ['a.u32', G.u32(3)], ['a.i32', G.i32(-3)], ['a.f32', G.f32(0.5)], ['a.bool', G.bool(true)],
    ['a.str', G.str('text')], ['a.u64', G.u64(4n)], ['a.i64', G.i64(-4n)], ['a.f64', G.f64(0.25)],
    ['a.strs', G.arr(G.GGUF_TYPE.STRING, ['x', 'yy', ''])],
    ['a.nested', G.arr(G.GGUF_TYPE.ARRAY, [G.arr(G.GGUF_TYPE.INT32, [1, 2]), G.arr(G.GGUF_TYPE.INT32, [3])])],
  ],
  tensors: [{ name: 't', type: G.GGML_TYPE.Q8_0, dims: [32, 2], data: new Uint8Array(68) }],
  alignment: 64,
});
await writeFile(join(dir, 'seed-values.gguf'), values);

// for fuzz_probe: a gguf-split part (split keys and tensors, no other metadata) and the start of
// an HTML page, what a wrong model URL returns
const part = G.encodeGguf({
  metadata: [['split.no', G.u16(1)], ['split.count', G.u16(2)], ['split.tensors.count', G.i32(3)]],
  tensors: [{ name: 't', type: G.GGML_TYPE.Q8_0, dims: [32, 2], data: new Uint8Array(68) }],
});
await writeFile(join(dir, 'seed-split-part.gguf'), part);
await writeFile(join(dir, 'seed-html.txt'), '<!DOCTYPE html>\n<html><head><title>Sign in</title>');
console.log(`fuzz seeds written to ${dir}`);
