/**
 * What the multi-objective samplers learn from: completed trials with every objective
 * measured. Shared by nsga2.ts and motpe.ts.
 */
import type { Direction, Family, Params } from '../../domain.ts';
import type { FrozenTrial, SampleContext } from '../sampler.ts';
import type { SearchSpace } from '../space.ts';

/** A completed trial with one finite value per objective. */
export interface ScoredTrial {
  number: number;
  params: Params;
  /** One value per direction, as measured (not negated). */
  values: number[];
  /** Summed constraint violation; 0 is feasible. */
  violation: number;
}

/** The study's directions: `ctx.directions`, or the one `ctx.direction` for a single objective. */
export function directionsOf(ctx: SampleContext): Direction[] {
  return ctx.directions !== undefined && ctx.directions.length > 0 ? ctx.directions : [ctx.direction];
}

/**
 * Completed trials of a family the space still has, with all objectives finite, by number.
 * A single-objective trial without `values` counts with `[value]`. Pruned, failed and
 * in-flight trials are left out, as Optuna's multi-objective samplers leave them out.
 */
export function scoredTrials(history: readonly FrozenTrial[], space: SearchSpace, directions: readonly Direction[]): ScoredTrial[] {
  const out: ScoredTrial[] = [];
  for (const t of history) {
    if (t.state !== 'completed' || !space.families.includes(t.params.family as Family)) continue;
    const values = t.values ?? (t.value === null ? [] : [t.value]);
    if (values.length !== directions.length || !values.every(Number.isFinite)) continue;
    // A NaN violation is unknown, so it is read as the worst.
    const violation = t.violation === undefined ? 0 : Number.isNaN(t.violation) ? Infinity : Math.max(0, t.violation);
    out.push({ number: t.number, params: t.params, values, violation });
  }
  return out.sort((a, b) => a.number - b.number);
}
