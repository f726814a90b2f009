// cli/generate.js — `smallmind generate`: continue a prompt given as text or as token ids.
//
// Runs on the synchronous Engine layer in this thread (exact token ids in and out, --kv-type),
// yielding to the event loop between tokens so Ctrl+C and --max-duration-ms stop it within one
// step. Text prompts are tokenized as generate() does (BOS as the model asks, special-token text
// parsed); generated text streams to stdout as whole characters, stop strings held back until
// decided and never printed.
//
// Contract (tests/js/cli.test.js and outside checks): `--prompt-tokens 1,2,3 --json` prints one
// JSON object with prompt_tokens (as given), tokens (generated ids), threads, engine, model,
// prefill_ms, decode_ms, prefill_tok_s, decode_tok_s. Added: text, stop_reason, prompt (text mode).

import { Engine, AbortError } from '../index.js';
import { kvTypeFlag, parseFlags, required, tokenList } from './args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { GEN_FLAGS, genFlagsHelp, genSettings } from './gen-flags.js';
import { interruptSignal } from './interrupt.js';
import { engineLoadFile } from './model-file.js';

const HELP = `usage: smallmind generate --model FILE (--prompt TEXT | --prompt-tokens 1,2,3) [options]

Continues a prompt. With --prompt the text streams to stdout as it is generated; with
--prompt-tokens the generated token ids are printed on one line.

  --model FILE         GGUF model
  --prompt TEXT        text prompt (BOS added as the model asks, special-token text parsed)
  --prompt-tokens IDS  token ids, fed exactly as given
  --kv-type T          KV cache elements: f16 (default, half the memory) or f32 (exact)
  --json               print one JSON object instead: prompt_tokens, tokens (generated ids), text,
                       stop_reason (eos, maxTokens, stop, maxDuration, contextFull), threads, engine,
                       model, prefill_ms, decode_ms, prefill_tok_s, decode_tok_s

${genFlagsHelp(32)}

Ctrl+C stops the generation (exit code 130).`;

/** @type {import('./args.js').FlagSpecs} */
const FLAGS = {
  ...GEN_FLAGS, model: { type: 'string' }, prompt: { type: 'string' }, 'prompt-tokens': { type: 'string' },
  'kv-type': { type: 'string' }, json: { type: 'boolean' },
};

/** Finds stop strings in text that arrives in pieces, holding back what could still become one. */
class StopText {
  /** @param {string[]} stops */
  constructor(stops) {
    this.stops = stops;
    this.held = '';
  }

  /** @param {string} text @returns {{emit: string, stopped: boolean}} */
  push(text) {
    const buf = this.held + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.held = '';
      return { emit: buf.slice(0, cut), stopped: true };
    }
    let keep = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, buf.length); k > keep; k--) {
        if (buf.endsWith(s.slice(0, k))) { keep = k; break; }
      }
    }
    this.held = buf.slice(buf.length - keep);
    return { emit: buf.slice(0, buf.length - keep), stopped: false };
  }

  flush() {
    const h = this.held;
    this.held = '';
    return h;
  }
}

const yieldNow = () => new Promise((r) => setImmediate(r));

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('generate', argv, FLAGS, HELP);
  if (!parsed) return EXIT.OK;
  const v = parsed.values;
  const modelPath = required(v, 'model', 'FILE');
  if ((v.prompt === undefined) === (v['prompt-tokens'] === undefined)) {
    throw new UsageError('give exactly one of --prompt TEXT or --prompt-tokens 1,2,3');
  }
  const promptIds = v['prompt-tokens'] !== undefined ? tokenList(v['prompt-tokens'], 'prompt-tokens') : null;
  const s = genSettings(v, { maxTokens: 32 });
  const kvType = kvTypeFlag(v['kv-type']);
  const json = !!v.json;
  const signal = interruptSignal();

  const engine = await Engine.create({ variant: s.threads > 1 ? 'mt' : 'simd' });
  try {
    const model = await engineLoadFile(engine, modelPath);
    const info = model.info;
    const tok = model.tokenizer;
    if (!tok && (promptIds === null || s.stop.length)) {
      throw new CliError(`${modelPath} has no tokenizer (no tokenizer.* metadata): give --prompt-tokens and no --stop`);
    }
    const ids = promptIds ?? Array.from(/** @type {NonNullable<typeof tok>} */ (tok).tokenize(v.prompt, { addSpecial: true, parseSpecial: true }));
    if (!ids.length) throw new UsageError('the prompt is empty (no tokens)');
    const nCtx = s.contextSize ?? Math.min(info.n_ctx_train, 4096);
    const session = model.createSession({
      nCtx: s.contextSize, nBatch: s.batchSize, threads: s.threads, temperature: s.temperature, seed: s.seed,
      ignoreEos: s.ignoreEos, topK: s.topK, topP: s.topP, minP: s.minP, repeatPenalty: s.repeatPenalty,
      frequencyPenalty: s.frequencyPenalty, presencePenalty: s.presencePenalty, penaltyLastN: s.penaltyLastN, kvType,
    });
    const decoder = tok ? tok.createDecoder({ continuation: true }) : null;
    const stops = new StopText(s.stop);
    const stream = !json && promptIds === null;
    let text = '';
    /** @param {string} piece */
    const out = (piece) => {
      if (!piece) return;
      text += piece;
      if (stream) process.stdout.write(piece);
    };
    /** @type {number[]} */
    const tokens = [];
    let reason = 'maxTokens';
    const t0 = performance.now();
    const deadline = s.maxDurationMs !== undefined ? t0 + s.maxDurationMs : Infinity;
    let t1 = t0;
    try {
      session.decode(ids);
      t1 = performance.now();
      while (tokens.length < s.maxTokens) {
        if (signal.aborted) throw new AbortError('the generation was interrupted');
        if (performance.now() > deadline) { reason = 'maxDuration'; break; }
        const t = session.step();
        if (t === null) {
          reason = session.nPast >= nCtx ? 'contextFull' : 'eos';
          break;
        }
        tokens.push(t);
        if (decoder) {
          const r = stops.push(decoder.push(t));
          out(r.emit);
          if (r.stopped) { reason = 'stop'; break; }
        }
        await yieldNow();
      }
      if (decoder && reason !== 'stop') {
        const r = stops.push(decoder.flush());
        out(r.emit);
        if (r.stopped) reason = 'stop';
        else out(stops.flush());
      }
    } catch (e) {
      if (stream && text && /** @type {any} */ (e)?.name === 'AbortError') process.stdout.write('\n');
      throw e;
    } finally {
      decoder?.free();
      session.free();
    }
    const t2 = performance.now();
    model.free();
    if (json) {
      process.stdout.write(JSON.stringify({
        prompt_tokens: ids, tokens, threads: s.threads, engine: `wasm-${engine.variant} ${engine.version}`, model: info,
        prefill_ms: +(t1 - t0).toFixed(3), decode_ms: +(t2 - t1).toFixed(3),
        prefill_tok_s: +(ids.length / ((t1 - t0) / 1e3)).toFixed(2),
        decode_tok_s: tokens.length ? +(tokens.length / ((t2 - t1) / 1e3)).toFixed(2) : 0,
        ...(decoder ? { text } : {}), stop_reason: reason, ...(promptIds === null ? { prompt: v.prompt } : {}),
      }) + '\n');
    } else if (stream) {
      if (process.stdout.isTTY && !text.endsWith('\n')) process.stdout.write('\n');
    } else {
      process.stdout.write(`${tokens.join(' ')}\n`);
    }
    return EXIT.OK;
  } finally {
    engine.dispose();
  }
}

export const generate = { name: 'generate', summary: 'continue a text prompt (streamed) or token ids', help: HELP, run };
