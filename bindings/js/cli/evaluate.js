// cli/evaluate.js — `smallmind evaluate`: perplexity and cross-entropy of a text file under a model
// (model.evaluate(): sliding windows, each token after the first scored once).

import { readFile } from 'node:fs/promises';
import { intFlag, parseFlags, required } from './args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { formatMs } from './format.js';
import { interruptSignal } from './interrupt.js';
import { checkInputFile, loadModel } from './model-file.js';
import { Progress } from './progress.js';

const HELP = `usage: smallmind evaluate --model FILE --data FILE [--ctx N] [--stride N] [--json]

Scores a UTF-8 text file: cross-entropy (nats per token) of each token given the ones before it,
and perplexity = exp(cross-entropy). The text is tokenized with BOS as the model asks and scored
over sliding windows of --ctx tokens that advance by --stride, so every token after the first is
scored once, with up to ctx - stride tokens of history.

  --model FILE   GGUF model (a path or an http(s) URL)
  --data FILE    the text to score
  --ctx N        window length in tokens (default: min(training context, 512))
  --stride N     how far windows advance (default: half the window)
  --threads N    engine threads (default 1)
  --json         one JSON object: perplexity, crossEntropy, bitsPerToken, tokens, evaluated,
                 windows, contextSize, stride, ms, model, data`;

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('evaluate', argv, {
    model: { type: 'string' }, data: { type: 'string' }, ctx: { type: 'string' }, stride: { type: 'string' },
    threads: { type: 'string' }, json: { type: 'boolean' },
  }, HELP);
  if (!parsed) return EXIT.OK;
  const v = parsed.values;
  const source = required(v, 'model', 'FILE');
  const dataPath = required(v, 'data', 'FILE');
  const contextSize = v.ctx === undefined ? undefined : intFlag(v, 'ctx', 0, 2);
  const stride = v.stride === undefined ? undefined : intFlag(v, 'stride', 0, 1);
  if (contextSize !== undefined && stride !== undefined && stride >= contextSize) {
    throw new UsageError(`--stride (${stride}) must be smaller than --ctx (${contextSize})`);
  }
  const threads = intFlag(v, 'threads', 1, 1, 256);
  await checkInputFile(dataPath, 'data file');
  const bytes = await readFile(dataPath);
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`cannot read data file '${dataPath}': not UTF-8 text`);
  }
  const signal = interruptSignal();
  const model = await loadModel(source, { threads, signal });
  try {
    if (!model.info().tokenizer) throw new CliError(`${source} has no tokenizer (no tokenizer.* metadata), so it cannot score text`);
    const bar = new Progress('evaluating', { unit: 'items', noun: 'windows' });
    let r;
    try {
      r = await model.evaluate(text, { contextSize, stride, signal, onProgress: ({ done, total }) => bar.update(done, total) });
    } finally {
      bar.done();
    }
    if (v.json) {
      process.stdout.write(JSON.stringify({ ...r, model: source, data: dataPath }) + '\n');
    } else {
      process.stdout.write(`perplexity ${r.perplexity.toFixed(4)}, cross-entropy ${r.crossEntropy.toFixed(5)} nats/token `
        + `(${r.bitsPerToken.toFixed(4)} bits), ${r.evaluated} tokens scored in ${r.windows} window${r.windows === 1 ? '' : 's'} `
        + `of ${r.contextSize} (stride ${r.stride}), ${formatMs(r.ms)}\n`);
    }
    return EXIT.OK;
  } finally {
    await model.dispose();
  }
}

export const evaluate = { name: 'evaluate', summary: 'perplexity and cross-entropy of a text file', help: HELP, run };
