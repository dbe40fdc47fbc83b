/**
 * The order of one rung in multi-objective ASHA (MO-ASHA, Schmucker et al., 2021, "Multi-
 * objective Asynchronous Successive Halving"): a rung keeps the best ⌊n_k / η⌋ of its trials by
 * non-dominated rank instead of by one value, ties within a front going to the larger crowding
 * distance (the NSGA-II selection the paper uses), so the trials a rung sends on spread along
 * the front rather than crowd one end of it.
 */
import type { Direction } from '../../domain.ts';
import { peelFronts } from '../objectives.ts';
import { crowdingDistance } from '../pareto.ts';
import type { ScheduledTrial } from './scheduler.ts';

/**
 * The best `keep` of `reached` (trials that reached rung `rung`), best first: by their
 * constrained Pareto front at the rung (feasible fronts first, then infeasible ones by
 * violation; Deb et al., 2002), within a front by crowding distance, the larger first, then by
 * trial number. A trial without a point at the rung (its metrics were not kept, or lack an
 * objective) ranks after every trial with one, those among themselves by their primary value.
 */
export function bestByFront(reached: readonly ScheduledTrial[], rung: number, keep: number, direction: Direction, directions: readonly Direction[]): ScheduledTrial[] {
  const ranked = reached.filter((t) => t.rungPoints?.has(rung));
  const points = ranked.map((t) => t.rungPoints!.get(rung)!);
  const best: ScheduledTrial[] = [];
  for (const front of peelFronts(points.map((p) => p.values), points.map((p) => p.violation), directions, keep)) {
    const crowding = crowdingDistance(front.map((i) => points[i]!.values));
    const order = front.map((i, k) => ({ trial: ranked[i]!, crowding: crowding[k]! }));
    // Compared, not subtracted: Infinity - Infinity is NaN.
    order.sort((a, b) => (a.crowding === b.crowding ? a.trial.number - b.trial.number : b.crowding > a.crowding ? 1 : -1));
    best.push(...order.map((o) => o.trial));
  }
  if (best.length < keep) {
    const sign = direction === 'maximize' ? -1 : 1;
    const unranked = reached
      .filter((t) => !t.rungPoints?.has(rung))
      .sort((a, b) => sign * ((a.rungValues.get(rung) ?? 0) - (b.rungValues.get(rung) ?? 0)) || a.number - b.number);
    best.push(...unranked);
  }
  return best.slice(0, keep);
}
