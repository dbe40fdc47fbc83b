import { describe, expect, it } from 'vitest';
import type { TrialState } from '../../src/domain.ts';
import { createAsha, createHyperband, rungEpochs, type ScheduledTrial } from '../../src/search/schedulers/index.ts';
import { medianPrunes } from '../../src/search/pruners/median.ts';

const trial = (number: number, state: TrialState, rung: number, values: number[]): ScheduledTrial => ({
  number,
  state,
  rung,
  rungValues: new Map(values.map((v, k) => [k, v])),
});

describe('rungs', () => {
  it('grows by the reduction factor and ends at maxResource', () => {
    expect(rungEpochs(1, 9, 3)).toEqual([1, 3, 9]);
    expect(rungEpochs(1, 10, 3)).toEqual([1, 3, 9, 10]);
    expect(rungEpochs(2, 20, 2)).toEqual([2, 4, 8, 16, 20]);
    expect(rungEpochs(5, 5, 3)).toEqual([5]);
  });
});

describe('ASHA', () => {
  const asha = createAsha({ minResource: 1, maxResource: 9, reductionFactor: 3 });

  it('promotes a paused trial once it is in the best third of its rung', () => {
    // Two trials at rung 0: ⌊2/3⌋ = 0 go on.
    const two = [trial(0, 'paused', 0, [0.5]), trial(1, 'paused', 0, [0.7])];
    expect(asha.promotions(two, 'maximize')).toEqual([]);
    // A third arrives: the best of three (trial 1) goes on, asynchronously, without waiting for more.
    expect(asha.promotions([...two, trial(2, 'paused', 0, [0.6])], 'maximize')).toEqual([1]);
    expect(asha.promotions([...two, trial(2, 'paused', 0, [0.6])], 'minimize')).toEqual([0]);
  });

  it('counts trials that went on or ended at a rung, but promotes only paused ones', () => {
    const trials = [
      trial(0, 'running', 1, [0.9]), // promoted earlier, now training toward rung 1
      trial(1, 'paused', 0, [0.8]),
      trial(2, 'completed', 0, [0.1]), // early-stopped before rung 1
      trial(3, 'paused', 0, [0.2]),
      trial(4, 'paused', 0, [0.3]),
      trial(5, 'paused', 0, [0.4]),
    ];
    // Six reached rung 0: the best two (0 and 1) go on; 0 already did.
    expect(asha.promotions(trials, 'maximize')).toEqual([1]);
  });

  it('promotes through every rung but the last, and breaks ties by trial number', () => {
    const trials = [
      trial(0, 'paused', 1, [0.9, 0.95]),
      trial(1, 'running', 1, [0.9]),
      trial(2, 'paused', 1, [0.8, 0.95]),
      trial(3, 'paused', 1, [0.7, 0.5]),
      trial(4, 'paused', 0, [0.1]),
      trial(5, 'paused', 0, [0.1]),
    ];
    // Rung 1 has three: the best (tie 0 and 2 at 0.95 → 0) goes on to the last rung. Rung 0 keeps 2 of 6: 0 and 1.
    expect(asha.promotions(trials, 'maximize')).toEqual([0]);
  });

  it('orders promotions as ASHA does: the highest rung first, then the best value', () => {
    const trials = [
      ...[0.9, 0.8, 0.7, 0.6, 0.5, 0.4].map((v, n) => trial(n, n < 3 ? 'paused' : 'completed', n < 3 ? 1 : 0, n < 3 ? [v, v] : [v])),
      ...[0.95, 0.85, 0.75].map((v, i) => trial(6 + i, 'paused', 0, [v])),
    ];
    // Rung 1 holds 0, 1, 2: ⌊3/3⌋ = 1 goes on (0). Rung 0 holds 9: the best 3 (6, 0, 7); 0 has gone on.
    expect(asha.promotions(trials, 'maximize')).toEqual([0, 6, 7]);
  });

  it('gives every trial the same milestones', () => {
    expect(asha.milestones(0)).toEqual([1, 3, 9]);
    expect(asha.milestones(17)).toEqual([1, 3, 9]);
  });
});

describe('Hyperband', () => {
  const hyperband = createHyperband({ minResource: 1, maxResource: 27, reductionFactor: 3 }, 42);

  it('spreads trials over brackets starting at 1, 3, 9 and 27 epochs, most in the most aggressive', () => {
    const starts = Array.from({ length: 400 }, (_, n) => hyperband.milestones(n)[0]);
    const count = (epochs: number) => starts.filter((s) => s === epochs).length;
    // Hyperband's bracket sizes for η = 3, sMax = 3: 27, 12, 6, 4 trials.
    expect(count(1)).toBeGreaterThan(count(3));
    expect(count(3)).toBeGreaterThan(count(27));
    expect(count(1) + count(3) + count(9) + count(27)).toBe(400);
    expect(hyperband.milestones(5)).toEqual(hyperband.milestones(5));
    expect(createHyperband({ minResource: 1, maxResource: 27, reductionFactor: 3 }, 42).milestones(5)).toEqual(hyperband.milestones(5));
  });

  it('compares trials only within their bracket', () => {
    const inBracket0 = Array.from({ length: 40 }, (_, n) => n).filter((n) => hyperband.milestones(n)[0] === 1).slice(0, 3);
    const others = Array.from({ length: 40 }, (_, n) => n).filter((n) => hyperband.milestones(n)[0] === 3).slice(0, 3);
    const trials = [...inBracket0.map((n, i) => trial(n, 'paused', 0, [i])), ...others.map((n) => trial(n, 'paused', 0, [100]))];
    // The other bracket's far better values do not crowd bracket 0's best out.
    expect([...hyperband.promotions(trials, 'maximize')].sort((a, b) => a - b)).toEqual([inBracket0[2], others[0]].sort((a, b) => a! - b!));
  });
});

describe('median pruner', () => {
  it('stops a trial worse than the median of completed trials at the same epoch, after the start-up trials', () => {
    const others = [0.6, 0.7, 0.8, 0.9, 0.95];
    expect(medianPrunes(3, 0.75, others, 5, 'maximize')).toBe(true);
    expect(medianPrunes(3, 0.85, others, 5, 'maximize')).toBe(false);
    expect(medianPrunes(3, 0.75, others, 4, 'maximize')).toBe(false);
    expect(medianPrunes(3, 0.85, others, 5, 'minimize')).toBe(true);
    expect(medianPrunes(3, 0.1, [], 9, 'minimize')).toBe(false);
    expect(medianPrunes(2, 0.1, others, 9, 'maximize', { nStartupTrials: 0, nWarmupSteps: 2, intervalSteps: 1 })).toBe(false);
    expect(medianPrunes(4, 0.1, others, 9, 'maximize', { nStartupTrials: 0, nWarmupSteps: 2, intervalSteps: 2 })).toBe(false);
    expect(medianPrunes(5, 0.1, others, 9, 'maximize', { nStartupTrials: 0, nWarmupSteps: 2, intervalSteps: 2 })).toBe(true);
  });
});
