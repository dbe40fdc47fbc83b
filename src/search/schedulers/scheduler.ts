/**
 * The scheduler contract (Ray Tune's TrialScheduler, kept stateless as Optuna's pruners are):
 * a scheduler says at which epochs a trial pauses for a decision (its rungs), and which paused
 * trials go on. It keeps nothing between calls: every rung result lives in the database, so
 * any coordinator with any number of workers takes the same decisions. Any sampler works
 * with any scheduler: the sampler picks parameters, the scheduler spends epochs.
 */
import type { Direction, TrialState } from '../../domain.ts';
import { bestByFront } from './mo-rung.ts';

/** A trial's objective vector at one rung, and how far it broke the study's constraints there. */
export interface RungPoint {
  /** One value per objective, in the study's order (the primary first). */
  values: number[];
  /** Summed constraint violation; 0 is feasible (see violationOf). */
  violation: number;
}

/** A trial as a scheduler sees it, read from storage. */
export interface ScheduledTrial {
  /** Position in the study, from 0. */
  number: number;
  state: TrialState;
  /** The rung the trial trains toward, or is paused at (0 = first). */
  rung: number;
  /** The objective when the trial reached each rung (index = rung); missing rungs were not reached. */
  rungValues: ReadonlyMap<number, number>;
  /**
   * Studies ranked by a Pareto front (several objectives, or constraints): the trial's point at
   * each rung it reached. When trials carry it, a rung is ranked by front (MO-ASHA) instead of
   * by `rungValues`; a reached rung without a point ranks last. @defaultValue undefined: rank by value
   */
  rungPoints?: ReadonlyMap<number, RungPoint>;
}

/** Decides where trials pause and which paused ones continue. Implementations are pure. */
export interface Scheduler {
  readonly name: string;
  /**
   * The epochs at which trial `number` reaches each rung, increasing; the last is the
   * study's `maxResource`, where the trial completes instead of pausing.
   */
  milestones(number: number): number[];
  /**
   * The paused trials to resume now, toward their next rung, in the order to resume them:
   * the most trained first (the highest rung), and among those of one rung the best value
   * first (ties toward the lower trial number). `trials` is the whole study, in any state.
   * When they carry `rungPoints`, a rung's best are those of its best fronts (see promotable).
   * @param directions - one per objective, for `rungPoints`. @defaultValue `[direction]`
   */
  promotions(trials: readonly ScheduledTrial[], direction: Direction, directions?: readonly Direction[]): number[];
}

/** Options every scheduler takes (the names of Li et al., 2020). */
export interface ResourceOptions {
  /** Epochs of the first rung. @defaultValue 1 */
  minResource: number;
  /** Epochs of a trial that is never stopped: the last rung. @defaultValue the study's `budget.maxEpochs` */
  maxResource: number;
  /** η: a rung keeps the best 1/η of the trials that reached it. @defaultValue 3 */
  reductionFactor: number;
}

/** `minResource · η^k` for every k below `maxResource`, then `maxResource`. */
export function rungEpochs(minResource: number, maxResource: number, reductionFactor: number): number[] {
  const epochs: number[] = [];
  for (let r = minResource; r < maxResource; r *= reductionFactor) epochs.push(Math.round(r));
  epochs.push(maxResource);
  return epochs;
}

/**
 * Asynchronous successive halving over one group of trials (a whole ASHA study, or one
 * Hyperband bracket): a trial paused at rung k goes on when its value there is among the
 * best ⌊n_k / η⌋ of the n_k trials that have reached rung k so far. The highest rung goes
 * first, as in ASHA's get_job (Li et al., 2020, Algorithm 2): with few free workers, the most
 * proven trials reach full training soonest. When the trials carry `rungPoints`, the best of
 * a rung are those of its best constrained Pareto fronts, ties by crowding distance
 * (MO-ASHA, Schmucker et al., 2021; see bestByFront).
 * @param directions - one per objective, for `rungPoints`. @defaultValue `[direction]`
 */
export function promotable(trials: readonly ScheduledTrial[], lastRung: number, reductionFactor: number, direction: Direction, directions: readonly Direction[] = [direction]): number[] {
  const byFront = trials.some((t) => t.rungPoints !== undefined);
  const promoted: number[] = [];
  for (let k = lastRung - 1; k >= 0; k--) {
    const reached = trials.filter((t) => t.rungValues.has(k));
    const keep = Math.floor(reached.length / reductionFactor);
    if (keep === 0) continue;
    const sign = direction === 'maximize' ? -1 : 1;
    const best = byFront
      ? bestByFront(reached, k, keep, direction, directions)
      : [...reached].sort((a, b) => sign * ((a.rungValues.get(k) as number) - (b.rungValues.get(k) as number)) || a.number - b.number).slice(0, keep);
    for (const t of best) if (t.state === 'paused' && t.rung === k) promoted.push(t.number);
  }
  return promoted;
}
