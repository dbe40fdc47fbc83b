/**
 * A trial that can never succeed with these inputs: invalid params, spec or data, or a
 * diverging loss. The worker fails it once and does not retry it (BullMQ's
 * UnrecoverableError); anything else thrown from training may be transient.
 */
export class TrialFailure extends Error {
  /** Always false: retrying the same trial would fail the same way. */
  readonly retryable = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TrialFailure';
  }
}

/** Training produced a non-finite loss or metric (NaN or ±Infinity). */
export class TrainingDivergedError extends TrialFailure {
  constructor(
    /** The 1-based epoch in which it happened. */
    readonly epoch: number,
    /** The metric that was not finite, e.g. `loss`. */
    readonly metric: string,
    readonly value: number,
  ) {
    super(`Training diverged: ${metric} is ${value} at epoch ${epoch} (the learning rate may be too high, or the data holds NaN)`);
    this.name = 'TrainingDivergedError';
  }
}

/** A trial that needs more memory than it may have: over its limit, or the backend could not allocate. */
export class OutOfMemoryError extends TrialFailure {
  constructor(detail: string, options?: ErrorOptions) {
    super(`out of memory: ${detail}`, options);
    this.name = 'OutOfMemoryError';
  }
}

// What the backends throw when an allocation fails: V8's typed arrays, wasm memory growth, emscripten.
const ALLOCATION_FAILED = /Array buffer allocation failed|Invalid typed array length|Cannot enlarge memory|Maximum memory size exceeded|WebAssembly\.Memory|out of memory/i;

/** The error to fail a trial with when `err` is a failed allocation, or null for anything else. */
export function asOutOfMemory(err: unknown): OutOfMemoryError | null {
  if (err instanceof OutOfMemoryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return ALLOCATION_FAILED.test(message) ? new OutOfMemoryError(`the backend could not allocate (${message.slice(0, 200)}); a smaller model or batch size may fit`, { cause: err }) : null;
}
