// index.js — the `smallmind` package entry point.
export { Engine, Model, Session } from './engine.js';
export { Tokenizer, Decoder } from './tokenizer.js';
export { SmallMindError, STATUS_NAMES } from './errors.js';
