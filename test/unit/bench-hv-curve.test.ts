import { describe, expect, it } from 'vitest';
import { epochsToReach, hypervolumeCurve, type CurveObjective } from '../../bench/hv-curve.ts';

const objectives: CurveObjective[] = [
  { metric: 'val_accuracy', direction: 'maximize' },
  { metric: 'param_count', direction: 'minimize' },
];
const reference = [0, 100];

describe('bench:mo-asha hypervolume curve', () => {
  it('counts each trial at its best epoch so far, with its costs, after every epoch', () => {
    const costs = new Map([
      [0, { param_count: 10 }],
      [1, { param_count: 50 }],
    ]);
    const curve = hypervolumeCurve(
      [
        { trial: 0, metrics: { val_accuracy: 0.5 } },
        { trial: 0, metrics: { val_accuracy: 0.8 } },
        { trial: 1, metrics: { val_accuracy: 0.9 } },
        // Worse than trial 0's best: its point stays at 0.8.
        { trial: 0, metrics: { val_accuracy: 0.6 } },
        // No costs known (a trial that failed): it adds nothing.
        { trial: 2, metrics: { val_accuracy: 0.95 } },
      ],
      costs,
      objectives,
      reference,
    );
    // 0.5 × 90; 0.8 × 90; then 0.9 × 50 + 0.8 × 40 for the front {(0.8, 10), (0.9, 50)}.
    expect(curve.map((v) => Number(v.toFixed(9)))).toEqual([45, 72, 77, 77, 77]);
  });

  it('gives the epochs (1-based) when a curve first reaches a target, null when never', () => {
    const curve = [45, 72, 77, 77];
    expect(epochsToReach(curve, 72)).toBe(2);
    expect(epochsToReach(curve, 73)).toBe(3);
    expect(epochsToReach(curve, 10)).toBe(1);
    expect(epochsToReach(curve, 78)).toBeNull();
    expect(epochsToReach([], 1)).toBeNull();
  });
});
