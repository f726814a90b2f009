// types.test.js — the package's TypeScript declarations (types/) compile against a usage sample
// that exercises the documented API, with strict checks, using the TypeScript compiler inside the
// `deno` dev dependency (`deno check`). @ts-expect-error lines in the sample prove that wrong
// usage is rejected, so the check cannot pass vacuously.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const DIR = fileURLToPath(new URL('./fixtures/types/', import.meta.url));
const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));

test('types/index.d.ts and types/edge.d.ts type-check a strict usage sample', async () => {
  const r = await run(DENO, ['check', '--quiet', '--config', 'deno.json', 'usage.ts'], { cwd: DIR, timeout: 120_000 })
    .catch((/** @type {any} */ e) => assert.fail(`deno check failed:\n${e.stdout}\n${e.stderr}`));
  assert.equal(r.stderr.replace(/\x1b\[[0-9;]*m/g, '').replace(/^Check .*\n?/m, '').trim(), '');
});
