// cli/tokenize.js — `smallmind tokenize` and `smallmind detokenize`: the model's tokenizer alone.
//
// Contract: `tokenize --stdin` tokenizes the exact bytes of standard input (nothing trimmed or
// added); with --json it prints one JSON object whose `tokens` are the ids; no BOS/EOS is added and
// no special-token text is parsed unless --add-special / --parse-special. --model may be a
// vocab-only GGUF (no tensors): only the tokenizer is loaded.

import { Buffer } from 'node:buffer';
import { Engine } from '../index.js';
import { parseFlags, required, tokenList } from './args.js';
import { EXIT, UsageError } from './errors.js';
import { engineLoad, readFileBytes } from './model-file.js';

const TOKENIZE_HELP = `usage: smallmind tokenize --model FILE (--stdin | --text STRING) [options]

Prints the token ids of a text (--model may be a vocab-only GGUF; only its tokenizer is loaded).

  --stdin            tokenize the exact bytes of standard input (nothing trimmed or added)
  --text STRING      tokenize STRING (as UTF-8) instead
  --add-special      add BOS/EOS (BERT: [CLS]/[SEP]) as the file's metadata asks (default: off)
  --parse-special    turn special-token text such as <|im_start|> into its id (default: off)
  --json             print one JSON object: tokens, n_tokens, n_bytes, tokenizer facts`;

const DETOKENIZE_HELP = `usage: smallmind detokenize --model FILE --tokens 1,2,3 [options]

Prints the text of token ids.

  --tokens 1,2,3     token ids to turn into text
  --render-special   write control tokens' text (default: they render as nothing)
  --json             print one JSON object: text, tokens`;

/** Standard input exactly as bytes: no decoding, trimming or newline handling.
 * @returns {Promise<Buffer>} */
async function readStdinBytes() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(/** @type {Buffer} */ (chunk));
  return Buffer.concat(chunks);
}

/** @param {string[]} argv @returns {Promise<number>} */
async function runTokenize(argv) {
  const parsed = parseFlags('tokenize', argv, {
    model: { type: 'string' }, stdin: { type: 'boolean' }, text: { type: 'string' },
    'add-special': { type: 'boolean' }, 'parse-special': { type: 'boolean' }, json: { type: 'boolean' },
  }, TOKENIZE_HELP);
  if (!parsed) return EXIT.OK;
  const values = parsed.values;
  const modelPath = required(values, 'model', 'FILE');
  if (!!values.stdin === (values.text !== undefined)) throw new UsageError('give exactly one of --stdin or --text STRING');
  const file = await readFileBytes(modelPath);
  const input = values.stdin ? await readStdinBytes() : Buffer.from(/** @type {string} */ (values.text), 'utf8');
  const engine = await Engine.create();
  const tok = engineLoad(() => engine.loadTokenizer(file), modelPath);
  const t0 = performance.now();
  const ids = tok.tokenize(new Uint8Array(input.buffer, input.byteOffset, input.length), {
    addSpecial: !!values['add-special'], parseSpecial: !!values['parse-special'],
  });
  const ms = performance.now() - t0;
  const tokens = Array.from(ids);
  const { kind, pre, n_tokens: nVocab, bos, eos, add_bos: addBos, add_eos: addEos, warning } = /** @type {any} */ (tok.info);
  tok.free();
  if (values.json) {
    process.stdout.write(JSON.stringify({
      tokens, n_tokens: tokens.length, n_bytes: input.length,
      add_special: !!values['add-special'], parse_special: !!values['parse-special'],
      tokenizer: { kind, pre, n_vocab: nVocab, bos, eos, add_bos: addBos, add_eos: addEos, warning },
      engine: `wasm-${engine.variant} ${engine.version}`, tokenize_ms: +ms.toFixed(3),
    }) + '\n');
  } else {
    process.stdout.write(`${tokens.join(' ')}\n`);
  }
  return EXIT.OK;
}

/** @param {string[]} argv @returns {Promise<number>} */
async function runDetokenize(argv) {
  const parsed = parseFlags('detokenize', argv, {
    model: { type: 'string' }, tokens: { type: 'string' }, 'render-special': { type: 'boolean' },
    json: { type: 'boolean' },
  }, DETOKENIZE_HELP);
  if (!parsed) return EXIT.OK;
  const values = parsed.values;
  const modelPath = required(values, 'model', 'FILE');
  const ids = tokenList(required(values, 'tokens', '1,2,3'), 'tokens');
  const file = await readFileBytes(modelPath);
  const engine = await Engine.create();
  const tok = engineLoad(() => engine.loadTokenizer(file), modelPath);
  const text = tok.detokenize(ids, { renderSpecial: !!values['render-special'] });
  tok.free();
  if (values.json) process.stdout.write(JSON.stringify({ text, tokens: ids }) + '\n');
  else process.stdout.write(text);
  return EXIT.OK;
}

export const tokenize = { name: 'tokenize', summary: 'print the token ids of a text', help: TOKENIZE_HELP, run: runTokenize };
export const detokenize = { name: 'detokenize', summary: 'print the text of token ids', help: DETOKENIZE_HELP, run: runDetokenize };
