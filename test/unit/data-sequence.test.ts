import { describe, expect, it } from 'vitest';
import { decodePredictions, encodeInstances, prepareDataset, preprocessingSchema, type PrepareInput, type Preprocessing } from '../../src/data/index.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';

const sequence = (csv: string, extra: Partial<PrepareInput> = {}) => prepareDataset({ csv, kind: 'sequence', target: 'label', seed: 7, ...extra });

function jsonlOf(records: Array<Record<string, unknown>>): string {
  return records.map((record) => JSON.stringify(record)).join('\n');
}

/** 40 rows of 4 steps; step 0 is the row's index, so an encoded row can be traced back to its file row. */
const rawRows = Array.from({ length: 40 }, (_, i) => [i, (i % 3) * 2, i % 2 ? 5 : -5, 1]);
const label = (i: number) => (i % 2 ? 'up' : 'down');
const csv = ['t0,t1,t2,t3,label', ...rawRows.map((row, i) => `${row.join(',')},${label(i)}`)].join('\n');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('sequence datasets from CSV', () => {
  it('reads every non-target column as one step of a single feature', () => {
    const prepared = sequence(csv);
    expect(prepared.spec).toEqual({ kind: 'sequence', task: 'classification', inputShape: [4, 1], outputs: 2 });
    expect(prepared.summary.rows).toBe(40);
    expect(prepared.summary.sequence).toEqual({ format: 'csv', steps: 4, features: 1 });
    expect(prepared.summary.classes).toEqual([{ label: 'down', count: 20 }, { label: 'up', count: 20 }]);
    expect(prepared.summary.split).toMatchObject({ method: 'stratified', seed: 7, train: 32, validation: 8 });
    expect(prepared.encoded.features).toHaveLength(40 * 4);
    const pre = prepared.preprocessing;
    expect(pre).toMatchObject({ kind: 'sequence', task: 'classification', target: 'label', steps: 4, features: 1, classes: ['down', 'up'] });
    expect(pre.sequenceField).toBeUndefined();
    expect(preprocessingSchema.safeParse(pre).success).toBe(true);
  });

  it('standardizes with the training rows only', () => {
    // Step 0 is the file row's index, so the encoded training rows name exactly which raw values the statistics may use.
    const twoSteps = ['t0,t1,label', ...rawRows.map((row, i) => `${row[0]},${row[1]},${label(i)}`)].join('\n');
    const prepared = sequence(twoSteps);
    const { means = [], stds = [] } = prepared.preprocessing;
    const { features, trainRows } = prepared.encoded;
    const fileRow = (r: number) => Math.round((features[r * 2] as number) * (stds[0] as number) + (means[0] as number));
    const training = Array.from({ length: trainRows }, (_, r) => fileRow(r));
    expect(new Set(training).size).toBe(trainRows);
    const values = training.flatMap((i) => rawRows[i]?.slice(0, 2) ?? []);
    const m = mean(values);
    const std = Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
    expect(means[0]).toBeCloseTo(m, 9);
    expect(stds[0]).toBeCloseTo(std, 9);
    const all = rawRows.flatMap((row) => row.slice(0, 2));
    expect(means[0]).not.toBeCloseTo(mean(all), 6);
    // The training features average to 0.
    expect(mean(Array.from(features.subarray(0, trainRows * 2)))).toBeCloseTo(0, 5);
  });

  it('gives a constant feature a standard deviation of 1', () => {
    const constant = ['t0,t1,label', ...rawRows.map((_, i) => `3,3,${label(i)}`)].join('\n');
    const prepared = sequence(constant);
    expect(prepared.preprocessing.stds).toEqual([1]);
    expect(Array.from(prepared.encoded.features).every((v) => v === 0)).toBe(true);
  });

  it('is deterministic under a seed', () => {
    const a = sequence(csv);
    const b = sequence(csv);
    expect(a.encoded.features).toEqual(b.encoded.features);
    expect(a.encoded.labels).toEqual(b.encoded.labels);
    expect(a.preprocessing).toEqual(b.preprocessing);
    expect(sequence(csv, { seed: 8 }).encoded.features).not.toEqual(a.encoded.features);
  });

  it('names the line and column of a missing or non-numeric step', () => {
    expectInvalid(() => sequence('a,b,label\n1,2,x\n3,,y\n'), 'file', 'line 3', 'column "b"', 'missing', 'complete');
    expectInvalid(() => sequence('a,b,label\n1,2,x\n3,oops,y\n'), 'file', 'line 3', 'column "b"', 'not a number');
    expectInvalid(() => sequence('label\nx\ny\n'), 'file', 'no step columns');
    expectInvalid(() => sequence(csv, { target: 'nope' }), 'target', 'is not a column');
  });

  it('infers regression for a numeric target with many values and de-standardizes predictions', () => {
    const numeric = ['t0,t1,label', ...rawRows.map((row, i) => `${row[0]},${row[1]},${i * 0.5 + 0.25}`)].join('\n');
    const prepared = sequence(numeric);
    expect(prepared.task).toBe('regression');
    expect(prepared.spec?.outputs).toBe(1);
    expect(prepared.summary.split.method).toBe('random');
    expect(prepared.summary.sequence?.target).toMatchObject({ min: 0.25, max: 19.75 });
    const pre = prepared.preprocessing;
    expect(pre.targetMean).toBeTypeOf('number');
    expect(pre.classes).toBeUndefined();
    expect(preprocessingSchema.safeParse(pre).success).toBe(true);
    const [prediction] = decodePredictions(pre, Float32Array.of(1), 1);
    expect((prediction as { value: number }).value).toBeCloseTo((pre.targetMean ?? 0) + (pre.targetStd ?? 0), 4);
  });
});

describe('sequence datasets from JSON Lines', () => {
  const oneD = jsonlOf(rawRows.map((row, i) => ({ series: row, label: label(i) })));
  const twoD = jsonlOf(rawRows.map((row, i) => ({ id: i, series: row.map((v) => [v, v * 10, -v]), label: label(i) })));

  it('reads arrays of numbers as [T, 1]', () => {
    const prepared = sequence(oneD);
    expect(prepared.spec?.inputShape).toEqual([4, 1]);
    expect(prepared.summary.sequence).toEqual({ format: 'jsonl', field: 'series', steps: 4, features: 1 });
    expect(prepared.preprocessing.sequenceField).toBe('series');
    // The same numbers as the CSV give the same encoding.
    expect(prepared.encoded.features).toEqual(sequence(csv).encoded.features);
  });

  it('reads arrays of equal-length arrays as [T, F] with per-feature statistics', () => {
    const prepared = sequence(twoD, { sequenceField: 'series' });
    expect(prepared.spec?.inputShape).toEqual([4, 3]);
    const { means = [], stds = [] } = prepared.preprocessing;
    expect(means).toHaveLength(3);
    expect(means[1]).toBeCloseTo((means[0] as number) * 10, 9);
    expect(means[2]).toBeCloseTo(-(means[0] as number), 9);
    expect(stds[1]).toBeCloseTo((stds[0] as number) * 10, 9);
    expect(preprocessingSchema.safeParse(prepared.preprocessing).success).toBe(true);
  });

  it('needs sequenceField when several fields could hold the sequence', () => {
    expectInvalid(() => sequence(twoD), 'sequenceField', 'is required', 'id, series, label');
    expectInvalid(() => sequence(twoD, { sequenceField: 'label' }), 'sequenceField', 'is the target');
    expectInvalid(() => sequence(twoD, { sequenceField: 'nope' }), 'sequenceField', 'is not a field');
    expectInvalid(() => sequence(csv, { kind: 'tabular', sequenceField: 'series' }), 'sequenceField', 'applies only to sequence datasets');
  });

  it('names the line, the length found and the length expected for unequal sequences', () => {
    const ragged = jsonlOf([{ s: [1, 2, 3], label: 'a' }, { s: [1, 2, 3], label: 'b' }, { s: [1, 2], label: 'a' }]);
    expectInvalid(() => sequence(ragged), 'file', '2 is the length of "s" on line 3', 'expected 3 (the length on line 1)');
    const narrow = jsonlOf([{ s: [[1, 2], [3, 4]], label: 'a' }, { s: [[1, 2], [3]], label: 'b' }]);
    expectInvalid(() => sequence(narrow), 'file', 'line 2', '"s"[1] has 1 values, but 2 are expected');
    const flatAfterNested = jsonlOf([{ s: [[1], [2]], label: 'a' }, { s: [1, 2], label: 'b' }]);
    expectInvalid(() => sequence(flatAfterNested), 'file', 'line 2', '"s"[0] is not an array');
  });

  it('names the line of a non-numeric or missing step', () => {
    expectInvalid(() => sequence(jsonlOf([{ s: [1, 2], label: 'a' }, { s: [1, '2'], label: 'b' }])), 'file', 'line 2', '"s"[1] is not a number');
    expectInvalid(() => sequence(jsonlOf([{ s: [1, 2], label: 'a' }, { s: [1, null], label: 'b' }])), 'file', 'line 2', 'missing value');
    expectInvalid(() => sequence(jsonlOf([{ s: [1, 2], label: 'a' }, { s: 'x', label: 'b' }])), 'file', 'line 2', 'must be a non-empty array');
  });
});

describe('encodeInstances for sequences', () => {
  it('encodes a training row exactly as training did (1-D and 2-D, bare or under the field)', () => {
    const prepared = sequence(csv);
    const { features, trainRows } = prepared.encoded;
    const pre = prepared.preprocessing;
    const row0 = Array.from(features.subarray(0, 4));
    const fileRow = Math.round((row0[0] as number) * (pre.stds?.[0] ?? 1) + (pre.means?.[0] ?? 0));
    const raw = rawRows[fileRow] as number[];
    expect(trainRows).toBeGreaterThan(0);
    expect(Array.from(encodeInstances(pre, [raw]))).toEqual(row0);
    expect(Array.from(encodeInstances(pre, [raw.map((v) => [v])]))).toEqual(row0);

    const twoD = sequence(jsonlOf(rawRows.map((row, i) => ({ series: row.map((v) => [v, v * 10]), label: label(i) }))));
    const first = Array.from(twoD.encoded.features.subarray(0, 8));
    const id = Math.round((first[0] as number) * (twoD.preprocessing.stds?.[0] ?? 1) + (twoD.preprocessing.means?.[0] ?? 0));
    const instance = (rawRows[id] as number[]).map((v) => [v, v * 10]);
    expect(Array.from(encodeInstances(twoD.preprocessing, [instance]))).toEqual(first);
    expect(Array.from(encodeInstances(twoD.preprocessing, [{ series: instance }]))).toEqual(first);
  });

  it('names the instance and the trained length or width', () => {
    const pre = sequence(csv).preprocessing;
    expectInvalid(() => encodeInstances(pre, [[1, 2, 3, 4], [1, 2, 3]]), 'instances[1]', 'must be an array of 4 numbers', 'it has 3 steps');
    expectInvalid(() => encodeInstances(pre, ['1,2,3,4']), 'instances[0]', 'must be an array of 4 numbers');
    expectInvalid(() => encodeInstances(pre, [[1, 2, 'x', 4]]), 'instances[0][2]', 'must be a finite number');
    const twoD = sequence(jsonlOf(rawRows.map((row, i) => ({ s: row.map((v) => [v, v]), label: label(i) })))).preprocessing;
    expectInvalid(() => encodeInstances(twoD, [[1, 2, 3, 4]]), 'instances[0][0]', 'must be an array of 2 numbers');
    expectInvalid(() => encodeInstances(twoD, [[[1, 1], [2, 2], [3, 3], [4]]]), 'instances[0][3]', 'must be an array of 2 numbers');
    expectInvalid(() => encodeInstances(twoD, [{ s: [[1, 1]] }]), 'instances[0].s', 'must be an array of 4 arrays of 2 numbers');
  });

  it('decodes class probabilities as for other kinds', () => {
    const pre = sequence(csv).preprocessing;
    expect(decodePredictions(pre, Float32Array.of(0.2, 0.8), 1)).toEqual([{ label: 'up', probabilities: { down: expect.closeTo(0.2, 6), up: expect.closeTo(0.8, 6) } }]);
  });
});

describe('preprocessingSchema with sequences', () => {
  const base: Preprocessing = { kind: 'sequence', task: 'classification', target: 'y', steps: 4, features: 2, means: [0, 1], stds: [1, 2], classes: ['a', 'b'] };

  it('accepts the sequence variant and still the older ones', () => {
    expect(preprocessingSchema.safeParse(base).success).toBe(true);
    expect(preprocessingSchema.safeParse({ ...base, sequenceField: 'series' }).success).toBe(true);
    expect(preprocessingSchema.safeParse({ kind: 'tabular', task: 'regression', target: 'y', columns: [{ name: 'x', type: 'numeric', mean: 0, std: 1 }], targetMean: 0, targetStd: 1 }).success).toBe(true);
    expect(preprocessingSchema.safeParse({ kind: 'image', task: 'classification', target: 'y', pixels: { count: 4, scale: 255 }, shape: [2, 2, 1], classes: ['0', '1'] }).success).toBe(true);
    expect(preprocessingSchema.safeParse({ kind: 'text', task: 'classification', target: 'y', textField: 't', vocabulary: ['<pad>', '<oov>'], sequenceLength: 4, classes: ['a', 'b'] }).success).toBe(true);
  });

  it('rejects a sequence variant without its statistics', () => {
    const { steps: _steps, ...noSteps } = base;
    expect(preprocessingSchema.safeParse(noSteps).success).toBe(false);
    expect(preprocessingSchema.safeParse({ ...base, means: [0] }).success).toBe(false);
    expect(preprocessingSchema.safeParse({ ...base, stds: [1, 0] }).success).toBe(false);
  });
});
