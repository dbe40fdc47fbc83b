/** PED-ANOVA importance on functions whose important parameters are known. */
import { describe, expect, it } from 'vitest';
import type { Direction, Params } from '../../src/domain.ts';
import { createRandomSampler, rngFor, type FrozenTrial, type SearchSpace } from '../../src/search/index.ts';
import { pedAnova, type ImportanceResult } from '../../src/search/importance/index.ts';

/** `n` random trials of `space`, each completed with `f` of its params. */
function history(space: SearchSpace, f: (p: Params) => number, n: number, seed: number): FrozenTrial[] {
  const sampler = createRandomSampler();
  const trials: FrozenTrial[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.sample(space, trials, { direction: 'minimize', rng: rngFor(seed, i) });
    trials.push({ number: i, params, state: 'completed', value: f(params) });
  }
  return trials;
}

function importances(result: ImportanceResult): Record<string, number> {
  if (result.status !== 'ok') throw new Error(`expected importances, got ${JSON.stringify(result)}`);
  return Object.fromEntries(result.params.map((p) => [p.name, p.importance]));
}

function sum(xs: Record<string, number>): number {
  return Object.values(xs).reduce((a, b) => a + b, 0);
}

const SEEDS = [1, 2, 3, 4, 5];
const num = (p: Params, k: string) => p[k] as number;

describe('pedAnova', () => {
  const xyz: SearchSpace = {
    families: ['mlp'],
    params: { mlp: { x: { type: 'float', low: -1, high: 1 }, y: { type: 'float', low: 0, high: 10 }, z: { type: 'float', low: -1, high: 1 } } },
  };
  const fxyz = (p: Params) => 10 * num(p, 'x') ** 2 + 0.1 * num(p, 'y');

  it.each(SEEDS)('ranks x over y over z for 10·x² + 0.1·y (seed %i), with importances summing to 1', (seed) => {
    const result = pedAnova(xyz, history(xyz, fxyz, 200, seed), { direction: 'minimize' });
    expect(result).toMatchObject({ status: 'ok', method: 'ped-anova', trials: 200 });
    const imp = importances(result);
    expect(Object.keys(imp)).toEqual(['x', 'y', 'z']);
    expect(imp.x).toBeGreaterThan(0.6);
    expect(imp.z).toBeLessThan(imp.y!);
    expect(sum(imp)).toBeCloseTo(1, 12);
  });

  it('gives a categorical that decides the value nearly all the importance', () => {
    const space: SearchSpace = {
      families: ['mlp'],
      params: { mlp: { optimizer: { type: 'categorical', choices: ['adam', 'rmsprop', 'sgd'] }, w: { type: 'float', low: 0, high: 1 }, k: { type: 'int', low: 1, high: 8 } } },
    };
    // Every adam trial ties for best, so the top trials are exactly those; w and k do nothing.
    // (A small tie-breaker in w would make w matter too: the top tenth would need a low w.)
    const f = (p: Params) => (p.optimizer === 'adam' ? 0 : 1);
    for (const seed of SEEDS) {
      const imp = importances(pedAnova(space, history(space, f, 120, seed), { direction: 'minimize' }));
      expect(imp.optimizer).toBeGreaterThan(0.8);
    }
  });

  it('measures a log-scaled parameter on its log scale, where a narrow optimum in decades shows', () => {
    const space = (log: boolean): SearchSpace => ({
      families: ['mlp'],
      params: { mlp: { learningRate: { type: 'float', low: 1e-6, high: 1, log }, x: { type: 'float', low: 0, high: 1 } } },
    });
    const f = (p: Params) => (Math.log10(num(p, 'learningRate')) + 3) ** 2;
    for (const seed of SEEDS) {
      const trials = history(space(true), f, 150, seed);
      const onLog = importances(pedAnova(space(true), trials, { direction: 'minimize' }));
      // The same trials read on a linear scale: 1e-6 … 1e-2 all fall in the first cell.
      const onLinear = importances(pedAnova(space(false), trials, { direction: 'minimize' }));
      expect(onLog.learningRate).toBeGreaterThan(0.85);
      expect(onLog.learningRate).toBeGreaterThan(onLinear.learningRate!);
    }
  });

  it('measures a family’s own parameters over that family’s trials, and shared ones over all', () => {
    const space: SearchSpace = {
      families: ['mlp', 'rnn'],
      params: {
        mlp: { units: { type: 'int', low: 16, high: 256, log: true }, dropout: { type: 'float', low: 0, high: 0.5 }, learningRate: { type: 'float', low: 1e-4, high: 1e-2, log: true }, layers: 2 },
        rnn: { cell: { type: 'categorical', choices: ['lstm', 'gru'] }, dropout: { type: 'float', low: 0, high: 0.3 }, learningRate: { type: 'float', low: 1e-4, high: 1e-2, log: true } },
      },
    };
    // Within each family one parameter decides; the mlp's best beats the rnn's, so the family matters too.
    const f = (p: Params) => (p.family === 'mlp' ? (Math.log2(num(p, 'units')) - 6) ** 2 : p.cell === 'gru' ? 2 : 3);
    const trials = history(space, f, 300, 7);
    const result = pedAnova(space, trials, { direction: 'minimize' });
    const imp = importances(result);
    // layers is a constant: not searched, not measured.
    expect(Object.keys(imp).sort()).toEqual(['family', 'learningRate', 'mlp.dropout', 'mlp.units', 'rnn.cell', 'rnn.dropout']);
    const mlpTrials = trials.filter((t) => t.params.family === 'mlp').length;
    const counts = Object.fromEntries(result.status === 'ok' ? result.params.map((p) => [p.name, p.trials]) : []);
    expect(counts).toEqual({ family: 300, learningRate: 300, 'mlp.units': mlpTrials, 'mlp.dropout': mlpTrials, 'rnn.cell': 300 - mlpTrials, 'rnn.dropout': 300 - mlpTrials });
    expect(imp['mlp.units']).toBeGreaterThan(imp['mlp.dropout']!);
    expect(imp['rnn.cell']).toBeGreaterThan(imp['rnn.dropout']!);
    expect(imp.family).toBeGreaterThan(imp.learningRate!);
    expect(sum(imp)).toBeCloseTo(1, 12);
  });

  it('leaves out a family’s parameters while that family has fewer than minTrials trials', () => {
    const space: SearchSpace = {
      families: ['mlp', 'rnn'],
      params: { mlp: { units: { type: 'int', low: 16, high: 64 } }, rnn: { cell: { type: 'categorical', choices: ['lstm', 'gru'] } } },
    };
    const trials = history(space, (p) => (p.family === 'mlp' ? num(p, 'units') : 1), 30, 3);
    const rnn = trials.filter((t) => t.params.family === 'rnn');
    const few = [...trials.filter((t) => t.params.family === 'mlp'), ...rnn.slice(0, 3)];
    expect(few.length).toBeGreaterThanOrEqual(10);
    const imp = importances(pedAnova(space, few, { direction: 'minimize' }));
    expect(Object.keys(imp).sort()).toEqual(['family', 'mlp.units']);
  });

  it('reads the direction: what it takes to be lowest is not what it takes to be highest', () => {
    const space: SearchSpace = {
      families: ['mlp'],
      params: { mlp: { c: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] }, y: { type: 'float', low: 0, high: 1 } } },
    };
    // Lowest: any trial with c = 'a'. Highest: c is not 'a' and y is near 1.
    const f = (p: Params) => (p.c === 'a' ? -1 : num(p, 'y'));
    const trials = history(space, f, 200, 11);
    const read = (direction: Direction) => importances(pedAnova(space, trials, { direction }));
    expect(read('minimize').c).toBeGreaterThan(read('minimize').y!);
    expect(read('maximize').y).toBeGreaterThan(read('maximize').c!);
  });

  it('gives the same answer however the history is ordered, and for the same seed', () => {
    const trials = history(xyz, fxyz, 100, 5);
    const first = pedAnova(xyz, trials, { direction: 'minimize' });
    const shuffled = [...trials];
    const rng = rngFor(99);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    expect(pedAnova(xyz, shuffled, { direction: 'minimize' })).toEqual(first);
    expect(pedAnova(xyz, history(xyz, fxyz, 100, 5), { direction: 'minimize' })).toEqual(first);
  });

  it('answers too-few-trials below minTrials, counting only completed trials with a finite value', () => {
    const trials = history(xyz, fxyz, 9, 1);
    trials.push(
      { number: 9, params: trials[0]!.params, state: 'running', value: null },
      { number: 10, params: trials[0]!.params, state: 'failed', value: null },
      { number: 11, params: trials[0]!.params, state: 'pruned', value: 0.1 },
      { number: 12, params: trials[0]!.params, state: 'completed', value: Number.NaN },
    );
    expect(pedAnova(xyz, trials, { direction: 'minimize' })).toEqual({ status: 'too-few-trials', trials: 9, needed: 10 });
    expect(pedAnova(xyz, trials, { direction: 'minimize', minTrials: 5 })).toMatchObject({ status: 'ok', trials: 9 });
  });

  it('shares the importance equally when every trial has the same value', () => {
    const trials = history(xyz, () => 0.5, 20, 2);
    expect(importances(pedAnova(xyz, trials, { direction: 'maximize' }))).toEqual({ x: 1 / 3, y: 1 / 3, z: 1 / 3 });
  });

  it('ignores a value its distribution cannot produce, and names a bad option with its rule', () => {
    const trials = history(xyz, fxyz, 12, 4);
    trials[0]!.params = { ...trials[0]!.params, x: 7 };
    const result = pedAnova(xyz, trials, { direction: 'minimize' });
    expect(result.status === 'ok' && result.params.map((p) => [p.name, p.trials])).toEqual(expect.arrayContaining([['y', 12], ['x', 11]]));
    expect(() => pedAnova(xyz, trials, { direction: 'minimize', baselineQuantile: 0 })).toThrow('The value of `baselineQuantile` is 0, but must be in (0, 1]');
    expect(() => pedAnova(xyz, trials, { direction: 'minimize', minTrials: 2 })).toThrow('must be an integer > minTopTrials (2)');
  });
});
