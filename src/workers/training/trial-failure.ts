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
