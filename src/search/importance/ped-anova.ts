/**
 * PED-ANOVA (Watanabe, Bansal and Hutter, "PED-ANOVA: Efficiently Quantifying Hyperparameter
 * Importance in Arbitrary Subspaces", IJCAI 2023), after Optuna's PedAnovaImportanceEvaluator.
 *
 * A parameter matters as much as the trials that reached the top quantile of the objective
 * were choosy about it: its importance is the Pearson divergence between its density over the
 * top trials and over all trials, each a Parzen estimator on the parameter's (log-)scaled
 * grid. The importances are then normalised to sum to 1.
 *
 * Chosen over fANOVA: it is deterministic (no random forest to seed and fit), and its cost is
 * a sort and a histogram per parameter, small enough to answer a request from 1,000 trials,
 * where fANOVA fits a forest and then integrates over every tree's partition. It is also
 * defined on any subspace, which is what a family's own parameters are: each is measured over
 * the trials of its family, with "top" taken among them (see targets.ts).
 */
import type { Direction } from '../../domain.ts';
import type { FrozenTrial } from '../sampler.ts';
import type { SearchSpace } from '../space.ts';
import { categoricalPmf, numericPmf, pearsonDivergence } from './parzen.ts';
import { cellOf, gridSize, targetsOf, valueOf, type Target } from './targets.ts';

/** How {@link pedAnova} reads a study. */
export interface PedAnovaOptions {
  /** Whether lower or higher objective values are better. */
  direction: Direction;
  /**
   * The share of trials that count as "top": importances say what it took to reach the best
   * `baselineQuantile` of the trials. In (0, 1]. @defaultValue 0.1
   */
  baselineQuantile?: number;
  /**
   * Top trials taken at least, whatever the quantile gives (ties with the last one come too).
   * @defaultValue 2
   */
  minTopTrials?: number;
  /**
   * Completed trials needed before anything is measured, and trials a family's own parameter
   * needs before it is measured (fewer: it is left out). At least `minTopTrials + 1`.
   * @defaultValue 10
   */
  minTrials?: number;
  /** Grid points over a float's range (fewer for ints with fewer values). @defaultValue 50 */
  nSteps?: number;
  /** Weight of each density's flat prior, in trials. @defaultValue 1 */
  priorWeight?: number;
}

/** One parameter's share of the importance. */
export interface ParamImportance {
  /** `family`, a parameter every family shares, or `<family>.<name>` for one family's own. */
  name: string;
  /** In [0, 1]; the listed importances sum to 1. */
  importance: number;
  /** Completed trials it was measured over: all of them, or those of its family. */
  trials: number;
}

export type ImportanceResult =
  | {
      status: 'ok';
      method: 'ped-anova';
      /** Completed trials with a finite value that the analysis read. */
      trials: number;
      /** Most important first; ties by name. Empty when the space searches nothing. */
      params: ParamImportance[];
    }
  | {
      status: 'too-few-trials';
      /** Completed trials with a finite value. */
      trials: number;
      /** Completed trials needed (minTrials). */
      needed: number;
    };

const DEFAULTS = { baselineQuantile: 0.1, minTopTrials: 2, minTrials: 10, nSteps: 50, priorWeight: 1 };

/**
 * The importance of each searched parameter of `space` over the completed trials of
 * `history` (other states and non-finite values are ignored; so is a value a trial has that
 * its parameter's distribution cannot produce). The order of `history` does not matter.
 * Throws a RangeError for options that break their rule.
 */
export function pedAnova(space: SearchSpace, history: readonly FrozenTrial[], options: PedAnovaOptions): ImportanceResult {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  checkOptions(o);
  const trials = history.filter((t): t is FrozenTrial & { value: number } => t.state === 'completed' && t.value !== null && Number.isFinite(t.value));
  if (trials.length < o.minTrials) return { status: 'too-few-trials', trials: trials.length, needed: o.minTrials };

  // Lower is better from here on.
  const sign = o.direction === 'minimize' ? 1 : -1;
  const measured: ParamImportance[] = [];
  for (const target of targetsOf(space)) {
    const having = trials.flatMap((t) => {
      const value = valueOf(target, t.params);
      return value === undefined ? [] : [{ value, loss: sign * t.value }];
    });
    if (having.length < o.minTrials) continue;
    const cutoff = topCutoff(having.map((h) => h.loss), o.baselineQuantile, o.minTopTrials);
    const size = gridSize(target.dist, o.nSteps);
    const all = new Array<number>(size).fill(0);
    const top = new Array<number>(size).fill(0);
    for (const h of having) {
      const cell = cellOf(target.dist, h.value, size);
      all[cell] = (all[cell] as number) + 1;
      if (h.loss <= cutoff) top[cell] = (top[cell] as number) + 1;
    }
    measured.push({ name: target.name, importance: divergence(target, top, all, o.priorWeight), trials: having.length });
  }

  const sum = measured.reduce((s, p) => s + p.importance, 0);
  // All zero: the top trials look like all of them on every parameter, so none stands out.
  for (const p of measured) p.importance = sum > 0 ? p.importance / sum : 1 / measured.length;
  measured.sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { status: 'ok', method: 'ped-anova', trials: trials.length, params: measured };
}

/**
 * The largest loss still counted as top: the `quantile` of the losses (the inverted CDF, so
 * an actual loss), lowered no further than the `minTop`-th smallest. Every trial tied with
 * the cutoff is top, so the result does not depend on the trials' order.
 */
function topCutoff(losses: readonly number[], quantile: number, minTop: number): number {
  const sorted = [...losses].sort((a, b) => a - b);
  const atQuantile = sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)] as number;
  const atMinTop = sorted[Math.min(sorted.length, minTop) - 1] as number;
  return Math.max(atQuantile, atMinTop);
}

function divergence(target: Target, top: readonly number[], all: readonly number[], priorWeight: number): number {
  const pmf = target.dist.type === 'categorical' ? categoricalPmf : numericPmf;
  return pearsonDivergence(pmf(top, priorWeight), pmf(all, priorWeight));
}

function checkOptions(o: Required<Omit<PedAnovaOptions, 'direction'>>): void {
  const fail = (name: string, rule: string) => {
    throw new RangeError(`The value of \`${name}\` is ${o[name as keyof typeof o]}, but must be ${rule}`);
  };
  if (!(o.baselineQuantile > 0 && o.baselineQuantile <= 1)) fail('baselineQuantile', 'in (0, 1]');
  if (!(Number.isSafeInteger(o.minTopTrials) && o.minTopTrials >= 1)) fail('minTopTrials', 'an integer >= 1');
  if (!(Number.isSafeInteger(o.minTrials) && o.minTrials > o.minTopTrials)) fail('minTrials', `an integer > minTopTrials (${o.minTopTrials})`);
  if (!(Number.isSafeInteger(o.nSteps) && o.nSteps >= 2)) fail('nSteps', 'an integer >= 2');
  if (!(o.priorWeight > 0 && Number.isFinite(o.priorWeight))) fail('priorWeight', 'a finite number > 0');
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
