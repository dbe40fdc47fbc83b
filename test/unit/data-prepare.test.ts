import { describe, expect, it } from 'vitest';
import { prepareDataset, preprocessingSchema, type PrepareInput } from '../../src/data/index.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';


/** A CSV from a header and rows of cells. */
function csvOf(header: string[], rows: Array<Array<string | number>>): string {
  return [header.join(','), ...rows.map((row) => row.join(','))].join('\n');
}

function tabular(csv: string, target: string, extra: Partial<PrepareInput> = {}) {
  return prepareDataset({ csv, kind: 'tabular', target, seed: 1, ...extra });
}

/** 40 rows: `id` 0..39, `x` numeric, `color` categorical, `y` a two-class label. */
const people = csvOf(
  ['id', 'x', 'color', 'y'],
  Array.from({ length: 40 }, (_, i) => [i, (i * 7) % 11, ['red', 'green', 'blue'][i % 3] ?? '', i % 2 ? 'yes' : 'no']),
);

describe('prepareDataset: target and task', () => {
  it('rejects a target that is not a column, listing the columns', () => {
    expectInvalid(() => tabular(people, 'price'), 'target', '"price"', 'columns are: id, x, color, y');
  });

  it('infers classification for a text target', () => {
    const prepared = tabular(people, 'y');
    expect(prepared.task).toBe('classification');
    expect(prepared.preprocessing.classes).toEqual(['no', 'yes']);
    expect(prepared.spec?.outputs).toBe(2);
  });

  it('infers classification for at most 20 distinct integers, regression otherwise', () => {
    const rows = (n: number, value: (i: number) => number) => csvOf(['a', 't'], Array.from({ length: 60 }, (_, i) => [i, value(i)]));
    expect(tabular(rows(60, (i) => i % 20), 't').task).toBe('classification');
    expect(tabular(rows(60, (i) => i % 21), 't').task).toBe('regression');
    expect(tabular(rows(60, (i) => (i % 2) + 0.5), 't').task).toBe('regression');
    expect(tabular(rows(60, (i) => i % 21), 't', { task: 'classification' }).task).toBe('classification');
  });

  it('sorts numeric labels numerically and merges spellings of one number', () => {
    const csv = csvOf(['a', 't'], Array.from({ length: 30 }, (_, i) => [i, ['10', '2', '1.0', '1'][i % 4] ?? '']));
    const prepared = tabular(csv, 't');
    expect(prepared.preprocessing.classes).toEqual(['1', '2', '10']);
    expect(prepared.summary.classes).toEqual([
      { label: '1', count: 14 },
      { label: '2', count: 8 },
      { label: '10', count: 8 },
    ]);
  });

  it('sorts text labels lexicographically', () => {
    const csv = csvOf(['a', 't'], Array.from({ length: 30 }, (_, i) => [i, ['b', 'B', 'a'][i % 3] ?? '']));
    expect(tabular(csv, 't').preprocessing.classes).toEqual(['B', 'a', 'b']);
  });

  it('rejects classification with a single class, naming it', () => {
    const csv = csvOf(['a', 't'], Array.from({ length: 10 }, (_, i) => [i, 'cat']));
    expectInvalid(() => tabular(csv, 't'), 'target', '"cat"', 'at least 2 classes');
  });

  it('rejects a non-numeric regression target, naming the line', () => {
    const csv = csvOf(['a', 't'], Array.from({ length: 10 }, (_, i) => [i, i === 6 ? 'lots' : i + 0.5]));
    expectInvalid(() => tabular(csv, 't', { task: 'regression' }), 'target', '"lots"', 'line 8', 'must be numeric');
  });

  it('rejects a row without a target value, naming the line', () => {
    const csv = csvOf(['a', 't'], Array.from({ length: 10 }, (_, i) => [i, i === 3 ? 'NA' : i % 2]));
    expectInvalid(() => tabular(csv, 't'), 'target', 'line 5', 'every row needs a value');
  });
});

describe('prepareDataset: tabular features', () => {
  it('types columns, one-hot encodes categories and reports missing values', () => {
    const csv = csvOf(
      ['age', 'city', 'y'],
      Array.from({ length: 20 }, (_, i) => [i === 4 ? 'NA' : i === 5 ? '' : 20 + i, i === 7 ? '?' : ['paris', 'rome'][i % 2] ?? '', i % 2]),
    );
    const prepared = tabular(csv, 'y', { validationFraction: 0.25 });
    expect(prepared.summary.columns).toEqual([
      { name: 'age', type: 'numeric', missing: 2 },
      expect.objectContaining({ name: 'city', type: 'categorical', missing: 1 }),
      { name: 'y', type: 'target', missing: 0, categories: 2 },
    ]);
    const city = prepared.preprocessing.columns?.[1];
    expect(city?.type).toBe('categorical');
    if (city?.type !== 'categorical') return;
    expect(city.categories).toEqual(expect.arrayContaining(['paris', 'rome']));
    expect(prepared.spec?.inputShape).toEqual([1 + city.categories.length]);
    const dim = prepared.summary.featureDim;
    for (let r = 0; r < prepared.encoded.rows; r++) {
      const oneHot = Array.from(prepared.encoded.features.subarray(r * dim + 1, (r + 1) * dim));
      expect(oneHot.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
    }
  });

  it('replaces missing numbers by the training mean, which encodes as 0', () => {
    // Squares, so no real value equals the mean and only the two missing cells encode as exactly 0.
    const csv = csvOf(['x', 'y'], Array.from({ length: 20 }, (_, i) => [i < 2 ? 'null' : i * i, i % 2]));
    const { encoded, summary } = tabular(csv, 'y');
    expect(summary.columns[0]).toEqual({ name: 'x', type: 'numeric', missing: 2 });
    expect(Array.from(encoded.features).filter((v) => v === 0)).toHaveLength(2);
  });

  it('standardizes with training-split statistics only', () => {
    // `id` is unique per row, so each encoded row can be traced back to its file row.
    const csv = csvOf(['id', 'y'], Array.from({ length: 50 }, (_, i) => [i * i, i % 2]));
    const { encoded, preprocessing } = tabular(csv, 'y', { validationFraction: 0.3 });
    const column = preprocessing.columns?.[0];
    if (column?.type !== 'numeric') throw new Error('id should be numeric');
    const raw = Array.from(encoded.features, (v) => Math.round(v * column.std + column.mean));
    const train = raw.slice(0, encoded.trainRows);
    const mean = train.reduce((a, b) => a + b, 0) / train.length;
    const std = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / train.length);
    expect(column.mean).toBeCloseTo(mean, 6);
    expect(column.std).toBeCloseTo(std, 6);
    const allMean = raw.reduce((a, b) => a + b, 0) / raw.length;
    expect(Math.abs(column.mean - allMean)).toBeGreaterThan(1);
    expect(new Set(raw).size).toBe(50);
  });

  it('standardizes a regression target with training statistics and gives constant columns std 1', () => {
    const csv = csvOf(['k', 'x', 't'], Array.from({ length: 30 }, (_, i) => [5, i, i * 2.5 + 100]));
    const { encoded, preprocessing, spec } = tabular(csv, 't');
    expect(spec).toEqual({ kind: 'tabular', task: 'regression', inputShape: [2], outputs: 1 });
    const train = Array.from(encoded.labels.subarray(0, encoded.trainRows));
    expect(train.reduce((a, b) => a + b, 0) / train.length).toBeCloseTo(0, 5);
    expect(preprocessing.targetStd).toBeGreaterThan(1);
    expect(preprocessing.columns?.[0]).toEqual({ name: 'k', type: 'numeric', mean: 5, std: 1 });
  });

  it('rejects a categorical column with more than 100 values as an identifier', () => {
    const csv = csvOf(['name', 'x', 'y'], Array.from({ length: 150 }, (_, i) => [`user${i}`, i, i % 2]));
    expectInvalid(() => tabular(csv, 'y'), 'name', '150 distinct values', 'identifier or free-text');
  });

  it('rejects a file with only the target column', () => {
    expectInvalid(() => tabular(csvOf(['y'], [['a'], ['b'], ['a']]), 'y'), 'file', 'no feature columns');
  });
});

describe('prepareDataset: split', () => {
  const labelled = (counts: Record<string, number>) =>
    csvOf(
      ['x', 'y'],
      Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, (_, i) => [i, label])),
    );

  it('stratifies: each class is split by the fraction', () => {
    const { encoded, summary, preprocessing } = tabular(labelled({ a: 50, b: 30, c: 20 }), 'y');
    expect(summary.split).toEqual({ method: 'stratified', seed: 1, validationFraction: 0.2, train: 80, validation: 20 });
    const classes = preprocessing.classes ?? [];
    const count = (from: number, to: number) => {
      const counts: Record<string, number> = {};
      for (const label of encoded.labels.subarray(from, to)) {
        const name = classes[label] ?? '?';
        counts[name] = (counts[name] ?? 0) + 1;
      }
      return counts;
    };
    expect(count(0, encoded.trainRows)).toEqual({ a: 40, b: 24, c: 16 });
    expect(count(encoded.trainRows, encoded.rows)).toEqual({ a: 10, b: 6, c: 4 });
  });

  it('keeps a validation row for every class with two rows or more', () => {
    const { encoded, preprocessing } = tabular(labelled({ a: 20, b: 2, c: 1 }), 'y');
    const validation = Array.from(encoded.labels.subarray(encoded.trainRows), (l) => preprocessing.classes?.[l]);
    expect(validation.filter((l) => l === 'b')).toHaveLength(1);
    expect(validation).not.toContain('c');
  });

  it('splits regression rows at random', () => {
    const csv = csvOf(['x', 't'], Array.from({ length: 10 }, (_, i) => [i, i + 0.5]));
    expect(tabular(csv, 't').summary.split).toMatchObject({ method: 'random', train: 8, validation: 2 });
  });

  it('rejects too few rows', () => {
    expectInvalid(() => tabular(csvOf(['x', 'y'], [[1, 'a'], [2, 'b']]), 'y'), 'file', 'at least 2 and 1');
    expectInvalid(() => tabular(csvOf(['x', 't'], [[1, 0.5], [2, 1.5]]), 't'), 'file', 'too few');
  });

  it('rejects a bad validationFraction or seed', () => {
    expectInvalid(() => tabular(people, 'y', { validationFraction: 1 }), 'validationFraction', 'less than 1');
    expectInvalid(() => tabular(people, 'y', { seed: 1.5 }), 'seed', 'integer');
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = tabular(people, 'y', { seed: 7 });
    const b = tabular(people, 'y', { seed: 7 });
    const c = tabular(people, 'y', { seed: 8 });
    expect(b.encoded).toEqual(a.encoded);
    expect(b.preprocessing).toEqual(a.preprocessing);
    expect(c.encoded.features).not.toEqual(a.encoded.features);
  });
});

describe('prepareDataset: images', () => {
  const images = (pixels: number, rows: number, pixel: (r: number, k: number) => string | number = (r, k) => (r * 31 + k * 7) % 256) =>
    csvOf(
      ['label', ...Array.from({ length: pixels }, (_, k) => `p${k}`)],
      Array.from({ length: rows }, (_, r) => [r % 3, ...Array.from({ length: pixels }, (_, k) => pixel(r, k))]),
    );
  const image = (csv: string, extra: Partial<PrepareInput> = {}) =>
    prepareDataset({ csv, kind: 'image', target: 'label', seed: 2, ...extra });

  it('infers a square grayscale shape and scales 0..255 pixels to 0..1', () => {
    const prepared = image(images(16, 12));
    expect(prepared.spec).toEqual({ kind: 'image', task: 'classification', inputShape: [4, 4, 1], outputs: 3 });
    expect(prepared.preprocessing.pixels).toEqual({ count: 16, scale: 255 });
    expect(prepared.summary.pixelColumns).toBe(16);
    expect(prepared.summary.columns).toEqual([{ name: 'label', type: 'target', missing: 0, categories: 3 }]);
    expect(Math.max(...prepared.encoded.features)).toBeLessThanOrEqual(1);
    expect(prepared.encoded.features).toHaveLength(12 * 16);
  });

  it('keeps pixels already within 0..1', () => {
    const prepared = image(images(4, 12, (r, k) => ((r + k) % 5) / 4));
    expect(prepared.preprocessing.pixels?.scale).toBe(1);
    expect(Math.max(...prepared.encoded.features)).toBe(1);
  });

  it('asks for a shape when the pixel count is not a square, and checks a given one', () => {
    expectInvalid(() => image(images(12, 12)), 'shape', '12 pixel columns');
    expect(image(images(12, 12), { shape: [2, 2, 3] }).spec?.inputShape).toEqual([2, 2, 3]);
    expectInvalid(() => image(images(12, 12), { shape: [3, 3, 1] }), 'shape', 'multiplies to 9', '12 pixel columns');
  });

  it('names the line and column of a non-numeric or out-of-range pixel', () => {
    const bad = (value: string) => images(4, 12, (r, k) => (r === 5 && k === 2 ? value : 1));
    expectInvalid(() => image(bad('x')), 'file', 'line 7, column "p2"', 'not a number');
    expectInvalid(() => image(bad('300')), 'file', 'line 7, column "p2"', 'outside 0..255');
    expectInvalid(() => image(bad('-1')), 'file', 'line 7, column "p2"');
  });

  it('is classification only', () => {
    expectInvalid(() => image(images(4, 12), { task: 'regression' }), 'task', 'classification only');
    expect(image(images(4, 30, (r) => r)).task).toBe('classification');
  });

  it('produces JSON-serializable summaries and preprocessing that the schema accepts', () => {
    for (const prepared of [image(images(16, 12)), tabular(people, 'y')]) {
      expect(JSON.parse(JSON.stringify(prepared.summary))).toEqual(prepared.summary);
      expect(preprocessingSchema.parse(JSON.parse(JSON.stringify(prepared.preprocessing)))).toEqual(prepared.preprocessing);
    }
  });
});
