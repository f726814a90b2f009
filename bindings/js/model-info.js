// model-info.js — the `info()` object of a loaded model: what it is, what it needs, what runs it.
// Built once in the engine host after loading; plain data, so it crosses the worker boundary.

/**
 * @typedef {object} ModelInfo
 * @property {string} architecture e.g. 'llama', 'qwen2'
 * @property {string} name general.name ('' when absent)
 * @property {number} parameters parameter count
 * @property {number} contextLength training context (tokens)
 * @property {number} vocabSize @property {number} layers @property {number} embeddingSize
 * @property {number} heads @property {number} kvHeads
 * @property {Record<string, {tensors: number, bytes: number}>} weightTypes per GGUF type ('Q4_0', …)
 * @property {number} fileSize bytes of the file(s)
 * @property {number} weightBytes
 * @property {{kind: string, pre: string, vocabSize: number, bos: number, eos: number, eot: number} | null} tokenizer
 * @property {boolean} hasChatTemplate the file carries tokenizer.chat_template
 * @property {string | null} chatTemplate that template (Jinja), or null
 * @property {{variant: 'simd' | 'mt', threads: number, version: string, runtime: string, inWorker: boolean, relaxedSimd: boolean}} engine
 * @property {{enabled: boolean, hit?: boolean, stored?: boolean, reason?: string, error?: {name: string, message: string}, discarded?: string}} cache
 */

/**
 * @param {import('./engine.js').Model} model @param {import('./engine.js').Engine} engine
 * @param {number} threads @param {{fileBytes: number, cache: any, inWorker: boolean, chatTemplate?: string | null}} facts
 * @param {string} runtime
 * @returns {ModelInfo}
 */
export function describeModel(model, engine, threads, facts, runtime) {
  const i = /** @type {Record<string, any>} */ (model.info);
  const tok = model.tokenizer;
  const t = tok?.info;
  return {
    architecture: i.arch,
    name: i.name ?? '',
    parameters: i.n_params,
    contextLength: i.n_ctx_train,
    vocabSize: i.n_vocab,
    layers: i.n_layer,
    embeddingSize: i.n_embd,
    heads: i.n_head,
    kvHeads: i.n_head_kv,
    weightTypes: i.weight_types ?? {},
    fileSize: i.file_bytes ?? facts.fileBytes,
    weightBytes: i.weight_bytes,
    tokenizer: t ? { kind: t.kind, pre: t.pre, vocabSize: t.n_tokens, bos: t.bos, eos: t.eos, eot: t.eot } : null,
    hasChatTemplate: !!i.has_chat_template || typeof facts.chatTemplate === 'string',
    chatTemplate: facts.chatTemplate ?? null,
    engine: { variant: /** @type {'simd' | 'mt'} */ (engine.variant), threads, version: engine.version, runtime,
      inWorker: facts.inWorker, relaxedSimd: Boolean(engine.relaxedSimd) },
    cache: facts.cache,
  };
}
