import { describe, expect, it } from 'vitest';
import {
  decodePredictions,
  encodeInstances,
  MAX_TEXT_LENGTH,
  NonFiniteOutputError,
  prepareDataset,
  type ClassPrediction,
  type Preprocessing,
  type ValuePrediction,
} from '../../src/data/index.ts';
import { PayloadTooLargeError } from '../../src/errors.ts';
import { expectInvalid } from '../helpers/expect-invalid.ts';


const rows = Array.from({ length: 30 }, (_, i) => ({
  id: i,
  age: i === 3 ? '' : 20 + ((i * 7) % 30),
  city: i === 4 ? 'NA' : (['paris', 'rome', 'oslo'][i % 3] as string),
  price: 100 + i * 3.5,
}));
const csv = ['id,age,city,price', ...rows.map((r) => `${r.id},${r.age},${r.city},${r.price}`)].join('\n');
const regression = prepareDataset({ csv, kind: 'tabular', target: 'price', seed: 5 });
const pre = regression.preprocessing;
const dim = regression.summary.featureDim;

/** The file row an encoded row came from, read back from its standardized `id`. */
function rowId(features: Float32Array, position: number): number {
  const column = pre.columns?.[0];
  if (column?.type !== 'numeric') throw new Error('id should be numeric');
  return Math.round((features[position * dim] as number) * column.std + column.mean);
}

describe('encodeInstances: tabular', () => {
  it('encodes training rows exactly as prepareDataset did (the target may be sent back and is not read)', () => {
    const instances = rows.map(({ id, age, city, price }) => ({ id, age: age === '' ? null : age, city, price }));
    const features = encodeInstances(pre, instances);
    for (let p = 0; p < regression.encoded.rows; p++) {
      const id = rowId(regression.encoded.features, p);
      expect(Array.from(features.subarray(id * dim, (id + 1) * dim))).toEqual(
        Array.from(regression.encoded.features.subarray(p * dim, (p + 1) * dim)),
      );
    }
  });

  it('imputes null and the missing spellings of a CSV cell like missing training cells', () => {
    const [a, b] = [encodeInstances(pre, [{ id: 3, age: null, city: null }]), encodeInstances(pre, [{ id: 3, age: 'NaN', city: '?' }])];
    expect(b).toEqual(a);
    expect(a[1]).toBe(0);
  });

  it('refuses a missing column, naming it and the others missing', () => {
    const error = expectInvalid(() => encodeInstances(pre, [{ id: 1, age: 2, city: 'rome' }, {}]), 'instances[1].id', 'is required; send null to ask for imputation', 'also missing: age, city');
    expect(error.value).toBeUndefined();
    expectInvalid(() => encodeInstances(pre, [{ id: 1, city: 'rome' }]), 'instances[0].age', 'is required');
  });

  it('refuses an unknown (misspelled) column, listing the columns', () => {
    const instances = [0, 1, 2].map(() => ({ id: 1, age: 2, city: 'rome' }));
    expectInvalid(() => encodeInstances(pre, [...instances, { id: 1, age: 2, citty: 'rome' }]), 'instances[3].citty', 'is not a column of this model; columns are id, age, city');
    expectInvalid(() => encodeInstances(pre, [{ id: 1, age: 2, city: 'rome', constructor: 1 }]), 'instances[0].constructor', 'is not a column');
    // JSON.parse makes "__proto__" an own key, which must be refused like any other.
    expectInvalid(() => encodeInstances(pre, [JSON.parse('{"id":1,"age":2,"city":"rome","__proto__":{"x":1}}')]), 'instances[0].__proto__', 'is not a column');
  });

  it('caps the column list of an error at 20 names', () => {
    const wide: Preprocessing = { ...pre, columns: Array.from({ length: 50 }, (_, k) => ({ name: `c${k}`, type: 'numeric' as const, mean: 0, std: 1 })) };
    const error = expectInvalid(() => encodeInstances(wide, [{ typo: 1 }]), 'instances[0].typo', 'c19 and 30 more');
    expect(error.message).not.toContain('c20');
    expectInvalid(() => encodeInstances(wide, [{}]), 'instances[0].c0', 'also missing: c1,', 'and 29 more');
  });

  it('refuses numbers that are not finite, or that overflow float32 once standardized', () => {
    const ok = { id: 1, age: 2, city: 'rome' };
    expectInvalid(() => encodeInstances(pre, [{ ...ok, age: 1e308 }]), 'instances[0].age', '1e+308', 'too large', 'standardized');
    expectInvalid(() => encodeInstances(pre, [{ ...ok, age: -1e40 }]), 'instances[0].age', 'too large');
    expectInvalid(() => encodeInstances(pre, [{ ...ok, age: '1e999' }]), 'instances[0].age', 'must be a finite number');
    expectInvalid(() => encodeInstances(pre, [{ ...ok, age: 'Infinity' }]), 'instances[0].age', 'must be a finite number');
    expectInvalid(() => encodeInstances(pre, [{ ...ok, age: Number.NaN }]), 'instances[0].age', 'must be a finite number');
    expect(encodeInstances(pre, [{ ...ok, age: 1e30 }]).every(Number.isFinite)).toBe(true);
  });

  it('accepts numeric strings and encodes unseen categories as all zeros', () => {
    const [numbers, strings] = [encodeInstances(pre, [{ id: 1, age: 30, city: 'paris' }]), encodeInstances(pre, [{ id: '1', age: ' 30 ', city: 'paris' }])];
    expect(strings).toEqual(numbers);
    const unseen = encodeInstances(pre, [{ id: 1, age: 30, city: 'tokyo' }]);
    expect(Array.from(unseen.subarray(2))).toEqual(new Array(dim - 2).fill(0));
  });

  it('names the instance and column of a non-numeric value', () => {
    const instances = [1, 2, 3, 'old'].map((age) => ({ id: 1, age, city: 'rome' }));
    expectInvalid(() => encodeInstances(pre, instances), 'instances[3].age', '"old"', 'must be a finite number');
    expectInvalid(() => encodeInstances(pre, [{ id: 1, age: true, city: 'rome' }]), 'instances[0].age', 'must be a finite number');
    expectInvalid(() => encodeInstances(pre, [{ id: 1, age: 1, city: { name: 'x' } }]), 'instances[0].city', 'string or a number');
    expectInvalid(() => encodeInstances(pre, [[1, 2]]), 'instances[0]', 'object keyed by column name (id, age, city)');
  });

  it('rejects an empty or oversized batch', () => {
    expectInvalid(() => encodeInstances(pre, []), 'instances', 'at least one');
    const error = expectInvalid(() => encodeInstances(pre, new Array(10_001).fill({})), 'instances', '10000');
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('encodeInstances: images', () => {
  const images: Preprocessing = { kind: 'image', task: 'classification', target: 'label', pixels: { count: 12, scale: 255 }, shape: [2, 2, 3], classes: ['a', 'b'] };
  const flat = Array.from({ length: 12 }, (_, k) => k * 20);
  const nested = [0, 1].map((y) => [0, 1].map((x) => [0, 1, 2].map((ch) => flat[(y * 2 + x) * 3 + ch])));

  it('accepts flat and nested [h][w][c] arrays alike, scaled like training', () => {
    const out = encodeInstances(images, [flat, nested]);
    expect(Array.from(out.subarray(0, 12))).toEqual(Array.from(Float32Array.from(flat, (v) => v / 255)));
    expect(out.subarray(12)).toEqual(out.subarray(0, 12));
  });

  it('accepts [h][w] arrays for grayscale images', () => {
    const gray: Preprocessing = { ...images, pixels: { count: 4, scale: 1 }, shape: [2, 2, 1] };
    expect(encodeInstances(gray, [[[0, 0.5], [1, 0.25]], [0, 0.5, 1, 0.25], [[[0], [0.5]], [[1], [0.25]]]])).toEqual(
      Float32Array.from([0, 0.5, 1, 0.25, 0, 0.5, 1, 0.25, 0, 0.5, 1, 0.25]),
    );
    expectInvalid(() => encodeInstances(gray, [[0, 0.5, 1, 200]]), 'instances[0][3]', 'between 0 and 1');
  });

  it('names the index of a bad pixel or a wrong length', () => {
    expectInvalid(() => encodeInstances(images, [flat, flat.slice(1)]), 'instances[1]', 'array of 12');
    const bad = structuredClone(nested);
    (bad[1] as number[][])[0] = [1, 2, 300];
    expectInvalid(() => encodeInstances(images, [bad]), 'instances[0][1][0][2]', '300', 'between 0 and 255');
    expectInvalid(() => encodeInstances(images, [[[1, 2]]]), 'instances[0]', 'array of 2 rows');
  });
});

describe('encodeInstances: text, sequences and forecasting windows', () => {
  const text: Preprocessing = { kind: 'text', task: 'classification', target: 'label', textField: 'review', vocabulary: ['<pad>', '<oov>', 'good', 'bad'], sequenceLength: 4, classes: ['neg', 'pos'] };
  const sequence: Preprocessing = { kind: 'sequence', task: 'regression', target: 'y', sequenceField: 's', steps: 2, features: 2, means: [0, 10], stds: [1, 1e-300], targetMean: 0, targetStd: 1 };
  const series: Preprocessing = { kind: 'timeseries', task: 'forecasting', target: 'a', valueColumns: ['a', 'b'], means: [0, 0], stds: [1, 1], window: 2, horizon: 1, targetMean: 0, targetStd: 1 };

  it('text: a string under the text field, nothing else, at most MAX_TEXT_LENGTH characters', () => {
    expect(Array.from(encodeInstances(text, ['good bad', { review: 'good', label: 'pos' }]))).toEqual([2, 3, 0, 0, 2, 0, 0, 0]);
    expectInvalid(() => encodeInstances(text, [{ review: 'good', reveiw: 'bad' }]), 'instances[0].reveiw', 'is not a field of this model; fields are review');
    expectInvalid(() => encodeInstances(text, [{ reviews: 'good' }]), 'instances[0].review', 'must be a string');
    expectInvalid(() => encodeInstances(text, ['good', 'x'.repeat(MAX_TEXT_LENGTH + 1)]), 'instances[1]', `at most ${MAX_TEXT_LENGTH}`);
  });

  it('sequences: the trained shape, finite values that stay finite once standardized, no other field', () => {
    expect(encodeInstances(sequence, [{ s: [[1, 10], [2, 10]] }])).toEqual(Float32Array.from([1, 0, 2, 0]));
    expectInvalid(() => encodeInstances(sequence, [{ s: [[1, 10]] }]), 'instances[0].s', 'must be an array of 2 arrays of 2 numbers', 'it has 1 steps');
    expectInvalid(() => encodeInstances(sequence, [{ s: [[1, 10], [2, 11]] }]), 'instances[0].s[1][1]', 'too large');
    expectInvalid(() => encodeInstances(sequence, [{ s: [[1, 10], [2, 10]], t: 1 }]), 'instances[0].t', 'is not a field of this model; fields are s');
    expectInvalid(() => encodeInstances(sequence, [{ s: [[1, 10], [null, 10]] }]), 'instances[0].s[1][0]', 'finite number');
  });

  it('forecasting windows: the window length, finite values, only the value columns', () => {
    expect(encodeInstances(series, [{ a: [1, 2], b: [3, 4] }])).toEqual(Float32Array.from([1, 3, 2, 4]));
    expectInvalid(() => encodeInstances(series, [{ a: [1, 2], b: [3, 4], c: [5, 6] }]), 'instances[0].c', 'is not a value column of this model; value columns are a, b');
    expectInvalid(() => encodeInstances(series, [[[1, 2], [1e308, 2]]]), 'instances[0][1][0]', 'too large');
    expectInvalid(() => encodeInstances({ ...series, stds: [1e-300, 1] }, [[[1, 2], [3, 2]]]), 'instances[0][0][0]', 'too large');
    expectInvalid(() => encodeInstances(series, [[[1, 2]]]), 'instances[0]', 'last 2 steps', 'it has 1');
  });
});

describe('decodePredictions', () => {
  it('gives the most probable label with every probability', () => {
    const pre: Preprocessing = { kind: 'tabular', task: 'classification', target: 'y', columns: [], classes: ['cat', 'dog', 'eel'] };
    const out = decodePredictions(pre, Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]), 2) as ClassPrediction[];
    expect(out.map((p) => p.label)).toEqual(['dog', 'cat']);
    expect(out[0]?.probabilities.dog).toBeCloseTo(0.7, 6);
    expect(Object.keys(out[1]?.probabilities ?? {})).toEqual(['cat', 'dog', 'eel']);
  });

  it('undoes the target standardization for regression', () => {
    const out = decodePredictions(pre, regression.encoded.labels, regression.encoded.rows) as ValuePrediction[];
    out.forEach((prediction, p) => {
      const id = rowId(regression.encoded.features, p);
      expect(prediction.value).toBeCloseTo(rows[id]?.price ?? Number.NaN, 3);
    });
  });

  it('refuses non-finite outputs, naming the instances, instead of answering null', () => {
    const classes: Preprocessing = { kind: 'tabular', task: 'classification', target: 'y', columns: [], classes: ['cat', 'dog'] };
    expect(() => decodePredictions(classes, Float32Array.from([0.5, 0.5, Number.NaN, 0.5, 0.2, 0.8]), 3)).toThrow(NonFiniteOutputError);
    try {
      decodePredictions(pre, Float32Array.from([0, Infinity, 1, -Infinity]), 4);
    } catch (err) {
      expect((err as NonFiniteOutputError).rows).toEqual([1, 3]);
    }
    expect.assertions(2);
  });

  it('rejects output of the wrong size', () => {
    expect(() => decodePredictions(pre, new Float32Array(3), 2)).toThrow(/expected 2 × 1/);
  });
});
