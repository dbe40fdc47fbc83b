/**
 * Tree-structured Parzen Estimator (Bergstra et al., 2011), after Optuna 3.1's TPESampler.
 * After `nStartupTrials` random trials, the observed trials are split into the best `γ`
 * ("below") and the rest ("above"); a Parzen estimator l(x) is fitted to the first and g(x)
 * to the second, and of `nEiCandidates` draws from l the one with the largest l(x) / g(x)
 * is taken.
 *
 * The family is suggested first, a categorical fitted on every trial; then the family's
 * parameters, jointly (`multivariate`, the default) or one at a time, fitted only on the
 * trials of that family, since they exist nowhere else. As in Optuna, the split into good
 * and bad is made once among all trials, so a family's l(x) holds its trials that are good
 * overall (on bench/search.ts this beat splitting each family's trials on their own); only
 * when none of them is, they are split among themselves.
 * Running, queued and paused trials are "constant liars": they count as the worst
 * observations, so suggestions made while they are in flight steer away from them.
 */
import { z } from 'zod';
import type { Direction, Params } from '../../domain.ts';
import { contains, isConstant, type CategoricalDistribution, type Constant, type Distribution } from '../distribution.ts';
import { booleanOption, fractionOption, intOption, parseOptions, positiveOption } from '../options.ts';
import type { Rng } from '../../rng.ts';
import type { FrozenTrial, Sampler } from '../sampler.ts';
import { createRandomSampler } from './random.ts';
import { fitParzen } from './tpe-parzen.ts';

/** Options of the `tpe` sampler (a study's `search.options`). */
export interface TpeOptions {
  /**
   * Completed trials drawn at random before the model is used.
   * @defaultValue 10
   */
  nStartupTrials?: number;
  /**
   * Draws from l(x) scored per parameter; more exploits harder.
   * @defaultValue 24
   */
  nEiCandidates?: number;
  /**
   * Fraction of the completed trials that count as good: ceil(gamma · n), at most
   * `nBelowMax`. The defaults are Optuna's `min(ceil(0.1 · n), 25)`.
   * @defaultValue 0.1
   */
  gamma?: number;
  /**
   * Upper bound on the number of good trials.
   * @defaultValue 25
   */
  nBelowMax?: number;
  /**
   * Add a wide prior kernel (the whole range, in the middle) to both estimators.
   * @defaultValue true
   */
  considerPrior?: boolean;
  /**
   * Weight of the prior kernel, against 1 for each recent observation; also the smoothing
   * of categorical counts.
   * @defaultValue 1
   */
  priorWeight?: number;
  /**
   * Keep kernels at least range / min(100, 1 + observations) wide.
   * @defaultValue true
   */
  considerMagicClip?: boolean;
  /**
   * Let the domain's ends widen the outermost kernels.
   * @defaultValue false
   */
  considerEndpoints?: boolean;
  /**
   * Count running and queued trials as the worst observations, so that parallel
   * suggestions differ. (Optuna's default is false; this service runs trials in parallel.)
   * @defaultValue true
   */
  constantLiar?: boolean;
  /**
   * Fit a family's parameters jointly, one kernel per trial over all of them, so a draw from
   * l(x) keeps a good trial's values together; false suggests each parameter on its own, as
   * Optuna does by default. (Optuna's default is false; measured on bench/search.ts, joint
   * fitting found better points on every function.)
   * @defaultValue true
   */
  multivariate?: boolean;
}

const optionsSchema = z.strictObject({
  nStartupTrials: intOption(0, 1000).optional(),
  nEiCandidates: intOption(1, 10_000).optional(),
  gamma: fractionOption().optional(),
  nBelowMax: intOption(1, 1000).optional(),
  considerPrior: booleanOption().optional(),
  priorWeight: positiveOption().optional(),
  considerMagicClip: booleanOption().optional(),
  considerEndpoints: booleanOption().optional(),
  constantLiar: booleanOption().optional(),
  multivariate: booleanOption().optional(),
});

const DEFAULTS: Required<TpeOptions> = {
  nStartupTrials: 10,
  nEiCandidates: 24,
  gamma: 0.1,
  nBelowMax: 25,
  considerPrior: true,
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  constantLiar: true,
  multivariate: true,
};

/**
 * A trial the estimators learn from. Trials rank by tier, then by score (lower is better),
 * then by number: completed (0), then pruned with the value they reached (1, as Optuna ranks
 * pruned trials behind complete ones), then liars (2).
 */
interface Observation {
  number: number;
  params: Params;
  tier: 0 | 1 | 2;
  score: number;
  /** The study's constraints broken, summed (0: feasible); within a tier, feasible trials rank first, then the least violating, as Optuna's constrained TPE ranks them. */
  violation: number;
}

/** Throws a ValidationError naming `search.options.<key>` for a bad option. */
export function createTpeSampler(options: TpeOptions = {}): Sampler {
  const o: Required<TpeOptions> = { ...DEFAULTS, ...parseOptions('tpe', optionsSchema, options) };
  const random = createRandomSampler();
  return {
    name: 'tpe',
    sample(space, history, ctx) {
      const observed = observations(history, ctx.direction, o.constantLiar);
      if (observed.filter((t) => t.tier < 2).length < o.nStartupTrials) return random.sample(space, history, ctx);
      const [below, above] = split(observed, o);

      const familyDistribution: CategoricalDistribution = { type: 'categorical', choices: space.families };
      const family = space.families.length === 1
        ? space.families[0]!
        : suggest({ family: familyDistribution }, below, above, o, ctx.rng).family as (typeof space.families)[number];
      const specs = space.params[family] ?? {};
      const ofFamily = (ts: Observation[]): Observation[] => ts.filter((t) => t.params.family === family);
      let [good, bad] = [ofFamily(below), ofFamily(above)];
      // None of the family's trials is good overall: rank them among themselves, or l(x) would be
      // the prior alone and the suggestion would flee the family's best trials with the rest.
      if (good.length === 0) [good, bad] = split(ofFamily(observed), o);
      const params: Params = { family };
      // Sorted, so the draws from ctx.rng do not depend on the key order storage returns.
      const searched: Record<string, Distribution> = {};
      for (const name of Object.keys(specs).sort()) {
        const spec = specs[name]!;
        if (isConstant(spec)) params[name] = spec;
        else searched[name] = spec;
      }
      const groups = o.multivariate ? [searched] : Object.entries(searched).map(([name, d]) => ({ [name]: d }));
      // A family of constants only has nothing to fit (and must not take draws from ctx.rng).
      for (const group of groups) {
        if (Object.keys(group).length > 0) Object.assign(params, suggest(group, good, bad, o, ctx.rng));
      }
      return sortKeys(params);
    },
  };
}

/**
 * The trials to learn from, oldest first: completed and pruned ones with a value, and, with
 * constantLiar, those in flight (queued, running, or paused until a scheduler promotes them).
 * Failed and cancelled trials are ignored.
 */
function observations(history: readonly FrozenTrial[], direction: Direction, constantLiar: boolean): Observation[] {
  const sign = direction === 'minimize' ? 1 : -1;
  const out: Observation[] = [];
  for (const t of history) {
    const valued = t.value !== null && !Number.isNaN(t.value);
    if ((t.state === 'completed' || t.state === 'pruned') && valued) {
      // NaN (unknown) counts as the worst violation.
      const violation = t.violation === undefined ? 0 : Number.isNaN(t.violation) ? Infinity : Math.max(0, t.violation);
      out.push({ number: t.number, params: t.params, tier: t.state === 'completed' ? 0 : 1, score: sign * (t.value as number), violation });
    } else if (constantLiar && (t.state === 'running' || t.state === 'queued' || t.state === 'paused')) {
      out.push({ number: t.number, params: t.params, tier: 2, score: Infinity, violation: 0 });
    }
  }
  return out.sort((a, b) => a.number - b.number);
}

/**
 * Values for the parameters of `group` (one, or a family's all when multivariate): l is
 * fitted to the good observations that have them all, g to the bad ones; the best of
 * nEiCandidates draws from l by l(x) / g(x) wins.
 */
function suggest(
  group: Record<string, Distribution>,
  below: readonly Observation[],
  above: readonly Observation[],
  o: Required<TpeOptions>,
  rng: Rng,
): Params {
  const names = Object.keys(group);
  const dists = names.map((name) => group[name]!);
  const pointsOf = (ts: readonly Observation[]): Constant[][] => ts
    .filter((t) => names.every((name, k) => contains(dists[k]!, t.params[name])))
    .map((t) => names.map((name) => t.params[name] as Constant));
  const good = pointsOf(below);
  const bad = pointsOf(above);
  // Joint kernels get floors against greed (see JointFloors for the measurements).
  const joint = dists.length > 1;
  const l = fitParzen(dists, good, o, joint ? { intSteps: 1 } : {});
  const g = fitParzen(dists, bad, o, joint ? { clipObservations: Math.min(bad.length, bad.length ** (3 / dists.length)) } : {});
  let best: Constant[] = [];
  let bestScore = -Infinity;
  for (let i = 0; i < o.nEiCandidates; i++) {
    const x = l.sample(rng);
    const score = l.logPdf(x) - g.logPdf(x);
    // Strictly greater: ties go to the earliest draw, so the choice is reproducible.
    if (i === 0 || score > bestScore) {
      best = x;
      bestScore = score;
    }
  }
  return Object.fromEntries(names.map((name, k) => [name, best[k] as Constant]));
}

function sortKeys(params: Params): Params {
  return Object.fromEntries(Object.entries(params).sort(([a], [b]) => (a === 'family' ? -1 : b === 'family' ? 1 : a < b ? -1 : 1)));
}

/**
 * The best min(ceil(gamma · n), nBelowMax) observations (n leaves out liars) and the rest,
 * each back in chronological order.
 */
function split(observed: readonly Observation[], o: Required<TpeOptions>): [Observation[], Observation[]] {
  const n = observed.filter((t) => t.tier < 2).length;
  const nBelow = Math.min(Math.ceil(o.gamma * n), o.nBelowMax);
  // Infinity - Infinity is NaN, which `||` passes over, so equal infinite scores fall to the number.
  const ranked = [...observed].sort((a, b) => a.tier - b.tier || a.violation - b.violation || a.score - b.score || a.number - b.number);
  const chronological = (a: Observation, b: Observation): number => a.number - b.number;
  return [ranked.slice(0, nBelow).sort(chronological), ranked.slice(nBelow).sort(chronological)];
}
