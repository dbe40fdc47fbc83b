/** Regularized evolution beyond the shared sampler contract. */
import { describe, expect, it } from 'vitest';
import type { Params } from '../../src/domain.ts';
import { contains, createEvolutionSampler, createRandomSampler, rngFor, type FrozenTrial, type SearchSpace } from '../../src/search/index.ts';

const space: SearchSpace = {
  families: ['mlp'],
  params: {
    mlp: {
      activation: { type: 'categorical', choices: ['relu', 'tanh', 'elu'] },
      units: { type: 'int', low: 16, high: 256, log: true },
      layers: { type: 'int', low: 1, high: 2 },
      dropout: { type: 'float', low: 0, high: 0.5 },
      learningRate: { type: 'float', low: 1e-4, high: 1e-2, log: true },
      optimizer: 'adam',
    },
  },
};
const twoFamilies: SearchSpace = {
  families: ['mlp', 'cnn'],
  params: { mlp: space.params.mlp!, cnn: { filters: { type: 'int', low: 8, high: 32 }, pooling: { type: 'categorical', choices: ['max', 'avg'] } } },
};

/** `n` random completed trials numbered from `from`, valued by `value`. */
function randomTrials(n: number, from: number, value: (p: Params, number: number) => number, s: SearchSpace = space): FrozenTrial[] {
  return Array.from({ length: n }, (_, i) => {
    const params = createRandomSampler().sample(s, [], { direction: 'minimize', rng: rngFor(99, from + i) });
    return { number: from + i, params, state: 'completed', value: value(params, from + i) };
  });
}

function changedKeys(a: Params, b: Params): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

describe('evolution', () => {
  it('draws at random, exactly as random search, until the population is full', () => {
    const history = [...randomTrials(4, 0, () => 1), { number: 4, params: { family: 'mlp' }, state: 'running', value: null } as FrozenTrial];
    const ctx = () => ({ direction: 'minimize' as const, rng: rngFor(5, 5) });
    expect(createEvolutionSampler({ populationSize: 5, sampleSize: 2 }).sample(space, history, ctx()))
      .toEqual(createRandomSampler().sample(space, history, ctx()));
  });

  it('mutates exactly one parameter of the tournament winner, and never returns it unchanged', () => {
    // Tournament of the whole population: the winner is its best member, trial 7 (value 0).
    const history = randomTrials(10, 0, (_p, n) => (n === 7 ? 0 : 1 + n));
    const sampler = createEvolutionSampler({ populationSize: 10, sampleSize: 10 });
    const mutated = new Set<string>();
    for (let n = 10; n < 210; n++) {
      const child = sampler.sample(space, history, { direction: 'minimize', rng: rngFor(1, n) });
      const changed = changedKeys(history[7]!.params, child);
      expect(changed).toHaveLength(1);
      mutated.add(changed[0]!);
      for (const [name, spec] of Object.entries(space.params.mlp!)) expect(contains(spec, child[name])).toBe(true);
    }
    // Every searched parameter gets mutated; the constant never does.
    expect([...mutated].sort()).toEqual(['activation', 'dropout', 'layers', 'learningRate', 'units']);
  });

  it('picks the winner by the study’s direction', () => {
    const history = randomTrials(10, 0, (_p, n) => n);
    const child = createEvolutionSampler({ populationSize: 10, sampleSize: 10 }).sample(space, history, { direction: 'maximize', rng: rngFor(1, 10) });
    expect(changedKeys(history[9]!.params, child)).toHaveLength(1);
  });

  it('ages: only the populationSize most recent completed trials can be parents', () => {
    // Trial 0 is by far the best, but 5 younger trials have completed since.
    const history = randomTrials(6, 0, (_p, n) => (n === 0 ? -100 : n));
    const sampler = createEvolutionSampler({ populationSize: 5, sampleSize: 5 });
    for (let n = 6; n < 30; n++) {
      const child = sampler.sample(space, history, { direction: 'minimize', rng: rngFor(2, n) });
      expect(changedKeys(history[1]!.params, child)).toHaveLength(1);
    }
  });

  it('never takes a running, queued, failed or pruned trial as a parent', () => {
    const history = randomTrials(5, 0, (_p, n) => 10 + n);
    const others = randomTrials(4, 5, () => -100).map((t, i) => ({ ...t, state: (['running', 'queued', 'failed', 'pruned'] as const)[i]! }));
    const sampler = createEvolutionSampler({ populationSize: 5, sampleSize: 5 });
    for (let n = 9; n < 30; n++) {
      const child = sampler.sample(space, [...history, ...others], { direction: 'minimize', rng: rngFor(3, n) });
      expect(changedKeys(history[0]!.params, child)).toHaveLength(1);
    }
  });

  it('can move to another family, whose parameters are drawn afresh', () => {
    const history = randomTrials(6, 0, (p) => (p.family === 'mlp' ? 0 : 1), twoFamilies).map((t) => ({ ...t, params: { ...t.params } }));
    const sampler = createEvolutionSampler({ populationSize: 6, sampleSize: 6 });
    const families = new Set<unknown>();
    for (let n = 6; n < 100; n++) {
      const child = sampler.sample(twoFamilies, history, { direction: 'minimize', rng: rngFor(4, n) });
      families.add(child.family);
      const specs = twoFamilies.params[child.family as 'mlp' | 'cnn']!;
      expect(Object.keys(child).sort()).toEqual(['family', ...Object.keys(specs)].sort());
      for (const [name, spec] of Object.entries(specs)) expect(contains(spec, child[name])).toBe(true);
    }
    expect(families).toEqual(new Set(['mlp', 'cnn']));
  });

  it('moves an int at its bound one step inwards when the Gaussian step rounds back', () => {
    const tiny: SearchSpace = { families: ['mlp'], params: { mlp: { layers: { type: 'int', low: 1, high: 2 } } } };
    const history: FrozenTrial[] = [0, 1].map((number) => ({ number, params: { family: 'mlp', layers: 2 }, state: 'completed', value: number }));
    for (let n = 2; n < 40; n++) {
      expect(createEvolutionSampler({ populationSize: 2, sampleSize: 1 }).sample(tiny, history, { direction: 'minimize', rng: rngFor(5, n) }).layers).toBe(1);
    }
  });
});
