// Type declarations for the `smallmind` package (written by hand beside the JSDoc in
// bindings/js/; tests/js/types.test.js type-checks a usage sample against them with Deno's tsc).

/** Where a model comes from. A string is a URL, or a file path under Node, Deno and Bun. An
 * array is the parts of a split GGUF file, in order ('…-00001-of-00003.gguf' expands itself). */
export type ModelSource = string | URL | Request | Response | Blob | ArrayBuffer | ArrayBufferView;

export interface LoadProgress {
  /** bytes received (or read from the cache) so far */
  loaded: number;
  /** total bytes, or null when the server sent no Content-Length */
  total: number | null;
}

export interface LoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  /** aborting stops the download and frees everything; load() rejects with AbortError */
  signal?: AbortSignal;
  /** engine threads; > 1 needs SharedArrayBuffer (cross-origin isolated pages, Node, Bun).
   * Default: min(4, CPUs) where available, else 1 */
  threads?: number;
  /** browsers: keep the download in IndexedDB and reuse it offline; 'reload' replaces the entry */
  cache?: boolean | 'reload';
  /** false: run the engine in the calling thread (default: a Worker) */
  worker?: boolean;
  /** where the .wasm and worker files are (default: ./wasm/ beside the package's modules) */
  assetsBase?: string | URL;
  /** a compiled smallmind-simd.wasm, for runtimes that cannot compile WASM at run time */
  wasmModule?: WebAssembly.Module;
  /** the relaxed-SIMD build (faster decoding through an i8 dot product; same results bit for bit).
   * Default: where the runtime runs it (Chromium, Deno, Bun, Node 22+), and no wasmModule is given;
   * true with a wasmModule says that module is smallmind-<variant>-relaxed.wasm */
  relaxedSimd?: boolean;
  /** sent with URL downloads (e.g. Authorization) */
  headers?: Record<string, string>;
}

export interface GenerateOptions {
  /** tokens to generate at most (default 256) */
  maxTokens?: number;
  /** 0 = greedy (default) */
  temperature?: number;
  topK?: number;
  /** in [0, 1] */
  topP?: number;
  /** in [0, 1] */
  minP?: number;
  repeatPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** how many recent tokens the penalties look at (-1 = the whole context) */
  penaltyLastN?: number;
  /** default: a random seed, reported in the metrics */
  seed?: number;
  /** stop strings: generation ends before them and they are never emitted */
  stop?: string | string[];
  /** token ids that end the generation like EOS (never emitted; not affected by ignoreEos) */
  stopTokens?: number[];
  /** end with a TimeoutError after this many milliseconds */
  maxDurationMs?: number;
  /** keep generating past end-of-generation tokens */
  ignoreEos?: boolean;
  /** add BOS as the model asks (default true for text prompts) */
  addSpecial?: boolean;
  /** special-token text in the prompt becomes tokens (default true) */
  parseSpecial?: boolean;
  /** KV cache size in tokens (default min(training context, 4096)) */
  contextSize?: number;
  /** prompt tokens per forward pass (default 64) */
  batchSize?: number;
  /** token id → added to its logit before sampling; -Infinity bans the token */
  logitBias?: Record<number, number> | Map<number, number> | [number, number][];
  /** KV cache elements: 'f16' (default) or 'f32' (exact, twice the memory) */
  kvType?: 'f16' | 'f32';
  signal?: AbortSignal;
  onMetrics?: (metrics: GenerationMetrics) => void;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Names of the built-in chat formats (used for files without tokenizer.chat_template). */
export type BuiltinChatTemplate = 'llama3' | 'llama2' | 'phi3' | 'chatml' | 'mistral' | 'gemma';

export interface ChatOptions extends Omit<GenerateOptions, 'addSpecial' | 'parseSpecial'> {
  /** a Jinja chat template or a built-in format's name, instead of the model's own template
   * (default: the file's tokenizer.chat_template, else a built-in format chosen from the
   * vocabulary, name and architecture) */
  chatTemplate?: BuiltinChatTemplate | (string & {});
}

export interface GenerationMetrics {
  promptTokens: number;
  /** prompt tokens a session already had in its KV cache (not processed again) */
  cachedTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  totalMs: number;
  /** WASM memory size at the end (it never shrinks) */
  peakMemoryBytes: number;
  stopReason: 'eos' | 'maxTokens' | 'stop' | 'contextFull';
  stopString: string | null;
  seed: number;
  threads: number;
}

export interface ModelInfo {
  architecture: string;
  name: string;
  parameters: number;
  contextLength: number;
  vocabSize: number;
  layers: number;
  embeddingSize: number;
  heads: number;
  kvHeads: number;
  weightTypes: Record<string, { tensors: number; bytes: number }>;
  fileSize: number;
  weightBytes: number;
  tokenizer: { kind: string; pre: string; vocabSize: number; bos: number; eos: number; eot: number } | null;
  hasChatTemplate: boolean;
  /** the file's tokenizer.chat_template (Jinja), or null */
  chatTemplate: string | null;
  engine: { variant: 'simd' | 'mt'; threads: number; version: string; runtime: string; inWorker: boolean;
    /** the relaxed-SIMD build of the variant */
    relaxedSimd: boolean };
  cache: { enabled: boolean; hit?: boolean; stored?: boolean; reason?: string; discarded?: string;
    error?: { name: string; message: string } };
}

export interface EvaluationResult {
  tokens: number;
  evaluated: number;
  /** nats per token */
  crossEntropy: number;
  perplexity: number;
  bitsPerToken: number;
  windows: number;
  contextSize: number;
  stride: number;
  ms: number;
}

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  checks: { name: string; status: 'pass' | 'warn' | 'fail'; message: string; ms?: number }[];
  ms: number;
}

export interface GenerationStream extends AsyncIterableIterator<string> {
  /** resolves when the generation ends normally */
  readonly metrics: Promise<GenerationMetrics>;
}

export declare class SmallMindModel {
  private constructor();
  info(): ModelInfo;
  generate(prompt: string | ArrayLike<number>, options?: GenerateOptions): GenerationStream;
  complete(prompt: string | ArrayLike<number>, options?: GenerateOptions): Promise<{ text: string; metrics: GenerationMetrics }>;
  /** streams the assistant's reply to the conversation, rendered with the model's chat template;
   * special-token text in message contents stays text; ends at the template's end-of-turn token */
  chat(messages: ChatMessage[], options?: ChatOptions): GenerationStream;
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): Promise<number[]>;
  detokenize(tokens: ArrayLike<number>, options?: { renderSpecial?: boolean }): Promise<string>;
  /** cross-entropy and perplexity over sliding windows of contextSize tokens advancing by stride */
  evaluate(text: string | ArrayLike<number>, options?: { contextSize?: number; stride?: number; addSpecial?: boolean;
    signal?: AbortSignal; onProgress?: (p: { done: number; total: number }) => void }): Promise<EvaluationResult>;
  /** one short forward pass: weights, tokenizer, finite logits, timing */
  health(options?: { maxForwardMs?: number }): Promise<HealthReport>;
  estimateMemory(options?: { contextSize?: number; batchSize?: number }): Promise<{
    weights: number; kvCache: number; scratch: number; total: number; contextSize: number }>;
  /** the file's header: every metadata key in file order and the tensor table */
  inspect(): Promise<ModelInspection>;
  /** a conversation keeping its KV cache between calls (the common prefix is not processed again) */
  createSession(options?: { name?: string; contextSize?: number; kvType?: 'f16' | 'f32'; contextShift?: boolean }): SmallMindSession;
  /** WASM memory size, bytes allocated in it, sessions and the tokens they cache */
  memoryUsage(): Promise<{ wasmBytes: number; heapUsed: number; sessions: number; cachedTokens: number }>;
  dispose(): Promise<void>;
  readonly disposed: boolean;
}

export declare class SmallMindSession {
  private constructor();
  readonly name: string;
  /** `prompt` is the whole text (or ids) so far */
  generate(prompt: string | ArrayLike<number>, options?: Omit<GenerateOptions, 'contextSize' | 'kvType'>): GenerationStream;
  chat(messages: ChatMessage[], options?: Omit<ChatOptions, 'contextSize' | 'kvType'>): GenerationStream;
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

/** A model file's header (model.inspect()). Arrays show their element type, length and first 16
 * elements; strings over 64 KiB are cut and marked `truncated`. */
export interface ModelInspection {
  /** 'smnd' for SmallMind's own checkpoint format (docs/SMND.md) */
  format: 'gguf' | 'smnd';
  /** the GGUF or SMND version */
  version: number;
  alignment: number;
  dataOffset: number;
  parts: number;
  metadata: { key: string; type: string; value: MetadataValue; truncated?: boolean }[];
  /** shape: innermost dimension first; bytes as stored; offset in the data section */
  tensors: { name: string; type: string; shape: number[]; bytes: number; offset: number }[];
}
export type MetadataValue = string | number | boolean | null | { elementType: string; length: number; head: MetadataValue[] };

export interface ModelCacheApi {
  list(): Promise<{ url: string; size: number; storedAt: number }[]>;
  delete(url: string | URL): Promise<boolean>;
  clear(): Promise<void>;
}

export interface RuntimeEnv {
  runtime: 'node' | 'deno' | 'bun' | 'browser' | 'workerd' | 'unknown';
  nodeApis: boolean;
  browserLike: boolean;
  sharedMemory: boolean;
  wasmThreads: boolean;
  workers: boolean;
  hardwareConcurrency: number;
}

export declare const SmallMind: {
  load(source: ModelSource | ModelSource[], options?: LoadOptions): Promise<SmallMindModel>;
  readonly cache: ModelCacheApi;
  readonly env: Readonly<RuntimeEnv>;
};

export declare class SmallMindError extends Error {
  constructor(message: string, status: number);
  /** the engine's status name, e.g. 'SM_ERR_FORMAT' */
  code: string;
  /** the engine's sm_status number */
  status: number;
}
export declare class AbortError extends SmallMindError {
  constructor(message?: string);
  name: 'AbortError';
}
export declare class TimeoutError extends SmallMindError {
  constructor(message: string);
  name: 'TimeoutError';
}
export type LoadFailure = 'http' | 'network' | 'not-gguf' | 'truncated' | 'too-large' | 'unsupported'
  | 'format' | 'out-of-memory' | 'not-found' | 'bad-source' | 'cache';
export declare class LoadError extends SmallMindError {
  constructor(message: string, reason: LoadFailure, options?: { status?: number; httpStatus?: number; cause?: unknown });
  name: 'LoadError';
  reason: LoadFailure;
  httpStatus?: number;
}
export declare const STATUS_NAMES: Readonly<Record<number, string>>;

/* The synchronous low-level layer (engine.js, tokenizer.js): runs in the calling thread. */
export declare class Engine {
  static create(options?: { variant?: 'simd' | 'mt'; relaxedSimd?: boolean; assetsBase?: string | URL }): Promise<Engine>;
  readonly variant: string;
  /** the relaxed-SIMD build of the variant */
  readonly relaxedSimd: boolean;
  readonly version: string;
  loadModel(bytes: Uint8Array): Model;
  loadTokenizer(bytes: Uint8Array): Tokenizer;
  dispose(): void;
}
export declare class Model {
  readonly info: Record<string, number | string>;
  readonly tokenizer: Tokenizer | null;
  createSession(options?: Record<string, number | boolean | string | undefined>): Session;
  estimateMemory(options?: { nCtx?: number; nBatch?: number; threads?: number }): { weights: number; kv_cache: number; scratch: number; total: number };
  inspect(): ModelInspection;
  free(): void;
}
export declare class Session {
  decode(tokens: ArrayLike<number>): void;
  step(): number | null;
  logits(): Float32Array | null;
  readonly nPast: number;
  rewind(nKeep: number): void;
  free(): void;
}
export declare class Tokenizer {
  readonly info: Record<string, number | string | boolean>;
  tokenize(text: string | Uint8Array, options?: { addSpecial?: boolean; addBos?: boolean; parseSpecial?: boolean }): Int32Array;
  detokenize(ids: ArrayLike<number>, options?: { renderSpecial?: boolean; continuation?: boolean }): string;
  tokenToPiece(id: number, options?: { renderSpecial?: boolean }): Uint8Array;
  createDecoder(options?: { renderSpecial?: boolean; continuation?: boolean }): Decoder;
  free(): void;
}
export declare class Decoder {
  push(id: number): string;
  flush(): string;
  free(): void;
}
