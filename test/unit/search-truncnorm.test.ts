/** The normal-distribution numerics under TPE, against reference values (CPython's math.erfc and math.log). */
import { describe, expect, it } from 'vitest';
import { erfc, logGaussMass, logNdtr, ndtri, truncnormPpf } from '../../src/search/samplers/truncnorm.ts';

describe('truncated normal numerics', () => {
  it('erfc matches CPython to 1e-14 relative, tails included', () => {
    const cases: Array<[number, number]> = [
      [-5, 1.9999999999984626], [-1, 1.842700792949715], [-0.1, 1.1124629160182848], [0, 1], [0.3, 0.6713732405408726],
      [0.9, 0.20309178757716786], [1.1, 0.11979493042591827], [2, 0.004677734981047265], [5, 1.5374597944280351e-12],
      [10, 2.088487583762545e-45],
    ];
    for (const [x, want] of cases) expect(Math.abs(erfc(x) - want) / want).toBeLessThan(1e-13);
  });

  it('log Φ stays finite and accurate far into the left tail', () => {
    expect(logNdtr(0)).toBeCloseTo(Math.log(0.5), 15);
    expect(logNdtr(-5)).toBeCloseTo(-15.064998393988725, 12);
    expect(logNdtr(-50)).toBeCloseTo(-1254.8313611394199, 9);
    expect(logNdtr(-1000)).toBeCloseTo(-500007.82669481216, 6);
  });

  it('Φ⁻¹ inverts Φ, deep tails included', () => {
    expect(ndtri(0.5)).toBe(0);
    expect(ndtri(0.9)).toBeCloseTo(1.2815515655446004, 14);
    expect(ndtri(1e-20)).toBeCloseTo(-9.262340089798408, 12);
    expect(ndtri(1e-300)).toBeCloseTo(-37.0470962993612, 9); // solves the asymptotic log Φ(x) = log(1e-300)
  });

  it('log Gaussian mass of an interval far out in either tail', () => {
    expect(logGaussMass(-1, 2)).toBeCloseTo(Math.log(0.8185946141203637), 14);
    expect(logGaussMass(3, 4)).toBeCloseTo(-6.631467786538224, 10);
    expect(logGaussMass(-50, -49)).toBeCloseTo(logGaussMass(49, 50), 10);
    expect(Number.isFinite(logGaussMass(30, 31))).toBe(true);
  });

  it('samples inside the truncation, at the right quantiles', () => {
    expect(truncnormPpf(0.5, -1, 1)).toBeCloseTo(0, 14);
    for (const [a, b] of [[-0.1, 100], [-100, 0.2], [-3, 3], [0, 1e-3]] as const) {
      for (const u of [0, 1e-9, 0.25, 0.5, 0.999999]) {
        const z = truncnormPpf(u, a, b);
        expect(z).toBeGreaterThanOrEqual(a);
        expect(z).toBeLessThanOrEqual(b);
      }
    }
  });
});
