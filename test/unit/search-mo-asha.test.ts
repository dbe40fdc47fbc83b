import { describe, expect, it } from 'vitest';
import type { EpochMetrics, TrialState } from '../../src/domain.ts';
import { rungView } from '../../src/coordinator/rung-view.ts';
import type { ObjectiveConfig } from '../../src/search/index.ts';
import { createAsha, createHyperband } from '../../src/search/schedulers/index.ts';
import type { RungRecord } from '../../src/storage/index.ts';

/**
 * MO-ASHA (Schmucker et al., 2021): with several objectives (or constraints) a rung keeps its
 * best ⌊n/η⌋ by constrained Pareto front, ties in a front by crowding distance, then number.
 */
const twoObjectives: ObjectiveConfig = {
  objective: { metric: 'val_accuracy', direction: 'maximize' },
  objectives: [{ metric: 'val_accuracy', direction: 'maximize' }, { metric: 'param_count', direction: 'minimize' }],
};
const single: ObjectiveConfig = { objective: { metric: 'val_accuracy', direction: 'maximize' } };
const directionsOf = (config: ObjectiveConfig) => (config.objectives ?? [config.objective]).map((o) => o.direction);

/** Trials paused at rung 0, each with its rung-0 metrics (null: a row recorded before rungs kept metrics). */
function atRungZero(metrics: (EpochMetrics | null)[], state: TrialState = 'paused') {
  const trials = metrics.map((_, number) => ({ id: `t${number}`, number, state, rung: 0 }));
  const rungs: RungRecord[] = metrics.map((m, number) => ({ trialId: `t${number}`, rung: 0, epoch: 1, value: m?.['val_accuracy'] ?? 0.99, metrics: m }));
  return { trials, rungs };
}

const asha = createAsha({ minResource: 1, maxResource: 9, reductionFactor: 3 });
const promoted = (metrics: (EpochMetrics | null)[], config: ObjectiveConfig, scheduler = asha) => {
  const { trials, rungs } = atRungZero(metrics);
  return scheduler.promotions(rungView(trials, rungs, config), config.objective.direction, directionsOf(config));
};

describe('MO-ASHA promotion at a rung', () => {
  // Front 0: #1 (0.95, 1000), #2 (0.80, 10), #4 (0.90, 100). #0 ties #1's accuracy with more weights; #3 is
  // second best by accuracy but #1 dominates it; #5 is dominated by #4.
  const six = [
    { val_accuracy: 0.95, param_count: 5000 },
    { val_accuracy: 0.95, param_count: 1000 },
    { val_accuracy: 0.8, param_count: 10 },
    { val_accuracy: 0.94, param_count: 2000 },
    { val_accuracy: 0.9, param_count: 100 },
    { val_accuracy: 0.85, param_count: 150 },
  ];

  it('promotes by front and crowding distance, not by the primary value', () => {
    // ⌊6/3⌋ = 2 go on: the front's two extremes (infinite crowding, then by number), not #4 in its middle.
    expect(promoted(six, twoObjectives)).toEqual([1, 2]);
    // One objective: the best two accuracies, ties by number (#0 is dominated, #3 is on front 1).
    expect(promoted(six, single)).toEqual([0, 1]);
  });

  it('breaks ties within a front by the larger crowding distance, then the trial number', () => {
    // All four on front 0 (both minimized). Crowding: (2, 9) ≈ 0.78, (3, 5) ≈ 1.78; extremes infinite.
    const config: ObjectiveConfig = {
      objective: { metric: 'val_loss', direction: 'minimize' },
      objectives: [{ metric: 'val_loss', direction: 'minimize' }, { metric: 'param_count', direction: 'minimize' }],
    };
    const front = [[1, 10], [2, 9], [3, 5], [10, 1]].map(([l, p]) => ({ val_loss: l!, param_count: p! }));
    const dominated = [{ val_loss: 11, param_count: 11 }, { val_loss: 12, param_count: 12 }];
    const halving = createAsha({ minResource: 1, maxResource: 4, reductionFactor: 2 });
    const { trials, rungs } = atRungZero([...front, ...dominated]);
    for (const r of rungs) r.value = r.metrics!['val_loss']!;
    // ⌊6/2⌋ = 3: the extremes #0 and #3, then #2 (the larger crowding), though #1 has the better loss.
    expect(halving.promotions(rungView(trials, rungs, config), 'minimize', ['minimize', 'minimize'])).toEqual([0, 3, 2]);
    expect(halving.promotions(rungView(trials, rungs, { objective: config.objective }), 'minimize')).toEqual([0, 1, 2]);
  });

  it('ranks infeasible trials after every feasible one, the smaller violation first', () => {
    const constrained = { ...twoObjectives, constraints: [{ metric: 'predict_ms_per_row', max: 1 }] };
    const withLatency = six.map((m, i) => ({ ...m, predict_ms_per_row: i === 1 ? 5 : i === 2 ? 3 : 0.5 }));
    // #1 and #2 break the bound: the feasible front is #0, #3 and #4, of which #0 and #4 are the extremes.
    expect(promoted(withLatency, constrained)).toEqual([0, 4]);
    // With nine trials and three to keep, and only one feasible, the infeasible follow by violation: #2 (2) before #1 (4).
    const mostlyInfeasible = withLatency.slice(0, 3).map((m, i) => ({ ...m, predict_ms_per_row: i === 0 ? 0.5 : m.predict_ms_per_row }));
    const worse = Array.from({ length: 6 }, () => ({ val_accuracy: 0.99, param_count: 1, predict_ms_per_row: 9 }));
    expect(promoted([...mostlyInfeasible, ...worse], constrained)).toEqual([0, 2, 1]);
  });

  it('ranks a single objective with constraints by feasibility first', () => {
    const config: ObjectiveConfig = { ...single, constraints: [{ metric: 'param_count', max: 500 }] };
    // #0 and #1 have the best accuracies but too many weights.
    expect(promoted(six, config)).toEqual([4, 5]);
  });

  it('ranks a trial without a point at the rung after those with one', () => {
    // #0's rung row kept no metrics (its rung value, 0.99, is the best of all); #3 lacks param_count.
    const metrics = [null, six[1]!, six[2]!, { val_accuracy: 0.98 }, ...Array.from({ length: 5 }, () => ({ val_accuracy: 0.5 }))];
    // Nine trials, three kept, two with points: they go first, then the best primary value of the rest.
    expect(promoted(metrics, twoObjectives)).toEqual([1, 2, 0]);
    expect(promoted(metrics, single)).toEqual([0, 3, 1]);
  });

  it('counts trials that went on or ended at a rung, but promotes only paused ones', () => {
    const { trials, rungs } = atRungZero(six);
    trials[2]!.state = 'running';
    trials[2]!.rung = 1;
    // #2 was promoted before: #1 and #2 are the rung's best two, and only #1 is still paused there.
    expect(asha.promotions(rungView(trials, rungs, twoObjectives), 'maximize', ['maximize', 'minimize'])).toEqual([1]);
  });

  it('ranks Hyperband brackets by front too', () => {
    const hyperband = createHyperband({ minResource: 1, maxResource: 9, reductionFactor: 3 }, 42);
    const bracket0 = Array.from({ length: 60 }, (_, n) => n).filter((n) => hyperband.milestones(n)[0] === 1).slice(0, 3);
    const metrics = [{ val_accuracy: 0.9, param_count: 5000 }, { val_accuracy: 0.9, param_count: 100 }, { val_accuracy: 0.5, param_count: 50 }];
    const trials = bracket0.map((number) => ({ id: `t${number}`, number, state: 'paused' as const, rung: 0 }));
    const rungs = bracket0.map((number, i): RungRecord => ({ trialId: `t${number}`, rung: 0, epoch: 1, value: metrics[i]!.val_accuracy, metrics: metrics[i]! }));
    // ⌊3/3⌋ = 1: by value the tie goes to the lower number (dominated); by front to the one that dominates it.
    expect(hyperband.promotions(rungView(trials, rungs, single), 'maximize')).toEqual([bracket0[0]]);
    expect(hyperband.promotions(rungView(trials, rungs, twoObjectives), 'maximize', ['maximize', 'minimize'])).toEqual([bracket0[1]]);
  });
});

describe('single-objective studies', () => {
  it('get no rung points, and promote exactly as ASHA by value', () => {
    const values = [0.5, 0.9, 0.7, 0.95, 0.6, 0.8, 0.85, 0.4, 0.3];
    const { trials, rungs } = atRungZero(values.map((v) => ({ val_accuracy: v, param_count: 10 })));
    const view = rungView(trials, rungs, single);
    for (const t of view) expect(t).not.toHaveProperty('rungPoints');
    expect(view.map((t) => [...t.rungValues])).toEqual(values.map((v) => [[0, v]]));
    // ⌊9/3⌋ = 3: the three best values, best first.
    expect(asha.promotions(view, 'maximize', ['maximize'])).toEqual([3, 1, 6]);
    expect(asha.promotions(view, 'maximize')).toEqual([3, 1, 6]);
    expect(asha.promotions(view, 'minimize')).toEqual([8, 7, 0]);
  });
});
