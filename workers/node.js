// node.js — the engine worker under Node and Bun (worker_threads): serves the engine host on
// the parent port. Started by bindings/js/client.js; not meant to be run directly.
import { parentPort } from 'node:worker_threads';
import { serveEngine } from '../bindings/js/worker-host.js';
import { nodePort } from '../bindings/js/protocol.js';

if (!parentPort) throw new Error('workers/node.js runs inside a worker_threads Worker');
serveEngine(nodePort(parentPort));
