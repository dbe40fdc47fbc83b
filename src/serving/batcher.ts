/** Runs a model on `count` rows of row-major features; resolves to `count × outputs` values, row-major. */
export type BatchRun = (features: Float32Array, count: number) => Promise<Float32Array>;

/** How a {@link Batcher} coalesces requests. */
export interface BatcherOptions {
  /** Most instances in one model call; a request of this many or more runs alone. @defaultValue 64 */
  maxBatchSize?: number;
  /**
   * Longest a request waits for others to join its batch, in ms. 0 sets no timer: a batch holds
   * what is queued when the current turn of the event loop ends. @defaultValue 2
   */
  maxWaitMs?: number;
  /**
   * Requests known to be on their way to this batcher but not yet submitted. While there are
   * none, a batch runs at once instead of waiting for requests that may never come, so a lone
   * client pays no wait. @defaultValue none known: a batch always waits up to maxWaitMs
   */
  pending?: () => number;
  /**
   * Whether a batch of several requests that failed is run again one request at a time, so that
   * one bad request cannot fail the others (false, e.g., for a fault of the compute backend,
   * where running more work would not help). @defaultValue always
   */
  retryAlone?: (err: unknown) => boolean;
}

export const DEFAULT_MAX_BATCH_SIZE = 64;
export const DEFAULT_MAX_WAIT_MS = 2;

interface Waiting {
  features: Float32Array;
  count: number;
  resolve: (outputs: Float32Array) => void;
  reject: (err: unknown) => void;
}

/**
 * Dynamic batching for one model version: requests submitted close together are run as one
 * model call of up to maxBatchSize instances, and each gets exactly its own rows' outputs, in
 * its own order. A batch runs when it is full, when maxWaitMs has passed since its first request,
 * or as soon as no further request is on its way (see {@link BatcherOptions.pending}).
 */
export class Batcher {
  private readonly maxBatchSize: number;
  private readonly maxWaitMs: number;
  private queue: Waiting[] = [];
  private queuedRows = 0;
  private timer: { kind: 'timeout'; handle: NodeJS.Timeout } | { kind: 'immediate'; handle: NodeJS.Immediate } | null = null;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly run: BatchRun, private readonly options: BatcherOptions = {}) {
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1) throw new RangeError(`maxBatchSize is ${this.maxBatchSize}, but must be an integer >= 1`);
    if (!Number.isFinite(this.maxWaitMs) || this.maxWaitMs < 0) throw new RangeError(`maxWaitMs is ${this.maxWaitMs}, but must be a number >= 0`);
  }

  /** Runs `count` rows (`features`, row-major) as part of a batch; resolves to their outputs only. */
  submit(features: Float32Array, count: number): Promise<Float32Array> {
    if (count >= this.maxBatchSize || count < 1) return this.call(features, count);
    return new Promise((resolve, reject) => {
      this.queue.push({ features, count, resolve, reject });
      this.queuedRows += count;
      if (this.queuedRows >= this.maxBatchSize) this.flush(false);
      this.poke();
    });
  }

  /** Runs the queued requests now if no request is known to be on its way; otherwise makes sure they wait no longer than maxWaitMs. */
  poke(): void {
    if (this.queue.length === 0) return;
    if (this.options.pending && this.options.pending() <= 0) this.flush(true);
    else this.schedule();
  }

  /** Runs everything queued now and resolves once every batch begun has ended (before the model is disposed). */
  async drain(): Promise<void> {
    this.flush(true);
    await Promise.all(this.running);
  }

  /** Requests waiting to join a batch. */
  get queued(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.timer) return;
    const fire = () => {
      this.timer = null;
      this.flush(true);
    };
    this.timer = this.maxWaitMs > 0 ? { kind: 'timeout', handle: setTimeout(fire, this.maxWaitMs) } : { kind: 'immediate', handle: setImmediate(fire) };
  }

  /** Runs the queue's full batches, and with `all` the rest too. */
  private flush(all: boolean): void {
    while (this.queue.length > 0 && (all || this.queuedRows >= this.maxBatchSize)) {
      let rows = 0;
      let take = 0;
      for (const w of this.queue) {
        if (rows + w.count > this.maxBatchSize) break;
        rows += w.count;
        take++;
      }
      const batch = this.queue.splice(0, take);
      this.queuedRows -= rows;
      const done = this.runBatch(batch, rows).finally(() => this.running.delete(done));
      this.running.add(done);
    }
    if (this.queue.length === 0 && this.timer) {
      if (this.timer.kind === 'timeout') clearTimeout(this.timer.handle);
      else clearImmediate(this.timer.handle);
      this.timer = null;
    }
  }

  /** The model call, with a synchronous throw turned into a rejection. */
  private async call(features: Float32Array, count: number): Promise<Float32Array> {
    return this.run(features, count);
  }

  private async runBatch(batch: Waiting[], rows: number): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only) return this.call(only.features, only.count).then(only.resolve, only.reject);
    const features = new Float32Array(batch.reduce((n, w) => n + w.features.length, 0));
    let at = 0;
    for (const w of batch) {
      features.set(w.features, at);
      at += w.features.length;
    }
    let outputs: Float32Array;
    try {
      outputs = await this.call(features, rows);
    } catch (err) {
      if (this.options.retryAlone && !this.options.retryAlone(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      // Which request broke the batch is unknown: each runs alone and gets its own answer.
      await Promise.all(batch.map((w) => this.call(w.features, w.count).then(w.resolve, w.reject)));
      return;
    }
    if (outputs.length % rows !== 0) {
      const err = new Error(`the model gave ${outputs.length} outputs for a batch of ${rows} instances, not a whole number per instance`);
      for (const w of batch) w.reject(err);
      return;
    }
    const width = outputs.length / rows;
    let row = 0;
    for (const w of batch) {
      // A copy: no request holds a view of another's rows.
      w.resolve(outputs.slice(row * width, (row + w.count) * width));
      row += w.count;
    }
  }
}
