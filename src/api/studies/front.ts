/**
 * The leaderboard of a study ranked by its Pareto front (several objectives, or constraints):
 * finished trials by front and, within one, by the primary objective; the front's hypervolume.
 */
import type { EpochMetrics, TrialState } from '../../domain.ts';
import { frontRanking, hypervolume, objectivesOf, referencePoint, valuesOf, violationOf, type ObjectiveConfig } from '../../search/index.ts';

/** Where a finished trial stands; absent (null) for trials still under way or missing a metric. */
export interface FrontEntry {
  id: string;
  /** 0 is the Pareto front; feasible trials rank ahead of infeasible ones. */
  front: number;
  /** Crowding distance within its front; null at an objective's extreme (infinite). */
  crowding: number | null;
  /** One value per objective, in the study's order. */
  values: number[];
  /** Summed relative excess over the constraints; 0 is feasible. */
  violation: number;
}

export interface ParetoSummary {
  /** Hypervolume of the feasible Pareto front, against `reference`. */
  hypervolume: number;
  /** Per objective, the worst feasible value seen moved a tenth of the range further. */
  reference: number[];
  /** Trials on the feasible Pareto front. */
  size: number;
}

type Outcome = { id: string; number: number; state: TrialState; metrics: EpochMetrics | null };

/**
 * The best `limit` finished trials, ranked, and the front's summary (null while no trial is
 * feasible). Trials without every objective measured are not ranked here.
 */
export function rankByFront(outcomes: readonly Outcome[], config: ObjectiveConfig, limit: number): { entries: FrontEntry[]; pareto: ParetoSummary | null } {
  const objectives = objectivesOf(config);
  const directions = objectives.map((o) => o.direction);
  const scored = outcomes.flatMap((t) => {
    const values = valuesOf(t.metrics, objectives);
    return values ? [{ t, values, violation: violationOf(t.metrics, config.constraints) }] : [];
  });
  const points = scored.map((s) => s.values);
  const violations = scored.map((s) => s.violation);
  const { order: ranking, first } = frontRanking(points, violations, directions, scored.map((s) => s.t.number), limit);
  const entries = ranking.map(([i, place]) => ({
    id: scored[i]!.t.id,
    front: place.front,
    crowding: Number.isFinite(place.crowding) ? place.crowding : null,
    values: points[i]!,
    violation: violations[i]!,
  }));
  const feasibleFront = first.filter((i) => violations[i]! <= 0).map((i) => points[i]!);
  if (feasibleFront.length === 0) return { entries, pareto: null };
  const feasible = points.filter((_, i) => violations[i]! <= 0);
  const reference = referencePoint(feasible, directions);
  return { entries, pareto: { hypervolume: hypervolume(feasibleFront, reference, directions), reference, size: feasibleFront.length } };
}
