// browser-run.mjs — runs one kernel lab, built for the web (run.sh --browser), on a page in
// headless Chromium and prints its JSON lines, so kernel versions can be compared under the V8 that
// browsers ship as well as under Node's (the two have ranked versions differently).
// Usage: node bench/kernels/browser-run.mjs LAB.js [args...]   (LAB.wasm beside LAB.js)
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';

import { launchBrowser, responses, startStaticServer } from '../../tests/js/support/browser.js';

const [labJs, ...args] = process.argv.slice(2);
if (!labJs || !existsSync(labJs)) {
  console.error(`usage: node bench/kernels/browser-run.mjs LAB.js [args...] (${labJs ?? 'no lab'} not found)`);
  process.exit(2);
}
const name = basename(labJs, '.js');
const page = `<!doctype html><meta charset="utf-8"><title>${name}</title>
<script>
window.lines = [];
var Module = { arguments: ${JSON.stringify(args)}, print: (t) => window.lines.push(t),
  printErr: (t) => console.error(t), postRun: [() => { window.done = true; }],
  onAbort: (e) => { window.failed = String(e); } };
</script><script src="/${name}.js"></script>`;

const server = await startStaticServer({ root: dirname(labJs) });
server.route('/', responses.html(page));
const browser = await launchBrowser();
try {
  const p = await browser.newPage(`${server.url}/`);
  await p.waitForFunction(() => /** @type {any} */ (window).done || /** @type {any} */ (window).failed,
    null, { timeout: 30 * 60_000, polling: 500 });
  const out = await p.evaluate(() => /** @type {any} */ ({ lines: window.lines, failed: window.failed }));
  if (out.failed) throw new Error(`${name} aborted in Chromium: ${out.failed}`);
  for (const line of out.lines) process.stdout.write(`${line}\n`);
} finally {
  await browser.close();
  await server.close();
}
