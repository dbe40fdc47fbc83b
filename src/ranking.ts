import type { Direction } from './domain.ts';

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

/** The direction that makes sense for a metric when the user gives none. */
export function defaultDirection(metric: string): Direction {
  return metric.includes('accuracy') ? 'maximize' : 'minimize';
}
