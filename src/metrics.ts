/**
 * The rules for metrics, in one place: which metrics exist, which task reports each, which
 * direction is better, and how values are compared and ranked. The api checks requests, the
 * worker checks its input, and the coordinator ranks and promotes, all by these.
 */
import type { Direction, Metric, Task } from './domain.ts';

/** Metrics measured on the validation rows at the trial's best epoch. */
export const VALIDATION_METRICS = ['val_accuracy', 'val_loss', 'val_mae'] as const satisfies readonly Metric[];
/**
 * What a trained model costs, measured by the worker when the trial ends (or pauses at a rung):
 * weights, milliseconds per row of a 64-row prediction, and seconds of training so far.
 */
export const COST_METRICS = ['param_count', 'predict_ms_per_row', 'train_seconds'] as const;
export const OBJECTIVE_METRICS = [...VALIDATION_METRICS, ...COST_METRICS] as const;
export type ObjectiveMetric = (typeof OBJECTIVE_METRICS)[number];

/** The validation metrics each task reports, its default objective first. */
export const METRICS_FOR: Readonly<Record<Task, readonly Metric[]>> = {
  classification: ['val_accuracy', 'val_loss'],
  regression: ['val_loss', 'val_mae'],
  forecasting: ['val_mae', 'val_loss'],
};

/** The only direction that makes sense for a metric: accuracy is maximized, losses, errors and costs minimized. */
export function directionOf(metric: string): Direction {
  return metric.includes('accuracy') ? 'maximize' : 'minimize';
}

/**
 * Orders trials by objective value, best first; trials without a value are
 * left out. Ties go to the earlier trial, so the order is stable.
 */
export function rankByValue<T extends { value: number | null; number: number }>(trials: readonly T[], direction: Direction): T[] {
  const sign = direction === 'maximize' ? -1 : 1;
  return trials
    .filter((t): t is T & { value: number } => t.value !== null && Number.isFinite(t.value))
    .sort((a, b) => sign * (a.value - b.value) || a.number - b.number);
}

/** Whether `candidate` beats `incumbent` by more than `minDelta` in the given direction. */
export function improves(candidate: number, incumbent: number | null, direction: Direction, minDelta = 0): boolean {
  if (!Number.isFinite(candidate)) return false;
  if (incumbent === null) return true;
  return direction === 'maximize' ? candidate > incumbent + minDelta : candidate < incumbent - minDelta;
}
