// cli/health.js — `smallmind health`: can this model file run? Loads it, runs model.health() (one
// short forward pass: weights bound, tokenizer present, logits finite and not all equal, timing)
// and reports a structured status whose exit code a script or a container probe can test.
//
// A model that cannot be loaded (missing, a directory, not a model, corrupt) is `unhealthy` with a
// failed `load` check: --json still prints the status object, and stderr gets the one-line reason.

import { intFlag, numFlag, parseFlags, required } from './args.js';
import { errorLine, EXIT, UsageError } from './errors.js';
import { interruptSignal } from './interrupt.js';
import { loadModel } from './model-file.js';

const HELP = `usage: smallmind health --model FILE [--max-forward-ms MS] [--json]

Loads the model and runs one short forward pass; reports each check (load, weights, tokenizer,
forward, logits) as pass, warn or fail, and an overall status.

  --model FILE          GGUF model (a path or an http(s) URL)
  --max-forward-ms MS   a forward pass slower than this is 'degraded' (default 5000)
  --threads N           engine threads (default 1)
  --json                one JSON object: {status, checks: [{name, status, message, ms?}], ms, model}

exit codes: 0 healthy, 3 degraded (it runs, but a check warned), 1 unhealthy (it cannot be loaded
or a check failed), 2 bad command line`;

const CODE = { healthy: EXIT.OK, degraded: EXIT.DEGRADED, unhealthy: EXIT.ERROR };

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('health', argv, {
    model: { type: 'string' }, 'max-forward-ms': { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
  }, HELP);
  if (!parsed) return EXIT.OK;
  const v = parsed.values;
  const source = required(v, 'model', 'FILE');
  const maxForwardMs = numFlag(v, 'max-forward-ms');
  if (maxForwardMs !== undefined && !(maxForwardMs > 0)) throw new UsageError(`--max-forward-ms must be a number > 0, got '${v['max-forward-ms']}'`);
  const threads = intFlag(v, 'threads', 1, 1, 256);
  const signal = interruptSignal();
  const t0 = performance.now();
  /** @type {{status: 'healthy' | 'degraded' | 'unhealthy', checks: {name: string, status: string, message: string, ms?: number}[], ms: number}} */
  let report;
  let model;
  try {
    model = await loadModel(source, { threads, signal });
  } catch (e) {
    if (/** @type {any} */ (e)?.name === 'AbortError') throw e;
    const line = errorLine(e);
    report = { status: 'unhealthy', checks: [{ name: 'load', status: 'fail', message: line }], ms: Math.round(performance.now() - t0) };
    if (v.json) process.stdout.write(JSON.stringify({ ...report, model: source }) + '\n');
    process.stderr.write(`smallmind: ${line}\n`);
    return EXIT.ERROR;
  }
  const loadMs = Math.round(performance.now() - t0);
  try {
    const h = await model.health({ maxForwardMs });
    report = { status: h.status, checks: [{ name: 'load', status: 'pass', message: `loaded in ${loadMs} ms`, ms: loadMs }, ...h.checks], ms: h.ms };
  } finally {
    await model.dispose();
  }
  if (v.json) {
    process.stdout.write(JSON.stringify({ ...report, model: source }) + '\n');
  } else {
    const w = Math.max(...report.checks.map((c) => c.name.length));
    process.stdout.write(`${report.status}: ${source}\n${report.checks.map((c) => `  ${c.status.padEnd(4)}  ${c.name.padEnd(w)}  ${c.message}`).join('\n')}\n`);
  }
  if (report.status !== 'healthy') {
    const bad = report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.message}`).join('; ');
    process.stderr.write(`smallmind: ${report.status}: ${bad}\n`);
  }
  return CODE[report.status] ?? EXIT.ERROR;
}

export const health = { name: 'health', summary: 'load a model and check it runs (exit 0 healthy, 3 degraded, 1 unhealthy)', help: HELP, run };
