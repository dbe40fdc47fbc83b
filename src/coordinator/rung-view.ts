/**
 * A study's trials as its scheduler sees them, built from what storage holds: each trial's value
 * at every rung it reached and, for a study ranked by a Pareto front (several objectives, or
 * constraints), its objective vector and constraint violation there, read from the metrics its
 * rung rows keep, so the scheduler ranks each rung by front (MO-ASHA, Schmucker et al., 2021).
 */
import { objectivesOf, ranksByFront, valuesOf, violationOf, type ObjectiveConfig } from '../search/index.ts';
import type { RungPoint, ScheduledTrial } from '../search/schedulers/index.ts';
import type { RungRecord, TrialSummary } from '../storage/index.ts';

/**
 * The ScheduledTrial of each of `trials`, in their order, from the study's `rungs`. A rung row
 * without metrics (recorded before rows kept them), or whose metrics lack an objective, gives
 * the trial no point at that rung, so MO-ASHA ranks it last there.
 */
export function rungView(trials: readonly Pick<TrialSummary, 'id' | 'number' | 'state' | 'rung'>[], rungs: readonly RungRecord[], config: ObjectiveConfig): ScheduledTrial[] {
  const front = ranksByFront(config);
  const objectives = objectivesOf(config);
  const values = new Map<string, Map<number, number>>();
  const points = new Map<string, Map<number, RungPoint>>();
  for (const r of rungs) {
    const own = values.get(r.trialId) ?? new Map<number, number>();
    own.set(r.rung, r.value);
    values.set(r.trialId, own);
    if (!front) continue;
    const ownPoints = points.get(r.trialId) ?? new Map<number, RungPoint>();
    const vector = valuesOf(r.metrics, objectives);
    if (vector !== null) ownPoints.set(r.rung, { values: vector, violation: violationOf(r.metrics, config.constraints) });
    points.set(r.trialId, ownPoints);
  }
  return trials.map((t) => ({
    number: t.number,
    state: t.state,
    rung: t.rung,
    rungValues: values.get(t.id) ?? new Map<number, number>(),
    ...(front ? { rungPoints: points.get(t.id) ?? new Map<number, RungPoint>() } : {}),
  }));
}
