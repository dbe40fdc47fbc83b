/**
 * A new study's objectives and constraints, checked against its task and its search: what
 * `objective`, `objectives` and `constraints` of a create request become in the stored config.
 */
import type { Direction, TaskSpec } from '../../domain.ts';
import { ValidationError } from '../../errors.ts';
import { COST_METRICS, directionOf, METRICS_FOR } from '../../metrics.ts';
import type { StudyConfig } from '../../schemas.ts';
import type { Constraint, Objective } from '../../search/objectives.ts';

/** Samplers that read several objectives (or none: random and grid never read values). */
export const MULTI_OBJECTIVE_SAMPLERS = ['nsga2', 'motpe', 'random', 'grid'];

interface ObjectivesInput {
  objective?: { metric: string; direction?: Direction | undefined } | undefined;
  objectives?: { metric: string; direction?: Direction | undefined }[] | undefined;
  constraints?: Constraint[] | undefined;
  search: { algorithm: string; pruner?: unknown };
}

/** What the stored config holds: `objectives` only when there are two or more. */
export type ResolvedObjectives = Pick<StudyConfig, 'objective' | 'objectives' | 'constraints'>;

/**
 * Reads a create request's objectives.
 * @throws ValidationError naming the field, e.g. "objectives[1].metric: val_mae is not available for classification; …".
 */
export function resolveObjectives(body: ObjectivesInput, task: TaskSpec['task']): ResolvedObjectives {
  const allowed: readonly string[] = METRICS_FOR[task];
  const available = [...allowed, ...COST_METRICS];
  const check = (field: string, given: { metric: string; direction?: Direction | undefined }, primary: boolean): Objective => {
    const choices = primary ? allowed : available;
    if (!choices.includes(given.metric)) {
      const why = primary && (COST_METRICS as readonly string[]).includes(given.metric) ? 'is a cost, measured once a trial ends; the primary objective must be a validation metric' : `is not available for ${task}`;
      throw new ValidationError(`${field}.metric`, given.metric, `${why}; use one of ${choices.join(', ')}`);
    }
    const direction = given.direction ?? directionOf(given.metric);
    if (direction !== directionOf(given.metric)) {
      throw new ValidationError(`${field}.direction`, direction, `does not fit ${given.metric}; use ${directionOf(given.metric)} (or leave it out)`);
    }
    return { metric: given.metric, direction };
  };

  let objectives: Objective[];
  if (body.objectives !== undefined) {
    objectives = body.objectives.map((o, i) => check(`objectives[${i}]`, o, i === 0));
    for (const [i, o] of objectives.entries()) {
      if (objectives.findIndex((p) => p.metric === o.metric) !== i) throw new ValidationError(`objectives[${i}].metric`, o.metric, 'appears twice; each objective is a different metric');
    }
    if (body.objective !== undefined) {
      const single = check('objective', body.objective, true);
      if (single.metric !== objectives[0]!.metric || single.direction !== objectives[0]!.direction) {
        throw new ValidationError('objective', body.objective, `must be objectives[0] (${objectives[0]!.metric}) when both are given; leave it out`);
      }
    }
  } else if (body.objective !== undefined) {
    objectives = [check('objective', body.objective, true)];
  } else {
    throw new ValidationError('objective', undefined, 'is required: { metric, direction? } (or objectives: a list whose first entry is the primary objective)');
  }

  const constraints = (body.constraints ?? []).map((c, i) => {
    const field = `constraints[${i}]`;
    if (!available.includes(c.metric)) throw new ValidationError(`${field}.metric`, c.metric, `is not available for ${task}; use one of ${available.join(', ')}`);
    if (c.max === undefined && c.min === undefined) throw new ValidationError(field, c, 'needs max, min or both');
    if (c.max !== undefined && c.min !== undefined && c.min > c.max) throw new ValidationError(`${field}.min`, c.min, `must be at most max (${c.max})`);
    if ((body.constraints ?? []).findIndex((d) => d.metric === c.metric) !== i) throw new ValidationError(`${field}.metric`, c.metric, 'appears twice; give max and min in one constraint');
    return { metric: c.metric, ...(c.max !== undefined ? { max: c.max } : {}), ...(c.min !== undefined ? { min: c.min } : {}) };
  });

  if (objectives.length > 1) {
    if (!MULTI_OBJECTIVE_SAMPLERS.includes(body.search.algorithm)) {
      throw new ValidationError('search.algorithm', body.search.algorithm, `optimizes one objective; with ${objectives.length} objectives use one of ${MULTI_OBJECTIVE_SAMPLERS.join(', ')}`);
    }
    if (body.search.pruner !== undefined && body.search.pruner !== 'none') {
      throw new ValidationError('search.pruner', body.search.pruner, `judges one objective; with ${objectives.length} use search.scheduler 'asha' (MO-ASHA: promotion by Pareto rank at each rung) or no pruner`);
    }
  }
  // The schema has already held every metric to objectiveMetricSchema, and check() the primary one to a validation metric.
  const stored = objectives as NonNullable<StudyConfig['objectives']>;
  return {
    objective: stored[0] as StudyConfig['objective'],
    ...(stored.length > 1 ? { objectives: stored } : {}),
    ...(constraints.length > 0 ? { constraints: constraints as NonNullable<StudyConfig['constraints']> } : {}),
  };
}

