import { describe, expect, it } from 'vitest';
import type { Family, Params, TaskSpec } from '../../src/domain.ts';
import { buildModel, disposeModel, predictBatch, selectBackend, serializeModel } from '../../src/model/index.ts';
import { predictInFreshProcess } from '../helpers/fresh-process.ts';

/**
 * Every family's saved model loads in a new process (which imports only the
 * training module) and predicts the numbers the saving process did.
 * (The transformer, with its custom layers, has the same check in its own suite; mlp, cnn
 * and rnn on text carry padding masks, custom layers for the first two; the tabular
 * transformer carries its feature tokenizer.)
 */
const image: TaskSpec = { kind: 'image', task: 'classification', inputShape: [8, 8, 1], outputs: 3 };
const text: TaskSpec = { kind: 'text', task: 'classification', inputShape: [10], outputs: 2, vocabSize: 30 };
const series: TaskSpec = { kind: 'timeseries', task: 'forecasting', inputShape: [12, 2], outputs: 3 };
const table: TaskSpec = { kind: 'tabular', task: 'regression', inputShape: [6], outputs: 1 };
const cases: { family: Family; spec: TaskSpec; params: Params }[] = [
  { family: 'mlp', spec: text, params: { family: 'mlp', layers: 2, units: 8, activation: 'tanh', dropout: 0.1, batchNorm: true, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
  { family: 'cnn', spec: image, params: { family: 'cnn', blocks: 2, filters: 4, kernelSize: 3, pooling: 'avg', dropout: 0.1, denseUnits: 8, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
  { family: 'rnn', spec: text, params: { family: 'rnn', cell: 'gru', layers: 2, units: 6, bidirectional: true, dropout: 0.1, embeddingDim: 5, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
  { family: 'rnn', spec: image, params: { family: 'rnn', cell: 'lstm', layers: 1, units: 6, bidirectional: false, dropout: 0, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
  { family: 'cnn', spec: text, params: { family: 'cnn', blocks: 2, filters: 4, kernelSize: 3, pooling: 'max', dropout: 0.1, denseUnits: 8, embeddingDim: 5, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
  { family: 'transformer', spec: table, params: { family: 'transformer', blocks: 1, heads: 2, modelDim: 8, ffDim: 16, dropout: 0, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
  { family: 'cnn', spec: series, params: { family: 'cnn', blocks: 2, filters: 4, kernelSize: 5, pooling: 'avg', dropout: 0, denseUnits: 8, learningRate: 0.01, batchSize: 8, optimizer: 'adam' } },
];

describe('saved models in a fresh process', () => {
  it.each(cases)('$family on $spec.kind predicts the same numbers after loading', async ({ family, spec, params }) => {
    await selectBackend('cpu');
    const size = spec.inputShape.reduce((a, b) => a * b, 1);
    const count = 4;
    // Texts end in padding (id 0), so the masks of a loaded model are exercised too.
    const features = Float32Array.from({ length: count * size }, (_, i) => (spec.vocabSize ? (i % size < 6 ? 1 + ((i * 7) % (spec.vocabSize - 1)) : 0) : Math.abs(Math.sin(i))));
    const model = buildModel(family, params, spec, 11);
    const artifact = await serializeModel(model);
    const here = await predictBatch(model, features, count, spec.inputShape);
    disposeModel(model);
    const there = await predictInFreshProcess(artifact, 'cpu', features, count, spec.inputShape);
    expect(there).toHaveLength(here.length);
    there.forEach((v, i) => expect(Math.abs(v - here[i]!)).toBeLessThan(1e-6));
  });
});
