import type { BatchRun } from './batcher.ts';

export interface MergedCallsOptions {
  /** Most rows in one merged call; a call of more runs alone. */
  maxRows: number;
  /**
   * Whether, when a merged call fails, its calls run again one at a time, so that one bad call
   * cannot fail the others (see BatcherOptions.retryAlone). @defaultValue always
   */
  retryAlone?: (err: unknown) => boolean;
}

interface Waiting {
  features: Float32Array;
  count: number;
  resolve: (outputs: Float32Array) => void;
  reject: (err: unknown) => void;
}

/**
 * One model call at a time for one model version: calls made while one runs wait, and then run as
 * one call (their rows concatenated, up to maxRows), each getting its own rows' outputs.
 *
 * The Batcher runs a batch as soon as no further request is on its way, which coalesces well while
 * a model call holds the event loop: the requests that arrive during it are all queued when it
 * ends. When the call runs on another thread the event loop stays free, each request arriving
 * alone would become a call of its own, and those calls would queue up behind the running one
 * (a GRU's call costs about the same for 1 row as for 32). Merging what waits gives back one call
 * per turn, as on the api's thread.
 */
export class MergedCalls {
  private waiting: Waiting[] = [];
  private busy = false;

  constructor(private readonly run: BatchRun, private readonly options: MergedCallsOptions) {}

  /** Runs `count` rows of `features` (row-major) in the next turn; resolves to their outputs only. */
  call(features: Float32Array, count: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ features, count, resolve, reject });
      if (!this.busy) void this.turns();
    });
  }

  private async turns(): Promise<void> {
    this.busy = true;
    try {
      while (this.waiting.length > 0) {
        let rows = 0;
        let take = 0;
        for (const w of this.waiting) {
          if (take > 0 && rows + w.count > this.options.maxRows) break;
          rows += w.count;
          take++;
        }
        await this.runMerged(this.waiting.splice(0, take), rows);
      }
    } finally {
      this.busy = false;
    }
  }

  /** The model call, with a synchronous throw turned into a rejection. */
  private async runOne(features: Float32Array, count: number): Promise<Float32Array> {
    return this.run(features, count);
  }

  private async runMerged(group: Waiting[], rows: number): Promise<void> {
    const [only] = group;
    if (group.length === 1 && only) return this.runOne(only.features, only.count).then(only.resolve, only.reject);
    const features = new Float32Array(group.reduce((n, w) => n + w.features.length, 0));
    let at = 0;
    for (const w of group) {
      features.set(w.features, at);
      at += w.features.length;
    }
    let outputs: Float32Array;
    try {
      outputs = await this.runOne(features, rows);
    } catch (err) {
      if (this.options.retryAlone && !this.options.retryAlone(err)) {
        for (const w of group) w.reject(err);
        return;
      }
      // Which call broke it is unknown: each runs alone and gets its own answer.
      for (const w of group) await this.runOne(w.features, w.count).then(w.resolve, w.reject);
      return;
    }
    if (outputs.length % rows !== 0) {
      const err = new Error(`the model gave ${outputs.length} outputs for ${rows} merged instances, not a whole number per instance`);
      for (const w of group) w.reject(err);
      return;
    }
    const width = outputs.length / rows;
    let row = 0;
    for (const w of group) {
      w.resolve(outputs.slice(row * width, (row + w.count) * width));
      row += w.count;
    }
  }
}
