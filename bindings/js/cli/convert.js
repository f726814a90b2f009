// cli/convert.js — `smallmind convert INPUT OUTPUT`: between model formats.
//
// The converters live in bindings/js/convert/. When its index.js exists (the SMND format and the
// GGUF <-> SMND, legacy JSON and re-quantization converters) its `convert(input, output, options)`
// does the work; until then only llama2.c checkpoints -> GGUF are handled (convert/llama2c.js).
// Either way the command never overwrites its input, refuses an existing OUTPUT without --force, and
// the output appears only when complete (written to a temporary sibling, then renamed; an
// interrupted conversion leaves neither a broken OUTPUT nor the temporary file).

import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { formatBytes } from './format.js';
import { interruptSignal } from './interrupt.js';
import { checkInputFile } from './model-file.js';
import { Progress } from './progress.js';

const CONVERTERS = new URL('../convert/index.js', import.meta.url);
const FORMATS = ['llama2c', 'gguf', 'smnd', 'json'];

const HELP = `usage: smallmind convert INPUT OUTPUT [options]

Converts a model between formats: llama2.c checkpoints (.bin) -> GGUF${existsSync(fileURLToPath(CONVERTERS)) ? ' / SMND; GGUF <-> SMND;\nlegacy JSON checkpoints -> SMND; re-quantization (F32/F16 -> Q8_0, Q4_0, Q4_K, Q6_K)' : ''}.
INPUT is never modified; OUTPUT appears only once it is complete.

  --from FORMAT      ${FORMATS.join(', ')} (default: recognised from INPUT's first bytes)
  --to FORMAT        gguf or smnd (default: from OUTPUT's extension, .gguf or .smnd)
  --type T           weight type of OUTPUT's matrices: F32 (default for llama2c), F16, Q8_0, Q4_0,
                     Q4_K, Q6_K
  --name NAME        general.name of the output
  --tokenizer FILE   llama2.c's tokenizer.bin, for a real vocabulary
  --force            replace OUTPUT when it exists
  --json             print one JSON object: input, output, from, to, bytes, ms`;

/** @param {string} path @returns {Promise<string>} the format its first bytes show */
async function sniff(path) {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    const text = new TextDecoder().decode(head.subarray(0, bytesRead));
    if (text.startsWith('GGUF')) return 'gguf';
    if (text.startsWith('SMND')) return 'smnd';
    if (/^\s*[{[]/.test(text)) return 'json';
    if (bytesRead >= 16) return 'llama2c'; // a bare int32 header: checked by the converter
    throw new CliError(`cannot convert '${path}': ${bytesRead} bytes, too short to be a model`);
  } finally {
    await fh.close();
  }
}

/** Removes this process's temporary siblings of `output` (what an interrupted write leaves). @param {string} output */
function removeTemporaries(output) {
  const dir = dirname(output);
  const prefix = `${basename(output)}.tmp-${process.pid}-`;
  try {
    for (const f of readdirSync(dir)) if (f.startsWith(prefix)) unlinkSync(join(dir, f));
  } catch { /* nothing to clean */ }
}

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('convert', argv, {
    from: { type: 'string' }, to: { type: 'string' }, type: { type: 'string' }, name: { type: 'string' },
    tokenizer: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' },
  }, HELP, { positionals: 2 });
  if (!parsed) return EXIT.OK;
  const { values: v, positionals } = parsed;
  if (positionals.length < 2) throw new UsageError('convert needs INPUT and OUTPUT (see smallmind convert --help)');
  const [input, output] = positionals;
  if (v.from !== undefined && !FORMATS.includes(v.from)) throw new UsageError(`--from must be one of ${FORMATS.join(', ')}, got '${v.from}'`);
  const to = v.to ?? { '.gguf': 'gguf', '.smnd': 'smnd' }[extname(output).toLowerCase()];
  if (to === undefined) throw new UsageError(`cannot tell the output format from '${output}': give --to gguf or --to smnd`);
  if (to !== 'gguf' && to !== 'smnd') throw new UsageError(`--to must be gguf or smnd, got '${to}'`);
  const type = v.type?.toUpperCase();

  await checkInputFile(input, 'input');
  if (v.tokenizer !== undefined) await checkInputFile(v.tokenizer, 'tokenizer');
  const inReal = await realpath(input);
  const outStat = await stat(output).catch(() => null);
  if (resolve(output) === inReal || (outStat && (await realpath(output)) === inReal)) {
    throw new CliError(`refusing to write '${output}': it is the input file`);
  }
  if (outStat?.isDirectory()) throw new CliError(`cannot write '${output}': it is a directory`);
  if (outStat && !v.force) throw new CliError(`'${output}' exists; give --force to replace it`);
  if (!existsSync(dirname(resolve(output)))) throw new CliError(`cannot write '${output}': no such directory '${dirname(output)}'`);
  const from = v.from ?? await sniff(input);

  const signal = interruptSignal();
  const onInterrupt = () => { removeTemporaries(output); process.exit(EXIT.INTERRUPTED); };
  signal.addEventListener('abort', onInterrupt, { once: true });
  const bar = new Progress(`converting ${basename(input)}`);
  const t0 = performance.now();
  let bytes;
  try {
    if (existsSync(fileURLToPath(CONVERTERS))) {
      const mod = await import(CONVERTERS.href);
      if (typeof mod.convert !== 'function') throw new CliError('bindings/js/convert/index.js has no convert(input, output, options) export');
      const r = await mod.convert(input, output, {
        from, to, type, name: v.name, tokenizer: v.tokenizer, signal,
        onProgress: (/** @type {{done: number, total: number | null}} */ p) => bar.update(p.done, p.total),
      });
      bytes = r?.bytes ?? (await stat(output)).size;
    } else {
      if (from !== 'llama2c' || to !== 'gguf') {
        throw new CliError(`converting ${from} to ${to} needs the SMND converters (bindings/js/convert/index.js), which this build does not have yet; it converts llama2c to gguf`);
      }
      if (type !== undefined && type !== 'F32' && type !== 'F16') throw new CliError(`llama2c to gguf writes F32 or F16 weights, not ${type} (re-quantization needs the SMND converters)`);
      if (v.tokenizer !== undefined) throw new CliError('--tokenizer needs the SMND converters (bindings/js/convert/index.js), which this build does not have yet');
      const { convertLlama2cFile } = await import('../convert/llama2c.js');
      bar.update(0, null);
      try {
        ({ bytes } = await convertLlama2cFile(input, output, { weightType: /** @type {'F32' | 'F16' | undefined} */ (type), name: v.name }));
      } catch (e) {
        throw new CliError(`cannot convert '${input}' as a llama2.c checkpoint: ${/** @type {Error} */ (e).message.replace(/^llama2c: /, '')}`);
      }
    }
  } finally {
    bar.done();
    signal.removeEventListener('abort', onInterrupt);
  }
  const ms = Math.round(performance.now() - t0);
  if (v.json) process.stdout.write(JSON.stringify({ input, output, from, to, type: type ?? null, bytes, ms }) + '\n');
  else process.stdout.write(`${output}: ${formatBytes(bytes)} (${from} -> ${to}${type ? `, ${type}` : ''}) in ${ms} ms\n`);
  return EXIT.OK;
}

export const convert = { name: 'convert', summary: 'convert a model between formats (llama2.c, GGUF, SMND)', help: HELP, run };
