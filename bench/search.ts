/**
 * npm run bench:search — our samplers against Optuna's on functions with known optima.
 *
 * Each (sampler, function, seed) is one study of MAX_BUDGET trials, run one trial at a time;
 * the regret at each budget is that of the incumbent (the trial with the best observed value
 * among the first `budget`), measured on the noiseless value. The first table shows the
 * median over seeds, and the ratios ours / Optuna's (below 1: ours is better). The second
 * shows the tails that medians hide: mean, 90th percentile, worst seed, and the share of
 * seeds whose regret is above random search's median (ours, the same threshold for every
 * sampler). "tpe" is ours with its defaults (multivariate), "tpe univariate" the
 * Optuna-default variant. The "∥4" variant keeps 4 trials in flight (the oldest finishes,
 * the next is suggested with 3 still running), with constant liar on both sides.
 *
 * Optuna runs in Python processes (bench/optuna_search.py, the functions shared among
 * BENCH_OPTUNA_PROCS of them) alongside ours. Env: BENCH_SEEDS (default 100),
 * BENCH_FUNCTIONS (comma list), BENCH_PARALLEL (0 to skip the ∥4 variant), BENCH_PYTHON
 * (default /usr/bin/python3, with Debian's python3-optuna 3.1), BENCH_OPTUNA_PROCS (default:
 * the CPUs less one, at least 1).
 */
import { availableParallelism } from 'node:os';
import { createEvolutionSampler, createRandomSampler, createTpeSampler, rngFor, type FrozenTrial, type Sampler } from '../src/search/index.ts';
import { FUNCTIONS, type BenchFunction } from './search-functions.ts';
import { runOptunaScript } from './optuna-process.ts';
import { mean, median, quantile } from './stats.ts';

const BUDGETS = [50, 100];
const MAX_BUDGET = Math.max(...BUDGETS);
const N_STARTUP = 10;
const seeds = Array.from({ length: Number(process.env.BENCH_SEEDS ?? 100) }, (_, i) => i + 1);
const only = process.env.BENCH_FUNCTIONS?.split(',');
const functions = FUNCTIONS.filter((f) => only === undefined || only.includes(f.name));
const parallel = process.env.BENCH_PARALLEL !== '0';
const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const optunaProcs = Number(process.env.BENCH_OPTUNA_PROCS ?? Math.max(1, availableParallelism() - 1));

/** Regrets by sampler, function and budget, one per seed. */
type Results = Record<string, Record<string, Record<number, number[]>>>;

const OURS: Array<[string, () => Sampler, number]> = [
  ['tpe', () => createTpeSampler({ nStartupTrials: N_STARTUP }), 1],
  ['tpe univariate', () => createTpeSampler({ nStartupTrials: N_STARTUP, multivariate: false }), 1],
  ['random', createRandomSampler, 1],
  ['evolution', createEvolutionSampler, 1],
  ...(parallel ? [['tpe ∥4', () => createTpeSampler({ nStartupTrials: N_STARTUP }), 4] as [string, () => Sampler, number]] : []),
];

function gaussian(seed: number, trial: number): number {
  const rng = rngFor(seed, trial, 7);
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** One study; returns the regret at each budget. */
function study(fn: BenchFunction, sampler: Sampler, seed: number, inFlight: number): number[] {
  const history: FrozenTrial[] = [];
  const clean: number[] = [];
  const finishOldest = (): void => {
    const t = history.find((x) => x.state === 'running')!;
    const value = fn.value(t.params);
    clean[t.number] = value;
    t.state = 'completed';
    t.value = value + (fn.noise ?? 0) * gaussian(seed, t.number);
  };
  for (let n = 0; n < MAX_BUDGET; n++) {
    if (history.filter((x) => x.state === 'running').length >= inFlight) finishOldest();
    const params = sampler.sample(fn.space, history, { direction: 'minimize', rng: rngFor(seed, n) });
    history.push({ number: n, params, state: 'running', value: null });
  }
  while (history.some((x) => x.state === 'running')) finishOldest();
  return BUDGETS.map((budget) => {
    let best = 0;
    for (let n = 1; n < budget; n++) if ((history[n]!.value as number) < (history[best]!.value as number)) best = n;
    return clean[best]! - fn.optimum;
  });
}

function runOurs(): Results {
  const results: Results = {};
  for (const [name, make, inFlight] of OURS) {
    const byFunction: Results[string] = (results[name] = {});
    for (const fn of functions) {
      const started = Date.now();
      const byBudget: Record<number, number[]> = (byFunction[fn.name] = Object.fromEntries(BUDGETS.map((b) => [b, []])));
      for (const seed of seeds) {
        study(fn, make(), seed, inFlight).forEach((r, i) => byBudget[BUDGETS[i]!]!.push(r));
      }
      process.stderr.write(`ours ${name} ${fn.name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  }
  return results;
}

/** Optuna's results, or the reason there are none; the functions dealt round-robin to the processes. */
async function runOptuna(): Promise<Results | string> {
  const procs = Math.max(1, Math.min(optunaProcs, functions.length));
  const shares = Array.from({ length: procs }, (_, i) => functions.filter((_, k) => k % procs === i).map((f) => f.name));
  const parts = await Promise.all(shares.map(runOptunaProcess));
  const failed = parts.find((p): p is string => typeof p === 'string');
  if (failed !== undefined) return failed;
  const merged: Results = {};
  for (const part of parts as Results[]) {
    for (const [sampler, byFunction] of Object.entries(part)) Object.assign((merged[sampler] ??= {}), byFunction);
  }
  return merged;
}

function runOptunaProcess(names: string[]): Promise<Results | string> {
  return runOptunaScript<Results>(python, 'optuna_search.py', { functions: names, seeds, budgets: BUDGETS, nStartupTrials: N_STARTUP, parallel });
}

const p90 = (xs: readonly number[]): number => quantile(xs, 0.9);

const fmt = (x: number | undefined): string => (x === undefined ? '—' : x < 1e-3 ? x.toExponential(1) : x.toPrecision(3));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined ? '—' : b === 0 ? (a === 0 ? '1.00' : '∞') : (a / b).toFixed(2);

function table(ours: Results, optuna: Results | string): string {
  const theirs = typeof optuna === 'string' ? {} : optuna;
  const m = (r: Results, sampler: string, fn: string, budget: number): number | undefined => {
    const xs = r[sampler]?.[fn]?.[budget];
    return xs === undefined || xs.length === 0 ? undefined : median(xs);
  };
  const header = ['function', 'trials', 'tpe', 'optuna tpe', 'tpe / optuna', 'tpe univariate', 'univariate / optuna', 'random', 'optuna random', 'random / optuna', 'evolution'];
  if (parallel) header.push('tpe ∥4', 'optuna tpe ∥4', '∥4 / optuna');
  const rows = [header, header.map(() => '---')];
  for (const fn of functions) {
    for (const budget of BUDGETS) {
      const row = [fn.name, String(budget)];
      const tpe = m(ours, 'tpe', fn.name, budget);
      const otpe = m(theirs, 'tpe', fn.name, budget);
      const rnd = m(ours, 'random', fn.name, budget);
      const ornd = m(theirs, 'random', fn.name, budget);
      const uni = m(ours, 'tpe univariate', fn.name, budget);
      row.push(fmt(tpe), fmt(otpe), ratio(tpe, otpe), fmt(uni), ratio(uni, otpe), fmt(rnd), fmt(ornd), ratio(rnd, ornd), fmt(m(ours, 'evolution', fn.name, budget)));
      if (parallel) {
        const p = m(ours, 'tpe ∥4', fn.name, budget);
        const op = m(theirs, 'tpe ∥4', fn.name, budget);
        row.push(fmt(p), fmt(op), ratio(p, op));
      }
      rows.push(row);
    }
  }
  const lines = rows.map((r) => `| ${r.join(' | ')} |`);
  const note = typeof optuna === 'string' ? `\nOptuna columns skipped: ${optuna}\n` : '';
  const noise = 'random and Optuna random are the same algorithm: their ratio shows how far medians over this many seeds wander by chance.';
  return `Median regret of the incumbent over ${seeds.length} seeds (lower is better; ratio < 1: ours better)\n\n${lines.join('\n')}\n\n${noise}\n${note}`;
}

/** Mean, p90, worst and share of seeds above random search's median, per sampler. */
function tailTable(ours: Results, optuna: Results | string): string {
  const theirs = typeof optuna === 'string' ? {} : optuna;
  const columns: Array<[string, Results, string]> = [
    ['tpe', ours, 'tpe'],
    ['optuna tpe', theirs, 'tpe'],
    ['tpe univariate', ours, 'tpe univariate'],
    ['random', ours, 'random'],
    ['evolution', ours, 'evolution'],
    ...(parallel ? [['tpe ∥4', ours, 'tpe ∥4'], ['optuna tpe ∥4', theirs, 'tpe ∥4']] as Array<[string, Results, string]> : []),
  ];
  const header = ['function', 'trials', ...columns.map(([label]) => label), 'mean tpe / optuna', 'p90 tpe / optuna'];
  const rows = [header, header.map(() => '---')];
  for (const fn of functions) {
    for (const budget of BUDGETS) {
      const randomMedian = median(ours.random?.[fn.name]?.[budget] ?? [NaN]);
      const xsOf = (r: Results, sampler: string): number[] | undefined => {
        const xs = r[sampler]?.[fn.name]?.[budget];
        return xs === undefined || xs.length === 0 ? undefined : xs;
      };
      const cell = (xs: number[] | undefined): string => {
        if (xs === undefined) return '—';
        const worse = xs.filter((x) => x > randomMedian).length / xs.length;
        return `${fmt(mean(xs))} / ${fmt(p90(xs))} / ${fmt(Math.max(...xs))} / ${(100 * worse).toFixed(0)}%`;
      };
      const tpe = xsOf(ours, 'tpe');
      const otpe = xsOf(theirs, 'tpe');
      rows.push([
        fn.name,
        String(budget),
        ...columns.map(([, r, sampler]) => cell(xsOf(r, sampler))),
        ratio(tpe && mean(tpe), otpe && mean(otpe)),
        ratio(tpe && p90(tpe), otpe && p90(otpe)),
      ]);
    }
  }
  const lines = rows.map((r) => `| ${r.join(' | ')} |`);
  return `Tails over the same seeds: mean / 90th percentile / worst / share of seeds above random search's median regret\n\n${lines.join('\n')}\n`;
}

const started = Date.now();
const optuna = runOptuna();
const ours = runOurs();
const theirs = await optuna;
process.stdout.write(table(ours, theirs));
process.stdout.write(`\n${tailTable(ours, theirs)}`);
process.stdout.write(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
