import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncodedData, Family, Params, TaskSpec } from '../../src/domain.ts';
import { buildModel, disposeModel, predictBatch, selectBackend } from '../../src/model/index.ts';
import { trainTrial } from '../../src/workers/training/index.ts';
import { MaskedMaxPooling, MaskedMeanPooling, PaddingMask } from '../../src/model/layers/index.ts';

/**
 * Token inputs are padded with id 0 at the end. Every family must give a text the same
 * prediction whatever padding follows it: the same weights at two sequence lengths agree,
 * and the padding id's embedding row plays no part.
 */

const common = { learningRate: 0.01, batchSize: 8, optimizer: 'adam' };
const PARAMS: Record<Family, Params> = {
  mlp: { family: 'mlp', ...common, layers: 1, units: 8, activation: 'tanh', dropout: 0, batchNorm: false },
  cnn: { family: 'cnn', ...common, blocks: 2, filters: 4, kernelSize: 3, pooling: 'avg', dropout: 0, denseUnits: 8, embeddingDim: 6 },
  rnn: { family: 'rnn', ...common, cell: 'gru', layers: 2, units: 5, bidirectional: true, dropout: 0, embeddingDim: 6 },
  transformer: { family: 'transformer', ...common, blocks: 2, heads: 2, modelDim: 8, ffDim: 16, dropout: 0 },
};
const FAMILIES = Object.keys(PARAMS) as Family[];
const VOCAB = 30;
// The longest fills all but one of 8 positions; the empty one is all padding.
const TEXTS = [[5, 9, 2, 17], [3], [12, 12, 4, 29, 8, 1, 6], []];

function textSpec(length: number): TaskSpec {
  return { kind: 'text', task: 'classification', inputShape: [length], outputs: 3, vocabSize: VOCAB };
}

function padded(texts: number[][], length: number): Float32Array {
  const rows = new Float32Array(texts.length * length);
  texts.forEach((text, r) => rows.set(text, r * length));
  return rows;
}

/**
 * Gives `to` the weights of `from`. A weight that is longer in `to` (the Transformer's
 * position table, one row per position) takes `from`'s rows first and keeps its own after.
 */
function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  tf.tidy(() => {
    const source = from.getWeights();
    to.setWeights(
      to.getWeights().map((w, i) => {
        const s = source[i]!;
        if (s.shape.join() === w.shape.join()) return s;
        return tf.concat([s, w.slice([s.shape[0]!, 0], [-1, -1])]);
      }),
    );
  });
}

/** Trains `model` briefly on random labels, so that biases and every weight are nonzero. */
async function perturb(model: tf.LayersModel, length: number): Promise<void> {
  const [x, y] = tf.tidy(() => [
    tf.tensor2d(padded(TEXTS.slice(0, 3).concat([[7, 7, 7, 7, 7, 7, 7, 7]]), length), [4, length]),
    tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3).toFloat(),
  ]);
  try {
    await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
  } finally {
    tf.dispose([x, y]);
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
}

function tokenData(rows: number, seed: number): EncodedData {
  let s = seed;
  const next = () => (s = (s * 16_807) % 2_147_483_647) / 2_147_483_647;
  const features = new Float32Array(rows * 8);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    // Texts of 2..8 tokens; the class is whether token 3 occurs.
    const length = 2 + Math.floor(next() * 7);
    for (let t = 0; t < length; t++) {
      const token = 1 + Math.floor(next() * (VOCAB - 1));
      features[r * 8 + t] = token;
      if (token === 3) labels[r] = 1;
    }
  }
  return { features, labels, rows, trainRows: Math.floor(rows * 0.75) };
}

describe.each(['cpu', 'wasm'])('token inputs on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each(FAMILIES)('%s: the same weights give a text the same prediction at 8 and 16 positions', async (family) => {
    const short = buildModel(family, PARAMS[family]!, textSpec(8), 5);
    const long = buildModel(family, PARAMS[family]!, textSpec(16), 5);
    try {
      await perturb(short, 8);
      copyWeights(short, long);
      const a = await predictBatch(short, padded(TEXTS, 8), TEXTS.length, [8]);
      const b = await predictBatch(long, padded(TEXTS, 16), TEXTS.length, [16]);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(maxDiff(a, b)).toBeLessThan(1e-5);
    } finally {
      disposeModel(short);
      disposeModel(long);
    }
  });

  it.each(FAMILIES)('%s: ignores the embedding row of the padding id', async (family) => {
    const model = buildModel(family, PARAMS[family]!, textSpec(8), 6);
    try {
      await perturb(model, 8);
      const before = await predictBatch(model, padded(TEXTS, 8), TEXTS.length, [8]);
      const embedding = model.layers.find((l) => l.getClassName() === 'Embedding')!;
      tf.tidy(() => {
        const [table] = embedding.getWeights();
        const row0 = tf.fill([1, table!.shape[1]!], 37);
        embedding.setWeights([tf.concat([row0, table!.slice([1, 0], [-1, -1])])]);
      });
      const after = await predictBatch(model, padded(TEXTS, 8), TEXTS.length, [8]);
      expect(maxDiff(before, after)).toBeLessThan(1e-5);
    } finally {
      disposeModel(model);
    }
  });

  it.each(FAMILIES)('%s: trains on padded texts and frees every tensor', async (family) => {
    const before = tf.memory().numTensors;
    const result = await trainTrial({
      family, params: PARAMS[family]!, spec: textSpec(8), data: tokenData(48, 3), maxEpochs: 2,
      earlyStopping: { patience: 5, minDelta: 0 }, objective: { metric: 'val_loss', direction: 'minimize' }, seed: 4,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.history.every((m) => Object.values(m).every(Number.isFinite))).toBe(true);
  });
});

describe('masking layers', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  // Row 0: three tokens then padding; row 1: all padding.
  const ids = [[4, 1, 9, 0, 0], [0, 0, 0, 0, 0]];
  const values = [
    [[1, -2], [3, 0.5], [-1, 4], [100, 100], [-100, -100]],
    [[5, 5], [6, 6], [7, 7], [8, 8], [9, 9]],
  ];

  it('PaddingMask marks tokens 1 and padding 0, with a trailing axis', () => {
    const layer = new PaddingMask();
    const mask = layer.apply(tf.tensor2d(ids)) as tf.Tensor;
    expect(mask.shape).toEqual([2, 5, 1]);
    expect(mask.arraySync()).toEqual([[[1], [1], [1], [0], [0]], [[0], [0], [0], [0], [0]]]);
    expect(layer.computeOutputShape([null, 5])).toEqual([null, 5, 1]);
    expect(layer.countParams()).toBe(0);
    mask.dispose();
  });

  it('MaskedMeanPooling averages the tokens only and gives zeros, not NaN, for an all-padding row', () => {
    const got = tf.tidy(() => {
      const mask = new PaddingMask().apply(tf.tensor2d(ids)) as tf.Tensor;
      return (new MaskedMeanPooling().apply([tf.tensor3d(values), mask]) as tf.Tensor).arraySync() as number[][];
    });
    expect(got[0]![0]).toBeCloseTo((1 + 3 - 1) / 3, 6);
    expect(got[0]![1]).toBeCloseTo((-2 + 0.5 + 4) / 3, 6);
    expect(got[1]!.map((v) => v + 0)).toEqual([0, 0]);
    expect(new MaskedMeanPooling().computeOutputShape([[null, 5, 2], [null, 5, 1]])).toEqual([null, 2]);
  });

  it('MaskedMaxPooling takes the max over the tokens only, zeros for an all-padding row, and no gradient to padding', () => {
    const x = tf.tensor3d(values);
    const mask = new PaddingMask().apply(tf.tensor2d(ids)) as tf.Tensor;
    const layer = new MaskedMaxPooling();
    try {
      const y = layer.apply([x, mask]) as tf.Tensor;
      // (+ 0: the all-padding row is -1e9 · 0 = -0.)
      expect((y.arraySync() as number[][]).map((row) => row.map((v) => v + 0))).toEqual([[3, 4], [0, 0]]);
      y.dispose();
      const grad = tf.grad((v: tf.Tensor) => tf.sum(layer.apply([v, mask]) as tf.Tensor))(x);
      const g = grad.arraySync() as number[][][];
      expect(g[0]!.slice(3)).toEqual([[0, 0], [0, 0]]);
      expect(g[0]![1]![0]).toBe(1);
      grad.dispose();
    } finally {
      tf.dispose([x, mask]);
    }
  });

  it('refuses a pooling without its mask, and a mask of the wrong length', () => {
    expect(() => new MaskedMeanPooling().apply(tf.input({ shape: [5, 2] }))).toThrow(/expected inputs \[x, mask\]/);
    expect(() => new MaskedMaxPooling().apply([tf.input({ shape: [5, 2] }), tf.input({ shape: [4, 1] })])).toThrow(/mask shape is \[null, 4, 1\], but must be \[batch, 5, 1\]/);
  });
});
