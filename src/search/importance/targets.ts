/**
 * What an importance analysis measures in a maas search space, and where each value falls on
 * the grid its density is estimated over.
 *
 * A maas space is conditional: the family is itself a choice, and each family has parameters
 * of its own. Optuna measures only the parameters every trial has, unless told which ones to
 * measure; then it counts only the trials that have them. Both rules are kept here:
 * - `family` is a categorical over the space's families (when there are two or more);
 * - a parameter that every family has with the same distribution (the training parameters
 *   `learningRate`, `batchSize`, `optimizer` of a default space) is measured under its own
 *   name over every trial;
 * - any other parameter is measured per family, as `<family>.<name>` (`mlp.units`), over that
 *   family's trials only: `dropout` in [0, 0.5] for an mlp and in [0, 0.3] for an rnn are
 *   two parameters, and so are `layers` of an mlp and of an rnn.
 * Constants are not searched, so they are not measured.
 */
import type { Family, Params } from '../../domain.ts';
import { contains, isConstant, type CategoricalDistribution, type Constant, type Distribution, type ParamSpec } from '../distribution.ts';
import type { SearchSpace } from '../space.ts';

/** One parameter to measure. */
export interface Target {
  /** The name it is reported by: `family`, a shared parameter's own name, or `<family>.<name>`. */
  name: string;
  /** The key of its value in a trial's params. */
  key: string;
  dist: Distribution;
  /** The families whose trials have it: every family of the space for `family` and shared parameters. */
  families: readonly Family[];
}

/** The parameters of `space` worth measuring, in a fixed order (the space's, family first). */
export function targetsOf(space: SearchSpace): Target[] {
  const targets: Target[] = [];
  if (space.families.length > 1) {
    targets.push({ name: 'family', key: 'family', dist: { type: 'categorical', choices: [...space.families] }, families: space.families });
  }
  const names: string[] = [];
  for (const family of space.families) {
    for (const name of Object.keys(space.params[family] ?? {})) if (!names.includes(name)) names.push(name);
  }
  for (const name of names) {
    const specs = space.families.map((family) => {
      const params = space.params[family] ?? {};
      return Object.hasOwn(params, name) ? params[name] : undefined;
    });
    const first = specs[0];
    const shared = first !== undefined && !isConstant(first) && specs.every((s) => s !== undefined && sameSpec(s, first));
    if (shared) {
      targets.push({ name, key: name, dist: first, families: space.families });
      continue;
    }
    space.families.forEach((family, i) => {
      const spec = specs[i];
      if (spec === undefined || isConstant(spec)) return;
      targets.push({ name: space.families.length > 1 ? `${family}.${name}` : name, key: name, dist: spec, families: [family] });
    });
  }
  return targets;
}

/** The target's value in a trial, or undefined when the trial does not have it (another family, or a value the distribution cannot produce). */
export function valueOf(target: Target, params: Params): Constant | undefined {
  if (!target.families.includes(params.family as Family)) return undefined;
  const value = Object.hasOwn(params, target.key) ? params[target.key] : undefined;
  return value !== undefined && contains(target.dist, value) ? value : undefined;
}

/**
 * The grid a target's density is estimated over: one cell per choice of a categorical;
 * for numbers, up to `nSteps` evenly spaced points over the (log-)scaled range, fewer where
 * the parameter has fewer values (an int of 1..3 has 3; a log-scaled int one per doubling,
 * as Optuna's PED-ANOVA does).
 */
export function gridSize(dist: Distribution, nSteps: number): number {
  switch (dist.type) {
    case 'categorical':
      return dist.choices.length;
    case 'float':
      return nSteps;
    case 'int':
      if (dist.log === true) return Math.min(Math.ceil(Math.log2(dist.high - dist.low + 1)) + 1, nSteps);
      return Math.min(Math.floor((dist.high - dist.low) / (dist.step ?? 1)) + 1, nSteps);
  }
}

/** The grid cell of a value the distribution can produce: its choice, or the nearest grid point on the (log-)scaled range. */
export function cellOf(dist: Distribution, value: Constant, size: number): number {
  if (dist.type === 'categorical') return dist.choices.indexOf(value);
  const scale = dist.log === true ? Math.log : (x: number) => x;
  const lo = scale(dist.low);
  const at = (scale(value as number) - lo) / (scale(dist.high) - lo);
  return Math.min(size - 1, Math.max(0, Math.round(at * (size - 1))));
}

/** Whether two specs give the same values with the same chances (`log: false` and no `log` alike). */
function sameSpec(a: ParamSpec, b: Distribution): boolean {
  if (isConstant(a) || a.type !== b.type) return false;
  if (a.type === 'categorical' || b.type === 'categorical') {
    const [x, y] = [(a as CategoricalDistribution).choices, (b as CategoricalDistribution).choices];
    return x.length === y.length && x.every((c, i) => c === y[i]);
  }
  const step = (d: Distribution) => (d.type === 'int' ? (d.step ?? 1) : 0);
  return a.low === b.low && a.high === b.high && (a.log === true) === (b.log === true) && step(a) === step(b);
}
