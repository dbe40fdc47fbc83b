import { describe, expect, it } from 'vitest';
import type { Direction, Params } from '../../src/domain.ts';
import { ValidationError } from '../../src/errors.ts';
import { contains, createRandomSampler, createSampler, rngFor, type FrozenTrial, type Sampler, type SearchSpace } from '../../src/search/index.ts';
import { hypervolume } from '../../src/search/pareto.ts';
import { createMotpeSampler, splitBelow } from '../../src/search/samplers/motpe.ts';
import type { ScoredTrial } from '../../src/search/samplers/mo-trials.ts';
import { createNsga2Sampler } from '../../src/search/samplers/nsga2.ts';

const space: SearchSpace = {
  families: ['mlp', 'cnn'],
  params: {
    mlp: {
      units: { type: 'int', low: 10, high: 50, step: 7 },
      learningRate: { type: 'float', low: 1e-5, high: 1e-1, log: true },
      batchSize: { type: 'int', low: 8, high: 256, log: true },
      activation: { type: 'categorical', choices: ['relu', 'tanh', 'gelu'] },
      optimizer: 'adam',
    },
    cnn: { filters: { type: 'int', low: 8, high: 32 }, dropout: { type: 'float', low: 0, high: 0.5 }, kernelSize: 3 },
  },
} as SearchSpace;

const DIRECTIONS: Direction[] = ['minimize', 'maximize'];

/** Two objectives pulling apart (one maximized), and a constraint that some trials break. */
function objectives(params: Params): { values: number[]; violation: number } {
  const lr = typeof params.learningRate === 'number' ? Math.log10(params.learningRate) + 3 : (params.dropout as number) * 4 - 1;
  const size = typeof params.units === 'number' ? params.units / 50 : (params.filters as number) / 32;
  return { values: [lr * lr + size, size - 0.1 * lr], violation: Math.max(0, size - 0.9) };
}

const SAMPLERS: Array<[string, () => Sampler]> = [
  ['nsga2', () => createNsga2Sampler({ populationSize: 8 })],
  ['motpe', () => createMotpeSampler({ nStartupTrials: 8 })],
];

/** A history grown by the sampler itself, in every state, with values and violations. */
function grow(sampler: Sampler, size: number, seed: number, directions: Direction[] | undefined = DIRECTIONS): FrozenTrial[] {
  const states: FrozenTrial['state'][] = ['completed', 'completed', 'completed', 'failed', 'running', 'completed', 'pruned', 'completed'];
  const history: FrozenTrial[] = [];
  for (let n = 0; n < size; n++) {
    const params = sampler.sample(space, history, { direction: 'minimize', directions, rng: rngFor(seed, n) });
    const state = states[n % states.length]!;
    const { values, violation } = objectives(params);
    const done = state === 'completed';
    history.push(directions === undefined
      ? { number: n, params, state, value: done ? values[0]! : null }
      : { number: n, params, state, value: done ? values[0]! : null, values: done ? values : undefined, violation: done ? violation : undefined });
  }
  return history;
}

function expectValid(params: Params): void {
  expect(space.families).toContain(params.family);
  const specs = space.params[params.family as 'mlp' | 'cnn']!;
  expect(Object.keys(params).sort()).toEqual(['family', ...Object.keys(specs)].sort());
  for (const [name, spec] of Object.entries(specs)) {
    if (typeof spec === 'object') expect(contains(spec, params[name]), `${name}=${String(params[name])}`).toBe(true);
    else expect(params[name]).toBe(spec);
  }
}

describe.each(SAMPLERS)('%s', (name, make) => {
  it('is registered and validates its options, naming the field', () => {
    expect(createSampler(name).name).toBe(name);
    const bad = name === 'nsga2' ? { populationSize: 1 } : { gamma: 2 };
    const key = Object.keys(bad)[0]!;
    expect(() => createSampler(name, bad)).toThrow(ValidationError);
    expect(() => createSampler(name, bad)).toThrow(new RegExp(`search\\.options\\.${key}`));
    expect(() => createSampler(name, { nope: 1 })).toThrow(/search\.options\.nope/);
  });

  it('suggests valid parameters of one family, in every trial state, with constraints', () => {
    const history = grow(make(), 60, 1);
    for (const t of history) expectValid(t.params);
    expect(new Set(history.map((t) => t.params.family)).size).toBe(2);
  });

  it('works with one objective (no directions): a single-objective search', () => {
    for (const t of grow(make(), 40, 2, undefined)) expectValid(t.params);
  });

  it('is deterministic given the rng, and does not change the history', () => {
    const history = grow(make(), 40, 3);
    const copy = structuredClone(history);
    const draw = (seed: number): Params => make().sample(space, history, { direction: 'minimize', directions: DIRECTIONS, rng: rngFor(seed, 40) });
    expect(draw(9)).toEqual(draw(9));
    expect(history).toEqual(copy);
    const draws = new Set([9, 10, 11, 12, 13].map((s) => JSON.stringify(draw(s))));
    expect(draws.size).toBeGreaterThan(1);
  });

  it('draws at random until it has enough completed trials', () => {
    const history = grow(createRandomSampler(), 6, 4);
    const ctx = (): Parameters<Sampler['sample']>[2] => ({ direction: 'minimize', directions: DIRECTIONS, rng: rngFor(4, 6) });
    expect(make().sample(space, history, ctx())).toEqual(createRandomSampler().sample(space, history, ctx()));
  });
});

describe('nsga2 selection', () => {
  /** One family, two floats: easy to read parents back from children. */
  const flat = { families: ['mlp'], params: { mlp: { a: { type: 'float', low: 0, high: 10 }, b: { type: 'float', low: 0, high: 10 } } } } as SearchSpace;
  const trial = (number: number, a: number, b: number, violation = 0): FrozenTrial =>
    ({ number, params: { family: 'mlp', a, b }, state: 'completed', value: a, values: [a, b], violation });

  it('breeds only from the elite: whole fronts, feasible first, the last front cut by crowding', () => {
    // Population 4; generation 0 is trials 0-3, generation 1 trials 4-7. Front of the
    // feasible: (1,9), (9,1), (5,5), (3,7) would be four, but (3,7) breaks a constraint, so
    // the elite is the three others plus the best of the next front by crowding: (6,6) and
    // (2,9.5) and (9.5,2) rank next; the extremes (2,9.5) / (9.5,2) have infinite crowding,
    // and the tie goes to the older trial, (2,9.5).
    const history = [trial(0, 1, 9), trial(1, 6, 6), trial(2, 2, 9.5), trial(3, 3, 7, 0.5), trial(4, 9, 1), trial(5, 5, 5), trial(6, 9.5, 2), trial(7, 8, 8)];
    const elite = new Set(['1,9', '9,1', '5,5', '2,9.5']);
    const copy = createNsga2Sampler({ populationSize: 4, crossoverProb: 0, mutationProb: 0 });
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) {
      const child = copy.sample(flat, history, { direction: 'minimize', directions: ['minimize', 'minimize'], rng: rngFor(s, 8) });
      seen.add(`${child.a},${child.b}`);
    }
    expect(seen).toEqual(elite);
  });

  it('takes each parameter of a crossover child from one of two parents', () => {
    const history = Array.from({ length: 8 }, (_, i) => trial(i, i, 7 - i));
    const sampler = createNsga2Sampler({ populationSize: 4, crossoverProb: 1, mutationProb: 0 });
    const as = new Set(history.map((t) => t.params.a));
    const bs = new Set(history.map((t) => t.params.b));
    let mixed = 0;
    for (let s = 0; s < 100; s++) {
      const child = sampler.sample(flat, history, { direction: 'minimize', directions: ['minimize', 'minimize'], rng: rngFor(s, 8) });
      expect(as.has(child.a as number) && bs.has(child.b as number)).toBe(true);
      if ((child.a as number) + (child.b as number) !== 7) mixed++;
    }
    // Each child mixes two different parents half the time (swapping 0.5): far from 0 or 100.
    expect(mixed).toBeGreaterThan(20);
    expect(mixed).toBeLessThan(80);
  });
});

describe('motpe split', () => {
  const scored = (values: number[][], violations: number[] = []): ScoredTrial[] =>
    values.map((v, i) => ({ number: i, params: { family: 'mlp' }, values: v, violation: violations[i] ?? 0 }));

  it('takes whole fronts, then the rest of the next front by greedy hypervolume', () => {
    // Front 1: 0 and 1. Front 2: 2, 3, 4, where the middle point (3) adds the most
    // hypervolume to an empty set against the reference 1.1 × worst = (4.4, 4.4).
    const trials = scored([[0, 1], [1, 0], [1, 4], [2.5, 2.5], [4, 1], [5, 5]]);
    expect([...splitBelow(trials, 3, ['minimize', 'minimize'])].sort()).toEqual([0, 1, 3]);
    expect([...splitBelow(trials, 2, ['minimize', 'minimize'])].sort()).toEqual([0, 1]);
  });

  it('prefers feasible trials, and the least violating when too few are feasible', () => {
    const trials = scored([[0, 0], [1, 1], [2, 2], [3, 3]], [0.5, 0, 0.2, 0]);
    expect([...splitBelow(trials, 2, ['minimize', 'minimize'])].sort()).toEqual([1, 3]);
    expect([...splitBelow(trials, 3, ['minimize', 'minimize'])].sort()).toEqual([1, 2, 3]);
  });

  it('reads directions', () => {
    const trials = scored([[0, 0], [1, 1], [2, 2]]);
    expect([...splitBelow(trials, 1, ['maximize', 'maximize'])]).toEqual([2]);
  });
});

/**
 * Search beats random search on ZDT1 (5-D), by hypervolume against (1.1, 11), study by study
 * over 16 seeds. Measured over 30 seeds first: MOTPE (100 trials) won 30/30, least margin
 * 0.25; NSGA-II (population 10, 300 trials) won 30/30, least margin 0.27. Needing 15 wins of
 * 16, a sampler no better than random would pass with probability 17 / 2^16 = 0.03%.
 */
describe('beats random search on ZDT1', () => {
  const zdt = { families: ['mlp'], params: { mlp: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }])) } } as SearchSpace;
  const zdt1 = (x: number[]): number[] => {
    const g = 1 + (9 * x.slice(1).reduce((s, v) => s + v, 0)) / (x.length - 1);
    return [x[0]!, g * (1 - Math.sqrt(x[0]! / g))];
  };
  const volume = (sampler: Sampler, seed: number, trials: number): number => {
    const history: FrozenTrial[] = [];
    for (let n = 0; n < trials; n++) {
      const params = sampler.sample(zdt, history, { direction: 'minimize', directions: ['minimize', 'minimize'], rng: rngFor(seed, n) });
      const values = zdt1(Array.from({ length: 5 }, (_, i) => params[`x${i}`] as number));
      history.push({ number: n, params, state: 'completed', value: values[0]!, values });
    }
    return hypervolume(history.map((t) => t.values!), [1.1, 11], ['minimize', 'minimize']);
  };

  it.each([
    ['motpe', () => createMotpeSampler(), 100],
    ['nsga2', () => createNsga2Sampler({ populationSize: 10 }), 300],
  ] as Array<[string, () => Sampler, number]>)('%s', (_, make, trials) => {
    let wins = 0;
    for (let seed = 1; seed <= 16; seed++) {
      if (volume(make(), seed, trials) > volume(createRandomSampler(), seed + 1000, trials)) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(15);
  });
});
