#!/usr/bin/env node
// cli.js — the `smallmind` command line (runs the WASM build under Node, through the package's
// public API only). One file per command in cli/.
//
//   smallmind generate --model FILE --prompt-tokens 1,450,4996 --max-tokens 32 --temperature 0 --json
//   smallmind generate --model FILE --prompt 'Once upon a time' --stop '\n\n'
//   smallmind chat --model FILE --system 'You are terse.'
//   smallmind inspect --model FILE --json
//   smallmind evaluate --model FILE --data text.txt --json
//   smallmind health --model FILE --json
//   smallmind tokenize --model FILE --stdin --json
//   smallmind bench --model FILE --threads N --prompt 128 --gen 128 --json
//   smallmind convert model.bin model.gguf
//
// Contract relied on by tests and outside checks: with --json, `generate` prints one JSON object
// with at least `prompt_tokens` (ids fed, exactly as given), `tokens` (generated ids), `threads`,
// `engine`, `model`, `prefill_ms`, `decode_ms`, `prefill_tok_s`, `decode_tok_s`. --threads N selects
// the thread count (N > 1 runs the pthreads build). Greedy decoding at temperature 0, no penalties.
// `tokenize --stdin` tokenizes the exact bytes of standard input (nothing trimmed or added) and
// with --json prints one JSON object whose `tokens` are the ids; no BOS/EOS is added and no
// special-token text is parsed unless --add-special / --parse-special. --model may be a vocab-only
// GGUF (no tensors): only the tokenizer is loaded. `bench --json` prints one JSON object with at
// least `load_s`, `prefill_tok_s`, `decode_tok_s` and `peak_rss_mb`.
//
// Errors: one line on stderr, `smallmind: …`, and an exit code (cli/errors.js): 0 ok, 1 runtime or
// model error, 2 usage error, 3 degraded (health), 130 interrupted. SMALLMIND_DEBUG=1 adds stacks.

import { readFileSync } from 'node:fs';
import { bench } from './cli/bench.js';
import { chat } from './cli/chat.js';
import { convert } from './cli/convert.js';
import { exitCodeOf, EXIT, reportError, UsageError } from './cli/errors.js';
import { evaluate } from './cli/evaluate.js';
import { generate } from './cli/generate.js';
import { health } from './cli/health.js';
import { inspect } from './cli/inspect.js';
import { detokenize, tokenize } from './cli/tokenize.js';

const COMMANDS = [generate, chat, inspect, evaluate, health, bench, convert, tokenize, detokenize];

const USAGE = `usage: smallmind <command> [options]     (smallmind <command> --help for its options)

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

--model takes a GGUF file (chat, inspect, evaluate and health also take an http(s) URL). --json
prints one JSON object for scripts. Loads show a progress bar on stderr when it is a terminal
(SMALLMIND_PROGRESS=0 hides it; =1 prints plain progress lines elsewhere).

exit codes:
  0    success (health: the model is healthy)
  1    runtime error: missing or unreadable file, not a model, corrupt model, engine error;
       health: unhealthy
  2    usage error: unknown command or option, missing or invalid value
  3    health: degraded (the model runs, but a check warned)
  130  interrupted (Ctrl+C)
Errors are one line on stderr ('smallmind: ...'); SMALLMIND_DEBUG=1 adds the stack trace.`;

/** @param {string[]} args @returns {Promise<number>} the exit code */
async function main(args) {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = cmd === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (cmd === undefined) {
      process.stderr.write(`${USAGE}\n`);
      return EXIT.USAGE;
    }
    process.stdout.write(`${topic ? topic.help : USAGE}\n`);
    return EXIT.OK;
  }
  if (cmd === '--version' || cmd === '-V') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`smallmind ${pkg.version}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === cmd);
  if (!command) throw new UsageError(`unknown command '${cmd}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see smallmind --help)`);
  return command.run(rest);
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e) => {
  reportError(e);
  process.exitCode = exitCodeOf(e);
}).finally(() => {
  // the threaded build's workers or a model's worker must not keep the process alive after the
  // command is done; stdout is flushed first (a pipe may still hold output)
  process.stdout.write('', () => process.exit());
});

