/** TPE's behaviour beyond the shared sampler contract. */
import { describe, expect, it } from 'vitest';
import type { Params } from '../../src/domain.ts';
import { createRandomSampler, createTpeSampler, rngFor, type FrozenTrial, type Sampler, type SearchSpace } from '../../src/search/index.ts';

const line: SearchSpace = { families: ['mlp'], params: { mlp: { x: { type: 'float', low: 0, high: 1 } } } };
const plane: SearchSpace = {
  families: ['mlp'],
  params: { mlp: { x: { type: 'float', low: -5, high: 10 }, y: { type: 'int', low: 0, high: 15 } } },
};

/** Runs `n` trials one at a time and returns the history. */
function optimize(sampler: Sampler, space: SearchSpace, f: (p: Params) => number, n: number, seed: number): FrozenTrial[] {
  const history: FrozenTrial[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.sample(space, history, { direction: 'minimize', rng: rngFor(seed, i) });
    history.push({ number: i, params, state: 'completed', value: f(params) });
  }
  return history;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
}

/** Median distance to the optimum of the last 20 suggestions, over a few seeds. */
function lateDistance(sampler: () => Sampler, space: SearchSpace, f: (p: Params) => number, distance: (p: Params) => number): number {
  const distances: number[] = [];
  for (const seed of [1, 2, 3, 4, 5]) distances.push(...optimize(sampler(), space, f, 60, seed).slice(-20).map((t) => distance(t.params)));
  return median(distances);
}

describe('tpe', () => {
  it('concentrates its suggestions near the optimum of a 1-D function once started', () => {
    const f = (p: Params): number => ((p.x as number) - 0.3) ** 2;
    const distance = (p: Params): number => Math.abs((p.x as number) - 0.3);
    const tpe = lateDistance(createTpeSampler, line, f, distance);
    const random = lateDistance(createRandomSampler, line, f, distance);
    expect(tpe).toBeLessThan(random / 3);
    expect(tpe).toBeLessThan(0.1);
  });

  it.each([true, false])('concentrates on a 2-D float × int function too (multivariate: %s)', (multivariate) => {
    const f = (p: Params): number => ((p.x as number) - 2) ** 2 + ((p.y as number) - 11) ** 2;
    const distance = (p: Params): number => Math.hypot((p.x as number) - 2, (p.y as number) - 11);
    const tpe = lateDistance(() => createTpeSampler({ multivariate }), plane, f, distance);
    const random = lateDistance(createRandomSampler, plane, f, distance);
    expect(tpe).toBeLessThan(random / 3);
  });

  it('draws at random, exactly as random search, until nStartupTrials have completed', () => {
    const history = optimize(createRandomSampler(), line, (p) => p.x as number, 4, 9);
    history.push({ number: 4, params: { family: 'mlp', x: 0.5 }, state: 'running', value: null });
    history.push({ number: 5, params: { family: 'mlp', x: 0.6 }, state: 'failed', value: null });
    const ctx = () => ({ direction: 'minimize' as const, rng: rngFor(9, 6) });
    expect(createTpeSampler({ nStartupTrials: 5 }).sample(line, history, ctx())).toEqual(createRandomSampler().sample(line, history, ctx()));
    expect(createTpeSampler({ nStartupTrials: 4 }).sample(line, history, ctx())).not.toEqual(createRandomSampler().sample(line, history, ctx()));
  });

  it('with constant liar, steers away from a trial in flight instead of repeating it', () => {
    const f = (p: Params): number => ((p.x as number) - 0.3) ** 2;
    const history = optimize(createTpeSampler(), line, f, 20, 4);
    const sample = (sampler: Sampler, past: FrozenTrial[]) => sampler.sample(line, past, { direction: 'minimize', rng: rngFor(4, 21) });
    for (const constantLiar of [true, false]) {
      const sampler = createTpeSampler({ constantLiar });
      const first = sample(sampler, history);
      // The same random stream, now with the first suggestion running.
      const second = sample(sampler, [...history, { number: 20, params: first, state: 'running', value: null }]);
      if (constantLiar) expect(second.x).not.toBe(first.x);
      else expect(second).toEqual(first);
    }
  });

  it('gives distinct suggestions to trials started in parallel', () => {
    const f = (p: Params): number => ((p.x as number) - 2) ** 2 + ((p.y as number) - 11) ** 2;
    const history = optimize(createTpeSampler(), plane, f, 30, 5);
    const sampler = createTpeSampler();
    const inFlight: FrozenTrial[] = [];
    for (let n = 30; n < 34; n++) {
      const params = sampler.sample(plane, [...history, ...inFlight], { direction: 'minimize', rng: rngFor(5, n) });
      inFlight.push({ number: n, params, state: n % 2 === 0 ? 'running' : 'queued', value: null });
    }
    expect(new Set(inFlight.map((t) => JSON.stringify(t.params))).size).toBe(4);
  });

  it.each([true, false])("fits each family's parameters only on that family's trials (multivariate: %s)", (multivariate) => {
    // Both families have a parameter `x`, equally good at its best: mlp near 0.15, cnn near 0.85.
    const space: SearchSpace = {
      families: ['mlp', 'cnn'],
      params: { mlp: { x: { type: 'float', low: 0, high: 1 } }, cnn: { x: { type: 'float', low: 0, high: 1 } } },
    };
    const f = (p: Params): number => Math.abs((p.x as number) - (p.family === 'mlp' ? 0.15 : 0.85));
    const xs: Record<string, number[]> = { mlp: [], cnn: [] };
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      for (const t of optimize(createTpeSampler({ multivariate }), space, f, 50, seed).slice(10)) xs[t.params.family as string]!.push(t.params.x as number);
    }
    // Fitted on both families' trials at once, x would be drawn towards both optima in each.
    expect(xs.mlp!.length).toBeGreaterThan(20);
    expect(xs.cnn!.length).toBeGreaterThan(20);
    expect(median(xs.mlp!.map((x) => Math.abs(x - 0.15)))).toBeLessThan(0.1);
    expect(median(xs.cnn!.map((x) => Math.abs(x - 0.85)))).toBeLessThan(0.1);
  });

  it("ranks a family's trials among themselves when none of them is good overall", () => {
    // The space now holds mlp only; the history's best trials are cnn's, far from mlp's best.
    // (Without the fallback, l(x) is the prior alone and the median distance is ~0.4.)
    const space: SearchSpace = { families: ['mlp'], params: { mlp: { x: { type: 'float', low: 0, high: 1 } } } };
    const history: FrozenTrial[] = Array.from({ length: 30 }, (_, n) => {
      const family = n % 2 === 0 ? 'mlp' : 'cnn';
      const x = (n * 0.37) % 1;
      return { number: n, params: { family, x }, state: 'completed', value: family === 'mlp' ? 1 + Math.abs(x - 0.15) : Math.abs(x - 0.85) };
    });
    const xs = Array.from({ length: 100 }, (_, n) => createTpeSampler().sample(space, history, { direction: 'minimize', rng: rngFor(3, 30 + n) }).x as number);
    expect(median(xs.map((x) => Math.abs(x - 0.15)))).toBeLessThan(0.1);
  });

  it('ignores failed and cancelled trials', () => {
    const f = (p: Params): number => ((p.x as number) - 0.3) ** 2;
    const history = optimize(createTpeSampler(), line, f, 15, 7);
    const noise: FrozenTrial[] = [
      { number: 15, params: { family: 'mlp', x: 0.9 }, state: 'failed', value: null },
      { number: 16, params: { family: 'mlp', x: 0.95 }, state: 'cancelled', value: null },
    ];
    const ctx = () => ({ direction: 'minimize' as const, rng: rngFor(7, 17) });
    expect(createTpeSampler().sample(line, [...history, ...noise], ctx())).toEqual(createTpeSampler().sample(line, history, ctx()));
  });

  it('reads values by direction: maximizing v is minimizing -v', () => {
    const history = optimize(createTpeSampler(), plane, (p) => (p.x as number) * (p.y as number), 20, 8);
    const negated = history.map((t) => ({ ...t, value: -(t.value as number) }));
    const sample = (past: FrozenTrial[], direction: 'minimize' | 'maximize') =>
      createTpeSampler().sample(plane, past, { direction, rng: rngFor(8, 20) });
    expect(sample(history, 'maximize')).toEqual(sample(negated, 'minimize'));
  });

  it('ranks equal values by trial number, so a reordered history gives the same suggestion', () => {
    const history = optimize(createTpeSampler(), plane, () => 1, 20, 9);
    const sample = (past: FrozenTrial[]) => createTpeSampler().sample(plane, past, { direction: 'minimize', rng: rngFor(9, 20) });
    expect(sample([...history].reverse())).toEqual(sample(history));
  });
});
