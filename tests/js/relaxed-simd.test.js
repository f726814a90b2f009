// relaxed-simd.test.js — the relaxed-SIMD build variants (src/kern/relaxed_simd.h):
//  - tools/wasm/relaxed-simd.mjs on a hand-assembled module: it replaces exactly the marker calls,
//    leaves immediates that happen to hold the call opcode alone, drops the name section, and
//    refuses modules it cannot handle;
//  - in headless Chromium (whose V8 runs the instruction): every decoding logit of the relaxed
//    builds equals the plain builds' bit for bit, on models of each type with a relaxed kernel
//    (Q4_0, Q4_K with Q6_K, Q5_K, and Q8_0, which keeps its plain kernel), single-thread and threaded;
//    and the package picks the relaxed build by default there, and the plain one when told.
// Node 20 itself cannot run the instruction (tests/c has the emulated kernel check).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RELAXED_MARKERS, rewriteRelaxed } from '../../tools/wasm/relaxed-simd.mjs';
import { writeRandomLlama } from './support/random-model.js';
import { chromiumOrSkip, launchBrowser, responses, startStaticServer } from './support/browser.js';

// ---- the rewrite tool ----------------------------------------------------------------------------

const MARKER = Object.keys(RELAXED_MARKERS)[0];

/** @param {number} v */
const leb = (v) => {
  const out = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
/** @param {number} id @param {number[]} payload */
const section = (id, payload) => [id, ...leb(payload.length), ...payload];
/** @param {string} s */
const name = (s) => [...leb(s.length), ...new TextEncoder().encode(s)];
/** @param {number[]} code the instructions, without the final `end` */
const body = (code) => { const b = [0, ...code, 0x0b]; return [...leb(b.length), ...b]; };

/**
 * A module with the marker (function 0, named in the name section) and a caller (function 1,
 * exported as "f") whose v128.const and i32.const immediates hold 0x10 0x00, the bytes of
 * `call 0`, beside one real call to the marker.
 * @param {{named?: boolean, call?: number[]}} [o] call: the marker call's bytes (default call 0)
 */
function probeModule(o = {}) {
  const v128 = [0x7b];
  const tricky = [0xfd, 0x0c, ...Array(16).fill(0).map((_, i) => (i % 2 ? 0x00 : 0x10))]; // v128.const
  const caller = [...tricky, ...tricky, ...tricky, ...(o.call ?? [0x10, 0x00]),
    0x41, 0x10, 0x1a, // i32.const 16; drop
    0x41, 0x90, 0x00, 0x1a]; // i32.const 16 (padded LEB); drop
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, ...v128, ...v128, ...v128, 1, ...v128]), // type 0: (v128 v128 v128) -> v128
    ...section(3, [2, 0, 0]), // both functions of type 0
    ...section(7, [1, ...name('f'), 0, 1]),
    ...section(10, [2, ...body([0x20, 0x00]), ...body(caller)]), // marker: local.get 0
    ...(o.named === false ? [] : section(0, [...name('name'), ...section(1, [1, 0, ...name(MARKER)])])),
  ]);
}

test('rewrite: marker calls become i32x4.relaxed_dot_i8x16_i7x16_add_s, nothing else changes', () => {
  const input = probeModule();
  assert.ok(WebAssembly.validate(input), 'the hand-assembled module is valid');
  const { bytes, replaced } = rewriteRelaxed(input);
  assert.equal(replaced, 1);
  // the same module assembled with the instruction in place of the call, and no name section
  assert.deepEqual([...bytes], [...probeModule({ named: false, call: [0xfd, 0x93, 0x02] })]);
  // the output validates where the instruction is known (Node 20 behind a flag)
  const check = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e',
    `process.exit(WebAssembly.validate(Buffer.from('${Buffer.from(bytes).toString('hex')}', 'hex')) ? 0 : 3)`]);
  assert.equal(check.status, 0, `the rewritten module does not validate: ${check.stderr}`);
});

test('rewrite: refuses what it cannot handle, with a reason', () => {
  assert.throws(() => rewriteRelaxed(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not a WASM module/);
  assert.throws(() => rewriteRelaxed(probeModule({ named: false })), /no marker function/);
  const bad = probeModule();
  const i = bad.findIndex((b, k) => b === 0x41 && bad[k + 1] === 0x10); // i32.const 16 -> opcode 0xff
  bad[i] = 0xff;
  assert.throws(() => rewriteRelaxed(bad), /unknown opcode 0xff/);
  assert.throws(() => rewriteRelaxed(probeModule().slice(0, -3)), /unexpected end|LEB128/);
});

// ---- the builds in Chromium ----------------------------------------------------------------------

const dir = await mkdtemp(join(tmpdir(), 'sm-relaxed-'));
/** @type {Record<string, Uint8Array>} */
const models = {};
// n_embd / n_ff multiples of 256 (K-quant rows); Q4_K_M has Q6_K tensors too
for (const [type, seed] of /** @type {const} */ ([['Q4_0', 31], ['Q4_K_M', 32], ['Q5_K', 34], ['Q8_0', 33]])) {
  const path = join(dir, `${type}.gguf`);
  await writeRandomLlama(path, { weightType: type, seed, n_embd: 256, n_ff: 768, n_layer: 2 });
  models[type] = new Uint8Array(await readFile(path));
}

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>relaxed SIMD</title>
<script type="module">
import { Engine, SmallMind } from '/bindings/js/index.js';
// greedy decoding of 24 tokens after an 8-token prompt; every step's logits as hex of their bits
window.run = async ({ url, variant, threads, relaxedSimd }) => {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const engine = await Engine.create({ variant, relaxedSimd });
  const model = engine.loadModel(bytes);
  const session = model.createSession({ nCtx: 64, nBatch: 8, threads, ignoreEos: true });
  const hex = (f) => Array.from(new Uint8Array(f.buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  session.decode([1, 5, 9, 13, 17, 21, 25, 29]);
  const steps = [hex(session.logits())], tokens = [];
  for (let i = 0; i < 24; i++) { tokens.push(session.step()); steps.push(hex(session.logits())); }
  const out = { relaxedSimd: engine.relaxedSimd, version: engine.version, tokens, steps };
  session.free(); model.free(); engine.dispose();
  return out;
};
window.pkg = async (opts) => {
  const model = await SmallMind.load('/m/Q4_0.gguf', opts);
  const info = model.info().engine;
  await model.dispose();
  return info;
};
window.ready = true;
</script>`;

const server = await startStaticServer();
server.route('/__relaxed/page.html', responses.html(PAGE_HTML));
for (const [type, bytes] of Object.entries(models)) server.route(`/m/${type}.gguf`, responses.bytes(bytes));
/** @type {Promise<import('./support/browser.js').TestBrowser> | undefined} */
let browserP;
after(async () => {
  await (await browserP?.catch(() => undefined))?.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** @param {import('node:test').TestContext} t */
async function openPage(t) {
  if (!chromiumOrSkip(t)) return null;
  browserP ??= launchBrowser();
  const page = await (await browserP).newPage(`${server.url}/__relaxed/page.html`);
  await page.waitForFunction(() => /** @type {any} */ (window).ready === true);
  t.after(() => page.close());
  return page;
}

for (const type of Object.keys(models)) {
  test(`Chromium, ${type}: the relaxed builds' logits equal the plain builds' bit for bit`, async (t) => {
    const page = await openPage(t);
    if (!page) return;
    /** @param {Record<string, unknown>} a */
    const run = (a) => page.evaluate((x) => /** @type {any} */ (window).run(x), { url: `/m/${type}.gguf`, ...a });
    const plain = await run({ variant: 'simd', threads: 1, relaxedSimd: false });
    assert.equal(plain.relaxedSimd, false);
    assert.doesNotMatch(plain.version, /relaxed-simd/);
    for (const [variant, threads] of /** @type {const} */ ([['simd', 1], ['mt', 2]])) {
      const relaxed = await run({ variant, threads, relaxedSimd: true });
      assert.equal(relaxed.relaxedSimd, true);
      assert.match(relaxed.version, / simd128 relaxed-simd/, 'the relaxed build reports itself');
      assert.deepEqual(relaxed.tokens, plain.tokens, `${variant}: greedy tokens`);
      const differ = relaxed.steps.map((s, i) => i).filter((i) => relaxed.steps[i] !== plain.steps[i]);
      assert.deepEqual(differ, [], `${variant}: steps whose logits differ`);
    }
    assert.equal(page.errors.length, 0, page.errors.join('\n'));
  });
}

test('Chromium: the package takes the relaxed build by default, the plain one when told', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const pkg = (/** @type {Record<string, unknown>} */ o) => page.evaluate((x) => /** @type {any} */ (window).pkg(x), o);
  const auto = await pkg({ threads: 1 });
  assert.equal(auto.relaxedSimd, true);
  assert.match(auto.version, /relaxed-simd/);
  const off = await pkg({ threads: 2, relaxedSimd: false });
  assert.deepEqual([off.relaxedSimd, off.variant, /relaxed/.test(off.version)], [false, 'mt', false]);
  const mt = await pkg({ threads: 2 });
  assert.deepEqual([mt.relaxedSimd, mt.variant], [true, 'mt']);
  assert.equal(page.errors.length, 0, page.errors.join('\n'));
});
