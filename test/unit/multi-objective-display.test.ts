import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaderboardText, paretoLine, type Leaderboard } from '../../src/cli/leaderboard.ts';
import { metricValue } from '../../src/cli/output.ts';

// The pages are plain browser modules (no types); these parts of them need no DOM.
const pages = join(import.meta.dirname, '../../src/dashboard/public/pages');
const objectives = await import(join(pages, 'objectives.js'));
const chart = await import(join(pages, 'pareto-chart.js'));
const form = await import(join(pages, 'study-form.js'));

type Item = { name: string; value: [number, number]; trialId: string };
type Series = { name: string; type: string; step?: string; data: (Item | [number, number])[] };

const accuracy = { metric: 'val_accuracy', direction: 'maximize' };
const params = { metric: 'param_count', direction: 'minimize' };
const latency = { metric: 'predict_ms_per_row', direction: 'minimize' };

/** A finished, ranked trial of a study over val_accuracy and param_count. */
const ranked = (number: number, values: number[], front: number, violation = 0) => ({
  id: `t${number}`,
  number,
  family: 'mlp',
  state: 'completed',
  value: values[0],
  front,
  values,
  violation,
  feasible: violation === 0,
});

describe('metric values as the dashboard and the CLI print them', () => {
  it('groups counts by thousands, gives times 3 significant digits and other metrics 4', () => {
    for (const format of [objectives.metricText as (m: string, v: number | null) => string, (m: string, v: number | null) => metricValue(m, v).replace(/^-$/, '–')]) {
      expect(format('param_count', 53683)).toBe('53,683');
      expect(format('param_count', 1234567)).toBe('1,234,567');
      expect(format('param_count', 819)).toBe('819');
      expect(format('predict_ms_per_row', 0.0123456)).toBe('0.0123');
      expect(format('predict_ms_per_row', 12.345)).toBe('12.3');
      expect(format('train_seconds', 1.3139)).toBe('1.31');
      expect(format('val_accuracy', 0.944444)).toBe('0.9444');
      expect(format('val_accuracy', null)).toBe('–');
    }
  });

  it('names an objective with its direction and a constraint as a bound', () => {
    expect(objectives.objectiveTitle(params)).toBe('param_count (lower is better)');
    expect(objectives.objectiveTitle(accuracy)).toBe('val_accuracy (higher is better)');
    expect(objectives.constraintText({ metric: 'param_count', max: 2000 })).toBe('param_count ≤ 2,000');
    expect(objectives.constraintText({ metric: 'predict_ms_per_row', min: 0.01, max: 0.05 })).toBe('predict_ms_per_row ≥ 0.01 and predict_ms_per_row ≤ 0.05');
  });

  it('tells a study ranked by a front from one ranked by value', () => {
    expect(objectives.ranksByFront({ objective: accuracy })).toBe(false);
    expect(objectives.ranksByFront({ objective: accuracy, objectives: [accuracy, params] })).toBe(true);
    expect(objectives.ranksByFront({ objective: accuracy, constraints: [{ metric: 'param_count', max: 10 }] })).toBe(true);
  });

  it('reads an objective from the ranked vector, then the metrics, then the value so far', () => {
    const running = { value: 0.5, metrics: { val_accuracy: 0.5 }, values: null };
    expect(objectives.objectiveValue(ranked(1, [0.9, 400], 0), 1, params)).toBe(400);
    expect(objectives.objectiveValue(running, 0, accuracy)).toBe(0.5);
    expect(objectives.objectiveValue(running, 1, params)).toBeNull();
    expect(objectives.objectiveValue({ value: 0.4, metrics: null }, 0, accuracy)).toBe(0.4);
  });

  it("says whether a trial is feasible, and by how much it is not", () => {
    expect(objectives.feasibility({ feasible: true, violation: 0 })).toEqual({ feasible: true, text: 'yes' });
    expect(objectives.feasibility({ feasible: false, violation: 25.8415 })).toEqual({ feasible: false, text: 'no (violation 25.8)' });
    // An unmeasured constrained metric's violation is infinite, which JSON carries as null.
    expect(objectives.feasibility({ feasible: false, violation: null })).toEqual({ feasible: false, text: 'no (not measured)' });
    expect(objectives.feasibility({ feasible: null })).toEqual({ feasible: null, text: '–' });
  });

  it("summarizes the front, or says why there is none", () => {
    expect(objectives.paretoText({ hypervolume: 258.59444, reference: [0, 1461], size: 3 })).toBe('Pareto front: 3 trials, hypervolume 258.6');
    expect(objectives.paretoText(null, [{ metric: 'param_count', max: 1 }])).toBe('No Pareto front yet: no finished trial meets the constraints.');
    expect(objectives.paretoText(null, undefined)).toBe('No Pareto front yet: no trial has finished.');
  });
});

describe('the Pareto chart', () => {
  const trials = [
    ranked(0, [0.17, 383], 0),
    ranked(1, [0.94, 53683], 2, 25.84),
    ranked(2, [0.03, 1363], 1),
    ranked(3, [0.39, 1193], 0),
    ranked(4, [0.19, 819], 0),
    // Under way: no objective vector yet, so no point.
    { id: 't5', number: 5, family: 'mlp', state: 'running', value: 0.2, front: null, values: null, violation: null, feasible: null },
  ];
  const option = chart.paretoOption({ trials, objectives: [accuracy, params] });
  const series = (name: string) => (option.series as Series[]).find((s) => s.name === name)!;
  const numbers = (s: Series) => (s.data as Item[]).map((p) => p.name);

  it('highlights feasible front 0, fades the rest and marks infeasible trials apart', () => {
    expect(numbers(series('Pareto front'))).toEqual(['#0', '#3', '#4']);
    expect(numbers(series('other trials'))).toEqual(['#2']);
    expect(numbers(series('infeasible'))).toEqual(['#1']);
    expect((series('Pareto front').data[0] as Item)).toMatchObject({ value: [0.17, 383], trialId: 't0' });
    expect(option.xAxis).toMatchObject({ type: 'value', name: 'val_accuracy (higher is better)' });
    // 383 to 53,683 weights: more than two decades, drawn on a log scale.
    expect(option.yAxis).toMatchObject({ type: 'log', name: 'param_count (lower is better; log scale)' });
    expect(chart.axisOf(params, [383, 1363], 62)).toMatchObject({ type: 'value', name: 'param_count (lower is better)' });
    expect(chart.axisOf(accuracy, [0, 0.5], 30).type).toBe('value');
  });

  it('joins the front as a staircase along the first objective', () => {
    const line = series('front line');
    expect(line.data).toEqual([[0.17, 383], [0.19, 819], [0.39, 1193]]);
    // A larger first objective is better here: the region it dominates lies to its left, so each step rises first.
    expect(line.step).toBe('start');
    expect(chart.stepOf('minimize')).toBe('end');
  });

  it('puts the trial and every objective in the tooltip, escaped', () => {
    const infeasible = series('infeasible').data[0];
    expect(option.tooltip.formatter({ data: infeasible })).toBe('#1 mlp<br/>val_accuracy: 0.94<br/>param_count: 53,683<br/>infeasible (violation 25.8)');
    const odd = { number: 7, family: '<b>', values: [0.5, 10], feasible: true };
    expect(chart.pointTooltip(odd, [accuracy, params])).toBe('#7 &#60;b&#62;<br/>val_accuracy: 0.5<br/>param_count: 10');
  });
});

describe('the create form', () => {
  const fields = { name: 'wine', datasetId: 'd', metric: 'val_accuracy', direction: 'maximize', second: '', third: '', constraintMetric: '', constraintBound: 'max', constraintValue: '', families: [], maxTrials: 4, maxEpochs: 2, parallelism: 1, algorithm: 'tpe', scheduler: '', seed: '' };

  it('offers the costs and the other validation metric as more objectives, never one already chosen', () => {
    expect(form.extraMetrics('classification', ['val_accuracy'])).toEqual(['val_loss', 'param_count', 'predict_ms_per_row', 'train_seconds']);
    expect(form.extraMetrics('regression', ['val_loss', 'param_count'])).toEqual(['val_mae', 'predict_ms_per_row', 'train_seconds']);
  });

  it('limits the algorithms once there is a second objective, and drops a third without a second', () => {
    expect(form.algorithmsFor(fields)).toEqual(['random', 'tpe', 'evolution', 'grid']);
    const two = form.reconcile({ ...fields, second: 'param_count', third: 'train_seconds' }, 'classification');
    expect(two).toMatchObject({ second: 'param_count', third: 'train_seconds', algorithm: 'nsga2' });
    expect(form.algorithmsFor(two)).toEqual(['nsga2', 'motpe', 'random', 'grid']);
    expect(form.reconcile({ ...two, algorithm: 'grid' }, 'classification').algorithm).toBe('grid');
    expect(form.reconcile({ ...two, second: '' }, 'classification')).toMatchObject({ second: '', third: '' });
    // The primary objective changed to the second's metric: the second is dropped.
    expect(form.reconcile({ ...two, metric: 'param_count' }, 'classification')).toMatchObject({ second: '', third: '' });
  });

  it('sends objectives and a constraint, or the single objective as before', () => {
    expect(form.studyBody(fields, { task: 'classification' })).toEqual({ name: 'wine', datasetId: 'd', objective: { metric: 'val_accuracy', direction: 'maximize' }, budget: { maxTrials: 4, maxEpochs: 2, parallelism: 1 }, search: { algorithm: 'tpe' } });
    const body = form.studyBody({ ...fields, second: 'param_count', algorithm: 'random', constraintMetric: 'predict_ms_per_row', constraintValue: '0.05' }, { task: 'classification' });
    expect(body.objective).toBeUndefined();
    expect(body.objectives).toEqual([{ metric: 'val_accuracy', direction: 'maximize' }, { metric: 'param_count' }]);
    expect(body.constraints).toEqual([{ metric: 'predict_ms_per_row', max: 0.05 }]);
    const min = form.studyBody({ ...fields, constraintMetric: 'val_accuracy', constraintBound: 'min', constraintValue: '0.5' }, { task: 'classification' });
    expect(min).toMatchObject({ objective: { metric: 'val_accuracy' }, constraints: [{ metric: 'val_accuracy', min: 0.5 }] });
  });
});

describe('maas studies leaderboard', () => {
  const entry = (number: number, values: number[] | null, front: number | null, violation: number | null, state = 'completed') => ({
    id: `t${number}`, number, family: 'mlp', state, value: values?.[0] ?? 0.2, metrics: values ? { val_accuracy: values[0]!, param_count: values[1]! } : null,
    params: { family: 'mlp', units: 8 }, epochs: 2, bestEpoch: 2, durationMs: 1500, attempts: 1, retries: 0, rung: 0, backend: 'cpu', worker: 'w', error: null, startedAt: null, endedAt: null,
    front, crowding: null, values, violation, feasible: violation === null && front === null ? null : violation === 0,
  });
  const board: Leaderboard = {
    objectives: [accuracy, params] as Leaderboard['objectives'],
    constraints: [{ metric: 'param_count', max: 2000 }],
    pareto: { hypervolume: 258.59444, reference: [-0.008333, 1461], size: 2 },
    trials: [entry(3, [0.39, 1193], 0, 0), entry(0, [0.17, 383], 0, 0), entry(1, [0.94, 53683], 1, 25.84), entry(4, null, null, null, 'running')].map((t, i) => ({ rank: i + 1, ...t })),
  };

  it('prints the front, each objective under its metric, feasibility and the front summary', () => {
    const lines = leaderboardText(board).split('\n');
    expect(lines[0]).toMatch(/^RANK +TRIAL +FAMILY +STATE +FRONT +val_accuracy +param_count +FEASIBLE +EPOCHS +TIME +PARAMS$/);
    const at = (row: string, column: string) => row.slice(lines[0]!.indexOf(column)).split(/ {2,}/)[0];
    expect(at(lines[1]!, 'FRONT')).toBe('0');
    expect(at(lines[1]!, 'param_count')).toBe('1,193');
    expect(at(lines[3]!, 'param_count')).toBe('53,683');
    expect(at(lines[3]!, 'FEASIBLE')).toBe('no (violation 25.8)');
    expect(at(lines[4]!, 'FRONT')).toBe('-');
    expect(at(lines[4]!, 'val_accuracy')).toBe('0.2');
    expect(lines[5]).toBe('pareto front: 2 trials, hypervolume 258.6 (reference val_accuracy -0.008333, param_count 1,461)');
    expect(lines[6]).toBe('constraints: param_count ≤ 2,000');
  });

  it('says why there is no front, and keeps the single-objective table as it was', () => {
    expect(paretoLine({ ...board, pareto: null })).toBe('pareto front: none yet (no finished trial meets the constraints)');
    const single = leaderboardText({ objectives: [accuracy] as Leaderboard['objectives'], trials: [{ ...entry(0, [0.5, 10], null, null), rank: 1 }] });
    expect(single.split('\n')[0]).toMatch(/^RANK +TRIAL +FAMILY +STATE +VALUE +EPOCHS +TIME +PARAMS$/);
    expect(single).not.toContain('pareto');
  });
});
