/**
 * `maas studies leaderboard` as text: by value for a study with one objective, by Pareto front
 * (each objective a column, feasibility with constraints, and the front's summary) otherwise.
 */
import type { components } from '../client/index.ts';
import { duration, metricValue, number, pairs, table } from './output.ts';

export type Leaderboard = components['schemas']['Leaderboard'];
type Entry = Leaderboard['trials'][number];
type Bound = NonNullable<Leaderboard['constraints']>[number];

/** A constraint as `predict_ms_per_row ≤ 0.05` (both bounds joined by `and`). */
export function boundText(c: Bound): string {
  return [c.min !== undefined ? `${c.metric} ≥ ${metricValue(c.metric, c.min)}` : '', c.max !== undefined ? `${c.metric} ≤ ${metricValue(c.metric, c.max)}` : ''].filter(Boolean).join(' and ');
}

/**
 * A trial's value of objective `i`: the ranked objective vector, else its recorded metric (a
 * trial under way), else, for the primary objective, its value so far.
 */
function objectiveValue(t: Entry, i: number, metric: string): number | null {
  return t.values?.[i] ?? t.metrics?.[metric] ?? (i === 0 ? t.value : null);
}

/** `yes`, `no (violation 0.42)`, `no (not measured)` (an infinite violation arrives as null), or `-` for a trial not ranked. */
function feasibleText(t: Entry): string {
  if (t.feasible === true) return 'yes';
  if (t.feasible !== false) return '-';
  return t.violation === null || t.violation === undefined ? 'no (not measured)' : `no (violation ${Number(t.violation.toPrecision(3))})`;
}

/** The front's summary: `pareto front: 3 trials, hypervolume 258.6 (reference …)`, or why there is none yet. */
export function paretoLine(board: Leaderboard): string {
  const p = board.pareto;
  if (!p) return `pareto front: none yet (${board.constraints?.length ? 'no finished trial meets the constraints' : 'no trial has finished'})`;
  const reference = board.objectives.map((o, i) => `${o.metric} ${metricValue(o.metric, p.reference[i])}`).join(', ');
  return `pareto front: ${p.size} ${p.size === 1 ? 'trial' : 'trials'}, hypervolume ${number(p.hypervolume)} (reference ${reference})`;
}

/** Whether the api ranked this leaderboard by a Pareto front (it then sends `pareto`, null or not). */
export const byFront = (board: Leaderboard): boolean => board.pareto !== undefined;

/** The leaderboard's table, and for a front its summary and constraints below it. */
export function leaderboardText(board: Leaderboard): string {
  if (!byFront(board)) {
    return table(
      ['RANK', 'TRIAL', 'FAMILY', 'STATE', 'VALUE', 'EPOCHS', 'TIME', 'PARAMS'],
      board.trials.map((t) => [t.rank, `#${t.number}`, t.family, t.state, number(t.value), t.epochs, duration(t.durationMs), pairs(t.params)]),
    );
  }
  const constraints = board.constraints ?? [];
  // Metric names as headers, as written: they are the names a study's config and the api use.
  const header = ['RANK', 'TRIAL', 'FAMILY', 'STATE', 'FRONT', ...board.objectives.map((o) => o.metric), ...(constraints.length ? ['FEASIBLE'] : []), 'EPOCHS', 'TIME', 'PARAMS'];
  const rows = board.trials.map((t) => [
    t.rank,
    `#${t.number}`,
    t.family,
    t.state,
    t.front ?? '-',
    ...board.objectives.map((o, i) => metricValue(o.metric, objectiveValue(t, i, o.metric))),
    ...(constraints.length ? [feasibleText(t)] : []),
    t.epochs,
    duration(t.durationMs),
    pairs(t.params),
  ]);
  const lines = [table(header, rows), paretoLine(board)];
  if (constraints.length) lines.push(`constraints: ${constraints.map(boundText).join(', ')}`);
  return lines.join('\n');
}
