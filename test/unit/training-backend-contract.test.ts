import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { EncodedData, Family, Params, TaskSpec } from '../../src/domain.ts';
import { buildModel, disposeModel, loadModel, predictBatch, selectBackend, serializeModel } from '../../src/model/index.ts';
import { trainTrial } from '../../src/workers/training/index.ts';
import { mnistRows } from '../helpers/mnist.ts';

/**
 * Every family trains on every CPU backend, and a model's weights mean the
 * same thing on each: one suite, run over every backend.
 */
const BACKENDS = ['cpu', 'wasm'] as const;

/** Real digits, 16×16 crops of the 28×28 centre, so the cnn is quick on the cpu backend. */
function digits(perClass: number): { spec: TaskSpec; data: EncodedData } {
  const rows = mnistRows(0, perClass);
  const side = 16;
  const features = new Float32Array(rows.length * side * side);
  rows.forEach((r, n) => {
    for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) features[n * side * side + i * side + j] = r.pixels[(i + 6) * 28 + j + 6]! / 255;
  });
  // Interleave classes so the first rows (the training split) hold every digit.
  const order = rows.map((_, i) => i).sort((a, b) => (a % perClass) - (b % perClass) || a - b);
  const f = new Float32Array(features.length);
  const labels = new Float32Array(rows.length);
  order.forEach((from, to) => {
    f.set(features.subarray(from * side * side, (from + 1) * side * side), to * side * side);
    labels[to] = rows[from]!.label;
  });
  return { spec: { kind: 'image', task: 'classification', inputShape: [side, side, 1], outputs: 10 }, data: { features: f, labels, rows: rows.length, trainRows: Math.floor(rows.length * 0.8) } };
}

const PARAMS: Record<Family, Params> = {
  mlp: { family: 'mlp', layers: 1, units: 32, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.005, batchSize: 16, optimizer: 'adam' },
  cnn: { family: 'cnn', blocks: 1, filters: 8, kernelSize: 3, pooling: 'max', dropout: 0, denseUnits: 32, learningRate: 0.005, batchSize: 16, optimizer: 'adam' },
  rnn: { family: 'rnn', cell: 'lstm', layers: 1, units: 16, bidirectional: false, dropout: 0, learningRate: 0.01, batchSize: 16, optimizer: 'adam' },
  transformer: { family: 'transformer', blocks: 1, heads: 2, modelDim: 16, ffDim: 32, dropout: 0, learningRate: 0.005, batchSize: 16, optimizer: 'adam' },
};
const ALL_FAMILIES = ['mlp', 'cnn', 'rnn', 'transformer'] as const;

describe.each(BACKENDS)('families on the %s backend', (backend) => {
  it.each(ALL_FAMILIES)('%s trains and its loss goes down', async (family) => {
    await selectBackend(backend);
    const { spec, data } = digits(10);
    const result = await trainTrial({
      family, params: PARAMS[family], spec, data, maxEpochs: 4, earlyStopping: { patience: 10, minDelta: 0 },
      objective: { metric: 'val_loss', direction: 'minimize' }, seed: 1,
    });
    const losses = result.history.map((h) => h.loss!);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('the same weights on every backend', () => {
  it.each(ALL_FAMILIES)('%s predicts the same numbers on cpu and wasm', async (family) => {
    const { spec, data } = digits(3);
    await selectBackend('cpu');
    const model = buildModel(family, PARAMS[family], spec, 7);
    const artifact = await serializeModel(model);
    const reference = await predictBatch(model, data.features, data.rows, spec.inputShape);
    disposeModel(model);
    for (const backend of BACKENDS) {
      await selectBackend(backend);
      const loaded = await loadModel(artifact);
      const got = await predictBatch(loaded, data.features, data.rows, spec.inputShape);
      loaded.dispose();
      got.forEach((v, i) => expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-5));
    }
    await selectBackend('cpu');
  });
});
