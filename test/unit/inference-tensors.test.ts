import { describe, expect, it } from 'vitest';
import { checkRequestedOutputs, v2Error, v2Instances, v2Outputs, type RequestInput } from '../../src/api/inference/kserve-tensors.ts';
import { fromColumns, fromRows, tfAnswer } from '../../src/api/inference/tf-serving-tensors.ts';
import type { Preprocessing } from '../../src/data/index.ts';
import { PayloadTooLargeError, ValidationError } from '../../src/errors.ts';
import { signatureOf } from '../../src/serving/signature.ts';

/** A table of two numbers and a category, classified into two classes. */
const table: Preprocessing = {
  kind: 'tabular',
  task: 'classification',
  target: 'y',
  columns: [
    { name: 'x', type: 'numeric', mean: 0, std: 1 },
    { name: 'z', type: 'numeric', mean: 0, std: 1 },
    { name: 'color', type: 'categorical', categories: ['red', 'blue', '(missing)'] },
  ],
  classes: ['neg', 'pos'],
};
const grid: Preprocessing = { kind: 'image', task: 'classification', target: 'label', pixels: { count: 6, scale: 255 }, shape: [2, 3, 1], classes: ['a', 'b'] };
const texts: Preprocessing = { kind: 'text', task: 'classification', target: 'topic', textField: 'body', vocabulary: ['<pad>', '<oov>', 'oil'], sequenceLength: 4, classes: ['acq', 'crude'] };
const series: Preprocessing = { kind: 'timeseries', task: 'forecasting', target: 'y', valueColumns: ['y', 'w'], means: [0, 0], stds: [1, 1], window: 3, horizon: 2, targetMean: 0, targetStd: 1 };
const sequences: Preprocessing = { kind: 'sequence', task: 'regression', target: 'v', steps: 3, features: 1, means: [0], stds: [1], targetMean: 0, targetStd: 1 };

/** The error `fn` throws. */
function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

const input = (name: string, shape: number[], datatype: RequestInput['datatype'], data: unknown[]): RequestInput => ({ name, shape, datatype, data });

describe('signatures', () => {
  it('describes a table as one input per column, with the row tensor as the alternative', () => {
    const s = signatureOf(table, [4]);
    expect(s.inputs).toEqual([
      { name: 'x', datatype: 'FP32', shape: [-1] },
      { name: 'z', datatype: 'FP32', shape: [-1] },
      { name: 'color', datatype: 'BYTES', shape: [-1] },
    ]);
    expect(s.rowInput).toEqual({ name: 'input', datatype: 'BYTES', shape: [-1, 3] });
    expect(s.outputs).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    ]);
    // Integer categories are INT64; a column named "input" leaves no row tensor.
    const coded = signatureOf({ ...table, columns: [{ name: 'input', type: 'categorical', categories: ['1', '2', '(missing)'] }] }, [3]);
    expect(coded.inputs).toEqual([{ name: 'input', datatype: 'INT64', shape: [-1] }]);
    expect(coded.rowInput).toBeNull();
  });

  it('describes images, text, sequences and forecasts as one tensor', () => {
    expect(signatureOf(grid, [2, 3, 1]).inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 2, 3, 1] }]);
    expect(signatureOf(texts, [4]).inputs).toEqual([{ name: 'body', datatype: 'BYTES', shape: [-1] }]);
    expect(signatureOf(sequences, [3, 1]).inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 3, 1] }]);
    expect(signatureOf(sequences, [3, 1]).outputs).toEqual([{ name: 'value', datatype: 'FP32', shape: [-1] }]);
    const forecast = signatureOf(series, [3, 2]);
    expect(forecast.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 3, 2] }]);
    expect(forecast.outputs).toEqual([{ name: 'forecast', datatype: 'FP32', shape: [-1, 2] }]);
  });
});

describe('KServe v2 inputs', () => {
  const s = signatureOf(table, [4]);
  const rows = [
    { x: 1, z: 2, color: 'red' },
    { x: 3, z: null, color: 'blue' },
  ];

  it('reads named columns, flat or [n, 1], with null asking for imputation', () => {
    const named = [input('x', [2], 'FP32', [1, 3]), input('z', [2, 1], 'FP64', [[2], [null]]), input('color', [2], 'BYTES', ['red', 'blue'])];
    expect(v2Instances(s, named)).toEqual(rows);
  });

  it('reads one row tensor holding every column in order, flat or nested', () => {
    // BYTES elements are strings; maas reads a number's text as its own predict does.
    expect(v2Instances(s, [input('input', [2, 3], 'BYTES', [['1', '2', 'red'], ['3', null, 'blue']])])).toEqual([
      { x: '1', z: '2', color: 'red' },
      { x: '3', z: null, color: 'blue' },
    ]);
    expect(thrown(() => v2Instances(s, [input('input', [1, 3], 'BYTES', [1, 2, 'red'])])).field).toBe('inputs[0].data[0]');
    // Categories may come as numbers, as in maas's own predict.
    expect(v2Instances(signatureOf({ ...table, columns: table.columns!.slice(0, 2) }, [2]), [input('input', [1, 2], 'FP32', [1, 2])])).toEqual([{ x: 1, z: 2 }]);
  });

  it('nests an image by the model shape whether the data is flat or natural', () => {
    const g = signatureOf(grid, [2, 3, 1]);
    const flat = v2Instances(g, [input('input', [1, 2, 3, 1], 'FP32', [0, 1, 2, 3, 4, 5])]);
    expect(flat).toEqual([[[[0], [1], [2]], [[3], [4], [5]]]]);
    expect(v2Instances(g, [input('input', [1, 2, 3], 'UINT8', [[[0, 1, 2], [3, 4, 5]]])])).toEqual(flat);
    expect(v2Instances(g, [input('input', [1, 6], 'FP32', [0, 1, 2, 3, 4, 5])])).toEqual(flat);
  });

  it('reads texts as BYTES only', () => {
    const t = signatureOf(texts, [4]);
    expect(v2Instances(t, [input('body', [2], 'BYTES', ['oil up', 'merger'])])).toEqual(['oil up', 'merger']);
    expect(thrown(() => v2Instances(t, [input('body', [1], 'FP32', [1])])).field).toBe('inputs[0].datatype');
  });

  it('refuses a shape that does not match its data, naming the input', () => {
    const e = thrown(() => v2Instances(s, [input('x', [2], 'FP32', [1, 3, 5]), input('z', [2], 'FP32', [2, 0]), input('color', [2], 'BYTES', ['red', 'blue'])]));
    expect(e.field).toBe('inputs[0].data');
    expect(e.rule).toContain('does not match shape [2], which holds 2');
    const image = thrown(() => v2Instances(signatureOf(grid, [2, 3, 1]), [input('input', [1, 3, 2], 'FP32', [0, 1, 2, 3, 4, 5])]));
    expect(image.field).toBe('inputs[0].shape');
    expect(image.rule).toContain('[-1, 2, 3, 1]');
    expect(thrown(() => v2Instances(s, [input('x', [0], 'FP32', [])])).field).toBe('inputs[0].shape');
  });

  it('stops reading data once it holds more elements than its shape', () => {
    // Past the two elements of the shape comes what would be refused as too deep if it were read.
    const e = thrown(() => v2Instances(s, [input('x', [2], 'FP32', [1, 3, 5, [[[7]]]])]));
    expect(e.field).toBe('inputs[0].data');
    expect(e.value).toBe('more than 2 elements');
    expect(e.rule).toContain('does not match shape [2], which holds 2');
  });

  it('refuses unknown, missing, repeated and mistyped inputs and batches of different sizes', () => {
    const unknown = thrown(() => v2Instances(s, [input('colour', [1], 'BYTES', ['red'])]));
    expect(unknown.field).toBe('inputs[0].name');
    expect(unknown.rule).toContain('inputs are x, z, color');
    const missing = thrown(() => v2Instances(s, [input('x', [1], 'FP32', [1])]));
    expect(missing.field).toBe('inputs.z');
    expect(missing.rule).toContain('also missing: color');
    expect(thrown(() => v2Instances(s, [input('x', [1], 'FP32', [1]), input('x', [1], 'FP32', [1])])).rule).toContain('twice');
    expect(thrown(() => v2Instances(s, [input('x', [1], 'BYTES', ['1'])])).field).toBe('inputs[0].datatype');
    expect(thrown(() => v2Instances(s, [input('x', [1], 'INT32', [1.5])])).field).toBe('inputs[0].data[0]');
    const batch = thrown(() => v2Instances(s, [input('x', [2], 'FP32', [1, 2]), input('z', [1], 'FP32', [2]), input('color', [2], 'BYTES', ['red', 'red'])]));
    expect(batch.field).toBe('inputs[1]');
  });

  it('renames an encoder error to the input and element it came from', () => {
    const named = [input('color', [2], 'BYTES', ['red', 'blue']), input('x', [2], 'FP32', [1, 3]), input('z', [2], 'FP32', [2, 0])];
    const renamed = v2Error(s, named, new ValidationError('instances[1].x', 'a', 'must be a finite number')) as ValidationError;
    expect(renamed.field).toBe('inputs[1].data[1]');
    const row = v2Error(s, [input('input', [2, 3], 'FP32', [])], new ValidationError('instances[1].z', 'a', 'must be a finite number')) as ValidationError;
    expect(row.field).toBe('inputs[0].data[4] (column z)');
  });

  it('answers every output, or those asked for, flat in row-major order', () => {
    const predictions = [
      { label: 'pos', probabilities: { neg: 0.25, pos: 0.75 } },
      { label: 'neg', probabilities: { neg: 0.5, pos: 0.5 } },
    ];
    expect(v2Outputs(table, s, predictions)).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['pos', 'neg'] },
      { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: [0.25, 0.75, 0.5, 0.5] },
    ]);
    expect(v2Outputs(table, s, predictions, [{ name: 'label' }]).map((o) => o.name)).toEqual(['label']);
    expect(thrown(() => checkRequestedOutputs(s, [{ name: 'scores' }])).field).toBe('outputs[0].name');
    const f = signatureOf(series, [3, 2]);
    expect(v2Outputs(series, f, [{ forecast: [1, 2] }])).toEqual([{ name: 'forecast', datatype: 'FP32', shape: [1, 2], data: [1, 2] }]);
  });
});

describe('TF Serving bodies', () => {
  const s = signatureOf(table, [4]);

  it('reads rows: objects keyed by input, or a list of every column', () => {
    expect(fromRows(s, [{ x: 1, z: 2, color: 'red' }, [3, 4, 'blue'], { input: [5, 6, 'red'] }]).instances).toEqual([
      { x: 1, z: 2, color: 'red' },
      { x: 3, z: 4, color: 'blue' },
      { x: 5, z: 6, color: 'red' },
    ]);
    expect(thrown(() => fromRows(s, [[1, 2]])).field).toBe('instances[0]');
    const t = signatureOf(texts, [4]);
    expect(fromRows(t, ['oil', { body: 'merger' }]).instances).toEqual(['oil', 'merger']);
  });

  it('reads columns: named tensors, or the row tensor alone', () => {
    const named = fromColumns(s, { x: [1, 3], z: [2, 4], color: ['red', 'blue'] });
    expect(named.instances).toEqual([
      { x: 1, z: 2, color: 'red' },
      { x: 3, z: 4, color: 'blue' },
    ]);
    expect(fromColumns(s, [[1, 2, 'red']]).instances).toEqual([{ x: 1, z: 2, color: 'red' }]);
    expect((named.relabel(new ValidationError('instances[1].z', 'a', 'must be a finite number')) as ValidationError).field).toBe('inputs.z[1]');
    expect(thrown(() => fromColumns(s, { x: [1], z: [2] })).field).toBe('inputs.color');
    expect(thrown(() => fromColumns(s, { x: [1], z: [2], color: ['red'], colour: ['red'] })).field).toBe('inputs.colour');
    expect(thrown(() => fromColumns(s, { x: 1, z: [2], color: ['red'] })).field).toBe('inputs.x');
    expect(thrown(() => fromColumns(s, 'red')).field).toBe('inputs');
    // More instances than a request may carry: refused before a single instance is built.
    const many = thrown(() => fromColumns(s, { x: [1], z: [2], color: Array(10_001).fill('red') }));
    expect(many).toBeInstanceOf(PayloadTooLargeError);
    expect([many.field, many.rule]).toEqual(['inputs.color', 'is more instances than the 10000 one request may carry']);
    expect(thrown(() => fromColumns(s, Array(10_001).fill([1, 2, 'red']))).field).toBe('inputs');
    const image = fromColumns(signatureOf(grid, [2, 3, 1]), [[[0, 1, 2], [3, 4, 5]]]);
    expect(image.instances).toEqual([[[0, 1, 2], [3, 4, 5]]]);
    expect((image.relabel(new ValidationError('instances[0][1][2]', 300, 'must be a number between 0 and 255')) as ValidationError).field).toBe('inputs[0][1][2]');
  });

  it('answers one output as its values, several as objects (rows) or lists (columns)', () => {
    const predictions = [{ label: 'pos', probabilities: { neg: 0.25, pos: 0.75 } }];
    expect(tfAnswer(table, s, predictions, 'row')).toEqual({ predictions: [{ label: 'pos', probabilities: [0.25, 0.75] }] });
    expect(tfAnswer(table, s, predictions, 'columnar')).toEqual({ outputs: { label: ['pos'], probabilities: [[0.25, 0.75]] } });
    const seq = signatureOf(sequences, [3, 1]);
    expect(tfAnswer(sequences, seq, [{ value: 1.5 }, { value: 2 }], 'row')).toEqual({ predictions: [1.5, 2] });
    expect(tfAnswer(sequences, seq, [{ value: 1.5 }], 'columnar')).toEqual({ outputs: [1.5] });
  });
});
