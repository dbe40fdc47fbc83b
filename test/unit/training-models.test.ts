import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Family, Params, TaskSpec } from '../../src/domain.ts';
import { buildModel, checkSpaceBuildable, disposeModel, loadModel, predictBatch, selectBackend, serializeModel } from '../../src/model/index.ts';

const tabular: TaskSpec = { kind: 'tabular', task: 'classification', inputShape: [5], outputs: 3 };
const tabularRegression: TaskSpec = { kind: 'tabular', task: 'regression', inputShape: [5], outputs: 1 };
const image: TaskSpec = { kind: 'image', task: 'classification', inputShape: [8, 8, 1], outputs: 4 };
const sequence: TaskSpec = { kind: 'sequence', task: 'classification', inputShape: [12, 3], outputs: 3 };
const forecast: TaskSpec = { kind: 'timeseries', task: 'forecasting', inputShape: [16, 2], outputs: 4 };
const text: TaskSpec = { kind: 'text', task: 'classification', inputShape: [10], outputs: 2, vocabSize: 40 };

const mlp: Params = {
  family: 'mlp', learningRate: 0.01, batchSize: 16, optimizer: 'adam',
  layers: 2, units: 8, activation: 'relu', dropout: 0.1, batchNorm: true,
};
const cnn: Params = {
  family: 'cnn', learningRate: 0.01, batchSize: 16, optimizer: 'rmsprop',
  blocks: 2, filters: 4, kernelSize: 3, pooling: 'avg', dropout: 0.2, denseUnits: 8,
};

// Every builder must satisfy the same contract for every spec it supports.
const cases: { family: Family; params: Params; spec: TaskSpec; outputs: number }[] = [
  { family: 'mlp', params: mlp, spec: tabular, outputs: 3 },
  { family: 'mlp', params: mlp, spec: tabularRegression, outputs: 1 },
  { family: 'mlp', params: { ...mlp, batchNorm: false, dropout: 0, activation: 'elu', optimizer: 'sgd' }, spec: image, outputs: 4 },
  { family: 'cnn', params: cnn, spec: image, outputs: 4 },
  { family: 'cnn', params: { ...cnn, kernelSize: 5, pooling: 'max', blocks: 3 }, spec: { ...image, task: 'regression', outputs: 1 }, outputs: 1 },
  { family: 'cnn', params: cnn, spec: sequence, outputs: 3 },
  { family: 'cnn', params: { ...cnn, blocks: 4, pooling: 'max' }, spec: forecast, outputs: 4 },
  { family: 'cnn', params: { ...cnn, embeddingDim: 6 }, spec: text, outputs: 2 },
];

function rows(count: number, spec: TaskSpec): Float32Array {
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  // Token ids for text, the last positions of each row padding.
  if (spec.vocabSize !== undefined) return Float32Array.from({ length: count * size }, (_, i) => (i % size < size - 3 ? (i * 7) % spec.vocabSize! : 0));
  return Float32Array.from({ length: count * size }, (_, i) => Math.sin(i * 0.37));
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array).map((a) => Float32Array.from(a));
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe.each(cases)('buildModel($family, $spec.inputShape, $spec.task)', ({ family, params, spec, outputs }) => {
  it('builds a compiled model with the right input, output and loss', async () => {
    const model = buildModel(family, params, spec, 1);
    try {
      expect(model.inputs[0]?.shape).toEqual([null, ...spec.inputShape]);
      expect(model.outputs[0]?.shape).toEqual([null, outputs]);
      expect(model.loss).toBe(spec.task === 'classification' ? 'categoricalCrossentropy' : 'meanSquaredError');
      const out = await predictBatch(model, rows(3, spec), 3, spec.inputShape);
      expect(out).toHaveLength(3 * outputs);
      if (spec.task === 'classification') {
        for (let r = 0; r < 3; r++) {
          const sum = out.slice(r * outputs, (r + 1) * outputs).reduce((a, b) => a + b, 0);
          expect(sum).toBeCloseTo(1, 5);
        }
      }
    } finally {
      disposeModel(model);
    }
  });

  it('starts from the same weights for the same seed, and different ones for another', () => {
    const a = buildModel(family, params, spec, 42);
    const b = buildModel(family, params, spec, 42);
    const c = buildModel(family, params, spec, 43);
    try {
      expect(weightsOf(a)).toEqual(weightsOf(b));
      expect(weightsOf(a)).not.toEqual(weightsOf(c));
    } finally {
      [a, b, c].forEach(disposeModel);
    }
  });

  it('round-trips through serializeModel and loadModel with identical predictions', async () => {
    const before = tf.memory().numTensors;
    const model = buildModel(family, params, spec, 7);
    const loaded = await loadModel(await serializeModel(model));
    try {
      const x = rows(4, spec);
      expect(await predictBatch(loaded, x, 4, spec.inputShape)).toEqual(await predictBatch(model, x, 4, spec.inputShape));
    } finally {
      disposeModel(model);
      disposeModel(loaded);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('buildModel validation', () => {
  it('names a missing param', () => {
    const { units: _, ...noUnits } = mlp;
    expect(() => buildModel('mlp', noUnits, tabular)).toThrow('params.units: missing value must be an integer between 1 and 8192');
  });

  it('names an invalid param, its value and the rule', () => {
    expect(() => buildModel('mlp', { ...mlp, activation: 'sigmoid' }, tabular)).toThrow(
      `params.activation: "sigmoid" must be one of 'relu', 'tanh', 'elu'`,
    );
    expect(() => buildModel('mlp', { ...mlp, dropout: 1 }, tabular)).toThrow('params.dropout: 1 must be a number >= 0 and < 1');
    expect(() => buildModel('cnn', { ...cnn, kernelSize: 4 }, image)).toThrow('params.kernelSize: 4 must be 3 or 5');
    expect(() => buildModel('mlp', { ...mlp, learningRate: -1 }, tabular)).toThrow('params.learningRate: -1 must be a finite number > 0');
    expect(() => buildModel('mlp', { ...mlp, batchSize: '16' }, tabular)).toThrow('params.batchSize: "16" must be an integer');
  });

  it('rejects a cnn whose pooling would shrink the image below 1×1, or a sequence below one step', () => {
    expect(() => buildModel('cnn', { ...cnn, blocks: 4 }, image)).toThrow('params.blocks: 4 must be at most 3 for 8×8 images (each block halves them)');
    expect(() => buildModel('cnn', { ...cnn, blocks: 4 }, sequence)).toThrow('params.blocks: 4 must be at most 3 for sequences of 12 steps (each block halves them)');
    expect(() => buildModel('cnn', { ...cnn, blocks: 4 }, text)).toThrow('params.blocks: 4 must be at most 3 for sequences of 10 tokens (each block halves them)');
  });

  it('refuses, at study creation, a cnn space with more blocks than the inputs allow', () => {
    const space = (blocks: unknown) => ({ families: ['cnn' as const], params: { cnn: { blocks } } }) as Parameters<typeof checkSpaceBuildable>[0];
    expect(() => checkSpaceBuildable(space({ type: 'int', low: 1, high: 4 }), sequence)).toThrow(
      'search.space.cnn.blocks: 4 must be at most 3 for sequences of 12 steps (each block halves them)',
    );
    expect(() => checkSpaceBuildable(space(3), text)).not.toThrow();
    expect(() => checkSpaceBuildable(space(4), image)).toThrow('must be at most 3 for 8×8 images');
  });

  it('rejects a cnn on tabular data and a family mismatch', () => {
    expect(() => buildModel('cnn', cnn, tabular)).toThrow(/spec.inputShape: \[5\] must be \[height, width, channels\], \[steps, features\] or token ids/);
    expect(() => buildModel('cnn', mlp, image)).toThrow(`params.family: "mlp" must be 'cnn'`);
    expect(() => buildModel('cnn', { ...cnn, embeddingDim: 0 }, text)).toThrow('params.embeddingDim: 0 must be an integer between 1 and 1024');
  });

  it('leaves no tensors behind when building fails', () => {
    const before = tf.memory().numTensors;
    expect(() => buildModel('cnn', { ...cnn, blocks: 4 }, image)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('mlp on token inputs', () => {
  it('embeds the ids and averages them over the tokens instead of treating ids as magnitudes', () => {
    const spec = { kind: 'text' as const, task: 'classification' as const, inputShape: [12], outputs: 3, vocabSize: 50 };
    const params = { family: 'mlp', layers: 1, units: 8, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.01, batchSize: 16, optimizer: 'adam' };
    const model = buildModel('mlp', params, spec, 1);
    try {
      expect(model.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Embedding', 'PaddingMask', 'MaskedMeanPooling', 'Dense', 'Dense']);
      expect(model.outputs[0]?.shape).toEqual([null, 3]);
    } finally {
      disposeModel(model);
    }
  });
});

describe('cnn over sequences and text', () => {
  const layersOf = (spec: TaskSpec, params: Params) => {
    const model = buildModel('cnn', params, spec, 1);
    try {
      return model.layers.map((l) => l.getClassName());
    } finally {
      disposeModel(model);
    }
  };

  it('convolves [steps, features] along the steps and flattens, so a forecast keeps where things happened', () => {
    expect(layersOf(sequence, { ...cnn, blocks: 2 })).toEqual([
      'InputLayer', 'Conv1D', 'AveragePooling1D', 'Conv1D', 'AveragePooling1D', 'Flatten', 'Dense', 'Dropout', 'Dense',
    ]);
  });

  it('embeds token ids, masks the padding and takes the max over the tokens (Kim, 2014)', () => {
    const classes = layersOf(text, { ...cnn, blocks: 1, pooling: 'max', embeddingDim: 6 });
    expect(classes).toEqual([
      'InputLayer', 'Embedding', 'PaddingMask', 'Multiply', 'Conv1D', 'Multiply', 'MaxPooling1D', 'MaxPooling1D', 'MaskedMaxPooling', 'Dense', 'Dropout', 'Dense',
    ]);
  });

  it('reads embeddingDim for text only, defaulting to 64', () => {
    const model = buildModel('cnn', cnn, text, 1);
    try {
      expect(model.layers.find((l) => l.getClassName() === 'Embedding')?.getWeights()[0]?.shape).toEqual([40, 64]);
    } finally {
      disposeModel(model);
    }
    expect(layersOf(sequence, { ...cnn, embeddingDim: 8 })).not.toContain('Embedding');
  });
});
