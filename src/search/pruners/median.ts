/**
 * The median stopping rule (Golovin et al., 2017; Optuna's MedianPruner): after each epoch, a
 * running trial stops when its best value so far is worse than the median of the values the
 * completed trials had at the same epoch. Decided by the worker at each epoch report.
 */
import type { Direction } from '../../domain.ts';

export interface MedianPrunerOptions {
  /** No trial is pruned until this many trials have completed. @defaultValue 5 */
  nStartupTrials: number;
  /** Epochs before which a trial is never pruned. @defaultValue 0 */
  nWarmupSteps: number;
  /** Only every `intervalSteps`-th epoch after the warm-up is judged. @defaultValue 1 */
  intervalSteps: number;
}

export const DEFAULT_MEDIAN_PRUNER: MedianPrunerOptions = { nStartupTrials: 5, nWarmupSteps: 0, intervalSteps: 1 };

/**
 * Whether to stop a trial at `epoch` whose best value so far is `best`, given the values that
 * completed trials had at that same epoch (`others`, one per trial that ran that far) and how
 * many trials have completed in all.
 */
export function medianPrunes(epoch: number, best: number, others: readonly number[], completed: number, direction: Direction, options: MedianPrunerOptions = DEFAULT_MEDIAN_PRUNER): boolean {
  if (completed < options.nStartupTrials || epoch <= options.nWarmupSteps) return false;
  if ((epoch - options.nWarmupSteps - 1) % options.intervalSteps !== 0) return false;
  const values = others.filter(Number.isFinite);
  if (values.length === 0) return false;
  const median = medianOf(values);
  return direction === 'maximize' ? best < median : best > median;
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
