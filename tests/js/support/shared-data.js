// shared-data.js — locating ../shared (read-only data beside the repository). Tests that need it
// fail under CI=true when it is missing (CI always has it) and skip with a clear message otherwise.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const SHARED = join(REPO, '..', 'shared');
export const STORIES_BIN = join(SHARED, 'models', 'stories260K', 'stories260K.bin');

/**
 * True when `path` exists; otherwise fails (CI) or skips the test (elsewhere).
 * @param {import('node:test').TestContext} t @param {string} path
 */
export function sharedOrSkip(t, path) {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') assert.fail(`${path} is missing: CI runs with shared/ beside the repo`);
  t.skip(`${path} not found (shared/ is not beside the repo): skipped`);
  return false;
}
