// cli/inspect.js — `smallmind inspect`: what a model file holds (metadata, tensors, weight types)
// and the memory a generation with it needs (model.info(), model.inspect(), model.estimateMemory()).

import { basename } from 'node:path';
import { intFlag, parseFlags, required } from './args.js';
import { EXIT } from './errors.js';
import { formatBytes, formatCount, table } from './format.js';
import { interruptSignal } from './interrupt.js';
import { loadModel } from './model-file.js';

const HELP = `usage: smallmind inspect --model FILE [--ctx N] [--batch N] [--json]

Shows a model's architecture, shape, tokenizer, weight types, every metadata key, the tensor table,
and the memory a generation needs (weights + KV cache + scratch; computed, nothing allocated).

  --model FILE   GGUF model (a path or an http(s) URL)
  --ctx N        context size for the memory estimate (default: min(training context, 4096))
  --batch N      prompt batch size for the memory estimate (default 64)
  --json         one JSON object: file, info, memory {weights, kvCache, scratch, total,
                 contextSize}, format {version, alignment, dataOffset, parts}, metadata [{key,
                 type, value}] (arrays: {elementType, length, head}), tensors [{name, type, shape,
                 bytes, offset}]`;

/** @param {unknown} v @param {number} max @returns {string} a metadata value on one line */
function show(v, max = 72) {
  if (v && typeof v === 'object') {
    const a = /** @type {{elementType: string, length: number, head: unknown[]}} */ (v);
    const head = a.head.slice(0, 6).map((x) => show(x, 16)).join(', ');
    return `[${a.elementType} x ${a.length}] ${head}${a.length > 6 ? ', ...' : ''}`;
  }
  const s = typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : String(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('inspect', argv, {
    model: { type: 'string' }, ctx: { type: 'string' }, batch: { type: 'string' }, json: { type: 'boolean' },
  }, HELP);
  if (!parsed) return EXIT.OK;
  const v = parsed.values;
  const source = required(v, 'model', 'FILE');
  const contextSize = v.ctx === undefined ? undefined : intFlag(v, 'ctx', 0, 1);
  const batchSize = v.batch === undefined ? undefined : intFlag(v, 'batch', 0, 1);
  const model = await loadModel(source, { signal: interruptSignal() });
  try {
    const info = model.info();
    const memory = await model.estimateMemory({ contextSize, batchSize });
    const { metadata, tensors, ...format } = await model.inspect();
    if (v.json) {
      process.stdout.write(JSON.stringify({ file: source, info, memory, format, metadata, tensors }) + '\n');
      return EXIT.OK;
    }
    const t = info.tokenizer;
    const types = Object.entries(info.weightTypes).sort((a, b) => b[1].bytes - a[1].bytes)
      .map(([name, w]) => `${name}: ${w.tensors} tensors, ${formatBytes(w.bytes)}`).join('; ');
    const lines = [
      `${basename(source)}${info.name ? `: ${info.name}` : ''}`,
      table([
        ['architecture', `${info.architecture}, ${formatCount(info.parameters)} parameters, ${info.layers} layers, ${info.embeddingSize} wide, ${info.heads} heads (${info.kvHeads} KV)`],
        ['context', `${info.contextLength} tokens (training)`],
        ['vocabulary', t ? `${t.vocabSize} tokens, ${t.kind} tokenizer${t.pre ? ` (${t.pre})` : ''}, bos ${t.bos}, eos ${t.eos}` : `${info.vocabSize} tokens, no tokenizer in the file`],
        ['chat template', info.hasChatTemplate ? 'yes (tokenizer.chat_template)' : 'none (chat uses a built-in format)'],
        ['file', `${formatBytes(info.fileSize)}, GGUF v${format.version}${format.parts > 1 ? `, ${format.parts} parts` : ''}, ${tensors.length} tensors, ${metadata.length} metadata keys`],
        ['weights', types || 'none'],
        ['memory', `${formatBytes(memory.total)} at a ${memory.contextSize}-token context: weights ${formatBytes(memory.weights)}, KV cache ${formatBytes(memory.kvCache)}, scratch ${formatBytes(memory.scratch)}`],
      ]),
      '',
      `metadata (${metadata.length} keys)`,
      table(metadata.map((m) => [m.key, m.type, show(m.value) + (m.truncated ? ' (cut)' : '')])),
      '',
      `tensors (${tensors.length})`,
      table(tensors.map((x) => [x.name, x.type, x.shape.join(' x '), formatBytes(x.bytes)])),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return EXIT.OK;
  } finally {
    await model.dispose();
  }
}

export const inspect = { name: 'inspect', summary: 'metadata, tensors, weight types and memory estimate of a model', help: HELP, run };
