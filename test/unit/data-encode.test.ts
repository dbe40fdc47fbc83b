import { describe, expect, it } from 'vitest';
import {
  decodePredictions,
  encodeInstances,
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
  it('encodes training rows exactly as prepareDataset did', () => {
    const instances = rows.map(({ id, age, city }) => ({ id, age: age === '' ? null : age, city, ignored: 'extra key' }));
    const features = encodeInstances(pre, instances);
    for (let p = 0; p < regression.encoded.rows; p++) {
      const id = rowId(regression.encoded.features, p);
      expect(Array.from(features.subarray(id * dim, (id + 1) * dim))).toEqual(
        Array.from(regression.encoded.features.subarray(p * dim, (p + 1) * dim)),
      );
    }
  });

  it('treats missing keys, null and missing spellings like missing training cells', () => {
    const [a, b, c] = [encodeInstances(pre, [{ id: 3 }]), encodeInstances(pre, [{ id: 3, age: null, city: null }]), encodeInstances(pre, [{ id: 3, age: 'NaN', city: '?' }])];
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(a[1]).toBe(0);
  });

  it('accepts numeric strings and encodes unseen categories as all zeros', () => {
    const [numbers, strings] = [encodeInstances(pre, [{ id: 1, age: 30, city: 'paris' }]), encodeInstances(pre, [{ id: '1', age: ' 30 ', city: 'paris' }])];
    expect(strings).toEqual(numbers);
    const unseen = encodeInstances(pre, [{ id: 1, age: 30, city: 'tokyo' }]);
    expect(Array.from(unseen.subarray(2))).toEqual(new Array(dim - 2).fill(0));
  });

  it('names the instance and column of a non-numeric value', () => {
    const instances = [{ age: 1 }, { age: 2 }, { age: 3 }, { age: 'old' }];
    expectInvalid(() => encodeInstances(pre, instances), 'instances[3].age', '"old"', 'must be a number');
    expectInvalid(() => encodeInstances(pre, [{ age: true }]), 'instances[0].age', 'must be a number');
    expectInvalid(() => encodeInstances(pre, [{ city: { name: 'x' } }]), 'instances[0].city', 'string or a number');
    expectInvalid(() => encodeInstances(pre, [[1, 2]]), 'instances[0]', 'object keyed by column name');
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

  it('rejects output of the wrong size', () => {
    expect(() => decodePredictions(pre, new Float32Array(3), 2)).toThrow(/expected 2 × 1/);
  });
});
