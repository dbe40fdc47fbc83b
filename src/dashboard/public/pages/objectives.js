// A study's objectives and constraints as the pages show them: which studies rank by a Pareto
// front, how each metric's values read, and a trial's feasibility. Plain data in, text out (no DOM).

/** Metrics the worker measures when a trial ends, all minimized; the others are validation metrics. */
export const COST_METRICS = ['param_count', 'predict_ms_per_row', 'train_seconds'];

/** Every objective of a stored study config, the primary one first. */
export function objectivesOf(config) {
  return config.objectives?.length ? config.objectives : [config.objective];
}

/** Whether a study ranks its trials by a Pareto front (several objectives, or constraints), as its leaderboard then does. */
export function ranksByFront(config) {
  return objectivesOf(config).length > 1 || (config.constraints?.length ?? 0) > 0;
}

/** `n` with at most `digits` significant digits, e.g. 0.0123456 → "0.0123". */
function significant(n, digits) {
  return Number(n.toPrecision(digits)).toString();
}

/**
 * A metric's value as text: a count as an integer with thousands separators ("53,683"), times
 * with 3 significant digits, validation metrics with 4; an en dash for none.
 */
export function metricText(metric, value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return String(value);
  // Grouped by hand: toLocaleString would follow the browser's locale, and a test could not know the separator.
  if (metric === 'param_count') return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (metric === 'predict_ms_per_row' || metric === 'train_seconds') return significant(value, 3);
  return Number.isInteger(value) ? String(value) : significant(value, 4);
}

/** An objective as an axis or column title: "param_count (lower is better)". */
export function objectiveTitle({ metric, direction }) {
  return `${metric} (${direction === 'maximize' ? 'higher' : 'lower'} is better)`;
}

/** An objective as a phrase: "maximize val_accuracy". */
export const objectiveText = ({ metric, direction }) => `${direction} ${metric}`;

/** A constraint as a bound: "predict_ms_per_row ≤ 0.05", or both bounds joined by "and". */
export function constraintText({ metric, max, min }) {
  const parts = [];
  if (min !== undefined) parts.push(`${metric} ≥ ${metricText(metric, min)}`);
  if (max !== undefined) parts.push(`${metric} ≤ ${metricText(metric, max)}`);
  return parts.join(' and ');
}

/**
 * A trial's value of objective `i`: the leaderboard's objective vector when the trial is
 * ranked, else its recorded metrics (a trial under way or missing another metric), else, for
 * the primary objective, its value so far.
 */
export function objectiveValue(trial, i, objective) {
  const ranked = trial.values?.[i];
  if (ranked !== undefined && ranked !== null) return ranked;
  const measured = trial.metrics?.[objective.metric];
  if (measured !== undefined && measured !== null) return measured;
  return i === 0 ? (trial.value ?? null) : null;
}

/**
 * A ranked trial's feasibility: `feasible` true, false or null (not ranked: under way or
 * missing a metric), and its text. The api sends an unmeasured constrained metric's infinite
 * violation as null.
 */
export function feasibility(trial) {
  if (trial.feasible === true) return { feasible: true, text: 'yes' };
  if (trial.feasible !== false) return { feasible: null, text: '–' };
  if (trial.violation === null || trial.violation === undefined || !Number.isFinite(trial.violation)) return { feasible: false, text: 'no (not measured)' };
  return { feasible: false, text: `no (violation ${significant(trial.violation, 3)})` };
}

/** The front's summary line: "Pareto front: 3 trials, hypervolume 258.6", or why there is none. */
export function paretoText(pareto, constraints) {
  if (!pareto) return `No Pareto front yet: ${constraints?.length ? 'no finished trial meets the constraints' : 'no trial has finished'}.`;
  return `Pareto front: ${pareto.size} ${pareto.size === 1 ? 'trial' : 'trials'}, hypervolume ${significant(pareto.hypervolume, 4)}`;
}
