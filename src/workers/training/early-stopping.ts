import type { Direction } from '../../domain.ts';

/** Options of {@link EarlyStopper}. */
export interface EarlyStopperOptions {
  /**
   * Training stops once this many epochs in a row have not improved (Keras' meaning).
   * `0` and `1` both stop at the first epoch that does not improve. Must be an integer `>= 0`.
   */
  patience: number;
  /**
   * The amount by which a value must beat the best one so far to count as an improvement
   * (strictly: `value < best - minDelta` when minimizing, `value > best + minDelta` when maximizing).
   * Must be finite and `>= 0`.
   */
  minDelta: number;
  /** Whether smaller (`'minimize'`, e.g. `val_loss`) or larger (`'maximize'`, e.g. `val_accuracy`) is better. */
  direction: Direction;
}

/**
 * The in-trial early stopper: feed it the monitored value after each epoch and it says
 * whether to go on. Pure bookkeeping, no tensors; the caller keeps the best weights.
 *
 * Non-finite values (NaN, ±Infinity) never count as improvements.
 */
/** An {@link EarlyStopper}'s progress as plain JSON (`best` is null before any finite value). */
export interface EarlyStopperState {
  best: number | null;
  bestAt: number;
  wait: number;
  lastEpoch: number;
}

export class EarlyStopper {
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly direction: Direction;
  private best = Number.NaN;
  private bestAt = 0;
  private wait = 0;
  private lastEpoch = 0;

  constructor(opts: EarlyStopperOptions) {
    if (!Number.isInteger(opts.patience) || opts.patience < 0) {
      throw new Error(`The value of \`patience\` is ${opts.patience}, but must be an integer >= 0`);
    }
    if (!Number.isFinite(opts.minDelta) || opts.minDelta < 0) {
      throw new Error(`The value of \`minDelta\` is ${opts.minDelta}, but must be a finite number >= 0`);
    }
    if (opts.direction !== 'minimize' && opts.direction !== 'maximize') {
      throw new Error(`The value of \`direction\` is ${String(opts.direction)}, but must be 'minimize' or 'maximize'`);
    }
    this.patience = opts.patience;
    this.minDelta = opts.minDelta;
    this.direction = opts.direction;
  }

  /** The epoch of the best value so far; `0` until a finite value has been seen. */
  get bestEpoch(): number {
    return this.bestAt;
  }

  /** The best value so far; `NaN` until a finite value has been seen. */
  get bestValue(): number {
    return this.best;
  }

  /** What a checkpoint needs to continue this stopper elsewhere; see {@link EarlyStopper.restore}. */
  get state(): EarlyStopperState {
    return { best: Number.isNaN(this.best) ? null : this.best, bestAt: this.bestAt, wait: this.wait, lastEpoch: this.lastEpoch };
  }

  /** A stopper with `opts` that continues from a saved {@link EarlyStopper.state}. */
  static restore(opts: EarlyStopperOptions, state: EarlyStopperState): EarlyStopper {
    const stopper = new EarlyStopper(opts);
    stopper.best = state.best ?? Number.NaN;
    stopper.bestAt = state.bestAt;
    stopper.wait = state.wait;
    stopper.lastEpoch = state.lastEpoch;
    return stopper;
  }

  /** Records `value` for `epoch` (1-based, increasing) and says whether training should go on. */
  update(epoch: number, value: number): 'continue' | 'stop' {
    if (!Number.isInteger(epoch) || epoch <= this.lastEpoch) {
      throw new Error(`The value of \`epoch\` is ${epoch}, but must be an integer > ${this.lastEpoch} (the previous epoch)`);
    }
    this.lastEpoch = epoch;
    if (this.improves(value)) {
      this.best = value;
      this.bestAt = epoch;
      this.wait = 0;
      return 'continue';
    }
    this.wait += 1;
    return this.wait >= this.patience ? 'stop' : 'continue';
  }

  private improves(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    if (this.bestAt === 0) return true;
    return this.direction === 'minimize'
      ? value < this.best - this.minDelta
      : value > this.best + this.minDelta;
  }
}
