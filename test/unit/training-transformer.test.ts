import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncodedData, ModelArtifact, Params, TaskSpec } from '../../src/domain.ts';
import { buildModel, disposeModel, loadModel, predictBatch, selectBackend, serializeModel } from '../../src/model/index.ts';
import { trainTrial, type TrainInput } from '../../src/workers/training/index.ts';
import { FeatureTokenizer, LayerNorm, MaskedMeanPooling, MultiHeadSelfAttention, PaddingMask, PositionalEmbedding } from '../../src/model/layers/index.ts';
import { predictInFreshProcess } from '../helpers/fresh-process.ts';


const params: Params = {
  family: 'transformer', learningRate: 0.01, batchSize: 32, optimizer: 'adam',
  blocks: 1, heads: 2, modelDim: 16, ffDim: 32, dropout: 0.1,
};
// Token ids 1..19 in sequences of 8; the class is whether token 3 occurs.
const tokens: TaskSpec = { kind: 'text', task: 'classification', inputShape: [8], outputs: 2, vocabSize: 20 };
// 6 steps of 3 features; the class is whether feature 0 averages above 0 over the steps.
const steps: TaskSpec = { kind: 'sequence', task: 'classification', inputShape: [6, 3], outputs: 2 };
const image: TaskSpec = { kind: 'image', task: 'classification', inputShape: [4, 5, 2], outputs: 3 };

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16_807) % 2_147_483_647;
    return s / 2_147_483_647;
  };
}

function tokenData(rows: number, seed: number): EncodedData {
  const next = lcg(seed);
  const features = new Float32Array(rows * 8);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < 8; t++) {
      const token = 1 + Math.floor(next() * 19);
      features[r * 8 + t] = token;
      if (token === 3) labels[r] = 1;
    }
  }
  return { features, labels, rows, trainRows: Math.floor(rows * 0.75) };
}

function stepData(rows: number, seed: number): EncodedData {
  const next = lcg(seed);
  const features = Float32Array.from({ length: rows * 18 }, () => next() * 2 - 1);
  const labels = Float32Array.from({ length: rows }, (_, r) => {
    let sum = 0;
    for (let t = 0; t < 6; t++) sum += features[r * 18 + t * 3]!;
    return sum > 0 ? 1 : 0;
  });
  return { features, labels, rows, trainRows: Math.floor(rows * 0.75) };
}

function trainInput(spec: TaskSpec, data: EncodedData, p: Params = params): TrainInput {
  return {
    family: 'transformer', params: p, spec, data, maxEpochs: 5,
    earlyStopping: { patience: 10, minDelta: 0 },
    objective: { metric: 'val_loss', direction: 'minimize' },
    seed: 11,
  };
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
}

describe.each(['cpu', 'wasm'])('transformer on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each([
    { name: 'token ids', spec: tokens, data: tokenData(256, 1) },
    { name: '[steps, features]', spec: steps, data: stepData(256, 2) },
  ])('learns a small $name task and frees every tensor', async ({ spec, data }) => {
    const before = tf.memory().numTensors;
    const result = await trainTrial(trainInput(spec, data));
    expect(tf.memory().numTensors).toBe(before);
    const losses = result.history.map((m) => m['loss']!);
    expect(losses).toHaveLength(5);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(result.bestMetrics['val_accuracy']).toBeGreaterThan(0.7);
  });

  it('gives attention outputs of the input shape that match a plain computation', () => {
    const [batch, time, dim, heads] = [2, 3, 4, 2];
    const layer = new MultiHeadSelfAttention({ heads, dim, seed: 5 });
    const x = tf.tensor3d(Array.from({ length: batch * time * dim }, (_, i) => Math.sin(i)), [batch, time, dim]);
    try {
      const y = layer.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([batch, time, dim]);
      expect(layer.computeOutputShape([null, time, dim])).toEqual([null, time, dim]);
      const w = layer.getWeights().map((t) => t.arraySync());
      const expected = attention(x.arraySync(), w as (number[][] | number[])[], heads);
      const got = y.arraySync() as number[][][];
      for (let b = 0; b < batch; b++) for (let t = 0; t < time; t++) for (let d = 0; d < dim; d++) {
        expect(got[b]![t]![d]).toBeCloseTo(expected[b]![t]![d]!, 5);
      }
      y.dispose();
    } finally {
      x.dispose();
      layer.dispose();
    }
  });

  it('leaves padding keys out of the attention when given a mask, and stays finite on an all-padding row', () => {
    const [time, dim, heads] = [4, 4, 2];
    const ids = [[3, 5, 0, 0], [0, 0, 0, 0]];
    const layer = new MultiHeadSelfAttention({ heads, dim, seed: 8 });
    const values = Array.from({ length: 2 * time * dim }, (_, i) => Math.cos(i * 0.7));
    // The same rows with other values at the padding positions of row 0.
    const changed = values.map((v, i) => (i < time * dim && i >= 2 * dim ? v * -9 + 3 : v));
    const [x, x2, mask] = [tf.tensor3d(values, [2, time, dim]), tf.tensor3d(changed, [2, time, dim]), new PaddingMask().apply(tf.tensor2d(ids)) as tf.Tensor];
    try {
      const [y, y2] = tf.tidy(() => [layer.apply([x, mask]) as tf.Tensor, layer.apply([x2, mask]) as tf.Tensor]);
      expect(y.shape).toEqual([2, time, dim]);
      expect(layer.computeOutputShape([[null, time, dim], [null, time, 1]])).toEqual([null, time, dim]);
      const got = y.arraySync() as number[][][];
      const w = layer.getWeights().map((t) => t.arraySync()) as (number[][] | number[])[];
      const expected = attention(x.arraySync(), w, heads, ids);
      for (let t = 0; t < time; t++) for (let d = 0; d < dim; d++) {
        expect(got[0]![t]![d]).toBeCloseTo(expected[0]![t]![d]!, 5);
        expect(got[1]![t]![d]).toBeCloseTo(expected[1]![t]![d]!, 5);
      }
      // A padding key gets no weight: what it holds does not reach the tokens' outputs.
      const again = y2.arraySync() as number[][][];
      for (let t = 0; t < 2; t++) for (let d = 0; d < dim; d++) expect(again[0]![t]![d]).toBeCloseTo(got[0]![t]![d]!, 6);
      expect(y.dataSync().every(Number.isFinite)).toBe(true);
      tf.dispose([y, y2]);
    } finally {
      tf.dispose([x, x2, mask]);
      layer.dispose();
    }
  });

  it('applies attention dropout in training only', () => {
    const layer = new MultiHeadSelfAttention({ heads: 2, dim: 4, dropout: 0.5, seed: 1 });
    const x = tf.randomNormal([1, 6, 4], 0, 1, 'float32', 3);
    try {
      const [inference, again, training] = tf.tidy(() => [
        (layer.apply(x) as tf.Tensor).arraySync(),
        (layer.apply(x, { training: false }) as tf.Tensor).arraySync(),
        (layer.apply(x, { training: true }) as tf.Tensor).arraySync(),
      ]);
      expect(again).toEqual(inference);
      expect(training).not.toEqual(inference);
    } finally {
      x.dispose();
      layer.dispose();
    }
  });

  it('normalizes the last axis like a plain computation (LayerNorm)', () => {
    const dim = 5;
    const layer = new LayerNorm();
    const x = tf.tensor3d(Array.from({ length: 2 * 3 * dim }, (_, i) => Math.cos(i * 1.3) * (1 + (i % 7))), [2, 3, dim]);
    try {
      const first = layer.apply(x) as tf.Tensor;
      first.dispose();
      const gamma = Array.from({ length: dim }, (_, i) => 0.5 + i * 0.25);
      const beta = Array.from({ length: dim }, (_, i) => i * 0.1 - 0.2);
      tf.tidy(() => layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta)]));
      expect(layer.getWeights().map((t) => t.shape)).toEqual([[dim], [dim]]);
      const y = layer.apply(x) as tf.Tensor;
      const got = y.dataSync();
      const values = x.dataSync();
      for (let row = 0; row < 6; row++) {
        const v = Array.from(values.slice(row * dim, (row + 1) * dim));
        const mean = v.reduce((a, b) => a + b, 0) / dim;
        const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / dim;
        for (let i = 0; i < dim; i++) {
          const expected = ((v[i]! - mean) / Math.sqrt(variance + 1e-5)) * gamma[i]! + beta[i]!;
          expect(Math.abs(got[row * dim + i]! - expected)).toBeLessThan(1e-5);
        }
      }
      y.dispose();
    } finally {
      x.dispose();
      layer.dispose();
    }
  });

  it('round-trips a trained model through serializeModel and loadModel, in this process and a fresh one', async () => {
    const data = tokenData(64, 3);
    const model = buildModel('transformer', params, tokens, 11);
    const [xs, ys] = tf.tidy(() => [
      tf.tensor2d(data.features, [data.rows, 8]),
      tf.oneHot(tf.tensor1d(Int32Array.from(data.labels), 'int32'), 2).toFloat(),
    ]);
    try {
      await model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0 });
      const x = data.features.slice(0, 5 * 8);
      // Padded texts, so that the loaded model's masks are exercised: 3 and 6 tokens, and none.
      x.fill(0, 3, 8);
      x.fill(0, 8 + 6, 16);
      x.fill(0, 16, 24);
      const original = await predictBatch(model, x, 5, tokens.inputShape);
      const artifact = await serializeModel(model);
      const loaded = await loadModel(artifact);
      try {
        expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
        expect(loaded.layers.map((l) => l.getClassName())).toEqual(expect.arrayContaining(['PaddingMask', 'MaskedMeanPooling']));
        const again = await predictBatch(loaded, x, 5, tokens.inputShape);
        for (let i = 0; i < original.length; i++) expect(Math.abs(again[i]! - original[i]!)).toBeLessThan(1e-6);
      } finally {
        disposeModel(loaded);
      }
      const fresh = await predictInFreshProcess(artifact, backend, x, 5, tokens.inputShape);
      expect(fresh).toHaveLength(original.length);
      for (let i = 0; i < original.length; i++) expect(Math.abs(fresh[i]! - original[i]!)).toBeLessThan(1e-6);
    } finally {
      tf.dispose([xs, ys]);
      disposeModel(model);
    }
  });
});

describe('transformerBuilder', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('builds for token, [steps, features] and image inputs, and frees them all', async () => {
    const before = tf.memory().numTensors;
    for (const spec of [tokens, steps, image]) {
      const model = buildModel('transformer', { ...params, blocks: 2 }, spec, 1);
      try {
        expect(model.inputs[0]?.shape).toEqual([null, ...spec.inputShape]);
        expect(model.outputs[0]?.shape).toEqual([null, spec.outputs]);
        const size = spec.inputShape.reduce((a, b) => a * b, 1);
        const out = await predictBatch(model, Float32Array.from({ length: 2 * size }, (_, i) => i % 7), 2, spec.inputShape);
        expect(out.slice(0, spec.outputs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      } finally {
        disposeModel(model);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('starts from the same weights for the same seed, and different ones for another', () => {
    const a = buildModel('transformer', params, tokens, 42);
    const b = buildModel('transformer', params, tokens, 42);
    const c = buildModel('transformer', params, tokens, 43);
    try {
      const wa = weightsOf(a);
      expect(wa).toEqual(weightsOf(b));
      expect(wa).not.toEqual(weightsOf(c));
      // The four attention projections must not start equal to one another.
      const mhsa = a.layers.find((l) => l instanceof MultiHeadSelfAttention)!.getWeights();
      expect(mhsa[0]!.dataSync()).not.toEqual(mhsa[2]!.dataSync());
    } finally {
      [a, b, c].forEach(disposeModel);
    }
  });

  it('rejects heads that do not divide modelDim, naming both', () => {
    expect(() => buildModel('transformer', { ...params, heads: 3 }, tokens)).toThrow(
      'params.heads: 3 must divide params.modelDim (16) evenly, but 16 / 3 is not an integer',
    );
  });

  it('reads a table row as one token per feature, each with its own weight and bias', () => {
    const tabular: TaskSpec = { kind: 'tabular', task: 'classification', inputShape: [5], outputs: 2 };
    const model = buildModel('transformer', params, tabular, 3);
    try {
      const tokenizer = model.layers.find((l) => l instanceof FeatureTokenizer)!;
      expect(tokenizer.outputShape).toEqual([null, 5, 16]);
      expect(model.layers.some((l) => l instanceof PositionalEmbedding)).toBe(false);
      const [weight, bias] = tokenizer.getWeights() as [tf.Tensor, tf.Tensor];
      expect(weight.shape).toEqual([5, 16]);
      expect(bias.shape).toEqual([5, 16]);
      // Token j is x_j · W_j + b_j.
      tokenizer.setWeights([weight, tf.randomNormal([5, 16], 0, 1, 'float32', 7)]);
      const x = tf.tensor2d([[1, -2, 0.5, 0, 3]]);
      const tokens = tokenizer.apply(x) as tf.Tensor;
      const expected = tf.add(tf.mul(tf.reshape(x, [1, 5, 1]), weight), tokenizer.getWeights()[1]!);
      expect(Array.from(tokens.dataSync())).toEqual(Array.from(expected.dataSync()).map((v) => expect.closeTo(v, 5)));
      tf.dispose([x, tokens, expected]);
    } finally {
      disposeModel(model);
    }
  });

  it('rejects unusable input shapes', () => {
    expect(() => buildModel('transformer', params, { ...steps, inputShape: [2, 3, 4, 5] })).toThrow(/^spec.inputShape: \[2,3,4,5\]/);
    expect(() => buildModel('transformer', params, { ...tokens, inputShape: [4, 2] })).toThrow(
      'spec.inputShape: [4,2] must be [sequenceLength] for token inputs',
    );
  });

  it('saves every constructor argument in the layer configs', () => {
    const mhsa = new MultiHeadSelfAttention({ heads: 2, dim: 8, dropout: 0.25, seed: 9, name: 'mhsa' });
    const pos = new PositionalEmbedding({ maxLength: 12, seed: 4, name: 'pos' });
    const norm = new LayerNorm({ epsilon: 1e-3, name: 'norm' });
    expect(mhsa.getConfig()).toMatchObject({ heads: 2, dim: 8, dropout: 0.25, seed: 9, name: 'mhsa' });
    expect(pos.getConfig()).toMatchObject({ maxLength: 12, seed: 4, name: 'pos' });
    expect(norm.getConfig()).toMatchObject({ epsilon: 1e-3, name: 'norm' });
    expect(new MultiHeadSelfAttention(mhsa.getConfig() as never).getConfig()).toEqual(mhsa.getConfig());
    expect(new PositionalEmbedding(pos.getConfig() as never).getConfig()).toEqual(pos.getConfig());
    expect(new LayerNorm(norm.getConfig() as never).getConfig()).toEqual(norm.getConfig());
    for (const layer of [new PaddingMask({ name: 'mask' }), new MaskedMeanPooling({ name: 'pool' })]) {
      const Cls = layer.constructor as new (args: unknown) => tf.layers.Layer;
      expect(new Cls(layer.getConfig()).getConfig()).toEqual(layer.getConfig());
    }
  });

  it('masks token inputs only: numeric inputs keep the unmasked layers', () => {
    const classes = (spec: TaskSpec) => {
      const model = buildModel('transformer', params, spec, 1);
      try {
        return model.layers.map((l) => l.getClassName());
      } finally {
        disposeModel(model);
      }
    };
    expect(classes(tokens)).toEqual(expect.arrayContaining(['PaddingMask', 'MaskedMeanPooling']));
    expect(classes(steps)).not.toContain('PaddingMask');
    expect(classes(steps)).toContain('GlobalAveragePooling1D');
  });

  it('adds the first T rows of the position table and refuses longer sequences', () => {
    const layer = new PositionalEmbedding({ maxLength: 4, seed: 2 });
    const x = tf.zeros([2, 3, 5]);
    try {
      const y = layer.apply(x) as tf.Tensor;
      const table = layer.getWeights()[0]!;
      expect(table.shape).toEqual([4, 5]);
      const rows = table.slice([0, 0], [3, 5]);
      expect(y.arraySync()).toEqual([rows.arraySync(), rows.arraySync()]);
      tf.dispose([y, rows]);
      expect(() => new PositionalEmbedding({ maxLength: 2 }).apply(tf.input({ shape: [3, 5] }))).toThrow('sequences have 3 steps, but maxLength is 2');
    } finally {
      x.dispose();
      layer.dispose();
    }
  });
});

/**
 * Plain-JS multi-head self-attention; `w` is [Wq, bq, Wk, bk, Wv, bv, Wo, bo]. With `ids`,
 * keys whose id is 0 are left out (a row with no token attends to all keys equally).
 */
function attention(x: number[][][], w: (number[][] | number[])[], heads: number, ids?: number[][]): number[][][] {
  const affine = (rows: number[][], k: number[][], b: number[]) => rows.map((r) => b.map((bias, j) => r.reduce((s, v, i) => s + v * k[i]![j]!, bias)));
  const [wq, bq, wk, bk, wv, bv, wo, bo] = w as [number[][], number[], number[][], number[], number[][], number[], number[][], number[]];
  return x.map((seq, b) => {
    const row = ids?.[b];
    const empty = row !== undefined && row.every((id) => id === 0);
    const keep = (s: number) => row === undefined || empty || row[s] !== 0;
    const q = affine(seq, wq, bq);
    const k = affine(seq, wk, bk);
    const v = affine(seq, wv, bv);
    const dim = bq.length;
    const depth = dim / heads;
    const context = seq.map(() => new Array<number>(dim).fill(0));
    for (let h = 0; h < heads; h++) {
      const cols = Array.from({ length: depth }, (_, i) => h * depth + i);
      for (let t = 0; t < seq.length; t++) {
        const scores = seq.map((_, s) => (empty ? 0 : cols.reduce((a, c) => a + q[t]![c]! * k[s]![c]!, 0) / Math.sqrt(depth)));
        const max = Math.max(...scores);
        const exp = scores.map((v, s) => (keep(s) ? Math.exp(v - max) : 0));
        const total = exp.reduce((a, b) => a + b, 0);
        for (const c of cols) context[t]![c] = exp.reduce((a, e, s) => a + (e / total) * v[s]![c]!, 0);
      }
    }
    return affine(context, wo, bo);
  });
}
