/**
 * Hypervolume as training goes on, for bench:mo-asha: every epoch that a study trained, in the
 * order it was trained, and after each one the hypervolume of the models trained so far.
 * Pure functions over the epochs and trials the bench reads back.
 */
import type { Direction } from '../src/domain.ts';
import { hypervolume, type Point } from '../src/search/pareto.ts';

/** One trained epoch of one trial. */
export interface TrainedEpoch {
  trial: number;
  /** Validation metrics of this epoch. */
  metrics: Readonly<Record<string, number>>;
}

/** What the curve reads of an objective: its metric and direction. */
export interface CurveObjective {
  metric: string;
  direction: Direction;
}

/**
 * The hypervolume after each epoch of `timeline` (index i: after i + 1 epochs), each trial
 * counted at its best epoch so far by the primary objective (the first), as a study's
 * metrics count it. The other objectives are the trial's costs, read from `costs` (the
 * trial's final metrics): what it costs to run does not change with more training. Cost
 * metrics that do change (train_seconds) are not meant here.
 */
export function hypervolumeCurve(
  timeline: readonly TrainedEpoch[],
  costs: ReadonlyMap<number, Readonly<Record<string, number>>>,
  objectives: readonly CurveObjective[],
  reference: Point,
): number[] {
  const directions = objectives.map((o) => o.direction);
  const [primary, ...others] = objectives;
  if (primary === undefined) throw new RangeError('hypervolumeCurve: no objectives');
  const better = (a: number, b: number) => (primary.direction === 'maximize' ? a > b : a < b);
  const points = new Map<number, number[]>();
  const curve: number[] = [];
  for (const { trial, metrics } of timeline) {
    const value = metrics[primary.metric];
    const cost = others.map((o) => costs.get(trial)?.[o.metric]);
    const known = points.get(trial);
    if (value !== undefined && Number.isFinite(value) && cost.every((c) => c !== undefined) && (known === undefined || better(value, known[0]!))) {
      points.set(trial, [value, ...(cost as number[])]);
    }
    curve.push(hypervolume([...points.values()], reference, directions));
  }
  return curve;
}

/** Epochs trained when `curve` first reached `target` (1-based), or null if it never did. */
export function epochsToReach(curve: readonly number[], target: number): number | null {
  // A relative tolerance: the same front computed twice may differ in the last bits.
  const i = curve.findIndex((v) => v >= target * (1 - 1e-9));
  return i < 0 ? null : i + 1;
}
