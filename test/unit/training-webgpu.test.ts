import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModel, disposeModel, loadModel, predictBatch, selectBackend, serializeModel } from '../../src/model/index.ts';
import { trainTrial } from '../../src/workers/training/index.ts';
import { findWebgpuAdapter } from '../../src/model/webgpu.ts';

/**
 * The webgpu backend through Dawn. Here it runs on Mesa's lavapipe, a
 * software Vulkan device, which .ci/run installs; elsewhere it runs where an
 * adapter is found, and CI=true makes a missing adapter a failure.
 */
const adapter = await findWebgpuAdapter((s) => import(s)).catch(() => null);
const required = process.env.CI === 'true';

describe('webgpu backend', () => {
  it('is found where CI runs', () => {
    if (required) expect(adapter, 'no WebGPU adapter: install mesa-vulkan-drivers (Mesa >= 23)').not.toBeNull();
  });

  it.runIf(adapter !== null)('trains an mlp whose loss goes down, and predicts what cpu predicts with the same weights', async () => {
    const spec = { kind: 'tabular' as const, task: 'classification' as const, inputShape: [4], outputs: 2 };
    const rows = 64;
    const features = new Float32Array(rows * 4);
    const labels = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      labels[r] = r % 2;
      for (let j = 0; j < 4; j++) features[r * 4 + j] = (r % 2 ? 1 : -1) + Math.sin(r * 7 + j);
    }
    const params = { family: 'mlp', layers: 1, units: 8, activation: 'relu', dropout: 0, batchNorm: false, learningRate: 0.01, batchSize: 16, optimizer: 'adam' };
    expect((await selectBackend('webgpu')).name).toBe('webgpu');
    const result = await trainTrial({
      family: 'mlp', params, spec, data: { features, labels, rows, trainRows: 48 }, maxEpochs: 3,
      earlyStopping: { patience: 5, minDelta: 0 }, objective: { metric: 'val_loss', direction: 'minimize' }, seed: 1,
    });
    expect(result.history.at(-1)!.loss!).toBeLessThan(result.history[0]!.loss!);

    const model = await loadModel(result.artifact);
    const onGpu = await predictBatch(model, features, rows, [4]);
    model.dispose();
    await selectBackend('cpu');
    const again = await loadModel(result.artifact);
    const onCpu = await predictBatch(again, features, rows, [4]);
    again.dispose();
    onGpu.forEach((v, i) => expect(Math.abs(v - onCpu[i]!)).toBeLessThan(1e-4));
    const fresh = buildModel('mlp', params, spec, 3);
    expect((await serializeModel(fresh)).weights.byteLength).toBeGreaterThan(0);
    disposeModel(fresh);
    expect(tf.getBackend()).toBe('cpu');
  });

  it.runIf(adapter !== null).each([
    ['rnn', { family: 'rnn', cell: 'lstm', layers: 1, units: 8, bidirectional: false, dropout: 0, embeddingDim: 8, learningRate: 0.01, batchSize: 16, optimizer: 'adam' }],
    ['transformer', { family: 'transformer', blocks: 1, heads: 2, modelDim: 8, ffDim: 16, dropout: 0, learningRate: 0.01, batchSize: 16, optimizer: 'adam' }],
  ] as const)('trains a %s on tokens with no synchronous GPU read (which throws under Node)', async (family, params) => {
    await selectBackend('webgpu');
    const backend = tf.backend() as unknown as { readSync(id: unknown): unknown };
    const readSync = backend.readSync.bind(backend);
    let syncReads = 0;
    backend.readSync = (id) => {
      syncReads++;
      return readSync(id);
    };
    try {
      const rows = 64;
      const features = new Float32Array(rows * 6);
      const labels = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        labels[r] = r % 2;
        for (let j = 0; j < 6; j++) features[r * 6 + j] = 1 + ((r * 5 + j * 3) % 9) + (r % 2) * (j === 2 ? 10 : 0);
      }
      const spec = { kind: 'text' as const, task: 'classification' as const, inputShape: [6], outputs: 2, vocabSize: 20 };
      const result = await trainTrial({
        family, params: { ...params }, spec, data: { features, labels, rows, trainRows: 48 }, maxEpochs: 2,
        earlyStopping: { patience: 5, minDelta: 0 }, objective: { metric: 'val_loss', direction: 'minimize' }, seed: 1,
      });
      expect(result.epochs).toBe(2);
      expect(syncReads).toBe(0);
    } finally {
      backend.readSync = readSync;
      await selectBackend('cpu');
    }
  });
});
