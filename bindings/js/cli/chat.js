// cli/chat.js — `smallmind chat`: a conversation with a model through model.chat() (the model's
// chat template, or a built-in format), answers streamed as they are generated.
//
// Interactive when standard input is a terminal: a `> ` prompt; Ctrl+C stops the current answer
// (what was said so far stays in the conversation); a second Ctrl+C at the prompt, or two within
// a second, exits (130); Ctrl+D or /exit exits (0); /reset forgets the conversation.
// Otherwise (a pipe or a file) every non-empty line of standard input is one user message, answered
// in turn: the answer's text and a newline on stdout, or with --json one JSON object per answer.
// One session (model.createSession) holds the conversation's KV cache, so each turn processes only
// what is new; when the conversation outgrows the context the oldest exchanges are dropped (the
// system message stays).

import { createInterface } from 'node:readline';
import { readFile, stat } from 'node:fs/promises';
import { kvTypeFlag, parseFlags, required } from './args.js';
import { CliError, errorLine, EXIT, UsageError } from './errors.js';
import { apiOptions, GEN_FLAGS, genFlagsHelp, genSettings } from './gen-flags.js';
import { interruptSignal } from './interrupt.js';
import { loadModel } from './model-file.js';

const HELP = `usage: smallmind chat --model FILE [--system TEXT] [--chat-template NAME|FILE] [options]

Talks with a model using its chat template (tokenizer.chat_template) or, for a file without one, a
built-in format chosen from its vocabulary and name.

On a terminal: type a message, the answer streams back. Ctrl+C stops the current answer; Ctrl+C
again at the prompt (or twice within a second) exits; Ctrl+D or /exit exits; /reset starts over.
With standard input from a pipe or file: each non-empty line is one user message, answered in turn
(the answer and a newline on stdout).

  --model FILE           GGUF model (a path or an http(s) URL)
  --system TEXT          a system message that opens the conversation
  --chat-template T      a built-in format (llama3, llama2, phi3, chatml, mistral, gemma) or a file
                         holding a Jinja template, instead of the model's own
  --kv-type T            KV cache elements: f16 (default, half the memory) or f32 (exact)
  --json                 (piped input) one JSON object per answer: role, content, metrics

${genFlagsHelp(256)}`;

/** @type {import('./args.js').FlagSpecs} */
const FLAGS = {
  ...GEN_FLAGS, model: { type: 'string' }, system: { type: 'string' }, 'chat-template': { type: 'string' },
  'kv-type': { type: 'string' }, json: { type: 'boolean' },
};

/** @typedef {{role: 'system' | 'user' | 'assistant', content: string}} Message */

/**
 * One assistant turn: streams the answer of `messages` (which end with the user's message) to
 * `write`. The session keeps the KV cache between turns (only the new part of the conversation is
 * processed) and drops the oldest exchanges when the conversation outgrows the context.
 * @param {import('../smallmind.js').SmallMindSession} session @param {Message[]} messages
 * @param {Record<string, any>} options chat() options @param {(s: string) => void} write
 * @returns {Promise<{text: string, metrics: any, error: unknown}>} error: an abort or time limit that
 *   cut the answer (the text so far is kept)
 */
async function answer(session, messages, options, write) {
  let text = '';
  const stream = session.chat(messages, options);
  try {
    for await (const piece of stream) {
      text += piece;
      write(piece);
    }
    return { text, metrics: await stream.metrics, error: null };
  } catch (e) {
    const x = /** @type {any} */ (e);
    if (x?.name === 'AbortError' || x?.name === 'TimeoutError') return { text, metrics: null, error: e };
    if (x?.code === 'SM_ERR_CONTEXT_FULL') throw new CliError(`the message does not fit the context (${errorLine(e)}); give a larger --ctx or a shorter message`);
    throw e;
  }
}

const FLAG_OF = /** @type {Record<string, string>} */ ({ contextSize: 'ctx', batchSize: 'batch', chatTemplate: 'chat-template' });

/**
 * Checks the chat() options before any input is read (a bad --top-p fails at once, exit code 2):
 * a chat() call with an aborted signal validates them and never runs.
 * @param {import('../smallmind.js').SmallMindModel} model @param {(signal: AbortSignal) => Record<string, any>} optionsFor
 */
function checkOptions(model, optionsFor) {
  const ac = new AbortController();
  ac.abort();
  try {
    model.chat([{ role: 'user', content: '.' }], optionsFor(ac.signal)).metrics.catch(() => {});
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
    const msg = e.message.replace(/option '(\w+)'/, (_, name) => `--${FLAG_OF[name] ?? name.replace(/[A-Z]/g, (/** @type {string} */ c) => `-${c.toLowerCase()}`)}`);
    throw new UsageError(msg);
  }
}

/** @param {string | undefined} t @returns {Promise<string | undefined>} a built-in name, or a file's template */
async function templateOption(t) {
  if (t === undefined) return undefined;
  const isFile = await stat(t).then((s) => s.isFile(), () => false);
  if (!isFile) return t; // a built-in name; chat() names the known ones when it is not
  return readFile(t, 'utf8');
}

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('chat', argv, FLAGS, HELP);
  if (!parsed) return EXIT.OK;
  const v = parsed.values;
  const source = required(v, 'model', 'FILE');
  const s = genSettings(v, { maxTokens: 256, minMaxTokens: 1 });
  const kvType = kvTypeFlag(v['kv-type']);
  const chatTemplate = await templateOption(v['chat-template']);
  const interactive = !!process.stdin.isTTY && !v.json;
  const interrupted = interruptSignal();
  const model = await loadModel(source, { threads: s.threads, signal: interrupted });
  try {
    if (!model.info().tokenizer) throw new CliError(`${source} has no tokenizer (no tokenizer.* metadata), so it cannot chat`);
    /** @type {Message[]} */
    const start = v.system !== undefined ? [{ role: 'system', content: v.system }] : [];
    const messages = [...start];
    /** @param {AbortSignal} signal */
    const optionsFor = (signal) => ({ ...apiOptions(s, signal), ...(chatTemplate !== undefined ? { chatTemplate } : {}) });
    checkOptions(model, optionsFor);
    const session = model.createSession({ contextSize: s.contextSize, kvType, contextShift: true });
    /** @param {AbortSignal} signal the options of a turn (the context size belongs to the session) */
    const turnOptions = (signal) => {
      const { contextSize: _, ...o } = optionsFor(signal);
      return o;
    };
    if (interactive) return await converse(model, session, messages, start, turnOptions);

    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    for await (const line of rl) {
      if (!line.trim()) continue;
      messages.push({ role: 'user', content: line });
      const write = v.json ? () => {} : (/** @type {string} */ p) => process.stdout.write(p);
      const r = await answer(session, messages, turnOptions(interrupted), write);
      if (r.error && /** @type {any} */ (r.error).name === 'AbortError') {
        if (!v.json) process.stdout.write('\n');
        throw r.error;
      }
      messages.push({ role: 'assistant', content: r.text });
      if (v.json) {
        process.stdout.write(JSON.stringify({ role: 'assistant', content: r.text, metrics: r.metrics,
          ...(r.error ? { error: errorLine(r.error) } : {}) }) + '\n');
      } else {
        process.stdout.write('\n');
        if (r.error) process.stderr.write(`smallmind: ${errorLine(r.error)}\n`);
      }
    }
    return EXIT.OK;
  } finally {
    await model.dispose();
  }
}

/**
 * The interactive loop on a terminal.
 * @param {import('../smallmind.js').SmallMindModel} model
 * @param {import('../smallmind.js').SmallMindSession} session @param {Message[]} messages
 * @param {Message[]} start the conversation /reset goes back to
 * @param {(signal: AbortSignal) => Record<string, any>} optionsFor
 * @returns {Promise<number>}
 */
async function converse(model, session, messages, start, optionsFor) {
  const info = model.info();
  process.stdout.write(`${info.name || info.architecture} (${info.architecture}, ${info.hasChatTemplate ? 'its chat template' : 'a built-in chat format'}). `
    + 'Ctrl+C stops an answer; Ctrl+C twice or Ctrl+D exits; /reset starts over.\n');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: '> ' });
  /** @type {AbortController | null} */
  let current = null;
  let lastInterrupt = 0;
  let armed = false; // a Ctrl+C since the last message: the next one at the prompt exits
  /** @type {number} */
  let exitCode = EXIT.OK;
  rl.on('SIGINT', () => {
    const now = Date.now();
    const quick = now - lastInterrupt < 1000;
    lastInterrupt = now;
    if (current && !current.signal.aborted) {
      current.abort();
      armed = true;
      return;
    }
    if (armed || quick) {
      exitCode = EXIT.INTERRUPTED;
      process.stdout.write('\n');
      rl.close();
      return;
    }
    armed = true;
    process.stdout.write('\n(Ctrl+C again to exit)\n');
    rl.prompt();
  });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/exit' || text === '/quit') break;
    if (text === '/reset') {
      messages.splice(0, messages.length, ...start);
      await session.reset();
      process.stdout.write('(conversation cleared)\n');
    } else if (text) {
      armed = false;
      messages.push({ role: 'user', content: line });
      const ac = new AbortController();
      current = ac;
      try {
        const r = await answer(session, messages, optionsFor(ac.signal), (p) => process.stdout.write(p));
        if (r.text || !r.error) messages.push({ role: 'assistant', content: r.text });
        else messages.pop(); // stopped before a word: forget the question
        process.stdout.write(r.error ? `\n[${/** @type {any} */ (r.error).name === 'AbortError' ? 'stopped' : errorLine(r.error)}]\n` : '\n');
      } catch (e) {
        messages.pop();
        process.stdout.write('\n');
        process.stderr.write(`smallmind: ${errorLine(e)}\n`);
      } finally {
        current = null;
      }
    }
    rl.prompt();
  }
  rl.close();
  return exitCode;
}

export const chat = { name: 'chat', summary: 'talk with a model (interactive, streaming; or one message per input line)', help: HELP, run };
