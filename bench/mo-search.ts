/**
 * npm run bench:mo — our multi-objective samplers against Optuna 3.1's on ZDT1, ZDT2, ZDT3
 * (two objectives, 10-D) and DTLZ2 (three objectives, 6-D), all minimized over [0, 1]^n.
 *
 * Each (sampler, function, seed) is one study of max(BUDGETS) trials, one at a time. The
 * score at each budget is the hypervolume of the first `budget` trials against a fixed
 * reference point per function (higher is better), computed by src/search/pareto.ts for
 * both sides: Optuna's studies (bench/optuna_mo.py, in BENCH_OPTUNA_PROCS processes
 * alongside ours) return their objective vectors. Shown per sampler: median, mean, p10 (the
 * worst tail, as higher is better) and the share of seeds below our random search's median
 * (the same threshold for every sampler), and the ratios ours / Optuna's of medians and p10
 * (above 1: ours better).
 *
 * NSGA-II runs with a population of BENCH_POPULATION (default 20) on both sides, not
 * Optuna's 50: with 50, a study of 100 trials holds one evolved generation only.
 * Optuna's MOTPE takes ~20 s per study of 200 trials (its hypervolume code is in Python),
 * hence the default budgets. Env: BENCH_SEEDS (default 20), BENCH_BUDGETS (default 50,100),
 * BENCH_FUNCTIONS (comma list), BENCH_PYTHON (default /usr/bin/python3), BENCH_OPTUNA_PROCS
 * (default: the CPUs less one, at least 1).
 */
import { availableParallelism } from 'node:os';
import type { Direction, Params } from '../src/domain.ts';
import { createRandomSampler, rngFor, type FrozenTrial, type Sampler, type SearchSpace } from '../src/search/index.ts';
import { hypervolume } from '../src/search/pareto.ts';
import { createMotpeSampler } from '../src/search/samplers/motpe.ts';
import { createNsga2Sampler } from '../src/search/samplers/nsga2.ts';
import { runOptunaScript } from './optuna-process.ts';
import { mean, median, quantile } from './stats.ts';

interface MoFunction {
  name: string;
  dims: number;
  reference: number[];
  value(x: number[]): number[];
}

const zdtG = (x: number[]): number => 1 + (9 * x.slice(1).reduce((s, v) => s + v, 0)) / (x.length - 1);
/** References past the worst values a search can meet: f1 <= 1, f2 <= g <= 10 (ZDT), f <= 1 + g <= 2 (DTLZ2, 6-D). */
const FUNCTIONS: MoFunction[] = [
  { name: 'zdt1', dims: 10, reference: [1.1, 11], value: (x) => { const g = zdtG(x); return [x[0]!, g * (1 - Math.sqrt(x[0]! / g))]; } },
  { name: 'zdt2', dims: 10, reference: [1.1, 11], value: (x) => { const g = zdtG(x); return [x[0]!, g * (1 - (x[0]! / g) ** 2)]; } },
  {
    name: 'zdt3',
    dims: 10,
    reference: [1.1, 11],
    value: (x) => {
      const g = zdtG(x);
      const r = x[0]! / g;
      return [x[0]!, g * (1 - Math.sqrt(r) - r * Math.sin(10 * Math.PI * x[0]!))];
    },
  },
  {
    name: 'dtlz2',
    dims: 6,
    reference: [2.2, 2.2, 2.2],
    value: (x) => {
      const g = x.slice(2).reduce((s, v) => s + (v - 0.5) ** 2, 0);
      const a = (x[0]! * Math.PI) / 2;
      const b = (x[1]! * Math.PI) / 2;
      return [(1 + g) * Math.cos(a) * Math.cos(b), (1 + g) * Math.cos(a) * Math.sin(b), (1 + g) * Math.sin(a)];
    },
  },
];

const BUDGETS = (process.env.BENCH_BUDGETS ?? '50,100').split(',').map(Number);
const MAX_BUDGET = Math.max(...BUDGETS);
const N_STARTUP = 10;
const POPULATION = Number(process.env.BENCH_POPULATION ?? 20);
const seeds = Array.from({ length: Number(process.env.BENCH_SEEDS ?? 20) }, (_, i) => i + 1);
const only = process.env.BENCH_FUNCTIONS?.split(',');
const functions = FUNCTIONS.filter((f) => only === undefined || only.includes(f.name));
const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const optunaProcs = Number(process.env.BENCH_OPTUNA_PROCS ?? Math.max(1, availableParallelism() - 1));
const SAMPLERS = ['nsga2', 'motpe', 'random'];

/** Objective vectors by sampler and function: one list of trials per seed. */
type Runs = Record<string, Record<string, number[][][]>>;

const OURS: Record<string, () => Sampler> = {
  nsga2: () => createNsga2Sampler({ populationSize: POPULATION }),
  motpe: () => createMotpeSampler({ nStartupTrials: N_STARTUP }),
  random: createRandomSampler,
};

function spaceOf(fn: MoFunction): SearchSpace {
  const params = Object.fromEntries(Array.from({ length: fn.dims }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]));
  return { families: ['mlp'], params: { mlp: params } } as SearchSpace;
}

function study(fn: MoFunction, sampler: Sampler, seed: number): number[][] {
  const space = spaceOf(fn);
  const directions: Direction[] = fn.reference.map(() => 'minimize');
  const history: FrozenTrial[] = [];
  for (let n = 0; n < MAX_BUDGET; n++) {
    const params: Params = sampler.sample(space, history, { direction: 'minimize', directions, rng: rngFor(seed, n) });
    const values = fn.value(Array.from({ length: fn.dims }, (_, i) => params[`x${i}`] as number));
    history.push({ number: n, params, state: 'completed', value: values[0]!, values });
  }
  return history.map((t) => t.values!);
}

function runOurs(): Runs {
  const runs: Runs = {};
  for (const name of SAMPLERS) {
    for (const fn of functions) {
      const started = Date.now();
      (runs[name] ??= {})[fn.name] = seeds.map((seed) => study(fn, OURS[name]!(), seed));
      console.error(`ours ${name} ${fn.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  return runs;
}

async function runOptuna(): Promise<Runs | string> {
  // MOTPE dominates the time, so its jobs go first and are dealt out round robin.
  const jobs = ['motpe', 'nsga2', 'random'].flatMap((s) => functions.map((f) => [s, f.name]));
  const shares = Array.from({ length: Math.min(optunaProcs, jobs.length) }, (_, p) => jobs.filter((_, i) => i % optunaProcs === p));
  const parts = await Promise.all(shares.map(runOptunaProcess));
  const failed = parts.find((p) => typeof p === 'string');
  if (failed !== undefined) return failed;
  const merged: Runs = {};
  for (const part of parts as Runs[]) {
    for (const [sampler, byFunction] of Object.entries(part)) Object.assign((merged[sampler] ??= {}), byFunction);
  }
  return merged;
}

function runOptunaProcess(jobs: string[][]): Promise<Runs | string> {
  const dims = Object.fromEntries(functions.map((f) => [f.name, f.dims]));
  return runOptunaScript<Runs>(python, 'optuna_mo.py', { jobs, seeds, trials: MAX_BUDGET, populationSize: POPULATION, nStartupTrials: N_STARTUP, dims });
}

/** Hypervolume of the first `budget` trials of each seed. */
function volumes(runs: Runs, sampler: string, fn: MoFunction, budget: number): number[] | undefined {
  const directions: Direction[] = fn.reference.map(() => 'minimize');
  return runs[sampler]?.[fn.name]?.map((trials) => hypervolume(trials.slice(0, budget), fn.reference, directions));
}

const p10 = (xs: readonly number[]): number => quantile(xs, 0.1);

const fmt = (x: number | undefined): string => (x === undefined ? '—' : x.toPrecision(4));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '—' : (a / b).toFixed(3);

function table(ours: Runs, optuna: Runs | string): string {
  const theirs = typeof optuna === 'string' ? {} : optuna;
  const header = ['function', 'trials', 'sampler', 'ours: median / mean / p10 / below random', 'optuna: median / mean / p10 / below random', 'median ours / optuna', 'p10 ours / optuna'];
  const rows = [header, header.map(() => '---')];
  for (const fn of functions) {
    for (const budget of BUDGETS) {
      const threshold = median(volumes(ours, 'random', fn, budget) ?? [NaN]);
      const cell = (xs: number[] | undefined): string => {
        if (xs === undefined) return '—';
        const below = xs.filter((x) => x < threshold).length / xs.length;
        return `${fmt(median(xs))} / ${fmt(mean(xs))} / ${fmt(p10(xs))} / ${(100 * below).toFixed(0)}%`;
      };
      for (const sampler of SAMPLERS) {
        const a = volumes(ours, sampler, fn, budget);
        const b = volumes(theirs, sampler, fn, budget);
        rows.push([fn.name, String(budget), sampler, cell(a), cell(b), ratio(a && median(a), b && median(b)), ratio(a && p10(a), b && p10(b))]);
      }
    }
  }
  const lines = rows.map((r) => `| ${r.join(' | ')} |`);
  const refs = functions.map((f) => `${f.name} (${f.reference.join(', ')})`).join(', ');
  const note = typeof optuna === 'string' ? `\nOptuna columns skipped: ${optuna}\n` : '';
  return [
    `Hypervolume over ${seeds.length} seeds (higher is better; ratio > 1: ours better). Reference points: ${refs}.`,
    `NSGA-II population ${POPULATION} on both sides; MOTPE ${N_STARTUP} start-up trials. random and Optuna random are the same algorithm: their ratio shows how far these statistics wander by chance.`,
    '',
    ...lines,
    note,
  ].join('\n');
}

const started = Date.now();
const optunaRun = runOptuna();
// Ours runs while the Python processes do (they are separate processes, so both proceed).
const ours = runOurs();
const optuna = await optunaRun;
console.log(table(ours, optuna));
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
