// index.js — the `smallmind` package entry point.
//
// SmallMind.load() is the API most apps need (a Worker-hosted engine, streaming generation).
// Engine/Model/Session and Tokenizer are the synchronous low-level layer over the WASM exports,
// running in the caller's thread (tools, tests, custom workers).
export { SmallMind, SmallMindModel, SmallMindSession } from './smallmind.js';
export { Engine, Model, Session } from './engine.js';
export { Tokenizer, Decoder } from './tokenizer.js';
export { SmallMindError, AbortError, TimeoutError, LoadError, STATUS_NAMES } from './errors.js';
