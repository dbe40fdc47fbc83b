import { describe, expect, it } from 'vitest';
import type { Direction } from '../../src/domain.ts';
import { rngFor } from '../../src/rng.ts';
import {
  constrainedDominates,
  crowdingDistance,
  dominates,
  hypervolume,
  hypervolumeContributions,
  nonDominatedSort,
} from '../../src/search/pareto.ts';

const MIN2: Direction[] = ['minimize', 'minimize'];

describe('dominates', () => {
  it('needs no worse everywhere and better somewhere, per direction', () => {
    expect(dominates([1, 2], [2, 2], MIN2)).toBe(true);
    expect(dominates([2, 2], [2, 2], MIN2)).toBe(false);
    expect(dominates([1, 3], [2, 2], MIN2)).toBe(false);
    expect(dominates([1, 3], [2, 2], ['minimize', 'maximize'])).toBe(true);
    expect(dominates([2, 2], [1, 3], ['minimize', 'maximize'])).toBe(false);
  });

  it('lets a NaN value neither dominate nor be dominated', () => {
    expect(dominates([NaN, 0], [1, 1], MIN2)).toBe(false);
    expect(dominates([0, 0], [NaN, 1], MIN2)).toBe(false);
  });
});

describe('constrainedDominates (Deb)', () => {
  it('ranks feasible before infeasible, then smaller violation, then domination', () => {
    // Feasible beats infeasible even when the infeasible one has better objectives.
    expect(constrainedDominates([5, 5], 0, [0, 0], 0.1, MIN2)).toBe(true);
    expect(constrainedDominates([0, 0], 0.1, [5, 5], 0, MIN2)).toBe(false);
    // Both infeasible: the smaller violation wins, whatever the objectives.
    expect(constrainedDominates([5, 5], 0.2, [0, 0], 0.3, MIN2)).toBe(true);
    expect(constrainedDominates([0, 0], 0.3, [5, 5], 0.2, MIN2)).toBe(false);
    expect(constrainedDominates([0, 0], 0.3, [5, 5], 0.3, MIN2)).toBe(false);
    // Both feasible: plain domination.
    expect(constrainedDominates([1, 1], 0, [2, 2], 0, MIN2)).toBe(true);
    expect(constrainedDominates([1, 3], 0, [2, 2], 0, MIN2)).toBe(false);
  });
});

describe('nonDominatedSort', () => {
  it('returns the fronts in order', () => {
    const points = [[1, 5], [2, 2], [5, 1], [3, 3], [4, 4], [2, 6], [6, 6]];
    expect(nonDominatedSort(points, MIN2)).toEqual([[0, 1, 2], [3, 5], [4], [6]]);
  });

  it('reads maximized objectives the other way', () => {
    const points = [[1, 5], [2, 2], [5, 1], [3, 3]];
    // Maximizing both: (5,1), (1,5) and (3,3) are not dominated; (2,2) is dominated by (3,3).
    expect(nonDominatedSort(points, ['maximize', 'maximize'])).toEqual([[0, 2, 3], [1]]);
  });

  it('puts equal points in the same front', () => {
    expect(nonDominatedSort([[1, 1], [1, 1], [2, 2]], MIN2)).toEqual([[0, 1], [2]]);
  });

  it('ranks every feasible point ahead of the infeasible ones, those by violation', () => {
    const points = [[0, 0], [3, 3], [1, 1], [4, 4], [2, 2]];
    const violations = [0.5, 0, 0.5, 0, 0.1];
    // Feasible: 1 dominates 3. Infeasible: 4 (0.1) beats 0 and 2 (0.5, equal, not comparable).
    expect(nonDominatedSort(points, MIN2, violations)).toEqual([[1], [3], [4], [0, 2]]);
  });

  it('matches a brute-force ranking on random points', () => {
    const rng = rngFor(7);
    const directions: Direction[] = ['minimize', 'maximize', 'minimize'];
    const points = Array.from({ length: 60 }, () => [rng.int(0, 5), rng.int(0, 5), rng.int(0, 5)]);
    const fronts = nonDominatedSort(points, directions);
    const rank = new Map<number, number>();
    fronts.forEach((front, r) => front.forEach((i) => rank.set(i, r)));
    expect(rank.size).toBe(points.length);
    for (let i = 0; i < points.length; i++) {
      const dominators = points.flatMap((p, j) => (dominates(p, points[i]!, directions) ? [rank.get(j)!] : []));
      // A point's front is one past the last front of the points that dominate it.
      expect(rank.get(i)).toBe(dominators.length === 0 ? 0 : Math.max(...dominators) + 1);
    }
  });
});

describe('crowdingDistance', () => {
  it('sums neighbour gaps over each range, the extremes infinite', () => {
    const front = [[0, 4], [1, 2], [2, 1], [4, 0]];
    const d = crowdingDistance(front);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    // (2 - 0) / 4 + (4 - 1) / 4 and (4 - 1) / 4 + (2 - 0) / 4.
    expect(d[1]).toBeCloseTo(1.25, 12);
    expect(d[2]).toBeCloseTo(1.25, 12);
  });

  it('skips an objective on which all points agree', () => {
    const d = crowdingDistance([[1, 0], [1, 1], [1, 3]]);
    expect(d).toEqual([Infinity, 1, Infinity]);
  });

  it('handles tiny fronts', () => {
    expect(crowdingDistance([])).toEqual([]);
    expect(crowdingDistance([[1, 2]])).toEqual([0]);
    expect(crowdingDistance([[1, 2], [2, 1]])).toEqual([Infinity, Infinity]);
  });
});

describe('hypervolume', () => {
  it('is exact in 2-D', () => {
    // Boxes to (4, 4): staircase 3 + 2 + 1.
    expect(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4], MIN2)).toBe(6);
    // A dominated point and one past the reference add nothing.
    expect(hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [0, 5]], [4, 4], MIN2)).toBe(6);
    expect(hypervolume([], [4, 4], MIN2)).toBe(0);
  });

  it('reads each objective with its direction', () => {
    // Maximizing the second: the same staircase, mirrored.
    expect(hypervolume([[1, -3], [2, -2], [3, -1]], [4, -4], ['minimize', 'maximize'])).toBe(6);
    expect(hypervolume([[-1, -3], [-2, -2], [-3, -1]], [-4, -4], ['maximize', 'maximize'])).toBe(6);
  });

  it('is exact in 3-D (inclusion-exclusion by hand)', () => {
    const ref = [2, 2, 2];
    const min3: Direction[] = ['minimize', 'minimize', 'minimize'];
    // Each box is 4; pairwise overlaps 2; the triple overlap 1: 12 - 6 + 1.
    expect(hypervolume([[0, 0, 1], [1, 0, 0]], ref, min3)).toBe(6);
    expect(hypervolume([[0, 0, 1], [1, 0, 0], [0, 1, 0]], ref, min3)).toBe(7);
    expect(hypervolume([[0, 0, 0]], ref, min3)).toBe(8);
  });

  it('matches counting unit cells on integer points in 3-D and 4-D', () => {
    for (const m of [3, 4]) {
      const rng = rngFor(11, m);
      const directions: Direction[] = Array.from({ length: m }, () => 'minimize');
      const ref = directions.map(() => 5);
      for (let trial = 0; trial < 5; trial++) {
        const points = Array.from({ length: 12 }, () => directions.map(() => rng.int(0, 5)));
        expect(hypervolume(points, ref, directions)).toBe(countCells(points, 5, m));
      }
    }
  });

  it('refuses a reference point of the wrong length', () => {
    expect(() => hypervolume([[1, 1]], [2, 2, 2], MIN2)).toThrow(/reference point has 3 values for 2 objectives/);
  });

  it('gives each point the volume only it covers', () => {
    // Each staircase corner alone covers one unit square; the dominated (3,3) covers nothing alone.
    expect(hypervolumeContributions([[1, 3], [2, 2], [3, 1], [3, 3]], [4, 4], MIN2)).toEqual([1, 1, 1, 0]);
  });
});

/** Unit cells of [0, size)^m that some point weakly dominates (each cell's lower corner). */
function countCells(points: number[][], size: number, m: number): number {
  let count = 0;
  const cell = new Array<number>(m).fill(0);
  const total = size ** m;
  for (let c = 0; c < total; c++) {
    let rest = c;
    for (let k = 0; k < m; k++) {
      cell[k] = rest % size;
      rest = Math.floor(rest / size);
    }
    if (points.some((p) => p.every((v, k) => v <= cell[k]!))) count++;
  }
  return count;
}
