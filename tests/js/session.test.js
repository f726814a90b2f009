// session.test.js — sessions that keep their KV cache between turns (model.createSession): the
// reused prefix gives exactly the tokens a fresh run gives, options change between turns, one call
// at a time per session, several sessions share the weights, context overflow is an error or a
// context shift, and logit bias from the JS surface.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SmallMind, SmallMindError } from '../../bindings/js/index.js';
import { dropOldestTurn } from '../../bindings/js/smallmind.js';
import { writeRandomLlama } from './support/random-model.js';

const dir = await mkdtemp(join(tmpdir(), 'sm-session-'));
const modelPath = join(dir, 'model.gguf');
// wide enough that a copy of the weights would stand out against the KV caches
await writeRandomLlama(modelPath, { weightType: 'Q8_0', seed: 9, n_embd: 512, n_layer: 4, n_ff: 1024, n_ctx: 1024 });
const model = await SmallMind.load(modelPath, { threads: 1 });
test.after(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const HISTORY = 'Once upon a time there was a girl who lived near the forest. ';
/** @param {AsyncIterableIterator<string> & {metrics: Promise<any>}} s */
async function collect(s) {
  let text = '';
  for await (const p of s) text += p;
  return { text, metrics: await s.metrics };
}

test('a second turn reuses the cached prefix and gives exactly what a fresh run gives', async () => {
  const s = model.createSession({ contextSize: 512 });
  const turn1 = HISTORY.repeat(2);
  const a = await collect(s.generate(turn1, { maxTokens: 6, seed: 3, temperature: 0.7 }));
  assert.equal(a.metrics.cachedTokens, 0);
  const turn2 = turn1 + a.text + ' The end.';
  const b = await collect(s.generate(turn2, { maxTokens: 12, seed: 5, temperature: 0.7 }));
  const ids1 = await model.tokenize(turn1, { addSpecial: true });
  assert.ok(b.metrics.cachedTokens >= ids1.length, `reused ${b.metrics.cachedTokens} of ${b.metrics.promptTokens} (turn 1 had ${ids1.length})`);
  assert.ok(b.metrics.cachedTokens < b.metrics.promptTokens);
  const fresh = await model.complete(turn2, { maxTokens: 12, seed: 5, temperature: 0.7, contextSize: 512 });
  assert.equal(b.text, fresh.text, 'seeded sampling over a reused cache = a fresh run');
  assert.equal(fresh.metrics.cachedTokens, 0);
  // greedy, and the same prompt again: everything but the last token is reused
  const g1 = await collect(s.generate(turn2, { maxTokens: 10 }));
  const g2 = await model.complete(turn2, { maxTokens: 10, contextSize: 512 });
  assert.equal(g1.text, g2.text);
  assert.equal(g1.metrics.cachedTokens, g1.metrics.promptTokens - 1);
  // a different prompt: the common prefix is only the BOS; still correct
  const other = await collect(s.generate('Hello there', { maxTokens: 8 }));
  assert.equal(other.text, (await model.complete('Hello there', { maxTokens: 8, contextSize: 512 })).text);
  await s.reset();
  const afterReset = await collect(s.generate(turn2, { maxTokens: 4 }));
  assert.equal(afterReset.metrics.cachedTokens, 0);
  await s.dispose();
  await s.dispose();
  assert.throws(() => s.generate('x'), /session 'session-\d+' was disposed/);
});

test('one session refuses a second call at once, naming it; the model queues instead', async () => {
  const s = model.createSession({ name: 'alice' });
  const running = s.generate(HISTORY, { maxTokens: 30, ignoreEos: true });
  assert.throws(() => s.generate(HISTORY), (e) => e instanceof SmallMindError && e.code === 'SM_ERR_BUSY' && /'alice'/.test(e.message));
  assert.throws(() => s.chat([{ role: 'user', content: 'hi' }]), /'alice' is busy/);
  const queued = model.complete(HISTORY, { maxTokens: 4 }); // not refused: queued behind the session's call
  const r = await collect(running);
  assert.equal(r.metrics.generatedTokens, 30);
  await queued;
  await collect(s.generate(HISTORY, { maxTokens: 2 })); // free again
  await s.dispose();
});

test('sessions share the weights: memory grows by their KV caches only', async () => {
  // a model of its own, so no freed memory of other tests hides the growth
  const m = await SmallMind.load(modelPath, { threads: 1 });
  try {
    const before = await m.memoryUsage();
    const est = await m.estimateMemory({ contextSize: 256 });
    const sessions = [1, 2, 3].map((i) => m.createSession({ name: `s${i}`, contextSize: 256 }));
    for (const s of sessions) await collect(s.generate(HISTORY, { maxTokens: 4 }));
    const after = await m.memoryUsage();
    assert.equal(after.sessions - before.sessions, 3);
    const grew = after.heapUsed - before.heapUsed;
    const perSession = est.kvCache + est.scratch;
    console.log(`3 sessions: allocated +${(grew / 2 ** 20).toFixed(2)} MiB = ${(grew / (3 * perSession)).toFixed(3)} x 3 x (KV cache + scratch ${(perSession / 2 ** 20).toFixed(2)} MiB); weights ${(est.weights / 2 ** 20).toFixed(1)} MiB, held once`);
    // the estimate is what each session allocates (within allocator rounding); a copy of the
    // weights per session would add 11 MiB each
    assert.ok(grew >= 3 * perSession * 0.95 && grew <= 3 * perSession * 1.05, `grew ${grew} for 3 x ${perSession}`);
    for (const s of sessions) await s.dispose();
    assert.equal((await m.memoryUsage()).sessions, before.sessions);
  } finally {
    await m.dispose();
  }
});

test('context: a clear error by default; contextShift drops the oldest turns and keeps the system prompt', async () => {
  const long = HISTORY.repeat(30);
  const s = model.createSession({ contextSize: 128 });
  await assert.rejects(collect(s.generate(long)), (e) => e instanceof SmallMindError && e.code === 'SM_ERR_CONTEXT_FULL' && /context holds 128/.test(e.message));
  const turns = [{ role: /** @type {const} */ ('system'), content: 'You are terse.' }];
  for (let i = 0; i < 6; i++) {
    turns.push({ role: 'user', content: `Question ${i}: ${HISTORY}` }, { role: 'assistant', content: `Answer ${i}: ${HISTORY}` });
  }
  turns.push({ role: 'user', content: 'And now?' });
  await assert.rejects(collect(s.chat(turns, { maxTokens: 8 })), (e) => e.code === 'SM_ERR_CONTEXT_FULL');
  const shifting = model.createSession({ contextSize: 128, contextShift: true });
  const r = await collect(shifting.chat(turns, { maxTokens: 8, ignoreEos: true }));
  assert.equal(r.metrics.generatedTokens, 8);
  assert.ok(r.metrics.promptTokens + 8 <= 128);
  // what was dropped: the oldest turns, never the system prompt or the last question
  const d = /** @type {any[]} */ (dropOldestTurn(turns));
  assert.deepEqual(d.map((m) => m.role).slice(0, 3), ['system', 'user', 'assistant']);
  assert.match(d[1].content, /^Question 1/);
  assert.equal(dropOldestTurn([{ role: 'system', content: 's' }, { role: 'user', content: 'u' }]), null);
  await s.dispose();
  await shifting.dispose();
});

test('logitBias: bans and forces tokens, checked at the call', async () => {
  const forced = await model.complete([1, 2, 3], { maxTokens: 5, logitBias: new Map([[300, 1e4]]), ignoreEos: true });
  const piece = await model.detokenize([300]);
  assert.equal(forced.text, piece.repeat(5));
  // biases of one token add up: +1e4 and -Infinity ban it
  const banned = await model.complete([1, 2, 3], { maxTokens: 5, logitBias: [[300, 1e4], [300, -Infinity]], ignoreEos: true });
  assert.ok(!banned.text.includes(piece), `token 300 ('${piece}') was banned: ${banned.text}`);
  assert.throws(() => model.generate('x', { logitBias: { x: 1 } }), /not a token id/);
  assert.throws(() => model.generate('x', { logitBias: { 5: NaN } }), /bias of token 5/);
  await assert.rejects(model.complete('x', { logitBias: { 99999: 1 } }), /99999/);
  assert.throws(() => model.createSession({ contextSize: 0 }), /contextSize/);
  assert.throws(() => model.createSession(/** @type {any} */ ({ ctx: 5 })), /unknown session option 'ctx'/);
});
