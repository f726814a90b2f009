// compare.mjs — SmallMind beside llama.cpp on the same GGUF files, same machine, same run:
//   SmallMind WASM under Node (`smallmind bench`, one process per run)
//   SmallMind WASM in headless Chromium, and @wllama/wllama (llama.cpp's WASM build) in the same
//     browser, on a crossOriginIsolated page served from 127.0.0.1 (wllama 3.x cannot run in Node)
//   llama.cpp native through node-llama-cpp (one process per run), so the WASM cost is visible
// at 1 and 2 threads: load time, prefill tok/s (128-token prompt as one batch), decode tok/s
// (128 greedy tokens), peak memory, the ratios, the machine's read bandwidth and decode as a
// share of its ceiling (bandwidth ÷ bytes of weights read per token). JSON and a Markdown table.
//
//   node bench/compare.mjs [--quick] [--threads 1,2] [--prompt 128] [--gen 128] [--repeat 2]
//                          [--types Q4_0,Q8_0,Q4_K_M] [--wasm-dir DIR] [--skip wllama,browser,native,package]
//                          [--shapes 15m,tinyllama-1.1b] [--relaxed-simd auto|on|off]
//
// Files are random-weight models (speed does not depend on the values) generated once and cached
// in bench/.cache/: a TinyLlama-1.1B-shaped one (22 layers, 2048 wide, 32 heads, 4 KV heads, FFN
// 5632, vocab 32000) and a ~15M-parameter one (8 layers, 256 wide, FFN 768, vocab 32000, tied), in
// Q4_0, Q8_0 and Q4_K_M. --quick: the 15M files only. Results: bench/.cache/compare-<time>.{json,md}.
// Both engines use an F16 KV cache; llama.cpp runs with flash attention off. --relaxed-simd: which
// SmallMind build Chromium runs (auto: the relaxed-SIMD one, where Chromium has it; Node 20 cannot
// run it); each browser result says which it got (relaxed_simd).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';

import { writeRandomLlama } from '../tests/js/support/random-model.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = join(ROOT, 'bench/.cache');
const run = promisify(execFile);

const { values } = parseArgs({ options: {
  quick: { type: 'boolean' }, threads: { type: 'string', default: '1,2' },
  prompt: { type: 'string', default: '128' }, gen: { type: 'string', default: '128' },
  types: { type: 'string', default: 'Q4_0,Q8_0,Q4_K_M' }, 'wasm-dir': { type: 'string' },
  skip: { type: 'string', default: '' }, repeat: { type: 'string', default: '2' },
  shapes: { type: 'string' }, 'relaxed-simd': { type: 'string', default: 'auto' },
} });
const RELAXED = /** @type {Record<string, boolean | undefined>} */ ({ auto: undefined, on: true, off: false })[values['relaxed-simd']];
if (!['auto', 'on', 'off'].includes(values['relaxed-simd'])) throw new Error('--relaxed-simd: auto, on or off');
// Node runs (SmallMind, llama.cpp native) repeat prefill + decode on fresh sessions and keep the
// fastest of each, the same rule for both; browser runs are single (wllama's take minutes)
const REPEAT = Math.max(1, Number(values.repeat));
const THREADS = values.threads.split(',').map(Number);
const N_PROMPT = Number(values.prompt), N_GEN = Number(values.gen);
const TYPES = values.types.split(',');
const SKIP = new Set(values.skip.split(',').filter(Boolean));
const WASM_DIR = values['wasm-dir'] ?? join(ROOT, 'bindings/js/wasm');

const SHAPES = {
  'tinyllama-1.1b': { n_vocab: 32000, n_embd: 2048, n_layer: 22, n_head: 32, n_head_kv: 4, n_ff: 5632, n_ctx: 2048 },
  '15m': { n_vocab: 32000, n_embd: 256, n_layer: 8, n_head: 8, n_head_kv: 4, n_ff: 768, n_ctx: 2048, tied: true },
};
const shapes = values.shapes ? values.shapes.split(',') : values.quick ? ['15m'] : ['15m', 'tinyllama-1.1b'];
for (const s of shapes) if (!(s in SHAPES)) throw new Error(`--shapes: unknown shape ${s} (${Object.keys(SHAPES).join(', ')})`);

/** @param {string} shape @param {string} type */
async function modelFile(shape, type) {
  const path = join(CACHE, `${shape}-${type}.gguf`);
  if (!existsSync(path)) {
    process.stderr.write(`writing ${path}\n`);
    await writeRandomLlama(path, { weightType: type, seed: 1, name: `random ${shape} ${type}`, .../** @type {any} */ (SHAPES)[shape] });
  }
  return path;
}

/** Read bandwidth per thread count, from bench/membw.c built natively. */
async function bandwidth() {
  const exe = join(CACHE, 'membw');
  await run('cc', ['-O3', '-march=native', '-pthread', '-o', exe, join(ROOT, 'bench/membw.c')]);
  const { stdout } = await run(exe, [String(Math.max(...THREADS))]);
  /** @type {Record<number, number>} */ const bw = {};
  for (const line of stdout.trim().split('\n')) { const r = JSON.parse(line); bw[r.threads] = r.gb_s; }
  return bw;
}

/** @param {string} path @param {number} threads */
async function smallmindNode(path, threads) {
  const args = [join(ROOT, 'bindings/js/cli.js'), 'bench', '--model', path, '--threads', String(threads),
    '--prompt', String(N_PROMPT), '--gen', String(N_GEN), '--wasm-dir', WASM_DIR, '--repeat', String(REPEAT), '--json'];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

/** @param {string} path @param {number} threads */
async function llamaNative(path, threads) {
  const { stdout } = await run(process.execPath, [join(ROOT, 'bench/llama-native-run.mjs'), '--model', path,
    '--threads', String(threads), '--prompt', String(N_PROMPT), '--gen', String(N_GEN), '--repeat', String(REPEAT)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/** Peak RSS (field 'VmHWM') or current RSS ('VmRSS') of the largest renderer process of the
 * Chromium whose command line names `profileDir` (its user-data-dir), in MB: the page, its WASM
 * memory and its workers live there. */
async function rendererMemMb(profileDir, field = 'VmHWM') {
  /** @type {Map<number, {ppid: number, cmd: string}>} */ const procs = new Map();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      procs.set(Number(d), { ppid, cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch { /* the process ended */ }
  }
  const roots = new Set([...procs].filter(([, p]) => p.cmd.includes(profileDir) && !p.cmd.includes('--type=')).map(([pid]) => pid));
  const under = (/** @type {number} */ pid) => {
    for (let p = procs.get(pid), n = 0; p && n < 10; p = procs.get(p.ppid), n++) if (roots.has(p.ppid)) return true;
    return false;
  };
  let peak = 0;
  for (const [pid, p] of procs) {
    if (!p.cmd.includes('--type=renderer') || !under(pid)) continue;
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch { /* ended */ }
  }
  return +peak.toFixed(1);
}

/** One run in a fresh Chromium (so peak memory is this run's): 'sm' (the synchronous Engine layer
 * in the page's thread, file fetched whole), 'pkg' (SmallMind.load: streamed into the engine
 * Worker, what an app gets) or 'wl'. */
async function inBrowser(server, which, path, threads) {
  const { launchBrowser } = await import('../tests/js/support/browser.js');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage(`${server.url}/bench/compare-page.html`);
    await page.waitForFunction(() => /** @type {any} */ (window).pageReady === true, null, { timeout: 60_000 });
    const isolated = await page.evaluate(() => crossOriginIsolated);
    if (!isolated) throw new Error('the page is not crossOriginIsolated');
    const prompt = Array.from({ length: N_PROMPT }, (_, i) => 3 + ((i * 7919) % (32000 - 3)));
    const rel = path.slice(ROOT.length - 1);
    const assetsBase = `${server.url}${WASM_DIR.startsWith(ROOT) ? WASM_DIR.slice(ROOT.length - 1) : '/bindings/js/wasm'}/`;
    const fn = { sm: 'smRun', pkg: 'smPkgRun', wl: 'wlRun' }[which];
    // wllama takes text: runs of 'x' tokenize to one token per character plus a fixed overhead
    // (BOS, SentencePiece's dummy-prefix bytes), measured once per run of this script
    const promptText = 'x'.repeat(Math.max(1, N_PROMPT - wllamaOverhead));
    const nCtx = N_PROMPT + N_GEN + 16;
    // the renderer before the library loads anything (Blink, the page's V8 heap, the page script):
    // Chromium's own share of the peak, which no library can shrink
    const baseline = await rendererMemMb(browser.profileDir, 'VmRSS');
    const r = await page.evaluate(([f, a]) => /** @type {any} */ (window)[f](a),
      /** @type {const} */ ([fn, { modelUrl: `${server.url}${rel}`, assetsBase, threads, prompt, promptText, nCtx, nGen: N_GEN, kvType: 'f16', relaxedSimd: RELAXED }]));
    r.peak_rss_mb = await rendererMemMb(browser.profileDir);
    r.page_baseline_rss_mb = baseline;
    return r;
  } finally {
    await browser.close();
  }
}

let wllamaOverhead = 0;
/** Tokens wllama's completion adds to a run of 'x' characters (BOS, dummy prefix), from a
 * 1-token completion of 100 of them on the small model. */
async function calibrateWllama(server) {
  const { launchBrowser } = await import('../tests/js/support/browser.js');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage(`${server.url}/bench/compare-page.html`);
    await page.waitForFunction(() => /** @type {any} */ (window).pageReady === true, null, { timeout: 60_000 });
    const path = await modelFile('15m', 'Q4_0');
    const r = await page.evaluate((a) => /** @type {any} */ (window).wlRun(a),
      { modelUrl: path.slice(ROOT.length - 1), threads: 1, promptText: 'x'.repeat(100), nCtx: 256, nGen: 1 });
    return r.prompt_n - 100;
  } finally {
    await browser.close();
  }
}

const r2 = (/** @type {number} */ x) => (Number.isFinite(x) ? +x.toFixed(2) : null);
const ratio = (/** @type {any} */ a, /** @type {any} */ b) => (a && b ? +(a / b).toFixed(3) : null);

await mkdir(CACHE, { recursive: true });
const bw = await bandwidth();
process.stderr.write(`read bandwidth (GB/s): ${JSON.stringify(bw)}\n`);
const { startStaticServer } = await import('../tests/js/support/browser.js');
const server = SKIP.has('browser') ? null : await startStaticServer({ root: ROOT });
const rows = [];
if (server && !SKIP.has('wllama')) {
  try { wllamaOverhead = await calibrateWllama(server); } catch (e) { process.stderr.write(`wllama calibration failed: ${e}\n`); }
  process.stderr.write(`wllama prompt overhead: ${wllamaOverhead} tokens\n`);
}
try {
  for (const shape of shapes) {
    for (const type of TYPES) {
      const path = await modelFile(shape, type);
      const fileBytes = (await stat(path)).size;
      for (const threads of THREADS) {
        /** @type {Record<string, any>} */ const r = { shape, type, threads, file_mb: r2(fileBytes / 2 ** 20) };
        const attempt = async (/** @type {string} */ name, /** @type {() => Promise<any>} */ fn) => {
          try { r[name] = await fn(); } catch (e) { r[name] = { error: String(/** @type {any} */ (e).message ?? e).slice(0, 300) }; }
          process.stderr.write(`${shape} ${type} t${threads} ${name}: ${JSON.stringify(r[name]).slice(0, 200)}\n`);
        };
        await attempt('smallmind_node', () => smallmindNode(path, threads));
        if (!SKIP.has('native')) await attempt('llama_native', () => llamaNative(path, threads));
        if (server) {
          await attempt('smallmind_browser', () => inBrowser(server, 'sm', path, threads));
          if (!SKIP.has('package')) await attempt('smallmind_browser_package', () => inBrowser(server, 'pkg', path, threads));
          if (!SKIP.has('wllama')) await attempt('wllama_browser', () => inBrowser(server, 'wl', path, threads));
        }
        const sm = r.smallmind_node, nat = r.llama_native, smb = r.smallmind_browser, wl = r.wllama_browser;
        // decode reads every weight once per token: the file's tensor data is the (slightly high)
        // byte count; the ceiling is bandwidth / that
        const ceiling = (bw[threads] ?? bw[1]) * 1e9 / fileBytes;
        r.bandwidth_gb_s = bw[threads] ?? null;
        r.decode_ceiling_tok_s = r2(ceiling);
        r.ratios = {
          node_vs_native_prefill: ratio(sm?.prefill_tok_s, nat?.prefill_tok_s),
          node_vs_native_decode: ratio(sm?.decode_tok_s, nat?.decode_tok_s),
          browser_vs_wllama_prefill: ratio(smb?.prefill_tok_s, wl?.prefill_tok_s),
          browser_vs_wllama_decode: ratio(smb?.decode_tok_s, wl?.decode_tok_s),
          // what an app gets (SmallMind.load: the engine in a Worker, as wllama runs its own)
          browser_package_vs_wllama_prefill: ratio(r.smallmind_browser_package?.prefill_tok_s, wl?.prefill_tok_s),
          browser_package_vs_wllama_decode: ratio(r.smallmind_browser_package?.decode_tok_s, wl?.decode_tok_s),
          node_decode_of_ceiling: ratio(sm?.decode_tok_s, ceiling),
          // issue 8's memory target: peak RSS <= (file + KV cache) x 1.15
          node_peak_vs_file_kv: sm?.peak_vs_file_kv ?? null,
          // the browser renderer's peak (page, Worker, WASM memory) over file + KV cache
          browser_package_peak_vs_file_kv: r.smallmind_browser_package?.peak_rss_mb && sm?.kv_cache_mb != null
            ? +(r.smallmind_browser_package.peak_rss_mb / (fileBytes / 2 ** 20 + sm.kv_cache_mb)).toFixed(3) : null,
          // the same peak less the renderer's RSS before the load (page_baseline_rss_mb): what
          // SmallMind itself added (its Worker, WASM memory, JS), over file + KV cache
          browser_package_added_vs_file_kv: r.smallmind_browser_package?.peak_rss_mb && r.smallmind_browser_package?.page_baseline_rss_mb && sm?.kv_cache_mb != null
            ? +((r.smallmind_browser_package.peak_rss_mb - r.smallmind_browser_package.page_baseline_rss_mb) / (fileBytes / 2 ** 20 + sm.kv_cache_mb)).toFixed(3) : null,
          wllama_added_vs_file_kv: wl?.peak_rss_mb && wl?.page_baseline_rss_mb && sm?.kv_cache_mb != null
            ? +((wl.peak_rss_mb - wl.page_baseline_rss_mb) / (fileBytes / 2 ** 20 + sm.kv_cache_mb)).toFixed(3) : null,
          native_decode_of_ceiling: ratio(nat?.decode_tok_s, ceiling),
        };
        rows.push(r);
      }
    }
  }
} finally {
  await server?.close();
}

const cell = (/** @type {any} */ x) => (x && !x.error ? `${r2(x.prefill_tok_s)} / ${r2(x.decode_tok_s)}` : x?.error ? 'error' : '–');
const mem = (/** @type {any} */ x) => (x && !x.error ? `${r2(x.load_s)} s, ${x.peak_rss_mb ?? '?'} MB` : '–');
// which SmallMind build a Chromium run used: R = the relaxed-SIMD one
const rx = (/** @type {any} */ x) => (x?.relaxed_simd ? ' R' : '');
const md = [
  `Prompt ${N_PROMPT} tokens, ${N_GEN} decoded, Node runs fastest of ${REPEAT}; read bandwidth ${Object.entries(bw).map(([t, g]) => `${g} GB/s (${t} thr)`).join(', ')}. R: Chromium ran the relaxed-SIMD build.`,
  '',
  '| model | type | thr | SmallMind Node prefill / decode | llama.cpp native | SmallMind Chromium | wllama Chromium | Node/native prefill, decode | Chromium SM/wllama prefill, decode | decode % of ceiling | load, peak RSS (Node) | peak ÷ (file + KV) | Chromium package API: prefill / decode; load, peak RSS; peak ÷ (file + KV); (peak − page before load) ÷ (file + KV) | Chromium package ÷ wllama prefill, decode | wllama peak RSS; (peak − page) ÷ (file + KV) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.shape} | ${r.type} | ${r.threads} | ${cell(r.smallmind_node)} | ${cell(r.llama_native)} | ${cell(r.smallmind_browser)}${rx(r.smallmind_browser)} | ${cell(r.wllama_browser)} | ${r.ratios.node_vs_native_prefill ?? '–'}, ${r.ratios.node_vs_native_decode ?? '–'} | ${r.ratios.browser_vs_wllama_prefill ?? '–'}, ${r.ratios.browser_vs_wllama_decode ?? '–'} | ${r.ratios.node_decode_of_ceiling != null ? (100 * r.ratios.node_decode_of_ceiling).toFixed(0) + '%' : '–'} | ${mem(r.smallmind_node)} | ${r.ratios.node_peak_vs_file_kv ?? '–'} | ${cell(r.smallmind_browser_package)}${rx(r.smallmind_browser_package)}; ${mem(r.smallmind_browser_package)}; ${r.ratios.browser_package_peak_vs_file_kv ?? '–'}; ${r.ratios.browser_package_added_vs_file_kv ?? '–'} | ${r.ratios.browser_package_vs_wllama_prefill ?? '–'}, ${r.ratios.browser_package_vs_wllama_decode ?? '–'} | ${r.wllama_browser?.peak_rss_mb ?? '–'} MB; ${r.ratios.wllama_added_vs_file_kv ?? '–'} |`),
].join('\n');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const result = { date: new Date().toISOString(), prompt_tokens: N_PROMPT, decode_tokens: N_GEN, repeat: REPEAT, wasm_dir: WASM_DIR, bandwidth_gb_s: bw, rows };
await writeFile(join(CACHE, `compare-${stamp}.json`), JSON.stringify(result, null, 2));
await writeFile(join(CACHE, `compare-${stamp}.md`), md + '\n');
process.stdout.write(JSON.stringify(result) + '\n\n' + md + '\n');
