/**
 * The model size counted by arithmetic agrees with tfjs's countParams() of the built model,
 * for every family and input kind; and a space whose largest model is too big is refused
 * with the count, without building anything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Family, Params, TaskSpec } from '../../src/domain.ts';
import { ValidationError } from '../../src/errors.ts';
import { buildSpace } from '../../src/search/index.ts';
import { buildModel, checkModelSize, checkTrialModelSize, countModelParams, DEFAULT_MAX_MODEL_PARAMS, disposeModel, selectBackend, TrialFailure } from '../../src/model/index.ts';
import { trainTrial } from '../../src/workers/training/index.ts';

const tabular: TaskSpec = { kind: 'tabular', task: 'classification', inputShape: [5], outputs: 3 };
const regression: TaskSpec = { kind: 'tabular', task: 'regression', inputShape: [7], outputs: 1 };
const image: TaskSpec = { kind: 'image', task: 'classification', inputShape: [9, 8, 2], outputs: 4 };
const sequence: TaskSpec = { kind: 'sequence', task: 'classification', inputShape: [11, 3], outputs: 3 };
const forecast: TaskSpec = { kind: 'timeseries', task: 'forecasting', inputShape: [16, 2], outputs: 4 };
const text: TaskSpec = { kind: 'text', task: 'classification', inputShape: [10], outputs: 2, vocabSize: 40 };

const common = { learningRate: 0.01, batchSize: 16, optimizer: 'adam' };
const mlp = { ...common, family: 'mlp', layers: 2, units: 8, activation: 'relu', dropout: 0.1, batchNorm: true };
const cnn = { ...common, family: 'cnn', blocks: 2, filters: 4, kernelSize: 3, pooling: 'avg', dropout: 0, denseUnits: 8, embeddingDim: 6 };
const rnn = { ...common, family: 'rnn', cell: 'lstm', layers: 2, units: 5, bidirectional: false, dropout: 0, embeddingDim: 6 };
const transformer = { ...common, family: 'transformer', blocks: 2, heads: 2, modelDim: 8, ffDim: 12, dropout: 0 };

const cases: Array<{ family: Family; params: Params; spec: TaskSpec }> = [
  { family: 'mlp', params: mlp, spec: tabular },
  { family: 'mlp', params: { ...mlp, batchNorm: false, layers: 3 }, spec: image },
  { family: 'mlp', params: mlp, spec: text },
  { family: 'cnn', params: cnn, spec: image },
  { family: 'cnn', params: { ...cnn, kernelSize: 5, blocks: 3 }, spec: { ...image, inputShape: [17, 9, 1] } },
  { family: 'cnn', params: cnn, spec: sequence },
  { family: 'cnn', params: { ...cnn, blocks: 3 }, spec: text },
  { family: 'rnn', params: rnn, spec: sequence },
  { family: 'rnn', params: { ...rnn, cell: 'gru', bidirectional: true }, spec: forecast },
  { family: 'rnn', params: { ...rnn, cell: 'simple', layers: 1 }, spec: image },
  { family: 'rnn', params: { ...rnn, bidirectional: true }, spec: text },
  { family: 'transformer', params: transformer, spec: regression },
  { family: 'transformer', params: transformer, spec: forecast },
  { family: 'transformer', params: { ...transformer, blocks: 1 }, spec: image },
  { family: 'transformer', params: transformer, spec: text },
];

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('countModelParams', () => {
  it.each(cases)('$family on $spec.kind $spec.inputShape matches tfjs countParams()', ({ family, params, spec }) => {
    const model = buildModel(family, params, spec, 1);
    try {
      expect(countModelParams(family, params, spec)).toBe(model.countParams());
    } finally {
      disposeModel(model);
    }
  });
});

describe('checkModelSize', () => {
  const wide: TaskSpec = { kind: 'tabular', task: 'classification', inputShape: [64], outputs: 10 };

  it('refuses the issue\'s mlp space (32 layers of 8192 units) with the count and the limit', () => {
    const space = buildSpace({ families: ['mlp'], space: { mlp: { layers: 32, units: 8192 } } }, wide);
    let error: unknown;
    try {
      checkModelSize(space, wide, 50_000_000);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const { field, message } = error as ValidationError;
    expect(field).toBe('search.space.mlp');
    // 64·8192 + 31·8192² + 32·4·8192 (BatchNorm may be on) + 8192·10 + 10
    const count = 64 * 8192 + 31 * 8192 * 8192 + 32 * 4 * 8192 + 8192 * 10 + 10;
    expect(message).toContain(`${count.toLocaleString('en-US')} parameters (8.3 GB of float32 weights)`);
    expect(message).toContain('the limit is 50,000,000 (MAX_MODEL_PARAMS)');
  });

  it('takes the largest of a range, and every cnn block count (the head shrinks as blocks grow)', () => {
    const spec: TaskSpec = { kind: 'image', task: 'classification', inputShape: [32, 32, 3], outputs: 10 };
    const space = buildSpace({ families: ['cnn'], space: { cnn: { blocks: { type: 'int', low: 1, high: 4 }, filters: { type: 'int', low: 8, high: 16 }, denseUnits: 64 } } }, spec);
    const sizes = [1, 2, 3, 4].map((blocks) => countModelParams('cnn', { ...cnn, blocks, filters: 16, kernelSize: 5, denseUnits: 64 }, spec));
    const largest = Math.max(...sizes);
    // Not monotone: the flattened head shrinks as blocks grow while the convolutions grow.
    expect(sizes[0]).toBeGreaterThan(sizes[1]!);
    expect(sizes[3]).toBeGreaterThan(sizes[2]!);
    expect(() => checkModelSize(space, spec, largest)).not.toThrow();
    expect(() => checkModelSize(space, spec, largest - 1)).toThrow(`${largest.toLocaleString('en-US')} parameters`);
  });

  it('accepts every default space of a 224×224×3 image dataset under the default limit', () => {
    const spec: TaskSpec = { kind: 'image', task: 'classification', inputShape: [224, 224, 3], outputs: 10 };
    const space = buildSpace({ families: ['mlp', 'cnn', 'rnn', 'transformer'] }, spec);
    expect(() => checkModelSize(space, spec, DEFAULT_MAX_MODEL_PARAMS)).not.toThrow();
  });

  it('refuses one trial over the limit before anything is built', () => {
    expect(() => checkTrialModelSize('mlp', { ...mlp, layers: 32, units: 8192 }, wide, 50_000_000)).toThrow(/^params: .* give a model of [\d,]+ parameters .*the limit is 50,000,000/);
  });

  it('fails a trial over the limit for good in the worker, naming the count, before building its model', async () => {
    const rows = 8;
    const data = { features: new Float32Array(rows * 5), labels: Float32Array.from({ length: rows }, (_, i) => i % 3), rows, trainRows: 6 };
    const training = trainTrial({
      family: 'mlp', params: mlp, spec: tabular, data, maxEpochs: 1, seed: 1, maxModelParams: 100,
      earlyStopping: { patience: 1, minDelta: 0 }, objective: { metric: 'val_accuracy', direction: 'maximize' },
    });
    await expect(training).rejects.toBeInstanceOf(TrialFailure);
    await expect(training).rejects.toThrow(`give a model of ${countModelParams('mlp', mlp, tabular).toLocaleString('en-US')} parameters`);
  });
});
