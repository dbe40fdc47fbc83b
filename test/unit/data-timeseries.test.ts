import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  baselineOf,
  checkForecastSettings,
  cutWindows,
  decodePredictions,
  encodeInstances,
  prepareDataset,
  preprocessingSchema,
  studySpec,
  trainingData,
  type PrepareInput,
} from '../../src/data/index.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const series = (csv: string, extra: Partial<PrepareInput> = {}) => prepareDataset({ csv, kind: 'timeseries', seed: 0, ...extra });
const stored = (p: ReturnType<typeof series>) => ({ ...p.preprocessing, spec: p.spec, trainRows: p.encoded.trainRows });

/** t = 0..n-1 with value 10·t, in file order, no timestamps. */
const ramp = (n: number) => ['value', ...Array.from({ length: n }, (_, t) => String(10 * t))].join('\n');

describe('time-series datasets', () => {
  it('reads AirPassengers (R datasets) with its month column, in time order', () => {
    const prepared = series(fixture('airpassengers.csv'));
    expect(prepared.task).toBe('forecasting');
    expect(prepared.spec).toBeNull();
    expect(prepared.summary.rows).toBe(144);
    expect(prepared.summary.series).toMatchObject({
      length: 144,
      valueColumns: ['passengers'],
      timeColumn: 'month',
      start: '1949-01',
      end: '1960-12',
      order: 'time order as given',
      missing: { filled: 0 },
      target: { min: 104, max: 622 },
    });
    expect(prepared.summary.split).toEqual({ method: 'time', seed: 0, validationFraction: 0.2, train: 115, validation: 29 });
    expect(prepared.summary.columns.map((c) => c.type)).toEqual(['time', 'target']);
    const pre = prepared.preprocessing;
    expect(preprocessingSchema.safeParse(pre).success).toBe(true);
    // Statistics come from the first 115 months only: the validation years' larger values do not leak in.
    const values = fixture('airpassengers.csv').trim().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
    const trainMean = values.slice(0, 115).reduce((a, b) => a + b, 0) / 115;
    expect(pre.targetMean).toBeCloseTo(trainMean, 6);
    expect(prepared.encoded.features[0]).toBeCloseTo((112 - trainMean) / (pre.targetStd as number), 5);
  });

  it('sorts rows by their timestamps and fills gaps by interpolation', () => {
    const csv = ['date,a,b', '2024-01-03,30,', '2024-01-01,10,1', '2024-01-02,NA,2', '2024-01-05,50,5', '2024-01-04,40,4', '2024-01-06,60,', '2024-01-07,70,7', '2024-01-08,80,8', '2024-01-09,90,9', '2024-01-10,100,10'].join('\n');
    const prepared = series(csv, { target: 'a', validationFraction: 0.3 });
    expect(prepared.summary.series).toMatchObject({ order: 'sorted by time', start: '2024-01-01', end: '2024-01-10', valueColumns: ['a', 'b'], missing: { filled: 3 } });
    expect(prepared.summary.columns).toEqual([
      { name: 'date', type: 'time', missing: 0 },
      { name: 'a', type: 'target', missing: 1 },
      { name: 'b', type: 'numeric', missing: 2 },
    ]);
    const { means = [], stds = [] } = prepared.preprocessing;
    const raw = (t: number, f: number) => (prepared.encoded.features[t * 2 + f] as number) * (stds[f] as number) + (means[f] as number);
    expect(Array.from({ length: 10 }, (_, t) => raw(t, 0))).toEqual(Array.from({ length: 10 }, (_, t) => expect.closeTo(10 * (t + 1), 4)));
    // b: the gap on day 3 is interpolated between 2 and 4, the one on day 6 between 5 and 7.
    expect(raw(2, 1)).toBeCloseTo(3, 4);
    expect(raw(5, 1)).toBeCloseTo(6, 4);
  });

  it('reads numeric timestamps and keeps file order without a time column', () => {
    const numeric = series(['year,level', '1951,3', '1950,2', ...Array.from({ length: 8 }, (_, i) => `${1952 + i},${i}`)].join('\n'));
    expect(numeric.summary.series?.order).toBe('sorted by time');
    expect(numeric.summary.series?.start).toBe('1950');
    const plain = series(ramp(12));
    expect(plain.summary.series?.order).toBe('file order');
    expect(plain.summary.series?.timeColumn).toBeUndefined();
  });

  it('refuses malformed series, naming the field and the rule', () => {
    const twoColumns = ['a,b', ...Array.from({ length: 10 }, (_, i) => `${i},${i}`)].join('\n');
    expectInvalid(() => series(twoColumns), 'target', 'several value columns', 'a, b');
    expectInvalid(() => series(twoColumns, { target: 'c' }), 'target', 'not a value column');
    expectInvalid(() => series(ramp(12), { timeColumn: 'when' }), 'timeColumn', 'not a column');
    expectInvalid(() => series(ramp(5)), 'file', 'too short', 'at least 8');
    expectInvalid(() => series(['month,v', '2024-01,1', 'soon,2', ...Array.from({ length: 8 }, (_, i) => `2025-0${i + 1},${i}`)].join('\n')), 'file', 'line 3', '"month"', 'not a number or a date');
    expectInvalid(() => series(['month,v', '2024-01,1', '2024-01,2', ...Array.from({ length: 8 }, (_, i) => `2025-0${i + 1},${i}`)].join('\n')), 'file', 'lines 2 and 3', 'same time twice');
    expectInvalid(() => series(['v,w', 'x,1', ...Array.from({ length: 8 }, (_, i) => `${i},${i}`)].join('\n'), { target: 'w' }), 'file', 'line 2', '"v"', 'not a number');
    expectInvalid(() => series(['v', ...Array.from({ length: 10 }, () => 'NA')].join('\n')), 'file', 'missing on every row');
    expectInvalid(() => series(ramp(12), { task: 'classification' }), 'task', 'must be "forecasting"');
    expectInvalid(() => prepareDataset({ csv: ramp(12), kind: 'tabular', target: 'value', task: 'forecasting', seed: 0 }), 'task', 'only to kind "timeseries"');
    expectInvalid(() => prepareDataset({ csv: ramp(12), kind: 'tabular', target: 'value', timeColumn: 'value', seed: 0 }), 'timeColumn', 'only to time series');
  });
});

describe('forecasting windows', () => {
  // 20 steps: 16 train, 4 validation.
  const prepared = series(ramp(20));
  const record = { rows: 20, preprocessing: stored(prepared) };
  const blobs = { features: prepared.encoded.features, labels: prepared.encoded.labels };
  const { means = [], stds = [] } = prepared.preprocessing;
  const raw = (v: number) => Math.round(v * (stds[0] as number) + (means[0] as number));

  it('cuts training windows inside the training period and validation windows that forecast the rest', () => {
    const { spec, data } = trainingData(record, blobs, { window: 3, horizon: 2 });
    expect(spec).toEqual({ kind: 'timeseries', task: 'forecasting', inputShape: [3, 1], outputs: 2 });
    // Training origins 3..14 (targets up to step 15), validation origins 16..18 (targets 16..19).
    expect(data).toMatchObject({ rows: 15, trainRows: 12 });
    const row = (r: number) => ({ x: Array.from(data.features.subarray(r * 3, r * 3 + 3), raw), y: Array.from(data.labels.subarray(r * 2, r * 2 + 2), raw) });
    expect(row(0)).toEqual({ x: [0, 10, 20], y: [30, 40] });
    expect(row(11)).toEqual({ x: [110, 120, 130], y: [140, 150] });
    expect(row(12)).toEqual({ x: [130, 140, 150], y: [160, 170] });
    expect(row(14)).toEqual({ x: [150, 160, 170], y: [180, 190] });
    // No training target lies in the validation period.
    for (let r = 0; r < data.trainRows; r++) for (const y of row(r).y) expect(y).toBeLessThan(160);
  });

  it('scores the last-value baseline on the validation windows, in the series units', () => {
    const training = trainingData(record, blobs, { window: 3, horizon: 2 });
    // Each validation forecast repeats the last input; errors are 10 and 20 at every origin.
    expect(baselineOf(training)).toEqual({ method: 'last value', metric: 'val_mae', value: expect.closeTo(15, 4) });
  });

  it('refuses windows and horizons the series cannot hold', () => {
    expectInvalid(() => studySpec(stored(prepared), { window: 3 }), 'horizon', 'is required');
    expectInvalid(() => studySpec(stored(prepared), { horizon: 2 }), 'window', 'is required');
    expectInvalid(() => checkForecastSettings(20, 16, 3, 5), 'horizon', 'longer than the validation period', 'last 4 of 20');
    expectInvalid(() => checkForecastSettings(20, 16, 14, 2), 'window', 'leaves 1 training windows', 'at most 13');
    expectInvalid(() => checkForecastSettings(20, 16, 0, 2), 'window', 'between 1 and 1024');
    expectInvalid(() => checkForecastSettings(20, 16, 3, 1.5), 'horizon', 'integer');
    const tabular = prepareDataset({ csv: ['x,y', ...Array.from({ length: 10 }, (_, i) => `${i},${i % 2}`)].join('\n'), kind: 'tabular', target: 'y', seed: 0 });
    expectInvalid(() => studySpec(stored(tabular), { window: 3 }), 'window', 'only to time-series');
  });

  it('encodes the last window of raw values and decodes forecasts in the series units', () => {
    const pre = { ...prepared.preprocessing, window: 3, horizon: 2 };
    const x = encodeInstances(pre, [[170, 180, 190]]);
    expect(Array.from(x, raw)).toEqual([170, 180, 190]);
    const out = new Float32Array([x[1] as number, x[2] as number]);
    expect(decodePredictions(pre, out, 1)).toEqual([{ forecast: [expect.closeTo(180, 3), expect.closeTo(190, 3)] }]);
    expectInvalid(() => encodeInstances(pre, [[1, 2]]), 'instances[0]', 'last 3 values', 'it has 2');
    expectInvalid(() => encodeInstances(pre, [[1, null, 3]]), 'instances[0][1]', 'finite number');
  });

  it('takes multivariate windows as step arrays or as columns', () => {
    const csv = ['a,b', ...Array.from({ length: 12 }, (_, t) => `${t},${100 - t}`)].join('\n');
    const pre = { ...series(csv, { target: 'b' }).preprocessing, window: 2, horizon: 1 };
    const steps = encodeInstances(pre, [[[1, 99], [2, 98]]]);
    const columns = encodeInstances(pre, [{ a: [1, 2], b: [99, 98] }]);
    expect(Array.from(columns)).toEqual(Array.from(steps));
    expectInvalid(() => encodeInstances(pre, [[[1, 99], [2]]]), 'instances[0][1]', 'array of 2 values: a, b');
    expectInvalid(() => encodeInstances(pre, [{ a: [1, 2] }]), 'instances[0].b', 'last 2 values');
  });
});
