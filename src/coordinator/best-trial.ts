/**
 * Which trial a finished study registers: the best by its objective, or, for a study with
 * several objectives or constraints, the best primary objective among the trials that meet
 * every constraint (always a member of the Pareto front).
 */
import type { EpochMetrics } from '../domain.ts';
import { rankByValue } from '../metrics.ts';
import { bestFeasible, objectivesOf, ranksByFront, valuesOf, violationOf, type Constraint } from '../search/index.ts';
import type { Repository, StudyRecord, TrialSummary } from '../storage/index.ts';

export type BestTrial =
  | { kind: 'best'; trial: TrialSummary; /** e.g. "val_accuracy 0.95, param_count 1234" */ describe: string }
  | { kind: 'none' }
  | { kind: 'infeasible'; message: string };

/** The study's best finished trial (completed, or pruned with its best epoch kept). */
export async function bestTrial(repo: Repository, study: StudyRecord, trials: readonly TrialSummary[]): Promise<BestTrial> {
  const finished = trials.filter((t) => t.state === 'completed' || t.state === 'pruned');
  const { metric } = study.config.objective;
  if (!ranksByFront(study.config)) {
    const best = rankByValue(finished, study.config.objective.direction)[0];
    return best ? { kind: 'best', trial: best, describe: `${metric} ${best.value}` } : { kind: 'none' };
  }
  const objectives = objectivesOf(study.config);
  const byId = new Map(finished.map((t) => [t.id, t]));
  const scored = (await repo.trials.outcomes(study.id)).flatMap((o) => {
    const trial = byId.get(o.id);
    const values = valuesOf(o.metrics, objectives);
    return trial && values ? [{ trial, values, metrics: o.metrics as EpochMetrics, violation: violationOf(o.metrics, study.config.constraints) }] : [];
  });
  if (scored.length === 0) return { kind: 'none' };
  const directions = objectives.map((o) => o.direction);
  const i = bestFeasible(scored.map((s) => s.values), scored.map((s) => s.violation), directions, scored.map((s) => s.trial.number));
  if (i === null) {
    const closest = [...scored].sort((a, b) => a.violation - b.violation || a.trial.number - b.trial.number)[0]!;
    const constraints = study.config.constraints ?? [];
    const measured = constraints.map((c) => `${c.metric} ${closest.metrics[c.metric] ?? 'not measured'}`).join(', ');
    return {
      kind: 'infeasible',
      message: `none of the ${scored.length} finished trials met the constraints (${constraints.map(describeConstraint).join(', ')}); the closest, trial #${closest.trial.number}, has ${measured}`,
    };
  }
  const best = scored[i]!;
  return { kind: 'best', trial: best.trial, describe: objectives.map((o, k) => `${o.metric} ${best.values[k]}`).join(', ') };
}

/** "predict_ms_per_row <= 5", "val_accuracy >= 0.9", "0.1 <= x <= 2". */
export function describeConstraint(c: Constraint): string {
  if (c.min !== undefined && c.max !== undefined) return `${c.min} <= ${c.metric} <= ${c.max}`;
  return c.max !== undefined ? `${c.metric} <= ${c.max}` : `${c.metric} >= ${c.min}`;
}
