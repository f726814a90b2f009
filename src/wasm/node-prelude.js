// node-prelude.js — prepended (emcc --extern-pre-js) to the generated ES module loader.
// Emscripten 3.1.6 writes its Node support for CommonJS (`require`, `__dirname`); in an ES module
// those names do not exist, so we provide them, and only under Node, so browsers load the same file.
var __sm_is_node = typeof process == 'object' && typeof process.versions == 'object' && typeof process.versions.node == 'string';
var require = __sm_is_node ? (await import('node:module')).createRequire(import.meta.url) : undefined;
var __dirname = __sm_is_node ? require('node:path').dirname(require('node:url').fileURLToPath(import.meta.url)) : '';
