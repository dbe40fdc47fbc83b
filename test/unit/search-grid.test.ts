/** Grid search beyond the shared sampler contract. */
import { describe, expect, it } from 'vitest';
import type { Params } from '../../src/domain.ts';
import { SearchSpaceExhaustedError, ValidationError } from '../../src/errors.ts';
import { MAX_GRID_POINTS, createGridSampler, createSampler, rngFor, type FrozenTrial, type SearchSpace } from '../../src/search/index.ts';

const space: SearchSpace = {
  families: ['mlp', 'cnn'],
  params: {
    mlp: {
      activation: { type: 'categorical', choices: ['relu', 'tanh', 'elu'] },
      units: { type: 'int', low: 16, high: 40, step: 8 }, // 16, 24, 32, 40
      optimizer: 'adam',
    },
    cnn: {
      blocks: { type: 'int', low: 1, high: 3 },
      pooling: { type: 'categorical', choices: ['max'] },
    },
  },
};
const SIZE = 3 * 4 + 3;

/** Suggests until the grid is exhausted, every trial in `state`; returns the suggestions. */
function exhaust(state: FrozenTrial['state'], seed = 1): Params[] {
  const sampler = createGridSampler();
  const history: FrozenTrial[] = [];
  for (let n = 0; n < 100; n++) {
    try {
      const params = sampler.sample(space, history, { direction: 'minimize', rng: rngFor(seed, n) });
      history.push({ number: n, params, state, value: state === 'completed' ? n : null });
    } catch (err) {
      if (err instanceof SearchSpaceExhaustedError) return history.map((t) => t.params);
      throw err;
    }
  }
  throw new Error('the grid never ran out');
}

function errorOf(f: () => unknown): ValidationError {
  try {
    f();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('grid', () => {
  it('enumerates exactly the product of each family’s values, each point once', () => {
    const expected: string[] = [];
    for (const activation of ['relu', 'tanh', 'elu']) {
      for (const units of [16, 24, 32, 40]) expected.push(JSON.stringify({ family: 'mlp', activation, optimizer: 'adam', units }));
    }
    for (const blocks of [1, 2, 3]) expected.push(JSON.stringify({ family: 'cnn', blocks, pooling: 'max' }));
    const drawn = exhaust('completed').map((p) => JSON.stringify(p));
    expect(drawn).toHaveLength(SIZE);
    expect(new Set(drawn).size).toBe(SIZE);
    expect([...drawn].sort()).toEqual([...expected].sort());
  });

  it('counts a point as taken whatever its trial’s state, so parallel and failed trials are not repeated', () => {
    for (const state of ['queued', 'running', 'failed', 'cancelled', 'paused', 'pruned'] as const) {
      expect(new Set(exhaust(state).map((p) => JSON.stringify(p))).size).toBe(SIZE);
    }
  });

  it('visits the points in a seeded shuffled order', () => {
    const a = exhaust('completed', 1).map((p) => JSON.stringify(p));
    const b = exhaust('completed', 2).map((p) => JSON.stringify(p));
    expect(a).not.toEqual(b);
    expect(exhaust('completed', 1).map((p) => JSON.stringify(p))).toEqual(a);
  });

  it('throws SearchSpaceExhaustedError, naming the grid size, once every point is taken', () => {
    const history: FrozenTrial[] = exhaust('completed').map((params, number) => ({ number, params, state: 'completed', value: 0 }));
    const sample = () => createGridSampler().sample(space, history, { direction: 'minimize', rng: rngFor(1, SIZE) });
    expect(sample).toThrow(SearchSpaceExhaustedError);
    expect(sample).toThrow(`every one of the ${SIZE} points of the search space has been tried`);
  });

  it('enumerates every integer of a log-scale int', () => {
    const logInt: SearchSpace = { families: ['mlp'], params: { mlp: { units: { type: 'int', low: 1, high: 20, log: true } } } };
    const history: FrozenTrial[] = [];
    for (let n = 0; n < 20; n++) {
      history.push({ number: n, params: createGridSampler().sample(logInt, history, { direction: 'minimize', rng: rngFor(3, n) }), state: 'completed', value: 0 });
    }
    expect(history.map((t) => t.params.units).sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('refuses a float, naming the parameter, when the study is created', () => {
    const floats: SearchSpace = {
      families: ['mlp'],
      params: { mlp: { layers: 2, learningRate: { type: 'float', low: 1e-4, high: 1e-2, log: true } } },
    };
    const error = errorOf(() => createSampler('grid').checkSpace?.(floats));
    expect(error.field).toBe('search.space.mlp.learningRate');
    expect(error.message).toBe(
      'search.space.mlp.learningRate: {"type":"float","low":0.0001,"high":0.01,"log":true} is a continuous float; grid search needs categorical or int parameters (or a constant)',
    );
    // The coordinator hears the same from sample().
    expect(() => createGridSampler().sample(floats, [], { direction: 'minimize', rng: rngFor(1, 0) })).toThrow(ValidationError);
  });

  it(`refuses a grid of more than ${MAX_GRID_POINTS.toLocaleString('en-US')} points`, () => {
    const huge: SearchSpace = {
      families: ['mlp', 'cnn'],
      params: {
        mlp: { units: { type: 'int', low: 1, high: 1000 }, layers: { type: 'int', low: 1, high: 900 } },
        cnn: { filters: { type: 'int', low: 1, high: 200_000 } },
      },
    };
    const error = errorOf(() => createGridSampler().checkSpace?.(huge));
    expect(error.field).toBe('search.space');
    expect(error.message).toContain('has more than 1,000,000 grid points (at cnn.filters)');
    const wide: SearchSpace = { families: ['mlp'], params: { mlp: { units: { type: 'int', low: 0, high: 2_000_000 } } } };
    expect(errorOf(() => createGridSampler().checkSpace?.(wide)).message).toBe(
      'search.space.mlp.units: {"type":"int","low":0,"high":2000000} has 2,000,001 values; grid search allows at most 1,000,000 points',
    );
    // Exactly at the limit is fine.
    const edge: SearchSpace = { families: ['mlp'], params: { mlp: { units: { type: 'int', low: 1, high: 1000 }, layers: { type: 'int', low: 1, high: 1000 } } } };
    expect(() => createGridSampler().checkSpace?.(edge)).not.toThrow();
  });
});

describe('grid size is arithmetic', () => {
  it('refuses an int axis of 2^53 values by its count, without listing it', () => {
    const space: SearchSpace = { families: ['mlp'], params: { mlp: { units: { type: 'int', low: 1, high: Number.MAX_SAFE_INTEGER } } } };
    expect(errorOf(() => createGridSampler().checkSpace?.(space)).message).toContain('has 9,007,199,254,740,991 values');
  });

  it('samples a grid of 1,000,000 points (1,000 × 1,000) by position, and knows a taken point', () => {
    const space: SearchSpace = {
      families: ['mlp'],
      params: { mlp: { units: { type: 'int', low: 1, high: 1000 }, activation: { type: 'categorical', choices: Array.from({ length: 1000 }, (_, i) => `a${i}`) } } },
    };
    const sampler = createGridSampler();
    const first = sampler.sample(space, [], { direction: 'minimize', rng: rngFor(3, 0) });
    expect(first.units).toBeGreaterThanOrEqual(1);
    expect(String(first.activation)).toMatch(/^a\d+$/);
    // The same point is not suggested twice.
    const history: FrozenTrial[] = [{ number: 0, params: first, state: 'completed', value: 1 }];
    const second = sampler.sample(space, history, { direction: 'minimize', rng: rngFor(3, 0) });
    expect(second).not.toEqual(first);
  });
});
