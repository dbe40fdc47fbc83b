import type { ModelArtifact } from '../domain.ts';

/**
 * Where served models are built and called: on the api's own thread (InlineRunner) or on worker
 * threads (ThreadedRunner), so that a long model call does not hold the event loop. The Predictor
 * makes every load, model call and release through one.
 *
 * A key names one load of a model; a key is loaded once and never reused after its release.
 */
export interface ModelRunner {
  /** Builds the model from `artifact` under `key`; each instance it takes has the shape `inputShape`. */
  load(key: string, artifact: ModelArtifact, inputShape: number[]): Promise<void>;
  /**
   * Runs `count` rows of row-major `features` through `key`'s model; resolves to `count × outputs`
   * values, row-major. `features` may be moved to another thread: do not read it afterwards.
   * @throws ModelGoneError when `key` is not loaded (released, or lost with its thread): load it again.
   * A fault of the compute backend is thrown as an error that `backendFaultOf` reads, as on the api's thread.
   */
  predict(key: string, features: Float32Array, count: number): Promise<Float32Array>;
  /** Frees `key`'s model; a key not loaded is ignored. */
  release(key: string): Promise<void>;
  /**
   * After a backend fault (see BackendGuard): forgets every model without touching its tensors,
   * and makes the backend usable again. Resolves to the backend's name, for the log.
   */
  reset(): Promise<string>;
  /** Frees every model and ends any threads; calls running are rejected. */
  close(): Promise<void>;
}

/** A model call or release for a key that is not loaded: it was released, or lost with its thread. */
export class ModelGoneError extends Error {
  constructor(readonly key: string) {
    super(`the model ${key} is not loaded (released, or lost with its thread); load it again`);
    this.name = 'ModelGoneError';
  }
}

/**
 * A model thread that stopped (killed, out of memory, crashed) while it ran a call. Its backend is
 * gone with it, as after a wasm trap, so it is one: `backendFaultOf` reads it as a fatal fault and
 * the request is answered as the api's own backend fault is (503, retry).
 */
export class ModelThreadDiedError extends WebAssembly.RuntimeError {
  constructor(message: string, options?: { cause: unknown }) {
    super(message);
    this.name = 'ModelThreadDiedError';
    if (options) this.cause = options.cause;
  }
}
