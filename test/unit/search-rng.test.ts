import { describe, expect, it } from 'vitest';
import { rngFor } from '../../src/search/index.ts';

const draws = (seed: number, ...streams: number[]): number[] => {
  const rng = rngFor(seed, ...streams);
  return Array.from({ length: 8 }, () => rng.next());
};

describe('rngFor', () => {
  it('gives the same stream for the same seed and stream ids', () => {
    expect(draws(42, 7)).toEqual(draws(42, 7));
  });

  it('gives unrelated streams when any id, or the number of ids, changes', () => {
    const seen = [draws(42), draws(42, 0), draws(42, 1), draws(43, 0), draws(42, 0, 0), draws(-42, 0), draws(2 ** 40, 0)];
    const firsts = new Set(seen.map((d) => d[0]));
    expect(firsts.size).toBe(seen.length);
  });

  it("does not depend on other streams' use", () => {
    const before = draws(1, 5);
    const other = rngFor(1, 4);
    for (let i = 0; i < 100; i++) other.next();
    expect(draws(1, 5)).toEqual(before);
  });

  it('next() stays in [0, 1) and is roughly uniform', () => {
    const rng = rngFor(3);
    const n = 20_000;
    const bins = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
      bins[Math.floor(u * 10)]! += 1;
    }
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(n / 10 * 0.1);
  });

  it('int(lo, hi) includes both ends and nothing outside', () => {
    const rng = rngFor(9);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) seen.add(rng.int(-2, 3));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(rng.int(5, 5)).toBe(5);
  });

  it('pick() draws every element and rejects an empty list', () => {
    const rng = rngFor(11);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add(rng.pick(['a', 'b', 'c']));
    expect(seen.size).toBe(3);
    expect(() => rng.pick([])).toThrow(RangeError);
  });

  it('rejects seeds and bounds that are not safe integers', () => {
    expect(() => rngFor(1.5)).toThrow(RangeError);
    expect(() => rngFor(1, Number.NaN)).toThrow(RangeError);
    expect(() => rngFor(1).int(3, 2)).toThrow(RangeError);
  });
});
