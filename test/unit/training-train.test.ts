import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncodedData, EpochMetrics, Params, TaskSpec } from '../../src/domain.ts';
import { buildModel, commonParamsSchema, disposeModel, loadModel, predictBatch, selectBackend, TrainingDivergedError, TrialFailure } from '../../src/model/index.ts';
import { trainTrial, type TrainInput } from '../../src/workers/training/index.ts';
import { balancedClassWeights } from '../../src/workers/training/class-weights.ts';

// --- tiny learnable data sets -------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** Two 2-D gaussian blobs, class 0 around (-1, -1) and class 1 around (1, 1). */
function blobs(rows: number, trainRows: number): { spec: TaskSpec; data: EncodedData } {
  const next = rng(1);
  const features = new Float32Array(rows * 2);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = r % 2;
    const centre = label === 0 ? -1 : 1;
    features[r * 2] = centre + gaussian(next);
    features[r * 2 + 1] = centre + gaussian(next);
    labels[r] = label;
  }
  return {
    spec: { kind: 'tabular', task: 'classification', inputShape: [2], outputs: 2 },
    data: { features, labels, rows, trainRows },
  };
}

/** y = 2·x0 − x1 + 0.5·x2 + a little noise (roughly standardized). */
function linear(rows: number, trainRows: number): { spec: TaskSpec; data: EncodedData } {
  const next = rng(2);
  const features = new Float32Array(rows * 3);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = [gaussian(next), gaussian(next), gaussian(next)] as const;
    features.set(x, r * 3);
    labels[r] = (2 * x[0] - x[1] + 0.5 * x[2] + 0.1 * gaussian(next)) / 2.3;
  }
  return {
    spec: { kind: 'tabular', task: 'regression', inputShape: [3], outputs: 1 },
    data: { features, labels, rows, trainRows },
  };
}

/** 8×8×1 noise images; class k has its k-th quadrant bright. */
function quadrants(rows: number, trainRows: number): { spec: TaskSpec; data: EncodedData } {
  const next = rng(3);
  const features = new Float32Array(rows * 64);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = r % 4;
    const top = label < 2 ? 0 : 4;
    const left = label % 2 === 0 ? 0 : 4;
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const bright = i >= top && i < top + 4 && j >= left && j < left + 4;
        features[r * 64 + i * 8 + j] = (bright ? 0.8 : 0) + 0.2 * next();
      }
    }
    labels[r] = label;
  }
  return {
    spec: { kind: 'image', task: 'classification', inputShape: [8, 8, 1], outputs: 4 },
    data: { features, labels, rows, trainRows },
  };
}

/** Two overlapping blobs, class 1 only every sixth row. */
function imbalanced(rows: number, trainRows: number): { spec: TaskSpec; data: EncodedData } {
  const next = rng(4);
  const features = new Float32Array(rows * 2);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = r % 6 === 5 ? 1 : 0;
    features[r * 2] = label + gaussian(next);
    features[r * 2 + 1] = label + gaussian(next);
    labels[r] = label;
  }
  return {
    spec: { kind: 'tabular', task: 'classification', inputShape: [2], outputs: 2 },
    data: { features, labels, rows, trainRows },
  };
}

/** Windows of 16 steps of a noisy sine (one feature), each followed by the 3 values to forecast. */
function sineWindows(rows: number, trainRows: number): { spec: TaskSpec; data: EncodedData } {
  const next = rng(5);
  const series = Array.from({ length: rows + 19 }, (_, t) => Math.sin(t * 0.4) + 0.1 * gaussian(next));
  const features = new Float32Array(rows * 16);
  const labels = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    features.set(series.slice(r, r + 16), r * 16);
    labels.set(series.slice(r + 16, r + 19), r * 3);
  }
  return {
    spec: { kind: 'timeseries', task: 'forecasting', inputShape: [16, 1], outputs: 3 },
    data: { features, labels, rows, trainRows },
  };
}

const common = { learningRate: 0.01, batchSize: 16, optimizer: 'adam' };
const mlp: Params = { family: 'mlp', ...common, layers: 1, units: 8, activation: 'tanh', dropout: 0, batchNorm: false };
const cnn: Params = {
  family: 'cnn', ...common, learningRate: 0.01, blocks: 1, filters: 4, kernelSize: 3, pooling: 'max', dropout: 0, denseUnits: 8,
};

function input(overrides: Partial<TrainInput> & Pick<TrainInput, 'spec' | 'data'>): TrainInput {
  return {
    family: 'mlp',
    params: mlp,
    maxEpochs: 5,
    earlyStopping: { patience: 10, minDelta: 0 },
    objective: { metric: 'val_loss', direction: 'minimize' },
    seed: 11,
    ...overrides,
  };
}

/** Mean categorical cross-entropy of row-major softmax outputs, as tfjs computes it. */
function crossEntropy(probs: Float32Array, labels: Float32Array, classes: number): number {
  let sum = 0;
  for (let r = 0; r < labels.length; r++) {
    const p = probs[r * classes + labels[r]!]!;
    sum -= Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7));
  }
  return sum / labels.length;
}

beforeAll(async () => {
  await selectBackend('cpu');
});

// --- learning ------------------------------------------------------------------------

describe('trainTrial learns', () => {
  it('mlp classification on two blobs', async () => {
    const { spec, data } = blobs(120, 90);
    const started = performance.now();
    const result = await trainTrial(input({ spec, data, maxEpochs: 6 }));
    console.info(`mlp: ${((performance.now() - started) / result.epochs).toFixed(0)} ms/epoch (90 rows, batch 16)`);
    expect(result.epochs).toBe(6);
    expect(result.stoppedBy).toBe('maxEpochs');
    expect(Object.keys(result.history[0]!).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    // The blobs are learnt within the first epoch, after which val_loss only wobbles: the training loss shows the learning.
    expect(result.history.at(-1)!['loss']).toBeLessThan(result.history[0]!['loss']!);
    expect(result.bestMetrics['val_accuracy']).toBeGreaterThan(0.8);
    expect(result.bestMetrics).toEqual(result.history[result.bestEpoch - 1]);
    // Its costs: the weights of the built model (2 inputs → units → 2 classes), and a positive time per row.
    const model = await loadModel(result.artifact);
    expect(result.costs.param_count).toBe(model.countParams());
    expect(result.costs.param_count).toBeGreaterThan(0);
    model.dispose();
    expect(result.costs.predict_ms_per_row).toBeGreaterThan(0);
    expect(Number.isFinite(result.costs.predict_ms_per_row)).toBe(true);
  });

  it('mlp regression on a linear function, reporting mae in original units when targetStd is given', async () => {
    const { spec, data } = linear(120, 90);
    const base = input({ spec, data, maxEpochs: 4, objective: { metric: 'val_mae', direction: 'minimize' } });
    const standardized = await trainTrial(base);
    const original = await trainTrial({ ...base, targetStd: 2.3 });
    expect(Object.keys(standardized.history[0]!).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    expect(standardized.history.at(-1)!['val_loss']).toBeLessThan(standardized.history[0]!['val_loss']!);
    // Same seed, no dropout: the runs are identical up to the unit of mae.
    standardized.history.forEach((m, i) => {
      const o = original.history[i]!;
      expect(o['val_loss']).toBe(m['val_loss']);
      expect(o['val_mae']).toBeCloseTo(m['val_mae']! * 2.3, 5);
      expect(o['mae']).toBeCloseTo(m['mae']! * 2.3, 5);
    });
  });

  it('cnn on 8×8 images with a bright quadrant', async () => {
    const { spec, data } = quadrants(64, 48);
    const started = performance.now();
    const result = await trainTrial(input({ spec, data, family: 'cnn', params: cnn, maxEpochs: 4 }));
    console.info(`cnn: ${((performance.now() - started) / result.epochs).toFixed(0)} ms/epoch (48 rows 8×8×1, batch 16)`);
    expect(result.history.at(-1)!['val_loss']).toBeLessThan(result.history[0]!['val_loss']!);
  });

  it('cnn forecasting on sine windows: Conv1D over the steps, one output per future step', async () => {
    const { spec, data } = sineWindows(96, 72);
    const params: Params = { ...cnn, blocks: 2, kernelSize: 5, pooling: 'avg', denseUnits: 16 };
    const result = await trainTrial(
      input({ spec, data, family: 'cnn', params, maxEpochs: 8, objective: { metric: 'val_mae', direction: 'minimize' }, targetStd: 2 }),
    );
    expect(Object.keys(result.history[0]!).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    expect(result.bestMetrics['val_mae']).toBeLessThan(result.history[0]!['val_mae']! * 0.7);
  });

  it('is reproducible: the same seed gives the same history', async () => {
    const { spec, data } = blobs(60, 40);
    const a = await trainTrial(input({ spec, data, maxEpochs: 2 }));
    const b = await trainTrial(input({ spec, data, maxEpochs: 2 }));
    const c = await trainTrial(input({ spec, data, maxEpochs: 2, seed: 12 }));
    expect(b.history).toEqual(a.history);
    expect(c.history).not.toEqual(a.history);
  });
});

// --- best weights and serialization --------------------------------------------------------

describe('trainTrial keeps the best epoch', () => {
  it('serializes the best epoch’s weights, not the last', async () => {
    const { spec, data } = blobs(120, 90);
    // A minDelta nothing can beat: epoch 1 stays the best, and training stops after `patience` more.
    const result = await trainTrial(input({ spec, data, maxEpochs: 10, earlyStopping: { patience: 2, minDelta: 100 } }));
    expect(result.stoppedBy).toBe('earlyStopping');
    expect(result.epochs).toBe(3);
    expect(result.bestEpoch).toBe(1);
    expect(result.bestMetrics).toEqual(result.history[0]);
    const first = result.history[0]!['val_loss']!;
    const last = result.history[2]!['val_loss']!;
    expect(Math.abs(first - last)).toBeGreaterThan(1e-3);

    const model = await loadModel(result.artifact);
    try {
      const val = data.features.subarray(data.trainRows * 2);
      const probs = await predictBatch(model, val, data.rows - data.trainRows, spec.inputShape);
      expect(crossEntropy(probs, data.labels.subarray(data.trainRows), 2)).toBeCloseTo(first, 5);
    } finally {
      model.dispose();
    }
  });

  it('picks the best epoch by a maximized objective', async () => {
    const { spec, data } = blobs(120, 90);
    const result = await trainTrial(
      input({ spec, data, maxEpochs: 4, objective: { metric: 'val_accuracy', direction: 'maximize' } }),
    );
    const best = Math.max(...result.history.map((m) => m['val_accuracy']!));
    expect(result.bestMetrics['val_accuracy']).toBe(best);
    expect(result.history.findIndex((m) => m['val_accuracy'] === best) + 1).toBe(result.bestEpoch);
  });
});

// --- control flow and failures -----------------------------------------------------------

describe('trainTrial control', () => {
  it('stops after the epoch in which onEpoch says stop', async () => {
    const { spec, data } = blobs(60, 40);
    const seen: [number, EpochMetrics][] = [];
    const result = await trainTrial(
      input({
        spec,
        data,
        maxEpochs: 10,
        onEpoch: async (epoch, metrics) => {
          seen.push([epoch, metrics]);
          return epoch === 2 ? 'stop' : 'continue';
        },
      }),
    );
    expect(result.stoppedBy).toBe('callback');
    expect(result.epochs).toBe(2);
    expect(seen.map(([e]) => e)).toEqual([1, 2]);
    expect(seen.map(([, m]) => m)).toEqual(result.history);
  });

  it('lets the event loop run while an epoch trains', async () => {
    const { spec, data } = blobs(200, 180);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 0);
    try {
      await trainTrial(input({ spec, data, maxEpochs: 1, params: { ...mlp, batchSize: 4 } }));
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
  });

  it('throws a non-retryable error when the loss diverges', async () => {
    const { spec, data } = linear(60, 40);
    const diverging = input({ spec, data, params: { ...mlp, optimizer: 'sgd', learningRate: 1e6, batchSize: 4 } });
    const err = await trainTrial(diverging).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err).toBeInstanceOf(TrialFailure);
    expect((err as Error).message).toMatch(/Training diverged: (val_)?loss is (NaN|Infinity) at epoch \d+/);
  });

  it('throws when the features hold NaN', async () => {
    const { spec, data } = blobs(60, 40);
    const features = data.features.slice();
    features[5] = Number.NaN;
    await expect(trainTrial(input({ spec, data: { ...data, features } }))).rejects.toThrow(/Training diverged: loss is NaN at epoch 1/);
  });

  it('fails invalid params, data and objectives with a TrialFailure that names the field', async () => {
    const { spec, data } = blobs(60, 40);
    await expect(trainTrial(input({ spec, data, params: { ...mlp, units: 0 } }))).rejects.toThrow(
      new TrialFailure('params.units: 0 must be an integer between 1 and 8192'),
    );
    await expect(trainTrial(input({ spec, data: { ...data, trainRows: 60 } }))).rejects.toThrow(/data.trainRows: 60 must be/);
    await expect(trainTrial(input({ spec, data: { ...data, labels: data.labels.map(() => 2) } }))).rejects.toThrow(
      /data.labels\[0\]: 2 must be a class index between 0 and 1/,
    );
    await expect(
      trainTrial(input({ spec, data, objective: { metric: 'val_mae', direction: 'minimize' } })),
    ).rejects.toThrow(/objective.metric: "val_mae" does not apply to a classification task/);
    await expect(
      trainTrial(input({ spec, data, objective: { metric: 'val_accuracy', direction: 'minimize' } })),
    ).rejects.toBeInstanceOf(TrialFailure);
  });
});

describe('trainTrial class weights', () => {
  it("computes scikit-learn's 'balanced' weights, 1 for a class the split lacks", () => {
    expect(balancedClassWeights([0, 0, 0, 1], 3)).toEqual({ 0: 4 / 9, 1: 4 / 3, 2: 1 });
  });

  it("reads a missing classWeight as 'none', so params stored before it still parse", () => {
    expect(commonParamsSchema.parse({ learningRate: 0.1, batchSize: 8, optimizer: 'sgd' }).classWeight).toBe('none');
  });

  it("'balanced' weights the training loss by class, and leaves the validation metrics unweighted", async () => {
    const { spec, data } = imbalanced(120, 96);
    // A learning rate this small leaves the weights where the seed put them, so the epoch's
    // losses can be recomputed from the initial model's predictions.
    const params: Params = { ...mlp, optimizer: 'sgd', learningRate: 1e-9, batchSize: 128 };
    const run = (classWeight: string) => trainTrial(input({ spec, data, params: { ...params, classWeight }, maxEpochs: 1 }));
    const [plain, balanced] = [await run('none'), await run('balanced')];

    const model = buildModel('mlp', params, spec, 11);
    const probs = await predictBatch(model, data.features, data.rows, spec.inputShape);
    disposeModel(model);
    const losses = Array.from(data.labels, (label, r) => -Math.log(Math.min(Math.max(probs[r * 2 + label]!, 1e-7), 1 - 1e-7)));
    const train = losses.slice(0, 96);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    // 80 rows of class 0 and 16 of class 1: weights 96 / (2·80) and 96 / (2·16).
    const weight = [0.6, 3];
    expect(plain.history[0]!['loss']).toBeCloseTo(mean(train), 5);
    expect(balanced.history[0]!['loss']).toBeCloseTo(mean(train.map((l, r) => l * weight[data.labels[r]!]!)), 5);
    expect(Math.abs(balanced.history[0]!['loss']! - plain.history[0]!['loss']!)).toBeGreaterThan(0.01);
    expect(balanced.history[0]!['val_loss']).toBeCloseTo(mean(losses.slice(96)), 5);
    expect(balanced.history[0]!['val_loss']).toBeCloseTo(plain.history[0]!['val_loss']!, 6);
    expect(balanced.history[0]!['val_accuracy']).toBe(plain.history[0]!['val_accuracy']);
  });

  it('is ignored by regression', async () => {
    const { spec, data } = linear(60, 40);
    const base = input({ spec, data, maxEpochs: 2 });
    const balanced = await trainTrial({ ...base, params: { ...mlp, classWeight: 'balanced' } });
    expect(balanced.history).toEqual((await trainTrial(base)).history);
  });

  it('names an unknown classWeight', async () => {
    const { spec, data } = blobs(60, 40);
    await expect(trainTrial(input({ spec, data, params: { ...mlp, classWeight: 'auto' } }))).rejects.toThrow(
      new TrialFailure(`params.classWeight: "auto" must be one of 'none', 'balanced'`),
    );
  });
});

describe('trainTrial memory', () => {
  it('leaves as many tensors as it found, after success and after failure', async () => {
    const { spec, data } = quadrants(24, 16);
    const before = tf.memory().numTensors;
    await trainTrial(input({ spec, data, family: 'cnn', params: cnn, maxEpochs: 2 }));
    expect(tf.memory().numTensors).toBe(before);
    await trainTrial(input({ spec, data, params: { ...mlp, batchNorm: true, dropout: 0.3, optimizer: 'rmsprop' }, maxEpochs: 2 }));
    expect(tf.memory().numTensors).toBe(before);

    const features = data.features.slice();
    features[0] = Number.NaN;
    await expect(trainTrial(input({ spec, data: { ...data, features } }))).rejects.toThrow(TrainingDivergedError);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainTrial(input({ spec, data, family: 'cnn', params: { ...cnn, blocks: 9 } }))).rejects.toThrow(TrialFailure);
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      trainTrial(input({ spec, data, onEpoch: () => Promise.reject(new Error('database is down')) })),
    ).rejects.toThrow('database is down');
    expect(tf.memory().numTensors).toBe(before);
  });
});
