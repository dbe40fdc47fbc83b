/**
 * Multi-objective TPE (Ozaki et al., 2020 and 2022), after Optuna 3.1's MOTPESampler and its
 * defaults. After `nStartupTrials` random trials, the best floor(gamma · n) completed trials
 * are "good": whole fronts of the non-dominated sort while they fit, the rest of the next
 * front chosen greedily by hypervolume (the hypervolume subset selection problem), with the
 * reference point 1.1 × the front's worst values. l(x) is fitted to the good trials, each
 * weighted by its hypervolume contribution among them (the best-spread trials count most),
 * g(x) to the others, equally weighted; of `nEhviCandidates` draws from l the one with the
 * largest l(x) / g(x) is taken, one parameter at a time (as Optuna's MOTPE).
 *
 * Constraints (`FrozenTrial.violation`) follow Optuna: the good trials are feasible ones
 * while there are enough, else the least violating; infeasible good trials weigh almost
 * nothing. With one objective the split is by value and the good trials weigh alike, which
 * is TPE with MOTPE's settings.
 *
 * Pruned and in-flight trials are ignored (Optuna's multi-objective samplers do the same:
 * there is no single "worst" vector to lie with). The family is suggested first, from every
 * trial; the family's parameters then from its own trials.
 */
import { z } from 'zod';
import type { Direction, Family, Params } from '../../domain.ts';
import { contains, isConstant, type Constant, type Distribution } from '../distribution.ts';
import { booleanOption, fractionOption, intOption, parseOptions, positiveOption } from '../options.ts';
import { hypervolume, hypervolumeContributions, nonDominatedSort, toMinimize, type Point } from '../pareto.ts';
import type { Rng } from '../../rng.ts';
import type { Sampler } from '../sampler.ts';
import { directionsOf, scoredTrials, type ScoredTrial } from './mo-trials.ts';
import { createRandomSampler } from './random.ts';
import { fitParzen, type ParzenSettings } from './tpe-parzen.ts';

/** Options of the `motpe` sampler (a study's `search.options`). */
export interface MotpeOptions {
  /**
   * Completed trials drawn at random before the model is used.
   * @defaultValue 10
   */
  nStartupTrials?: number;
  /**
   * Draws from l(x) scored per parameter.
   * @defaultValue 24
   */
  nEhviCandidates?: number;
  /**
   * Fraction of the completed trials that count as good: floor(gamma · n) (Optuna's MOTPE
   * has no upper bound).
   * @defaultValue 0.1
   */
  gamma?: number;
  /**
   * Add a wide prior kernel to both estimators.
   * @defaultValue true
   */
  considerPrior?: boolean;
  /**
   * Weight of the prior kernel; also the smoothing of categorical counts.
   * @defaultValue 1
   */
  priorWeight?: number;
  /**
   * Keep kernels at least range / min(100, 1 + kernels) wide.
   * @defaultValue true
   */
  considerMagicClip?: boolean;
  /**
   * Let the domain's ends widen the outermost kernels (MOTPE's default, unlike TPE's).
   * @defaultValue true
   */
  considerEndpoints?: boolean;
}

const optionsSchema = z.strictObject({
  nStartupTrials: intOption(0, 1000).optional(),
  nEhviCandidates: intOption(1, 10_000).optional(),
  gamma: fractionOption().optional(),
  considerPrior: booleanOption().optional(),
  priorWeight: positiveOption().optional(),
  considerMagicClip: booleanOption().optional(),
  considerEndpoints: booleanOption().optional(),
});

/** Weight of an infeasible good trial, and the floor of every contribution (Optuna's EPS). */
const EPS = 1e-12;

/** Throws a ValidationError naming `search.options.<key>` for a bad option. */
export function createMotpeSampler(options: MotpeOptions = {}): Sampler {
  const o = parseOptions('motpe', optionsSchema, options);
  const nStartupTrials = o.nStartupTrials ?? 10;
  const nCandidates = o.nEhviCandidates ?? 24;
  const gamma = o.gamma ?? 0.1;
  const settings: ParzenSettings = {
    considerPrior: o.considerPrior ?? true,
    priorWeight: o.priorWeight ?? 1,
    considerMagicClip: o.considerMagicClip ?? true,
    considerEndpoints: o.considerEndpoints ?? true,
  };
  const random = createRandomSampler();
  return {
    name: 'motpe',
    sample(space, history, ctx) {
      const directions = directionsOf(ctx);
      const trials = scoredTrials(history, space, directions);
      if (trials.length < nStartupTrials || trials.length === 0) return random.sample(space, history, ctx);
      const below = splitBelow(trials, Math.floor(gamma * trials.length), directions);
      const weight = belowWeights(trials, below, directions);
      const good = trials.filter((_, i) => below.has(i));
      const bad = trials.filter((_, i) => !below.has(i));
      const goodWeights = good.map((t) => weight.get(t.number)!);

      const suggest = (name: string, d: Distribution, g: ScoredTrial[], gw: number[], b: ScoredTrial[]): Constant => {
        const keep = g.map((t) => contains(d, t.params[name]));
        const l = fitOne(d, g.filter((_, i) => keep[i]).map((t) => t.params[name]!), gw.filter((_, i) => keep[i]), settings);
        const badValues = b.filter((t) => contains(d, t.params[name])).map((t) => t.params[name]!);
        const gFit = fitOne(d, badValues, badValues.map(() => 1), settings);
        return bestDraw(l, gFit, nCandidates, ctx.rng);
      };
      const family = space.families.length === 1
        ? space.families[0]!
        : suggest('family', { type: 'categorical', choices: space.families }, good, goodWeights, bad) as Family;
      const specs = space.params[family] ?? {};
      const ofFamily = good.map((t) => t.params.family === family);
      const familyGood = good.filter((_, i) => ofFamily[i]);
      const familyWeights = goodWeights.filter((_, i) => ofFamily[i]);
      const familyBad = bad.filter((t) => t.params.family === family);
      const params: Params = { family };
      // Sorted, so the draws from ctx.rng do not depend on the key order storage returns.
      for (const name of Object.keys(specs).sort()) {
        const spec = specs[name]!;
        params[name] = isConstant(spec) ? spec : suggest(name, spec, familyGood, familyWeights, familyBad);
      }
      return params;
    },
  };
}

/** Of n draws from l, the one with the largest l(x) / g(x); ties go to the earliest draw. */
function bestDraw(
  l: ReturnType<typeof fitOne>,
  g: ReturnType<typeof fitOne>,
  n: number,
  rng: Rng,
): Constant {
  let best: Constant = l.sample(rng);
  let bestScore = l.logPdf(best) - g.logPdf(best);
  for (let i = 1; i < n; i++) {
    const x = l.sample(rng);
    const score = l.logPdf(x) - g.logPdf(x);
    if (score > bestScore) [best, bestScore] = [x, score];
  }
  return best;
}

/**
 * Indices (into `trials`) of the nBelow good trials, by Optuna's rule: by violation while
 * too few are feasible; else among the feasible, by front and then greedy hypervolume.
 */
export function splitBelow(trials: readonly ScoredTrial[], nBelow: number, directions: readonly Direction[]): Set<number> {
  const byViolation = trials.map((_, i) => i).sort((i, j) => trials[i]!.violation - trials[j]!.violation || i - j);
  if (nBelow >= trials.length || trials[byViolation[nBelow]!]!.violation > 0) return new Set(byViolation.slice(0, nBelow));
  const feasible = trials.flatMap((t, i) => (t.violation === 0 ? [i] : []));
  const losses = feasible.map((i) => toMinimize(trials[i]!.values, directions));
  if (directions.length === 1) {
    const ranked = feasible.map((_, k) => k).sort((a, b) => losses[a]![0]! - losses[b]![0]! || a - b);
    return new Set(ranked.slice(0, nBelow).map((k) => feasible[k]!));
  }
  const minimize = directions.map((): Direction => 'minimize');
  const chosen: number[] = [];
  for (const front of nonDominatedSort(losses, minimize)) {
    if (chosen.length + front.length <= nBelow) {
      chosen.push(...front);
      if (chosen.length === nBelow) break;
      continue;
    }
    const points = front.map((k) => losses[k]!);
    chosen.push(...greedySubset(points, nBelow - chosen.length, referenceFor(points)).map((r) => front[r]!));
    break;
  }
  return new Set(chosen.map((k) => feasible[k]!));
}

/**
 * The good trials' weights, by trial number: feasible ones by hypervolume contribution
 * among the feasible good trials, divided by the largest; infeasible ones EPS.
 */
function belowWeights(trials: readonly ScoredTrial[], below: ReadonlySet<number>, directions: readonly Direction[]): Map<number, number> {
  const good = trials.filter((_, i) => below.has(i));
  const feasible = good.filter((t) => t.violation === 0);
  const weights = new Map<number, number>(good.map((t) => [t.number, EPS]));
  if (feasible.length === 1 || directions.length === 1) {
    for (const t of feasible) weights.set(t.number, 1);
  } else if (feasible.length > 1) {
    const losses = feasible.map((t) => toMinimize(t.values, directions));
    const minimize = directions.map((): Direction => 'minimize');
    const contributions = hypervolumeContributions(losses, referenceFor(losses), minimize).map((c) => c + EPS);
    const top = Math.max(...contributions);
    feasible.forEach((t, i) => weights.set(t.number, Math.min(1, contributions[i]! / top)));
  }
  return weights;
}

/** Optuna's reference point for losses: 1.1 × the worst of each (0.9 × when negative), EPS for 0. */
function referenceFor(losses: readonly Point[]): number[] {
  return losses[0]!.map((_, k) => {
    const worst = Math.max(...losses.map((p) => p[k]!));
    const ref = Math.max(1.1 * worst, 0.9 * worst);
    return ref === 0 ? EPS : ref;
  });
}

/**
 * Greedy hypervolume subset selection (Guerreiro et al., 2016): k times, the point that adds
 * the most hypervolume to those chosen; ties go to the earliest. Returns positions in `points`.
 */
function greedySubset(points: readonly Point[], k: number, reference: Point): number[] {
  const minimize = reference.map((): Direction => 'minimize');
  const chosen: number[] = [];
  while (chosen.length < k) {
    let best = -1;
    let bestVolume = -Infinity;
    for (let i = 0; i < points.length; i++) {
      if (chosen.includes(i)) continue;
      const v = hypervolume([...chosen.map((c) => points[c]!), points[i]!], reference, minimize);
      if (v > bestVolume) [best, bestVolume] = [i, v];
    }
    chosen.push(best);
  }
  return chosen;
}

/** One parameter's estimator over `values`, each weighted as given (tpe-parzen.ts's kernels). */
function fitOne(dist: Distribution, values: readonly Constant[], weights: readonly number[], settings: ParzenSettings) {
  const fitted = fitParzen([dist], values.map((v) => [v]), settings, { weights });
  return {
    sample: (rng: Rng): Constant => fitted.sample(rng)[0] as Constant,
    logPdf: (value: Constant): number => fitted.logPdf([value]),
  };
}
