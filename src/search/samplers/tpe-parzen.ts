/**
 * Parzen estimators for TPE, after Optuna 3.1's `_ParzenEstimator`: a weighted mixture with
 * one component per observation plus, optionally, a wide prior component. A component is a
 * product of one kernel per parameter. Numbers get truncated normals (in log space for
 * log-scale parameters, widened by half a step for linear ints, whose probability is then
 * the kernel's mass over the step); categories get smoothed one-hot counts.
 *
 * Fitted to one parameter this is Optuna's univariate estimator. Fitted to several
 * (multivariate), each component is the product of the same kernels over the parameters, so
 * a draw keeps an observation's values together. Kernel widths stay per-parameter (the gap
 * rule below) where Optuna 3.1 gives every kernel one Scott's-rule width,
 * 0.2 · n^(-1/(d+4)) of the range: measured on bench/search.ts, the gap rule found far better
 * points (median regret after 100 trials, 200 seeds: Branin 0.007 against 0.084, Hartmann-6
 * 0.20 against 0.25).
 *
 * The gap rule alone made the joint estimator greedy, though (see JointFloors): TPE then
 * kept one int or category value for good on many seeds. Two floors, used only when
 * fitting jointly, stop that.
 */
import type { Constant, Distribution } from '../distribution.ts';
import type { Rng } from '../../rng.ts';
import { logGaussMass, normLogPdf, truncnormPpf } from './truncnorm.ts';

/** How kernels are shaped; the TPE options of the same names. */
export interface ParzenSettings {
  considerPrior: boolean;
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
}

/**
 * Least kernel widths for a joint estimator; the univariate one (Optuna's algorithm) takes none.
 *
 * Why: in d dimensions the gap rule gives each of g(x)'s many kernels about range / n per
 * parameter, far narrower than the spacing of n points in d dimensions, so at a draw from
 * l(x) the product of g's kernels is nil and g is its prior alone: flat. l(x) / g(x) is then
 * l(x) alone, the draw nearest a good trial wins, and nothing pulls away from values already
 * tried many times. Measured on bench/search.ts (nn-surface, a 3-value int, 100 seeds):
 * on 76 seeds, 86 or more of the 90 model-guided trials had the same int value.
 */
export interface JointFloors {
  /**
   * Clip kernels as if fitted to this many observations (the magic clip's n). g(x) takes
   * min(n, n^(3/d)): unchanged up to 3 parameters, wider beyond. Measured (100 seeds, 100
   * trials; mean and 90th percentile of regret): Hartmann-6 0.34 → 0.19 and 0.61 → 0.29,
   * Rosenbrock-4 6.5 → 3.3 and 7.3 → 5.4, nn-surface stuck seeds 76 → 7. Wider did worse:
   * n^(2/d) raised Hartmann-6's median from 0.15 to 0.48 (40 seeds); clipping g as l is
   * clipped (its n good trials) raised Branin's from 0.008 to 0.035.
   */
  clipObservations?: number;
  /**
   * Least width of a linear int's kernels, in steps. l(x) takes 1: when its good trials share
   * one value of a small int, their kernels were clipped to range / (n + 2) (a quarter step
   * for 3 values and 10 trials), so a draw left that value 2% of the time and lost the
   * ranking when it did; at one step it leaves 24% of the time. Measured on nn-surface (100
   * seeds, with the clip above): stuck seeds 7 → 0, mean regret 0.037 → 0.019.
   */
  intSteps?: number;
  /**
   * One weight (>= 0) per observation, instead of Optuna's TPE ramp (observationWeights):
   * MOTPE weighs its good trials by their hypervolume contributions.
   */
  weights?: readonly number[];
}

/** A fitted density over points (one value per parameter, in the order fitted). */
export interface ParzenEstimator {
  /** Draws one point, each value in its parameter's own representation. */
  sample(rng: Rng): Constant[];
  /**
   * The log score of a point `sample` can return: the log probability for categories and
   * linear ints; for continuous kernels the log kernel height (see numericKernels for why
   * not the density).
   */
  logPdf(point: readonly Constant[]): number;
}

/** One parameter's kernels, one per component. */
interface Kernels {
  sample(component: number, rng: Rng): Constant;
  logPdf(component: number, value: Constant): number;
}

/**
 * Optuna's default observation weights: equal for the 25 most recent observations, a linear
 * ramp from 1/n up to 1 for older ones. `n` observations in chronological order.
 */
export function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  return Array.from({ length: n }, (_, i) => (i >= ramp ? 1 : ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1)));
}

/**
 * Fits the parameters `dists` to `points` (chronological, so the weights favour recent
 * ones; each point has one value per distribution).
 */
export function fitParzen(
  dists: readonly Distribution[],
  points: ReadonlyArray<readonly Constant[]>,
  settings: ParzenSettings,
  floors: JointFloors = {},
): ParzenEstimator {
  const n = points.length;
  const considerPrior = settings.considerPrior || n === 0;
  const weights = floors.weights ? [...floors.weights] : observationWeights(n);
  if (considerPrior) weights.push(settings.priorWeight);
  const total = weights.reduce((s, w) => s + w, 0);
  const logWeights = weights.map((w) => Math.log(w / total));
  const cumulative: number[] = [];
  weights.reduce((s, w, i) => (cumulative[i] = s + w / total), 0);
  const kernels = dists.map((d, k) => {
    const values = points.map((p) => p[k] as Constant);
    return d.type === 'categorical'
      ? categoricalKernels(d.choices, values, considerPrior, settings.priorWeight)
      : numericKernels(d, values as number[], considerPrior, settings, floors);
  });
  return {
    sample(rng) {
      const u = rng.next();
      let component = cumulative.findIndex((c) => u < c);
      if (component < 0) component = cumulative.length - 1;
      return kernels.map((k) => k.sample(component, rng));
    },
    logPdf(point) {
      return logSumExp(logWeights.map((lw, i) => kernels.reduce((s, k, d) => s + k.logPdf(i, point[d] as Constant), lw)));
    },
  };
}

/** Each observation's row is its one-hot plus priorWeight / rows everywhere; the prior row is flat. */
function categoricalKernels(choices: readonly Constant[], values: readonly Constant[], considerPrior: boolean, priorWeight: number): Kernels {
  const rows = values.length + (considerPrior ? 1 : 0);
  const smoothing = priorWeight / rows;
  // Each row is kept as its observed choice alone and its probabilities computed when read:
  // a full rows × choices table was 80 MB for 10,000 trials of a 1,000-choice parameter.
  const position = new Map<Constant, number>(choices.map((c, i) => [c, i]));
  const observed = Array.from({ length: rows }, (_, i) => (i < values.length ? (position.get(values[i] as Constant) ?? -1) : -1));
  const prob = (row: number, c: number) => {
    const o = observed[row]!;
    return (smoothing + (c === o ? 1 : 0)) / (smoothing * choices.length + (o >= 0 ? 1 : 0));
  };
  return {
    sample(component, rng) {
      let u = rng.next();
      for (let c = 0; c < choices.length - 1; c++) {
        u -= prob(component, c);
        if (u < 0) return choices[c] as Constant;
      }
      return choices[choices.length - 1] as Constant;
    },
    logPdf(component, value) {
      const c = position.get(value) ?? -1;
      return c < 0 ? -Infinity : Math.log(prob(component, c));
    },
  };
}

interface Scale {
  /** The kernels' domain, in transformed (log for log-scale) units. */
  low: number;
  high: number;
  /** The grid step of an int on a linear scale, whose mass is integrated over one step; else null. */
  q: number | null;
  toInternal(x: number): number;
  fromInternal(x: number): number;
}

function scaleOf(d: Exclude<Distribution, { type: 'categorical' }>): Scale {
  const clamp = (x: number): number => Math.min(d.high, Math.max(d.low, x));
  if (d.type === 'float') {
    return d.log === true
      ? { low: Math.log(d.low), high: Math.log(d.high), q: null, toInternal: Math.log, fromInternal: (x) => clamp(Math.exp(x)) }
      : { low: d.low, high: d.high, q: null, toInternal: (x) => x, fromInternal: clamp };
  }
  if (d.log === true) {
    const toInt = (x: number): number => clamp(Math.round(Math.exp(x)));
    return { low: Math.log(d.low - 0.5), high: Math.log(d.high + 0.5), q: null, toInternal: Math.log, fromInternal: toInt };
  }
  const step = d.step ?? 1;
  // `high` may lie off the step grid; the last value drawn is the last one on it.
  const top = d.low + step * Math.floor((d.high - d.low) / step);
  return {
    low: d.low - 0.5 * step,
    high: top + 0.5 * step,
    q: step,
    toInternal: (x) => x,
    fromInternal: (x) => Math.min(top, Math.max(d.low, d.low + step * Math.round((x - d.low) / step))),
  };
}

/**
 * Kernel centres are the observations. Each is as wide as the larger gap to its sorted
 * neighbours, the domain's ends counting as neighbours only with considerEndpoints, then
 * clipped to [range / min(100, 1 + kernels), range] by the "magic clip" (raised by the
 * JointFloors given). The prior kernel sits in the middle with the whole range as its width.
 *
 * A continuous kernel is scored by its height, the truncated normal's density times its
 * width, so a mixture counts nearby kernels by weight rather than by sharpness. Optuna up
 * to 3.4 (Debian ships 3.1) does the same (its truncnorm `logpdf` left out the scale until
 * 3.5). We keep it deliberately: on bench/search.ts it found better points than the true
 * density (median regret after 100 trials, 200 seeds; one parameter at a time: Branin 0.033
 * against 0.047, Hartmann-6 0.24 against 0.34; jointly: Branin 0.007 against 0.029, noisy
 * Branin 0.24 against 0.27, the conditional function 0.0002 against 0.001, though Hartmann-6
 * 0.20 against 0.16).
 */
function numericKernels(
  d: Exclude<Distribution, { type: 'categorical' }>,
  values: readonly number[],
  considerPrior: boolean,
  settings: ParzenSettings,
  floors: JointFloors,
): Kernels {
  const scale = scaleOf(d);
  const { low, high, q } = scale;
  const range = high - low;
  const mus = values.map(scale.toInternal);
  if (considerPrior) mus.push(0.5 * (low + high));
  let sigmas = new Array<number>(mus.length);
  const order = mus.map((_, i) => i).sort((i, j) => mus[i]! - mus[j]! || i - j);
  const sorted = [low, ...order.map((i) => mus[i]!), high];
  order.forEach((i, k) => {
    let sigma = Math.max(sorted[k + 1]! - sorted[k]!, sorted[k + 2]! - sorted[k + 1]!);
    if (!settings.considerEndpoints && sorted.length >= 4) {
      if (k === 0) sigma = sorted[2]! - sorted[1]!;
      else if (k === order.length - 1) sigma = sorted[k + 1]! - sorted[k]!;
    }
    sigmas[i] = sigma;
  });
  const clipped = (floors.clipObservations ?? values.length) + (considerPrior ? 1 : 0);
  const minSigma = Math.max(
    settings.considerMagicClip ? range / Math.min(100, 1 + clipped) : 1e-12,
    q === null ? 0 : (floors.intSteps ?? 0) * q,
  );
  sigmas = sigmas.map((s) => Math.min(range, Math.max(minSigma, s)));
  if (considerPrior) sigmas[sigmas.length - 1] = range;
  const logMass = mus.map((mu, i) => logGaussMass((low - mu) / sigmas[i]!, (high - mu) / sigmas[i]!));

  return {
    sample(i, rng) {
      const mu = mus[i]!;
      const sigma = sigmas[i]!;
      return scale.fromInternal(mu + sigma * truncnormPpf(rng.next(), (low - mu) / sigma, (high - mu) / sigma));
    },
    logPdf(i, value) {
      const x = scale.toInternal(value as number);
      const mu = mus[i]!;
      const sigma = sigmas[i]!;
      if (q === null) return x < low || x > high ? -Infinity : normLogPdf((x - mu) / sigma) - logMass[i]!;
      return logGaussMass((Math.max(x - q / 2, low) - mu) / sigma, (Math.min(x + q / 2, high) - mu) / sigma) - logMass[i]!;
    },
  };
}

function logSumExp(xs: readonly number[]): number {
  // A loop, not Math.max(...xs): one term per observation, and a spread overflows past ~120,000.
  let max = -Infinity;
  for (const x of xs) if (x > max || Number.isNaN(x)) max = x;
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}
