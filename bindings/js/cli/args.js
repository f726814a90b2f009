// cli/args.js — flag parsing for the commands: node:util parseArgs, with its errors turned into
// one-line UsageErrors that name the command, `--help` / `-h` answered before anything else, and
// checked conversions of flag values (integers, numbers, token lists).

import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/**
 * @typedef {{type: 'string' | 'boolean', multiple?: boolean, short?: string}} FlagSpec
 * @typedef {Record<string, FlagSpec>} FlagSpecs
 */

/**
 * Parses a command's flags. Returns null when --help/-h was given (the help was printed).
 * @param {string} command e.g. 'generate'
 * @param {string[]} argv the arguments after the command name
 * @param {FlagSpecs} options
 * @param {string} help the command's --help text
 * @param {{positionals?: number}} [opts] how many positional arguments the command takes (default 0)
 * @returns {{values: Record<string, any>, positionals: string[]} | null}
 */
export function parseFlags(command, argv, options, help, opts = {}) {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    return null;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: (opts.positionals ?? 0) > 0 });
  } catch (e) {
    throw new UsageError(`${command}: ${describeParseError(/** @type {any} */ (e), options)} (see smallmind ${command} --help)`);
  }
  const max = opts.positionals ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[max]}' (see smallmind ${command} --help)`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** @param {any} e @param {FlagSpecs} options */
function describeParseError(e, options) {
  const msg = String(e?.message ?? e);
  const flag = /'(-{1,2}[^' <]+)/.exec(msg)?.[1];
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = flag?.replace(/^-+/, '') ?? '';
    const close = Object.keys(options).find((k) => k.startsWith(name) || name.startsWith(k));
    return `unknown option '${flag ?? msg}'${close && name ? ` (did you mean --${close}?)` : ''}`;
  }
  if (e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = flag?.replace(/^-+/, '');
    if (name && options[name]?.type === 'boolean') return `option --${name} takes no value`;
    if (name && /ambiguous/.test(msg)) return `option --${name} needs a value (write a value that starts with '-' as --${name}=VALUE)`;
    return `option ${flag ?? ''} needs a value`.replace('  ', ' ');
  }
  if (e?.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(msg)?.[1];
    return `unexpected argument '${arg ?? msg}'`;
  }
  return msg.split('\n')[0];
}

/**
 * @param {Record<string, any>} values @param {string} name @param {string} [what] e.g. 'FILE'
 * @returns {string}
 */
export function required(values, name, what = 'VALUE') {
  const v = values[name];
  if (v === undefined || v === '') throw new UsageError(`--${name} ${what} is required`);
  return v;
}

/**
 * An integer flag in [min, max].
 * @param {Record<string, any>} values @param {string} name @param {number} dflt @param {number} min
 * @param {number} [max]
 */
export function intFlag(values, name, dflt, min, max = Number.MAX_SAFE_INTEGER) {
  const v = values[name];
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, got '${v}'`);
  }
  return Number(v);
}

/**
 * A finite number (the engine or the API checks its range and names the option when it is out).
 * @param {Record<string, any>} values @param {string} name
 * @returns {number | undefined}
 */
export function numFlag(values, name) {
  const v = values[name];
  if (v === undefined) return undefined;
  if (String(v).trim() === '' || !Number.isFinite(Number(v))) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return Number(v);
}

/**
 * A comma-separated list of token ids.
 * @param {string} s @param {string} name
 * @returns {number[]}
 */
export function tokenList(s, name) {
  const parts = s.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`--${name} must be a comma-separated list of token ids, got '${s}'`);
  }
  return parts.map(Number);
}

/** @param {string | undefined} v @returns {'f16' | 'f32' | undefined} */
export function kvTypeFlag(v) {
  if (v === undefined) return undefined;
  if (v !== 'f16' && v !== 'f32') throw new UsageError(`--kv-type must be f16 or f32, got '${v}'`);
  return v;
}
