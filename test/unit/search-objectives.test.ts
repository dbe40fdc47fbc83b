import { describe, expect, it } from 'vitest';
import type { Direction } from '../../src/domain.ts';
import {
  bestFeasible,
  createTpeSampler,
  crowdingDistance,
  dominates,
  frontRanking,
  nonDominatedSort,
  peelFronts,
  referencePoint,
  rngFor,
  valuesOf,
  violationOf,
  type FrozenTrial,
  type SearchSpace,
} from '../../src/search/index.ts';

/** Points on a coarse grid, so ties and duplicates happen. */
function randomPoints(seed: number, n: number, m: number): number[][] {
  const rng = rngFor(seed, 0);
  return Array.from({ length: n }, () => Array.from({ length: m }, () => Math.floor(rng.next() * 8)));
}

describe('objective vectors and constraints', () => {
  it('reads the objective vector, or null when a value is missing or not finite', () => {
    const objectives = [{ metric: 'val_loss', direction: 'minimize' as const }, { metric: 'param_count', direction: 'minimize' as const }];
    expect(valuesOf({ val_loss: 0.5, param_count: 10, val_accuracy: 0.9 }, objectives)).toEqual([0.5, 10]);
    expect(valuesOf({ val_loss: 0.5 }, objectives)).toBeNull();
    expect(valuesOf({ val_loss: Number.NaN, param_count: 1 }, objectives)).toBeNull();
    expect(valuesOf(null, objectives)).toBeNull();
  });

  it('sums each bound\'s relative excess; a missing metric is an infinite violation', () => {
    expect(violationOf({ predict_ms_per_row: 10 }, [{ metric: 'predict_ms_per_row', max: 5 }])).toBe(1);
    expect(violationOf({ predict_ms_per_row: 4 }, [{ metric: 'predict_ms_per_row', max: 5 }])).toBe(0);
    expect(violationOf({ val_accuracy: 0.45, param_count: 300 }, [{ metric: 'val_accuracy', min: 0.9 }, { metric: 'param_count', max: 100 }])).toBeCloseTo(0.5 + 2, 12);
    expect(violationOf({ x: -1 }, [{ metric: 'x', min: 0 }])).toBe(1);
    expect(violationOf({}, [{ metric: 'x', max: 1 }])).toBe(Infinity);
    expect(violationOf({}, undefined)).toBe(0);
  });
});

describe('peelFronts', () => {
  const directions: Direction[][] = [['minimize', 'minimize'], ['maximize', 'minimize'], ['minimize', 'maximize', 'minimize']];
  it.each(directions)('gives the fronts of a full non-dominated sort (%s …)', (...dirs) => {
    for (let seed = 0; seed < 30; seed++) {
      const points = randomPoints(seed, 40, dirs.length);
      expect(peelFronts(points, points.map(() => 0), dirs)).toEqual(nonDominatedSort(points, dirs));
      // With violations, feasible points come first and infeasible ones by violation, as Deb's constrained sort does.
      const violations = points.map((_, i) => (i % 3 === 0 ? (i % 4) * 0.5 : 0));
      expect(peelFronts(points, violations, dirs)).toEqual(nonDominatedSort(points, dirs, violations));
    }
  });

  it('stops once the fronts hold `need` points', () => {
    const points = randomPoints(7, 200, 2);
    const all = nonDominatedSort(points, ['minimize', 'minimize']);
    const some = peelFronts(points, points.map(() => 0), ['minimize', 'minimize'], 10);
    expect(some).toEqual(all.slice(0, some.length));
    expect(some.flat().length).toBeGreaterThanOrEqual(10);
    expect(some.slice(0, -1).flat().length).toBeLessThan(10);
  });
});

describe('frontRanking and bestFeasible', () => {
  const dirs: Direction[] = ['maximize', 'minimize'];
  // [accuracy, params]: 0 and 1 and 3 are the front; 2 is dominated by 1; 4 is infeasible.
  const points = [[0.9, 500], [0.8, 100], [0.7, 200], [0.6, 10], [0.99, 5]];
  const violations = [0, 0, 0, 0, 2];
  const numbers = [0, 1, 2, 3, 4];

  it('orders by front, then by the primary objective, with crowding distance per front', () => {
    const { order: ranking, first } = frontRanking(points, violations, dirs, numbers);
    expect(first).toEqual([0, 1, 3]);
    expect(ranking.map(([i]) => i)).toEqual([0, 1, 3, 2, 4]);
    expect(ranking.map(([, p]) => p.front)).toEqual([0, 0, 0, 1, 2]);
    const front = [points[0]!, points[1]!, points[3]!];
    expect(ranking.slice(0, 3).map(([, p]) => p.crowding)).toEqual(crowdingDistance(front));
    expect(frontRanking(points, violations, dirs, numbers, 2).order.map(([i]) => i)).toEqual([0, 1]);
    // The first front is whole however few entries are asked for.
    expect(frontRanking(points, violations, dirs, numbers, 1).first).toEqual([0, 1, 3]);
  });

  it('promotes the best primary value among feasible points, which is on the front', () => {
    expect(bestFeasible(points, violations, dirs, numbers)).toBe(0);
    expect(bestFeasible(points, [1, 1, 0, 0, 2], dirs, numbers)).toBe(2);
    expect(bestFeasible(points, [1, 1, 1, 1, 1], dirs, numbers)).toBeNull();
    // A tie on the primary value goes to the one nothing dominates, not the lower number.
    expect(bestFeasible([[0.9, 50], [0.9, 10]], [0, 0], dirs, [0, 1])).toBe(1);
    for (let seed = 0; seed < 20; seed++) {
      const ps = randomPoints(seed, 30, 2);
      const vs = ps.map((_, i) => (i % 5 === 0 ? 1 : 0));
      const best = bestFeasible(ps, vs, dirs, ps.map((_, i) => i))!;
      expect(ps.some((p, j) => vs[j] === 0 && dominates(p, ps[best]!, dirs))).toBe(false);
    }
  });

  it('puts the reference point a tenth of the range beyond the worst value', () => {
    expect(referencePoint([[0.9, 500], [0.5, 100]], dirs)).toEqual([0.5 - 0.04, 540]);
    expect(referencePoint([[2, 0]], ['minimize', 'minimize'])).toEqual([2.2, 1]);
  });
});

describe('TPE with constraints', () => {
  const space: SearchSpace = { families: ['mlp'], params: { mlp: { x: { type: 'float', low: 0, high: 1 } } } } as unknown as SearchSpace;

  /** Minimize x subject to x >= 0.6: the constrained optimum is x = 0.6. */
  function draws(constrained: boolean): number[] {
    const history: FrozenTrial[] = [];
    for (let n = 0; n < 60; n++) {
      const params = createTpeSampler({ nStartupTrials: 10 }).sample(space, history, { direction: 'minimize', rng: rngFor(1, n) });
      const x = params['x'] as number;
      history.push({ number: n, params, state: 'completed', value: x, ...(constrained ? { violation: Math.max(0, 0.6 - x) } : {}) });
    }
    return history.slice(30).map((t) => t.params['x'] as number);
  }

  it('learns the feasible region: later draws gather at the constrained optimum, where unconstrained TPE goes to 0', () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const near = (xs: number[]) => xs.filter((x) => Math.abs(x - 0.6) < 0.1).length / xs.length;
    const constrained = draws(true);
    const free = draws(false);
    expect(Math.abs(median(constrained) - 0.6)).toBeLessThan(0.05);
    expect(near(constrained)).toBeGreaterThan(0.6);
    expect(median(free)).toBeLessThan(0.2);
    expect(near(free)).toBeLessThan(0.2);
  });
});
