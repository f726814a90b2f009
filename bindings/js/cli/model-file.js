// cli/model-file.js — getting a model (or data) file in, for every command: a missing path, a
// directory or an empty file is reported before anything is loaded; loads show progress.
//
// Two ways in, both public API: loadModel() → SmallMind.load (a worker-hosted model; paths and
// URLs) for chat, inspect, evaluate, health; readFileBytes() → bytes for the synchronous Engine
// layer (generate, tokenize, bench), which reads the whole file first.

import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { SmallMind } from '../index.js';
import { CliError, errorLine } from './errors.js';
import { Progress } from './progress.js';

/** @param {string} s */
export const isUrl = (s) => /^(https?|file|data|blob):/i.test(s);

/**
 * Fails with one clear line when `path` cannot be a readable file.
 * @param {string} path @param {string} what e.g. 'model', 'data file'
 * @returns {Promise<number>} its size in bytes
 */
export async function checkInputFile(path, what) {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = /** @type {any} */ (e).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'a parent is not a directory' : /** @type {Error} */ (e).message;
    throw new CliError(`cannot read ${what} '${path}': ${why}`);
  }
  if (st.isDirectory()) throw new CliError(`cannot read ${what} '${path}': it is a directory, not a file`);
  if (!st.isFile()) throw new CliError(`cannot read ${what} '${path}': not a regular file`);
  if (st.size === 0) throw new CliError(`cannot read ${what} '${path}': the file is empty`);
  return st.size;
}

/**
 * The whole file, read in chunks with a progress bar.
 * @param {string} path @param {string} [what]
 * @returns {Promise<Uint8Array>}
 */
export async function readFileBytes(path, what = 'model') {
  const size = await checkInputFile(path, what);
  const bar = new Progress(`reading ${basename(path)}`);
  let fh;
  try {
    fh = await open(path, 'r');
    const out = new Uint8Array(size);
    const CHUNK = 8 * 2 ** 20;
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(out, at, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
      bar.update(at, size);
    }
    if (at !== size) throw new CliError(`cannot read ${what} '${path}': it shrank while being read (${at} of ${size} bytes)`);
    return out;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${what} '${path}': ${/** @type {Error} */ (e).message}`);
  } finally {
    bar.done();
    await fh?.close();
  }
}

/**
 * SmallMind.load with a progress bar; local paths are checked first.
 * @param {string} source a path or URL
 * @param {{threads?: number, signal?: AbortSignal}} [opts]
 * @returns {Promise<import('../smallmind.js').SmallMindModel>}
 */
export async function loadModel(source, opts = {}) {
  if (!isUrl(source)) await checkInputFile(source, 'model');
  const bar = new Progress(`loading ${basename(source.split(/[?#]/)[0]) || source}`);
  try {
    return await SmallMind.load(source, {
      threads: opts.threads ?? 1,
      signal: opts.signal,
      onProgress: ({ loaded, total }) => bar.update(loaded, total),
    });
  } catch (e) {
    throw loadFailure(e, source);
  } finally {
    bar.done();
  }
}

/** A LoadError as one line that names the file once. @param {unknown} e @param {string} source */
function loadFailure(e, source) {
  const x = /** @type {any} */ (e);
  if (x?.name !== 'LoadError') return e;
  let msg = String(x.message).replace(/\s*\n\s*/g, ' ');
  if (msg.startsWith(`${source}: `)) msg = msg.slice(source.length + 2);
  return new CliError(`cannot load model '${source}' (${x.reason}): ${msg}`);
}

/**
 * Runs an Engine-layer load (engine.loadModel / loadTokenizer), naming the file when it fails.
 * @template T @param {() => T} fn @param {string} path @returns {T}
 */
/**
 * Loads a model file into an Engine straight into WASM memory (Engine.loadModelFile: no copy of
 * the file in JS, so peak memory stays near the file size), with the progress bar and the CLI's
 * one-line errors.
 * @param {import('../engine.js').Engine} engine @param {string} path
 * @returns {Promise<import('../engine.js').Model>}
 */
export async function engineLoadFile(engine, path) {
  await checkInputFile(path, 'model');
  const bar = new Progress(`loading ${basename(path)}`);
  try {
    return await engine.loadModelFile(path, { onProgress: (done, total) => bar.update(done, total) });
  } catch (e) {
    const x = /** @type {any} */ (e);
    if (typeof x?.code === 'string' && x.code.startsWith('SM_')) throw new CliError(`cannot load model '${path}': ${errorLine(e)}`);
    throw new CliError(`cannot read model '${path}': ${/** @type {Error} */ (e).message}`);
  } finally {
    bar.done();
  }
}

export function engineLoad(fn, path) {
  try {
    return fn();
  } catch (e) {
    const x = /** @type {any} */ (e);
    if (typeof x?.code !== 'string' || !x.code.startsWith('SM_')) throw e;
    throw new CliError(`cannot load model '${path}': ${errorLine(e)}`);
  }
}
