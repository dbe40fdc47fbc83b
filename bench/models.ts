import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../src/model/index.ts';

/**
 * The fixed benchmark models, mirrored layer for layer by bench/torch_train.py.
 * Shapes are chosen to match the figures quoted in the compute-backend issue.
 */
export interface BenchModel {
  family: string;
  describe: string;
  batchSize: number;
  build(): tf.LayersModel;
  /** A batch of inputs and one-hot targets, made from a fixed seed. */
  batch(): { x: tf.Tensor; y: tf.Tensor };
}

const oneHot = (n: number, classes: number, seed: number) => tf.oneHot(tf.randomUniform([n], 0, classes, 'int32', seed), classes).toFloat();

export const BENCH_MODELS: BenchModel[] = [
  {
    family: 'mlp',
    describe: 'Dense(256)-Dense(128)-Dense(10) on 784 inputs, batch 64',
    batchSize: 64,
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
          tf.layers.dense({ units: 128, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    batch: () => ({ x: tf.randomUniform([64, 784], 0, 1, 'float32', 1), y: oneHot(64, 10, 2) }),
  },
  {
    family: 'cnn',
    describe: 'Conv2D(32,3x3)-MaxPool-Dense(128)-Dense(10) on 28x28x1, batch 64',
    batchSize: 64,
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 128, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    batch: () => ({ x: tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 3), y: oneHot(64, 10, 4) }),
  },
  {
    family: 'transformer',
    describe: 'Embedding(5000,64)+positions, 2 blocks of 4-head attention and FF 128, mean pool, Dense(2) on 64 tokens, batch 32',
    batchSize: 32,
    build: () =>
      buildModel(
        'transformer',
        { family: 'transformer', blocks: 2, heads: 4, modelDim: 64, ffDim: 128, dropout: 0, learningRate: 1e-3, batchSize: 32, optimizer: 'adam' },
        { kind: 'text', task: 'classification', inputShape: [64], outputs: 2, vocabSize: 5000 },
        1,
      ),
    batch: () => ({ x: tf.randomUniform([32, 64], 0, 5000, 'int32', 7), y: oneHot(32, 2, 8) }),
  },
  {
    family: 'rnn',
    describe: 'Embedding(5000,64)-LSTM(64)-Dense(2) on 64 tokens, batch 32',
    batchSize: 32,
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 5000, outputDim: 64, inputLength: 64 }),
          tf.layers.lstm({ units: 64 }),
          tf.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      }),
    batch: () => ({ x: tf.randomUniform([32, 64], 0, 5000, 'int32', 5), y: oneHot(32, 2, 6) }),
  },
];
