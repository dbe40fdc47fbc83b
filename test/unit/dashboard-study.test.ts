import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The pages are plain browser modules (no types); these parts of them need no DOM.
const pages = join(import.meta.dirname, '../../src/dashboard/public/pages');
const live = await import(join(pages, 'study-live.js'));
const charts = await import(join(pages, 'study-charts.js'));
const outcome = await import(join(pages, 'trial-outcome.js'));

type Point = [number, number];
type Series = { name: string; data: Point[]; markPoint?: { data: { name: string; value: string; coord: Point }[] } };

const base = { studyId: 's', at: '2026-01-01T00:00:00.000Z' };
const trial = (number: number) => ({ trialId: `t${number}`, number });

describe('the study page folds live events into trials and charts', () => {
  it('marks a paused trial at its rung and a pruned one where it stopped', () => {
    const store = live.emptyStore();
    const events = [
      { type: 'trial.created', ...trial(0), family: 'mlp', params: { family: 'mlp', units: 8 } },
      { type: 'trial.started', ...trial(0), attempt: 1, worker: 'w', backend: 'cpu' },
      { type: 'trial.epoch', ...trial(0), epoch: 1, metrics: { val_loss: 0.9 }, value: 0.9 },
      { type: 'trial.epoch', ...trial(0), epoch: 2, metrics: { val_loss: 0.7 }, value: null },
      { type: 'trial.paused', ...trial(0), rung: 0, epoch: 2 },
    ];
    for (const e of events) live.apply(store, { ...base, ...e }, 'val_loss');
    const t0 = store.trials.get('t0');
    expect(t0).toMatchObject({ state: 'paused', family: 'mlp', curve: [[1, 0.9], [2, 0.7]], pausedAt: { rung: 0, epoch: 2 } });
    let option = charts.curvesOption({ trials: [...store.trials.values()], metric: 'val_loss' });
    let series = option.series[0] as Series;
    expect(series.name).toBe('#0 mlp');
    expect(series.markPoint!.data.map((m) => [m.name, m.value, m.coord])).toEqual([['paused', 'paused r0', [2, 0.7]]]);

    live.apply(store, { ...base, type: 'trial.promoted', ...trial(0), rung: 1 }, 'val_loss');
    live.apply(store, { ...base, type: 'trial.epoch', ...trial(0), epoch: 3, metrics: { val_loss: 0.8 }, value: 0.8 }, 'val_loss');
    option = charts.curvesOption({ trials: [...store.trials.values()], metric: 'val_loss' });
    expect((option.series[0] as Series).markPoint).toBeUndefined();

    live.apply(store, { ...base, type: 'trial.ended', ...trial(0), state: 'pruned', value: 0.7, reason: 'below the rung' }, 'val_loss');
    option = charts.curvesOption({ trials: [...store.trials.values()], metric: 'val_loss' });
    series = option.series[0] as Series;
    expect(series.markPoint!.data.map((m) => [m.name, m.value, m.coord])).toEqual([['pruned', 'pruned r1', [3, 0.8]]]);
  });

  it('replaces the epochs a retried attempt repeats', () => {
    const store = live.emptyStore();
    for (const epoch of [1, 2, 3]) live.apply(store, { ...base, type: 'trial.epoch', ...trial(4), epoch, metrics: {}, value: epoch / 10 }, 'val_loss');
    live.apply(store, { ...base, type: 'trial.started', ...trial(4), attempt: 2, worker: 'w2', backend: 'cpu' }, 'val_loss');
    live.apply(store, { ...base, type: 'trial.epoch', ...trial(4), epoch: 2, metrics: {}, value: 0.5 }, 'val_loss');
    expect(store.trials.get('t4').curve).toEqual([[1, 0.1], [2, 0.5]]);
  });

  it('keeps the study end and the champion decision', () => {
    const store = live.emptyStore();
    live.apply(store, { ...base, type: 'champion.decision', model: 'm', version: 2, moved: false, reason: 'the champion is better' }, 'val_loss');
    live.apply(store, { ...base, type: 'study.ended', state: 'completed', message: 'done' }, 'val_loss');
    expect(store).toMatchObject({ ended: true, studyState: 'completed', message: 'done', champion: { version: 2, moved: false } });
  });

  it('draws the best value so far for the direction, and the baseline across every trial', () => {
    const trials = [
      { number: 0, state: 'completed', value: 0.5 },
      { number: 1, state: 'pruned', value: 0.7 },
      { number: 2, state: 'completed', value: 0.6 },
      { number: 3, state: 'failed', value: null },
      { number: 4, state: 'completed', value: 0.4 },
    ];
    const max = charts.historyOption({ trials, direction: 'maximize', metric: 'val_accuracy', baseline: { method: 'majority class', value: 0.3 } });
    const byName = (o: { series: Series[] }, name: string) => o.series.find((s) => s.name.startsWith(name))!.data;
    expect(byName(max, 'best so far')).toEqual([[0, 0.5], [1, 0.7], [2, 0.7], [4, 0.7]]);
    expect(byName(max, 'completed')).toEqual([[0, 0.5], [2, 0.6], [4, 0.4]]);
    expect(byName(max, 'pruned')).toEqual([[1, 0.7]]);
    expect(byName(max, 'baseline')).toEqual([[0, 0.3], [4, 0.3]]);
    const min = charts.historyOption({ trials, direction: 'minimize', metric: 'val_loss', baseline: null });
    expect(byName(min, 'best so far')).toEqual([[0, 0.5], [1, 0.5], [2, 0.5], [4, 0.4]]);
    expect(min.series.some((s: Series) => s.name.startsWith('baseline'))).toBe(false);
  });

  it('puts each varying parameter on its own parallel axis, the value last', () => {
    const trials = [
      { number: 0, family: 'mlp', state: 'completed', value: 0.5, params: { family: 'mlp', units: 8, learningRate: 0.0001, optimizer: 'adam', dropout: 0 } },
      { number: 1, family: 'mlp', state: 'completed', value: 0.7, params: { family: 'mlp', units: 32, learningRate: 0.1, optimizer: 'sgd', dropout: 0 } },
    ];
    const option = charts.parallelOption({ trials, metric: 'val_accuracy' });
    expect(option.parallelAxis.map((a: { name: string; type: string }) => [a.name, a.type])).toEqual([
      ['family', 'category'], ['learningRate', 'log'], ['optimizer', 'category'], ['units', 'value'], ['val_accuracy', 'value'],
    ]);
    expect(option.series[0].data.map((d: { value: unknown[] }) => d.value)).toEqual([['mlp', 0.0001, 'adam', 8, 0.5], ['mlp', 0.1, 'sgd', 32, 0.7]]);
  });

  it('says why a trial ended', () => {
    const config = { budget: { maxEpochs: 10 }, earlyStopping: { patience: 3, minDelta: 0.001 } };
    expect(outcome.outcomeOf({ state: 'completed', epochs: 10, bestEpoch: 9 }, config)).toBe('trained all 10 epochs; its best epoch was 9');
    expect(outcome.outcomeOf({ state: 'completed', epochs: 6, bestEpoch: 3 }, config)).toBe('stopped early after epoch 6: no improvement of at least 0.001 for 3 epochs after its best epoch 3');
    expect(outcome.outcomeOf({ state: 'pruned', epochs: 2, error: 'val_loss 0.9 is worse than the median 0.5 at epoch 2' }, config)).toBe('pruned after epoch 2: val_loss 0.9 is worse than the median 0.5 at epoch 2');
    expect(outcome.outcomeOf({ state: 'failed', epochs: 0, error: 'out of memory' }, config)).toBe('failed: out of memory');
    expect(outcome.outcomeOf({ state: 'paused', epochs: 3, rung: 1 }, config)).toContain('paused at rung 1 after epoch 3');
  });
});
