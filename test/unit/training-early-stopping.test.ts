import { describe, expect, it } from 'vitest';
import { EarlyStopper } from '../../src/workers/training/index.ts';

function run(stopper: EarlyStopper, values: number[]): ('continue' | 'stop')[] {
  return values.map((v, i) => stopper.update(i + 1, v));
}

describe('EarlyStopper', () => {
  it('stops after `patience` epochs without improvement when minimizing', () => {
    const s = new EarlyStopper({ patience: 2, minDelta: 0, direction: 'minimize' });
    expect(run(s, [1.0, 0.8, 0.9, 0.85])).toEqual(['continue', 'continue', 'continue', 'stop']);
    expect(s.bestEpoch).toBe(2);
    expect(s.bestValue).toBe(0.8);
  });

  it('tracks the maximum when maximizing', () => {
    const s = new EarlyStopper({ patience: 1, minDelta: 0, direction: 'maximize' });
    expect(run(s, [0.5, 0.7, 0.6])).toEqual(['continue', 'continue', 'stop']);
    expect(s.bestEpoch).toBe(2);
    expect(s.bestValue).toBe(0.7);
  });

  it('counts an improvement only when it exceeds minDelta', () => {
    const s = new EarlyStopper({ patience: 2, minDelta: 0.1, direction: 'minimize' });
    // 0.95 and 0.9 beat 1.0 by at most minDelta: not improvements.
    expect(run(s, [1.0, 0.95, 0.9])).toEqual(['continue', 'continue', 'stop']);
    expect(s.bestEpoch).toBe(1);
    const m = new EarlyStopper({ patience: 1, minDelta: 0.1, direction: 'maximize' });
    expect(run(m, [0.5, 0.61, 0.7])).toEqual(['continue', 'continue', 'stop']);
    expect(m.bestEpoch).toBe(2);
  });

  it('resets its patience on every improvement', () => {
    const s = new EarlyStopper({ patience: 2, minDelta: 0, direction: 'minimize' });
    expect(run(s, [5, 6, 4, 6, 3, 7, 7])).toEqual(['continue', 'continue', 'continue', 'continue', 'continue', 'continue', 'stop']);
    expect(s.bestEpoch).toBe(5);
  });

  it('never counts NaN or infinite values as improvements', () => {
    const s = new EarlyStopper({ patience: 3, minDelta: 0, direction: 'minimize' });
    expect(s.update(1, Number.NaN)).toBe('continue');
    expect(s.bestEpoch).toBe(0);
    expect(Number.isNaN(s.bestValue)).toBe(true);
    expect(s.update(2, 2)).toBe('continue');
    expect(s.update(3, Number.NaN)).toBe('continue');
    expect(s.update(4, Number.NEGATIVE_INFINITY)).toBe('continue');
    expect(s.update(5, Number.NaN)).toBe('stop');
    expect(s.bestEpoch).toBe(2);
    expect(s.bestValue).toBe(2);
  });

  it('stops at the first non-improving epoch with patience 0', () => {
    const s = new EarlyStopper({ patience: 0, minDelta: 0, direction: 'minimize' });
    expect(run(s, [3, 2, 2])).toEqual(['continue', 'continue', 'stop']);
  });

  it('rejects invalid options and epochs with messages that name the value and the rule', () => {
    expect(() => new EarlyStopper({ patience: -1, minDelta: 0, direction: 'minimize' })).toThrow(
      /`patience` is -1, but must be an integer >= 0/,
    );
    expect(() => new EarlyStopper({ patience: 1, minDelta: -0.5, direction: 'minimize' })).toThrow(/`minDelta` is -0.5/);
    const s = new EarlyStopper({ patience: 1, minDelta: 0, direction: 'minimize' });
    s.update(1, 1);
    expect(() => s.update(1, 0.5)).toThrow(/`epoch` is 1, but must be an integer > 1/);
  });
});
