// Type declarations for `smallmind/edge`: the same API, engine in the calling thread, single-thread build.
export { SmallMindModel, SmallMindError, AbortError, TimeoutError, LoadError } from './index.js';
import type { LoadOptions, ModelSource, SmallMindModel, ModelCacheApi, RuntimeEnv } from './index.js';
export type { LoadOptions, GenerateOptions, GenerationMetrics, ModelInfo, ModelSource } from './index.js';

export declare const SmallMind: {
  /** `wasmModule` (a compiled smallmind-simd.wasm) is required where WASM cannot be compiled at run time */
  load(source: ModelSource | ModelSource[], options?: Omit<LoadOptions, 'worker' | 'threads'>): Promise<SmallMindModel>;
  readonly cache: ModelCacheApi;
  readonly env: Readonly<RuntimeEnv>;
};
