// browser.js — the engine worker in browsers (a dedicated module Worker) and Deno: serves the
// engine host on the worker's global scope. scripts/build.sh bundles it into
// bindings/js/wasm/smallmind-worker.mjs so an app's bundle only has to ship that one directory.
import { serveEngine } from '../bindings/js/worker-host.js';
import { webPort } from '../bindings/js/protocol.js';

serveEngine(webPort(globalThis));
