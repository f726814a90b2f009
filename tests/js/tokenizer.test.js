// Tokenizers through the WASM build (bindings/js/tokenizer.js) and the CLI:
// - llama.cpp's own test vectors (../shared/vocab/*.gguf with .inp/.out) match id for id;
// - a sample of inputs gives the same ids as llama.cpp itself (node-llama-cpp, vocab-only load);
// - `smallmind tokenize --stdin --json` tokenizes the exact bytes of standard input, adds no
//   BOS/EOS and parses no special-token text unless asked;
// - detokenize(tokenize(s)) gives s back for the SentencePiece and byte-level BPE vocabularies, and
//   the streaming decoder gives the same text, holding back split characters;
// - errors are SmallMindError with the C status as `code`; ownership rules hold.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { SmallMindError } from '../../bindings/js/index.js';
import { disposeEngines, sharedEngine } from './support/engine-run.js';
import { getReferenceLlama, disposeReferenceLlama } from './support/llama-ref.js';
import { writeRandomLlama } from './support/random-model.js';
import { REPO, SHARED, sharedOrSkip } from './support/shared-data.js';

const VOCAB_DIR = join(SHARED, 'vocab');
const VOCABS = existsSync(VOCAB_DIR)
  ? readdirSync(VOCAB_DIR).filter((f) => f.endsWith('.gguf')).sort()
  : [];
const CLI = join(REPO, 'bindings/js/cli.js');
const vocabPath = (/** @type {string} */ name) => join(VOCAB_DIR, `ggml-vocab-${name}.gguf`);

/** The .inp/.out vectors as llama.cpp's test-tokenizer-0 reads them (inputs are raw bytes).
 * @param {string} file @returns {Promise<{input: Buffer, ids: number[]}[]>} */
async function readVectors(file) {
  const inp = await readFile(`${file}.inp`);
  const out = (await readFile(`${file}.out`, 'utf8')).split('\n');
  const sep = Buffer.from('\n__ggml_vocab_test__\n');
  const inputs = [];
  for (let pos = 0; pos < inp.length;) {
    const next = inp.indexOf(sep, pos);
    if (next < 0) {
      inputs.push(inp.subarray(pos));
      break;
    }
    inputs.push(inp.subarray(pos, next));
    pos = next + sep.length;
  }
  return inputs.map((input, i) => ({
    input, ids: out[i].trim() === '' ? [] : out[i].trim().split(' ').map(Number),
  }));
}

/** A mixed corpus: prose, code, whitespace runs, accents, CJK, emoji (incl. ZWJ sequences),
 * combining marks, special-token look-alikes. Deterministic. */
function mixedCorpus() {
  const pieces = [
    'Hello world', ' Hello World!', 'The quick brown fox jumps over the lazy dog.', "y'all it's I'm we've",
    'int main(void) { return 0; }\n', '\tif (x >= 10) {\n\t\ty += x * 2;\n\t}\n', 'def f(a, b):\n    return a ** b\n',
    '   leading spaces', 'trailing spaces   ', 'two\n\nnewlines\r\nand crlf', '3.14159 1,000,000 12345678',
    'Führer naïve café résumé Ångström', 'e\u0301 combining acute', 'нещо на Български', 'Ελληνικά', 'עברית',
    '我想在apple工作1314151天～', '日本語のテキスト', '한국어 텍스트', 'คนไทย', 'हिन्दी',
    '🦙.cpp 🚀 😶‍🌫️ 👍🏽 ✅', '<s> </s> <|endoftext|> [CLS] <unk>', 'ʻokina', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\u00a0nbsp\u3000ideographic',
  ];
  const out = [...pieces];
  let seed = 7;
  const rnd = (/** @type {number} */ n) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let i = 0; i < 40; i++) {
    let s = '';
    const k = 1 + rnd(5);
    for (let j = 0; j < k; j++) s += pieces[rnd(pieces.length)] + [' ', '', '\n', '  '][rnd(4)];
    out.push(s);
  }
  return out;
}

/** @param {string[]} args @param {Buffer | string} [stdin] */
function runCli(args, stdin) {
  if (stdin === undefined) return promisify(execFile)(process.execPath, [CLI, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    const out = [], err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('close', (code) => {
      const r = { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (code === 0) resolve(r);
      else reject(Object.assign(new Error(`exit ${code}: ${r.stderr}`), r));
    });
    child.stdin.end(stdin);
  });
}

/** llama.cpp's tokenizer alone (vocab-only load). llama.cpp logs a failed full load of these
 * tensor-less files on the way ("missing tensor 'token_embd.weight'") although the vocab-only load
 * succeeds; those two lines are dropped, anything else is passed on.
 * @param {string} file */
async function referenceVocab(file) {
  const llama = await getReferenceLlama();
  const logger = llama.logger;
  llama.logger = (level, msg) => {
    if (!/missing tensor 'token_embd\.weight'|failed to load model/.test(msg)) logger(level, msg);
  };
  try {
    return await llama.loadModel({ modelPath: file, vocabOnly: true });
  } finally {
    llama.logger = logger;
  }
}

/** @type {Map<string, import('../../bindings/js/tokenizer.js').Tokenizer>} */
const loaded = new Map();
/** @param {string} file */
async function tokenizerFor(file) {
  if (!loaded.has(file)) loaded.set(file, (await sharedEngine()).loadTokenizer(await readFile(file)));
  return /** @type {import('../../bindings/js/tokenizer.js').Tokenizer} */ (loaded.get(file));
}

before(async () => { await sharedEngine(); });
after(async () => {
  for (const t of loaded.values()) t.free();
  await disposeReferenceLlama();
  await disposeEngines();
});

test('llama.cpp test vectors: every ../shared/vocab file matches id for id', async (t) => {
  if (!sharedOrSkip(t, VOCAB_DIR)) return;
  assert.ok(VOCABS.length >= 7, `expected the llama.cpp vocab files in ${VOCAB_DIR}`);
  const report = [];
  for (const name of VOCABS) {
    const file = join(VOCAB_DIR, name);
    const tok = await tokenizerFor(file);
    const vectors = await readVectors(file);
    const bad = [];
    for (const { input, ids } of vectors) {
      const got = Array.from(tok.tokenize(input));
      if (JSON.stringify(got) !== JSON.stringify(ids)) bad.push({ input: input.toString(), expected: ids, got });
    }
    report.push(`${name}: ${vectors.length - bad.length}/${vectors.length}`);
    assert.deepEqual(bad, [], `${name}: ${bad.length} of ${vectors.length} vectors differ`);
  }
  t.diagnostic(report.join(', '));
});

test('same ids as llama.cpp (node-llama-cpp, vocab-only) on a mixed sample, with and without special-token parsing', async (t) => {
  if (!sharedOrSkip(t, VOCAB_DIR)) return;
  const corpus = mixedCorpus();
  for (const name of VOCABS) {
    const file = join(VOCAB_DIR, name);
    const tok = await tokenizerFor(file);
    const ref = await referenceVocab(file);
    try {
      const inputs = [...(await readVectors(file)).map((v) => v.input.toString('utf8')), ...corpus];
      for (const s of inputs) {
        assert.deepEqual(Array.from(tok.tokenize(s)), ref.tokenize(s, false), `${name}: ${JSON.stringify(s)}`);
        assert.deepEqual(Array.from(tok.tokenize(s, { parseSpecial: true })), ref.tokenize(s, true),
          `${name} (parse special): ${JSON.stringify(s)}`);
      }
    } finally {
      await ref.dispose();
    }
  }
});

test('every code point: same ids as llama.cpp (Unicode tables: whitespace, categories, case, NFD)', async (t) => {
  if (!sharedOrSkip(t, VOCAB_DIR)) return;
  // runs of 64 consecutive code points (surrogates excepted), spaced so each is seen in context
  const inputs = [];
  for (let c = 1; c < 0x110000; c += 64) {
    const cps = [];
    for (let k = c; k < c + 64 && k < 0x110000; k++) if (k < 0xD800 || k > 0xDFFF) cps.push(k);
    if (cps.length) inputs.push({ first: c, text: `x${cps.map((k) => String.fromCodePoint(k)).join(' ')}y` });
  }
  const failures = [];
  for (const name of VOCABS) {
    const file = join(VOCAB_DIR, name);
    const tok = await tokenizerFor(file);
    const ref = await referenceVocab(file);
    try {
      for (const { first, text } of inputs) {
        const ours = Array.from(tok.tokenize(text)), theirs = ref.tokenize(text, false);
        if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i])) {
          failures.push(`${name}: U+${first.toString(16).toUpperCase().padStart(4, '0')}..+63`);
        }
      }
    } finally {
      await ref.dispose();
    }
  }
  assert.deepEqual(failures, [], 'code point runs tokenized differently from llama.cpp (its Unicode data is 15.1)');
});

test('round trip: detokenize(tokenize(s)) === s for SentencePiece and byte-level BPE vocabularies', async (t) => {
  if (!sharedOrSkip(t, VOCAB_DIR)) return;
  const corpus = mixedCorpus();
  for (const name of VOCABS.filter((n) => !n.includes('bert'))) {
    const tok = await tokenizerFor(join(VOCAB_DIR, name));
    for (const s of corpus) {
      const ids = tok.tokenize(s);
      assert.equal(tok.detokenize(ids), s, `${name}: ${JSON.stringify(s)} -> ${ids}`);
      // the streaming decoder gives the same text, whole characters at a time
      const d = tok.createDecoder();
      let streamed = '';
      for (const id of ids) {
        const piece = d.push(id);
        assert.ok(!/\uFFFD/.test(piece), `${name}: decoder emitted a split character`);
        streamed += piece;
      }
      streamed += d.flush();
      d.free();
      assert.equal(streamed, s, `${name} (decoder): ${JSON.stringify(s)}`);
    }
  }
});

test('decoder holds back a character split over byte tokens; flush ends a cut one as U+FFFD', async (t) => {
  const file = vocabPath('llama-spm');
  if (!sharedOrSkip(t, file)) return;
  const tok = await tokenizerFor(file);
  const ids = Array.from(tok.tokenize('🦙'));
  assert.ok(ids.length >= 4, `🦙 should fall back to byte tokens, got ${ids}`);
  const d = tok.createDecoder();
  const out = ids.map((id) => d.push(id));
  assert.deepEqual(out.slice(-4), ['', '', '', '🦙']);
  d.free();
  const cut = tok.createDecoder();
  for (const id of ids.slice(0, -1)) assert.equal(cut.push(id), '');
  assert.equal(cut.flush(), '\uFFFD');
  cut.free();
  assert.deepEqual(Array.from(tok.tokenToPiece(ids.at(-1) ?? 0)), [0x99]);
});

test('tokenize: strings and raw bytes, addSpecial and parseSpecial, info', async (t) => {
  const file = vocabPath('llama-spm');
  if (!sharedOrSkip(t, file)) return;
  const tok = await tokenizerFor(file);
  assert.equal(tok.info.kind, 'llama');
  assert.equal(tok.info.bos, 1);
  assert.equal(tok.info.add_bos, true);
  assert.ok(tok.info.n_tokens > 30000);
  const plain = Array.from(tok.tokenize('Hello world'));
  assert.deepEqual(Array.from(tok.tokenize(new TextEncoder().encode('Hello world'))), plain);
  assert.deepEqual(Array.from(tok.tokenize('Hello world', { addSpecial: true })), [1, ...plain]);
  assert.deepEqual(Array.from(tok.tokenize('Hello world', { addBos: true })), [1, ...plain], 'addBos is addSpecial');
  assert.ok(!Array.from(tok.tokenize('<s>x')).includes(1), '"<s>" is plain text by default');
  assert.equal(tok.tokenize('<s>x', { parseSpecial: true })[0], 1);
  assert.deepEqual(Array.from(tok.tokenize('')), []);
  // invalid UTF-8 goes in as bytes, never rejected
  assert.ok(tok.tokenize(new Uint8Array([0x48, 0xff, 0xc3])).length >= 2);
  // a long input needs no retry logic from the caller
  const long = 'lorem ipsum dolor '.repeat(5000);
  assert.equal(tok.detokenize(tok.tokenize(long)), long);
  assert.throws(() => tok.tokenize(/** @type {any} */ (42)), TypeError);
  assert.equal(tok.detokenize([1, 2], { renderSpecial: true }), '<s></s>');
  assert.equal(tok.detokenize([1, 2]), '');
  // SentencePiece drops the first token's leading space, unless the ids continue earlier text
  const world = Array.from(tok.tokenize('Hello world')).slice(1);
  assert.equal(tok.detokenize(world), 'world');
  assert.equal(tok.detokenize(world, { continuation: true }), ' world');
});

test('BERT: [CLS]/[SEP] with addSpecial; lowercasing and accent stripping', async (t) => {
  const file = vocabPath('bert-bge');
  if (!sharedOrSkip(t, file)) return;
  const tok = await tokenizerFor(file);
  assert.equal(tok.info.kind, 'bert');
  const ids = Array.from(tok.tokenize('Hello World'));
  assert.deepEqual(ids, [7592, 2088]);
  assert.deepEqual(Array.from(tok.tokenize('Hello World', { addSpecial: true })), [101, 7592, 2088, 102]);
  assert.deepEqual(Array.from(tok.tokenize('HÉLLO wörld')), Array.from(tok.tokenize('hello world')));
});

test('errors: SmallMindError with code; free rules', async () => {
  const engine = await sharedEngine();
  assert.throws(() => engine.loadTokenizer(new TextEncoder().encode('not a gguf file')),
    (/** @type {any} */ e) => e instanceof SmallMindError && e.code === 'SM_ERR_FORMAT');
  const file = vocabPath('gpt-2');
  if (!existsSync(file)) return;
  const tok = engine.loadTokenizer(await readFile(file));
  assert.throws(() => tok.tokenToPiece(tok.info.n_tokens), (/** @type {any} */ e) => e.code === 'SM_ERR_INVALID_ARG');
  const d = tok.createDecoder();
  assert.throws(() => tok.free(), (/** @type {any} */ e) => e.code === 'SM_ERR_BUSY');
  assert.throws(() => d.push(-1), (/** @type {any} */ e) => e.code === 'SM_ERR_INVALID_ARG');
  d.free();
  tok.free();
  tok.free(); // twice is fine
  assert.throws(() => tok.tokenize('x'), (/** @type {any} */ e) => e.code === 'SM_ERR_INVALID_ARG');
});

test('model.tokenizer: the model file\'s tokenizer, owned and freed by the model', async () => {
  const engine = await sharedEngine();
  const dir = await mkdtemp(join(tmpdir(), 'smallmind-tok-'));
  try {
    const path = join(dir, 'm.gguf');
    await writeRandomLlama(path, { seed: 5, n_ctx: 64 });
    const bytes = await readFile(path);
    const model = engine.loadModel(bytes);
    const mt = model.tokenizer;
    assert.ok(mt, 'a model whose file has tokenizer metadata has a tokenizer');
    assert.equal(model.tokenizer, mt);
    const alone = engine.loadTokenizer(bytes);
    for (const s of ['hello world', ' a b c', '🦙 x\n']) {
      assert.deepEqual(Array.from(mt.tokenize(s)), Array.from(alone.tokenize(s)));
    }
    alone.free();
    mt.free(); // the model owns it: no-op
    assert.ok(mt.tokenize('still alive').length > 0);
    const d = mt.createDecoder();
    assert.throws(() => model.free(), (/** @type {any} */ e) => e.code === 'SM_ERR_BUSY');
    d.free();
    model.free();
    assert.throws(() => mt.tokenize('x'), (/** @type {any} */ e) => e.code === 'SM_ERR_INVALID_ARG');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI tokenize --stdin --json: exact bytes of stdin, nothing added unless asked', async (t) => {
  const spm = vocabPath('llama-spm');
  const bert = vocabPath('bert-bge');
  if (!sharedOrSkip(t, spm) || !sharedOrSkip(t, bert)) return;
  const tok = await tokenizerFor(spm);
  const ref = await referenceVocab(spm);
  try {
    for (const text of ['Hello world\n', ' Hello\n\n', 'no newline', '\n', '  two  spaces \t\n']) {
      const { stdout } = await runCli(['tokenize', '--model', spm, '--stdin', '--json'], Buffer.from(text));
      const out = JSON.parse(stdout);
      assert.deepEqual(out.tokens, ref.tokenize(text, false), `stdin ${JSON.stringify(text)}`);
      assert.deepEqual(out.tokens, Array.from(tok.tokenize(text)));
      assert.equal(out.n_tokens, out.tokens.length);
      assert.equal(out.n_bytes, Buffer.byteLength(text));
      assert.equal(out.tokenizer.kind, 'llama');
    }
  } finally {
    await ref.dispose();
  }
  // the trailing newline is part of the input (<0x0A> is id 13 in this vocabulary)
  const nl = JSON.parse((await runCli(['tokenize', '--model', spm, '--stdin', '--json'], 'Hi\n')).stdout);
  const bare = JSON.parse((await runCli(['tokenize', '--model', spm, '--stdin', '--json'], 'Hi')).stdout);
  assert.deepEqual(nl.tokens, [...bare.tokens, 13]);
  // raw bytes, not decoded text: invalid UTF-8 reaches the tokenizer as is
  const raw = Buffer.from([0x41, 0xff, 0x0a]);
  const rawOut = JSON.parse((await runCli(['tokenize', '--model', spm, '--stdin', '--json'], raw)).stdout);
  assert.deepEqual(rawOut.tokens, Array.from(tok.tokenize(new Uint8Array(raw))));
  // --add-special / --parse-special
  const add = JSON.parse((await runCli(['tokenize', '--model', spm, '--stdin', '--json', '--add-special'], 'Hi')).stdout);
  assert.deepEqual(add.tokens, [1, ...bare.tokens]);
  const special = '<s>Hi';
  const noParse = JSON.parse((await runCli(['tokenize', '--model', spm, '--stdin', '--json'], special)).stdout);
  const parse = JSON.parse((await runCli(['tokenize', '--model', spm, '--stdin', '--json', '--parse-special'], special)).stdout);
  assert.ok(!noParse.tokens.includes(1));
  assert.equal(parse.tokens[0], 1);
  // --text is the same as --stdin with those bytes; vocab-only BERT file loads as a tokenizer
  const viaText = JSON.parse((await runCli(['tokenize', '--model', bert, '--text', 'Hello world!', '--json'])).stdout);
  const viaStdin = JSON.parse((await runCli(['tokenize', '--model', bert, '--stdin', '--json'], 'Hello world!')).stdout);
  assert.deepEqual(viaText.tokens, [7592, 2088, 999]);
  assert.deepEqual(viaStdin.tokens, viaText.tokens);
  assert.equal(viaText.tokenizer.kind, 'bert');
  const plain = await runCli(['tokenize', '--model', bert, '--text', 'Hello world']);
  assert.equal(plain.stdout, '7592 2088\n');
  const detok = await runCli(['detokenize', '--model', spm, '--tokens', bare.tokens.join(','), '--json']);
  assert.equal(JSON.parse(detok.stdout).text, 'Hi');
});

test('CLI tokenize: usage errors exit 2, unreadable or bad files exit 1', async (t) => {
  const spm = vocabPath('llama-spm');
  if (!sharedOrSkip(t, spm)) return;
  await assert.rejects(runCli(['tokenize', '--stdin']), (/** @type {any} */ e) => e.code === 2 && /--model/.test(e.stderr));
  await assert.rejects(runCli(['tokenize', '--model', spm]), (/** @type {any} */ e) => e.code === 2 && /--stdin/.test(e.stderr));
  await assert.rejects(runCli(['tokenize', '--model', spm, '--stdin', '--text', 'x'], ''), (/** @type {any} */ e) => e.code === 2);
  await assert.rejects(runCli(['tokenize', '--model', join(VOCAB_DIR, 'missing.gguf'), '--text', 'x']),
    (/** @type {any} */ e) => e.code === 1 && /cannot read model/.test(e.stderr));
  await assert.rejects(runCli(['tokenize', '--model', `${spm}.inp`, '--text', 'x']),
    (/** @type {any} */ e) => e.code === 1 && /SM_ERR_FORMAT/.test(e.stderr));
});
