// tokenize.mjs — tokenization throughput of SmallMind (WASM, single-thread SIMD build, under Node)
// beside llama.cpp's tokenizer (node-llama-cpp's native CPU build, vocab-only load) on the same
// vocabulary file, same run, printed as one JSON object. MB/s = input bytes / 1e6 / seconds;
// ratio = SmallMind MB/s / llama.cpp MB/s (> 1: SmallMind is faster).
//
//   node bench/tokenize.mjs [--vocab llama-spm,gpt-2,bert-bge] [--mb 1] [--runs 3]
//
// Vocabularies are ../shared/vocab/ggml-vocab-<name>.gguf (or a path). Two corpora of ~1 MB
// (--mb), built deterministically from this repository:
//   prose: the paragraphs of README.md and docs/*.md (outside code fences, headings and tables)
//          and the opening comment of every src/ file (the file's contract, in sentences),
//          shuffled with a fixed seed and repeated;
//   code:  src/**/*.{c,h} (minus the generated Unicode tables) and bindings/js/*.js, shuffled by
//          file with a fixed seed and repeated.
// Both sides get the same JS string through their public API (tokenize(text), no special tokens,
// no BOS), so each pays its own UTF-8 conversion and result copy. Timings are wall clock, best of
// --runs after one warm-up; the ids are compared, and `identical` says whether they agree.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Engine } from '../bindings/js/index.js';
import { getReferenceLlama, disposeReferenceLlama } from '../tests/js/support/llama-ref.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: {
  vocab: { type: 'string', default: 'llama-spm,gpt-2,bert-bge' },
  mb: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' },
} });
const targetBytes = Math.round(Number(values.mb) * 1e6);
const runs = Math.max(1, Number(values.runs));

/** A seeded shuffle (LCG), so corpora are the same on every machine. @template T @param {T[]} a */
function shuffled(a, seed) {
  const out = [...a];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Repeats shuffled rounds of `units` until the text reaches targetBytes. @param {string[]} units */
function fill(units, sep) {
  let text = '';
  for (let round = 0; Buffer.byteLength(text) < targetBytes; round++) {
    for (const u of shuffled(units, 1234 + round)) {
      text += u + sep;
      if (Buffer.byteLength(text) >= targetBytes) break;
    }
  }
  return text;
}

/** @param {string} dir @param {RegExp} re @returns {string[]} */
function walk(dir, re) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, re));
    else if (re.test(e.name)) out.push(p);
  }
  return out.sort();
}

function proseCorpus() {
  const files = [join(REPO, 'README.md'), ...walk(join(REPO, 'docs'), /\.md$/)];
  const paragraphs = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const p of text.split(/\n\s*\n/)) {
      const t = p.trim();
      // prose only: skip headings, tables and lists of code
      if (t.length > 80 && !t.startsWith('#') && !t.startsWith('|')) paragraphs.push(t);
    }
  }
  const sources = walk(join(REPO, 'src'), /\.[ch]$/);
  for (const f of sources) {
    const m = /^\/\*([\s\S]*?)\*\//.exec(readFileSync(f, 'utf8'));
    if (!m) continue;
    const text = m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).join(' ').replace(/\s+/g, ' ').trim();
    if (text.length > 80) paragraphs.push(text);
  }
  return {
    text: fill(paragraphs, '\n\n'),
    sources: [...files.map((f) => f.slice(REPO.length)), `the opening comments of ${sources.length} src/ files`],
    paragraphs: paragraphs.length,
  };
}

function codeCorpus() {
  const files = [...walk(join(REPO, 'src'), /\.[ch]$/), ...walk(join(REPO, 'bindings/js'), /^[^.]+\.js$/)]
    .filter((f) => !/unicode_data\.c$|wpm_tables/.test(f) && !f.includes(`${join('bindings', 'js', 'wasm')}`));
  return { text: fill(files.map((f) => readFileSync(f, 'utf8')), '\n'), sources: [`${files.length} files of src/ and bindings/js/`] };
}

/** @param {() => ArrayLike<number>} fn @returns {{ms: number, ids: ArrayLike<number>}} */
function best(fn) {
  let ids = fn(); // warm-up
  let ms = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    ids = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, ids };
}

/** @param {ArrayLike<number>} a @param {ArrayLike<number>} b */
function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const corpora = { prose: proseCorpus(), code: codeCorpus() };
const engine = await Engine.create({ variant: 'simd' });
const llama = await getReferenceLlama();
const results = [];
for (const name of values.vocab.split(',').map((s) => s.trim()).filter(Boolean)) {
  const path = existsSync(name) ? name : join(REPO, '..', 'shared', 'vocab', `ggml-vocab-${name}.gguf`);
  if (!existsSync(path)) {
    results.push({ vocab: name, error: `${path} not found` });
    continue;
  }
  const tok = engine.loadTokenizer(readFileSync(path));
  // llama.cpp logs a failed full load of tensor-less files on the way to the vocab-only load
  const logger = llama.logger;
  llama.logger = (level, msg) => { if (!/missing tensor|failed to load model/.test(msg)) logger(level, msg); };
  const ref = await llama.loadModel({ modelPath: path, vocabOnly: true });
  llama.logger = logger;
  for (const [corpus, { text }] of Object.entries(corpora)) {
    const bytes = Buffer.byteLength(text);
    const ours = best(() => tok.tokenize(text));
    const theirs = best(() => ref.tokenize(text, false));
    const mbs = (/** @type {number} */ ms) => +(bytes / 1e6 / (ms / 1e3)).toFixed(2);
    results.push({
      vocab: name, kind: tok.info.kind, corpus, bytes, tokens: ours.ids.length,
      smallmind_ms: +ours.ms.toFixed(1), llamacpp_ms: +theirs.ms.toFixed(1),
      smallmind_mb_s: mbs(ours.ms), llamacpp_mb_s: mbs(theirs.ms),
      ratio: +(theirs.ms / ours.ms).toFixed(3), identical: same(ours.ids, theirs.ids),
    });
  }
  tok.free();
  await ref.dispose();
}
await disposeReferenceLlama();
engine.dispose();
process.stdout.write(JSON.stringify({
  bench: 'tokenize', node: process.version, engine: `wasm-simd ${engine.version}`,
  reference: 'llama.cpp via node-llama-cpp (native CPU build), vocab-only',
  runs, corpora: Object.fromEntries(Object.entries(corpora).map(([k, v]) => [k, { bytes: Buffer.byteLength(v.text), sources: v.sources }])),
  results,
}, null, 2) + '\n');
